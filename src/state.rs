//! What every request handler can reach: storage, token keys, settings and metrics.

use std::sync::Arc;

use crate::auth::jwt::TokenKeys;
use crate::config::Settings;
use crate::db::Store;
use crate::http::pagination::CursorCodec;
use crate::http::routes::RouteTable;
use crate::metrics::Metrics;

/// Shared application state, built once at start and shared by every worker.
pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    pub tokens: TokenKeys,
    pub cursors: CursorCodec,
    pub metrics: Metrics,
    pub routes: RouteTable,
    /// The OpenAPI document, serialised once.
    pub openapi_json: Arc<String>,
}
