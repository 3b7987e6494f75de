//! The demo data set: what a newcomer finds on the first start of the embedded default.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Brussels;
use futures_util::future::try_join_all;
use uuid::Uuid;

use crate::auth::password;
use crate::auth::rights::{PersonRole, Scope};
use crate::db::events::EventFilter;
use crate::db::learning::RecordFilter;
use crate::db::page::Sort;
use crate::db::refs::ExternalRef;
use crate::db::solutions::{ChallengeFilter, ListOrder};
use crate::db::{Store, StoreError};
use crate::demo_solutions::{CHALLENGES, DemoRevision, DemoSolution, SOLUTIONS};
use crate::domain::account::Email;
use crate::domain::event::{
    AttendanceMode as Mode, CommitmentContent, CommitmentStatus, Event, EventContent, EventFormat as Format,
    EventInput, EventStatus, RegistrationStatus, Venue,
};
use crate::domain::learning::{ActivityType, LearningRecord, RecordContent, RecordInput, Sharing, Visibility};
use crate::domain::organisation::{EnterpriseNumber, OrganisationContent, OrganisationKind as Kind, Region, SizeBand};
use crate::domain::person::{AgeBand, MembershipRole, MembershipTerms, PersonContent, StakeholderGroup as Group};
use crate::domain::solution::{
    ChallengeContent, ChallengeStatus, CommentTarget, Context, Maturity, SolutionContent, SolutionStatus, TargetGroup,
};
use crate::domain::theme::{Slug, ThemeContent};

use crate::db::ids::Kind as IdKind;
pub use data::*;
use events::*;
pub use examples::example_email;
use ids::with_ids;
pub use learning::*;
use solutions::*;

/// The demo facilitator's e-mail address.
pub const FACILITATOR_EMAIL: &str = "facilitator@vov.example";
/// The password of every demo account. Documented; never use the demo data in production.
pub const PASSWORD: &str = "lerenderwijs-demo";

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
    /// The demo identity provider's client (`scim` scope) and its static SCIM token.
    pub scim_client_id: Uuid,
    pub scim_token: String,
}

/// Seeds the demo data; safe to run again (what exists is left alone). Returns the demo
/// integration client when this run created it.
pub async fn seed(store: &Store) -> anyhow::Result<Option<DemoClient>> {
    let hash = password::hash(PASSWORD.to_string()).await?;
    let facilitator_email = Email::parse(FACILITATOR_EMAIL).map_err(anyhow::Error::msg)?;
    match store.create_person_account(&facilitator_email, "An De Smet", PersonRole::Facilitator, Some(&hash)).await {
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
    let mut organisation_ids = HashMap::new();
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
        let (org, _) =
            with_ids(reference, &[IdKind::Organisation], store.upsert_organisation_by_ref(&external_ref, &content))
                .await?;
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
        let created = store.create_person(&content, *role, Some(&hash), Some((organisation_ids[org], terms)));
        with_ids(person_key(content.email.as_str()), &[IdKind::Person, IdKind::Membership], created).await?;
    }
    // The demo people by key, with their demo organisation while they are still members of it.
    let mut people = HashMap::new();
    let facilitator = store.find_person_by_email(facilitator_email.key()).await?;
    people.insert("an", (facilitator.ok_or_else(|| anyhow::anyhow!("the demo facilitator is missing"))?.id, None));
    for (email, _, _, _, _, _, _, org, _, _) in PEOPLE {
        let account = store.find_person_by_email(Email::parse(email).map_err(anyhow::Error::msg)?.key()).await?;
        let account = account.ok_or_else(|| anyhow::anyhow!("demo person {email} is missing"))?;
        people.insert(person_key(email), (account.id, Some(organisation_ids[org])));
    }
    let ids: Vec<Uuid> = people.values().map(|(id, _)| *id).collect();
    let current = store.affiliations(&ids, chrono::Utc::now().date_naive()).await?;
    for (id, org) in people.values_mut() {
        *org = org.filter(|o| current.iter().any(|(p, m, _)| p == id && m == o));
    }
    seed_events(store, &organisation_ids, &people).await?;
    seed_learning_records(store, &people).await?;
    let fresh_season = seed_solutions(store, &people).await?;
    crowd::seed_crowd(store, &organisation_ids).await?;
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
        let (scim_client_id, scim_token) = scim::seed_scim(store, zorgnet).await?;
        Some(DemoClient { organisation_id: zorgnet, client_id, secret, scim_client_id, scim_token })
    } else {
        None
    };
    // After the demo client: the examples add a second client of Zorgnet Kempen.
    if fresh_season {
        examples::seed_examples(store, &hash, &people).await?;
    }
    tracing::info!("demo data seeded");
    Ok(client)
}

type People<'a> = HashMap<&'a str, (Uuid, Option<Uuid>)>;

mod crowd;
mod data;
mod events;
mod examples;
pub mod ids;
mod learning;
pub mod scim;
mod solutions;
