//! Liveness, readiness and metrics.

use crate::api::Routes;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::DatabaseKind;
use crate::error::{ApiError, Result};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(get_live).service(get_ready).service(get_metrics);
}

/// The service's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The database behind the service (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "sqlite", nullable = false)]
    pub database: Option<&'static str>,
}

/// Liveness: the process is up
///
/// Answers 200 as long as the process serves HTTP; it does not touch the database, so a
/// database outage never makes an orchestrator restart healthy instances.
#[utoipa::path(
    tag = "System",
    operation_id = "get_live",
    security(()),
    responses((status = 200, description = "The process is up.", body = Health, example = json!({"status": "ok"})))
)]
#[get("/health/live")]
async fn get_live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok", database: None })
}

/// Readiness: the service can serve requests
///
/// Runs a query on the database; 503 when it is out of reach, so a load balancer sends
/// traffic elsewhere.
#[utoipa::path(
    tag = "System",
    operation_id = "get_ready",
    security(()),
    responses(
        (status = 200, description = "The database answers.", body = Health, example = json!({"status": "ok", "database": "sqlite"})),
        (status = 503, description = "The database does not answer.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
async fn get_ready(state: web::Data<AppState>) -> Result<HttpResponse> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::ServiceUnavailable("The database does not answer.".into())
    })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: Some(match state.store.kind() {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }),
    }))
}

/// Prometheus metrics
///
/// Request counts and latency histograms by method, route template and status
/// (`vov_http_requests_total`, `vov_http_request_duration_seconds`), and database pool
/// usage (`vov_db_pool_connections`) and checkouts (`vov_db_checkouts_total`: a statement
/// outside a transaction, or a transaction), in the Prometheus text format.
#[utoipa::path(
    tag = "System",
    operation_id = "get_metrics",
    security(()),
    responses((
        status = 200,
        description = "Metrics in the Prometheus text exposition format.",
        body = String,
        content_type = "text/plain; version=0.0.4",
        example = "# TYPE vov_http_requests counter\nvov_http_requests_total{method=\"GET\",route=\"/v1/themes\",status=\"200\"} 42\n"
    ))
)]
#[get("/metrics")]
async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.store, &state.webhooks.store))
}
