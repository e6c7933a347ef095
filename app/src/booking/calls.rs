//! Booked calls as the API and the pages see them, and the pure checks on what people send.

use super::{CallLength, Slot};
use crate::error::{AppError, FieldErrors};
use serde::{Deserialize, Serialize};

crate::text_enum!(Platform {
    Portal => "portal",
    Discord => "discord",
    Zoom => "zoom",
});

impl Platform {
    pub fn label(self) -> &'static str {
        match self {
            Platform::Portal => "Portal call room",
            Platform::Discord => "Discord",
            Platform::Zoom => "Zoom",
        }
    }
}

crate::text_enum!(BookingStatus {
    Booked => "booked",
    Cancelled => "cancelled",
    Done => "done",
});

/// One booked call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: i64,
    /// RFC 3339, UTC.
    pub start: String,
    pub end: String,
    pub duration_minutes: u16,
    pub platform: Platform,
    pub topic: String,
    pub status: BookingStatus,
    pub customer_id: i64,
    pub customer_name: String,
    pub agent_id: i64,
    pub agent_name: String,
    pub ticket_id: Option<i64>,
    /// Where to join: the portal room's page, or the Discord/Zoom link the agent set (`None` until then).
    pub join_url: Option<String>,
    pub cancel_reason: Option<String>,
    /// The agent's notes once the call is done (staff only; empty for customers).
    pub notes: Option<String>,
    pub created_at: String,
}

/// What a customer asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBooking {
    /// RFC 3339.
    pub start: String,
    pub duration_minutes: i64,
    pub platform: String,
    pub topic: String,
    #[serde(default)]
    pub ticket_id: Option<i64>,
}

/// A request checked field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedBooking {
    pub start: jiff::Timestamp,
    pub length: CallLength,
    pub platform: Platform,
    pub topic: String,
    pub ticket_id: Option<i64>,
}

pub const TOPIC_MAX: usize = 200;
pub const NOTES_MAX: usize = 10_000;
pub const REASON_MAX: usize = 500;
pub const ROOM_MESSAGE_MAX: usize = 2000;

/// Checks the shape of a booking request (every field at once); the time rules come after, in `check_start`.
pub fn check_new_booking(new: &NewBooking) -> Result<CheckedBooking, AppError> {
    let mut errors = FieldErrors::default();
    let start = new.start.trim().parse::<jiff::Timestamp>().ok();
    if start.is_none() {
        errors.add("start", "Give the start as a date and time with its offset, e.g. 2026-12-07T14:00:00Z.");
    }
    let length = CallLength::from_minutes(new.duration_minutes).ok();
    if length.is_none() {
        errors.add("duration_minutes", "Calls last 30, 45 or 60 minutes.");
    }
    let platform = new.platform.parse::<Platform>().ok();
    if platform.is_none() {
        errors.add("platform", "Choose Discord, Zoom or the portal's call room.");
    }
    let topic = check_text(&new.topic, TOPIC_MAX, "Say in a few words what the call is about.");
    if let Err(message) = &topic {
        errors.add("topic", message.clone());
    }
    match (start, length, platform, topic) {
        (Some(start), Some(length), Some(platform), Ok(topic)) if errors.is_empty() => {
            Ok(CheckedBooking { start, length, platform, topic, ticket_id: new.ticket_id })
        }
        _ => Err(AppError::invalid(errors)),
    }
}

/// Trimmed, non-empty, at most `max` characters.
pub fn check_text(text: &str, max: usize, empty: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        Err(empty.to_string())
    } else if text.chars().count() > max {
        Err(format!("Keep it under {max} characters."))
    } else {
        Ok(text.to_string())
    }
}

/// A Discord or Zoom link the agent sets: http(s) only, so nothing else can be put behind the join button.
pub fn check_meeting_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && url.len() <= 500 && !url.contains(char::is_whitespace) =>
        {
            Ok(url.to_string())
        }
        _ => Err("Give the meeting link as an http(s) address, e.g. https://zoom.us/j/123.".to_string()),
    }
}

/// The portal call room's path for a booking.
pub fn room_path(id: i64) -> String {
    format!("/calls/{id}/room")
}

/// The slots on offer for a week, as the booking page shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotOffer {
    pub slots: Vec<Slot>,
    /// When booking about a P1/P2 ticket: its first-response (or resolution) deadline; slots before it come first.
    pub sla_deadline: Option<String>,
}

/// The one chat line of a portal call room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomMessage {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
}

/// Everything the call room page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub booking: Booking,
    /// Whether chatting is allowed now (from 10 minutes before the start to the end).
    pub open: bool,
    pub messages: Vec<RoomMessage>,
    /// The other people present now (seen in the last few seconds), and whether they are typing.
    pub others: Vec<Presence>,
}

pub use crate::presence::Presence;

/// An agent's call hours (their own, or the live-chat hours) and time off still ahead.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Availability {
    pub weekly: crate::sla::WeekText,
    pub custom: bool,
    pub time_off: Vec<TimeOff>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeOff {
    pub id: i64,
    pub start: String,
    pub end: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start: &str, minutes: i64, platform: &str, topic: &str) -> NewBooking {
        NewBooking {
            start: start.into(),
            duration_minutes: minutes,
            platform: platform.into(),
            topic: topic.into(),
            ticket_id: None,
        }
    }

    #[test]
    fn a_good_request_is_accepted_with_its_topic_trimmed() {
        let checked = check_new_booking(&request("2026-12-07T14:00:00Z", 45, "zoom", "  Export help ")).unwrap();
        assert_eq!(checked.length, CallLength::M45);
        assert_eq!(checked.platform, Platform::Zoom);
        assert_eq!(checked.topic, "Export help");
        assert_eq!(checked.start.to_string(), "2026-12-07T14:00:00Z");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let err = check_new_booking(&request("tomorrow", 20, "skype", "  ")).unwrap_err();
        assert_eq!(err.status, 422);
        for field in ["start", "duration_minutes", "platform", "topic"] {
            assert!(err.field(field).is_some(), "{field} missing in {err:?}");
        }
        let long = "x".repeat(TOPIC_MAX + 1);
        let err = check_new_booking(&request("2026-12-07T14:00:00Z", 30, "portal", &long)).unwrap_err();
        assert_eq!(err.fields.keys().collect::<Vec<_>>(), ["topic"]);
    }

    #[test]
    fn meeting_links_must_be_http() {
        for good in ["https://zoom.us/j/123", "http://discord.gg/abc", "HTTPS://Example.com/x"] {
            assert!(check_meeting_url(good).is_ok(), "{good}");
        }
        for bad in ["javascript:alert(1)", "ftp://x", "https://", "https:///path", "zoom.us/j/1", "https://a b", ""] {
            assert!(check_meeting_url(bad).is_err(), "{bad}");
        }
    }
}
