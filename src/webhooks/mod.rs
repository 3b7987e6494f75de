//! Webhooks: the change feed pushed to subscribers, signed as the Standard Webhooks
//! specification says (decision 14).
//!
//! - [`signing`]: secrets and the `webhook-signature` header.
//! - [`guard`]: which addresses a delivery may reach (no private networks unless allowed).
//! - [`delivery`]: the POST itself: headers, timeout, no redirects, a bounded answer.
//! - [`worker`]: the background task that claims subscriptions and delivers their changes.

pub mod delivery;
pub mod guard;
pub mod signing;
pub mod worker;

use chrono::{DateTime, Utc};

/// The type of the event a test delivery carries.
pub const TEST_EVENT: &str = "webhook.test";

/// A message's stable id: the same on every attempt, so receivers can drop repeats.
pub fn message_id(subscription: uuid::Uuid, seq: i64) -> String {
    format!("msg_{}_{seq}", subscription.simple())
}

/// The event type of a change, as receivers filter on it: `person.update`.
pub fn event_type(resource: crate::db::feed::ResourceType, operation: crate::db::feed::Operation) -> String {
    format!("{}.{}", resource.as_str(), operation.as_str())
}

/// The body of every delivery: `{"type", "timestamp", "data"}` as Standard Webhooks
/// suggests, `data` being the change as `GET /v1/changes` shows it (already JSON).
pub fn envelope(event_type: &str, at: DateTime<Utc>, data: &str) -> String {
    format!(
        "{{\"type\":{},\"timestamp\":{},\"data\":{data}}}",
        serde_json::Value::from(event_type),
        serde_json::Value::from(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
    )
}
