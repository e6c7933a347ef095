//! SLA engine: policies (data), business calendars in America/New_York, and clock evaluation.
//!
//! Pure: no I/O, no clock reads (callers pass `now`), no panics, and it builds for wasm32.
//! Tiers are a local [`SlaTier`] rather than the accounts module's type, so this module depends only on
//! `std`, `jiff` and `serde`; map the account tier to it at the call site.

mod calendar;
mod clock;
mod week_text;

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use calendar::{calendar_for, eastern, hours_status, BusinessCalendar, DayHours, Hours, WeeklyHours};
pub use clock::{evaluate, next_transition, ClockInput, ClockStatus, SlaState, DEFAULT_AT_RISK_RATIO};
pub use week_text::{day_slot, minute_text, parse_minute, DayText, WeekText, WEEKDAYS};

/// Largest target a policy may set: one year of (open) minutes.
pub const MAX_TARGET_MINUTES: i64 = 525_600;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;

    /// Accepts "P1".."P4", case-insensitively.
    fn from_str(s: &str) -> Result<Priority, String> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown priority {s:?}: expected P1, P2, P3 or P4"))
    }
}

/// The customer tiers SLA policies are keyed by (serialised lowercase, like the accounts tier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlaTier {
    Platinum,
    General,
}

impl SlaTier {
    pub const ALL: [SlaTier; 2] = [SlaTier::Platinum, SlaTier::General];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaTier::Platinum => "platinum",
            SlaTier::General => "general",
        }
    }
}

impl fmt::Display for SlaTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SlaTier {
    type Err = String;

    fn from_str(s: &str) -> Result<SlaTier, String> {
        SlaTier::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown tier {s:?}: expected platinum or general"))
    }
}

/// Which minutes a policy's clocks count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CalendarKind {
    /// Every minute, wall-clock.
    #[serde(rename = "24x7")]
    AlwaysOn,
    /// Only the support calendar's open minutes.
    #[serde(rename = "support_hours")]
    SupportHours,
}

impl CalendarKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarKind::AlwaysOn => "24x7",
            CalendarKind::SupportHours => "support_hours",
        }
    }
}

impl fmt::Display for CalendarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CalendarKind {
    type Err = String;

    fn from_str(s: &str) -> Result<CalendarKind, String> {
        match s.trim() {
            "24x7" => Ok(CalendarKind::AlwaysOn),
            "support_hours" => Ok(CalendarKind::SupportHours),
            _ => Err(format!("unknown calendar {s:?}: expected \"24x7\" or \"support_hours\"")),
        }
    }
}

/// One row of the SLA policy table. Targets count minutes of the policy's calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub tier: SlaTier,
    pub priority: Priority,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
    pub calendar: CalendarKind,
    /// Whether the resolution clock also pauses while the ticket is on hold (it always pauses while waiting on
    /// the customer).
    pub pause_on_hold: bool,
}

impl Policy {
    pub fn check(&self) -> Result<(), String> {
        let range = 1..=MAX_TARGET_MINUTES;
        if !range.contains(&self.first_response_minutes) {
            return Err(format!(
                "{} {}: first response target must be 1 to {MAX_TARGET_MINUTES} minutes, not {}",
                self.tier, self.priority, self.first_response_minutes
            ));
        }
        if !range.contains(&self.resolution_minutes) {
            return Err(format!(
                "{} {}: resolution target must be 1 to {MAX_TARGET_MINUTES} minutes, not {}",
                self.tier, self.priority, self.resolution_minutes
            ));
        }
        if self.resolution_minutes < self.first_response_minutes {
            return Err(format!(
                "{} {}: resolution target ({} min) must not be shorter than first response ({} min)",
                self.tier, self.priority, self.resolution_minutes, self.first_response_minutes
            ));
        }
        Ok(())
    }
}

/// The product spec's default table (managers may edit every number afterwards).
pub fn default_policies() -> Vec<Policy> {
    use CalendarKind::{AlwaysOn, SupportHours};
    use Priority::{P1, P2, P3, P4};
    use SlaTier::{General, Platinum};
    let rows = [
        (Platinum, P1, 1, 4, AlwaysOn),
        (Platinum, P2, 4, 24, AlwaysOn),
        (Platinum, P3, 24, 72, SupportHours),
        (Platinum, P4, 48, 168, SupportHours),
        (General, P1, 24, 72, SupportHours),
        (General, P2, 24, 72, SupportHours),
        (General, P3, 24, 168, SupportHours),
        (General, P4, 48, 168, SupportHours),
    ];
    rows.into_iter()
        .map(|(tier, priority, first_response_hours, resolution_hours, calendar)| Policy {
            tier,
            priority,
            first_response_minutes: first_response_hours * 60,
            resolution_minutes: resolution_hours * 60,
            calendar,
            pause_on_hold: false,
        })
        .collect()
}

/// The policy for a tier and priority, if the table has one.
pub fn find_policy(policies: &[Policy], tier: SlaTier, priority: Priority) -> Option<&Policy> {
    policies.iter().find(|p| p.tier == tier && p.priority == priority)
}

/// First-response and resolution due instants for a ticket opened at `opened_at` (no pauses yet).
pub fn preview(policy: &Policy, support: &BusinessCalendar, opened_at: Timestamp) -> (Timestamp, Timestamp) {
    let hours = calendar_for(policy.calendar, support);
    (
        hours.add_open_seconds(opened_at, policy.first_response_minutes.saturating_mul(60)),
        hours.add_open_seconds(opened_at, policy.resolution_minutes.saturating_mul(60)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::DateTime;

    fn et(s: &str) -> Timestamp {
        let local: DateTime = s.replace(' ', "T").parse().unwrap();
        eastern().to_ambiguous_timestamp(local).compatible().unwrap()
    }

    #[test]
    fn default_table_matches_the_spec() {
        let policies = default_policies();
        assert_eq!(policies.len(), 8);
        // (tier, priority, first response h, resolution h, calendar)
        let expected = [
            ("platinum", "P1", 1, 4, "24x7"),
            ("platinum", "P2", 4, 24, "24x7"),
            ("platinum", "P3", 24, 72, "support_hours"),
            ("platinum", "P4", 48, 168, "support_hours"),
            ("general", "P1", 24, 72, "support_hours"),
            ("general", "P2", 24, 72, "support_hours"),
            ("general", "P3", 24, 168, "support_hours"),
            ("general", "P4", 48, 168, "support_hours"),
        ];
        for (tier, priority, first_response, resolution, calendar) in expected {
            let policy = find_policy(&policies, tier.parse().unwrap(), priority.parse().unwrap()).unwrap();
            assert_eq!(policy.first_response_minutes, first_response * 60, "{tier} {priority}");
            assert_eq!(policy.resolution_minutes, resolution * 60, "{tier} {priority}");
            assert_eq!(policy.calendar.as_str(), calendar, "{tier} {priority}");
            assert!(!policy.pause_on_hold);
            assert_eq!(policy.check(), Ok(()));
        }
    }

    #[test]
    fn policy_check_rejects_bad_targets() {
        let good = default_policies()[0].clone();
        // (first response, resolution, error fragment)
        let cases = [
            (0, 60, "first response target must be 1 to 525600"),
            (60, 525_601, "resolution target must be 1 to 525600"),
            (-5, 60, "first response"),
            (120, 60, "must not be shorter than first response"),
        ];
        for (first_response_minutes, resolution_minutes, fragment) in cases {
            let policy = Policy { first_response_minutes, resolution_minutes, ..good.clone() };
            let err = policy.check().unwrap_err();
            assert!(err.contains(fragment) && err.starts_with("platinum P1"), "{err}");
        }
        let edge = Policy { first_response_minutes: 1, resolution_minutes: MAX_TARGET_MINUTES, ..good };
        assert_eq!(edge.check(), Ok(()));
    }

    #[test]
    fn names_serialise_and_parse() {
        let policy = find_policy(&default_policies(), SlaTier::Platinum, Priority::P2).unwrap().clone();
        let json = serde_json::to_string(&policy).unwrap();
        assert_eq!(
            json,
            r#"{"tier":"platinum","priority":"P2","first_response_minutes":240,"resolution_minutes":1440,"calendar":"24x7","pause_on_hold":false}"#
        );
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), policy);
        assert_eq!(serde_json::to_string(&CalendarKind::SupportHours).unwrap(), r#""support_hours""#);

        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        assert_eq!("p3".parse::<Priority>(), Ok(Priority::P3));
        assert_eq!("P5".parse::<Priority>().unwrap_err(), r#"unknown priority "P5": expected P1, P2, P3 or P4"#);
        for t in SlaTier::ALL {
            assert_eq!(t.as_str().parse::<SlaTier>(), Ok(t));
        }
        assert!("gold".parse::<SlaTier>().unwrap_err().contains("expected platinum or general"));
        for k in [CalendarKind::AlwaysOn, CalendarKind::SupportHours] {
            assert_eq!(k.as_str().parse::<CalendarKind>(), Ok(k));
        }
        assert!("24/7".parse::<CalendarKind>().unwrap_err().contains(r#"expected "24x7" or "support_hours""#));
    }

    #[test]
    fn preview_due_instants() {
        let support = BusinessCalendar::support(["2026-12-25".parse().unwrap()]);
        let policies = default_policies();
        // (tier, priority, opened ET, first response due ET, resolution due ET)
        let cases = [
            // Resolution 72 h: Fri 1 + Sat 6 + Mon-Fri 45 + Sat 6 + Mon 9 + Tue 5.
            (SlaTier::Platinum, Priority::P3, "2026-12-04 17:00", "2026-12-08 17:00", "2026-12-15 14:00"),
            (SlaTier::Platinum, Priority::P1, "2026-12-04 17:00", "2026-12-04 18:00", "2026-12-04 21:00"),
            // 24x7 across fall back: 4 real hours after 00:30 EDT is 03:30 EST.
            (SlaTier::Platinum, Priority::P1, "2026-11-01 00:30", "2026-11-01 01:30", "2026-11-01 03:30"),
            // Opened Sunday, counted from Monday 09:00: 51 + 51 + (51 - 9, Christmas) + Mon 9 + Tue 9 + Wed 6 = 168 h.
            (SlaTier::General, Priority::P4, "2026-12-06 12:00", "2026-12-12 13:00", "2026-12-30 15:00"),
        ];
        for (tier, priority, opened, first_response, resolution) in cases {
            let policy = find_policy(&policies, tier, priority).unwrap();
            assert_eq!(
                preview(policy, &support, et(opened)),
                (et(first_response), et(resolution)),
                "{tier} {priority}"
            );
        }
    }
}
