//! Webhook subscriptions: an organisation's change feed pushed to its systems, signed as
//! Standard Webhooks says, retried, logged (decision 14).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::Routes;
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::rights::Scope;
use crate::db::feed::{Operation, ResourceType};
use crate::db::webhooks::{Attempt, Delivery, Webhook, WebhookContent};
use crate::db::{Found, StoreError};
use crate::domain::Invalid;
use crate::domain::validation::{FieldError, optional_text};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, etag, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::page_cache::CachedPage;
use crate::http::pagination::{ListResponse, respond_rendered};
use crate::policy::{Action, Decision, Object, decide, webhook_scopes};
use crate::state::AppState;
use crate::webhooks::guard::{AllowedHosts, check_resolves, check_url};
use crate::webhooks::signing::new_secret;

pub const TAG_WEBHOOKS: &str = "Webhooks";

/// Subscriptions an organisation may have.
pub const MAX_PER_ORGANISATION: usize = 20;
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// The longest URL.
const URL_MAX: usize = 2000;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(send_test_event)
        .service(replay_webhook)
        .service(list_webhook_deliveries);
}

/// A webhook subscription (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8fd1",
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12",
    "url": "https://hr.zorgnet-kempen.example/hooks/vov",
    "types": ["person", "membership"],
    "operations": ["create", "update", "delete"],
    "description": "HR-systeem: personeel en lidmaatschappen",
    "enabled": true,
    "disabled_reason": null,
    "failing_since": null,
    "next_attempt_at": null,
    "previous_secret_until": null,
    "created_at": "2026-12-08T09:00:00Z",
    "updated_at": "2026-12-08T09:00:00Z",
    "version": 1
}))]
pub struct WebhookView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// Where each change is POSTed.
    pub url: String,
    /// The resource types delivered.
    pub types: Vec<ResourceType>,
    /// The operations delivered.
    pub operations: Vec<Operation>,
    pub description: String,
    /// Whether changes are delivered. A subscription that failed for three days is
    /// disabled (`disabled_reason` says why); enabling it again delivers from where it
    /// stopped.
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when deliveries fail (the run of failures now going on), if they do.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the next retry is due, while deliveries fail.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Until when deliveries are also signed with the previous secret, after a rotation.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        let failing = w.failing_since.is_some();
        Self {
            id: w.id,
            organisation_id: w.organisation_id,
            url: w.content.url,
            types: w.content.types,
            operations: w.content.operations,
            description: w.content.description,
            enabled: w.content.enabled,
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since,
            next_attempt_at: failing.then_some(w.next_attempt_at),
            previous_secret_until: w.previous_until.filter(|u| *u > Utc::now()),
            created_at: w.created_at,
            updated_at: w.updated_at,
            version: w.version,
        }
    }
}

/// A subscription and its signing secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "webhook": {
        "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8fd1", "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12",
        "url": "https://hr.zorgnet-kempen.example/hooks/vov", "types": ["person", "membership"],
        "operations": ["create", "update", "delete"], "description": "HR-systeem: personeel en lidmaatschappen",
        "enabled": true, "disabled_reason": null, "failing_since": null, "next_attempt_at": null,
        "previous_secret_until": null, "created_at": "2026-12-08T09:00:00Z", "updated_at": "2026-12-08T09:00:00Z",
        "version": 1
    },
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJx0c8xkq2m0="
}))]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// The signing secret (`whsec_` and base64), for the receiver's Standard Webhooks
    /// library. Keep it safe: it is not shown again (rotate it to get a new one).
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hr.zorgnet-kempen.example/hooks/vov-personeel",
    "types": ["person", "membership"],
    "description": "HR-systeem: personeel en lidmaatschappen"
}))]
pub struct NewWebhook {
    /// Where to POST each change: `https`, at a public address (plain `http` only to this
    /// machine, for development, where the operator allowed it); at most 2,000 characters.
    #[schema(max_length = 2000, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20]+$")]
    pub url: String,
    /// The resource types to deliver; default: every type you may subscribe to
    /// (`person` and `membership` need `people:read` or `:write` for a client,
    /// `registration` `registrations:write`, `learning_record` `learning-records:read` or
    /// `:write`; `commitment` is never delivered: commitments are their people's own).
    #[schema(min_items = 1)]
    pub types: Option<Vec<ResourceType>>,
    /// The operations to deliver; default all (`create`, `update`, `delete`).
    #[schema(min_items = 1)]
    pub operations: Option<Vec<Operation>>,
    /// What it is for, for the admins who see the list; at most 500 characters.
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// Changes to a subscription, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "HR-systeem (productie)", "enabled": true}))]
pub struct WebhookPatch {
    #[schema(max_length = 2000, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20]+$")]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub types: Option<Vec<ResourceType>>,
    #[schema(min_items = 1)]
    pub operations: Option<Vec<Operation>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<Option<String>>,
    /// `true` starts deliveries again (from where they stopped) and clears the failures.
    pub enabled: Option<bool>,
}

/// A new signing secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "secret": "whsec_Jx0c8xkq2m1g0dVqf3n0pW4k1f2C5b6a9Yy8Zz7Qq6Q=",
    "previous_secret_until": "2026-12-09T09:00:00Z"
}))]
pub struct RotatedSecret {
    /// The new secret. Deliveries are signed with it at once.
    pub secret: String,
    /// Until then deliveries carry a second signature, made with the previous secret, so
    /// receivers can switch over without missing a message.
    pub previous_secret_until: DateTime<Utc>,
}

/// Where to replay from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "2026-12-01T00:00:00Z"}))]
pub struct Replay {
    /// Deliver again every change from this moment on that the feed still holds (it holds
    /// each resource's latest change, and deletes for 30 days).
    pub from: DateTime<Utc>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 41,
    "message_id": "msg_0193a4d27c1e7b359a513f0c2b9e8fd1_1042",
    "event_type": "person.update",
    "attempt": 1,
    "status": 200,
    "error": null,
    "latency_ms": 84,
    "response_excerpt": "ok",
    "delivered_at": "2026-12-08T09:00:01Z"
}))]
pub struct WebhookDeliveryView {
    pub id: i64,
    /// The `webhook-id` header: the same on every attempt at one message.
    pub message_id: String,
    /// `person.update`, ..., or `webhook.test`.
    pub event_type: String,
    /// The attempt's number for this message (1 the first time).
    pub attempt: i32,
    /// The receiver's answer; `null` when there was none (refused, timed out).
    #[schema(value_type = Option<i32>, minimum = 100, maximum = 599)]
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    /// The first kilobyte of the answer.
    pub response_excerpt: Option<String>,
    pub delivered_at: DateTime<Utc>,
}

impl WebhookDeliveryView {
    fn new(id: i64, a: Attempt) -> Self {
        Self {
            id,
            message_id: a.message_id,
            event_type: a.event_type,
            attempt: a.attempt,
            status: a.status,
            error: a.error,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt,
            delivered_at: a.delivered_at,
        }
    }
}

impl From<Delivery> for WebhookDeliveryView {
    fn from(d: Delivery) -> Self {
        Self::new(d.id, d.attempt)
    }
}

/// The body of a delivery: Standard Webhooks' `type`, `timestamp` and `data`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "person.update",
    "timestamp": "2026-12-08T09:00:00Z",
    "data": {"type": "person", "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "version": 2, "operation": "update",
             "changed_at": "2026-12-08T09:00:00Z",
             "resource": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "view": "full", "name": "Mira Peeters",
                          "stakeholder_group": "employee", "version": 2}}
}))]
pub struct WebhookEvent {
    /// `<resource type>.<operation>`: `person.create`, `membership.delete`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the change was made.
    pub timestamp: DateTime<Utc>,
    /// The change, as `GET /v1/changes` shows it to the organisation's clients.
    pub data: crate::api::changes::ChangeView,
}

/// The body of a test delivery (`POST .../webhooks/{webhook_id}/test`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "webhook.test",
    "timestamp": "2026-12-08T09:00:00Z",
    "data": {"subscription_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8fd1",
             "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12"}
}))]
pub struct WebhookTestEvent {
    /// Always `webhook.test`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    pub data: WebhookTestData,
}

/// Which subscription a test delivery is for.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"subscription_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8fd1",
                          "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12"}))]
pub struct WebhookTestData {
    pub subscription_id: Uuid,
    pub organisation_id: Uuid,
}

/// The deliveries in the OpenAPI document (3.1 `webhooks`): what a receiver gets, with the
/// Standard Webhooks headers.
pub fn document_webhooks(doc: &mut serde_json::Value) {
    use serde_json::json;
    let header = |name: &str, description: &str, example: &str| {
        json!({"name": name, "in": "header", "required": true, "description": description,
               "schema": {"type": "string"}, "example": example})
    };
    let headers = json!([
        header(
            "webhook-id",
            "The message's id: the same on every attempt and on a replay. Drop repeats.",
            "msg_0193a4d27c1e7b359a513f0c2b9e8fd1_1042"
        ),
        header(
            "webhook-timestamp",
            "When this attempt was sent, in seconds since 1970 (UTC). Refuse old ones.",
            "1796698997"
        ),
        header(
            "webhook-signature",
            "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed \
               with the base64 after `whsec_` in the secret; space-separated, one per secret in use (two for a day \
               after a rotation). Any one that matches verifies the message.",
            "v1,LSyNQBgDIutA2fkuazQV6ga1jr1d/cx2FfrahjqcoDA="
        ),
    ]);
    let operation = |id: &str, summary: &str, description: &str, schema: &str| {
        json!({"post": {
            "tags": [TAG_WEBHOOKS],
            "operationId": id,
            "summary": summary,
            "description": description,
            "parameters": headers,
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
            "responses": {
                "200": {"description": "Delivered (any `2xx` within 10 seconds counts)."},
                "429": {"description": "Not now: retried after `Retry-After` (or the backoff)."},
                "500": {"description": "Any other answer, or none in 10 seconds, is retried with backoff for up to 3 days."}
            },
            "security": []
        }})
    };
    // The example carries the feed's own example entry, a full and valid one.
    let entry = doc.pointer("/components/schemas/ChangeView/example").cloned().unwrap_or_default();
    if let Some(example) = doc.pointer_mut("/components/schemas/WebhookEvent/example") {
        example["type"] = json!(format!(
            "{}.{}",
            entry["type"].as_str().unwrap_or_default(),
            entry["operation"].as_str().unwrap_or_default()
        ));
        example["timestamp"] = entry["changed_at"].clone();
        example["data"] = entry;
    }
    doc["webhooks"] = json!({
        "change": operation(
            "receive_change",
            "A change, delivered",
            "What a subscription (`POST /v1/organisations/{id}/webhooks`) POSTs to its URL for each change it \
             receives, in feed order, signed as Standard Webhooks says.",
            "WebhookEvent"),
        "test": operation(
            "receive_test_event",
            "A test event, delivered",
            "What `POST /v1/organisations/{id}/webhooks/{webhook_id}/test` sends.",
            "WebhookTestEvent"),
    });
}

/// A page of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

/// The caller's right to an organisation's subscriptions: 404 when it may not know of
/// them (another organisation's client) or the organisation does not exist, 403 when it
/// may not manage them.
async fn managed(caller: &Caller, state: &AppState, organisation_id: Uuid) -> Result<Access> {
    let access = Access::of(caller);
    let no_org = || ApiError::not_found(format!("No organisation with id {organisation_id}."));
    match decide(Some(&access), Action::Change, &Object::Webhooks { organisation: organisation_id }) {
        Decision::Hidden => return Err(no_org()),
        Decision::Forbidden => {
            return Err(ApiError::Forbidden(
                "Only the organisation's admins, its integration clients with `webhooks:write` and facilitators \
                 manage its webhooks."
                    .into(),
            ));
        }
        Decision::Allow => {}
    }
    state.store.get_organisation(organisation_id).await.or_not_found(no_org)?;
    Ok(access)
}

/// The caller's right to the organisation's subscription at `path` (as [`managed`]), and
/// the subscription, or 404.
async fn managed_webhook(caller: &Caller, state: &AppState, path: (Uuid, Uuid)) -> Result<(Access, Webhook)> {
    let (organisation_id, id) = path;
    let access = managed(caller, state, organisation_id).await?;
    let missing = || ApiError::not_found(format!("No webhook with id {id} in this organisation."));
    let webhook = state
        .store
        .get_webhook(id)
        .await
        .found()?
        .filter(|w| w.organisation_id == organisation_id)
        .ok_or_else(missing)?;
    Ok((access, webhook))
}

/// Checks a URL: its form, then where its name resolves (a name that does not resolve
/// yet is taken; every delivery checks again).
async fn checked_url(state: &AppState, raw: &str, errors: &mut Invalid) -> Option<String> {
    let raw = raw.trim();
    if raw.chars().count() > URL_MAX {
        errors.errors.push(FieldError::new("/url", format!("must be at most {URL_MAX} characters")));
        return None;
    }
    let allowed = AllowedHosts::parse(&state.settings.webhook_allowed_hosts);
    let url = match check_url(raw, &allowed) {
        Ok(url) => url,
        Err(why) => {
            errors.errors.push(FieldError::new("/url", why.to_string()));
            return None;
        }
    };
    let lookup = tokio::time::timeout(std::time::Duration::from_secs(2), check_resolves(&url, &allowed)).await;
    match lookup {
        Ok(Err(why @ crate::webhooks::guard::Refused::ResolvesPrivate(_))) => {
            errors.errors.push(FieldError::new("/url", why.to_string()));
            None
        }
        _ => Some(url.to_string()),
    }
}

/// The subscription's types, checked against what the caller may subscribe to; `None`
/// (left out) is every type it may.
fn checked_types(
    access: &Access,
    types: Option<Vec<ResourceType>>,
    errors: &mut Invalid,
) -> Option<(Vec<ResourceType>, Vec<Scope>)> {
    let all = types.is_none();
    let mut types = types.unwrap_or_else(|| ResourceType::ALL.to_vec());
    types.sort();
    types.dedup();
    if all {
        types.retain(|t| webhook_scopes(access, &[*t]).is_ok());
    }
    if types.is_empty() {
        errors.errors.push(FieldError::new("/types", "must name at least one resource type"));
        return None;
    }
    match webhook_scopes(access, &types) {
        Ok(scopes) => Some((types, scopes)),
        Err(ResourceType::Commitment) => {
            errors.errors.push(FieldError::new(
                "/types",
                "`commitment` is never delivered: commitments are their people's own, and no organisation's client \
                 reads them",
            ));
            None
        }
        Err(t) => {
            errors.errors.push(FieldError::new(
                "/types",
                format!("`{}` needs a scope this client does not hold (see the scopes of `types`)", t.as_str()),
            ));
            None
        }
    }
}

fn checked_operations(operations: Option<Vec<Operation>>, errors: &mut Invalid) -> Vec<Operation> {
    let mut operations = operations.unwrap_or_else(|| Operation::ALL.to_vec());
    operations.sort();
    operations.dedup();
    if operations.is_empty() {
        errors.errors.push(FieldError::new("/operations", "must name at least one operation"));
    }
    operations
}

fn checked_description(text: Option<&str>, errors: &mut Invalid) -> String {
    errors.check("/description", || optional_text(text, 500)).flatten().unwrap_or_default()
}

/// List an organisation's webhooks
///
/// Its webhook subscriptions, oldest first (an organisation has at most 20, so one page).
/// The organisation's admins, its integration clients with `webhooks:write`, and
/// facilitators.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "list_webhooks",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    responses(
        (status = 200, description = "The subscriptions.", body = ListResponse<WebhookView>),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/webhooks")]
async fn list_webhooks(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    managed(&caller, &state, id).await?;
    let data: Vec<WebhookView> = state.store.list_webhooks(id).await?.into_iter().map(WebhookView::from).collect();
    let body = serde_json::to_vec(&ListResponse { data, next_cursor: None }).map_err(anyhow::Error::from)?;
    Ok(respond_rendered(&req, &CachedPage { body: body.into(), next_cursor: None }))
}

/// Subscribe to webhooks
///
/// Every change of the chosen types that the organisation's integration clients may read
/// in the change feed (`GET /v1/changes`) is POSTed to `url`, from now on, one message
/// per change, in feed order. A subscription never receives more than the feed shows the
/// organisation: people and memberships of its members, registrations it made or for its
/// events, learning records its members shared with it, and what the network publishes.
/// When someone leaves its view (a share withdrawn, a member gone), a `delete` is
/// delivered, as in the feed.
///
/// Each POST carries the Standard Webhooks headers `webhook-id` (the same on every
/// attempt: drop repeats), `webhook-timestamp` and `webhook-signature`
/// (`v1,<base64 HMAC-SHA256>`), and the body `{"type": "person.update", "timestamp":
/// ..., "data": <the change as the feed shows it>}`. A `2xx` within 10 seconds counts as
/// delivered; anything else is retried, with exponential backoff and jitter (5 s, 10 s,
/// 20 s, ... up to 6 hours; `Retry-After` is honoured), for up to 3 days, after which the
/// subscription is disabled. Redirects are not followed.
///
/// The answer holds the signing secret, once. The organisation's admins, its integration
/// clients with `webhooks:write` (within their own read scopes), and facilitators.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "create_webhook",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Subscribed; the secret is in this answer only.", body = WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation has 20 subscriptions already.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL is not `https`, is or resolves to a private address, or a type may not be subscribed to.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/webhooks")]
async fn create_webhook(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewWebhook>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = managed(&caller, &state, id).await?;
    let body = body.0;
    let mut errors = Invalid::default();
    let url = checked_url(&state, &body.url, &mut errors).await;
    let types = checked_types(&access, body.types, &mut errors);
    let operations = checked_operations(body.operations, &mut errors);
    let description = checked_description(body.description.as_deref(), &mut errors);
    let (Some(url), Some((types, scopes))) = (url, types) else { return Err(errors.into()) };
    let content = errors.finish(|| WebhookContent {
        url,
        types,
        operations,
        description,
        enabled: body.enabled.unwrap_or(true),
    })?;
    if state.store.list_webhooks(id).await?.len() >= MAX_PER_ORGANISATION {
        return Err(ApiError::conflict(
            format!("An organisation has at most {MAX_PER_ORGANISATION} webhook subscriptions; remove one first."),
            None,
        ));
    }
    let secret = new_secret();
    let webhook = state.store.create_webhook(id, &content, &scopes, &secret).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/organisations/{id}/webhooks/{}", webhook.id)))
        .insert_header((header::ETAG, etag(webhook.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(WebhookWithSecret { webhook: webhook.into(), secret }))
}

/// Get a webhook
///
/// One subscription with its `ETag`: where it delivers, what, and whether deliveries fail.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "get_webhook",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id"), crate::http::conditional::IfNoneMatch),
    responses(
        (status = 200, description = "The subscription.", body = WebhookView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/webhooks/{webhook_id}")]
async fn get_webhook(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (_, webhook) = managed_webhook(&caller, &state, path.into_inner()).await?;
    Ok(respond_tagged(&req, webhook.version, &WebhookView::from(webhook)))
}

/// Update a webhook
///
/// Changes a subscription with a JSON Merge Patch (RFC 7396): its URL, types, operations,
/// description, or `enabled`. Enabling a disabled subscription delivers from where it
/// stopped and clears its failures. Send `If-Match` with the ETag you read to be sure
/// nobody changed it since (`412` otherwise).
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "update_webhook",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id"), IfMatch),
    request_body(content = WebhookPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = WebhookView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The subscription changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL or a type is not allowed.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/organisations/{id}/webhooks/{webhook_id}")]
async fn update_webhook(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: Json<WebhookPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (access, current) = managed_webhook(&caller, &state, path.into_inner()).await?;
    let webhook_id = current.id;
    if_match.check(current.version)?;
    let patch = body.0;
    let mut errors = Invalid::default();
    let mut content = current.content.clone();
    let mut scopes = current.scopes.clone();
    if let Some(url) = patch.url {
        content.url = checked_url(&state, &url, &mut errors).await.unwrap_or_default();
    }
    if let Some(types) = patch.types {
        if let Some((t, s)) = checked_types(&access, Some(types), &mut errors) {
            (content.types, scopes) = (t, s);
        }
    } else if let Err(t) = webhook_scopes(&access, &content.types) {
        // A client changes only subscriptions it could have made.
        errors
            .errors
            .push(FieldError::new("/types", format!("`{}` needs a scope this client does not hold", t.as_str())));
    }
    if patch.operations.is_some() {
        content.operations = checked_operations(patch.operations, &mut errors);
    }
    if let Some(description) = patch.description {
        content.description = checked_description(description.as_deref(), &mut errors);
    }
    if let Some(enabled) = patch.enabled {
        content.enabled = enabled;
    }
    let content = errors.finish(|| content)?;
    let expected = (!if_match.is_absent()).then_some(current.version);
    let webhook = match state.store.update_webhook(webhook_id, &content, &scopes, expected).await {
        Err(StoreError::NotFound) => return Err(ApiError::not_found(format!("No webhook with id {webhook_id}."))),
        other => other?,
    };
    Ok(tagged(webhook.version, &WebhookView::from(webhook)))
}

/// Delete a webhook
///
/// Ends the subscription: nothing more is delivered, and its delivery log goes with it.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}/webhooks/{webhook_id}")]
async fn delete_webhook(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (_, webhook) = managed_webhook(&caller, &state, path.into_inner()).await?;
    let webhook_id = webhook.id;
    state.store.delete_webhook(webhook_id).await.or_not_found(|| ApiError::not_found("No such webhook."))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook's secret
///
/// Makes a new signing secret and answers it, once. For 24 hours every delivery carries
/// two signatures in `webhook-signature`, one with each secret, so the receiver can
/// switch to the new secret without missing a message; then the old one stops.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "rotate_webhook_secret",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The new secret, in this answer only.", body = RotatedSecret),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/webhooks/{webhook_id}/secret")]
async fn rotate_webhook_secret(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (_, webhook) = managed_webhook(&caller, &state, path.into_inner()).await?;
    let webhook_id = webhook.id;
    let secret = new_secret();
    let until = crate::db::now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    state
        .store
        .rotate_webhook_secret(webhook_id, &secret, until)
        .await
        .or_not_found(|| ApiError::not_found("No such webhook."))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RotatedSecret { secret, previous_secret_until: until }))
}

/// Send a test event
///
/// POSTs a `webhook.test` event to the subscription's URL now, signed like every
/// delivery, whether or not the subscription is enabled, and answers how it went (the
/// receiver's status, or why there was none). The attempt is in the delivery log; it does
/// not change what is delivered next.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "send_webhook_test",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The attempt, delivered or not (see `status` and `error`).", body = WebhookDeliveryView),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/webhooks/{webhook_id}/test")]
async fn send_test_event(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (_, webhook) = managed_webhook(&caller, &state, path.into_inner()).await?;
    let secrets = state.store.webhook_secrets(webhook.id).await?;
    let attempt = crate::webhooks::worker::send_test(&state, &webhook, &secrets).await?;
    let logged = state.store.list_webhook_deliveries(webhook.id, None, 1).await?;
    let id = logged.first().filter(|d| d.attempt.message_id == attempt.message_id).map_or(0, |d| d.id);
    Ok(HttpResponse::Ok().json(WebhookDeliveryView::new(id, attempt)))
}

/// Replay a webhook
///
/// Delivers again, in order, every change from a moment on that the feed still holds,
/// and clears the subscription's failures: for a receiver that lost data. The feed holds
/// each resource's latest change (and deletes for 30 days), so a replay sends the current
/// state of what changed since then, not every version in between.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "replay_webhook",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id")),
    request_body = Replay,
    responses(
        (status = 200, description = "Replaying; the subscription as it now is.", body = WebhookView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/webhooks/{webhook_id}/replay")]
async fn replay_webhook(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<Replay>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (_, webhook) = managed_webhook(&caller, &state, path.into_inner()).await?;
    let webhook_id = webhook.id;
    let webhook = state
        .store
        .rewind_webhook(webhook_id, body.0.from)
        .await
        .or_not_found(|| ApiError::not_found("No such webhook."))?;
    Ok(tagged(webhook.version, &WebhookView::from(webhook)))
}

const DELIVERIES_QUERY: &str = "webhook-deliveries";

/// List a webhook's deliveries
///
/// Every attempt, newest first: the message, the receiver's status and the first kilobyte
/// of its answer, or why there was none, and how long it took. Kept 30 days.
#[utoipa::path(
    tag = TAG_WEBHOOKS,
    operation_id = "list_webhook_deliveries",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("webhook_id" = Uuid, Path, description = "The subscription's id"), DeliveriesQuery),
    responses(
        (status = 200, description = "A page of attempts, newest first.", body = ListResponse<WebhookDeliveryView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "Only the organisation's admins, its clients with `webhooks:write` and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/webhooks/{webhook_id}/deliveries")]
async fn list_webhook_deliveries(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    query: web::Query<DeliveriesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (_, webhook) = managed_webhook(&caller, &state, path.into_inner()).await?;
    let webhook_id = webhook.id;
    let query = query.into_inner();
    let limit = match query.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(n) => return Err(ApiError::BadRequest(format!("`limit` must be between 1 and 200 (got {n})."))),
    };
    let bound = format!("{DELIVERIES_QUERY}/{webhook_id}");
    let before: Option<i64> =
        query.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| state.cursors.decode_value(&bound, c)).transpose()?;
    let mut rows = state.store.list_webhook_deliveries(webhook_id, before, limit + 1).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = rows.last().filter(|_| more).map(|d| state.cursors.encode_value(&bound, &d.id));
    let data: Vec<WebhookDeliveryView> = rows.into_iter().map(WebhookDeliveryView::from).collect();
    let body =
        serde_json::to_vec(&ListResponse { data, next_cursor: next_cursor.clone() }).map_err(anyhow::Error::from)?;
    Ok(respond_rendered(&req, &CachedPage { body: body.into(), next_cursor }))
}
