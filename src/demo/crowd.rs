//! Generated demo members: enough people across stakeholder groups, ages, sectors and
//! quarters that the insights show real tables (decision 11), made the same way on every
//! seeding from a fixed seed. They cannot sign in and their records are private.

use super::*;
use crate::db::solutions::{Drafts, SolutionFilter};
use crate::domain::event::Commitment;
use crate::domain::insights::{Period, age_band_in};
use crate::domain::solution::SolutionStatus;

/// The generated members' e-mail domain.
const CROWD_DOMAIN: &str = "leden.demo.vov.example";

/// Where the generated members work, and how many.
const WORKPLACES: &[(&str, usize)] =
    &[("zorgnet", 220), ("agency", 70), ("leerhuis", 60), ("lievens", 40), ("union", 30), ("fund", 20)];

/// The closed quarters before today that get records.
const QUARTERS: u32 = 6;

const FIRST_NAMES: &[&str] = &[
    "Lotte", "Tom", "Sarah", "Pieter", "Nina", "Bart", "Eva", "Wim", "Ines", "Koen", "Fien", "Joris", "Lies", "Arne",
    "Hanne", "Dirk", "Marie", "Stijn", "Elke", "Ruben", "Yasmina", "Mehmet", "Anouk", "Lucas",
];
const LAST_NAMES: &[&str] = &[
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Goossens",
    "Wouters",
    "De Smedt",
    "Dubois",
    "Lambrecht",
    "Hermans",
    "Aerts",
    "Verbruggen",
    "El Amrani",
    "Van Damme",
    "Declercq",
];

/// (activity type, title, shortest and longest minutes)
const ACTIVITIES: &[(ActivityType, &str, i64, i64)] = &[
    (ActivityType::OnTheJob, "Nieuwe werkwijze uitgeprobeerd", 60, 480),
    (ActivityType::PeerLearning, "Van een collega geleerd", 30, 120),
    (ActivityType::CoachingMentoring, "Coachingsgesprek", 45, 90),
    (ActivityType::Intervision, "Intervisie met het team", 90, 180),
    (ActivityType::SelfStudy, "Zelfstudie", 30, 240),
    (ActivityType::Reading, "Vakliteratuur gelezen", 30, 120),
    (ActivityType::OnlineCourse, "Online cursus", 60, 600),
    (ActivityType::Event, "Inspiratiesessie bijgewoond", 90, 240),
];

/// A deterministic pseudo-random sequence (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn email(n: usize) -> String {
    format!("lid{n:04}@{CROWD_DOMAIN}")
}

/// The quarter `back` quarters before `period`.
fn quarter_before(period: Period, back: u32) -> Period {
    let Period::Quarter { year, quarter } = period;
    let index = year * 4 + quarter as i32 - 1 - back as i32;
    Period::Quarter { year: index.div_euclid(4), quarter: index.rem_euclid(4) as u32 + 1 }
}

/// Seeds the generated members once (none exist yet), with memberships and records.
pub(super) async fn seed_crowd(store: &Store, organisation_ids: &HashMap<&str, Uuid>) -> anyhow::Result<()> {
    if store.find_person_by_email(Email::parse(&email(0)).map_err(anyhow::Error::msg)?.key()).await?.is_some() {
        return Ok(());
    }
    let mut rng = Rng(0x766f_765f_6465_6d6f);
    let today = Utc::now().date_naive();
    let last = Period::last_closed_quarter(today);
    let mut n = 0;
    let mut members = Vec::new();
    for (workplace, count) in WORKPLACES {
        let organisation = organisation_ids[workplace];
        for _ in 0..*count {
            let born = 1958 + rng.below(47) as i32;
            let group = match (rng.below(10), *workplace) {
                (0, _) => Group::HrProfessional,
                (1, _) => Group::EmployerRepresentative,
                (2..=5, "agency") => Group::PolicyMaker,
                _ => Group::Employee,
            };
            // Most give a birth year, some an age band only, a few neither.
            let (birth_year, age_band) = match rng.below(10) {
                0 => (None, None),
                1 => (None, Some(age_band_in(born, today.year()))),
                _ => (Some(born), None),
            };
            let content = PersonContent {
                name: format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
                email: Email::parse(&email(n)).map_err(anyhow::Error::msg)?,
                stakeholder_group: group,
                birth_year,
                age_band,
                languages: vec!["nl".into()],
            };
            n += 1;
            let terms = MembershipTerms {
                role: MembershipRole::Employee,
                starts_on: NaiveDate::from_ymd_opt(2015, 1, 1).expect("a day") + Duration::days(rng.below(3000) as i64),
                ends_on: None,
            };
            let (person, _) =
                store.create_person(&content, PersonRole::Member, None, Some((organisation, terms))).await?;
            members.push(person.id);
            // Learning at every age, but not equally: the chance per quarter falls a little
            // with age and rises with a learning-minded employer.
            let age = today.year() - born;
            let mut chance = if age < 35 {
                50
            } else if age < 55 {
                42
            } else {
                33
            };
            if *workplace == "leerhuis" {
                chance += 15;
            }
            for back in 0..QUARTERS {
                if rng.below(100) >= chance {
                    continue;
                }
                let period = quarter_before(last, back);
                let days = (period.end() - period.start()).num_days() as u64;
                let (kind, title, shortest, longest) = *rng.pick(ACTIVITIES);
                let content = RecordContent::parse(
                    RecordInput {
                        title: title.to_string(),
                        activity_type: kind,
                        started_on: period.start() + Duration::days(rng.below(days) as i64),
                        duration_minutes: Some(shortest + rng.below((longest - shortest) as u64 + 1) as i64),
                        ..RecordInput::default()
                    },
                    "",
                )?;
                let at = crate::db::now();
                let record = LearningRecord::manual(person.id, content, Sharing::default(), at);
                store.create_record(&record, None).await?;
            }
        }
    }
    seed_crowd_events(store, organisation_ids["leerhuis"], last, &members, &mut rng).await?;
    seed_crowd_adoptions(store, last, &members, &mut rng).await
}

/// Some generated members put the demo's published solutions to use in `quarter`: a
/// learning record that names the solution, for the shared-solutions insight.
async fn seed_crowd_adoptions(store: &Store, quarter: Period, members: &[Uuid], rng: &mut Rng) -> anyhow::Result<()> {
    let filter = SolutionFilter {
        drafts: Drafts::None,
        words: None,
        theme: None,
        maturity: None,
        sector: None,
        size_band: None,
        target_group: None,
        status: None,
        challenge: None,
        event: None,
        organisation: None,
        co_author: None,
    };
    let first_page = ListOrder::Field { sort: Sort::default(), after: None };
    let solutions = store.list_solutions(&filter, &first_page, 50).await?.items;
    let days = (quarter.end() - quarter.start()).num_days() as u64;
    for solution in solutions.iter().filter(|s| s.content.status == SolutionStatus::Published) {
        for _ in 0..(6 + rng.below(15)) {
            let person = members[rng.below(members.len() as u64) as usize];
            let record = RecordContent::parse(
                RecordInput {
                    title: format!("Toegepast: {}", solution.content.title),
                    activity_type: ActivityType::OnTheJob,
                    started_on: quarter.start() + Duration::days(rng.below(days) as i64),
                    solution_id: Some(solution.id),
                    ..RecordInput::default()
                },
                "",
            )?;
            store
                .create_record(&LearningRecord::manual(person, record, Sharing::default(), crate::db::now()), None)
                .await?;
        }
    }
    Ok(())
}

/// (format, title, registrations): one event of each in the last closed quarter; the field
/// visit is too small to show.
const CROWD_EVENTS: &[(Format, &str, usize)] = &[
    (Format::Webinar, "Webinar: leren op de werkvloer zichtbaar maken", 120),
    (Format::InspirationSession, "Inspiratiesessie: olijfboomloopbanen", 90),
    (Format::Workshop, "Workshop: een leerplan voor elke leeftijd", 60),
    (Format::LearningNetwork, "Lerend netwerk: informeel leren in de zorg", 30),
    (Format::FieldVisit, "Werkbezoek: leren in een kleine kmo", 4),
];

/// Events in `quarter` for the generated members, each followed from registration to
/// proof, for event to action: most attend, about half make a commitment, some do it, and
/// some of those log the learning record that proves it.
async fn seed_crowd_events(
    store: &Store,
    organiser: Uuid,
    quarter: Period,
    members: &[Uuid],
    rng: &mut Rng,
) -> anyhow::Result<()> {
    for (i, (format, title, size)) in CROWD_EVENTS.iter().enumerate() {
        let starts_at = Utc::now() + Duration::days(1);
        let mut input = EventInput {
            title: title.to_string(),
            summary: None,
            description: None,
            format: *format,
            attendance_mode: Mode::Online,
            starts_at,
            ends_at: starts_at + Duration::hours(2),
            time_zone: "Europe/Brussels".into(),
            venue: None,
            online_url: Some("https://live.demo.vov.example/zaal".into()),
            capacity: None,
            registration_opens_at: None,
            registration_closes_at: None,
            co_organisers: vec![],
            themes: vec![],
            stakeholder_groups: vec![],
            language: "nl".into(),
        };
        // Registered for while open, then moved to its day in the quarter (as the demo
        // season's past events are).
        let event = store
            .create_event(organiser, &EventContent::parse(input.clone(), organiser)?, EventStatus::Published)
            .await?;
        let first = rng.below(members.len() as u64) as usize;
        let people: Vec<Uuid> = (0..*size).map(|j| members[(first + j * 7) % members.len()]).collect();
        let mut registrations = Vec::new();
        for person in &people {
            registrations.push(store.register(event.id, *person, None).await?.0.id);
        }
        input.starts_at = brussels(quarter.start() + Duration::days(14 + 12 * i as i64), (14, 0))?;
        input.ends_at = input.starts_at + Duration::hours(2);
        let content = EventContent::parse(input, organiser)?;
        let current = store.get_event(event.id).await?;
        let event = store.update_event(event.id, current.version, &content, EventStatus::Published).await?;
        for (person, registration) in people.iter().zip(registrations) {
            let attended = rng.below(100) < 80;
            store
                .record_attendance(
                    registration,
                    if attended { RegistrationStatus::Attended } else { RegistrationStatus::NoShow },
                )
                .await?;
            if !attended || rng.below(100) >= 60 {
                continue;
            }
            let done = rng.below(100) < 50;
            let status = if done { CommitmentStatus::Done } else { CommitmentStatus::InProgress };
            let commitment = store
                .create_commitment(
                    &event,
                    *person,
                    &CommitmentContent::parse("Het geleerde toepassen in mijn team", None, status, None, false, None)?,
                )
                .await?;
            if done && rng.below(100) < 55 {
                let record = RecordContent::parse(
                    RecordInput {
                        title: "Toegepast in mijn team".to_string(),
                        activity_type: ActivityType::OnTheJob,
                        started_on: quarter.end() - Duration::days(7),
                        event_id: Some(event.id),
                        commitment_id: Some(commitment.id),
                        ..RecordInput::default()
                    },
                    "",
                )?;
                let linked = Commitment { version: commitment.version + 1, ..commitment };
                store
                    .create_record(
                        &LearningRecord::manual(*person, record, Sharing::default(), crate::db::now()),
                        Some(&linked),
                    )
                    .await?;
            }
        }
        let current = store.get_event(event.id).await?;
        store.update_event(event.id, current.version, &content, EventStatus::Completed).await?;
    }
    Ok(())
}
