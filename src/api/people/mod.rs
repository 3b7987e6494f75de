//! People and their memberships: the network's directory, profiles, and who belongs where.
//!
//! Who sees what: facilitators see everyone in full. Every signed-in person sees the
//! network directory (name, stakeholder group, current organisations) and, in full (e-mail
//! address, age, languages, role), themselves and the members of organisations they
//! administer. An integration client sees, in full, only the people of its organisation
//! (`people:read`), and manages them with `people:write`. Anonymous callers see nothing.

use crate::api::Routes;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::password;
use crate::auth::rights::{PersonRole, Role};
use crate::db::feed::feed_resource;
use crate::db::people::{PersonFilter, PersonSort, PersonUpsert, RefFilter, Tie, UpsertRights};
use crate::db::refs::{ExternalRef, Upserted};
use crate::db::{Found, StoreError};
use crate::domain::account::check_password;
use crate::domain::person::{
    AgeBand, Membership, MembershipRole, MembershipTerms, Person, PersonContent, PersonInput, StakeholderGroup,
};
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, etag, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageQuery, PageRequest, parse_q, respond_page, sort_schema};
use crate::http::rate_limit::Decision;
use crate::policy::{self, Action, Object};
use crate::state::AppState;

use super::organisations::{
    OrgRefPath, OrganisationRef, WithRefs, add_own_refs, no_ref, own_refs, read_back, upserted,
};

mod memberships;
mod profiles;
mod sync;

pub use memberships::*;
pub use profiles::*;
pub use sync::*;

pub fn routes(cfg: &mut impl Routes) {
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
        .service(get_person_by_ref)
        .service(upsert_membership_by_ref)
        .service(get_membership_by_ref)
        .service(remove_person_by_ref)
        .service(remove_membership_by_ref)
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
    /// Your organisations' ids for this person (each organisation's system and id): for the
    /// admins of an organisation and its clients that read its people; absent otherwise, and
    /// when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub external_refs: Vec<OrganisationRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl WithRefs for PersonView {
    fn resource_id(&self) -> Uuid {
        self.id
    }
    fn set_refs(&mut self, refs: Vec<OrganisationRef>) {
        self.external_refs = refs;
    }
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
            external_refs: Vec::new(),
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
            external_refs: Vec::new(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

feed_resource!(Person, Person, |p| PersonView::full(p, None));

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
    /// Your organisations' ids for this membership (an employment contract, say): for the
    /// organisation's admins and its clients that read its people; absent otherwise, and when
    /// there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub external_refs: Vec<OrganisationRef>,
    /// The organisation's groups (teams, departments) the person is in, as its identity
    /// provider keeps them over SCIM; read as they are when you read (a group's change does
    /// not move the membership's version). Absent when there are none, and in the change feed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub groups: Vec<MembershipGroup>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A group (team, department) of an organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8fc1", "name": "Zorgteam Geel"}))]
pub struct MembershipGroup {
    /// The group's id (its SCIM id, `/scim/v2/Groups/{id}`).
    pub id: Uuid,
    pub name: String,
}

/// Fills in the groups of the memberships' people in the memberships' organisations.
pub async fn add_groups(state: &AppState, views: &mut [MembershipView]) -> Result<()> {
    let mut people: Vec<Uuid> = views.iter().map(|v| v.person_id).collect();
    people.sort_unstable();
    people.dedup();
    let groups = state.store.groups_of(&people).await?;
    for view in views {
        view.groups = groups
            .iter()
            .filter(|(p, o, ..)| *p == view.person_id && *o == view.organisation_id)
            .map(|(_, _, id, name)| MembershipGroup { id: *id, name: name.clone() })
            .collect();
    }
    Ok(())
}

impl WithRefs for MembershipView {
    fn resource_id(&self) -> Uuid {
        self.id
    }
    fn set_refs(&mut self, refs: Vec<OrganisationRef>) {
        self.external_refs = refs;
    }
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
            external_refs: Vec::new(),
            groups: Vec::new(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

feed_resource!(Membership, Membership, |m| MembershipView::from(m));

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

/// How a caller may see a person, from the person's memberships ([`Store::ties`], current
/// or not): `None` when not at all (404).
fn view_of(access: &Access, person: Uuid, ties: &[Tie]) -> Option<PersonViewKind> {
    if access.is_facilitator() || access.person_id() == Some(person) {
        return Some(PersonViewKind::Full);
    }
    let shares = access
        .readable_organisations()
        .is_some_and(|r| ties.iter().any(|t| t.person_id == person && r.contains(&t.organisation_id)));
    match access {
        _ if shares => Some(PersonViewKind::Full),
        Access::Person { .. } => Some(PersonViewKind::Network),
        _ => None,
    }
}

/// Whether a caller may change a person's profile ([`policy`]: themselves, facilitators, and
/// those who manage one of the person's organisations), from the person's memberships
/// ([`Store::ties`], current or not).
fn may_edit(access: &Access, person_id: Uuid, ties: &[Tie]) -> bool {
    let organisations: Vec<Uuid> =
        ties.iter().filter(|t| t.person_id == person_id).map(|t| t.organisation_id).collect();
    let object = Object::Person { id: person_id, organisations: &organisations };
    policy::decide(Some(access), Action::Change, &object).allowed()
}

/// A person's organisations today, each once, by name.
async fn affiliations_of(state: &AppState, person: Uuid) -> Result<Vec<Affiliation>> {
    Ok(state
        .store
        .affiliations(&[person], state.today())
        .await?
        .into_iter()
        .map(|(_, id, name)| Affiliation { id, name })
        .collect())
}

/// A person's organisations today, from their memberships ([`Store::ties`]): each once, by
/// name.
fn affiliations(ties: &[Tie], person: Uuid, today: NaiveDate) -> Vec<Affiliation> {
    let mut seen = Vec::new();
    ties.iter()
        .filter(|t| t.person_id == person && t.current(today))
        .filter(|t| {
            let new = !seen.contains(&t.organisation_id);
            seen.push(t.organisation_id);
            new
        })
        .map(|t| Affiliation { id: t.organisation_id, name: t.name.clone() })
        .collect()
}

/// A person as `access` may see them (`None`: not at all).
pub(crate) async fn render(state: &AppState, access: &Access, person: &Person) -> Result<Option<PersonView>> {
    let ties = state.store.ties(&[person.id]).await?;
    render_tied(state, access, person, &ties).await
}

/// [`render`], with the person's memberships already read.
pub(crate) async fn render_tied(
    state: &AppState,
    access: &Access,
    person: &Person,
    ties: &[Tie],
) -> Result<Option<PersonView>> {
    let Some(kind) = view_of(access, person.id, ties) else { return Ok(None) };
    let affiliations = affiliations(ties, person.id, state.today());
    let mut view = match kind {
        PersonViewKind::Full => PersonView::full(person, Some(affiliations)),
        PersonViewKind::Network => PersonView::network(person, affiliations),
    };
    add_own_refs(state, access, std::slice::from_mut(&mut view)).await?;
    Ok(Some(view))
}

fn access_of(caller: &Caller) -> Result<Access> {
    let access = Access::of(caller);
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

/// 404 unless the organisation exists.
/// The organisation exists, else `404`.
async fn organisation_for(state: &AppState, id: Uuid) -> Result<()> {
    // Organisations are public in the network: another organisation's client learns it
    // exists (403 from the check that follows), as on every other organisation endpoint.
    state
        .store
        .get_organisation(id)
        .await
        .or_not_found(|| ApiError::not_found(format!("No organisation with id {id}.")))?;
    Ok(())
}

/// The organisation exists (else `404`) and the caller manages its people (else `403`,
/// saying `why`).
async fn managed_organisation(state: &AppState, access: &Access, id: Uuid, why: &str) -> Result<()> {
    organisation_for(state, id).await?;
    if !access.manages(id) {
        return Err(ApiError::Forbidden(why.into()));
    }
    Ok(())
}
