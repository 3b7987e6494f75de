//! Every error is an RFC 9457 problem, never a 500 for bad input.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, problem};
use crate::on_both_databases;

on_both_databases!(
    malformed_json_is_a_bad_request,
    a_wrong_type_points_at_the_member,
    an_unknown_field_is_refused_and_pointed_at,
    a_missing_field_is_pointed_at,
    every_invalid_field_is_listed_at_once,
    type_and_format_errors_come_all_at_once_with_pointers,
    a_path_id_that_is_not_a_uuid_is_not_found,
    a_bad_query_value_is_a_bad_request,
    an_unknown_query_parameter_is_a_bad_request,
    an_unknown_route_is_not_found,
    a_wrong_method_is_not_allowed_and_says_what_is,
    a_body_over_the_limit_is_too_large,
    a_body_that_is_not_json_is_an_unsupported_media_type,
    problems_name_the_request_they_answer,
    an_internal_error_is_an_opaque_500_that_quotes_the_request_id,
);

async fn post_theme(app: &TestApp, body: &str) -> reqwest::Response {
    let token = app.facilitator().await.token;
    app.post("/v1/themes")
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn malformed_json_is_a_bad_request(app: TestApp) {
    let body = problem(post_theme(&app, r#"{"slug": "a-b", "#).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"), "{body}");
}

async fn a_wrong_type_points_at_the_member(app: TestApp) {
    let body = problem(post_theme(&app, r#"{"slug":"a-b","label_nl":7,"label_en":"x"}"#).await, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/label_nl", "{body}");
}

async fn an_unknown_field_is_refused_and_pointed_at(app: TestApp) {
    let body =
        problem(post_theme(&app, r#"{"slug":"a-b","label_nl":"x","label_en":"x","id":"mine"}"#).await, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/id", "{body}");
}

async fn a_missing_field_is_pointed_at(app: TestApp) {
    let body = problem(post_theme(&app, r#"{"slug":"a-b","label_nl":"x"}"#).await, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/label_en", "{body}");
}

async fn every_invalid_field_is_listed_at_once(app: TestApp) {
    let body = problem(post_theme(&app, r#"{"slug":"Not A Slug","label_nl":"  ","label_en":"ok"}"#).await, 422).await;
    let pointers: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/slug", "/label_nl"], "{body}");
    assert_eq!(body["type"], "https://vov.be/problems/validation");
}

/// serde stops at the first member it cannot read; the answer still lists every member that
/// breaks the documented schema: wrong types, formats, lengths, unknown and missing members.
async fn type_and_format_errors_come_all_at_once_with_pointers(app: TestApp) {
    let body = problem(post_theme(&app, r#"{"slug":7,"label_nl":"","colour":"red"}"#).await, 422).await;
    let errors: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    let at: Vec<&str> = errors.iter().map(|(p, _)| *p).collect();
    for expected in ["/slug", "/label_nl", "/label_en", "/colour"] {
        assert!(at.contains(&expected), "{expected} missing: {body}");
    }
    assert!(errors.contains(&("/slug", "must be a string")), "{body}");
    assert!(errors.contains(&("/label_en", "is required")), "{body}");
    assert!(errors.contains(&("/colour", "is not a member of this object")), "{body}");
    // A body that reads but breaks rules still gets the rules' own messages.
    let token = app.facilitator().await.token;
    let event = serde_json::json!({"organiser_id": "x", "title": 5, "starts_at": "soon", "capacity": -1});
    let res = app.post("/v1/events").bearer_auth(token).json(&event).send().await.unwrap();
    let body = problem(res, 422).await;
    let at: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    for expected in ["/organiser_id", "/title", "/starts_at", "/capacity", "/ends_at", "/format"] {
        assert!(at.contains(&expected), "{expected} missing: {body}");
    }
}

async fn a_path_id_that_is_not_a_uuid_is_not_found(app: TestApp) {
    let res = app.get("/v1/themes/not-a-uuid").send().await.unwrap();
    let body = problem(res, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("UUID"), "{body}");
}

async fn a_bad_query_value_is_a_bad_request(app: TestApp) {
    for query in ["limit=abc", "limit=0", "limit=201", "sort=colour", "cursor=forged", "q=a%00b", "q=%1F"] {
        let res = app.get(&format!("/v1/themes?{query}")).send().await.unwrap();
        problem(res, 400).await;
    }
}

async fn an_unknown_query_parameter_is_a_bad_request(app: TestApp) {
    let res = app.get("/v1/themes?limt=5").send().await.unwrap();
    let body = problem(res, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("limt"), "{body}");
}

async fn an_unknown_route_is_not_found(app: TestApp) {
    let res = app.get("/v1/nothing").send().await.unwrap();
    problem(res, 404).await;
}

async fn a_wrong_method_is_not_allowed_and_says_what_is(app: TestApp) {
    let res = app.request(Method::PUT, "/v1/themes").send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST");
    problem(res, 405).await;
    let id = uuid::Uuid::now_v7();
    let res = app.request(Method::POST, &format!("/v1/themes/{id}")).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, PATCH, DELETE");
    problem(res, 405).await;
}

async fn a_body_over_the_limit_is_too_large(app: TestApp) {
    let huge =
        format!(r#"{{"slug":"a-b","label_nl":"x","label_en":"x","description":"{}"}}"#, "x".repeat(1024 * 1024 + 1));
    problem(post_theme(&app, &huge).await, 413).await;
    // Also when the client streams without announcing the length.
    let token = app.facilitator().await.token;
    let stream = futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(bytes_of(&"x".repeat(64 * 1024)))));
    let res = app
        .post("/v1/themes")
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    problem(res, 413).await;
}

fn bytes_of(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

async fn a_body_that_is_not_json_is_an_unsupported_media_type(app: TestApp) {
    let token = app.facilitator().await.token;
    let res = app
        .post("/v1/themes")
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body("slug=a-b")
        .send()
        .await
        .unwrap();
    problem(res, 415).await;
}

async fn problems_name_the_request_they_answer(app: TestApp) {
    let id = uuid::Uuid::now_v7();
    let res = app.get(&format!("/v1/themes/{id}")).send().await.unwrap();
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let body = problem(res, 404).await;
    assert_eq!(body["instance"], format!("/v1/themes/{id}"));
    assert_eq!(body["request_id"], request_id);
    assert_eq!(body["type"], json!("https://vov.be/problems/not-found"));
}

async fn an_internal_error_is_an_opaque_500_that_quotes_the_request_id(app: TestApp) {
    // Break the database under the running service.
    match app.backend {
        crate::helpers::Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query("drop table themes").execute(&mut conn).await.unwrap();
        }
        crate::helpers::Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query("drop table themes").execute(&mut conn).await.unwrap();
        }
    }
    let res = app.get("/v1/themes").header("x-request-id", "report-this-id").send().await.unwrap();
    let body = problem(res, 500).await;
    assert_eq!(body["request_id"], "report-this-id");
    assert_eq!(body["type"], "https://vov.be/problems/internal");
    let text = format!("{} {}", body["title"], body["detail"]).to_lowercase();
    for leak in ["themes", "table", "sql", "relation"] {
        assert!(!text.contains(leak), "the 500 leaks `{leak}`: {body}");
    }
}
