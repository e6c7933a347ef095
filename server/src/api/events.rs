//! `GET /api/v1/events`: a Server-Sent Events stream of what the caller may
//! see. Resumes after `Last-Event-ID` (header or `?last_event_id=`) from the
//! event log without a gap or a duplicate; sends a keep-alive every 15 s.

use super::{ApiQuery, CurrentUser};
use crate::AppState;
use app::accounts::User;
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
use std::collections::VecDeque;
use std::convert::Infallible;
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

struct Cursor {
    db: Db,
    user: User,
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

    async fn next(&mut self) -> Option<Event> {
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
            match self.live.recv().await {
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
    // Subscribe before reading the log, so nothing committed in between is missed.
    let live = state.services.events.subscribe();
    let (last_id, catching_up) = match resume_point(&headers, &query)? {
        Some(id) => (id, true),
        None => (events::latest_id(&db).await?, false),
    };
    let cursor = Cursor { db, user, live, backlog: VecDeque::new(), last_id, catching_up };
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
