//! Rate limits: a token bucket per token subject and per client address, so
//! one runaway script or one address cannot crowd out a command centre.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::http::StatusCode;

use crate::problem::Problem;

/// A bucket holds this many seconds of its rate: the burst it allows.
pub const BURST_SECONDS: f64 = 10.0;

/// Beyond this many buckets, full ones (idle callers) are forgotten.
const MAX_BUCKETS: usize = 100_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets of `rate` requests a second, one per key.
pub struct Limiter {
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// `None` for a rate of 0 (no limit).
    pub fn new(per_second: u32) -> Option<Self> {
        (per_second > 0).then(|| Self {
            rate: f64::from(per_second),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `key`'s bucket; `Err` is how many seconds until
    /// one is back.
    pub fn take(&self, key: &str) -> Result<(), u32> {
        let now = Instant::now();
        let burst = self.rate * BURST_SECONDS;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > MAX_BUCKETS {
            let rate = self.rate;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let refilled = bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * self.rate;
        bucket.tokens = refilled.min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(((1.0 - bucket.tokens) / self.rate).ceil().max(1.0) as u32)
    }
}

/// The per-token and per-address limits of one service.
pub struct RateLimits {
    pub per_token: Option<Limiter>,
    pub per_address: Option<Limiter>,
}

impl RateLimits {
    pub fn check_address(&self, address: Option<IpAddr>) -> Result<(), Problem> {
        match (&self.per_address, address) {
            (Some(limiter), Some(ip)) => limiter
                .take(&ip.to_string())
                .map_err(|wait| too_many("this address", wait)),
            _ => Ok(()),
        }
    }

    pub fn check_token(&self, subject: &str) -> Result<(), Problem> {
        match &self.per_token {
            Some(limiter) => limiter
                .take(subject)
                .map_err(|wait| too_many("this token", wait)),
            None => Ok(()),
        }
    }
}

/// Open feed connections per token subject, at most `cap` each.
pub struct FeedConnections {
    cap: usize,
    open: std::sync::Arc<Mutex<HashMap<String, usize>>>,
}

/// One open feed connection, counted until it is dropped (the client went).
pub struct FeedPermit {
    subject: String,
    open: std::sync::Arc<Mutex<HashMap<String, usize>>>,
}

impl FeedConnections {
    /// `cap` 0: no cap.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            open: Default::default(),
        }
    }

    /// Counts a new feed connection of `subject`; the 429 when it has `cap` open.
    pub fn open(&self, subject: &str) -> Result<FeedPermit, Problem> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(subject.to_owned()).or_default();
        if self.cap > 0 && *count >= self.cap {
            return Err(too_many_feeds(self.cap));
        }
        *count += 1;
        Ok(FeedPermit {
            subject: subject.to_owned(),
            open: std::sync::Arc::clone(&self.open),
        })
    }

    /// How many feed connections `subject` has open now.
    pub fn count(&self, subject: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(subject).copied().unwrap_or_default()
    }
}

impl Drop for FeedPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.subject) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.subject);
            }
        }
    }
}

fn too_many_feeds(cap: usize) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-feeds",
        "Too many feed connections",
        format!(
            "this token already has {cap} feed connections open, the most it may; close one \
             (one connection can follow several collections: `collection=teams,facilities`)"
        ),
    )
    .retry_after(FEED_RETRY_SECONDS)
}

/// A closed feed connection is noticed within the feed's heartbeat.
const FEED_RETRY_SECONDS: u32 = crate::feed::HEARTBEAT.as_secs() as u32;

/// The middleware that answers 503 `request-timeout` for a request not
/// answered within the configured time. What the handler was doing stops
/// there, as when a client goes away: a command either took effect or did
/// not, and its retry with the same `Idempotency-Key` says which.
pub async fn timeout(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let limit = request
        .app_data::<actix_web::web::Data<super::Authenticator>>()
        .and_then(|auth| auth.request_timeout);
    let Some(limit) = limit else {
        return next.call(request).await.map(|r| r.map_into_boxed_body());
    };
    // An error, not a response: the request went to the handler, and a clone of
    // it kept here would stop the router. Every middleware outside renders it
    // (problem+json, CORS headers).
    match tokio::time::timeout(limit, next.call(request)).await {
        Ok(answered) => answered.map(|r| r.map_into_boxed_body()),
        Err(_) => {
            let problem = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request-timeout",
                "Request timed out",
                format!(
                    "the request was not answered within {} s; a command may or may not have \
                     taken effect: send it again with the same Idempotency-Key to learn which",
                    limit.as_secs_f64()
                ),
            )
            .retry_after(1);
            Err(problem.into())
        }
    }
}

fn too_many(who: &str, wait: u32) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        format!("{who} has sent more requests than its rate allows; retry in {wait} s"),
    )
    .retry_after(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_retry() {
        let limiter = Limiter::new(2).unwrap();
        for _ in 0..20 {
            assert_eq!(limiter.take("a"), Ok(()));
        }
        assert_eq!(limiter.take("a"), Err(1));
        assert_eq!(limiter.take("b"), Ok(()), "another key has its own bucket");
        assert!(Limiter::new(0).is_none());
    }

    #[test]
    fn a_subject_opens_at_most_its_cap_of_feeds_and_a_closed_one_is_given_back() {
        let feeds = FeedConnections::new(2);
        let first = feeds.open("a").unwrap();
        let _second = feeds.open("a").unwrap();
        assert!(feeds.open("a").is_err(), "a third feed is over the cap");
        assert!(feeds.open("b").is_ok(), "another subject has its own cap");
        drop(first);
        assert_eq!(feeds.count("a"), 1);
        assert!(feeds.open("a").is_ok());
    }
}
