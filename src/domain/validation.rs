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

/// A trimmed string whose length in characters lies in `min..=max`.
pub fn text(value: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min || len > max {
        Err(format!("must be between {min} and {max} characters (got {len})"))
    } else if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        Err("must not contain control characters".into())
    } else {
        Ok(trimmed.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_trims_and_counts_characters_not_bytes() {
        assert_eq!(text("  Één  ", 1, 3).unwrap(), "Één");
        assert!(text("   ", 1, 3).is_err());
        assert!(text("abcd", 1, 3).is_err());
        assert!(text("a\u{0}b", 1, 3).is_err());
    }

    #[test]
    fn invalid_collects_every_error() {
        let mut inv = Invalid::default();
        assert!(inv.check("/a", || text("", 1, 2)).is_none());
        assert!(inv.check("/b", || text("xyz", 1, 2)).is_none());
        assert_eq!(inv.check("/c", || text("ok", 1, 2)).as_deref(), Some("ok"));
        let err = inv.finish(|| ()).unwrap_err();
        let pointers: Vec<_> = err.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a", "/b"]);
    }
}
