//! ETags and conditional requests (RFC 9110 §13). A resource's ETag is its version, so
//! `If-Match` becomes a `where version = $n` in the write: atomic, no lost updates.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;

/// The strong ETag of a resource version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Entity tags listed in a header: `None` for `*`.
fn listed_tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Option<Vec<String>>> {
    let values: Vec<&str> = headers.get_all(name).filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return None;
    }
    let mut tags = Vec::new();
    for part in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|p| !p.is_empty()) {
        if part == "*" {
            return Some(None);
        }
        tags.push(part.to_string());
    }
    Some(Some(tags))
}

/// The version a strong entity tag names, if it is one of ours.
fn version_of(tag: &str) -> Option<i64> {
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// The `If-Match` precondition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match` header.
    Absent,
    /// `If-Match: *`: the resource must exist.
    Any,
    /// The versions named by strong ETags; weak or foreign tags never match.
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        match listed_tags(headers, header::IF_MATCH) {
            None => IfMatch::Absent,
            Some(None) => IfMatch::Any,
            Some(Some(tags)) => IfMatch::Versions(tags.iter().filter_map(|t| version_of(t)).collect()),
        }
    }

    /// 412 unless the current version satisfies the precondition.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            IfMatch::Absent | IfMatch::Any => Ok(()),
            IfMatch::Versions(v) if v.contains(&current) => Ok(()),
            IfMatch::Versions(_) => Err(ApiError::PreconditionFailed { current_version: Some(current) }),
        }
    }

    /// 428 when the header is missing (for operations that must never overwrite blindly).
    pub fn required(self) -> Result<Self, ApiError> {
        match self {
            IfMatch::Absent => Err(ApiError::PreconditionRequired),
            other => Ok(other),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, IfMatch::Absent)
    }

    /// The version a conditional delete may name directly: one listed version.
    pub fn single_version(&self) -> Option<i64> {
        match self {
            IfMatch::Versions(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch::from_headers(req.headers())))
    }
}

/// Whether `If-None-Match` matches the current version (weak comparison, §13.1.2).
fn none_match(headers: &HeaderMap, version: i64) -> bool {
    match listed_tags(headers, header::IF_NONE_MATCH) {
        None => false,
        Some(None) => true,
        Some(Some(tags)) => tags.iter().any(|t| version_of(t.strip_prefix("W/").unwrap_or(t)) == Some(version)),
    }
}

/// A single resource with its `ETag`; `304 Not Modified` when `If-None-Match` matches.
pub fn respond_tagged<T: Serialize>(req: &HttpRequest, version: i64, body: &T) -> HttpResponse {
    let tag = etag(version);
    if none_match(req.headers(), version) {
        return HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish();
    }
    HttpResponse::Ok().insert_header((header::ETAG, tag)).insert_header((header::CACHE_CONTROL, "no-cache")).json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn if_match(value: &str) -> IfMatch {
        IfMatch::from_headers(
            TestRequest::default().insert_header((header::IF_MATCH, value)).to_http_request().headers(),
        )
    }

    #[test]
    fn if_match_names_versions_and_star_matches_anything() {
        assert_eq!(if_match("\"3\""), IfMatch::Versions(vec![3]));
        assert_eq!(if_match("\"3\", \"4\""), IfMatch::Versions(vec![3, 4]));
        assert_eq!(if_match("*"), IfMatch::Any);
        assert!(if_match("\"3\"").check(3).is_ok());
        assert!(if_match("\"3\"").check(4).is_err());
        // Weak tags never satisfy If-Match (strong comparison).
        assert!(if_match("W/\"3\"").check(3).is_err());
        assert!(if_match("\"abc\"").check(3).is_err());
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let req = |v: &str| TestRequest::default().insert_header((header::IF_NONE_MATCH, v)).to_http_request();
        assert!(none_match(req("W/\"2\"").headers(), 2));
        assert!(none_match(req("\"1\", \"2\"").headers(), 2));
        assert!(none_match(req("*").headers(), 2));
        assert!(!none_match(req("\"1\"").headers(), 2));
    }
}
