//! Integration clients: the machine identities (HR systems, partner back ends) that act for
//! one organisation within the scopes its admins grant. A secret is shown once.

use crate::api::Routes;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{CLIENT_SECRET_PREFIX, new_secret};
use crate::auth::Caller;
use crate::auth::SCIM_TOKEN_PREFIX;
use crate::auth::access::Access;
use crate::auth::password;
use crate::auth::rights::Scope;
use crate::db::Found;
use crate::db::accounts::ClientSummary;
use crate::domain::Invalid;
use crate::domain::validation::line;
use crate::error::{ApiError, Problem, Result};
use crate::http::json::Json;
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_clients)
        .service(create_client)
        .service(rotate_client_secret)
        .service(revoke_client)
        .service(make_scim_token)
        .service(remove_scim_token);
}

/// An integration client (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d14",
    "name": "SD Worx HR sync",
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12",
    "scopes": ["people:read", "people:write"],
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "revoked_at": null
}))]
pub struct ClientView {
    /// The OAuth `client_id`.
    pub id: Uuid,
    pub name: String,
    pub organisation_id: Option<Uuid>,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was revoked; a revoked client gets no tokens.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ClientSummary> for ClientView {
    fn from(c: ClientSummary) -> Self {
        Self {
            id: c.id,
            name: c.name,
            organisation_id: c.organisation_id,
            scopes: c.scopes,
            created_at: c.created_at,
            updated_at: c.updated_at,
            revoked_at: c.revoked_at,
        }
    }
}

/// A client and its secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client": {
        "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d14", "name": "SD Worx HR sync",
        "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "scopes": ["people:read", "people:write"],
        "created_at": "2026-11-27T09:00:00Z", "updated_at": "2026-11-27T09:00:00Z", "revoked_at": null
    },
    "client_secret": "vov_cs_Jx0c8xkq2m1g0dVqf3n0pW4k1f2C5b6a9Yy8Zz7Qq6Q"
}))]
pub struct ClientWithSecret {
    pub client: ClientView,
    /// Keep it safe: it is stored only as a hash and cannot be shown again.
    pub client_secret: String,
}

/// A new integration client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "SD Worx HR sync", "scopes": ["people:read", "people:write"]}))]
pub struct NewClient {
    /// What the client is, for the admins who see the list; 1 to 120 characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// What it may do, within the organisation.
    pub scopes: Vec<Scope>,
}

/// Only the organisation's admins (people) and facilitators manage its clients.
async fn managed(caller: &Caller, state: &AppState, organisation_id: Uuid) -> Result<()> {
    let access = Access::of(caller);
    let no_org = || ApiError::not_found(format!("No organisation with id {organisation_id}."));
    match &access {
        Access::Client { organisation_id: own, .. } if *own != Some(organisation_id) => return Err(no_org()),
        Access::Client { .. } => {
            return Err(ApiError::Forbidden("Integration clients do not manage clients.".into()));
        }
        _ => {}
    }
    state.store.get_organisation(organisation_id).await.or_not_found(no_org)?;
    let admin = access.is_facilitator()
        || matches!(&access, Access::Person { admin_of, .. } if admin_of.contains(&organisation_id));
    if admin { Ok(()) } else { Err(ApiError::Forbidden("Only the organisation's admins and facilitators.".into())) }
}

async fn client_of(state: &AppState, organisation_id: Uuid, id: Uuid) -> Result<ClientSummary> {
    // Only "not found" is a 404: an outage stays a 503.
    state
        .store
        .get_client_summary(id)
        .await
        .found()?
        .filter(|c| c.organisation_id == Some(organisation_id))
        .ok_or_else(|| ApiError::not_found(format!("No client with id {id} in this organisation.")))
}

/// List an organisation's integration clients
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_clients",
    description = "The organisation's integration clients, revoked ones included. Its admins and facilitators.",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    responses(
        (status = 200, description = "The clients.", body = Vec<ClientView>),
        (status = 403, description = "Only the organisation's admins and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/clients")]
async fn list_clients(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let id = id.into_inner();
    managed(&caller, &state, id).await?;
    let clients: Vec<ClientView> = state.store.list_clients(id).await?.into_iter().map(ClientView::from).collect();
    Ok(HttpResponse::Ok().json(clients))
}

/// Create an integration client
///
/// Creates a client that acts for this organisation with the given scopes. The answer
/// holds its secret, once: it is stored only as a hash. The client signs in with
/// `grant_type=client_credentials`. The organisation's admins and facilitators; only
/// facilitators grant `insights:read` (the network's figures for policy, for example for a
/// policy body's dashboard).
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_client",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = NewClient,
    responses(
        (status = 201, description = "Created; the secret is in this answer only.", body = ClientWithSecret,
            headers(("Location" = String, description = "The organisation's clients"))),
        (status = 403, description = "Only the organisation's admins and facilitators; `insights:read` only facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/clients")]
async fn create_client(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewClient>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    managed(&caller, &state, id).await?;
    let body = body.0;
    let name = line(&body.name, 120).map_err(|e| Invalid::one("/name", e))?;
    let mut scopes = body.scopes;
    scopes.sort();
    scopes.dedup();
    if scopes.contains(&Scope::InsightsRead) && !Access::of(&caller).is_facilitator() {
        return Err(ApiError::Forbidden(
            "Only facilitators grant `insights:read`: it reads the network's figures, not the organisation's.".into(),
        ));
    }
    let secret = new_secret(CLIENT_SECRET_PREFIX);
    let hash = password::hash(secret.clone()).await?;
    let client_id = state.store.create_client(&name, Some(id), &scopes, &hash).await?;
    let client = state.store.get_client_summary(client_id).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/organisations/{id}/clients")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientWithSecret { client: client.into(), client_secret: secret }))
}

/// Rotate a client's secret
///
/// Makes a new secret; the old one stops working at once (tokens already issued run out
/// within 15 minutes). The answer holds the new secret, once.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "rotate_client_secret",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("client_id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 200, description = "The new secret, in this answer only.", body = ClientWithSecret),
        (status = 403, description = "Only the organisation's admins and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/clients/{client_id}/secret")]
async fn rotate_client_secret(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, client_id) = path.into_inner();
    managed(&caller, &state, id).await?;
    let client = client_of(&state, id, client_id).await?;
    if client.revoked_at.is_some() {
        return Err(ApiError::conflict("The client is revoked; create a new one.", None));
    }
    let secret = new_secret(CLIENT_SECRET_PREFIX);
    let hash = password::hash(secret.clone()).await?;
    state.store.rotate_client_secret(client_id, &hash).await?;
    let client = state.store.get_client_summary(client_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientWithSecret { client: client.into(), client_secret: secret }))
}

/// Revoke a client
///
/// The client gets no more tokens (tokens already issued run out within 15 minutes). It
/// stays in the list, marked revoked.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "revoke_client",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("client_id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 204, description = "Revoked (or it already was)."),
        (status = 403, description = "Only the organisation's admins and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}/clients/{client_id}")]
async fn revoke_client(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, client_id) = path.into_inner();
    managed(&caller, &state, id).await?;
    let client = client_of(&state, id, client_id).await?;
    if client.revoked_at.is_none() {
        state.store.revoke_client(client_id).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A client's static SCIM token, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d14",
    "scim_token": "vov_scim_Jx0c8xkq2m1g0dVqf3n0pW4k1f2C5b6a9Yy8Zz7Qq6Q",
    "created_at": "2026-12-07T09:00:00Z",
    "scim_base_url": "/scim/v2"
}))]
pub struct ScimToken {
    pub client_id: Uuid,
    /// The identity provider's "secret token": `Authorization: Bearer <scim_token>` under
    /// `/scim/v2`. Keep it safe: it is stored only as a hash and cannot be shown again.
    pub scim_token: String,
    pub created_at: DateTime<Utc>,
    /// Where SCIM is, below the service's address (the identity provider's "tenant URL" is
    /// the service's address followed by this).
    pub scim_base_url: String,
}

/// Make a client's SCIM token
///
/// For identity providers that take one static token (Entra ID's "Secret Token", Okta's
/// "HTTP Header" authentication): a token that stands for this client under `/scim/v2`
/// only, with the `scim` scope alone. Making a new one replaces the previous one at once
/// (on other instances of the service, within a second).
/// The client must hold the `scim` scope. The organisation's admins and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "make_scim_token",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("client_id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 201, description = "The token, in this answer only.", body = ScimToken),
        (status = 403, description = "Only the organisation's admins and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client is revoked, or does not hold the `scim` scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/clients/{client_id}/scim-token")]
async fn make_scim_token(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, client_id) = path.into_inner();
    managed(&caller, &state, id).await?;
    let client = client_of(&state, id, client_id).await?;
    if client.revoked_at.is_some() {
        return Err(ApiError::conflict("The client is revoked; create a new one.", None));
    }
    if !client.scopes.contains(&Scope::Scim) {
        return Err(ApiError::conflict("The client does not hold the `scim` scope; create one that does.", None));
    }
    let token = new_secret(SCIM_TOKEN_PREFIX);
    let hash = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes());
    let created_at = state.store.set_scim_token(client_id, Some(&hash)).await?.unwrap_or_else(Utc::now);
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, format!("/v1/organisations/{id}/clients")))
        .json(ScimToken {
            client_id,
            scim_token: token,
            created_at,
            scim_base_url: crate::api::scim::BASE_PATH.into(),
        }))
}

/// Remove a client's SCIM token
///
/// The token stops working at once (on other instances of the service, within a second);
/// the client and its access tokens stay.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "remove_scim_token",
    params(("id" = Uuid, Path, description = "The organisation's id"), ("client_id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 204, description = "Removed (or there was none)."),
        (status = 403, description = "Only the organisation's admins and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}/clients/{client_id}/scim-token")]
async fn remove_scim_token(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, client_id) = path.into_inner();
    managed(&caller, &state, id).await?;
    let client = client_of(&state, id, client_id).await?;
    if client.revoked_at.is_none() {
        state.store.set_scim_token(client_id, None).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
