//! Learning events: anyone reads published ones; the organising organisations' admins
//! (and facilitators) create, edit, publish, cancel and complete them. Also as iCalendar.

use crate::api::Routes;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::organisations::ThemeSlug;
use crate::auth::access::Access;
use crate::auth::{Caller, MaybeCaller};
use crate::db::Found;
use crate::db::events::{EventFilter, EventSort};
use crate::db::feed::feed_resource;
use crate::domain::Invalid;
use crate::domain::calendar::CalendarEvent;
use crate::domain::event::{AttendanceMode, Event, EventContent, EventFormat, EventInput, EventStatus, Venue};
use crate::domain::person::StakeholderGroup;
use crate::domain::validation::merge;
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{
    ListResponse, PageRequest, parse_q, renamed, render_page, respond_rendered, sort_schema,
};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub use calendars::*;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(events_calendar)
        .service(list_events)
        .service(create_event)
        .service(get_event)
        .service(event_calendar)
        .service(update_event)
        .service(delete_event);
}

/// A learning event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d21",
    "organiser_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "co_organisers": [],
    "title": "Olijfboomloopbanen: ontwikkelen op elke leeftijd",
    "summary": "Inspiratiesessie over duurzame loopbanen en leren na je vijftigste.",
    "description": "## Programma\n\n- Welkom\n- Getuigenissen uit de zorg",
    "format": "inspiration_session",
    "attendance_mode": "hybrid",
    "starts_at": "2027-02-11T13:00:00Z",
    "ends_at": "2027-02-11T16:00:00Z",
    "time_zone": "Europe/Brussels",
    "venue": {"name": "ICC Gent", "address": "Van Rysselberghedreef 2", "postcode": "9000", "city": "Gent"},
    "online_url": "https://meet.vov.example/olijfboom",
    "capacity": 50,
    "registration_opens_at": null,
    "registration_closes_at": "2027-02-10T23:00:00Z",
    "themes": ["careers-at-every-age"],
    "stakeholder_groups": ["employer_representative", "hr_professional"],
    "language": "nl",
    "status": "published",
    "seats_taken": 50,
    "seats_left": 0,
    "waitlist_length": 4,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:30:00Z",
    "version": 58
}))]
pub struct EventView {
    pub id: Uuid,
    /// The organising organisation.
    pub organiser_id: Uuid,
    /// Organisations that run the event with the organiser.
    pub co_organisers: Vec<Uuid>,
    pub title: String,
    pub summary: Option<String>,
    /// Markdown, exactly as the organiser wrote it. Render it as untrusted text.
    pub description: Option<String>,
    pub format: EventFormat,
    pub attendance_mode: AttendanceMode,
    /// In UTC.
    pub starts_at: DateTime<Utc>,
    /// In UTC.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone for display (and for the calendar feed).
    pub time_zone: String,
    /// For in-person and hybrid events.
    pub venue: Option<Venue>,
    /// For online and hybrid events.
    pub online_url: Option<String>,
    /// Seats; `null` is unlimited.
    pub capacity: Option<i64>,
    /// Registration opens; `null`: as soon as the event is published.
    pub registration_opens_at: Option<DateTime<Utc>>,
    /// Registration closes; `null`: when the event starts.
    pub registration_closes_at: Option<DateTime<Utc>>,
    /// Theme slugs.
    pub themes: Vec<String>,
    /// The stakeholder groups the event is meant for.
    pub stakeholder_groups: Vec<StakeholderGroup>,
    /// ISO 639-1 language of the event.
    pub language: String,
    pub status: EventStatus,
    /// Registrations holding a seat (confirmed, attended, no-show).
    pub seats_taken: i64,
    /// `null` when capacity is unlimited.
    pub seats_left: Option<i64>,
    pub waitlist_length: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change, also when seats are taken or freed; the `ETag` is
    /// this number in quotes.
    pub version: i64,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        let c = &e.content;
        Self {
            id: e.id,
            organiser_id: e.organiser_id,
            co_organisers: c.co_organisers.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            format: c.format,
            attendance_mode: c.attendance_mode,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            time_zone: c.time_zone.clone(),
            venue: c.venue.clone(),
            online_url: c.online_url.clone(),
            capacity: c.capacity,
            registration_opens_at: c.registration_opens_at,
            registration_closes_at: c.registration_closes_at,
            themes: c.themes.clone(),
            stakeholder_groups: c.stakeholder_groups.clone(),
            language: c.language.clone(),
            status: e.status,
            seats_taken: e.seats.taken,
            seats_left: e.seats_left(),
            waitlist_length: e.seats.waitlist,
            created_at: e.created_at,
            updated_at: e.updated_at,
            version: e.version,
        }
    }
}

feed_resource!(Event, Event, |e| EventView::from(e));

/// A new event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organiser_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "title": "Olijfboomloopbanen: ontwikkelen op elke leeftijd",
    "summary": "Inspiratiesessie over duurzame loopbanen en leren na je vijftigste.",
    "format": "inspiration_session",
    "attendance_mode": "in_person",
    "starts_at": "2027-02-11T14:00:00+01:00",
    "ends_at": "2027-02-11T17:00:00+01:00",
    "time_zone": "Europe/Brussels",
    "venue": {"name": "ICC Gent", "address": "Van Rysselberghedreef 2", "postcode": "9000", "city": "Gent"},
    "capacity": 50,
    "themes": ["careers-at-every-age"],
    "stakeholder_groups": ["employer_representative", "hr_professional"],
    "status": "published"
}))]
pub struct NewEvent {
    /// The organising organisation: one you administer (facilitators: any).
    pub organiser_id: Uuid,
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    /// Plain text, up to 1,000 characters.
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub summary: Option<String>,
    /// Markdown, up to 20,000 characters; stored as given, never rendered or executed.
    #[schema(max_length = 20000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<String>,
    pub format: EventFormat,
    pub attendance_mode: AttendanceMode,
    /// RFC 3339 with an offset (`2027-02-11T14:00:00+01:00`); stored in UTC, to the second.
    /// Years 2000 to 2100.
    pub starts_at: DateTime<FixedOffset>,
    /// After `starts_at`, at most 31 days later.
    pub ends_at: DateTime<FixedOffset>,
    /// IANA time zone name.
    #[schema(example = "Europe/Brussels", min_length = 1, max_length = 64)]
    pub time_zone: String,
    /// Required for `in_person` and `hybrid`; not for `online`.
    pub venue: Option<Venue>,
    /// An http(s) URL; required for `online` and `hybrid`, not for `in_person`.
    #[schema(
        max_length = 500,
        pattern = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$"
    )]
    pub online_url: Option<String>,
    /// Seats, 1 to 100,000; leave out for unlimited.
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100000)]
    pub capacity: Option<i32>,
    /// When registration opens (default: at publication).
    pub registration_opens_at: Option<DateTime<FixedOffset>>,
    /// When registration closes (default: at the start); not after `ends_at`.
    pub registration_closes_at: Option<DateTime<FixedOffset>>,
    /// Organisations that run the event with you (at most 10); their admins manage it too.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub co_organisers: Vec<Uuid>,
    /// Slugs of existing themes, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<ThemeSlug>,
    /// Who the event is meant for.
    #[serde(default)]
    #[schema(max_items = 6)]
    pub stakeholder_groups: Vec<StakeholderGroup>,
    /// ISO 639-1 language code (default `nl`).
    #[schema(pattern = "^[a-z]{2}$", example = "nl")]
    pub language: Option<String>,
    /// `draft` (default) or `published`.
    pub status: Option<EventStatus>,
}

/// Changes to an event, as a JSON Merge Patch (RFC 7396): members present are replaced;
/// `null` removes an optional member. `status` moves the event along its life cycle.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "published", "capacity": 60}))]
pub struct EventPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<EventFormat>, nullable = false)]
    pub format: Option<Option<EventFormat>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<AttendanceMode>, nullable = false)]
    pub attendance_mode: Option<Option<AttendanceMode>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<DateTime<FixedOffset>>, nullable = false)]
    pub starts_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<DateTime<FixedOffset>>, nullable = false)]
    pub ends_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 64)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Venue>)]
    pub venue: Option<Option<Venue>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$")]
    pub online_url: Option<Option<String>>,
    /// `null` makes it unlimited. Below the seats taken is refused (409).
    #[serde(default, deserialize_with = "crate::http::json::nullable_whole")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100000)]
    pub capacity: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    pub registration_opens_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<DateTime<FixedOffset>>)]
    pub registration_closes_at: Option<Option<DateTime<FixedOffset>>>,
    /// Only the organiser's admins (and facilitators) change the co-organisers.
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<Uuid>>, nullable = false, max_items = 10)]
    pub co_organisers: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<ThemeSlug>>, nullable = false, max_items = 20)]
    pub themes: Option<Option<Vec<ThemeSlug>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<StakeholderGroup>>, nullable = false, max_items = 6)]
    pub stakeholder_groups: Option<Option<Vec<StakeholderGroup>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, pattern = "^[a-z]{2}$")]
    pub language: Option<Option<String>>,
    /// `draft` → `published` or `cancelled`; `published` → `cancelled`, or `completed`
    /// once the event has ended. Other moves are refused (409).
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<EventStatus>, nullable = false)]
    pub status: Option<Option<EventStatus>>,
}

fn utc(t: DateTime<FixedOffset>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

impl EventPatch {
    fn apply(
        self,
        mut input: EventInput,
        mut status: EventStatus,
    ) -> std::result::Result<(EventInput, EventStatus), Invalid> {
        let mut inv = Invalid::default();
        inv.required("/title", self.title, &mut input.title);
        inv.required("/format", self.format, &mut input.format);
        inv.required("/attendance_mode", self.attendance_mode, &mut input.attendance_mode);
        inv.required("/starts_at", self.starts_at.map(|t| t.map(utc)), &mut input.starts_at);
        inv.required("/ends_at", self.ends_at.map(|t| t.map(utc)), &mut input.ends_at);
        inv.required("/time_zone", self.time_zone, &mut input.time_zone);
        inv.required("/co_organisers", self.co_organisers, &mut input.co_organisers);
        inv.required(
            "/themes",
            self.themes.map(|t| t.map(|v| v.into_iter().map(|s| s.0).collect())),
            &mut input.themes,
        );
        inv.required("/stakeholder_groups", self.stakeholder_groups, &mut input.stakeholder_groups);
        inv.required("/language", self.language, &mut input.language);
        inv.required("/status", self.status, &mut status);
        merge(self.summary, &mut input.summary);
        merge(self.description, &mut input.description);
        merge(self.venue, &mut input.venue);
        merge(self.online_url, &mut input.online_url);
        if let Some(v) = self.capacity {
            input.capacity = v.map(i64::from);
        }
        if let Some(v) = self.registration_opens_at {
            input.registration_opens_at = v.map(utc);
        }
        if let Some(v) = self.registration_closes_at {
            input.registration_closes_at = v.map(utc);
        }
        inv.finish(|| (input, status))
    }
}

/// Validates content and checks that what it names exists.
async fn validated(state: &AppState, input: EventInput, organiser: Uuid) -> Result<EventContent> {
    let content = EventContent::parse(input, organiser)?;
    let missing = state.store.missing_theme_slugs(&content.themes).await?;
    if let Some(first) = missing.first() {
        let index = content.themes.iter().position(|t| t == first).unwrap_or(0);
        return Err(ApiError::MissingReference {
            detail: format!("No theme with slug `{first}`."),
            pointer: format!("/themes/{index}"),
        });
    }
    let missing = state.store.missing_organisations(&content.co_organisers).await?;
    if let Some(first) = missing.first() {
        let index = content.co_organisers.iter().position(|o| o == first).unwrap_or(0);
        return Err(ApiError::MissingReference {
            detail: format!("No organisation with id {first}."),
            pointer: format!("/co_organisers/{index}"),
        });
    }
    Ok(content)
}

fn no_event(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No event with id {id}."))
}

/// The caller's reach, for a request that may be anonymous.
pub fn access_of(caller: &MaybeCaller) -> Option<Access> {
    caller.0.as_ref().map(Access::of)
}

/// An event the caller may see: drafts only for those who run them; others get 404.
pub async fn visible_event(state: &AppState, access: Option<&Access>, id: Uuid) -> Result<Event> {
    let event = state.store.get_event(id).await.or_not_found(|| no_event(id))?;
    let organisers = event.organisers();
    policy::check(access, Action::Read, &Object::event(&organisers, &event), || no_event(id), "")?;
    Ok(event)
}

/// Filters, sort and page of the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Only events starting at or after this time (RFC 3339). For example `2027-01-01T00:00:00+01:00`.
    pub starts_after: Option<DateTime<FixedOffset>>,
    /// Only events starting before this time (RFC 3339). For example `2027-07-01T00:00:00+02:00`.
    pub starts_before: Option<DateTime<FixedOffset>>,
    /// Only events with this theme (slug). For example `informal-learning`.
    #[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub theme: Option<String>,
    pub format: Option<EventFormat>,
    pub attendance_mode: Option<AttendanceMode>,
    /// Only events this organisation organises or co-organises.
    pub organiser_id: Option<Uuid>,
    /// Only events meant for this stakeholder group.
    pub stakeholder_group: Option<StakeholderGroup>,
    /// Only events in this status (drafts: only those you run).
    pub status: Option<EventStatus>,
    /// Words in the title, summary or venue; case and accents are ignored. For example `loopbaan`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Sort field; prefix `-` for descending. Default `starts_at`.
    #[param(schema_with = event_sort_schema)]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
    /// The old name of `attendance_mode`.
    #[deprecated = "use `attendance_mode`"]
    pub mode: Option<AttendanceMode>,
    /// The old name of `organiser_id`.
    #[deprecated = "use `organiser_id`"]
    pub organiser: Option<Uuid>,
}

fn event_sort_schema() -> utoipa::openapi::Object {
    sort_schema::<EventSort>()
}

fn theme_filter(theme: Option<String>) -> Result<Option<String>> {
    theme
        .map(|t| {
            crate::domain::theme::Slug::parse(&t)
                .map(|s| s.as_str().to_string())
                .map_err(|e| ApiError::BadRequest(format!("`theme` {e}.")))
        })
        .transpose()
}

/// List events
///
/// Published, cancelled and completed events for everyone (also without a token); drafts
/// too for the admins of the organisations that run them. Filter by start time, theme,
/// format, attendance mode, organiser, stakeholder group, status and `q`; sorted by start
/// by default.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "list_events",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(EventListQuery),
    responses((status = 200, description = "A page of events.", body = ListResponse<EventView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/events")]
#[allow(deprecated)] // reads the old filter names too
async fn list_events(
    req: HttpRequest,
    caller: MaybeCaller,
    query: web::Query<EventListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let access = access_of(&caller);
    let filter = EventFilter {
        drafts_of: access.as_ref().map_or(Some(vec![]), Access::draft_events_of),
        starts_after: query.starts_after.map(utc),
        starts_before: query.starts_before.map(utc),
        theme: theme_filter(query.theme)?,
        format: query.format,
        mode: renamed(query.attendance_mode, query.mode),
        organiser: renamed(query.organiser_id, query.organiser),
        stakeholder_group: query.stakeholder_group,
        status: query.status,
        q: parse_q(query.q.as_deref(), 200)?,
    };
    let page_req = PageRequest::<EventSort>::parse(
        &state.cursors,
        format!("events?{filter:?}"),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    // Front ends ask for the same pages over and over; a page is rendered once per feed
    // position (every event change moves it, on every instance) and served from memory
    // until then. The key holds the filters, the drafts the caller may see, sort and page.
    let key = format!("{}&limit={}&after={:?}", page_req.query, page_req.limit, page_req.after);
    let position = state.store.feed_position().await?;
    if let Some(page) = state.event_pages.get(&key, position) {
        return Ok(respond_rendered(&req, &page));
    }
    let page = state.store.list_events(&filter, page_req.sort, page_req.after.as_ref(), page_req.limit).await?;
    let rendered = render_page(&state.cursors, &page_req, page, |e| EventView::from(&e));
    let res = respond_rendered(&req, &rendered);
    state.event_pages.put(key, position, rendered);
    Ok(res)
}

/// Create an event
///
/// Adds an event for an organisation you administer (facilitators: any), as a `draft`
/// unless `status` says `published`.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "create_event",
    request_body = NewEvent,
    responses(
        (status = 201, description = "Created.", body = EventView,
            headers(("Location" = String, description = "The new event's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "You do not administer the organiser.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The organiser, a co-organiser or a theme does not exist (`errors` points at it).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/events")]
async fn create_event(caller: Caller, body: Json<NewEvent>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let b = body.0;
    if !state.store.missing_organisations(&[b.organiser_id]).await?.is_empty() {
        return Err(ApiError::MissingReference {
            detail: format!("No organisation with id {}.", b.organiser_id),
            pointer: "/organiser_id".into(),
        });
    }
    if !access.runs_event(&[b.organiser_id]) {
        return Err(ApiError::Forbidden("Only admins of the organiser (and facilitators) add its events.".into()));
    }
    let status = b.status.unwrap_or(EventStatus::Draft);
    if !matches!(status, EventStatus::Draft | EventStatus::Published) {
        return Err(Invalid::one("/status", "a new event is a `draft` or `published`").into());
    }
    let input = EventInput {
        title: b.title,
        summary: b.summary,
        description: b.description,
        format: b.format,
        attendance_mode: b.attendance_mode,
        starts_at: utc(b.starts_at),
        ends_at: utc(b.ends_at),
        time_zone: b.time_zone,
        venue: b.venue,
        online_url: b.online_url,
        capacity: b.capacity.map(i64::from),
        registration_opens_at: b.registration_opens_at.map(utc),
        registration_closes_at: b.registration_closes_at.map(utc),
        co_organisers: b.co_organisers,
        themes: b.themes.into_iter().map(|t| t.0).collect(),
        stakeholder_groups: b.stakeholder_groups,
        language: b.language.unwrap_or_else(|| "nl".into()),
    };
    let content = validated(&state, input, b.organiser_id).await?;
    let event = state.store.create_event(b.organiser_id, &content, status).await?;
    Ok(created(format!("/v1/events/{}", event.id), event.version, &EventView::from(&event)))
}

/// Get an event
///
/// One event with its seat counts and `ETag`; `If-None-Match` gives `304` while it is
/// unchanged. Drafts only for those who run them (others get 404).
#[utoipa::path(
    tag = "Learning events",
    operation_id = "get_event",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The event's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The event.", body = EventView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/events/{id}")]
async fn get_event(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller);
    let event = visible_event(&state, access.as_ref(), id.into_inner()).await?;
    Ok(respond_tagged(&req, event.version, &EventView::from(&event)))
}

/// Update an event
///
/// Changes an event with a JSON Merge Patch (RFC 7396), including its `status`; cancelling
/// it cancels its confirmed and waitlisted registrations in the same step. Admins of the
/// organiser and co-organisers, and facilitators. Send `If-Match` with the ETag you
/// read (seat changes move the version too): a stale one answers `412`. A capacity below
/// the seats taken is refused (409); a larger one gives seats to the waitlist at once.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "update_event",
    params(("id" = Uuid, Path, description = "The event's id"), IfMatch),
    request_body(content = EventPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = EventView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "You do not run this event, or only the organiser changes co-organisers.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A status change that is not allowed, or a capacity below the seats taken.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The event changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/events/{id}")]
async fn update_event(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<EventPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = visible_event(&state, Some(&access), id).await?;
    let (organisers, why) = (current.organisers(), "Only the admins of the organising organisations edit an event.");
    policy::check(Some(&access), Action::Change, &Object::event(&organisers, &current), || no_event(id), why)?;
    let patch = body.0;
    if patch.co_organisers.is_some() && !access.runs_event(&[current.organiser_id]) {
        return Err(ApiError::Forbidden("Only the organiser's admins change the co-organisers.".into()));
    }
    let (input, status) = patch.apply(current.content.to_input(), current.status)?;
    let content = validated(&state, input, current.organiser_id).await?;
    if_match.check(current.version)?;
    if content == current.content && status == current.status {
        return Ok(tagged(current.version, &EventView::from(&current)));
    }
    let event = state.store.update_event(id, current.version, &content, status).await.or_not_found(|| no_event(id))?;
    Ok(tagged(event.version, &EventView::from(&event)))
}

/// Delete a draft event
///
/// Removes an event that was never published. A published event is cancelled instead
/// (`PATCH` with `"status": "cancelled"`), so that its participants and calendars learn of
/// it.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "delete_event",
    params(("id" = Uuid, Path, description = "The event's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "You do not run this event.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is not a draft.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The event changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/events/{id}")]
async fn delete_event(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = visible_event(&state, Some(&access), id).await?;
    let (organisers, why) = (current.organisers(), "Only the admins of the organising organisations delete an event.");
    policy::check(Some(&access), Action::Delete, &Object::event(&organisers, &current), || no_event(id), why)?;
    let expected = if if_match.is_absent() {
        None
    } else {
        if_match.check(current.version)?;
        Some(current.version)
    };
    state.store.delete_event(id, expected).await.or_not_found(|| no_event(id))?;
    Ok(HttpResponse::NoContent().finish())
}

mod calendars;
