//! Keyset pagination: a page continues strictly after the last row of the one before,
//! ordered by `(sort column, id)`, so pages never skip or repeat rows under concurrent
//! inserts and cost the same at any depth (no `OFFSET`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

use super::StoreError;

/// The sort-column value of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortValue {
    #[serde(rename = "s")]
    Text(String),
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
}

/// Where the next page starts: strictly after `(value, id)` in the sort order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyset {
    #[serde(rename = "v")]
    pub value: SortValue,
    pub id: Uuid,
}

/// A field a list can be sorted by; each resource lists its allowed fields.
pub trait SortField: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every sortable field; the first is the default.
    const ALL: &'static [Self];
    /// The name clients use in `?sort=`.
    fn name(self) -> &'static str;
    /// The SQL column (an allow-listed identifier, never client text).
    fn column(self) -> &'static str;
    /// Whether the column holds timestamps (else text).
    fn is_time(self) -> bool;

    /// Whether a cursor's value has this field's type.
    fn accepts(self, value: &SortValue) -> bool {
        matches!((self.is_time(), value), (true, SortValue::Time(_)) | (false, SortValue::Text(_)))
    }
}

/// A sort order: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub descending: bool,
}

impl<F: SortField> Default for Sort<F> {
    fn default() -> Self {
        Self { field: F::ALL[0], descending: false }
    }
}

impl<F: SortField> Sort<F> {
    /// Parses `field` or `-field`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let (descending, name) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        F::ALL.iter().find(|f| f.name() == name).map(|&field| Sort { field, descending }).ok_or_else(|| {
            let names: Vec<_> = F::ALL.iter().map(|f| f.name()).collect();
            format!("`sort` must be one of {} (prefix `-` for descending)", names.join(", "))
        })
    }

    /// The canonical text form, as used in links and cursor fingerprints.
    pub fn as_param(&self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.field.name())
    }

    /// Appends `and (col, id) > ($v, $id)` (or `<` when descending) for a cursor.
    pub fn push_after<DB>(&self, qb: &mut QueryBuilder<DB>, after: &Keyset)
    where
        DB: Database,
        for<'t> String: Encode<'t, DB> + Type<DB>,
        for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
        for<'t> Uuid: Encode<'t, DB> + Type<DB>,
    {
        qb.push(" and (")
            .push(self.field.column())
            .push(", id) ")
            .push(if self.descending { "<" } else { ">" })
            .push(" (");
        match &after.value {
            SortValue::Text(s) => qb.push_bind(s.clone()),
            SortValue::Time(t) => qb.push_bind(*t),
        };
        qb.push(", ").push_bind(after.id).push(")");
    }

    /// Appends `order by col, id` in this direction.
    pub fn push_order<DB: Database>(&self, qb: &mut QueryBuilder<DB>) {
        let dir = if self.descending { " desc" } else { " asc" };
        qb.push(" order by ").push(self.field.column()).push(dir).push(", id").push(dir);
    }

    /// Appends what every keyset page ends with: the cursor's condition (when there is
    /// one), the order, and a limit one past the page, so that the extra row says whether
    /// another page follows.
    pub fn push_page<DB>(&self, qb: &mut QueryBuilder<DB>, after: Option<&Keyset>, limit: usize)
    where
        DB: Database,
        for<'t> String: Encode<'t, DB> + Type<DB>,
        for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
        for<'t> Uuid: Encode<'t, DB> + Type<DB>,
        for<'t> i64: Encode<'t, DB> + Type<DB>,
    {
        if let Some(after) = after {
            self.push_after(qb, after);
        }
        self.push_order(qb);
        qb.push(" limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
    }
}

/// One page of rows and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Keyset>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: usize, keyset: impl Fn(&T) -> Keyset) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(keyset) } else { None };
        Page { items: rows, next }
    }

    /// [`Page::from_rows`] over database rows, each turned into its domain type first.
    pub fn try_from_rows<R>(rows: Vec<R>, limit: usize, keyset: impl Fn(&T) -> Keyset) -> Result<Self, StoreError>
    where
        T: TryFrom<R, Error = StoreError>,
    {
        let items = rows.into_iter().map(T::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_rows(items, limit, keyset))
    }
}

/// Escapes `%`, `_` and `\` for a `like ... escape '\'` pattern and wraps it in `%`.
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Lowercases and strips diacritics (`Één` → `een`), so that search behaves the same on
/// both databases whatever their collations do.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    text.nfd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn folding_removes_case_and_diacritics() {
        assert_eq!(fold("Óntwikkeling Één"), "ontwikkeling een");
    }

    #[test]
    fn a_page_knows_there_is_more_only_from_the_extra_row() {
        let id = Uuid::nil();
        let key = |n: &i64| Keyset { value: SortValue::Text(n.to_string()), id };
        let page = Page::from_rows(vec![1, 2, 3], 2, key);
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next.unwrap().value, SortValue::Text("2".into()));
        let page = Page::from_rows(vec![1, 2], 2, key);
        assert!(page.next.is_none());
    }
}
