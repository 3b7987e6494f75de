//! Webhooks: signed deliveries to a real receiver on this machine, in order, retried,
//! never more than the feed shows the organisation, one instance at a time.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vov::config::Settings;

use crate::helpers::{Backend, DbGuard, TestApp, fresh_database, problem, spawn_app_with, test_settings};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, feed, get, patch, post};

on_both_databases!(
    an_admin_subscribes_and_receives_each_change_signed_in_order,
    a_subscription_receives_exactly_what_the_feed_shows_its_organisation,
    a_failed_delivery_is_retried_with_the_same_id_before_anything_after_it,
    a_receiver_that_times_out_or_asks_to_wait_is_retried,
    a_subscription_that_keeps_failing_is_disabled_and_resumes_when_enabled,
    two_instances_never_deliver_one_subscription_at_once,
    a_retry_schedule_survives_a_restart,
    only_admins_facilitators_and_clients_with_the_scope_manage_webhooks,
    urls_must_be_https_to_public_addresses,
    a_rotated_secret_signs_alongside_the_old_one_and_a_test_event_and_replay_work,
    erasing_a_person_delivers_the_delete_and_removes_the_attempts_about_them,
    a_share_withdrawn_while_deliveries_wait_is_never_sent,
    a_changed_url_takes_over_while_deliveries_run,
);

/// What the receiver does with the next request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answers 429 with `Retry-After: <seconds>`.
    TooMany(u64),
    /// Waits this long, then answers 200.
    Slow(Duration),
}

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    raw: String,
    body: Value,
    at: std::time::Instant,
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A webhook receiver on 127.0.0.1: it records every request and answers as scripted
/// (200 once the script is used up).
#[derive(Clone, Default)]
struct Receiver {
    log: Arc<Mutex<Log>>,
    url: String,
}

impl Receiver {
    async fn start() -> (Self, actix_web::dev::ServerHandle) {
        let log: Arc<Mutex<Log>> = Arc::default();
        let shared = web::Data::new(log.clone());
        let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(receive)))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        (Self { log, url: format!("http://127.0.0.1:{port}/hooks") }, handle)
    }

    fn script(&self, replies: &[Reply]) {
        self.log.lock().unwrap().script.extend(replies.iter().copied());
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }

    /// The received requests that are not test events.
    fn changes(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.body["type"] != "webhook.test").collect()
    }

    /// Waits until `done` holds for what was received (at most 20 s).
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.changes();
            if done(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receiver never got {what}: {:#?}", self.changes().iter().map(|r| &r.body).collect::<Vec<_>>());
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, log: web::Data<Arc<Mutex<Log>>>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let raw = String::from_utf8(body.to_vec()).unwrap();
    let reply = {
        let mut log = log.lock().unwrap();
        log.received.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
            at: std::time::Instant::now(),
        });
        log.in_flight += 1;
        log.max_in_flight = log.max_in_flight.max(log.in_flight);
        log.script.pop_front().unwrap_or(Reply::Status(200))
    };
    // Long enough for two instances to overlap, were they to deliver at once.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answer = match reply {
        Reply::Status(s) => HttpResponse::build(actix_web::http::StatusCode::from_u16(s).unwrap()).body("noted"),
        Reply::TooMany(secs) => {
            HttpResponse::TooManyRequests().insert_header(("Retry-After", secs.to_string())).body("later")
        }
        Reply::Slow(d) => {
            tokio::time::sleep(d).await;
            HttpResponse::Ok().body("late")
        }
    };
    log.lock().unwrap().in_flight -= 1;
    answer
}

/// The Standard Webhooks check, written here from the specification (not with the
/// service's code): `v1,` and base64 of HMAC-SHA256 over `id.timestamp.body`, keyed with
/// the base64-decoded part of the `whsec_` secret; any one of the space-separated
/// signatures may match.
fn verifies(secret: &str, r: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.raw).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').any(|s| s == expected)
}

fn hooks(org: &str) -> String {
    format!("/v1/organisations/{org}/webhooks")
}

async fn subscribe(app: &TestApp, token: &str, org: &str, body: Value) -> (String, String) {
    let created = expect(post(app, token, &hooks(org), body).await, StatusCode::CREATED).await;
    (created["webhook"]["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string())
}

async fn new_person(app: &TestApp, token: &str, org: &str, name: &str) -> String {
    let body = json!({"name": name, "email": format!("{}@webhooks.example", uuid::Uuid::now_v7().simple()),
                      "stakeholder_group": "employee", "membership": {"role": "employee", "starts_on": "2024-01-01"}});
    let created =
        expect(post(app, token, &format!("/v1/organisations/{org}/people"), body).await, StatusCode::CREATED).await;
    created["person"]["id"].as_str().unwrap().to_string()
}

/// The delivery log, once it holds at least `n` attempts (the receiver sees a delivery
/// a moment before the service logs it).
async fn deliveries(app: &TestApp, token: &str, org: &str, id: &str, n: usize) -> Value {
    let path = format!("{}/{id}/deliveries", hooks(org));
    for _ in 0..100 {
        let log = expect(get(app, token, &path).await, StatusCode::OK).await;
        if log["data"].as_array().unwrap().len() >= n {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery log never held {n} attempts");
}

async fn webhook(app: &TestApp, token: &str, org: &str, id: &str) -> Value {
    expect(get(app, token, &format!("{}/{id}", hooks(org))).await, StatusCode::OK).await
}

async fn an_admin_subscribes_and_receives_each_change_signed_in_order(app: TestApp) {
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    let created = expect(
        post(&app, &w.admin_a.token, &hooks(&w.a), json!({"url": receiver.url, "types": ["person"]})).await,
        StatusCode::CREATED,
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    crate::helpers::assert_conforms(&created, "WebhookWithSecret");
    let id = created["webhook"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["webhook"]["operations"], json!(["create", "update", "delete"]));
    // The secret is shown once.
    let listed = expect(get(&app, &w.admin_a.token, &hooks(&w.a)).await, StatusCode::OK).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(
        !listed.to_string().contains(&secret)
            && !webhook(&app, &w.admin_a.token, &w.a, &id).await.to_string().contains("whsec_")
    );

    let person = new_person(&app, &w.admin_a.token, &w.a, "Nora Peeters").await;
    let path = format!("/v1/people/{person}");
    for name in ["Nora Peeters-Claes", "Nora Claes"] {
        expect(patch(&app, &w.admin_a.token, &path, None, json!({"name": name})).await, StatusCode::OK).await;
    }
    let got =
        receiver.wait_for("the person's last version", |r| r.iter().any(|x| x.body["data"]["version"] == 3)).await;
    // Like a feed reader, a subscription that is behind gets a resource's latest version
    // only: never an older one after a newer one, and it ends at the current state.
    let versions: Vec<i64> = got.iter().map(|r| r.body["data"]["version"].as_i64().unwrap()).collect();
    assert!(versions.windows(2).all(|v| v[0] < v[1]), "in order, each once: {versions:?}");
    let kinds: Vec<&str> = got.iter().map(|r| r.body["type"].as_str().unwrap()).collect();
    assert!(kinds.iter().skip(1).all(|k| *k == "person.update"), "{kinds:?}");
    assert_eq!(kinds[0], if versions[0] == 1 { "person.create" } else { "person.update" });
    let last = got.last().unwrap();
    assert_eq!(last.body["data"]["resource"]["name"], "Nora Claes");
    for r in &got {
        assert!(verifies(&secret, r), "signature {} does not verify", r.signature);
        assert!(!verifies(&vov::webhooks::signing::new_secret(), r), "another secret verifies");
        assert!(r.id.starts_with("msg_"), "{}", r.id);
        let ts: i64 = r.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60, "the timestamp is now: {ts}");
        assert_eq!(r.body["data"]["id"], person.as_str());
        crate::helpers::assert_conforms(&r.body["data"], "ChangeView");
    }
    let ids: HashSet<&String> = got.iter().map(|r| &r.id).collect();
    assert_eq!(ids.len(), got.len(), "one id per message");
    // A body changed in transit no longer verifies.
    let mut forged = got[0].clone();
    forged.raw = forged.raw.replace("Nora", "Nina");
    assert!(!verifies(&secret, &forged));

    // The log shows each delivery.
    let log = deliveries(&app, &w.admin_a.token, &w.a, &id, versions.len()).await;
    crate::helpers::assert_conforms(&log, "WebhookDeliveryList");
    let statuses: Vec<i64> = log["data"].as_array().unwrap().iter().map(|d| d["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![200; versions.len()], "{log}");
    assert_eq!(log["data"][0]["message_id"], last.id.as_str(), "newest first");
    assert_eq!(log["data"][0]["response_excerpt"], "noted");
    let metrics = app.get("/metrics").send().await.unwrap().text().await.unwrap();
    let n = versions.len();
    assert!(metrics.contains(&format!("vov_webhook_deliveries_total{{outcome=\"delivered\"}} {n}")), "{metrics}");
    assert!(metrics.contains(&format!("vov_webhook_delivery_lag_seconds_count {n}")), "{metrics}");
}

async fn a_subscription_receives_exactly_what_the_feed_shows_its_organisation(app: TestApp) {
    let w = crate::events::world(&app).await;
    let f = &w.facilitator.token;
    let (receiver, _server) = Receiver::start().await;
    // What the organisation's clients read: the same scopes the subscription gets.
    let client_a = client_token(&app, f, &w.a, &["people:read", "registrations:write", "learning-records:read"]).await;
    let start = expect(get(&app, &client_a, "/v1/changes?limit=1000").await, StatusCode::OK).await;
    let mut after = start["next_cursor"].as_str().unwrap().to_string();
    while expect(get(&app, &client_a, &format!("/v1/changes?after={after}")).await, StatusCode::OK).await["has_more"]
        == true
    {
        after = expect(get(&app, &client_a, &format!("/v1/changes?after={after}")).await, StatusCode::OK).await
            ["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
    }
    let (_, _) = subscribe(&app, &w.admin_a.token, &w.a, json!({"url": receiver.url})).await;

    // Someone joins A, someone joins B; B publishes an event.
    let in_a = new_person(&app, &w.admin_a.token, &w.a, "An Aerts").await;
    let in_b = new_person(&app, &w.admin_b.token, &w.b, "Bo Bosmans").await;
    let event = expect(
        post(&app, &w.admin_b.token, "/v1/events", crate::events::event_body(&w.b, "Leren op de werkvloer", Some(20)))
            .await,
        StatusCode::CREATED,
    )
    .await;
    // A's member keeps one record private, shares one with A, one with the network only.
    let record = |title: &str, visibility: &str, shared: &[&str]| {
        json!({"title": title, "activity_type": "peer_learning", "started_on": "2026-11-10",
               "visibility": visibility, "shared_with": shared})
    };
    let m = &w.member_a.token;
    let private =
        expect(post(&app, m, "/v1/learning-records", record("Privé", "private", &[])).await, StatusCode::CREATED).await;
    let shared = expect(
        post(&app, m, "/v1/learning-records", record("Gedeeld", "organisation", &[w.a.as_str()])).await,
        StatusCode::CREATED,
    )
    .await;
    let network =
        expect(post(&app, m, "/v1/learning-records", record("Netwerk", "network", &[])).await, StatusCode::CREATED)
            .await;
    // Then takes the share back: A gets a delete, as in the feed.
    let shared_id = shared["id"].as_str().unwrap().to_string();
    expect(
        patch(&app, m, &format!("/v1/learning-records/{shared_id}"), None, json!({"visibility": "private"})).await,
        StatusCode::OK,
    )
    .await;
    // A marker written last: when it arrives, everything before it was delivered.
    let marker = new_person(&app, &w.admin_a.token, &w.a, "Zoë Zegers").await;
    let mut feed_read = Vec::new();
    loop {
        let page = expect(get(&app, &client_a, &format!("/v1/changes?after={after}")).await, StatusCode::OK).await;
        feed_read.extend(page["data"].as_array().unwrap().iter().cloned());
        after = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            break;
        }
    }
    let key = |v: &Value| (v["type"].as_str().unwrap().to_string(), v["id"].as_str().unwrap().to_string());
    let fed: HashSet<_> = feed_read.iter().map(key).collect();
    assert!(fed.contains(&("person".to_string(), marker.clone())), "the client reads the marker");
    receiver
        .wait_for("everything the client reads", |r| {
            let delivered: HashSet<_> = r.iter().map(|x| key(&x.body["data"])).collect();
            fed.is_subset(&delivered)
        })
        .await;
    // Anything more would come in the same round of deliveries.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = receiver.changes();
    let delivered: HashSet<_> = got.iter().map(|r| key(&r.body["data"])).collect();
    assert_eq!(delivered, fed, "the subscription gets what the organisation's client reads, no more, no less");
    let text: String = got.iter().map(|r| r.raw.clone()).collect();
    for (what, id) in [("B's person", in_b.as_str()), ("the private record", private["id"].as_str().unwrap())] {
        assert!(!text.contains(id), "{what} was delivered");
    }
    assert!(!text.contains(network["id"].as_str().unwrap()), "a network-only record was delivered to A");
    assert!(text.contains(&in_a) && text.contains(event["id"].as_str().unwrap()));
    let last_of_shared: Vec<&Received> = got.iter().filter(|r| r.body["data"]["id"] == shared_id.as_str()).collect();
    assert_eq!(last_of_shared.last().unwrap().body["type"], "learning_record.delete", "the withdrawal is delivered");
    assert_eq!(last_of_shared.last().unwrap().body["data"]["resource"], Value::Null);
    assert!(!last_of_shared.last().unwrap().raw.contains("Gedeeld"), "a withdrawal carries no content");
}

async fn a_failed_delivery_is_retried_with_the_same_id_before_anything_after_it(app: TestApp) {
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    receiver.script(&[Reply::Status(500), Reply::Status(502)]);
    let (id, _) = subscribe(&app, &w.admin_a.token, &w.a, json!({"url": receiver.url, "types": ["person"]})).await;
    let first = new_person(&app, &w.admin_a.token, &w.a, "Eerste").await;
    let second = new_person(&app, &w.admin_a.token, &w.a, "Tweede").await;
    let got = receiver.wait_for("both people", |r| r.iter().any(|x| x.body["data"]["id"] == second.as_str())).await;
    let ids: Vec<&str> = got.iter().map(|r| r.body["data"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first.as_str(), first.as_str(), first.as_str(), second.as_str()], "in order, retried first");
    assert!(got[0].id == got[1].id && got[1].id == got[2].id, "one id across attempts");
    assert_ne!(got[2].id, got[3].id);
    assert!(got[1].at - got[0].at >= Duration::from_millis(60), "a retry waits (base 100 ms, give or take a fifth)");
    assert!(got[2].at - got[1].at >= Duration::from_millis(120), "and waits longer each time");
    let log = deliveries(&app, &w.admin_a.token, &w.a, &id, 4).await;
    let attempts: Vec<(i64, i64)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|d| (d["attempt"].as_i64().unwrap(), d["status"].as_i64().unwrap()))
        .collect();
    assert_eq!(attempts, [(1, 500), (2, 502), (3, 200), (1, 200)], "{log}");
    let hook = webhook(&app, &w.admin_a.token, &w.a, &id).await;
    assert_eq!(hook["failing_since"], Value::Null, "delivered again: no longer failing");
}

async fn a_receiver_that_times_out_or_asks_to_wait_is_retried(app: TestApp) {
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    // The test servers give a receiver 2 s.
    receiver.script(&[Reply::Slow(Duration::from_secs(3)), Reply::TooMany(1)]);
    let (id, _) = subscribe(&app, &w.admin_a.token, &w.a, json!({"url": receiver.url, "types": ["person"]})).await;
    let person = new_person(&app, &w.admin_a.token, &w.a, "Traag").await;
    let got = receiver.wait_for("three attempts", |r| r.len() >= 3).await;
    assert!(got.iter().all(|r| r.body["data"]["id"] == person.as_str() && r.id == got[0].id));
    assert!(got[2].at - got[1].at >= Duration::from_millis(950), "`Retry-After: 1` is honoured");
    let log = deliveries(&app, &w.admin_a.token, &w.a, &id, 3).await;
    let data = log["data"].as_array().unwrap();
    assert_eq!(data.len(), 3, "{log}");
    assert_eq!(data[2]["status"], Value::Null, "the timeout had no answer: {log}");
    assert!(data[2]["error"].as_str().unwrap().contains("timed out"), "{log}");
    assert_eq!(data[1]["status"], 429);
    assert_eq!(data[0]["status"], 200);
    assert_eq!(receiver.changes().len(), 3, "delivered once it succeeded");
}

async fn a_subscription_that_keeps_failing_is_disabled_and_resumes_when_enabled(app: TestApp) {
    // A service that gives up after a second of failures.
    let (url, guard) = fresh_database(app.backend).await;
    let settings = Settings { webhook_give_up_after_secs: 1, ..test_settings(&url) };
    let app = spawn_app_with(app.backend, settings, Arc::new(guard)).await;
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    receiver.script(&[Reply::Status(500); 40]);
    let (id, _) = subscribe(&app, &w.admin_a.token, &w.a, json!({"url": receiver.url, "types": ["person"]})).await;
    let person = new_person(&app, &w.admin_a.token, &w.a, "Onbereikbaar").await;
    let mut hook = Value::Null;
    for _ in 0..100 {
        hook = webhook(&app, &w.admin_a.token, &w.a, &id).await;
        if hook["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hook["enabled"], false, "{hook}");
    let reason = hook["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("500"), "{reason}");
    let tries = receiver.changes().len();
    assert!(tries >= 2, "it was retried before giving up ({tries})");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.changes().len(), tries, "nothing is sent while disabled");

    // Enabled again, it delivers from where it stopped.
    receiver.log.lock().unwrap().script.clear();
    let tag = format!("\"{}\"", hook["version"]);
    let path = format!("{}/{id}", hooks(&w.a));
    let res =
        expect(patch(&app, &w.admin_a.token, &path, Some(&tag), json!({"enabled": true})).await, StatusCode::OK).await;
    assert_eq!(res["disabled_reason"], Value::Null);
    let got = receiver.wait_for("a delivery", |r| r.len() > tries).await;
    assert_eq!(got.last().unwrap().body["data"]["id"], person.as_str());
    let stale = patch(&app, &w.admin_a.token, &path, Some(&tag), json!({"description": "x"})).await;
    problem(stale, 412).await;
}

async fn two_instances_never_deliver_one_subscription_at_once(app: TestApp) {
    let other = crate::helpers::second_instance(&app).await;
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    subscribe(&app, &w.admin_a.token, &w.a, json!({"url": receiver.url, "types": ["person"]})).await;
    let mut people = Vec::new();
    for i in 0..12 {
        let on = if i % 2 == 0 { &app } else { &other };
        people.push(new_person(on, &w.admin_a.token, &w.a, &format!("Persoon {i}")).await);
    }
    let got = receiver.wait_for("every person", |r| r.len() >= people.len()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_all = receiver.changes();
    assert_eq!(got_all.len(), people.len(), "each message once: {got:#?}");
    let ids: Vec<&str> = got_all.iter().map(|r| r.body["data"]["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = people.iter().map(String::as_str).collect();
    assert_eq!(ids, expected, "in feed order");
    assert_eq!(receiver.log.lock().unwrap().max_in_flight, 1, "never two deliveries at once");
}

async fn a_retry_schedule_survives_a_restart(app: TestApp) {
    // Two instances one after the other on one database; the first retries after 2 s.
    let (url, guard) = fresh_database(app.backend).await;
    let backend: Backend = app.backend;
    drop(app);
    let guard = Arc::new(guard);
    let first = spawn_app_with(
        backend,
        Settings { webhook_retry_base_ms: 2000, ..test_settings(&url) },
        Arc::new(DbGuard::Borrowed),
    )
    .await;
    let w = crate::events::world(&first).await;
    let (receiver, _server) = Receiver::start().await;
    receiver.script(&[Reply::Status(503)]);
    let (id, _) = subscribe(&first, &w.admin_a.token, &w.a, json!({"url": receiver.url, "types": ["person"]})).await;
    let person = new_person(&first, &w.admin_a.token, &w.a, "Herstart").await;
    receiver.wait_for("the first attempt", |r| !r.is_empty()).await;
    deliveries(&first, &w.admin_a.token, &w.a, &id, 1).await;
    let failing = webhook(&first, &w.admin_a.token, &w.a, &id).await;
    let due: chrono::DateTime<chrono::Utc> = failing["next_attempt_at"].as_str().unwrap().parse().unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = spawn_app_with(backend, test_settings(&url), guard).await;
    let got = receiver.wait_for("the retry", |r| r.len() >= 2).await;
    assert_eq!(got[1].id, got[0].id, "the same message");
    assert_eq!(got[1].body["data"]["id"], person.as_str());
    let retried = chrono::DateTime::from_timestamp(got[1].timestamp.parse().unwrap(), 0).unwrap();
    assert!(retried + chrono::Duration::seconds(1) >= due, "the schedule kept: retried at {retried}, due {due}");
    let log = deliveries(&second, &w.admin_a.token, &w.a, &id, 2).await;
    assert_eq!(log["data"][0]["attempt"], 2, "{log}");
}

async fn only_admins_facilitators_and_clients_with_the_scope_manage_webhooks(app: TestApp) {
    let w = crate::events::world(&app).await;
    let f = &w.facilitator.token;
    let body = json!({"url": "https://hr.example.com/hooks", "types": ["person"]});
    // Members and another organisation's admin may know the organisation, not manage it.
    for token in [&w.member_a.token, &w.admin_b.token] {
        problem(post(&app, token, &hooks(&w.a), body.clone()).await, 403).await;
        problem(get(&app, token, &hooks(&w.a)).await, 403).await;
    }
    // Another organisation's client may not know of them.
    let client_b = client_token(&app, f, &w.b, &["webhooks:write", "people:read"]).await;
    problem(get(&app, &client_b, &hooks(&w.a)).await, 404).await;
    let (hook, _) = subscribe(&app, &w.admin_a.token, &w.a, body.clone()).await;
    problem(get(&app, &client_b, &format!("{}/{hook}", hooks(&w.a))).await, 404).await;
    problem(get(&app, &w.admin_b.token, &format!("{}/{hook}", hooks(&w.b))).await, 404).await;
    // A client without `webhooks:write` may not.
    let reader = client_token(&app, f, &w.a, &["people:read"]).await;
    problem(post(&app, &reader, &hooks(&w.a), body.clone()).await, 403).await;
    // A client with it subscribes within its own read scopes.
    let events_only = client_token(&app, f, &w.a, &["webhooks:write"]).await;
    let refused = problem(post(&app, &events_only, &hooks(&w.a), body.clone()).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/types", "{refused}");
    let (_, _) = subscribe(&app, &events_only, &w.a, json!({"url": "https://hr.example.com/events"})).await;
    let listed = expect(get(&app, &events_only, &hooks(&w.a)).await, StatusCode::OK).await;
    let types = &listed["data"][1]["types"];
    assert!(!types.as_array().unwrap().iter().any(|t| t == "person" || t == "learning_record"), "{types}");
    assert!(types.as_array().unwrap().iter().any(|t| t == "event"), "{types}");
    // Nor can it widen one it manages.
    problem(patch(&app, &events_only, &format!("{}/{hook}", hooks(&w.a)), None, json!({"enabled": false})).await, 422)
        .await;
    let people = client_token(&app, f, &w.a, &["webhooks:write", "people:write"]).await;
    subscribe(&app, &people, &w.a, body.clone()).await;
    // Commitments are their people's own: nobody subscribes to them.
    let refused = problem(
        post(&app, &w.admin_a.token, &hooks(&w.a), json!({"url": "https://hr.example.com/c", "types": ["commitment"]}))
            .await,
        422,
    )
    .await;
    assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("commitment"), "{refused}");
    // Facilitators manage any organisation's; deleting ends it.
    let (other, _) = subscribe(&app, f, &w.b, body.clone()).await;
    let res = app.request(Method::DELETE, &format!("{}/{other}", hooks(&w.b))).bearer_auth(f).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(get(&app, f, &format!("{}/{other}", hooks(&w.b))).await, 404).await;
    let (none, _) = crate::stakeholders::person_in(&app, f, &w.a, "Nog Iemand", "employee").await;
    problem(get(&app, &none.token, &hooks(&w.a)).await, 403).await;
}

async fn urls_must_be_https_to_public_addresses(app: TestApp) {
    // A service as in production: no host allowed to be private.
    let (url, guard) = fresh_database(app.backend).await;
    let settings = Settings { webhook_allowed_hosts: String::new(), ..test_settings(&url) };
    let app = spawn_app_with(app.backend, settings, Arc::new(guard)).await;
    let w = crate::events::world(&app).await;
    let t = &w.admin_a.token;
    for (url, says) in [
        ("http://hr.example.com/hooks", "HTTPS"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("http://127.0.0.1:9000/hooks", "private"),
        ("https://localhost/hooks", "private"),
        ("https://[::1]/hooks", "private"),
        ("https://user:pw@hr.example.com/hooks", "password"),
        ("hr.example.com/hooks", "absolute"),
        ("ftp://hr.example.com/hooks", "HTTPS"),
    ] {
        let refused = problem(post(&app, t, &hooks(&w.a), json!({"url": url})).await, 422).await;
        assert_eq!(refused["errors"][0]["pointer"], "/url", "{url}: {refused}");
        assert!(refused["errors"][0]["detail"].as_str().unwrap().contains(says), "{url}: {refused}");
    }
    let long = format!("https://hr.example.com/{}", "a".repeat(2000));
    problem(post(&app, t, &hooks(&w.a), json!({"url": long})).await, 422).await;
    problem(post(&app, t, &hooks(&w.a), json!({"url": "https://hr.example.com/", "types": []})).await, 422).await;
    let unknown = json!({"url": "https://hr.example.com/", "types": ["people"]});
    let refused = problem(post(&app, t, &hooks(&w.a), unknown).await, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/types/0", "{refused}");
    let refused =
        problem(post(&app, t, &hooks(&w.a), json!({"url": "https://hr.example.com/", "secret": "mine"})).await, 422)
            .await;
    assert_eq!(refused["errors"][0]["pointer"], "/secret", "a secret is never chosen by the caller: {refused}");
    // A public name is taken (it is checked again at every delivery).
    let (id, _) = subscribe(&app, t, &w.a, json!({"url": "https://hr.example.com/hooks"})).await;
    // A test event to a private address is refused at delivery time, and logged.
    let path = format!("{}/{id}", hooks(&w.a));
    let (receiver, _server) = Receiver::start().await;
    let res = patch(&app, t, &path, None, json!({"url": receiver.url})).await;
    problem(res, 422).await;
    let tried = expect(post(&app, t, &format!("{path}/test"), json!({})).await, StatusCode::OK).await;
    assert_eq!(tried["status"], Value::Null, "{tried}");
    assert!(receiver.received().is_empty());
}

async fn a_rotated_secret_signs_alongside_the_old_one_and_a_test_event_and_replay_work(app: TestApp) {
    let w = crate::events::world(&app).await;
    let t = &w.admin_a.token;
    let (receiver, _server) = Receiver::start().await;
    let (id, old) = subscribe(&app, t, &w.a, json!({"url": receiver.url, "types": ["person"]})).await;
    let path = format!("{}/{id}", hooks(&w.a));
    let first = new_person(&app, t, &w.a, "Voor").await;
    receiver.wait_for("the first person", |r| r.len() == 1).await;

    let rotated = expect(post(&app, t, &format!("{path}/secret"), json!({})).await, StatusCode::OK).await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let hook = webhook(&app, t, &w.a, &id).await;
    assert_eq!(hook["previous_secret_until"], rotated["previous_secret_until"]);
    new_person(&app, t, &w.a, "Na").await;
    let got = receiver.wait_for("the second person", |r| r.len() == 2).await;
    assert!(verifies(&new, &got[1]) && verifies(&old, &got[1]), "both secrets sign during the overlap");
    assert_eq!(got[1].signature.split(' ').count(), 2);
    assert!(verifies(&old, &got[0]) && !verifies(&new, &got[0]));

    // A test event: delivered now, signed, logged, and nothing else moves.
    let tried = expect(post(&app, t, &format!("{path}/test"), json!({})).await, StatusCode::OK).await;
    assert_eq!(tried["status"], 200, "{tried}");
    assert_eq!(tried["event_type"], "webhook.test");
    let test = receiver.received().into_iter().find(|r| r.body["type"] == "webhook.test").unwrap();
    assert!(verifies(&new, &test));
    assert_eq!(test.body["data"]["subscription_id"], id.as_str());

    // A replay from before the first person delivers both again, with their ids.
    let from = chrono::Utc::now() - chrono::Duration::minutes(10);
    let replay = json!({"from": from.to_rfc3339()});
    expect(post(&app, t, &format!("{path}/replay"), replay).await, StatusCode::OK).await;
    let again = receiver
        .wait_for("the replay", |r| r.len() > 2 && r[2..].iter().any(|x| x.body["data"]["id"] == first.as_str()))
        .await;
    let replayed: Vec<&Received> = again[2..].iter().collect();
    assert!(replayed.iter().any(|r| r.body["data"]["id"] == first.as_str() && r.id == got[0].id), "{replayed:#?}");
    // The feed reads the same for the organisation's clients.
    let client = client_token(&app, &w.facilitator.token, &w.a, &["people:read"]).await;
    let people = feed(&app, &client, "person").await;
    assert!(people.iter().any(|c| c["id"] == first.as_str()));
}

async fn erasing_a_person_delivers_the_delete_and_removes_the_attempts_about_them(app: TestApp) {
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    let types = json!({"url": receiver.url, "types": ["person", "membership"]});
    let (id, _) = subscribe(&app, &w.admin_a.token, &w.a, types).await;
    let person = new_person(&app, &w.admin_a.token, &w.a, "Vergeet Mij").await;
    receiver.wait_for("the person", |r| r.iter().any(|x| x.body["type"] == "person.create")).await;
    deliveries(&app, &w.admin_a.token, &w.a, &id, 2).await;
    let res = app
        .request(Method::DELETE, &format!("/v1/people/{person}"))
        .bearer_auth(&w.facilitator.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let got = receiver.wait_for("the delete", |r| r.iter().any(|x| x.body["type"] == "person.delete")).await;
    let delete = got.iter().find(|r| r.body["type"] == "person.delete").unwrap();
    assert_eq!(delete.body["data"]["resource"], Value::Null, "a tombstone carries nothing");
    assert!(got.iter().any(|r| r.body["type"] == "membership.delete"), "the membership goes too");
    // What was logged about the person before (the receivers' answers included) is gone;
    // only the deletes, which carry nothing, are logged.
    let log = deliveries(&app, &w.admin_a.token, &w.a, &id, 1).await;
    let kinds: Vec<&str> = log["data"].as_array().unwrap().iter().map(|d| d["event_type"].as_str().unwrap()).collect();
    assert!(!kinds.is_empty() && kinds.iter().all(|k| k.ends_with(".delete")), "{log}");
}

/// A subscription behind a slow receiver holds changes it read from the feed; one whose
/// share is withdrawn meanwhile must not be sent (the feed no longer shows it).
async fn a_share_withdrawn_while_deliveries_wait_is_never_sent(app: TestApp) {
    let w = crate::events::world(&app).await;
    let (receiver, _server) = Receiver::start().await;
    receiver.script(&[Reply::Slow(Duration::from_millis(1500)), Reply::Slow(Duration::from_millis(1500))]);
    let types = json!({"url": receiver.url, "types": ["learning_record"]});
    subscribe(&app, &w.admin_a.token, &w.a, types).await;
    let m = &w.member_a.token;
    let mut ids = Vec::new();
    for title in ["Eerste", "Tweede", "Derde"] {
        let body = json!({"title": title, "activity_type": "peer_learning", "started_on": "2026-11-10",
                          "visibility": "organisation", "shared_with": [w.a]});
        let created = expect(post(&app, m, "/v1/learning-records", body).await, StatusCode::CREATED).await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    // The first delivery is under way (the receiver takes 1.5 s): take the third back.
    receiver.wait_for("the first delivery", |r| !r.is_empty()).await;
    let withdraw = json!({"visibility": "private"});
    expect(patch(&app, m, &format!("/v1/learning-records/{}", ids[2]), None, withdraw).await, StatusCode::OK).await;
    let got = receiver
        .wait_for("the third's delete", |r| {
            r.iter().any(|x| x.body["data"]["id"] == ids[2].as_str() && x.body["type"] == "learning_record.delete")
        })
        .await;
    let third: Vec<&Received> = got.iter().filter(|r| r.body["data"]["id"] == ids[2].as_str()).collect();
    assert_eq!(third.len(), 1, "only the delete of the withdrawn record: {third:#?}");
    assert!(!got.iter().any(|r| r.raw.contains("Derde")), "the withdrawn record's content was sent");
    assert!(got.iter().any(|r| r.raw.contains("Tweede")), "the others are delivered");
}

/// Moving a subscription to another URL (say, because the old one leaked) takes effect
/// while a backlog is being delivered, not once it is through.
async fn a_changed_url_takes_over_while_deliveries_run(app: TestApp) {
    let w = crate::events::world(&app).await;
    let (old, _old_server) = Receiver::start().await;
    let (new, _new_server) = Receiver::start().await;
    old.script(&[Reply::Slow(Duration::from_millis(800)); 6]);
    let (id, _) = subscribe(&app, &w.admin_a.token, &w.a, json!({"url": old.url, "types": ["person"]})).await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(new_person(&app, &w.admin_a.token, &w.a, &format!("Achterstand {i}")).await);
    }
    old.wait_for("the first delivery", |r| !r.is_empty()).await;
    let path = format!("{}/{id}", hooks(&w.a));
    expect(patch(&app, &w.admin_a.token, &path, None, json!({"url": new.url})).await, StatusCode::OK).await;
    let last = people.last().unwrap().clone();
    new.wait_for("the last person", |r| r.iter().any(|x| x.body["data"]["id"] == last.as_str())).await;
    let at_old = old.changes().len();
    assert!(at_old <= 2, "the old URL got {at_old} deliveries after it was replaced");
    let everyone: HashSet<String> = old
        .changes()
        .iter()
        .chain(new.changes().iter())
        .map(|r| r.body["data"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(people.iter().all(|p| everyone.contains(p)), "every person arrives somewhere");
}
