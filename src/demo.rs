//! The demo data set: what a newcomer finds on the first start of the embedded default.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Brussels;
use futures_util::future::try_join_all;
use uuid::Uuid;

use crate::auth::password;
use crate::auth::rights::{PersonRole, Scope};
use crate::db::events::EventFilter;
use crate::db::learning::RecordFilter;
use crate::db::page::Sort;
use crate::db::refs::ExternalRef;
use crate::db::solutions::{ChallengeFilter, ListOrder};
use crate::db::{Store, StoreError};
use crate::demo_solutions::{CHALLENGES, DemoRevision, DemoSolution, SOLUTIONS};
use crate::domain::account::Email;
use crate::domain::event::{
    AttendanceMode as Mode, CommitmentContent, CommitmentStatus, Event, EventContent, EventFormat as Format,
    EventInput, EventStatus, RegistrationStatus, Venue,
};
use crate::domain::learning::{
    ActivityType, LearningRecord, RecordContent, RecordInput, SOURCE_MANUAL, Sharing, Visibility,
};
use crate::domain::organisation::{EnterpriseNumber, OrganisationContent, OrganisationKind as Kind, Region, SizeBand};
use crate::domain::person::{AgeBand, MembershipRole, MembershipTerms, PersonContent, StakeholderGroup as Group};
use crate::domain::solution::{
    ChallengeContent, ChallengeStatus, CommentTarget, Context, Maturity, SolutionContent, SolutionStatus, TargetGroup,
};
use crate::domain::theme::{Slug, ThemeContent};

/// The demo facilitator's e-mail address.
pub const FACILITATOR_EMAIL: &str = "facilitator@vov.example";
/// The password of every demo account. Documented; never use the demo data in production.
pub const PASSWORD: &str = "lerenderwijs-demo";

/// The curated themes: slug, Dutch label, English label, description.
pub const THEMES: &[(&str, &str, &str, &str)] = &[
    (
        "lifelong-learning",
        "Levenslang leren",
        "Lifelong learning",
        "Leren en ontwikkelen als gedeelde verantwoordelijkheid van beleid, werkgevers en werknemers, een heel leven lang.",
    ),
    (
        "informal-learning",
        "Informeel leren",
        "Informal learning",
        "Leren op de werkvloer, met collega's en in de leeromgeving: ontwikkeling in de ruimste zin, niet enkel opleiding.",
    ),
    (
        "workplace-learning",
        "Werkplekleren",
        "Workplace learning",
        "De werkplek en de leercontext als plaats waar mensen groeien.",
    ),
    (
        "careers-at-every-age",
        "Loopbanen op elke leeftijd",
        "Careers at every age",
        "Olijfboomloopbanen in plaats van citroenloopbanen: ontwikkeling is iets van alle leeftijden.",
    ),
    (
        "older-workers",
        "Oudere werknemers",
        "Older workers",
        "Een ontwikkelstrategie in plaats van een ontziestrategie, zodat oudere werknemers gemotiveerd blijven.",
    ),
    (
        "learning-as-competitive-advantage",
        "Leren als concurrentieel voordeel",
        "Learning as a competitive advantage",
        "Blijvende ontwikkeling maakt medewerkers flexibeler en inzetbaarder: lerenderwijs.",
    ),
    (
        "learning-together",
        "Samen leren",
        "Learning together",
        "Stakeholders brengen uitdagingen in, gaan bij elkaar te rade en co-creëren gedragen oplossingen.",
    ),
    (
        "inspiration-to-action",
        "Van inspiratie naar actie",
        "From inspiration to action",
        "Wat je op een inspiratiemoment leert, omzetten in concrete actie en beweging.",
    ),
    (
        "learning-culture",
        "Leercultuur",
        "Learning culture",
        "Organisaties waar leren vanzelfsprekend is en leuk: leren moet leuk zijn wil het maximaal renderen.",
    ),
    (
        "learning-in-smes",
        "Leren in kmo's",
        "Learning in SMEs",
        "Ontwikkeling in kleine en middelgrote ondernemingen, waar tijd en middelen schaars zijn.",
    ),
    (
        "digital-skills",
        "Digitale vaardigheden",
        "Digital skills",
        "Mee blijven met digitale werkvormen en technologie, op elke leeftijd.",
    ),
];

/// The demo organisations: reference, name, kind, enterprise number, NACE, size, region, website, themes.
#[allow(clippy::type_complexity)]
const ORGANISATIONS: &[(&str, &str, Kind, &str, &str, SizeBand, Option<Region>, &str, &[&str])] = &[
    (
        "agency",
        "Vlaams Agentschap Loopbaan en Leren",
        Kind::PolicyBody,
        "0812.345.603",
        "84.13",
        SizeBand::Large,
        Some(Region::Brussels),
        "https://www.loopbaanenleren.example",
        &["lifelong-learning", "careers-at-every-age"],
    ),
    (
        "zorgnet",
        "Zorgnet Kempen",
        Kind::Employer,
        "0456.789.034",
        "86.10",
        SizeBand::Large,
        Some(Region::Antwerp),
        "https://www.zorgnetkempen.example",
        &["older-workers", "workplace-learning", "learning-culture"],
    ),
    (
        "lievens",
        "Houtbewerking Lievens",
        Kind::Employer,
        "0734.567.835",
        "16.23",
        SizeBand::Small,
        Some(Region::WestFlanders),
        "https://www.lievens-hout.example",
        &["learning-in-smes", "informal-learning"],
    ),
    (
        "union",
        "Vakbond Samen Sterk",
        Kind::SocialPartner,
        "0411.223.382",
        "94.20",
        SizeBand::Medium,
        Some(Region::FlemishBrabant),
        "https://www.samensterk.example",
        &["careers-at-every-age"],
    ),
    (
        "fund",
        "Opleidingsfonds Metaal Vlaanderen",
        Kind::SectorFund,
        "0888.999.060",
        "94.11",
        SizeBand::Small,
        Some(Region::EastFlanders),
        "https://www.opleidingsfondsmetaal.example",
        &["learning-as-competitive-advantage"],
    ),
    (
        "leerhuis",
        "Leerhuis Limburg",
        Kind::LearningProvider,
        "0654.321.022",
        "85.59",
        SizeBand::Medium,
        Some(Region::Limburg),
        "https://www.leerhuislimburg.example",
        &["digital-skills", "inspiration-to-action"],
    ),
    (
        "vov",
        "VOV lerend netwerk",
        Kind::NetworkPartner,
        "0440.001.106",
        "94.99",
        SizeBand::Micro,
        None,
        "https://www.vov.be",
        &["learning-together", "lifelong-learning"],
    ),
];

/// The demo people: e-mail, name, group, birth year, age band, languages, network role,
/// organisation reference, membership role, start, can sign in.
#[allow(clippy::type_complexity)]
const PEOPLE: &[(&str, &str, Group, Option<i32>, Option<AgeBand>, &[&str], PersonRole, &str, MembershipRole, &str)] = &[
    (
        "mira.peeters@zorgnetkempen.example",
        "Mira Peeters",
        Group::Employee,
        Some(1966),
        None,
        &["nl", "fr"],
        PersonRole::Member,
        "zorgnet",
        MembershipRole::Employee,
        "1991-09-01",
    ),
    (
        "jonas.claes@zorgnetkempen.example",
        "Jonas Claes",
        Group::HrProfessional,
        None,
        Some(AgeBand::From35To44),
        &["nl", "en"],
        PersonRole::Member,
        "zorgnet",
        MembershipRole::OrgAdmin,
        "2018-02-01",
    ),
    (
        "sofie.lievens@lievens-hout.example",
        "Sofie Lievens",
        Group::EmployerRepresentative,
        None,
        Some(AgeBand::From45To54),
        &["nl"],
        PersonRole::Member,
        "lievens",
        MembershipRole::OrgAdmin,
        "2009-01-01",
    ),
    (
        "karim.elidrissi@lievens-hout.example",
        "Karim El Idrissi",
        Group::Employee,
        None,
        Some(AgeBand::From25To34),
        &["nl", "fr", "ar"],
        PersonRole::Member,
        "lievens",
        MembershipRole::Employee,
        "2021-04-15",
    ),
    (
        "els.vermeulen@loopbaanenleren.example",
        "Els Vermeulen",
        Group::PolicyMaker,
        None,
        None,
        &["nl", "en"],
        PersonRole::PolicyReader,
        "agency",
        MembershipRole::Manager,
        "2015-10-01",
    ),
    (
        "tom.wouters@samensterk.example",
        "Tom Wouters",
        Group::Other,
        Some(1972),
        None,
        &["nl"],
        PersonRole::Member,
        "union",
        MembershipRole::Employee,
        "2004-06-01",
    ),
    (
        "lotte.janssens@opleidingsfondsmetaal.example",
        "Lotte Janssens",
        Group::HrProfessional,
        None,
        Some(AgeBand::Under25),
        &["nl", "en"],
        PersonRole::Member,
        "fund",
        MembershipRole::Hr,
        "2025-09-01",
    ),
    (
        "pieter.maes@leerhuislimburg.example",
        "Pieter Maes",
        Group::Employee,
        Some(1959),
        None,
        &["nl", "de"],
        PersonRole::Member,
        "leerhuis",
        MembershipRole::Employee,
        "1998-01-05",
    ),
];

/// What happens to a registration after it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Stays as it is (confirmed, or waitlisted when the event is full).
    Stays,
    /// The person cancels it (after everyone in the list has registered).
    Cancels,
    /// Checked in at the (past) event.
    Attends,
    /// Recorded as a no-show at the (past) event.
    NoShow,
}

/// Who registered the person for a demo event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// The person themself.
    Themself,
    /// The person's demo organisation (its admin or HR system).
    Organisation,
}

/// How a demo event ends up: `Completed` events lie in the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Draft,
    Published,
    Cancelled,
    Completed,
}

/// A demo learning event. Days count from the day of seeding (in Brussels); an event that
/// would fall in a weekend moves to the Monday after.
struct DemoEvent {
    key: &'static str,
    title: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    format: Format,
    mode: Mode,
    day: i64,
    /// Local start in Brussels (hour, minute) and length in minutes.
    starts: (u32, u32),
    minutes: i64,
    /// Name, address, postcode, city.
    venue: Option<(&'static str, &'static str, &'static str, &'static str)>,
    online_url: Option<&'static str>,
    capacity: Option<i64>,
    /// Registration opens this many days after the day of seeding (`None`: at once).
    opens_in_days: Option<i64>,
    /// Registration closes this many days before the start (`None`: at the start).
    closes_days_before: Option<i64>,
    organiser: &'static str,
    co_organisers: &'static [&'static str],
    themes: &'static [&'static str],
    groups: &'static [Group],
    fate: Fate,
    /// In order of arrival: person (first name, lowercase; `an` is the facilitator), who
    /// registered them, what happens next.
    registrations: &'static [(&'static str, By, Then)],
}

/// A season of the network's learning events: five behind us, seven ahead.
const EVENTS: &[DemoEvent] = &[
    DemoEvent {
        key: "olijfboom",
        title: "Olijfboomloopbanen: ontwikkelen op elke leeftijd",
        summary: "Inspiratiesessie over duurzame loopbanen: groeien als een olijfboom in plaats van uitgeperst als een citroen.",
        description: Some(
            "## Programma\n\n- Welkom door het Vlaams Agentschap Loopbaan en Leren\n- Keynote: een ontwikkelstrategie in plaats van \
             een ontziestrategie\n- Getuigenissen uit de zorg en de metaal\n- Gesprekstafels: wat doe jij morgen anders?\n",
        ),
        format: Format::InspirationSession,
        mode: Mode::Hybrid,
        day: -118,
        starts: (13, 30),
        minutes: 210,
        venue: Some(("ICC Gent", "Van Rysselberghedreef 2", "9000", "Gent")),
        online_url: Some("https://meet.vov.example/olijfboomloopbanen"),
        capacity: Some(120),
        opens_in_days: None,
        closes_days_before: Some(1),
        organiser: "agency",
        co_organisers: &["union"],
        themes: &["careers-at-every-age", "older-workers", "inspiration-to-action"],
        groups: &[Group::EmployerRepresentative, Group::HrProfessional, Group::PolicyMaker, Group::Employee],
        fate: Fate::Completed,
        registrations: &[
            ("mira", By::Organisation, Then::Attends),
            ("jonas", By::Themself, Then::Attends),
            ("tom", By::Themself, Then::Attends),
            ("pieter", By::Themself, Then::Attends),
            ("els", By::Themself, Then::NoShow),
            ("lotte", By::Themself, Then::Cancels),
        ],
    },
    DemoEvent {
        key: "informeel-leren",
        title: "Informeel leren zichtbaar maken op de werkvloer",
        summary: "Workshop: hoe herken, benoem en waardeer je wat medewerkers leren tijdens het werk, met collega's en door te doen?",
        description: Some(
            "We werken met echte voorbeelden uit kmo's en zorginstellingen. Breng een leermoment uit je eigen werk mee.\n\n\
             **Voor wie:** HR-professionals, leidinggevenden en medewerkers die leren willen zichtbaar maken.\n",
        ),
        format: Format::Workshop,
        mode: Mode::InPerson,
        day: -86,
        starts: (9, 30),
        minutes: 180,
        venue: Some(("Leerhuis Limburg", "Kempische Steenweg 303", "3500", "Hasselt")),
        online_url: None,
        capacity: Some(20),
        opens_in_days: None,
        closes_days_before: Some(2),
        organiser: "leerhuis",
        co_organisers: &[],
        themes: &["informal-learning", "workplace-learning"],
        groups: &[Group::HrProfessional, Group::Employee],
        fate: Fate::Completed,
        registrations: &[
            ("karim", By::Organisation, Then::Attends),
            ("sofie", By::Themself, Then::Attends),
            ("lotte", By::Themself, Then::Attends),
            ("mira", By::Themself, Then::NoShow),
        ],
    },
    DemoEvent {
        key: "lerend-netwerk-hr",
        title: "Lerend netwerk HR-professionals: een leercultuur bouwen in de zorg",
        summary: "Netwerkmoment waar HR-professionals hun uitdagingen inbrengen, bij elkaar te rade gaan en samen oplossingen uitwerken.",
        description: None,
        format: Format::LearningNetwork,
        mode: Mode::InPerson,
        day: -59,
        starts: (14, 0),
        minutes: 150,
        venue: Some(("Zorgnet Kempen, campus Geel", "Kleine Kapelstraat 2", "2440", "Geel")),
        online_url: None,
        capacity: Some(25),
        opens_in_days: None,
        closes_days_before: None,
        organiser: "vov",
        co_organisers: &["zorgnet"],
        themes: &["learning-together", "learning-culture"],
        groups: &[Group::HrProfessional],
        fate: Fate::Completed,
        registrations: &[
            ("jonas", By::Themself, Then::Attends),
            ("lotte", By::Themself, Then::Attends),
            ("sofie", By::Themself, Then::Attends),
            ("an", By::Themself, Then::Attends),
        ],
    },
    DemoEvent {
        key: "kmo-webinar",
        title: "Webinar: leren in kmo's zonder groot opleidingsbudget",
        summary: "Hoe kleine ondernemingen leren organiseren op de werkplek: peter- en meterschap, jobrotatie en korte leermomenten.",
        description: None,
        format: Format::Webinar,
        mode: Mode::Online,
        day: -33,
        starts: (12, 0),
        minutes: 60,
        venue: None,
        online_url: Some("https://meet.opleidingsfondsmetaal.example/webinar-leren-in-kmos"),
        capacity: None,
        opens_in_days: None,
        closes_days_before: None,
        organiser: "fund",
        co_organisers: &["leerhuis"],
        themes: &["learning-in-smes", "learning-as-competitive-advantage"],
        groups: &[Group::EmployerRepresentative, Group::HrProfessional],
        fate: Fate::Completed,
        registrations: &[
            ("sofie", By::Themself, Then::Attends),
            ("karim", By::Organisation, Then::Attends),
            ("tom", By::Themself, Then::NoShow),
            ("lotte", By::Themself, Then::Attends),
        ],
    },
    DemoEvent {
        key: "intervisie-55",
        title: "Intervisie: ontwikkelgesprekken met 55-plussers",
        summary: "In een kleine groep bespreken we casussen: hoe houd je oudere werknemers gemotiveerd en blijven ze leren?",
        description: None,
        format: Format::Intervision,
        mode: Mode::InPerson,
        day: -12,
        starts: (18, 30),
        minutes: 120,
        venue: Some(("Vakbond Samen Sterk, vergaderzaal De Dijle", "Martelarenplein 8", "3000", "Leuven")),
        online_url: None,
        capacity: Some(8),
        opens_in_days: None,
        closes_days_before: Some(3),
        organiser: "union",
        co_organisers: &["zorgnet"],
        themes: &["older-workers", "careers-at-every-age"],
        groups: &[Group::Employee, Group::HrProfessional],
        fate: Fate::Completed,
        registrations: &[
            ("tom", By::Themself, Then::Attends),
            ("mira", By::Themself, Then::Attends),
            ("pieter", By::Themself, Then::Attends),
            ("jonas", By::Themself, Then::Attends),
        ],
    },
    DemoEvent {
        key: "werkbezoek-lievens",
        title: "Werkbezoek: leren op de werkvloer bij Houtbewerking Lievens",
        summary: "Een kleine houtbewerker toont hoe vakmanschap van collega op collega wordt doorgegeven. Beperkt tot drie bezoekers.",
        description: Some(
            "Rondleiding in het atelier, gesprek met de zaakvoerder en twee medewerkers over hoe zij van elkaar leren.\n\n\
             Veiligheidsschoenen worden voorzien.\n",
        ),
        format: Format::FieldVisit,
        mode: Mode::InPerson,
        day: 11,
        starts: (10, 0),
        minutes: 150,
        venue: Some(("Houtbewerking Lievens", "Industrieweg 14", "8800", "Roeselare")),
        online_url: None,
        capacity: Some(3),
        opens_in_days: None,
        closes_days_before: Some(2),
        organiser: "lievens",
        co_organisers: &["fund"],
        themes: &["learning-in-smes", "workplace-learning", "informal-learning"],
        groups: &[Group::EmployerRepresentative, Group::HrProfessional],
        fate: Fate::Published,
        registrations: &[
            ("jonas", By::Themself, Then::Stays),
            ("lotte", By::Themself, Then::Stays),
            ("pieter", By::Themself, Then::Cancels),
            ("mira", By::Themself, Then::Stays),
            ("tom", By::Themself, Then::Stays),
            ("an", By::Themself, Then::Stays),
        ],
    },
    DemoEvent {
        key: "netwerkdag",
        title: "Netwerkdag VOV lerend netwerk: lerenderwijs samen vooruit",
        summary: "De jaarlijkse dag van het netwerk: beleid, werkgevers en werknemers delen wat werkt om levenslang leren te versterken.",
        description: Some(
            "## Programma\n\n- 09:00 Onthaal\n- 09:30 Plenaire opening: leren als gedeelde verantwoordelijkheid\n\
             - 11:00 Parallelle sessies (informeel leren, loopbanen op elke leeftijd, leren in kmo's)\n\
             - 14:00 Co-creatie: van uitdaging naar gedragen oplossing\n- 16:30 Netwerkreceptie\n",
        ),
        format: Format::Conference,
        mode: Mode::Hybrid,
        day: 26,
        starts: (9, 0),
        minutes: 480,
        venue: Some(("De Montil", "Moorselbaan 2", "1790", "Affligem")),
        online_url: Some("https://live.vov.example/netwerkdag"),
        capacity: Some(250),
        opens_in_days: None,
        closes_days_before: Some(5),
        organiser: "vov",
        co_organisers: &["agency", "fund"],
        themes: &["lifelong-learning", "learning-together", "inspiration-to-action"],
        groups: &[
            Group::PolicyMaker,
            Group::EmployerRepresentative,
            Group::Employee,
            Group::HrProfessional,
            Group::Other,
        ],
        fate: Fate::Published,
        registrations: &[
            ("els", By::Themself, Then::Stays),
            ("mira", By::Themself, Then::Stays),
            ("jonas", By::Themself, Then::Stays),
            ("sofie", By::Themself, Then::Stays),
            ("karim", By::Organisation, Then::Stays),
            ("lotte", By::Themself, Then::Stays),
            ("tom", By::Themself, Then::Stays),
        ],
    },
    DemoEvent {
        key: "ontbijtsessie",
        title: "Ontbijtsessie: leren als concurrentieel voordeel",
        summary: "Een ontbijt met ondernemers over waarom blijvende ontwikkeling medewerkers flexibeler en inzetbaarder maakt.",
        description: None,
        format: Format::Other,
        mode: Mode::InPerson,
        day: 17,
        starts: (7, 45),
        minutes: 105,
        venue: Some(("Opleidingsfonds Metaal Vlaanderen", "Kortrijksesteenweg 1095", "9051", "Gent")),
        online_url: None,
        capacity: Some(30),
        opens_in_days: None,
        closes_days_before: Some(1),
        organiser: "fund",
        co_organisers: &[],
        themes: &["learning-as-competitive-advantage", "learning-in-smes"],
        groups: &[Group::EmployerRepresentative],
        fate: Fate::Cancelled,
        registrations: &[("sofie", By::Themself, Then::Cancels)],
    },
    DemoEvent {
        key: "digitaal-webinar",
        title: "Webinar: digitale vaardigheden op elke leeftijd",
        summary: "Praktische voorbeelden van hoe teams met jong en oud samen digitale werkvormen leren gebruiken.",
        description: None,
        format: Format::Webinar,
        mode: Mode::Online,
        day: 39,
        starts: (12, 30),
        minutes: 60,
        venue: None,
        online_url: Some("https://meet.leerhuislimburg.example/digitaal-op-elke-leeftijd"),
        capacity: Some(500),
        opens_in_days: None,
        closes_days_before: None,
        organiser: "leerhuis",
        co_organisers: &[],
        themes: &["digital-skills", "careers-at-every-age"],
        groups: &[Group::Employee, Group::HrProfessional],
        fate: Fate::Published,
        registrations: &[
            ("pieter", By::Organisation, Then::Stays),
            ("tom", By::Themself, Then::Stays),
            ("karim", By::Organisation, Then::Stays),
            ("mira", By::Themself, Then::Stays),
        ],
    },
    DemoEvent {
        key: "leerlogboeken",
        title: "Lerend netwerk: leren zichtbaar maken met leerlogboeken",
        summary: "Hoe houden medewerkers bij wat ze leren, en wat delen ze met hun werkgever? Ervaringen met het 70-20-10-model.",
        description: None,
        format: Format::LearningNetwork,
        mode: Mode::Hybrid,
        day: 53,
        starts: (14, 0),
        minutes: 150,
        venue: Some(("Vlaams Agentschap Loopbaan en Leren", "Koning Albert II-laan 35", "1030", "Brussel")),
        online_url: Some("https://meet.vov.example/leerlogboeken"),
        capacity: Some(30),
        opens_in_days: Some(7),
        closes_days_before: Some(2),
        organiser: "vov",
        co_organisers: &["agency"],
        themes: &["informal-learning", "learning-together", "lifelong-learning"],
        groups: &[Group::HrProfessional, Group::PolicyMaker],
        fate: Fate::Published,
        registrations: &[],
    },
    DemoEvent {
        key: "feedback-intervisie",
        title: "Intervisie voor leidinggevenden: feedback die doet groeien",
        summary: "Online intervisie in kleine groep: leidinggevenden brengen een situatie in en zoeken samen hoe feedback leren op gang brengt.",
        description: None,
        format: Format::Intervision,
        mode: Mode::Online,
        day: 67,
        starts: (16, 0),
        minutes: 90,
        venue: None,
        online_url: Some("https://meet.zorgnetkempen.example/intervisie-feedback"),
        capacity: Some(10),
        opens_in_days: None,
        closes_days_before: Some(1),
        organiser: "zorgnet",
        co_organisers: &[],
        themes: &["learning-culture", "workplace-learning"],
        groups: &[Group::EmployerRepresentative, Group::HrProfessional],
        fate: Fate::Published,
        registrations: &[("mira", By::Organisation, Then::Stays), ("sofie", By::Themself, Then::Stays)],
    },
    DemoEvent {
        key: "70-20-10",
        title: "Workshop: het 70-20-10-model in de praktijk",
        summary: "Ontwerp met je team een leertraject waarin ervaring, collega's en opleiding elkaar versterken.",
        description: Some("Programma volgt. *Concept: nog niet gepubliceerd.*\n"),
        format: Format::Workshop,
        mode: Mode::InPerson,
        day: 81,
        starts: (9, 0),
        minutes: 240,
        venue: Some(("Opleidingsfonds Metaal Vlaanderen", "Kortrijksesteenweg 1095", "9051", "Gent")),
        online_url: None,
        capacity: Some(16),
        opens_in_days: None,
        closes_days_before: Some(3),
        organiser: "fund",
        co_organisers: &["leerhuis"],
        themes: &["workplace-learning", "informal-learning"],
        groups: &[Group::HrProfessional, Group::EmployerRepresentative],
        fate: Fate::Draft,
        registrations: &[],
    },
];

/// Commitments made after the past events: event key, person, text, due (days from the day
/// of seeding), status, theme, shared with the organiser, shared with their own organisation.
#[allow(clippy::type_complexity)]
const COMMITMENTS: &[(&str, &str, &str, Option<i64>, CommitmentStatus, Option<&str>, bool, bool)] = &[
    (
        "olijfboom",
        "mira",
        "Met mijn leidinggevende een ontwikkelgesprek plannen over de volgende tien jaar van mijn loopbaan.",
        Some(-20),
        CommitmentStatus::Done,
        Some("careers-at-every-age"),
        true,
        false,
    ),
    (
        "olijfboom",
        "jonas",
        "Elke maand een leermoment met de vijftigplussers in ons team organiseren.",
        Some(45),
        CommitmentStatus::InProgress,
        Some("older-workers"),
        true,
        true,
    ),
    (
        "olijfboom",
        "pieter",
        "Een opleiding digitale vaardigheden volgen voor ik met pensioen ga.",
        None,
        CommitmentStatus::Dropped,
        Some("digital-skills"),
        false,
        false,
    ),
    (
        "olijfboom",
        "tom",
        "Loopbaanbegeleiding op elke leeftijd agenderen op het volgende syndicaal overleg.",
        Some(30),
        CommitmentStatus::Planned,
        Some("careers-at-every-age"),
        true,
        false,
    ),
    (
        "informeel-leren",
        "karim",
        "Bijhouden wat ik leer van de oudere schrijnwerkers en het eens per maand bespreken met Sofie.",
        Some(60),
        CommitmentStatus::InProgress,
        Some("informal-learning"),
        false,
        true,
    ),
    (
        "informeel-leren",
        "sofie",
        "Een peter- en meterschap opzetten voor nieuwe medewerkers in het atelier.",
        Some(-5),
        CommitmentStatus::Done,
        Some("workplace-learning"),
        true,
        false,
    ),
    (
        "lerend-netwerk-hr",
        "lotte",
        "De aanpak van Zorgnet Kempen voorstellen aan de bedrijven van ons sectorfonds.",
        Some(40),
        CommitmentStatus::Planned,
        Some("learning-together"),
        true,
        false,
    ),
    (
        "lerend-netwerk-hr",
        "jonas",
        "Een leercultuurscan afnemen in twee afdelingen en de resultaten delen met het netwerk.",
        Some(90),
        CommitmentStatus::Planned,
        Some("learning-culture"),
        false,
        false,
    ),
    (
        "kmo-webinar",
        "sofie",
        "Jobrotatie uitproberen tussen de zaagafdeling en de afwerking.",
        Some(75),
        CommitmentStatus::Planned,
        Some("learning-in-smes"),
        true,
        false,
    ),
    (
        "kmo-webinar",
        "karim",
        "Elke vrijdag een kwartier leren met een collega over de nieuwe CNC-machine.",
        Some(14),
        CommitmentStatus::InProgress,
        Some("workplace-learning"),
        false,
        false,
    ),
    (
        "intervisie-55",
        "mira",
        "Mijn ervaring als mentor inzetten voor de nieuwe verpleegkundigen op de afdeling.",
        Some(30),
        CommitmentStatus::InProgress,
        Some("older-workers"),
        true,
        true,
    ),
    (
        "intervisie-55",
        "pieter",
        "Mijn collega's vragen welke kennis ik nog moet doorgeven voor mijn pensioen.",
        Some(21),
        CommitmentStatus::Planned,
        None,
        false,
        false,
    ),
];

/// The demo accounts to try each role with (all use [`PASSWORD`]).
pub const ORG_ADMIN_EMAIL: &str = "jonas.claes@zorgnetkempen.example";
pub const MEMBER_EMAIL: &str = "mira.peeters@zorgnetkempen.example";
pub const POLICY_READER_EMAIL: &str = "els.vermeulen@loopbaanenleren.example";

/// The demo integration client, made on the first seeding; its secret exists only here.
#[derive(Debug, Clone)]
pub struct DemoClient {
    pub organisation_id: Uuid,
    pub client_id: Uuid,
    pub secret: String,
}

/// Seeds the demo data; safe to run again (what exists is left alone). Returns the demo
/// integration client when this run created it.
pub async fn seed(store: &Store) -> anyhow::Result<Option<DemoClient>> {
    let hash = password::hash(PASSWORD.to_string()).await?;
    let facilitator_email = Email::parse(FACILITATOR_EMAIL).map_err(anyhow::Error::msg)?;
    match store.create_person_account(&facilitator_email, "An De Smet", PersonRole::Facilitator, Some(&hash)).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    for (slug, nl, en, description) in THEMES {
        let content = ThemeContent {
            slug: Slug::parse(slug).map_err(anyhow::Error::msg)?,
            label_nl: (*nl).to_string(),
            label_en: (*en).to_string(),
            description: Some((*description).to_string()),
        };
        match store.create_theme(&content).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut organisation_ids = HashMap::new();
    for (reference, name, kind, number, sector, size, region, website, themes) in ORGANISATIONS {
        let content = OrganisationContent {
            name: (*name).to_string(),
            kind: *kind,
            enterprise_number: Some(EnterpriseNumber::parse(number).map_err(anyhow::Error::msg)?),
            sector: Some((*sector).to_string()),
            size_band: Some(*size),
            region: *region,
            website: Some((*website).to_string()),
            themes: themes.iter().map(|t| (*t).to_string()).collect(),
        };
        let external_ref = ExternalRef { system: "vov-demo".into(), id: (*reference).to_string() };
        let (org, _) = store.upsert_organisation_by_ref(&external_ref, &content).await?;
        organisation_ids.insert(*reference, org.id);
    }
    for (email, name, group, birth_year, age_band, languages, role, org, membership_role, starts) in PEOPLE {
        let email = Email::parse(email).map_err(anyhow::Error::msg)?;
        if store.find_person_by_email(email.key()).await?.is_some() {
            continue;
        }
        let content = PersonContent {
            name: (*name).to_string(),
            email,
            stakeholder_group: *group,
            birth_year: *birth_year,
            age_band: *age_band,
            languages: languages.iter().map(|l| (*l).to_string()).collect(),
        };
        let terms = MembershipTerms {
            role: *membership_role,
            starts_on: NaiveDate::parse_from_str(starts, "%Y-%m-%d")?,
            ends_on: None,
        };
        store.create_person(&content, *role, Some(&hash), Some((organisation_ids[org], terms))).await?;
    }
    // The demo people by key, with their demo organisation while they are still members of it.
    let mut people = HashMap::new();
    let facilitator = store.find_person_by_email(facilitator_email.key()).await?;
    people.insert("an", (facilitator.ok_or_else(|| anyhow::anyhow!("the demo facilitator is missing"))?.id, None));
    for (email, _, _, _, _, _, _, org, _, _) in PEOPLE {
        let account = store.find_person_by_email(Email::parse(email).map_err(anyhow::Error::msg)?.key()).await?;
        let account = account.ok_or_else(|| anyhow::anyhow!("demo person {email} is missing"))?;
        people.insert(person_key(email), (account.id, Some(organisation_ids[org])));
    }
    let ids: Vec<Uuid> = people.values().map(|(id, _)| *id).collect();
    let current = store.affiliations(&ids, chrono::Utc::now().date_naive()).await?;
    for (id, org) in people.values_mut() {
        *org = org.filter(|o| current.iter().any(|(p, m, _)| p == id && m == o));
    }
    seed_events(store, &organisation_ids, &people).await?;
    seed_learning_records(store, &people).await?;
    seed_solutions(store, &people).await?;
    let zorgnet = organisation_ids["zorgnet"];
    let client = if store.list_clients(zorgnet).await?.is_empty() {
        let secret = crate::api::auth::new_secret(crate::api::auth::CLIENT_SECRET_PREFIX);
        let secret_hash = password::hash(secret.clone()).await?;
        let client_id = store
            .create_client(
                "Zorgnet Kempen HR-sync",
                Some(zorgnet),
                &[Scope::PeopleRead, Scope::PeopleWrite],
                &secret_hash,
            )
            .await?;
        Some(DemoClient { organisation_id: zorgnet, client_id, secret })
    } else {
        None
    };
    tracing::info!("demo data seeded");
    Ok(client)
}

/// A few months of learning records: (person, days ago, activity type, title, what happened,
/// what they learned, minutes, themes, visibility: 0 private, 1 their organisation, 2 network).
type DemoRecord =
    (&'static str, i64, ActivityType, &'static str, &'static str, &'static str, i64, &'static [&'static str], u8);

pub const RECORDS: &[DemoRecord] = &[
    (
        "mira",
        150,
        ActivityType::CoachingMentoring,
        "Mentor voor een nieuwe verpleegkundige",
        "Zes weken lang samen de nachtdiensten gedaan.",
        "Uitleggen wat ik al dertig jaar doe, doet me zelf opnieuw nadenken.",
        720,
        &["older-workers", "workplace-learning"],
        1,
    ),
    (
        "mira",
        96,
        ActivityType::Reading,
        "Boek over loopbanen na vijftig",
        "Gelezen tijdens het verlof.",
        "Een loopbaan is geen ladder maar een olijfboom.",
        300,
        &["careers-at-every-age"],
        0,
    ),
    (
        "mira",
        40,
        ActivityType::Intervision,
        "Intervisie over zware zorgsituaties",
        "Maandelijkse intervisie met collega's van drie afdelingen.",
        "Mijn twijfel delen helpt het team.",
        120,
        &["learning-together"],
        2,
    ),
    (
        "jonas",
        120,
        ActivityType::OnTheJob,
        "Nieuw planningssysteem uitgerold",
        "Als sleutelgebruiker het team opgeleid.",
        "Leren door te doen, met de vragen van collega's als leidraad.",
        960,
        &["digital-skills", "workplace-learning"],
        1,
    ),
    (
        "jonas",
        61,
        ActivityType::OnlineCourse,
        "E-learning gegevensbescherming",
        "De verplichte module van de organisatie.",
        "Minder persoonsgegevens in e-mails zetten.",
        90,
        &["digital-skills"],
        0,
    ),
    (
        "jonas",
        12,
        ActivityType::PeerLearning,
        "Leerlunch over Excel-tips",
        "Collega's leerden elkaar hun beste trucs.",
        "Draaitabellen besparen me een uur per week.",
        60,
        &["learning-together"],
        2,
    ),
    (
        "sofie",
        140,
        ActivityType::JobRotation,
        "Een maand mee in de werkplaats",
        "Als zaakvoerder zelf meegedraaid aan de zaagmachine.",
        "Mijn mensen weten veel meer dan ik dacht.",
        9600,
        &["learning-in-smes", "learning-culture"],
        2,
    ),
    (
        "sofie",
        33,
        ActivityType::Event,
        "Netwerkmoment leren in kmo's",
        "Ervaringen uitgewisseld met andere zaakvoerders.",
        "Leren hoeft geen opleiding te zijn.",
        180,
        &["learning-in-smes"],
        1,
    ),
    (
        "karim",
        88,
        ActivityType::OnTheJob,
        "Nieuwe CNC-machine leren bedienen",
        "Van de leverancier en daarna zelf uitgeprobeerd.",
        "Eerst kijken, dan zelf doen, dan uitleggen.",
        1200,
        &["workplace-learning"],
        0,
    ),
    (
        "karim",
        20,
        ActivityType::Volunteering,
        "Jeugdvoetbal trainen",
        "Elke woensdag trainer van de U10.",
        "Geduld en duidelijke afspraken.",
        480,
        &["informal-learning"],
        2,
    ),
    (
        "els",
        75,
        ActivityType::SelfStudy,
        "Onderzoek naar leercultuur in kmo's",
        "Literatuur doorgenomen voor een adviestraject.",
        "Leercultuur begint bij de leidinggevende.",
        600,
        &["learning-culture", "learning-in-smes"],
        2,
    ),
    (
        "tom",
        55,
        ActivityType::Intervision,
        "Intervisie vakbondsafgevaardigden",
        "Casussen over werkbaar werk besproken.",
        "Luisteren voor ik een oplossing voorstel.",
        150,
        &["learning-together"],
        1,
    ),
    (
        "lotte",
        100,
        ActivityType::CoachingMentoring,
        "Coachingtraject leidinggeven",
        "Vijf sessies met een externe coach.",
        "Feedback vragen in plaats van afwachten.",
        450,
        &["lifelong-learning"],
        0,
    ),
    (
        "pieter",
        25,
        ActivityType::Other,
        "Open dag georganiseerd",
        "Het leerhuis voor het eerst zelf voorgesteld aan werkgevers.",
        "Vertellen wat we doen, scherpt wat we doen.",
        420,
        &["learning-as-competitive-advantage"],
        2,
    ),
];

/// Seeds [`RECORDS`] once (when the demo people have none yet), as their owners would.
async fn seed_learning_records(store: &Store, people: &HashMap<&str, (Uuid, Option<Uuid>)>) -> anyhow::Result<()> {
    // Seeded before: the first demo person has records.
    let Some((first, _)) = people.get(RECORDS[0].0) else { return Ok(()) };
    let theirs = RecordFilter { person_id: Some(*first), ..RecordFilter::default() };
    if !store.list_records(&theirs, None, None, 1).await?.items.is_empty() {
        return Ok(());
    }
    let today = Utc::now().date_naive();
    for (who, days_ago, kind, title, what, learned, minutes, themes, visibility) in RECORDS {
        let Some((person, organisation)) = people.get(who).copied() else { continue };
        let content = RecordContent::parse(
            RecordInput {
                title: (*title).to_string(),
                description: Some((*what).to_string()),
                learned: Some((*learned).to_string()),
                activity_type: *kind,
                started_on: today - Duration::days(*days_ago),
                duration_minutes: Some(*minutes),
                themes: themes.iter().map(|t| (*t).to_string()).collect(),
                ..RecordInput::default()
            },
            "",
        )?;
        let sharing = match (visibility, organisation) {
            (1, Some(org)) => Sharing { visibility: Visibility::Organisation, shared_with: vec![org] },
            (2, _) => Sharing { visibility: Visibility::Network, shared_with: vec![] },
            _ => Sharing::default(),
        };
        let at = crate::db::now();
        let record = LearningRecord {
            id: Uuid::now_v7(),
            person_id: person,
            content,
            sharing,
            source: SOURCE_MANUAL.to_string(),
            external_ref: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        store.create_record(&record, None).await?;
    }
    Ok(())
}

type People<'a> = HashMap<&'a str, (Uuid, Option<Uuid>)>;

fn demo_context(sector: Option<&str>, size_band: Option<&str>, groups: &[&str]) -> anyhow::Result<Context> {
    Ok(Context {
        sector: sector.map(str::to_string),
        size_band: size_band.map(|b| SizeBand::parse(b).ok_or_else(|| anyhow::anyhow!("size band {b}"))).transpose()?,
        target_groups: groups
            .iter()
            .map(|g| TargetGroup::parse(g).ok_or_else(|| anyhow::anyhow!("target group {g}")))
            .collect::<anyhow::Result<_>>()?,
    })
}

fn demo_solution_content(
    s: &DemoSolution,
    r: &DemoRevision,
    challenges: Vec<Uuid>,
    event: Option<Uuid>,
    status: SolutionStatus,
) -> anyhow::Result<SolutionContent> {
    Ok(SolutionContent::parse(SolutionContent {
        title: r.title.to_string(),
        summary: Some(r.summary.to_string()),
        body: Some(r.body.to_string()),
        challenge_ids: challenges,
        event_id: event,
        context: demo_context(s.sector, s.size_band, s.target_groups)?,
        themes: s.themes.iter().map(|t| (*t).to_string()).collect(),
        maturity: Maturity::parse(r.maturity).ok_or_else(|| anyhow::anyhow!("maturity {}", r.maturity))?,
        results: r.results.map(str::to_string),
        status,
    })?)
}

/// Challenges and solutions with co-authors, revisions, endorsements, comments, and a
/// learning record that applied each published solution.
async fn seed_solutions(store: &Store, people: &People<'_>) -> anyhow::Result<()> {
    let first_page = ListOrder::Field { sort: Sort::default(), after: None };
    if !store.list_challenges(&ChallengeFilter::default(), &first_page, 1).await?.items.is_empty() {
        return Ok(());
    }
    let person = |key: &str| people.get(key).copied().ok_or_else(|| anyhow::anyhow!("no demo person {key}"));
    let events = store.calendar_events(&EventFilter { drafts_of: None, ..EventFilter::default() }, 500).await?;
    let event_id = |key: &str| {
        let title = EVENTS.iter().find(|e| e.key == key).map(|e| e.title);
        events.iter().find(|e| Some(e.content.title.as_str()) == title).map(|e| e.id)
    };
    let mut challenge_ids = HashMap::new();
    for c in CHALLENGES {
        let (author, organisation) = person(c.author)?;
        let content = ChallengeContent::parse(ChallengeContent {
            title: c.title.to_string(),
            description: Some(c.description.to_string()),
            organisation_id: organisation,
            context: demo_context(c.sector, c.size_band, c.target_groups)?,
            themes: c.themes.iter().map(|t| (*t).to_string()).collect(),
            status: ChallengeStatus::parse(c.status).ok_or_else(|| anyhow::anyhow!("challenge status {}", c.status))?,
        })?;
        challenge_ids.insert(c.key, store.create_challenge(author, &content).await?.id);
    }
    let today = Utc::now().date_naive();
    for s in SOLUTIONS {
        let challenges: Vec<Uuid> = s.challenges.iter().filter_map(|k| challenge_ids.get(k).copied()).collect();
        let event = s.event.and_then(event_id);
        let (creator, organisation) = person(s.revisions[0].author)?;
        let content = |r: &DemoRevision, status| demo_solution_content(s, r, challenges.clone(), event, status);
        let created = store
            .create_solution(creator, organisation, &content(&s.revisions[0], SolutionStatus::Draft)?)
            .await
            .map_err(|e| anyhow::anyhow!("demo solution {}: {e}", s.key))?;
        let id = created.id;
        let mut version = created.version;
        for who in s.co_authors {
            let (p, o) = person(who)?;
            version = store.add_co_author(id, creator, p, o).await?.version;
        }
        for r in &s.revisions[1..] {
            let (by, _) = person(r.author)?;
            version = store.update_solution(id, version, by, &content(r, SolutionStatus::Draft)?).await?.version;
        }
        if s.published {
            let last = s.revisions.last().unwrap_or(&s.revisions[0]);
            store.update_solution(id, version, creator, &content(last, SolutionStatus::Published)?).await?;
        }
        for (who, note) in s.endorsements {
            let (p, o) = person(who)?;
            store.put_endorsement(id, p, o, Some(note)).await?;
        }
        for (who, body, replies) in s.comments {
            let (p, _) = person(who)?;
            let comment = store.create_comment(CommentTarget::Solution(id), None, p, body).await?;
            for (who, body) in *replies {
                let (p, _) = person(who)?;
                store.create_comment(CommentTarget::Solution(id), Some(comment.id), p, body).await?;
            }
        }
        // The first endorser logs having applied it (the solution's adoption).
        if let (true, Some((who, _))) = (s.published, s.endorsements.first()) {
            let (p, _) = person(who)?;
            let title = s.revisions.last().unwrap_or(&s.revisions[0]).title;
            let record_content = RecordContent::parse(
                RecordInput {
                    title: format!("Toegepast: {title}"),
                    description: Some("Wat we overnamen uit de gedeelde oplossing, en hoe het bij ons liep.".into()),
                    activity_type: ActivityType::OnTheJob,
                    started_on: today - Duration::days(20),
                    duration_minutes: Some(240),
                    themes: s.themes.iter().take(2).map(|t| (*t).to_string()).collect(),
                    solution_id: Some(id),
                    ..RecordInput::default()
                },
                "",
            )?;
            let at = crate::db::now();
            let record = LearningRecord {
                id: Uuid::now_v7(),
                person_id: p,
                content: record_content,
                sharing: Sharing { visibility: Visibility::Network, shared_with: vec![] },
                source: SOURCE_MANUAL.to_string(),
                external_ref: None,
                created_at: at,
                updated_at: at,
                version: 1,
            };
            store.create_record(&record, None).await?;
        }
    }
    Ok(())
}

/// The demo person's key in [`EVENTS`] and [`COMMITMENTS`]: the first name, lowercase.
fn person_key(email: &str) -> &str {
    email.split('.').next().unwrap_or(email)
}

/// A local time in Brussels on `day`, in UTC (the earlier one when the clock goes back).
fn brussels(day: NaiveDate, (hour, minute): (u32, u32)) -> anyhow::Result<DateTime<Utc>> {
    let local = day.and_hms_opt(hour, minute, 0).ok_or_else(|| anyhow::anyhow!("no time {hour}:{minute:02}"))?;
    let at =
        Brussels.from_local_datetime(&local).earliest().ok_or_else(|| anyhow::anyhow!("no {local} in Brussels"))?;
    Ok(at.with_timezone(&Utc))
}

/// The content of a demo event as it is finally stored, dated from `today`.
fn event_content(e: &DemoEvent, today: NaiveDate, organisations: &HashMap<&str, Uuid>) -> anyhow::Result<EventContent> {
    let mut day = today + Duration::days(e.day);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Duration::days(1);
    }
    let starts_at = brussels(day, e.starts)?;
    let input = EventInput {
        title: e.title.to_string(),
        summary: Some(e.summary.to_string()),
        description: e.description.map(str::to_string),
        format: e.format,
        attendance_mode: e.mode,
        starts_at,
        ends_at: starts_at + Duration::minutes(e.minutes),
        time_zone: "Europe/Brussels".to_string(),
        venue: e.venue.map(|(name, address, postcode, city)| Venue {
            name: name.to_string(),
            address: Some(address.to_string()),
            postcode: Some(postcode.to_string()),
            city: city.to_string(),
        }),
        online_url: e.online_url.map(str::to_string),
        capacity: e.capacity,
        registration_opens_at: e.opens_in_days.map(|d| brussels(today + Duration::days(d), (9, 0))).transpose()?,
        registration_closes_at: e.closes_days_before.map(|d| starts_at - Duration::days(d)),
        co_organisers: e.co_organisers.iter().map(|o| organisations[o]).collect(),
        themes: e.themes.iter().map(|t| (*t).to_string()).collect(),
        stakeholder_groups: e.groups.to_vec(),
        language: "nl".to_string(),
    };
    Ok(EventContent::parse(input, organisations[e.organiser])?)
}

/// Seeds [`EVENTS`] with their registrations, attendance and [`COMMITMENTS`], through the
/// same store rules as the API: nobody gets a seat outside a registration window or past the
/// capacity. Does nothing when a demo organisation already runs an event (the season was
/// seeded before). The events are independent, so they are seeded side by side (on
/// PostgreSQL their commits then share disk flushes); within an event the order is fixed.
async fn seed_events(
    store: &Store,
    organisations: &HashMap<&str, Uuid>,
    people: &HashMap<&str, (Uuid, Option<Uuid>)>,
) -> anyhow::Result<()> {
    for id in organisations.values() {
        let filter = EventFilter { organiser: Some(*id), ..EventFilter::default() };
        if !store.list_events(&filter, Sort::default(), None, 1).await?.items.is_empty() {
            return Ok(());
        }
    }
    let today = Utc::now().with_timezone(&Brussels).date_naive();
    let seeded = try_join_all(EVENTS.iter().map(|e| seed_event(store, e, today, organisations, people))).await?;
    let completed: HashMap<&str, Event> =
        EVENTS.iter().zip(seeded).filter_map(|(e, event)| Some((e.key, event?))).collect();
    let commitments = COMMITMENTS.iter().map(|(key, who, text, due_in_days, status, theme, to_organiser, to_org)| {
        let event = &completed[key];
        let (person, organisation) = people[who];
        async move {
            // Only participants make commitments (the store refuses others), and share them
            // only with an organisation they belong to (`people` holds only current memberships).
            let content = CommitmentContent::parse(
                text,
                due_in_days.map(|d| today + Duration::days(d)),
                *status,
                theme.map(str::to_string),
                *to_organiser,
                organisation.filter(|_| *to_org),
            )?;
            store.create_commitment(event, person, &content).await?;
            Ok::<(), anyhow::Error>(())
        }
    });
    try_join_all(commitments).await?;
    Ok(())
}

/// Seeds one demo event with its registrations and attendance; returns it when completed.
/// A past event is first published a day ahead (registration is open only before the
/// start), registered for, then moved to its real dates, given its attendance (no-shows are
/// recorded only once an event has started) and completed (only after its end).
async fn seed_event(
    store: &Store,
    e: &DemoEvent,
    today: NaiveDate,
    organisations: &HashMap<&str, Uuid>,
    people: &HashMap<&str, (Uuid, Option<Uuid>)>,
) -> anyhow::Result<Option<Event>> {
    let organiser = organisations[e.organiser];
    let content = event_content(e, today, organisations)?;
    let opening = if e.fate == Fate::Completed {
        let mut input = content.to_input();
        input.starts_at = Utc::now() + Duration::days(1);
        input.ends_at = input.starts_at + Duration::minutes(e.minutes);
        input.registration_opens_at = None;
        input.registration_closes_at = None;
        EventContent::parse(input, organiser)?
    } else {
        content.clone()
    };
    let status = if e.fate == Fate::Draft { EventStatus::Draft } else { EventStatus::Published };
    let event = store.create_event(organiser, &opening, status).await?;
    let mut registrations = Vec::with_capacity(e.registrations.len());
    for (who, by, then) in e.registrations {
        let (person, organisation) = people[who];
        let by = match by {
            By::Themself => None,
            By::Organisation => organisation,
        };
        let (registration, _) = store.register(event.id, person, by).await?;
        registrations.push((registration.id, *then));
    }
    for (id, _) in registrations.iter().filter(|(_, then)| *then == Then::Cancels) {
        store.cancel_registration(*id).await?;
    }
    match e.fate {
        Fate::Completed => {
            let current = store.get_event(event.id).await?;
            store.update_event(event.id, current.version, &content, EventStatus::Published).await?;
            for (id, then) in &registrations {
                let status = match then {
                    Then::Attends => RegistrationStatus::Attended,
                    Then::NoShow => RegistrationStatus::NoShow,
                    Then::Stays | Then::Cancels => continue,
                };
                store.record_attendance(*id, status).await?;
            }
            let current = store.get_event(event.id).await?;
            Ok(Some(store.update_event(event.id, current.version, &content, EventStatus::Completed).await?))
        }
        Fate::Cancelled => {
            let current = store.get_event(event.id).await?;
            store.update_event(event.id, current.version, &content, EventStatus::Cancelled).await?;
            Ok(None)
        }
        Fate::Draft | Fate::Published => Ok(None),
    }
}
