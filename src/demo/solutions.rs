//! Demo challenges and solutions.

use super::*;

pub(super) fn demo_context(sector: Option<&str>, size_band: Option<&str>, groups: &[&str]) -> anyhow::Result<Context> {
    Ok(Context {
        sector: sector.map(str::to_string),
        size_band: size_band.map(|b| SizeBand::parse(b).ok_or_else(|| anyhow::anyhow!("size band {b}"))).transpose()?,
        target_groups: groups
            .iter()
            .map(|g| TargetGroup::parse(g).ok_or_else(|| anyhow::anyhow!("target group {g}")))
            .collect::<anyhow::Result<_>>()?,
    })
}

pub(super) fn demo_solution_content(
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
/// Returns whether it seeded them (it does nothing when there are challenges already).
pub(super) async fn seed_solutions(store: &Store, people: &People<'_>) -> anyhow::Result<bool> {
    let first_page = ListOrder::Field { sort: Sort::default(), after: None };
    if !store.list_challenges(&ChallengeFilter::default(), &first_page, 1).await?.items.is_empty() {
        return Ok(false);
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
        let created = with_ids(c.key, &[IdKind::Challenge], store.create_challenge(author, &content)).await?;
        challenge_ids.insert(c.key, created.id);
    }
    let today = Utc::now().date_naive();
    for s in SOLUTIONS {
        let challenges: Vec<Uuid> = s.challenges.iter().filter_map(|k| challenge_ids.get(k).copied()).collect();
        let event = s.event.and_then(event_id);
        let (creator, organisation) = person(s.revisions[0].author)?;
        let content = |r: &DemoRevision, status| demo_solution_content(s, r, challenges.clone(), event, status);
        let draft = content(&s.revisions[0], SolutionStatus::Draft)?;
        let created = with_ids(s.key, &[IdKind::Solution], store.create_solution(creator, organisation, &draft))
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
        for (nth, (who, body, replies)) in s.comments.iter().enumerate() {
            let (p, _) = person(who)?;
            // The first comment is the one the examples name.
            let kinds: &[IdKind] = if nth == 0 { &[IdKind::Comment] } else { &[] };
            let created = store.create_comment(CommentTarget::Solution(id), None, p, body);
            let comment = with_ids(s.key, kinds, created).await?;
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
            let record = LearningRecord::manual(
                p,
                record_content,
                Sharing { visibility: Visibility::Network, shared_with: vec![] },
                at,
            );
            store.create_record(&record, None).await?;
        }
    }
    Ok(true)
}
