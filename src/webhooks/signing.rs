//! Standard Webhooks signatures: `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`,
//! the key being the base64 part of the `whsec_` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};

/// What every signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key a secret stands for. Secrets are made by [`new_secret`]; one that does not
/// decode signs with its raw bytes rather than not at all.
fn key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

/// One signature, `v1,...`.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key(secret)).expect("HMAC takes any key length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: a signature per secret, space-separated (the current
/// secret and, during the overlap after a rotation, the previous one).
pub fn header<'a>(secrets: impl IntoIterator<Item = &'a str>, message_id: &str, timestamp: i64, body: &str) -> String {
    secrets.into_iter().map(|s| sign(s, message_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector the Standard Webhooks libraries test with; the expected value was computed
    /// with the `standardwebhooks` Python package (`Webhook(secret).sign(...)`).
    #[test]
    fn signs_as_the_reference_implementation_does() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 44, "{a}");
        assert_ne!(a, b);
        let both = header([a.as_str(), b.as_str()], "msg_1", 1, "{}");
        assert_eq!(both, format!("{} {}", sign(&a, "msg_1", 1, "{}"), sign(&b, "msg_1", 1, "{}")));
        assert_ne!(sign(&a, "msg_1", 1, "{}"), sign(&a, "msg_1", 2, "{}"), "the timestamp is signed");
        assert_ne!(sign(&a, "msg_1", 1, "{}"), sign(&a, "msg_2", 1, "{}"), "the id is signed");
    }
}
