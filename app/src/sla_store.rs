//! Reading and writing the SLA policy table and the holiday list, and the rules both the REST API
//! (`/api/v1/sla…`, `/api/v1/hours…`) and the settings page's server functions apply to them.
//!
//! Every write happens in one transaction: a request either changes everything it asked for or nothing.

use crate::db::Db;
use crate::error::{AppError, FieldErrors};
use crate::sla::{self, BusinessCalendar, Policy, Priority, SlaTier, MAX_TARGET_MINUTES};
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
pub async fn load_policies_and_calendar(db: &Db) -> Result<(Vec<Policy>, BusinessCalendar), sqlx::Error> {
    let policies = load_policies(db).await?;
    let holidays = load_holidays(db).await?;
    Ok((policies, BusinessCalendar::support(holidays)))
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
}

pub async fn hours(db: &Db, now: Timestamp) -> Result<HoursReport, sqlx::Error> {
    let holidays = load_holidays(db).await?;
    let status = |cal: &BusinessCalendar| {
        let (open, next) = sla::hours_status(cal, now);
        OpenStatus { open, next_change_at: next.map(|t| crate::db::rfc3339(t.as_second())) }
    };
    Ok(HoursReport {
        support: status(&BusinessCalendar::support(holidays.iter().copied())),
        live_chat: status(&BusinessCalendar::live_chat(holidays.iter().copied())),
        holidays: holidays.iter().map(Date::to_string).collect(),
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
