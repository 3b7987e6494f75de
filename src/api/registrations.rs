//! Registrations for events: a member registers themself, an organisation's admin (or its
//! integration client with `registrations:write`) registers its members. Seats are never
//! handed out twice; a cancelled seat goes to the first on the waitlist at once. The
//! organisers check people in and record no-shows.

use crate::api::Routes;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::events::visible_event;
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::rights::Scope;
use crate::db::StoreError;
use crate::db::events::{CreatedSort, RegisterError};
use crate::db::feed::feed_resource;
use crate::domain::event::{Event, Registration, RegistrationStatus};
use crate::error::{ApiError, Problem, Result};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageRequest, respond_page};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(register)
        .service(list_event_registrations)
        .service(list_my_registrations)
        .service(get_registration)
        .service(cancel_registration)
        .service(check_in)
        .service(mark_no_show);
}

/// A person's registration for an event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d31",
    "event_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d21",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "person_name": "Mira Peeters",
    "status": "waitlisted",
    "waitlist_position": 3,
    "organisation_id": null,
    "checked_in_at": null,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "version": 1
}))]
pub struct RegistrationView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub person_id: Uuid,
    pub person_name: String,
    pub status: RegistrationStatus,
    /// 1-based place on the waitlist when `waitlisted` (as of this response), else `null`.
    pub waitlist_position: Option<i64>,
    /// The organisation that registered the person; `null` when they registered themself.
    pub organisation_id: Option<Uuid>,
    /// When the organiser checked the person in.
    pub checked_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change of status.
    pub version: i64,
}

impl From<&Registration> for RegistrationView {
    fn from(r: &Registration) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            person_id: r.person_id,
            person_name: r.person_name.clone(),
            status: r.status,
            waitlist_position: r.waitlist_position,
            organisation_id: r.organisation_id,
            checked_in_at: r.checked_in_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

feed_resource!(Registration, Registration, |r| RegistrationView::from(r));

/// Whom to register.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41"}))]
pub struct NewRegistration {
    /// The person to register; leave out to register yourself. Admins register members of
    /// their organisations; integration clients (with `registrations:write`) members of
    /// theirs.
    pub person_id: Option<Uuid>,
}

/// A page of registrations.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegistrationListQuery {
    /// Only registrations in this status.
    pub status: Option<RegistrationStatus>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

fn no_registration(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No registration with id {id}."))
}

/// A registration and its event, if the caller may see them (else 404).
async fn visible_registration(state: &AppState, access: &Access, id: Uuid) -> Result<(Registration, Event)> {
    let reg = state.store.get_registration(id).await.map_err(|e| match e {
        StoreError::NotFound => no_registration(id),
        other => other.into(),
    })?;
    let event = state.store.get_event(reg.event_id).await?;
    policy::check(
        Some(access),
        Action::Read,
        &Object::registration(&reg, &event.organisers()),
        || no_registration(id),
        "",
    )?;
    Ok((reg, event))
}

fn conflict(e: StoreError, id: Uuid) -> ApiError {
    match e {
        StoreError::NotFound => no_registration(id),
        other => other.into(),
    }
}

/// Register for an event
///
/// Registers you (or, for admins and integration clients, a member of your organisation)
/// for a published event while its registration window is open. You get a seat while
/// there is one (`confirmed`), else a place on the waitlist (`waitlisted`) in order of
/// arrival. Seats are never handed out twice, however many requests arrive at once on
/// however many service instances. One active registration per person per event: a second
/// answers `409` with the first in `Location`.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "register",
    params(("id" = Uuid, Path, description = "The event's id")),
    request_body = NewRegistration,
    responses(
        (status = 201, description = "Registered: `confirmed` or `waitlisted`.", body = RegistrationView,
            headers(("Location" = String, description = "The registration's URL"))),
        (status = 403, description = "You may not register this person.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or (at `/person_id`) no such member of your organisations.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Registration is closed (not published, outside the window) or the person is already registered.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/events/{id}/registrations")]
async fn register(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewRegistration>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let event_id = id.into_inner();
    let access = Access::of(&caller);
    // Whether the caller may see the event is decided with the answer (a draft is 404 for
    // those who do not run it), saving a read on this busy path.
    if let Access::Client { .. } = access {
        caller.require_scope(Scope::RegistrationsWrite)?;
    }
    let person = match (body.0.person_id, access.person_id()) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => {
            return Err(crate::domain::Invalid::one("/person_id", "an integration client names the person").into());
        }
    };
    let unknown_person = || ApiError::MissingReference {
        detail: format!("No member of your organisations with id {person}."),
        pointer: "/person_id".into(),
    };
    let organisation = match &access {
        _ if access.person_id() == Some(person) => None,
        Access::Facilitator { .. } => {
            state.store.get_person(person).await.map_err(|e| match e {
                StoreError::NotFound => unknown_person(),
                other => other.into(),
            })?;
            None
        }
        Access::Person { .. } | Access::Client { organisation_id: Some(_), .. } => {
            let orgs: Vec<Uuid> = match &access {
                Access::Client { organisation_id, .. } => organisation_id.iter().copied().collect(),
                Access::Person { admin_of, .. } => admin_of.clone(),
                Access::Facilitator { .. } => vec![],
            };
            let memberships = state.store.affiliations(&[person], state.today()).await?;
            let org = memberships.iter().map(|(_, org, _)| *org).find(|o| orgs.contains(o));
            Some(org.ok_or_else(unknown_person)?)
        }
        Access::Client { .. } => return Err(unknown_person()),
    };
    let reg = match state.store.register(event_id, person, organisation).await {
        Ok((reg, _)) => reg,
        Err(RegisterError::Closed { event, .. })
            if !event.status.is_public() && !access.runs_event(&event.organisers()) =>
        {
            return Err(ApiError::not_found(format!("No event with id {event_id}.")));
        }
        Err(RegisterError::Closed { reason, .. }) => {
            return Err(ApiError::conflict(format!("Registration is closed: {reason}."), None));
        }
        Err(RegisterError::AlreadyRegistered(existing)) => {
            let mut res = ApiError::conflict(
                format!("This person is already registered for this event: /v1/registrations/{existing}."),
                None,
            )
            .error_response();
            if let Ok(v) = header::HeaderValue::from_str(&format!("/v1/registrations/{existing}")) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            return Ok(res);
        }
        Err(RegisterError::Store(StoreError::NotFound)) => {
            return Err(ApiError::not_found(format!("No event with id {event_id}.")));
        }
        Err(RegisterError::Store(other)) => return Err(other.into()),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/registrations/{}", reg.id)))
        .json(RegistrationView::from(&reg)))
}

/// List an event's registrations
///
/// The organisers (and facilitators) see every registration; others see the ones they may
/// see (their own, those their organisation made). In order of arrival.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "list_event_registrations",
    params(("id" = Uuid, Path, description = "The event's id"), RegistrationListQuery),
    responses((status = 200, description = "A page of registrations.", body = ListResponse<RegistrationView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/events/{id}/registrations")]
async fn list_event_registrations(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<RegistrationListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let event_id = id.into_inner();
    let access = Access::of(&caller);
    let event = visible_event(&state, Some(&access), event_id).await?;
    let visible_to = match &access {
        a if a.runs_event(&event.organisers()) => None,
        Access::Person { id, admin_of } => Some((*id, admin_of.clone())),
        Access::Client { organisation_id, .. } => {
            caller.require_scope(Scope::RegistrationsWrite)?;
            Some((Uuid::nil(), organisation_id.iter().copied().collect()))
        }
        Access::Facilitator { .. } => None,
    };
    let query = query.into_inner();
    let page_req = PageRequest::<CreatedSort>::parse(
        &state.cursors,
        format!("registrations?event={event_id}&status={:?}", query.status),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page = state
        .store
        .list_registrations(Some(event_id), None, visible_to, query.status, page_req.after.as_ref(), page_req.limit)
        .await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |r| RegistrationView::from(&r)))
}

/// List my registrations
///
/// Your own registrations for events, oldest first.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "list_my_registrations",
    params(RegistrationListQuery),
    responses(
        (status = 200, description = "A page of your registrations.", body = ListResponse<RegistrationView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "Integration clients have no registrations of their own.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/registrations")]
async fn list_my_registrations(
    req: HttpRequest,
    caller: Caller,
    query: web::Query<RegistrationListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let me = caller.person_id().ok_or_else(|| ApiError::Forbidden("Only people have registrations.".into()))?;
    let query = query.into_inner();
    let page_req = PageRequest::<CreatedSort>::parse(
        &state.cursors,
        format!("my-registrations?person={me}&status={:?}", query.status),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page = state
        .store
        .list_registrations(None, Some(me), None, query.status, page_req.after.as_ref(), page_req.limit)
        .await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |r| RegistrationView::from(&r)))
}

/// Get a registration
///
/// For the person, the event's organisers, the organisation that registered the person,
/// and facilitators.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "get_registration",
    params(("id" = Uuid, Path, description = "The registration's id")),
    responses((status = 200, description = "The registration.", body = RegistrationView))
)]
#[get("/v1/registrations/{id}")]
async fn get_registration(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let (reg, _) = visible_registration(&state, &access, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(RegistrationView::from(&reg)))
}

/// Cancel a registration
///
/// Gives up a seat or a place on the waitlist. A freed seat goes at once to the first
/// person on the waitlist. Cancelling a cancelled registration changes nothing (`200`).
/// For the person, the organisation that registered them, the organisers and facilitators.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "cancel_registration",
    params(("id" = Uuid, Path, description = "The registration's id")),
    responses(
        (status = 200, description = "Cancelled (or it already was).", body = RegistrationView),
        (status = 403, description = "Integration clients need `registrations:write`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Attendance was already recorded.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/registrations/{id}/cancel")]
async fn cancel_registration(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    visible_registration(&state, &access, id).await?;
    let (reg, _) = state.store.cancel_registration(id).await.map_err(|e| conflict(e, id))?;
    Ok(HttpResponse::Ok().json(RegistrationView::from(&reg)))
}

async fn attendance(caller: Caller, id: Uuid, state: &AppState, status: RegistrationStatus) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let (_, event) = visible_registration(state, &access, id).await?;
    if !access.runs_event(&event.organisers()) {
        return Err(ApiError::Forbidden("Only the event's organisers record attendance.".into()));
    }
    let (reg, _) = state.store.record_attendance(id, status).await.map_err(|e| conflict(e, id))?;
    Ok(HttpResponse::Ok().json(RegistrationView::from(&reg)))
}

/// Check a participant in
///
/// Records that the person attended (from 24 hours before the start). Checking in twice
/// is not an error and changes nothing. A no-show who turns up after all can be checked in.
/// The event's organisers and facilitators.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "check_in",
    params(("id" = Uuid, Path, description = "The registration's id")),
    responses(
        (status = 200, description = "Checked in (or already was).", body = RegistrationView),
        (status = 403, description = "Only the organisers record attendance.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The registration holds no seat, the event is not running, or check-in has not opened.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/registrations/{id}/check-in")]
async fn check_in(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    attendance(caller, id.into_inner(), &state, RegistrationStatus::Attended).await
}

/// Mark a no-show
///
/// Records that a confirmed participant did not come (once the event has started).
/// Marking twice changes nothing. The event's organisers and facilitators.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "mark_no_show",
    params(("id" = Uuid, Path, description = "The registration's id")),
    responses(
        (status = 200, description = "Marked (or already was).", body = RegistrationView),
        (status = 403, description = "Only the organisers record attendance.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The registration holds no seat, or the event has not started.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/registrations/{id}/no-show")]
async fn mark_no_show(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    attendance(caller, id.into_inner(), &state, RegistrationStatus::NoShow).await
}
