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

pub use audiences::*;
pub use commitments::*;
use rows::*;

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
    /// The id the registration gets (taken on the caller's task, where ids may be planned).
    id: Uuid,
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
    /// Cancels every confirmed and waitlisted registration of an event that is being
    /// cancelled (locked), and counts their seats and places out of `event.seats` (not yet
    /// saved). Attendance already recorded stays. Returns the cancelled registrations.
    async fn cancel_all(&mut self, event: &mut Event, at: DateTime<Utc>) -> StoreResult<Vec<Registration>>;
}

impl<C> EventsTx for C
where
    C: sqlx::Connection + Send,
    C::Database: sqlx::database::HasStatementCache,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::DateTime<chrono::Utc>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::string::String:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> uuid::Uuid: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'q> std::option::Option<chrono::DateTime<chrono::Utc>>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
{
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
            _ => {
                return Err(StoreError::conflict(
                    Rule::RegistrationState,
                    format!("A registration that is {} cannot be cancelled.", reg.status.as_str()),
                ));
            }
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

    async fn cancel_all(&mut self, event: &mut Event, at: DateTime<Utc>) -> StoreResult<Vec<Registration>> {
        let active: Vec<Uuid> = sqlx::query_scalar(
            "select id from registrations where event_id = $1 and status in ('confirmed', 'waitlisted')
             order by arrival",
        )
        .bind(event.id)
        .fetch_all(&mut *self)
        .await?;
        let mut cancelled = Vec::with_capacity(active.len());
        for id in active {
            let before = self.load_registration(id).await?.ok_or(StoreError::NotFound)?;
            match before.status {
                RegistrationStatus::Confirmed => event.seats.taken -= 1,
                _ => event.seats.waitlist -= 1,
            }
            cancelled.push(self.set_registration_status(id, RegistrationStatus::Cancelled, None, at).await?);
        }
        Ok(cancelled)
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

impl<C> ReleaseTx for C
where
    C: sqlx::Connection + Send,
    C::Database: sqlx::database::HasStatementCache,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> bool: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::DateTime<chrono::Utc>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::NaiveDate: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::string::String:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> uuid::Uuid: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    C: EventsTx,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
{
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
        let regs: Vec<(Uuid, i64, Uuid, Option<Uuid>)> =
            sqlx::query_as("select id, version, event_id, organisation_id from registrations where person_id = $1")
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

mod audiences;
mod commitments;
mod rows;
mod schedule;
mod seats;
