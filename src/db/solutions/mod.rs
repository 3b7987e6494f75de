//! Challenges, solutions (with revisions and co-authors), endorsements and comments in
//! storage, and their full-text search. See `docs/decisions/0008-shared-solutions.md`.
//!
//! Search text is folded here ([`fold`]) into `search_*` columns that the same statement
//! writes; SQLite's triggers copy them into FTS5 tables and PostgreSQL derives a `tsvector`
//! from them, so the index always changes in the writing transaction.

use super::invalid_stored;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType};
use super::page::{Keyset, Page, Sort, SortField, SortValue, fold};
use super::{BeginWrite, RowsAffected, Rule, Store, StoreError, StoreResult, now, on_pool};
use crate::config::DatabaseKind;
use crate::domain::organisation::{SectorFilter, SizeBand};
use crate::domain::solution::{
    Author, Challenge, ChallengeContent, ChallengeStatus, CoAuthor, Comment, CommentTarget, Context, Endorsement,
    Maturity, Revision, RevisionChange, Solution, SolutionContent, SolutionStatus, TargetGroup,
};

use rows::*;
pub use search::*;

/// Fields a challenge or solution list can be sorted by (besides relevance with `q`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentSort {
    CreatedAt,
    UpdatedAt,
    Title,
}

impl SortField for ContentSort {
    const ALL: &'static [Self] = &[ContentSort::CreatedAt, ContentSort::UpdatedAt, ContentSort::Title];

    fn name(self) -> &'static str {
        match self {
            ContentSort::CreatedAt => "created_at",
            ContentSort::UpdatedAt => "updated_at",
            ContentSort::Title => "title",
        }
    }

    fn column(self) -> &'static str {
        self.name()
    }

    fn is_time(self) -> bool {
        !matches!(self, ContentSort::Title)
    }
}

/// The order of a list: by relevance to `q` (the cursor is the last row's score and id),
/// or by a field.
#[derive(Debug, Clone)]
pub enum ListOrder {
    Relevance { after: Option<(f64, Uuid)> },
    Field { sort: Sort<ContentSort>, after: Option<Keyset> },
}

/// Which drafts a solution list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drafts {
    None,
    CoAuthoredBy(Uuid),
    All,
}

/// The filters of a solution list.
#[derive(Debug, Clone)]
pub struct SolutionFilter {
    pub drafts: Drafts,
    /// Folded search words; each must match as a prefix.
    pub words: Option<Vec<String>>,
    pub theme: Option<String>,
    pub maturity: Option<Maturity>,
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub target_group: Option<TargetGroup>,
    pub status: Option<SolutionStatus>,
    pub challenge: Option<Uuid>,
    pub event: Option<Uuid>,
    pub organisation: Option<Uuid>,
    pub co_author: Option<Uuid>,
}

/// The filters of a challenge list.
#[derive(Debug, Clone, Default)]
pub struct ChallengeFilter {
    pub words: Option<Vec<String>>,
    pub theme: Option<String>,
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub target_group: Option<TargetGroup>,
    pub status: Option<ChallengeStatus>,
    pub author: Option<Uuid>,
    pub organisation: Option<Uuid>,
}

/// A page of a list in relevance order or by a field.
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next: Option<NextPage>,
}

#[derive(Debug, Clone)]
pub enum NextPage {
    Relevance(f64, Uuid),
    Field(Keyset),
}

// ---- rows ----

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(e.into()))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn author(person_id: Option<Uuid>, name: Option<String>) -> Author {
    Author { person_id, name: person_id.and(name) }
}

fn context_of(sector: Option<String>, size_band: Option<String>, target_groups: &str) -> StoreResult<Context> {
    let groups: Vec<String> = from_json(target_groups)?;
    Ok(Context {
        sector,
        size_band: size_band.map(|b| SizeBand::parse(&b).ok_or_else(|| invalid_stored("size band"))).transpose()?,
        target_groups: groups
            .iter()
            .map(|g| TargetGroup::parse(g).ok_or_else(|| invalid_stored("target group")))
            .collect::<StoreResult<_>>()?,
    })
}

// ---- reads on a connection (shared by reads and writing transactions) ----

pub(crate) trait SolutionsConn {
    /// Co-authors and challenge links for `rows`, as solutions, in the same order.
    async fn hydrate(&mut self, rows: Vec<SolutionRow>) -> StoreResult<Vec<Solution>>;
    async fn solution_by_id(&mut self, id: Uuid) -> StoreResult<Option<Solution>>;
    async fn challenge_by_id(&mut self, id: Uuid) -> StoreResult<Option<Challenge>>;
    async fn comment_by_id(&mut self, id: Uuid) -> StoreResult<Option<Comment>>;
    async fn endorsement_by(&mut self, solution: Uuid, person: Uuid) -> StoreResult<Option<Endorsement>>;
    /// Adds a revision with the solution's content as it now is.
    async fn add_revision(&mut self, s: &Solution, by: Uuid, change: RevisionChange) -> StoreResult<()>;
    /// Moves a solution to its next version (the next revision) if it is still `expected`.
    async fn bump_solution(&mut self, id: Uuid, expected: i64, at: DateTime<Utc>) -> StoreResult<()>;
    /// Who sees a comment's feed entries.
    async fn comment_change(&mut self, c: &Comment) -> StoreResult<Change>;
    /// Before a person is erased: their endorsements go (tombstones), and what they wrote
    /// is listed to be shown again without them ([`SolutionsConn::reissue`]).
    async fn forget_endorsements_of(&mut self, person: Uuid) -> StoreResult<(Vec<Change>, Authored)>;
    /// Feed entries for what a former member wrote, as it now reads.
    async fn reissue(&mut self, authored: &Authored) -> StoreResult<Vec<Change>>;
    /// The comments on a solution, addressed anew to whom reads the solution now (after it
    /// was published or its co-authors changed); `leaving` gets a tombstone for each.
    async fn readdress_comments(&mut self, solution: &Solution, leaving: Option<Uuid>) -> StoreResult<Vec<Change>>;
}

/// Everything a person wrote or endorsed, in full (for their export).
#[derive(Debug, Clone, Default)]
pub struct AuthoredContent {
    /// The solutions they co-author.
    pub solutions: Vec<Solution>,
    pub challenges: Vec<Challenge>,
    pub comments: Vec<Comment>,
    pub endorsements: Vec<Endorsement>,
}

/// What a person wrote for others.
#[derive(Debug, Clone, Default)]
pub(crate) struct Authored {
    pub challenges: Vec<Uuid>,
    pub solutions: Vec<Uuid>,
    pub comments: Vec<Uuid>,
}

impl<C> SolutionsConn for C
where
    C: sqlx::Connection + Send,
    C::Database: sqlx::database::HasStatementCache + crate::db::Dialect,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'q> bool: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::DateTime<chrono::Utc>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::string::String:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> uuid::Uuid: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    <C::Database as sqlx::Database>::QueryResult: crate::db::RowsAffected,
{
    async fn hydrate(&mut self, rows: Vec<SolutionRow>) -> StoreResult<Vec<Solution>> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let mut qb = QueryBuilder::<C::Database>::new(
            "select a.solution_id, a.person_id, p.display_name as name, a.organisation_id, a.added_at \
             from solution_authors a left join people p on p.id = a.person_id where a.solution_id in (",
        );
        let mut list = qb.separated(", ");
        for r in &rows {
            list.push_bind(r.id);
        }
        qb.push(") order by a.added_at, a.id");
        let authors: Vec<CoAuthorRow> = qb.build_query_as().fetch_all(&mut *self).await?;
        let mut qb = QueryBuilder::<C::Database>::new(
            "select solution_id, challenge_id from solution_challenges where solution_id in (",
        );
        let mut list = qb.separated(", ");
        for r in &rows {
            list.push_bind(r.id);
        }
        qb.push(") order by solution_id, position");
        let links: Vec<(Uuid, Uuid)> = qb.build_query_as().fetch_all(&mut *self).await?;
        rows.into_iter()
            .map(|r| {
                let co_authors = authors
                    .iter()
                    .filter(|a| a.solution_id == r.id)
                    .map(|a| CoAuthor {
                        author: author(a.person_id, a.name.clone()),
                        organisation_id: a.organisation_id,
                        added_at: a.added_at,
                    })
                    .collect();
                let challenges = links.iter().filter(|(s, _)| *s == r.id).map(|(_, c)| *c).collect();
                solution_of(r, co_authors, challenges)
            })
            .collect()
    }

    async fn solution_by_id(&mut self, id: Uuid) -> StoreResult<Option<Solution>> {
        let row: Option<SolutionRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("select {SOLUTION_COLUMNS} from solutions s where s.id = $1")))
                .bind(id)
                .fetch_optional(&mut *self)
                .await?;
        Ok(self.hydrate(row.into_iter().collect()).await?.pop())
    }

    async fn challenge_by_id(&mut self, id: Uuid) -> StoreResult<Option<Challenge>> {
        let row: Option<ChallengeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CHALLENGE_COLUMNS} from challenges c where c.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self)
        .await?;
        row.map(Challenge::try_from).transpose()
    }

    async fn comment_by_id(&mut self, id: Uuid) -> StoreResult<Option<Comment>> {
        let row: Option<CommentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{COMMENT_SELECT} where m.id = $1")))
            .bind(id)
            .fetch_optional(&mut *self)
            .await?;
        row.map(Comment::try_from).transpose()
    }

    async fn endorsement_by(&mut self, solution: Uuid, person: Uuid) -> StoreResult<Option<Endorsement>> {
        let row: Option<EndorsementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ENDORSEMENT_SELECT} where e.solution_id = $1 and e.person_id = $2"
        )))
        .bind(solution)
        .bind(person)
        .fetch_optional(&mut *self)
        .await?;
        Ok(row.map(Endorsement::from))
    }

    async fn add_revision(&mut self, s: &Solution, by: Uuid, change: RevisionChange) -> StoreResult<()> {
        sqlx::query(
            "insert into solution_revisions (solution_id, number, author_id, change, content, created_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.id)
        .bind(s.version)
        .bind(by)
        .bind(change.as_str())
        .bind(to_json(&s.content))
        .bind(s.updated_at)
        .execute(&mut *self)
        .await?;
        Ok(())
    }

    async fn bump_solution(&mut self, id: Uuid, expected: i64, at: DateTime<Utc>) -> StoreResult<()> {
        let n =
            sqlx::query("update solutions set version = version + 1, updated_at = $3 where id = $1 and version = $2")
                .bind(id)
                .bind(expected)
                .bind(at)
                .execute(&mut *self)
                .await?
                .rows_affected();
        if n == 1 {
            return Ok(());
        }
        let current: Option<i64> = sqlx::query_scalar("select version from solutions where id = $1")
            .bind(id)
            .fetch_optional(&mut *self)
            .await?;
        Err(current.map_or(StoreError::NotFound, |current| StoreError::VersionMismatch { current }))
    }

    async fn comment_change(&mut self, c: &Comment) -> StoreResult<Change> {
        match c.target {
            CommentTarget::Challenge(_) => Change::of(c, true, vec![]),
            CommentTarget::Solution(s) => {
                // Who reads a comment follows its solution (draft or published, its
                // co-authors): lock the solution's row to the end of the transaction,
                // so a publication or a co-author leaving cannot commit in between
                // and leave this comment addressed as the solution no longer is.
                // (SQLite's one writer already serialises.)
                if !<C::Database as crate::db::Dialect>::LOCK_SOLUTION.is_empty() {
                    sqlx::query(<C::Database as crate::db::Dialect>::LOCK_SOLUTION).bind(s).execute(&mut *self).await?;
                }
                match self.solution_by_id(s).await? {
                    Some(s) if !s.is_published() => Change::of(c, false, s.co_author_ids()),
                    _ => Change::of(c, true, vec![]),
                }
            }
        }
    }

    async fn forget_endorsements_of(&mut self, person: Uuid) -> StoreResult<(Vec<Change>, Authored)> {
        let gone: Vec<(Uuid, i64)> =
            sqlx::query_as("delete from endorsements where person_id = $1 returning id, version")
                .bind(person)
                .fetch_all(&mut *self)
                .await?;
        let changes = gone
            .into_iter()
            .map(|(id, v)| Change::delete(ResourceType::Endorsement, id, v + 1, true, vec![]))
            .collect();
        let authored = Authored {
            challenges: sqlx::query_scalar("select id from challenges where author_id = $1")
                .bind(person)
                .fetch_all(&mut *self)
                .await?,
            solutions: sqlx::query_scalar("select solution_id from solution_authors where person_id = $1")
                .bind(person)
                .fetch_all(&mut *self)
                .await?,
            comments: sqlx::query_scalar("select id from comments where author_id = $1")
                .bind(person)
                .fetch_all(&mut *self)
                .await?,
        };
        Ok((changes, authored))
    }

    async fn reissue(&mut self, authored: &Authored) -> StoreResult<Vec<Change>> {
        let mut changes = Vec::new();
        for id in &authored.challenges {
            if let Some(c) = self.challenge_by_id(*id).await? {
                changes.push(Change::of(&c, true, vec![])?);
            }
        }
        for id in &authored.solutions {
            if let Some(s) = self.solution_by_id(*id).await? {
                changes.push(solution_change(&s)?);
            }
        }
        for id in &authored.comments {
            if let Some(c) = self.comment_by_id(*id).await? {
                changes.push(self.comment_change(&c).await?);
            }
        }
        Ok(changes)
    }

    async fn readdress_comments(&mut self, solution: &Solution, leaving: Option<Uuid>) -> StoreResult<Vec<Change>> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("select id from comments where solution_id = $1 order by created_at, id")
                .bind(solution.id)
                .fetch_all(&mut *self)
                .await?;
        let (public, audience) =
            if solution.is_published() { (true, vec![]) } else { (false, solution.co_author_ids()) };
        let mut changes = Vec::with_capacity(ids.len() * 2);
        for id in ids {
            if let Some(c) = self.comment_by_id(id).await? {
                if let Some(person) = leaving {
                    changes.push(Change::withdraw(ResourceType::Comment, c.id, c.version, vec![person]));
                }
                changes.push(Change::of(&c, public, audience.clone())?);
            }
        }
        Ok(changes)
    }
}

/// Writes which challenges a solution answers, in order; `replace` drops the old links first.
async fn write_links<DB>(conn: &mut DB::Connection, id: Uuid, challenges: &[Uuid], replace: bool) -> StoreResult<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if replace {
        sqlx::query("delete from solution_challenges where solution_id = $1").bind(id).execute(&mut *conn).await?;
    }
    if !challenges.is_empty() {
        let mut qb = QueryBuilder::<DB>::new("insert into solution_challenges (solution_id, challenge_id, position) ");
        qb.push_values(challenges.iter().enumerate(), |mut row, (i, c)| {
            row.push_bind(id).push_bind(*c).push_bind(i as i64);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

mod challenges;
mod content;
mod reactions;
mod rows;
mod search;
