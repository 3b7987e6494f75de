//! The delivery worker: every instance runs one. It claims due subscriptions (a lease in
//! the database, so no two instances deliver one subscription at once) and delivers each
//! in a task of its own, in feed order, one message at a time: a slow or dead receiver
//! holds up only its own subscription.

use std::time::Duration;

use actix_web::web;
use chrono::Utc;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::delivery::{Answer, Sender};
use super::guard::AllowedHosts;
use super::{envelope, event_type, message_id};
use crate::api::changes::change_views;
use crate::auth::access::Access;
use crate::db::Store;
use crate::db::webhooks::{Attempt, Claimed, Outcome, Webhook, WebhookSecrets};
use crate::state::AppState;

/// How often an idle instance looks for work.
const POLL: Duration = Duration::from_millis(200);
/// How long a claim holds; renewed with every message delivered.
const LEASE: Duration = Duration::from_secs(60);
/// Subscriptions one instance delivers at once.
const MAX_ACTIVE: usize = 64;
/// Changes read from the feed at a time.
const PAGE: usize = 50;
/// How long a page read from the feed is used before it is read again: a change is never
/// sent later than this after the feed last showed it to the subscription (a share
/// withdrawn meanwhile is not sent).
const FRESH: Duration = Duration::from_secs(1);
/// Delivered messages are recorded (the cursor moved, the attempts logged) in one
/// transaction per this many, or per this long, whichever comes first. A crash in between
/// sends those messages again, with their ids (at least once).
const SAVE_EVERY: usize = 100;
const SAVE_AFTER: Duration = Duration::from_millis(250);
/// The longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// What delivers webhooks from this instance: its sender, its name as lease owner, and its
/// handle on the database (checkouts counted apart from requests').
#[derive(Clone)]
pub struct Webhooks {
    pub sender: Sender,
    pub owner: Uuid,
    pub store: Store,
}

impl Webhooks {
    pub fn new(settings: &crate::config::Settings, store: &Store) -> anyhow::Result<Self> {
        let sender = Sender::new(
            AllowedHosts::parse(&settings.webhook_allowed_hosts),
            Duration::from_secs(settings.webhook_timeout_secs),
        )?;
        Ok(Self { sender, owner: Uuid::now_v7(), store: store.with_own_counters() })
    }
}

/// The worker's handle on the service.
#[derive(Clone)]
pub struct Deliveries {
    state: web::Data<AppState>,
    sender: Sender,
    /// This instance, as lease owner.
    owner: Uuid,
    store: Store,
}

impl Deliveries {
    pub fn new(state: web::Data<AppState>) -> Self {
        let Webhooks { sender, owner, store } = state.webhooks.clone();
        Self { state, sender, owner, store }
    }

    /// Runs until aborted.
    pub async fn run(self) {
        let mut active: JoinSet<()> = JoinSet::new();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            while active.try_join_next().is_some() {}
            let free = MAX_ACTIVE.saturating_sub(active.len());
            if free == 0 {
                continue;
            }
            match self.claim(free).await {
                Ok(claimed) => {
                    for c in claimed {
                        let this = self.clone();
                        active.spawn(async move { this.deliver(c).await });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook claim failed"),
            }
        }
    }

    async fn claim(&self, limit: usize) -> crate::db::StoreResult<Vec<Claimed>> {
        let store = &self.store;
        if !store.webhooks_due().await? {
            return Ok(Vec::new());
        }
        store.claim_webhooks(self.owner, lease_end(), i64::try_from(limit).unwrap_or(i64::MAX)).await
    }

    /// Delivers a claimed subscription's changes in order until it is up to date, a
    /// delivery fails (a retry is scheduled) or the lease is lost; then lets go of it.
    async fn deliver(self, claimed: Claimed) {
        let id = claimed.webhook.id;
        if let Err(e) = self.deliver_all(claimed).await {
            tracing::warn!(webhook = %id, error = ?e, "webhook delivery stopped");
        }
        if let Err(e) = self.store.release_webhook(id, self.owner).await {
            tracing::warn!(webhook = %id, error = %e, "webhook release failed");
        }
    }

    async fn deliver_all(&self, claimed: Claimed) -> anyhow::Result<()> {
        let Claimed { webhook: w, secrets } = claimed;
        let store = &self.store;
        // Exactly what the feed shows the organisation's clients with these scopes.
        let access = Access::Client { id: w.id, organisation_id: Some(w.organisation_id), scopes: w.scopes.clone() };
        let reader = access.feed_reader();
        let mut cursor = w.cursor;
        let mut saved = w.cursor;
        let mut attempt = w.attempt;
        let mut failing_since = w.failing_since;
        // Delivered and not yet recorded.
        let mut unsaved: Vec<Attempt> = Vec::new();
        let mut saved_at = std::time::Instant::now();
        loop {
            let page = store.read_changes(&reader, cursor, &w.content.types, PAGE).await?;
            let read_at = std::time::Instant::now();
            let seqs: Vec<i64> = page.entries.iter().map(|e| e.seq).collect();
            let views = change_views(store, &access, page.entries).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut stale = false;
            for (seq, view) in seqs.into_iter().zip(views) {
                if read_at.elapsed() > FRESH {
                    stale = true;
                    break;
                }
                if !w.content.operations.contains(&view.operation) {
                    cursor = seq;
                    continue;
                }
                let kind = event_type(view.resource_type, view.operation);
                let message = message_id(w.id, seq);
                let body = envelope(&kind, view.changed_at, &serde_json::to_string(&view)?);
                let answer = self.sender.send(&w.content.url, &message, body, &secrets).await;
                attempt += 1;
                let log = attempt_log(&answer, message, kind, Some((seq, view.id)), attempt);
                if answer.delivered() {
                    let lag = (Utc::now() - view.changed_at).to_std().unwrap_or_default();
                    self.state.metrics.webhook_delivered(lag);
                    unsaved.push(log);
                    (cursor, attempt, failing_since) = (seq, 0, None);
                    if unsaved.len() >= SAVE_EVERY || saved_at.elapsed() >= SAVE_AFTER {
                        let done = Outcome::Done { seq, lease_until: lease_end() };
                        if !store
                            .finish_webhook_attempts(w.id, self.owner, w.version, &unsaved, Some(done), None)
                            .await?
                        {
                            return Ok(());
                        }
                        (saved, saved_at) = (seq, std::time::Instant::now());
                        unsaved.clear();
                    }
                    continue;
                }
                self.state.metrics.webhook_failed();
                // What was delivered before it is recorded first.
                if !unsaved.is_empty() {
                    let done = Outcome::Done { seq: cursor, lease_until: lease_end() };
                    if !store.finish_webhook_attempts(w.id, self.owner, w.version, &unsaved, Some(done), None).await? {
                        return Ok(());
                    }
                }
                let since = failing_since.unwrap_or_else(crate::db::now);
                let give_up = Utc::now() - since
                    >= chrono::Duration::seconds(
                        i64::try_from(self.state.settings.webhook_give_up_after_secs).unwrap_or(i64::MAX),
                    );
                if give_up {
                    let reason = format!(
                        "Disabled after failing since {}: {}",
                        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        log.error.as_deref().unwrap_or("no answer")
                    );
                    tracing::warn!(webhook = %w.id, %reason, "webhook disabled");
                    let give_up = Some(Outcome::GiveUp);
                    store.finish_webhook_attempts(w.id, self.owner, w.version, &[log], give_up, Some(&reason)).await?;
                } else {
                    let wait = self.backoff(attempt, answer.retry_after);
                    let next_at = crate::db::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                    let retry = Outcome::Retry { attempt, next_at, failing_since: since };
                    store.finish_webhook_attempts(w.id, self.owner, w.version, &[log], Some(retry), None).await?;
                }
                return Ok(());
            }
            if page.more || stale {
                continue;
            }
            // Up to date: pass over what this subscription does not receive, up to the head.
            let end = page.head.max(cursor);
            if end > saved || !unsaved.is_empty() {
                let done = Outcome::Done { seq: end, lease_until: lease_end() };
                store.finish_webhook_attempts(w.id, self.owner, w.version, &unsaved, Some(done), None).await?;
            }
            return Ok(());
        }
    }

    /// The wait before retry number `attempt`: what the receiver asked for with
    /// `Retry-After` (up to a day), or else the base wait doubled per failed attempt, up to
    /// six hours, give or take a fifth (so that receivers coming back are not hit by every
    /// subscription at once).
    fn backoff(&self, attempt: i32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(Duration::from_secs(24 * 3600));
        }
        let base = Duration::from_millis(self.state.settings.webhook_retry_base_ms);
        let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let wait = base.saturating_mul(1u32 << doublings.min(20)).min(MAX_BACKOFF);
        let jitter = 0.8 + 0.4 * rand::random::<f64>();
        wait.mul_f64(jitter)
    }
}

/// Sends a test event to a subscription now, whether or not it is enabled, and logs it.
pub async fn send_test(state: &AppState, w: &Webhook, secrets: &WebhookSecrets) -> crate::db::StoreResult<Attempt> {
    let message = format!("msg_{}_test_{}", w.id.simple(), Uuid::now_v7().simple());
    let data = serde_json::json!({"subscription_id": w.id, "organisation_id": w.organisation_id});
    let body = envelope(super::TEST_EVENT, crate::db::now(), &data.to_string());
    let answer = state.webhooks.sender.send(&w.content.url, &message, body, secrets).await;
    let log = attempt_log(&answer, message, super::TEST_EVENT.to_string(), None, 1);
    state
        .store
        .finish_webhook_attempts(w.id, state.webhooks.owner, w.version, std::slice::from_ref(&log), None, None)
        .await?;
    Ok(log)
}

fn lease_end() -> chrono::DateTime<Utc> {
    crate::db::now() + chrono::Duration::from_std(LEASE).unwrap_or_default()
}

/// An attempt for the log; `change` is the feed entry's seq and resource.
fn attempt_log(
    answer: &Answer,
    message_id: String,
    event_type: String,
    change: Option<(i64, Uuid)>,
    attempt: i32,
) -> Attempt {
    Attempt {
        message_id,
        event_type,
        seq: change.map(|c| c.0),
        resource_id: change.map(|c| c.1),
        attempt,
        status: answer.status,
        error: answer.error.clone(),
        latency_ms: i64::try_from(answer.latency.as_millis()).unwrap_or(i64::MAX),
        response_excerpt: answer.excerpt.clone(),
        delivered_at: crate::db::now(),
    }
}
