//! The person's rights under the GDPR: a copy of everything the service holds about them
//! (articles 15 and 20), and erasure (article 17).

use crate::api::Routes;
use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::challenges::ChallengeView;
use crate::api::comments::CommentView;
use crate::api::commitments::CommitmentView;
use crate::api::learning_records::RecordView;
use crate::api::people::{MembershipView, PersonView, render};
use crate::api::registrations::RegistrationView;
use crate::api::solutions::{EndorsementView, SolutionView};
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::db::StoreError;
use crate::db::learning::RecordFilter;
use crate::error::{ApiError, Problem, Result};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(export_me).service(erase_me);
}

/// Everything the service holds about one person.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "exported_at": "2027-03-01T10:00:00Z",
    "person": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41", "view": "full", "name": "Sofie Peeters",
        "email": "sofie@example.be", "stakeholder_group": "employee", "birth_year": 1971, "age_band": null,
        "languages": ["nl"], "role": "member", "organisations": [], "created_at": "2026-11-27T09:00:00Z",
        "updated_at": "2026-11-27T09:00:00Z", "version": 1},
    "memberships": [], "registrations": [], "commitments": [], "learning_records": [],
    "authored_solutions": [], "challenges": [], "comments": [], "endorsements": [],
    "insights": {"counted_in_insights": true},
    "external_references": [{"organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "resource_type": "person",
        "resource_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41", "system": "sdworx", "external_id": "E-10442"}],
    "identity_providers": []
}))]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    /// The profile, as the person reads it.
    pub person: PersonView,
    /// Every membership, current and past.
    pub memberships: Vec<MembershipView>,
    /// Every registration for an event, cancelled ones included.
    pub registrations: Vec<RegistrationView>,
    /// Every commitment, shared or not.
    pub commitments: Vec<CommitmentView>,
    /// Every learning record, whatever its visibility.
    pub learning_records: Vec<RecordView>,
    /// The solutions you co-author, drafts included.
    pub authored_solutions: Vec<SolutionView>,
    /// The challenges you brought.
    pub challenges: Vec<ChallengeView>,
    /// Your comments, hidden ones included.
    pub comments: Vec<CommentView>,
    /// Your endorsements.
    pub endorsements: Vec<EndorsementView>,
    /// The ids organisations' systems (HR, partners) keep for you, your memberships and the
    /// synced learning records you deleted.
    pub external_references: Vec<ExternalReferenceView>,
    /// Whether your learning records count, anonymously, in the network's figures for
    /// policy (change it with `PUT /v1/me/insights-consent`).
    pub insights: crate::api::insights::InsightsConsent,
    /// What organisations' identity providers keep about you over SCIM: your sign-in name
    /// there, name parts, language, addresses, employee number, department, manager and
    /// groups.
    pub identity_providers: Vec<IdentityProviderView>,
}

/// What one organisation's identity provider keeps about you (SCIM).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "user_name": "sofie.peeters@zorgnetkempen.example",
    "attributes": {"displayName": "Sofie Peeters", "department": "Thuiszorg", "employeeNumber": "2107"},
    "groups": ["Zorgteam Geel"], "created_at": "2026-11-27T09:00:00Z", "updated_at": "2026-11-27T09:00:00Z"}))]
pub struct IdentityProviderView {
    pub organisation_id: Uuid,
    /// Your sign-in name in the organisation's directory.
    pub user_name: String,
    /// The rest it keeps, by their SCIM names.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// The organisation's groups (teams, departments) you are in.
    pub groups: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An id an organisation's system keeps for you or something of yours.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "resource_type": "membership",
    "resource_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "system": "sdworx", "external_id": "C-2019-044"}))]
pub struct ExternalReferenceView {
    /// The organisation whose system uses the reference.
    pub organisation_id: Uuid,
    /// `person`, `membership`, or `learning_record` (a synced record you deleted).
    #[schema(example = "person")]
    pub resource_type: String,
    /// What it names; `null` for a record you deleted (its id is kept so that the sync
    /// cannot bring it back).
    pub resource_id: Option<Uuid>,
    /// The organisation's system.
    #[schema(example = "sdworx")]
    pub system: String,
    /// The id in that system.
    #[schema(example = "E-10442")]
    pub external_id: String,
}

const PAGE: usize = 500;

/// 403 for an integration client: what follows is about a person's own data.
pub(crate) fn people_only(caller: &Caller) -> Result<Uuid> {
    caller.person_id().ok_or_else(|| ApiError::Forbidden("Only people have personal data here.".into()))
}

/// The caller's own account was not found: it was erased after the token was issued (401).
/// Other storage errors keep their own answer (503 for an outage).
pub(crate) fn account_gone(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::Unauthorized("The account behind this token no longer exists.".into()),
        other => other.into(),
    }
}

/// Export my data
///
/// Everything the service holds about you, as one JSON document (GDPR articles 15 and
/// 20): your profile, memberships, registrations, commitments and learning records, private
/// ones included, the solutions, challenges, comments and endorsements you wrote, and the ids
/// organisations' systems keep for you. Your password is never part of it.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "export_me",
    responses(
        (status = 200, description = "Your data.", body = PersonalData),
        (status = 403, description = "Integration clients are not people.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/export")]
async fn export_me(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
    let me = people_only(&caller)?;
    let access = Access::of(&caller);
    let person = state.store.get_person(me).await.map_err(account_gone)?;
    let mut person = render(&state, &access, &person).await?.ok_or_else(|| account_gone(StoreError::NotFound))?;
    // Every reference kept about the person is in `external_references`, whoever keeps it.
    person.external_refs.clear();

    let mut memberships = Vec::new();
    let mut after = None;
    loop {
        let page = state.store.list_memberships(Some(me), None, after.as_ref(), PAGE).await?;
        memberships.extend(page.items.iter().map(MembershipView::from));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut registrations = Vec::new();
    let mut after = None;
    loop {
        let page = state.store.list_registrations(None, Some(me), None, None, after.as_ref(), PAGE).await?;
        registrations.extend(page.items.iter().map(RegistrationView::from));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut commitments = Vec::new();
    let mut after = None;
    loop {
        let page = state.store.list_commitments(None, Some(me), None, after.as_ref(), PAGE).await?;
        commitments.extend(page.items.iter().map(CommitmentView::from));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut learning_records = Vec::new();
    let mut after = None;
    let mine = RecordFilter { person_id: Some(me), ..Default::default() };
    loop {
        let page = state.store.list_records(&mine, None, after.as_ref(), PAGE).await?;
        learning_records.extend(page.items.iter().map(RecordView::from));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let authored = state.store.authored_by(me).await?;
    let membership_ids: Vec<Uuid> = memberships.iter().map(|m| m.id).collect();
    let external_references = state
        .store
        .refs_about(me, &membership_ids)
        .await?
        .into_iter()
        .map(|r| ExternalReferenceView {
            organisation_id: r.organisation_id,
            resource_type: r.resource_type.as_str().to_string(),
            resource_id: r.resource_id,
            system: r.reference.system,
            external_id: r.reference.id,
        })
        .collect();
    let identity_providers = state
        .store
        .scim_records_of(me)
        .await?
        .into_iter()
        .map(|r| IdentityProviderView {
            organisation_id: r.organisation_id,
            user_name: r.user_name,
            attributes: serde_json::to_value(&r.attributes).unwrap_or_default(),
            groups: r.groups,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Disposition", "attachment; filename=\"vov-personal-data.json\""))
        .insert_header(("Cache-Control", "no-store"))
        .json(PersonalData {
            exported_at: crate::db::now(),
            person,
            memberships,
            registrations,
            commitments,
            learning_records,
            authored_solutions: authored.solutions.iter().map(SolutionView::from).collect(),
            challenges: authored.challenges.iter().map(ChallengeView::from).collect(),
            comments: authored.comments.iter().map(|c| CommentView::of(c, Some(&access))).collect(),
            endorsements: authored.endorsements.iter().map(EndorsementView::from).collect(),
            external_references,
            identity_providers,
            insights: crate::api::insights::InsightsConsent {
                counted_in_insights: state.store.counted_in_insights(me).await?,
            },
        }))
}

/// Erase me
///
/// Deletes you from the service (GDPR article 17): your profile and sign-ins, memberships,
/// registrations (a confirmed seat goes to the first on the waitlist), commitments,
/// learning records and endorsements, the ids organisations' systems keep for you, the
/// answers kept for your `Idempotency-Key`s and every other caller's kept answer that named
/// you. The change feed keeps tombstones without personal data, so synced systems delete
/// their copies too; what you wrote for others stays, without your name. Events stay with
/// their organisations. Your access token stops working at once (`401`).
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "erase_me",
    responses(
        (status = 204, description = "Erased."),
        (status = 403, description = "Integration clients are not people.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/me")]
async fn erase_me(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
    let me = people_only(&caller)?;
    state.store.delete_person(me, None).await.map_err(account_gone)?;
    Ok(HttpResponse::NoContent().finish())
}
