//! What every request handler can reach: storage, token keys, settings and metrics.

use crate::auth::jwt::TokenKeys;
use crate::config::Settings;
use crate::db::Store;
use crate::http::pagination::CursorCodec;
use crate::http::rate_limit::RateLimiter;
use crate::http::routes::RouteTable;
use crate::metrics::Metrics;

impl AppState {
    /// Today's date in the network's time zone (Europe/Brussels is within a day of UTC;
    /// memberships are day-granular).
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now().date_naive()
    }
}

/// Shared application state, built once at start and shared by every worker.
pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    pub tokens: TokenKeys,
    pub cursors: CursorCodec,
    /// Rendered pages of the event list, valid for one feed position.
    pub event_pages: crate::http::page_cache::PageCache,
    /// Rendered pages of the solution list and search (see [`crate::http::page_cache`]).
    pub solution_pages: crate::http::page_cache::PageCache,
    pub metrics: Metrics,
    pub routes: RouteTable,
    /// The OpenAPI document, serialised once.
    pub openapi_json: actix_web::web::Bytes,
    /// Sign-in attempts per account and per client address.
    pub sign_in_by_account: RateLimiter,
    pub sign_in_by_ip: RateLimiter,
    /// Whose forwarding headers name the client (`VOV_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::http::client_address::TrustedProxies,
    /// What delivers webhooks from this instance.
    pub webhooks: crate::webhooks::worker::Webhooks,
}
