//! How many tickets one customer may open in an hour. Without a limit, one self-registered account could open
//! a hundred P1 tickets a minute and page every agent each time; the limit is generous for real use (and three
//! times as generous for Platinum, whose plan promises more), and counted from the tickets table itself, so
//! every instance of a scaled-out portal sees the same count.

use super::Priority;
use crate::accounts::Tier;

/// Per customer per rolling hour (Platinum: [`PLATINUM_FACTOR`] times as many).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketLimits {
    /// P1 (critical) tickets.
    pub urgent_per_hour: u32,
    /// Tickets of any priority.
    pub per_hour: u32,
}

pub const DEFAULT_URGENT_PER_HOUR: u32 = 3;
pub const DEFAULT_PER_HOUR: u32 = 20;
pub const PLATINUM_FACTOR: u32 = 3;
/// The window the counts cover.
pub const WINDOW_SECS: i64 = 3600;
/// New P1 tickets from one customer within this long are told to staff as one notification.
pub const COALESCE_SECS: i64 = 600;

impl TicketLimits {
    /// No limit: for data the portal writes itself (the demo), never for requests.
    pub const NONE: TicketLimits = TicketLimits { urgent_per_hour: u32::MAX, per_hour: u32::MAX };
}

impl Default for TicketLimits {
    fn default() -> Self {
        TicketLimits { urgent_per_hour: DEFAULT_URGENT_PER_HOUR, per_hour: DEFAULT_PER_HOUR }
    }
}

/// The customer's tickets opened in the last [`WINDOW_SECS`], with the oldest of each kind (when the next one
/// frees up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecentTickets {
    pub all: u32,
    pub oldest: Option<i64>,
    pub urgent: u32,
    pub oldest_urgent: Option<i64>,
}

/// Why a ticket may not be opened now, and in how many seconds it may.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverQuota {
    pub message: String,
    pub retry_after: u64,
}

/// Whether a `tier` customer may open a `priority` ticket at `now`, given what they opened recently.
pub fn check(
    limits: TicketLimits,
    tier: Tier,
    priority: Priority,
    recent: RecentTickets,
    now: i64,
) -> Result<(), OverQuota> {
    let factor = if tier == Tier::Platinum { PLATINUM_FACTOR } else { 1 };
    let wait = |oldest: Option<i64>| oldest.map_or(60, |t| (t + WINDOW_SECS - now).max(1) as u64);
    let urgent_max = limits.urgent_per_hour.saturating_mul(factor);
    if priority == Priority::P1 && recent.urgent >= urgent_max {
        return Err(OverQuota {
            message: format!(
                "You have opened {} critical (P1) tickets in the last hour, the most your plan allows. Add what is \
                 new to one of them, or choose a lower priority if this can wait.",
                recent.urgent
            ),
            retry_after: wait(recent.oldest_urgent),
        });
    }
    let max = limits.per_hour.saturating_mul(factor);
    if recent.all >= max {
        return Err(OverQuota {
            message: format!(
                "You have opened {} tickets in the last hour, the most your plan allows. Add to an open ticket \
                 instead, or try again later.",
                recent.all
            ),
            retry_after: wait(recent.oldest),
        });
    }
    Ok(())
}

/// The staff notification for a burst of `count` new P1 tickets from one customer, the latest being `latest_id`.
pub fn burst_text(count: i64, tier: Tier, latest_id: i64, subject: &str) -> String {
    format!(
        "{count} new P1 tickets from one {tier} customer in the last {} minutes; latest #{latest_id} {subject}",
        COALESCE_SECS / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn recent(all: u32, urgent: u32) -> RecentTickets {
        RecentTickets { all, oldest: Some(NOW - 1000), urgent, oldest_urgent: Some(NOW - 3000) }
    }

    #[test]
    fn general_customers_get_a_few_p1_an_hour_platinum_more() {
        let limits = TicketLimits::default();
        let cases = [
            (Tier::General, Priority::P1, recent(2, 2), true),
            (Tier::General, Priority::P1, recent(3, 3), false),
            (Tier::General, Priority::P2, recent(3, 3), true),
            (Tier::General, Priority::P3, recent(19, 0), true),
            (Tier::General, Priority::P3, recent(20, 0), false),
            (Tier::Platinum, Priority::P1, recent(8, 8), true),
            (Tier::Platinum, Priority::P1, recent(9, 9), false),
            (Tier::Platinum, Priority::P4, recent(59, 0), true),
            (Tier::Platinum, Priority::P4, recent(60, 0), false),
        ];
        for (tier, priority, recent, allowed) in cases {
            assert_eq!(check(limits, tier, priority, recent, NOW).is_ok(), allowed, "{tier:?} {priority:?} {recent:?}");
        }
    }

    #[test]
    fn the_wait_is_until_the_oldest_leaves_the_window() {
        let refused = check(TicketLimits::default(), Tier::General, Priority::P1, recent(3, 3), NOW).unwrap_err();
        assert_eq!(refused.retry_after, 600, "the oldest P1 was 3000 s ago: 600 s to go");
        assert!(refused.message.contains("3 critical (P1) tickets"));
        let refused = check(TicketLimits::default(), Tier::General, Priority::P2, recent(20, 0), NOW).unwrap_err();
        assert_eq!(refused.retry_after, 2600);
    }

    #[test]
    fn limits_are_configurable() {
        let strict = TicketLimits { urgent_per_hour: 1, per_hour: 2 };
        assert!(check(strict, Tier::General, Priority::P1, recent(1, 1), NOW).is_err());
        assert!(check(strict, Tier::General, Priority::P3, recent(2, 0), NOW).is_err());
        assert!(check(strict, Tier::General, Priority::P3, recent(1, 0), NOW).is_ok());
    }
}
