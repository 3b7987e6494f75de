//! Demo events, registrations and commitments.

use super::*;

/// The demo person's key in [`EVENTS`] and [`COMMITMENTS`]: the first name, lowercase.
pub(super) fn person_key(email: &str) -> &str {
    email.split('.').next().unwrap_or(email)
}

/// A local time in Brussels on `day`, in UTC (the earlier one when the clock goes back).
pub(super) fn brussels(day: NaiveDate, (hour, minute): (u32, u32)) -> anyhow::Result<DateTime<Utc>> {
    let local = day.and_hms_opt(hour, minute, 0).ok_or_else(|| anyhow::anyhow!("no time {hour}:{minute:02}"))?;
    let at =
        Brussels.from_local_datetime(&local).earliest().ok_or_else(|| anyhow::anyhow!("no {local} in Brussels"))?;
    Ok(at.with_timezone(&Utc))
}

/// The content of a demo event as it is finally stored, dated from `today`.
pub(super) fn event_content(
    e: &DemoEvent,
    today: NaiveDate,
    organisations: &HashMap<&str, Uuid>,
) -> anyhow::Result<EventContent> {
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
pub(super) async fn seed_events(
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
            let key = format!("{key}/{who}");
            with_ids(&key, &[IdKind::Commitment], store.create_commitment(event, person, &content)).await?;
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
pub(super) async fn seed_event(
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
    let event = with_ids(e.key, &[IdKind::Event], store.create_event(organiser, &opening, status)).await?;
    let mut registrations = Vec::with_capacity(e.registrations.len());
    for (who, by, then) in e.registrations {
        let (person, organisation) = people[who];
        let by = match by {
            By::Themself => None,
            By::Organisation => organisation,
        };
        let key = format!("{}/{who}", e.key);
        let (registration, _) = with_ids(&key, &[IdKind::Registration], store.register(event.id, person, by)).await?;
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
