//! The application: storage, state, HTTP server and background tasks, bound to a port
//! (0 in tests) and run until SIGTERM/SIGINT.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinHandle;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::TokenKeys;
use crate::config::{DatabaseKind, Settings};
use crate::db::Store;
use crate::http::idempotency::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, idempotency};
use crate::http::pagination::CursorCodec;
use crate::http::rate_limit::RateLimiter;
use crate::http::routes::{RouteTable, fallback, head_as_get};
use crate::http::security_headers::security_headers;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::telemetry::{REQUEST_ID, observe};
use crate::{api, demo, error};

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    tasks: Vec<JoinHandle<()>>,
    seeded: bool,
    demo_client: Option<demo::DemoClient>,
}

/// Finds the token secret: the configured one, or on the embedded SQLite default one made
/// once and kept beside the database file (mode 0600), so tokens survive restarts.
pub fn resolve_jwt_secret(settings: &Settings) -> anyhow::Result<SecretString> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    let random = || {
        let mut bytes = [0u8; 48];
        rand::fill(&mut bytes);
        hex::encode(bytes)
    };
    match settings.database_kind()? {
        DatabaseKind::Postgres => anyhow::bail!(
            "invalid setting VOV_JWT_SECRET: must be set (at least 32 bytes) when DATABASE_URL is PostgreSQL, \
             so that every instance signs and verifies tokens with the same secret"
        ),
        DatabaseKind::Sqlite => match settings.sqlite_file() {
            None => Ok(SecretString::from(random())),
            Some(db) => {
                let path = secret_file_for(&db);
                if path.exists() {
                    let secret = std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                    let secret = secret.trim().to_string();
                    anyhow::ensure!(secret.len() >= 32, "{} holds a secret shorter than 32 bytes", path.display());
                    Ok(SecretString::from(secret))
                } else {
                    let secret = random();
                    write_private(&path, &secret)?;
                    tracing::info!(path = %path.display(), "made a token signing secret for the embedded database");
                    Ok(SecretString::from(secret))
                }
            }
        },
    }
}

/// `data/vov.db` → `data/vov.db.jwt-secret`.
fn secret_file_for(db: &Path) -> std::path::PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".jwt-secret");
    db.with_file_name(name)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

fn cors(settings: &Settings) -> Cors {
    let exposed = [
        header::ETAG,
        header::LOCATION,
        header::LINK,
        header::RETRY_AFTER,
        header::LAST_MODIFIED,
        header::CONTENT_LOCATION,
        REQUEST_ID,
        IDEMPOTENT_REPLAYED,
        crate::api::organisations::UPSERT_RESULT,
        header::HeaderName::from_static("ratelimit"),
        header::HeaderName::from_static("ratelimit-policy"),
    ];
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            IDEMPOTENCY_KEY,
            REQUEST_ID,
        ])
        .expose_headers(exposed)
        .max_age(3600);
    let origins = settings.cors_allowed_origins.trim();
    if origins == "*" {
        cors.allow_any_origin()
    } else {
        origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .fold(cors, |cors, origin| cors.allowed_origin(origin))
    }
}

async fn serve_openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi_json.clone())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}

impl Application {
    /// Connects, migrates, seeds the demo data when asked to, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(&settings).await?;
        store.migrate().await?;
        Self::build_with_store(settings, store).await
    }

    /// Like [`Application::build`] on an already migrated store.
    pub async fn build_with_store(settings: Settings, store: Store) -> anyhow::Result<Self> {
        let secret = resolve_jwt_secret(&settings)?;
        let tokens = TokenKeys::new(
            &secret,
            &settings.previous_jwt_secrets(),
            &settings.jwt_issuer,
            &settings.jwt_audience,
            settings.jwt_leeway_secs,
            settings.access_token_ttl_secs,
        );
        let cursors = CursorCodec::new(secret.expose_secret().as_bytes());
        // The committed document, built into the binary: nothing of it is built at start.
        let routes = RouteTable::from_spec(api::OPENAPI)?;
        let openapi_json = web::Bytes::from(api::compact_json(api::OPENAPI));

        let seeded = settings.demo_data && store.kind() == DatabaseKind::Sqlite && store.is_empty().await?;
        let demo_client = if seeded { demo::seed(&store).await? } else { None };

        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        let workers = settings.worker_count();
        let shutdown = settings.shutdown_timeout_secs;
        let settings_limits = (settings.sign_in_limit_per_account, settings.sign_in_limit_per_ip);
        let trusted_proxies = crate::http::client_address::TrustedProxies::parse(&settings.trusted_proxies)
            .map_err(|entry| anyhow::anyhow!("VOV_TRUSTED_PROXIES: `{entry}` is not an address or a network"))?;

        let webhooks = crate::webhooks::worker::Webhooks::new(&settings, &store)?;
        let state = web::Data::new(AppState {
            settings,
            store,
            tokens,
            cursors,
            event_pages: Default::default(),
            solution_pages: Default::default(),
            metrics: Metrics::new(),
            routes,
            openapi_json,
            sign_in_by_account: RateLimiter::new("sign-in", settings_limits.0, Duration::from_secs(60)),
            sign_in_by_ip: RateLimiter::new("sign-in-address", settings_limits.1, Duration::from_secs(60)),
            trusted_proxies,
            webhooks,
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let state = app_state.clone();
            let cors = cors(&state.settings);
            App::new()
                .configure(api::routes)
                .app_data(state)
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .route("/openapi.json", web::get().to(serve_openapi))
                .route("/docs", web::get().to(docs_redirect))
                .service(
                    SwaggerUi::new("/docs/{_:.*}").config(
                        utoipa_swagger_ui::Config::new(["/openapi.json"])
                            .persist_authorization(true)
                            .display_request_duration(true)
                            .try_it_out_enabled(true)
                            .filter(true)
                            // Shows `x-demo-caller`: the demo account each example works for.
                            .show_extensions(true),
                    ),
                )
                .default_service(web::to(fallback))
                .wrap(from_fn(idempotency))
                .wrap(from_fn(head_as_get))
                .wrap(cors)
                .wrap(from_fn(security_headers))
                .wrap(from_fn(observe))
        })
        .workers(workers)
        .shutdown_timeout(shutdown)
        .listen(listener)?
        .run();

        let tasks = spawn_background_tasks(&state);
        // Seeding the demo data takes memory that is free again now.
        give_back_free_memory();
        Ok(Self { port, server, state, tasks, seeded, demo_client })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether this start seeded the demo data.
    pub fn seeded_demo_data(&self) -> bool {
        self.seeded
    }

    /// The demo integration client this start created, with its only copy of the secret.
    pub fn demo_client(&self) -> Option<&demo::DemoClient> {
        self.demo_client.as_ref()
    }

    /// The storage, for tests and commands that share the process.
    pub fn store(&self) -> Store {
        self.state.store.clone()
    }

    /// A handle to stop the server from elsewhere (tests).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (or a stop through the handle), then lets in-flight
    /// requests finish, stops the background tasks and closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        for task in &self.tasks {
            task.abort();
        }
        if let Err(e) = self.state.store.checkpoint().await {
            tracing::warn!(error = %e, "final checkpoint failed");
        }
        self.state.store.close().await;
        tracing::info!("stopped");
        Ok(result?)
    }
}

fn spawn_background_tasks(state: &web::Data<AppState>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    if let (DatabaseKind::Sqlite, Some(db)) = (state.store.kind(), state.settings.sqlite_file()) {
        // Readers that never pause keep SQLite's own (passive) checkpoints from restarting
        // the WAL, so it would grow for as long as writes go on. A truncating checkpoint
        // runs every interval, and as soon as the WAL passes the size limit (checked ten
        // times a second), which bounds it to the limit plus a tenth of a second of writes.
        let store = state.store.clone();
        let every = Duration::from_secs(state.settings.sqlite_checkpoint_interval_secs);
        let limit = state.settings.sqlite_journal_size_limit_bytes;
        let mut wal = db.into_os_string();
        wal.push("-wal");
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
                if size == 0 || (size <= limit && last.elapsed() < every) {
                    continue;
                }
                last = tokio::time::Instant::now();
                match store.checkpoint().await {
                    Ok(frames) => tracing::trace!(?frames, size, "wal checkpoint"),
                    Err(e) => tracing::warn!(error = %e, "wal checkpoint failed"),
                }
            }
        }));
    }
    // The limiters hold only keys seen within their window.
    let limits = state.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.sign_in_by_account.forget_idle();
            limits.sign_in_by_ip.forget_idle();
            give_back_free_memory();
        }
    }));
    // Webhook deliveries: a task per subscription being delivered (see `webhooks::worker`).
    tasks.push(tokio::spawn(crate::webhooks::worker::Deliveries::new(state.clone()).run()));
    let store = state.store.clone();
    let retention = chrono::Duration::days(i64::from(state.settings.feed_retention_days));
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match store.purge_expired().await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired tokens and idempotency keys"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
            match store.purge_webhook_deliveries(crate::db::now() - chrono::Duration::days(30)).await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged the webhook delivery log"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook delivery log purge failed"),
            }
            match store.purge_feed(crate::db::now() - retention).await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "compacted the change feed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "feed compaction failed"),
            }
        }
    }));
    tasks
}

/// Returns the allocator's free memory to the system, so that resident memory follows what
/// is in use after a burst (start-up, a large batch). glibc otherwise keeps freed small
/// blocks in its arenas. Walking the free lists takes well under a millisecond.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the process's own allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}
