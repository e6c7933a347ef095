//! Manager metrics and the ticket export: what `GET /api/v1/sla/summary`, `/admin/metrics` and
//! `GET /api/v1/tickets/export.csv` show. The arithmetic is here, as plain functions over plain facts, tested
//! without a database; [`service`] loads the facts.
//!
//! # Definitions (the contract)
//!
//! Instants are compared as Unix seconds; days are America/New_York calendar days.
//!
//! - **Window** of `days` (1..=365): from the start of the Eastern day `days − 1` days before today up to now,
//!   so "7 days" is today and the six days before it, and the per-day chart adds up to the window. A ticket is
//!   *in the window* when it was created in it.
//! - **Open tickets by priority**: every ticket not resolved or closed, whenever it was opened; P1..P4, zeros
//!   included.
//! - **SLA compliance per clock** (first response, resolution): each window ticket's clock evaluated now (the
//!   same evaluation as the ticket views). `met` = state Met; `breached` = state Breached (stopped late, or still
//!   running past its due time); on track, at risk and paused have no outcome yet and are left out.
//!   `compliance = met / (met + breached)`, `null` when there is no outcome. **Both targets**: a window ticket
//!   counts as breached when either clock is Breached, as met when both are Met, otherwise it is left out.
//!   Target: [`COMPLIANCE_TARGET`].
//! - **Median first response**: wall-clock seconds `first_response_at − created_at` over the window tickets that
//!   have a first response; with an even count, the floor of the mean of the two middle values; `null` if none.
//! - **Satisfaction**: the survey answers given in the window (by their own `created_at`): `rate = good / (good +
//!   bad)`, `null` without answers; target [`SATISFACTION_TARGET`]. Split by the surveyed ticket's SLA, evaluated
//!   now: `sla_met` when neither clock is Breached, `sla_breached` when either is.
//! - **Tickets per day**: for each of the window's `days` Eastern days, oldest first, zero days included: how
//!   many tickets were created that day and how many were resolved that day (a resolved or closed ticket's
//!   `resolved_at`, whenever it was created).
//! - **Per agent** (every agent and manager, by id): `open_assigned` = open tickets assigned to them now;
//!   `resolved` = tickets assigned to them whose `resolved_at` is in the window; `replies` = public replies they
//!   wrote in the window; `survey_good` / `survey_total` = the window's survey answers on tickets assigned to
//!   them now.
//! - **Today's calls**: bookings starting on today's Eastern date, any status, by start time.
//!
//! # Export
//! `from` and `to` are inclusive Eastern dates of `created_at`; by default the last [`EXPORT_DEFAULT_DAYS`] days
//! up to today; at most [`EXPORT_MAX_DAYS`] days. Cells go through [`csv_cell`] (formula injection and quoting).

use crate::accounts::Level;
use crate::booking::calls::{BookingStatus, Platform};
use crate::error::{AppError, AppResult};
use crate::sla::{Priority, SlaState};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;

pub const DEFAULT_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 365;
/// Share of tickets that should meet their targets.
pub const COMPLIANCE_TARGET: f64 = 0.95;
/// Share of survey answers that should be Good.
pub const SATISFACTION_TARGET: f64 = 0.95;
pub const EXPORT_DEFAULT_DAYS: i64 = 30;
pub const EXPORT_MAX_DAYS: i64 = 366;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenByPriority {
    #[serde(rename = "P1")]
    pub p1: i64,
    #[serde(rename = "P2")]
    pub p2: i64,
    #[serde(rename = "P3")]
    pub p3: i64,
    #[serde(rename = "P4")]
    pub p4: i64,
}

impl OpenByPriority {
    pub fn get(&self, p: Priority) -> i64 {
        match p {
            Priority::P1 => self.p1,
            Priority::P2 => self.p2,
            Priority::P3 => self.p3,
            Priority::P4 => self.p4,
        }
    }

    fn add(&mut self, p: Priority, n: i64) {
        match p {
            Priority::P1 => self.p1 += n,
            Priority::P2 => self.p2 += n,
            Priority::P3 => self.p3 += n,
            Priority::P4 => self.p4 += n,
        }
    }
}

/// Met and breached outcomes of one clock (or of both targets) and their ratio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Compliance {
    pub met: i64,
    pub breached: i64,
    pub compliance: Option<f64>,
}

/// Good and bad survey answers and their ratio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub good: i64,
    pub bad: i64,
    pub rate: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Satisfaction {
    pub good: i64,
    pub bad: i64,
    pub rate: Option<f64>,
    pub target: f64,
    pub sla_met: Rate,
    pub sla_breached: Rate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// YYYY-MM-DD, Eastern.
    pub date: String,
    pub created: i64,
    pub resolved: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStats {
    pub id: i64,
    pub name: String,
    pub level: Option<Level>,
    pub open_assigned: i64,
    pub resolved: i64,
    pub replies: i64,
    pub survey_good: i64,
    pub survey_total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallToday {
    pub id: i64,
    /// RFC 3339.
    pub start: String,
    pub start_epoch: i64,
    pub duration_minutes: i64,
    pub platform: Platform,
    pub status: BookingStatus,
    pub topic: String,
    pub agent_id: i64,
    pub agent_name: String,
    pub customer_id: i64,
    pub customer_name: String,
}

/// Everything `GET /api/v1/sla/summary` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub days: i64,
    pub generated_at: String,
    /// Start of the window (RFC 3339): midnight Eastern, `days − 1` days ago.
    pub window_start: String,
    pub open_by_priority: OpenByPriority,
    pub first_response: Compliance,
    pub resolution: Compliance,
    pub both_targets: Compliance,
    pub compliance_target: f64,
    pub median_first_response_seconds: Option<i64>,
    pub satisfaction: Satisfaction,
    pub per_day: Vec<DayCount>,
    pub agents: Vec<AgentStats>,
    pub calls_today: Vec<CallToday>,
}

// ---- facts in ----------------------------------------------------------------------------------------------

/// A ticket's creation, first response and both clocks' states evaluated now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketFacts {
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub first: SlaState,
    pub resolution: SlaState,
}

/// One survey answer with what the split and the per-agent table need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SurveyFact {
    pub created_at: i64,
    pub good: bool,
    /// Either clock of the surveyed ticket is Breached now.
    pub sla_breached: bool,
    pub assignee_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentFact {
    pub id: i64,
    pub name: String,
    pub level: Option<Level>,
}

/// The facts [`summarize`] works from. Lists may hold more than the window; [`summarize`] filters by instant.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub now: i64,
    pub days: i64,
    /// Open tickets now: (priority, assignee, how many).
    pub open: Vec<(Priority, Option<i64>, i64)>,
    /// Tickets with their clocks (at least those created in the window).
    pub tickets: Vec<TicketFacts>,
    /// Resolved or closed tickets: (assignee, resolved_at).
    pub resolutions: Vec<(Option<i64>, i64)>,
    /// Public replies in the window by author: (author, how many).
    pub replies: Vec<(i64, i64)>,
    pub surveys: Vec<SurveyFact>,
    pub agents: Vec<AgentFact>,
    pub calls_today: Vec<CallToday>,
}

// ---- arithmetic ---------------------------------------------------------------------------------------------

fn eastern_date(seconds: i64) -> Date {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(crate::sla::eastern().clone()).date()
}

/// Unix seconds → RFC 3339 in UTC (`2026-12-04T22:00:00Z`); also in the browser build.
pub fn rfc3339(seconds: i64) -> String {
    Timestamp::from_second(seconds).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// The first instant of an Eastern day, as Unix seconds.
pub fn start_of_day(date: Date) -> i64 {
    date.to_zoned(crate::sla::eastern().clone()).map(|z| z.timestamp().as_second()).unwrap_or(0)
}

/// Today's Eastern date at `now`.
pub fn today(now: i64) -> Date {
    eastern_date(now)
}

fn days_before(date: Date, n: i64) -> Date {
    date.checked_sub(jiff::Span::new().days(n)).unwrap_or(date)
}

/// The window's first day and first instant: `days − 1` Eastern days before today.
pub fn window_start(now: i64, days: i64) -> (Date, i64) {
    let first = days_before(today(now), days.clamp(1, MAX_DAYS) - 1);
    (first, start_of_day(first))
}

/// `part / (part + other)`, or `None` when both are zero.
pub fn ratio(part: i64, other: i64) -> Option<f64> {
    let total = part + other;
    (total > 0).then(|| part as f64 / total as f64)
}

/// Outcomes of one clock over `states`: Met and Breached count, the rest have no outcome yet.
pub fn compliance(states: impl IntoIterator<Item = SlaState>) -> Compliance {
    let (mut met, mut breached) = (0, 0);
    for state in states {
        match state {
            SlaState::Met => met += 1,
            SlaState::Breached => breached += 1,
            SlaState::OnTrack | SlaState::AtRisk | SlaState::Paused => {}
        }
    }
    Compliance { met, breached, compliance: ratio(met, breached) }
}

/// Both targets: breached when either clock is Breached, met when both are Met, else no outcome yet.
pub fn both_targets(tickets: &[TicketFacts]) -> Compliance {
    compliance(tickets.iter().map(|t| match (t.first, t.resolution) {
        (SlaState::Breached, _) | (_, SlaState::Breached) => SlaState::Breached,
        (SlaState::Met, SlaState::Met) => SlaState::Met,
        _ => SlaState::OnTrack,
    }))
}

/// The median; with an even count the floor of the mean of the two middle values.
pub fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]).div_euclid(2)),
    }
}

fn rate(good: i64, bad: i64) -> Rate {
    Rate { good, bad, rate: ratio(good, bad) }
}

/// Satisfaction over `surveys`, split by the surveyed ticket's SLA.
pub fn satisfaction(surveys: &[SurveyFact]) -> Satisfaction {
    let count = |filter: &dyn Fn(&SurveyFact) -> bool| {
        let good = surveys.iter().filter(|s| filter(s) && s.good).count() as i64;
        let bad = surveys.iter().filter(|s| filter(s) && !s.good).count() as i64;
        rate(good, bad)
    };
    let all = count(&|_| true);
    Satisfaction {
        good: all.good,
        bad: all.bad,
        rate: all.rate,
        target: SATISFACTION_TARGET,
        sla_met: count(&|s| !s.sla_breached),
        sla_breached: count(&|s| s.sla_breached),
    }
}

/// Created and resolved counts for each of the `days` Eastern days up to today (oldest first, zeros included).
/// Instants outside those days are ignored.
pub fn per_day(now: i64, days: i64, created: &[i64], resolved: &[i64]) -> Vec<DayCount> {
    let (first, _) = window_start(now, days);
    let last = today(now);
    let mut out = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut day = first;
    while day <= last {
        index.insert(day, out.len());
        out.push(DayCount { date: day.to_string(), created: 0, resolved: 0 });
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    for &at in created {
        if let Some(&i) = index.get(&eastern_date(at)) {
            out[i].created += 1;
        }
    }
    for &at in resolved {
        if let Some(&i) = index.get(&eastern_date(at)) {
            out[i].resolved += 1;
        }
    }
    out
}

/// The whole summary from its facts (see the module docs for each definition).
pub fn summarize(facts: &Facts) -> Summary {
    let days = facts.days.clamp(1, MAX_DAYS);
    let (_, start) = window_start(facts.now, days);
    let in_window = |at: i64| at >= start && at <= facts.now;
    let mut open_by_priority = OpenByPriority::default();
    for &(priority, _, n) in &facts.open {
        open_by_priority.add(priority, n);
    }
    let window: Vec<TicketFacts> = facts.tickets.iter().copied().filter(|t| in_window(t.created_at)).collect();
    let resolutions: Vec<(Option<i64>, i64)> =
        facts.resolutions.iter().copied().filter(|(_, at)| in_window(*at)).collect();
    let surveys: Vec<SurveyFact> = facts.surveys.iter().copied().filter(|s| in_window(s.created_at)).collect();
    let first_response_times =
        window.iter().filter_map(|t| t.first_response_at.map(|at| at - t.created_at)).collect::<Vec<_>>();
    let created: Vec<i64> = window.iter().map(|t| t.created_at).collect();
    let resolved: Vec<i64> = resolutions.iter().map(|(_, at)| *at).collect();
    let agents = facts
        .agents
        .iter()
        .map(|a| {
            let mine = |assignee: Option<i64>| assignee == Some(a.id);
            let on_mine: Vec<&SurveyFact> = surveys.iter().filter(|s| mine(s.assignee_id)).collect();
            AgentStats {
                id: a.id,
                name: a.name.clone(),
                level: a.level,
                open_assigned: facts.open.iter().filter(|(_, who, _)| mine(*who)).map(|(_, _, n)| n).sum(),
                resolved: resolutions.iter().filter(|(who, _)| mine(*who)).count() as i64,
                replies: facts.replies.iter().filter(|(who, _)| *who == a.id).map(|(_, n)| n).sum(),
                survey_good: on_mine.iter().filter(|s| s.good).count() as i64,
                survey_total: on_mine.len() as i64,
            }
        })
        .collect();
    Summary {
        days,
        generated_at: rfc3339(facts.now),
        window_start: rfc3339(start),
        open_by_priority,
        first_response: compliance(window.iter().map(|t| t.first)),
        resolution: compliance(window.iter().map(|t| t.resolution)),
        both_targets: both_targets(&window),
        compliance_target: COMPLIANCE_TARGET,
        median_first_response_seconds: median(first_response_times),
        satisfaction: satisfaction(&surveys),
        per_day: per_day(facts.now, days, &created, &resolved),
        agents,
        calls_today: facts.calls_today.clone(),
    }
}

// ---- input checks -------------------------------------------------------------------------------------------

/// `?days=`: 1..=365, default 30.
pub fn check_days(raw: Option<&str>) -> AppResult<i64> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(DEFAULT_DAYS),
        Some(raw) => raw.parse::<i64>().ok().filter(|d| (1..=MAX_DAYS).contains(d)).ok_or_else(|| {
            AppError::invalid_field("days", format!("Use a whole number of days from 1 to {MAX_DAYS}."))
        }),
    }
}

fn parse_date(raw: &str, field: &str) -> AppResult<Date> {
    raw.parse::<Date>()
        .map_err(|_| AppError::invalid_field(field, format!("{raw:?} is not a date; use YYYY-MM-DD, e.g. 2026-12-04.")))
}

/// The export's inclusive Eastern date range: `to` defaults to today, `from` to 29 days before `to`.
/// `from` after `to` is refused on `from`; more than [`EXPORT_MAX_DAYS`] days on `to`.
pub fn export_range(from: Option<&str>, to: Option<&str>, today: Date) -> AppResult<(Date, Date)> {
    fn blank(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let to = match blank(to) {
        Some(raw) => parse_date(raw, "to")?,
        None => today,
    };
    let from = match blank(from) {
        Some(raw) => parse_date(raw, "from")?,
        None => days_before(to, EXPORT_DEFAULT_DAYS - 1),
    };
    if from > to {
        return Err(AppError::invalid_field("from", "The start date is after the end date."));
    }
    let span = from.until(to).map(|s| i64::from(s.get_days()) + 1).unwrap_or(i64::MAX);
    if span > EXPORT_MAX_DAYS {
        return Err(AppError::invalid_field("to", format!("Export at most {EXPORT_MAX_DAYS} days at a time.")));
    }
    Ok((from, to))
}

/// The instants `[start, end)` that the inclusive Eastern days `from..=to` cover.
pub fn day_range(from: Date, to: Date) -> (i64, i64) {
    let end = to.tomorrow().map(start_of_day).unwrap_or(i64::MAX);
    (start_of_day(from), end)
}

pub fn export_filename(from: Date, to: Date) -> String {
    format!("tickets-{from}-to-{to}.csv")
}

pub const EXPORT_COLUMNS: [&str; 15] = [
    "id",
    "created_at",
    "subject",
    "category",
    "priority",
    "tier",
    "status",
    "level",
    "requester_email",
    "assignee",
    "first_response_at",
    "first_response_sla",
    "resolved_at",
    "resolution_sla",
    "satisfaction",
];

/// One CSV cell. A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
/// return) gets a leading `'`; a cell with a comma, quote, CR or LF is quoted, with its quotes doubled.
pub fn csv_cell(raw: &str) -> String {
    let mut cell = String::with_capacity(raw.len() + 2);
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    cell.push_str(raw);
    if cell.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// One CSV record, CRLF-terminated (RFC 4180).
pub fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// "97 %", or "—" when there is nothing to divide.
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{} %", (v * 100.0).floor() as i64),
        None => "—".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use SlaState::*;

    fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> i64 {
        date(y, m, d).at(h, min, 0, 0).to_zoned(crate::sla::eastern().clone()).unwrap().timestamp().as_second()
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![42]), Some(42));
        // odd: sorted 60, 600, 3600 → 600
        assert_eq!(median(vec![3600, 60, 600]), Some(600));
        // even: sorted 60, 600, 3600, 7200 → (600 + 3600) / 2 = 2100
        assert_eq!(median(vec![7200, 600, 3600, 60]), Some(2100));
        // even with an odd sum: (1 + 2) / 2 = 1.5 → floor 1
        assert_eq!(median(vec![2, 1]), Some(1));
    }

    #[test]
    fn rates_and_compliance() {
        assert_eq!(ratio(0, 0), None);
        assert_eq!(ratio(19, 1), Some(0.95));
        // 3 met, 1 breached, on track / at risk / paused left out → 3 / 4 = 0.75
        let c = compliance([Met, Met, Breached, OnTrack, AtRisk, Paused, Met]);
        assert_eq!((c.met, c.breached, c.compliance), (3, 1, Some(0.75)));
        assert_eq!(compliance([OnTrack, Paused]).compliance, None);
        let t = |first, resolution| TicketFacts { created_at: 0, first_response_at: None, first, resolution };
        // (Met, Met) met; (Met, Breached) and (Breached, OnTrack) breached; (Met, OnTrack) no outcome → 1 / 3
        let both = both_targets(&[t(Met, Met), t(Met, Breached), t(Breached, OnTrack), t(Met, OnTrack)]);
        assert_eq!((both.met, both.breached), (1, 2));
        assert_eq!(percent(Some(0.956)), "95 %");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn satisfaction_split() {
        let s = |good, sla_breached| SurveyFact { created_at: 0, good, sla_breached, assignee_id: None };
        // 4 good + 1 bad on met tickets, 1 good + 2 bad on breached ones:
        // all 5 / 8 = 0.625; met 4 / 5 = 0.8; breached 1 / 3
        let sat = satisfaction(&[
            s(true, false),
            s(true, false),
            s(true, false),
            s(true, false),
            s(false, false),
            s(true, true),
            s(false, true),
            s(false, true),
        ]);
        assert_eq!((sat.good, sat.bad, sat.rate), (5, 3, Some(0.625)));
        assert_eq!((sat.sla_met.good, sat.sla_met.bad, sat.sla_met.rate), (4, 1, Some(0.8)));
        assert_eq!((sat.sla_breached.good, sat.sla_breached.bad), (1, 2));
        assert_eq!(sat.target, 0.95);
        assert_eq!(satisfaction(&[]).rate, None);
    }

    #[test]
    fn per_day_buckets_follow_eastern_days_across_the_dst_change() {
        // Clocks go forward on Sunday 2026-03-08 at 02:00 EST → 03:00 EDT. Now is Tue 2026-03-10 12:00 EDT;
        // 4 days: Mar 7, 8, 9, 10.
        let now = at(2026, 3, 10, 12, 0);
        let created = [
            at(2026, 3, 7, 0, 0),   // Sat, first instant of the window
            at(2026, 3, 7, 23, 59), // Sat (04:59 UTC on Mar 8: a UTC bucketing would say Sunday)
            at(2026, 3, 8, 1, 59),  // Sun, before the change (EST)
            at(2026, 3, 8, 3, 0),   // Sun, after the change (EDT)
            at(2026, 3, 8, 23, 30), // Sun (03:30 UTC on Mar 9)
            at(2026, 3, 6, 23, 59), // Fri: before the window, ignored
            at(2026, 3, 10, 11, 0), // Tue
        ];
        let resolved = [at(2026, 3, 9, 0, 0), at(2026, 3, 9, 23, 59)];
        let days = per_day(now, 4, &created, &resolved);
        let got: Vec<(&str, i64, i64)> = days.iter().map(|d| (d.date.as_str(), d.created, d.resolved)).collect();
        assert_eq!(got, [("2026-03-07", 2, 0), ("2026-03-08", 3, 0), ("2026-03-09", 0, 2), ("2026-03-10", 1, 0)]);
        // The window starts at Eastern midnight (EST, UTC−5) of the first day.
        assert_eq!(window_start(now, 4).1, at(2026, 3, 7, 0, 0));
        assert_eq!(rfc3339(window_start(now, 4).1), "2026-03-07T05:00:00Z");
        // The autumn change: Sunday 2026-11-01 has 25 hours; 23:30 EST that day is 04:30 UTC on Nov 2.
        let now = at(2026, 11, 2, 9, 0);
        let days = per_day(now, 2, &[at(2026, 11, 1, 0, 30), at(2026, 11, 1, 23, 30)], &[]);
        assert_eq!(days[0], DayCount { date: "2026-11-01".into(), created: 2, resolved: 0 });
        assert_eq!(days[1].created, 0);
        assert_eq!(per_day(now, 1, &[], &[]).len(), 1);
    }

    #[test]
    fn a_whole_summary_by_hand() {
        // Now: Wed 2026-06-10 15:00 EDT; window of 7 days = Thu Jun 4 00:00 EDT .. now.
        let now = at(2026, 6, 10, 15, 0);
        let t = |created_at, first_response: Option<i64>, first, resolution| TicketFacts {
            created_at,
            first_response_at: first_response.map(|s| created_at + s),
            first,
            resolution,
        };
        let facts = Facts {
            now,
            days: 7,
            // open: 2 × P1 (one for agent 1), 1 × P3 for agent 2 → P1 2, P2 0, P3 1, P4 0
            open: vec![(Priority::P1, Some(1), 1), (Priority::P1, None, 1), (Priority::P3, Some(2), 1)],
            tickets: vec![
                t(at(2026, 6, 10, 9, 0), Some(600), Met, Met),      // first 600 s
                t(at(2026, 6, 9, 9, 0), Some(7200), Breached, Met), // first 7200 s
                t(at(2026, 6, 8, 9, 0), Some(1800), Met, Breached), // first 1800 s
                t(at(2026, 6, 4, 0, 0), None, OnTrack, OnTrack),    // first day's first instant: in
                t(at(2026, 6, 3, 23, 59), Some(60), Met, Met),      // the day before: out
            ],
            // resolved in the window: agent 1 twice, agent 2 once; one before the window (out)
            resolutions: vec![
                (Some(1), at(2026, 6, 10, 10, 0)),
                (Some(1), at(2026, 6, 9, 12, 0)),
                (Some(2), at(2026, 6, 9, 13, 0)),
                (Some(2), at(2026, 6, 1, 13, 0)),
            ],
            replies: vec![(1, 4), (3, 2)],
            surveys: vec![
                SurveyFact {
                    created_at: at(2026, 6, 10, 11, 0),
                    good: true,
                    sla_breached: false,
                    assignee_id: Some(1),
                },
                SurveyFact { created_at: at(2026, 6, 9, 14, 0), good: false, sla_breached: true, assignee_id: Some(1) },
                SurveyFact { created_at: at(2026, 6, 9, 15, 0), good: true, sla_breached: true, assignee_id: Some(2) },
                // before the window: ignored
                SurveyFact {
                    created_at: at(2026, 6, 2, 15, 0),
                    good: false,
                    sla_breached: false,
                    assignee_id: Some(2),
                },
            ],
            agents: vec![
                AgentFact { id: 1, name: "Ana".into(), level: Some(Level::L1) },
                AgentFact { id: 2, name: "Bo".into(), level: Some(Level::L2) },
                AgentFact { id: 3, name: "Cy".into(), level: Some(Level::L4) },
            ],
            calls_today: vec![],
        };
        let s = summarize(&facts);
        assert_eq!(s.open_by_priority, OpenByPriority { p1: 2, p2: 0, p3: 1, p4: 0 });
        // window: 4 tickets. first response: Met, Breached, Met, OnTrack → 2 / 3
        assert_eq!((s.first_response.met, s.first_response.breached), (2, 1));
        // resolution: Met, Met, Breached, OnTrack → 2 / 3
        assert_eq!((s.resolution.met, s.resolution.breached), (2, 1));
        // both: (Met, Met) met; (Breached, Met), (Met, Breached) breached; (OnTrack, OnTrack) none → 1 / 3
        assert_eq!((s.both_targets.met, s.both_targets.breached), (1, 2));
        // median of 600, 7200, 1800 → sorted 600, 1800, 7200 → 1800
        assert_eq!(s.median_first_response_seconds, Some(1800));
        // surveys in window: good, bad (breached), good (breached) → 2 / 3; met split 1 / 1; breached 1 good 1 bad
        assert_eq!((s.satisfaction.good, s.satisfaction.bad), (2, 1));
        assert_eq!((s.satisfaction.sla_met.good, s.satisfaction.sla_met.bad), (1, 0));
        assert_eq!((s.satisfaction.sla_breached.good, s.satisfaction.sla_breached.bad), (1, 1));
        // per day Jun 4..10: created Jun 4 1, Jun 8 1, Jun 9 1, Jun 10 1; resolved Jun 9 2, Jun 10 1
        let got: Vec<(i64, i64)> = s.per_day.iter().map(|d| (d.created, d.resolved)).collect();
        assert_eq!(got, [(1, 0), (0, 0), (0, 0), (0, 0), (1, 0), (1, 2), (1, 1)]);
        assert_eq!((s.per_day[0].date.as_str(), s.per_day[6].date.as_str()), ("2026-06-04", "2026-06-10"));
        // agents: 1 → open 1, resolved 2, replies 4, surveys 1 good of 2; 2 → open 1, resolved 1, replies 0,
        // surveys 1 of 1; 3 → nothing but 2 replies
        let rows: Vec<(i64, i64, i64, i64, i64)> =
            s.agents.iter().map(|a| (a.open_assigned, a.resolved, a.replies, a.survey_good, a.survey_total)).collect();
        assert_eq!(rows, [(1, 2, 4, 1, 2), (1, 1, 0, 1, 1), (0, 0, 2, 0, 0)]);
        assert_eq!(s.window_start, "2026-06-04T04:00:00Z");
        // A fresh portal: zeros and nulls, never a failure.
        let empty = summarize(&Facts { now, days: 30, ..Default::default() });
        assert_eq!((empty.first_response.compliance, empty.median_first_response_seconds), (None, None));
        assert_eq!(empty.per_day.len(), 30);
        assert!(empty.per_day.iter().all(|d| d.created == 0 && d.resolved == 0));
    }

    #[test]
    fn days_parameter() {
        assert_eq!(check_days(None).unwrap(), 30);
        assert_eq!(check_days(Some("7")).unwrap(), 7);
        assert_eq!(check_days(Some("365")).unwrap(), 365);
        for bad in ["0", "366", "-1", "x", "7.5"] {
            assert!(check_days(Some(bad)).unwrap_err().field("days").is_some(), "{bad}");
        }
    }

    #[test]
    fn export_ranges() {
        let today = date(2026, 6, 10);
        assert_eq!(export_range(None, None, today).unwrap(), (date(2026, 5, 12), today));
        assert_eq!(export_range(Some("2026-06-01"), None, today).unwrap(), (date(2026, 6, 1), today));
        assert_eq!(export_range(None, Some("2026-01-31"), today).unwrap(), (date(2026, 1, 2), date(2026, 1, 31)));
        assert_eq!(export_range(Some("2026-06-01"), Some("2026-06-01"), today).unwrap().0, date(2026, 6, 1));
        assert!(export_range(Some("2026-06-02"), Some("2026-06-01"), today).unwrap_err().field("from").is_some());
        assert!(export_range(Some("2026-13-01"), None, today).unwrap_err().field("from").is_some());
        assert!(export_range(None, Some("yesterday"), today).unwrap_err().field("to").is_some());
        // 2025-01-01..=2026-01-01 is 366 days (2025 has 365): allowed; one more day is not.
        assert!(export_range(Some("2025-01-01"), Some("2026-01-01"), today).is_ok());
        assert!(export_range(Some("2025-01-01"), Some("2026-01-02"), today).unwrap_err().field("to").is_some());
        // Inclusive Eastern days: June 1 (EDT) starts 04:00 UTC; the range ends at June 3 00:00 EDT.
        let (start, end) = day_range(date(2026, 6, 1), date(2026, 6, 2));
        assert_eq!((rfc3339(start).as_str(), end - start), ("2026-06-01T04:00:00Z", 2 * 86_400));
        assert_eq!(export_filename(date(2026, 6, 1), today), "tickets-2026-06-01-to-2026-06-10.csv");
    }

    #[test]
    fn csv_cells_cannot_become_formulas_and_are_quoted() {
        assert_eq!(csv_cell("plain text"), "plain text");
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1:A2)"), "'@SUM(A1:A2)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        // Only the start counts: a minus inside is fine.
        assert_eq!(csv_cell("P1 - urgent"), "P1 - urgent");
        assert_eq!(csv_cell("2026-06-01T04:00:00Z"), "2026-06-01T04:00:00Z");
        assert_eq!(csv_line(&["1", "a,b", "=1+1"]), "1,\"a,b\",'=1+1\r\n");
    }
}
