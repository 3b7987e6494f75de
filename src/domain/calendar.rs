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
//! - The organiser has no e-mail address here, and `ORGANIZER` must be a cal-address, so the name
//!   goes into `DESCRIPTION` (`Organisator: ...`), as does the online link (`Online: ...`).
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
    /// `SEQUENCE`: the event's version - 1, so it increases with every change (negative counts as 0).
    pub sequence: i64,
    /// `DTSTAMP` and `LAST-MODIFIED`.
    pub updated_at: DateTime<Utc>,
    /// The organiser's name, written in `DESCRIPTION` (`Organisator: ...`).
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
mod tests {
    use super::*;
    use chrono::Duration;
    use icalendar::parser::{read_calendar, unfold};

    /// A parsed component, owned, as the `icalendar` parser reads it (TEXT values unescaped).
    #[derive(Debug)]
    struct Comp {
        name: String,
        props: Vec<Prop>,
        children: Vec<Comp>,
    }

    #[derive(Debug)]
    struct Prop {
        name: String,
        params: Vec<(String, Option<String>)>,
        value: String,
    }

    impl Comp {
        fn from_parsed(c: &icalendar::parser::Component<'_>) -> Comp {
            Comp {
                name: c.name.as_str().to_owned(),
                props: c.properties.iter().map(Prop::from_parsed).collect(),
                children: c.components.iter().map(Comp::from_parsed).collect(),
            }
        }

        fn prop(&self, name: &str) -> Option<&Prop> {
            self.props.iter().find(|p| p.name == name)
        }

        fn value(&self, name: &str) -> &str {
            &self.prop(name).unwrap_or_else(|| panic!("{} has no {name}", self.name)).value
        }

        fn children(&self, name: &str) -> Vec<&Comp> {
            self.children.iter().filter(|c| c.name == name).collect()
        }
    }

    impl Prop {
        fn from_parsed(p: &icalendar::parser::Property<'_>) -> Prop {
            Prop {
                name: p.name.as_str().to_owned(),
                params: p
                    .params
                    .iter()
                    .map(|param| (param.key.as_str().to_owned(), param.val.as_ref().map(|v| v.as_str().to_owned())))
                    .collect(),
                value: p.val.as_str().to_owned(),
            }
        }

        fn param(&self, key: &str) -> Option<&str> {
            self.params.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_deref())
        }
    }

    /// Parses with the `icalendar` crate's parser and returns the VCALENDAR, after checking the
    /// framing every line must have.
    fn parse(ics: &str) -> Comp {
        assert_crlf_and_folding(ics);
        let unfolded = unfold(ics);
        let calendar = read_calendar(&unfolded).unwrap_or_else(|e| panic!("does not parse: {e}\n{ics}"));
        let root = Comp {
            name: "VCALENDAR".into(),
            props: calendar.properties.iter().map(Prop::from_parsed).collect(),
            children: calendar.components.iter().map(Comp::from_parsed).collect(),
        };
        assert!(unfolded.starts_with("BEGIN:VCALENDAR\r\n") && unfolded.ends_with("END:VCALENDAR\r\n"));
        root
    }

    /// Every line ends in CRLF, no bare CR or LF, no physical line over 75 octets, continuation lines
    /// start with exactly one space (a fold never eats a character of the value).
    fn assert_crlf_and_folding(ics: &str) {
        assert!(ics.ends_with("\r\n"), "last line not ended by CRLF");
        let bytes = ics.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
                b'\n' => assert_eq!(bytes[i - 1], b'\r', "bare LF at {i}"),
                _ => {}
            }
        }
        for line in ics.strip_suffix("\r\n").unwrap_or(ics).split("\r\n") {
            assert!(line.len() <= 75, "line of {} octets: {line:?}", line.len());
            assert!(!line.is_empty(), "empty line");
            assert!(!line.starts_with("  ") && !line.starts_with('\t'), "odd continuation: {line:?}");
        }
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn event(time_zone: &str, starts_at: DateTime<Utc>) -> CalendarEvent<'_> {
        CalendarEvent {
            id: uuid::Uuid::from_u128(0x0192_5e3a_7b1c_7d2e_8f00_1122_3344_5566),
            title: "Lerend netwerk: kick-off",
            summary: None,
            starts_at,
            ends_at: starts_at + Duration::hours(2),
            time_zone,
            location: None,
            url: None,
            cancelled: false,
            sequence: 0,
            updated_at: utc(2024, 12, 1, 8, 30),
            organiser_name: None,
        }
    }

    fn vevents(calendar: &Comp) -> Vec<&Comp> {
        calendar.children("VEVENT")
    }

    fn local(value: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap_or_else(|e| panic!("{value}: {e}"))
    }

    fn offset_seconds(value: &str) -> i64 {
        let sign = if value.starts_with('-') { -1 } else { 1 };
        let digits: Vec<i64> =
            value.as_bytes()[1..].chunks(2).map(|c| std::str::from_utf8(c).unwrap().parse().unwrap()).collect();
        sign * (digits[0] * 3600 + digits[1] * 60 + digits.get(2).copied().unwrap_or(0))
    }

    /// The observance a reader applies to `local` per RFC 5545 §3.6.5: the one with the latest onset
    /// at or before it.
    fn observance_for(vtimezone: &Comp, local_time: NaiveDateTime) -> &Comp {
        vtimezone
            .children
            .iter()
            .filter(|o| o.name == "STANDARD" || o.name == "DAYLIGHT")
            .filter(|o| local(o.value("DTSTART")) <= local_time)
            .max_by_key(|o| local(o.value("DTSTART")))
            .unwrap_or_else(|| panic!("no observance covers {local_time} in {vtimezone:?}"))
    }

    /// The instant a reader takes a DTSTART/DTEND for, using the calendar's own VTIMEZONE.
    fn instant(calendar: &Comp, prop: &Prop) -> DateTime<Utc> {
        match prop.param("TZID") {
            None => {
                let value = prop.value.strip_suffix('Z').expect("a time without TZID must be UTC");
                local(value).and_utc()
            }
            Some(tzid) => {
                let vtimezone = calendar
                    .children("VTIMEZONE")
                    .into_iter()
                    .find(|z| z.value("TZID") == tzid)
                    .unwrap_or_else(|| panic!("TZID={tzid} has no VTIMEZONE"));
                let local_time = local(&prop.value);
                let offset = offset_seconds(observance_for(vtimezone, local_time).value("TZOFFSETTO"));
                (local_time - Duration::seconds(offset)).and_utc()
            }
        }
    }

    #[test]
    fn winter_event_in_brussels_is_local_time_with_a_matching_vtimezone() {
        let ics = render("VOV", &[event("Europe/Brussels", utc(2025, 1, 15, 9, 0))]);
        let calendar = parse(&ics);

        let vevent = vevents(&calendar)[0];
        let dtstart = vevent.prop("DTSTART").unwrap();
        assert_eq!(dtstart.param("TZID"), Some("Europe/Brussels"));
        assert_eq!(dtstart.value, "20250115T100000");
        assert_eq!(vevent.prop("DTEND").unwrap().value, "20250115T120000");

        let zones = calendar.children("VTIMEZONE");
        assert_eq!(zones.len(), 1);
        assert_eq!(zones[0].value("TZID"), "Europe/Brussels");
        let offsets: Vec<&str> = zones[0].children.iter().map(|o| o.value("TZOFFSETTO")).collect();
        assert!(offsets.contains(&"+0100") && offsets.contains(&"+0200"), "{offsets:?}");
        let winter = observance_for(zones[0], local("20250115T100000"));
        assert_eq!(winter.name, "STANDARD");
        assert_eq!(winter.value("TZOFFSETTO"), "+0100");
        assert_eq!(winter.value("TZOFFSETFROM"), "+0200");
        assert_eq!(winter.value("TZNAME"), "CET");
        assert_eq!(winter.value("DTSTART"), "20241027T030000", "onset in the local time of the previous offset");
        assert_eq!(instant(&calendar, dtstart), utc(2025, 1, 15, 9, 0));

        // The crate's own model reads the same local time and zone.
        let unfolded = unfold(&ics);
        let model = icalendar::Calendar::from(read_calendar(&unfolded).unwrap());
        use icalendar::Component as _;
        let start = model.events().next().unwrap().get_start();
        assert_eq!(
            start,
            Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::WithTimezone {
                date_time: local("20250115T100000"),
                tzid: "Europe/Brussels".into(),
            }))
        );
    }

    #[test]
    fn summer_event_in_brussels_is_utc_plus_two() {
        let calendar = parse(&render("VOV", &[event("Europe/Brussels", utc(2025, 7, 1, 9, 0))]));
        let dtstart = vevents(&calendar)[0].prop("DTSTART").unwrap();
        assert_eq!(dtstart.value, "20250701T110000");
        let zone = calendar.children("VTIMEZONE")[0];
        let summer = observance_for(zone, local(&dtstart.value));
        assert_eq!(summer.name, "DAYLIGHT");
        assert_eq!(summer.value("TZOFFSETTO"), "+0200");
        assert_eq!(summer.value("TZNAME"), "CEST");
        assert_eq!(summer.value("DTSTART"), "20250330T020000");
        assert_eq!(instant(&calendar, dtstart), utc(2025, 7, 1, 9, 0));
    }

    #[test]
    fn cancellation_uid_sequence_and_stamps() {
        let first = CalendarEvent { sequence: 0, ..event("Europe/Brussels", utc(2025, 3, 3, 13, 0)) };
        let changed = CalendarEvent {
            sequence: 4,
            cancelled: true,
            updated_at: utc(2025, 2, 20, 16, 45),
            ..event("Europe/Brussels", utc(2025, 3, 3, 13, 0))
        };
        let before = parse(&render("VOV", &[first]));
        let after = parse(&render("VOV", &[changed]));
        let (before, after) = (vevents(&before)[0], vevents(&after)[0]);

        assert_eq!(before.value("UID"), "01925e3a-7b1c-7d2e-8f00-112233445566@events.vov.be");
        assert_eq!(after.value("UID"), before.value("UID"), "UID is stable across versions");
        assert_eq!(before.value("STATUS"), "CONFIRMED");
        assert_eq!(after.value("STATUS"), "CANCELLED");
        assert_eq!(before.value("SEQUENCE"), "0");
        assert_eq!(after.value("SEQUENCE"), "4");
        assert_eq!(after.value("DTSTAMP"), "20250220T164500Z");
        assert_eq!(after.value("LAST-MODIFIED"), "20250220T164500Z");

        let negative = parse(&render("VOV", &[CalendarEvent { sequence: -1, ..event("UTC", utc(2025, 3, 3, 13, 0)) }]));
        assert_eq!(vevents(&negative)[0].value("SEQUENCE"), "0", "SEQUENCE is never negative");
    }

    #[test]
    fn special_characters_round_trip_and_long_lines_are_folded() {
        let title = "Vorming; deel 1, \"basis\" \\ praktijk\nmet <b>HTML</b> en *markdown*\r\nregel 3";
        let summary: String = "Één café, 🎓 voor iedereen; ".chars().cycle().take(300).collect();
        assert_eq!(summary.chars().count(), 300);
        let ev = CalendarEvent {
            title,
            summary: Some(&summary),
            location: Some("Het Huis, Kerkstraat 1, 9000 Gent".into()),
            url: Some("https://meet.example.org/abc?x=1;y=2,3"),
            organiser_name: Some("VOV, Vlaams Ondersteuningscentrum"),
            ..event("Europe/Brussels", utc(2025, 5, 6, 7, 0))
        };
        let ics = render("Vormingen; VOV, Gent", &[ev]);
        let calendar = parse(&ics);
        assert_eq!(calendar.value("X-WR-CALNAME"), "Vormingen; VOV, Gent");

        let vevent = vevents(&calendar)[0];
        assert_eq!(vevent.value("SUMMARY"), title.replace("\r\n", "\n"));
        assert_eq!(vevent.value("LOCATION"), "Het Huis, Kerkstraat 1, 9000 Gent");
        assert_eq!(vevent.value("URL"), "https://meet.example.org/abc?x=1;y=2,3");
        assert_eq!(
            vevent.value("DESCRIPTION"),
            format!(
                "{summary}\n\nOrganisator: VOV, Vlaams Ondersteuningscentrum\n\nOnline: https://meet.example.org/abc?x=1;y=2,3"
            )
        );
        // Raw form: escaped, and the description took several folded lines.
        assert!(ics.contains(r"SUMMARY:Vorming\; deel 1\, "));
        assert!(ics.contains(r"\\ praktijk\nmet <b>HTML</b>"));
        assert!(ics.lines().filter(|l| l.starts_with(' ')).count() >= 5);
    }

    #[test]
    fn folding_never_splits_a_character_and_fills_lines() {
        // 4-octet emoji after an odd-length prefix: the fold must fall before a character.
        let title: String = std::iter::once('x').chain(std::iter::repeat_n('😀', 60)).collect();
        let ics = render("VOV", &[CalendarEvent { title: &title, ..event("UTC", utc(2025, 1, 1, 0, 0)) }]);
        let calendar = parse(&ics);
        assert_eq!(vevents(&calendar)[0].value("SUMMARY"), title);
        let summary_lines: Vec<&str> = ics
            .split("\r\n")
            .skip_while(|l| !l.starts_with("SUMMARY:"))
            .take_while(|l| !l.starts_with("DTSTART"))
            .collect();
        // "SUMMARY:x" is 9 octets + 16 emoji = 73; a 17th would make 77.
        assert_eq!(summary_lines[0].len(), 73);
        assert!(summary_lines[1..].iter().all(|l| l.starts_with(' ') && l.len() <= 75));
    }

    #[test]
    fn control_characters_are_dropped_tabs_and_newlines_kept() {
        let title = "a\u{0}b\u{7}c\u{1b}[31md\u{7f}e\u{85}f\tg\rh\ni";
        let ics = render("VOV", &[CalendarEvent { title, ..event("UTC", utc(2025, 1, 1, 0, 0)) }]);
        let calendar = parse(&ics);
        assert_eq!(vevents(&calendar)[0].value("SUMMARY"), "abc[31mdef\tg\nh\ni");
        let url = CalendarEvent { url: Some(" https://x.test/a\r\nb "), ..event("UTC", utc(2025, 1, 1, 0, 0)) };
        let calendar = parse(&render("VOV", &[url]));
        assert_eq!(vevents(&calendar)[0].value("URL"), "https://x.test/ab");
    }

    #[test]
    fn two_zones_give_exactly_two_vtimezones_and_every_time_resolves() {
        let starts = [
            ("America/New_York", utc(2025, 1, 10, 15, 0)),
            ("Europe/Brussels", utc(2025, 1, 15, 9, 0)),
            ("America/New_York", utc(2025, 6, 10, 15, 0)),
            ("Europe/Brussels", utc(2025, 8, 15, 9, 0)),
            ("Europe/Brussels", utc(2026, 11, 2, 18, 30)),
        ];
        let events: Vec<CalendarEvent<'_>> = starts.iter().map(|(tz, at)| event(tz, *at)).collect();
        let calendar = parse(&render("VOV", &events));

        let zones: Vec<&str> = calendar.children("VTIMEZONE").iter().map(|z| z.value("TZID")).collect();
        assert_eq!(zones, ["America/New_York", "Europe/Brussels"]);
        let vevents = vevents(&calendar);
        assert_eq!(vevents.len(), starts.len());
        for (vevent, (tz, at)) in vevents.iter().zip(&starts) {
            let dtstart = vevent.prop("DTSTART").unwrap();
            assert_eq!(dtstart.param("TZID"), Some(*tz));
            assert_eq!(instant(&calendar, dtstart), *at);
            assert_eq!(instant(&calendar, vevent.prop("DTEND").unwrap()), *at + Duration::hours(2));
        }
        assert_eq!(vevents[0].value("DTSTART"), "20250110T100000", "EST is UTC-5");
        assert_eq!(vevents[2].value("DTSTART"), "20250610T110000", "EDT is UTC-4");
    }

    #[test]
    fn fixed_offset_zones_get_one_standard_observance() {
        let events = [event("Asia/Tokyo", utc(2025, 4, 1, 1, 0)), event("UTC", utc(2025, 4, 1, 1, 0))];
        let calendar = parse(&render("VOV", &events));
        let zones = calendar.children("VTIMEZONE");
        assert_eq!(zones.len(), 2);
        for (zone, (tzid, offset, name)) in zones.iter().zip([("Asia/Tokyo", "+0900", "JST"), ("UTC", "+0000", "UTC")])
        {
            assert_eq!(zone.value("TZID"), tzid);
            assert_eq!(zone.children.len(), 1);
            let standard = &zone.children[0];
            assert_eq!(standard.name, "STANDARD");
            assert_eq!(standard.value("DTSTART"), "19700101T000000");
            assert_eq!(standard.value("TZOFFSETFROM"), offset);
            assert_eq!(standard.value("TZOFFSETTO"), offset);
            assert_eq!(standard.value("TZNAME"), name);
        }
        let vevents = vevents(&calendar);
        assert_eq!(vevents[0].value("DTSTART"), "20250401T100000");
        assert_eq!(vevents[1].value("DTSTART"), "20250401T010000");
        assert_eq!(vevents[1].prop("DTSTART").unwrap().param("TZID"), Some("UTC"));
    }

    #[test]
    fn many_times_in_many_zones_resolve_to_the_same_instant() {
        // Southern hemisphere (DST over new year), half- and quarter-hour offsets, a zone without
        // lettered abbreviations, and instants right at and around the changes.
        let zones = [
            "Europe/Brussels",
            "America/New_York",
            "Australia/Sydney",
            "Asia/Kolkata",
            "America/St_Johns",
            "Asia/Kathmandu",
            "America/Sao_Paulo",
            "Europe/Istanbul",
        ];
        let mut instants: Vec<DateTime<Utc>> =
            (0..260).map(|i| utc(2024, 1, 1, 0, 0) + Duration::minutes(i * (3 * 24 * 60 + 37))).collect();
        for change in [utc(2025, 3, 30, 1, 0), utc(2025, 10, 26, 1, 0), utc(2025, 3, 9, 7, 0), utc(2025, 11, 2, 6, 0)] {
            instants.extend((-8..=8).map(|q| change + Duration::minutes(q * 15)));
        }
        for tz in zones {
            let events: Vec<CalendarEvent<'_>> = instants.iter().map(|at| event(tz, *at)).collect();
            let ics = render("VOV", &events);
            let calendar = parse(&ics);
            assert_eq!(calendar.children("VTIMEZONE").len(), 1, "{tz}");
            for (vevent, at) in vevents(&calendar).iter().zip(&instants) {
                assert_eq!(instant(&calendar, vevent.prop("DTSTART").unwrap()), *at, "{tz} at {at}");
                assert_eq!(instant(&calendar, vevent.prop("DTEND").unwrap()), *at + Duration::hours(2), "{tz}");
            }
        }
    }

    #[test]
    fn repeated_hour_when_clocks_go_back_is_written_in_utc() {
        // 2025-10-26 in Brussels: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        let first = event("Europe/Brussels", utc(2025, 10, 26, 0, 30));
        let second = event("Europe/Brussels", utc(2025, 10, 26, 1, 30));
        let calendar = parse(&render("VOV", &[first, second]));
        let vevents = vevents(&calendar);
        let dtstart = vevents[0].prop("DTSTART").unwrap();
        assert_eq!((dtstart.param("TZID"), dtstart.value.as_str()), (Some("Europe/Brussels"), "20251026T023000"));
        let dtstart = vevents[1].prop("DTSTART").unwrap();
        assert_eq!((dtstart.param("TZID"), dtstart.value.as_str()), (None, "20251026T013000Z"));
        assert_eq!(vevents[1].value("DTEND"), "20251026T043000", "the end is unambiguous again");
    }

    #[test]
    fn unknown_time_zone_is_written_in_utc_without_vtimezone() {
        let calendar = parse(&render("VOV", &[event("Mars/Olympus_Mons", utc(2025, 1, 15, 9, 0))]));
        assert!(calendar.children("VTIMEZONE").is_empty());
        let vevent = vevents(&calendar)[0];
        assert_eq!(vevent.prop("DTSTART").unwrap().param("TZID"), None);
        assert_eq!(vevent.value("DTSTART"), "20250115T090000Z");
    }

    #[test]
    fn fractions_of_seconds_and_far_years() {
        let fraction = CalendarEvent {
            ends_at: utc(2025, 1, 15, 9, 0) + Duration::milliseconds(500),
            ..event("Europe/Brussels", utc(2025, 1, 15, 9, 0) + Duration::milliseconds(250))
        };
        let far = event("Europe/Brussels", utc(2300, 7, 1, 9, 0));
        let calendar = parse(&render("VOV", &[fraction, far]));
        let vevents = vevents(&calendar);
        assert_eq!(vevents[0].value("DTSTART"), "20250115T100000");
        assert!(vevents[0].prop("DTEND").is_none(), "an end in the same second is no end");
        assert_eq!(vevents[1].value("DTSTART"), "23000701T090000Z");
        let zone = calendar.children("VTIMEZONE")[0];
        assert!(zone.children.iter().all(|o| o.value("DTSTART").starts_with("202")), "no scan up to 2300");
    }

    #[test]
    fn calendar_properties_and_optional_fields() {
        let bare =
            CalendarEvent { ends_at: utc(2025, 1, 15, 9, 0), ..event("Europe/Brussels", utc(2025, 1, 15, 9, 0)) };
        let ics = render("VOV", &[bare]);
        let calendar = parse(&ics);
        assert_eq!(calendar.value("VERSION"), "2.0");
        assert_eq!(calendar.value("PRODID"), "-//VOV lerend netwerk//Events API//NL");
        assert_eq!(calendar.value("CALSCALE"), "GREGORIAN");
        assert_eq!(calendar.value("METHOD"), "PUBLISH");
        assert_eq!(calendar.value("X-WR-CALNAME"), "VOV");
        let vevent = vevents(&calendar)[0];
        for absent in ["DTEND", "LOCATION", "URL", "DESCRIPTION", "ORGANIZER"] {
            assert!(vevent.prop(absent).is_none(), "{absent} should be left out");
        }
        for present in ["UID", "DTSTAMP", "DTSTART", "SUMMARY"] {
            assert!(vevent.prop(present).is_some(), "{present} is required");
        }

        let empty = parse(&render("Leeg", &[]));
        assert!(empty.children.is_empty());
    }

    #[test]
    fn every_line_ends_in_crlf_and_output_is_deterministic() {
        let events = [
            CalendarEvent {
                summary: Some("regel 1\nregel 2\r\nregel 3"),
                ..event("Europe/Brussels", utc(2025, 1, 15, 9, 0))
            },
            event("America/New_York", utc(2025, 6, 1, 12, 0)),
        ];
        let ics = render("VOV", &events);
        assert_eq!(ics, render("VOV", &events), "same input, same bytes");
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
        assert_eq!(ics.matches('\r').count(), ics.matches("\r\n").count());
        assert!(ics.split_inclusive('\n').all(|line| line.ends_with("\r\n")));
        parse(&ics);
    }
}
