//! A database outage is an outage, never "not found": PostgreSQL behind a proxy that the
//! test cuts (open connections break, new ones are refused) and restores. Every read and
//! write answers 503 with `Retry-After` while it is down, and 2xx again once it is back,
//! without a restart. (A 404 there would make a syncing client delete its copy of
//! something that still exists.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::events::{create_event, event_body, id_of, register};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, fresh_database, json, spawn_app_with, test_settings};
use crate::stakeholders::{client_token, expect, organisation, person_in, post};

/// A TCP proxy to PostgreSQL that can be cut and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (accepting, open) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    drop(client); // refused: the connection closes at once
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                open.lock().unwrap().push(link);
            }
        });
        Proxy { port, up, links }
    }

    /// Breaks every open connection and refuses new ones.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn postgres_out_of_reach_is_503_everywhere_and_the_service_recovers_without_a_restart() {
    let (url, guard) = fresh_database(Backend::Postgres).await;
    // postgres://user@host:port/db -> the same database through the proxy.
    let (head, db) = url.rsplit_once('/').unwrap();
    let (scheme_user, host_port) = head.rsplit_once('@').unwrap();
    let proxy = Proxy::start(host_port.to_string()).await;
    let proxied = format!("{scheme_user}@127.0.0.1:{}/{db}", proxy.port);
    let settings = vov::config::Settings { db_acquire_timeout_secs: 1, ..test_settings(&proxied) };
    let app: TestApp = spawn_app_with(Backend::Postgres, settings, Arc::new(guard)).await;

    // Something of every kind to read, while the database is there.
    let f = app.facilitator().await;
    let org = id_of(&organisation(&app, &f.token, "Zorgnet Kempen", "employer").await);
    let (admin, membership) = person_in(&app, &f.token, &org, "Els Van Damme", "org_admin").await;
    let (member, _) = person_in(&app, &f.token, &org, "Jonas Claes", "employee").await;
    let client = client_token(&app, &f.token, &org, &["people:read"]).await;
    let event = id_of(&create_event(&app, &admin.token, event_body(&org, "Leren op elke leeftijd", None)).await);
    let registration = id_of(&expect(register(&app, &member.token, &event, None).await, StatusCode::CREATED).await);
    let record = json!({"title": "Intervisie", "activity_type": "intervision", "started_on": "2027-02-10"});
    let record =
        id_of(&expect(post(&app, &member.token, "/v1/learning-records", record).await, StatusCode::CREATED).await);
    let solution = json!({"title": "Mentoring", "status": "published"});
    let solution =
        id_of(&expect(post(&app, &member.token, "/v1/solutions", solution).await, StatusCode::CREATED).await);
    let theme = json!({"slug": "mentoring", "label_nl": "Mentoring", "label_en": "Mentoring"});
    let theme = id_of(&expect(post(&app, &f.token, "/v1/themes", theme).await, StatusCode::CREATED).await);

    let (ft, mt, ct) = (f.token.as_str(), member.token.as_str(), client.as_str());
    let reads: Vec<(&str, String)> = vec![
        (ft, format!("/v1/people/{}", member.id)),
        (ft, format!("/v1/people/{}/memberships", member.id)),
        (ft, format!("/v1/memberships/{membership}")),
        (ft, format!("/v1/organisations/{org}")),
        (ft, format!("/v1/organisations/{org}/memberships")),
        (ft, format!("/v1/organisations/{org}/clients")),
        (ft, "/v1/people".into()),
        (ft, format!("/v1/themes/{theme}")),
        (ft, format!("/v1/events/{event}")),
        (ft, format!("/v1/events/{event}/registrations")),
        (ft, format!("/v1/registrations/{registration}")),
        (ft, "/v1/changes".into()),
        (mt, "/v1/me".into()),
        (mt, "/v1/me/export".into()),
        (mt, format!("/v1/learning-records/{record}")),
        (mt, format!("/v1/people/{}/learning-summary", member.id)),
        (mt, format!("/v1/solutions/{solution}")),
        (mt, format!("/v1/solutions/{solution}/revisions")),
        (ct, format!("/v1/people/{}", member.id)),
        (ct, "/v1/changes".into()),
    ];
    let writes: Vec<(&str, Method, String, Value)> = vec![
        (
            ft,
            Method::POST,
            "/v1/themes".into(),
            json!({"slug": "coaching", "label_nl": "Coaching", "label_en": "Coaching"}),
        ),
        (ft, Method::PATCH, format!("/v1/people/{}", member.id), json!({"name": "Jonas Claes-Peeters"})),
        (
            ft,
            Method::PUT,
            format!("/v1/people/{}/password", member.id),
            json!({"new_password": "een nieuw wachtwoord"}),
        ),
        (
            mt,
            Method::POST,
            "/v1/learning-records".into(),
            json!({"title": "Lezen", "activity_type": "reading", "started_on": "2027-02-11"}),
        ),
        (mt, Method::POST, format!("/v1/solutions/{solution}/comments"), json!({"body": "Goed idee"})),
        (mt, Method::DELETE, format!("/v1/learning-records/{record}"), json!(null)),
        (ft, Method::DELETE, format!("/v1/people/{}", admin.id), json!(null)),
    ];
    let send = |token: &str, method: Method, path: &str, body: &Value| {
        let mut req = app.request(method.clone(), path).bearer_auth(token);
        if !body.is_null() {
            let content_type =
                if method == Method::PATCH { "application/merge-patch+json" } else { "application/json" };
            req = req.header("content-type", content_type).body(body.to_string());
        }
        req.send()
    };

    proxy.cut();
    let mut answers = Vec::new();
    for (token, path) in &reads {
        answers.push((format!("GET {path}"), send(token, Method::GET, path, &Value::Null).await.unwrap()));
    }
    for (token, method, path, body) in &writes {
        answers.push((format!("{method} {path}"), send(token, method.clone(), path, body).await.unwrap()));
    }
    answers.push(("sign in".into(), app.password_grant(&member.email, TEST_PASSWORD).await));
    answers.push(("GET /health/ready".into(), app.get("/health/ready").send().await.unwrap()));
    for (what, res) in answers {
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{what} while the database is out of reach");
        assert!(res.headers().contains_key("retry-after"), "{what}: no Retry-After");
    }

    proxy.restore();
    // Back without a restart: the pool replaces the broken connections.
    let again = |token: &str, path: String| {
        let req = app.request(Method::GET, &path).bearer_auth(token.to_string());
        async move {
            for _ in 0..50 {
                let res = req.try_clone().unwrap().send().await.unwrap();
                if res.status().is_success() {
                    return res.status();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("{path} did not recover");
        }
    };
    for (token, path) in reads {
        assert!(again(token, path).await.is_success());
    }
    for (token, method, path, body) in writes {
        let res = send(token, method.clone(), &path, &body).await.unwrap();
        assert!(res.status().is_success(), "{method} {path} after recovery: {}", json(res).await);
    }
    // The recovered writes happened: the deleted admin is gone, not a 503 any more.
    assert_eq!(app.get(&format!("/v1/people/{}", admin.id)).bearer_auth(ft).send().await.unwrap().status(), 404);
}
