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

/// An entity tag: whether it is weak, and its opaque text.
type Tag = (bool, String);

fn parse_tag_list(value: &str) -> Option<Vec<Tag>> {
    let ows = |s: &str| s.trim_start_matches([' ', '\t']).to_string();
    let mut rest = ows(value);
    let mut tags = Vec::new();
    loop {
        let weak = rest.starts_with("W/");
        if weak {
            rest = rest[2..].to_string();
        }
        let inner = rest.strip_prefix('"')?;
        let end = inner.find('"')?;
        let opaque = &inner[..end];
        if !opaque.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
            return None;
        }
        tags.push((weak, opaque.to_string()));
        rest = ows(&inner[end + 1..]);
        if rest.is_empty() {
            return Some(tags);
        }
        rest = ows(rest.strip_prefix(',')?);
    }
}

/// The entity tags of a conditional header: `None` without the header, `Some(None)` for
/// `*`. A malformed value lists no tags, so it never matches: a write with a garbled
/// `If-Match` is refused (412), never applied blindly.
fn listed_tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Option<Vec<Tag>>> {
    let values: Vec<&str> = headers.get_all(&name).map(|v| v.to_str().unwrap_or_default()).collect();
    if values.is_empty() {
        return None;
    }
    let joined = values.join(", ");
    if joined.trim_matches([' ', '\t']) == "*" {
        return Some(None);
    }
    Some(Some(parse_tag_list(&joined).unwrap_or_default()))
}

/// The version an entity tag names, if it is exactly one of ours (`"+01"` is not `"1"`).
fn version_of(tag: &str) -> Option<i64> {
    tag.parse::<i64>().ok().filter(|v| v.to_string() == tag)
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
            // Weak tags never match If-Match (strong comparison, RFC 9110 §13.1.1).
            Some(Some(tags)) => {
                IfMatch::Versions(tags.iter().filter(|(weak, _)| !weak).filter_map(|(_, t)| version_of(t)).collect())
            }
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

    pub fn is_absent(&self) -> bool {
        matches!(self, IfMatch::Absent)
    }

    /// For writes that must not overwrite blindly: 428 without `If-Match` or with `*`, 412
    /// (naming the current revision) when it names another; else the revision it names.
    pub fn revision(&self, current: i64) -> Result<i64, ApiError> {
        match self {
            IfMatch::Absent | IfMatch::Any => Err(ApiError::PreconditionRequired(
                "Send `If-Match` with the ETag of the revision you edited (`*` is not enough): co-authors must never overwrite each other's work unseen.".into(),
            )),
            IfMatch::Versions(v) if v.contains(&current) => Ok(current),
            IfMatch::Versions(_) => Err(ApiError::StaleRevision { current }),
        }
    }
}

/// Documents a required `If-Match` (see [`IfMatch::revision`]).
pub struct IfMatchRequired;

impl utoipa::IntoParams for IfMatchRequired {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut p = header_parameter(
            "If-Match",
            "Required: the ETag of the revision you edited (`\"3\"`). Without it the answer is 428; when \
             someone saved a newer revision, 412 with `current_revision`.",
        );
        p.required = utoipa::openapi::Required::True;
        vec![p]
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch::from_headers(req.headers())))
    }
}

fn header_parameter(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).examples([serde_json::json!("\"1\"")])))
        .build()
}

impl utoipa::IntoParams for IfMatch {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![header_parameter(
            "If-Match",
            "The ETag you last read (`\"3\"`): the write is refused with 412 if the resource changed since, \
             or if the value is not one of its ETags. `*` matches any existing version.",
        )]
    }
}

/// Documents `If-None-Match` on reads (see [`respond_tagged`]).
pub struct IfNoneMatch;

impl utoipa::IntoParams for IfNoneMatch {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![header_parameter("If-None-Match", "An ETag you hold: answered with 304 while it is still current.")]
    }
}

/// Whether `If-None-Match` matches the current version (weak comparison, §13.1.2).
fn none_match(headers: &HeaderMap, version: i64) -> bool {
    match listed_tags(headers, header::IF_NONE_MATCH) {
        None => false,
        Some(None) => true,
        Some(Some(tags)) => tags.iter().any(|(_, t)| version_of(t) == Some(version)),
    }
}

/// `201 Created`: where the new resource lives (`Location`), its version (`ETag`) and its view.
pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// `200 OK` with the version's `ETag`: the answer to a write that returns the resource.
pub fn tagged<T: Serialize>(version: i64, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag(version))).json(body)
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

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        TestRequest::default().insert_header((name, value)).to_http_request().headers().clone()
    }

    fn if_match(value: &str) -> IfMatch {
        IfMatch::from_headers(&headers(header::IF_MATCH, value))
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
        assert!(if_match("\"+3\"").check(3).is_err());
        assert!(if_match("\"03\"").check(3).is_err());
    }

    #[test]
    fn a_malformed_if_match_never_matches() {
        for bad in ["3", "null", "\"3", "\"3\" \"4\"", "\"3\",", ""] {
            assert!(if_match(bad).check(3).is_err(), "{bad:?}");
            assert!(!none_match(&headers(header::IF_NONE_MATCH, bad), 3), "{bad:?}");
        }
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let matches = |v: &str| none_match(&headers(header::IF_NONE_MATCH, v), 2);
        assert!(matches("W/\"2\""));
        assert!(matches("\"1\", \"2\""));
        assert!(matches("*"));
        assert!(!matches("\"1\""));
    }
}
