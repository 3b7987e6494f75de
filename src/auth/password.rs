//! Password and client-secret hashing with argon2id (OWASP parameters: 19 MiB, 2 passes).
//! Hashing is slow and memory-hungry on purpose, so it runs on the blocking thread pool,
//! at most one per CPU core at a time, and a burst of sign-ins beyond a short queue is
//! refused (503) instead of exhausting memory.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A hash of a random secret nobody kept, made once with the parameters of every hash and
/// verified against when an account does not exist, so that unknown and known accounts take
/// the same time to refuse (whatever matches it is refused all the same). A constant, so
/// that start-up does not spend a hash's 19 MiB making one (decision 12).
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$Sta35/nA5mwm9++E0MpGTA$dOjTSStfyjkUuSiIStXZO1WSjMD/eKSvtZSpnr+bVM4";

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
            verify_blocking(&secret, DECOY);
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

    /// The decoy costs what a real hash costs: same algorithm, version, memory, passes,
    /// lanes, salt and output lengths.
    #[test]
    fn the_decoy_has_the_parameters_of_every_hash() {
        let fresh = hash_blocking("lerenderwijs-demo").unwrap();
        let shape = |h: &str| -> Vec<String> {
            h.split('$')
                .enumerate()
                .map(|(i, part)| if i < 4 { part.to_string() } else { part.len().to_string() })
                .collect()
        };
        assert_eq!(shape(DECOY), shape(&fresh), "{fresh}");
    }

    #[tokio::test]
    async fn an_unknown_account_is_refused_whatever_the_secret() {
        assert!(!verify("lerenderwijs-demo".into(), None).await.unwrap());
    }
}
