//! Rate limits with `governor` (GCRA: the same rate as a token bucket of `limit` per
//! `window`, bursts up to `limit`), counted per service instance: several instances behind a
//! load balancer each allow the limit (`docs/guide/signing-in.md` says so). Memory holds only keys seen
//! within the window: [`RateLimiter::forget_idle`] runs every minute.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Gcra};

/// A limit of `limit` requests per `window` per key, with bursts up to `limit`.
pub struct RateLimiter {
    name: &'static str,
    limit: u32,
    window: Duration,
    clock: DefaultClock,
    keys: Gcra<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("name", &self.name).field("limit", &self.limit).finish()
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; this many remain right now.
    Allowed { remaining: u32 },
    /// Refused; a request is allowed again after this many seconds.
    Limited { retry_after: u64 },
}

impl RateLimiter {
    pub fn new(name: &'static str, limit: u32, window: Duration) -> Self {
        let burst = NonZeroU32::new(limit.max(1)).unwrap_or(NonZeroU32::MIN);
        let period = (window / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(burst)).allow_burst(burst);
        let clock = DefaultClock::default();
        let keys = Gcra::dashmap_with_clock(quota, clock.clone()).with_middleware::<StateInformationMiddleware>();
        Self { name, limit: burst.get(), window, clock, keys }
    }

    /// Takes one request from `key`'s allowance.
    pub fn check(&self, key: &str) -> Decision {
        match self.keys.check_key(&key.to_string()) {
            Ok(state) => Decision::Allowed { remaining: state.remaining_burst_capacity() },
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision::Limited { retry_after: wait.as_secs_f64().ceil().max(1.0) as u64 }
            }
        }
    }

    /// Drops the keys whose allowance is full again: they carry no state worth keeping.
    pub fn forget_idle(&self) {
        self.keys.retain_recent();
        self.keys.shrink_to_fit();
    }

    /// How many keys are held now.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `RateLimit-Policy` header value (draft-ietf-httpapi-ratelimit-headers).
    pub fn policy(&self) -> String {
        format!("\"{}\";q={};w={}", self.name, self.limit, self.window.as_secs())
    }

    /// The `RateLimit` header value for a decision.
    pub fn state(&self, decision: Decision) -> String {
        match decision {
            Decision::Allowed { remaining } => format!("\"{}\";r={remaining}", self.name),
            Decision::Limited { retry_after } => format!("\"{}\";r=0;t={retry_after}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_allowed_its_limit_then_refused_with_a_retry_time() {
        let limiter = RateLimiter::new("test", 3, Duration::from_secs(60));
        for left in [2, 1, 0] {
            assert_eq!(limiter.check("a"), Decision::Allowed { remaining: left });
        }
        assert_eq!(limiter.check("a"), Decision::Limited { retry_after: 20 });
        // Other keys have their own allowance.
        assert_eq!(limiter.check("b"), Decision::Allowed { remaining: 2 });
        assert_eq!(limiter.policy(), "\"test\";q=3;w=60");
    }

    #[test]
    fn keys_whose_allowance_refilled_are_forgotten() {
        let limiter = RateLimiter::new("test", 1000, Duration::from_millis(100));
        for i in 0..1000 {
            limiter.check(&format!("address-{i}"));
        }
        assert_eq!(limiter.len(), 1000);
        std::thread::sleep(Duration::from_millis(150));
        limiter.forget_idle();
        assert!(limiter.is_empty(), "{} keys kept", limiter.len());
    }
}
