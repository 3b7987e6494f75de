//! Themes: the network's small curated taxonomy, used to tag everything else.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::validation::{Invalid, line, optional_text};

/// Longest theme label, in characters.
pub const LABEL_MAX: usize = 120;
/// Longest theme description, in characters.
pub const DESCRIPTION_MAX: usize = 2000;
/// Slug length bounds, in characters.
pub const SLUG_MIN: usize = 2;
pub const SLUG_MAX: usize = 64;
/// The slug pattern, as written into the OpenAPI document.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// A stable, URL-safe identifier such as `informal-learning`: lowercase ASCII letters and
/// digits in groups joined by single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(value: &str) -> Result<Self, String> {
        let len = value.len();
        let well_formed = value
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !(SLUG_MIN..=SLUG_MAX).contains(&len) {
            Err(format!("must be between {SLUG_MIN} and {SLUG_MAX} characters (got {len})"))
        } else if !well_formed {
            Err("must be lowercase letters and digits in groups joined by single hyphens, such as `informal-learning`"
                .into())
        } else {
            Ok(Self(value.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored theme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub id: Uuid,
    pub slug: Slug,
    pub label_nl: String,
    pub label_en: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The editable content of a theme, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeContent {
    pub slug: Slug,
    pub label_nl: String,
    pub label_en: String,
    pub description: Option<String>,
}

/// Unvalidated input for a theme: what a create request carries, or a theme's current
/// content with a merge patch applied.
#[derive(Debug, Clone, Default)]
pub struct ThemeInput {
    pub slug: String,
    pub label_nl: String,
    pub label_en: String,
    pub description: Option<String>,
}

impl ThemeContent {
    /// Checks every field and reports all that are wrong.
    pub fn parse(input: ThemeInput) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let slug = inv.check("/slug", || Slug::parse(&input.slug));
        let label_nl = inv.check("/label_nl", || line(&input.label_nl, LABEL_MAX));
        let label_en = inv.check("/label_en", || line(&input.label_en, LABEL_MAX));
        let description = inv.check("/description", || optional_text(input.description.as_deref(), DESCRIPTION_MAX));
        inv.finish(|| ThemeContent {
            slug: slug.expect("checked"),
            label_nl: label_nl.expect("checked"),
            label_en: label_en.expect("checked"),
            description: description.expect("checked"),
        })
    }
}

/// Checks, each on its own, the fields a patch sets, so that a bad patch is refused before
/// any precondition is looked at (RFC 9110 §13.2.1).
/// `None` means absent, `Some(None)` an explicit `null`, which required fields refuse.
pub fn check_patch(
    slug: Option<Option<&str>>,
    label_nl: Option<Option<&str>>,
    label_en: Option<Option<&str>>,
    description: Option<Option<&str>>,
) -> Result<(), Invalid> {
    const REQUIRED: &str = "is required and cannot be removed (null)";
    let mut inv = Invalid::default();
    if let Some(v) = slug {
        inv.check("/slug", || Slug::parse(v.ok_or(REQUIRED)?));
    }
    if let Some(v) = label_nl {
        inv.check("/label_nl", || line(v.ok_or(REQUIRED)?, LABEL_MAX));
    }
    if let Some(v) = label_en {
        inv.check("/label_en", || line(v.ok_or(REQUIRED)?, LABEL_MAX));
    }
    if let Some(v) = description {
        inv.check("/description", || optional_text(v, DESCRIPTION_MAX));
    }
    inv.finish(|| ())
}

impl Theme {
    /// The theme's content as input, to apply a patch to.
    pub fn to_input(&self) -> ThemeInput {
        ThemeInput {
            slug: self.slug.as_str().to_string(),
            label_nl: self.label_nl.clone(),
            label_en: self.label_en.clone(),
            description: self.description.clone(),
        }
    }

    pub fn content(&self) -> ThemeContent {
        ThemeContent {
            slug: self.slug.clone(),
            label_nl: self.label_nl.clone(),
            label_en: self.label_en.clone(),
            description: self.description.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_groups_joined_by_single_hyphens() {
        for ok in ["informal-learning", "a1", "careers-at-every-age", "x-1-y"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "Informal", "-a", "a-", "a--b", "a_b", "é-b", "a b"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(SLUG_MAX + 1)).is_err());
    }

    #[test]
    fn content_reports_every_bad_field() {
        let err = ThemeContent::parse(ThemeInput {
            slug: "Bad Slug".into(),
            label_nl: " ".into(),
            label_en: "Informal learning".into(),
            description: Some("x".repeat(DESCRIPTION_MAX + 1)),
        })
        .unwrap_err();
        let pointers: Vec<_> = err.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/slug", "/label_nl", "/description"]);
    }

    #[test]
    fn an_empty_description_is_no_description() {
        let c = ThemeContent::parse(ThemeInput {
            slug: "informal-learning".into(),
            label_nl: "Informeel leren".into(),
            label_en: "Informal learning".into(),
            description: Some("  ".into()),
        })
        .unwrap();
        assert_eq!(c.description, None);
    }
}
