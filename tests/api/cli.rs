//! The `vov` binary: settings errors, `create-admin`, `migrate`, demo data.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TEST_SECRET, fresh_database, json, spawn_app_with, test_settings};

fn vov(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vov"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("VOV_JWT_SECRET", TEST_SECRET)
        .env("VOV_CONFIG", "/nonexistent/vov.toml");
    cmd
}

#[test]
fn a_bad_setting_is_a_clear_error_not_a_panic() {
    let out = vov("sqlite::memory:").env("VOV_PORT", "eighty").arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.to_lowercase().contains("port") && !stderr.contains("panicked"), "{stderr}");

    let out = vov("mysql://nope").arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[test]
fn postgres_needs_a_configured_token_secret() {
    let out = vov("postgres://127.0.0.1:1/none").env_remove("VOV_JWT_SECRET").arg("serve").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("VOV_JWT_SECRET") || stderr.contains("PostgreSQL"), "{stderr}");
}

#[test]
fn openapi_prints_the_spec_without_any_settings() {
    let out = Command::new(env!("CARGO_BIN_EXE_vov")).arg("openapi").env("VOV_PORT", "not-a-port").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}

async fn create_admin_bootstraps_a_facilitator_who_can_sign_in(backend: Backend) {
    let (url, guard) = fresh_database(backend).await;
    let mut child = vov(&url)
        .args(["create-admin", "--email", "Root@VOV.example", "--name", "Root"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long admin passphrase\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let app = spawn_app_with(backend, test_settings(&url), Arc::new(guard)).await;
    let res = app.password_grant("root@vov.example", "a long admin passphrase").await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = json(res).await["access_token"].as_str().unwrap().to_string();
    let res = app.password_grant("root@vov.example", "a long admin passphrase").await;
    let refresh_token = json(res).await["refresh_token"].as_str().unwrap().to_string();
    let me = json(app.get("/v1/me").bearer_auth(token).send().await.unwrap()).await;
    assert_eq!(me["roles"], serde_json::json!(["facilitator"]));

    // Resetting the password ends every sign-in made with the old one.
    let out = vov(&url)
        .args(["create-admin", "--email", "root@vov.example"])
        .env("VOV_ADMIN_PASSWORD", "a brand new admin passphrase")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let res = app
        .post("/v1/auth/token")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A weak password is refused before anything is written.
    let out = vov(&url)
        .args(["create-admin", "--email", "other@vov.example"])
        .env("VOV_ADMIN_PASSWORD", "short")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the password must be at least 12 characters"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_bootstraps_a_facilitator_on_sqlite() {
    create_admin_bootstraps_a_facilitator_who_can_sign_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn create_admin_bootstraps_a_facilitator_on_postgres() {
    create_admin_bootstraps_a_facilitator_who_can_sign_in(Backend::Postgres).await;
}

/// The demo themes, and the one kept for the example that deletes a theme.
const DEMO_THEMES: usize = vov::demo::THEMES.len() + 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_seeds_demo_data_on_first_start_only() {
    let (url, guard) = fresh_database(Backend::Sqlite).await;
    let guard = Arc::new(guard);
    let settings = vov::config::Settings { demo_data: true, ..test_settings(&url) };
    let app = spawn_app_with(Backend::Sqlite, settings.clone(), guard.clone()).await;
    assert!(app.seeded);
    let res = app.password_grant(vov::demo::FACILITATOR_EMAIL, vov::demo::PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let themes = json(app.get("/v1/themes?limit=200").send().await.unwrap()).await;
    assert_eq!(themes["data"].as_array().unwrap().len(), DEMO_THEMES);
    let first_id = themes["data"][0]["id"].clone();
    // A season of events: every format and mode, past and future, one full with a waitlist,
    // no draft for anonymous callers.
    let events = json(app.get("/v1/events?limit=200").send().await.unwrap()).await;
    let events = events["data"].as_array().unwrap();
    assert!(events.len() >= 8, "{}", events.len());
    for format in vov::domain::event::EventFormat::ALL {
        assert!(events.iter().any(|e| e["format"] == format.as_str()), "no {} event", format.as_str());
    }
    for mode in vov::domain::event::AttendanceMode::ALL {
        assert!(events.iter().any(|e| e["attendance_mode"] == mode.as_str()), "no {} event", mode.as_str());
    }
    assert!(events.iter().all(|e| e["status"] != "draft"));
    for status in ["published", "completed", "cancelled"] {
        assert!(events.iter().any(|e| e["status"] == status), "no {status} event");
    }
    assert!(events.iter().any(|e| e["seats_left"] == 0 && e["waitlist_length"].as_i64() > Some(0)), "none is full");
    let facilitator = json(res_token(&app).await).await["access_token"].as_str().unwrap().to_string();
    let completed: Vec<&Value> = events.iter().filter(|e| e["status"] == "completed").collect();
    let mut attended = 0;
    let mut done = 0;
    for e in &completed {
        let path = format!("/v1/events/{}/commitment-summary", e["id"].as_str().unwrap());
        let summary = json(app.get(&path).bearer_auth(&facilitator).send().await.unwrap()).await;
        attended += summary["attended"].as_i64().unwrap();
        done += summary["done"].as_i64().unwrap();
    }
    assert!(attended > 0 && done > 0, "past events have attendance and commitments that were kept");
    // A few months of learning records: the facilitator reads the network-visible ones
    // only; the demo people have private and organisation-shared ones too.
    let shared = json(app.get("/v1/learning-records?limit=200").bearer_auth(&facilitator).send().await.unwrap()).await;
    let shared = shared["data"].as_array().unwrap();
    assert!(shared.len() >= 3 && shared.iter().all(|r| r["visibility"] == "network"), "{shared:?}");
    let visibilities: std::collections::HashSet<u8> = vov::demo::RECORDS.iter().map(|r| r.8).collect();
    assert_eq!(visibilities.len(), 3, "private, organisation and network records");
    // Shared solutions: anonymous callers read the published ones, worked on by several
    // co-authors over several revisions, endorsed, discussed and applied; the draft stays
    // with its co-authors; the challenges they answer are there for members.
    let published = json(app.get("/v1/solutions?limit=200").send().await.unwrap()).await;
    let published = published["data"].as_array().unwrap();
    assert!(published.len() >= 3 && published.iter().all(|s| s["status"] == "published"), "{published:?}");
    assert!(published.iter().all(|s| s["version"].as_i64() > Some(2)), "several revisions each");
    assert!(published.iter().any(|s| s["co_authors"].as_array().unwrap().len() > 1));
    assert!(published.iter().any(|s| s["endorsement_count"].as_i64() > Some(0)));
    assert!(published.iter().any(|s| s["comment_count"].as_i64() > Some(0)));
    assert!(published.iter().any(|s| s["adoption_count"].as_i64() > Some(0)));
    assert!(published.iter().any(|s| !s["challenge_ids"].as_array().unwrap().is_empty()));
    let all = json(app.get("/v1/solutions?limit=200").bearer_auth(&facilitator).send().await.unwrap()).await;
    assert!(all["data"].as_array().unwrap().iter().any(|s| s["status"] == "draft"), "facilitators see the draft");
    // The demo search finds an accented word without its accent.
    let found = json(app.get("/v1/solutions?q=coordinator%20patientendossier").send().await.unwrap()).await;
    assert!(!found["data"].as_array().unwrap().is_empty(), "{found}");
    let challenges = json(app.get("/v1/challenges").bearer_auth(&facilitator).send().await.unwrap()).await;
    assert!(challenges["data"].as_array().unwrap().len() >= 3, "{challenges}");
    // Insights: the demo policy reader sees a real table at once, every age shown.
    let res = app.password_grant(vov::demo::POLICY_READER_EMAIL, vov::demo::PASSWORD).await;
    let reader = json(res).await["access_token"].as_str().unwrap().to_string();
    // The last closed quarter (the default) and the one before it.
    let today = chrono::Utc::now().date_naive();
    let (year, quarter) = (chrono::Datelike::year(&today), chrono::Datelike::month0(&today) / 3 + 1);
    let before = match quarter {
        1 => format!("{}-Q3", year - 1),
        2 => format!("{}-Q4", year - 1),
        q => format!("{year}-Q{}", q - 2),
    };
    for period in [String::new(), format!("&period={before}")] {
        let path = format!("/v1/insights/learning-participation?by=age_band{period}");
        let table = json(app.get(&path).bearer_auth(&reader).send().await.unwrap()).await;
        let cells = table["cells"].as_array().unwrap();
        assert!(cells[0]["people"].as_i64() > Some(300), "{table}");
        for band in ["under_25", "25_34", "35_44", "45_54", "55_64", "65_plus"] {
            let cell = cells.iter().find(|c| c["group"]["age_band"] == band).unwrap();
            assert_eq!(cell["suppressed"], false, "{band} in {table}");
        }
    }
    drop(app);

    let again = spawn_app_with(Backend::Sqlite, settings, guard).await;
    assert!(!again.seeded, "a database with people is never seeded again");
    let themes = json(again.get("/v1/themes?limit=200").send().await.unwrap()).await;
    assert_eq!(themes["data"].as_array().unwrap().len(), DEMO_THEMES);
    assert_eq!(themes["data"][0]["id"], first_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn postgres_is_never_seeded_by_serve() {
    let (url, guard) = fresh_database(Backend::Postgres).await;
    let settings = vov::config::Settings { demo_data: true, ..test_settings(&url) };
    let app = spawn_app_with(Backend::Postgres, settings, Arc::new(guard)).await;
    let themes = json(app.get("/v1/themes").send().await.unwrap()).await;
    assert!(themes["data"].as_array().unwrap().is_empty());
    let out = vov(&url).arg("seed-demo").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let themes = json(app.get("/v1/themes?limit=200").send().await.unwrap()).await;
    assert_eq!(themes["data"].as_array().unwrap().len(), DEMO_THEMES);
}

#[test]
fn sigterm_stops_the_service_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/vov.db", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = vov(&url)
        .env("VOV_PORT", port.to_string())
        .env("VOV_DEMO_DATA", "false")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready means answering HTTP (the signal handlers are installed by then), not just
    // accepting connections.
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
        let mut answer = String::new();
        stream.write_all(b"GET /health/live HTTP/1.0\r\n\r\n").is_ok()
            && std::io::Read::read_to_string(&mut stream, &mut answer).is_ok()
            && answer.starts_with("HTTP/1.0 200")
    });
    assert!(ready, "the service did not start");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopped"), "{}", String::from_utf8_lossy(&out.stdout));
    // The last connection to close checkpoints the WAL away.
    let wal = dir.path().join("vov.db-wal");
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0, "the WAL was left behind");
}

async fn res_token(app: &crate::helpers::TestApp) -> reqwest::Response {
    app.password_grant(vov::demo::FACILITATOR_EMAIL, vov::demo::PASSWORD).await
}
