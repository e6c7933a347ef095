//! Reading and writing the SLA policy table and the holiday list, and the rules both the REST API
//! (`/api/v1/sla…`, `/api/v1/hours…`) and the settings page's server functions apply to them.
//!
//! Every write happens in one transaction: a request either changes everything it asked for or nothing.

use crate::db::Db;
use crate::error::{AppError, FieldErrors};
use crate::sla::{
    self, BusinessCalendar, DayHours, Policy, Priority, SlaTier, WeekText, WeeklyHours, MAX_TARGET_MINUTES,
};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;

/// The most holidays the list may hold (a year's worth of days).
pub const MAX_HOLIDAYS: usize = 366;

/// The policy table, platinum first, then P1..P4.
pub async fn load_policies(db: &Db) -> Result<Vec<Policy>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT tier, priority, first_response_minutes, resolution_minutes, calendar, pause_on_hold FROM sla_policies",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut policies = Vec::with_capacity(rows.len());
    for r in rows {
        let decode = |column: &str, value: String| sqlx::Error::ColumnDecode {
            index: column.into(),
            source: format!("unexpected value {value:?}").into(),
        };
        let tier: String = r.try_get("tier")?;
        let priority: String = r.try_get("priority")?;
        let calendar: String = r.try_get("calendar")?;
        policies.push(Policy {
            tier: tier.parse().map_err(|_| decode("tier", tier.clone()))?,
            priority: priority.parse().map_err(|_| decode("priority", priority.clone()))?,
            first_response_minutes: r.try_get("first_response_minutes")?,
            resolution_minutes: r.try_get("resolution_minutes")?,
            calendar: calendar.parse().map_err(|_| decode("calendar", calendar.clone()))?,
            pause_on_hold: crate::db::flag(&r, "pause_on_hold")?,
        });
    }
    policies.sort_by_key(|p| (p.tier, p.priority));
    Ok(policies)
}

/// The holidays (America/New_York dates), sorted. Rows that are not dates are skipped.
pub async fn load_holidays(db: &Db) -> Result<Vec<Date>, sqlx::Error> {
    let mut days = sqlx::query("SELECT day FROM holidays")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String, _>("day").ok()?.parse::<Date>().ok())
        .collect::<Vec<_>>();
    days.sort();
    days.dedup();
    Ok(days)
}

/// The policy table and the support calendar (with holidays) in force: what `tickets::clocks::SlaContext::load`
/// reads, in one place.
///
/// Every ticket read needs them and they change rarely, so they are kept for [`CACHE_FRESH_FOR`] per database;
/// this instance's own edits replace them at once, other instances' (PostgreSQL) within that time.
pub async fn load_policies_and_calendar(db: &Db) -> Result<(Vec<Policy>, BusinessCalendar), sqlx::Error> {
    if let Some(cached) = cache::get(db) {
        return Ok(cached);
    }
    let generation = cache::generation(db);
    let policies = load_policies(db).await?;
    let holidays = load_holidays(db).await?;
    let weekly = load_weekly(db).await?;
    let loaded = (policies, BusinessCalendar::new(weekly.support, holidays));
    cache::put(db, generation, loaded.clone());
    Ok(loaded)
}

/// How long a loaded policy table and calendar serve before they are read again.
pub const CACHE_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Deadlines moved: the queue's stored sort keys follow (the monitor mends them too, should this fail).
async fn refresh_queue(db: &Db) {
    if let Err(e) = crate::tickets::service::refresh_deadlines(db).await {
        tracing::warn!(error = %e, "could not refresh the queue's deadlines");
    }
}

mod cache {
    use super::{BusinessCalendar, Db, Policy, CACHE_FRESH_FOR};
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    use std::time::Instant;

    type Loaded = (Vec<Policy>, BusinessCalendar);

    #[derive(Default)]
    struct Entry {
        /// Bumped by every edit, so a read that started before it is never stored after it.
        generation: u64,
        value: Option<(Instant, Loaded)>,
    }

    static ENTRIES: LazyLock<Mutex<HashMap<String, Entry>>> = LazyLock::new(Default::default);

    fn with<T>(db: &Db, f: impl FnOnce(&mut Entry) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update; the map is still usable.
        let mut map = ENTRIES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(map.entry(db.url().to_string()).or_default())
    }

    pub fn get(db: &Db) -> Option<Loaded> {
        with(db, |e| e.value.as_ref().filter(|(at, _)| at.elapsed() < CACHE_FRESH_FOR).map(|(_, v)| v.clone()))
    }

    pub fn generation(db: &Db) -> u64 {
        with(db, |e| e.generation)
    }

    pub fn put(db: &Db, generation: u64, value: Loaded) {
        with(db, |e| {
            if e.generation == generation {
                e.value = Some((Instant::now(), value));
            }
        })
    }

    pub fn forget(db: &Db) {
        with(db, |e| {
            e.generation += 1;
            e.value = None;
        })
    }
}

/// The two weekly calendars managers edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weekly {
    pub support: WeeklyHours,
    pub live_chat: WeeklyHours,
}

/// `weekly_hours` as both calendars; a calendar with no rows at all falls back to the support plan's hours
/// (the migration seeds them; an empty table would otherwise stop every business-hours clock).
pub async fn load_weekly(db: &Db) -> Result<Weekly, sqlx::Error> {
    let rows = sqlx::query("SELECT calendar, weekday, open_minute, close_minute FROM weekly_hours")
        .fetch_all(&db.pool)
        .await?;
    let (mut support, mut live_chat) = (WeeklyHours::default(), WeeklyHours::default());
    let (mut any_support, mut any_live_chat) = (false, false);
    for r in rows {
        let calendar: String = r.try_get("calendar")?;
        let weekday: i64 = r.try_get("weekday")?;
        let (open, close): (i64, i64) = (r.try_get("open_minute")?, r.try_get("close_minute")?);
        let Some((_, day)) = usize::try_from(weekday - 1).ok().and_then(|i| sla::WEEKDAYS.get(i)) else { continue };
        let (Ok(open), Ok(close)) = (u16::try_from(open), u16::try_from(close)) else { continue };
        let Ok(hours) = DayHours::new(open, close) else { continue };
        let week = match calendar.as_str() {
            "support" => {
                any_support = true;
                &mut support
            }
            "live_chat" => {
                any_live_chat = true;
                &mut live_chat
            }
            _ => continue,
        };
        *sla::day_slot(week, *day) = Some(hours);
    }
    Ok(Weekly {
        support: if any_support { support } else { WeeklyHours::support() },
        live_chat: if any_live_chat { live_chat } else { WeeklyHours::live_chat() },
    })
}

/// The calendars as the API writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyText {
    #[serde(default)]
    pub support: Option<WeekText>,
    #[serde(default)]
    pub live_chat: Option<WeekText>,
}

impl WeeklyText {
    pub fn from_weekly(weekly: &Weekly) -> WeeklyText {
        WeeklyText {
            support: Some(WeekText::from_hours(&weekly.support)),
            live_chat: Some(WeekText::from_hours(&weekly.live_chat)),
        }
    }
}

/// Validates and stores the calendars given (an absent one stays as it is), all in one transaction.
pub async fn save_weekly(db: &Db, text: &WeeklyText) -> Result<Weekly, AppError> {
    let mut errors = FieldErrors::default();
    let mut parsed = Vec::new();
    for (name, week) in [("support", &text.support), ("live_chat", &text.live_chat)] {
        let Some(week) = week else { continue };
        match week.parse(name) {
            Ok(hours) => parsed.push((name, hours)),
            Err(list) => list.into_iter().for_each(|(field, message)| errors.add(&field, message)),
        }
    }
    if text.support.is_none() && text.live_chat.is_none() {
        errors.add("support", "Send support and/or live_chat hours.");
    }
    errors.into_result()?;
    let mut tx = db.begin_write().await?;
    for (name, hours) in parsed {
        sqlx::query("DELETE FROM weekly_hours WHERE calendar = $1").bind(name).execute(&mut *tx).await?;
        for (index, (_, day)) in sla::WEEKDAYS.iter().enumerate() {
            let Some(day_hours) = hours.get(*day) else { continue };
            sqlx::query(
                "INSERT INTO weekly_hours (calendar, weekday, open_minute, close_minute) VALUES ($1, $2, $3, $4)",
            )
            .bind(name)
            .bind(index as i64 + 1)
            .bind(i64::from(day_hours.open_minute))
            .bind(i64::from(day_hours.close_minute))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    cache::forget(db);
    refresh_queue(db).await;
    Ok(load_weekly(db).await?)
}

/// The row for `tier`/`priority`, falling back to the spec's default when the table lacks it.
pub fn policy_or_default(policies: &[Policy], tier: SlaTier, priority: Priority) -> Policy {
    if let Some(policy) = sla::find_policy(policies, tier, priority) {
        return policy.clone();
    }
    let defaults = sla::default_policies();
    sla::find_policy(&defaults, tier, priority).cloned().unwrap_or_else(|| Policy {
        tier,
        priority,
        ..sla::default_policies().remove(0)
    })
}

/// The form/API field name of one policy column, e.g. `platinum.P1.resolution_minutes`.
pub fn policy_field(tier: SlaTier, priority: Priority, column: &str) -> String {
    format!("{tier}.{priority}.{column}")
}

/// Checks every row with [`Policy::check`] and refuses an empty list or a (tier, priority) given twice.
/// Errors name the offending column, e.g. `platinum.P1.resolution_minutes`.
pub fn validate_policies(policies: &[Policy]) -> Result<(), AppError> {
    if policies.is_empty() {
        return Err(AppError::invalid_field("policies", "Send at least one policy row."));
    }
    let mut errors = FieldErrors::default();
    let mut seen = BTreeSet::new();
    for p in policies {
        if !seen.insert((p.tier, p.priority)) {
            errors.add(&format!("{}.{}", p.tier, p.priority), format!("{} {} is listed twice.", p.tier, p.priority));
            continue;
        }
        if let Err(message) = p.check() {
            // `check` tests first response's range first, then resolution's range, then their order.
            let column = if (1..=MAX_TARGET_MINUTES).contains(&p.first_response_minutes) {
                "resolution_minutes"
            } else {
                "first_response_minutes"
            };
            errors.add(&policy_field(p.tier, p.priority, column), message);
        }
    }
    errors.into_result()
}

/// Validates and writes the given rows (a full or partial table) in one transaction; returns the new table.
pub async fn save_policies(db: &Db, policies: &[Policy]) -> Result<Vec<Policy>, AppError> {
    validate_policies(policies)?;
    let mut tx = db.begin_write().await?;
    for p in policies {
        sqlx::query(
            "INSERT INTO sla_policies (tier, priority, first_response_minutes, resolution_minutes, calendar, pause_on_hold) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tier, priority) DO UPDATE SET first_response_minutes = excluded.first_response_minutes, \
             resolution_minutes = excluded.resolution_minutes, calendar = excluded.calendar, \
             pause_on_hold = excluded.pause_on_hold",
        )
        .bind(p.tier.as_str())
        .bind(p.priority.as_str())
        .bind(p.first_response_minutes)
        .bind(p.resolution_minutes)
        .bind(p.calendar.as_str())
        .bind(i64::from(p.pause_on_hold))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    cache::forget(db);
    refresh_queue(db).await;
    Ok(load_policies(db).await?)
}

/// The field name of the `index`th holiday, e.g. `holidays[2]`.
pub fn holiday_field(index: usize) -> String {
    format!("holidays[{index}]")
}

/// Parses `YYYY-MM-DD` days (each a real date), collapsing duplicates; sorted. At most [`MAX_HOLIDAYS`].
pub fn parse_holidays<S: AsRef<str>>(days: &[S]) -> Result<Vec<Date>, AppError> {
    let mut errors = FieldErrors::default();
    let mut set = BTreeSet::new();
    for (index, raw) in days.iter().enumerate() {
        let raw = raw.as_ref().trim();
        match parse_day(raw) {
            Some(day) => {
                set.insert(day);
            }
            None => {
                errors.add(&holiday_field(index), format!("{raw:?} is not a date: use YYYY-MM-DD, e.g. 2026-12-25."))
            }
        }
    }
    errors.into_result()?;
    if set.len() > MAX_HOLIDAYS {
        return Err(AppError::invalid_field(
            "holidays",
            format!("List at most {MAX_HOLIDAYS} holidays, not {}.", set.len()),
        ));
    }
    Ok(set.into_iter().collect())
}

/// Exactly `YYYY-MM-DD` naming a real day.
fn parse_day(raw: &str) -> Option<Date> {
    let shape_ok = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shape_ok {
        return None;
    }
    let day = raw.parse::<Date>().ok()?;
    (day.to_string() == raw).then_some(day)
}

/// Replaces the holiday list with `days` in one transaction; returns the stored list, sorted.
pub async fn replace_holidays(db: &Db, days: &[Date]) -> Result<Vec<Date>, AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM holidays").execute(&mut *tx).await?;
    for day in days {
        sqlx::query("INSERT INTO holidays (day) VALUES ($1)").bind(day.to_string()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    cache::forget(db);
    refresh_queue(db).await;
    Ok(load_holidays(db).await?)
}

/// When a ticket of `tier`/`priority` opened at `at` would be due (first response, resolution).
pub async fn preview(
    db: &Db,
    tier: SlaTier,
    priority: Priority,
    at: Timestamp,
) -> Result<(Timestamp, Timestamp), sqlx::Error> {
    let (policies, support) = load_policies_and_calendar(db).await?;
    let policy = policy_or_default(&policies, tier, priority);
    Ok(sla::preview(&policy, &support, at))
}

/// Whether a calendar is open now and when that next changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenStatus {
    pub open: bool,
    pub next_change_at: Option<String>,
}

/// `GET /api/v1/hours`: both calendars at `now`, and the holiday list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HoursReport {
    pub support: OpenStatus,
    pub live_chat: OpenStatus,
    pub holidays: Vec<String>,
    /// The weekly hours of both calendars, Eastern time.
    pub weekly: WeeklyText,
}

pub async fn hours(db: &Db, now: Timestamp) -> Result<HoursReport, sqlx::Error> {
    let holidays = load_holidays(db).await?;
    let weekly = load_weekly(db).await?;
    let status = |cal: &BusinessCalendar| {
        let (open, next) = sla::hours_status(cal, now);
        OpenStatus { open, next_change_at: next.map(|t| crate::db::rfc3339(t.as_second())) }
    };
    Ok(HoursReport {
        support: status(&BusinessCalendar::new(weekly.support, holidays.iter().copied())),
        live_chat: status(&BusinessCalendar::new(weekly.live_chat, holidays.iter().copied())),
        holidays: holidays.iter().map(Date::to_string).collect(),
        weekly: WeeklyText::from_weekly(&weekly),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_errors_name_the_column() {
        let mut rows = sla::default_policies();
        rows[0].resolution_minutes = 10; // platinum P1: shorter than first response (60)
        rows[5].first_response_minutes = 0; // general P2
        let e = validate_policies(&rows).unwrap_err();
        assert_eq!(e.status, 422);
        assert!(e.field("platinum.P1.resolution_minutes").is_some(), "{e:?}");
        assert!(e.field("general.P2.first_response_minutes").is_some(), "{e:?}");
        assert_eq!(validate_policies(&sla::default_policies()), Ok(()));
        let twice = vec![rows[1].clone(), rows[1].clone()];
        assert!(validate_policies(&twice).unwrap_err().field("platinum.P2").is_some());
        assert!(validate_policies(&[]).is_err());
    }

    #[test]
    fn holidays_parse_strictly() {
        let days = parse_holidays(&["2026-12-25", "2026-01-01", "2026-12-25", " 2026-07-03 "]).unwrap();
        let text: Vec<String> = days.iter().map(Date::to_string).collect();
        assert_eq!(text, ["2026-01-01", "2026-07-03", "2026-12-25"]);
        for bad in ["2026-02-30", "2026-1-01", "26-01-01", "2026/01/01", "", "+02026-01-01"] {
            let e = parse_holidays(&["2026-12-25", bad]).unwrap_err();
            assert!(e.field("holidays[1]").is_some(), "{bad}: {e:?}");
        }
        let many: Vec<String> =
            (0..367).map(|i| (Date::constant(2026, 1, 1) + jiff::Span::new().days(i)).to_string()).collect();
        assert!(parse_holidays(&many).unwrap_err().field("holidays").is_some());
        assert_eq!(parse_holidays(&many[..366]).unwrap().len(), 366);
    }
}
