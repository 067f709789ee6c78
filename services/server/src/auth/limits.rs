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
}
