//! Calendar feeds (iCalendar) of events.

use super::*;
use crate::domain::calendar;
use crate::http::pagination::{none_match, page_etag, renamed};

/// The media type of calendars.
pub const TEXT_CALENDAR: &str = "text/calendar; charset=utf-8";
/// Most events in one calendar.
pub const CALENDAR_MAX: usize = 500;

/// Filters of the calendar of events.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
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
    pub stakeholder_group: Option<StakeholderGroup>,
    /// Words in the title, summary or venue. For example `loopbaan`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// The old name of `attendance_mode`.
    #[deprecated = "use `attendance_mode`"]
    pub mode: Option<AttendanceMode>,
    /// The old name of `organiser_id`.
    #[deprecated = "use `organiser_id`"]
    pub organiser: Option<Uuid>,
}

/// Renders events as a calendar, with their organisers' names. Answers its `ETag` (a hash of
/// the calendar) and `Last-Modified` (the latest change of what an event in it shows), and
/// `304` for an `If-None-Match` that names the tag. `If-Modified-Since` alone is not enough
/// to answer `304`: an event that leaves the calendar, or an organiser renamed, changes the
/// calendar without moving any event's `LAST-MODIFIED`.
pub(super) async fn calendar_of(
    req: &HttpRequest,
    state: &AppState,
    name: &str,
    events: &[Event],
) -> Result<HttpResponse> {
    let mut organisers: Vec<Uuid> = events.iter().map(|e| e.organiser_id).collect();
    organisers.sort_unstable();
    organisers.dedup();
    let names = state.store.organisation_names(&organisers).await?;
    let locations: Vec<Option<String>> = events
        .iter()
        .map(|e| e.content.venue.as_ref().map(Venue::one_line).or_else(|| e.content.online_url.clone()))
        .collect();
    let entries: Vec<CalendarEvent<'_>> = events
        .iter()
        .zip(locations)
        .map(|(e, location)| CalendarEvent {
            id: e.id,
            title: &e.content.title,
            summary: e.content.summary.as_deref(),
            starts_at: e.content.starts_at,
            ends_at: e.content.ends_at,
            time_zone: &e.content.time_zone,
            location,
            url: e.content.online_url.as_deref(),
            cancelled: e.status == EventStatus::Cancelled,
            sequence: e.calendar_sequence,
            updated_at: e.calendar_updated_at,
            organiser_id: e.organiser_id,
            organiser_name: names.iter().find(|(id, _)| *id == e.organiser_id).map(|(_, n)| n.as_str()),
        })
        .collect();
    let body = calendar::render(name, &entries);
    let tag = page_etag(body.as_bytes());
    let unchanged = none_match(req, &tag);
    let mut res = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, tag)).insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Some(last) = events.iter().map(|e| e.calendar_updated_at).max() {
        res.insert_header(header::LastModified(std::time::SystemTime::from(last).into()));
    }
    Ok(if unchanged { res.finish() } else { res.content_type(TEXT_CALENDAR).body(body) })
}

/// Calendar of events
///
/// The events you may see (published, cancelled and completed ones; no drafts), filtered
/// like the list, as an iCalendar (RFC 5545) feed to subscribe to: at most 500, by start.
/// UIDs are stable, times carry their time zone, cancelled events say `STATUS:CANCELLED`,
/// `ORGANIZER` names the organising organisation. An entry's `SEQUENCE` and `LAST-MODIFIED`
/// move only when what it shows changes (not when a seat is taken). Ask again with
/// `If-None-Match` and the `ETag` you got: `304` while nothing in the calendar changed.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "events_calendar",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(CalendarQuery),
    responses((status = 200, description = "An iCalendar document.", content_type = "text/calendar", body = String,
        example = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//VOV lerend netwerk//Events API//NL\r\n...\r\nEND:VCALENDAR\r\n"))
)]
#[get("/v1/calendar")]
#[allow(deprecated)] // reads the old filter names too
pub(super) async fn events_calendar(
    req: HttpRequest,
    _caller: MaybeCaller,
    query: web::Query<CalendarQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let filter = EventFilter {
        drafts_of: Some(vec![]),
        starts_after: query.starts_after.map(utc),
        starts_before: query.starts_before.map(utc),
        theme: theme_filter(query.theme)?,
        format: query.format,
        mode: renamed(query.attendance_mode, query.mode),
        organiser: renamed(query.organiser_id, query.organiser),
        stakeholder_group: query.stakeholder_group,
        status: None,
        q: parse_q(query.q.as_deref(), 200)?,
    };
    let events = state.store.calendar_events(&filter, CALENDAR_MAX).await?;
    calendar_of(&req, &state, "VOV lerend netwerk", &events).await
}

/// Calendar entry of an event
///
/// One event as an iCalendar (RFC 5545) document, to add to a calendar. Like the calendar
/// of events: `ORGANIZER`, a `SEQUENCE` that moves only when the entry changes, `ETag` and
/// `304` for `If-None-Match`.
#[utoipa::path(
    tag = "Learning events",
    operation_id = "event_calendar",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, description = "An iCalendar document with one event.", content_type = "text/calendar", body = String,
        example = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n...\r\nEND:VCALENDAR\r\n"))
)]
#[get("/v1/events/{id}/calendar")]
pub(super) async fn event_calendar(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller);
    let event = visible_event(&state, access.as_ref(), id.into_inner()).await?;
    let name = event.content.title.clone();
    calendar_of(&req, &state, &name, std::slice::from_ref(&event)).await
}
