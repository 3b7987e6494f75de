//! Health, metrics, request ids, Swagger UI, CORS.

use reqwest::StatusCode;

use crate::helpers::{TestApp, json};
use crate::on_both_databases;

on_both_databases!(
    liveness_answers_without_a_token,
    readiness_checks_the_database,
    metrics_count_requests_by_route_template_and_status,
    a_request_id_is_echoed_when_well_formed_and_made_otherwise,
    swagger_ui_and_the_openapi_document_are_served,
    cors_lets_any_front_end_read_the_api_headers,
    head_answers_like_get_without_a_body,
);

async fn liveness_answers_without_a_token(app: TestApp) {
    let res = app.get("/health/live").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["status"], "ok");
}

async fn readiness_checks_the_database(app: TestApp) {
    let res = app.get("/health/ready").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);

    app.store.close().await;
    let res = app.get("/health/ready").send().await.unwrap();
    crate::helpers::problem(res, 503).await;
}

async fn metrics_count_requests_by_route_template_and_status(app: TestApp) {
    let id = uuid::Uuid::now_v7();
    for _ in 0..3 {
        app.get(&format!("/v1/themes/{id}")).send().await.unwrap();
    }
    app.get("/no/such/page").send().await.unwrap();
    let res = app.get("/metrics").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains(r#"vov_http_requests_total{method="GET",route="/v1/themes/{id}",status="404"} 3"#), "{text}");
    // Unknown paths share one label, so clients cannot blow up the series count.
    assert!(text.contains(r#"route="unmatched",status="404"} 1"#), "{text}");
    assert!(text.contains("vov_http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("vov_db_pool_connections"), "{text}");
    assert!(text.contains("# TYPE vov_db_checkouts counter"), "{text}");
    assert!(!text.contains(&id.to_string()), "ids must not become labels");
}

async fn a_request_id_is_echoed_when_well_formed_and_made_otherwise(app: TestApp) {
    let res = app.get("/health/live").header("x-request-id", "partner-abc.123").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "partner-abc.123");

    let res = app.get("/health/live").send().await.unwrap();
    let made = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");

    let res = app.get("/health/live").header("x-request-id", "no spaces <allowed>").send().await.unwrap();
    let made = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");

    // Problems quote the same id.
    let res = app.get("/nothing-here").header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-42");
    assert_eq!(json(res).await["request_id"], "trace-42");
}

async fn swagger_ui_and_the_openapi_document_are_served(app: TestApp) {
    let res = app.get("/docs").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("swagger"));
    let res = app.get("/openapi.json").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    // The committed document, built into the binary, is what the code generates, compact.
    let served = res.bytes().await.unwrap();
    let generated = serde_json::to_vec(&vov::api::openapi_json()).unwrap();
    assert!(
        served == generated,
        "/openapi.json is not the code's document; run `cargo run -- openapi --output openapi/openapi.json`"
    );
    let doc: serde_json::Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/themes"].is_object());
}

async fn cors_lets_any_front_end_read_the_api_headers(app: TestApp) {
    let res = app
        .request(reqwest::Method::OPTIONS, "/v1/themes")
        .header("origin", "https://front.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://front.example");
    let res = app.get("/v1/themes").header("origin", "https://front.example").send().await.unwrap();
    let exposed = res.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    let exposed: Vec<&str> = exposed.split(',').map(str::trim).collect();
    for header in [
        "etag",
        "location",
        "link",
        "x-request-id",
        "retry-after",
        "idempotent-replayed",
        "upsert-result",
        "ratelimit",
        "ratelimit-policy",
        "content-location",
    ] {
        assert!(exposed.contains(&header), "{exposed:?}");
    }
}

async fn head_answers_like_get_without_a_body(app: TestApp) {
    let res = app.request(reqwest::Method::HEAD, "/v1/themes").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(res.bytes().await.unwrap().is_empty());
    let res = app.request(reqwest::Method::HEAD, "/health/ready").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let id = uuid::Uuid::now_v7();
    let res = app.request(reqwest::Method::HEAD, &format!("/v1/themes/{id}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
