//! Works out a ticket's two SLA clocks from its row, pauses, the policy table
//! and the support calendar (loaded once per request).

use super::service::TicketRow;
use super::{SlaClock, TicketSla};
use crate::accounts::Tier;
use crate::db::{rfc3339, Db};
use crate::sla::{self, BusinessCalendar, ClockInput, Policy, SlaTier};
use jiff::Timestamp;

pub fn sla_tier(tier: Tier) -> SlaTier {
    match tier {
        Tier::Platinum => SlaTier::Platinum,
        Tier::General => SlaTier::General,
    }
}

pub fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The policy table, holidays and at-risk ratio in force.
pub struct SlaContext {
    pub policies: Vec<Policy>,
    pub support: BusinessCalendar,
    pub at_risk_ratio: f64,
}

impl SlaContext {
    pub async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        let (policies, support) = crate::sla_store::load_policies_and_calendar(db).await?;
        Ok(SlaContext { policies, support, at_risk_ratio: sla::DEFAULT_AT_RISK_RATIO })
    }

    pub fn policy(&self, tier: Tier, priority: sla::Priority) -> Policy {
        crate::sla_store::policy_or_default(&self.policies, sla_tier(tier), priority)
    }

    /// The resolution clock's pauses that count under `policy`: on-hold time
    /// counts only when the policy says so.
    pub fn counted_pauses(
        policy: &Policy,
        pauses: &[(String, i64, Option<i64>)],
    ) -> Vec<(Timestamp, Option<Timestamp>)> {
        pauses
            .iter()
            .filter(|(reason, _, _)| reason != "on_hold" || policy.pause_on_hold)
            .map(|(_, start, end)| (ts(*start), end.map(ts)))
            .collect()
    }

    /// The first-response and resolution clock inputs of `row` under `policy`,
    /// with `counted` from [`SlaContext::counted_pauses`]. A clock that has
    /// stopped (first public reply; resolved) carries its stop instant.
    pub fn clock_inputs<'a>(
        &'a self,
        row: &TicketRow,
        policy: &Policy,
        counted: &'a [(Timestamp, Option<Timestamp>)],
    ) -> (ClockInput<'a>, ClockInput<'a>) {
        let hours = sla::calendar_for(policy.calendar, &self.support);
        let first = ClockInput {
            started_at: ts(row.created_at),
            target_minutes: policy.first_response_minutes,
            hours,
            pauses: &[],
            stopped_at: row.first_response_at.map(ts),
            at_risk_ratio: self.at_risk_ratio,
        };
        // A resolved ticket's clock has stopped; the pause row keeps the period for a later reopen.
        let resolution = ClockInput {
            started_at: ts(row.created_at),
            target_minutes: policy.resolution_minutes,
            hours,
            pauses: counted,
            stopped_at: if row.status.is_done() { row.resolved_at.map(ts) } else { None },
            at_risk_ratio: self.at_risk_ratio,
        };
        (first, resolution)
    }

    /// The queue's sort keys for `row` at `at`: the earliest due instant of a clock that is still running, and the
    /// earliest instant one of them is (or became) at risk. [`NO_DEADLINE`] when no clock runs (met, paused or
    /// done). A running clock only moves forward in time, so storing them is exact until the next change.
    pub fn deadlines(&self, row: &TicketRow, pauses: &[(String, i64, Option<i64>)], at: i64) -> Deadlines {
        let policy = self.policy(row.tier, row.priority);
        let counted = Self::counted_pauses(&policy, pauses);
        let (first, resolution) = self.clock_inputs(row, &policy, &counted);
        let mut deadlines = Deadlines { next_due: NO_DEADLINE, at_risk_from: NO_DEADLINE };
        if row.status.is_done() {
            return deadlines;
        }
        for input in [first, resolution] {
            let status = sla::evaluate(&input, ts(at));
            if running(&input, status.state) {
                deadlines.next_due = deadlines.next_due.min(status.due_at.as_second());
                deadlines.at_risk_from = deadlines.at_risk_from.min(status.at_risk_at.as_second());
            }
        }
        deadlines
    }

    /// Both clocks of `row` at `at`, given its resolution-clock pauses.
    pub fn ticket_sla(&self, row: &TicketRow, pauses: &[(String, i64, Option<i64>)], at: i64) -> TicketSla {
        let policy = self.policy(row.tier, row.priority);
        let now = ts(at);
        let counted = Self::counted_pauses(&policy, pauses);
        let (first, resolution) = self.clock_inputs(row, &policy, &counted);
        let open_pause = pauses.iter().rev().find(|(reason, _, end)| end.is_none() && reason != "resolved");
        let mut resolution_clock = clock(&resolution, policy.resolution_minutes, now);
        if let (Some((reason, since, _)), sla::SlaState::Paused) = (open_pause, resolution_clock.state) {
            resolution_clock.paused_since = Some(rfc3339(*since));
            resolution_clock.paused_reason = Some(reason.clone());
        }
        TicketSla { first_response: clock(&first, policy.first_response_minutes, now), resolution: resolution_clock }
    }
}

/// "No running clock": 9999-12-31, so such tickets sort after every real deadline.
pub const NO_DEADLINE: i64 = 253_402_300_799;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    pub next_due: i64,
    pub at_risk_from: i64,
}

impl Deadlines {
    /// Whether `row`'s stored sort keys are out of date.
    pub fn differ_from(&self, row: &TicketRow) -> bool {
        (self.next_due, self.at_risk_from) != (row.sla_next_due, row.sla_at_risk_from)
    }
}

/// A clock still counting: not stopped (replied, resolved) and not paused.
fn running(input: &ClockInput, state: sla::SlaState) -> bool {
    input.stopped_at.is_none() && state != sla::SlaState::Paused
}

fn clock(input: &ClockInput, target_minutes: i64, now: Timestamp) -> SlaClock {
    let status = sla::evaluate(input, now);
    SlaClock {
        target_minutes,
        due_at: rfc3339(status.due_at.as_second()),
        due_epoch: status.due_at.as_second(),
        state: status.state,
        running: running(input, status.state),
        remaining_seconds: status.remaining_seconds,
        paused_since: None,
        paused_reason: None,
    }
}
