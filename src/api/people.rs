//! People and their memberships: the network's directory, profiles, and who belongs where.
//!
//! Who sees what: facilitators see everyone in full. Every signed-in person sees the
//! network directory (name, stakeholder group, current organisations) and, in full (e-mail
//! address, age, languages, role), themselves and the members of organisations they
//! administer. An integration client sees, in full, only the people of its organisation
//! (`people:read`), and manages them with `people:write`. Anonymous callers see nothing.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::password;
use crate::auth::rights::{PersonRole, Role};
use crate::db::feed::{FeedResource, ResourceType};
use crate::db::people::{PersonFilter, PersonSort, PersonUpsert, UpsertRights};
use crate::db::refs::{ExternalRef, Upserted};
use crate::db::{Found, StoreError};
use crate::domain::account::check_password;
use crate::domain::person::{
    AgeBand, Membership, MembershipRole, MembershipTerms, Person, PersonContent, PersonInput, StakeholderGroup,
};
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, etag, respond_tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageQuery, PageRequest, parse_q, respond_page, sort_schema};
use crate::http::rate_limit::Decision;
use crate::state::AppState;

use super::organisations::{RefPath, upserted};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_people)
        .service(create_person)
        .service(get_person)
        .service(update_person)
        .service(delete_person)
        .service(set_password)
        .service(list_person_memberships)
        .service(list_organisation_memberships)
        .service(create_membership)
        .service(get_membership)
        .service(update_membership)
        .service(delete_membership)
        .service(create_organisation_person)
        .service(upsert_person_by_ref)
        .service(upsert_membership_by_ref)
        .service(upsert_people_batch);
}

/// Largest batch of `POST .../people/batch`.
pub const BATCH_MAX: usize = 1000;

/// How much of a person a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonViewKind {
    /// Everything but credentials: for the person, facilitators, their organisations'
    /// admins and integration clients.
    Full,
    /// What the network shows every signed-in member: name, group, organisations.
    Network,
}

/// An organisation a person currently belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "name": "Zorgnet Kempen"}))]
pub struct Affiliation {
    pub id: Uuid,
    pub name: String,
}

/// A person. The `network` view leaves out everything but name, group and organisations.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "view": "full",
    "name": "Mira Peeters",
    "stakeholder_group": "employee",
    "organisations": [{"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "name": "Zorgnet Kempen"}],
    "email": "mira.peeters@zorgnetkempen.example",
    "role": "member",
    "birth_year": 1968,
    "age_band": null,
    "languages": ["nl", "fr"],
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "version": 1
}))]
pub struct PersonView {
    pub id: Uuid,
    pub view: PersonViewKind,
    pub name: String,
    pub stakeholder_group: StakeholderGroup,
    /// Current memberships (absent in the change feed, where memberships are their own
    /// resources).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub organisations: Option<Vec<Affiliation>>,
    /// Full view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
    /// Network-wide role; full view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<PersonRole>,
    /// Full view only; `null` when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>)]
    pub birth_year: Option<Option<i32>>,
    /// Full view only; `null` when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    /// ISO 639-1 codes; full view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub languages: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl PersonView {
    pub fn full(p: &Person, organisations: Option<Vec<Affiliation>>) -> Self {
        let c = &p.content;
        Self {
            id: p.id,
            view: PersonViewKind::Full,
            name: c.name.clone(),
            stakeholder_group: c.stakeholder_group,
            organisations,
            email: Some(c.email.as_str().to_string()),
            role: Some(p.role),
            birth_year: Some(c.birth_year),
            age_band: Some(c.age_band),
            languages: Some(c.languages.clone()),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }

    pub fn network(p: &Person, organisations: Vec<Affiliation>) -> Self {
        Self {
            id: p.id,
            view: PersonViewKind::Network,
            name: p.content.name.clone(),
            stakeholder_group: p.content.stakeholder_group,
            organisations: Some(organisations),
            email: None,
            role: None,
            birth_year: None,
            age_band: None,
            languages: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

impl FeedResource for Person {
    const TYPE: ResourceType = ResourceType::Person;

    fn feed_id(&self) -> Uuid {
        self.id
    }

    fn feed_version(&self) -> i64 {
        self.version
    }

    fn feed_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&PersonView::full(self, None))
    }
}

/// A membership: a person's role in an organisation over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12",
    "role": "employee",
    "starts_on": "2019-03-01",
    "ends_on": null,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "version": 1
}))]
pub struct MembershipView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub role: MembershipRole,
    pub starts_on: NaiveDate,
    /// Last day of the membership; `null` while it lasts.
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&Membership> for MembershipView {
    fn from(m: &Membership) -> Self {
        Self {
            id: m.id,
            person_id: m.person_id,
            organisation_id: m.organisation_id,
            role: m.terms.role,
            starts_on: m.terms.starts_on,
            ends_on: m.terms.ends_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

impl FeedResource for Membership {
    const TYPE: ResourceType = ResourceType::Membership;

    fn feed_id(&self) -> Uuid {
        self.id
    }

    fn feed_version(&self) -> i64 {
        self.version
    }

    fn feed_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&MembershipView::from(self))
    }
}

/// A person's profile, as sent to create one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Mira Peeters",
    "email": "mira.peeters@zorgnetkempen.example",
    "stakeholder_group": "employee",
    "birth_year": 1968,
    "languages": ["nl", "fr"]
}))]
pub struct NewPerson {
    /// 1 to 120 characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// Unique in the network, compared without regard to case.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    /// Year of birth (1900 to 2100); or give `age_band`, not both.
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    /// ISO 639-1 codes, at most 10.
    #[serde(default)]
    #[schema(max_items = 10, example = json!(["nl", "en"]))]
    pub languages: Vec<LanguageCode>,
    /// Network-wide role (default `member`); only facilitators set it.
    pub role: Option<PersonRole>,
}

/// An ISO 639-1 language code.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^[a-z]{2}$", example = "nl")]
pub struct LanguageCode(pub String);

impl NewPerson {
    fn input(&self) -> PersonInput {
        PersonInput {
            name: self.name.clone(),
            email: self.email.clone(),
            stakeholder_group: self.stakeholder_group,
            birth_year: self.birth_year,
            age_band: self.age_band,
            languages: self.languages.iter().map(|l| l.0.clone()).collect(),
        }
    }
}

/// Changes to a person's profile, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"languages": ["nl", "en"], "birth_year": null, "age_band": "55_64"}))]
pub struct PersonPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 120, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, max_length = 254, pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<StakeholderGroup>, nullable = false)]
    pub stakeholder_group: Option<Option<StakeholderGroup>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable_whole")]
    #[schema(value_type = Option<i32>, minimum = 1900, maximum = 2100)]
    pub birth_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<LanguageCode>>, nullable = false, max_items = 10)]
    pub languages: Option<Option<Vec<LanguageCode>>>,
    /// Network-wide role; only facilitators change it.
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<PersonRole>, nullable = false)]
    pub role: Option<Option<PersonRole>>,
}

fn cannot_remove(pointer: &str) -> FieldError {
    FieldError::new(pointer, "is required and cannot be removed (null)")
}

impl PersonPatch {
    fn apply(&self, mut input: PersonInput) -> std::result::Result<PersonInput, Invalid> {
        let mut inv = Invalid::default();
        match &self.name {
            Some(Some(v)) => input.name = v.clone(),
            Some(None) => inv.errors.push(cannot_remove("/name")),
            None => {}
        }
        match &self.email {
            Some(Some(v)) => input.email = v.clone(),
            Some(None) => inv.errors.push(cannot_remove("/email")),
            None => {}
        }
        match self.stakeholder_group {
            Some(Some(v)) => input.stakeholder_group = v,
            Some(None) => inv.errors.push(cannot_remove("/stakeholder_group")),
            None => {}
        }
        match &self.languages {
            Some(Some(v)) => input.languages = v.iter().map(|l| l.0.clone()).collect(),
            Some(None) => inv.errors.push(cannot_remove("/languages")),
            None => {}
        }
        if matches!(self.role, Some(None)) {
            inv.errors.push(cannot_remove("/role"));
        }
        // A birth year replaces an age band and the other way round.
        if let Some(v) = self.birth_year {
            input.birth_year = v;
            if v.is_some() && self.age_band.is_none() {
                input.age_band = None;
            }
        }
        if let Some(v) = self.age_band {
            input.age_band = v;
            if v.is_some() && self.birth_year.is_none() {
                input.birth_year = None;
            }
        }
        inv.finish(|| input)
    }
}

/// A membership's role and period.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "employee", "starts_on": "2019-03-01", "ends_on": null}))]
pub struct MembershipTermsBody {
    pub role: MembershipRole,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day; `null` or absent while it lasts.
    pub ends_on: Option<NaiveDate>,
}

impl MembershipTermsBody {
    fn parse(&self, pointer: &str) -> std::result::Result<MembershipTerms, Invalid> {
        MembershipTerms::parse(self.role, self.starts_on, self.ends_on, pointer)
    }
}

/// A new membership of an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "role": "hr", "starts_on": "2024-09-01"}))]
pub struct NewMembership {
    pub person_id: Uuid,
    pub role: MembershipRole,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Changes to a membership, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ends_on": "2026-12-31"}))]
pub struct MembershipPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<MembershipRole>, nullable = false)]
    pub role: Option<Option<MembershipRole>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable = false)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
}

/// A new person who joins an organisation at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jonas Claes",
    "email": "jonas.claes@zorgnetkempen.example",
    "stakeholder_group": "hr_professional",
    "age_band": "35_44",
    "languages": ["nl"],
    "membership": {"role": "hr", "starts_on": "2024-09-01"}
}))]
pub struct NewOrganisationPerson {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub languages: Vec<LanguageCode>,
    pub membership: MembershipTermsBody,
}

/// A person's profile and membership as an organisation's system knows them (the body of
/// an upsert by reference, and one item of a batch without its `external_id`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Mira Peeters",
    "email": "mira.peeters@zorgnetkempen.example",
    "stakeholder_group": "employee",
    "birth_year": 1968,
    "languages": ["nl"],
    "membership": {"role": "employee", "starts_on": "2019-03-01", "ends_on": null}
}))]
pub struct PersonRecord {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub languages: Vec<LanguageCode>,
    pub membership: MembershipTermsBody,
}

impl PersonRecord {
    fn input(&self) -> PersonInput {
        PersonInput {
            name: self.name.clone(),
            email: self.email.clone(),
            stakeholder_group: self.stakeholder_group,
            birth_year: self.birth_year,
            age_band: self.age_band,
            languages: self.languages.iter().map(|l| l.0.clone()).collect(),
        }
    }
}

/// One item of a batch: a person record and its id in your system.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "external_id": "E-10442", "name": "Mira Peeters", "email": "mira.peeters@zorgnetkempen.example",
    "stakeholder_group": "employee", "birth_year": 1968, "languages": ["nl"],
    "membership": {"role": "employee", "starts_on": "2019-03-01"}
}))]
pub struct BatchItem {
    /// The person's id in your system (the batch's `system`).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$", example = "E-10442")]
    pub external_id: String,
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub languages: Vec<LanguageCode>,
    pub membership: MembershipTermsBody,
}

/// Up to 1,000 people to create or update by your system's ids.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "system": "sdworx",
    "items": [{
        "external_id": "E-10442",
        "name": "Mira Peeters",
        "email": "mira.peeters@zorgnetkempen.example",
        "stakeholder_group": "employee",
        "birth_year": 1968,
        "languages": ["nl"],
        "membership": {"role": "employee", "starts_on": "2019-03-01"}
    }]
}))]
pub struct PeopleBatch {
    /// Your system's name, such as `sdworx` or `personio`.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "sdworx")]
    pub system: String,
    /// Up to 1,000 items. Each is checked on its own: an invalid item gets an `error` result,
    /// the others are processed.
    #[schema(value_type = Vec<BatchItem>, max_items = 1000)]
    pub items: Vec<serde_json::Value>,
}

/// What happened to one batch item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    Created,
    Updated,
    Unchanged,
    /// The item was refused; `problem` says why. The other items were processed.
    Error,
}

/// The result of one batch item, in request order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "index": 0, "external_id": "E-10442", "result": "created",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "membership_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "version": 1
}))]
pub struct BatchItemResult {
    pub index: usize,
    /// The item's `external_id`, when it had one.
    pub external_id: Option<String>,
    pub result: ItemResult,
    pub person_id: Option<Uuid>,
    pub membership_id: Option<Uuid>,
    /// The person's version after this batch.
    pub version: Option<i64>,
    /// Why the item was refused (`result: error`); pointers lead into the request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub problem: Option<Problem>,
}

/// The answer to a batch: one result per item.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"results": [
    {"index": 0, "external_id": "E-10442", "result": "created", "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
     "membership_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "version": 1},
    {"index": 1, "external_id": "E-10443", "result": "error", "person_id": null, "membership_id": null, "version": null,
     "problem": {"type": "https://vov.be/problems/validation", "title": "Your request is not valid", "status": 422,
                 "detail": "Item 1 is not valid; see `errors`.",
                 "errors": [{"pointer": "/items/1/email", "detail": "`not-an-address` is not an e-mail address"}]}}
]}))]
pub struct BatchResponse {
    pub results: Vec<BatchItemResult>,
}

/// The answer to an upsert by reference: the person and their membership of the organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "result": "created",
    "person": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "view": "full", "name": "Mira Peeters",
               "stakeholder_group": "employee", "organisations": [{"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "name": "Zorgnet Kempen"}],
               "email": "mira.peeters@zorgnetkempen.example", "role": "member", "birth_year": 1968, "age_band": null,
               "languages": ["nl"], "created_at": "2026-11-27T09:00:00Z", "updated_at": "2026-11-27T09:00:00Z", "version": 1},
    "membership": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
                   "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "role": "employee", "starts_on": "2019-03-01",
                   "ends_on": null, "created_at": "2026-11-27T09:00:00Z", "updated_at": "2026-11-27T09:00:00Z", "version": 1}
}))]
pub struct UpsertedPerson {
    pub result: Upserted,
    pub person: PersonView,
    pub membership: MembershipView,
}

/// Sets a password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "old passphrase here", "new_password": "lerenderwijs-2027!"}))]
pub struct PasswordChange {
    /// Your current password, when you change your own and have one.
    #[schema(format = Password, max_length = 256)]
    pub current_password: Option<String>,
    /// At least 12 characters.
    #[schema(format = Password, min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// Filters, sort and page of the people list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonListQuery {
    /// Only current members of this organisation.
    pub organisation_id: Option<Uuid>,
    pub stakeholder_group: Option<StakeholderGroup>,
    /// Words of the name; case and accents are ignored.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "peeters")]
    pub q: Option<String>,
    /// Sort field; prefix `-` for descending. Default `name`.
    #[param(schema_with = person_sort_schema)]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

fn person_sort_schema() -> utoipa::openapi::Object {
    sort_schema::<PersonSort>()
}

// ---- rights ----

fn no_person(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No person with id {id}."))
}

const ADMIN_RIGHTS: &str = "Only facilitators and the organisation's admins make someone an admin, or change or \
                            remove an admin's membership.";

/// 403 unless the caller may touch memberships with these roles in `organisation`: an
/// `org_admin` membership is a right over the organisation, which only facilitators and its
/// current admins hand out or take away (never an integration client).
fn check_admin_rights(access: &Access, organisation: Uuid, roles: &[MembershipRole]) -> Result<()> {
    if roles.contains(&MembershipRole::OrgAdmin) && !access.grants_admin(organisation) {
        return Err(ApiError::Forbidden(ADMIN_RIGHTS.into()));
    }
    Ok(())
}

fn upsert_rights(access: &Access, organisation: Uuid) -> UpsertRights {
    UpsertRights { grant_admin: access.grants_admin(organisation), change_login: access.is_facilitator() }
}

fn no_membership(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No membership with id {id}."))
}

/// How a caller may see a person: `None` when not at all (404).
async fn view_of(state: &AppState, access: &Access, person: &Person) -> Result<Option<PersonViewKind>> {
    if access.is_facilitator() || access.person_id() == Some(person.id) {
        return Ok(Some(PersonViewKind::Full));
    }
    let orgs: Vec<Uuid> = state.store.memberships_of_people(&[person.id]).await?.into_iter().map(|(_, o)| o).collect();
    let shares = access.readable_organisations().is_some_and(|r| orgs.iter().any(|o| r.contains(o)));
    Ok(match access {
        _ if shares => Some(PersonViewKind::Full),
        Access::Person { .. } => Some(PersonViewKind::Network),
        _ => None,
    })
}

/// Whether a caller may change a person's profile.
async fn may_edit(state: &AppState, access: &Access, person_id: Uuid) -> Result<bool> {
    if access.is_facilitator() || access.person_id() == Some(person_id) {
        return Ok(true);
    }
    let Some(managed) = access.managed_organisations() else { return Ok(true) };
    let orgs = state.store.memberships_of_people(&[person_id]).await?;
    Ok(orgs.iter().any(|(_, o)| managed.contains(o)))
}

async fn affiliations_of(state: &AppState, people: &[Uuid]) -> Result<Vec<(Uuid, Affiliation)>> {
    Ok(state
        .store
        .affiliations(people, state.today())
        .await?
        .into_iter()
        .map(|(person, id, name)| (person, Affiliation { id, name }))
        .collect())
}

fn pick(affiliations: &[(Uuid, Affiliation)], person: Uuid) -> Vec<Affiliation> {
    affiliations.iter().filter(|(p, _)| *p == person).map(|(_, a)| a.clone()).collect()
}

pub(crate) async fn render(state: &AppState, access: &Access, person: &Person) -> Result<Option<PersonView>> {
    let Some(kind) = view_of(state, access, person).await? else { return Ok(None) };
    let affiliations = pick(&affiliations_of(state, &[person.id]).await?, person.id);
    Ok(Some(match kind {
        PersonViewKind::Full => PersonView::full(person, Some(affiliations)),
        PersonViewKind::Network => PersonView::network(person, affiliations),
    }))
}

async fn access_of(caller: &Caller, state: &AppState) -> Result<Access> {
    let access = Access::resolve(caller, &state.store, state.today()).await?;
    if let Access::Client { .. } = access
        && access.readable_organisations().is_none_or(|o| o.is_empty())
    {
        return Err(ApiError::Forbidden("This needs the `people:read` or `people:write` scope.".into()));
    }
    Ok(access)
}

fn validated_person(input: PersonInput, prefix: &str) -> std::result::Result<PersonContent, Invalid> {
    PersonContent::parse(input).map_err(|inv| Invalid {
        errors: inv.errors.into_iter().map(|e| FieldError::new(format!("{prefix}{}", e.pointer), e.detail)).collect(),
    })
}

// ---- people ----

/// List people
///
/// The network's directory. Facilitators see everyone in full; signed-in people see
/// everyone's name, group and organisations, and in full themselves and the members of the
/// organisations they administer; an integration client sees its organisation's people.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_people",
    params(PersonListQuery),
    responses(
        (status = 200, description = "A page of people.", body = ListResponse<PersonView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "An integration client without a people scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people")]
async fn list_people(
    req: HttpRequest,
    caller: Caller,
    query: web::Query<PersonListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller, &state).await?;
    let query = query.into_inner();
    let filter = PersonFilter {
        within: match &access {
            Access::Client { .. } => access.readable_organisations(),
            _ => None,
        },
        organisation_id: query.organisation_id,
        stakeholder_group: query.stakeholder_group,
        q: parse_q(query.q.as_deref(), 200)?,
    };
    let page_req = PageRequest::<PersonSort>::parse(
        &state.cursors,
        format!(
            "people?{:?}&{:?}&{:?}&{:?}",
            filter.within, filter.organisation_id, filter.stakeholder_group, filter.q
        ),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    let page =
        state.store.list_people(&filter, state.today(), page_req.sort, page_req.after.as_ref(), page_req.limit).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
    let affiliations = affiliations_of(&state, &ids).await?;
    let full: Vec<Uuid> = match &access {
        Access::Facilitator { .. } | Access::Client { .. } => ids.clone(),
        Access::Person { id, admin_of } => {
            let memberships = state.store.memberships_of_people(&ids).await?;
            ids.iter()
                .copied()
                .filter(|p| p == id || memberships.iter().any(|(m, o)| m == p && admin_of.contains(o)))
                .collect()
        }
    };
    Ok(respond_page(&req, &state.cursors, &page_req, page, |p| {
        let orgs = pick(&affiliations, p.id);
        if full.contains(&p.id) { PersonView::full(&p, Some(orgs)) } else { PersonView::network(&p, orgs) }
    }))
}

/// Create a person
///
/// Adds a person to the network. Facilitators only; organisation admins add people with
/// `POST /v1/organisations/{id}/people`, integration clients by reference.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_person",
    request_body = NewPerson,
    responses(
        (status = 201, description = "Created.", body = PersonView,
            headers(("Location" = String, description = "The new person's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only facilitators add people here.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A person with this e-mail address exists.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/people")]
async fn create_person(caller: Caller, body: Json<NewPerson>, state: web::Data<AppState>) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let body = body.0;
    let content = validated_person(body.input(), "")?;
    let role = body.role.unwrap_or(PersonRole::Member);
    let (person, _) = state.store.create_person(&content, role, None, None).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/people/{}", person.id)))
        .insert_header((header::ETAG, etag(person.version)))
        .json(PersonView::full(&person, Some(vec![]))))
}

/// Get a person
///
/// One person, in the view the caller may see (`view` says which). `404` for a person an
/// integration client's organisation does not know.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "get_person",
    params(("id" = Uuid, Path, description = "The person's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The person.", body = PersonView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "An integration client without a people scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people/{id}")]
async fn get_person(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    let person = state.store.get_person(id).await.or_not_found(|| no_person(id))?;
    let view = render(&state, &access, &person).await?.ok_or_else(|| no_person(id))?;
    Ok(respond_tagged(&req, person.version, &view))
}

/// Update a person
///
/// Changes a profile with a JSON Merge Patch (RFC 7396): the person themselves,
/// facilitators, admins of an organisation the person belongs to, and integration clients
/// with `people:write` for their organisation's people. Only facilitators change `role`,
/// and never their own (`403`); the new role holds from the person's next request.
/// The e-mail address of someone who signs in with a password is theirs: only they and
/// facilitators change it. A birth year replaces an age band and the other way round.
/// Send `If-Match` with the ETag you read.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "update_person",
    params(("id" = Uuid, Path, description = "The person's id"), IfMatch),
    request_body(content = PersonPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = PersonView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Not yours to change, or the sign-in e-mail address of someone else.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another person has this e-mail address.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/people/{id}")]
async fn update_person(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<PersonPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    let current = state.store.get_person(id).await.or_not_found(|| no_person(id))?;
    if view_of(&state, &access, &current).await?.is_none() {
        return Err(no_person(id));
    }
    if !may_edit(&state, &access, id).await? {
        return Err(ApiError::Forbidden("You may change only your own profile and your members'.".into()));
    }
    let patch = body.0;
    let content = validated_person(patch.apply(current.content.to_input())?, "")?;
    let new_role = patch.role.flatten();
    if new_role.is_some_and(|r| r != current.role) && !access.is_facilitator() {
        return Err(Invalid::one("/role", "only facilitators change roles").into());
    }
    if new_role.is_some_and(|r| r != current.role) && access.person_id() == Some(id) {
        return Err(ApiError::Forbidden("Nobody changes their own role: ask another facilitator.".into()));
    }
    // The e-mail address someone signs in with is theirs to change (or a facilitator's):
    // an organisation changes it only for people without a password.
    let own_or_facilitator = access.is_facilitator() || access.person_id() == Some(id);
    if content.email.key() != current.content.email.key()
        && !own_or_facilitator
        && state.store.get_person_account(id).await?.password_hash.is_some()
    {
        return Err(ApiError::Forbidden(
            "This e-mail address is the one the person signs in with: only they and facilitators change it.".into(),
        ));
    }
    if_match.check(current.version)?;
    let mut person = current.clone();
    let role = new_role.unwrap_or(current.role);
    if content != current.content || role != current.role {
        // Profile and role in one transaction: a failure never leaves half the change.
        person = state.store.update_person(id, person.version, &content, role).await.map_err(|e| match e {
            StoreError::VersionMismatch { current } => ApiError::PreconditionFailed { current_version: Some(current) },
            other => other.into(),
        })?;
    }
    let view = render(&state, &access, &person).await?.ok_or_else(|| no_person(id))?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag(person.version))).json(view))
}

/// Delete a person
///
/// Removes a person and their memberships; the change feed reports tombstones. Facilitators only.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "delete_person",
    params(("id" = Uuid, Path, description = "The person's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only facilitators delete people.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/people/{id}")]
async fn delete_person(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let id = id.into_inner();
    let expected = if if_match.is_absent() {
        None
    } else {
        let current = state.store.get_person(id).await.or_not_found(|| no_person(id))?;
        if_match.check(current.version)?;
        Some(current.version)
    };
    state.store.delete_person(id, expected).await.map_err(|e| match e {
        StoreError::NotFound => no_person(id),
        other => other.into(),
    })?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set a password
///
/// Sets the password a person signs in with: your own (with `current_password` when you
/// have one), or anyone's as a facilitator. Every existing sign-in of the person ends.
/// Passwords are never returned by any endpoint.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "set_password",
    params(("id" = Uuid, Path, description = "The person's id")),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "The password is set; sign in again."),
        (status = 403, description = "Not your password to set, or the current password is wrong.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many password attempts for this account (they count with sign-in attempts); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"),
                    ("RateLimit-Policy" = String, description = "The limit (draft-ietf-httpapi-ratelimit-headers)"),
                    ("RateLimit" = String, description = "What is left of it"))),
    )
)]
#[put("/v1/people/{id}/password")]
async fn set_password(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<PasswordChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let body = body.0;
    check_password(&body.new_password).map_err(|e| Invalid::one("/new_password", e))?;
    if body.current_password.as_ref().is_some_and(|p| p.chars().count() > crate::domain::account::PASSWORD_MAX) {
        return Err(Invalid::one("/current_password", "must be at most 256 characters").into());
    }
    let facilitator = caller.has_role(Role::Facilitator);
    if caller.person_id() != Some(id) && !facilitator {
        return match caller.person_id() {
            Some(_) => Err(ApiError::Forbidden("You may set only your own password.".into())),
            None => Err(no_person(id)),
        };
    }
    let account = state.store.get_person_account(id).await.or_not_found(|| no_person(id))?;
    if caller.person_id() == Some(id) && account.password_hash.is_some() {
        // A stolen access token must not become a way to guess the password: these checks
        // count toward the same per-account limit as signing in.
        // Keyed by the address (shared with the password grant) and by the person: changing
        // one's address does not open a fresh budget.
        let limiter = &state.sign_in_by_account;
        let by_address = limiter.check(&crate::api::auth::account_limit_key(&account.email));
        let by_person = limiter.check(&format!("person-id:{id}"));
        if let Some(Decision::Limited { retry_after }) =
            [by_address, by_person].into_iter().find(|d| matches!(d, Decision::Limited { .. }))
        {
            return Err(ApiError::TooManyRequests {
                detail: format!("Too many password attempts for this account; retry in {retry_after} seconds."),
                retry_after,
                policy: limiter.policy(),
                state: limiter.state(Decision::Limited { retry_after }),
            });
        }
        let current = body.current_password.clone().unwrap_or_default();
        let ok = password::verify(current, account.password_hash.clone())
            .await
            .map_err(|_| ApiError::ServiceUnavailable("Too many password checks right now; retry.".into()))?;
        if !ok {
            return Err(ApiError::Forbidden("`current_password` is not your current password.".into()));
        }
    }
    let hash = password::hash(body.new_password).await?;
    state.store.set_password_hash(id, &hash).await?;
    state.store.revoke_sessions_of(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- memberships ----

/// A person's memberships
///
/// The person's memberships that the caller may see: all of them for the person and
/// facilitators; those of their organisations for admins and integration clients.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_person_memberships",
    params(("id" = Uuid, Path, description = "The person's id"), PageQuery),
    responses(
        (status = 200, description = "A page of memberships.", body = ListResponse<MembershipView>),
        (status = 403, description = "Only the person, their organisations' admins and facilitators see memberships.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people/{id}/memberships")]
async fn list_person_memberships(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    let person = state.store.get_person(id).await.or_not_found(|| no_person(id))?;
    let view = view_of(&state, &access, &person).await?.ok_or_else(|| no_person(id))?;
    let readable = if access.is_facilitator() || access.person_id() == Some(id) {
        None
    } else if view == PersonViewKind::Full {
        access.readable_organisations()
    } else {
        return Err(ApiError::Forbidden(
            "Only the person, their organisations' admins and facilitators see memberships.".into(),
        ));
    };
    let page_req = PageRequest::<crate::db::people::MembershipSort>::parse(
        &state.cursors,
        format!("people/{id}/memberships?{readable:?}"),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page =
        state.store.list_memberships(Some(id), readable.as_deref(), page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |m| MembershipView::from(&m)))
}

/// An organisation's memberships
///
/// Who belongs to the organisation, with roles and periods. Its admins, its integration
/// clients with a people scope, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_organisation_memberships",
    params(("id" = Uuid, Path, description = "The organisation's id"), PageQuery),
    responses(
        (status = 200, description = "A page of memberships.", body = ListResponse<MembershipView>),
        (status = 403, description = "Only the organisation's admins and clients, and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/memberships")]
async fn list_organisation_memberships(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    organisation_for(&state, &access, id).await?;
    if !access.reads(id) {
        return Err(ApiError::Forbidden("Only the organisation's admins and clients, and facilitators.".into()));
    }
    let page_req = PageRequest::<crate::db::people::MembershipSort>::parse(
        &state.cursors,
        format!("organisations/{id}/memberships"),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page = state.store.list_memberships(None, Some(&[id]), page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |m| MembershipView::from(&m)))
}

/// The organisation, if the caller may know of it: every one for people and facilitators,
/// only its own for an integration client (404 otherwise).
async fn organisation_for(state: &AppState, access: &Access, id: Uuid) -> Result<()> {
    let no_org = || ApiError::not_found(format!("No organisation with id {id}."));
    if let Access::Client { organisation_id, .. } = access
        && *organisation_id != Some(id)
    {
        return Err(no_org());
    }
    state.store.get_organisation(id).await.or_not_found(no_org)?;
    Ok(())
}

/// Add a membership
///
/// Adds a membership of the organisation (a new role or period) for one of its members:
/// its admins and its integration clients with `people:write`. Linking a person who is not
/// yet a member is for facilitators, so that no organisation can read an outsider's
/// profile by adding them.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_membership",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = NewMembership,
    responses(
        (status = 201, description = "Created.", body = MembershipView,
            headers(("Location" = String, description = "The membership's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only the organisation's admins and facilitators; an outsider only by facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no such person (`errors` points at `/person_id`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/memberships")]
async fn create_membership(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewMembership>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    organisation_for(&state, &access, id).await?;
    if !access.manages(id) {
        return Err(ApiError::Forbidden("Only the organisation's admins and facilitators add members.".into()));
    }
    let body = body.0;
    let terms = MembershipTerms::parse(body.role, body.starts_on, body.ends_on, "")?;
    check_admin_rights(&access, id, &[terms.role])?;
    let person = state.store.get_person(body.person_id).await.found()?;
    let visible = match &person {
        Some(p) => view_of(&state, &access, p).await?.is_some(),
        None => false,
    };
    if !visible {
        return Err(ApiError::MissingReference {
            detail: format!("No person with id {}.", body.person_id),
            pointer: "/person_id".into(),
        });
    }
    // Adding someone from outside would show their e-mail address to the organisation's
    // admins and clients: only facilitators link an existing person to a new organisation.
    let already_member = state.store.memberships_of_people(&[body.person_id]).await?.iter().any(|(_, org)| *org == id);
    if !already_member && !access.is_facilitator() {
        return Err(ApiError::Forbidden(
            "This person is not a member of the organisation yet; a facilitator links an existing person to a new \
             organisation."
                .into(),
        ));
    }
    let m = state.store.create_membership(body.person_id, id, terms).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/memberships/{}", m.id)))
        .insert_header((header::ETAG, etag(m.version)))
        .json(MembershipView::from(&m)))
}

/// A membership as an organisation's system knows it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "role": "employee", "starts_on": "2019-03-01", "ends_on": null}))]
pub struct MembershipRecord {
    /// A member of the organisation (their id from the people endpoints or an upsert).
    pub person_id: Uuid,
    pub role: MembershipRole,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Create or update a membership by your system's id
///
/// Creates or updates the membership your system `{system}` knows as `{external_id}` (an
/// employment contract, say). Answers `201` when it was created and `200` otherwise; the
/// `Upsert-Result` header says `created`, `updated` or `unchanged`. The person must already
/// belong to the organisation (facilitators may link anyone). The organisation's clients
/// with `people:write`, its admins, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_membership_by_ref",
    params(("id" = Uuid, Path, description = "The organisation's id"), RefPath),
    request_body = MembershipRecord,
    responses(
        (status = 200, description = "Updated or unchanged.", body = MembershipView,
            headers(("Upsert-Result" = String, description = "`updated` or `unchanged`"))),
        (status = 201, description = "Created.", body = MembershipView,
            headers(("Upsert-Result" = String, description = "`created`"), ("Location" = String, description = "The membership's URL"))),
        (status = 403, description = "Only the organisation's clients with `people:write`, its admins and facilitators; an outsider only by facilitators; an `org_admin` membership only by admins and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The reference names a membership of another person.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/organisations/{id}/memberships/by-ref/{system}/{external_id}")]
async fn upsert_membership_by_ref(
    caller: Caller,
    path: web::Path<(Uuid, String, String)>,
    body: Json<MembershipRecord>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, system, external_id) = path.into_inner();
    let reference = RefPath { system, external_id }.parse()?;
    let access = access_of(&caller, &state).await?;
    organisation_for(&state, &access, id).await?;
    if !access.manages(id) {
        return Err(ApiError::Forbidden("This needs `people:write` for this organisation, or being its admin.".into()));
    }
    let body = body.0;
    let terms = MembershipTerms::parse(body.role, body.starts_on, body.ends_on, "")?;
    let person = state.store.get_person(body.person_id).await.found()?;
    let visible = match &person {
        Some(p) => view_of(&state, &access, p).await?.is_some(),
        None => false,
    };
    if !visible {
        return Err(ApiError::MissingReference {
            detail: format!("No person with id {}.", body.person_id),
            pointer: "/person_id".into(),
        });
    }
    let already_member = state.store.memberships_of_people(&[body.person_id]).await?.iter().any(|(_, org)| *org == id);
    if !already_member && !access.is_facilitator() {
        return Err(ApiError::Forbidden(
            "This person is not a member of the organisation yet; a facilitator links an existing person to a new \
             organisation."
                .into(),
        ));
    }
    check_admin_rights(&access, id, &[terms.role])?;
    let (m, result) = state
        .store
        .upsert_membership_by_ref(id, &reference, body.person_id, terms, upsert_rights(&access, id))
        .await
        .map_err(|e| match e {
            StoreError::Forbidden(_) => ApiError::Forbidden(ADMIN_RIGHTS.into()),
            other => other.into(),
        })?;
    Ok(upserted(result)
        .insert_header((header::LOCATION, format!("/v1/memberships/{}", m.id)))
        .insert_header((header::ETAG, etag(m.version)))
        .json(MembershipView::from(&m)))
}

/// The membership, if the caller may see it.
async fn membership_for(state: &AppState, access: &Access, id: Uuid) -> Result<Membership> {
    let m = state.store.get_membership(id).await.or_not_found(|| no_membership(id))?;
    let sees = access.is_facilitator() || access.person_id() == Some(m.person_id) || access.reads(m.organisation_id);
    if sees { Ok(m) } else { Err(no_membership(id)) }
}

/// Get a membership
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "get_membership",
    description = "One membership: for the person, the organisation's admins and clients, and facilitators.",
    params(("id" = Uuid, Path, description = "The membership's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The membership.", body = MembershipView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/memberships/{id}")]
async fn get_membership(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    let m = membership_for(&state, &access, id).await?;
    Ok(respond_tagged(&req, m.version, &MembershipView::from(&m)))
}

/// Update a membership
///
/// Changes a membership's role or period with a JSON Merge Patch (RFC 7396): to end it,
/// set `ends_on`. The organisation's admins, its clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "update_membership",
    params(("id" = Uuid, Path, description = "The membership's id"), IfMatch),
    request_body(content = MembershipPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = MembershipView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only the organisation's admins and facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The membership changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/memberships/{id}")]
async fn update_membership(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<MembershipPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    let current = membership_for(&state, &access, id).await.map_err(|e| match e {
        ApiError::NotFound(_) => no_membership(id),
        other => other,
    })?;
    if !access.manages(current.organisation_id) {
        return Err(ApiError::Forbidden("Only the organisation's admins and facilitators change memberships.".into()));
    }
    let patch = body.0;
    let mut inv = Invalid::default();
    let role = match patch.role {
        Some(Some(r)) => r,
        Some(None) => {
            inv.errors.push(cannot_remove("/role"));
            current.terms.role
        }
        None => current.terms.role,
    };
    let starts_on = match patch.starts_on {
        Some(Some(d)) => d,
        Some(None) => {
            inv.errors.push(cannot_remove("/starts_on"));
            current.terms.starts_on
        }
        None => current.terms.starts_on,
    };
    let ends_on = patch.ends_on.unwrap_or(current.terms.ends_on);
    inv.finish(|| ())?;
    let terms = MembershipTerms::parse(role, starts_on, ends_on, "")?;
    if terms != current.terms {
        check_admin_rights(&access, current.organisation_id, &[current.terms.role, terms.role])?;
    }
    if_match.check(current.version)?;
    if terms == current.terms {
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, etag(current.version)))
            .json(MembershipView::from(&current)));
    }
    let m = state.store.update_membership(id, current.version, terms).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag(m.version))).json(MembershipView::from(&m)))
}

/// Delete a membership
///
/// Removes a membership (to keep its history, end it with `ends_on` instead). The
/// organisation's admins, its clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "delete_membership",
    params(("id" = Uuid, Path, description = "The membership's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only the organisation's admins and facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The membership changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/memberships/{id}")]
async fn delete_membership(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    let current = membership_for(&state, &access, id).await.map_err(|e| match e {
        ApiError::NotFound(_) => no_membership(id),
        other => other,
    })?;
    if !access.manages(current.organisation_id) {
        return Err(ApiError::Forbidden("Only the organisation's admins and facilitators remove memberships.".into()));
    }
    check_admin_rights(&access, current.organisation_id, &[current.terms.role])?;
    if_match.check(current.version)?;
    state.store.delete_membership(id, Some(current.version)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- an organisation's people ----

/// Add a person to an organisation
///
/// Creates a person who joins the organisation at once. Its admins, its integration
/// clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_organisation_person",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = NewOrganisationPerson,
    responses(
        (status = 201, description = "Created, with the membership.", body = UpsertedPerson,
            headers(("Location" = String, description = "The new person's URL"))),
        (status = 403, description = "Only the organisation's admins and facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A person with this e-mail address exists.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/people")]
async fn create_organisation_person(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewOrganisationPerson>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    organisation_for(&state, &access, id).await?;
    if !access.manages(id) {
        return Err(ApiError::Forbidden("Only the organisation's admins and facilitators add people.".into()));
    }
    let b = body.0;
    let input = PersonInput {
        name: b.name,
        email: b.email,
        stakeholder_group: b.stakeholder_group,
        birth_year: b.birth_year,
        age_band: b.age_band,
        languages: b.languages.into_iter().map(|l| l.0).collect(),
    };
    let mut inv = Invalid::default();
    let content = validated_person(input, "").map_err(|e| inv.errors.extend(e.errors)).ok();
    let terms = b.membership.parse("/membership").map_err(|e| inv.errors.extend(e.errors)).ok();
    inv.finish(|| ())?;
    let (content, terms) = (content.expect("checked"), terms.expect("checked"));
    check_admin_rights(&access, id, &[terms.role])?;
    let (person, membership) = state.store.create_person(&content, PersonRole::Member, None, Some((id, terms))).await?;
    let membership = membership.expect("created with the person");
    let affiliations = pick(&affiliations_of(&state, &[person.id]).await?, person.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/v1/people/{}", person.id))).json(
        UpsertedPerson {
            result: Upserted::Created,
            person: PersonView::full(&person, Some(affiliations)),
            membership: MembershipView::from(&membership),
        },
    ))
}

fn item_problem(detail: String, errors: Vec<FieldError>) -> Problem {
    let mut problem = ApiError::Invalid(Invalid { errors }).problem();
    problem.detail = detail;
    problem
}

/// Create or update a person by your system's id
///
/// Creates or updates the person your system `{system}` knows as `{external_id}`, with
/// their membership of this organisation (the latest membership is updated, or one is
/// created). An e-mail address that belongs to an existing member of the organisation
/// links that person to the reference; one that belongs to someone outside it is refused.
/// Answers `201` when the person was created, `200` otherwise; `result` and the
/// `Upsert-Result` header say `created`, `updated` or `unchanged`. Safe to repeat. The
/// organisation's integration clients with `people:write`, its admins, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_person_by_ref",
    params(("id" = Uuid, Path, description = "The organisation's id"), RefPath),
    request_body = PersonRecord,
    responses(
        (status = 200, description = "Updated or unchanged.", body = UpsertedPerson,
            headers(("Upsert-Result" = String, description = "`updated` or `unchanged`"))),
        (status = 201, description = "Created.", body = UpsertedPerson,
            headers(("Upsert-Result" = String, description = "`created`"), ("Location" = String, description = "The person's URL"))),
        (status = 403, description = "Only the organisation's clients with `people:write`, its admins and facilitators. Also when the record would grant, change or end an `org_admin` membership (admins and facilitators only), or change the sign-in e-mail address of someone with a password (facilitators only).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address belongs to someone else.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/organisations/{id}/people/by-ref/{system}/{external_id}")]
async fn upsert_person_by_ref(
    caller: Caller,
    path: web::Path<(Uuid, String, String)>,
    body: Json<PersonRecord>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, system, external_id) = path.into_inner();
    let reference = RefPath { system, external_id }.parse()?;
    let access = access_of(&caller, &state).await?;
    organisation_for(&state, &access, id).await?;
    if !access.manages(id) {
        return Err(ApiError::Forbidden("This needs `people:write` for this organisation, or being its admin.".into()));
    }
    let body = body.0;
    let mut inv = Invalid::default();
    let content = validated_person(body.input(), "").map_err(|e| inv.errors.extend(e.errors)).ok();
    let terms = body.membership.parse("/membership").map_err(|e| inv.errors.extend(e.errors)).ok();
    inv.finish(|| ())?;
    let item = PersonUpsert {
        external_id: reference.id.clone(),
        content: content.expect("checked"),
        membership: terms.expect("checked"),
    };
    let mut results = state
        .store
        .upsert_people(id, &reference.system, std::slice::from_ref(&item), upsert_rights(&access, id))
        .await?;
    match results.pop().expect("one result per item") {
        Ok(outcome) => {
            let affiliations = pick(&affiliations_of(&state, &[outcome.person.id]).await?, outcome.person.id);
            Ok(upserted(outcome.result)
                .insert_header((header::LOCATION, format!("/v1/people/{}", outcome.person.id)))
                .json(UpsertedPerson {
                    result: outcome.result,
                    person: PersonView::full(&outcome.person, Some(affiliations)),
                    membership: MembershipView::from(&outcome.membership),
                }))
        }
        Err(refused) if refused.forbidden => {
            Err(ApiError::Forbidden(format!("`{}` {}.", refused.pointer, refused.detail)))
        }
        Err(conflict) => Err(ApiError::conflict(conflict.detail, Some(conflict.pointer).filter(|p| !p.is_empty()))),
    }
}

/// Create or update up to 1,000 people by your system's ids
///
/// The batch form of `PUT .../people/by-ref/{system}/{external_id}`: one result per item,
/// in request order (`created`, `updated`, `unchanged`, or `error` with a problem whose
/// pointers lead into the request body: status 422 for an invalid item, 409 for a clash
/// with other data, 403 for an item the caller has no right to apply, such as an
/// `org_admin` membership). A refused item never stops the others. Send an
/// `Idempotency-Key` so that a retried batch is not applied twice. A 10,000-person sync is
/// ten requests.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_people_batch",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = PeopleBatch,
    responses(
        (status = 200, description = "One result per item.", body = BatchResponse),
        (status = 403, description = "Only the organisation's clients with `people:write`, its admins and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/people/batch")]
async fn upsert_people_batch(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<PeopleBatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    organisation_for(&state, &access, id).await?;
    if !access.manages(id) {
        return Err(ApiError::Forbidden("This needs `people:write` for this organisation, or being its admin.".into()));
    }
    let body = body.0;
    if body.items.len() > BATCH_MAX {
        return Err(Invalid::one("/items", format!("at most {BATCH_MAX} items per request")).into());
    }
    let system = ExternalRef::parse(&body.system, "x", "")
        .map_err(|_| Invalid::one("/system", "must be 1 to 64 letters, digits, `.`, `_` or `-`"))?
        .system;
    // Parse and validate each item on its own, so one bad item refuses only itself.
    let mut results: Vec<Option<BatchItemResult>> = Vec::with_capacity(body.items.len());
    let mut valid: Vec<(usize, PersonUpsert)> = Vec::new();
    for (index, raw) in body.items.into_iter().enumerate() {
        let prefix = format!("/items/{index}");
        let external_id = raw.get("external_id").and_then(|v| v.as_str()).map(String::from);
        let refused = |errors: Vec<FieldError>| BatchItemResult {
            index,
            external_id: external_id.clone(),
            result: ItemResult::Error,
            person_id: None,
            membership_id: None,
            version: None,
            problem: Some(item_problem(format!("Item {index} is not valid; see `errors`."), errors)),
        };
        let item: BatchItem = match serde_json::from_value(raw) {
            Ok(item) => item,
            Err(e) => {
                let message = e.to_string();
                results.push(Some(refused(vec![FieldError::new(prefix.clone(), message)])));
                continue;
            }
        };
        let mut inv = Invalid::default();
        if let Err(e) = ExternalRef::parse(&system, &item.external_id, "") {
            inv.errors.extend(e.errors.into_iter().map(|f| FieldError::new(format!("{prefix}/external_id"), f.detail)));
        }
        let input = PersonInput {
            name: item.name,
            email: item.email,
            stakeholder_group: item.stakeholder_group,
            birth_year: item.birth_year,
            age_band: item.age_band,
            languages: item.languages.into_iter().map(|l| l.0).collect(),
        };
        let content = validated_person(input, &prefix).map_err(|e| inv.errors.extend(e.errors)).ok();
        let terms =
            item.membership.parse(&format!("{prefix}/membership")).map_err(|e| inv.errors.extend(e.errors)).ok();
        if inv.errors.is_empty() {
            valid.push((
                index,
                PersonUpsert {
                    external_id: item.external_id,
                    content: content.expect("checked"),
                    membership: terms.expect("checked"),
                },
            ));
            results.push(None);
        } else {
            results.push(Some(refused(inv.errors)));
        }
    }
    let items: Vec<PersonUpsert> = valid.iter().map(|(_, i)| i.clone()).collect();
    let outcomes = state.store.upsert_people(id, &system, &items, upsert_rights(&access, id)).await?;
    for ((index, item), outcome) in valid.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(o) => BatchItemResult {
                index,
                external_id: Some(item.external_id),
                result: match o.result {
                    Upserted::Created => ItemResult::Created,
                    Upserted::Updated => ItemResult::Updated,
                    Upserted::Unchanged => ItemResult::Unchanged,
                },
                person_id: Some(o.person.id),
                membership_id: Some(o.membership.id),
                version: Some(o.person.version),
                problem: None,
            },
            Err(conflict) => {
                let mut problem = if conflict.forbidden {
                    ApiError::Forbidden(format!("Item {index} was refused; see `errors`.")).problem()
                } else {
                    ApiError::conflict(conflict.detail.clone(), None).problem()
                };
                problem.errors = vec![FieldError::new(format!("/items/{index}{}", conflict.pointer), conflict.detail)];
                BatchItemResult {
                    index,
                    external_id: Some(item.external_id),
                    result: ItemResult::Error,
                    person_id: None,
                    membership_id: None,
                    version: None,
                    problem: Some(problem),
                }
            }
        });
    }
    Ok(HttpResponse::Ok()
        .json(BatchResponse { results: results.into_iter().map(|r| r.expect("every item has a result")).collect() }))
}
