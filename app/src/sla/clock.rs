//! Evaluating one SLA clock (first response or resolution) at a given instant.
//!
//! Rules for `due_at` and `at_risk_at`: both are "the instant the clock's consumption reaches the threshold",
//! computed from the recorded run/pause history up to `min(now, stopped_at)` and, after that, assuming the clock
//! runs without further pauses. Consequences:
//! - running clock: `add_open_seconds(now, remaining)`;
//! - paused clock: the same, as if it resumed now;
//! - stopped in time (met): `add_open_seconds(stopped_at, remaining_at_stop)`, i.e. the deadline it beat;
//! - breached (stopped or not): the instant the budget actually ran out, in the past.
//!
//! The same rule gives `at_risk_at`, which is therefore in the past once the clock is at risk.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::calendar::{from_secs, to_secs, Hours};

pub const DEFAULT_AT_RISK_RATIO: f64 = 0.75;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTrack,
    AtRisk,
    Breached,
    Met,
    Paused,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
            SlaState::Met => "met",
            SlaState::Paused => "paused",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ClockInput<'a> {
    pub started_at: Timestamp,
    pub target_minutes: i64,
    pub hours: Hours<'a>,
    /// Pause intervals `[start, end)`; `None` end = still paused. The caller picks them: waiting on the customer,
    /// on hold when the policy pauses on hold, and resolved-then-reopened periods (resolution clock). They may
    /// overlap, be unsorted, or reach outside the clock's life: they are clipped and merged.
    pub pauses: &'a [(Timestamp, Option<Timestamp>)],
    /// When the clock stopped (first public reply, resolution). Met or breached is decided here.
    pub stopped_at: Option<Timestamp>,
    /// Fraction of the target after which a running clock is at risk; [`DEFAULT_AT_RISK_RATIO`] normally.
    pub at_risk_ratio: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockStatus {
    pub state: SlaState,
    /// See the module docs for paused, met and breached clocks.
    pub due_at: Timestamp,
    /// Open seconds of budget left (at the stop, for a stopped clock); negative once breached.
    pub remaining_seconds: i64,
    /// Consumed / target (can exceed 1).
    pub used_ratio: f64,
    pub at_risk_at: Timestamp,
    /// Open seconds consumed so far (until the stop, for a stopped clock).
    pub consumed_seconds: i64,
}

/// The clock's history in epoch seconds: the stretches during which it ran, up to `end`.
struct History<'a> {
    hours: Hours<'a>,
    start: i64,
    running: Vec<(i64, i64)>,
    end: i64,
}

impl History<'_> {
    fn consumed(&self) -> i64 {
        self.running.iter().fold(0i64, |sum, &(a, b)| sum.saturating_add(self.hours.open_secs_between(a, b)))
    }

    /// The instant consumption reaches `amount`: inside the history if it got that far, else projected from
    /// `end` with no further pauses.
    fn instant_of(&self, amount: i64) -> i64 {
        if amount <= 0 {
            return self.start;
        }
        let mut left = amount;
        for &(a, b) in &self.running {
            let available = self.hours.open_secs_between(a, b);
            if left <= available {
                return self.hours.add_open_secs(a, left);
            }
            left -= available;
        }
        self.hours.add_open_secs(self.end, left)
    }
}

fn history<'a>(input: &ClockInput<'a>, start: i64, end: i64, now: i64) -> History<'a> {
    let mut pauses: Vec<(i64, i64)> = input
        .pauses
        .iter()
        .map(|&(from, until)| (to_secs(from).max(start), until.map_or(now, to_secs).min(end)))
        .filter(|(from, until)| from < until)
        .collect();
    pauses.sort_unstable();
    let mut running = Vec::with_capacity(pauses.len() + 1);
    let mut cursor = start;
    for (from, until) in pauses {
        if from > cursor {
            running.push((cursor, from));
        }
        cursor = cursor.max(until);
    }
    if cursor < end {
        running.push((cursor, end));
    }
    History { hours: input.hours, start, running, end }
}

pub fn evaluate(input: &ClockInput, now: Timestamp) -> ClockStatus {
    let start = to_secs(input.started_at);
    let now_secs = to_secs(now);
    // A stop before the start (bad data) counts as a stop at the start.
    let stopped = input.stopped_at.map(|t| to_secs(t).max(start));
    // Before the start nothing is consumed and projections run from the start.
    let end = stopped.map_or(now_secs, |s| s.min(now_secs)).max(start);
    let history = history(input, start, end, now_secs);

    let target = input.target_minutes.clamp(0, i64::MAX / 60) * 60;
    let ratio = if input.at_risk_ratio.is_nan() { DEFAULT_AT_RISK_RATIO } else { input.at_risk_ratio.clamp(0.0, 1.0) };
    // The epsilon absorbs float noise (0.55 * 3600 = 1980.0000000000002) so "exactly 55 %" is at risk.
    let at_risk_threshold = ((ratio * target as f64) - 1e-6).ceil().max(0.0) as i64;

    let consumed = history.consumed();
    let paused_now = input.pauses.iter().any(|&(from, until)| from <= now && until.is_none_or(|u| u > now));
    let state = match stopped {
        Some(_) if consumed <= target => SlaState::Met,
        Some(_) => SlaState::Breached,
        None if consumed >= target => SlaState::Breached,
        None if paused_now => SlaState::Paused,
        None if consumed >= at_risk_threshold => SlaState::AtRisk,
        None => SlaState::OnTrack,
    };
    ClockStatus {
        state,
        due_at: from_secs(history.instant_of(target)),
        remaining_seconds: target - consumed,
        used_ratio: if target == 0 { 1.0 } else { consumed as f64 / target as f64 },
        at_risk_at: from_secs(history.instant_of(at_risk_threshold)),
        consumed_seconds: consumed,
    }
}

/// The next instant strictly after `now` at which the state changes by the passage of time alone (becoming at
/// risk, then breached). `None` for stopped, paused or breached clocks, whose state only events can change.
pub fn next_transition(input: &ClockInput, now: Timestamp) -> Option<Timestamp> {
    let status = evaluate(input, now);
    let next = match status.state {
        SlaState::OnTrack if status.at_risk_at > now => status.at_risk_at,
        SlaState::OnTrack | SlaState::AtRisk => status.due_at,
        SlaState::Breached | SlaState::Met | SlaState::Paused => return None,
    };
    (next > now).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::super::{eastern, BusinessCalendar};
    use super::*;
    use jiff::civil::DateTime;

    fn et(s: &str) -> Timestamp {
        let local: DateTime = s.replace(' ', "T").parse().unwrap();
        eastern().to_ambiguous_timestamp(local).compatible().unwrap()
    }

    fn support() -> BusinessCalendar {
        BusinessCalendar::support(["2026-12-25".parse().unwrap()])
    }

    fn clock<'a>(
        hours: Hours<'a>,
        started: &str,
        target_minutes: i64,
        pauses: &'a [(Timestamp, Option<Timestamp>)],
        stopped: Option<&str>,
    ) -> ClockInput<'a> {
        ClockInput {
            started_at: et(started),
            target_minutes,
            hours,
            pauses,
            stopped_at: stopped.map(et),
            at_risk_ratio: DEFAULT_AT_RISK_RATIO,
        }
    }

    /// Expected (state, due ET, remaining seconds).
    fn check(case: &str, input: &ClockInput, now: &str, state: SlaState, due: &str, remaining: i64) -> ClockStatus {
        let status = evaluate(input, et(now));
        assert_eq!(status.state, state, "{case}: state");
        assert_eq!(status.due_at, et(due), "{case}: due_at");
        assert_eq!(status.remaining_seconds, remaining, "{case}: remaining");
        let target = input.target_minutes * 60;
        assert_eq!(status.consumed_seconds, target - remaining, "{case}: consumed");
        assert!((status.used_ratio - (target - remaining) as f64 / target as f64).abs() < 1e-12, "{case}: ratio");
        status
    }

    const H: i64 = 3600;

    #[test]
    fn support_hours_clock_from_the_spec_example() {
        let cal = support();
        let input = clock(Hours::Business(&cal), "2026-12-04 17:00", 24 * 60, &[], None);
        let status = check("at creation", &input, "2026-12-04 17:00", SlaState::OnTrack, "2026-12-08 17:00", 24 * H);
        // 18 h consumed: Fri 1 + Sat 6 + Mon 9 + Tue 2.
        assert_eq!(status.at_risk_at, et("2026-12-08 11:00"));
        check("Sunday: nothing consumed", &input, "2026-12-06 12:00", SlaState::OnTrack, "2026-12-08 17:00", 17 * H);
        check("Tuesday 10:59:59", &input, "2026-12-08 10:59:59", SlaState::OnTrack, "2026-12-08 17:00", 6 * H + 1);
        check("exactly 75 %", &input, "2026-12-08 11:00", SlaState::AtRisk, "2026-12-08 17:00", 6 * H);
        check("due instant", &input, "2026-12-08 17:00", SlaState::Breached, "2026-12-08 17:00", 0);
        check("a day late", &input, "2026-12-09 17:00", SlaState::Breached, "2026-12-08 17:00", -9 * H);
    }

    #[test]
    fn at_risk_threshold_is_inclusive_and_configurable() {
        let mut input = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &[], None);
        // (ratio, now, expected state)
        let cases = [
            (0.75, "2026-12-07 10:44:59", SlaState::OnTrack),
            (0.75, "2026-12-07 10:45:00", SlaState::AtRisk),
            (0.8, "2026-12-07 10:47:59", SlaState::OnTrack),
            (0.8, "2026-12-07 10:48:00", SlaState::AtRisk),
            // 0.55 * 3600 is 1980.0000000000002 in floating point: exactly 55 % must still count.
            (0.55, "2026-12-07 10:32:59", SlaState::OnTrack),
            (0.55, "2026-12-07 10:33:00", SlaState::AtRisk),
            (1.0, "2026-12-07 10:59:59", SlaState::OnTrack),
            (f64::NAN, "2026-12-07 10:45:00", SlaState::AtRisk),
        ];
        for (ratio, now, state) in cases {
            input.at_risk_ratio = ratio;
            assert_eq!(evaluate(&input, et(now)).state, state, "ratio {ratio} at {now}");
        }
    }

    #[test]
    fn pauses_stop_consumption() {
        let cal = support();
        // Waiting on the customer from Friday 17:00 to Monday 10:00.
        let weekend = [(et("2026-12-04 17:00"), Some(et("2026-12-07 10:00")))];
        let input = clock(Hours::Business(&cal), "2026-12-04 16:00", 24 * 60, &weekend, None);
        // Consumed: Fri 16-17 and Mon 10-12 only; without the pause it would be due Tue 16:00.
        check("support hours", &input, "2026-12-07 12:00", SlaState::OnTrack, "2026-12-09 15:00", 21 * H);
        let unpaused = clock(Hours::Business(&cal), "2026-12-04 16:00", 24 * 60, &[], None);
        check("support hours, no pause", &unpaused, "2026-12-07 12:00", SlaState::OnTrack, "2026-12-08 16:00", 13 * H);

        let weekend = [(et("2026-12-04 16:30"), Some(et("2026-12-07 10:00")))];
        let input = clock(Hours::AlwaysOn, "2026-12-04 16:00", 240, &weekend, None);
        check("24x7", &input, "2026-12-07 10:00", SlaState::OnTrack, "2026-12-07 13:30", 210 * 60);

        // Still waiting: paused, and due as if it resumed now.
        let open_pause = [(et("2026-12-04 16:30"), None)];
        let input = clock(Hours::AlwaysOn, "2026-12-04 16:00", 240, &open_pause, None);
        let status = check("open pause", &input, "2026-12-07 10:00", SlaState::Paused, "2026-12-07 13:30", 210 * 60);
        assert_eq!(status.at_risk_at, et("2026-12-07 12:30"));
        assert_eq!(next_transition(&input, et("2026-12-07 10:00")), None);

        // Overlapping, unsorted and out-of-range pauses are clipped and merged: paused 10:05-10:40.
        let messy = [
            (et("2026-12-07 10:10"), Some(et("2026-12-07 10:30"))),
            (et("2026-12-07 10:20"), Some(et("2026-12-07 10:40"))),
            (et("2026-12-07 10:05"), Some(et("2026-12-07 10:15"))),
            (et("2026-12-07 10:06"), Some(et("2026-12-07 10:08"))),
            (et("2026-12-07 09:00"), Some(et("2026-12-07 09:30"))),
            (et("2026-12-07 12:00"), Some(et("2026-12-07 13:00"))),
            (et("2026-12-07 10:50"), Some(et("2026-12-07 10:45"))),
        ];
        let input = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &messy, None);
        check("messy pauses", &input, "2026-12-07 11:00", SlaState::OnTrack, "2026-12-07 11:35", 35 * 60);
    }

    #[test]
    fn resolved_then_reopened() {
        let cal = support();
        let hours = Hours::Business(&cal);
        // General P1 resolution (72 h), opened Monday 09:00, resolved Monday 12:00.
        let resolved = clock(hours, "2026-12-07 09:00", 72 * 60, &[], Some("2026-12-07 12:00"));
        // Met; due is the deadline it beat: 69 h of open time from Monday 12:00.
        let status = check("resolved", &resolved, "2026-12-08 10:00", SlaState::Met, "2026-12-16 12:00", 69 * H);
        assert_eq!(evaluate(&resolved, et("2027-02-01 10:00")), status, "a stopped clock no longer moves");
        assert_eq!(next_transition(&resolved, et("2026-12-08 10:00")), None);

        // Reopened Wednesday 10:00: the resolved period is a pause and the clock resumes.
        let resolved_period = [(et("2026-12-07 12:00"), Some(et("2026-12-09 10:00")))];
        let reopened = clock(hours, "2026-12-07 09:00", 72 * 60, &resolved_period, None);
        check("reopened", &reopened, "2026-12-09 11:00", SlaState::OnTrack, "2026-12-18 10:00", 68 * H);
    }

    #[test]
    fn priority_change_recomputes_with_consumed_budget() {
        let cal = support();
        let hours = Hours::Business(&cal);
        // Opened Monday 09:00; by the next Monday 12:00: Mon-Fri 45 h + Sat 6 h + Mon 3 h = 54 h consumed.
        let now = "2026-12-14 12:00";
        // (case, new target minutes, state, due ET, remaining)
        let cases = [
            ("168 h (general P3), Christmas skipped", 168 * 60, SlaState::OnTrack, "2026-12-30 15:00", 114 * H),
            ("72 h: exactly 75 % used", 72 * 60, SlaState::AtRisk, "2026-12-16 12:00", 18 * H),
            ("48 h: ran out Saturday 13:00", 48 * 60, SlaState::Breached, "2026-12-12 13:00", -6 * H),
        ];
        for (case, target, state, due, remaining) in cases {
            let input = clock(hours, "2026-12-07 09:00", target, &[], None);
            check(case, &input, now, state, due, remaining);
        }
    }

    #[test]
    fn breach_stays_a_breach() {
        // Platinum P1 first response: 60 min, 24x7, opened 10:00.
        let late_reply = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &[], Some("2026-12-07 11:30"));
        let status =
            check("replied late", &late_reply, "2026-12-10 09:00", SlaState::Breached, "2026-12-07 11:00", -1800);
        assert_eq!(status.at_risk_at, et("2026-12-07 10:45"));
        assert!((status.used_ratio - 1.5).abs() < 1e-12);
        assert_eq!(next_transition(&late_reply, et("2026-12-10 09:00")), None);

        let unanswered = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &[], None);
        check("no reply yet", &unanswered, "2026-12-07 11:10", SlaState::Breached, "2026-12-07 11:00", -600);
        assert_eq!(next_transition(&unanswered, et("2026-12-07 11:10")), None);

        let pause = [(et("2026-12-07 11:05"), None)];
        let paused = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &pause, None);
        check("paused after the breach", &paused, "2026-12-07 12:00", SlaState::Breached, "2026-12-07 11:00", -300);

        let on_time = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &[], Some("2026-12-07 11:00"));
        check("replied at the due instant", &on_time, "2026-12-07 12:00", SlaState::Met, "2026-12-07 11:00", 0);
        let early = clock(Hours::AlwaysOn, "2026-12-07 10:00", 60, &[], Some("2026-12-07 10:20"));
        check("replied early", &early, "2026-12-07 12:00", SlaState::Met, "2026-12-07 11:00", 2400);
    }

    #[test]
    fn next_transition_is_at_risk_then_due() {
        let cal = support();
        let input = clock(Hours::Business(&cal), "2026-12-04 17:30", 24 * 60, &[], None);
        // (now ET, expected next transition ET): at risk after 18 h (Tue 11:30), due after 24 h (Tue 17:30).
        let cases = [
            ("2026-12-04 17:45", Some("2026-12-08 11:30")),
            ("2026-12-04 18:30", Some("2026-12-08 11:30")),
            ("2026-12-08 11:29:59", Some("2026-12-08 11:30")),
            ("2026-12-08 11:30", Some("2026-12-08 17:30")),
            ("2026-12-08 17:29:59", Some("2026-12-08 17:30")),
            ("2026-12-08 17:30", None),
        ];
        for (now, expected) in cases {
            assert_eq!(next_transition(&input, et(now)), expected.map(et), "at {now}");
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let cal = support();
        // Now before the start: nothing consumed, projected from the start.
        let input = clock(Hours::Business(&cal), "2026-12-04 17:00", 24 * 60, &[], None);
        check("now before start", &input, "2026-12-01 12:00", SlaState::OnTrack, "2026-12-08 17:00", 24 * H);
        // Stopped before it started: met with the whole budget.
        let input = clock(Hours::AlwaysOn, "2026-12-04 17:00", 60, &[], Some("2026-12-04 16:00"));
        check("stop before start", &input, "2026-12-05 12:00", SlaState::Met, "2026-12-04 18:00", H);

        let pauses = [(Timestamp::MIN, None), (Timestamp::MAX, Some(Timestamp::MIN))];
        let ratios = [f64::NAN, f64::INFINITY, -1.0, 2.0];
        let timelines = [
            (Timestamp::MIN, Timestamp::MAX, None),
            (Timestamp::MAX, Timestamp::MIN, Some(Timestamp::MAX)),
            (Timestamp::MIN, Timestamp::MIN, Some(Timestamp::MIN)),
        ];
        let closed = BusinessCalendar::default();
        let mut case = 0;
        for hours in [Hours::AlwaysOn, Hours::Business(&cal), Hours::Business(&closed)] {
            for target_minutes in [i64::MIN, 0, i64::MAX] {
                for (started_at, now, stopped_at) in timelines {
                    for pauses in [&pauses[..], &[]] {
                        case += 1;
                        let at_risk_ratio = ratios[case % ratios.len()];
                        let input = ClockInput { started_at, target_minutes, hours, pauses, stopped_at, at_risk_ratio };
                        assert!(evaluate(&input, now).used_ratio.is_finite());
                        let _ = next_transition(&input, now);
                    }
                }
            }
        }
    }

    #[test]
    fn states_serialise_snake_case() {
        let json = serde_json::to_string(&[
            SlaState::OnTrack,
            SlaState::AtRisk,
            SlaState::Breached,
            SlaState::Met,
            SlaState::Paused,
        ])
        .unwrap();
        assert_eq!(json, r#"["on_track","at_risk","breached","met","paused"]"#);
        for state in [SlaState::OnTrack, SlaState::AtRisk, SlaState::Breached, SlaState::Met, SlaState::Paused] {
            assert_eq!(serde_json::to_string(&state).unwrap(), format!("\"{}\"", state.as_str()));
        }
    }
}
