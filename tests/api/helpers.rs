//! `spawn_app`: a real server on a free port over a fresh database, and clients for it.

use std::sync::Arc;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use sqlx::Connection;
use uuid::Uuid;
use vov::auth::password;
use vov::auth::rights::{PersonRole, Scope};
use vov::config::Settings;
use vov::db::Store;
use vov::domain::account::Email;
use vov::startup::Application;

/// The token secret of test servers (tests forge tokens with it and with others).
pub const TEST_SECRET: &str = "test-secret-of-the-vov-suite-at-least-32-bytes";
/// The password of every test person.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// Defines each listed test twice: on SQLite, and on PostgreSQL (ignored unless the suite
/// was built with TEST_DATABASE_URL). Each test is an `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Keeps a test database alive while the test runs and removes it afterwards.
pub enum DbGuard {
    /// Another instance owns the database.
    Borrowed,
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; use a small runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let sql = format!("drop database if exists \"{name}\" with (force)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}

/// Makes a fresh, empty database and returns its URL.
pub async fn fresh_database(backend: Backend) -> (String, DbGuard) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/vov.db", dir.path().display());
            (url, DbGuard::Sqlite(dir))
        }
        Backend::Postgres => {
            let admin_url =
                std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL must be set for the PostgreSQL tests");
            let name = format!("vov_test_{}", Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at TEST_DATABASE_URL is unreachable: {e}"));
            let sql = format!("create database \"{name}\"");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("create test database");
            let url = match admin_url.rsplit_once('/') {
                Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => format!("{base}/{name}"),
                _ => panic!("TEST_DATABASE_URL must name a database, like postgres://postgres@127.0.0.1:5432/postgres"),
            };
            (url, DbGuard::Postgres { admin_url, name })
        }
    }
}

/// Settings of a test server on `database_url`.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        port: 0,
        database_url: SecretString::from(database_url.to_string()),
        jwt_secret: Some(SecretString::from(TEST_SECRET)),
        workers: 1,
        db_max_connections: 4,
        demo_data: false,
        shutdown_timeout_secs: 1,
        // Webhook tests deliver to a receiver on this machine, and retry quickly.
        webhook_allowed_hosts: "127.0.0.1".into(),
        webhook_retry_base_ms: 100,
        webhook_timeout_secs: 2,
        ..Settings::default()
    }
}

/// A running test server.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub backend: Backend,
    pub database_url: String,
    /// Whether this start seeded the demo data.
    pub seeded: bool,
    handle: actix_web::dev::ServerHandle,
    _db: Arc<DbGuard>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the database guard drops (and removes the database) after.
        drop(self.handle.stop(false));
    }
}

fn init_logs() {
    if let Ok(level) = std::env::var("TEST_LOG") {
        let settings = Settings { log_level: level, ..Settings::default() };
        vov::telemetry::init(&settings);
    }
}

/// Starts the service on a free port over a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let (url, guard) = fresh_database(backend).await;
    spawn_app_with(backend, test_settings(&url), Arc::new(guard)).await
}

/// Starts the service with given settings; `guard` keeps the database alive.
pub async fn spawn_app_with(backend: Backend, settings: Settings, guard: Arc<DbGuard>) -> TestApp {
    init_logs();
    let database_url = secrecy::ExposeSecret::expose_secret(&settings.database_url).to_string();
    let app = Application::build(settings).await.expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    let handle = app.handle();
    let seeded = app.seeded_demo_data();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        store,
        backend,
        database_url,
        seeded,
        handle,
        _db: guard,
    }
}

/// Another service instance on the same database as `app` (as behind a load balancer).
pub async fn second_instance(app: &TestApp) -> TestApp {
    spawn_app_with(app.backend, test_settings(&app.database_url), Arc::new(DbGuard::Borrowed)).await
}

/// A person who can sign in, with a fresh access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

/// An integration client and its secret.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: Uuid,
    pub secret: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// Adds a person directly in storage (the people endpoints are tested separately).
    pub async fn add_person(&self, role: PersonRole) -> (Uuid, String) {
        let email = format!("{}@test.vov.example", Uuid::now_v7().simple());
        let hash = password::hash(TEST_PASSWORD.into()).await.unwrap();
        let id = self
            .store
            .create_person_account(&Email::parse(&email).unwrap(), "Test Person", role, Some(&hash))
            .await
            .unwrap();
        (id, email)
    }

    /// Signs in with the password grant.
    pub async fn password_grant(&self, username: &str, password: &str) -> Response {
        self.post("/v1/auth/token")
            .form(&[("grant_type", "password"), ("username", username), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// A signed-in person of `role`.
    pub async fn user(&self, role: PersonRole) -> TestUser {
        let (id, email) = self.add_person(role).await;
        let res = self.password_grant(&email, TEST_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        TestUser {
            id,
            email,
            token: body["access_token"].as_str().unwrap().to_string(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn facilitator(&self) -> TestUser {
        self.user(PersonRole::Facilitator).await
    }

    pub async fn member(&self) -> TestUser {
        self.user(PersonRole::Member).await
    }

    /// Adds an integration client with `scopes`.
    pub async fn add_client(&self, scopes: &[Scope]) -> TestClient {
        let secret = vov::api::auth::new_secret(vov::api::auth::CLIENT_SECRET_PREFIX);
        let hash = password::hash(secret.clone()).await.unwrap();
        let id = self.store.create_client("Test HR system", None, scopes, &hash).await.unwrap();
        TestClient { id, secret }
    }
}

/// Reads a JSON body, failing the test with the body when it is not JSON.
pub async fn json(res: Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts an RFC 9457 problem with `status` and returns it.
pub async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/problem+json"), "content type {content_type}");
    let body = json(res).await;
    assert_eq!(body["status"], status, "{body}");
    assert!(body["type"].as_str().unwrap().starts_with("https://vov.be/problems/"), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    body
}

/// Fails unless `value` conforms to the component schema `name` of the service's OpenAPI
/// document (JSON Schema 2020-12, formats checked): what a generated client relies on.
pub fn assert_conforms(value: &Value, name: &str) {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static VALIDATORS: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    static COMPONENTS: OnceLock<Value> = OnceLock::new();
    let components = COMPONENTS.get_or_init(|| vov::api::openapi_json()["components"].clone());
    let validator = VALIDATORS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_insert_with(|| {
            let root = serde_json::json!({"$ref": format!("#/components/schemas/{name}"), "components": components});
            Arc::new(jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap())
        })
        .clone();
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "not a {name}: {errors:?}\n{value}");
}
