//! Rows as stored, and what they turn into.

use super::*;

#[derive(sqlx::FromRow)]
pub(super) struct ChallengeRow {
    pub(super) id: Uuid,
    pub(super) author_id: Option<Uuid>,
    pub(super) author_name: Option<String>,
    pub(super) organisation_id: Option<Uuid>,
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) sector: Option<String>,
    pub(super) size_band: Option<String>,
    pub(super) target_groups: String,
    pub(super) themes: String,
    pub(super) status: String,
    pub(super) solution_count: i64,
    pub(super) comment_count: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ScoredChallengeRow {
    #[sqlx(flatten)]
    pub(super) row: ChallengeRow,
    pub(super) score: f64,
}

/// The select list of a challenge (alias `c`), with its author's name and counts.
pub(super) const CHALLENGE_COLUMNS: &str = "c.id, c.author_id, (select p.display_name from people p where p.id = c.author_id) as author_name, \
     c.organisation_id, c.title, c.description, c.sector, c.size_band, c.target_groups, c.themes, c.status, \
     (select count(*) from solution_challenges sc join solutions s on s.id = sc.solution_id \
      where sc.challenge_id = c.id and s.status = 'published') as solution_count, \
     (select count(*) from comments m where m.challenge_id = c.id) as comment_count, \
     c.created_at, c.updated_at, c.version";

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;

    fn try_from(r: ChallengeRow) -> StoreResult<Self> {
        Ok(Challenge {
            id: r.id,
            author: author(r.author_id, r.author_name),
            content: ChallengeContent {
                title: r.title,
                description: r.description,
                organisation_id: r.organisation_id,
                context: context_of(r.sector, r.size_band, &r.target_groups)?,
                themes: from_json(&r.themes)?,
                status: ChallengeStatus::parse(&r.status).ok_or_else(|| invalid_stored("challenge status"))?,
            },
            solution_count: r.solution_count,
            comment_count: r.comment_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SolutionRow {
    pub(super) id: Uuid,
    pub(super) title: String,
    pub(super) summary: Option<String>,
    pub(super) body: Option<String>,
    pub(super) event_id: Option<Uuid>,
    pub(super) sector: Option<String>,
    pub(super) size_band: Option<String>,
    pub(super) target_groups: String,
    pub(super) themes: String,
    pub(super) maturity: String,
    pub(super) results: Option<String>,
    pub(super) status: String,
    pub(super) published_at: Option<DateTime<Utc>>,
    pub(super) endorsement_count: i64,
    pub(super) comment_count: i64,
    pub(super) adoption_count: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ScoredSolutionRow {
    #[sqlx(flatten)]
    pub(super) row: SolutionRow,
    pub(super) score: f64,
}

/// The select list of a solution (alias `s`), with its live counts.
pub(super) const SOLUTION_COLUMNS: &str = "s.id, s.title, s.summary, s.body, s.event_id, s.sector, s.size_band, s.target_groups, \
     s.themes, s.maturity, s.results, s.status, s.published_at, \
     (select count(*) from endorsements e where e.solution_id = s.id) as endorsement_count, \
     (select count(*) from comments m where m.solution_id = s.id) as comment_count, \
     (select count(*) from learning_records r where r.solution_id = s.id) as adoption_count, \
     s.created_at, s.updated_at, s.version";

#[derive(sqlx::FromRow)]
pub(super) struct CoAuthorRow {
    pub(super) solution_id: Uuid,
    pub(super) person_id: Option<Uuid>,
    pub(super) name: Option<String>,
    pub(super) organisation_id: Option<Uuid>,
    pub(super) added_at: DateTime<Utc>,
}

pub(super) fn solution_of(
    r: SolutionRow,
    co_authors: Vec<CoAuthor>,
    challenge_ids: Vec<Uuid>,
) -> StoreResult<Solution> {
    Ok(Solution {
        id: r.id,
        content: SolutionContent {
            title: r.title,
            summary: r.summary,
            body: r.body,
            challenge_ids,
            event_id: r.event_id,
            context: context_of(r.sector, r.size_band, &r.target_groups)?,
            themes: from_json(&r.themes)?,
            maturity: Maturity::parse(&r.maturity).ok_or_else(|| invalid_stored("maturity"))?,
            results: r.results,
            status: SolutionStatus::parse(&r.status).ok_or_else(|| invalid_stored("solution status"))?,
        },
        published_at: r.published_at,
        co_authors,
        endorsement_count: r.endorsement_count,
        comment_count: r.comment_count,
        adoption_count: r.adoption_count,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    })
}

#[derive(sqlx::FromRow)]
pub(super) struct RevisionRow {
    pub(super) number: i64,
    pub(super) author_id: Option<Uuid>,
    pub(super) author_name: Option<String>,
    pub(super) change: String,
    pub(super) content: String,
    pub(super) created_at: DateTime<Utc>,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = StoreError;

    fn try_from(r: RevisionRow) -> StoreResult<Self> {
        Ok(Revision {
            number: r.number,
            author: author(r.author_id, r.author_name),
            change: RevisionChange::parse(&r.change).ok_or_else(|| invalid_stored("revision change"))?,
            content: from_json(&r.content)?,
            created_at: r.created_at,
        })
    }
}

pub(super) const REVISION_SELECT: &str = "select v.number, v.author_id, p.display_name as author_name, v.change, v.content, \
     v.created_at from solution_revisions v left join people p on p.id = v.author_id";

#[derive(sqlx::FromRow)]
pub(super) struct EndorsementRow {
    pub(super) id: Uuid,
    pub(super) solution_id: Uuid,
    pub(super) person_id: Uuid,
    pub(super) person_name: Option<String>,
    pub(super) organisation_id: Option<Uuid>,
    pub(super) note: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
}

impl From<EndorsementRow> for Endorsement {
    fn from(r: EndorsementRow) -> Self {
        Endorsement {
            id: r.id,
            solution_id: r.solution_id,
            author: author(Some(r.person_id), r.person_name),
            organisation_id: r.organisation_id,
            note: r.note,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

pub(super) const ENDORSEMENT_SELECT: &str = "select e.id, e.solution_id, e.person_id, p.display_name as person_name, \
     e.organisation_id, e.note, e.created_at, e.updated_at, e.version from endorsements e \
     left join people p on p.id = e.person_id";

#[derive(sqlx::FromRow)]
pub(super) struct CommentRow {
    pub(super) id: Uuid,
    pub(super) challenge_id: Option<Uuid>,
    pub(super) solution_id: Option<Uuid>,
    pub(super) parent_id: Option<Uuid>,
    pub(super) author_id: Option<Uuid>,
    pub(super) author_name: Option<String>,
    pub(super) body: String,
    pub(super) hidden: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;

    fn try_from(r: CommentRow) -> StoreResult<Self> {
        let target = match (r.challenge_id, r.solution_id) {
            (Some(c), None) => CommentTarget::Challenge(c),
            (None, Some(s)) => CommentTarget::Solution(s),
            _ => return Err(invalid_stored("comment target")),
        };
        Ok(Comment {
            id: r.id,
            target,
            parent_id: r.parent_id,
            author: author(r.author_id, r.author_name),
            body: r.body,
            hidden: r.hidden,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

pub(super) const COMMENT_SELECT: &str = "select m.id, m.challenge_id, m.solution_id, m.parent_id, m.author_id, \
     p.display_name as author_name, m.body, m.hidden, m.created_at, m.updated_at, m.version \
     from comments m left join people p on p.id = m.author_id";

/// Text as both engines index it: folded, and split into words of letters and digits
/// exactly as the search words are ([`crate::domain::solution::search_words`]), so that
/// neither engine's own parser (PostgreSQL keeps `info@vdab.be` or `3.5` as one token) makes
/// the databases find different things.
pub(super) fn search_text(text: &str) -> String {
    fold(text).chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect()
}
