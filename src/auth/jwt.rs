//! Access tokens: HS256 JWTs (RFC 7519, profile of RFC 9068) signed by the service.
//!
//! Verification pins the algorithm, requires `exp`, `nbf`, `iss`, `aud` and `sub`, checks
//! them with a small leeway, requires the `at+jwt` type and picks the key by `kid`, so
//! secrets can be rotated (RFC 8725).

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::rights::{Role, Scope};
use super::{Caller, Subject};
use crate::error::ApiError;

/// The `typ` header of our access tokens (RFC 9068 §2.1).
pub const TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The person's id, or the client's id for client-credentials tokens.
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    /// Set on client-credentials tokens (RFC 9068 §2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub roles: Vec<Role>,
    /// Space-separated scopes (RFC 9068 §2.2.3).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// The organisation an integration client acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
}

/// What a new access token says about its holder.
#[derive(Debug, Clone)]
pub struct Grant {
    pub subject: Subject,
    pub roles: Vec<Role>,
    pub scopes: Vec<Scope>,
    pub organisation_id: Option<Uuid>,
}

/// Signs and verifies access tokens.
pub struct TokenKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// A short, non-secret name for a key: the first 8 bytes of its SHA-256, in hex.
fn key_id(secret: &[u8]) -> String {
    hex::encode(&Sha256::digest(secret)[..8])
}

impl TokenKeys {
    pub fn new(
        secret: &SecretString,
        previous: &[String],
        issuer: &str,
        audience: &str,
        leeway_secs: u64,
        ttl_secs: u64,
    ) -> Self {
        let current = secret.expose_secret().as_bytes();
        let kid = key_id(current);
        let mut decoding = HashMap::new();
        decoding.insert(kid.clone(), DecodingKey::from_secret(current));
        for old in previous {
            decoding.insert(key_id(old.as_bytes()), DecodingKey::from_secret(old.as_bytes()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = leeway_secs;
        Self {
            kid,
            encoding: EncodingKey::from_secret(current),
            decoding,
            validation,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(900),
        }
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs an access token for `grant`.
    pub fn issue(&self, grant: &Grant) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let (sub, client_id) = match grant.subject {
            Subject::Person(id) => (id.to_string(), None),
            Subject::Client(id) => (id.to_string(), Some(id.to_string())),
        };
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            exp: now + self.ttl_secs,
            nbf: now,
            iat: now,
            jti: Uuid::now_v7().to_string(),
            client_id,
            roles: grant.roles.clone(),
            scope: Scope::join(&grant.scopes),
            org: grant.organisation_id,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(self.kid.clone());
        Ok(encode(&header, &claims, &self.encoding)?)
    }

    /// Verifies a token and says who holds it; every failure is the same opaque 401.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        self.verify_claims(token).and_then(caller_from_claims).map_err(|reason| {
            tracing::debug!(%reason, "access token refused");
            ApiError::Unauthorized("The access token is invalid or has expired; get a new one.".into())
        })
    }

    fn verify_claims(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|e| format!("header: {e}"))?;
        if header.alg != Algorithm::HS256 {
            return Err(format!("algorithm {:?}", header.alg));
        }
        if header.typ.as_deref().map(str::to_ascii_lowercase).as_deref() != Some(TOKEN_TYPE) {
            return Err(format!("type {:?}", header.typ));
        }
        let kid = header.kid.ok_or("no kid")?;
        let key = self.decoding.get(&kid).ok_or("unknown kid")?;
        decode::<Claims>(token, key, &self.validation).map(|data| data.claims).map_err(|e| e.to_string())
    }
}

fn caller_from_claims(claims: Claims) -> Result<Caller, String> {
    let id = Uuid::parse_str(&claims.sub).map_err(|_| "sub is not a uuid")?;
    let subject = match claims.client_id.as_deref() {
        None => Subject::Person(id),
        Some(client) if client == claims.sub => Subject::Client(id),
        Some(_) => return Err("client_id differs from sub".into()),
    };
    if matches!(subject, Subject::Client(_)) != claims.roles.contains(&Role::Integration) {
        return Err("role does not fit the subject".into());
    }
    let scopes = Scope::parse_list(&claims.scope).map_err(|s| format!("unknown scope {s}"))?;
    Ok(Caller { subject, roles: claims.roles, scopes, organisation_id: claims.org, admin_of: vec![] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

    fn keys() -> TokenKeys {
        TokenKeys::new(&SecretString::from(SECRET), &[], "vov-api", "vov-api", 30, 900)
    }

    fn grant() -> Grant {
        Grant {
            subject: Subject::Person(Uuid::now_v7()),
            roles: vec![Role::Member],
            scopes: vec![],
            organisation_id: None,
        }
    }

    #[test]
    fn a_token_verifies_and_names_its_holder() {
        let g = grant();
        let caller = keys().verify(&keys().issue(&g).unwrap()).unwrap();
        assert_eq!(caller.subject, g.subject);
        assert_eq!(caller.roles, [Role::Member]);
    }

    #[test]
    fn a_rotated_key_still_verifies_old_tokens() {
        let old = keys().issue(&grant()).unwrap();
        let rotated = TokenKeys::new(
            &SecretString::from("a-brand-new-secret-of-more-than-32-bytes"),
            &[SECRET.to_string()],
            "vov-api",
            "vov-api",
            30,
            900,
        );
        assert!(rotated.verify(&old).is_ok());
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = keys().issue(&grant()).unwrap();
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["roles"] = serde_json::json!(["facilitator"]);
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert!(keys().verify(&parts.join(".")).is_err());
    }

    #[test]
    fn a_client_token_must_carry_the_integration_role() {
        let id = Uuid::now_v7();
        let token = keys()
            .issue(&Grant {
                subject: Subject::Client(id),
                roles: vec![Role::Facilitator],
                scopes: vec![],
                organisation_id: None,
            })
            .unwrap();
        assert!(keys().verify(&token).is_err());
    }
}
