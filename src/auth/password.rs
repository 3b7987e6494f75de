//! Password and client-secret hashing with argon2id (OWASP parameters: 19 MiB, 2 passes).
//! Hashing is slow and memory-hungry on purpose, so it runs on the blocking thread pool,
//! at most one per CPU core at a time, and a burst of sign-ins beyond a short queue is
//! refused (503) instead of exhausting memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

use tokio::sync::Semaphore;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// Hashes a secret into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash_blocking(secret: &str) -> anyhow::Result<String> {
    hasher().hash_password(secret.as_bytes()).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Whether `secret` matches the PHC string `hash`.
pub fn verify_blocking(secret: &str, hash: &str) -> bool {
    hasher().verify_password(secret.as_bytes(), hash).is_ok()
}

/// A hash of a random secret, verified against when an account does not exist, so that
/// unknown and known accounts take the same time to refuse.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        hash_blocking(&hex::encode(bytes)).unwrap_or_default()
    })
}

/// Hashing slots: one per core, shared by the whole process.
static SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
/// Requests waiting for a slot.
static WAITING: AtomicUsize = AtomicUsize::new(0);
/// Longest queue before sign-ins are refused as "busy".
const MAX_WAITING: usize = 64;

/// Too many sign-ins are being checked right now; retry shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many concurrent password checks")]
pub struct Busy;

/// Makes the decoy hash now, so that the first unknown-account sign-in is not slower.
pub fn warm_up() {
    let _ = decoy_hash();
}

async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return Err(Busy);
    }
    let permit = SLOTS.acquire().await;
    WAITING.fetch_sub(1, Ordering::SeqCst);
    let _permit = permit.map_err(|_| Busy)?;
    tokio::task::spawn_blocking(work).await.map_err(|_| Busy)
}

/// Hashes off the async executor.
pub async fn hash(secret: String) -> anyhow::Result<String> {
    run(move || hash_blocking(&secret)).await?
}

/// Verifies off the async executor; `None` for the hash verifies against a decoy and fails.
pub async fn verify(secret: String, hash: Option<String>) -> Result<bool, Busy> {
    run(move || match hash {
        Some(h) => verify_blocking(&secret, &h),
        None => {
            verify_blocking(&secret, decoy_hash());
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_right_secret() {
        let h = hash_blocking("lerenderwijs-demo").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_blocking("lerenderwijs-demo", &h));
        assert!(!verify_blocking("lerenderwijs-dem0", &h));
        assert!(!verify_blocking("anything", "not a hash"));
    }
}
