//! Settings: code defaults < optional `vov.toml` < environment (`VOV_*`, `DATABASE_URL`).
//!
//! Every field is listed, with its default, in `.env.example`; the README has the table.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The default database: an embedded SQLite file, created on demand.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/vov.db";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Every setting of the service. Neither `Debug` nor `Serialize` shows a secret.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free port (tests).
    pub port: u16,
    /// `sqlite://path/to/file.db` (the default) or `postgres://user:pass@host/db`.
    #[serde(serialize_with = "redacted")]
    pub database_url: SecretString,
    /// Largest number of pooled database connections (readers, on SQLite).
    pub db_max_connections: u32,
    /// Seconds to wait for a free pooled connection before answering 503.
    pub db_acquire_timeout_secs: u64,
    /// Longest a single SQL statement may run, in seconds (PostgreSQL `statement_timeout`,
    /// SQLite busy timeout).
    pub db_statement_timeout_secs: u64,
    /// SQLite only: the WAL file is truncated to at most this many bytes after a checkpoint.
    pub sqlite_journal_size_limit_bytes: u64,
    /// SQLite only: seconds between `wal_checkpoint(TRUNCATE)` runs that keep the WAL bounded.
    pub sqlite_checkpoint_interval_secs: u64,
    /// HS256 secret for access tokens, at least 32 bytes. When unset on the embedded SQLite
    /// default, a random one is made once and kept beside the database file.
    #[serde(serialize_with = "redacted_option")]
    pub jwt_secret: Option<SecretString>,
    /// Earlier secrets that still verify tokens during a key rotation (comma-separated).
    #[serde(serialize_with = "redacted_option")]
    pub jwt_previous_secrets: Option<SecretString>,
    /// `iss` claim written into and required of every access token.
    pub jwt_issuer: String,
    /// `aud` claim written into and required of every access token.
    pub jwt_audience: String,
    /// Seconds of clock skew accepted on `exp` and `nbf`.
    pub jwt_leeway_secs: u64,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// How long an `Idempotency-Key` and its stored response are kept, in seconds.
    pub idempotency_ttl_secs: u64,
    /// Largest accepted request body, in bytes (413 above it).
    pub body_limit_bytes: usize,
    /// `human` or `json`.
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `vov=debug,sqlx=warn`.
    pub log_level: String,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds that in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Origins allowed by CORS, comma-separated; `*` allows any origin (tokens are bearer
    /// tokens, never cookies, so this is safe for third-party front ends).
    pub cors_allowed_origins: String,
    /// Days of change-feed history kept: older tombstones and superseded changes are
    /// compacted away, and cursors from before that answer 410.
    pub feed_retention_days: u32,
    /// Sign-in attempts (`POST /v1/auth/token`) allowed per account (e-mail address or client
    /// id) per minute, per service instance.
    pub sign_in_limit_per_account: u32,
    /// Sign-in attempts allowed per client IP address per minute, per service instance.
    pub sign_in_limit_per_ip: u32,
    /// Proxies (load balancers) trusted to say whom they forward for, as addresses or CIDR
    /// networks, comma-separated; empty: none. Only from these is the client address taken
    /// from `Forwarded` / `X-Forwarded-For`; from anyone else those headers are ignored.
    pub trusted_proxies: String,
    /// Seed the demo data set on first start when the database is the embedded SQLite one
    /// and empty. PostgreSQL is seeded only by `vov seed-demo`.
    pub demo_data: bool,
    /// Insights: the smallest group of people a figure may be about (at least 3).
    pub insights_k: i64,
    /// Webhooks: hosts (names or addresses, comma-separated) that may be delivered to even
    /// though they are or resolve to private, loopback or link-local addresses; empty: none,
    /// as in production. Development and tests name `127.0.0.1` or `localhost` here.
    pub webhook_allowed_hosts: String,
    /// Webhooks: how long a delivery may take before it counts as failed, in seconds.
    pub webhook_timeout_secs: u64,
    /// Webhooks: the wait before the first retry, in milliseconds; each further retry waits
    /// twice as long (with jitter), up to six hours.
    pub webhook_retry_base_ms: u64,
    /// Webhooks: how long a subscription may keep failing before it is disabled, in seconds
    /// (three days).
    pub webhook_give_up_after_secs: u64,
}

fn redacted<S: serde::Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("[REDACTED]")
}

fn redacted_option<S: serde::Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str("[REDACTED]"),
        None => s.serialize_none(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            database_url: SecretString::from(DEFAULT_DATABASE_URL),
            db_max_connections: 8,
            db_acquire_timeout_secs: 5,
            db_statement_timeout_secs: 30,
            sqlite_journal_size_limit_bytes: 64 * 1024 * 1024,
            sqlite_checkpoint_interval_secs: 5,
            jwt_secret: None,
            jwt_previous_secrets: None,
            jwt_issuer: "vov-api".into(),
            jwt_audience: "vov-api".into(),
            jwt_leeway_secs: 30,
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            idempotency_ttl_secs: 24 * 3600,
            body_limit_bytes: 1024 * 1024,
            log_format: LogFormat::Human,
            log_level: "info".into(),
            workers: 0,
            shutdown_timeout_secs: 30,
            cors_allowed_origins: "*".into(),
            feed_retention_days: 30,
            sign_in_limit_per_account: 10,
            sign_in_limit_per_ip: 60,
            trusted_proxies: String::new(),
            demo_data: true,
            insights_k: crate::domain::insights::DEFAULT_K,
            webhook_allowed_hosts: String::new(),
            webhook_timeout_secs: 10,
            webhook_retry_base_ms: 5000,
            webhook_give_up_after_secs: 3 * 24 * 3600,
        }
    }
}

/// A setting that could not be read or does not make sense; printed at start.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid setting: {0}")]
    Read(#[from] Box<figment::Error>),
    #[error("invalid setting {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Settings read verbatim from the environment (see [`Settings::load_from`]).
const SECRET_KEYS: [&str; 3] = ["jwt_secret", "jwt_previous_secrets", "database_url"];

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl Settings {
    /// Reads defaults, then `vov.toml` (or the file named by `VOV_CONFIG`), then the
    /// environment, and checks the result.
    pub fn load() -> Result<Self, SettingsError> {
        let file = std::env::var("VOV_CONFIG").unwrap_or_else(|_| "vov.toml".into());
        Self::load_from(Figment::new().merge(Toml::file(file)))
    }

    /// Like [`Settings::load`] over a given base (tests pass their own values).
    ///
    /// Only `VOV_*` variables that name a setting are read: platforms inject others (a
    /// Kubernetes Service called `vov` adds `VOV_SERVICE_HOST`, `VOV_PORT=tcp://...`), and
    /// those must not stop the service. Secrets are taken verbatim, never parsed as values.
    pub fn load_from(base: Figment) -> Result<Self, SettingsError> {
        let known = Self::keys();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let figment = base.merge(Env::prefixed("VOV_").only(&known).ignore(&SECRET_KEYS));
        let mut settings: Settings = figment.extract().map_err(Box::new)?;
        for (key, var) in [
            ("jwt_secret", "VOV_JWT_SECRET"),
            ("jwt_previous_secrets", "VOV_JWT_PREVIOUS_SECRETS"),
            ("database_url", "VOV_DATABASE_URL"),
            ("database_url", "DATABASE_URL"),
        ] {
            if let Ok(value) = std::env::var(var) {
                let value = SecretString::from(value);
                match key {
                    "jwt_secret" => settings.jwt_secret = Some(value),
                    "jwt_previous_secrets" => settings.jwt_previous_secrets = Some(value),
                    _ => settings.database_url = value,
                }
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    /// The names of every setting (lowercase, without the prefix).
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => vec![],
        }
    }

    /// Checks what serde cannot: ranges, URL schemes, secret lengths.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |name, reason: &str| Err(SettingsError::Invalid { name, reason: reason.to_string() });
        self.database_kind()?;
        if self.db_max_connections == 0 {
            return invalid("VOV_DB_MAX_CONNECTIONS", "must be at least 1");
        }
        if self.db_acquire_timeout_secs == 0 {
            return invalid("VOV_DB_ACQUIRE_TIMEOUT_SECS", "must be at least 1");
        }
        if self.sqlite_checkpoint_interval_secs == 0 {
            return invalid("VOV_SQLITE_CHECKPOINT_INTERVAL_SECS", "must be at least 1");
        }
        if let Some(secret) = &self.jwt_secret
            && secret.expose_secret().len() < 32
        {
            return invalid("VOV_JWT_SECRET", "must be at least 32 bytes (RFC 7518 §3.2)");
        }
        for secret in self.previous_jwt_secrets() {
            if secret.len() < 32 {
                return invalid("VOV_JWT_PREVIOUS_SECRETS", "every secret must be at least 32 bytes");
            }
        }
        if self.jwt_issuer.trim().is_empty() {
            return invalid("VOV_JWT_ISSUER", "must not be empty");
        }
        if self.jwt_audience.trim().is_empty() {
            return invalid("VOV_JWT_AUDIENCE", "must not be empty");
        }
        if !(30..=86_400).contains(&self.access_token_ttl_secs) {
            return invalid("VOV_ACCESS_TOKEN_TTL_SECS", "must be between 30 and 86400 seconds");
        }
        if self.refresh_token_ttl_secs < self.access_token_ttl_secs {
            return invalid("VOV_REFRESH_TOKEN_TTL_SECS", "must not be shorter than the access token lifetime");
        }
        if self.idempotency_ttl_secs < 3600 {
            return invalid("VOV_IDEMPOTENCY_TTL_SECS", "must be at least 3600 seconds");
        }
        if self.body_limit_bytes < 1024 {
            return invalid("VOV_BODY_LIMIT_BYTES", "must be at least 1024 bytes");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return invalid("VOV_LOG_LEVEL", "is not a valid tracing filter");
        }
        if self.insights_k < crate::domain::insights::MIN_K {
            return invalid("VOV_INSIGHTS_K", "must be at least 3");
        }
        if self.feed_retention_days == 0 {
            return invalid("VOV_FEED_RETENTION_DAYS", "must be at least 1");
        }
        if self.sign_in_limit_per_account == 0 || self.sign_in_limit_per_ip == 0 {
            return invalid("VOV_SIGN_IN_LIMIT_PER_ACCOUNT / VOV_SIGN_IN_LIMIT_PER_IP", "must be at least 1");
        }
        if let Err(entry) = crate::http::client_address::TrustedProxies::parse(&self.trusted_proxies) {
            return Err(SettingsError::Invalid {
                name: "VOV_TRUSTED_PROXIES",
                reason: format!("`{entry}` is not an IP address or a CIDR network"),
            });
        }
        if !(1..=60).contains(&self.webhook_timeout_secs) {
            return invalid("VOV_WEBHOOK_TIMEOUT_SECS", "must be between 1 and 60 seconds");
        }
        if self.cors_allowed_origins.trim().is_empty() {
            return invalid("VOV_CORS_ALLOWED_ORIGINS", "must be `*` or a list of origins");
        }
        Ok(())
    }

    /// The database named by `database_url`.
    pub fn database_kind(&self) -> Result<DatabaseKind, SettingsError> {
        let url = self.database_url.expose_secret();
        if url.starts_with("sqlite:") {
            Ok(DatabaseKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseKind::Postgres)
        } else {
            Err(SettingsError::Invalid {
                name: "DATABASE_URL",
                reason: "must start with sqlite:, postgres:// or postgresql://".into(),
            })
        }
    }

    /// The file behind a `sqlite:` URL, or `None` for an in-memory database.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.database_url.expose_secret();
        let rest = url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" { None } else { Some(Path::new(path).to_path_buf()) }
    }

    /// Secrets that still verify tokens, besides the current one.
    pub fn previous_jwt_secrets(&self) -> Vec<String> {
        self.jwt_previous_secrets
            .as_ref()
            .map(|s| s.expose_secret().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }

    /// Number of HTTP workers to start.
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { self.workers }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error, by its API.
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut figment = Figment::new();
        for (k, v) in pairs {
            figment = figment.merge(Serialized::default(k, v));
        }
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    #[test]
    fn defaults_are_valid_and_point_at_the_embedded_database() {
        let s = load(&[]).unwrap();
        assert_eq!(s.database_kind().unwrap(), DatabaseKind::Sqlite);
        assert_eq!(s.sqlite_file().unwrap(), Path::new("data/vov.db"));
        assert_eq!(s.body_limit_bytes, 1024 * 1024);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert_eq!(
            load(&[("trusted_proxies", "10.0.0.0/8, 192.168.1.10")]).unwrap().trusted_proxies,
            "10.0.0.0/8, 192.168.1.10"
        );
        let err = load(&[("trusted_proxies", "10.0.0.0/8, the-load-balancer")]).unwrap_err().to_string();
        assert!(err.contains("VOV_TRUSTED_PROXIES") && err.contains("the-load-balancer"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let s = load(&[
            ("jwt_secret", "a-very-long-secret-that-is-over-32-bytes"),
            ("database_url", "postgres://vov:hunter2@db/vov"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("a-very-long-secret"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn every_setting_is_in_env_example_with_its_default() {
        let example = include_str!("../.env.example");
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        for (key, value) in defaults.as_object().unwrap() {
            let (var, expected) = match key.as_str() {
                "database_url" => ("DATABASE_URL".to_string(), DEFAULT_DATABASE_URL.to_string()),
                _ => (
                    format!("VOV_{}", key.to_uppercase()),
                    match value {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                ),
            };
            let line = example
                .lines()
                .map(|l| l.trim_start_matches("# "))
                .find(|l| l.starts_with(&format!("{var}=")))
                .unwrap_or_else(|| panic!("{var} is not in .env.example"));
            assert_eq!(line.split_once('=').unwrap().1, expected, "{var} in .env.example");
        }
    }

    #[test]
    fn serialised_settings_never_show_secrets() {
        let s = load(&[("jwt_secret", "a-very-long-secret-that-is-over-32-bytes")]).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("a-very-long-secret"), "{json}");
    }

    #[test]
    fn a_short_jwt_secret_is_a_clear_error() {
        let err = load(&[("jwt_secret", "short")]).unwrap_err();
        assert!(err.to_string().contains("VOV_JWT_SECRET"), "{err}");
    }

    #[test]
    fn an_unknown_database_scheme_is_a_clear_error() {
        let err = load(&[("database_url", "mysql://x")]).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn unrelated_vov_variables_are_ignored_and_secrets_are_taken_verbatim() {
        // The jail holds a lock over every test that touches the environment and restores
        // it afterwards, so no other test sees these variables.
        figment::Jail::expect_with(|jail| {
            jail.set_env("VOV_SERVICE_HOST", "10.0.0.1");
            jail.set_env("VOV_JWT_SECRET", "[not-an-array-but-a-secret-of-32-bytes+]");
            jail.set_env("VOV_DEMO_DATA", "false");
            let s = Settings::load_from(Figment::new()).map_err(|e| e.to_string())?;
            assert_eq!(s.jwt_secret.unwrap().expose_secret(), "[not-an-array-but-a-secret-of-32-bytes+]");
            assert!(!s.demo_data, "a setting's variable is read");
            Ok(())
        });
    }

    #[test]
    fn a_config_file_is_read_and_the_environment_overrides_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("vov.toml", "port = 9090\ndemo_data = false\n")?;
            jail.set_env("VOV_PORT", "9191");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(s.port, 9191);
            assert!(!s.demo_data);
            Ok(())
        });
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_setting() {
        let err = load(&[("port", "eighty")]).unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let s = load(&[("database_url", "sqlite:///tmp/x/vov.db?mode=rwc")]).unwrap();
        assert_eq!(s.sqlite_file().unwrap(), Path::new("/tmp/x/vov.db"));
        let s = load(&[("database_url", "sqlite::memory:")]).unwrap();
        assert!(s.sqlite_file().is_none());
    }
}
