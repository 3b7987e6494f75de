//! Lists and full-text search of challenges and solutions: filters, order, keyset pages.

use super::*;

/// The search columns of a solution: title, summary, body with results.
pub(super) fn solution_search(c: &SolutionContent) -> [String; 3] {
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

pub(super) fn challenge_search(c: &ChallengeContent) -> [String; 3] {
    [search_text(&c.title), String::new(), search_text(c.description.as_deref().unwrap_or_default())]
}

/// Who sees a solution's feed entries: everyone signed in once published, else its co-authors.
pub fn solution_change(s: &Solution) -> StoreResult<Change> {
    Change::of(s, s.is_published(), s.co_author_ids())
}

/// The search expression for each database: FTS5 (`"w"*` per word, all required) or a
/// PostgreSQL tsquery (`w:* & ...`). Words hold letters and digits only.
pub(super) fn match_expression(kind: DatabaseKind, words: &[String]) -> String {
    match kind {
        DatabaseKind::Sqlite => words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        DatabaseKind::Postgres => words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
    }
}

/// Tables of a searchable resource.
pub(super) struct Searchable {
    pub(super) table: &'static str,
    pub(super) alias: &'static str,
    pub(super) fts: &'static str,
    pub(super) docs: &'static str,
    pub(super) doc_key: &'static str,
    pub(super) columns: &'static str,
}

pub(super) const SOLUTIONS: Searchable = Searchable {
    table: "solutions",
    alias: "s",
    fts: "solution_search",
    docs: "solution_docs",
    doc_key: "solution_id",
    columns: SOLUTION_COLUMNS,
};
pub(super) const CHALLENGES: Searchable = Searchable {
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
pub(super) fn start_list<DB: sqlx::Database>(
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
pub(super) fn finish_list<DB: sqlx::Database>(
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
pub(super) fn push_json_contains<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, column: &str, value: &str)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    // Slugs and enum names are lowercase letters, digits, `-` and `_`: the quoted value
    // matches exactly one element. `_` is a LIKE wildcard, so it is escaped.
    qb.push(format!(" and {column} like "))
        .push_bind(format!("%\"{}\"%", value.replace('_', "\\_")))
        .push(" escape '\\'");
}

pub(super) fn push_sector<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, column: &str, sector: Option<&str>)
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

pub(super) fn push_solution_filters<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, f: &SolutionFilter)
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

pub(super) fn push_challenge_filters<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, f: &ChallengeFilter)
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

pub(super) fn next_of<T>(
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

pub(super) fn content_keyset(
    sort: ContentSort,
    id: Uuid,
    title: &str,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
) -> Keyset {
    let value = match sort {
        ContentSort::CreatedAt => SortValue::Time(created),
        ContentSort::UpdatedAt => SortValue::Time(updated),
        ContentSort::Title => SortValue::Text(title.to_string()),
    };
    Keyset { value, id }
}

pub(super) fn sort_field(order: &ListOrder) -> ContentSort {
    match order {
        ListOrder::Field { sort, .. } => sort.field,
        ListOrder::Relevance { .. } => ContentSort::CreatedAt,
    }
}
