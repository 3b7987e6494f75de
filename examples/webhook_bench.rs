//! The webhook benchmark's load and receiver (bench/run, suite `webhooks`): subscribes
//! SUBSCRIPTIONS webhooks of one organisation to a receiver of its own, makes RATE changes a
//! second for SECONDS (new themes, which every organisation receives), and measures how
//! long each change took to arrive at each subscription (from the change's time to its
//! receipt), and the writes' own latency while deliveries run.
//!
//! Usage: webhook_bench BASE_URL FACILITATOR_TOKEN ORGANISATION_ID SUBSCRIPTIONS RATE SECONDS
//! Prints one JSON object. With SUBSCRIPTIONS 0 it measures the writes alone.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

#[derive(Default)]
struct Received {
    lags_ms: Vec<f64>,
    ids: HashSet<String>,
    duplicates: usize,
}

async fn receive(req: HttpRequest, body: web::Bytes, log: web::Data<Arc<Mutex<Received>>>) -> HttpResponse {
    let at = chrono::Utc::now();
    let id = req.headers().get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let path = req.path().to_string();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let changed = event["timestamp"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let mut log = log.lock().unwrap();
    if let Some(changed) = changed {
        log.lags_ms.push((at - changed.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    if !log.ids.insert(format!("{path} {id}")) {
        log.duplicates += 1;
    }
    HttpResponse::NoContent().finish()
}

/// The `p`th percentile of sorted values, to a tenth.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    tenth(sorted[rank.min(sorted.len() - 1)])
}

fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[actix_web::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, org, subscriptions, rate, seconds] = args.as_slice() else {
        eprintln!("usage: webhook_bench BASE_URL TOKEN ORGANISATION_ID SUBSCRIPTIONS RATE SECONDS");
        std::process::exit(2);
    };
    let subscriptions: usize = subscriptions.parse().expect("SUBSCRIPTIONS is a number");
    let rate: u64 = rate.parse().expect("RATE is a number");
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    vov::webhooks::delivery::install_tls_provider();
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("an HTTP client");

    let log: Arc<Mutex<Received>> = Arc::default();
    let shared = web::Data::new(log.clone());
    let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(receive)))
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("a port for the receiver");
    let port = server.addrs()[0].port();
    let server = server.run();
    let receiver = server.handle();
    tokio::spawn(server);

    let mut hooks = Vec::new();
    for i in 0..subscriptions {
        let body = json!({"url": format!("http://127.0.0.1:{port}/hooks/{i}"), "types": ["theme"],
                          "description": format!("bench {i}")});
        let res = client
            .post(format!("{base}/v1/organisations/{org}/webhooks"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("the service answers");
        assert!(res.status().is_success(), "subscribing: {}", res.status());
        let created: serde_json::Value = res.json().await.expect("JSON");
        hooks.push(created["webhook"]["id"].as_str().expect("an id").to_string());
    }

    // RATE new themes a second for SECONDS, each sent at its time (an open loop).
    let run = uuid::Uuid::now_v7().simple().to_string();
    let total = rate * seconds;
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = started + Duration::from_micros(i * 1_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (latencies, failures, run) = (latencies.clone(), failures.clone(), run.clone());
        tasks.spawn(async move {
            let body = json!({"slug": format!("wh-{}-{i}", &run[20..]), "label_nl": format!("Thema {i}"),
                              "label_en": format!("Theme {i}")});
            let sent = Instant::now();
            let res = client.post(format!("{base}/v1/themes")).bearer_auth(&token).json(&body).send().await;
            match res {
                Ok(r) if r.status().is_success() => {
                    latencies.lock().unwrap().push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                _ => {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let load_secs = started.elapsed().as_secs_f64();
    let made = latencies.lock().unwrap().len();

    // Every change to every subscription, or two minutes.
    let expected = made * subscriptions;
    let waited = Instant::now();
    while log.lock().unwrap().ids.len() < expected && waited.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained_secs = waited.elapsed().as_secs_f64();
    for id in &hooks {
        let _ = client.delete(format!("{base}/v1/organisations/{org}/webhooks/{id}")).bearer_auth(token).send().await;
    }
    receiver.stop(false).await;

    let mut writes = latencies.lock().unwrap().clone();
    writes.sort_by(f64::total_cmp);
    let log = log.lock().unwrap();
    let mut lags = log.lags_ms.clone();
    lags.sort_by(f64::total_cmp);
    let summary = json!({
        "subscriptions": subscriptions,
        "changes": made,
        "write_failures": failures.load(std::sync::atomic::Ordering::Relaxed),
        "write_rps": tenth(made as f64 / load_secs),
        "write_p50_ms": percentile(&writes, 50.0),
        "write_p99_ms": percentile(&writes, 99.0),
        "expected": expected,
        "received": log.ids.len(),
        "duplicates": log.duplicates,
        "lag_p50_ms": percentile(&lags, 50.0),
        "lag_p99_ms": percentile(&lags, 99.0),
        "lag_max_ms": tenth(lags.last().copied().unwrap_or(f64::NAN)),
        "drained_after_load_secs": tenth(drained_secs),
    });
    println!("{summary}");
}
