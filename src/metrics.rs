//! Prometheus metrics: request counts and latencies by route and status, pool usage and
//! checkouts.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::db::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckoutLabels {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The service's metrics registry, one per application instance.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    pool: Family<PoolLabels, Gauge>,
    checkouts: Family<CheckoutLabels, Counter>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    webhook_checkouts: Family<CheckoutLabels, Counter>,
    webhook_lag: Histogram,
    /// One scrape at a time brings `checkouts` up to the store's counts.
    scrape: std::sync::Mutex<()>,
}

fn latency_histogram() -> Histogram {
    // 250 µs .. ~8 s
    Histogram::new([0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 8.0])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vov");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let pool = Family::<PoolLabels, Gauge>::default();
        let checkouts = Family::<CheckoutLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request received to response ready, by method, route template and status",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by pool and state (idle, in_use, max)",
            pool.clone(),
        );
        registry.register(
            "db_checkouts",
            "Database pool checkouts by pool: a statement outside a transaction, or a transaction",
            checkouts.clone(),
        );
        let webhook_checkouts = Family::<CheckoutLabels, Counter>::default();
        registry.register(
            "webhook_db_checkouts",
            "Database pool checkouts of the webhook worker, by pool (not in db_checkouts)",
            webhook_checkouts.clone(),
        );
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, failed)",
            webhook_deliveries.clone(),
        );
        // 10 ms .. ~3 days
        let webhook_lag = Histogram::new([
            0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, 21600.0, 86400.0, 259200.0,
        ]);
        registry.register(
            "webhook_delivery_lag_seconds",
            "Time from a change to its successful webhook delivery",
            webhook_lag.clone(),
        );
        let scrape = std::sync::Mutex::new(());
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                pool,
                checkouts,
                webhook_deliveries,
                webhook_checkouts,
                webhook_lag,
                scrape,
            }),
        }
    }

    /// Records one answered request. `route` must be a route template (bounded cardinality).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // Clients choose the method; only known ones become label values.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        let labels = RequestLabels { method: method.to_string(), route: route.to_string(), status };
        self.inner.requests.get_or_create(&labels).inc();
        self.inner.latency.get_or_create(&labels).observe(seconds);
    }

    /// A webhook delivered, `lag` after its change.
    pub fn webhook_delivered(&self, lag: std::time::Duration) {
        self.inner.webhook_deliveries.get_or_create(&OutcomeLabels { outcome: "delivered" }).inc();
        self.inner.webhook_lag.observe(lag.as_secs_f64());
    }

    /// A webhook delivery attempt that failed.
    pub fn webhook_failed(&self) {
        self.inner.webhook_deliveries.get_or_create(&OutcomeLabels { outcome: "failed" }).inc();
    }

    /// Renders the Prometheus text format, with pool gauges read at scrape time; the
    /// webhook worker's checkouts (on `background`) apart.
    pub fn render(&self, store: &Store, background: &Store) -> String {
        let _one_at_a_time = self.inner.scrape.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for usage in store.pool_usage() {
            for (state, value) in [("idle", usage.idle), ("in_use", usage.in_use), ("max", usage.max)] {
                self.inner.pool.get_or_create(&PoolLabels { pool: usage.name, state }).set(i64::from(value));
            }
            let counter = self.inner.checkouts.get_or_create(&CheckoutLabels { pool: usage.name });
            counter.inc_by(usage.checkouts.saturating_sub(counter.get()));
        }
        for usage in background.pool_usage() {
            let counter = self.inner.webhook_checkouts.get_or_create(&CheckoutLabels { pool: usage.name });
            counter.inc_by(usage.checkouts.saturating_sub(counter.get()));
        }
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }
}
