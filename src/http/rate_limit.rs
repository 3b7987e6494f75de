//! Token-bucket rate limits, counted per service instance (several instances behind a load
//! balancer each allow the limit; the README says so).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A limit of `limit` requests per `window` per key, with bursts up to `limit`.
#[derive(Debug)]
pub struct RateLimiter {
    name: &'static str,
    limit: u32,
    window: Duration,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
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
        Self { name, limit: limit.max(1), window, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `key`'s bucket.
    pub fn check(&self, key: &str) -> Decision {
        let capacity = f64::from(self.limit);
        let per_sec = capacity / self.window.as_secs_f64();
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget keys whose bucket has refilled: they carry no state worth keeping.
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * per_sec < capacity);
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_sec).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Decision::Allowed { remaining: *tokens as u32 }
        } else {
            Decision::Limited { retry_after: ((1.0 - *tokens) / per_sec).ceil().max(1.0) as u64 }
        }
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
    fn a_bucket_allows_its_limit_then_refuses_with_a_retry_time() {
        let limiter = RateLimiter::new("test", 3, Duration::from_secs(60));
        for left in [2, 1, 0] {
            assert_eq!(limiter.check("a"), Decision::Allowed { remaining: left });
        }
        assert_eq!(limiter.check("a"), Decision::Limited { retry_after: 20 });
        // Other keys have their own buckets.
        assert_eq!(limiter.check("b"), Decision::Allowed { remaining: 2 });
        assert_eq!(limiter.policy(), "\"test\";q=3;w=60");
    }
}
