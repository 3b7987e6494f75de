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
        organiser_id: uuid::Uuid::from_u128(0x0192_5e3a_7b1c_7d2e_8f00_0000_0000_0011),
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
    for (zone, (tzid, offset, name)) in zones.iter().zip([("Asia/Tokyo", "+0900", "JST"), ("UTC", "+0000", "UTC")]) {
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
    let bare = CalendarEvent { ends_at: utc(2025, 1, 15, 9, 0), ..event("Europe/Brussels", utc(2025, 1, 15, 9, 0)) };
    let ics = render("VOV", &[bare]);
    let calendar = parse(&ics);
    assert_eq!(calendar.value("VERSION"), "2.0");
    assert_eq!(calendar.value("PRODID"), "-//VOV lerend netwerk//Events API//NL");
    assert_eq!(calendar.value("CALSCALE"), "GREGORIAN");
    assert_eq!(calendar.value("METHOD"), "PUBLISH");
    assert_eq!(calendar.value("X-WR-CALNAME"), "VOV");
    let vevent = vevents(&calendar)[0];
    for absent in ["DTEND", "LOCATION", "URL", "DESCRIPTION"] {
        assert!(vevent.prop(absent).is_none(), "{absent} should be left out");
    }
    // iTIP asks every published event for its organiser; without a name it is the id alone.
    let organizer = vevent.prop("ORGANIZER").expect("ORGANIZER is always there");
    assert_eq!(organizer.value, "urn:uuid:01925e3a-7b1c-7d2e-8f00-000000000011");
    assert!(organizer.params.is_empty(), "{organizer:?}");
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

#[test]
fn the_organiser_is_a_cal_address_with_its_name() {
    let named = CalendarEvent {
        organiser_name: Some("Zorgnet \"Kempen\": zorg; welzijn,\u{7} en meer"),
        ..event("Europe/Brussels", utc(2025, 1, 15, 9, 0))
    };
    let calendar = parse(&render("VOV", &[named]));
    let vevent = vevents(&calendar)[0];
    let organizer = vevent.prop("ORGANIZER").unwrap();
    assert_eq!(organizer.value, "urn:uuid:01925e3a-7b1c-7d2e-8f00-000000000011");
    assert_eq!(organizer.param("CN"), Some("Zorgnet Kempen: zorg; welzijn, en meer"));
    assert!(vevent.value("DESCRIPTION").contains("Organisator: Zorgnet \"Kempen\""));
}
