//! `/api/v1/bookings…`: Platinum customers book live-chat and video calls; agents take them, set their links,
//! mark them held and keep their own call hours and time off. The rules live in `app::booking`.

use super::accounts::typed;
use super::{idempotency, path_id, present, ApiJson, ApiQuery, CurrentUser, Page};
use crate::AppState;
use app::accounts::{store, User};
use app::booking::calls::{Booking, NewBooking, Room, RoomMessage, SlotOffer};
use app::booking::service::{self, Availability, Scope, TimeOff};
use app::booking::{eastern, CallLength, MAX_LIST_DAYS};
use app::error::{AppError, FieldErrors};
use app::sla::WeekText;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bookings", post(create).get(list))
        .route("/bookings/slots", get(slots))
        .route("/bookings/availability", get(availability).put(save_availability))
        .route("/bookings/time-off", post(time_off))
        .route("/bookings/{id}", get(show))
        .route("/bookings/{id}/cancel", post(cancel))
        .route("/bookings/{id}/reschedule", post(reschedule))
        .route("/bookings/{id}/done", post(done))
        .route("/bookings/{id}/meeting-url", put(meeting_url))
        .route("/bookings/{id}/ics", get(ics))
        .route("/bookings/{id}/room", get(room).post(say))
        .route("/bookings/{id}/signal", post(signal))
        .route("/bookings/{id}/ice", get(ice))
}

/// The slot listing's default length, and its default and largest number of days.
const DEFAULT_DAYS: u32 = 7;
const DEFAULT_DURATION: i64 = 30;

#[derive(Deserialize)]
struct SlotsQuery {
    from: Option<String>,
    days: Option<String>,
    duration: Option<String>,
    ticket_id: Option<String>,
}

/// `?from=YYYY-MM-DD` (Eastern, default today) `&days=` (1–31, default 7) `&duration=30|45|60` (default 30)
/// `&ticket_id=` (a P1/P2 ticket of yours: slots before its SLA deadline first).
///
/// The answer is the array of `{start, end}` API.md promises. About a P1/P2 ticket, each slot also says
/// `before_sla_deadline`, and the deadline itself comes in the `SLA-Deadline` header.
async fn slots(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<SlotsQuery>,
) -> Result<Response, AppError> {
    // Checked before the query is read, so a refusal says nothing about its shape.
    service::may_see_slots(&user)?;
    let mut errors = FieldErrors::default();
    let from = match present(&query.from) {
        None => Some(jiff::Timestamp::now().to_zoned(eastern().clone()).date()),
        Some(raw) => raw.parse::<jiff::civil::Date>().ok().or_else(|| {
            errors.add("from", format!("{raw:?} is not a date: use YYYY-MM-DD, e.g. 2026-12-07."));
            None
        }),
    };
    let days = match present(&query.days) {
        None => Some(DEFAULT_DAYS),
        Some(raw) => raw.parse::<u32>().ok().filter(|d| (1..=MAX_LIST_DAYS).contains(d)).or_else(|| {
            errors.add("days", format!("Use a number of days from 1 to {MAX_LIST_DAYS}."));
            None
        }),
    };
    let length = match present(&query.duration) {
        None => CallLength::from_minutes(DEFAULT_DURATION).ok(),
        Some(raw) => raw.parse::<i64>().ok().and_then(|m| CallLength::from_minutes(m).ok()).or_else(|| {
            errors.add("duration", "Calls last 30, 45 or 60 minutes.");
            None
        }),
    };
    let ticket_id = match present(&query.ticket_id) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("ticket_id", "Use the number of one of your tickets.");
                None
            }
        },
    };
    errors.into_result()?;
    let (Some(from), Some(days), Some(length)) = (from, days, length) else { return Err(AppError::internal()) };
    let offer = service::offer(&state.services.db, &user, from, days, length, ticket_id).await?;
    Ok(slot_list(&offer))
}

/// The REST shape of an offer (see [`slots`]).
fn slot_list(offer: &SlotOffer) -> Response {
    let deadline = offer.sla_deadline.as_deref().and_then(|d| d.parse::<jiff::Timestamp>().ok());
    let items: Vec<Value> = offer
        .slots
        .iter()
        .map(|slot| match deadline {
            Some(d) => json!({
                "start": slot.start,
                "end": slot.end,
                "before_sla_deadline": app::booking::slots::before_deadline(slot, d),
            }),
            None => json!({ "start": slot.start, "end": slot.end }),
        })
        .collect();
    let mut response = Json(items).into_response();
    if let Some(value) = offer.sla_deadline.as_deref().and_then(|d| http::HeaderValue::from_str(d).ok()) {
        response.headers_mut().insert("sla-deadline", value);
    }
    response
}

/// The body of POST /bookings read field by field, so a wrong type is named like a wrong value.
fn new_booking(body: &Value) -> Result<NewBooking, AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::new(422, "invalid_body", "Send the booking as a JSON object."));
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let ticket_id = match object.get("ticket_id") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(id) => Some(id),
            None => return Err(AppError::invalid_field("ticket_id", "Choose one of your own open tickets, or none.")),
        },
    };
    Ok(NewBooking {
        start: text("start"),
        duration_minutes: object.get("duration_minutes").and_then(Value::as_i64).unwrap_or(0),
        platform: text("platform"),
        topic: text("topic"),
        ticket_id,
    })
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    if let Err(e) = service::may_book(&user) {
        return e.into_response();
    }
    let services = state.services.clone();
    let scope = format!("user:{}:book_call", user.id);
    idempotency::once(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let new = new_booking(&body)?;
        // Shape errors first (they cost nothing), then the limit, then the search.
        app::booking::calls::check_new_booking(&new)?;
        service::check_booking_rate(&services.limits, &user).await?;
        let booking = service::book(&services.db, &services.events, &user, &new).await?;
        Ok((StatusCode::CREATED, json!(booking)))
    })
    .await
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: Page,
    scope: Option<String>,
}

/// The service lists at most this many calls; the offset cursor pages within them.
const LIST_CAP: i64 = 500;

/// Customers: their own calls; agents: the calls they take; managers: everyone's. The cursor is an offset.
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let (limit, offset) = query.page.parse()?;
    let scope = match present(&query.scope) {
        None | Some("upcoming") => Scope::Upcoming,
        Some("past") => Scope::Past,
        Some(_) => return Err(AppError::invalid_field("scope", "Use upcoming or past.")),
    };
    if offset >= LIST_CAP {
        return Ok(Json(json!({ "items": [], "next_cursor": null })));
    }
    let fetched = service::list(&state.services.db, &user, scope, (offset + limit + 1).min(LIST_CAP)).await?;
    let mut items: Vec<Booking> = fetched.into_iter().skip(offset as usize).collect();
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next = more.then(|| (offset + limit).to_string());
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Booking>, AppError> {
    Ok(Json(service::get(&state.services.db, &user, path_id(&id)?).await?))
}

/// An optional JSON body: empty means the defaults.
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| AppError::bad_request("malformed_json", "The body is not valid JSON."))?;
    typed(value)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    #[serde(default)]
    reason: Option<String>,
}

/// The customer until 1 hour before the start; staff any time, with a reason. The other side is told.
async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Booking>, AppError> {
    let s = &state.services;
    let id = path_id(&id)?;
    let request: CancelRequest = optional_body(&body)?;
    Ok(Json(service::cancel(&s.db, &s.events, &user, id, request.reason.as_deref()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RescheduleRequest {
    start: String,
    #[serde(default)]
    duration_minutes: Option<i64>,
}

async fn reschedule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RescheduleRequest>,
) -> Result<Json<Booking>, AppError> {
    let s = &state.services;
    let id = path_id(&id)?;
    service::check_booking_rate(&s.limits, &user).await?;
    let booking = service::reschedule(&s.db, &s.events, &user, id, &request.start, request.duration_minutes).await?;
    Ok(Json(booking))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoneRequest {
    notes: String,
}

/// Staff mark the call held; on a ticket the notes become an internal note.
async fn done(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<DoneRequest>,
) -> Result<Json<Booking>, AppError> {
    let s = &state.services;
    Ok(Json(service::complete(&s.db, &s.events, &user, path_id(&id)?, &request.notes).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetingUrlRequest {
    meeting_url: String,
}

async fn meeting_url(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MeetingUrlRequest>,
) -> Result<Json<Booking>, AppError> {
    let s = &state.services;
    Ok(Json(service::set_meeting_url(&s.db, &s.events, &user, path_id(&id)?, &request.meeting_url).await?))
}

/// Where people reach the portal: SUPPORTAL_PUBLIC_URL when set, else this request's Host over http.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = state.trusted_origins.first() {
        return public.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The call as an `.ics` calendar file (one event, UTC times).
async fn ics(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let body = service::ics(&state.services.db, &user, id, &base_url(&state, &headers)).await?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"call-{id}.ics\"")).map_err(|_| AppError::internal())?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct AgentQuery {
    agent_id: Option<String>,
}

/// Whose hours a staff member looks at or changes: their own, or (managers) any staff member's. Customers and
/// agents asking about someone else get 403; a manager naming nobody on staff gets 404.
async fn target_agent(state: &AppState, user: &User, raw: &Option<String>) -> Result<i64, AppError> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let Some(raw) = present(raw) else { return Ok(user.id) };
    let id =
        raw.parse::<i64>().map_err(|_| AppError::invalid_field("agent_id", "Use the id of an agent or manager."))?;
    if id == user.id {
        return Ok(id);
    }
    if !user.role.is_manager() {
        return Err(AppError::forbidden());
    }
    match store::user_by_id(&state.services.db, id).await? {
        Some(agent) if agent.role.is_staff() => Ok(id),
        _ => Err(AppError::not_found()),
    }
}

async fn availability(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<AgentQuery>,
) -> Result<Json<Value>, AppError> {
    let agent_id = target_agent(&state, &user, &query.agent_id).await?;
    let found: Availability = service::availability(&state.services.db, agent_id).await?;
    Ok(Json(
        json!({ "agent_id": agent_id, "weekly": found.weekly, "custom": found.custom, "time_off": found.time_off }),
    ))
}

/// The body is one week (`{"monday": {"open": "09:00", "close": "13:00"}, …}`, a missing or null day is closed),
/// or `null` for the live-chat hours again. Calls still happen only inside live-chat hours.
async fn save_availability(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<AgentQuery>,
    ApiJson(week): ApiJson<Option<WeekText>>,
) -> Result<Json<Value>, AppError> {
    let agent_id = target_agent(&state, &user, &query.agent_id).await?;
    let weekly = match &week {
        None => None,
        Some(week) => Some(week.parse("weekly").map_err(|list| {
            let mut errors = FieldErrors::default();
            for (field, message) in list {
                errors.add(&field, message);
            }
            AppError::invalid(errors)
        })?),
    };
    service::save_hours(&state.services.db, &user, agent_id, weekly.as_ref()).await?;
    let found = service::availability(&state.services.db, agent_id).await?;
    Ok(Json(
        json!({ "agent_id": agent_id, "weekly": found.weekly, "custom": found.custom, "time_off": found.time_off }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeOffRequest {
    start: String,
    end: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    agent_id: Option<i64>,
}

/// Time off for yourself, or (managers) for any agent. Calls already booked in it stay booked.
async fn time_off(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<TimeOffRequest>,
) -> Result<(StatusCode, Json<TimeOff>), AppError> {
    let agent_id = target_agent(&state, &user, &request.agent_id.map(|id| id.to_string())).await?;
    let db = &state.services.db;
    let added = service::add_time_off(db, &user, agent_id, &request.start, &request.end, &request.reason).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[derive(Deserialize)]
struct RoomQuery {
    typing: Option<String>,
}

/// The portal call room: the booking, whether it is open, its chat and who else is there.
async fn room(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<RoomQuery>,
) -> Result<Json<Room>, AppError> {
    let typing = matches!(present(&query.typing), Some("1" | "true"));
    Ok(Json(service::room(&state.services.db, &user, path_id(&id)?, typing).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SayRequest {
    body: String,
}

async fn say(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SayRequest>,
) -> Result<(StatusCode, Json<RoomMessage>), AppError> {
    let s = &state.services;
    let message = service::say(&s.db, &s.events, &user, path_id(&id)?, &request.body).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// An offer, answer, ICE candidate or hang-up for the call's other side (see `app::booking::signal`).
async fn signal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let s = &state.services;
    let id = path_id(&id)?;
    let checked = app::booking::signal::check_signal(&body)?;
    let to = service::signal(&s.db, &s.events, &s.limits, &user, id, &checked).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "to_user_ids": to }))))
}

/// The STUN and TURN servers for this call, with a short-lived TURN credential of the caller's own.
async fn ice(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let servers = service::ice_servers(&state.services.db, &user, path_id(&id)?, &state.ice).await?;
    // A credential: never kept by a cache on the way.
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(servers)).into_response())
}
