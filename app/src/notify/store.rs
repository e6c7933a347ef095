//! Writing, listing and marking notifications.

use super::Notification;
use crate::db::{now, Db};
use crate::events::{self, Event, EventBus, NewEvent};
use sqlx::{Any, Row, Transaction};

/// What to tell someone.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub kind: &'static str,
    pub text: String,
    pub ticket_id: Option<i64>,
    pub link: Option<String>,
    /// The booking whose calendar invitation (`invite.ics`) goes with the email twin.
    pub invite: Option<i64>,
}

/// Stores a notification for each of `user_ids` inside the caller's transaction, with a personal
/// `notification.created` event each and its email in the outbox; pass the events to [`events::after_commit`].
pub async fn to_users(
    tx: &mut Transaction<'static, Any>,
    user_ids: &[i64],
    new: &NewNotification,
) -> Result<Vec<Event>, sqlx::Error> {
    let at = now();
    let mut recorded = Vec::with_capacity(user_ids.len());
    for &user_id in user_ids {
        let row = sqlx::query(
            "INSERT INTO notifications (user_id, kind, ticket_id, link, text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(new.kind)
        .bind(new.ticket_id)
        .bind(new.link.as_deref())
        .bind(&new.text)
        .bind(at)
        .fetch_one(&mut **tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        super::outbox::email_notification(tx, user_id, id, new).await?;
        let payload = serde_json::json!({ "id": id, "kind": new.kind, "text": new.text });
        recorded.push(events::record(tx, NewEvent::personal("notification.created", user_id, payload)).await?);
    }
    Ok(recorded)
}

/// Who on staff hears about a ticket: its assignee, or every agent and manager while it has none.
pub async fn staff_for_ticket(
    tx: &mut Transaction<'static, Any>,
    assignee_id: Option<i64>,
) -> Result<Vec<i64>, sqlx::Error> {
    if let Some(id) = assignee_id {
        return Ok(vec![id]);
    }
    sqlx::query("SELECT id FROM users WHERE role IN ('agent', 'manager') ORDER BY id")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect()
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Notification, sqlx::Error> {
    let read_at: Option<i64> = r.try_get("read_at")?;
    Ok(Notification {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        text: r.try_get("text")?,
        ticket_id: r.try_get("ticket_id")?,
        link: r.try_get("link")?,
        created_at: r.try_get("created_at")?,
        read: read_at.is_some(),
    })
}

/// The user's notifications, newest first, with ids below `before` when given.
pub async fn list(db: &Db, user_id: i64, before: Option<i64>, limit: i64) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query(
        "SELECT id, kind, text, ticket_id, link, created_at, read_at FROM notifications \
         WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn unread_count(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}

/// Marks the user's notifications read: the given ids (others' ids are ignored), or all when `None`.
/// Returns how many changed; the user's other tabs hear of it through a personal event.
pub async fn mark_read(db: &Db, bus: &EventBus, user_id: i64, ids: Option<&[i64]>) -> Result<u64, sqlx::Error> {
    let at = now();
    let mut tx = db.begin_write().await?;
    let changed = match ids {
        None => sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        Some(ids) => {
            let mut changed = 0;
            for id in ids {
                changed += sqlx::query(
                    "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id = $3 AND read_at IS NULL",
                )
                .bind(at)
                .bind(user_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            changed
        }
    };
    if changed == 0 {
        tx.rollback().await?;
        return Ok(0);
    }
    let event = events::record(
        &mut tx,
        NewEvent::personal("notification.read", user_id, serde_json::json!({ "changed": changed })),
    )
    .await?;
    tx.commit().await?;
    events::after_commit(db, bus, vec![event]);
    Ok(changed)
}
