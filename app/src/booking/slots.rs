//! Slot rules: validating a requested start, listing free slots, and choosing the agent for a call.
//!
//! Functions take the whole picture as plain data: the [`Rules`] (live-chat hours, holidays), the [`Agent`]s who
//! take calls, and the [`Busy`] calls already booked (not cancelled; when rescheduling, leave out the call being
//! moved). Nothing here reads a clock or a database.

use std::collections::HashMap;

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::{
    add, eastern, Agent, Busy, CallLength, Rules, Slot, SlotError, WeeklyHours, BUFFER_MINUTES, CANCEL_NOTICE_MINUTES,
    GRID_MINUTES, HORIZON_DAYS, MAX_LIST_DAYS, MIN_NOTICE_MINUTES, ROOM_OPENS_MINUTES_BEFORE,
};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A call placed with an agent: what [`assign`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub agent_id: i64,
    pub slot: Slot,
}

/// Checks a requested start against the rules that do not depend on agents, for a 422 naming the broken rule.
///
/// In this order: the grid ([`SlotError::OffGrid`], also for seconds or sub-seconds), the notice
/// ([`SlotError::TooSoon`], `start >= now + 2 h`), the horizon ([`SlotError::TooFar`], `start <= now + 30 Eastern
/// days`), holidays ([`SlotError::Holiday`]), and live-chat hours: the whole call inside that day's hours
/// ([`SlotError::OutsideHours`]). Answers the call's [`Slot`].
pub fn check_start(rules: &Rules, now: Timestamp, start: Timestamp, length: CallLength) -> Result<Slot, SlotError> {
    let local = eastern().to_datetime(start);
    if i64::from(local.minute()) % GRID_MINUTES != 0 || local.second() != 0 || local.subsec_nanosecond() != 0 {
        return Err(SlotError::OffGrid);
    }
    if start < earliest_start(now) {
        return Err(SlotError::TooSoon);
    }
    if start > latest_start(now) {
        return Err(SlotError::TooFar);
    }
    if rules.holidays.contains(&local.date()) {
        return Err(SlotError::Holiday);
    }
    let slot = Slot::new(start, length);
    if within_hours(&rules.live_chat, slot) {
        Ok(slot)
    } else {
        Err(SlotError::OutsideHours)
    }
}

/// Every start in the Eastern days `[from, from + days)` (at most [`MAX_LIST_DAYS`] days) that passes
/// [`check_start`] and has at least one agent free; sorted by start, no duplicates.
pub fn free_slots(
    rules: &Rules,
    agents: &[Agent],
    busy: &[Busy],
    now: Timestamp,
    from: Date,
    days: u32,
    length: CallLength,
) -> Vec<Slot> {
    let calls = CallsByAgent::new(busy);
    let mut slots = Vec::new();
    let mut day = Some(from);
    for _ in 0..days.min(MAX_LIST_DAYS) {
        let Some(date) = day else { break };
        day_slots(rules, agents, &calls, now, date, length, &mut slots);
        day = date.tomorrow().ok();
    }
    slots
}

/// The first `n` free slots starting at or after `from` (and bookable from `now`), in order; fewer if the horizon
/// comes first. For the 409 answer when the requested slot was taken.
pub fn next_free_slots(
    rules: &Rules,
    agents: &[Agent],
    busy: &[Busy],
    now: Timestamp,
    from: Timestamp,
    length: CallLength,
    n: usize,
) -> Vec<Slot> {
    let (first, last) = (from.max(earliest_start(now)), latest_start(now));
    if n == 0 || first > last {
        return Vec::new();
    }
    let calls = CallsByAgent::new(busy);
    let last_date = eastern_date(last);
    let mut date = eastern_date(first);
    let mut found = Vec::new();
    let mut day = Vec::new();
    // The walk spans at most the horizon's days; the bound only guards against a surprise.
    for _ in 0..=MAX_LIST_DAYS {
        if date > last_date {
            break;
        }
        day.clear();
        day_slots(rules, agents, &calls, now, date, length, &mut day);
        found.extend(day.iter().filter(|slot| slot.start >= from));
        if found.len() >= n {
            found.truncate(n);
            break;
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    found
}

/// The agents free for a call at `start`: the call inside live-chat hours (not a holiday) and inside their own
/// hours, not overlapping their time off, and `[start, end + buffer)` clear of `[s, e + buffer)` for each of their
/// calls. In `agents` order. Does not check the grid, notice or horizon (see [`check_start`]).
pub fn free_agents(rules: &Rules, agents: &[Agent], busy: &[Busy], start: Timestamp, length: CallLength) -> Vec<i64> {
    let slot = Slot::new(start, length);
    if !open_for_calls(rules, slot) {
        return Vec::new();
    }
    let calls = CallsByAgent::new(busy);
    agents.iter().filter(|agent| agent_free(agent, calls.of(agent.id), slot)).map(|agent| agent.id).collect()
}

/// The agent who takes a call at `start`: among the [`free_agents`], the one with the fewest calls (in `busy`)
/// starting that Eastern day; ties go round robin, to the agent whose last assignment is oldest (never assigned
/// first), then the lowest id. `None` if nobody is free.
pub fn pick_agent(rules: &Rules, agents: &[Agent], busy: &[Busy], start: Timestamp, length: CallLength) -> Option<i64> {
    let free = free_agents(rules, agents, busy, start, length);
    if free.is_empty() {
        return None;
    }
    let date = eastern_date(start);
    let mut calls_that_day: HashMap<i64, usize> = HashMap::new();
    for call in busy.iter().filter(|call| free.contains(&call.agent_id)) {
        if eastern_date(call.start) == date {
            *calls_that_day.entry(call.agent_id).or_default() += 1;
        }
    }
    agents
        .iter()
        .filter(|agent| free.contains(&agent.id))
        .min_by_key(|agent| (calls_that_day.get(&agent.id).copied().unwrap_or(0), agent.last_assigned, agent.id))
        .map(|agent| agent.id)
}

/// A booking request in full: [`check_start`], then [`pick_agent`]; [`SlotError::NoAgentFree`] if nobody is free.
pub fn assign(
    rules: &Rules,
    agents: &[Agent],
    busy: &[Busy],
    now: Timestamp,
    start: Timestamp,
    length: CallLength,
) -> Result<Assignment, SlotError> {
    let slot = check_start(rules, now, start, length)?;
    let agent_id = pick_agent(rules, agents, busy, start, length).ok_or(SlotError::NoAgentFree)?;
    Ok(Assignment { agent_id, slot })
}

/// Splits `slots` into those starting before a ticket's SLA `deadline` and the rest, each keeping its order. Pass
/// the deadline of a P1/P2 ticket the call is booked from, `None` otherwise (then every slot is in the rest).
pub fn sla_split(slots: &[Slot], deadline: Option<Timestamp>) -> (Vec<Slot>, Vec<Slot>) {
    match deadline {
        Some(deadline) => slots.iter().partition(|slot| before_deadline(slot, deadline)),
        None => (Vec::new(), slots.to_vec()),
    }
}

/// Whether a call in `slot` starts before the SLA `deadline` it is meant to beat.
pub fn before_deadline(slot: &Slot, deadline: Timestamp) -> bool {
    slot.start < deadline
}

/// `slots` with those starting before `deadline` first; otherwise the order is kept (a stable partition). On a
/// listing sorted by start this changes nothing, so a page that groups by day should use [`sla_split`] to show the
/// slots inside the SLA window on their own first.
pub fn sla_first(slots: &[Slot], deadline: Option<Timestamp>) -> Vec<Slot> {
    let (mut first, rest) = sla_split(slots, deadline);
    first.extend(rest);
    first
}

/// Customers cancel or reschedule until [`CANCEL_NOTICE_MINUTES`] before the start (exactly 1 h before is allowed).
pub fn customer_may_cancel(now: Timestamp, start: Timestamp) -> bool {
    add(now, SignedDuration::from_mins(CANCEL_NOTICE_MINUTES)) <= start
}

/// The portal call room is open from [`ROOM_OPENS_MINUTES_BEFORE`] before the start until the end.
pub fn room_is_open(now: Timestamp, slot: Slot) -> bool {
    add(slot.start, SignedDuration::from_mins(-ROOM_OPENS_MINUTES_BEFORE)) <= now && now < slot.end
}

/// The earliest allowed start: `now` plus the notice.
fn earliest_start(now: Timestamp) -> Timestamp {
    add(now, SignedDuration::from_mins(MIN_NOTICE_MINUTES))
}

/// The latest allowed start: the same Eastern wall-clock time [`HORIZON_DAYS`] days after `now`.
fn latest_start(now: Timestamp) -> Timestamp {
    eastern()
        .to_datetime(now)
        .checked_add(Span::new().days(HORIZON_DAYS))
        .ok()
        .and_then(|later| eastern().to_ambiguous_timestamp(later).compatible().ok())
        .unwrap_or(Timestamp::MAX)
}

fn eastern_date(t: Timestamp) -> Date {
    eastern().to_datetime(t).date()
}

/// Eastern wall-clock `minute` (0..=1440; 1440 is the next midnight) on `date` as an instant. A time in a DST gap
/// moves forward, a time in a fold takes the earlier instant (jiff's "compatible" rule).
fn local_minute(date: Date, minute: u16) -> Option<Timestamp> {
    let (date, minute) =
        if minute >= MINUTES_PER_DAY { (date.tomorrow().ok()?, minute - MINUTES_PER_DAY) } else { (date, minute) };
    let time = Time::new(i8::try_from(minute / 60).ok()?, i8::try_from(minute % 60).ok()?, 0, 0).ok()?;
    eastern().to_ambiguous_timestamp(DateTime::from_parts(date, time)).compatible().ok()
}

/// The opening of `hours` on `date` as instants `[open, close)`, or `None` if closed (or the hours are invalid).
fn day_window(hours: &WeeklyHours, date: Date) -> Option<(Timestamp, Timestamp)> {
    let day = hours.get(date.weekday())?;
    day.check().ok()?;
    let (open, close) = (local_minute(date, day.open_minute)?, local_minute(date, day.close_minute)?);
    (open < close).then_some((open, close))
}

/// The whole call inside the hours of the Eastern day it starts on.
fn within_hours(hours: &WeeklyHours, slot: Slot) -> bool {
    day_window(hours, eastern_date(slot.start)).is_some_and(|(open, close)| open <= slot.start && slot.end <= close)
}

/// Live chat is open for the whole call (its hours, not a holiday).
fn open_for_calls(rules: &Rules, slot: Slot) -> bool {
    !rules.holidays.contains(&eastern_date(slot.start)) && within_hours(&rules.live_chat, slot)
}

/// Whether `agent` can take `slot`, given their `calls`.
fn agent_free(agent: &Agent, calls: &[Slot], slot: Slot) -> bool {
    if !within_hours(&agent.weekly, slot) {
        return false;
    }
    if agent.time_off.iter().any(|&(from, until)| from < slot.end && slot.start < until) {
        return false;
    }
    let until = slot.occupied_until();
    !calls.iter().any(|call| call.start < until && slot.start < call.occupied_until())
}

/// Each agent's booked calls.
struct CallsByAgent(HashMap<i64, Vec<Slot>>);

impl CallsByAgent {
    fn new(busy: &[Busy]) -> CallsByAgent {
        let mut calls: HashMap<i64, Vec<Slot>> = HashMap::new();
        for call in busy {
            calls.entry(call.agent_id).or_default().push(Slot { start: call.start, end: call.end });
        }
        CallsByAgent(calls)
    }

    fn of(&self, agent_id: i64) -> &[Slot] {
        self.0.get(&agent_id).map_or(&[], Vec::as_slice)
    }
}

/// Appends the free slots of Eastern `date`, in order.
fn day_slots(
    rules: &Rules,
    agents: &[Agent],
    calls: &CallsByAgent,
    now: Timestamp,
    date: Date,
    length: CallLength,
    out: &mut Vec<Slot>,
) {
    if rules.holidays.contains(&date) {
        return;
    }
    let Some(hours) = rules.live_chat.get(date.weekday()) else { return };
    let Some((open, close)) = day_window(&rules.live_chat, date) else { return };
    if close <= earliest_start(now) || open > latest_start(now) {
        return;
    }
    // Only the calls near this day matter; filtering once keeps each candidate's check short.
    let buffer = SignedDuration::from_mins(BUFFER_MINUTES);
    let (from, until) = (add(open, -buffer - length.duration()), add(close, buffer));
    let day_calls: Vec<(&Agent, Vec<Slot>)> = agents
        .iter()
        .filter(|agent| day_window(&agent.weekly, date).is_some())
        .map(|agent| {
            let near = calls.of(agent.id).iter().filter(|call| call.start < until && from < call.occupied_until());
            (agent, near.copied().collect())
        })
        .collect();
    if day_calls.is_empty() {
        return;
    }
    // The first grid time at or after opening; then steps of real time (New York's offsets are whole hours, so
    // these stay on the wall-clock grid, and `check_start` re-checks each one).
    let grid = u16::try_from(GRID_MINUTES).unwrap_or(15);
    let Some(mut start) = local_minute(date, hours.open_minute.div_ceil(grid).saturating_mul(grid)) else { return };
    let step = SignedDuration::from_mins(GRID_MINUTES);
    while start < close {
        let slot = Slot::new(start, length);
        if slot.end > close {
            break;
        }
        if check_start(rules, now, start, length).is_ok()
            && day_calls.iter().any(|(agent, calls)| agent_free(agent, calls, slot))
        {
            out.push(slot);
        }
        start = add(start, step);
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::Weekday;

    use super::super::DayHours;
    use super::*;

    /// Eastern wall-clock time, "YYYY-MM-DD HH:MM[:SS]".
    fn et(s: &str) -> Timestamp {
        let local: DateTime = s.replace(' ', "T").parse().unwrap();
        eastern().to_ambiguous_timestamp(local).compatible().unwrap()
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// "HH:MM" Eastern of an instant.
    fn hm(t: Timestamp) -> String {
        eastern().to_datetime(t).strftime("%H:%M").to_string()
    }

    fn rules() -> Rules {
        Rules::live_chat([date("2026-12-25"), date("2027-01-01")])
    }

    fn busy(agent_id: i64, from: &str, to: &str) -> Busy {
        Busy { agent_id, start: et(from), end: et(to) }
    }

    fn hours(days: &[Weekday], open_hour: u16, close_hour: u16) -> WeeklyHours {
        let h = Some(DayHours::hours(open_hour, close_hour).unwrap());
        let on = |d: Weekday| if days.contains(&d) { h } else { None };
        WeeklyHours {
            monday: on(Weekday::Monday),
            tuesday: on(Weekday::Tuesday),
            wednesday: on(Weekday::Wednesday),
            thursday: on(Weekday::Thursday),
            friday: on(Weekday::Friday),
            saturday: on(Weekday::Saturday),
            sunday: on(Weekday::Sunday),
        }
    }

    /// A Tuesday a week before the Monday 2026-12-07 used by most cases.
    const NOW: &str = "2026-12-01 08:00";

    use CallLength::{M30, M45, M60};

    #[test]
    fn check_start_table() {
        // (case, now ET, start ET, length, expected)
        let cases = [
            ("Monday opening", NOW, "2026-12-07 09:00", M30, Ok(())),
            ("quarter past is on the grid", NOW, "2026-12-07 09:15", M30, Ok(())),
            ("09:07 is off the grid", NOW, "2026-12-07 09:07", M30, Err(SlotError::OffGrid)),
            ("09:10 is off the grid", NOW, "2026-12-07 09:10", M60, Err(SlotError::OffGrid)),
            ("seconds are off the grid", NOW, "2026-12-07 09:15:30", M30, Err(SlotError::OffGrid)),
            ("before opening", NOW, "2026-12-07 08:45", M30, Err(SlotError::OutsideHours)),
            ("30 min at 17:30 ends at 18:00", NOW, "2026-12-07 17:30", M30, Ok(())),
            ("30 min at 17:45 ends after 18:00", NOW, "2026-12-07 17:45", M30, Err(SlotError::OutsideHours)),
            ("45 min at 17:15 ends at 18:00", NOW, "2026-12-07 17:15", M45, Ok(())),
            ("45 min at 17:30 ends after 18:00", NOW, "2026-12-07 17:30", M45, Err(SlotError::OutsideHours)),
            ("60 min: last start 17:00", NOW, "2026-12-07 17:00", M60, Ok(())),
            ("60 min at 17:15 ends after 18:00", NOW, "2026-12-07 17:15", M60, Err(SlotError::OutsideHours)),
            ("closing time", NOW, "2026-12-07 18:00", M30, Err(SlotError::OutsideHours)),
            ("evening", NOW, "2026-12-07 20:00", M30, Err(SlotError::OutsideHours)),
            ("Friday afternoon", NOW, "2026-12-04 16:00", M60, Ok(())),
            ("no Saturday calls", NOW, "2026-12-05 10:00", M30, Err(SlotError::OutsideHours)),
            ("no Sunday calls", NOW, "2026-12-06 10:00", M30, Err(SlotError::OutsideHours)),
            ("Christmas is a holiday", NOW, "2026-12-25 10:00", M30, Err(SlotError::Holiday)),
            ("day after Christmas is a Saturday", NOW, "2026-12-26 10:00", M30, Err(SlotError::OutsideHours)),
            ("notice: now + 1 h 59 min", "2026-12-07 08:01", "2026-12-07 10:00", M30, Err(SlotError::TooSoon)),
            ("notice: now + 2 h exactly", "2026-12-07 08:00", "2026-12-07 10:00", M30, Ok(())),
            ("notice: now + 2 h 15 min", "2026-12-07 08:00", "2026-12-07 10:15", M30, Ok(())),
            ("in the past", "2026-12-07 12:00", "2026-12-07 10:00", M30, Err(SlotError::TooSoon)),
            ("horizon: 30 days exactly", "2026-12-01 10:00", "2026-12-31 10:00", M30, Ok(())),
            ("horizon: 30 days + 15 min", "2026-12-01 10:00", "2026-12-31 10:15", M30, Err(SlotError::TooFar)),
            ("horizon: 31 days", "2026-12-01 10:00", "2027-01-01 10:00", M30, Err(SlotError::TooFar)),
            // 30 Eastern days across a DST change: same wall-clock time, so 30 d + 1 h or 30 d - 1 h of real time.
            ("horizon across fall back", "2026-10-14 10:00", "2026-11-13 10:00", M30, Ok(())),
            ("past horizon across fall back", "2026-10-14 10:00", "2026-11-13 10:15", M30, Err(SlotError::TooFar)),
            ("horizon across spring forward", "2027-02-24 10:00", "2027-03-26 10:00", M30, Ok(())),
            ("past horizon, spring forward", "2027-02-24 10:00", "2027-03-26 10:15", M30, Err(SlotError::TooFar)),
            // Order of the rules: grid, notice, horizon, holiday, hours.
            ("off grid and too soon: grid first", "2026-12-07 09:00", "2026-12-07 09:07", M30, Err(SlotError::OffGrid)),
            ("Sunday too soon: notice first", "2026-12-06 09:00", "2026-12-06 10:00", M30, Err(SlotError::TooSoon)),
            ("Saturday too far: horizon first", NOW, "2027-01-09 10:00", M30, Err(SlotError::TooFar)),
            ("holiday before hours", NOW, "2026-12-25 20:00", M30, Err(SlotError::Holiday)),
            // DST days and the Mondays after them.
            ("fall-back Sunday", "2026-10-26 08:00", "2026-11-01 10:00", M30, Err(SlotError::OutsideHours)),
            ("Monday after fall back", "2026-10-26 08:00", "2026-11-02 09:00", M30, Ok(())),
            ("spring-forward Sunday", "2027-03-08 08:00", "2027-03-14 10:00", M30, Err(SlotError::OutsideHours)),
            ("Monday after spring forward", "2027-03-08 08:00", "2027-03-15 09:00", M30, Ok(())),
        ];
        for (case, now, start, length, expected) in cases {
            let got = check_start(&rules(), et(now), et(start), length);
            assert_eq!(got.map(|_| ()), expected, "{case}");
            if let Ok(slot) = got {
                assert_eq!((slot.start, slot.end), (et(start), Slot::new(et(start), length).end), "{case}");
            }
        }
        // Sub-second precision: off the grid, and short of the notice.
        let ms = SignedDuration::from_millis(1);
        let start = et("2026-12-07 10:00");
        assert_eq!(check_start(&rules(), et(NOW), add(start, ms), M30), Err(SlotError::OffGrid));
        assert_eq!(check_start(&rules(), add(et("2026-12-07 08:00"), ms), start, M30), Err(SlotError::TooSoon));
        // The grid is Eastern wall-clock: 09:00 EST on 2026-11-02 is 14:00Z, 13:00Z is 08:00 EST (before opening).
        let now = et("2026-10-26 08:00");
        assert!(check_start(&rules(), now, utc("2026-11-02T14:00:00Z"), M30).is_ok());
        assert_eq!(check_start(&rules(), now, utc("2026-11-02T13:00:00Z"), M30), Err(SlotError::OutsideHours));
    }

    /// Independent oracle for `check_start`: read the Eastern wall clock and compare minutes.
    fn valid_by_wall_clock(rules: &Rules, now: Timestamp, start: Timestamp, length: CallLength) -> bool {
        let local = eastern().to_datetime(start);
        let end = eastern().to_datetime(Slot::new(start, length).end);
        let minute = |dt: DateTime| i32::from(dt.hour()) * 60 + i32::from(dt.minute());
        let weekday = !matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday);
        let real = start.duration_since(now);
        let horizon = eastern().to_ambiguous_timestamp(eastern().to_datetime(now) + Span::new().days(30));
        weekday
            && !rules.holidays.contains(&local.date())
            && local.minute() % 15 == 0
            && local.second() == 0
            && minute(local) >= 9 * 60
            && end.date() == local.date()
            && minute(end) <= 18 * 60
            && real >= SignedDuration::from_hours(2)
            && start <= horizon.compatible().unwrap()
    }

    #[test]
    fn check_start_matches_a_wall_clock_oracle_across_dst() {
        let rules = rules();
        // (case, now ET, first start ET, days to scan)
        let windows = [
            ("fall back", "2026-10-20 12:00", "2026-10-28 00:00", 9),
            ("spring forward", "2027-03-05 12:00", "2027-03-10 00:00", 9),
            ("holidays and horizon", "2026-12-01 10:00", "2026-12-20 00:00", 14),
        ];
        for (case, now, first, days) in windows {
            let now = et(now);
            let mut start = et(first);
            let mut valid = 0;
            for _ in 0..days * 24 * 12 {
                for length in CallLength::ALL {
                    let expected = valid_by_wall_clock(&rules, now, start, length);
                    assert_eq!(check_start(&rules, now, start, length).is_ok(), expected, "{case} at {start}");
                    valid += usize::from(expected);
                }
                start = add(start, SignedDuration::from_mins(5));
            }
            assert!(valid > 100, "{case}: the window should hold valid starts");
        }
    }

    #[test]
    fn a_whole_day_of_starts_for_one_free_agent() {
        let agents = [Agent::new(1)];
        // (case, day, now ET, length, expected starts)
        let cases = [
            ("ordinary Monday, 30 min", "2026-12-07", NOW, M30, 35),
            ("ordinary Monday, 45 min", "2026-12-07", NOW, M45, 34),
            ("ordinary Monday, 60 min", "2026-12-07", NOW, M60, 33),
            ("Monday after fall back, 30 min", "2026-11-02", "2026-10-26 08:00", M30, 35),
            ("Monday after fall back, 60 min", "2026-11-02", "2026-10-26 08:00", M60, 33),
            ("Monday after spring forward, 30 min", "2027-03-15", "2027-03-08 08:00", M30, 35),
            ("Monday after spring forward, 60 min", "2027-03-15", "2027-03-08 08:00", M60, 33),
            ("fall-back Sunday", "2026-11-01", "2026-10-26 08:00", M30, 0),
            ("spring-forward Sunday", "2027-03-14", "2027-03-08 08:00", M30, 0),
            ("Saturday", "2026-12-05", NOW, M30, 0),
            ("Christmas", "2026-12-25", NOW, M30, 0),
            ("New Year's Day", "2027-01-01", "2026-12-20 08:00", M30, 0),
        ];
        for (case, day, now, length, expected) in cases {
            let slots = free_slots(&rules(), &agents, &[], et(now), date(day), 1, length);
            assert_eq!(slots.len(), expected, "{case}");
            if expected > 0 {
                let last = 18 * 60 - length.minutes();
                assert_eq!(hm(slots[0].start), "09:00", "{case}");
                assert_eq!(hm(slots[expected - 1].start), format!("{:02}:{:02}", last / 60, last % 60), "{case}");
            }
            for pair in slots.windows(2) {
                assert_eq!(pair[1].start.duration_since(pair[0].start), SignedDuration::from_mins(15), "{case}");
            }
            for slot in &slots {
                assert_eq!(slot.end.duration_since(slot.start), length.duration(), "{case}");
                assert_eq!(eastern_date(slot.start), date(day), "{case}");
            }
        }
    }

    #[test]
    fn dst_days_open_at_nine_eastern() {
        assert_eq!(date("2026-11-01").weekday(), Weekday::Sunday);
        assert_eq!(date("2027-03-14").weekday(), Weekday::Sunday);
        let agents = [Agent::new(1)];
        // (case, now ET, from, days, expected first start of each day with slots, UTC)
        let cases: [(&str, &str, &str, u32, &[&str]); 3] = [
            (
                "fall back: Friday in EDT, Monday in EST",
                "2026-10-26 08:00",
                "2026-10-30",
                4,
                &["2026-10-30T13:00:00Z", "2026-11-02T14:00:00Z"],
            ),
            (
                "spring forward: Friday in EST, Monday in EDT",
                "2027-03-08 08:00",
                "2027-03-12",
                4,
                &["2027-03-12T14:00:00Z", "2027-03-15T13:00:00Z"],
            ),
            ("the DST Sundays alone", "2026-10-26 08:00", "2026-11-01", 1, &[]),
        ];
        for (case, now, from, days, firsts) in cases {
            let slots = free_slots(&rules(), &agents, &[], et(now), date(from), days, M30);
            let mut got: Vec<Timestamp> = Vec::new();
            for slot in &slots {
                if got.last().is_none_or(|&first| eastern_date(first) != eastern_date(slot.start)) {
                    got.push(slot.start);
                }
            }
            let expected: Vec<Timestamp> = firsts.iter().map(|s| utc(s)).collect();
            assert_eq!(got, expected, "{case}");
        }
        let spring = free_slots(&rules(), &agents, &[], et("2027-03-08 08:00"), date("2027-03-14"), 1, M30);
        assert!(spring.is_empty());
        // Last call of the Monday after fall back: 17:30 EST = 22:30Z, ending 23:00Z.
        let monday = free_slots(&rules(), &agents, &[], et("2026-10-26 08:00"), date("2026-11-02"), 1, M30);
        assert_eq!(
            monday.last().map(|s| (s.start, s.end)),
            Some((utc("2026-11-02T22:30:00Z"), utc("2026-11-02T23:00:00Z")))
        );
    }

    #[test]
    fn a_week_has_no_weekend_and_no_holiday_slots() {
        let agents = [Agent::new(1)];
        // (case, now ET, from, expected count)
        let cases = [
            ("ordinary week", NOW, "2026-12-07", 5 * 35),
            ("Christmas week", NOW, "2026-12-21", 4 * 35),
            ("starting on a Saturday", NOW, "2026-12-05", 5 * 35),
        ];
        for (case, now, from, expected) in cases {
            let slots = free_slots(&rules(), &agents, &[], et(now), date(from), 7, M30);
            assert_eq!(slots.len(), expected, "{case}");
            for slot in &slots {
                let day = eastern_date(slot.start);
                assert!(!matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday), "{case}: {slot:?}");
                assert!(!rules().holidays.contains(&day), "{case}: {slot:?}");
            }
            assert!(slots.windows(2).all(|pair| pair[0].start < pair[1].start), "{case}: sorted");
        }
    }

    #[test]
    fn listing_respects_notice_and_horizon() {
        let agents = [Agent::new(1)];
        // (case, now ET, from, days, expected count, first start ET, last start ET)
        let cases = [
            ("today at 10:05: first start 12:15", "2026-12-07 10:05", "2026-12-07", 1, 22, "12:15", "17:30"),
            ("today at 10:00: first start 12:00", "2026-12-07 10:00", "2026-12-07", 1, 23, "12:00", "17:30"),
            ("today after 15:30: nothing left", "2026-12-07 15:31", "2026-12-07", 1, 0, "", ""),
            ("today at 07:00: whole day", "2026-12-07 07:00", "2026-12-07", 1, 35, "09:00", "17:30"),
            ("horizon day ends at 10:00", "2026-12-01 10:00", "2026-12-31", 1, 5, "09:00", "10:00"),
            ("past the horizon", "2026-12-01 10:00", "2027-01-04", 7, 0, "", ""),
            ("in the past", "2026-12-07 10:00", "2026-11-30", 5, 0, "", ""),
        ];
        for (case, now, from, days, count, first, last) in cases {
            let slots = free_slots(&rules(), &agents, &[], et(now), date(from), days, M30);
            assert_eq!(slots.len(), count, "{case}");
            assert_eq!(slots.first().map(|s| hm(s.start)).unwrap_or_default(), first, "{case}");
            assert_eq!(slots.last().map(|s| hm(s.start)).unwrap_or_default(), last, "{case}");
        }
        // The whole bookable range fits in one listing; asking for more days changes nothing.
        let now = et("2026-12-01 10:00");
        let all = free_slots(&rules(), &agents, &[], now, date("2026-12-01"), MAX_LIST_DAYS, M30);
        assert_eq!(all, free_slots(&rules(), &agents, &[], now, date("2026-12-01"), u32::MAX, M30));
        assert_eq!(all.first().map(|s| s.start), Some(et("2026-12-01 12:00")));
        assert_eq!(all.last().map(|s| s.start), Some(et("2026-12-31 10:00")));
        assert!(free_slots(&rules(), &agents, &[], now, date("2026-12-01"), 0, M30).is_empty());
        assert!(free_slots(&rules(), &[], &[], now, date("2026-12-07"), 7, M30).is_empty(), "no agents");
    }

    #[test]
    fn buffers_between_calls_of_one_agent() {
        let agents = [Agent::new(1)];
        let ten = busy(1, "2026-12-07 10:00", "2026-12-07 10:30");
        // (case, existing calls, start ET, length, free?)
        let cases: &[(&str, Vec<Busy>, &str, CallLength, bool)] = &[
            ("10:00 overlaps the call", vec![ten], "2026-12-07 10:00", M30, false),
            ("10:15 overlaps the call", vec![ten], "2026-12-07 10:15", M30, false),
            ("10:30 is inside the buffer (busy until 10:40)", vec![ten], "2026-12-07 10:30", M30, false),
            ("10:45 is after the buffer", vec![ten], "2026-12-07 10:45", M30, true),
            ("09:15 + 30 min + buffer = 09:55", vec![ten], "2026-12-07 09:15", M30, true),
            ("09:30 + 30 min + buffer = 10:10", vec![ten], "2026-12-07 09:30", M30, false),
            ("09:00 + 45 min + buffer = 09:55", vec![ten], "2026-12-07 09:00", M45, true),
            ("09:15 + 45 min + buffer = 10:10", vec![ten], "2026-12-07 09:15", M45, false),
            ("09:00 + 60 min + buffer = 10:10", vec![ten], "2026-12-07 09:00", M60, false),
            (
                "a call ending 09:50 frees 10:00",
                vec![busy(1, "2026-12-07 09:20", "2026-12-07 09:50")],
                "2026-12-07 10:00",
                M30,
                true,
            ),
            (
                "a call ending 09:51 blocks 10:00",
                vec![busy(1, "2026-12-07 09:20", "2026-12-07 09:51")],
                "2026-12-07 10:00",
                M30,
                false,
            ),
            (
                "another agent's call does not block",
                vec![busy(2, "2026-12-07 10:00", "2026-12-07 10:30")],
                "2026-12-07 10:00",
                M30,
                true,
            ),
            (
                "yesterday's call does not block",
                vec![busy(1, "2026-12-04 10:00", "2026-12-04 10:30")],
                "2026-12-07 10:00",
                M30,
                true,
            ),
            (
                "a call in the next slot: 17:00 + 30 + 10 > 17:30",
                vec![busy(1, "2026-12-07 17:30", "2026-12-07 18:00")],
                "2026-12-07 17:00",
                M30,
                false,
            ),
            ("17:30 call: its buffer may run past closing", vec![], "2026-12-07 17:30", M30, true),
        ];
        for (case, calls, start, length, free) in cases {
            assert_eq!(pick_agent(&rules(), &agents, calls, et(start), *length).is_some(), *free, "{case}");
            let listed = free_slots(&rules(), &agents, calls, et(NOW), date("2026-12-07"), 1, *length);
            assert_eq!(listed.iter().any(|s| s.start == et(start)), *free, "{case} (listing)");
        }
        // 10:40 would be right after the buffer, but it is off the grid.
        assert_eq!(check_start(&rules(), et(NOW), et("2026-12-07 10:40"), M30), Err(SlotError::OffGrid));
        // The day's listing lacks exactly the starts the 10:00–10:30 call blocks.
        let all = free_slots(&rules(), &agents, &[], et(NOW), date("2026-12-07"), 1, M30);
        let left = free_slots(&rules(), &agents, &[ten], et(NOW), date("2026-12-07"), 1, M30);
        let missing: Vec<String> = all.iter().filter(|s| !left.contains(s)).map(|s| hm(s.start)).collect();
        assert_eq!(missing, ["09:30", "09:45", "10:00", "10:15", "10:30"]);
        // With a second agent every start stays offered, and the free agent is picked.
        let two = [Agent::new(1), Agent::new(2)];
        assert_eq!(free_slots(&rules(), &two, &[ten], et(NOW), date("2026-12-07"), 1, M30), all);
        assert_eq!(pick_agent(&rules(), &two, &[ten], et("2026-12-07 10:00"), M30), Some(2));
    }

    #[test]
    fn agents_with_different_availability() {
        use Weekday::{Monday, Saturday, Thursday, Tuesday, Wednesday};
        let mornings = Agent { weekly: hours(&[Monday, Wednesday], 9, 12), ..Agent::new(1) };
        let afternoons = Agent { weekly: hours(&[Tuesday, Wednesday, Thursday], 12, 16), ..Agent::new(2) };
        let agents = [mornings, afternoons];
        // (case, day, expected 30-minute starts): the union of both agents' hours.
        let days = [
            ("Monday: mornings only", "2026-12-07", 11),
            ("Tuesday: afternoons only", "2026-12-08", 15),
            ("Wednesday: both", "2026-12-09", 26),
            ("Thursday: afternoons only", "2026-12-10", 15),
            ("Friday: nobody", "2026-12-11", 0),
        ];
        for (case, day, expected) in days {
            assert_eq!(free_slots(&rules(), &agents, &[], et(NOW), date(day), 1, M30).len(), expected, "{case}");
        }
        // (case, start ET, length, agent)
        let picks = [
            ("Wednesday morning: agent 1", "2026-12-09 10:00", M30, Some(1)),
            ("Wednesday afternoon: agent 2", "2026-12-09 13:00", M30, Some(2)),
            ("a call may not be split between agents", "2026-12-09 11:45", M30, None),
            ("11:30 fits the morning", "2026-12-09 11:30", M30, Some(1)),
            ("11:30 for 45 min fits nobody", "2026-12-09 11:30", M45, None),
            ("Monday afternoon: nobody", "2026-12-07 13:00", M30, None),
            ("15:30 for 30 min fits the afternoon", "2026-12-10 15:30", M30, Some(2)),
            ("15:30 for 45 min runs past 16:00", "2026-12-10 15:30", M45, None),
        ];
        for (case, start, length, expected) in picks {
            assert_eq!(pick_agent(&rules(), &agents, &[], et(start), length), expected, "{case}");
        }
        // Agent hours wider than live chat are clipped to it: no Saturday, nothing before 09:00 or after 18:00.
        let wide = [Agent { weekly: hours(&[Monday, Saturday], 7, 20), ..Agent::new(3) }];
        assert_eq!(free_slots(&rules(), &wide, &[], et(NOW), date("2026-12-07"), 1, M30).len(), 35);
        assert!(free_slots(&rules(), &wide, &[], et(NOW), date("2026-12-05"), 1, M30).is_empty());
        assert_eq!(pick_agent(&rules(), &wide, &[], et("2026-12-07 08:00"), M30), None);
        assert_eq!(pick_agent(&rules(), &wide, &[], et("2026-12-05 10:00"), M30), None);
        // Nobody takes calls on a holiday, whatever their own hours.
        assert_eq!(pick_agent(&rules(), &[Agent::new(1)], &[], et("2026-12-25 10:00"), M30), None);
    }

    #[test]
    fn time_off_removes_an_agent() {
        let off = Agent { time_off: vec![(et("2026-12-07 12:00"), et("2026-12-07 14:00"))], ..Agent::new(1) };
        let alone = [off.clone()];
        // (case, start ET, length, free?)
        let cases = [
            ("11:30 for 30 min ends as time off begins", "2026-12-07 11:30", M30, true),
            ("11:15 for 45 min ends as time off begins", "2026-12-07 11:15", M45, true),
            ("11:15 for 60 min runs into time off", "2026-12-07 11:15", M60, false),
            ("11:45 runs into time off", "2026-12-07 11:45", M30, false),
            ("12:00 is time off", "2026-12-07 12:00", M30, false),
            ("13:45 is time off", "2026-12-07 13:45", M30, false),
            ("14:00 is back", "2026-12-07 14:00", M30, true),
            ("another day is unaffected", "2026-12-08 12:00", M30, true),
        ];
        for (case, start, length, free) in cases {
            assert_eq!(pick_agent(&rules(), &alone, &[], et(start), length).is_some(), free, "{case}");
        }
        assert_eq!(free_slots(&rules(), &alone, &[], et(NOW), date("2026-12-07"), 1, M30).len(), 35 - 9);
        // Another agent covers the gap.
        let two = [off, Agent::new(2)];
        assert_eq!(pick_agent(&rules(), &two, &[], et("2026-12-07 12:00"), M30), Some(2));
        assert_eq!(free_slots(&rules(), &two, &[], et(NOW), date("2026-12-07"), 1, M30).len(), 35);
        // A week off: no slots at all.
        let away = [Agent { time_off: vec![(et("2026-12-05 00:00"), et("2026-12-12 00:00"))], ..Agent::new(1) }];
        assert!(free_slots(&rules(), &away, &[], et(NOW), date("2026-12-07"), 7, M30).is_empty());
    }

    #[test]
    fn the_least_booked_agent_that_day_is_picked() {
        let t0 = et("2026-11-20 09:00");
        let t1 = et("2026-11-21 09:00");
        let monday = [
            busy(1, "2026-12-07 09:00", "2026-12-07 09:30"),
            busy(1, "2026-12-07 11:00", "2026-12-07 11:30"),
            busy(2, "2026-12-07 09:00", "2026-12-07 09:30"),
            busy(3, "2026-12-08 09:00", "2026-12-08 09:30"),
        ];
        let with = |extra: &[Busy]| monday.iter().chain(extra).copied().collect::<Vec<Busy>>();
        let agent3_monday = [busy(3, "2026-12-07 13:00", "2026-12-07 13:30")];
        // (case, calls, last assignment of agents 1, 2, 3, start ET, expected)
        let cases = [
            (
                "fewest calls that day (other days do not count)",
                with(&[]),
                [None, None, Some(t1)],
                "2026-12-07 15:00",
                Some(3),
            ),
            (
                "tie: never assigned goes first",
                with(&agent3_monday),
                [None, None, Some(t0)],
                "2026-12-07 15:00",
                Some(2),
            ),
            (
                "tie: oldest assignment goes first",
                with(&agent3_monday),
                [None, Some(t1), Some(t0)],
                "2026-12-07 15:00",
                Some(3),
            ),
            (
                "tie: oldest assignment goes first (2)",
                with(&agent3_monday),
                [None, Some(t0), Some(t1)],
                "2026-12-07 15:00",
                Some(2),
            ),
            (
                "tie on everything: lowest id",
                with(&agent3_monday),
                [None, Some(t0), Some(t0)],
                "2026-12-07 15:00",
                Some(2),
            ),
            (
                "least booked but busy then: next best",
                with(&agent3_monday),
                [None, None, None],
                "2026-12-07 13:00",
                Some(2),
            ),
            (
                "only the most booked is free",
                with(&[
                    busy(2, "2026-12-07 15:00", "2026-12-07 15:30"),
                    busy(3, "2026-12-07 15:00", "2026-12-07 16:00"),
                ]),
                [None, None, None],
                "2026-12-07 15:00",
                Some(1),
            ),
            (
                "all busy",
                with(&[
                    busy(2, "2026-12-07 11:00", "2026-12-07 11:30"),
                    busy(3, "2026-12-07 11:00", "2026-12-07 11:30"),
                ]),
                [None, None, None],
                "2026-12-07 11:00",
                None,
            ),
        ];
        for (case, calls, last, start, expected) in cases {
            let agents: Vec<Agent> =
                (1..=3).map(|id| Agent { last_assigned: last[id as usize - 1], ..Agent::new(id) }).collect();
            assert_eq!(pick_agent(&rules(), &agents, &calls, et(start), M30), expected, "{case}");
        }
    }

    #[test]
    fn assignment_rotates_round_robin() {
        let mut agents: Vec<Agent> = (1..=3).map(Agent::new).collect();
        let mut calls: Vec<Busy> = Vec::new();
        let mut picked = Vec::new();
        // Six bookings on one Monday, each at its own time so everyone is free; booked one after the other.
        for (k, start) in ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00"].iter().enumerate() {
            let now = add(et(NOW), SignedDuration::from_mins(k as i64));
            let start = et(&format!("2026-12-07 {start}"));
            let assigned = assign(&rules(), &agents, &calls, now, start, M30).unwrap();
            calls.push(Busy { agent_id: assigned.agent_id, start, end: assigned.slot.end });
            agents.iter_mut().find(|a| a.id == assigned.agent_id).unwrap().last_assigned = Some(now);
            picked.push(assigned.agent_id);
        }
        assert_eq!(picked, [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn assign_checks_the_rules_then_the_agents() {
        let agents = [Agent::new(1)];
        let taken = [busy(1, "2026-12-07 10:00", "2026-12-07 10:30")];
        // (case, start ET, expected)
        let cases = [
            ("free", "2026-12-07 11:00", Ok(1)),
            ("taken", "2026-12-07 10:00", Err(SlotError::NoAgentFree)),
            ("off grid beats taken", "2026-12-07 10:05", Err(SlotError::OffGrid)),
            ("outside hours", "2026-12-07 18:00", Err(SlotError::OutsideHours)),
            ("holiday", "2026-12-25 11:00", Err(SlotError::Holiday)),
        ];
        for (case, start, expected) in cases {
            let got = assign(&rules(), &agents, &taken, et(NOW), et(start), M30);
            assert_eq!(got.map(|a| a.agent_id), expected, "{case}");
        }
        let got = assign(&rules(), &agents, &[], et(NOW), et("2026-12-07 11:00"), M45).unwrap();
        assert_eq!(got.slot, Slot { start: et("2026-12-07 11:00"), end: et("2026-12-07 11:45") });
        assert_eq!(assign(&rules(), &[], &[], et(NOW), et("2026-12-07 11:00"), M30), Err(SlotError::NoAgentFree));
    }

    #[test]
    fn next_free_slots_after_a_conflict() {
        let agents = [Agent::new(1)];
        let taken = [busy(1, "2026-12-07 10:00", "2026-12-07 10:30")];
        // (case, now ET, from ET, n, expected starts ET)
        let cases: &[(&str, &str, &str, usize, &[&str])] = &[
            (
                "after the taken call",
                NOW,
                "2026-12-07 10:00",
                3,
                &["2026-12-07 10:45", "2026-12-07 11:00", "2026-12-07 11:15"],
            ),
            (
                "over the weekend",
                NOW,
                "2026-12-04 17:30",
                3,
                &["2026-12-04 17:30", "2026-12-07 09:00", "2026-12-07 09:15"],
            ),
            ("from an off-grid time", NOW, "2026-12-04 17:20", 1, &["2026-12-04 17:30"]),
            (
                "from the past: notice first",
                "2026-12-07 10:05",
                "2026-12-07 09:00",
                2,
                &["2026-12-07 12:15", "2026-12-07 12:30"],
            ),
            (
                "stops at the horizon",
                "2026-12-01 10:00",
                "2026-12-31 09:30",
                5,
                &["2026-12-31 09:30", "2026-12-31 09:45", "2026-12-31 10:00"],
            ),
            ("beyond the horizon", "2026-12-01 10:00", "2027-01-05 09:00", 5, &[]),
            ("none asked", NOW, "2026-12-07 10:00", 0, &[]),
        ];
        for (case, now, from, n, expected) in cases {
            let got: Vec<Timestamp> = next_free_slots(&rules(), &agents, &taken, et(now), et(from), M30, *n)
                .iter()
                .map(|s| s.start)
                .collect();
            let expected: Vec<Timestamp> = expected.iter().map(|s| et(s)).collect();
            assert_eq!(got, expected, "{case}");
        }
        // A whole horizon's worth is available when asked for.
        let now = et("2026-12-01 10:00");
        let all = next_free_slots(&rules(), &agents, &[], now, now, M30, usize::MAX);
        assert_eq!(all, free_slots(&rules(), &agents, &[], now, date("2026-12-01"), MAX_LIST_DAYS, M30));
    }

    #[test]
    fn slots_inside_the_sla_window_come_first() {
        let at = |s: &str| Slot::new(et(s), M30);
        let (a, b, c, d) =
            (at("2026-12-07 09:00"), at("2026-12-07 12:00"), at("2026-12-08 09:00"), at("2026-12-08 12:00"));
        // (case, slots, deadline, expected order, expected inside the window)
        let cases = [
            ("no deadline: unchanged", vec![c, a, d, b], None, vec![c, a, d, b], 0),
            ("sorted input stays sorted", vec![a, b, c, d], Some("2026-12-08 09:00"), vec![a, b, c, d], 2),
            ("before the deadline first, stable", vec![d, c, b, a], Some("2026-12-07 12:30"), vec![b, a, d, c], 2),
            ("starting at the deadline is not before it", vec![c, b], Some("2026-12-07 12:00"), vec![c, b], 0),
            ("deadline passed", vec![b, a], Some("2026-12-01 12:00"), vec![b, a], 0),
            ("all before", vec![b, a], Some("2026-12-31 12:00"), vec![b, a], 2),
        ];
        for (case, slots, deadline, expected, inside) in cases {
            let deadline = deadline.map(et);
            assert_eq!(sla_first(&slots, deadline), expected, "{case}");
            let (within, rest) = sla_split(&slots, deadline);
            assert_eq!(within.len(), inside, "{case}");
            assert!(within.iter().all(|s| Some(s.start) < deadline), "{case}");
            assert_eq!(within.len() + rest.len(), slots.len(), "{case}");
        }
    }

    #[test]
    fn cancelling_and_the_call_room() {
        let slot = Slot::new(et("2026-12-07 12:00"), M30);
        // (case, now ET, may cancel?, room open?)
        let cases = [
            ("a day before", "2026-12-06 12:00", true, false),
            ("exactly 1 h before", "2026-12-07 11:00", true, false),
            ("59 min before", "2026-12-07 11:01", false, false),
            ("room opens 10 min before", "2026-12-07 11:50", false, true),
            ("11 min before", "2026-12-07 11:49", false, false),
            ("during the call", "2026-12-07 12:29", false, true),
            ("at the end", "2026-12-07 12:30", false, false),
        ];
        for (case, now, cancel, room) in cases {
            assert_eq!(customer_may_cancel(et(now), slot.start), cancel, "{case}");
            assert_eq!(room_is_open(et(now), slot), room, "{case}");
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let agents = [Agent::new(1)];
        let bad_hours = WeeklyHours {
            monday: Some(DayHours { open_minute: 600, close_minute: 500 }),
            tuesday: Some(DayHours { open_minute: 0, close_minute: 5000 }),
            ..WeeklyHours::default()
        };
        let bad = Rules { live_chat: bad_hours, holidays: Default::default() };
        assert!(free_slots(&bad, &agents, &[], et(NOW), date("2026-12-07"), 7, M30).is_empty());
        let odd_agent = [Agent { weekly: bad_hours, ..Agent::new(1) }];
        assert!(free_slots(&rules(), &odd_agent, &[], et(NOW), date("2026-12-07"), 7, M30).is_empty());
        // Around the clock (including both DST Sundays): every quarter hour that exists, once.
        let all_day = Some(DayHours::hours(0, 24).unwrap());
        let always = WeeklyHours {
            monday: all_day,
            tuesday: all_day,
            wednesday: all_day,
            thursday: all_day,
            friday: all_day,
            saturday: all_day,
            sunday: all_day,
        };
        let open = Rules { live_chat: always, holidays: Default::default() };
        let anyone = [Agent { weekly: always, ..Agent::new(1) }];
        // (case, now ET, day, 15-minute starts of a 30-minute call)
        let cases = [
            ("25-hour day", "2026-10-26 08:00", "2026-11-01", 25 * 4 - 1),
            ("23-hour day", "2027-03-08 08:00", "2027-03-14", 23 * 4 - 1),
            ("24-hour day", "2026-10-26 08:00", "2026-11-03", 24 * 4 - 1),
        ];
        for (case, now, day, expected) in cases {
            let slots = free_slots(&open, &anyone, &[], et(now), date(day), 1, M30);
            assert_eq!(slots.len(), expected, "{case}");
            assert!(slots.windows(2).all(|p| p[1].start.duration_since(p[0].start).as_mins() == 15), "{case}");
        }
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
            let _ = check_start(&rules(), t, t, M60);
            let _ = check_start(&rules(), Timestamp::UNIX_EPOCH, t, M60);
            let _ = free_slots(&rules(), &agents, &[], t, date("2026-12-07"), 31, M60);
            let _ = free_slots(&rules(), &agents, &[], t, Date::MAX, 31, M60);
            let _ = free_slots(&rules(), &agents, &[], t, Date::MIN, 31, M60);
            let _ = next_free_slots(&rules(), &agents, &[], t, t, M60, 10);
            let _ = pick_agent(&rules(), &agents, &[Busy { agent_id: 1, start: t, end: t }], t, M60);
            let _ = customer_may_cancel(t, t);
            let _ = room_is_open(t, Slot::new(t, M30));
        }
    }
}
