//! What the spec's examples need beyond the demo season: the objects an example removes,
//! rotates or changes in a way the rest of the demo should not feel, each with the fixed id
//! the example names (see [`super::ids`]).

use super::ids::*;
use super::*;
use crate::db::feed::ResourceType;
use crate::db::learning::RecordUpsert;
use crate::db::people::{PersonUpsert, UpsertRights};

/// The demo people who exist for the examples: key, name, e-mail, `sdworx` reference.
const EXAMPLE_PEOPLE: &[(&str, &str, &str, Option<&str>)] = &[
    ("ann", "Ann Hermans", "ann.hermans@zorgnetkempen.example", Some("EMP-00042")),
    ("bert", "Bert Smets", "bert.smets@zorgnetkempen.example", Some("EMP-00043")),
    ("chris", "Chris Wuyts", "chris.wuyts@zorgnetkempen.example", Some("EMP-00044")),
    ("dirk", "Dirk Peeters", "dirk.peeters@zorgnetkempen.example", None),
    ("eva", "Eva Wouters", "eva.wouters@zorgnetkempen.example", None),
    ("fien", "Fien Aerts", "fien.aerts@zorgnetkempen.example", None),
    ("gert", "Gert Jacobs", "gert.jacobs@zorgnetkempen.example", None),
];

/// The e-mail address of a demo person who exists for the examples (see [`EXAMPLE_PEOPLE`]).
pub fn example_email(key: &str) -> &'static str {
    EXAMPLE_PEOPLE.iter().find(|p| p.0 == key).map_or("", |p| p.2)
}

/// Seeds what the examples need; runs once, with the rest of a fresh demo season.
pub(super) async fn seed_examples(store: &Store, hash: &str, people: &People<'_>) -> anyhow::Result<()> {
    let terms = |starts: &str| -> anyhow::Result<MembershipTerms> {
        Ok(MembershipTerms {
            role: MembershipRole::Employee,
            starts_on: NaiveDate::parse_from_str(starts, "%Y-%m-%d")?,
            ends_on: None,
        })
    };
    let content = |name: &str, email: &str| -> anyhow::Result<PersonContent> {
        Ok(PersonContent {
            name: name.to_string(),
            email: Email::parse(email).map_err(anyhow::Error::msg)?,
            stakeholder_group: Group::Employee,
            birth_year: None,
            age_band: Some(AgeBand::From35To44),
            languages: vec!["nl".into()],
        })
    };
    // An organisation nobody belongs to yet.
    let leerpunt = OrganisationContent {
        name: "Leerpunt Demer".into(),
        kind: Kind::LearningProvider,
        enterprise_number: Some(EnterpriseNumber::parse("0471.952.114").map_err(anyhow::Error::msg)?),
        sector: Some("P".into()),
        size_band: Some(SizeBand::Small),
        region: Some(Region::FlemishBrabant),
        website: Some("https://leerpuntdemer.example".into()),
        themes: vec!["lifelong-learning".into()],
    };
    let reference = ExternalRef { system: "vov-demo".into(), id: "leerpunt".into() };
    with_ids("leerpunt", &[IdKind::Organisation], store.upsert_organisation_by_ref(&reference, &leerpunt)).await?;
    // Zorgnet Kempen's staff as its HR system (`sdworx`) synced them, and four more.
    let mut synced = Vec::new();
    let mut planned_people = Vec::new();
    for (key, name, email, reference) in EXAMPLE_PEOPLE {
        match reference {
            Some(reference) => {
                synced.push(PersonUpsert {
                    external_id: (*reference).to_string(),
                    content: content(name, email)?,
                    membership: terms("2019-03-01")?,
                });
                planned_people.extend(ids::planned_for(key, &[IdKind::Person]));
            }
            None => {
                let person = content(name, email)?;
                let created =
                    store.create_person(&person, PersonRole::Member, Some(hash), Some((ZORGNET, terms("2022-01-10")?)));
                with_ids(key, &[IdKind::Person, IdKind::Membership], created).await?;
            }
        }
    }
    let rights = UpsertRights { grant_admin: false, change_login: false };
    let upserted =
        crate::db::ids::planned(&planned_people, store.upsert_people(ZORGNET, "sdworx", &synced, rights)).await?;
    if let Some(Err(e)) = upserted.into_iter().find(Result::is_err) {
        anyhow::bail!("demo HR sync: {e:?}");
    }
    // A second integration client of Zorgnet Kempen, for reporting.
    let secret = password::hash(crate::api::auth::new_secret(crate::api::auth::CLIENT_SECRET_PREFIX)).await?;
    let client = store.create_client("Zorgnet Kempen rapportering", Some(ZORGNET), &[Scope::PeopleRead], &secret);
    with_ids("reporting", &[IdKind::Client], client).await?;
    // Zorgnet Kempen's webhook for its HR system, off: the demo has no receiver (a test
    // event shows the attempt failing, and the delivery log keeps it).
    let hook = crate::db::webhooks::WebhookContent {
        url: "https://hr.zorgnet-kempen.example/hooks/vov".into(),
        types: vec![ResourceType::Person, ResourceType::Membership],
        operations: crate::db::feed::Operation::ALL.to_vec(),
        description: "HR-systeem: personeel en lidmaatschappen".into(),
        enabled: false,
    };
    let secret = crate::webhooks::signing::new_secret();
    let webhook = store.create_webhook(ZORGNET, &hook, &[Scope::PeopleRead], &secret);
    with_ids("zorgnet-hr", &[IdKind::Webhook], webhook).await?;
    // A theme nothing uses yet.
    let theme = ThemeContent {
        slug: Slug::parse("green-skills").map_err(anyhow::Error::msg)?,
        label_nl: "Groene vaardigheden".into(),
        label_en: "Green skills".into(),
        description: Some("Wat werk en leren vragen in een klimaatneutrale economie.".into()),
    };
    with_ids("unused", &[IdKind::Theme], store.create_theme(&theme)).await?;
    // A draft event of Zorgnet Kempen.
    let today = Utc::now().with_timezone(&Brussels).date_naive();
    let starts_at = brussels(today + Duration::days(95), (13, 30))?;
    let draft = EventContent::parse(
        EventInput {
            title: "Leercafé: leren van elkaars nachtdiensten".into(),
            summary: Some("Concept: een informeel leercafé voor de nachtploegen.".into()),
            description: None,
            format: Format::Other,
            attendance_mode: Mode::InPerson,
            starts_at,
            ends_at: starts_at + Duration::minutes(90),
            time_zone: "Europe/Brussels".into(),
            venue: Some(Venue {
                name: "Zorgnet Kempen".into(),
                address: Some("Kastelsedijk 5".into()),
                postcode: Some("2440".into()),
                city: "Geel".into(),
            }),
            online_url: None,
            capacity: Some(30),
            registration_opens_at: None,
            registration_closes_at: None,
            co_organisers: vec![],
            themes: vec!["informal-learning".into()],
            stakeholder_groups: vec![Group::Employee],
            language: "nl".into(),
        },
        ZORGNET,
    )?;
    with_ids("draft", &[IdKind::Event], store.create_event(ZORGNET, &draft, EventStatus::Draft)).await?;
    // A record `sdworx` synced for Mira (private: she decides whom to share it with).
    let record = RecordUpsert {
        external_id: "LR-2026-00042".into(),
        person_id: MIRA,
        content: RecordContent::parse(
            RecordInput {
                title: "E-learning palliatieve zorg".into(),
                description: Some("Module van het opleidingsplan.".into()),
                activity_type: ActivityType::OnlineCourse,
                started_on: today - Duration::days(70),
                duration_minutes: Some(840),
                themes: vec!["lifelong-learning".into()],
                ..RecordInput::default()
            },
            "",
        )?,
    };
    let synced = store.upsert_records(ZORGNET, "sdworx", "sdworx", std::slice::from_ref(&record));
    if let Some(Err(e)) = with_ids("LR-2026-00042", &[IdKind::LearningRecord], synced).await?.pop() {
        anyhow::bail!("demo record sync: {e:?}");
    }
    // Mira shares it with Zorgnet Kempen, so its HR system reads it back.
    let current = store.get_record(MIRA_SYNCED_RECORD).await?;
    let shared = LearningRecord {
        sharing: Sharing { visibility: Visibility::Organisation, shared_with: vec![ZORGNET] },
        updated_at: crate::db::now(),
        version: current.version + 1,
        ..current.clone()
    };
    store.update_record(&current, &shared, current.version).await?;
    // The HR system's references to Ann's and Bert's memberships.
    for (person, reference) in [(ANN, "EMP-00042"), (BERT, "EMP-00043")] {
        let reference = ExternalRef { system: "sdworx".into(), id: reference.into() };
        store.upsert_membership_by_ref(ZORGNET, &reference, person, terms("2019-03-01")?, rights).await?;
    }
    // A draft solution and an open challenge of Mira's, and a comment on Jonas's challenge.
    let (mira, zorgnet) = people.get("mira").copied().ok_or_else(|| anyhow::anyhow!("no demo person mira"))?;
    let solution = SolutionContent::parse(SolutionContent {
        title: "Nachtdienstkoppels: leren tussen twee ploegen".into(),
        summary: Some("Een ervaren en een nieuwe collega delen een maand hun nachtdiensten.".into()),
        body: None,
        challenge_ids: vec![JONAS_CHALLENGE],
        event_id: None,
        context: demo_context(Some("Q"), None, &["newcomers"])?,
        themes: vec!["workplace-learning".into()],
        maturity: Maturity::Idea,
        results: None,
        status: SolutionStatus::Draft,
    })?;
    with_ids("mira-draft", &[IdKind::Solution], store.create_solution(mira, zorgnet, &solution)).await?;
    let challenge = ChallengeContent::parse(ChallengeContent {
        title: "Hoe houden we nachtploegen mee in het leerbeleid?".into(),
        description: Some("Wie 's nachts werkt, mist de opleidingen overdag.".into()),
        organisation_id: zorgnet,
        context: demo_context(Some("Q"), None, &["newcomers"])?,
        themes: vec!["workplace-learning".into()],
        status: ChallengeStatus::Open,
    })?;
    with_ids("mira-challenge", &[IdKind::Challenge], store.create_challenge(mira, &challenge)).await?;
    let comment = store.create_comment(
        CommentTarget::Challenge(JONAS_CHALLENGE),
        None,
        mira,
        "Bij ons werkt een vaste mentor per afdeling goed; graag deel ik hoe.",
    );
    with_ids("kennis-doorgeven-zorg", &[IdKind::Comment], comment).await?;
    Ok(())
}
