//! Themes in storage.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType};
use super::page::{Keyset, Page, Sort, SortField, SortValue, contains_pattern, fold};
use super::{BeginWrite, Rule, Store, StoreError, StoreResult, is_unique_violation, now, on_pool};
use crate::domain::theme::{Slug, Theme, ThemeContent};

/// Fields a theme list can be sorted by; `slug` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeSort {
    Slug,
    LabelNl,
    LabelEn,
    CreatedAt,
    UpdatedAt,
}

impl SortField for ThemeSort {
    const ALL: &'static [Self] =
        &[ThemeSort::Slug, ThemeSort::LabelNl, ThemeSort::LabelEn, ThemeSort::CreatedAt, ThemeSort::UpdatedAt];

    fn name(self) -> &'static str {
        match self {
            ThemeSort::Slug => "slug",
            ThemeSort::LabelNl => "label_nl",
            ThemeSort::LabelEn => "label_en",
            ThemeSort::CreatedAt => "created_at",
            ThemeSort::UpdatedAt => "updated_at",
        }
    }

    fn is_time(self) -> bool {
        matches!(self, ThemeSort::CreatedAt | ThemeSort::UpdatedAt)
    }

    fn column(self) -> &'static str {
        // Same names as the API; listed explicitly so that only these reach SQL.
        match self {
            ThemeSort::Slug => "slug",
            ThemeSort::LabelNl => "label_nl",
            ThemeSort::LabelEn => "label_en",
            ThemeSort::CreatedAt => "created_at",
            ThemeSort::UpdatedAt => "updated_at",
        }
    }
}

/// A theme list request.
#[derive(Debug, Clone, Default)]
pub struct ThemeFilter {
    /// Matches slug and labels, case- and diacritic-insensitively.
    pub q: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ThemeRow {
    id: Uuid,
    slug: String,
    label_nl: String,
    label_en: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<ThemeRow> for Theme {
    type Error = StoreError;

    fn try_from(r: ThemeRow) -> Result<Self, Self::Error> {
        Ok(Theme {
            id: r.id,
            slug: Slug::parse(&r.slug).map_err(|e| anyhow::anyhow!("stored slug {:?}: {e}", r.slug))?,
            label_nl: r.label_nl,
            label_en: r.label_en,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

const COLUMNS: &str = "id, slug, label_nl, label_en, description, created_at, updated_at, version";

fn search_text(c: &ThemeContent) -> String {
    fold(&format!("{} {} {}", c.slug.as_str(), c.label_nl, c.label_en))
}

/// The keyset of a theme under a sort order.
pub fn theme_keyset(sort: ThemeSort, t: &Theme) -> Keyset {
    let value = match sort {
        ThemeSort::Slug => SortValue::Text(t.slug.as_str().to_string()),
        ThemeSort::LabelNl => SortValue::Text(t.label_nl.clone()),
        ThemeSort::LabelEn => SortValue::Text(t.label_en.clone()),
        ThemeSort::CreatedAt => SortValue::Time(t.created_at),
        ThemeSort::UpdatedAt => SortValue::Time(t.updated_at),
    };
    Keyset { value, id: t.id }
}

fn slug_conflict(e: sqlx::Error, slug: &Slug) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::conflict(Rule::SlugTaken, format!("a theme with slug `{}` already exists", slug.as_str()))
    } else {
        e.into()
    }
}

/// What uses the theme `id` (by its current slug), and that slug, on a transaction of
/// either backend. Slugs are lowercase letters, digits and dashes, so the quoted slug
/// matches exactly one element of a JSON array of slugs.
/// The theme's slug and what uses it, read inside a write transaction. Generic over the
/// database: both run the same statement.
async fn theme_users<DB>(conn: &mut DB::Connection, id: Uuid) -> Result<(String, Users), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> (String, i64, i64, i64): sqlx::FromRow<'r, DB::Row>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let row: Option<(String, i64, i64, i64)> = sqlx::query_as(
        "select t.slug,
                (select count(*) from organisations o where o.themes like '%\"' || t.slug || '\"%'),
                (select count(*) from events e where e.themes like '%\"' || t.slug || '\"%'),
                (select count(*) from commitments c where c.theme = t.slug)
         from themes t where t.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let (slug, organisations, events, commitments) = row.unwrap_or_default();
    Ok((slug, Users { organisations, events, commitments }))
}

/// What names a theme.
#[derive(Debug, Clone, Copy, Default)]
struct Users {
    organisations: i64,
    events: i64,
    commitments: i64,
}

impl Users {
    fn any(self) -> bool {
        self.organisations + self.events + self.commitments > 0
    }
}

fn in_use(slug: &str, users: Users) -> StoreError {
    let parts: Vec<String> =
        [(users.organisations, "organisation"), (users.events, "event"), (users.commitments, "commitment")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
    StoreError::conflict(
        Rule::InUse,
        format!("the theme `{slug}` is used by {}; take it off them first", parts.join(", ")),
    )
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn list_themes(
        &self,
        filter: &ThemeFilter,
        sort: Sort<ThemeSort>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Theme>> {
        let rows: Vec<ThemeRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {COLUMNS} from themes where 1 = 1"));
            if let Some(q) = filter.q.as_deref() {
                qb.push(" and search_text like ").push_bind(contains_pattern(&fold(q))).push(" escape '\\'");
            }
            sort.push_page(&mut qb, after, limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<Theme>::try_from_rows(rows, limit, |t| theme_keyset(sort.field, t))
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_theme(&self, id: Uuid) -> StoreResult<Theme> {
        self.one_by_id::<ThemeRow, _>(format!("select {COLUMNS} from themes where id = $1"), id).await
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_theme(&self, content: &ThemeContent) -> StoreResult<Theme> {
        let at = now();
        let theme = Theme {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Theme),
            slug: content.slug.clone(),
            label_nl: content.label_nl.clone(),
            label_en: content.label_en.clone(),
            description: content.description.clone(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let changes = [Change::of(&theme, true, vec![])?];
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "insert into themes (id, slug, label_nl, label_en, description, search_text, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
            )
            .bind(theme.id)
            .bind(theme.slug.as_str())
            .bind(&theme.label_nl)
            .bind(&theme.label_en)
            .bind(&theme.description)
            .bind(search_text(content))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            (*tx).record(&changes).await?;
            tx.commit().await
        }
        .await)
        .map_err(|e| slug_conflict(e, &content.slug))?;
        Ok(theme)
    }

    /// Replaces a theme's content if its version is still `expected_version`.
    #[tracing::instrument(skip(self))]
    pub async fn update_theme(&self, id: Uuid, expected_version: i64, content: &ThemeContent) -> StoreResult<Theme> {
        let updated: Option<Theme> = on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            // Organisations name themes by slug: a slug in use does not change under them.
            let (slug, users) = theme_users::<DB>(&mut *tx, id).await?;
            if users.any() && slug != content.slug.as_str() {
                return Err(in_use(&slug, users));
            }
            let row: Option<ThemeRow> = sqlx::query_as(
                "update themes
                 set slug = $3, label_nl = $4, label_en = $5, description = $6, search_text = $7,
                     updated_at = $8, version = version + 1
                 where id = $1 and version = $2
                 returning id, slug, label_nl, label_en, description, created_at, updated_at, version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(content.slug.as_str())
            .bind(&content.label_nl)
            .bind(&content.label_en)
            .bind(&content.description)
            .bind(search_text(content))
            .bind(now())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| slug_conflict(e, &content.slug))?;
            let Some(row) = row else { return Ok::<_, StoreError>(None) };
            let theme = Theme::try_from(row)?;
            (*tx).record(&[Change::of(&theme, true, vec![])?]).await?;
            tx.commit().await?;
            Ok(Some(theme))
        }
        .await)?;
        self.written(updated, "themes", id).await
    }

    /// Deletes a theme, if its version is `expected_version` when one is given.
    #[tracing::instrument(skip(self))]
    pub async fn delete_theme(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        let deleted: Option<i64> = on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let (slug, users) = theme_users::<DB>(&mut *tx, id).await?;
            if users.any() {
                return Err(in_use(&slug, users));
            }
            let version: Option<i64> = sqlx::query_scalar(
                "delete from themes where id = $1 and ($2 is null or version = $2) returning version",
            )
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(v) = version {
                (*tx).record(&[Change::delete(ResourceType::Theme, id, v + 1, true, vec![])]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(version)
        }
        .await)?;
        self.written(deleted, "themes", id).await.map(drop)
    }
}
