//! The event log behind live updates: rows written in the same transaction as
//! the change, fanned out in-process with a broadcast channel, replayed from
//! the table when a client resumes with `Last-Event-ID`.

use crate::accounts::User;
use crate::db::{now, Backend, Db};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use tokio::sync::broadcast;

/// One event as stored and as sent over SSE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub ticket_id: Option<i64>,
    /// Besides staff, the one customer who may see it (None: staff only).
    #[serde(skip)]
    pub requester_id: Option<i64>,
    /// Internal notes and the like: staff only, whoever the requester is.
    #[serde(skip)]
    pub internal: bool,
    /// When set, only this user sees the event (their notifications).
    #[serde(skip)]
    pub user_id: Option<i64>,
    /// Everyone signed in sees it (feature votes, roadmap changes).
    #[serde(skip)]
    pub public: bool,
    pub payload: serde_json::Value,
    pub created_at: i64,
}

impl Event {
    /// Whether `user` may see this event: a personal event only its user; a public one everybody; otherwise
    /// the same rule as for the ticket itself.
    pub fn visible_to(&self, user: &User) -> bool {
        if let Some(only) = self.user_id {
            return only == user.id;
        }
        self.public || user.role.is_staff() || (!self.internal && self.requester_id == Some(user.id))
    }
}

/// What a change wants to announce; becomes an [`Event`] once stored.
pub struct NewEvent {
    pub kind: &'static str,
    pub ticket_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub internal: bool,
    /// Only this user sees it (see [`Event::user_id`]).
    pub user_id: Option<i64>,
    /// Everyone signed in sees it.
    pub public: bool,
    pub payload: serde_json::Value,
}

impl NewEvent {
    /// An event about a ticket: staff and (unless `internal`) its requester see it.
    pub fn ticket(
        kind: &'static str,
        ticket_id: i64,
        requester_id: i64,
        internal: bool,
        payload: serde_json::Value,
    ) -> NewEvent {
        NewEvent {
            kind,
            ticket_id: Some(ticket_id),
            requester_id: Some(requester_id),
            internal,
            user_id: None,
            public: false,
            payload,
        }
    }

    /// The event as stored under `id` at `created_at`.
    pub fn stored(self, id: i64, created_at: i64) -> Event {
        Event {
            id,
            kind: self.kind.to_string(),
            ticket_id: self.ticket_id,
            requester_id: self.requester_id,
            internal: self.internal,
            user_id: self.user_id,
            public: self.public,
            payload: self.payload,
            created_at,
        }
    }

    /// An event only `user_id` sees.
    pub fn personal(kind: &'static str, user_id: i64, payload: serde_json::Value) -> NewEvent {
        NewEvent {
            kind,
            ticket_id: None,
            requester_id: None,
            internal: false,
            user_id: Some(user_id),
            public: false,
            payload,
        }
    }

    /// An event staff and one customer see (their call bookings).
    pub fn staff_and(kind: &'static str, customer_id: i64, payload: serde_json::Value) -> NewEvent {
        NewEvent {
            kind,
            ticket_id: None,
            requester_id: Some(customer_id),
            internal: false,
            user_id: None,
            public: false,
            payload,
        }
    }

    /// An event every signed-in user sees.
    pub fn public(kind: &'static str, payload: serde_json::Value) -> NewEvent {
        NewEvent { kind, ticket_id: None, requester_id: None, internal: false, user_id: None, public: true, payload }
    }
}

/// In-process fan-out of committed events.
///
/// On SQLite (one instance) a change publishes its events right after commit.
/// On PostgreSQL the commit carries a `NOTIFY` with the event id instead, and
/// every instance's [`listen_postgres`] publishes what it hears, its own
/// changes included, so all instances see the same stream.
#[derive(Clone, Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

pub const CHANNEL: &str = "supportal_events";

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        // A slow client that falls this far behind is told to resume from the log.
        let (sender, _) = broadcast::channel(4096);
        Self { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub fn publish(&self, events: Vec<Event>) {
        for e in events {
            let _ = self.sender.send(e);
        }
    }
}

/// Publishes committed events in-process, unless PostgreSQL's NOTIFY will.
pub fn after_commit(db: &Db, bus: &EventBus, events: Vec<Event>) {
    // The change may have queued email or webhooks: let this instance's worker look now.
    crate::notify::outbox::wake();
    if db.backend == Backend::Sqlite {
        bus.publish(events);
    }
}

/// On PostgreSQL, takes the event log's transaction lock now rather than at the first event. A transaction
/// that would otherwise wait on another's row first and on this lock later (a booking whose insert waits on a
/// concurrent booking of the same agent) takes it first, so two such transactions cannot deadlock.
pub async fn lock_log_early(tx: &mut Transaction<'static, Any>) -> Result<(), sqlx::Error> {
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock(7316001)").execute(&mut **tx).await?;
    }
    Ok(())
}

/// Stores an event inside the caller's transaction (with a NOTIFY on
/// PostgreSQL, delivered on commit); then call [`after_commit`].
pub async fn record(tx: &mut Transaction<'static, Any>, new: NewEvent) -> Result<Event, sqlx::Error> {
    if tx.backend_name() == "PostgreSQL" {
        // Event ids must commit in id order, or a reader resuming after id N could
        // miss a smaller id committed later. SQLite writers are serialised already.
        sqlx::query("SELECT pg_advisory_xact_lock(7316001)").execute(&mut **tx).await?;
    }
    let at = now();
    let row = sqlx::query(
        "INSERT INTO events (kind, ticket_id, requester_id, internal, user_id, public, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.kind)
    .bind(new.ticket_id)
    .bind(new.requester_id)
    .bind(i64::from(new.internal))
    .bind(new.user_id)
    .bind(i64::from(new.public))
    .bind(new.payload.to_string())
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = row.try_get("id")?;
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(id.to_string()).execute(&mut **tx).await?;
    }
    Ok(new.stored(id, at))
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<Event, sqlx::Error> {
    let payload: String = r.try_get("payload")?;
    Ok(Event {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        ticket_id: r.try_get("ticket_id")?,
        requester_id: r.try_get("requester_id")?,
        internal: crate::db::flag(r, "internal")?,
        user_id: r.try_get("user_id")?,
        public: crate::db::flag(r, "public")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        created_at: r.try_get("created_at")?,
    })
}

const EVENT_COLUMNS: &str = "id, kind, ticket_id, requester_id, internal, user_id, public, payload, created_at";

/// Every event after `after_id`, oldest first (for the PostgreSQL listener).
pub async fn after(db: &Db, after_id: i64, limit: i64) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2"))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(event_from_row)
        .collect()
}

/// Events after `after_id` that `user` may see, oldest first (for resuming).
pub async fn since(db: &Db, user: &User, after_id: i64, limit: i64) -> Result<Vec<Event>, sqlx::Error> {
    let staff = i64::from(user.role.is_staff());
    sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id > $1 AND CASE WHEN user_id IS NOT NULL THEN user_id = $3 \
         ELSE (public = 1 OR $2 = 1 OR (internal = 0 AND requester_id = $3)) END ORDER BY id LIMIT $4"
    ))
    .bind(after_id)
    .bind(staff)
    .bind(user.id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(event_from_row)
    .collect()
}

/// Deletes events older than `before` (they only serve resuming streams), always keeping the newest, so ids
/// never start again from 1 on SQLite and a client's `Last-Event-ID` stays meaningful. Returns how many.
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM events WHERE created_at < $1 AND id < (SELECT MAX(id) FROM events)")
        .bind(before)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// The newest event id, where a fresh client starts.
pub async fn latest_id(db: &Db) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM events").fetch_one(&db.pool).await?;
    row.try_get("id")
}

/// PostgreSQL: turns NOTIFYs from every instance into in-process events,
/// starting after `last_id` (read it before spawning, so nothing committed in
/// between is lost). After a lost connection it replays what it missed from
/// the log, so nobody connected here misses an event.
pub async fn listen_postgres(db: Db, bus: EventBus, mut last_id: i64) {
    use sqlx::postgres::PgListener;
    loop {
        let mut listener = match PgListener::connect(db.url()).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "event listener cannot connect; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        loop {
            // Catch up from the log (also covers ids whose NOTIFY was missed).
            match after(&db, last_id, 1000).await {
                Ok(missed) => {
                    if let Some(last) = missed.last() {
                        last_id = last.id;
                    }
                    bus.publish(missed);
                }
                Err(e) => tracing::warn!(error = %e, "event replay failed"),
            }
            match listener.recv().await {
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Role, Tier};

    fn user(id: i64, role: Role) -> User {
        let tier = (role == Role::Customer).then_some(Tier::General);
        User { id, email: format!("{id}@example.com"), name: "U".into(), role, tier, level: None, takes_calls: false }
    }

    fn event(new: NewEvent) -> Event {
        new.stored(1, 0)
    }

    #[test]
    fn who_sees_what() {
        let (owner, stranger, agent) = (user(1, Role::Customer), user(2, Role::Customer), user(3, Role::Agent));
        let public_reply = event(NewEvent::ticket("ticket.message", 9, 1, false, serde_json::json!({})));
        let note = event(NewEvent::ticket("ticket.message", 9, 1, true, serde_json::json!({})));
        let mine = event(NewEvent::personal("notification.created", 1, serde_json::json!({})));
        let vote = event(NewEvent::public("feature.voted", serde_json::json!({})));
        let sees = |u: &User| [&public_reply, &note, &mine, &vote].map(|e| e.visible_to(u));
        assert_eq!(sees(&owner), [true, false, true, true]);
        assert_eq!(sees(&stranger), [false, false, false, true]);
        // Staff see every ticket event but not someone else's notifications.
        assert_eq!(sees(&agent), [true, true, false, true]);
    }
}
