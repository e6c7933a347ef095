//! Booking operations (server only). Every change runs in one write transaction with its notifications and
//! events. That no agent is ever double-booked is enforced by the database: on PostgreSQL an exclusion
//! constraint on `[start, busy_until)` per agent; on SQLite the check and the insert share one `BEGIN IMMEDIATE`
//! transaction, so no other booking can interleave.

use super::calls::{check_meeting_url, check_new_booking, check_text, room_path};
use super::calls::{Booking, BookingStatus, NewBooking, Platform, Presence, Room, RoomMessage, SlotOffer};
use super::calls::{NOTES_MAX, REASON_MAX, ROOM_MESSAGE_MAX};
use super::{assign, check_start, customer_may_cancel, eastern, free_slots, next_free_slots, room_is_open};
use super::{sla_split, Agent, Busy, CallLength, DayHours, Rules, Slot, SlotError, WeeklyHours, MAX_LIST_DAYS};
use super::{MAX_UPCOMING_CALLS, ROOM_OPENS_MINUTES_BEFORE};
use crate::accounts::{Role, Tier, User};
use crate::db::{now, rfc3339, text_column as parse, Backend, Db};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event, EventBus, NewEvent};
use crate::notify::integrations::IntegrationEvent;
use crate::notify::{self, NewNotification};
use crate::sla;
use crate::sla_store;
use crate::tickets::{Priority, SlaState, Status as TicketStatus};
use crate::time::eastern_label;
use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use std::time::Duration;

const BOOKING_SELECT: &str = "SELECT b.id, b.customer_id, c.name AS customer_name, b.agent_id, a.name AS agent_name, \
     b.ticket_id, b.start_at, b.end_at, b.duration_minutes, b.platform, b.topic, b.status, b.meeting_url, \
     b.cancel_reason, b.notes, b.created_at \
     FROM bookings b JOIN users c ON c.id = b.customer_id JOIN users a ON a.id = b.agent_id";

/// Attempts at assigning an agent when PostgreSQL's constraint refuses a concurrent pick.
const ASSIGN_ATTEMPTS: usize = 6;
/// Free slots offered with a 409.
const ALTERNATIVES: usize = 5;

/// A stored booking with the raw instants the rules need.
#[derive(Clone, Debug)]
struct BookingRow {
    booking: Booking,
    start_at: i64,
    end_at: i64,
    meeting_url: Option<String>,
}

fn booking_from_row(row: &AnyRow) -> Result<BookingRow, sqlx::Error> {
    let id: i64 = row.try_get("id")?;
    let platform: Platform = parse(row, "platform")?;
    let start_at: i64 = row.try_get("start_at")?;
    let end_at: i64 = row.try_get("end_at")?;
    let meeting_url: Option<String> = row.try_get("meeting_url")?;
    let join_url = match platform {
        Platform::Portal => Some(room_path(id)),
        _ => meeting_url.clone(),
    };
    Ok(BookingRow {
        booking: Booking {
            id,
            start: rfc3339(start_at),
            end: rfc3339(end_at),
            duration_minutes: u16::try_from(row.try_get::<i64, _>("duration_minutes")?).unwrap_or(0),
            platform,
            topic: row.try_get("topic")?,
            status: parse(row, "status")?,
            customer_id: row.try_get("customer_id")?,
            customer_name: row.try_get("customer_name")?,
            agent_id: row.try_get("agent_id")?,
            agent_name: row.try_get("agent_name")?,
            ticket_id: row.try_get("ticket_id")?,
            join_url,
            cancel_reason: row.try_get("cancel_reason")?,
            notes: row.try_get("notes")?,
            created_at: rfc3339(row.try_get("created_at")?),
        },
        start_at,
        end_at,
        meeting_url,
    })
}

/// What `user` may see of a booking: customers their own (without the agent's notes), agents the calls they
/// take, managers and admins all. Anything else is "not found", so ids reveal nothing.
fn visible(user: &User, row: BookingRow) -> Option<Booking> {
    let mut booking = row.booking;
    let allowed = match user.role {
        Role::Customer => booking.customer_id == user.id,
        Role::Agent => booking.agent_id == user.id,
        Role::Manager | Role::Admin => true,
    };
    if user.role == Role::Customer {
        booking.notes = None;
    }
    allowed.then_some(booking)
}

fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn is_exclusion_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("23P01"))
}

async fn load_row(db: &Db, id: i64) -> AppResult<BookingRow> {
    let row = sqlx::query(&format!("{BOOKING_SELECT} WHERE b.id = $1")).bind(id).fetch_optional(&db.pool).await?;
    Ok(booking_from_row(&row.ok_or_else(AppError::not_found)?)?)
}

async fn load_row_tx(tx: &mut Transaction<'static, Any>, id: i64) -> AppResult<BookingRow> {
    let row = sqlx::query(&format!("{BOOKING_SELECT} WHERE b.id = $1")).bind(id).fetch_optional(&mut **tx).await?;
    Ok(booking_from_row(&row.ok_or_else(AppError::not_found)?)?)
}

/// One booking, if `user` may see it.
pub async fn get(db: &Db, user: &User, id: i64) -> AppResult<Booking> {
    visible(user, load_row(db, id).await?).ok_or_else(AppError::not_found)
}

/// Which calls a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Booked and not yet ended, soonest first.
    Upcoming,
    /// Ended, cancelled or done, latest first.
    Past,
}

/// The caller's calls: customers their own, agents the ones they take, managers everyone's.
pub async fn list(db: &Db, user: &User, scope: Scope, limit: i64) -> AppResult<Vec<Booking>> {
    let at = now();
    let (who, arg) = match user.role {
        Role::Customer => ("b.customer_id = $2", user.id),
        Role::Agent => ("b.agent_id = $2", user.id),
        Role::Manager | Role::Admin => ("$2 = $2", 0),
    };
    let sql = match scope {
        Scope::Upcoming => {
            format!("{BOOKING_SELECT} WHERE b.status = 'booked' AND b.end_at > $1 AND {who} ORDER BY b.start_at, b.id LIMIT $3")
        }
        Scope::Past => format!(
            "{BOOKING_SELECT} WHERE (b.status <> 'booked' OR b.end_at <= $1) AND {who} \
             ORDER BY b.start_at DESC, b.id DESC LIMIT $3"
        ),
    };
    let rows = sqlx::query(&sql).bind(at).bind(arg).bind(limit.clamp(1, 500)).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(b) = visible(user, booking_from_row(row)?) {
            out.push(b);
        }
    }
    Ok(out)
}

/// A staff member's calls that start on the given Eastern day (an agent's "Today's calls").
pub async fn calls_on(db: &Db, user: &User, day: Date) -> AppResult<Vec<Booking>> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let tz = eastern();
    let (from, to) = match (day.to_zoned(tz.clone()), day.tomorrow().and_then(|d| d.to_zoned(tz.clone()))) {
        (Ok(a), Ok(b)) => (a.timestamp().as_second(), b.timestamp().as_second()),
        _ => return Ok(Vec::new()),
    };
    let mine = if user.role == Role::Agent { "AND b.agent_id = $3" } else { "AND $3 = $3" };
    let rows = sqlx::query(&format!(
        "{BOOKING_SELECT} WHERE b.start_at >= $1 AND b.start_at < $2 AND b.status <> 'cancelled' {mine} \
         ORDER BY b.start_at, b.id"
    ))
    .bind(from)
    .bind(to)
    .bind(if user.role == Role::Agent { user.id } else { 0 })
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| Ok(booking_from_row(r)?.booking)).collect()
}

// ---- availability -------------------------------------------------------------------------------------------

/// Live-chat hours and holidays as stored.
pub async fn load_rules(db: &Db) -> Result<Rules, sqlx::Error> {
    let weekly = sla_store::load_weekly(db).await?;
    let holidays = sla_store::load_holidays(db).await?;
    Ok(Rules { live_chat: weekly.live_chat, holidays: holidays.into_iter().collect() })
}

/// One stored day of weekly hours (`weekday` 1 = Monday … 7, minutes of the Eastern day); `None` if unreadable.
fn day_hours_row(r: &AnyRow) -> Result<Option<(jiff::civil::Weekday, DayHours)>, sqlx::Error> {
    let weekday: i64 = r.try_get("weekday")?;
    let (open, close): (i64, i64) = (r.try_get("open_minute")?, r.try_get("close_minute")?);
    let Some((_, day)) = usize::try_from(weekday - 1).ok().and_then(|i| sla::WEEKDAYS.get(i)) else { return Ok(None) };
    let (Ok(open), Ok(close)) = (u16::try_from(open), u16::try_from(close)) else { return Ok(None) };
    Ok(DayHours::new(open, close).ok().map(|hours| (*day, hours)))
}

/// Every agent or manager who takes calls, with their hours, time off still ahead, and last assignment.
async fn load_agents(conn: &mut sqlx::AnyConnection, at: i64) -> Result<Vec<Agent>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM users WHERE takes_calls = 1 AND role IN ('agent', 'manager') \
         ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    // Agents without hours of their own follow the live-chat calendar as stored (managers may change it), like
    // `sla_store::load_weekly` read on this connection.
    let mut live_chat: Option<WeeklyHours> = None;
    for r in sqlx::query("SELECT weekday, open_minute, close_minute FROM weekly_hours WHERE calendar = 'live_chat'")
        .fetch_all(&mut *conn)
        .await?
    {
        let week = live_chat.get_or_insert_with(WeeklyHours::default);
        if let Some((day, hours)) = day_hours_row(&r)? {
            *sla::day_slot(week, day) = Some(hours);
        }
    }
    let default_hours = live_chat.unwrap_or_else(WeeklyHours::live_chat);
    let mut agents: Vec<Agent> = ids.into_iter().map(|id| Agent { weekly: default_hours, ..Agent::new(id) }).collect();
    let by_id: HashMap<i64, usize> = agents.iter().enumerate().map(|(i, a)| (a.id, i)).collect();

    let mut custom: HashMap<i64, WeeklyHours> = HashMap::new();
    for r in sqlx::query("SELECT agent_id, weekday, open_minute, close_minute FROM agent_call_hours")
        .fetch_all(&mut *conn)
        .await?
    {
        let week = custom.entry(r.try_get("agent_id")?).or_default();
        if let Some((day, hours)) = day_hours_row(&r)? {
            *sla::day_slot(week, day) = Some(hours);
        }
    }
    for (agent_id, weekly) in custom {
        if let Some(&i) = by_id.get(&agent_id) {
            agents[i].weekly = weekly;
        }
    }
    for r in sqlx::query("SELECT agent_id, start_at, end_at FROM agent_time_off WHERE end_at > $1")
        .bind(at)
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(&i) = by_id.get(&r.try_get::<i64, _>("agent_id")?) {
            agents[i].time_off.push((ts(r.try_get("start_at")?), ts(r.try_get("end_at")?)));
        }
    }
    for r in sqlx::query("SELECT agent_id, MAX(created_at) AS last FROM bookings GROUP BY agent_id")
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(&i) = by_id.get(&r.try_get::<i64, _>("agent_id")?) {
            agents[i].last_assigned = r.try_get::<Option<i64>, _>("last")?.map(ts);
        }
    }
    Ok(agents)
}

/// Calls (not cancelled) that touch `[from, to)`, buffer included; `except` leaves one out (a reschedule).
async fn load_busy<'c, E>(executor: E, from: i64, to: i64, except: Option<i64>) -> Result<Vec<Busy>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT agent_id, start_at, end_at FROM bookings \
         WHERE status <> 'cancelled' AND start_at < $1 AND busy_until > $2 AND id <> $3",
    )
    .bind(to)
    .bind(from)
    .bind(except.unwrap_or(0))
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Busy {
                agent_id: r.try_get("agent_id")?,
                start: ts(r.try_get("start_at")?),
                end: ts(r.try_get("end_at")?),
            })
        })
        .collect()
}

/// The Eastern day around an instant, widened by a day each side: enough busy time for the per-day counts
/// and the buffers of a call at `start`.
fn day_window(start: Timestamp) -> (i64, i64) {
    let s = start.as_second();
    (s - 2 * 86_400, s + 2 * 86_400)
}

/// Slots on offer for `days` Eastern days from `from`. With `ticket_id` (one of the customer's own P1/P2
/// tickets), the slots before its SLA deadline come first.
pub async fn offer(
    db: &Db,
    user: &User,
    from: Date,
    days: u32,
    length: CallLength,
    ticket_id: Option<i64>,
) -> AppResult<SlotOffer> {
    may_see_slots(user)?;
    let at = now();
    let days = days.clamp(1, MAX_LIST_DAYS);
    let rules = load_rules(db).await?;
    let agents = load_agents(&mut *db.pool.acquire().await?, at).await?;
    let from_s = from.to_zoned(eastern().clone()).map(|z| z.timestamp().as_second()).unwrap_or(at);
    let busy = load_busy(&db.pool, from_s - 86_400, from_s + i64::from(days + 1) * 86_400, None).await?;
    let slots = free_slots(&rules, &agents, &busy, ts(at), from, days, length);
    let deadline = match ticket_id {
        Some(id) => sla_deadline(db, user, id).await?,
        None => None,
    };
    let slots = match deadline {
        Some(d) => {
            let (before, after) = sla_split(&slots, Some(d));
            before.into_iter().chain(after).collect()
        }
        None => slots,
    };
    Ok(SlotOffer { slots, sla_deadline: deadline.map(|d| d.to_string()) })
}

/// The deadline a call about a P1/P2 ticket should beat: its first response while that clock runs, else its
/// resolution. `None` for other priorities and settled clocks.
async fn sla_deadline(db: &Db, user: &User, ticket_id: i64) -> AppResult<Option<Timestamp>> {
    let ticket = crate::tickets::service::get(db, user, ticket_id).await?;
    if !matches!(ticket.priority, Priority::P1 | Priority::P2) {
        return Ok(None);
    }
    let running = |state: SlaState| !matches!(state, SlaState::Met);
    let clock = if running(ticket.sla.first_response.state) {
        &ticket.sla.first_response
    } else if running(ticket.sla.resolution.state) {
        &ticket.sla.resolution
    } else {
        return Ok(None);
    };
    Ok(Timestamp::from_second(clock.due_epoch).ok())
}

/// Bookings (and reschedules) per user: [`crate::ratelimit::DEFAULT_BOOKINGS_PER_10_MINUTES`].
pub async fn check_booking_rate(limits: &crate::ratelimit::RateLimits, user: &User) -> AppResult<()> {
    limits.check(crate::ratelimit::Limit::Bookings, &format!("user:{}", user.id)).await
}

/// Staff and Platinum customers see the free slots (403 `platinum_only` for the others).
pub fn may_see_slots(user: &User) -> AppResult<()> {
    if !user.role.is_staff() && user.tier != Some(Tier::Platinum) {
        return Err(platinum_only());
    }
    Ok(())
}

/// Customers book; of them only Platinum ones (403 `customers_only` / `platinum_only`).
pub fn may_book(user: &User) -> AppResult<()> {
    if user.role != Role::Customer {
        return Err(AppError::new(403, "customers_only", "Customers book calls; agents take them."));
    }
    if user.tier != Some(Tier::Platinum) {
        return Err(platinum_only());
    }
    Ok(())
}

fn platinum_only() -> AppError {
    AppError::new(
        403,
        "platinum_only",
        "Live chat and video calls come with the Platinum plan. Open a ticket instead, or ask us about upgrading.",
    )
}

fn slot_refusal(error: SlotError) -> AppError {
    AppError {
        fields: [("start".to_string(), error.message().to_string())].into(),
        ..AppError::new(422, error.code(), error.message())
    }
}

/// The 409 for a slot someone else got first, naming the next free slots.
fn taken(rules: &Rules, agents: &[Agent], busy: &[Busy], at: i64, start: Timestamp, length: CallLength) -> AppError {
    let next = next_free_slots(rules, agents, busy, ts(at), start, length, ALTERNATIVES);
    let list = next.iter().map(|s| eastern_label(s.start.as_second())).collect::<Vec<_>>().join(", ");
    let message = if next.is_empty() {
        "That time has just been taken, and no other slot is free in the next 30 days.".to_string()
    } else {
        format!("That time has just been taken. Free next: {list}.")
    };
    let mut error = AppError::conflict("slot_taken", message);
    error.fields = next.iter().enumerate().map(|(i, s)| (format!("next.{i}"), s.start.to_string())).collect();
    error
}

/// Locks the customer's row on PostgreSQL so their own bookings run one at a time (the 3-call limit and their
/// own overlaps are checked, not constrained). SQLite's write transaction already runs alone. `NO KEY UPDATE`,
/// not `UPDATE`: it must not wait on the key-share locks that other writes' foreign keys hold on the row (a
/// ticket the same customer is opening), or those writes, waiting on the event log's lock we hold, would
/// deadlock with us.
async fn lock_customer(db: &Db, tx: &mut Transaction<'static, Any>, customer_id: i64) -> Result<(), sqlx::Error> {
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(customer_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Refuses a fourth upcoming call, or one overlapping the customer's own other call.
async fn check_customer_calls(
    tx: &mut Transaction<'static, Any>,
    customer_id: i64,
    slot: Slot,
    except: Option<i64>,
    at: i64,
) -> AppResult<()> {
    let rows = sqlx::query(
        "SELECT start_at, end_at FROM bookings WHERE customer_id = $1 AND status = 'booked' AND end_at > $2 AND id <> $3",
    )
    .bind(customer_id)
    .bind(at)
    .bind(except.unwrap_or(0))
    .fetch_all(&mut **tx)
    .await?;
    if rows.len() >= MAX_UPCOMING_CALLS {
        return Err(AppError::new(
            422,
            "too_many_calls",
            format!("You can hold {MAX_UPCOMING_CALLS} upcoming calls at a time; cancel one to book another."),
        ));
    }
    for r in rows {
        let (s, e): (i64, i64) = (r.try_get("start_at")?, r.try_get("end_at")?);
        if s < slot.end.as_second() && slot.start.as_second() < e {
            return Err(AppError::conflict("overlaps_your_call", "You already have a call at that time."));
        }
    }
    Ok(())
}

/// The ticket a call is about must be one of the customer's own, still open.
async fn check_ticket(tx: &mut Transaction<'static, Any>, customer_id: i64, ticket_id: i64) -> AppResult<()> {
    let row = sqlx::query("SELECT requester_id, status FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .fetch_optional(&mut **tx)
        .await?;
    let ok = match row {
        Some(r) => {
            let status: TicketStatus = parse(&r, "status")?;
            r.try_get::<i64, _>("requester_id")? == customer_id && !matches!(status, TicketStatus::Closed)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid_field("ticket_id", "Choose one of your own open tickets, or none."))
    }
}

fn booking_event(kind: &'static str, row: &Booking) -> NewEvent {
    NewEvent::staff_and(kind, row.customer_id, json!({ "booking_id": row.id, "status": row.status }))
}

/// The event that refreshes every view of a booking: its customer's, and staff lists and dashboards.
async fn record_booking_event(
    tx: &mut Transaction<'static, Any>,
    kind: &'static str,
    row: &Booking,
) -> Result<Vec<Event>, sqlx::Error> {
    Ok(vec![events::record(tx, booking_event(kind, row)).await?])
}

/// Announces a call to webhooks and Discord (through the outbox, in this transaction).
async fn publish(
    tx: &mut Transaction<'static, Any>,
    kind: &str,
    key: String,
    booking: &Booking,
    when: &str,
    title: String,
) -> Result<(), sqlx::Error> {
    let data = serde_json::json!({
        "booking_id": booking.id,
        "start": booking.start,
        "end": booking.end,
        "starts_at_text": when,
        "duration_minutes": booking.duration_minutes,
        "platform": booking.platform.as_str(),
        "topic": booking.topic,
        "agent": booking.agent_name,
        "customer": booking.customer_name,
        "ticket_id": booking.ticket_id,
        "status": booking.status,
    });
    let event = IntegrationEvent::new(kind, key, title, Some(format!("/calls/{}", booking.id)), data);
    notify::outbox::publish(tx, &event).await
}

async fn tell(
    tx: &mut Transaction<'static, Any>,
    users: &[i64],
    kind: &'static str,
    text: String,
    booking_id: i64,
    ticket_id: Option<i64>,
) -> Result<Vec<Event>, sqlx::Error> {
    // Emails that confirm a time carry the calendar invitation.
    let invite = matches!(kind, "booking.created" | "booking.confirmed" | "booking.rescheduled").then_some(booking_id);
    let notice = NewNotification { kind, text, ticket_id, link: Some(format!("/calls/{booking_id}")), invite };
    notify::to_users(tx, users, &notice).await
}

async fn commit(db: &Db, tx: Transaction<'static, Any>, bus: &EventBus, events: Vec<Event>) -> AppResult<()> {
    tx.commit().await?;
    events::after_commit(db, bus, events);
    Ok(())
}

/// A Platinum customer books a call. The agent is chosen by the rules (least booked that day, round robin);
/// a slot taken meanwhile answers 409 with the next free slots.
pub async fn book(db: &Db, bus: &EventBus, user: &User, new: &NewBooking) -> AppResult<Booking> {
    may_book(user)?;
    let checked = check_new_booking(new)?;
    let rules = load_rules(db).await?;
    let at = now();
    check_start(&rules, ts(at), checked.start, checked.length).map_err(slot_refusal)?;
    let slot = Slot::new(checked.start, checked.length);
    let (from, to) = day_window(checked.start);
    for _ in 0..ASSIGN_ATTEMPTS {
        let mut tx = db.begin_write().await?;
        // Bookings on PostgreSQL queue on the event log's lock first (see events::lock_log_early): the
        // exclusion constraint then refuses a taken slot at once instead of two inserts deadlocking.
        events::lock_log_early(&mut tx).await?;
        lock_customer(db, &mut tx, user.id).await?;
        check_customer_calls(&mut tx, user.id, slot, None, at).await?;
        if let Some(ticket_id) = checked.ticket_id {
            check_ticket(&mut tx, user.id, ticket_id).await?;
        }
        let agents = load_agents(&mut tx, at).await?;
        let busy = load_busy(&mut *tx, from, to, None).await?;
        let assignment = match assign(&rules, &agents, &busy, ts(at), checked.start, checked.length) {
            Ok(a) => a,
            Err(SlotError::NoAgentFree) => {
                tx.rollback().await?;
                let busy = load_busy(&db.pool, at, at + 32 * 86_400, None).await?;
                return Err(taken(&rules, &agents, &busy, at, checked.start, checked.length));
            }
            Err(other) => return Err(slot_refusal(other)),
        };
        let inserted = sqlx::query(
            "INSERT INTO bookings (customer_id, agent_id, ticket_id, start_at, end_at, busy_until, duration_minutes, \
             platform, topic, status, reminded_day_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $11, $11) RETURNING id",
        )
        .bind(user.id)
        .bind(assignment.agent_id)
        .bind(checked.ticket_id)
        .bind(slot.start.as_second())
        .bind(slot.end.as_second())
        .bind(slot.occupied_until().as_second())
        .bind(i64::from(checked.length.minutes()))
        .bind(checked.platform.as_str())
        .bind(&checked.topic)
        // Booked less than a day ahead: the confirmation stands in for the day-before reminder.
        .bind((slot.start.as_second() - at < 86_400).then_some(at))
        .bind(at)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            // Another booking took this agent between our read and our insert: choose again.
            Err(e) if is_exclusion_violation(&e) => {
                tx.rollback().await.ok();
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let booking = load_row_tx(&mut tx, id).await?.booking;
        let when = eastern_label(slot.start.as_second());
        let mut recorded = tell(
            &mut tx,
            &[booking.agent_id],
            "booking.created",
            format!("{} booked a {}-minute call for {when}: {}", user.name, checked.length.minutes(), booking.topic),
            id,
            booking.ticket_id,
        )
        .await?;
        recorded.extend(
            tell(
                &mut tx,
                &[user.id],
                "booking.confirmed",
                format!("Your call with {} is booked for {when}.", booking.agent_name),
                id,
                booking.ticket_id,
            )
            .await?,
        );
        let title = format!("{} booked a call with {} for {when}: {}", user.name, booking.agent_name, booking.topic);
        publish(&mut tx, "booking.created", format!("booking:{id}"), &booking, &when, title).await?;
        recorded.extend(record_booking_event(&mut tx, "booking.created", &booking).await?);
        commit(db, tx, bus, recorded).await?;
        return Ok(booking);
    }
    let agents = load_agents(&mut *db.pool.acquire().await?, at).await?;
    let busy = load_busy(&db.pool, at, at + 32 * 86_400, None).await?;
    Err(taken(&rules, &agents, &busy, at, checked.start, checked.length))
}

/// May `user` act on this booking as its customer (`Some(false)`) or as staff (`Some(true)`)?
fn actor_side(user: &User, b: &Booking) -> Option<bool> {
    match user.role {
        Role::Customer if b.customer_id == user.id => Some(false),
        Role::Agent if b.agent_id == user.id => Some(true),
        Role::Manager | Role::Admin => Some(true),
        _ => None,
    }
}

fn not_booked(status: BookingStatus) -> AppError {
    match status {
        BookingStatus::Cancelled => AppError::conflict("booking_cancelled", "This call was cancelled."),
        _ => AppError::conflict("booking_done", "This call has already taken place."),
    }
}

fn too_late() -> AppError {
    AppError::new(
        422,
        "too_late_to_change",
        "Calls can be changed or cancelled until 1 hour before they start. Please join, or message us on the ticket.",
    )
}

/// The customer (until 1 h before) or staff cancel a call; staff give a reason, and the other side is told.
pub async fn cancel(db: &Db, bus: &EventBus, user: &User, id: i64, reason: Option<&str>) -> AppResult<Booking> {
    let at = now();
    let mut tx = db.begin_write().await?;
    let row = load_row_tx(&mut tx, id).await?;
    let staff = actor_side(user, &row.booking).ok_or_else(AppError::not_found)?;
    if row.booking.status != BookingStatus::Booked {
        return Err(not_booked(row.booking.status));
    }
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(check_text(r, REASON_MAX, "").map_err(|m| AppError::invalid_field("reason", m))?),
        None if staff => {
            return Err(AppError::invalid_field("reason", "Tell the customer why the call is cancelled."));
        }
        None => None,
    };
    if !staff && !customer_may_cancel(ts(at), ts(row.start_at)) {
        return Err(too_late());
    }
    sqlx::query(
        "UPDATE bookings SET status = 'cancelled', cancel_reason = $1, cancelled_by = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'booked'",
    )
    .bind(reason.as_deref())
    .bind(user.id)
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let booking = load_row_tx(&mut tx, id).await?.booking;
    let when = eastern_label(row.start_at);
    let (who, text) = if staff {
        let why = reason.as_deref().unwrap_or_default();
        (booking.customer_id, format!("Your call on {when} was cancelled by {}: {why}", user.name))
    } else {
        (booking.agent_id, format!("{} cancelled the call on {when}: {}", user.name, booking.topic))
    };
    let title = format!("{} cancelled the call on {when}: {}", user.name, booking.topic);
    publish(&mut tx, "booking.cancelled", format!("booking:{id}"), &booking, &when, title).await?;
    let mut recorded = tell(&mut tx, &[who], "booking.cancelled", text, id, booking.ticket_id).await?;
    recorded.extend(record_booking_event(&mut tx, "booking.cancelled", &booking).await?);
    commit(db, tx, bus, recorded).await?;
    Ok(booking)
}

/// The customer moves their call (until 1 h before the current start). The same agent keeps it when free;
/// otherwise the rules choose again.
pub async fn reschedule(
    db: &Db,
    bus: &EventBus,
    user: &User,
    id: i64,
    start: &str,
    duration_minutes: Option<i64>,
) -> AppResult<Booking> {
    let at = now();
    let current = load_row(db, id).await?;
    if actor_side(user, &current.booking) != Some(false) {
        return Err(AppError::not_found());
    }
    if current.booking.status != BookingStatus::Booked {
        return Err(not_booked(current.booking.status));
    }
    if !customer_may_cancel(ts(at), ts(current.start_at)) {
        return Err(too_late());
    }
    let start: Timestamp = start
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_field("start", "Give the start as a date and time with its offset."))?;
    let minutes = duration_minutes.unwrap_or(i64::from(current.booking.duration_minutes));
    let length =
        CallLength::from_minutes(minutes).map_err(|e| AppError::invalid_field("duration_minutes", e.message()))?;
    let rules = load_rules(db).await?;
    check_start(&rules, ts(at), start, length).map_err(slot_refusal)?;
    let slot = Slot::new(start, length);
    let (from, to) = day_window(start);
    for _ in 0..ASSIGN_ATTEMPTS {
        let mut tx = db.begin_write().await?;
        // Bookings on PostgreSQL queue on the event log's lock first (see events::lock_log_early): the
        // exclusion constraint then refuses a taken slot at once instead of two inserts deadlocking.
        events::lock_log_early(&mut tx).await?;
        lock_customer(db, &mut tx, user.id).await?;
        let row = load_row_tx(&mut tx, id).await?;
        if row.booking.status != BookingStatus::Booked {
            return Err(not_booked(row.booking.status));
        }
        check_customer_calls(&mut tx, user.id, slot, Some(id), at).await?;
        let agents = load_agents(&mut tx, at).await?;
        let busy = load_busy(&mut *tx, from, to, Some(id)).await?;
        let free = super::free_agents(&rules, &agents, &busy, start, length);
        let agent_id = if free.contains(&row.booking.agent_id) {
            row.booking.agent_id
        } else {
            match assign(&rules, &agents, &busy, ts(at), start, length) {
                Ok(a) => a.agent_id,
                Err(SlotError::NoAgentFree) => {
                    tx.rollback().await?;
                    let busy = load_busy(&db.pool, at, at + 32 * 86_400, Some(id)).await?;
                    return Err(taken(&rules, &agents, &busy, at, start, length));
                }
                Err(other) => return Err(slot_refusal(other)),
            }
        };
        let updated = sqlx::query(
            "UPDATE bookings SET agent_id = $1, start_at = $2, end_at = $3, busy_until = $4, duration_minutes = $5, \
             reminded_day_at = $6, reminded_soon_at = NULL, updated_at = $7 WHERE id = $8",
        )
        .bind(agent_id)
        .bind(slot.start.as_second())
        .bind(slot.end.as_second())
        .bind(slot.occupied_until().as_second())
        .bind(i64::from(length.minutes()))
        .bind((slot.start.as_second() - at < 86_400).then_some(at))
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(_) => {}
            Err(e) if is_exclusion_violation(&e) => {
                tx.rollback().await.ok();
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let booking = load_row_tx(&mut tx, id).await?.booking;
        let (was, when) = (eastern_label(row.start_at), eastern_label(slot.start.as_second()));
        let mut told: Vec<i64> = vec![agent_id];
        if row.booking.agent_id != agent_id {
            told.push(row.booking.agent_id);
        }
        let text = format!("{} moved their call from {was} to {when}: {}", user.name, booking.topic);
        let mut recorded = tell(&mut tx, &told, "booking.rescheduled", text, id, booking.ticket_id).await?;
        recorded.extend(record_booking_event(&mut tx, "booking.rescheduled", &booking).await?);
        commit(db, tx, bus, recorded).await?;
        return Ok(booking);
    }
    let agents = load_agents(&mut *db.pool.acquire().await?, at).await?;
    let busy = load_busy(&db.pool, at, at + 32 * 86_400, Some(id)).await?;
    Err(taken(&rules, &agents, &busy, at, start, length))
}

/// Staff mark a call held, with notes. On a ticket the notes become an internal note and the call counts as
/// the first public response.
pub async fn complete(db: &Db, bus: &EventBus, user: &User, id: i64, notes: &str) -> AppResult<Booking> {
    let notes = check_text(notes, NOTES_MAX, "Write a few words on what was discussed.")
        .map_err(|m| AppError::invalid_field("notes", m))?;
    let at = now();
    let context = crate::tickets::clocks::SlaContext::load(db).await?;
    let mut tx = crate::tickets::service::begin_ticket_write(db).await?;
    let row = load_row_tx(&mut tx, id).await?;
    if actor_side(user, &row.booking) != Some(true) {
        return Err(AppError::not_found());
    }
    if row.booking.status != BookingStatus::Booked {
        return Err(not_booked(row.booking.status));
    }
    if at < row.start_at - ROOM_OPENS_MINUTES_BEFORE * 60 {
        return Err(AppError::new(422, "not_started", "This call has not started yet."));
    }
    sqlx::query("UPDATE bookings SET status = 'done', notes = $1, updated_at = $2 WHERE id = $3")
        .bind(&notes)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let booking = load_row_tx(&mut tx, id).await?.booking;
    let mut recorded = record_booking_event(&mut tx, "booking.done", &booking).await?;
    if let Some(ticket_id) = booking.ticket_id {
        let text = format!("Call held on {} ({} min): {notes}", eastern_label(row.start_at), booking.duration_minutes);
        recorded
            .extend(crate::tickets::service::record_call_held(&mut tx, &context, ticket_id, user, &text, at).await?);
    }
    commit(db, tx, bus, recorded).await?;
    Ok(booking)
}

/// The agent sets the Discord or Zoom link the customer joins by.
pub async fn set_meeting_url(db: &Db, bus: &EventBus, user: &User, id: i64, url: &str) -> AppResult<Booking> {
    let url = check_meeting_url(url).map_err(|m| AppError::invalid_field("meeting_url", m))?;
    let at = now();
    let mut tx = db.begin_write().await?;
    let row = load_row_tx(&mut tx, id).await?;
    if actor_side(user, &row.booking) != Some(true) {
        return Err(AppError::not_found());
    }
    if row.booking.platform == Platform::Portal {
        return Err(AppError::invalid_field("meeting_url", "Portal calls take place in the portal's call room."));
    }
    if row.booking.status != BookingStatus::Booked {
        return Err(not_booked(row.booking.status));
    }
    sqlx::query("UPDATE bookings SET meeting_url = $1, updated_at = $2 WHERE id = $3")
        .bind(&url)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let booking = load_row_tx(&mut tx, id).await?.booking;
    let text =
        format!("The {} link for your call on {} is ready.", row.booking.platform.label(), eastern_label(row.start_at));
    let mut recorded = tell(&mut tx, &[booking.customer_id], "booking.link", text, id, booking.ticket_id).await?;
    recorded.extend(record_booking_event(&mut tx, "booking.updated", &booking).await?);
    commit(db, tx, bus, recorded).await?;
    Ok(booking)
}

/// The booking's `.ics` file (one VEVENT, times in UTC). `base_url` makes the join link absolute.
pub async fn ics(db: &Db, user: &User, id: i64, base_url: &str) -> AppResult<String> {
    let row = load_row(db, id).await?;
    let meeting = row.meeting_url.clone();
    let booking = visible(user, row).ok_or_else(AppError::not_found)?;
    Ok(ics_text(&booking, meeting, base_url))
}

/// The invitation an email about booking `id` carries; `None` once the call is cancelled or gone.
pub async fn invite_ics(db: &Db, id: i64, base_url: &str) -> AppResult<Option<String>> {
    let row = match load_row(db, id).await {
        Ok(row) => row,
        Err(e) if e.status == 404 => return Ok(None),
        Err(e) => return Err(e),
    };
    if row.booking.status == BookingStatus::Cancelled {
        return Ok(None);
    }
    let meeting = row.meeting_url.clone();
    Ok(Some(ics_text(&row.booking, meeting, base_url)))
}

fn ics_text(booking: &Booking, meeting: Option<String>, base_url: &str) -> String {
    let url = match booking.platform {
        Platform::Portal => format!("{}{}", base_url.trim_end_matches('/'), room_path(booking.id)),
        _ => meeting.unwrap_or_else(|| format!("{}/calls/{}", base_url.trim_end_matches('/'), booking.id)),
    };
    let (start, end) =
        (booking.start.parse().unwrap_or(Timestamp::UNIX_EPOCH), booking.end.parse().unwrap_or(Timestamp::UNIX_EPOCH));
    let summary = format!("Supportal call: {}", booking.topic);
    let description = format!(
        "{}-minute {} call with {} about: {}",
        booking.duration_minutes,
        booking.platform.label(),
        booking.agent_name,
        booking.topic
    );
    let uid = format!("booking-{}@supportal", booking.id);
    let event = super::IcsEvent { uid: &uid, start, end, summary: &summary, description: &description, url: &url };
    super::booking_ics(&event, Timestamp::now())
}

// ---- the portal call room -----------------------------------------------------------------------------------

/// Who is in which call room, and typing (someone not heard from for 12 s has left).
static ROOMS: crate::presence::Places = crate::presence::Places::new(12);

fn note_presence(db: &Db, booking_id: i64, user: &User, typing: bool, at: i64) -> Vec<Presence> {
    ROOMS.note(db, booking_id, user, typing, false, at)
}

/// Only the call's customer and agent, and managers, enter its room.
async fn room_row(db: &Db, user: &User, id: i64) -> AppResult<BookingRow> {
    let row = load_row(db, id).await?;
    let allowed = match user.role {
        Role::Customer => row.booking.customer_id == user.id,
        Role::Agent => row.booking.agent_id == user.id,
        Role::Manager | Role::Admin => true,
    };
    if !allowed || row.booking.platform != Platform::Portal {
        return Err(AppError::not_found());
    }
    Ok(row)
}

/// The room's row when the caller may act in it now: chat, signal, ask for ICE servers.
async fn open_room_row(db: &Db, user: &User, id: i64, at: i64) -> AppResult<BookingRow> {
    let row = room_row(db, user, id).await?;
    if !open_now(&row, at) {
        return Err(AppError::conflict(
            "room_closed",
            "The call room is open from 10 minutes before the call until its end.",
        ));
    }
    Ok(row)
}

fn open_now(row: &BookingRow, at: i64) -> bool {
    row.booking.status == BookingStatus::Booked
        && room_is_open(ts(at), Slot { start: ts(row.start_at), end: ts(row.end_at) })
}

/// The room as the caller sees it now; also says "I am here" (and whether typing) for the others.
pub async fn room(db: &Db, user: &User, id: i64, typing: bool) -> AppResult<Room> {
    let at = now();
    let row = room_row(db, user, id).await?;
    let open = open_now(&row, at);
    let others = if open { note_presence(db, id, user, typing, at) } else { Vec::new() };
    let messages = sqlx::query(
        "SELECT m.id, m.author_id, u.name, m.body, m.created_at FROM call_messages m JOIN users u ON u.id = m.author_id \
         WHERE m.booking_id = $1 ORDER BY m.id LIMIT 1000",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(RoomMessage {
            id: r.try_get("id")?,
            author_id: r.try_get("author_id")?,
            author_name: r.try_get("name")?,
            body: r.try_get("body")?,
            created_at: rfc3339(r.try_get("created_at")?),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let booking = visible(user, row).ok_or_else(AppError::not_found)?;
    Ok(Room { booking, open, messages, others })
}

/// A chat line in the room, while it is open.
pub async fn say(db: &Db, bus: &EventBus, user: &User, id: i64, body: &str) -> AppResult<RoomMessage> {
    let body =
        check_text(body, ROOM_MESSAGE_MAX, "Type a message first.").map_err(|m| AppError::invalid_field("body", m))?;
    let at = now();
    let row = open_room_row(db, user, id, at).await?;
    note_presence(db, id, user, false, at);
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO call_messages (booking_id, author_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(id)
    .bind(user.id)
    .bind(&body)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?;
    let message_id: i64 = inserted.try_get("id")?;
    let mut recorded = Vec::new();
    let mut listeners = vec![row.booking.customer_id, row.booking.agent_id];
    if !listeners.contains(&user.id) {
        listeners.push(user.id);
    }
    for who in listeners {
        let payload = json!({ "booking_id": id, "message_id": message_id });
        recorded.push(events::record(&mut tx, NewEvent::personal("call.message", who, payload)).await?);
    }
    commit(db, tx, bus, recorded).await?;
    Ok(RoomMessage {
        id: message_id,
        author_id: user.id,
        author_name: user.name.clone(),
        body,
        created_at: rfc3339(at),
    })
}

/// Sends a video-call signal to the call's other participants' event streams (`call.signal`, personal): to
/// `to_user_id` when given (the customer, the agent, or a manager who joined), else to the customer and the
/// agent except the sender. Only while the room is open; returns who it went to.
pub async fn signal(
    db: &Db,
    bus: &EventBus,
    limits: &crate::ratelimit::RateLimits,
    user: &User,
    id: i64,
    signal: &super::signal::Signal,
) -> AppResult<Vec<i64>> {
    let at = now();
    let row = open_room_row(db, user, id, at).await?;
    let (customer, agent) = (row.booking.customer_id, row.booking.agent_id);
    let recipients = match signal.to_user_id {
        Some(to) if to == user.id => return Err(AppError::invalid_field("to_user_id", "Send it to someone else.")),
        Some(to) if to == customer || to == agent => vec![to],
        // A manager may join any call room, so they may be signalled in one.
        Some(to) => match crate::accounts::store::user_by_id(db, to).await? {
            Some(other) if other.role.is_manager() => vec![to],
            _ => return Err(AppError::invalid_field("to_user_id", "That person is not in this call.")),
        },
        None => [customer, agent].into_iter().filter(|who| *who != user.id).collect(),
    };
    limits.check(crate::ratelimit::Limit::Signals, &format!("user:{}", user.id)).await?;
    let mut tx = db.begin_write().await?;
    let mut recorded = Vec::with_capacity(recipients.len());
    for to in &recipients {
        let payload = json!({
            "booking_id": id,
            "from_user_id": user.id,
            "from_name": user.name,
            "kind": signal.kind,
            "payload": signal.payload,
        });
        recorded.push(events::record(&mut tx, NewEvent::personal(super::signal::SIGNAL_EVENT, *to, payload)).await?);
    }
    commit(db, tx, bus, recorded).await?;
    Ok(recipients)
}

/// The STUN and TURN servers for `user` in this call, with a TURN credential of their own; only while the
/// room is open.
pub async fn ice_servers(
    db: &Db,
    user: &User,
    id: i64,
    config: &super::signal::IceConfig,
) -> AppResult<super::signal::IceServers> {
    let at = now();
    let row = open_room_row(db, user, id, at).await?;
    Ok(config.servers_for(user.id, at, row.end_at))
}

// ---- reminders ----------------------------------------------------------------------------------------------

/// Sends the reminders that are due: a day before and 15 minutes before each booked call, to its customer and
/// agent. Each is claimed with a conditional UPDATE in the same transaction as its notifications, so it goes out
/// once, also across restarts and with several instances. Returns how many calls were reminded.
pub async fn send_due_reminders(db: &Db, bus: &EventBus, at: i64) -> AppResult<usize> {
    let mut sent = 0;
    for (column, ahead, kind) in [
        ("reminded_day_at", 86_400_i64, "booking.reminder_day"),
        ("reminded_soon_at", 15 * 60, "booking.reminder_soon"),
    ] {
        let due: Vec<i64> = sqlx::query(&format!(
            "SELECT id FROM bookings WHERE status = 'booked' AND {column} IS NULL AND start_at <= $1 ORDER BY start_at LIMIT 200"
        ))
        .bind(at + ahead)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in due {
            let mut tx = db.begin_write().await?;
            let claimed = sqlx::query(&format!("UPDATE bookings SET {column} = $1 WHERE id = $2 AND {column} IS NULL"))
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                continue;
            }
            let row = load_row_tx(&mut tx, id).await?;
            // A call already under way (say, the server was down) gets no stale reminder.
            if row.start_at <= at {
                tx.commit().await?;
                continue;
            }
            let when = eastern_label(row.start_at);
            let b = &row.booking;
            let soon = kind == "booking.reminder_soon";
            let customer_text = if soon {
                format!("Your call with {} starts in 15 minutes ({when}).", b.agent_name)
            } else {
                format!("Reminder: your call with {} is tomorrow, {when}.", b.agent_name)
            };
            let agent_text = if soon {
                format!("Your call with {} starts in 15 minutes: {}", b.customer_name, b.topic)
            } else {
                format!("Tomorrow {when}: call with {} about {}", b.customer_name, b.topic)
            };
            let title = format!(
                "Call {} with {} and {}: {}",
                if soon { "in 15 minutes" } else { "tomorrow" },
                b.agent_name,
                b.customer_name,
                b.topic
            );
            publish(&mut tx, "booking.reminder", format!("booking:{id}:{kind}"), b, &when, title).await?;
            let mut recorded = tell(&mut tx, &[b.customer_id], kind, customer_text, id, b.ticket_id).await?;
            recorded.extend(tell(&mut tx, &[b.agent_id], kind, agent_text, id, b.ticket_id).await?);
            commit(db, tx, bus, recorded).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// Runs forever: reminders every 30 seconds.
pub async fn run_reminders(db: Db, bus: EventBus) {
    loop {
        if let Err(e) = send_due_reminders(&db, &bus, now()).await {
            tracing::warn!(error = %e.message, "booking reminders failed; retrying");
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}

// ---- agents' hours and time off -----------------------------------------------------------------------------

pub use super::calls::{Availability, TimeOff};

pub async fn availability(db: &Db, agent_id: i64) -> AppResult<Availability> {
    let at = now();
    let agents = load_agents(&mut *db.pool.acquire().await?, at).await?;
    let custom = sqlx::query("SELECT COUNT(*) AS n FROM agent_call_hours WHERE agent_id = $1")
        .bind(agent_id)
        .fetch_one(&db.pool)
        .await?
        .try_get::<i64, _>("n")?
        > 0;
    let weekly = agents.iter().find(|a| a.id == agent_id).map(|a| a.weekly).unwrap_or_else(WeeklyHours::live_chat);
    let time_off = sqlx::query(
        "SELECT id, start_at, end_at, reason FROM agent_time_off WHERE agent_id = $1 AND end_at > $2 ORDER BY start_at",
    )
    .bind(agent_id)
    .bind(at)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(TimeOff {
            id: r.try_get("id")?,
            start: rfc3339(r.try_get("start_at")?),
            end: rfc3339(r.try_get("end_at")?),
            reason: r.try_get("reason")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Availability { weekly: sla::WeekText::from_hours(&weekly), custom, time_off })
}

/// Adds time off for an agent (themself, or any agent by a manager). Calls already booked stay booked.
pub async fn add_time_off(
    db: &Db,
    user: &User,
    agent_id: i64,
    start: &str,
    end: &str,
    reason: &str,
) -> AppResult<TimeOff> {
    if !(user.role.is_manager() || (user.role.is_staff() && user.id == agent_id)) {
        return Err(AppError::forbidden());
    }
    let mut errors = crate::error::FieldErrors::default();
    let start_t = start.trim().parse::<Timestamp>().ok();
    let end_t = end.trim().parse::<Timestamp>().ok();
    if start_t.is_none() {
        errors.add("start", "Give the start as a date and time with its offset.");
    }
    if end_t.is_none() {
        errors.add("end", "Give the end as a date and time with its offset.");
    }
    if let (Some(s), Some(e)) = (start_t, end_t) {
        if e <= s {
            errors.add("end", "The end must be after the start.");
        }
    }
    if reason.chars().count() > REASON_MAX {
        errors.add("reason", format!("Keep it under {REASON_MAX} characters."));
    }
    errors.into_result()?;
    let (Some(s), Some(e)) = (start_t, end_t) else { return Err(AppError::internal()) };
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO agent_time_off (agent_id, start_at, end_at, reason) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(agent_id)
    .bind(s.as_second())
    .bind(e.as_second())
    .bind(reason.trim())
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = row.try_get("id")?;
    tx.commit().await?;
    Ok(TimeOff { id, start: rfc3339(s.as_second()), end: rfc3339(e.as_second()), reason: reason.trim().to_string() })
}

/// Removes a stretch of time off (the agent's own, or any by a manager); 404 for others'.
pub async fn remove_time_off(db: &Db, user: &User, id: i64) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let owner: Option<i64> = sqlx::query("SELECT agent_id FROM agent_time_off WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("agent_id"))
        .transpose()?;
    match owner {
        Some(agent_id) if user.role.is_manager() || (user.role.is_staff() && agent_id == user.id) => {
            sqlx::query("DELETE FROM agent_time_off WHERE id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        }
        _ => Err(AppError::not_found()),
    }
}

/// Replaces an agent's call hours (`None`: back to the live-chat hours).
pub async fn save_hours(db: &Db, user: &User, agent_id: i64, weekly: Option<&WeeklyHours>) -> AppResult<()> {
    if !(user.role.is_manager() || (user.role.is_staff() && user.id == agent_id)) {
        return Err(AppError::forbidden());
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM agent_call_hours WHERE agent_id = $1").bind(agent_id).execute(&mut *tx).await?;
    if let Some(weekly) = weekly {
        for (i, (_, day)) in sla::WEEKDAYS.iter().enumerate() {
            if let Some(h) = weekly.get(*day) {
                sqlx::query(
                    "INSERT INTO agent_call_hours (agent_id, weekday, open_minute, close_minute) VALUES ($1, $2, $3, $4)",
                )
                .bind(agent_id)
                .bind(i as i64 + 1)
                .bind(i64::from(h.open_minute))
                .bind(i64::from(h.close_minute))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
