//! The OAuth 2.0 token endpoint (RFC 6749) and token revocation (RFC 7009).

use crate::api::Routes;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, post, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Subject;
use crate::auth::jwt::Grant;
use crate::auth::password;
use crate::auth::rights::{Role, Scope};
use crate::db::accounts::RefreshOutcome;
use crate::domain::account::Email;
use crate::http::client_address::client_address;
use crate::http::json::read_body;
use crate::http::rate_limit::{Decision, RateLimiter};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(post_token).service(post_revoke);
}

/// Prefix of refresh tokens (recognisable by secret scanners).
pub const REFRESH_TOKEN_PREFIX: &str = "vov_rt_";
/// Prefix of client secrets.
pub const CLIENT_SECRET_PREFIX: &str = "vov_cs_";

/// A token request (RFC 6749 §4.3, §4.4, §6), form-encoded. Which fields are needed
/// depends on `grant_type`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `password` (people), `client_credentials` (integration clients) or `refresh_token`.
    #[schema(example = "password")]
    pub grant_type: String,
    /// `password` grant: the person's e-mail address.
    #[schema(example = "facilitator@vov.example")]
    pub username: Option<String>,
    /// `password` grant: the person's password.
    #[schema(example = "lerenderwijs-demo", format = Password)]
    pub password: Option<String>,
    /// `refresh_token` grant: the refresh token from an earlier response; it is spent.
    #[schema(example = "vov_rt_3q2-7wE...")]
    pub refresh_token: Option<String>,
    /// `client_credentials` grant: the client id (or use HTTP Basic authentication).
    #[schema(example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11")]
    pub client_id: Option<String>,
    /// `client_credentials` grant: the client secret (or use HTTP Basic authentication).
    #[schema(example = "vov_cs_...", format = Password)]
    pub client_secret: Option<String>,
    /// `client_credentials` grant: space-separated scopes, a subset of the client's
    /// (default: all of them). People's tokens carry no scopes.
    #[schema(example = "people:read")]
    pub scope: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6IjNmYTk1YzE0IiwidHlwIjoiYXQrand0In0...",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "vov_rt_Jx0c8xkq2m1g0dVqf3n0pW4k1f2C5b6a9Yy8Zz7Qq6Q"
}))]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// For people: spend it with the `refresh_token` grant for a new pair. Single use.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// The granted scopes, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_grant", "error_description": "The e-mail address or password is wrong."}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, or `invalid_scope`.
    pub error: &'static str,
    /// What went wrong, for the developer.
    pub error_description: String,
}

/// A revocation request (RFC 7009 §2.1).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The refresh token to revoke; every token rotated from the same sign-in is revoked with it.
    #[schema(min_length = 1, example = "vov_rt_Jx0c8xkq2m1g0dVqf3n0pW4k1f2C5b6a9Yy8Zz7Qq6Q")]
    pub token: String,
    /// `refresh_token` or `access_token` (optional; access tokens simply expire).
    #[schema(example = "refresh_token")]
    pub token_type_hint: Option<String>,
}

/// An RFC 6749 error on its way out.
#[derive(Debug)]
struct OAuthFailure {
    status: StatusCode,
    error: &'static str,
    description: String,
    headers: Vec<(header::HeaderName, String)>,
}

impl OAuthFailure {
    fn response(self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="vov""#));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // As every other 503 of the API; a more precise wait follows in `headers`.
            res.insert_header((header::RETRY_AFTER, "5"));
        }
        for (name, value) in self.headers {
            res.insert_header((name, value));
        }
        res.json(OAuthError { error: self.error, error_description: self.description })
    }
}

fn oauth_error(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthFailure {
    OAuthFailure { status, error, description: description.into(), headers: vec![] }
}

/// Too many password checks in flight: come back in a second.
fn busy() -> OAuthFailure {
    let mut f = oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "The service is checking many sign-ins right now; retry in a moment.",
    );
    f.headers.push((header::RETRY_AFTER, "1".into()));
    f
}

/// The per-account limiter's key for a person's sign-in name (their e-mail address, in any
/// case): shared by the password grant and `current_password` checks. A hash, so that the
/// limiter's memory holds no e-mail address (not even of someone since erased).
pub fn account_limit_key(email: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(email.to_lowercase().as_bytes());
    format!("person:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// 429 unless `key` has attempts left in `limiter`.
fn within_limit(limiter: &RateLimiter, key: &str) -> Result<(), OAuthFailure> {
    match limiter.check(key) {
        Decision::Allowed { .. } => Ok(()),
        decision @ Decision::Limited { retry_after } => {
            let mut f = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                format!("Too many sign-in attempts; retry in {retry_after} seconds."),
            );
            f.headers.push((header::RETRY_AFTER, retry_after.to_string()));
            f.headers.push((header::HeaderName::from_static("ratelimit-policy"), limiter.policy()));
            f.headers.push((header::HeaderName::from_static("ratelimit"), limiter.state(decision)));
            Err(f)
        }
    }
}

fn invalid_request(description: impl Into<String>) -> OAuthFailure {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Reads a form body into its parameters, refusing repeated ones (RFC 6749 §3.2).
async fn read_form(
    req: &HttpRequest,
    payload: &mut actix_web::dev::Payload,
    limit: usize,
) -> Result<Vec<(String, String)>, OAuthFailure> {
    let form = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !form {
        return Err(invalid_request("Send the parameters as application/x-www-form-urlencoded."));
    }
    let body = read_body(req, payload, limit)
        .await
        .map_err(|_| invalid_request(format!("The request body is larger than {limit} bytes.")))?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&body).map_err(|_| invalid_request("The form body is not valid."))?;
    // Known parameters must not repeat (RFC 6749 §3.2); unknown ones are ignored.
    const KNOWN: [&str; 9] = [
        "grant_type",
        "username",
        "password",
        "refresh_token",
        "client_id",
        "client_secret",
        "scope",
        "token",
        "token_type_hint",
    ];
    for (i, (name, _)) in pairs.iter().enumerate() {
        if KNOWN.contains(&name.as_str()) && pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(invalid_request(format!("`{name}` is given more than once.")));
        }
    }
    Ok(pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1) or from the body, not both.
fn client_credentials(req: &HttpRequest, pairs: &[(String, String)]) -> Result<Option<(String, String)>, OAuthFailure> {
    let basic = match req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(value) => {
            let (scheme, encoded) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "Authenticate the client with HTTP Basic or client_id and client_secret in the body.",
                ));
            }
            let decoded = STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok()).and_then(|s| {
                let (id, secret) = s.split_once(':')?;
                let id: String = serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={id}")).ok()?.pop()?.1;
                let secret: String =
                    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={secret}")).ok()?.pop()?.1;
                Some((id, secret))
            });
            match decoded {
                Some(c) => Some(c),
                None => {
                    return Err(oauth_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "The Basic credentials are malformed.",
                    ));
                }
            }
        }
        None => None,
    };
    let body = match (param(pairs, "client_id"), param(pairs, "client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_string(), secret.to_string())),
        _ => None,
    };
    match (basic, body) {
        (Some(_), Some(_)) => Err(invalid_request("Use one way to authenticate the client, not two.")),
        (basic, body) => Ok(basic.or(body)),
    }
}

/// The SHA-256 of an opaque token: what is stored instead of the token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new random opaque secret with a recognisable prefix.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn token_response(
    access_token: String,
    expires_in: i64,
    refresh_token: Option<String>,
    scopes: &[Scope],
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token,
            scope: (!scopes.is_empty()).then(|| Scope::join(scopes)),
        })
}

fn internal(e: &dyn std::fmt::Display) -> OAuthFailure {
    tracing::error!(error = %e, "issuing tokens failed");
    oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Tokens could not be issued; retry.")
}

fn refresh_expiry(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    crate::db::now()
        + chrono::Duration::seconds(i64::try_from(state.settings.refresh_token_ttl_secs).unwrap_or(i64::MAX / 2))
}

fn person_access_token(state: &AppState, person_id: Uuid, role: Role) -> Result<String, OAuthFailure> {
    state
        .tokens
        .issue(&Grant { subject: Subject::Person(person_id), roles: vec![role], scopes: vec![], organisation_id: None })
        .map_err(|e| internal(&e))
}

async fn password_grant(state: &AppState, pairs: &[(String, String)]) -> Result<HttpResponse, OAuthFailure> {
    let (Some(username), Some(secret)) = (param(pairs, "username"), param(pairs, "password")) else {
        return Err(invalid_request("The password grant needs `username` and `password`."));
    };
    if param(pairs, "scope").is_some_and(|s| !s.trim().is_empty()) {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "People's tokens carry no scopes; what a person may do follows from their role.",
        ));
    }
    let account = match Email::parse(username) {
        Ok(email) => state.store.find_person_by_email(email.key()).await.map_err(|e| {
            tracing::error!(error = %e, "looking up a person failed");
            oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Retry shortly.")
        })?,
        Err(_) => None,
    };
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = password::verify(secret.to_string(), hash).await.map_err(|_| busy())?;
    match account {
        Some(account) if matches => {
            let access = person_access_token(state, account.id, account.role.role())?;
            let refresh = new_secret(REFRESH_TOKEN_PREFIX);
            state
                .store
                .start_session(account.id, &token_hash(&refresh), refresh_expiry(state))
                .await
                .map_err(|e| internal(&e))?;
            Ok(token_response(access, state.tokens.ttl_secs(), Some(refresh), &[]))
        }
        _ => Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "The e-mail address or password is wrong.")),
    }
}

async fn client_credentials_grant(
    req: &HttpRequest,
    state: &AppState,
    pairs: &[(String, String)],
) -> Result<HttpResponse, OAuthFailure> {
    let Some((client_id, secret)) = client_credentials(req, pairs)? else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Authenticate the client with HTTP Basic or client_id and client_secret in the body.",
        ));
    };
    let client = match Uuid::parse_str(&client_id) {
        Ok(id) => state.store.get_client(id).await.map_err(|e| {
            tracing::error!(error = %e, "looking up a client failed");
            oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Retry shortly.")
        })?,
        Err(_) => None,
    };
    let hash = client.as_ref().filter(|c| !c.revoked).map(|c| c.secret_hash.clone());
    let matches = password::verify(secret, hash).await.map_err(|_| busy())?;
    let client = match client {
        Some(c) if matches && !c.revoked => c,
        _ => {
            return Err(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Unknown client, wrong secret, or revoked client.",
            ));
        }
    };
    let scopes = match param(pairs, "scope") {
        None => client.scopes.clone(),
        Some(requested) => {
            let requested = Scope::parse_list(requested)
                .map_err(|s| oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", format!("Unknown scope `{s}`.")))?;
            if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    format!("This client was not granted `{}`.", extra.as_str()),
                ));
            }
            requested
        }
    };
    let access = state
        .tokens
        .issue(&Grant {
            subject: Subject::Client(client.id),
            roles: vec![Role::Integration],
            scopes: scopes.clone(),
            organisation_id: client.organisation_id,
        })
        .map_err(|e| {
            tracing::error!(error = %e, "issuing a token failed");
            oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "The token could not be issued; retry.")
        })?;
    // RFC 6749 §4.4.3: no refresh token for client credentials.
    Ok(token_response(access, state.tokens.ttl_secs(), None, &scopes))
}

async fn refresh_grant(state: &AppState, pairs: &[(String, String)]) -> Result<HttpResponse, OAuthFailure> {
    let Some(token) = param(pairs, "refresh_token") else {
        return Err(invalid_request("The refresh_token grant needs `refresh_token`."));
    };
    if param(pairs, "scope").is_some_and(|s| !s.trim().is_empty()) {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "People's tokens carry no scopes."));
    }
    let unavailable = |e: crate::db::StoreError| {
        tracing::error!(error = %e, "refreshing failed");
        oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Retry shortly.")
    };
    let refused = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The refresh token is invalid, expired, revoked or already used; sign in again.",
        )
    };
    let successor = new_secret(REFRESH_TOKEN_PREFIX);
    let outcome = state
        .store
        .rotate_refresh_token(&token_hash(token), &token_hash(&successor), refresh_expiry(state))
        .await
        .map_err(unavailable)?;
    match outcome {
        RefreshOutcome::Rotated { person_id, role, .. } => {
            let access = person_access_token(state, person_id, role.role())?;
            Ok(token_response(access, state.tokens.ttl_secs(), Some(successor), &[]))
        }
        RefreshOutcome::Reused => {
            tracing::warn!("a spent refresh token was presented again; its family is revoked");
            Err(refused())
        }
        RefreshOutcome::Invalid => Err(refused()),
    }
}

/// Get an access token (OAuth 2.0)
///
/// The OAuth 2.0 token endpoint (RFC 6749). Form-encoded.
///
/// * `grant_type=password` with `username` (e-mail address) and `password`: for people.
///   Answers an access token and a refresh token.
/// * `grant_type=client_credentials`, client authenticated with HTTP Basic or
///   `client_id`/`client_secret`: for integration clients. Optional `scope` narrows the
///   client's scopes. No refresh token: ask again when the access token expires.
/// * `grant_type=refresh_token` with `refresh_token`: spends the refresh token and answers a
///   new pair (rotation). A refresh token works once; presenting a spent one revokes every
///   token of that sign-in.
///
/// Access tokens are JWTs that expire after 15 minutes (`expires_in`). Errors are RFC 6749
/// error objects, not problem documents. `Idempotency-Key` does not apply here. Attempts
/// are limited per account (10 a minute) and per client address (60 a minute); beyond
/// that the answer is `429` with `Retry-After`.
#[utoipa::path(
    tag = "Auth",
    operation_id = "post_token",
    security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued.", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`, `invalid_grant` (wrong password, bad refresh token), `unsupported_grant_type` or `invalid_scope`.", body = OAuthError),
        (status = 401, description = "`invalid_client`: the client could not be authenticated.", body = OAuthError,
            example = json!({"error": "invalid_client", "error_description": "Unknown client, wrong secret, or revoked client."})),
        (status = 429, description = "`temporarily_unavailable`: too many sign-in attempts for this account or address; see `Retry-After`.", body = OAuthError,
            headers(("Retry-After" = String, description = "Seconds to wait"), ("RateLimit-Policy" = String, description = "The limit"), ("RateLimit" = String, description = "What is left")),
            example = json!({"error": "temporarily_unavailable", "error_description": "Too many sign-in attempts; retry in 6 seconds."})),
        (status = 503, description = "`temporarily_unavailable`: the database is out of reach, or too many sign-ins are being checked.", body = OAuthError,
            example = json!({"error": "temporarily_unavailable", "error_description": "Retry shortly."})),
    )
)]
#[post("/v1/auth/token")]
async fn post_token(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let mut payload = payload.into_inner();
    let pairs = match read_form(&req, &mut payload, state.settings.body_limit_bytes).await {
        Ok(p) => p,
        Err(failure) => return failure.response(),
    };
    let ip = client_address(&req, &state.trusted_proxies).map(|a| a.to_string()).unwrap_or_default();
    if let Err(limited) = within_limit(&state.sign_in_by_ip, &ip) {
        return limited.response();
    }
    let account = match param(&pairs, "grant_type") {
        Some("password") => param(&pairs, "username").map(account_limit_key),
        Some("client_credentials") => {
            client_credentials(&req, &pairs).ok().flatten().map(|(id, _)| format!("client:{id}"))
        }
        _ => None,
    };
    if let Some(account) = account
        && let Err(limited) = within_limit(&state.sign_in_by_account, &account)
    {
        return limited.response();
    }
    let result = match param(&pairs, "grant_type") {
        Some("password") => password_grant(&state, &pairs).await,
        Some("client_credentials") => client_credentials_grant(&req, &state, &pairs).await,
        Some("refresh_token") => refresh_grant(&state, &pairs).await,
        Some(other) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("`{other}` is not supported; use password, client_credentials or refresh_token."),
        )),
        None => Err(invalid_request("`grant_type` is required.")),
    };
    result.unwrap_or_else(OAuthFailure::response)
}

/// Revoke a refresh token (sign out)
///
/// Token revocation (RFC 7009): revokes the refresh token and every token rotated from the
/// same sign-in. Answers 200 whether or not the token was known, so it cannot be used to
/// probe tokens. Access tokens cannot be revoked; they expire within 15 minutes.
#[utoipa::path(
    tag = "Auth",
    operation_id = "post_revoke",
    security(()),
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or there was nothing to revoke."),
        (status = 400, description = "`invalid_request`: no `token`.", body = OAuthError,
            example = json!({"error": "invalid_request", "error_description": "`token` is required."})),
        (status = 503, description = "`temporarily_unavailable`: the database is out of reach.", body = OAuthError),
    )
)]
#[post("/v1/auth/revoke")]
async fn post_revoke(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let mut payload = payload.into_inner();
    let pairs = match read_form(&req, &mut payload, state.settings.body_limit_bytes).await {
        Ok(p) => p,
        Err(failure) => return failure.response(),
    };
    let Some(token) = param(&pairs, "token") else {
        return invalid_request("`token` is required.").response();
    };
    match state.store.revoke_refresh_token(&token_hash(token)).await {
        Ok(()) => HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish(),
        Err(e) => {
            tracing::error!(error = %e, "revoking failed");
            oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Retry shortly.").response()
        }
    }
}
