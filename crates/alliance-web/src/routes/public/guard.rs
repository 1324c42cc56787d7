//! Abuse protection for the public forms without storing IP addresses.
//!
//! Each client is known only by a keyed hash of its address: HMAC-SHA256 (RFC 2104) under a
//! random secret held in memory, replaced every UTC day (with the buckets), so a key cannot
//! be turned back into an address, nor linked across days, and nothing is written to disk.
//! Each (form, client key) has a token bucket: [`CAPACITY`] submissions at once, refilled at
//! one per [`REFILL_SECONDS`]. A refused submission gets a 429 page and is not stored; an
//! accepted one is stored before the response is sent, so none is lost. Forms also carry a
//! honeypot field that people never see (hidden from sight and from screen readers): a
//! submission that fills it is thanked and dropped.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Submissions a client may make at once.
pub const CAPACITY: f64 = 10.0;
/// Seconds to earn one more submission (10 an hour).
pub const REFILL_SECONDS: f64 = 360.0;
/// Buckets kept before full ones are forgotten (memory stays bounded).
const MAX_BUCKETS: usize = 50_000;

/// The name of the honeypot field.
pub const HONEYPOT: &str = "website";

/// HMAC-SHA256 of `message` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Inner {
    day: i64,
    secret: [u8; 32],
    buckets: HashMap<[u8; 32], Bucket>,
}

/// The per-process rate limiter of the public forms.
pub struct RateLimiter {
    inner: Mutex<Inner>,
}

fn fresh_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn utc_day() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(86_400)
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter { inner: Mutex::new(Inner { day: utc_day(), secret: fresh_secret(), buckets: HashMap::new() }) }
    }
}

impl RateLimiter {
    /// Takes one submission from the bucket of `form` for the client at `address`; `false`
    /// when the bucket is empty. The address is hashed at once and never kept.
    pub fn allow(&self, form: &str, address: &str) -> bool {
        let mut inner = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let day = utc_day();
        if day != inner.day {
            inner.day = day;
            inner.secret = fresh_secret();
            inner.buckets.clear();
        }
        let key = hmac_sha256(&inner.secret, format!("{form}\n{address}").as_bytes());
        let now = Instant::now();
        if inner.buckets.len() >= MAX_BUCKETS {
            inner.buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() / REFILL_SECONDS < CAPACITY);
        }
        let bucket = inner.buckets.entry(key).or_insert(Bucket { tokens: CAPACITY, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() / REFILL_SECONDS).min(CAPACITY);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_burst_is_cut_at_the_capacity_per_client_and_form() {
        let limiter = RateLimiter::default();
        let allowed = (0..100).filter(|_| limiter.allow("report", "192.0.2.1")).count();
        assert_eq!(allowed, CAPACITY as usize);
        assert!(limiter.allow("report", "192.0.2.2"), "another client has its own bucket");
        assert!(limiter.allow("charter", "192.0.2.1"), "another form has its own bucket");
    }
}
