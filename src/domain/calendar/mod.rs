//! iCalendar (RFC 5545) for learning events.
//!
//! [`render`] turns events into one `VCALENDAR` (media type `text/calendar`): one `VEVENT` per
//! event and one `VTIMEZONE` per time zone that a `TZID` refers to. Output is deterministic: the
//! same input gives the same bytes (time zones sorted by name, events in the given order, every
//! time stamp taken from the input, never from the clock).
//!
//! Choices worth knowing:
//! - Start and end are written as local time with `;TZID=<IANA name>`, for every zone including
//!   `UTC`, so a calendar shows the event in the zone it was planned in. The `VTIMEZONE` is derived
//!   from `chrono-tz`'s offsets: one `STANDARD`/`DAYLIGHT` observance per offset change found, from
//!   the change in force at January 1 of the first year used up to December 31 of the last.
//! - A time zone name `chrono-tz` does not know, an instant that falls in the repeated hour when
//!   clocks go back (RFC 5545 §3.3.5 reads such a local time as its *first* occurrence) and a year
//!   outside 1900–2200 are written in UTC (`...Z`) instead, so the instant is never misread.
//! - `ORGANIZER` (which iTIP asks of every published event) is the organising organisation: its
//!   name as `CN` and, as organisations have no e-mail address here, its id as the cal-address
//!   (`urn:uuid:<organisation id>`, a URI as RFC 5545 §3.3.3 asks). Calendars that do not show
//!   `CN` still see the name in `DESCRIPTION` (`Organisator: ...`), with the online link
//!   (`Online: ...`).
//! - Text is never interpreted (Markdown and HTML stay as typed), only escaped; control characters
//!   other than newline and tab are dropped; `\r\n` and `\r` count as a newline.
//! - An empty list gives a `VCALENDAR` without components: RFC 5545 asks for at least one, but
//!   calendar clients accept an empty feed, and an invented placeholder event would be worse.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz, TzOffset};

/// `PRODID` of every calendar this module writes.
pub const PRODID: &str = "-//VOV lerend netwerk//Events API//NL";

/// Domain that makes an event id into a globally unique `UID` (`<id>@events.vov.be`).
pub const UID_DOMAIN: &str = "events.vov.be";

/// What a calendar entry needs to know about an event.
pub struct CalendarEvent<'a> {
    /// The event's id; the `UID` is `<id>@events.vov.be`, the same for every version of the event.
    pub id: uuid::Uuid,
    /// `SUMMARY`: the event's title.
    pub title: &'a str,
    /// Plain text, the first part of `DESCRIPTION`.
    pub summary: Option<&'a str>,
    /// `DTSTART`, written in [`Self::time_zone`].
    pub starts_at: DateTime<Utc>,
    /// `DTEND`, written in [`Self::time_zone`]; left out when it is not after the start.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone name, e.g. `Europe/Brussels`.
    pub time_zone: &'a str,
    /// `LOCATION`: the venue as one line (`Name, Street 1, 9000 Gent`) or the online URL.
    pub location: Option<String>,
    /// Online meeting URL: the `URL` property, and repeated in `DESCRIPTION` (`Online: ...`).
    pub url: Option<&'a str>,
    /// `STATUS:CANCELLED` when true, else `STATUS:CONFIRMED`.
    pub cancelled: bool,
    /// `SEQUENCE`: how often what this entry shows changed (negative counts as 0). It must not
    /// move for changes the entry does not show, such as a seat taken.
    pub sequence: i64,
    /// `DTSTAMP` and `LAST-MODIFIED`: when what this entry shows last changed.
    pub updated_at: DateTime<Utc>,
    /// The organising organisation: `ORGANIZER:urn:uuid:<id>`.
    pub organiser_id: uuid::Uuid,
    /// The organiser's name: `CN` of `ORGANIZER`, and in `DESCRIPTION` (`Organisator: ...`).
    pub organiser_name: Option<&'a str>,
}

/// A whole VCALENDAR with one VEVENT per event and one VTIMEZONE per time zone used.
///
/// `calendar_name` becomes `X-WR-CALNAME`. Lines end in CRLF and are folded at 75 octets.
pub fn render(calendar_name: &str, events: &[CalendarEvent<'_>]) -> String {
    let rendered: Vec<(Stamp, Option<Stamp>)> = events
        .iter()
        .map(|event| {
            let tz = event.time_zone.parse::<Tz>().ok();
            let (starts_at, ends_at) = (whole_seconds(event.starts_at), whole_seconds(event.ends_at));
            (Stamp::new(tz, starts_at), (ends_at > starts_at).then(|| Stamp::new(tz, ends_at)))
        })
        .collect();

    // Zone name -> (zone, earliest and latest local date written in it).
    let mut zones: BTreeMap<&'static str, (Tz, NaiveDate, NaiveDate)> = BTreeMap::new();
    for stamp in rendered.iter().flat_map(|(start, end)| std::iter::once(start).chain(end)) {
        if let Stamp::Local { tz, local } = stamp {
            let date = local.date();
            let range = zones.entry(tz.name()).or_insert((*tz, date, date));
            range.1 = range.1.min(date);
            range.2 = range.2.max(date);
        }
    }

    let mut out = Writer::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line(&format!("PRODID:{PRODID}"));
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.text("X-WR-CALNAME", calendar_name);
    for (tz, first, last) in zones.values() {
        write_time_zone(&mut out, *tz, first.year(), last.year());
    }
    for (event, (start, end)) in events.iter().zip(&rendered) {
        write_event(&mut out, event, start, end.as_ref());
    }
    out.line("END:VCALENDAR");
    out.buf
}

fn write_event(out: &mut Writer, event: &CalendarEvent<'_>, start: &Stamp, end: Option<&Stamp>) {
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}@{UID_DOMAIN}", event.id));
    out.line(&format!("DTSTAMP:{}", utc_stamp(event.updated_at)));
    out.line(&format!("LAST-MODIFIED:{}", utc_stamp(event.updated_at)));
    out.line(&format!("SEQUENCE:{}", event.sequence.max(0)));
    out.line(if event.cancelled { "STATUS:CANCELLED" } else { "STATUS:CONFIRMED" });
    out.text("SUMMARY", event.title);
    out.line(&format!("DTSTART{}", start.property_value()));
    if let Some(end) = end {
        out.line(&format!("DTEND{}", end.property_value()));
    }
    out.line(&organizer(event.organiser_id, event.organiser_name));
    if let Some(location) = event.location.as_deref().filter(|l| !l.trim().is_empty()) {
        out.text("LOCATION", location);
    }
    let url = event.url.map(strip_uri).filter(|u| !u.is_empty());
    if let Some(url) = &url {
        out.line(&format!("URL:{url}"));
    }
    let mut description = Vec::new();
    if let Some(summary) = event.summary.filter(|s| !s.trim().is_empty()) {
        description.push(summary.to_owned());
    }
    if let Some(name) = event.organiser_name.filter(|n| !n.trim().is_empty()) {
        description.push(format!("Organisator: {name}"));
    }
    if let Some(url) = &url {
        description.push(format!("Online: {url}"));
    }
    if !description.is_empty() {
        out.text("DESCRIPTION", &description.join("\n\n"));
    }
    out.line("END:VEVENT");
}

/// How a `DTSTART`/`DTEND` is written.
enum Stamp {
    /// Local wall-clock time in a zone that gets a `VTIMEZONE`.
    Local { tz: Tz, local: NaiveDateTime },
    /// UTC (`...Z`): for unknown zones and for times that the local form would misstate.
    Utc(DateTime<Utc>),
}

impl Stamp {
    /// `instant` must be in whole seconds, as iCalendar has no fractions.
    fn new(tz: Option<Tz>, instant: DateTime<Utc>) -> Self {
        let Some(tz) = tz.filter(|_| LOCAL_YEARS.contains(&instant.year())) else { return Stamp::Utc(instant) };
        let local = instant.with_timezone(&tz).naive_local();
        // A reader takes the first occurrence of a repeated local time; only use the local form
        // when that reading gives back this very instant.
        match tz.from_local_datetime(&local).earliest() {
            Some(read_back) if read_back == instant => Stamp::Local { tz, local },
            _ => Stamp::Utc(instant),
        }
    }

    /// Parameters and value, starting with `;` or `:`, to follow the property name.
    fn property_value(&self) -> String {
        match self {
            Stamp::Local { tz, local } => format!(";TZID={}:{}", tz.name(), local_stamp(local)),
            Stamp::Utc(instant) => format!(":{}", utc_stamp(*instant)),
        }
    }
}

/// One `STANDARD` or `DAYLIGHT` sub-component.
struct Observance {
    /// Onset, in the local time of the offset in force before it (RFC 5545 §3.6.5).
    onset: NaiveDateTime,
    offset_from: i32,
    offset_to: i32,
    name: String,
    daylight: bool,
}

impl Observance {
    /// The change at `at` (seconds since the epoch) from `before` to `after`.
    fn new(at: i64, before: TzOffset, after: TzOffset) -> Self {
        let offset_from = before.fix().local_minus_utc();
        Observance {
            onset: naive_utc(at) + chrono::Duration::seconds(offset_from.into()),
            offset_from,
            offset_to: after.fix().local_minus_utc(),
            // Zones without an abbreviation use the numeric one tzdb uses too, e.g. "+03" or "+0530".
            name: after.abbreviation().map_or_else(|| numeric_name(after.fix().local_minus_utc()), str::to_owned),
            daylight: !after.dst_offset().is_zero(),
        }
    }
}

/// Writes the `VTIMEZONE` of `tz`, correct for every local time from January 1 of `first_year` up to
/// December 31 of `last_year`.
fn write_time_zone(out: &mut Writer, tz: Tz, first_year: i32, last_year: i32) {
    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{}", tz.name()));
    for observance in observances(tz, first_year, last_year) {
        let kind = if observance.daylight { "DAYLIGHT" } else { "STANDARD" };
        out.line(&format!("BEGIN:{kind}"));
        out.line(&format!("DTSTART:{}", local_stamp(&observance.onset)));
        out.line(&format!("TZOFFSETFROM:{}", utc_offset(observance.offset_from)));
        out.line(&format!("TZOFFSETTO:{}", utc_offset(observance.offset_to)));
        out.text("TZNAME", &observance.name);
        out.line(&format!("END:{kind}"));
    }
    out.line("END:VTIMEZONE");
}

const DAY: i64 = 24 * 60 * 60;

/// How far back from January 1 of the first year to look for the change that set the offset then
/// in force; without one, that offset gets a fixed observance from 1970-01-01.
const LOOK_BACK_DAYS: i64 = 3 * 366;

/// Years written as local time; outside them, times are written in UTC. This bounds the work of
/// scanning for offset changes, and `chrono-tz`'s data has no changes after 2099 anyway.
const LOCAL_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// The observances of `tz` for the given years: the one in force on January 1 of `first_year`, then
/// one per offset change up to December 31 of `last_year`.
///
/// `chrono-tz` exposes offsets, not rules, so changes are found by sampling the offset once a day and
/// bisecting each day in which it differs down to the second (tz data has whole-second changes).
/// An offset is the UTC offset, its DST part and its abbreviation, so a change of name or of
/// standard/daylight at the same UTC offset is an observance too.
fn observances(tz: Tz, first_year: i32, last_year: i32) -> Vec<Observance> {
    // Local times of these years lie within a day of them in UTC (offsets stay under ±26 hours).
    let jan_1 = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or(NaiveDate::MIN);
    let dec_31 = NaiveDate::from_ymd_opt(last_year, 12, 31).unwrap_or(NaiveDate::MAX);
    let span_start = jan_1.and_time(Default::default()).and_utc().timestamp() - 2 * DAY;
    let span_end = dec_31.and_time(Default::default()).and_utc().timestamp() + 3 * DAY;

    let first = match last_change_before(tz, span_start) {
        Some((at, before, after)) => Observance::new(at, before, after),
        None => {
            // No change for years: a fixed observance, from 1970-01-01 00:00 local (or from before the
            // span when that starts earlier), is all readers need for the span.
            let in_force = offset_at(tz, span_start);
            let mut fixed = Observance::new(span_start, in_force, in_force);
            fixed.onset = fixed.onset.min(DateTime::UNIX_EPOCH.naive_utc());
            fixed
        }
    };
    let mut result = vec![first];
    result.extend(
        changes(tz, span_start, span_end).into_iter().map(|(at, before, after)| Observance::new(at, before, after)),
    );
    result
}

/// The offset of `tz` at `at` seconds since the epoch (clamped to what chrono can represent).
fn offset_at(tz: Tz, at: i64) -> TzOffset {
    tz.offset_from_utc_datetime(&naive_utc(at))
}

fn naive_utc(at: i64) -> NaiveDateTime {
    let clamped = DateTime::from_timestamp(at, 0).unwrap_or(if at < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    clamped.naive_utc()
}

/// Every offset change in `(from, to]`, as (first second of the new offset, old offset, new offset).
fn changes(tz: Tz, from: i64, to: i64) -> Vec<(i64, TzOffset, TzOffset)> {
    let mut found = Vec::new();
    let mut at = from;
    let mut current = offset_at(tz, at);
    while at < to {
        let next = (at + DAY).min(to);
        if offset_at(tz, next) == current {
            at = next;
            continue;
        }
        // offset_at(lo) == current != offset_at(hi): narrow down to adjacent seconds.
        let (mut lo, mut hi) = (at, next);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset_at(tz, mid) == current {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let after = offset_at(tz, hi);
        found.push((hi, current, after));
        // Go on from the change itself: a second change on the same day is found next round.
        at = hi;
        current = after;
    }
    found
}

/// The last offset change at or before `at`, looking back at most [`LOOK_BACK_DAYS`].
fn last_change_before(tz: Tz, at: i64) -> Option<(i64, TzOffset, TzOffset)> {
    let in_force = offset_at(tz, at);
    (1..=LOOK_BACK_DAYS)
        .map(|days| at - days * DAY)
        .find(|&lower| offset_at(tz, lower) != in_force)
        .and_then(|lower| changes(tz, lower, at).pop())
}

/// Accumulates content lines, folded and CRLF-terminated.
#[derive(Default)]
struct Writer {
    buf: String,
}

impl Writer {
    /// Maximum octets of a physical line, CRLF excluded (RFC 5545 §3.1).
    const MAX_OCTETS: usize = 75;

    /// Appends one content line, folding it so that no physical line exceeds 75 octets; a fold
    /// never splits a UTF-8 character and the continuation starts with a single space.
    fn line(&mut self, content: &str) {
        let mut width = 0;
        for ch in content.chars() {
            let len = ch.len_utf8();
            if width + len > Self::MAX_OCTETS {
                self.buf.push_str("\r\n ");
                width = 1;
            }
            self.buf.push(ch);
            width += len;
        }
        self.buf.push_str("\r\n");
    }

    /// Appends a property whose value is TEXT, escaped.
    fn text(&mut self, name: &str, value: &str) {
        let mut line = String::with_capacity(name.len() + 1 + value.len());
        line.push_str(name);
        line.push(':');
        escape_text_into(&mut line, value);
        self.line(&line);
    }
}

/// Escapes TEXT per RFC 5545 §3.3.11: `\` `;` `,` and newline become `\\` `\;` `\,` `\n`.
/// `\r\n` and a lone `\r` are newlines; other control characters except tab are dropped.
fn escape_text_into(out: &mut String, value: &str) {
    let mut chars = value.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// `ORGANIZER;CN="<name>":urn:uuid:<id>`. A parameter value cannot hold `"` or control
/// characters (RFC 5545 §3.1), so they are dropped; quoting keeps `:`, `;` and `,` in the name.
fn organizer(id: uuid::Uuid, name: Option<&str>) -> String {
    let name: String = name.unwrap_or_default().chars().filter(|c| *c != '"' && !c.is_control()).collect();
    match name.trim() {
        "" => format!("ORGANIZER:urn:uuid:{id}"),
        name => format!("ORGANIZER;CN=\"{name}\":urn:uuid:{id}"),
    }
}

/// A URI value is not escaped (RFC 5545 §3.3.13), so whatever could break the line goes: control
/// characters and surrounding white space.
fn strip_uri(uri: &str) -> String {
    uri.trim().chars().filter(|c| !c.is_control()).collect()
}

/// `YYYYMMDDTHHMMSS`: a local DATE-TIME (RFC 5545 §3.3.5, form 2 or 3 with a TZID).
fn local_stamp(local: &NaiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// `instant` without its fraction of a second.
fn whole_seconds(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant.with_nanosecond(0).unwrap_or(instant)
}

/// `YYYYMMDDTHHMMSSZ`: a DATE-TIME in UTC.
fn utc_stamp(instant: DateTime<Utc>) -> String {
    format!("{}Z", local_stamp(&instant.naive_utc()))
}

/// `+HH` or `+HHMM` (sign as needed): the abbreviation tzdb gives zones without a lettered one.
fn numeric_name(seconds: i32) -> String {
    let name = utc_offset(seconds);
    name.strip_suffix("00").filter(|hours| hours.len() == 3).map_or(name.clone(), str::to_owned)
}

/// `+HHMM` or `-HHMM`, with seconds only when there are any (RFC 5545 §3.3.14; never `-0000`).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (hours, minutes, secs) = (abs / 3600, abs / 60 % 60, abs % 60);
    if secs == 0 { format!("{sign}{hours:02}{minutes:02}") } else { format!("{sign}{hours:02}{minutes:02}{secs:02}") }
}

#[cfg(test)]
mod tests;
