//! `GET /api/v1/events`: a Server-Sent Events stream of what the caller may
//! see. Resumes after `Last-Event-ID` (header or `?last_event_id=`) from the
//! event log without a gap or a duplicate; sends a keep-alive every 15 s.
//!
//! A stream lives only as long as its right to: the credential it was opened with is checked again when the
//! user's sign-ins, tokens or role change (`auth.changed`, recorded in the same transaction) and at least
//! every [`RECHECK_EVERY`]; a signed-out session, a revoked or expired token, or another role ends it. Each
//! user holds at most [`MAX_STREAMS_PER_USER`] streams on an instance, and a resume from far back replays
//! at most [`MAX_REPLAY`] events, then says `stream.reset` so the page reloads what it shows.

use super::{ApiQuery, CurrentUser};
use crate::AppState;
use app::accounts::{service, User, AUTH_CHANGED};
use app::db::Db;
use app::error::AppError;
use app::events::{self, Event};
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use http::HeaderMap;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::{error::RecvError, Receiver};

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(stream))
}

#[derive(Deserialize)]
struct EventsQuery {
    last_event_id: Option<String>,
}

/// Events fetched from the log per round trip when catching up.
const REPLAY_PAGE: i64 = 500;
/// Event ids a resume may reach back; further back, the client is told to reload instead.
pub const MAX_REPLAY: i64 = 5_000;
/// The longest a stream goes without checking its credential again.
pub const RECHECK_EVERY: Duration = Duration::from_secs(60);
/// Concurrent streams one user may hold on one instance (tabs, devices).
pub const MAX_STREAMS_PER_USER: usize = 8;

/// Open streams per user on this instance; a stream's [`StreamSlot`] gives its place back when dropped.
#[derive(Debug, Default)]
pub struct OpenStreams(Mutex<HashMap<i64, usize>>);

impl OpenStreams {
    fn take(self: &Arc<Self>, user_id: i64) -> Option<StreamSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user_id).or_default();
        if *count >= MAX_STREAMS_PER_USER {
            return None;
        }
        *count += 1;
        Some(StreamSlot { streams: self.clone(), user_id })
    }

    pub fn count(&self, user_id: i64) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&user_id).copied().unwrap_or(0)
    }
}

struct StreamSlot {
    streams: Arc<OpenStreams>,
    user_id: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

struct Cursor {
    db: Db,
    user: User,
    /// The request's credential headers, to check again.
    credentials: HeaderMap,
    /// Which session cookie counts (see `service::session_id_from`).
    secure: bool,
    checked_at: tokio::time::Instant,
    _slot: StreamSlot,
    /// Tell the client first that what it missed is more than a resume replays.
    reset: bool,
    live: Receiver<Event>,
    backlog: VecDeque<Event>,
    /// The newest id sent (or skipped as invisible); nothing at or below it is sent again.
    last_id: i64,
    /// The log may hold more than the backlog fetched so far.
    catching_up: bool,
}

impl Cursor {
    async fn refill(&mut self) -> Result<(), AppError> {
        let page = events::since(&self.db, &self.user, self.last_id, REPLAY_PAGE).await?;
        self.catching_up = page.len() as i64 == REPLAY_PAGE;
        self.backlog.extend(page);
        Ok(())
    }

    /// Whether the credential still stands for the same user with the same rights.
    async fn still_allowed(&mut self) -> bool {
        self.checked_at = tokio::time::Instant::now();
        match service::user_from_headers(&self.db, &self.credentials, self.secure).await {
            Ok(Some(now)) => now.id == self.user.id && now.role == self.user.role,
            Ok(None) => false,
            // A database hiccup is not a reason to trust a stream: end it; the browser reconnects.
            Err(_) => false,
        }
    }

    /// The next event to send, or `None` when the stream must end. An `auth.changed` event (sign-out, a
    /// revoked token, another role) is checked before anything after it is sent.
    async fn next(&mut self) -> Option<Event> {
        if std::mem::take(&mut self.reset) {
            return Some(reset_event(self.last_id));
        }
        let event = self.next_visible().await?;
        let due = event.kind == AUTH_CHANGED || self.checked_at.elapsed() >= RECHECK_EVERY;
        if due && !self.still_allowed().await {
            return None;
        }
        Some(event)
    }

    async fn next_visible(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.backlog.pop_front() {
                if event.id > self.last_id {
                    self.last_id = event.id;
                    return Some(event);
                }
                continue;
            }
            if self.catching_up {
                if self.refill().await.is_err() {
                    return None;
                }
                continue;
            }
            let wait = RECHECK_EVERY.saturating_sub(self.checked_at.elapsed());
            let received = match tokio::time::timeout(wait, self.live.recv()).await {
                Ok(received) => received,
                // Quiet for a while: make sure the stream may still run.
                Err(_) => {
                    if !self.still_allowed().await {
                        return None;
                    }
                    continue;
                }
            };
            match received {
                Ok(event) if event.id > self.last_id && event.visible_to(&self.user) => {
                    self.last_id = event.id;
                    return Some(event);
                }
                Ok(_) => continue,
                // Fell behind the in-process channel: read the gap from the log.
                Err(RecvError::Lagged(_)) => {
                    if self.refill().await.is_err() {
                        return None;
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// Told first when a resume reaches back further than [`MAX_REPLAY`]: pages reload what they show.
fn reset_event(after_id: i64) -> Event {
    Event {
        id: after_id,
        kind: "stream.reset".into(),
        ticket_id: None,
        requester_id: None,
        internal: false,
        user_id: None,
        public: false,
        payload: serde_json::json!({ "reason": "Too much happened since your last visit to replay; reload." }),
        created_at: app::db::now(),
    }
}

fn resume_point(headers: &HeaderMap, query: &EventsQuery) -> Result<Option<i64>, AppError> {
    let raw = headers.get("last-event-id").and_then(|v| v.to_str().ok()).or(query.last_event_id.as_deref());
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| AppError::invalid_field("last_event_id", "Use the id of an event you received.")),
    }
}

async fn stream(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let db = state.services.db.clone();
    let slot = state.open_streams.take(user.id).ok_or_else(|| {
        AppError::new(429, "too_many_streams", "Too many live connections are open; close a tab and try again.")
    })?;
    let resume = resume_point(&headers, &query)?;
    // Subscribe before reading the log, so nothing committed in between is missed.
    let live = state.services.events.subscribe();
    let latest = events::latest_id(&db).await?;
    let (last_id, catching_up, reset) = match resume {
        Some(id) if id < latest - MAX_REPLAY => (latest - MAX_REPLAY, true, true),
        Some(id) => (id, true, false),
        None => (latest, false, false),
    };
    let mut credentials = HeaderMap::new();
    for name in [http::header::AUTHORIZATION, http::header::COOKIE] {
        for value in headers.get_all(&name) {
            credentials.append(name.clone(), value.clone());
        }
    }
    let cursor = Cursor {
        db,
        user,
        credentials,
        secure: state.services.secure_cookies,
        checked_at: tokio::time::Instant::now(),
        _slot: slot,
        reset,
        live,
        backlog: VecDeque::new(),
        last_id,
        catching_up,
    };
    let stream = futures::stream::unfold(cursor, |mut cursor| async move {
        let event = cursor.next().await?;
        let sse = SseEvent::default()
            .id(event.id.to_string())
            .event(event.kind.clone())
            .json_data(&event)
            .unwrap_or_else(|_| SseEvent::default().comment("unserialisable event"));
        Some((Ok(sse), cursor))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
