//! Server functions behind the call pages; same service and rules as the REST API.

use super::calls::{Booking, Room, RoomMessage, SlotOffer};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::accounts::server_fns::ssr::signed_in as caller;

/// A ticket a call can be about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketChoice {
    pub id: i64,
    pub subject: String,
    pub priority: String,
}

/// What the booking page needs before it shows slots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingSetup {
    /// Only Platinum customers book; everyone else sees what the plan offers.
    pub may_book: bool,
    pub open_tickets: Vec<TicketChoice>,
    pub upcoming: usize,
    /// Today's Eastern date, `YYYY-MM-DD`: the first day of the first week shown.
    pub today: String,
}

/// The calls page: upcoming and past calls (staff: today's calls too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallsOverview {
    pub today: Vec<Booking>,
    pub upcoming: Vec<Booking>,
    pub past: Vec<Booking>,
}

#[cfg(feature = "ssr")]
fn today_eastern() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(super::eastern().clone()).date()
}

#[server(prefix = "/rpc", endpoint = "booking_start")]
pub async fn booking_start() -> Result<BookingSetup, AppError> {
    use crate::accounts::{Role, Tier};
    let (s, user) = caller().await?;
    let may_book = user.role == Role::Customer && user.tier == Some(Tier::Platinum);
    let mut open_tickets = Vec::new();
    let mut upcoming = 0;
    if may_book {
        let filter = crate::tickets::TicketFilter::default();
        let tickets = crate::tickets::service::list(&s.db, &user, &filter, 0, 100).await?;
        open_tickets = tickets
            .into_iter()
            .filter(|t| !matches!(t.status, crate::tickets::Status::Resolved | crate::tickets::Status::Closed))
            .map(|t| TicketChoice { id: t.id, subject: t.subject, priority: t.priority.as_str().to_string() })
            .collect();
        upcoming = super::service::list(&s.db, &user, super::service::Scope::Upcoming, 10).await?.len();
    }
    Ok(BookingSetup { may_book, open_tickets, upcoming, today: today_eastern().to_string() })
}

/// Free slots for the 7 days from `from` (`YYYY-MM-DD`, Eastern), for a call of `duration` minutes.
#[server(prefix = "/rpc", endpoint = "call_slots")]
pub async fn call_slots(from: String, duration: i64, ticket_id: Option<i64>) -> Result<SlotOffer, AppError> {
    let (s, user) = caller().await?;
    let from = from
        .trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| AppError::invalid_field("from", "Choose a week to look at."))?;
    let length = super::CallLength::from_minutes(duration)
        .map_err(|e| AppError::invalid_field("duration_minutes", e.message()))?;
    super::service::offer(&s.db, &user, from, 7, length, ticket_id).await
}

#[server(prefix = "/rpc", endpoint = "book_call")]
pub async fn book_call(
    start: String,
    duration_minutes: i64,
    platform: String,
    topic: String,
    // A form field: empty for "no ticket".
    ticket_id: String,
) -> Result<Booking, AppError> {
    let (s, user) = caller().await?;
    super::service::check_booking_rate(&s.limits, &user).await?;
    let ticket_id = match ticket_id.trim() {
        "" => None,
        raw => {
            Some(raw.parse::<i64>().map_err(|_| AppError::invalid_field("ticket_id", "Choose one of your tickets."))?)
        }
    };
    let new = super::calls::NewBooking { start, duration_minutes, platform, topic, ticket_id };
    super::service::book(&s.db, &s.events, &user, &new).await
}

#[server(prefix = "/rpc", endpoint = "my_calls")]
pub async fn my_calls() -> Result<CallsOverview, AppError> {
    use super::service::{calls_on, list, Scope};
    let (s, user) = caller().await?;
    let today = if user.role.is_staff() { calls_on(&s.db, &user, today_eastern()).await? } else { Vec::new() };
    let upcoming = list(&s.db, &user, Scope::Upcoming, 100).await?;
    let past = list(&s.db, &user, Scope::Past, 30).await?;
    Ok(CallsOverview { today, upcoming, past })
}

#[server(prefix = "/rpc", endpoint = "get_call")]
pub async fn get_call(id: i64) -> Result<Booking, AppError> {
    let (s, user) = caller().await?;
    super::service::get(&s.db, &user, id).await
}

#[server(prefix = "/rpc", endpoint = "cancel_call")]
pub async fn cancel_call(id: i64, reason: String) -> Result<Booking, AppError> {
    let (s, user) = caller().await?;
    super::service::cancel(&s.db, &s.events, &user, id, Some(&reason)).await
}

#[server(prefix = "/rpc", endpoint = "reschedule_call")]
pub async fn reschedule_call(id: i64, start: String, duration_minutes: i64) -> Result<Booking, AppError> {
    let (s, user) = caller().await?;
    super::service::check_booking_rate(&s.limits, &user).await?;
    super::service::reschedule(&s.db, &s.events, &user, id, &start, Some(duration_minutes)).await
}

#[server(prefix = "/rpc", endpoint = "complete_call")]
pub async fn complete_call(id: i64, notes: String) -> Result<Booking, AppError> {
    let (s, user) = caller().await?;
    super::service::complete(&s.db, &s.events, &user, id, &notes).await
}

#[server(prefix = "/rpc", endpoint = "set_call_link")]
pub async fn set_call_link(id: i64, meeting_url: String) -> Result<Booking, AppError> {
    let (s, user) = caller().await?;
    super::service::set_meeting_url(&s.db, &s.events, &user, id, &meeting_url).await
}

/// The room now; also tells the others the caller is here (and typing or not).
#[server(prefix = "/rpc", endpoint = "call_room")]
pub async fn call_room(id: i64, typing: bool) -> Result<Room, AppError> {
    let (s, user) = caller().await?;
    super::service::room(&s.db, &user, id, typing).await
}

#[server(prefix = "/rpc", endpoint = "say_in_room")]
pub async fn say_in_room(id: i64, body: String) -> Result<RoomMessage, AppError> {
    let (s, user) = caller().await?;
    super::service::say(&s.db, &s.events, &user, id, &body).await
}

/// The caller's call hours and time off (staff).
#[server(prefix = "/rpc", endpoint = "my_call_availability")]
pub async fn my_call_availability() -> Result<super::calls::Availability, AppError> {
    let (s, user) = caller().await?;
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    super::service::availability(&s.db, user.id).await
}

/// Whole days off, `from` to `to` inclusive (Eastern dates, `YYYY-MM-DD`).
#[server(prefix = "/rpc", endpoint = "add_my_time_off")]
pub async fn add_my_time_off(from: String, to: String, reason: String) -> Result<super::calls::TimeOff, AppError> {
    let (s, user) = caller().await?;
    let mut errors = crate::error::FieldErrors::default();
    let from_day = from.trim().parse::<jiff::civil::Date>().ok();
    let to_day = to.trim().parse::<jiff::civil::Date>().ok();
    if from_day.is_none() {
        errors.add("from", "Choose the first day off.");
    }
    if to_day.is_none() {
        errors.add("to", "Choose the last day off.");
    }
    if let (Some(a), Some(b)) = (from_day, to_day) {
        if b < a {
            errors.add("to", "The last day cannot be before the first.");
        }
    }
    errors.into_result()?;
    let (Some(a), Some(b)) = (from_day, to_day) else { return Err(AppError::internal()) };
    let zone = super::eastern().clone();
    let start = a.to_zoned(zone.clone()).map_err(|_| AppError::invalid_field("from", "Choose another day."))?;
    let end = b
        .tomorrow()
        .and_then(|d| d.to_zoned(zone))
        .map_err(|_| AppError::invalid_field("to", "Choose another day."))?;
    super::service::add_time_off(
        &s.db,
        &user,
        user.id,
        &start.timestamp().to_string(),
        &end.timestamp().to_string(),
        &reason,
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "remove_my_time_off")]
pub async fn remove_my_time_off(id: i64) -> Result<(), AppError> {
    let (s, user) = caller().await?;
    super::service::remove_time_off(&s.db, &user, id).await
}
