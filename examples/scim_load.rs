//! The SCIM provisioning load of `bench/run` (`bench/scim.py` prepares the organisation and
//! its token, then checks the result): an identity provider creating users one by one with
//! `POST /scim/v2/Users`, Entra ID's body, over a number of concurrent keep-alive
//! connections, as fast as the server answers. A load generator in Rust, so that on a
//! two-core machine the client takes as little as it can of what the server would use.
//!
//! Run: `cargo run --release --example scim_load -- BASE_URL TOKEN RUN USERS CONNECTIONS`
//!
//! Prints one line of JSON: `users`, `per_s` (users created per second, wall clock from the
//! first request to the last answer), `p50_ms` and `p99_ms` of the creations. Exits 1 on
//! any answer but `201 Created`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const DEPARTMENTS: [&str; 8] =
    ["Zorg", "Thuiszorg", "Logistiek", "Onthaal", "Keuken", "Administratie", "ICT", "Technische dienst"];

/// The same names and bodies as `bench/scim.py`'s `user_name` and `user_body`.
fn user_body(run: &str, i: usize) -> String {
    let name = format!("medewerker{i:05}.{run}@scim-bench.example");
    let (given, family) = (format!("Medewerker{i:05}"), "Bench");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
        "userName": name,
        "active": true,
        "displayName": format!("{given} {family}"),
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "type": "work", "value": name}],
        ENTERPRISE: {"employeeNumber": (10_000 + i).to_string(), "department": DEPARTMENTS[i % DEPARTMENTS.len()]},
    })
    .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let at = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, token, run, users, connections] = args.as_slice() else {
        eprintln!("usage: scim_load BASE_URL TOKEN RUN USERS CONNECTIONS");
        std::process::exit(2);
    };
    let users: usize = users.parse().expect("USERS is a number");
    let connections: usize = connections.parse().expect("CONNECTIONS is a number");
    let bodies: Arc<Vec<String>> = Arc::new((0..users).map(|i| user_body(run, i)).collect());
    vov::webhooks::delivery::install_tls_provider();
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().expect("an HTTP client");
    let url = format!("{base}/scim/v2/Users");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, token, bodies, next) =
                (client.clone(), url.clone(), token.clone(), bodies.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let sent = Instant::now();
                    let res = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("Content-Type", "application/scim+json")
                        .body(body.clone())
                        .send()
                        .await
                        .expect("the server answers");
                    let status = res.status();
                    let text = res.text().await.expect("the server answers in full");
                    latencies.push(sent.elapsed());
                    if status.as_u16() != 201 {
                        eprintln!(
                            "POST /scim/v2/Users answered {status}: {}",
                            text.chars().take(300).collect::<String>()
                        );
                        std::process::exit(1);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(users);
    for worker in workers {
        latencies.extend(worker.await.expect("a worker ends"));
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let per_s = (users as f64 / seconds).round() as u64;
    println!(
        "{}",
        json!({
            "users": users,
            "per_s": per_s,
            "p50_ms": (percentile(&latencies, 0.50) * 10.0).round() / 10.0,
            "p99_ms": (percentile(&latencies, 0.99) * 10.0).round() / 10.0,
        })
    );
}
