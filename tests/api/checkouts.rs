//! Database work per request: how many pool checkouts the common shapes take, counted by
//! the service itself (`vov_db_checkouts_total`). A checkout is a statement outside a
//! transaction, or a transaction; each costs a connection hand-over (a thread hop on
//! SQLite) and at least one round trip. The documented numbers are in decision record 12.

use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::stakeholders::{client_token, organisation, person_in};

on_both_databases!(reads_and_writes_take_the_documented_number_of_checkouts);

/// Requests of each shape measured in a row.
const RUNS: u64 = 20;

/// All checkouts so far, as `/metrics` shows them.
async fn checkouts(app: &TestApp) -> u64 {
    let text = app.get("/metrics").send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("vov_db_checkouts_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Sends `RUNS` requests of one shape and checks the checkouts they took: at most `per`
/// each, plus one read of the caller's rights per second they ran (the rights are kept for
/// a second) and one at the start.
async fn check(app: &TestApp, what: &str, per: u64, token: &str, method: Method, path: &str, body: Option<Value>) {
    let before = checkouts(app).await;
    let started = Instant::now();
    for i in 0..RUNS {
        let mut req = app.request(method.clone(), path).bearer_auth(token);
        if let Some(body) = &body {
            let mut body = body.clone();
            if let Some(title) = body.get_mut("title") {
                *title = json!(format!("{} {i}", title.as_str().unwrap()));
            }
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_success(), "{what}: {}", res.status());
    }
    let rights_reads = started.elapsed().as_secs() + 1;
    let taken = checkouts(app).await - before;
    let allowed = per * RUNS + rights_reads;
    assert!(taken <= allowed, "{what}: {taken} checkouts for {RUNS} requests, at most {allowed} expected ({per} each)");
    // And not fewer than the documented number: a shape that got cheaper updates the docs.
    assert!(taken >= per * RUNS, "{what}: {taken} checkouts for {RUNS} requests, {per} each documented");
}

async fn reads_and_writes_take_the_documented_number_of_checkouts(app: TestApp) {
    let facilitator = app.facilitator().await;
    let f = facilitator.token.as_str();
    let org = organisation(&app, f, "Checkouts", "employer").await;
    let org_id = org["id"].as_str().unwrap();
    let other = organisation(&app, f, "Elsewhere", "employer").await;
    let (admin, _) = person_in(&app, f, org_id, "Ada Admin", "org_admin").await;
    let (member, _) = person_in(&app, f, org_id, "Mo Member", "employee").await;
    let (outsider, _) = person_in(&app, f, other["id"].as_str().unwrap(), "Otto Outsider", "employee").await;
    let client = client_token(&app, f, org_id, &["people:read"]).await;
    let person = format!("/v1/people/{}", member.id);

    // A person: the profile with their memberships in one statement.
    check(&app, "a person, as a facilitator", 1, f, Method::GET, &person, None).await;
    check(&app, "a person, as another organisation's member", 1, &outsider.token, Method::GET, &person, None).await;
    check(&app, "oneself", 1, &member.token, Method::GET, &person, None).await;
    // Admins and clients also see their own organisation's references to the person.
    check(&app, "a person, as their organisation's admin", 2, &admin.token, Method::GET, &person, None).await;
    check(&app, "a person, as their organisation's client", 2, &client, Method::GET, &person, None).await;

    // A page of people with their memberships, on one connection.
    check(&app, "a list of people, as a facilitator", 1, f, Method::GET, "/v1/people?limit=50", None).await;
    check(&app, "a list of people, as a member", 1, &outsider.token, Method::GET, "/v1/people?limit=50", None).await;

    let record = json!({"title": "Checkout record", "activity_type": "on_the_job", "started_on": "2026-11-02",
                        "duration_minutes": 60});
    // A write: one transaction (its statements: decision record 12).
    check(&app, "a learning record of one's own", 1, &member.token, Method::POST, "/v1/learning-records", Some(record))
        .await;
}
