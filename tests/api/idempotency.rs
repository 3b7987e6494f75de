//! `Idempotency-Key`: retries replay the first response; nothing is created twice.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json, problem};
use crate::on_both_databases;

on_both_databases!(
    a_retry_with_the_same_key_replays_the_first_response,
    the_same_key_with_another_body_is_refused,
    keys_belong_to_their_caller,
    concurrent_retries_create_exactly_one_resource,
    a_retry_while_the_first_request_runs_is_told_to_wait,
    a_refused_request_is_replayed_as_refused,
    a_malformed_key_is_a_bad_request,
    two_instances_on_one_database_share_their_keys,
    a_secret_in_a_response_is_never_stored_for_a_retry,
);

async fn post(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.post("/v1/themes").bearer_auth(token).header("idempotency-key", key).json(body).send().await.unwrap()
}

async fn count_themes(app: &TestApp) -> usize {
    json(app.get("/v1/themes?limit=200").send().await.unwrap()).await["data"].as_array().unwrap().len()
}

async fn a_retry_with_the_same_key_replays_the_first_response(app: TestApp) {
    let f = app.facilitator().await;
    let body = json!({"slug": "learning-together", "label_nl": "Samen leren", "label_en": "Learning together"});
    let first = post(&app, &f.token, "key-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first = json(first).await;
    let again = post(&app, &f.token, "key-1", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.headers()["etag"], "\"1\"");
    assert_eq!(json(again).await, first);
    assert_eq!(count_themes(&app).await, 1);
}

async fn the_same_key_with_another_body_is_refused(app: TestApp) {
    let f = app.facilitator().await;
    post(&app, &f.token, "key-2", &json!({"slug": "a-a", "label_nl": "a", "label_en": "a"})).await;
    let res = post(&app, &f.token, "key-2", &json!({"slug": "b-b", "label_nl": "b", "label_en": "b"})).await;
    let body = problem(res, 422).await;
    assert_eq!(body["type"], "https://vov.be/problems/idempotency-key-reused");
    assert_eq!(count_themes(&app).await, 1);
}

async fn keys_belong_to_their_caller(app: TestApp) {
    let (a, b) = (app.facilitator().await, app.facilitator().await);
    let res = post(&app, &a.token, "shared-key", &json!({"slug": "a-a", "label_nl": "a", "label_en": "a"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post(&app, &b.token, "shared-key", &json!({"slug": "b-b", "label_nl": "b", "label_en": "b"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(count_themes(&app).await, 2);
}

async fn concurrent_retries_create_exactly_one_resource(app: TestApp) {
    let f = app.facilitator().await;
    let body = json!({"slug": "only-once", "label_nl": "Eén keer", "label_en": "Once"});
    let attempts = (0..10).map(|_| {
        let (app, token, body) = (&app, f.token.clone(), body.clone());
        async move {
            let res = post(app, &token, "race-key", &body).await;
            let status = res.status();
            let replayed = res.headers().contains_key("idempotent-replayed");
            let body = json(res).await;
            (status, replayed, body)
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let first: Vec<_> = results.iter().filter(|(s, replayed, _)| *s == StatusCode::CREATED && !replayed).collect();
    assert_eq!(first.len(), 1, "exactly one request ran: {results:?}");
    let id = &first[0].2["id"];
    for (status, replayed, body) in &results {
        match *status {
            StatusCode::CREATED if *replayed => assert_eq!(&body["id"], id, "a replay is the first response"),
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => assert_eq!(body["type"], "https://vov.be/problems/idempotency-in-flight"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(count_themes(&app).await, 1);
}

async fn a_refused_request_is_replayed_as_refused(app: TestApp) {
    let f = app.facilitator().await;
    let bad = json!({"slug": "Not Valid", "label_nl": "a", "label_en": "a"});
    problem(post(&app, &f.token, "key-3", &bad).await, 422).await;
    let res = post(&app, &f.token, "key-3", &bad).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    problem(res, 422).await;
}

async fn a_malformed_key_is_a_bad_request(app: TestApp) {
    let f = app.facilitator().await;
    let body = json!({"slug": "a-a", "label_nl": "a", "label_en": "a"});
    let res = post(&app, &f.token, &"k".repeat(256), &body).await;
    problem(res, 400).await;
    assert_eq!(count_themes(&app).await, 0);
}

async fn two_instances_on_one_database_share_their_keys(app: TestApp) {
    let second = crate::helpers::second_instance(&app).await;
    let f = app.facilitator().await;
    let body = json!({"slug": "cross-instance", "label_nl": "a", "label_en": "a"});
    let first = json(post(&app, &f.token, "multi", &body).await).await;
    let res = post(&second, &f.token, "multi", &body).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(json(res).await, first);
    assert_eq!(count_themes(&app).await, 1);
}

async fn a_retry_while_the_first_request_runs_is_told_to_wait(app: TestApp) {
    let f = app.facilitator().await;
    let body = json!({"slug": "slow-one", "label_nl": "a", "label_en": "a"});
    let bytes = serde_json::to_vec(&body).unwrap();
    // Another instance has claimed the key for this very request and is still running it.
    let hash = vov::http::idempotency::request_hash("POST", "/v1/themes", "", b"application/json", &bytes);
    let claimed = app
        .store
        .idempotency_begin(
            &format!("person:{}", f.id),
            "in-flight",
            &hash,
            chrono::Duration::hours(24),
            chrono::Duration::seconds(60),
        )
        .await
        .unwrap();
    assert!(matches!(claimed, vov::db::idempotency::Begin::Proceed { .. }), "{claimed:?}");
    let res = app
        .post("/v1/themes")
        .bearer_auth(&f.token)
        .header("idempotency-key", "in-flight")
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    let problem_body = problem(res, 409).await;
    assert_eq!(problem_body["type"], "https://vov.be/problems/idempotency-in-flight");
    assert_eq!(count_themes(&app).await, 0);
}

async fn a_secret_in_a_response_is_never_stored_for_a_retry(app: TestApp) {
    let f = app.facilitator().await;
    let org = app
        .post("/v1/organisations")
        .bearer_auth(&f.token)
        .json(&json!({"name": "Leerpunt Gent-Eeklo", "kind": "learning_provider"}))
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), StatusCode::CREATED);
    let clients = format!("/v1/organisations/{}/clients", json(org).await["id"].as_str().unwrap());
    let create = || {
        app.post(&clients)
            .bearer_auth(&f.token)
            .header("idempotency-key", "new-client")
            .json(&json!({"name": "HR-koppeling", "scopes": ["people:read"]}))
            .send()
    };
    let first = create().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].clone();
    let secret = json(first).await["client_secret"].as_str().unwrap().to_string();
    // The retry (a replay of what was stored) is told the request was done and where its
    // result is, without the secret, and no second client is made.
    let again = create().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.headers()["cache-control"], "private, no-store");
    let text = problem(again, 409).await.to_string();
    assert!(!text.contains(&secret), "{text}");
    let list = json(app.get(&clients).bearer_auth(&f.token).send().await.unwrap()).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}
