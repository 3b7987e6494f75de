//! `Idempotency-Key` on POST: a retried request gets the first response instead of a
//! second effect. Keys live in the database (shared by every instance) for 24 hours.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use sha2::{Digest, Sha256};

use crate::auth::{authenticate, scim_caller, still_valid};
use crate::db::idempotency::{Begin, StoredResponse};
use crate::error::ApiError;
use crate::http::json::read_body;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a response that replays the stored first response.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a claim on a key protects a running request before a retry may take it over.
const LOCK_SECS: i64 = 60;
/// Response headers kept with the stored response.
const KEPT_HEADERS: [HeaderName; 5] =
    [header::CONTENT_TYPE, header::LOCATION, header::ETAG, header::LINK, header::CACHE_CONTROL];

/// Whether `Idempotency-Key` applies to a route (its template, as matched after decoding
/// the path): every POST of the API except the OAuth endpoints, whose responses (tokens)
/// must never be stored or replayed.
pub fn applies(method: &Method, route: &str) -> bool {
    method == Method::POST
        && ((route.starts_with("/v1/") && !route.starts_with("/v1/auth/"))
            || (route.starts_with("/scim/v2/") && !route.ends_with("/.search")))
}

fn check_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value.to_str().unwrap_or_default();
    if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(key.to_string())
    } else {
        Err(ApiError::BadRequest(
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters; a UUID is a good choice.".into(),
        ))
    }
}

/// What identifies "the same request" for a key: method, path, query, content type and body.
pub fn request_hash(method: &str, path: &str, query: &str, content_type: &[u8], body: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), query.as_bytes(), content_type] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(body);
    h.finalize().to_vec()
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    for (name, value) in stored.headers {
        res.append_header((name, value));
    }
    res.insert_header((IDEMPOTENT_REPLAYED, "true"));
    res.body(stored.body)
}

fn is_no_store(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("no-store"))
}

/// What a retry gets when the first response held a secret (a new client's secret): the
/// secret is never written to the idempotency store, so the retry learns that the request
/// was done (and where its result is) without a second client being made.
fn secret_not_kept(headers: Vec<(String, String)>) -> StoredResponse {
    let detail = "This request was already done, but its response held a secret, which is shown only once and \
                  never kept. Rotate the secret of the resource in `Location` to get a new one.";
    let problem = ApiError::conflict(detail, None).problem();
    let mut kept: Vec<(String, String)> =
        headers.into_iter().filter(|(name, _)| name == header::LOCATION.as_str()).collect();
    kept.push((header::CONTENT_TYPE.as_str().to_string(), crate::error::PROBLEM_JSON.to_string()));
    kept.push((header::CACHE_CONTROL.as_str().to_string(), "no-store".to_string()));
    StoredResponse { status: 409, headers: kept, body: serde_json::to_vec(&problem).unwrap_or_default() }
}

/// An error as the path's clients read errors: SCIM's error schema under `/scim/`, a problem
/// everywhere else (with the headers the error carries, such as `Retry-After`).
fn answer_error(path: &str, error: ApiError) -> HttpResponse {
    if path.starts_with("/scim/") {
        let mut res = error.error_response();
        let scim = crate::api::scim::ScimError::from(error).error_response();
        let status = scim.status();
        let (_, body) = scim.into_parts();
        *res.status_mut() = status;
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::scim::messages::MEDIA_TYPE));
        res.set_body(body)
    } else {
        error.error_response()
    }
}

/// The middleware. Requests without the header, or that it does not apply to, pass through.
pub async fn idempotency(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let applicable = req.headers().contains_key(&IDEMPOTENCY_KEY)
        && req.match_pattern().is_some_and(|route| applies(req.method(), &route));
    let Some(value) = req.headers().get(&IDEMPOTENCY_KEY).filter(|_| applicable) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let key = match check_key(value) {
        Ok(key) => key,
        Err(e) => {
            let res = answer_error(req.path(), e);
            return Ok(req.into_response(res));
        }
    };
    // Keys are kept per caller, and only for a caller that still exists: a revoked client or
    // an erased person neither replays an answer nor leaves a new key behind (the handler
    // answers 401, which is not stored).
    let caller = if req.path().starts_with("/scim/") {
        scim_caller(req.request()).await.ok().flatten()
    } else {
        match authenticate(req.request()) {
            Ok(Some(caller)) => still_valid(req.request(), Some(caller)).await.ok().flatten(),
            Ok(None) | Err(_) => None,
        }
    };
    let Some(owner) = caller.map(|c| c.owner_key()) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::Internal(anyhow::anyhow!("application state missing"))));
    };
    let (http_req, mut payload) = req.into_parts();
    let body = match read_body(&http_req, &mut payload, state.settings.body_limit_bytes).await {
        Ok(body) => body,
        Err(e) => {
            let res = answer_error(http_req.path(), e);
            return Ok(ServiceResponse::new(http_req, res));
        }
    };
    let hash = request_hash(
        http_req.method().as_str(),
        http_req.path(),
        http_req.query_string(),
        http_req.headers().get(header::CONTENT_TYPE).map_or(&b""[..], HeaderValue::as_bytes),
        &body,
    );
    let ttl = chrono::Duration::seconds(i64::try_from(state.settings.idempotency_ttl_secs).unwrap_or(86_400));
    let store = &state.store;
    let begin = match store.idempotency_begin(&owner, &key, &hash, ttl, chrono::Duration::seconds(LOCK_SECS)).await {
        Ok(begin) => begin,
        Err(e) => {
            let res = answer_error(http_req.path(), ApiError::from(e));
            return Ok(ServiceResponse::new(http_req, res));
        }
    };
    match begin {
        Begin::Replay(stored) if stored.status >= 400 && http_req.path().starts_with("/scim/") => {
            // A stored error (an erased person's answer) in SCIM's error schema.
            let detail = serde_json::from_slice::<serde_json::Value>(&stored.body)
                .ok()
                .and_then(|b| b["detail"].as_str().map(str::to_string))
                .unwrap_or_default();
            let status = actix_web::http::StatusCode::from_u16(stored.status).unwrap_or(StatusCode::GONE);
            let mut res = crate::api::scim::ScimError::status(status, detail).error_response();
            res.headers_mut().insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Ok(ServiceResponse::new(http_req, res))
        }
        Begin::Replay(stored) => Ok(ServiceResponse::new(http_req, replay(stored))),
        Begin::Mismatch => {
            let res = answer_error(http_req.path(), ApiError::IdempotencyKeyReused);
            Ok(ServiceResponse::new(http_req, res))
        }
        Begin::InFlight => {
            let res = answer_error(http_req.path(), ApiError::IdempotencyInFlight);
            Ok(ServiceResponse::new(http_req, res))
        }
        Begin::Proceed { claim } => {
            let req = ServiceRequest::from_parts(http_req, Payload::from(body));
            let res = match next.call(req).await {
                Ok(res) => res,
                Err(e) => {
                    let _ = store.idempotency_abandon(&owner, &key, claim).await;
                    return Err(e);
                }
            };
            if res.status().is_server_error() {
                // Let a retry run the request again.
                let _ = store.idempotency_abandon(&owner, &key, claim).await;
                return Ok(res.map_into_boxed_body());
            }
            let (http_req, response) = res.map_into_boxed_body().into_parts();
            let (head, body) = response.into_parts();
            let bytes = match to_bytes(body).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    let err = ApiError::Internal(anyhow::anyhow!("reading the response body: {e}"));
                    return Ok(ServiceResponse::new(http_req, err.error_response()));
                }
            };
            let headers = KEPT_HEADERS
                .iter()
                .flat_map(|name| head.headers().get_all(name).map(move |v| (name, v)))
                .filter_map(|(name, v)| Some((name.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let stored = if is_no_store(head.headers()) && head.status().is_success() {
                secret_not_kept(headers)
            } else {
                StoredResponse { status: head.status().as_u16(), headers, body: bytes.to_vec() }
            };
            if let Err(e) = store.idempotency_complete(&owner, &key, claim, &stored).await {
                tracing::error!(error = %e, "could not store the idempotent response");
            }
            Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_posts_outside_oauth_are_idempotent() {
        assert!(applies(&Method::POST, "/v1/themes"));
        assert!(!applies(&Method::POST, "/v1/auth/token"));
        assert!(!applies(&Method::PATCH, "/v1/themes/x"));
        assert!(!applies(&Method::POST, "/health/live"));
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255_characters() {
        assert!(check_key(&HeaderValue::from_static("0193a4d2-7c1e-7b35")).is_ok());
        assert!(check_key(&HeaderValue::from_static("has space")).is_err());
        assert!(check_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_err());
    }
}
