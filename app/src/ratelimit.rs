//! Token-bucket rate limits, keyed by whatever the caller chooses (client address, address + email,
//! user id). The bucket arithmetic is pure ([`RateLimiter::check`], [`refill`]); where the buckets live
//! depends on the deployment: in this process's memory on the single-binary SQLite default, in the
//! database on PostgreSQL, so that N instances behind a balancer share one budget instead of giving an
//! attacker N of them.

use crate::error::{AppError, AppResult};
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

impl Rule {
    fn rate_per_sec(&self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64()
    }
}

/// A bucket holding `tokens` at `elapsed_secs` after it was last touched, refilled at the rule's rate,
/// never above the burst.
pub fn refill(rule: Rule, tokens: f64, elapsed_secs: f64) -> f64 {
    (tokens + elapsed_secs.max(0.0) * rule.rate_per_sec()).min(f64::from(rule.burst))
}

/// How long until a bucket holding `tokens` (< 1) has a whole token.
fn wait_for_token(rule: Rule, tokens: f64) -> Duration {
    Duration::from_secs_f64(((1.0 - tokens) / rule.rate_per_sec()).max(0.0))
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// One rule's buckets in memory.
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
        let rule = self.rule;
        let burst = f64::from(rule.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets
                .retain(|_, b| refill(rule, b.tokens, now.saturating_duration_since(b.updated).as_secs_f64()) < burst);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { tokens: burst, updated: now });
        bucket.tokens = refill(rule, bucket.tokens, now.saturating_duration_since(bucket.updated).as_secs_f64());
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(wait_for_token(rule, bucket.tokens))
        }
    }
}

/// What is being limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Sign-in attempts per (address, email): an attacker elsewhere cannot lock the owner out.
    SignIn,
    /// Sign-in attempts per address across all emails (credential stuffing).
    SignInAddress,
    /// Sign-ups per address.
    Register,
    /// Any state-changing request, per verified user (or address when signed out).
    Writes,
    /// Feature requests posted, per user.
    FeaturePosts,
    /// Call bookings and reschedules, per user (each one searches every agent's diary).
    Bookings,
    /// Password-reset emails, per address and per account: nobody's inbox gets flooded.
    PasswordReset,
    /// Discord interactions, per Discord user (they all arrive from Discord's own addresses).
    Discord,
    /// Video-call signals (offers, answers, ICE candidates), per user: each is an event row.
    Signals,
}

impl Limit {
    pub const ALL: [Limit; 9] = [
        Limit::SignIn,
        Limit::SignInAddress,
        Limit::Register,
        Limit::Writes,
        Limit::FeaturePosts,
        Limit::Bookings,
        Limit::PasswordReset,
        Limit::Discord,
        Limit::Signals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Limit::SignIn => "sign_in",
            Limit::SignInAddress => "sign_in_address",
            Limit::Register => "register",
            Limit::Writes => "writes",
            Limit::FeaturePosts => "feature_posts",
            Limit::Bookings => "bookings",
            Limit::PasswordReset => "password_reset",
            Limit::Discord => "discord",
            Limit::Signals => "signals",
        }
    }
}

pub const DEFAULT_SIGN_IN_ATTEMPTS: u32 = 5;
pub const DEFAULT_REGISTRATIONS_PER_HOUR: u32 = 10;
pub const DEFAULT_WRITES_PER_MINUTE: u32 = 120;
pub const DEFAULT_FEATURE_POSTS_PER_HOUR: u32 = 10;
pub const DEFAULT_BOOKINGS_PER_10_MINUTES: u32 = 20;
pub const DEFAULT_PASSWORD_RESETS_PER_HOUR: u32 = 5;
pub const DEFAULT_DISCORD_INTERACTIONS_PER_MINUTE: u32 = 20;
/// A call's set-up is one offer or answer and a dozen candidates per peer; this leaves room for many reconnects.
pub const DEFAULT_SIGNALS_PER_10_MINUTES: u32 = 200;

/// Where the buckets are kept.
#[derive(Debug)]
enum Store {
    Memory(HashMap<Limit, RateLimiter>),
    /// PostgreSQL: the `rate_limits` table, one row per bucket, updated in one statement.
    Database(crate::db::Db),
}

/// The limits Supportal applies.
#[derive(Debug)]
pub struct RateLimits {
    rules: HashMap<Limit, Rule>,
    store: Store,
}

impl RateLimits {
    /// `sign_in_attempts` per (address, email) every 15 minutes (ten times that per address);
    /// `registrations_per_hour` per address.
    pub fn new(sign_in_attempts: u32, registrations_per_hour: u32) -> Self {
        Self::with_writes(sign_in_attempts, registrations_per_hour, DEFAULT_WRITES_PER_MINUTE)
    }

    /// As [`RateLimits::new`], with `writes_per_minute` per user (or address).
    pub fn with_writes(sign_in_attempts: u32, registrations_per_hour: u32, writes_per_minute: u32) -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let rules = HashMap::from([
            (Limit::SignIn, Rule { burst: sign_in_attempts, per: minutes(15) }),
            (Limit::SignInAddress, Rule { burst: sign_in_attempts.saturating_mul(10), per: minutes(15) }),
            (Limit::Register, Rule { burst: registrations_per_hour, per: minutes(60) }),
            (Limit::Writes, Rule { burst: writes_per_minute, per: minutes(1) }),
            (Limit::FeaturePosts, Rule { burst: DEFAULT_FEATURE_POSTS_PER_HOUR, per: minutes(60) }),
            (Limit::Bookings, Rule { burst: DEFAULT_BOOKINGS_PER_10_MINUTES, per: minutes(10) }),
            (Limit::PasswordReset, Rule { burst: DEFAULT_PASSWORD_RESETS_PER_HOUR, per: minutes(60) }),
            (Limit::Discord, Rule { burst: DEFAULT_DISCORD_INTERACTIONS_PER_MINUTE, per: minutes(1) }),
            (Limit::Signals, Rule { burst: DEFAULT_SIGNALS_PER_10_MINUTES, per: minutes(10) }),
        ]);
        let memory = rules.iter().map(|(limit, rule)| (*limit, RateLimiter::new(*rule))).collect();
        Self { rules, store: Store::Memory(memory) }
    }

    /// The same limits with another budget for `limit` (over the same period): a setting that tunes it.
    pub fn with_budget(mut self, limit: Limit, burst: u32) -> Self {
        let rule = Rule { burst, ..self.rule(limit) };
        self.rules.insert(limit, rule);
        if let Store::Memory(limiters) = &mut self.store {
            limiters.insert(limit, RateLimiter::new(rule));
        }
        self
    }

    pub fn standard() -> Self {
        Self::new(DEFAULT_SIGN_IN_ATTEMPTS, DEFAULT_REGISTRATIONS_PER_HOUR)
    }

    /// Keeps the buckets in `db` (for PostgreSQL, where several instances share them).
    pub fn shared(self, db: crate::db::Db) -> Self {
        Self { store: Store::Database(db), ..self }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self.store, Store::Database(_))
    }

    fn rule(&self, limit: Limit) -> Rule {
        self.rules.get(&limit).copied().unwrap_or(Rule { burst: 1, per: Duration::from_secs(1) })
    }

    /// Takes one token of `limit` for `key`; 429 with `Retry-After` when none is left.
    pub async fn check(&self, limit: Limit, key: &str) -> AppResult<()> {
        let result = match &self.store {
            Store::Memory(limiters) => match limiters.get(&limit) {
                Some(limiter) => limiter.check(key, Instant::now()),
                None => Ok(()),
            },
            Store::Database(db) => take_shared(db, self.rule(limit), &format!("{}:{key}", limit.as_str())).await?,
        };
        result.map_err(|wait| AppError::rate_limited(retry_after_secs(wait)))
    }

    /// Drops shared buckets untouched for longer than any rule needs to refill (hourly sweep).
    pub async fn prune(&self) -> Result<u64, sqlx::Error> {
        let Store::Database(db) = &self.store else { return Ok(0) };
        let longest = self.rules.values().map(|r| r.per).max().unwrap_or_default();
        let before = now_ms() - i64::try_from(longest.as_millis()).unwrap_or(i64::MAX);
        Ok(sqlx::query("DELETE FROM rate_limits WHERE updated_ms < $1")
            .bind(before)
            .execute(&db.pool)
            .await?
            .rows_affected())
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// One statement per check: refill, take a token if there is one, and say whether there was. Every
/// right-hand side reads the row as it was before this update, so concurrent checks serialise on the row.
async fn take_shared(db: &crate::db::Db, rule: Rule, bucket: &str) -> Result<Result<(), Duration>, AppError> {
    use sqlx::Row;
    let burst = f64::from(rule.burst);
    let refilled = "LEAST($2, rate_limits.tokens + ($3 - rate_limits.updated_ms) / 1000.0 * $4)";
    let row = sqlx::query(&format!(
        "INSERT INTO rate_limits (bucket, tokens, updated_ms, allowed) VALUES ($1, $2 - 1, $3, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
           allowed = CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END, \
           tokens = {refilled} - CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END, \
           updated_ms = $3 \
         RETURNING allowed, tokens"
    ))
    .bind(bucket)
    .bind(burst)
    .bind(now_ms())
    .bind(rule.rate_per_sec())
    .fetch_one(&db.pool)
    .await?;
    if row.try_get::<i64, _>("allowed")? == 1 {
        Ok(Ok(()))
    } else {
        Ok(Err(wait_for_token(rule, row.try_get::<f64, _>("tokens")?)))
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
    fn refill_is_capped_at_the_burst() {
        let rule = Rule { burst: 4, per: Duration::from_secs(40) };
        assert_eq!(refill(rule, 0.0, 10.0), 1.0);
        assert_eq!(refill(rule, 2.5, 1000.0), 4.0);
        assert_eq!(refill(rule, 1.0, -5.0), 1.0, "a clock that went back refills nothing");
        assert_eq!(retry_after_secs(wait_for_token(rule, 0.5)), 5);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
    }

    #[tokio::test]
    async fn a_tuned_budget_replaces_the_default_for_that_limit_only() {
        let limits = RateLimits::standard().with_budget(Limit::Signals, 2);
        for _ in 0..2 {
            assert!(limits.check(Limit::Signals, "user:1").await.is_ok());
        }
        assert_eq!(limits.check(Limit::Signals, "user:1").await.map_err(|e| e.status), Err(429));
        // The period stays the default one, and other limits keep their budgets.
        assert_eq!(limits.rule(Limit::Signals).per, Duration::from_secs(600));
        assert_eq!(limits.rule(Limit::Bookings).burst, DEFAULT_BOOKINGS_PER_10_MINUTES);
    }

    #[tokio::test]
    async fn limits_answer_429_with_a_wait() {
        let limits = RateLimits::new(1, 1);
        assert!(limits.check(Limit::Register, "a").await.is_ok());
        let refused = limits.check(Limit::Register, "a").await.unwrap_err();
        assert_eq!(refused.status, 429);
        assert!(refused.retry_after.is_some_and(|s| s > 0));
        assert!(limits.check(Limit::Register, "b").await.is_ok());
        assert!(limits.check(Limit::SignIn, "a").await.is_ok(), "each limit has its own buckets");
    }
}
