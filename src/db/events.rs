//! Events, registrations and commitments in storage.
//!
//! Seats are decided under the event row's write lock: every registration, cancellation,
//! capacity change and promotion first takes that lock (`update events ... where id = $1`),
//! then counts and changes seats, and commits. On PostgreSQL the row lock serialises these
//! transactions across every service instance; on SQLite the single writer connection does.
//! So seats are never handed out twice, and arrival order is the order in which requests
//! got the lock. See `docs/decisions/0006-seats.md`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType, admins_of};
use super::page::{Keyset, Page, Sort, SortField, SortValue, contains_pattern, fold};
use super::{BeginWrite, Rule, Store, StoreError, StoreResult, now, on_pool};
use crate::domain::event::{
    AttendanceMode, Commitment, CommitmentContent, CommitmentStatus, Event, EventContent, EventFormat, EventStatus,
    Registration, RegistrationStatus, Seats, Venue,
};
use crate::domain::person::StakeholderGroup;

/// Fields an event list can be sorted by; `starts_at` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSort {
    StartsAt,
    Title,
    CreatedAt,
    UpdatedAt,
}

impl SortField for EventSort {
    const ALL: &'static [Self] = &[EventSort::StartsAt, EventSort::Title, EventSort::CreatedAt, EventSort::UpdatedAt];

    fn name(self) -> &'static str {
        match self {
            EventSort::StartsAt => "starts_at",
            EventSort::Title => "title",
            EventSort::CreatedAt => "created_at",
            EventSort::UpdatedAt => "updated_at",
        }
    }

    fn column(self) -> &'static str {
        self.name()
    }

    fn is_time(self) -> bool {
        !matches!(self, EventSort::Title)
    }
}

/// An event list request.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Drafts are listed only when one of these organisations runs them; `None` lists
    /// every draft (facilitators).
    pub drafts_of: Option<Vec<Uuid>>,
    pub starts_after: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
    pub theme: Option<String>,
    pub format: Option<EventFormat>,
    pub mode: Option<AttendanceMode>,
    /// Run by this organisation (as organiser or co-organiser).
    pub organiser: Option<Uuid>,
    pub stakeholder_group: Option<StakeholderGroup>,
    pub status: Option<EventStatus>,
    pub q: Option<String>,
}

/// Most registrations written in one transaction.
const LANE_BATCH: usize = 200;

/// A registration waiting in its event's lane.
pub(crate) struct Waiting {
    person: Uuid,
    organisation: Option<Uuid>,
    reply: tokio::sync::oneshot::Sender<Result<(Registration, Event), RegisterError>>,
}

/// The registrations waiting for one event, and whether a task is writing them.
#[derive(Default)]
pub(crate) struct Lane {
    waiting: Vec<Waiting>,
    draining: bool,
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Registration is not open; the event says why (and who may know of it: a draft).
    #[error("registration closed: {reason}")]
    Closed { reason: String, event: Box<Event> },
    #[error("already registered")]
    AlreadyRegistered(Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RegisterError {
    fn from(e: sqlx::Error) -> Self {
        RegisterError::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    organiser_id: Uuid,
    title: String,
    summary: Option<String>,
    description: Option<String>,
    format: String,
    attendance_mode: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    time_zone: String,
    venue: Option<String>,
    online_url: Option<String>,
    capacity: Option<i64>,
    registration_opens_at: Option<DateTime<Utc>>,
    registration_closes_at: Option<DateTime<Utc>>,
    co_organisers: String,
    themes: String,
    stakeholder_groups: String,
    language: String,
    status: String,
    seats_taken: i64,
    waitlist_length: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const EVENT_COLUMNS: &str = "id, organiser_id, title, summary, description, format, attendance_mode, starts_at, \
     ends_at, time_zone, venue, online_url, capacity, registration_opens_at, registration_closes_at, co_organisers, \
     themes, stakeholder_groups, language, status, seats_taken, waitlist_length, created_at, updated_at, version";

fn invalid_stored(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is not valid"))
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        let json = |s: &str| -> Result<serde_json::Value, StoreError> {
            serde_json::from_str(s).map_err(|e| StoreError::Other(e.into()))
        };
        let groups: Vec<String> = serde_json::from_value(json(&r.stakeholder_groups)?).map_err(anyhow::Error::from)?;
        Ok(Event {
            id: r.id,
            organiser_id: r.organiser_id,
            content: EventContent {
                title: r.title,
                summary: r.summary,
                description: r.description,
                format: EventFormat::parse(&r.format).ok_or_else(|| invalid_stored("format"))?,
                attendance_mode: AttendanceMode::parse(&r.attendance_mode)
                    .ok_or_else(|| invalid_stored("attendance mode"))?,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                time_zone: r.time_zone,
                venue: r
                    .venue
                    .map(|v| serde_json::from_str::<Venue>(&v).map_err(|e| StoreError::Other(e.into())))
                    .transpose()?,
                online_url: r.online_url,
                capacity: r.capacity,
                registration_opens_at: r.registration_opens_at,
                registration_closes_at: r.registration_closes_at,
                co_organisers: serde_json::from_value(json(&r.co_organisers)?).map_err(anyhow::Error::from)?,
                themes: serde_json::from_value(json(&r.themes)?).map_err(anyhow::Error::from)?,
                stakeholder_groups: groups
                    .iter()
                    .map(|g| StakeholderGroup::parse(g).ok_or_else(|| invalid_stored("stakeholder group")))
                    .collect::<StoreResult<_>>()?,
                language: r.language,
            },
            status: EventStatus::parse(&r.status).ok_or_else(|| invalid_stored("status"))?,
            seats: Seats { taken: r.seats_taken, waitlist: r.waitlist_length },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

fn event_keyset(sort: EventSort, e: &Event) -> Keyset {
    let value = match sort {
        EventSort::StartsAt => SortValue::Time(e.content.starts_at),
        EventSort::Title => SortValue::Text(e.content.title.clone()),
        EventSort::CreatedAt => SortValue::Time(e.created_at),
        EventSort::UpdatedAt => SortValue::Time(e.updated_at),
    };
    Keyset { value, id: e.id }
}

fn search_text(c: &EventContent) -> String {
    fold(&format!(
        "{} {} {}",
        c.title,
        c.summary.as_deref().unwrap_or_default(),
        c.venue.as_ref().map(Venue::one_line).unwrap_or_default()
    ))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: Uuid,
    event_id: Uuid,
    person_id: Uuid,
    person_name: String,
    status: String,
    arrival: i64,
    waitlist_position: Option<i64>,
    organisation_id: Option<Uuid>,
    checked_in_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<RegistrationRow> for Registration {
    type Error = StoreError;

    fn try_from(r: RegistrationRow) -> Result<Self, StoreError> {
        Ok(Registration {
            id: r.id,
            event_id: r.event_id,
            person_id: r.person_id,
            person_name: r.person_name,
            status: RegistrationStatus::parse(&r.status).ok_or_else(|| invalid_stored("registration status"))?,
            arrival: r.arrival,
            waitlist_position: r.waitlist_position,
            organisation_id: r.organisation_id,
            checked_in_at: r.checked_in_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// A registration with its person's name and, when waitlisted, its place on the list.
const REGISTRATION_SELECT: &str = "select r.id, r.event_id, r.person_id, p.display_name as person_name, r.status, \
     r.arrival, case when r.status = 'waitlisted' then (select count(*) from registrations w \
     where w.event_id = r.event_id and w.status = 'waitlisted' and w.arrival <= r.arrival) end as waitlist_position, \
     r.organisation_id, r.checked_in_at, r.created_at, r.updated_at, r.version \
     from registrations r join people p on p.id = r.person_id";

#[derive(sqlx::FromRow)]
struct CommitmentRow {
    id: Uuid,
    event_id: Uuid,
    person_id: Uuid,
    text: String,
    due_on: Option<NaiveDate>,
    status: String,
    theme: Option<String>,
    shared_with_organiser: bool,
    shared_with_organisation: Option<Uuid>,
    learning_record_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const COMMITMENT_COLUMNS: &str = "id, event_id, person_id, text, due_on, status, theme, shared_with_organiser, \
     shared_with_organisation, learning_record_id, created_at, updated_at, version";

impl TryFrom<CommitmentRow> for Commitment {
    type Error = StoreError;

    fn try_from(r: CommitmentRow) -> Result<Self, StoreError> {
        Ok(Commitment {
            id: r.id,
            event_id: r.event_id,
            person_id: r.person_id,
            content: CommitmentContent {
                text: r.text,
                due_on: r.due_on,
                status: CommitmentStatus::parse(&r.status).ok_or_else(|| invalid_stored("commitment status"))?,
                theme: r.theme,
                shared_with_organiser: r.shared_with_organiser,
                shared_with_organisation: r.shared_with_organisation,
            },
            learning_record_id: r.learning_record_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// Who sees a commitment besides its owner and facilitators.
pub fn commitment_audience(c: &Commitment, event: &Event) -> Vec<Uuid> {
    commitment_audience_of(c, &event.organisers())
}

fn commitment_audience_of(c: &Commitment, organisers: &[Uuid]) -> Vec<Uuid> {
    let mut audience = vec![c.person_id];
    if c.content.shared_with_organiser {
        audience.extend(organisers.iter().copied().map(admins_of));
    }
    if let Some(org) = c.content.shared_with_organisation {
        audience.push(admins_of(org));
    }
    audience.sort_unstable();
    audience.dedup();
    audience
}

/// Who sees a registration besides facilitators: the person, the event's organisers and
/// the organisation that registered the person.
pub fn registration_audience(r: &Registration, event: &Event) -> Vec<Uuid> {
    let mut audience = vec![r.person_id];
    audience.extend(event.organisers());
    audience.extend(r.organisation_id);
    audience.sort_unstable();
    audience.dedup();
    audience
}

/// The feed entry of an event as it now is.
/// An event's organisers as they are now, with the event's row locked to the end of the
/// transaction. A commitment's audience is computed from them: `update_event` holds the same
/// lock while it changes the organisers and re-addresses the event's commitments, so the two
/// never interleave (PostgreSQL reads committed data; a plain read could be stale by commit).
pub(crate) async fn locked_organisers<'c, E>(conn: E, event: Uuid) -> StoreResult<Vec<Uuid>>
where
    E: sqlx::Acquire<'c>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    for<'e> &'e mut <E::Database as sqlx::Database>::Connection: sqlx::Executor<'e, Database = E::Database>,
    for<'r> (Uuid,): sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
{
    let mut conn = conn.acquire().await?;
    sqlx::query("update events set arrivals = arrivals where id = $1").bind(event).execute(&mut *conn).await?;
    let rows: Vec<(Uuid,)> = sqlx::query_as("select organisation_id from event_organisers where event_id = $1")
        .bind(event)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|(o,)| o).collect())
}

/// The feed change of a commitment as it now is, addressed with [`locked_organisers`].
pub(crate) async fn commitment_change_in<'c, E>(conn: E, c: &Commitment) -> StoreResult<Change>
where
    E: sqlx::Acquire<'c>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    for<'e> &'e mut <E::Database as sqlx::Database>::Connection: sqlx::Executor<'e, Database = E::Database>,
    for<'r> (Uuid,): sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
{
    let organisers = locked_organisers(conn, c.event_id).await?;
    Change::of(c, false, commitment_audience_of(c, &organisers))
}

/// When an event's organisers change, what goes to its organisers goes to the new ones:
/// its registrations, the commitments shared with the organiser and, for a draft, the
/// event itself. Organisers dropped get tombstones.
async fn readdress_to_organisers<'c, E>(conn: E, before: &Event, after: &Event) -> StoreResult<Vec<Change>>
where
    E: sqlx::Acquire<'c>,
    for<'r> RegistrationRow: sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
    for<'r> CommitmentRow: sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> bool: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    for<'e> &'e mut <E::Database as sqlx::Database>::Connection: sqlx::Executor<'e, Database = E::Database>,
{
    let mut conn = conn.acquire().await?;
    let now_organisers = after.organisers();
    let dropped: Vec<Uuid> = before.organisers().into_iter().filter(|o| !now_organisers.contains(o)).collect();
    let mut changes = Vec::new();
    let withdrawn = |audience: &[Uuid], from: Vec<Uuid>| -> Vec<Uuid> {
        from.into_iter().filter(|a| !audience.contains(a)).collect()
    };
    if !after.status.is_public() {
        let gone = withdrawn(&draft_audience(after), dropped.iter().copied().map(admins_of).collect());
        if !gone.is_empty() {
            changes.push(Change::withdraw(ResourceType::Event, after.id, after.version, gone));
        }
    }
    let regs: Vec<RegistrationRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{REGISTRATION_SELECT} where r.event_id = $1")))
            .bind(after.id)
            .fetch_all(&mut *conn)
            .await?;
    for row in regs {
        let r = Registration::try_from(row)?;
        let audience = registration_audience(&r, after);
        let gone = withdrawn(&audience, dropped.clone());
        if !gone.is_empty() {
            changes.push(Change::withdraw(ResourceType::Registration, r.id, r.version, gone));
        }
        changes.push(Change::of(&r, false, audience)?);
    }
    let shared: Vec<CommitmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COMMITMENT_COLUMNS} from commitments where event_id = $1 and shared_with_organiser = $2"
    )))
    .bind(after.id)
    .bind(true)
    .fetch_all(&mut *conn)
    .await?;
    for row in shared {
        let c = Commitment::try_from(row)?;
        let audience = commitment_audience(&c, after);
        let gone = withdrawn(&audience, dropped.iter().copied().map(admins_of).collect());
        if !gone.is_empty() {
            changes.push(Change::withdraw(ResourceType::Commitment, c.id, c.version, gone));
        }
        changes.push(Change::of(&c, false, audience)?);
    }
    Ok(changes)
}

/// Drafts go to the organisers' admins only: integration clients do not read them.
pub fn event_change(event: &Event) -> StoreResult<Change> {
    Change::of(event, event.status.is_public(), draft_audience(event))
}

fn draft_audience(event: &Event) -> Vec<Uuid> {
    event.organisers().into_iter().map(admins_of).collect()
}

/// Counts of commitments made at an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitmentSummary {
    /// Registrations holding a seat (confirmed, attended, no-show).
    pub participants: i64,
    pub attended: i64,
    /// Participants with at least one commitment.
    pub participants_with_commitments: i64,
    pub commitments: i64,
    pub planned: i64,
    pub in_progress: i64,
    pub done: i64,
    pub dropped: i64,
}

/// Statements inside a transaction, on either database (written once in `events_tx!`).
#[allow(async_fn_in_trait)]
trait EventsTx {
    /// Takes the event row's write lock and returns the event (`None`: no such event) and
    /// the number of arrivals so far, after counting `arrive` new ones.
    async fn lock_event(&mut self, id: Uuid, arrive: i64) -> StoreResult<Option<(Event, i64)>>;
    async fn load_registration(&mut self, id: Uuid) -> StoreResult<Option<Registration>>;
    /// Stores new seat counts and moves the event's version on.
    async fn save_seats(&mut self, event: &Event, seats: Seats, at: DateTime<Utc>) -> StoreResult<Event>;
    /// Sets a registration's status (and check-in time), moving its version on.
    async fn set_registration_status(
        &mut self,
        id: Uuid,
        status: RegistrationStatus,
        checked_in_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<Registration>;
    /// Fills free seats from the waitlist, first come first served. Returns the promoted
    /// registrations and the new seat counts (not yet saved).
    async fn promote(&mut self, event: &Event, at: DateTime<Utc>) -> StoreResult<(Vec<Registration>, Seats)>;
    /// Cancels a registration (already loaded, with its event locked), promoting from the
    /// waitlist. Returns the feed changes and the event as saved.
    async fn cancel(
        &mut self,
        reg: &Registration,
        event: &Event,
        at: DateTime<Utc>,
    ) -> StoreResult<(Vec<Change>, Event)>;
}

macro_rules! events_tx {
    ($conn:ty, $db:ty) => {
        impl EventsTx for $conn {
            async fn lock_event(&mut self, id: Uuid, arrive: i64) -> StoreResult<Option<(Event, i64)>> {
                #[derive(sqlx::FromRow)]
                struct Locked {
                    #[sqlx(flatten)]
                    event: EventRow,
                    arrivals: i64,
                }
                let locked: Option<Locked> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "update events set arrivals = arrivals + $2 where id = $1 returning {EVENT_COLUMNS}, arrivals"
                )))
                .bind(id)
                .bind(arrive)
                .fetch_optional(&mut *self)
                .await?;
                locked.map(|l| Ok((Event::try_from(l.event)?, l.arrivals))).transpose()
            }

            async fn load_registration(&mut self, id: Uuid) -> StoreResult<Option<Registration>> {
                let row: Option<RegistrationRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{REGISTRATION_SELECT} where r.id = $1")))
                        .bind(id)
                        .fetch_optional(&mut *self)
                        .await?;
                row.map(Registration::try_from).transpose()
            }

            async fn save_seats(&mut self, event: &Event, seats: Seats, at: DateTime<Utc>) -> StoreResult<Event> {
                let row: EventRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "update events set seats_taken = $2, waitlist_length = $3, updated_at = $4, version = version + 1
                     where id = $1 returning {EVENT_COLUMNS}"
                )))
                .bind(event.id)
                .bind(seats.taken)
                .bind(seats.waitlist)
                .bind(at)
                .fetch_one(&mut *self)
                .await?;
                row.try_into()
            }

            async fn set_registration_status(
                &mut self,
                id: Uuid,
                status: RegistrationStatus,
                checked_in_at: Option<DateTime<Utc>>,
                at: DateTime<Utc>,
            ) -> StoreResult<Registration> {
                sqlx::query(
                    "update registrations set status = $2, checked_in_at = $3, updated_at = $4, version = version + 1
                     where id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(checked_in_at)
                .bind(at)
                .execute(&mut *self)
                .await?;
                self.load_registration(id).await?.ok_or(StoreError::NotFound)
            }

            async fn promote(&mut self, event: &Event, at: DateTime<Utc>) -> StoreResult<(Vec<Registration>, Seats)> {
                let mut seats = event.seats;
                let free = match event.content.capacity {
                    None => seats.waitlist,
                    Some(c) => (c - seats.taken).clamp(0, seats.waitlist),
                };
                if free == 0 {
                    return Ok((vec![], seats));
                }
                let ids: Vec<Uuid> = sqlx::query_scalar(
                    "select id from registrations where event_id = $1 and status = 'waitlisted'
                     order by arrival limit $2",
                )
                .bind(event.id)
                .bind(free)
                .fetch_all(&mut *self)
                .await?;
                let mut promoted = Vec::with_capacity(ids.len());
                for id in ids {
                    promoted.push(self.set_registration_status(id, RegistrationStatus::Confirmed, None, at).await?);
                    seats.taken += 1;
                    seats.waitlist -= 1;
                }
                Ok((promoted, seats))
            }

            async fn cancel(
                &mut self,
                reg: &Registration,
                event: &Event,
                at: DateTime<Utc>,
            ) -> StoreResult<(Vec<Change>, Event)> {
                let mut seats = event.seats;
                match reg.status {
                    RegistrationStatus::Confirmed => seats.taken -= 1,
                    RegistrationStatus::Waitlisted => seats.waitlist -= 1,
                    _ => return Err(StoreError::conflict(Rule::RegistrationState, format!("A registration that is {} cannot be cancelled.", reg.status.as_str()))),
                }
                let cancelled = self.set_registration_status(reg.id, RegistrationStatus::Cancelled, None, at).await?;
                let freed = Event { seats, ..event.clone() };
                let (promoted, seats) = self.promote(&freed, at).await?;
                let saved = self.save_seats(event, seats, at).await?;
                let mut changes = vec![Change::of(&cancelled, false, registration_audience(&cancelled, &saved))?];
                for r in &promoted {
                    changes.push(Change::of(r, false, registration_audience(r, &saved))?);
                }
                changes.push(event_change(&saved)?);
                Ok((changes, saved))
            }
        }
    };
}

events_tx!(sqlx::SqliteConnection, sqlx::Sqlite);
events_tx!(sqlx::PgConnection, sqlx::Postgres);

/// Adds the list filters to a query over `events` (aliased `e`).
fn push_event_filters<DB>(qb: &mut QueryBuilder<DB>, filter: &EventFilter)
where
    DB: sqlx::Database,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> DateTime<Utc>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    match &filter.drafts_of {
        None => {}
        Some(orgs) if orgs.is_empty() => {
            qb.push(" and e.status <> 'draft'");
        }
        Some(orgs) => {
            qb.push(" and (e.status <> 'draft' or exists (select 1 from event_organisers d where d.event_id = e.id and d.organisation_id in (");
            let mut list = qb.separated(", ");
            for o in orgs {
                list.push_bind(*o);
            }
            qb.push(")))");
        }
    }
    if let Some(t) = filter.starts_after {
        qb.push(" and e.starts_at >= ").push_bind(t);
    }
    if let Some(t) = filter.starts_before {
        qb.push(" and e.starts_at < ").push_bind(t);
    }
    // Slugs and group names are lowercase letters, digits, `-` and `_`: the quoted value
    // matches exactly one element of the JSON array. `_` is a LIKE wildcard, so it is escaped.
    if let Some(theme) = &filter.theme {
        qb.push(" and e.themes like ").push_bind(format!("%\"{}\"%", theme.replace('_', "\\_"))).push(" escape '\\'");
    }
    if let Some(g) = filter.stakeholder_group {
        qb.push(" and e.stakeholder_groups like ")
            .push_bind(format!("%\"{}\"%", g.as_str().replace('_', "\\_")))
            .push(" escape '\\'");
    }
    if let Some(f) = filter.format {
        qb.push(" and e.format = ").push_bind(f.as_str().to_string());
    }
    if let Some(m) = filter.mode {
        qb.push(" and e.attendance_mode = ").push_bind(m.as_str().to_string());
    }
    if let Some(s) = filter.status {
        qb.push(" and e.status = ").push_bind(s.as_str().to_string());
    }
    if let Some(org) = filter.organiser {
        qb.push(" and exists (select 1 from event_organisers o where o.event_id = e.id and o.organisation_id = ")
            .push_bind(org)
            .push(")");
    }
    if let Some(q) = filter.q.as_deref() {
        qb.push(" and e.search_text like ").push_bind(contains_pattern(&fold(q))).push(" escape '\\'");
    }
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        sort: Sort<EventSort>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Event>> {
        let rows: Vec<EventRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {EVENT_COLUMNS} from events e where 1 = 1"));
            push_event_filters(&mut qb, filter);
            if let Some(after) = after {
                sort.push_after(&mut qb, after);
            }
            sort.push_order(&mut qb);
            qb.push(" limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items = rows.into_iter().map(Event::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |e| event_keyset(sort.field, e)))
    }

    /// Every event matching `filter`, up to `max`, by start (for calendars).
    #[tracing::instrument(skip(self))]
    pub async fn calendar_events(&self, filter: &EventFilter, max: usize) -> StoreResult<Vec<Event>> {
        let page = self.list_events(filter, Sort::default(), None, max).await?;
        Ok(page.items)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_event(&self, id: Uuid) -> StoreResult<Event> {
        let row: Option<EventRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("select {EVENT_COLUMNS} from events where id = $1")))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The names of organisations, `(id, name)`.
    pub async fn organisation_names(&self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select id, name from organisations where id in (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(p).await
        })?)
    }

    /// Which of `ids` name no organisation.
    pub async fn missing_organisations(&self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<Uuid> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select id from organisations where id in (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar().fetch_all(p).await
        })?;
        Ok(ids.iter().filter(|id| !found.contains(id)).copied().collect())
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_event(
        &self,
        organiser: Uuid,
        content: &EventContent,
        status: EventStatus,
    ) -> StoreResult<Event> {
        let at = now();
        let event = Event {
            id: Uuid::now_v7(),
            organiser_id: organiser,
            content: content.clone(),
            status,
            seats: Seats::default(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let changes = [event_change(&event)?];
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let c = &event.content;
            sqlx::query(
                "insert into events (id, organiser_id, title, summary, description, format, attendance_mode, starts_at,
                     ends_at, time_zone, venue, online_url, capacity, registration_opens_at, registration_closes_at,
                     co_organisers, themes, stakeholder_groups, language, status, search_text, created_at, updated_at,
                     version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                     $22, $22, 1)",
            )
            .bind(event.id)
            .bind(organiser)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.description)
            .bind(c.format.as_str())
            .bind(c.attendance_mode.as_str())
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(&c.time_zone)
            .bind(c.venue.as_ref().map(to_json))
            .bind(&c.online_url)
            .bind(c.capacity)
            .bind(c.registration_opens_at)
            .bind(c.registration_closes_at)
            .bind(to_json(&c.co_organisers))
            .bind(to_json(&c.themes))
            .bind(to_json(&c.stakeholder_groups))
            .bind(&c.language)
            .bind(status.as_str())
            .bind(search_text(c))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let mut qb = QueryBuilder::<DB>::new("insert into event_organisers (event_id, organisation_id) ");
            qb.push_values(event.organisers(), |mut row, org| {
                row.push_bind(event.id).push_bind(org);
            });
            qb.build().execute(&mut *tx).await?;
            (*tx).record(&changes).await?;
            tx.commit().await
        }
        .await)?;
        Ok(event)
    }

    /// Replaces an event's content and status if its version is still `expected_version`.
    /// Under the seat lock: a capacity below the seats taken is refused, and a larger one
    /// fills seats from the waitlist at once.
    #[tracing::instrument(skip(self))]
    pub async fn update_event(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &EventContent,
        status: EventStatus,
    ) -> StoreResult<Event> {
        let at = now();
        on_pool!(self.writer(), |p, DB| {
            async {
            let mut tx = p.begin_write().await?;
            let Some((current, _)) = (*tx).lock_event(id, 0).await? else { return Err(StoreError::NotFound) };
            if current.version != expected_version {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            if let Some(reason) = current.status.transition_error(status, content.ends_at, at) {
                return Err(StoreError::conflict(Rule::StatusTransition, format!("The status cannot change: {reason}.")));
            }
            if let Some(capacity) = content.capacity
                && capacity < current.seats.taken
            {
                return Err(StoreError::conflict(Rule::Capacity, format!(
                    "The capacity is too low: {} seats are taken; the capacity cannot go below that (cancel registrations first).",
                    current.seats.taken
                )));
            }
            let c = content;
            let row: EventRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "update events set title = $2, summary = $3, description = $4, format = $5, attendance_mode = $6,
                     starts_at = $7, ends_at = $8, time_zone = $9, venue = $10, online_url = $11, capacity = $12,
                     registration_opens_at = $13, registration_closes_at = $14, co_organisers = $15, themes = $16,
                     stakeholder_groups = $17, language = $18, status = $19, search_text = $20, updated_at = $21,
                     version = version + 1
                 where id = $1 returning {EVENT_COLUMNS}"
            )))
            .bind(id)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.description)
            .bind(c.format.as_str())
            .bind(c.attendance_mode.as_str())
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(&c.time_zone)
            .bind(c.venue.as_ref().map(to_json))
            .bind(&c.online_url)
            .bind(c.capacity)
            .bind(c.registration_opens_at)
            .bind(c.registration_closes_at)
            .bind(to_json(&c.co_organisers))
            .bind(to_json(&c.themes))
            .bind(to_json(&c.stakeholder_groups))
            .bind(&c.language)
            .bind(status.as_str())
            .bind(search_text(c))
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let mut event = Event::try_from(row)?;
            if event.content.co_organisers != current.content.co_organisers {
                sqlx::query("delete from event_organisers where event_id = $1").bind(id).execute(&mut *tx).await?;
                let mut qb = QueryBuilder::<DB>::new("insert into event_organisers (event_id, organisation_id) ");
                qb.push_values(event.organisers(), |mut row, org| {
                    row.push_bind(id).push_bind(org);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let mut changes = Vec::new();
            let (promoted, seats) = (*tx).promote(&event, at).await?;
            if !promoted.is_empty() {
                // The promotions and the new counts are part of this same version.
                sqlx::query("update events set seats_taken = $2, waitlist_length = $3 where id = $1")
                    .bind(id)
                    .bind(seats.taken)
                    .bind(seats.waitlist)
                    .execute(&mut *tx)
                    .await?;
                event.seats = seats;
                for r in &promoted {
                    changes.push(Change::of(r, false, registration_audience(r, &event))?);
                }
            }
            changes.push(event_change(&event)?);
            if event.organisers() != current.organisers() {
                changes.extend(readdress_to_organisers(&mut *tx, &current, &event).await?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(event)
        }
        .await
        })
    }

    /// Once per database, after the upgrade that addressed draft events to their organisers'
    /// admins only (decision 9): records every draft again, so that its feed entry is
    /// addressed so and integration clients no longer find it. Several instances starting
    /// at once agree on one through the `data_repairs` row.
    #[tracing::instrument(skip(self))]
    pub async fn readdress_drafts_once(&self) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let claimed =
                sqlx::query("insert into data_repairs (name, done_at) values ($1, $2) on conflict (name) do nothing")
                    .bind("draft-events-to-admins")
                    .bind(now())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if claimed == 1 {
                let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "select {EVENT_COLUMNS} from events where status = 'draft'"
                )))
                .fetch_all(&mut *tx)
                .await?;
                let changes =
                    rows.into_iter().map(|r| event_change(&Event::try_from(r)?)).collect::<StoreResult<Vec<_>>>()?;
                for chunk in changes.chunks(1_000) {
                    (*tx).record(chunk).await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)
    }

    /// Deletes a draft event, if its version is `expected_version` when one is given.
    #[tracing::instrument(skip(self))]
    pub async fn delete_event(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let Some((current, _)) = (*tx).lock_event(id, 0).await? else { return Err(StoreError::NotFound) };
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            if current.status != EventStatus::Draft {
                return Err(StoreError::conflict(
                    Rule::NotDeletable,
                    format!(
                        "a {} event is not deleted; cancel it instead, so that its participants learn of it",
                        current.status.as_str()
                    ),
                ));
            }
            sqlx::query("delete from events where id = $1").bind(id).execute(&mut *tx).await?;
            let tombstone =
                Change::delete(ResourceType::Event, id, current.version + 1, false, draft_audience(&current));
            (*tx).record(&[tombstone]).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    // ---- registrations ----

    /// Registers `person` for `event`: a seat while there is one, else the waitlist.
    /// `organisation` is who registered the person, when not the person themself.
    ///
    /// Concurrent registrations for one event in this process wait in one lane and are
    /// written together, in order of arrival, in one transaction under the seat lock: a
    /// group commit that keeps the lock (held to commit on PostgreSQL) from capping the
    /// rate at one commit per registration. Each caller still gets its own answer.
    #[tracing::instrument(skip(self))]
    pub async fn register(
        &self,
        event_id: Uuid,
        person_id: Uuid,
        organisation: Option<Uuid>,
    ) -> Result<(Registration, Event), RegisterError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let lead = {
            let mut lanes = self.seat_lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let lane = lanes.entry(event_id).or_default();
            lane.waiting.push(Waiting { person: person_id, organisation, reply });
            !std::mem::replace(&mut lane.draining, true)
        };
        if lead {
            let store = self.clone();
            tokio::spawn(async move { store.drain_lane(event_id).await });
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Other(anyhow::anyhow!("the registration lane stopped")).into()))
    }

    /// Writes the lane of `event_id` batch by batch until it is empty.
    async fn drain_lane(&self, event_id: Uuid) {
        // Closes the lane however this ends (a panic included): waiting callers get an
        // error instead of waiting forever, and the next registration opens a new lane.
        struct Close<'a>(&'a Store, Uuid, bool);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                if self.2 {
                    let mut lanes = self.0.seat_lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    lanes.remove(&self.1);
                }
            }
        }
        let mut close = Close(self, event_id, true);
        loop {
            let batch: Vec<Waiting> = {
                let mut lanes = self.seat_lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let Some(lane) = lanes.get_mut(&event_id) else { return };
                if lane.waiting.is_empty() {
                    // Under the same lock as the check: a registration arriving now finds
                    // no lane and opens a new one.
                    lanes.remove(&event_id);
                    close.2 = false;
                    return;
                }
                let n = lane.waiting.len().min(LANE_BATCH);
                lane.waiting.drain(..n).collect()
            };
            let items: Vec<(Uuid, Option<Uuid>)> = batch.iter().map(|w| (w.person, w.organisation)).collect();
            let results = match self.register_batch(event_id, &items).await {
                Ok(results) => results,
                // One item broke the whole transaction (say, a person deleted meanwhile):
                // each goes alone, so that it fails alone.
                Err(_) if items.len() > 1 => {
                    let mut results = Vec::with_capacity(items.len());
                    for item in &items {
                        results.push(match self.register_batch(event_id, std::slice::from_ref(item)).await {
                            Ok(mut one) => one.pop().unwrap_or_else(|| Err(StoreError::NotFound.into())),
                            Err(e) => Err(e.into()),
                        });
                    }
                    results
                }
                Err(e) => vec![Err(e.into())],
            };
            for (waiting, result) in batch.into_iter().zip(results) {
                let _ = waiting.reply.send(result);
            }
        }
    }

    /// Registers `items` (person, registering organisation) for an event in one transaction,
    /// in order. A closed event refuses them all; someone already registered is refused
    /// alone. `Err` when the transaction itself failed.
    async fn register_batch(
        &self,
        event_id: Uuid,
        items: &[(Uuid, Option<Uuid>)],
    ) -> StoreResult<Vec<Result<(Registration, Event), RegisterError>>> {
        let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let Some((event, arrivals)) = (*tx).lock_event(event_id, n).await? else {
                return Ok(items.iter().map(|_| Err(StoreError::NotFound.into())).collect());
            };
            // Taken under the lock, so that creation time follows the order of arrival.
            let at = now();
            if let Some(reason) = event.content.registration_closed_reason(event.status, at) {
                let event = Box::new(event);
                return Ok(items
                    .iter()
                    .map(|_| Err(RegisterError::Closed { reason: reason.clone(), event: event.clone() }))
                    .collect());
            }
            let mut qb = QueryBuilder::<DB>::new(
                "select person_id, id from registrations where status <> 'cancelled' and event_id = ",
            );
            qb.push_bind(event_id).push(" and person_id in (");
            let mut list = qb.separated(", ");
            for (person, _) in items {
                list.push_bind(*person);
            }
            qb.push(")");
            let mut active: Vec<(Uuid, Uuid)> = qb.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
            let mut seats = event.seats;
            let mut outcome: Vec<Result<Uuid, RegisterError>> = Vec::with_capacity(items.len());
            let mut rows: Vec<(Uuid, Uuid, RegistrationStatus, i64, Option<Uuid>)> = Vec::new();
            for (i, (person, organisation)) in items.iter().enumerate() {
                if let Some((_, existing)) = active.iter().find(|(p, _)| p == person) {
                    outcome.push(Err(RegisterError::AlreadyRegistered(*existing)));
                    continue;
                }
                let status = match event.content.capacity {
                    Some(c) if seats.taken >= c => {
                        seats.waitlist += 1;
                        RegistrationStatus::Waitlisted
                    }
                    _ => {
                        seats.taken += 1;
                        RegistrationStatus::Confirmed
                    }
                };
                let id = Uuid::now_v7();
                let arrival = arrivals - n + 1 + i64::try_from(i).unwrap_or(0);
                rows.push((id, *person, status, arrival, *organisation));
                active.push((*person, id));
                outcome.push(Ok(id));
            }
            if rows.is_empty() {
                tx.commit().await?;
                // Every item was refused; nothing to write.
                return Ok(outcome.into_iter().map(|o| o.and_then(|_| Err(StoreError::NotFound.into()))).collect());
            }
            let mut qb = QueryBuilder::<DB>::new(
                "insert into registrations (id, event_id, person_id, status, arrival, organisation_id, created_at, \
                 updated_at, version) ",
            );
            qb.push_values(&rows, |mut row, (id, person, status, arrival, organisation)| {
                row.push_bind(*id)
                    .push_bind(event_id)
                    .push_bind(*person)
                    .push_bind(status.as_str())
                    .push_bind(*arrival)
                    .push_bind(*organisation)
                    .push_bind(at)
                    .push_bind(at)
                    .push_bind(1_i64);
            });
            qb.build().persistent(false).execute(&mut *tx).await?;
            let saved = (*tx).save_seats(&event, seats, at).await?;
            let mut qb = QueryBuilder::<DB>::new(REGISTRATION_SELECT);
            qb.push(" where r.id in (");
            let mut list = qb.separated(", ");
            for (id, ..) in &rows {
                list.push_bind(*id);
            }
            qb.push(")");
            let loaded: Vec<RegistrationRow> = qb.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
            let loaded = loaded.into_iter().map(Registration::try_from).collect::<StoreResult<Vec<_>>>()?;
            let mut changes = Vec::with_capacity(loaded.len() + 1);
            for (id, ..) in &rows {
                let reg = loaded.iter().find(|r| r.id == *id).ok_or(StoreError::NotFound)?;
                changes.push(Change::of(reg, false, registration_audience(reg, &saved))?);
            }
            changes.push(event_change(&saved)?);
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(outcome
                .into_iter()
                .map(|o| {
                    o.and_then(|id| {
                        let reg = loaded.iter().find(|r| r.id == id).cloned().ok_or(StoreError::NotFound)?;
                        Ok((reg, saved.clone()))
                    })
                })
                .collect())
        }
        .await)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_registration(&self, id: Uuid) -> StoreResult<Registration> {
        let row: Option<RegistrationRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{REGISTRATION_SELECT} where r.id = $1")))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Registrations of an event (all, or only those of `people` / made by `organisations`),
    /// in order of arrival, after `after_arrival`.
    #[tracing::instrument(skip(self))]
    pub async fn list_registrations(
        &self,
        event_id: Option<Uuid>,
        person_id: Option<Uuid>,
        visible_to: Option<(Uuid, Vec<Uuid>)>,
        status: Option<RegistrationStatus>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Registration>> {
        let rows: Vec<RegistrationRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(REGISTRATION_SELECT);
            qb.push(" where 1 = 1");
            if let Some(e) = event_id {
                qb.push(" and r.event_id = ").push_bind(e);
            }
            if let Some(person) = person_id {
                qb.push(" and r.person_id = ").push_bind(person);
            }
            if let Some((me, orgs)) = &visible_to {
                qb.push(" and (r.person_id = ").push_bind(*me);
                if !orgs.is_empty() {
                    qb.push(" or r.organisation_id in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push(") or exists (select 1 from event_organisers eo where eo.event_id = r.event_id and eo.organisation_id in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push("))");
                }
                qb.push(")");
            }
            if let Some(s) = status {
                qb.push(" and r.status = ").push_bind(s.as_str());
            }
            if let Some(after) = after {
                qb.push(" and (r.created_at, r.id) > (");
                match &after.value {
                    SortValue::Time(t) => qb.push_bind(*t),
                    SortValue::Text(s) => qb.push_bind(s.clone()),
                };
                qb.push(", ").push_bind(after.id).push(")");
            }
            qb.push(" order by r.created_at, r.id limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items = rows.into_iter().map(Registration::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |r| Keyset { value: SortValue::Time(r.created_at), id: r.id }))
    }

    /// Cancels a registration; a freed seat goes to the first on the waitlist in the same
    /// transaction. Cancelling twice changes nothing.
    #[tracing::instrument(skip(self))]
    pub async fn cancel_registration(&self, id: Uuid) -> StoreResult<(Registration, bool)> {
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let event_id: Option<Uuid> = sqlx::query_scalar("select event_id from registrations where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(event_id) = event_id else { return Err(StoreError::NotFound) };
            let Some((event, _)) = (*tx).lock_event(event_id, 0).await? else { return Err(StoreError::NotFound) };
            let reg = (*tx).load_registration(id).await?.ok_or(StoreError::NotFound)?;
            if reg.status == RegistrationStatus::Cancelled {
                return Ok((reg, false));
            }
            let (changes, _) = (*tx).cancel(&reg, &event, at).await?;
            (*tx).record(&changes).await?;
            let reg = (*tx).load_registration(id).await?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok((reg, true))
        }
        .await)
    }

    /// Records attendance: `attended` (check-in) or `no_show`. Recording the status a
    /// registration already has changes nothing. Returns whether it changed.
    #[tracing::instrument(skip(self))]
    pub async fn record_attendance(&self, id: Uuid, status: RegistrationStatus) -> StoreResult<(Registration, bool)> {
        debug_assert!(matches!(status, RegistrationStatus::Attended | RegistrationStatus::NoShow));
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let event_id: Option<Uuid> = sqlx::query_scalar("select event_id from registrations where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(event_id) = event_id else { return Err(StoreError::NotFound) };
            let Some((event, _)) = (*tx).lock_event(event_id, 0).await? else { return Err(StoreError::NotFound) };
            let reg = (*tx).load_registration(id).await?.ok_or(StoreError::NotFound)?;
            if reg.status == status {
                return Ok((reg, false));
            }
            if !reg.status.holds_seat() {
                return Err(StoreError::conflict(
                    Rule::RegistrationState,
                    format!(
                        "A {} registration holds no seat; only confirmed participants are checked in or marked absent.",
                        reg.status.as_str()
                    ),
                ));
            }
            if !matches!(event.status, EventStatus::Published | EventStatus::Completed) {
                return Err(StoreError::conflict(
                    Rule::RegistrationState,
                    format!("The event is {}.", event.status.as_str()),
                ));
            }
            let starts = event.content.starts_at;
            match status {
                RegistrationStatus::Attended
                    if at < starts - chrono::Duration::hours(crate::domain::event::CHECK_IN_OPENS_HOURS) =>
                {
                    return Err(StoreError::conflict(
                        Rule::RegistrationState,
                        format!(
                            "Check-in opens {} hours before the event starts.",
                            crate::domain::event::CHECK_IN_OPENS_HOURS
                        ),
                    ));
                }
                RegistrationStatus::NoShow if at < starts => {
                    return Err(StoreError::conflict(
                        Rule::RegistrationState,
                        "A no-show is recorded once the event has started.",
                    ));
                }
                _ => {}
            }
            let checked_in = match status {
                RegistrationStatus::Attended => Some(reg.checked_in_at.unwrap_or(at)),
                _ => None,
            };
            let reg = (*tx).set_registration_status(id, status, checked_in, at).await?;
            (*tx).record(&[Change::of(&reg, false, registration_audience(&reg, &event))?]).await?;
            tx.commit().await?;
            Ok((reg, true))
        }
        .await)
    }

    // ---- commitments ----

    #[tracing::instrument(skip(self, content))]
    pub async fn create_commitment(
        &self,
        event: &Event,
        person_id: Uuid,
        content: &CommitmentContent,
    ) -> StoreResult<Commitment> {
        let at = now();
        let c = Commitment {
            id: Uuid::now_v7(),
            event_id: event.id,
            person_id,
            content: content.clone(),
            learning_record_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let changes = [commitment_change_in(&mut *tx, &c).await?];
            // Only participants commit; checked in the transaction, so a seat given up
            // meanwhile counts.
            let seated: i64 = sqlx::query_scalar(
                "select count(*) from registrations
                 where event_id = $1 and person_id = $2 and status in ('confirmed', 'attended', 'no_show')",
            )
            .bind(event.id)
            .bind(person_id)
            .fetch_one(&mut *tx)
            .await?;
            if seated == 0 {
                return Err(StoreError::Forbidden(
                    "Only the event's participants (a confirmed or attended registration) record commitments.".into(),
                ));
            }
            sqlx::query(
                "insert into commitments (id, event_id, person_id, text, due_on, status, theme, shared_with_organiser,
                     shared_with_organisation, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1)",
            )
            .bind(c.id)
            .bind(c.event_id)
            .bind(person_id)
            .bind(&content.text)
            .bind(content.due_on)
            .bind(content.status.as_str())
            .bind(&content.theme)
            .bind(content.shared_with_organiser)
            .bind(content.shared_with_organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)?;
        Ok(c)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_commitment(&self, id: Uuid) -> StoreResult<Commitment> {
        let row: Option<CommitmentRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COMMITMENT_COLUMNS} from commitments where id = $1")))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Commitments of an event or a person that `viewer` may read: their own, and those
    /// shared with an organisation in `organisations` (as organiser or as the person's
    /// organisation). `viewer` `None` reads all (facilitators).
    #[tracing::instrument(skip(self))]
    pub async fn list_commitments(
        &self,
        event_id: Option<Uuid>,
        person_id: Option<Uuid>,
        viewer: Option<(Uuid, Vec<Uuid>)>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Commitment>> {
        let rows: Vec<CommitmentRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {COMMITMENT_COLUMNS} from commitments c where 1 = 1"));
            if let Some(e) = event_id {
                qb.push(" and c.event_id = ").push_bind(e);
            }
            if let Some(person) = person_id {
                qb.push(" and c.person_id = ").push_bind(person);
            }
            if let Some((me, orgs)) = &viewer {
                qb.push(" and (c.person_id = ").push_bind(*me);
                if !orgs.is_empty() {
                    qb.push(" or c.shared_with_organisation in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push(") or (c.shared_with_organiser = ").push_bind(true);
                    qb.push(" and exists (select 1 from event_organisers eo where eo.event_id = c.event_id and eo.organisation_id in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push(")))");
                }
                qb.push(")");
            }
            if let Some(after) = after {
                qb.push(" and (c.created_at, c.id) > (");
                match &after.value {
                    SortValue::Time(t) => qb.push_bind(*t),
                    SortValue::Text(s) => qb.push_bind(s.clone()),
                };
                qb.push(", ").push_bind(after.id).push(")");
            }
            qb.push(" order by c.created_at, c.id limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items = rows.into_iter().map(Commitment::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |c| Keyset { value: SortValue::Time(c.created_at), id: c.id }))
    }

    /// Replaces a commitment's content if its version is still `expected_version`. When it
    /// stops being shared with someone, they get a tombstone before the update.
    #[tracing::instrument(skip(self, current, content))]
    pub async fn update_commitment(
        &self,
        current: &Commitment,
        expected_version: i64,
        content: &CommitmentContent,
    ) -> StoreResult<Commitment> {
        let at = now();
        let updated =
            Commitment { content: content.clone(), updated_at: at, version: current.version + 1, ..current.clone() };
        let n = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let organisers = locked_organisers(&mut *tx, current.event_id).await?;
            let before = commitment_audience_of(current, &organisers);
            let after = commitment_audience_of(&updated, &organisers);
            let dropped: Vec<Uuid> = before.iter().filter(|a| !after.contains(a)).copied().collect();
            let mut changes = Vec::new();
            if !dropped.is_empty() {
                changes.push(Change::withdraw(ResourceType::Commitment, current.id, updated.version, dropped));
            }
            changes.push(Change::of(&updated, false, after)?);
            let n = sqlx::query(
                "update commitments set text = $3, due_on = $4, status = $5, theme = $6, shared_with_organiser = $7,
                     shared_with_organisation = $8, updated_at = $9, version = version + 1
                 where id = $1 and version = $2",
            )
            .bind(current.id)
            .bind(expected_version)
            .bind(&content.text)
            .bind(content.due_on)
            .bind(content.status.as_str())
            .bind(&content.theme)
            .bind(content.shared_with_organiser)
            .bind(content.shared_with_organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n)
        }
        .await)?;
        if n == 1 { Ok(updated) } else { Err(self.current_version_error("commitments", current.id).await?) }
    }

    #[tracing::instrument(skip(self, current))]
    pub async fn delete_commitment(&self, current: &Commitment, expected_version: Option<i64>) -> StoreResult<()> {
        let n = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let organisers = locked_organisers(&mut *tx, current.event_id).await?;
            let tombstone = Change::delete(
                ResourceType::Commitment,
                current.id,
                current.version + 1,
                false,
                commitment_audience_of(current, &organisers),
            );
            let n = sqlx::query("delete from commitments where id = $1 and ($2 is null or version = $2)")
                .bind(current.id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                (*tx).record(&[tombstone]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n)
        }
        .await)?;
        if n == 1 { Ok(()) } else { Err(self.current_version_error("commitments", current.id).await?) }
    }

    /// Participation and commitment counts of an event.
    #[tracing::instrument(skip(self))]
    pub async fn commitment_summary(&self, event_id: Uuid) -> StoreResult<CommitmentSummary> {
        let (participants, attended): (i64, i64) = on_pool!(self.reader(), |p| sqlx::query_as(
            "select count(*), coalesce(sum(case when status = 'attended' then 1 else 0 end), 0)
             from registrations where event_id = $1 and status in ('confirmed', 'attended', 'no_show')"
        )
        .bind(event_id)
        .fetch_one(p)
        .await)?;
        let counts: Vec<(String, i64)> = on_pool!(self.reader(), |p| sqlx::query_as(
            "select status, count(*) from commitments where event_id = $1 group by status"
        )
        .bind(event_id)
        .fetch_all(p)
        .await)?;
        let with: i64 = on_pool!(self.reader(), |p| sqlx::query_scalar(
            "select count(distinct person_id) from commitments where event_id = $1"
        )
        .bind(event_id)
        .fetch_one(p)
        .await)?;
        let mut s =
            CommitmentSummary { participants, attended, participants_with_commitments: with, ..Default::default() };
        for (status, n) in counts {
            s.commitments += n;
            match CommitmentStatus::parse(&status) {
                Some(CommitmentStatus::Planned) => s.planned = n,
                Some(CommitmentStatus::InProgress) => s.in_progress = n,
                Some(CommitmentStatus::Done) => s.done = n,
                Some(CommitmentStatus::Dropped) => s.dropped = n,
                None => return Err(invalid_stored("commitment status")),
            }
        }
        Ok(s)
    }
}

/// Releasing a person's seats inside another transaction (deleting the person).
#[allow(async_fn_in_trait)]
pub(crate) trait ReleaseTx {
    /// Cancels every active registration of a person, promoting from the waitlists, and
    /// returns those changes followed by tombstones for all the person's registrations and
    /// commitments (which go with the person).
    async fn release_registrations(&mut self, person: Uuid) -> StoreResult<Vec<Change>>;
    /// Ends the sharing of a person's commitments with an organisation they no longer
    /// belong to: its admins get tombstones.
    async fn unshare_commitments_with(&mut self, person: Uuid, organisation: Uuid) -> StoreResult<Vec<Change>>;
}

macro_rules! release_tx {
    ($conn:ty) => {
        impl ReleaseTx for $conn {
            async fn release_registrations(&mut self, person: Uuid) -> StoreResult<Vec<Change>> {
                let active: Vec<(Uuid, Uuid)> = sqlx::query_as(
                    "select id, event_id from registrations
                     where person_id = $1 and status in ('confirmed', 'waitlisted') order by event_id",
                )
                .bind(person)
                .fetch_all(&mut *self)
                .await?;
                let at = now();
                let mut changes = Vec::new();
                for (id, event_id) in active {
                    let Some((event, _)) = self.lock_event(event_id, 0).await? else { continue };
                    let Some(reg) = self.load_registration(id).await? else { continue };
                    let (mut c, _) = self.cancel(&reg, &event, at).await?;
                    changes.append(&mut c);
                }
                let organisers: Vec<(Uuid, Uuid)> = sqlx::query_as(
                    "select eo.event_id, eo.organisation_id from event_organisers eo
                     where eo.event_id in (select event_id from registrations where person_id = $1
                                           union select event_id from commitments where person_id = $1)",
                )
                .bind(person)
                .fetch_all(&mut *self)
                .await?;
                let of = |event: Uuid| organisers.iter().filter(move |(e, _)| *e == event).map(|(_, o)| *o);
                let regs: Vec<(Uuid, i64, Uuid, Option<Uuid>)> = sqlx::query_as(
                    "select id, version, event_id, organisation_id from registrations where person_id = $1",
                )
                .bind(person)
                .fetch_all(&mut *self)
                .await?;
                for (id, version, event, org) in regs {
                    let mut audience = vec![person];
                    audience.extend(of(event));
                    audience.extend(org);
                    changes.push(Change::delete(ResourceType::Registration, id, version + 1, false, audience));
                }
                let commitments: Vec<(Uuid, i64, Uuid, bool, Option<Uuid>)> = sqlx::query_as(
                    "select id, version, event_id, shared_with_organiser, shared_with_organisation
                     from commitments where person_id = $1",
                )
                .bind(person)
                .fetch_all(&mut *self)
                .await?;
                for (id, version, event, organiser, org) in commitments {
                    let mut audience = vec![person];
                    if organiser {
                        audience.extend(of(event).map(admins_of));
                    }
                    audience.extend(org.map(admins_of));
                    changes.push(Change::delete(ResourceType::Commitment, id, version + 1, false, audience));
                }
                Ok(changes)
            }

            async fn unshare_commitments_with(&mut self, person: Uuid, organisation: Uuid) -> StoreResult<Vec<Change>> {
                let rows: Vec<CommitmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "update commitments set shared_with_organisation = null, updated_at = $3, version = version + 1
                     where person_id = $1 and shared_with_organisation = $2 returning {COMMITMENT_COLUMNS}"
                )))
                .bind(person)
                .bind(organisation)
                .bind(now())
                .fetch_all(&mut *self)
                .await?;
                let mut changes = Vec::with_capacity(rows.len() * 2);
                for row in rows {
                    let c = Commitment::try_from(row)?;
                    let organisers: Vec<Uuid> =
                        sqlx::query_scalar("select organisation_id from event_organisers where event_id = $1")
                            .bind(c.event_id)
                            .fetch_all(&mut *self)
                            .await?;
                    let audience = commitment_audience_of(&c, &organisers);
                    if !audience.contains(&admins_of(organisation)) {
                        changes.push(Change::withdraw(
                            ResourceType::Commitment,
                            c.id,
                            c.version,
                            vec![admins_of(organisation)],
                        ));
                    }
                    changes.push(Change::of(&c, false, audience)?);
                }
                Ok(changes)
            }
        }
    };
}

release_tx!(sqlx::SqliteConnection);
release_tx!(sqlx::PgConnection);

/// The one order of registration and commitment lists: by creation (arrival).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatedSort {
    CreatedAt,
}

impl SortField for CreatedSort {
    const ALL: &'static [Self] = &[CreatedSort::CreatedAt];

    fn name(self) -> &'static str {
        "created_at"
    }

    fn column(self) -> &'static str {
        "created_at"
    }

    fn is_time(self) -> bool {
        true
    }
}
