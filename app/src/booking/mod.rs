//! Call booking rules: which call start times are offered, which agent takes a call, and the `.ics` file.
//!
//! Pure: no I/O, no clock reads (callers pass `now`), no panics, and it builds for wasm32 (it depends only on
//! `std`, `jiff` and `serde`), so the server and the browser offer exactly the same slots.
//!
//! The rules (PRODUCT.md, "Live chat and video calls"):
//! - calls happen in **live-chat hours**, Mon–Fri 09:00–18:00 America/New_York, never on holidays; the whole call
//!   must fit inside one day's hours (the buffer after it may run past closing);
//! - calls start on a [`GRID_MINUTES`] grid of Eastern wall-clock time (:00, :15, :30, :45) and last 30, 45 or 60
//!   minutes ([`CallLength`]);
//! - a start is at least [`MIN_NOTICE_MINUTES`] after `now` and at most [`HORIZON_DAYS`] Eastern calendar days
//!   after it;
//! - an agent is busy for [`BUFFER_MINUTES`] after each of their calls: a call occupies `[start, end + buffer)` and
//!   two calls of one agent may not have overlapping occupied intervals;
//! - an agent takes a call only inside their own weekly availability (on holidays nobody does) and outside their
//!   time off; a slot is offered when at least one agent is free for it;
//! - booking assigns the free agent with the fewest calls that Eastern day, ties going round robin.
//!
//! All wall-clock arithmetic (grid, hours, days) is done in Eastern civil time and converted through jiff's
//! compiled-in [`eastern`] zone, so the DST days (e.g. 2026-11-01 and 2027-03-14) need no special cases.

pub mod calls;
pub mod ics;
pub mod pages;
pub mod room_media;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;
pub mod signal;
pub mod slots;

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

pub use crate::sla::{eastern, DayHours, WeeklyHours};
pub use ics::{booking_ics, IcsEvent};
pub use slots::{
    assign, check_start, customer_may_cancel, free_agents, free_slots, next_free_slots, pick_agent, room_is_open,
    sla_first, sla_split, Assignment,
};

/// Calls start on this grid of Eastern wall-clock minutes (:00, :15, :30, :45).
pub const GRID_MINUTES: i64 = 15;
/// An agent stays busy this long after each call ends.
pub const BUFFER_MINUTES: i64 = 10;
/// A call starts at least this long after it is booked (real elapsed time).
pub const MIN_NOTICE_MINUTES: i64 = 120;
/// A call starts at most this many Eastern calendar days after it is booked (same wall-clock time, so across a DST
/// change the limit is 30 days ± 1 hour of real time).
pub const HORIZON_DAYS: i64 = 30;
/// The most days one slot listing covers (the horizon plus the partial day it ends in).
pub const MAX_LIST_DAYS: u32 = 31;
/// Customers may cancel or reschedule until this long before the start.
pub const CANCEL_NOTICE_MINUTES: i64 = 60;
/// The portal call room opens this long before the start (and closes at the end).
pub const ROOM_OPENS_MINUTES_BEFORE: i64 = 10;
/// A customer holds at most this many upcoming (booked, not yet ended) calls.
pub const MAX_UPCOMING_CALLS: usize = 3;

/// How long a call lasts. Sent and stored as its number of minutes (`30`, `45`, `60`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum CallLength {
    M30,
    M45,
    M60,
}

impl CallLength {
    pub const ALL: [CallLength; 3] = [CallLength::M30, CallLength::M45, CallLength::M60];

    /// `30`, `45` or `60`; anything else is [`SlotError::BadDuration`].
    pub fn from_minutes(minutes: i64) -> Result<CallLength, SlotError> {
        match minutes {
            30 => Ok(CallLength::M30),
            45 => Ok(CallLength::M45),
            60 => Ok(CallLength::M60),
            _ => Err(SlotError::BadDuration),
        }
    }

    pub fn minutes(self) -> u16 {
        match self {
            CallLength::M30 => 30,
            CallLength::M45 => 45,
            CallLength::M60 => 60,
        }
    }

    pub fn duration(self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.minutes()))
    }
}

impl TryFrom<u16> for CallLength {
    type Error = SlotError;

    fn try_from(minutes: u16) -> Result<CallLength, SlotError> {
        CallLength::from_minutes(i64::from(minutes))
    }
}

impl From<CallLength> for u16 {
    fn from(length: CallLength) -> u16 {
        length.minutes()
    }
}

impl fmt::Display for CallLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} minutes", self.minutes())
    }
}

/// A call's time: `[start, end)`, whole minutes. (The buffer after it is not included.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Slot {
    /// `start` plus the call's length (saturating at jiff's last instant).
    pub fn new(start: Timestamp, length: CallLength) -> Slot {
        Slot { start, end: add(start, length.duration()) }
    }

    /// The interval the agent is occupied: the call plus the [`BUFFER_MINUTES`] after it.
    pub fn occupied_until(&self) -> Timestamp {
        add(self.end, SignedDuration::from_mins(BUFFER_MINUTES))
    }
}

/// An agent who takes calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: i64,
    /// When they take calls, in Eastern time; intersected with live-chat hours. Default: live-chat hours.
    pub weekly: WeeklyHours,
    /// Half-open `[from, until)` ranges in which they take no call. A call may not overlap one; the buffer after
    /// a call may (as it may run past the end of their hours).
    pub time_off: Vec<(Timestamp, Timestamp)>,
    /// When a booking was last assigned to them (booking creation, not call time); `None` if never. Breaks ties
    /// round robin: the longest-waiting agent goes first.
    pub last_assigned: Option<Timestamp>,
}

impl Agent {
    /// Takes calls in all live-chat hours, no time off, never assigned.
    pub fn new(id: i64) -> Agent {
        Agent { id, weekly: WeeklyHours::live_chat(), time_off: Vec::new(), last_assigned: None }
    }
}

/// An existing booked (not cancelled) call of an agent, `[start, end)` without the buffer (the engine adds it).
/// A `done` call still counts (towards the agent's calls that day, and as busy time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    pub agent_id: i64,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Live-chat hours and holidays (Eastern dates, closed all day).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub live_chat: WeeklyHours,
    pub holidays: BTreeSet<Date>,
}

impl Rules {
    /// The product's live-chat hours (Mon–Fri 09:00–18:00 Eastern) with these holidays.
    pub fn live_chat(holidays: impl IntoIterator<Item = Date>) -> Rules {
        Rules { live_chat: WeeklyHours::live_chat(), holidays: holidays.into_iter().collect() }
    }
}

impl Default for Rules {
    /// Live-chat hours, no holidays.
    fn default() -> Rules {
        Rules::live_chat([])
    }
}

/// Why a call cannot start at the requested time. [`SlotError::NoAgentFree`] is a conflict (HTTP 409, answer with
/// the next free slots); the others are invalid requests (HTTP 422).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SlotError {
    #[serde(rename = "bad_duration")]
    BadDuration,
    #[serde(rename = "off_grid")]
    OffGrid,
    #[serde(rename = "outside_hours")]
    OutsideHours,
    #[serde(rename = "holiday")]
    Holiday,
    #[serde(rename = "too_soon")]
    TooSoon,
    #[serde(rename = "too_far")]
    TooFar,
    #[serde(rename = "taken")]
    NoAgentFree,
}

impl SlotError {
    pub const ALL: [SlotError; 7] = [
        SlotError::BadDuration,
        SlotError::OffGrid,
        SlotError::OutsideHours,
        SlotError::Holiday,
        SlotError::TooSoon,
        SlotError::TooFar,
        SlotError::NoAgentFree,
    ];

    /// Stable machine code, e.g. for the API's error body.
    pub fn code(self) -> &'static str {
        match self {
            SlotError::BadDuration => "bad_duration",
            SlotError::OffGrid => "off_grid",
            SlotError::OutsideHours => "outside_hours",
            SlotError::Holiday => "holiday",
            SlotError::TooSoon => "too_soon",
            SlotError::TooFar => "too_far",
            SlotError::NoAgentFree => "taken",
        }
    }

    /// A sentence for people, naming the rule.
    pub fn message(self) -> &'static str {
        match self {
            SlotError::BadDuration => "Calls last 30, 45 or 60 minutes.",
            SlotError::OffGrid => "Calls start on the quarter hour (:00, :15, :30, :45 Eastern).",
            SlotError::OutsideHours => {
                "Calls take place in live-chat hours, Monday to Friday 09:00–18:00 Eastern, and must end by 18:00."
            }
            SlotError::Holiday => "Live chat is closed on holidays; please pick another day.",
            SlotError::TooSoon => "Calls are booked at least 2 hours ahead.",
            SlotError::TooFar => "Calls are booked at most 30 days ahead.",
            SlotError::NoAgentFree => "That time has just been taken; please pick another slot.",
        }
    }

    /// True for [`SlotError::NoAgentFree`] (someone else got there first), false for invalid requests.
    pub fn is_conflict(self) -> bool {
        self == SlotError::NoAgentFree
    }
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SlotError {}

/// `t + d`, saturating at jiff's range instead of failing.
pub(crate) fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() { Timestamp::MIN } else { Timestamp::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_lengths_are_30_45_or_60_minutes() {
        // (minutes, expected)
        let cases = [
            (30, Ok(CallLength::M30)),
            (45, Ok(CallLength::M45)),
            (60, Ok(CallLength::M60)),
            (0, Err(SlotError::BadDuration)),
            (15, Err(SlotError::BadDuration)),
            (31, Err(SlotError::BadDuration)),
            (90, Err(SlotError::BadDuration)),
            (-30, Err(SlotError::BadDuration)),
        ];
        for (minutes, expected) in cases {
            assert_eq!(CallLength::from_minutes(minutes), expected, "{minutes} minutes");
        }
        for length in CallLength::ALL {
            assert_eq!(CallLength::from_minutes(i64::from(length.minutes())), Ok(length));
            assert_eq!(length.duration(), SignedDuration::from_mins(i64::from(length.minutes())));
        }
    }

    #[test]
    fn call_length_travels_as_a_number_of_minutes() {
        assert_eq!(serde_json::to_string(&CallLength::M45).unwrap(), "45");
        assert_eq!(serde_json::from_str::<CallLength>("60").unwrap(), CallLength::M60);
        let err = serde_json::from_str::<CallLength>("20").unwrap_err().to_string();
        assert!(err.contains("30, 45 or 60"), "{err}");
        assert!(serde_json::from_str::<CallLength>("\"30\"").is_err());
    }

    #[test]
    fn slot_errors_have_stable_codes_and_messages() {
        let codes: Vec<&str> = SlotError::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, ["bad_duration", "off_grid", "outside_hours", "holiday", "too_soon", "too_far", "taken"]);
        for e in SlotError::ALL {
            // The serde form is the code, so an API body can carry the error itself.
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{}\"", e.code()));
            assert_eq!(e.to_string(), e.message());
            assert!(e.message().ends_with('.'), "{e:?}");
            assert_eq!(e.is_conflict(), e == SlotError::NoAgentFree);
        }
        assert!(SlotError::OffGrid.message().contains(":00, :15, :30, :45"));
        assert!(SlotError::TooSoon.message().contains("2 hours"));
        assert!(SlotError::TooFar.message().contains("30 days"));
    }

    #[test]
    fn slot_end_and_buffer() {
        let start: Timestamp = "2026-12-07T14:00:00Z".parse().unwrap();
        let slot = Slot::new(start, CallLength::M45);
        assert_eq!(slot.end, "2026-12-07T14:45:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(slot.occupied_until(), "2026-12-07T14:55:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(Slot::new(Timestamp::MAX, CallLength::M60).end, Timestamp::MAX);
        let json = serde_json::to_string(&slot).unwrap();
        assert_eq!(json, r#"{"start":"2026-12-07T14:00:00Z","end":"2026-12-07T14:45:00Z"}"#);
    }

    #[test]
    fn default_rules_and_agents_use_live_chat_hours() {
        let rules = Rules::default();
        assert_eq!(rules.live_chat, WeeklyHours::live_chat());
        assert!(rules.holidays.is_empty());
        assert_eq!(rules.live_chat.saturday, None);
        assert_eq!(rules.live_chat.sunday, None);
        assert_eq!(rules.live_chat.monday, Some(DayHours { open_minute: 540, close_minute: 1080 }));
        let agent = Agent::new(7);
        assert_eq!((agent.id, agent.weekly, agent.time_off.len(), agent.last_assigned), (7, rules.live_chat, 0, None));
    }
}
