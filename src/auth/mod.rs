//! Authentication: access tokens the service signs itself, passwords and client secrets,
//! and the `Caller` extractor that tells handlers who is calling.

pub mod access;
pub mod jwt;
pub mod password;
pub mod rights;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use rights::{Role, Scope};

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Person(Uuid),
    Client(Uuid),
}

/// The authenticated caller of a request. Extracting it answers 401 when the request has
/// no valid bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: Subject,
    pub roles: Vec<Role>,
    pub scopes: Vec<Scope>,
    /// The organisation an integration client acts for.
    pub organisation_id: Option<Uuid>,
    /// The organisations a person administers now (active `org_admin` memberships), read
    /// live with their role when the request is authenticated; empty for clients.
    pub admin_of: Vec<Uuid>,
}

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// 403 unless the caller has `role`.
    pub fn require_role(&self, role: Role) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("This needs the {} role.", role.as_str())))
        }
    }

    /// 403 unless the caller was granted `scope`.
    pub fn require_scope(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("This needs the `{}` scope.", scope.as_str())))
        }
    }

    /// The person behind the token, if it is a person's token.
    pub fn person_id(&self) -> Option<Uuid> {
        match self.subject {
            Subject::Person(id) => Some(id),
            Subject::Client(_) => None,
        }
    }

    /// A stable key for what this caller owns (idempotency keys are per caller).
    pub fn owner_key(&self) -> String {
        match self.subject {
            Subject::Person(id) => format!("person:{id}"),
            Subject::Client(id) => format!("client:{id}"),
        }
    }
}

/// The bearer token of a request: `None` without an `Authorization` header, an error when
/// the header is there but is not a bearer token.
pub fn bearer_token(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("The Authorization header is not valid.".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized(
            "Use `Authorization: Bearer <access token>`; get a token from POST /v1/auth/token.".into(),
        )),
    }
}

/// The caller of a request, or `None` when it carries no token. A token that is present
/// but invalid is always a 401, never a silent downgrade to anonymous.
pub fn authenticate(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer_token(req)? else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    state.tokens.verify(token).map(Some)
}

/// What a static SCIM token starts with (an identity provider's "secret token").
pub const SCIM_TOKEN_PREFIX: &str = "vov_scim_";

/// The caller of a SCIM request (`/scim/v2`), or `None` without a token: an access token as
/// anywhere else, or a static SCIM token, which stands for its integration client with the
/// `scim` scope alone and works nowhere but under `/scim/v2`. Checked live as
/// [`still_valid`] checks every token.
pub async fn scim_caller(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer_token(req)? else { return Ok(None) };
    let caller = if token.starts_with(SCIM_TOKEN_PREFIX) {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
        let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).into();
        match state.store.client_of_scim_token(&hash).await? {
            Some((id, organisation_id)) => Caller {
                subject: Subject::Client(id),
                roles: vec![Role::Integration],
                scopes: vec![Scope::Scim],
                organisation_id,
                admin_of: vec![],
            },
            None => {
                return Err(ApiError::Unauthorized("This SCIM token is not valid (it may have been replaced).".into()));
            }
        }
    } else {
        authenticate(req)?.ok_or_else(|| ApiError::Unauthorized("This needs a bearer token.".into()))?
    };
    still_valid(req, Some(caller)).await
}

/// A token holds only while what it speaks for does, and grants no more than that has
/// now. A person's role and the organisations they administer are read live: a demoted
/// facilitator is a member from their next request, a deleted person's token answers 401.
/// A revoked client (or one whose organisation was deleted) is refused at once on the
/// instance that revoked it and within a second on others (its rights are kept that long,
/// see [`crate::db::rights_cache`]), not when its token expires, and a token never carries
/// more scopes than its client has now.
pub(crate) async fn still_valid(req: &HttpRequest, caller: Option<Caller>) -> Result<Option<Caller>, ApiError> {
    let Some(mut caller) = caller else { return Ok(None) };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let id = match caller.subject {
        Subject::Person(id) => {
            return match state.store.person_rights(id, state.today()).await? {
                Some((role, admin_of)) => {
                    caller.roles = vec![role.role()];
                    caller.admin_of = admin_of;
                    Ok(Some(caller))
                }
                None => Err(ApiError::Unauthorized("This account no longer exists; its tokens no longer work.".into())),
            };
        }
        Subject::Client(id) => id,
    };
    match state.store.client_grant(id, state.today()).await? {
        Some(client) if !client.revoked && client.organisation_id == caller.organisation_id => {
            caller.scopes.retain(|s| client.scopes.contains(s));
            Ok(Some(caller))
        }
        _ => Err(ApiError::Unauthorized("This client has been revoked; its tokens no longer work.".into())),
    }
}

fn required(caller: Option<Caller>) -> Result<Caller, ApiError> {
    caller.ok_or_else(|| {
        ApiError::Unauthorized(
            "This needs a bearer token: `Authorization: Bearer <access token>` from POST /v1/auth/token.".into(),
        )
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        let req = req.clone();
        Box::pin(async move { required(still_valid(&req, caller?).await?) })
    }
}

/// The caller if the request is authenticated; anonymous requests are allowed.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        let req = req.clone();
        Box::pin(async move { still_valid(&req, caller?).await.map(MaybeCaller) })
    }
}
