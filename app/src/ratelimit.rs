//! Token-bucket rate limits kept in memory, keyed by whatever the caller chooses
//! (IP, IP + email, user id). Pure logic: the caller passes the clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Requests allowed in a burst.
    pub burst: u32,
    /// Time to earn the whole burst back.
    pub per: Duration,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    rule: Rule,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Above this many keys, full buckets are dropped so memory stays bounded.
const PRUNE_ABOVE: usize = 50_000;

impl RateLimiter {
    pub fn new(rule: Rule) -> Self {
        Self { rule, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`; when none is left, says how long to wait.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.rule.burst) / self.rule.per.as_secs_f64();
        let burst = f64::from(self.rule.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { tokens: burst, updated: now });
        let earned = now.saturating_duration_since(bucket.updated).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + earned).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// The limits Supportal applies.
#[derive(Debug)]
pub struct RateLimits {
    /// Sign-in attempts per (IP, email): an attacker elsewhere cannot lock the owner out.
    pub sign_in: RateLimiter,
    /// Sign-in attempts per IP across all emails (credential stuffing).
    pub sign_in_ip: RateLimiter,
    pub register: RateLimiter,
    /// Any state-changing request, per user (or IP when signed out).
    pub writes: RateLimiter,
    /// Feature requests posted, per user.
    pub feature_posts: RateLimiter,
    /// Call bookings and reschedules, per user (each one searches every agent's diary).
    pub bookings: RateLimiter,
}

pub const DEFAULT_SIGN_IN_ATTEMPTS: u32 = 5;
pub const DEFAULT_REGISTRATIONS_PER_HOUR: u32 = 10;
pub const DEFAULT_WRITES_PER_MINUTE: u32 = 120;
pub const DEFAULT_FEATURE_POSTS_PER_HOUR: u32 = 10;
pub const DEFAULT_BOOKINGS_PER_10_MINUTES: u32 = 20;

impl RateLimits {
    /// `sign_in_attempts` per (IP, email) every 15 minutes (ten times that per IP);
    /// `registrations_per_hour` per IP.
    pub fn new(sign_in_attempts: u32, registrations_per_hour: u32) -> Self {
        Self::with_writes(sign_in_attempts, registrations_per_hour, DEFAULT_WRITES_PER_MINUTE)
    }

    /// As [`RateLimits::new`], with `writes_per_minute` per credential (or address).
    pub fn with_writes(sign_in_attempts: u32, registrations_per_hour: u32, writes_per_minute: u32) -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self {
            sign_in: RateLimiter::new(Rule { burst: sign_in_attempts, per: minutes(15) }),
            sign_in_ip: RateLimiter::new(Rule { burst: sign_in_attempts.saturating_mul(10), per: minutes(15) }),
            register: RateLimiter::new(Rule { burst: registrations_per_hour, per: minutes(60) }),
            writes: RateLimiter::new(Rule { burst: writes_per_minute, per: minutes(1) }),
            feature_posts: RateLimiter::new(Rule { burst: DEFAULT_FEATURE_POSTS_PER_HOUR, per: minutes(60) }),
            bookings: RateLimiter::new(Rule { burst: DEFAULT_BOOKINGS_PER_10_MINUTES, per: minutes(10) }),
        }
    }

    pub fn standard() -> Self {
        Self::new(DEFAULT_SIGN_IN_ATTEMPTS, DEFAULT_REGISTRATIONS_PER_HOUR)
    }
}

/// Whole seconds for a `Retry-After` header, rounded up.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refuses_then_refills() {
        let limiter = RateLimiter::new(Rule { burst: 3, per: Duration::from_secs(30) });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("k", t0).is_ok());
        }
        let wait = limiter.check("k", t0).unwrap_err();
        assert_eq!(retry_after_secs(wait), 10);
        // other keys are independent
        assert!(limiter.check("other", t0).is_ok());
        // one token comes back after 10 s
        assert!(limiter.check("k", t0 + Duration::from_secs(10)).is_ok());
        assert!(limiter.check("k", t0 + Duration::from_secs(10)).is_err());
        // never more than the burst, however long the pause
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(limiter.check("k", later).is_ok());
        }
        assert!(limiter.check("k", later).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
    }
}
