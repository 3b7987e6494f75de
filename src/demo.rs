//! The demo data set: what a newcomer finds on the first start of the embedded default.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::auth::password;
use crate::auth::rights::{PersonRole, Scope};
use crate::db::refs::ExternalRef;
use crate::db::{Store, StoreError};
use crate::domain::account::Email;
use crate::domain::organisation::{EnterpriseNumber, OrganisationContent, OrganisationKind as Kind, Region, SizeBand};
use crate::domain::person::{AgeBand, MembershipRole, MembershipTerms, PersonContent, StakeholderGroup as Group};
use crate::domain::theme::{Slug, ThemeContent};

/// The demo facilitator's e-mail address.
pub const FACILITATOR_EMAIL: &str = "facilitator@vov.example";
/// The password of every demo account. Documented; never use the demo data in production.
pub const PASSWORD: &str = "lerenderwijs-demo";

/// The curated themes: slug, Dutch label, English label, description.
pub const THEMES: &[(&str, &str, &str, &str)] = &[
    (
        "lifelong-learning",
        "Levenslang leren",
        "Lifelong learning",
        "Leren en ontwikkelen als gedeelde verantwoordelijkheid van beleid, werkgevers en werknemers, een heel leven lang.",
    ),
    (
        "informal-learning",
        "Informeel leren",
        "Informal learning",
        "Leren op de werkvloer, met collega's en in de leeromgeving: ontwikkeling in de ruimste zin, niet enkel opleiding.",
    ),
    (
        "workplace-learning",
        "Werkplekleren",
        "Workplace learning",
        "De werkplek en de leercontext als plaats waar mensen groeien.",
    ),
    (
        "careers-at-every-age",
        "Loopbanen op elke leeftijd",
        "Careers at every age",
        "Olijfboomloopbanen in plaats van citroenloopbanen: ontwikkeling is iets van alle leeftijden.",
    ),
    (
        "older-workers",
        "Oudere werknemers",
        "Older workers",
        "Een ontwikkelstrategie in plaats van een ontziestrategie, zodat oudere werknemers gemotiveerd blijven.",
    ),
    (
        "learning-as-competitive-advantage",
        "Leren als concurrentieel voordeel",
        "Learning as a competitive advantage",
        "Blijvende ontwikkeling maakt medewerkers flexibeler en inzetbaarder: lerenderwijs.",
    ),
    (
        "learning-together",
        "Samen leren",
        "Learning together",
        "Stakeholders brengen uitdagingen in, gaan bij elkaar te rade en co-creëren gedragen oplossingen.",
    ),
    (
        "inspiration-to-action",
        "Van inspiratie naar actie",
        "From inspiration to action",
        "Wat je op een inspiratiemoment leert, omzetten in concrete actie en beweging.",
    ),
    (
        "learning-culture",
        "Leercultuur",
        "Learning culture",
        "Organisaties waar leren vanzelfsprekend is en leuk: leren moet leuk zijn wil het maximaal renderen.",
    ),
    (
        "learning-in-smes",
        "Leren in kmo's",
        "Learning in SMEs",
        "Ontwikkeling in kleine en middelgrote ondernemingen, waar tijd en middelen schaars zijn.",
    ),
    (
        "digital-skills",
        "Digitale vaardigheden",
        "Digital skills",
        "Mee blijven met digitale werkvormen en technologie, op elke leeftijd.",
    ),
];

/// The demo organisations: reference, name, kind, enterprise number, NACE, size, region, website, themes.
#[allow(clippy::type_complexity)]
const ORGANISATIONS: &[(&str, &str, Kind, &str, &str, SizeBand, Option<Region>, &str, &[&str])] = &[
    (
        "agency",
        "Vlaams Agentschap Loopbaan en Leren",
        Kind::PolicyBody,
        "0812.345.603",
        "84.13",
        SizeBand::Large,
        Some(Region::Brussels),
        "https://www.loopbaanenleren.example",
        &["lifelong-learning", "careers-at-every-age"],
    ),
    (
        "zorgnet",
        "Zorgnet Kempen",
        Kind::Employer,
        "0456.789.034",
        "86.10",
        SizeBand::Large,
        Some(Region::Antwerp),
        "https://www.zorgnetkempen.example",
        &["older-workers", "workplace-learning", "learning-culture"],
    ),
    (
        "lievens",
        "Houtbewerking Lievens",
        Kind::Employer,
        "0734.567.835",
        "16.23",
        SizeBand::Small,
        Some(Region::WestFlanders),
        "https://www.lievens-hout.example",
        &["learning-in-smes", "informal-learning"],
    ),
    (
        "union",
        "Vakbond Samen Sterk",
        Kind::SocialPartner,
        "0411.223.382",
        "94.20",
        SizeBand::Medium,
        Some(Region::FlemishBrabant),
        "https://www.samensterk.example",
        &["careers-at-every-age"],
    ),
    (
        "fund",
        "Opleidingsfonds Metaal Vlaanderen",
        Kind::SectorFund,
        "0888.999.060",
        "94.11",
        SizeBand::Small,
        Some(Region::EastFlanders),
        "https://www.opleidingsfondsmetaal.example",
        &["learning-as-competitive-advantage"],
    ),
    (
        "leerhuis",
        "Leerhuis Limburg",
        Kind::LearningProvider,
        "0654.321.022",
        "85.59",
        SizeBand::Medium,
        Some(Region::Limburg),
        "https://www.leerhuislimburg.example",
        &["digital-skills", "inspiration-to-action"],
    ),
    (
        "vov",
        "VOV lerend netwerk",
        Kind::NetworkPartner,
        "0440.001.106",
        "94.99",
        SizeBand::Micro,
        None,
        "https://www.vov.be",
        &["learning-together", "lifelong-learning"],
    ),
];

/// The demo people: e-mail, name, group, birth year, age band, languages, network role,
/// organisation reference, membership role, start, can sign in.
#[allow(clippy::type_complexity)]
const PEOPLE: &[(&str, &str, Group, Option<i32>, Option<AgeBand>, &[&str], PersonRole, &str, MembershipRole, &str)] = &[
    (
        "mira.peeters@zorgnetkempen.example",
        "Mira Peeters",
        Group::Employee,
        Some(1966),
        None,
        &["nl", "fr"],
        PersonRole::Member,
        "zorgnet",
        MembershipRole::Employee,
        "1991-09-01",
    ),
    (
        "jonas.claes@zorgnetkempen.example",
        "Jonas Claes",
        Group::HrProfessional,
        None,
        Some(AgeBand::From35To44),
        &["nl", "en"],
        PersonRole::Member,
        "zorgnet",
        MembershipRole::OrgAdmin,
        "2018-02-01",
    ),
    (
        "sofie.lievens@lievens-hout.example",
        "Sofie Lievens",
        Group::EmployerRepresentative,
        None,
        Some(AgeBand::From45To54),
        &["nl"],
        PersonRole::Member,
        "lievens",
        MembershipRole::OrgAdmin,
        "2009-01-01",
    ),
    (
        "karim.elidrissi@lievens-hout.example",
        "Karim El Idrissi",
        Group::Employee,
        None,
        Some(AgeBand::From25To34),
        &["nl", "fr", "ar"],
        PersonRole::Member,
        "lievens",
        MembershipRole::Employee,
        "2021-04-15",
    ),
    (
        "els.vermeulen@loopbaanenleren.example",
        "Els Vermeulen",
        Group::PolicyMaker,
        None,
        None,
        &["nl", "en"],
        PersonRole::PolicyReader,
        "agency",
        MembershipRole::Manager,
        "2015-10-01",
    ),
    (
        "tom.wouters@samensterk.example",
        "Tom Wouters",
        Group::Other,
        Some(1972),
        None,
        &["nl"],
        PersonRole::Member,
        "union",
        MembershipRole::Employee,
        "2004-06-01",
    ),
    (
        "lotte.janssens@opleidingsfondsmetaal.example",
        "Lotte Janssens",
        Group::HrProfessional,
        None,
        Some(AgeBand::Under25),
        &["nl", "en"],
        PersonRole::Member,
        "fund",
        MembershipRole::Hr,
        "2025-09-01",
    ),
    (
        "pieter.maes@leerhuislimburg.example",
        "Pieter Maes",
        Group::Employee,
        Some(1959),
        None,
        &["nl", "de"],
        PersonRole::Member,
        "leerhuis",
        MembershipRole::Employee,
        "1998-01-05",
    ),
];

/// The demo accounts to try each role with (all use [`PASSWORD`]).
pub const ORG_ADMIN_EMAIL: &str = "jonas.claes@zorgnetkempen.example";
pub const MEMBER_EMAIL: &str = "mira.peeters@zorgnetkempen.example";
pub const POLICY_READER_EMAIL: &str = "els.vermeulen@loopbaanenleren.example";

/// The demo integration client, made on the first seeding; its secret exists only here.
#[derive(Debug, Clone)]
pub struct DemoClient {
    pub organisation_id: Uuid,
    pub client_id: Uuid,
    pub secret: String,
}

/// Seeds the demo data; safe to run again (what exists is left alone). Returns the demo
/// integration client when this run created it.
pub async fn seed(store: &Store) -> anyhow::Result<Option<DemoClient>> {
    let hash = password::hash(PASSWORD.to_string()).await?;
    let email = Email::parse(FACILITATOR_EMAIL).map_err(anyhow::Error::msg)?;
    match store.create_person_account(&email, "An De Smet", PersonRole::Facilitator, Some(&hash)).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    for (slug, nl, en, description) in THEMES {
        let content = ThemeContent {
            slug: Slug::parse(slug).map_err(anyhow::Error::msg)?,
            label_nl: (*nl).to_string(),
            label_en: (*en).to_string(),
            description: Some((*description).to_string()),
        };
        match store.create_theme(&content).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut organisation_ids = std::collections::HashMap::new();
    for (reference, name, kind, number, sector, size, region, website, themes) in ORGANISATIONS {
        let content = OrganisationContent {
            name: (*name).to_string(),
            kind: *kind,
            enterprise_number: Some(EnterpriseNumber::parse(number).map_err(anyhow::Error::msg)?),
            sector: Some((*sector).to_string()),
            size_band: Some(*size),
            region: *region,
            website: Some((*website).to_string()),
            themes: themes.iter().map(|t| (*t).to_string()).collect(),
        };
        let external_ref = ExternalRef { system: "vov-demo".into(), id: (*reference).to_string() };
        let (org, _) = store.upsert_organisation_by_ref(&external_ref, &content).await?;
        organisation_ids.insert(*reference, org.id);
    }
    for (email, name, group, birth_year, age_band, languages, role, org, membership_role, starts) in PEOPLE {
        let email = Email::parse(email).map_err(anyhow::Error::msg)?;
        if store.find_person_by_email(email.key()).await?.is_some() {
            continue;
        }
        let content = PersonContent {
            name: (*name).to_string(),
            email,
            stakeholder_group: *group,
            birth_year: *birth_year,
            age_band: *age_band,
            languages: languages.iter().map(|l| (*l).to_string()).collect(),
        };
        let terms = MembershipTerms {
            role: *membership_role,
            starts_on: NaiveDate::parse_from_str(starts, "%Y-%m-%d")?,
            ends_on: None,
        };
        store.create_person(&content, *role, Some(&hash), Some((organisation_ids[org], terms))).await?;
    }
    let zorgnet = organisation_ids["zorgnet"];
    let client = if store.list_clients(zorgnet).await?.is_empty() {
        let secret = crate::api::auth::new_secret(crate::api::auth::CLIENT_SECRET_PREFIX);
        let secret_hash = password::hash(secret.clone()).await?;
        let client_id = store
            .create_client(
                "Zorgnet Kempen HR-sync",
                Some(zorgnet),
                &[Scope::PeopleRead, Scope::PeopleWrite],
                &secret_hash,
            )
            .await?;
        Some(DemoClient { organisation_id: zorgnet, client_id, secret })
    } else {
        None
    };
    tracing::info!("demo data seeded");
    Ok(client)
}
