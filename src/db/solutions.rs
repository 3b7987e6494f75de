//! Challenges, solutions (with revisions and co-authors), endorsements and comments in
//! storage, and their full-text search. See `docs/decisions/0008-shared-solutions.md`.
//!
//! Search text is folded here ([`fold`]) into `search_*` columns that the same statement
//! writes; SQLite's triggers copy them into FTS5 tables and PostgreSQL derives a `tsvector`
//! from them, so the index always changes in the writing transaction.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType};
use super::page::{Keyset, Page, Sort, SortField, SortValue, fold};
use super::{BeginWrite, Rule, Store, StoreError, StoreResult, now, on_pool};
use crate::config::DatabaseKind;
use crate::domain::organisation::{SectorFilter, SizeBand};
use crate::domain::solution::{
    Author, Challenge, ChallengeContent, ChallengeStatus, CoAuthor, Comment, CommentTarget, Context, Endorsement,
    Maturity, Revision, RevisionChange, Solution, SolutionContent, SolutionStatus, TargetGroup,
};

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

fn invalid_stored(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is not valid"))
}

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

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: Uuid,
    author_id: Option<Uuid>,
    author_name: Option<String>,
    organisation_id: Option<Uuid>,
    title: String,
    description: Option<String>,
    sector: Option<String>,
    size_band: Option<String>,
    target_groups: String,
    themes: String,
    status: String,
    solution_count: i64,
    comment_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct ScoredChallengeRow {
    #[sqlx(flatten)]
    row: ChallengeRow,
    score: f64,
}

/// The select list of a challenge (alias `c`), with its author's name and counts.
const CHALLENGE_COLUMNS: &str = "c.id, c.author_id, (select p.display_name from people p where p.id = c.author_id) as author_name, \
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
    id: Uuid,
    title: String,
    summary: Option<String>,
    body: Option<String>,
    event_id: Option<Uuid>,
    sector: Option<String>,
    size_band: Option<String>,
    target_groups: String,
    themes: String,
    maturity: String,
    results: Option<String>,
    status: String,
    published_at: Option<DateTime<Utc>>,
    endorsement_count: i64,
    comment_count: i64,
    adoption_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct ScoredSolutionRow {
    #[sqlx(flatten)]
    row: SolutionRow,
    score: f64,
}

/// The select list of a solution (alias `s`), with its live counts.
const SOLUTION_COLUMNS: &str = "s.id, s.title, s.summary, s.body, s.event_id, s.sector, s.size_band, s.target_groups, \
     s.themes, s.maturity, s.results, s.status, s.published_at, \
     (select count(*) from endorsements e where e.solution_id = s.id) as endorsement_count, \
     (select count(*) from comments m where m.solution_id = s.id) as comment_count, \
     (select count(*) from learning_records r where r.solution_id = s.id) as adoption_count, \
     s.created_at, s.updated_at, s.version";

#[derive(sqlx::FromRow)]
struct CoAuthorRow {
    solution_id: Uuid,
    person_id: Option<Uuid>,
    name: Option<String>,
    organisation_id: Option<Uuid>,
    added_at: DateTime<Utc>,
}

fn solution_of(r: SolutionRow, co_authors: Vec<CoAuthor>, challenge_ids: Vec<Uuid>) -> StoreResult<Solution> {
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
struct RevisionRow {
    number: i64,
    author_id: Option<Uuid>,
    author_name: Option<String>,
    change: String,
    content: String,
    created_at: DateTime<Utc>,
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

const REVISION_SELECT: &str = "select v.number, v.author_id, p.display_name as author_name, v.change, v.content, \
     v.created_at from solution_revisions v left join people p on p.id = v.author_id";

#[derive(sqlx::FromRow)]
struct EndorsementRow {
    id: Uuid,
    solution_id: Uuid,
    person_id: Uuid,
    person_name: Option<String>,
    organisation_id: Option<Uuid>,
    note: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
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

const ENDORSEMENT_SELECT: &str = "select e.id, e.solution_id, e.person_id, p.display_name as person_name, \
     e.organisation_id, e.note, e.created_at, e.updated_at, e.version from endorsements e \
     left join people p on p.id = e.person_id";

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: Uuid,
    challenge_id: Option<Uuid>,
    solution_id: Option<Uuid>,
    parent_id: Option<Uuid>,
    author_id: Option<Uuid>,
    author_name: Option<String>,
    body: String,
    hidden: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
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

const COMMENT_SELECT: &str = "select m.id, m.challenge_id, m.solution_id, m.parent_id, m.author_id, \
     p.display_name as author_name, m.body, m.hidden, m.created_at, m.updated_at, m.version \
     from comments m left join people p on p.id = m.author_id";

/// Text as both engines index it: folded, and split into words of letters and digits
/// exactly as the search words are ([`crate::domain::solution::search_words`]), so that
/// neither engine's own parser (PostgreSQL keeps `info@vdab.be` or `3.5` as one token) makes
/// the databases find different things.
fn search_text(text: &str) -> String {
    fold(text).chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect()
}

/// The search columns of a solution: title, summary, body with results.
fn solution_search(c: &SolutionContent) -> [String; 3] {
    [
        search_text(&c.title),
        search_text(c.summary.as_deref().unwrap_or_default()),
        search_text(&format!(
            "{}\n{}",
            c.body.as_deref().unwrap_or_default(),
            c.results.as_deref().unwrap_or_default()
        )),
    ]
}

fn challenge_search(c: &ChallengeContent) -> [String; 3] {
    [search_text(&c.title), String::new(), search_text(c.description.as_deref().unwrap_or_default())]
}

/// Who sees a solution's feed entries: everyone signed in once published, else its co-authors.
pub fn solution_change(s: &Solution) -> StoreResult<Change> {
    Change::of(s, s.is_published(), s.co_author_ids())
}

/// The search expression for each database: FTS5 (`"w"*` per word, all required) or a
/// PostgreSQL tsquery (`w:* & ...`). Words hold letters and digits only.
fn match_expression(kind: DatabaseKind, words: &[String]) -> String {
    match kind {
        DatabaseKind::Sqlite => words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        DatabaseKind::Postgres => words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
    }
}

/// Tables of a searchable resource.
struct Searchable {
    table: &'static str,
    alias: &'static str,
    fts: &'static str,
    docs: &'static str,
    doc_key: &'static str,
    columns: &'static str,
}

const SOLUTIONS: Searchable = Searchable {
    table: "solutions",
    alias: "s",
    fts: "solution_search",
    docs: "solution_docs",
    doc_key: "solution_id",
    columns: SOLUTION_COLUMNS,
};
const CHALLENGES: Searchable = Searchable {
    table: "challenges",
    alias: "c",
    fts: "challenge_search",
    docs: "challenge_docs",
    doc_key: "challenge_id",
    columns: CHALLENGE_COLUMNS,
};

/// Pushes the `select ... from ... where` of a list: ranked by relevance when `relevance`,
/// else a plain select; with `words`, only rows matching all of them. The caller appends
/// filters (` and ...` on the alias), then [`finish_list`].
///
/// A ranked list scores every match in the innermost query (ids and scores only), cuts the
/// page in the middle one, and only then reads the page's rows with their counts: the
/// counts are computed for 20 rows, not for every match.
fn start_list<DB: sqlx::Database>(
    qb: &mut QueryBuilder<DB>,
    kind: DatabaseKind,
    what: &Searchable,
    words: Option<&[String]>,
    relevance: bool,
) where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let Searchable { table, alias, fts, docs, doc_key, columns } = what;
    match (words, kind) {
        (Some(words), DatabaseKind::Sqlite) if relevance => {
            qb.push(format!(
                "select {columns}, t.score from (select * from (select {alias}.id as id, \
                 -bm25({fts}, 10.0, 5.0, 1.0) as score from {fts} f join {docs} d on d.doc = f.rowid \
                 join {table} {alias} on {alias}.id = d.{doc_key} where {fts} match "
            ));
            qb.push_bind(match_expression(kind, words));
        }
        (Some(words), DatabaseKind::Postgres) if relevance => {
            let q = match_expression(kind, words);
            qb.push(format!(
                "select {columns}, t.score from (select * from (select {alias}.id as id, \
                 ts_rank({alias}.search, to_tsquery('simple', "
            ));
            qb.push_bind(q.clone());
            qb.push(format!("))::float8 as score from {table} {alias} where {alias}.search @@ to_tsquery('simple', "));
            qb.push_bind(q).push(")");
        }
        (Some(words), DatabaseKind::Sqlite) => {
            qb.push(format!(
                "select {columns} from {table} {alias} where {alias}.id in (select d.{doc_key} from {fts} f \
                 join {docs} d on d.doc = f.rowid where {fts} match "
            ));
            qb.push_bind(match_expression(kind, words)).push(")");
        }
        (Some(words), DatabaseKind::Postgres) => {
            qb.push(format!("select {columns} from {table} {alias} where {alias}.search @@ to_tsquery('simple', "));
            qb.push_bind(match_expression(kind, words)).push(")");
        }
        (None, _) => {
            qb.push(format!("select {columns} from {table} {alias} where 1 = 1"));
        }
    }
}

/// Closes a list query: keyset, order and limit (for a ranked list, also the subqueries
/// and the join that reads the page's rows).
fn finish_list<DB: sqlx::Database>(
    qb: &mut QueryBuilder<DB>,
    what: &Searchable,
    order: &ListOrder,
    relevance: bool,
    limit: usize,
) where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> f64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> DateTime<Utc>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let limit = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    match order {
        ListOrder::Relevance { after } if relevance => {
            qb.push(") m where 1 = 1");
            if let Some((score, id)) = after {
                qb.push(" and (m.score < ").push_bind(*score);
                qb.push(" or (m.score = ").push_bind(*score).push(" and m.id > ").push_bind(*id).push("))");
            }
            qb.push(" order by m.score desc, m.id asc limit ").push_bind(limit);
            qb.push(format!(
                ") t join {table} {alias} on {alias}.id = t.id order by t.score desc, t.id asc",
                table = what.table,
                alias = what.alias
            ));
        }
        ListOrder::Relevance { .. } => {
            qb.push(" order by created_at desc, id desc limit ").push_bind(limit);
        }
        ListOrder::Field { sort, after } => {
            if let Some(after) = after {
                sort.push_after(qb, after);
            }
            sort.push_order(qb);
            qb.push(" limit ").push_bind(limit);
        }
    }
}

/// `and <alias>.<column> like '%"value"%'` for a JSON array of slugs or enum names.
fn push_json_contains<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, column: &str, value: &str)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    // Slugs and enum names are lowercase letters, digits, `-` and `_`: the quoted value
    // matches exactly one element. `_` is a LIKE wildcard, so it is escaped.
    qb.push(format!(" and {column} like "))
        .push_bind(format!("%\"{}\"%", value.replace('_', "\\_")))
        .push(" escape '\\'");
}

fn push_sector<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, column: &str, sector: Option<&str>)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let Some(sector) = sector else { return };
    match SectorFilter::of(sector) {
        SectorFilter::Section { letter, first, last } => {
            qb.push(format!(" and ({column} = ")).push_bind(letter);
            qb.push(format!(" or (length({column}) >= 2 and substr({column}, 1, 2) between "))
                .push_bind(first.to_string());
            qb.push(" and ").push_bind(last.to_string()).push("))");
        }
        // A checked code holds only digits and dots: no LIKE wildcards.
        SectorFilter::Prefix(code) => {
            qb.push(format!(" and {column} like ")).push_bind(format!("{code}%"));
        }
    }
}

fn push_solution_filters<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, f: &SolutionFilter)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    match f.drafts {
        Drafts::All => {}
        Drafts::None => {
            qb.push(" and s.status = 'published'");
        }
        Drafts::CoAuthoredBy(person) => {
            qb.push(" and (s.status = 'published' or exists (select 1 from solution_authors a where a.solution_id = s.id and a.person_id = ")
                .push_bind(person)
                .push("))");
        }
    }
    if let Some(theme) = &f.theme {
        push_json_contains(qb, "s.themes", theme);
    }
    if let Some(g) = f.target_group {
        push_json_contains(qb, "s.target_groups", g.as_str());
    }
    push_sector(qb, "s.sector", f.sector.as_deref());
    if let Some(b) = f.size_band {
        qb.push(" and s.size_band = ").push_bind(b.as_str().to_string());
    }
    if let Some(m) = f.maturity {
        qb.push(" and s.maturity = ").push_bind(m.as_str().to_string());
    }
    if let Some(s) = f.status {
        qb.push(" and s.status = ").push_bind(s.as_str().to_string());
    }
    if let Some(c) = f.challenge {
        qb.push(" and exists (select 1 from solution_challenges x where x.solution_id = s.id and x.challenge_id = ")
            .push_bind(c)
            .push(")");
    }
    if let Some(e) = f.event {
        qb.push(" and s.event_id = ").push_bind(e);
    }
    if let Some(o) = f.organisation {
        qb.push(" and exists (select 1 from solution_authors o where o.solution_id = s.id and o.organisation_id = ")
            .push_bind(o)
            .push(")");
    }
    if let Some(p) = f.co_author {
        qb.push(" and exists (select 1 from solution_authors w where w.solution_id = s.id and w.person_id = ")
            .push_bind(p)
            .push(")");
    }
}

fn push_challenge_filters<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, f: &ChallengeFilter)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if let Some(theme) = &f.theme {
        push_json_contains(qb, "c.themes", theme);
    }
    if let Some(g) = f.target_group {
        push_json_contains(qb, "c.target_groups", g.as_str());
    }
    push_sector(qb, "c.sector", f.sector.as_deref());
    if let Some(b) = f.size_band {
        qb.push(" and c.size_band = ").push_bind(b.as_str().to_string());
    }
    if let Some(s) = f.status {
        qb.push(" and c.status = ").push_bind(s.as_str().to_string());
    }
    if let Some(a) = f.author {
        qb.push(" and c.author_id = ").push_bind(a);
    }
    if let Some(o) = f.organisation {
        qb.push(" and c.organisation_id = ").push_bind(o);
    }
}

fn next_of<T>(
    items: &mut Vec<(T, Option<f64>)>,
    limit: usize,
    order: &ListOrder,
    keyset: impl Fn(&T) -> Keyset,
    id: impl Fn(&T) -> Uuid,
) -> Option<NextPage> {
    let more = items.len() > limit;
    items.truncate(limit);
    if !more {
        return None;
    }
    let (last, score) = items.last()?;
    Some(match (order, score) {
        (ListOrder::Relevance { .. }, Some(score)) => NextPage::Relevance(*score, id(last)),
        _ => NextPage::Field(keyset(last)),
    })
}

fn content_keyset(sort: ContentSort, id: Uuid, title: &str, created: DateTime<Utc>, updated: DateTime<Utc>) -> Keyset {
    let value = match sort {
        ContentSort::CreatedAt => SortValue::Time(created),
        ContentSort::UpdatedAt => SortValue::Time(updated),
        ContentSort::Title => SortValue::Text(title.to_string()),
    };
    Keyset { value, id }
}

fn sort_field(order: &ListOrder) -> ContentSort {
    match order {
        ListOrder::Field { sort, .. } => sort.field,
        ListOrder::Relevance { .. } => ContentSort::CreatedAt,
    }
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

macro_rules! solutions_conn {
    ($conn:ty, $db:ty, lock_solution: $lock:literal) => {
        impl SolutionsConn for $conn {
            async fn hydrate(&mut self, rows: Vec<SolutionRow>) -> StoreResult<Vec<Solution>> {
                if rows.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "select a.solution_id, a.person_id, p.display_name as name, a.organisation_id, a.added_at \
                     from solution_authors a left join people p on p.id = a.person_id where a.solution_id in (",
                );
                let mut list = qb.separated(", ");
                for r in &rows {
                    list.push_bind(r.id);
                }
                qb.push(") order by a.added_at, a.id");
                let authors: Vec<CoAuthorRow> = qb.build_query_as().fetch_all(&mut *self).await?;
                let mut qb = QueryBuilder::<$db>::new(
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
                let row: Option<SolutionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "select {SOLUTION_COLUMNS} from solutions s where s.id = $1"
                )))
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
                let row: Option<CommentRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{COMMENT_SELECT} where m.id = $1")))
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
                let n = sqlx::query(
                    "update solutions set version = version + 1, updated_at = $3 where id = $1 and version = $2",
                )
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
                        if !$lock.is_empty() {
                            sqlx::query($lock).bind(s).execute(&mut *self).await?;
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

            async fn readdress_comments(
                &mut self,
                solution: &Solution,
                leaving: Option<Uuid>,
            ) -> StoreResult<Vec<Change>> {
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
    };
}

solutions_conn!(sqlx::SqliteConnection, sqlx::Sqlite, lock_solution: "");
solutions_conn!(sqlx::PgConnection, sqlx::Postgres, lock_solution: "select id from solutions where id = $1 for update");

/// Inserts the challenge links of a solution (after removing the old ones when `replace`).
macro_rules! write_links {
    ($tx:expr, $db:ty, $id:expr, $challenges:expr, $replace:expr) => {{
        if $replace {
            sqlx::query("delete from solution_challenges where solution_id = $1").bind($id).execute(&mut *$tx).await?;
        }
        if !$challenges.is_empty() {
            let mut qb =
                QueryBuilder::<$db>::new("insert into solution_challenges (solution_id, challenge_id, position) ");
            qb.push_values($challenges.iter().enumerate(), |mut row, (i, c)| {
                row.push_bind($id).push_bind(*c).push_bind(i as i64);
            });
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    // ---- challenges ----

    #[tracing::instrument(skip(self))]
    pub async fn get_challenge(&self, id: Uuid) -> StoreResult<Challenge> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).challenge_by_id(id).await
        }
        .await)?
        .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_challenges(
        &self,
        filter: &ChallengeFilter,
        order: &ListOrder,
        limit: usize,
    ) -> StoreResult<ListPage<Challenge>> {
        let kind = self.kind();
        let relevance = matches!(order, ListOrder::Relevance { .. }) && filter.words.is_some();
        let rows: Vec<(ChallengeRow, Option<f64>)> = on_pool!(self.reader(), |p, DB| async {
            let mut qb = QueryBuilder::<DB>::new("");
            start_list(&mut qb, kind, &CHALLENGES, filter.words.as_deref(), relevance);
            push_challenge_filters(&mut qb, filter);
            finish_list(&mut qb, &CHALLENGES, order, relevance, limit);
            if relevance {
                let rows: Vec<ScoredChallengeRow> = qb.build_query_as().fetch_all(p).await?;
                Ok::<_, sqlx::Error>(rows.into_iter().map(|r| (r.row, Some(r.score))).collect())
            } else {
                let rows: Vec<ChallengeRow> = qb.build_query_as().fetch_all(p).await?;
                Ok(rows.into_iter().map(|r| (r, None)).collect())
            }
        }
        .await)?;
        let mut items = rows
            .into_iter()
            .map(|(r, score)| Challenge::try_from(r).map(|c| (c, score)))
            .collect::<StoreResult<Vec<_>>>()?;
        let field = sort_field(order);
        let next = next_of(
            &mut items,
            limit,
            order,
            |c| content_keyset(field, c.id, &c.content.title, c.created_at, c.updated_at),
            |c| c.id,
        );
        Ok(ListPage { items: items.into_iter().map(|(c, _)| c).collect(), next })
    }

    #[tracing::instrument(skip(self, content))]
    pub async fn create_challenge(&self, author: Uuid, content: &ChallengeContent) -> StoreResult<Challenge> {
        let at = now();
        let id = Uuid::now_v7();
        let [title, summary, body] = challenge_search(content);
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let c = content;
            sqlx::query(
                "insert into challenges (id, author_id, organisation_id, title, description, sector, size_band,
                     target_groups, themes, status, search_title, search_summary, search_body, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1)",
            )
            .bind(id)
            .bind(author)
            .bind(c.organisation_id)
            .bind(&c.title)
            .bind(&c.description)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.status.as_str())
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let challenge = (*tx).challenge_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).record(&[Change::of(&challenge, true, vec![])?]).await?;
            tx.commit().await?;
            Ok(challenge)
        }
        .await
        })
    }

    #[tracing::instrument(skip(self, content))]
    pub async fn update_challenge(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &ChallengeContent,
    ) -> StoreResult<Challenge> {
        let at = now();
        let [title, summary, body] = challenge_search(content);
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let c = content;
            let n = sqlx::query(
                "update challenges set organisation_id = $3, title = $4, description = $5, sector = $6, size_band = $7,
                     target_groups = $8, themes = $9, status = $10, search_title = $11, search_summary = $12,
                     search_body = $13, updated_at = $14, version = version + 1
                 where id = $1 and version = $2",
            )
            .bind(id)
            .bind(expected_version)
            .bind(c.organisation_id)
            .bind(&c.title)
            .bind(&c.description)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.status.as_str())
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                let current: Option<i64> = sqlx::query_scalar("select version from challenges where id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(current.map_or(StoreError::NotFound, |current| StoreError::VersionMismatch { current }));
            }
            let challenge = (*tx).challenge_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).record(&[Change::of(&challenge, true, vec![])?]).await?;
            tx.commit().await?;
            Ok(challenge)
        }
        .await)
    }

    /// Deletes a challenge with its comments; solutions no longer name it.
    #[tracing::instrument(skip(self))]
    pub async fn delete_challenge(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let current: Option<i64> = sqlx::query_scalar("select version from challenges where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(current) = current else { return Err(StoreError::NotFound) };
            if expected_version.is_some_and(|v| v != current) {
                return Err(StoreError::VersionMismatch { current });
            }
            let comments: Vec<(Uuid, i64)> = sqlx::query_as("select id, version from comments where challenge_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query("delete from challenges where id = $1").bind(id).execute(&mut *tx).await?;
            let mut changes: Vec<Change> = comments
                .into_iter()
                .map(|(c, v)| Change::delete(ResourceType::Comment, c, v + 1, true, vec![]))
                .collect();
            changes.push(Change::delete(ResourceType::Challenge, id, current + 1, true, vec![]));
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// The challenges among `ids` that do not exist.
    pub async fn missing_challenges(&self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<Uuid> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select id from challenges where id in (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar().fetch_all(p).await
        })?;
        Ok(ids.iter().filter(|id| !found.contains(id)).copied().collect())
    }

    // ---- solutions ----

    #[tracing::instrument(skip(self))]
    pub async fn get_solution(&self, id: Uuid) -> StoreResult<Solution> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).solution_by_id(id).await
        }
        .await)?
        .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_solutions(
        &self,
        filter: &SolutionFilter,
        order: &ListOrder,
        limit: usize,
    ) -> StoreResult<ListPage<Solution>> {
        let kind = self.kind();
        let relevance = matches!(order, ListOrder::Relevance { .. }) && filter.words.is_some();
        let mut items: Vec<(Solution, Option<f64>)> = on_pool!(self.reader(), |p, DB| async {
            let mut conn = p.acquire().await?;
            let mut qb = QueryBuilder::<DB>::new("");
            start_list(&mut qb, kind, &SOLUTIONS, filter.words.as_deref(), relevance);
            push_solution_filters(&mut qb, filter);
            finish_list(&mut qb, &SOLUTIONS, order, relevance, limit);
            let (rows, scores): (Vec<SolutionRow>, Vec<Option<f64>>) = if relevance {
                let rows: Vec<ScoredSolutionRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
                rows.into_iter().map(|r| (r.row, Some(r.score))).unzip()
            } else {
                let rows: Vec<SolutionRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
                rows.into_iter().map(|r| (r, None)).unzip()
            };
            let solutions = (*conn).hydrate(rows).await?;
            Ok::<_, StoreError>(solutions.into_iter().zip(scores).collect())
        }
        .await)?;
        let field = sort_field(order);
        let next = next_of(
            &mut items,
            limit,
            order,
            |s| content_keyset(field, s.id, &s.content.title, s.created_at, s.updated_at),
            |s| s.id,
        );
        Ok(ListPage { items: items.into_iter().map(|(s, _)| s).collect(), next })
    }

    /// Creates a solution with `author` as its first co-author (acting for `organisation`).
    #[tracing::instrument(skip(self, content))]
    pub async fn create_solution(
        &self,
        author: Uuid,
        organisation: Option<Uuid>,
        content: &SolutionContent,
    ) -> StoreResult<Solution> {
        let at = now();
        let id = Uuid::now_v7();
        let [title, summary, body] = solution_search(content);
        let published_at = (content.status == SolutionStatus::Published).then_some(at);
        on_pool!(self.writer(), |p, DB| {
            async {
            let mut tx = p.begin_write().await?;
            let c = content;
            sqlx::query(
                "insert into solutions (id, title, summary, body, event_id, sector, size_band, target_groups, themes,
                     maturity, results, status, published_at, search_title, search_summary, search_body, created_at,
                     updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1)",
            )
            .bind(id)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.body)
            .bind(c.event_id)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.maturity.as_str())
            .bind(&c.results)
            .bind(c.status.as_str())
            .bind(published_at)
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            write_links!(tx, DB, id, c.challenge_ids, false);
            sqlx::query(
                "insert into solution_authors (id, solution_id, person_id, organisation_id, added_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(author)
            .bind(organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).add_revision(&solution, author, RevisionChange::Created).await?;
            (*tx).record(&[solution_change(&solution)?]).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Replaces a solution's content if it is still at revision `expected`; the change is
    /// a new revision by `by`.
    #[tracing::instrument(skip(self, content))]
    pub async fn update_solution(
        &self,
        id: Uuid,
        expected: i64,
        by: Uuid,
        content: &SolutionContent,
    ) -> StoreResult<Solution> {
        let at = now();
        let [title, summary, body] = solution_search(content);
        on_pool!(self.writer(), |p, DB| {
            async {
            let mut tx = p.begin_write().await?;
            let before: Option<(String, Option<DateTime<Utc>>)> =
                sqlx::query_as("select status, published_at from solutions where id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((before_status, published_at)) = before else { return Err(StoreError::NotFound) };
            let publishing = before_status == "draft" && content.status == SolutionStatus::Published;
            if before_status == "published" && content.status == SolutionStatus::Draft {
                return Err(StoreError::conflict(
                    Rule::StatusTransition,
                    "The status cannot change: a published solution stays published.",
                ));
            }
            let c = content;
            let n = sqlx::query(
                "update solutions set title = $3, summary = $4, body = $5, event_id = $6, sector = $7, size_band = $8,
                     target_groups = $9, themes = $10, maturity = $11, results = $12, status = $13, published_at = $14,
                     search_title = $15, search_summary = $16, search_body = $17, updated_at = $18, version = version + 1
                 where id = $1 and version = $2",
            )
            .bind(id)
            .bind(expected)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.body)
            .bind(c.event_id)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.maturity.as_str())
            .bind(&c.results)
            .bind(c.status.as_str())
            .bind(if publishing { Some(at) } else { published_at })
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                let current: i64 = sqlx::query_scalar("select version from solutions where id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                return Err(StoreError::VersionMismatch { current });
            }
            write_links!(tx, DB, id, c.challenge_ids, true);
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            let change = if publishing { RevisionChange::Published } else { RevisionChange::Edited };
            (*tx).add_revision(&solution, by, change).await?;
            let mut changes = vec![solution_change(&solution)?];
            if publishing {
                // The comments made on the draft reached only its co-authors; now everyone.
                changes.extend((*tx).readdress_comments(&solution, None).await?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Adds a co-author; a new revision by `by`. `Conflict` when they already are one.
    #[tracing::instrument(skip(self))]
    pub async fn add_co_author(
        &self,
        id: Uuid,
        by: Uuid,
        person: Uuid,
        organisation: Option<Uuid>,
    ) -> StoreResult<Solution> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if current.is_co_author(person) {
                return Err(StoreError::conflict(Rule::CoAuthor, "This person is a co-author already."));
            }
            (*tx).bump_solution(id, current.version, at).await?;
            sqlx::query(
                "insert into solution_authors (id, solution_id, person_id, organisation_id, added_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(person)
            .bind(organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).add_revision(&solution, by, RevisionChange::CoAuthorAdded).await?;
            let mut changes = vec![solution_change(&solution)?];
            if !solution.is_published() {
                // A draft's comments reach its co-authors: the new one too.
                changes.extend((*tx).readdress_comments(&solution, None).await?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Removes a co-author; a new revision by `by`. `Conflict` for the last one.
    #[tracing::instrument(skip(self))]
    pub async fn remove_co_author(&self, id: Uuid, by: Uuid, person: Uuid) -> StoreResult<Solution> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if !current.is_co_author(person) {
                return Err(StoreError::NotFound);
            }
            if current.co_author_ids().len() == 1 {
                return Err(StoreError::conflict(
                    Rule::CoAuthor,
                    "The last co-author cannot leave; invite someone first, or ask a facilitator to delete the solution.",
                ));
            }
            (*tx).bump_solution(id, current.version, at).await?;
            sqlx::query("delete from solution_authors where solution_id = $1 and person_id = $2")
                .bind(id)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).add_revision(&solution, by, RevisionChange::CoAuthorRemoved).await?;
            let mut changes = Vec::new();
            if !solution.is_published() {
                // A draft and its comments disappear from the feed of whoever left it.
                changes.push(Change::withdraw(ResourceType::Solution, id, solution.version, vec![person]));
                changes.extend((*tx).readdress_comments(&solution, Some(person)).await?);
            }
            changes.push(solution_change(&solution)?);
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Deletes a solution with its revisions, endorsements and comments (tombstones for
    /// each); learning records that named it no longer do.
    #[tracing::instrument(skip(self))]
    pub async fn delete_solution(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            let public = current.is_published();
            let audience = current.co_author_ids();
            let comments: Vec<(Uuid, i64)> = sqlx::query_as("select id, version from comments where solution_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let endorsements: Vec<(Uuid, i64)> =
                sqlx::query_as("select id, version from endorsements where solution_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("delete from solutions where id = $1").bind(id).execute(&mut *tx).await?;
            let mut changes: Vec<Change> = comments
                .into_iter()
                .map(|(c, v)| Change::delete(ResourceType::Comment, c, v + 1, public, audience.clone()))
                .collect();
            changes.extend(
                endorsements
                    .into_iter()
                    .map(|(e, v)| Change::delete(ResourceType::Endorsement, e, v + 1, true, vec![])),
            );
            changes.push(Change::delete(ResourceType::Solution, id, current.version + 1, public, audience));
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Revisions of a solution, newest first, before revision `before`.
    #[tracing::instrument(skip(self))]
    pub async fn list_revisions(&self, id: Uuid, before: Option<i64>, limit: usize) -> StoreResult<Page<Revision>> {
        let rows: Vec<RevisionRow> = on_pool!(self.reader(), |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REVISION_SELECT} where v.solution_id = $1 and v.number < $2 order by v.number desc limit $3"
        )))
        .bind(id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::try_from(limit + 1).unwrap_or(i64::MAX))
        .fetch_all(p)
        .await)?;
        let items = rows.into_iter().map(Revision::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |r| Keyset { value: SortValue::Text(r.number.to_string()), id: Uuid::nil() }))
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_revision(&self, id: Uuid, number: i64) -> StoreResult<Revision> {
        let row: Option<RevisionRow> = on_pool!(self.reader(), |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REVISION_SELECT} where v.solution_id = $1 and v.number = $2"
        )))
        .bind(id)
        .bind(number)
        .fetch_optional(p)
        .await)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    // ---- endorsements ----

    /// Endorses a published solution, or replaces the person's note and organisation.
    /// Returns the endorsement and whether it is new.
    #[tracing::instrument(skip(self, note))]
    pub async fn put_endorsement(
        &self,
        solution: Uuid,
        person: Uuid,
        organisation: Option<Uuid>,
        note: Option<&str>,
    ) -> StoreResult<(Endorsement, bool)> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).endorsement_by(solution, person).await?;
            let created = current.is_none();
            match &current {
                Some(e) if e.organisation_id == organisation && e.note.as_deref() == note => {
                    return Ok((e.clone(), false));
                }
                Some(e) => {
                    sqlx::query(
                        "update endorsements set organisation_id = $2, note = $3, updated_at = $4, version = version + 1
                         where id = $1",
                    )
                    .bind(e.id)
                    .bind(organisation)
                    .bind(note)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "insert into endorsements (id, solution_id, person_id, organisation_id, note, created_at, updated_at, version)
                         values ($1, $2, $3, $4, $5, $6, $6, 1)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(solution)
                    .bind(person)
                    .bind(organisation)
                    .bind(note)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let e = (*tx).endorsement_by(solution, person).await?.ok_or(StoreError::NotFound)?;
            (*tx).record(&[Change::of(&e, true, vec![])?]).await?;
            tx.commit().await?;
            Ok((e, created))
        }
        .await
        })
    }

    /// A person's endorsement of a solution, if any.
    #[tracing::instrument(skip(self))]
    pub async fn endorsement_of(&self, solution: Uuid, person: Uuid) -> StoreResult<Option<Endorsement>> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).endorsement_by(solution, person).await
        }
        .await)
    }

    /// Withdraws a person's endorsement; `false` when there was none.
    #[tracing::instrument(skip(self))]
    pub async fn delete_endorsement(&self, solution: Uuid, person: Uuid) -> StoreResult<bool> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let gone: Option<(Uuid, i64)> = sqlx::query_as(
                "delete from endorsements where solution_id = $1 and person_id = $2 returning id, version",
            )
            .bind(solution)
            .bind(person)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, version)) = gone else { return Ok(false) };
            (*tx).record(&[Change::delete(ResourceType::Endorsement, id, version + 1, true, vec![])]).await?;
            tx.commit().await?;
            Ok(true)
        }
        .await)
    }

    /// A solution's endorsements, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_endorsements(
        &self,
        solution: Uuid,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Endorsement>> {
        let rows: Vec<EndorsementRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select * from ({ENDORSEMENT_SELECT} where e.solution_id = "));
            qb.push_bind(solution).push(") t where 1 = 1");
            let sort = Sort { field: ContentSort::CreatedAt, descending: false };
            if let Some(after) = after {
                sort.push_after(&mut qb, after);
            }
            sort.push_order(&mut qb);
            qb.push(" limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items: Vec<Endorsement> = rows.into_iter().map(Endorsement::from).collect();
        Ok(Page::from_rows(items, limit, |e| Keyset { value: SortValue::Time(e.created_at), id: e.id }))
    }

    // ---- comments ----

    #[tracing::instrument(skip(self))]
    pub async fn get_comment(&self, id: Uuid) -> StoreResult<Comment> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).comment_by_id(id).await
        }
        .await)?
        .ok_or(StoreError::NotFound)
    }

    /// Adds a comment (a reply when `parent` is given; the caller checked that the parent
    /// is a top-level comment on the same target).
    #[tracing::instrument(skip(self, body))]
    pub async fn create_comment(
        &self,
        target: CommentTarget,
        parent: Option<Uuid>,
        author: Uuid,
        body: &str,
    ) -> StoreResult<Comment> {
        let at = now();
        let id = Uuid::now_v7();
        let (challenge, solution) = match target {
            CommentTarget::Challenge(c) => (Some(c), None),
            CommentTarget::Solution(s) => (None, Some(s)),
        };
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "insert into comments (id, challenge_id, solution_id, parent_id, author_id, body, hidden, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, false, $7, $7, 1)",
            )
            .bind(id)
            .bind(challenge)
            .bind(solution)
            .bind(parent)
            .bind(author)
            .bind(body)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let comment = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
            let change = (*tx).comment_change(&comment).await?;
            (*tx).record(&[change]).await?;
            tx.commit().await?;
            Ok(comment)
        }
        .await
        })
    }

    /// Changes a comment's body and hidden flag if it is still at `expected_version` (when given).
    #[tracing::instrument(skip(self, body))]
    pub async fn update_comment(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        body: &str,
        hidden: bool,
        hidden_by: Option<Uuid>,
    ) -> StoreResult<Comment> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
                let mut tx = p.begin_write().await?;
                let current = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
                let expected = expected_version.unwrap_or(current.version);
                // The version in the `where` makes the write atomic with the read it was decided
                // on: a concurrent hide is never undone by an edit based on the comment before it.
                // Whoever hid it stays recorded while it stays hidden.
                let n = sqlx::query(
                    "update comments set body = $3, hidden = $4,
                     hidden_by = case when hidden = $4 then hidden_by else $5 end,
                     updated_at = $6, version = version + 1
                 where id = $1 and version = $2",
                )
                .bind(id)
                .bind(expected)
                .bind(body)
                .bind(hidden)
                .bind(hidden_by)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::VersionMismatch { current: current.version });
                }
                let comment = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
                // The update replaces the feed's earlier entries, which carried the text.
                let change = (*tx).comment_change(&comment).await?;
                (*tx).record(&[change]).await?;
                tx.commit().await?;
                Ok(comment)
            }
            .await
        })
    }

    /// Deletes a comment and its replies (tombstones for each).
    #[tracing::instrument(skip(self))]
    pub async fn delete_comment(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            let template = (*tx).comment_change(&current).await?;
            let gone: Vec<(Uuid, i64)> =
                sqlx::query_as("select id, version from comments where id = $1 or parent_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("delete from comments where id = $1").bind(id).execute(&mut *tx).await?;
            let changes: Vec<Change> = gone
                .into_iter()
                .map(|(c, v)| {
                    Change::delete(ResourceType::Comment, c, v + 1, template.public, template.audience.clone())
                })
                .collect();
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// The comments on a challenge or solution, oldest first (replies carry their parent).
    #[tracing::instrument(skip(self))]
    pub async fn list_comments(
        &self,
        target: CommentTarget,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Comment>> {
        let rows: Vec<CommentRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select * from ({COMMENT_SELECT} where "));
            match target {
                CommentTarget::Challenge(c) => qb.push("m.challenge_id = ").push_bind(c),
                CommentTarget::Solution(s) => qb.push("m.solution_id = ").push_bind(s),
            };
            qb.push(") t where 1 = 1");
            let sort = Sort { field: ContentSort::CreatedAt, descending: false };
            if let Some(after) = after {
                sort.push_after(&mut qb, after);
            }
            sort.push_order(&mut qb);
            qb.push(" limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items = rows.into_iter().map(Comment::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |c| Keyset { value: SortValue::Time(c.created_at), id: c.id }))
    }

    // ---- a person's own ----

    /// Everything a person wrote or endorsed, for their export.
    #[tracing::instrument(skip(self))]
    pub async fn authored_by(&self, person: Uuid) -> StoreResult<AuthoredContent> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            let rows: Vec<SolutionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {SOLUTION_COLUMNS} from solutions s where exists
                     (select 1 from solution_authors a where a.solution_id = s.id and a.person_id = $1)
                 order by s.created_at, s.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            let solutions = (*conn).hydrate(rows).await?;
            let challenges: Vec<ChallengeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {CHALLENGE_COLUMNS} from challenges c where c.author_id = $1 order by c.created_at, c.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            let comments: Vec<CommentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COMMENT_SELECT} where m.author_id = $1 order by m.created_at, m.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            let endorsements: Vec<EndorsementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ENDORSEMENT_SELECT} where e.person_id = $1 order by e.created_at, e.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            Ok::<_, StoreError>(AuthoredContent {
                solutions,
                challenges: challenges.into_iter().map(Challenge::try_from).collect::<StoreResult<_>>()?,
                comments: comments.into_iter().map(Comment::try_from).collect::<StoreResult<_>>()?,
                endorsements: endorsements.into_iter().map(Endorsement::from).collect(),
            })
        }
        .await)
    }
}
