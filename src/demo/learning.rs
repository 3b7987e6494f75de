//! Demo learning records.

use super::*;

/// A few months of learning records: (person, days ago, activity type, title, what happened,
/// what they learned, minutes, themes, visibility: 0 private, 1 their organisation, 2 network).
pub(super) type DemoRecord =
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
pub(super) async fn seed_learning_records(
    store: &Store,
    people: &HashMap<&str, (Uuid, Option<Uuid>)>,
) -> anyhow::Result<()> {
    // Seeded before: the first demo person has records.
    let Some((first, _)) = people.get(RECORDS[0].0) else { return Ok(()) };
    let theirs = RecordFilter { person_id: Some(*first), ..RecordFilter::default() };
    if !store.list_records(&theirs, None, None, 1).await?.items.is_empty() {
        return Ok(());
    }
    let today = Utc::now().date_naive();
    let mut counts: HashMap<&str, usize> = HashMap::new();
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
        let nth = counts.entry(who).or_default();
        let key = format!("{who}/{nth}");
        *nth += 1;
        let record =
            with_ids(&key, &[IdKind::LearningRecord], async { LearningRecord::manual(person, content, sharing, at) })
                .await;
        store.create_record(&record, None).await?;
    }
    Ok(())
}
