//! Field-level validation errors with JSON pointers (RFC 6901) into the request body.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the offending member of the request body, or
    /// `#/query/<name>` / `#/path/<name>` for parameters.
    #[schema(example = "/label_nl")]
    pub pointer: String,
    /// What is wrong and what is expected.
    #[schema(example = "must be between 1 and 120 characters")]
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), detail: detail.into() }
    }

    /// A merge patch set a required member to `null`.
    pub fn cannot_remove(pointer: &str) -> Self {
        Self::new(pointer, "is required and cannot be removed (null)")
    }
}

/// A member of a merge patch (RFC 7396) that may be `null`: present (a value, or `null` as
/// `None`) replaces `target`, absent leaves it as it is.
pub fn merge<T>(value: Option<T>, target: &mut T) {
    if let Some(v) = value {
        *target = v;
    }
}

/// A list or text member of a merge patch whose `null` means empty.
pub fn merge_or_default<T: Default>(value: Option<Option<T>>, target: &mut T) {
    if let Some(v) = value {
        *target = v.unwrap_or_default();
    }
}

/// A request that does not satisfy the rules; carries every field error found, not just
/// the first, so a client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {errors:?}")]
pub struct Invalid {
    pub errors: Vec<FieldError>,
}

impl Invalid {
    pub fn one(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { errors: vec![FieldError::new(pointer, detail)] }
    }

    /// A required member of a merge patch: a value replaces `target`, `null` is an error at
    /// `pointer`, absent leaves `target` as it is.
    pub fn required<T>(&mut self, pointer: &str, value: Option<Option<T>>, target: &mut T) {
        match value {
            Some(Some(v)) => *target = v,
            Some(None) => self.errors.push(FieldError::cannot_remove(pointer)),
            None => {}
        }
    }

    /// Runs `parse` and records its error under `pointer`, returning the value if it parsed.
    pub fn check<T>(&mut self, pointer: &str, parse: impl FnOnce() -> Result<T, String>) -> Option<T> {
        match parse() {
            Ok(value) => Some(value),
            Err(detail) => {
                self.errors.push(FieldError::new(pointer, detail));
                None
            }
        }
    }

    /// `Ok(value)` when no error was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Invalid> {
        if self.errors.is_empty() { Ok(value()) } else { Err(self) }
    }
}

/// JSON Schema pattern of a required single-line text: no control characters and at least
/// one character that is not blank. [`line`] enforces exactly this.
pub const LINE_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$";
/// JSON Schema pattern of a multi-line text: no control characters but tab, line feed and
/// carriage return. [`optional_text`] enforces exactly this.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// Blank characters: controls, spaces and the Unicode spaces (what ECMAScript's `\s`
/// matches, so the spec's patterns and this code agree).
pub(crate) fn is_blank(c: char) -> bool {
    matches!(c, '\0'..=' ' | '\u{7f}'..='\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}'
        | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}')
}

fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

fn check_length(value: &str, max: usize) -> Result<(), String> {
    let len = value.chars().count();
    if len > max { Err(format!("must be at most {max} characters (got {len})")) } else { Ok(()) }
}

/// A required single-line text of at most `max` characters, trimmed of blanks.
pub fn line(value: &str, max: usize) -> Result<String, String> {
    check_length(value, max)?;
    if value.chars().any(is_control) {
        return Err("must be a single line without control characters".into());
    }
    let trimmed = value.trim_matches(is_blank);
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(trimmed.to_string())
}

/// An optional multi-line text of at most `max` characters, trimmed; blank means none.
pub fn optional_text(value: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(value) = value else { return Ok(None) };
    check_length(value, max)?;
    if value.chars().any(|c| is_control(c) && !matches!(c, '\t' | '\n' | '\r')) {
        return Err("must not contain control characters other than tab and line breaks".into());
    }
    let trimmed = value.trim_matches(is_blank);
    Ok((!trimmed.is_empty()).then(|| trimmed.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_non_blank_and_counted_in_characters() {
        assert_eq!(line("  Één  ", 7).unwrap(), "Één");
        assert!(line("Één", 3).is_ok());
        assert!(line("   ", 3).is_err());
        assert!(line("\u{feff}", 3).is_err());
        assert!(line("abcd", 3).is_err());
        // The raw length counts, as in the spec's maxLength.
        assert!(line(" ab ", 3).is_err());
        assert!(line("a\u{0}b", 3).is_err());
        assert!(line("a\nb", 3).is_err());
        assert!(line("a\u{86}b", 3).is_err());
    }

    #[test]
    fn a_text_keeps_line_breaks_and_blank_means_none() {
        assert_eq!(optional_text(Some(" a\nb\t "), 10).unwrap().as_deref(), Some("a\nb"));
        assert_eq!(optional_text(Some("  "), 10).unwrap(), None);
        assert_eq!(optional_text(None, 10).unwrap(), None);
        assert!(optional_text(Some("a\u{7}"), 10).is_err());
    }

    #[test]
    fn invalid_collects_every_error() {
        let mut inv = Invalid::default();
        assert!(inv.check("/a", || line("", 2)).is_none());
        assert!(inv.check("/b", || line("xyz", 2)).is_none());
        assert_eq!(inv.check("/c", || line("ok", 2)).as_deref(), Some("ok"));
        let err = inv.finish(|| ()).unwrap_err();
        let pointers: Vec<_> = err.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a", "/b"]);
    }
}
