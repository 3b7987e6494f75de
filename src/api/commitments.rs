//! Commitments: what a participant will do with what they learned at an event. Private to
//! the owner unless they share it with the organiser or with one of their organisations;
//! the organisers see how many participants made commitments and how many are done.

use crate::api::Routes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::events::visible_event;
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::db::StoreError;
use crate::db::events::{CommitmentSummary, CreatedSort};
use crate::db::feed::feed_resource;
use crate::domain::event::{Commitment, CommitmentContent, CommitmentStatus, Event};
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageRequest, respond_page};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(create_commitment)
        .service(list_event_commitments)
        .service(commitment_summary)
        .service(list_my_commitments)
        .service(get_commitment)
        .service(update_commitment)
        .service(delete_commitment);
}

/// A commitment: what a participant will do with what they learned.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d51",
    "event_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d21",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "text": "Elke maand een leermoment met de vijftigplussers in mijn team plannen.",
    "due_on": "2027-04-30",
    "status": "in_progress",
    "theme": "careers-at-every-age",
    "shared_with_organiser": true,
    "shared_with_organisation": null,
    "learning_record_id": null,
    "created_at": "2027-02-12T08:00:00Z",
    "updated_at": "2027-03-01T10:00:00Z",
    "version": 2
}))]
pub struct CommitmentView {
    pub id: Uuid,
    pub event_id: Uuid,
    /// The participant who made it.
    pub person_id: Uuid,
    pub text: String,
    pub due_on: Option<NaiveDate>,
    pub status: CommitmentStatus,
    /// A theme slug.
    pub theme: Option<String>,
    /// The event's organisers may read it.
    pub shared_with_organiser: bool,
    /// This organisation (one the owner belongs to) may read it.
    pub shared_with_organisation: Option<Uuid>,
    /// The learning record that shows a done commitment (learning records arrive with the
    /// informal-learning log).
    pub learning_record_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; the `ETag` is this number in quotes.
    pub version: i64,
}

impl From<&Commitment> for CommitmentView {
    fn from(c: &Commitment) -> Self {
        Self {
            id: c.id,
            event_id: c.event_id,
            person_id: c.person_id,
            text: c.content.text.clone(),
            due_on: c.content.due_on,
            status: c.content.status,
            theme: c.content.theme.clone(),
            shared_with_organiser: c.content.shared_with_organiser,
            shared_with_organisation: c.content.shared_with_organisation,
            learning_record_id: c.learning_record_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

feed_resource!(Commitment, Commitment, |c| CommitmentView::from(c));

/// A new commitment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "text": "Elke maand een leermoment met de vijftigplussers in mijn team plannen.",
    "due_on": "2027-04-30",
    "theme": "careers-at-every-age",
    "shared_with_organiser": true
}))]
pub struct NewCommitment {
    /// What you will do, 1 to 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub text: String,
    /// By when (years 2000 to 2100).
    pub due_on: Option<NaiveDate>,
    /// Default `planned`.
    pub status: Option<CommitmentStatus>,
    /// A theme slug.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub theme: Option<String>,
    /// Let the event's organisers read it (default no).
    #[serde(default)]
    pub shared_with_organiser: bool,
    /// Let one of your organisations (its admins) read it.
    pub shared_with_organisation: Option<Uuid>,
}

/// Changes to a commitment, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "done"}))]
pub struct CommitmentPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 2000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub text: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<CommitmentStatus>, nullable = false)]
    pub status: Option<Option<CommitmentStatus>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub theme: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<bool>, nullable = false)]
    pub shared_with_organiser: Option<Option<bool>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub shared_with_organisation: Option<Option<Uuid>>,
}

/// How many participants of an event made commitments, and how far they came. Counts
/// only: the commitments themselves stay private unless shared.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "event_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d21",
    "participants": 48, "attended": 44, "participants_with_commitments": 31,
    "commitments": 40, "planned": 12, "in_progress": 15, "done": 11, "dropped": 2
}))]
pub struct CommitmentSummaryView {
    pub event_id: Uuid,
    /// Registrations holding a seat (confirmed, attended, no-show).
    pub participants: i64,
    /// Participants checked in.
    pub attended: i64,
    pub participants_with_commitments: i64,
    pub commitments: i64,
    pub planned: i64,
    pub in_progress: i64,
    pub done: i64,
    pub dropped: i64,
}

impl CommitmentSummaryView {
    fn new(event_id: Uuid, s: CommitmentSummary) -> Self {
        Self {
            event_id,
            participants: s.participants,
            attended: s.attended,
            participants_with_commitments: s.participants_with_commitments,
            commitments: s.commitments,
            planned: s.planned,
            in_progress: s.in_progress,
            done: s.done,
            dropped: s.dropped,
        }
    }
}

/// A page of commitments.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommitmentListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

fn no_commitment(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No commitment with id {id}."))
}

async fn readable(state: &AppState, access: &Access, id: Uuid) -> Result<(Commitment, Event)> {
    let c = state.store.get_commitment(id).await.map_err(|e| match e {
        StoreError::NotFound => no_commitment(id),
        other => other.into(),
    })?;
    let event = state.store.get_event(c.event_id).await?;
    policy::check(Some(access), Action::Read, &Object::commitment(&c, &event.organisers()), || no_commitment(id), "")?;
    Ok((c, event))
}

/// Checks what content names: the theme exists, the organisation is one of the owner's.
async fn check_references(state: &AppState, owner: Uuid, content: &CommitmentContent) -> Result<()> {
    if let Some(theme) = &content.theme
        && !state.store.missing_theme_slugs(std::slice::from_ref(theme)).await?.is_empty()
    {
        return Err(ApiError::MissingReference {
            detail: format!("No theme with slug `{theme}`."),
            pointer: "/theme".into(),
        });
    }
    if let Some(org) = content.shared_with_organisation {
        let mine = state.store.affiliations(&[owner], state.today()).await?;
        if !mine.iter().any(|(_, o, _)| *o == org) {
            return Err(Invalid {
                errors: vec![FieldError::new("/shared_with_organisation", "must be an organisation you belong to")],
            }
            .into());
        }
    }
    Ok(())
}

/// Record a commitment
///
/// What you will do with what you learned at this event. For participants (a confirmed
/// or attended registration). Private unless you share it with the organiser or one of
/// your organisations.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "create_commitment",
    params(("id" = Uuid, Path, description = "The event's id")),
    request_body = NewCommitment,
    responses(
        (status = 201, description = "Recorded.", body = CommitmentView,
            headers(("Location" = String, description = "The commitment's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only the event's participants record commitments.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or (at `/theme`) no such theme.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/events/{id}/commitments")]
async fn create_commitment(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewCommitment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let event_id = id.into_inner();
    let access = Access::of(&caller);
    let event = visible_event(&state, Some(&access), event_id).await?;
    let me = access.person_id().ok_or_else(|| ApiError::Forbidden("Only people make commitments.".into()))?;
    let b = body.0;
    let content = CommitmentContent::parse(
        &b.text,
        b.due_on,
        b.status.unwrap_or(CommitmentStatus::Planned),
        b.theme,
        b.shared_with_organiser,
        b.shared_with_organisation,
    )?;
    check_references(&state, me, &content).await?;
    let c = state.store.create_commitment(&event, me, &content).await?;
    Ok(created(format!("/v1/commitments/{}", c.id), c.version, &CommitmentView::from(&c)))
}

/// List an event's commitments
///
/// The commitments you may read at this event: your own, and those shared with an
/// organisation you administer. Facilitators read no more than anyone else: commitments are
/// their owners' own.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "list_event_commitments",
    params(("id" = Uuid, Path, description = "The event's id"), CommitmentListQuery),
    responses(
        (status = 200, description = "A page of commitments.", body = ListResponse<CommitmentView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "Integration clients do not read commitments.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/events/{id}/commitments")]
async fn list_event_commitments(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<CommitmentListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let event_id = id.into_inner();
    let access = Access::of(&caller);
    visible_event(&state, Some(&access), event_id).await?;
    let viewer = Some(
        policy::commitment_viewer(&access)
            .ok_or_else(|| ApiError::Forbidden("Commitments are people's own.".into()))?,
    );
    let query = query.into_inner();
    let page_req = PageRequest::<CreatedSort>::parse(
        &state.cursors,
        format!("commitments?event={event_id}"),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page =
        state.store.list_commitments(Some(event_id), None, viewer, page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |c| CommitmentView::from(&c)))
}

/// From inspiration to action: an event's commitment counts
///
/// How many participants made commitments and how far they came, for the event's
/// organisers and facilitators. Counts only: commitments that were not shared stay private.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "commitment_summary",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The counts.", body = CommitmentSummaryView),
        (status = 403, description = "Only the organisers see the counts.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/events/{id}/commitment-summary")]
async fn commitment_summary(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let event_id = id.into_inner();
    let access = Access::of(&caller);
    let event = visible_event(&state, Some(&access), event_id).await?;
    if !access.runs_event(&event.organisers()) {
        return Err(ApiError::Forbidden("Only the event's organisers see its commitment counts.".into()));
    }
    let summary = state.store.commitment_summary(event_id).await?;
    Ok(HttpResponse::Ok().json(CommitmentSummaryView::new(event_id, summary)))
}

/// List my commitments
///
/// Your commitments from every event, oldest first.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "list_my_commitments",
    params(CommitmentListQuery),
    responses(
        (status = 200, description = "A page of your commitments.", body = ListResponse<CommitmentView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "Integration clients have no commitments.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/commitments")]
async fn list_my_commitments(
    req: HttpRequest,
    caller: Caller,
    query: web::Query<CommitmentListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let me = caller.person_id().ok_or_else(|| ApiError::Forbidden("Only people have commitments.".into()))?;
    let query = query.into_inner();
    let page_req = PageRequest::<CreatedSort>::parse(
        &state.cursors,
        format!("my-commitments?person={me}"),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page = state.store.list_commitments(None, Some(me), None, page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |c| CommitmentView::from(&c)))
}

/// Get a commitment
///
/// For its owner and the admins of the organisations it is shared with (as the event's
/// organiser or as the owner's organisation); anyone else, facilitators too, gets `404`.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "get_commitment",
    params(("id" = Uuid, Path, description = "The commitment's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The commitment.", body = CommitmentView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/commitments/{id}")]
async fn get_commitment(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let (c, _) = readable(&state, &access, id.into_inner()).await?;
    Ok(respond_tagged(&req, c.version, &CommitmentView::from(&c)))
}

/// Update a commitment
///
/// Changes your commitment with a JSON Merge Patch (RFC 7396): its text, due date, status
/// (planned, in progress, done, dropped), theme, and whom it is shared with. The owner
/// only. Send `If-Match` with the ETag you read: a stale one answers `412`.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "update_commitment",
    params(("id" = Uuid, Path, description = "The commitment's id"), IfMatch),
    request_body(content = CommitmentPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = CommitmentView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only the owner changes a commitment.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The commitment changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/commitments/{id}")]
async fn update_commitment(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<CommitmentPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let (current, event) = readable(&state, &access, id).await?;
    let organisers = event.organisers();
    let object = Object::commitment(&current, &organisers);
    policy::check(
        Some(&access),
        Action::Change,
        &object,
        || no_commitment(id),
        "Only the owner changes a commitment.",
    )?;
    let p = body.0;
    let c = &current.content;
    let mut inv = Invalid::default();
    let mut text = c.text.clone();
    let mut status = c.status;
    let mut shared_with_organiser = c.shared_with_organiser;
    inv.required("/text", p.text, &mut text);
    inv.required("/status", p.status, &mut status);
    inv.required("/shared_with_organiser", p.shared_with_organiser, &mut shared_with_organiser);
    inv.finish(|| ())?;
    let content = CommitmentContent::parse(
        &text,
        p.due_on.unwrap_or(c.due_on),
        status,
        p.theme.unwrap_or_else(|| c.theme.clone()),
        shared_with_organiser,
        p.shared_with_organisation.unwrap_or(c.shared_with_organisation),
    )?;
    check_references(&state, current.person_id, &content).await?;
    if_match.check(current.version)?;
    if content == current.content {
        return Ok(tagged(current.version, &CommitmentView::from(&current)));
    }
    let updated = state.store.update_commitment(&current, current.version, &content).await.map_err(|e| match e {
        StoreError::NotFound => no_commitment(id),
        other => other.into(),
    })?;
    Ok(tagged(updated.version, &CommitmentView::from(&updated)))
}

/// Delete a commitment
///
/// The owner removes a commitment (nobody else may: the organisers read only what was
/// shared with them).
#[utoipa::path(
    tag = "Learning events",
    operation_id = "delete_commitment",
    params(("id" = Uuid, Path, description = "The commitment's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only the owner deletes a commitment.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The commitment changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/commitments/{id}")]
async fn delete_commitment(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let (current, event) = readable(&state, &access, id).await?;
    let organisers = event.organisers();
    let object = Object::commitment(&current, &organisers);
    policy::check(
        Some(&access),
        Action::Delete,
        &object,
        || no_commitment(id),
        "Only the owner deletes a commitment.",
    )?;
    let expected = if if_match.is_absent() {
        None
    } else {
        if_match.check(current.version)?;
        Some(current.version)
    };
    state.store.delete_commitment(&current, expected).await.map_err(|e| match e {
        StoreError::NotFound => no_commitment(id),
        other => other.into(),
    })?;
    Ok(HttpResponse::NoContent().finish())
}
