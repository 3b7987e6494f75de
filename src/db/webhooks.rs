//! Webhook subscriptions, their delivery state and their delivery log (decision 14).
//!
//! A subscription keeps its own cursor in the change feed. Delivery is leased: the
//! instance that claims a subscription (`lease_owner` until `lease_until`) is the only one
//! delivering it, and every move of the cursor is conditional on still holding the lease,
//! so two instances never deliver the same message at the same time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::feed::{Operation, ResourceType};
use super::{Store, StoreError, StoreResult, now, on_pool};
use crate::auth::rights::Scope;

/// What a subscription asks for, as its managers set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookContent {
    pub url: String,
    /// The resource types delivered (never empty).
    pub types: Vec<ResourceType>,
    /// The operations delivered (never empty).
    pub operations: Vec<Operation>,
    pub description: String,
    pub enabled: bool,
}

/// A subscription as its managers see it (never its secret).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub content: WebhookContent,
    /// The read scopes it delivers with: what the organisation's clients with these scopes
    /// read in the feed, never more.
    pub scopes: Vec<Scope>,
    pub disabled_reason: Option<String>,
    /// The last change delivered or passed over.
    pub cursor: i64,
    /// Failed attempts at the next change, and since when it fails.
    pub attempt: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The signing secrets of a subscription: the current one, and the previous one while the
/// overlap after a rotation lasts.
#[derive(Clone)]
pub struct WebhookSecrets {
    pub current: String,
    pub previous: Option<String>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecrets(..)")
    }
}

/// A subscription claimed for delivery, with its secrets.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub webhook: Webhook,
    pub secrets: WebhookSecrets,
}

/// One attempt, for the log.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub message_id: String,
    pub event_type: String,
    pub seq: Option<i64>,
    /// The resource the change is about (none for a test event).
    pub resource_id: Option<Uuid>,
    pub attempt: i32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub delivered_at: DateTime<Utc>,
}

/// One logged attempt, as read back.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub attempt: Attempt,
}

/// What became of the message a delivery was about.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// Delivered (or passed over): the cursor moves to `seq`, and the lease lasts until
    /// `lease_until`.
    Done { seq: i64, lease_until: DateTime<Utc> },
    /// Failed: try again at `next_at`, as attempt `attempt`; `failing_since` is when this
    /// run of failures began.
    Retry { attempt: i32, next_at: DateTime<Utc>, failing_since: DateTime<Utc> },
    /// Given up: the subscription is disabled, saying why.
    GiveUp,
}

const COLUMNS: &str = "id, organisation_id, url, types, operations, scopes, description, enabled, disabled_reason, \
     cursor, attempt, failing_since, next_attempt_at, previous_until, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: Uuid,
    organisation_id: Uuid,
    url: String,
    types: String,
    operations: String,
    scopes: String,
    description: String,
    enabled: bool,
    disabled_reason: Option<String>,
    cursor: i64,
    attempt: i32,
    failing_since: Option<DateTime<Utc>>,
    next_attempt_at: DateTime<Utc>,
    previous_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    webhook: WebhookRow,
    secret: String,
    previous_secret: Option<String>,
}

fn parse_list<T>(text: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> StoreResult<Vec<T>> {
    text.split(',')
        .filter(|w| !w.is_empty())
        .map(|w| parse(w).ok_or_else(|| StoreError::Other(anyhow::anyhow!("stored webhook {what} {w:?}"))))
        .collect()
}

/// `a,b,c`: how lists of names are stored.
pub fn join<T: Copy>(items: &[T], name: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| name(*i)).collect::<Vec<_>>().join(",")
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;

    fn try_from(r: WebhookRow) -> StoreResult<Self> {
        Ok(Webhook {
            id: r.id,
            organisation_id: r.organisation_id,
            content: WebhookContent {
                url: r.url,
                types: parse_list(&r.types, ResourceType::parse, "type")?,
                operations: parse_list(&r.operations, Operation::parse, "operation")?,
                description: r.description,
                enabled: r.enabled,
            },
            scopes: parse_list(&r.scopes, Scope::parse, "scope")?,
            disabled_reason: r.disabled_reason,
            cursor: r.cursor,
            attempt: r.attempt,
            failing_since: r.failing_since,
            next_attempt_at: r.next_attempt_at,
            previous_until: r.previous_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    message_id: String,
    event_type: String,
    seq: Option<i64>,
    resource_id: Option<Uuid>,
    attempt: i32,
    status: Option<i32>,
    error: Option<String>,
    latency_ms: i64,
    response_excerpt: Option<String>,
    delivered_at: DateTime<Utc>,
}

impl Store {
    /// Adds a subscription that starts at the feed's head: it delivers what changes from now.
    #[tracing::instrument(skip(self, content, secret))]
    pub async fn create_webhook(
        &self,
        organisation_id: Uuid,
        content: &WebhookContent,
        scopes: &[Scope],
        secret: &str,
    ) -> StoreResult<Webhook> {
        let id = super::ids::new_id(super::ids::Kind::Webhook);
        let at = now();
        on_pool!(self.writer(), |p| {
            sqlx::query(
            "insert into webhook_subscriptions
                (id, organisation_id, url, types, operations, scopes, description, enabled, secret, cursor,
                 next_attempt_at, created_at, updated_at, version)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, (select coalesce(max(seq), 0) from changes), $10, $10, $10, 1)"
        )
        .bind(id)
        .bind(organisation_id)
        .bind(&content.url)
        .bind(join(&content.types, ResourceType::as_str))
        .bind(join(&content.operations, Operation::as_str))
        .bind(join(scopes, Scope::as_str))
        .bind(&content.description)
        .bind(content.enabled)
        .bind(secret)
        .bind(at)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        self.get_webhook(id).await
    }

    /// The subscription `id` after a write that touched `n` rows (none: it is gone).
    async fn reread(&self, id: Uuid, n: u64) -> StoreResult<Webhook> {
        if n == 0 { Err(StoreError::NotFound) } else { self.get_webhook(id).await }
    }

    pub async fn get_webhook(&self, id: Uuid) -> StoreResult<Webhook> {
        let sql = sqlx::AssertSqlSafe(format!("select {COLUMNS} from webhook_subscriptions where id = $1"));
        let row: Option<WebhookRow> =
            on_pool!(self.reader(), |p| sqlx::query_as(sql).bind(id).fetch_optional(p).await)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// An organisation's subscriptions, oldest first.
    pub async fn list_webhooks(&self, organisation_id: Uuid) -> StoreResult<Vec<Webhook>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from webhook_subscriptions where organisation_id = $1 order by id"
        ));
        let rows: Vec<WebhookRow> =
            on_pool!(self.reader(), |p| sqlx::query_as(sql).bind(organisation_id).fetch_all(p).await)?;
        rows.into_iter().map(Webhook::try_from).collect()
    }

    /// Replaces what a subscription asks for, if it is still at `version` (when given).
    /// Enabling it again clears the failures and the reason it was disabled.
    #[tracing::instrument(skip(self, content))]
    pub async fn update_webhook(
        &self,
        id: Uuid,
        content: &WebhookContent,
        scopes: &[Scope],
        version: Option<i64>,
    ) -> StoreResult<Webhook> {
        let at = now();
        let n = on_pool!(self.writer(), |p| sqlx::query(
            "update webhook_subscriptions set
                url = $2, types = $3, operations = $4, scopes = $5, description = $6,
                attempt = case when $7 and not enabled then 0 else attempt end,
                failing_since = case when $7 and not enabled then null else failing_since end,
                next_attempt_at = case when $7 and not enabled then $8 else next_attempt_at end,
                disabled_reason = case when $7 then null else disabled_reason end,
                enabled = $7, updated_at = $8, version = version + 1
             where id = $1 and ($9 is null or version = $9)"
        )
        .bind(id)
        .bind(&content.url)
        .bind(join(&content.types, ResourceType::as_str))
        .bind(join(&content.operations, Operation::as_str))
        .bind(join(scopes, Scope::as_str))
        .bind(&content.description)
        .bind(content.enabled)
        .bind(at)
        .bind(version)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        if n == 0 {
            let current = self.get_webhook(id).await?;
            return Err(StoreError::VersionMismatch { current: current.version });
        }
        self.get_webhook(id).await
    }

    pub async fn delete_webhook(&self, id: Uuid) -> StoreResult<()> {
        let n = super::execute!(self.writer(), "delete from webhook_subscriptions where id = $1", id)?;
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// A new signing secret; the current one keeps signing too until `overlap_until`.
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secret: &str,
        overlap_until: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let n = super::execute!(
            self.writer(),
            "update webhook_subscriptions set previous_secret = secret, previous_until = $3, secret = $2,
                    updated_at = $4, version = version + 1
             where id = $1",
            id,
            secret,
            overlap_until,
            now()
        )?;
        self.reread(id, n).await
    }

    /// Delivers again everything from `cursor` on (the last change before the point in
    /// time to replay from), and clears any failures.
    pub async fn rewind_webhook(&self, id: Uuid, from: DateTime<Utc>) -> StoreResult<Webhook> {
        let at = now();
        let n = super::execute!(
            self.writer(),
            "update webhook_subscriptions set
                cursor = coalesce((select min(seq) - 1 from changes where changed_at >= $2),
                                  (select coalesce(max(seq), 0) from changes)),
                attempt = 0, failing_since = null, next_attempt_at = $3, updated_at = $3, version = version + 1
             where id = $1",
            id,
            from,
            at
        )?;
        self.reread(id, n).await
    }

    /// The secrets a subscription signs with now.
    pub async fn webhook_secrets(&self, id: Uuid) -> StoreResult<WebhookSecrets> {
        let row: Option<(String, Option<String>, Option<DateTime<Utc>>)> = on_pool!(self.reader(), |p| {
            sqlx::query_as("select secret, previous_secret, previous_until from webhook_subscriptions where id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        let (current, previous, until) = row.ok_or(StoreError::NotFound)?;
        Ok(WebhookSecrets { current, previous: previous.filter(|_| until.is_some_and(|u| u > now())) })
    }

    /// Claims up to `limit` enabled subscriptions that have something to deliver and are
    /// due, whose lease is free or expired, for `owner` until `lease_until`. On PostgreSQL
    /// rows another instance is claiming are skipped, not waited for.
    #[tracing::instrument(skip(self))]
    pub async fn claim_webhooks(
        &self,
        owner: Uuid,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let at = now();
        let sql = sqlx::AssertSqlSafe(format!(
            "update webhook_subscriptions set lease_owner = $1, lease_until = $2
             where id in (
                 select id from webhook_subscriptions
                 where enabled and next_attempt_at <= $3 and (lease_until is null or lease_until < $3)
                   and cursor < (select coalesce(max(seq), 0) from changes)
                 order by next_attempt_at limit $4 {}
             )
             returning {COLUMNS}, secret, case when previous_until > $3 then previous_secret end as previous_secret",
            if self.kind() == crate::config::DatabaseKind::Postgres { "for update skip locked" } else { "" }
        ));
        let rows: Vec<ClaimedRow> = on_pool!(self.writer(), |p| sqlx::query_as(sql)
            .bind(owner)
            .bind(lease_until)
            .bind(at)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|r| {
                Ok(Claimed {
                    webhook: r.webhook.try_into()?,
                    secrets: WebhookSecrets { current: r.secret, previous: r.previous_secret },
                })
            })
            .collect()
    }

    /// Whether any subscription may have something to deliver now (a read, so that idle
    /// instances do not write to find out).
    pub async fn webhooks_due(&self) -> StoreResult<bool> {
        let due: Option<i32> = on_pool!(self.reader(), |p| sqlx::query_scalar(
            "select 1 from webhook_subscriptions
             where enabled and next_attempt_at <= $1 and (lease_until is null or lease_until < $1)
               and cursor < (select coalesce(max(seq), 0) from changes)
             limit 1"
        )
        .bind(now())
        .fetch_optional(p)
        .await)?;
        Ok(due.is_some())
    }

    /// Gives up the lease of `id`, if `owner` holds it.
    pub async fn release_webhook(&self, id: Uuid, owner: Uuid) -> StoreResult<()> {
        super::execute!(
            self.writer(),
            "update webhook_subscriptions set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2",
            id,
            owner
        )?;
        Ok(())
    }

    /// Records attempts and what follows from them, in one transaction, if `owner` still
    /// holds the lease and the subscription is still at `version`, as claimed (false
    /// otherwise: nothing is written; a changed URL, type list or secret takes effect at the
    /// next claim, and what was delivered since the last record is sent again under it). Passing over changes the
    /// subscription does not receive is a `Done` without attempts; a test event is an
    /// attempt without an outcome (it moves nothing and needs no lease).
    #[tracing::instrument(skip(self, attempts))]
    pub async fn finish_webhook_attempts(
        &self,
        id: Uuid,
        owner: Uuid,
        version: i64,
        attempts: &[Attempt],
        outcome: Option<Outcome>,
        disabled_reason: Option<&str>,
    ) -> StoreResult<bool> {
        use super::BeginWrite;
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let at = now();
            let n = match outcome {
                // A test event moves nothing.
                None => 1,
                Some(Outcome::Done { seq, lease_until }) => sqlx::query(
                    "update webhook_subscriptions set cursor = $3, attempt = 0, failing_since = null,
                            next_attempt_at = $4, lease_until = $5
                     where id = $1 and lease_owner = $2 and enabled and version = $6",
                )
                .bind(id)
                .bind(owner)
                .bind(seq)
                .bind(at)
                .bind(lease_until)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                Some(Outcome::Retry { attempt, next_at, failing_since }) => sqlx::query(
                    "update webhook_subscriptions set attempt = $3, next_attempt_at = $4, failing_since = $5,
                            lease_owner = null, lease_until = null
                     where id = $1 and lease_owner = $2 and enabled and version = $6",
                )
                .bind(id)
                .bind(owner)
                .bind(attempt)
                .bind(next_at)
                .bind(failing_since)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                Some(Outcome::GiveUp) => sqlx::query(
                    "update webhook_subscriptions set enabled = $3, disabled_reason = $4, lease_owner = null,
                            lease_until = null, updated_at = $5, version = version + 1
                     where id = $1 and lease_owner = $2 and enabled and version = $6",
                )
                .bind(id)
                .bind(owner)
                .bind(false)
                .bind(disabled_reason)
                .bind(at)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            };
            if n == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            // In rows of eleven values: far below either database's limit per statement.
            for chunk in attempts.chunks(500) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "insert into webhook_deliveries
                        (subscription_id, message_id, event_type, seq, resource_id, attempt, status, error,
                         latency_ms, response_excerpt, delivered_at) ",
                );
                qb.push_values(chunk, |mut row, a| {
                    row.push_bind(id)
                        .push_bind(a.message_id.clone())
                        .push_bind(a.event_type.clone())
                        .push_bind(a.seq)
                        .push_bind(a.resource_id)
                        .push_bind(a.attempt)
                        .push_bind(a.status.map(i32::from))
                        .push_bind(a.error.clone())
                        .push_bind(a.latency_ms)
                        .push_bind(a.response_excerpt.clone())
                        .push_bind(a.delivered_at);
                });
                qb.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<bool, sqlx::Error>(true)
        }
        .await)
        .map_err(StoreError::from)
    }

    /// A subscription's attempts, newest first, before `before` (a delivery id) when given.
    pub async fn list_webhook_deliveries(
        &self,
        id: Uuid,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, message_id, event_type, seq, resource_id, attempt, status, error, latency_ms, response_excerpt,
                        delivered_at
                 from webhook_deliveries where subscription_id = $1 and ($2 is null or id < $2)
                 order by id desc limit $3",
            )
            .bind(id)
            .bind(before)
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| Delivery {
                id: r.id,
                attempt: Attempt {
                    message_id: r.message_id,
                    event_type: r.event_type,
                    seq: r.seq,
                    resource_id: r.resource_id,
                    attempt: r.attempt,
                    status: r.status.and_then(|s| u16::try_from(s).ok()),
                    error: r.error,
                    latency_ms: r.latency_ms,
                    response_excerpt: r.response_excerpt,
                    delivered_at: r.delivered_at,
                },
            })
            .collect())
    }

    /// Drops delivery log entries older than `before`.
    pub async fn purge_webhook_deliveries(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(super::execute!(self.writer(), "delete from webhook_deliveries where delivered_at < $1", before)?)
    }
}
