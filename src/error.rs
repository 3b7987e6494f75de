//! One API error type, rendered as RFC 9457 `application/problem+json`, and the handlers
//! that turn actix's own extractor failures into the same shape.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{FieldError, Invalid};
use crate::telemetry::current_request;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Base of every problem `type` URI; `docs/guide/api-behaviour.md` lists the types.
pub const PROBLEM_BASE: &str = "https://vov.be/problems/";

/// `Result` with the API error as default error type.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Everything a handler can answer instead of a success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: syntax, a bad parameter, a header that does not parse.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request is well-formed but breaks the rules; every field error is listed.
    #[error("validation failed")]
    Invalid(Invalid),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The body names a resource that does not exist (or that the caller may not know of).
    #[error("missing reference: {detail}")]
    MissingReference { detail: String, pointer: String },
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("conflict: {detail}")]
    Conflict { detail: String, pointer: Option<String> },
    /// A request with the same `Idempotency-Key` is still being processed.
    #[error("idempotent request in flight")]
    IdempotencyInFlight,
    /// The `Idempotency-Key` was used before with a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// `If-Match` named a version that is not the current one.
    #[error("precondition failed")]
    PreconditionFailed { current_version: Option<i64> },
    /// A solution changed since the revision named in `If-Match`.
    #[error("stale revision, current is {current}")]
    StaleRevision { current: i64 },
    /// The write needs `If-Match` and the request has none.
    #[error("precondition required")]
    PreconditionRequired(String),
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("gone: {0}")]
    Gone(String),
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// Too many attempts (password checks); `RateLimit-Policy` and `RateLimit` describe the limit.
    #[error("too many requests: {detail}")]
    TooManyRequests { detail: String, retry_after: u64, policy: String, state: String },
    /// Anything unexpected: logged with the request id, answered as an opaque 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// An RFC 9457 problem detail.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://vov.be/problems/validation",
    "title": "Your request is not valid",
    "status": 422,
    "detail": "2 fields are not valid; see `errors`.",
    "instance": "/v1/themes",
    "request_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "errors": [
        {"pointer": "/slug", "detail": "must be lowercase letters and digits in groups joined by single hyphens, such as `informal-learning`"},
        {"pointer": "/label_nl", "detail": "must be between 1 and 120 characters (got 0)"}
    ]
}))]
pub struct Problem {
    /// URI identifying the problem type; stable, safe to branch on.
    #[serde(rename = "type")]
    #[schema(format = "uri", example = "https://vov.be/problems/not-found")]
    pub problem_type: String,
    /// Short, human-readable summary of the problem type.
    #[schema(example = "Not found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(value_type = i32, format = Int32, minimum = 400, maximum = 599, example = 404)]
    pub status: u16,
    /// What went wrong in this occurrence.
    #[schema(example = "No theme with id 0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11.")]
    pub detail: String,
    /// The request path this occurrence belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/v1/themes/0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11")]
    pub instance: Option<String>,
    /// The request id (also in the `X-Request-Id` header and in every log line).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11")]
    pub request_id: Option<String>,
    /// Field-level errors (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
    /// For `412`: the current `ETag` of the resource, to re-read and retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "\"3\"")]
    pub current_etag: Option<String>,
    /// For `412` on a solution: the revision that is current.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 3)]
    pub current_revision: Option<i64>,
}

impl ApiError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::NotFound(what.to_string())
    }

    pub fn conflict(detail: impl Into<String>, pointer: Option<&str>) -> Self {
        ApiError::Conflict { detail: detail.into(), pointer: pointer.map(String::from) }
    }

    /// The problem type slug, title and status.
    fn kind(&self) -> (&'static str, &'static str, StatusCode) {
        use ApiError::*;
        match self {
            BadRequest(_) => ("bad-request", "Your request is malformed", StatusCode::BAD_REQUEST),
            Invalid(_) => ("validation", "Your request is not valid", StatusCode::UNPROCESSABLE_ENTITY),
            Unauthorized(_) => ("unauthorized", "Authentication required", StatusCode::UNAUTHORIZED),
            Forbidden(_) => ("forbidden", "Not allowed", StatusCode::FORBIDDEN),
            NotFound(_) | MissingReference { .. } => ("not-found", "Not found", StatusCode::NOT_FOUND),
            MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed", StatusCode::METHOD_NOT_ALLOWED),
            Conflict { .. } => ("conflict", "Conflict with the current state", StatusCode::CONFLICT),
            IdempotencyInFlight => {
                ("idempotency-in-flight", "A request with this Idempotency-Key is in progress", StatusCode::CONFLICT)
            }
            IdempotencyKeyReused => (
                "idempotency-key-reused",
                "This Idempotency-Key was used for a different request",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            PreconditionFailed { .. } | StaleRevision { .. } => {
                ("precondition-failed", "The resource has changed", StatusCode::PRECONDITION_FAILED)
            }
            PreconditionRequired(_) => {
                ("precondition-required", "If-Match is required", StatusCode::PRECONDITION_REQUIRED)
            }
            PayloadTooLarge { .. } => ("payload-too-large", "Request body too large", StatusCode::PAYLOAD_TOO_LARGE),
            UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type", StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            Gone(_) => ("gone", "Gone", StatusCode::GONE),
            ServiceUnavailable(_) => ("unavailable", "Service unavailable", StatusCode::SERVICE_UNAVAILABLE),
            TooManyRequests { .. } => ("too-many-requests", "Too many requests", StatusCode::TOO_MANY_REQUESTS),
            Internal(_) => ("internal", "Internal server error", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    fn detail(&self) -> String {
        use ApiError::*;
        match self {
            BadRequest(d) | Unauthorized(d) | Forbidden(d) | NotFound(d) | UnsupportedMediaType(d) | Gone(d)
            | ServiceUnavailable(d) | PreconditionRequired(d) => d.clone(),
            Conflict { detail, .. } | MissingReference { detail, .. } | TooManyRequests { detail, .. } => {
                detail.clone()
            }
            Invalid(inv) => match inv.errors.len() {
                1 => format!("`{}` {}.", inv.errors[0].pointer, inv.errors[0].detail),
                n => format!("{n} fields are not valid; see `errors`."),
            },
            MethodNotAllowed(allow) => format!(
                "This resource supports {}.",
                allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")
            ),
            IdempotencyInFlight => {
                "The first request with this Idempotency-Key has not finished; retry after a moment.".into()
            }
            IdempotencyKeyReused => {
                "The Idempotency-Key was first used with a different method, path or body; use a new key for a new request.".into()
            }
            PreconditionFailed { current_version: Some(v) } => format!(
                "If-Match does not name the current version; the current ETag is \"{v}\". Read the resource again and reapply your change."
            ),
            PreconditionFailed { current_version: None } => "If-Match does not match the resource.".into(),
            StaleRevision { current } => format!(
                "Someone saved revision {current} since the revision you edited; the current ETag is \"{current}\". Read the solution again, merge your change into revision {current} and send it with that ETag."
            ),
            PayloadTooLarge { limit: 0 } => "The request body is too large.".into(),
            PayloadTooLarge { limit } => format!("The request body is larger than {limit} bytes."),
            Internal(_) => "Something went wrong on our side. Quote the request id when you report it.".into(),
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let (slug, title, status) = self.kind();
        let request = current_request();
        let mut errors = Vec::new();
        match self {
            ApiError::Invalid(inv) => errors.clone_from(&inv.errors),
            ApiError::Conflict { pointer: Some(p), detail } | ApiError::MissingReference { pointer: p, detail } => {
                errors.push(FieldError::new(p.clone(), detail.clone()))
            }
            _ => {}
        }
        Problem {
            problem_type: format!("{PROBLEM_BASE}{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: self.detail(),
            instance: request.as_ref().map(|r| r.path.clone()),
            request_id: request.map(|r| r.id),
            errors,
            current_etag: match self {
                ApiError::PreconditionFailed { current_version: Some(v) } | ApiError::StaleRevision { current: v } => {
                    Some(format!("\"{v}\""))
                }
                _ => None,
            },
            current_revision: match self {
                ApiError::StaleRevision { current } => Some(*current),
                _ => None,
            },
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(inv: Invalid) -> Self {
        ApiError::Invalid(inv)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().2
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            other => tracing::debug!(error = %other, "request refused"),
        }
        let problem = self.problem();
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(PROBLEM_JSON);
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="vov", error="invalid_token""#));
            }
            ApiError::MethodNotAllowed(allow) => {
                let allow = allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            ApiError::IdempotencyInFlight => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::PreconditionFailed { current_version: Some(v) } | ApiError::StaleRevision { current: v } => {
                res.insert_header((header::ETAG, format!("\"{v}\"")));
            }
            ApiError::ServiceUnavailable(_) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::TooManyRequests { retry_after, policy, state, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                if let (Ok(policy), Ok(state)) = (HeaderValue::from_str(policy), HeaderValue::from_str(state)) {
                    res.insert_header(("ratelimit-policy", policy));
                    res.insert_header(("ratelimit", state));
                }
            }
            _ => {}
        }
        res.body(serde_json::to_vec(&problem).unwrap_or_default())
    }
}

/// Turns a query-string deserialisation failure into a 400 problem.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => format!("Query parameters are not valid: {e}."),
        other => format!("Query parameters are not valid: {other}."),
    };
    ApiError::BadRequest(detail).into()
}

/// Turns a path-segment parse failure (an id that is not a UUID) into a 404: there is no
/// resource at such an address.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    let actix_web::error::PathError::Deserialize(e) = &err else {
        return ApiError::not_found(format!("There is nothing at this address: {err}.")).into();
    };
    ApiError::not_found(format!("There is nothing at this address: {e}.")).into()
}
