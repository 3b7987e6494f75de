//! Logging and per-request observation: request ids, tracing spans, metrics, and a last
//! check that every error leaves as `application/problem+json`.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use futures_util::FutureExt;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

use crate::config::{LogFormat, Settings};
use crate::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

/// The request-id header, taken from the request when well-formed, else made.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What error bodies need to know about the request they answer.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub id: String,
    pub path: String,
}

tokio::task_local! {
    static REQUEST: RequestInfo;
}

/// The request being served on this task, if any.
pub fn current_request() -> Option<RequestInfo> {
    REQUEST.try_with(Clone::clone).ok()
}

/// Installs the global subscriber: human-readable lines, or JSON with one setting.
/// Safe to call more than once (later calls do nothing).
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stdout);
    let _ = match settings.log_format {
        LogFormat::Human => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).flatten_event(true).try_init(),
    };
}

fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
        .map_or_else(|| Uuid::now_v7().to_string(), String::from)
}

/// Outermost middleware: request id, span, one log line, metrics, problem+json safety net.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request_id_from(&req);
    let state = req.app_data::<web::Data<AppState>>();
    // The API's own table first: actix's lookup tries every route's regular expression.
    let route = state
        .and_then(|s| s.routes.template(req.path()).map(str::to_string))
        .or_else(|| req.match_pattern())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().clone();
    let metrics = state.map(|s| s.metrics.clone());
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %request_id,
    );
    let info = RequestInfo { id: request_id.clone(), path: req.path().to_string() };
    // Inner middlewares answer errors as responses; an `Err` can only come from actix
    // itself and is answered by actix (without our request id).
    // A panic in a handler is a bug; it is logged (by the panic hook and below) and answered
    // as an opaque 500 with the request id, instead of dropping the client's connection.
    // (The request itself went down with the handler, so the answer leaves as an error that
    // carries its finished response.)
    let res = REQUEST
        .scope(info, async move {
            match AssertUnwindSafe(next.call(req)).catch_unwind().await {
                Ok(res) => res.map(|res| ensure_problem_body(res.map_into_boxed_body())),
                Err(_) => {
                    let mut answer = ApiError::Internal(anyhow::anyhow!("the handler panicked")).error_response();
                    if let Some(info) = current_request()
                        && let Ok(v) = HeaderValue::from_str(&info.id)
                    {
                        answer.headers_mut().insert(REQUEST_ID, v);
                    }
                    Err(InternalError::from_response("the handler panicked", answer).into())
                }
            }
        })
        .instrument(span.clone())
        .await;
    let mut res = match res {
        Ok(res) => res,
        Err(err) => {
            let status = err.as_response_error().status_code();
            if let Some(metrics) = &metrics {
                metrics.observe_request(method.as_str(), &route, status.as_u16(), started.elapsed().as_secs_f64());
            }
            span.in_scope(|| tracing::warn!(status = status.as_u16(), error = %err, "request failed"));
            return Err(err);
        }
    };

    let status = res.status();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe_request(method.as_str(), &route, status.as_u16(), elapsed.as_secs_f64());
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), latency_ms, "request failed");
        } else if route.starts_with("/health") || route == "/metrics" {
            tracing::debug!(status = status.as_u16(), latency_ms, "request completed");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request completed");
        }
    });
    Ok(res)
}

/// Error responses made by actix or a middleware (plain text, empty) become problems too.
/// JSON bodies are left alone: the OAuth token endpoint answers RFC 6749 errors.
fn ensure_problem_body(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.starts_with(PROBLEM_JSON)
            || ct.starts_with("application/json")
            || ct.starts_with(crate::scim::messages::MEDIA_TYPE)
    });
    if is_json {
        return res;
    }
    let err = match status.as_u16() {
        400 => ApiError::BadRequest("The request could not be understood.".into()),
        401 => ApiError::Unauthorized("Send a valid bearer token.".into()),
        403 => ApiError::Forbidden("This request is not allowed.".into()),
        404 => ApiError::NotFound("There is nothing at this address.".into()),
        413 => ApiError::PayloadTooLarge { limit: 0 },
        415 => ApiError::UnsupportedMediaType("This media type is not supported.".into()),
        s if s >= 500 => ApiError::Internal(anyhow::anyhow!("unexpected {status} from the framework")),
        _ => ApiError::BadRequest(format!("The request could not be processed ({status}).")),
    };
    let mut problem = err.problem();
    problem.status = status.as_u16();
    let mut new = HttpResponse::build(status);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.append_header((name.clone(), value.clone()));
        }
    }
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, new.content_type(PROBLEM_JSON).body(body))
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, test, web};

    use super::*;

    async fn boom() -> HttpResponse {
        panic!("a bug in a handler")
    }

    /// A handler that panics still answers: a 500 problem with the request id, and the
    /// connection is not dropped.
    #[actix_web::test]
    async fn a_panicking_handler_answers_an_opaque_500_problem() {
        let app = test::init_service(App::new().wrap(from_fn(observe)).route("/boom", web::get().to(boom))).await;
        let req = test::TestRequest::get().uri("/boom").insert_header((REQUEST_ID, "req-1")).to_request();
        // As the HTTP dispatcher does: an error leaves as its own response.
        let res = match test::try_call_service(&app, req).await {
            Ok(res) => res.into_parts().1,
            Err(err) => err.error_response(),
        };
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers().get(REQUEST_ID).unwrap(), "req-1");
        assert_eq!(res.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_JSON);
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["status"], 500);
        assert_eq!(body["request_id"], "req-1");
        assert!(!body["detail"].as_str().unwrap().contains("a bug"), "{body}");
    }
}
