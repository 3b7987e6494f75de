//! Learning events, registrations and the commitments participants make.

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::organisation::{parse_theme_slugs, parse_web_url};
use super::person::StakeholderGroup;
use super::validation::{Invalid, line, optional_text};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest summary, in characters.
pub const SUMMARY_MAX: usize = 1_000;
/// Longest description (Markdown), in characters.
pub const DESCRIPTION_MAX: usize = 20_000;
/// Most co-organisers.
pub const CO_ORGANISERS_MAX: usize = 10;
/// Largest capacity.
pub const CAPACITY_MAX: i64 = 100_000;
/// Longest event, in days.
pub const DURATION_MAX_DAYS: i64 = 31;
/// Longest commitment text, in characters.
pub const COMMITMENT_MAX: usize = 2_000;
/// The years an event may take place in (a fixed range, the same as the OpenAPI document's).
pub const YEAR_MIN: i32 = 2000;
pub const YEAR_MAX: i32 = 2100;
/// How long before its start an event opens for check-in.
pub const CHECK_IN_OPENS_HOURS: i64 = 24;

str_enum! {
    /// What kind of gathering an event is.
    EventFormat {
        InspirationSession = "inspiration_session",
        Workshop = "workshop",
        LearningNetwork = "learning_network",
        Webinar = "webinar",
        Conference = "conference",
        Intervision = "intervision",
        FieldVisit = "field_visit",
        Other = "other",
    }
}

str_enum! {
    /// Where people attend: at a venue, online, or either.
    AttendanceMode {
        InPerson = "in_person",
        Online = "online",
        Hybrid = "hybrid",
    }
}

str_enum! {
    /// Where an event is in its life. `draft` → `published` or `cancelled`; `published` →
    /// `cancelled`, or `completed` once it has ended. `cancelled` and `completed` are final.
    EventStatus {
        Draft = "draft",
        Published = "published",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

str_enum! {
    /// Where a registration stands. `confirmed` holds a seat, `waitlisted` waits for one;
    /// `attended` and `no_show` are recorded by the organiser; `cancelled` is final.
    RegistrationStatus {
        Confirmed = "confirmed",
        Waitlisted = "waitlisted",
        Cancelled = "cancelled",
        Attended = "attended",
        NoShow = "no_show",
    }
}

str_enum! {
    /// How far a commitment has come.
    CommitmentStatus {
        Planned = "planned",
        InProgress = "in_progress",
        Done = "done",
        Dropped = "dropped",
    }
}

impl EventStatus {
    /// Whether anyone, also anonymously, may see an event in this status.
    pub fn is_public(self) -> bool {
        self != EventStatus::Draft
    }

    /// Why `self` cannot become `next` (`None` when it can). `ends_at` and `now` decide
    /// whether an event can be completed.
    pub fn transition_error(self, next: EventStatus, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
        use EventStatus::*;
        match (self, next) {
            (a, b) if a == b => None,
            (Draft, Published | Cancelled) | (Published, Cancelled) => None,
            (Published, Completed) if now >= ends_at => None,
            (Published, Completed) => Some("an event can be completed only after it has ended".into()),
            (Draft, Completed) => Some("a draft cannot be completed; publish it first".into()),
            (Cancelled | Completed, _) => Some(format!("a {} event cannot change status", self.as_str())),
            (_, Draft) => Some("a published event cannot go back to draft; cancel it instead".into()),
            _ => Some(format!("`{}` cannot become `{}`", self.as_str(), next.as_str())),
        }
    }
}

impl RegistrationStatus {
    /// Whether the registration holds a seat.
    pub fn holds_seat(self) -> bool {
        matches!(self, RegistrationStatus::Confirmed | RegistrationStatus::Attended | RegistrationStatus::NoShow)
    }
}

/// Where an in-person event takes place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ICC Gent", "address": "Van Rysselberghedreef 2", "postcode": "9000", "city": "Gent"}))]
pub struct Venue {
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// Street and number, up to 200 characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub address: Option<String>,
    /// Up to 10 characters (`9000`).
    #[schema(
        max_length = 10,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub postcode: Option<String>,
    /// 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub city: String,
}

impl Venue {
    fn parse(self) -> Result<Venue, String> {
        let name = line(&self.name, 200).map_err(|e| format!("`name` {e}"))?;
        let city = line(&self.city, 100).map_err(|e| format!("`city` {e}"))?;
        let address =
            self.address.as_deref().map(|a| line(a, 200)).transpose().map_err(|e| format!("`address` {e}"))?;
        let postcode =
            self.postcode.as_deref().map(|p| line(p, 10)).transpose().map_err(|e| format!("`postcode` {e}"))?;
        Ok(Venue { name, address, postcode, city })
    }

    /// The venue on one line, for calendars.
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.name.clone()];
        if let Some(a) = &self.address {
            parts.push(a.clone());
        }
        parts.push(match &self.postcode {
            Some(p) => format!("{p} {}", self.city),
            None => self.city.clone(),
        });
        parts.join(", ")
    }
}

/// The editable content of an event, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContent {
    pub title: String,
    pub summary: Option<String>,
    /// Markdown, kept exactly as given (never rendered or executed by the service).
    pub description: Option<String>,
    pub format: EventFormat,
    pub attendance_mode: AttendanceMode,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA time zone name.
    pub time_zone: String,
    pub venue: Option<Venue>,
    pub online_url: Option<String>,
    /// `None`: unlimited.
    pub capacity: Option<i64>,
    pub registration_opens_at: Option<DateTime<Utc>>,
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub co_organisers: Vec<Uuid>,
    pub themes: Vec<String>,
    pub stakeholder_groups: Vec<StakeholderGroup>,
    pub language: String,
}

/// Unvalidated event content (a create body, or current content with a patch applied).
#[derive(Debug, Clone)]
pub struct EventInput {
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub format: EventFormat,
    pub attendance_mode: AttendanceMode,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub venue: Option<Venue>,
    pub online_url: Option<String>,
    pub capacity: Option<i64>,
    pub registration_opens_at: Option<DateTime<Utc>>,
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub co_organisers: Vec<Uuid>,
    pub themes: Vec<String>,
    pub stakeholder_groups: Vec<StakeholderGroup>,
    pub language: String,
}

/// An IANA time zone name such as `Europe/Brussels`.
pub fn parse_time_zone(name: &str) -> Result<String, String> {
    name.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| format!("`{name}` is not an IANA time zone name such as `Europe/Brussels`"))
}

fn in_years(t: DateTime<Utc>) -> Result<(), String> {
    if (YEAR_MIN..=YEAR_MAX).contains(&t.year()) {
        Ok(())
    } else {
        Err(format!("must be in the years {YEAR_MIN} to {YEAR_MAX}"))
    }
}

impl EventContent {
    /// Validates content. `organiser` is the organising organisation (it cannot also be a
    /// co-organiser).
    pub fn parse(input: EventInput, organiser: Uuid) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let title = inv.check("/title", || line(&input.title, TITLE_MAX));
        let summary = inv.check("/summary", || optional_text(input.summary.as_deref(), SUMMARY_MAX));
        let description = inv.check("/description", || match input.description.as_deref() {
            // Markdown is kept exactly as given, only bounded and free of control characters.
            Some(d) => optional_text(Some(d), DESCRIPTION_MAX).map(|t| t.map(|_| d.to_string())),
            None => Ok(None),
        });
        let starts_at = input.starts_at.trunc_subsecs(0);
        let ends_at = input.ends_at.trunc_subsecs(0);
        inv.check("/starts_at", || in_years(starts_at));
        inv.check("/ends_at", || {
            in_years(ends_at)?;
            if ends_at <= starts_at {
                Err("must be after `starts_at`".into())
            } else if ends_at - starts_at > chrono::Duration::days(DURATION_MAX_DAYS) {
                Err(format!("an event lasts at most {DURATION_MAX_DAYS} days"))
            } else {
                Ok(())
            }
        });
        let time_zone = inv.check("/time_zone", || parse_time_zone(&input.time_zone));
        let venue = inv.check("/venue", || input.venue.map(Venue::parse).transpose());
        let online_url =
            inv.check("/online_url", || input.online_url.as_deref().map(|u| parse_web_url(u, 500)).transpose());
        let mode = input.attendance_mode;
        if matches!(mode, AttendanceMode::InPerson | AttendanceMode::Hybrid) && matches!(venue, Some(None)) {
            inv.errors.push(super::FieldError::new("/venue", format!("is required for an {} event", mode.as_str())));
        }
        if matches!(mode, AttendanceMode::Online) && matches!(venue, Some(Some(_))) {
            inv.errors.push(super::FieldError::new("/venue", "an online event has no venue; use `hybrid`"));
        }
        if matches!(mode, AttendanceMode::Online | AttendanceMode::Hybrid) && matches!(online_url, Some(None)) {
            inv.errors
                .push(super::FieldError::new("/online_url", format!("is required for an {} event", mode.as_str())));
        }
        if matches!(mode, AttendanceMode::InPerson) && matches!(online_url, Some(Some(_))) {
            inv.errors
                .push(super::FieldError::new("/online_url", "an in-person event has no online URL; use `hybrid`"));
        }
        inv.check("/capacity", || match input.capacity {
            Some(c) if !(1..=CAPACITY_MAX).contains(&c) => {
                Err(format!("must be between 1 and {CAPACITY_MAX}, or null for unlimited"))
            }
            _ => Ok(()),
        });
        let opens = input.registration_opens_at.map(|t| t.trunc_subsecs(0));
        let closes = input.registration_closes_at.map(|t| t.trunc_subsecs(0));
        inv.check("/registration_opens_at", || opens.map(in_years).transpose().map(|_| ()));
        inv.check("/registration_closes_at", || {
            let Some(closes) = closes else { return Ok(()) };
            in_years(closes)?;
            if opens.is_some_and(|o| o >= closes) {
                Err("must be after `registration_opens_at`".into())
            } else if closes > ends_at {
                Err("must not be after `ends_at`".into())
            } else {
                Ok(())
            }
        });
        inv.check("/co_organisers", || {
            if input.co_organisers.len() > CO_ORGANISERS_MAX {
                return Err(format!("at most {CO_ORGANISERS_MAX} co-organisers"));
            }
            if input.co_organisers.contains(&organiser) {
                return Err("the organiser is not also a co-organiser".into());
            }
            Ok(())
        });
        let mut co_organisers: Vec<Uuid> = Vec::with_capacity(input.co_organisers.len());
        for id in input.co_organisers {
            if !co_organisers.contains(&id) {
                co_organisers.push(id);
            }
        }
        let themes = inv.check("/themes", || parse_theme_slugs(&input.themes));
        inv.check("/stakeholder_groups", || {
            if input.stakeholder_groups.len() > StakeholderGroup::ALL.len() {
                Err(format!("at most {} groups", StakeholderGroup::ALL.len()))
            } else {
                Ok(())
            }
        });
        let mut groups: Vec<StakeholderGroup> = Vec::new();
        for g in input.stakeholder_groups {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        inv.check("/language", || {
            if input.language.len() == 2 && input.language.bytes().all(|b| b.is_ascii_lowercase()) {
                Ok(())
            } else {
                Err(format!("`{}` is not an ISO 639-1 code such as `nl` or `en`", input.language))
            }
        });
        inv.finish(|| EventContent {
            title: title.expect("checked"),
            summary: summary.expect("checked"),
            description: description.expect("checked"),
            format: input.format,
            attendance_mode: mode,
            starts_at,
            ends_at,
            time_zone: time_zone.expect("checked"),
            venue: venue.expect("checked"),
            online_url: online_url.expect("checked"),
            capacity: input.capacity,
            registration_opens_at: opens,
            registration_closes_at: closes,
            co_organisers,
            themes: themes.expect("checked"),
            stakeholder_groups: groups,
            language: input.language,
        })
    }

    pub fn to_input(&self) -> EventInput {
        EventInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            format: self.format,
            attendance_mode: self.attendance_mode,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            time_zone: self.time_zone.clone(),
            venue: self.venue.clone(),
            online_url: self.online_url.clone(),
            capacity: self.capacity,
            registration_opens_at: self.registration_opens_at,
            registration_closes_at: self.registration_closes_at,
            co_organisers: self.co_organisers.clone(),
            themes: self.themes.clone(),
            stakeholder_groups: self.stakeholder_groups.clone(),
            language: self.language.clone(),
        }
    }

    /// When registration closes: the end of the window, else the start of the event.
    pub fn registration_closes(&self) -> DateTime<Utc> {
        self.registration_closes_at.unwrap_or(self.starts_at)
    }

    /// Why nobody can register at `now` (`None` when registration is open).
    pub fn registration_closed_reason(&self, status: EventStatus, now: DateTime<Utc>) -> Option<String> {
        if status != EventStatus::Published {
            return Some(format!("the event is {}; registration is open only for published events", status.as_str()));
        }
        if let Some(opens) = self.registration_opens_at
            && now < opens
        {
            return Some(format!("registration opens at {}", opens.to_rfc3339()));
        }
        let closes = self.registration_closes();
        if now >= closes {
            return Some(format!("registration closed at {}", closes.to_rfc3339()));
        }
        None
    }
}

/// Seat state of an event, kept under the event row's write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seats {
    /// Registrations that hold a seat (confirmed, attended, no-show).
    pub taken: i64,
    pub waitlist: i64,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Uuid,
    pub organiser_id: Uuid,
    pub content: EventContent,
    pub status: EventStatus,
    pub seats: Seats,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// What a calendar entry of the event shows moved this many times (its `SEQUENCE`).
    pub calendar_sequence: i64,
    /// When what a calendar entry shows last moved (its `LAST-MODIFIED`).
    pub calendar_updated_at: DateTime<Utc>,
}

impl Event {
    /// Whether the event with `content` and `status` shows differently in a calendar: another
    /// title, summary, start, end, time zone, venue or link, or cancelled where it was not (or
    /// back). Seats, capacity, themes and the like are not in a calendar entry.
    pub fn calendar_differs(&self, content: &EventContent, status: EventStatus) -> bool {
        let (a, b) = (&self.content, content);
        a.title != b.title
            || a.summary != b.summary
            || a.starts_at != b.starts_at
            || a.ends_at != b.ends_at
            || a.time_zone != b.time_zone
            || a.venue != b.venue
            || a.online_url != b.online_url
            || (self.status == EventStatus::Cancelled) != (status == EventStatus::Cancelled)
    }

    /// Every organisation that runs the event.
    pub fn organisers(&self) -> Vec<Uuid> {
        let mut all = vec![self.organiser_id];
        all.extend(self.content.co_organisers.iter().copied());
        all
    }

    /// Seats left; `None` when capacity is unlimited.
    pub fn seats_left(&self) -> Option<i64> {
        self.content.capacity.map(|c| (c - self.seats.taken).max(0))
    }
}

/// A stored registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: Uuid,
    pub event_id: Uuid,
    pub person_id: Uuid,
    pub person_name: String,
    pub status: RegistrationStatus,
    /// Order of arrival at the event.
    pub arrival: i64,
    /// 1-based place on the waitlist, when waitlisted.
    pub waitlist_position: Option<i64>,
    /// The organisation that registered the person, when not the person themself.
    pub organisation_id: Option<Uuid>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The editable content of a commitment, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentContent {
    pub text: String,
    pub due_on: Option<NaiveDate>,
    pub status: CommitmentStatus,
    /// A theme slug.
    pub theme: Option<String>,
    pub shared_with_organiser: bool,
    /// An organisation the owner belongs to.
    pub shared_with_organisation: Option<Uuid>,
}

impl CommitmentContent {
    pub fn parse(
        text: &str,
        due_on: Option<NaiveDate>,
        status: CommitmentStatus,
        theme: Option<String>,
        shared_with_organiser: bool,
        shared_with_organisation: Option<Uuid>,
    ) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let text = inv.check("/text", || {
            optional_text(Some(text), COMMITMENT_MAX)?.ok_or_else(|| "must not be empty".to_string())
        });
        inv.check("/due_on", || match due_on {
            Some(d) if !(YEAR_MIN..=YEAR_MAX).contains(&d.year()) => {
                Err(format!("must be in the years {YEAR_MIN} to {YEAR_MAX}"))
            }
            _ => Ok(()),
        });
        let theme = inv.check("/theme", || {
            theme.map(|t| super::theme::Slug::parse(&t).map(|s| s.as_str().to_string())).transpose()
        });
        inv.finish(|| CommitmentContent {
            text: text.expect("checked"),
            due_on,
            status,
            theme: theme.expect("checked"),
            shared_with_organiser,
            shared_with_organisation,
        })
    }
}

/// A stored commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub id: Uuid,
    pub event_id: Uuid,
    pub person_id: Uuid,
    pub content: CommitmentContent,
    /// The learning record that shows a done commitment (once learning records exist).
    pub learning_record_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input() -> EventInput {
        EventInput {
            title: "Leren op de werkvloer".into(),
            summary: None,
            description: Some("# Programma\n\n<script>alert(1)</script>".into()),
            format: EventFormat::Workshop,
            attendance_mode: AttendanceMode::InPerson,
            starts_at: at("2026-12-01T09:00:00.123Z"),
            ends_at: at("2026-12-01T12:00:00Z"),
            time_zone: "Europe/Brussels".into(),
            venue: Some(Venue {
                name: "ICC".into(),
                address: None,
                postcode: Some("9000".into()),
                city: "Gent".into(),
            }),
            online_url: None,
            capacity: Some(30),
            registration_opens_at: None,
            registration_closes_at: None,
            co_organisers: vec![],
            themes: vec![],
            stakeholder_groups: vec![],
            language: "nl".into(),
        }
    }

    #[test]
    fn markdown_is_kept_as_given_and_times_are_whole_seconds() {
        let c = EventContent::parse(input(), Uuid::nil()).unwrap();
        assert_eq!(c.description.as_deref(), Some("# Programma\n\n<script>alert(1)</script>"));
        assert_eq!(c.starts_at, at("2026-12-01T09:00:00Z"));
    }

    #[test]
    fn the_mode_decides_venue_and_url() {
        let mut i = input();
        i.attendance_mode = AttendanceMode::Hybrid;
        let err = EventContent::parse(i.clone(), Uuid::nil()).unwrap_err();
        assert_eq!(err.errors[0].pointer, "/online_url");
        i.attendance_mode = AttendanceMode::Online;
        i.online_url = Some("https://meet.example.org/x".into());
        let err = EventContent::parse(i, Uuid::nil()).unwrap_err();
        assert_eq!(err.errors[0].pointer, "/venue");
    }

    #[test]
    fn times_zones_and_windows_are_checked() {
        let mut i = input();
        i.ends_at = i.starts_at;
        i.time_zone = "Europe/Gent".into();
        i.registration_closes_at = Some(at("2026-12-02T00:00:00Z"));
        let err = EventContent::parse(i, Uuid::nil()).unwrap_err();
        let pointers: Vec<_> = err.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/ends_at", "/time_zone", "/registration_closes_at"]);
    }

    #[test]
    fn only_allowed_transitions() {
        use EventStatus::*;
        let end = at("2026-12-01T12:00:00Z");
        let before = at("2026-12-01T11:00:00Z");
        assert!(Draft.transition_error(Published, end, before).is_none());
        assert!(Published.transition_error(Cancelled, end, before).is_none());
        assert!(Published.transition_error(Completed, end, before).is_some());
        assert!(Published.transition_error(Completed, end, end).is_none());
        assert!(Published.transition_error(Draft, end, before).is_some());
        assert!(Cancelled.transition_error(Published, end, before).is_some());
        assert!(Completed.transition_error(Cancelled, end, end).is_some());
        assert!(Draft.transition_error(Completed, end, end).is_some());
    }

    #[test]
    fn registration_is_open_inside_the_window_of_a_published_event() {
        let c = EventContent::parse(input(), Uuid::nil()).unwrap();
        let now = at("2026-11-30T09:00:00Z");
        assert!(c.registration_closed_reason(EventStatus::Published, now).is_none());
        assert!(c.registration_closed_reason(EventStatus::Draft, now).is_some());
        assert!(c.registration_closed_reason(EventStatus::Published, c.starts_at).is_some());
    }
}
