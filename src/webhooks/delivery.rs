//! One delivery: a signed POST, with a time limit, no redirects, and at most the first
//! kilobyte of the answer read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use super::guard::{AllowedHosts, GuardedResolver, check_url};
use super::signing;
use crate::db::webhooks::WebhookSecrets;

/// How much of an answer is read and kept in the delivery log.
pub const EXCERPT_BYTES: usize = 1024;

/// Makes rustls use *ring* (the provider the database driver uses too). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The receiver's status; none when there was no answer (refused, timed out).
    pub status: Option<u16>,
    /// Why there was no answer, or what the status means.
    pub error: Option<String>,
    pub latency: Duration,
    pub excerpt: Option<String>,
    /// What the receiver asked for with `Retry-After` (on a 429 or 503).
    pub retry_after: Option<Duration>,
}

impl Answer {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends deliveries; one per service instance, its connections reused.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allowed: AllowedHosts,
}

impl Sender {
    pub fn new(allowed: AllowedHosts, timeout: Duration) -> anyhow::Result<Self> {
        install_tls_provider();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { allowed: allowed.clone() }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(2)
            .user_agent(concat!("vov-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, allowed })
    }

    /// POSTs `body` to `url`, signed with `secrets`, as message `message_id`.
    pub async fn send(&self, url: &str, message_id: &str, body: String, secrets: &WebhookSecrets) -> Answer {
        let started = Instant::now();
        let refused = |error: String| Answer {
            status: None,
            error: Some(error),
            latency: started.elapsed(),
            excerpt: None,
            retry_after: None,
        };
        // Again at every delivery: the setting may have changed since the URL was saved.
        if let Err(why) = check_url(url, &self.allowed) {
            return refused(why.to_string());
        }
        let timestamp = Utc::now().timestamp();
        let keys = std::iter::once(secrets.current.as_str()).chain(secrets.previous.as_deref());
        let signature = signing::header(keys, message_id, timestamp, &body);
        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return refused(describe(&e)),
        };
        let status = response.status().as_u16();
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let mut excerpt = Vec::new();
        let mut error = None;
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - excerpt.len())]),
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        let delivered = (200..300).contains(&status);
        if error.is_none() && !delivered {
            error = Some(format!("the receiver answered {status}"));
        }
        Answer {
            status: Some(status),
            error,
            latency: started.elapsed(),
            excerpt: (!excerpt.is_empty()).then(|| String::from_utf8_lossy(&excerpt).into_owned()),
            retry_after,
        }
    }
}

/// An error in words, without the URL's query (it may carry a receiver's token).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirected (redirects are not followed)"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { what.to_string() } else { format!("{what}: {detail}") }
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at: DateTime<Utc> = DateTime::parse_from_rfc2822(value.trim()).ok()?.with_timezone(&Utc);
    (at - Utc::now()).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let later = (Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let d = parse_retry_after(&later).unwrap();
        assert!((85..=90).contains(&d.as_secs()), "{d:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
