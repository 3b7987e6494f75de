//! Rows as stored, and what they turn into.

use super::*;
pub(super) use crate::db::invalid_stored;

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    pub(super) id: Uuid,
    pub(super) organiser_id: Uuid,
    pub(super) title: String,
    pub(super) summary: Option<String>,
    pub(super) description: Option<String>,
    pub(super) format: String,
    pub(super) attendance_mode: String,
    pub(super) starts_at: DateTime<Utc>,
    pub(super) ends_at: DateTime<Utc>,
    pub(super) time_zone: String,
    pub(super) venue: Option<String>,
    pub(super) online_url: Option<String>,
    pub(super) capacity: Option<i64>,
    pub(super) registration_opens_at: Option<DateTime<Utc>>,
    pub(super) registration_closes_at: Option<DateTime<Utc>>,
    pub(super) co_organisers: String,
    pub(super) themes: String,
    pub(super) stakeholder_groups: String,
    pub(super) language: String,
    pub(super) status: String,
    pub(super) seats_taken: i64,
    pub(super) waitlist_length: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
    pub(super) calendar_sequence: i64,
    pub(super) calendar_updated_at: Option<DateTime<Utc>>,
}

pub(super) const EVENT_COLUMNS: &str = "id, organiser_id, title, summary, description, format, attendance_mode, starts_at, \
     ends_at, time_zone, venue, online_url, capacity, registration_opens_at, registration_closes_at, co_organisers, \
     themes, stakeholder_groups, language, status, seats_taken, waitlist_length, created_at, updated_at, version, \
     calendar_sequence, calendar_updated_at";

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
            calendar_sequence: r.calendar_sequence,
            calendar_updated_at: r.calendar_updated_at.unwrap_or(r.updated_at),
        })
    }
}

pub(super) fn event_keyset(sort: EventSort, e: &Event) -> Keyset {
    let value = match sort {
        EventSort::StartsAt => SortValue::Time(e.content.starts_at),
        EventSort::Title => SortValue::Text(e.content.title.clone()),
        EventSort::CreatedAt => SortValue::Time(e.created_at),
        EventSort::UpdatedAt => SortValue::Time(e.updated_at),
    };
    Keyset { value, id: e.id }
}

pub(super) fn search_text(c: &EventContent) -> String {
    fold(&format!(
        "{} {} {}",
        c.title,
        c.summary.as_deref().unwrap_or_default(),
        c.venue.as_ref().map(Venue::one_line).unwrap_or_default()
    ))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

#[derive(sqlx::FromRow)]
pub(super) struct RegistrationRow {
    pub(super) id: Uuid,
    pub(super) event_id: Uuid,
    pub(super) person_id: Uuid,
    pub(super) person_name: String,
    pub(super) status: String,
    pub(super) arrival: i64,
    pub(super) waitlist_position: Option<i64>,
    pub(super) organisation_id: Option<Uuid>,
    pub(super) checked_in_at: Option<DateTime<Utc>>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
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
pub(super) const REGISTRATION_SELECT: &str = "select r.id, r.event_id, r.person_id, p.display_name as person_name, r.status, \
     r.arrival, case when r.status = 'waitlisted' then (select count(*) from registrations w \
     where w.event_id = r.event_id and w.status = 'waitlisted' and w.arrival <= r.arrival) end as waitlist_position, \
     r.organisation_id, r.checked_in_at, r.created_at, r.updated_at, r.version \
     from registrations r join people p on p.id = r.person_id";

#[derive(sqlx::FromRow)]
pub(super) struct CommitmentRow {
    pub(super) id: Uuid,
    pub(super) event_id: Uuid,
    pub(super) person_id: Uuid,
    pub(super) text: String,
    pub(super) due_on: Option<NaiveDate>,
    pub(super) status: String,
    pub(super) theme: Option<String>,
    pub(super) shared_with_organiser: bool,
    pub(super) shared_with_organisation: Option<Uuid>,
    pub(super) learning_record_id: Option<Uuid>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
}

pub(super) const COMMITMENT_COLUMNS: &str = "id, event_id, person_id, text, due_on, status, theme, shared_with_organiser, \
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
