//! Headers that keep personal data out of caches and the API out of other sites' pages.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// For the API: it answers JSON, never a page, so nothing may load or frame it.
const API_POLICY: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
/// For Swagger UI: its own scripts and styles run, but no other site may frame it (a page
/// that holds the caller's token must never be clickjacked).
const DOCS_POLICY: HeaderValue = HeaderValue::from_static("frame-ancestors 'none'");

/// The middleware, on every response:
/// - `X-Content-Type-Options: nosniff`;
/// - `Content-Security-Policy` with `frame-ancestors 'none'` and `X-Frame-Options: DENY`;
/// - on the answer to a request with credentials (`Authorization`), which may carry
///   personal data: `Cache-Control: private, no-store`, replacing any other;
/// - `Vary: Authorization` on the API's answers, which depend on who asks.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let with_credentials = req.headers().contains_key(header::AUTHORIZATION);
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let api = req.path().starts_with("/v1/");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, if docs { DOCS_POLICY } else { API_POLICY });
    if with_credentials {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    if api {
        headers.append(header::VARY, HeaderValue::from_static("Authorization"));
    }
    Ok(res)
}
