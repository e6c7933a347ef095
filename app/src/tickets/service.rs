//! Ticket operations (server only): every change runs in one write
//! transaction together with its history row and its event.

use super::clocks::{Deadlines, SlaContext};
use super::quota::{self, RecentTickets, TicketLimits};
use super::{check_message, status_change_allowed, Actor, Category, NewTicket, Priority, Status};
use super::{Message, Ticket, TicketFilter, TicketPatch};
use crate::accounts::{Level, Role, Tier, User};
use crate::db::{flag, now, text_column as parse, Db};
use crate::error::{check_text, AppError, AppResult};
use crate::events::{self, Event, EventBus, NewEvent};
use crate::notify;
use crate::notify::integrations::IntegrationEvent;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub(crate) const TICKET_COLUMNS: &str =
    "id, subject, body, priority, category, status, tier, requester_id, assignee_id, level, \
     created_at, updated_at, first_response_at, resolved_at, version, sla_next_due, sla_at_risk_from";

/// A ticket as stored, before its SLA clocks are worked out.
#[derive(Clone, Debug)]
pub struct TicketRow {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub priority: Priority,
    pub category: Category,
    pub status: Status,
    pub tier: Tier,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub level: Level,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub version: i64,
    /// The queue's sort keys (see [`SlaContext::deadlines`]), as last stored.
    pub sla_next_due: i64,
    pub sla_at_risk_from: i64,
}

pub(crate) fn ticket_from_row(row: &AnyRow) -> Result<TicketRow, sqlx::Error> {
    Ok(TicketRow {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        priority: parse(row, "priority")?,
        category: parse(row, "category")?,
        status: parse(row, "status")?,
        tier: parse(row, "tier")?,
        requester_id: row.try_get("requester_id")?,
        assignee_id: row.try_get("assignee_id")?,
        level: parse(row, "level")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        first_response_at: row.try_get("first_response_at")?,
        resolved_at: row.try_get("resolved_at")?,
        version: row.try_get("version")?,
        sla_next_due: row.try_get("sla_next_due")?,
        sla_at_risk_from: row.try_get("sla_at_risk_from")?,
    })
}

/// Pause intervals (reason, start, end) of the resolution clock, per ticket.
pub type Pauses = Vec<(String, i64, Option<i64>)>;

pub(crate) async fn pauses_for(db: &Db, ids: &[i64]) -> Result<std::collections::HashMap<i64, Pauses>, sqlx::Error> {
    let mut map: std::collections::HashMap<i64, Pauses> = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(map);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    // The ids are integers we produced, so inlining them is safe.
    let rows = sqlx::query(&format!(
        "SELECT ticket_id, reason, started_at, ended_at FROM sla_pauses WHERE ticket_id IN ({list}) ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await?;
    for r in rows {
        map.entry(r.try_get("ticket_id")?).or_default().push((
            r.try_get("reason")?,
            r.try_get("started_at")?,
            r.try_get("ended_at")?,
        ));
    }
    Ok(map)
}

/// Rows → API tickets with their SLA clocks at `at`.
pub async fn present(db: &Db, rows: Vec<TicketRow>, at: i64) -> AppResult<Vec<Ticket>> {
    let context = SlaContext::load(db).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut pauses = pauses_for(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let p = pauses.remove(&row.id).unwrap_or_default();
            Ticket::from_row(&row, context.ticket_sla(&row, &p, at))
        })
        .collect())
}

async fn load_row(db: &Db, id: i64) -> Result<Option<TicketRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| ticket_from_row(&r))
        .transpose()
}

pub(super) async fn load_row_tx(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Option<TicketRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| ticket_from_row(&r))
        .transpose()
}

/// The ticket if `user` may see it; another customer's ticket is "not found".
pub async fn visible_row(db: &Db, user: &User, id: i64) -> AppResult<TicketRow> {
    match load_row(db, id).await? {
        Some(row) if user.role.is_staff() || row.requester_id == user.id => Ok(row),
        _ => Err(AppError::not_found()),
    }
}

pub async fn get(db: &Db, user: &User, id: i64) -> AppResult<Ticket> {
    let row = visible_row(db, user, id).await?;
    present(db, vec![row], now()).await?.pop().ok_or_else(AppError::not_found)
}

pub(super) async fn history(
    tx: &mut Transaction<'static, Any>,
    ticket_id: i64,
    actor: Option<i64>,
    kind: &str,
    change: (Option<&str>, Option<&str>),
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    history_at(tx, ticket_id, actor, kind, change, reason, now()).await
}

/// A timeline row at `at` (the demo's history is backdated).
pub async fn history_at(
    tx: &mut Transaction<'static, Any>,
    ticket_id: i64,
    actor: Option<i64>,
    kind: &str,
    change: (Option<&str>, Option<&str>),
    reason: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_history (ticket_id, actor_id, kind, from_value, to_value, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ticket_id)
    .bind(actor)
    .bind(kind)
    .bind(change.0)
    .bind(change.1)
    .bind(reason)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) fn ticket_event(kind: &'static str, row: &TicketRow, internal: bool, extra: serde_json::Value) -> NewEvent {
    let mut payload = serde_json::json!({ "ticket_id": row.id, "status": row.status, "priority": row.priority });
    if let (Some(obj), serde_json::Value::Object(more)) = (payload.as_object_mut(), extra) {
        obj.extend(more);
    }
    NewEvent::ticket(kind, row.id, row.requester_id, internal, payload)
}

/// Announces a ticket event to webhooks and Discord (through the outbox, in this transaction).
/// `key` names the occurrence, so the same event is never queued twice.
pub(super) async fn publish(
    tx: &mut Transaction<'static, Any>,
    kind: &str,
    key: String,
    row: &TicketRow,
    what: &str,
    extra: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let mut data = serde_json::json!({
        "ticket_id": row.id,
        "subject": row.subject,
        "priority": row.priority,
        "tier": row.tier,
        "category": row.category,
        "status": row.status,
        "level": row.level,
    });
    if let (Some(obj), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        obj.extend(more);
    }
    let title = format!("#{} {}: {what}", row.id, row.subject);
    let event = IntegrationEvent::new(kind, key, title, Some(format!("/tickets/{}", row.id)), data);
    notify::outbox::publish(tx, &event).await
}

/// In-portal notifications about ticket `row` for `users` (the actor themself is skipped).
async fn tell(
    tx: &mut Transaction<'static, Any>,
    users: &[i64],
    actor_id: i64,
    kind: &'static str,
    row: &TicketRow,
    what: &str,
) -> Result<Vec<Event>, sqlx::Error> {
    tell_with_link(tx, users, actor_id, kind, row, what, None).await
}

/// [`tell`], with a link other than the ticket's own page.
async fn tell_with_link(
    tx: &mut Transaction<'static, Any>,
    users: &[i64],
    actor_id: i64,
    kind: &'static str,
    row: &TicketRow,
    what: &str,
    link: Option<String>,
) -> Result<Vec<Event>, sqlx::Error> {
    let users: Vec<i64> = users.iter().copied().filter(|&u| u != actor_id).collect();
    let notice = notify::NewNotification {
        kind,
        text: format!("#{} {}: {what}", row.id, row.subject),
        ticket_id: Some(row.id),
        link,
        invite: None,
    };
    notify::to_users(tx, &users, &notice).await
}

/// Commits and then tells live listeners.
pub(super) async fn commit(
    db: &Db,
    tx: Transaction<'static, Any>,
    bus: &EventBus,
    events: Vec<Event>,
) -> AppResult<()> {
    tx.commit().await?;
    events::after_commit(db, bus, events);
    Ok(())
}

/// What the customer opened in the last hour (see [`super::quota`]), read inside the creating transaction.
async fn recent_tickets(
    tx: &mut Transaction<'static, Any>,
    requester_id: i64,
    at: i64,
) -> Result<RecentTickets, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest, \
         SUM(CASE WHEN priority = 'P1' THEN 1 ELSE 0 END) AS urgent, \
         MIN(CASE WHEN priority = 'P1' THEN created_at END) AS oldest_urgent \
         FROM tickets WHERE requester_id = $1 AND created_at > $2",
    )
    .bind(requester_id)
    .bind(at - quota::WINDOW_SECS)
    .fetch_one(&mut **tx)
    .await?;
    let count = |name: &str| -> Result<u32, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(name)?.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
    };
    Ok(RecentTickets {
        all: count("n")?,
        oldest: row.try_get("oldest")?,
        urgent: count("urgent")?,
        oldest_urgent: row.try_get("oldest_urgent")?,
    })
}

/// A customer opens a ticket. The tier is theirs at this moment; `limits` cap how many an hour.
pub async fn create(db: &Db, bus: &EventBus, user: &User, new: NewTicket, limits: TicketLimits) -> AppResult<Ticket> {
    let tier = match (user.role, user.tier) {
        (Role::Customer, Some(tier)) => tier,
        _ => return Err(AppError::new(403, "customers_only", "Only customers open tickets; agents reply to them.")),
    };
    let at = now();
    let context = SlaContext::load(db).await?;
    let mut tx = db.begin_write().await?;
    let recent = recent_tickets(&mut tx, user.id, at).await?;
    quota::check(limits, tier, new.priority, recent, at).map_err(|over| {
        let mut error = AppError::rate_limited(over.retry_after);
        error.code = "ticket_limit".into();
        error.message = over.message.clone();
        error.fields.insert("priority".into(), over.message);
        error
    })?;
    let row = sqlx::query(&format!(
        "INSERT INTO tickets (subject, body, priority, category, status, tier, requester_id, level, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'new', $5, $6, 'L1', $7, $7) RETURNING {TICKET_COLUMNS}"
    ))
    .bind(&new.subject)
    .bind(&new.body)
    .bind(new.priority.as_str())
    .bind(new.category.as_str())
    .bind(tier.as_str())
    .bind(user.id)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?;
    let mut row = ticket_from_row(&row)?;
    store_deadlines(&mut tx, &context, &mut row, at).await?;
    history(&mut tx, row.id, Some(user.id), "created", (None, Some(row.priority.as_str())), None).await?;
    let mut recorded = Vec::new();
    if row.priority == Priority::P1 {
        recorded = tell_staff_of_p1(&mut tx, &row, user.id, at).await?;
    }
    let what = format!("new {} ticket from a {tier} customer", row.priority.as_str());
    publish(&mut tx, "ticket.created", format!("ticket:{}", row.id), &row, &what, serde_json::json!({})).await?;
    recorded.push(events::record(&mut tx, ticket_event("ticket.created", &row, false, serde_json::json!({}))).await?);
    commit(db, tx, bus, recorded).await?;
    present(db, vec![row], at).await?.pop().ok_or_else(AppError::internal)
}

/// Staff hear of a new P1 ticket. A burst from one customer is one notification per person, rewritten as it
/// grows ("3 new P1 tickets from one general customer…"), not one bell and one email per ticket.
async fn tell_staff_of_p1(
    tx: &mut Transaction<'static, Any>,
    row: &TicketRow,
    requester_id: i64,
    at: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let since = at - quota::COALESCE_SECS;
    let earlier: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM tickets WHERE requester_id = $1 AND priority = 'P1' AND created_at > $2 AND id <> $3",
    )
    .bind(requester_id)
    .bind(since)
    .bind(row.id)
    .fetch_one(&mut **tx)
    .await?
    .try_get("n")?;
    if earlier > 0 {
        let text = quota::burst_text(earlier + 1, row.tier, row.id, &row.subject);
        let updated = sqlx::query(
            "UPDATE notifications SET text = $1 WHERE kind = 'ticket.new_p1' AND read_at IS NULL AND created_at > $2 \
             AND ticket_id IN (SELECT id FROM tickets WHERE requester_id = $3)",
        )
        .bind(&text)
        .bind(since)
        .bind(requester_id)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() > 0 {
            return Ok(Vec::new());
        }
    }
    let staff = notify::staff_for_ticket(tx, None).await?;
    let what = format!("new P1 ticket from a {} customer", row.tier);
    tell(tx, &staff, requester_id, "ticket.new_p1", row, &what).await
}

pub async fn list(db: &Db, user: &User, filter: &TicketFilter, after_id: i64, limit: i64) -> AppResult<Vec<Ticket>> {
    let only_requester = if user.role.is_staff() { 0 } else { user.id };
    let pattern = filter.q.as_deref().map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id > $1 \
         AND ($2 = 0 OR requester_id = $2) \
         AND ($3 = '' OR status = $3) AND ($4 = '' OR priority = $4) AND ($5 = '' OR tier = $5) \
         AND ($6 = -1 OR ($6 = 0 AND assignee_id IS NULL) OR assignee_id = $6) \
         AND ($7 = '' OR lower(subject) LIKE $7 OR lower(body) LIKE $7) \
         ORDER BY id LIMIT $8"
    ))
    .bind(after_id)
    .bind(only_requester)
    .bind(filter.status.map(Status::as_str).unwrap_or(""))
    .bind(filter.priority.map(Priority::as_str).unwrap_or(""))
    .bind(filter.tier.map(Tier::as_str).unwrap_or(""))
    .bind(filter.assignee.unwrap_or(-1))
    .bind(pattern.unwrap_or_default())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let rows = rows.iter().map(ticket_from_row).collect::<Result<Vec<_>, _>>()?;
    let mut tickets = present(db, rows, now()).await?;
    if let Some(state) = filter.sla_state {
        tickets.retain(|t| t.sla.first_response.state == state || t.sla.resolution.state == state);
    }
    Ok(tickets)
}

/// Opens or closes the resolution-clock pause that a status implies.
async fn sync_pause(
    tx: &mut Transaction<'static, Any>,
    ticket_id: i64,
    to: Status,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sla_pauses SET ended_at = $1 WHERE ticket_id = $2 AND ended_at IS NULL")
        .bind(at)
        .bind(ticket_id)
        .execute(&mut **tx)
        .await?;
    let reason = match to {
        Status::PendingCustomer => "pending_customer",
        Status::OnHold => "on_hold",
        Status::Resolved | Status::Closed => "resolved",
        Status::New | Status::Open => return Ok(()),
    };
    sqlx::query("INSERT INTO sla_pauses (ticket_id, reason, started_at) VALUES ($1, $2, $3)")
        .bind(ticket_id)
        .bind(reason)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Applies a status change inside `tx` (pause bookkeeping, resolved_at, history).
async fn change_status(
    tx: &mut Transaction<'static, Any>,
    row: &mut TicketRow,
    to: Status,
    actor: Option<i64>,
    at: i64,
) -> Result<(), sqlx::Error> {
    if row.status == to {
        return Ok(());
    }
    let from = row.status;
    sync_pause(tx, row.id, to, at).await?;
    row.resolved_at = match to {
        Status::Resolved => Some(at),
        Status::Closed => row.resolved_at.or(Some(at)),
        _ => None,
    };
    row.status = to;
    history(tx, row.id, actor, "status", (Some(from.as_str()), Some(to.as_str())), None).await
}

/// A write transaction for ticket changes. On PostgreSQL it takes the event log's lock first: every ticket write
/// records an event, so this orders them like SQLite's single writer does, and the row read next is the latest
/// (no lost update between two agents, and no lock-order deadlock with bookings, which lock the log first too).
pub async fn begin_ticket_write(db: &Db) -> Result<Transaction<'static, Any>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    events::lock_log_early(&mut tx).await?;
    Ok(tx)
}

async fn pauses_tx(tx: &mut Transaction<'static, Any>, ticket_id: i64) -> Result<Pauses, sqlx::Error> {
    sqlx::query("SELECT reason, started_at, ended_at FROM sla_pauses WHERE ticket_id = $1 ORDER BY id")
        .bind(ticket_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("reason")?, r.try_get("started_at")?, r.try_get("ended_at")?)))
        .collect()
}

/// Works out the queue's sort keys of `row` (inside the change's transaction, so with its pauses).
async fn work_out_deadlines(
    tx: &mut Transaction<'static, Any>,
    context: &SlaContext,
    row: &mut TicketRow,
    at: i64,
) -> Result<(), sqlx::Error> {
    let pauses = pauses_tx(tx, row.id).await?;
    let deadlines = context.deadlines(row, &pauses, at);
    row.sla_next_due = deadlines.next_due;
    row.sla_at_risk_from = deadlines.at_risk_from;
    Ok(())
}

/// Works out and stores the queue's sort keys of a ticket just inserted.
pub(super) async fn store_deadlines(
    tx: &mut Transaction<'static, Any>,
    context: &SlaContext,
    row: &mut TicketRow,
    at: i64,
) -> Result<(), sqlx::Error> {
    work_out_deadlines(tx, context, row, at).await?;
    update_deadlines(&mut **tx, row.id, Deadlines { next_due: row.sla_next_due, at_risk_from: row.sla_at_risk_from })
        .await
}

async fn update_deadlines<'e, E: sqlx::Executor<'e, Database = Any>>(
    executor: E,
    id: i64,
    deadlines: Deadlines,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tickets SET sla_next_due = $1, sla_at_risk_from = $2 WHERE id = $3")
        .bind(deadlines.next_due)
        .bind(deadlines.at_risk_from)
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Stores a changed ticket: a new version and fresh queue sort keys, in one statement.
pub(super) async fn save(
    tx: &mut Transaction<'static, Any>,
    context: &SlaContext,
    row: &mut TicketRow,
    at: i64,
) -> Result<(), sqlx::Error> {
    row.updated_at = at;
    row.version += 1;
    work_out_deadlines(tx, context, row, at).await?;
    sqlx::query(
        "UPDATE tickets SET status = $1, priority = $2, assignee_id = $3, level = $4, updated_at = $5, \
         first_response_at = $6, resolved_at = $7, version = $8, sla_next_due = $9, sla_at_risk_from = $10 \
         WHERE id = $11",
    )
    .bind(row.status.as_str())
    .bind(row.priority.as_str())
    .bind(row.assignee_id)
    .bind(row.level.as_str())
    .bind(at)
    .bind(row.first_response_at)
    .bind(row.resolved_at)
    .bind(row.version)
    .bind(row.sla_next_due)
    .bind(row.sla_at_risk_from)
    .bind(row.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Recomputes the stored queue sort keys of every running ticket, after the policies, hours or holidays changed.
/// Returns how many changed.
pub async fn refresh_deadlines(db: &Db) -> Result<usize, sqlx::Error> {
    let context = SlaContext::load(db).await?;
    let rows = sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE status NOT IN ('resolved', 'closed')"))
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(ticket_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut pauses = pauses_for(db, &ids).await?;
    let at = now();
    let changed: Vec<(i64, Deadlines)> = rows
        .iter()
        .filter_map(|row| {
            let d = context.deadlines(row, &pauses.remove(&row.id).unwrap_or_default(), at);
            d.differ_from(row).then_some((row.id, d))
        })
        .collect();
    store_many_deadlines(db, &changed).await?;
    Ok(changed.len())
}

/// Stores worked-out sort keys, 500 tickets per transaction.
pub(super) async fn store_many_deadlines(db: &Db, changed: &[(i64, Deadlines)]) -> Result<(), sqlx::Error> {
    for chunk in changed.chunks(500) {
        let mut tx = db.begin_write().await?;
        for (id, d) in chunk {
            update_deadlines(&mut *tx, *id, *d).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// 409 when the ticket moved on since the caller saw `expected`.
fn check_version(row: &TicketRow, expected: Option<i64>) -> AppResult<()> {
    match expected {
        Some(v) if v != row.version => Err(AppError::conflict(
            "ticket_changed",
            "Someone changed this ticket since you opened it; look at the latest and try again.",
        )),
        _ => Ok(()),
    }
}

pub async fn update(db: &Db, bus: &EventBus, user: &User, id: i64, patch: &TicketPatch) -> AppResult<Ticket> {
    let at = now();
    let context = SlaContext::load(db).await?;
    let mut tx = begin_ticket_write(db).await?;
    let mut row = match load_row_tx(&mut tx, id).await? {
        Some(row) if user.role.is_staff() || row.requester_id == user.id => row,
        _ => return Err(AppError::not_found()),
    };
    let actor = if user.role.is_staff() { Actor::Staff } else { Actor::Requester };
    if actor == Actor::Requester && (patch.priority.is_some() || patch.assignee_id.is_some()) {
        return Err(AppError::forbidden());
    }
    check_version(&row, patch.version)?;
    let mut recorded = Vec::new();
    if let Some(to) = patch.status {
        status_change_allowed(actor, row.status, to, row.resolved_at, at)
            .map_err(|m| AppError::invalid_field("status", m))?;
        let changed = to != row.status;
        change_status(&mut tx, &mut row, to, Some(user.id), at).await?;
        let what = match to {
            Status::PendingCustomer => Some("an agent is waiting for your reply"),
            Status::Resolved => Some("marked resolved; tell us how we did, or reopen within 7 days"),
            _ => None,
        };
        if let (true, Actor::Staff, Some(what)) = (changed, actor, what) {
            // "Resolved" leads to the satisfaction survey.
            let link = (to == Status::Resolved).then(|| format!("/tickets/{}/survey", row.id));
            let told = tell_with_link(&mut tx, &[row.requester_id], user.id, "ticket.status", &row, what, link).await?;
            recorded.extend(told);
        }
    }
    if let Some(priority) = patch.priority {
        if priority != row.priority {
            history(
                &mut tx,
                id,
                Some(user.id),
                "priority",
                (Some(row.priority.as_str()), Some(priority.as_str())),
                None,
            )
            .await?;
            row.priority = priority;
        }
    }
    if let Some(assignee) = patch.assignee_id {
        if let Some(assignee_id) = assignee {
            let ok = sqlx::query("SELECT role FROM users WHERE id = $1")
                .bind(assignee_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>("role"))
                .transpose()?
                .is_some_and(|role| role != Role::Customer.as_str());
            if !ok {
                return Err(AppError::invalid_field("assignee_id", "Assign the ticket to an agent or manager."));
            }
        }
        if assignee != row.assignee_id {
            let (from, to) = (row.assignee_id.map(|a| a.to_string()), assignee.map(|a| a.to_string()));
            history(&mut tx, id, Some(user.id), "assignee", (from.as_deref(), to.as_deref()), None).await?;
            row.assignee_id = assignee;
            if let Some(assignee_id) = assignee {
                let what = format!("assigned to you by {}", user.name);
                recorded.extend(tell(&mut tx, &[assignee_id], user.id, "ticket.assigned", &row, &what).await?);
            }
        }
    }
    save(&mut tx, &context, &mut row, at).await?;
    recorded.push(events::record(&mut tx, ticket_event("ticket.updated", &row, false, serde_json::json!({}))).await?);
    commit(db, tx, bus, recorded).await?;
    present(db, vec![row], at).await?.pop().ok_or_else(AppError::internal)
}

pub async fn messages(db: &Db, user: &User, id: i64) -> AppResult<Vec<Message>> {
    visible_row(db, user, id).await?;
    let staff = i64::from(user.role.is_staff());
    let rows = sqlx::query(
        "SELECT m.id, m.ticket_id, m.author_id, u.name AS author_name, u.role AS author_role, m.body, m.internal, m.created_at \
         FROM ticket_messages m JOIN users u ON u.id = m.author_id \
         WHERE m.ticket_id = $1 AND ($2 = 1 OR m.internal = 0) ORDER BY m.id",
    )
    .bind(id)
    .bind(staff)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Message {
                id: r.try_get("id")?,
                ticket_id: r.try_get("ticket_id")?,
                author_id: r.try_get("author_id")?,
                author_name: r.try_get("author_name")?,
                from_staff: r.try_get::<String, _>("author_role")? != Role::Customer.as_str(),
                body: r.try_get("body")?,
                internal: flag(r, "internal")?,
                created_at: crate::db::rfc3339(r.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// A reply. Staff may write internal notes; the first public staff reply stops
/// the first-response clock; a customer reply to a ticket waiting on them reopens it.
pub async fn add_message(
    db: &Db,
    bus: &EventBus,
    user: &User,
    id: i64,
    body: &str,
    internal: bool,
) -> AppResult<Message> {
    let body = check_message(body).map_err(|m| AppError::invalid_field("body", m))?;
    if internal && !user.role.is_staff() {
        return Err(AppError::invalid_field("internal", "Only agents write internal notes."));
    }
    let at = now();
    let context = SlaContext::load(db).await?;
    let mut tx = begin_ticket_write(db).await?;
    let mut row = match load_row_tx(&mut tx, id).await? {
        Some(row) if user.role.is_staff() || row.requester_id == user.id => row,
        _ => return Err(AppError::not_found()),
    };
    if row.status == Status::Closed {
        return Err(AppError::conflict("ticket_closed", "This ticket is closed; open a new one instead."));
    }
    let inserted = sqlx::query(
        "INSERT INTO ticket_messages (ticket_id, author_id, body, internal, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(id)
    .bind(user.id)
    .bind(&body)
    .bind(i64::from(internal))
    .bind(at)
    .fetch_one(&mut *tx)
    .await?;
    let message_id: i64 = inserted.try_get("id")?;
    if user.role.is_staff() && !internal {
        if row.first_response_at.is_none() {
            row.first_response_at = Some(at);
            history(&mut tx, id, Some(user.id), "first_response", (None, None), None).await?;
        }
        if row.status == Status::New {
            change_status(&mut tx, &mut row, Status::Open, Some(user.id), at).await?;
        }
    } else if !user.role.is_staff() && row.status == Status::PendingCustomer {
        change_status(&mut tx, &mut row, Status::Open, Some(user.id), at).await?;
    }
    save(&mut tx, &context, &mut row, at).await?;
    // The customer hears of public agent replies; the assignee of customer replies.
    let mut recorded = if user.role.is_staff() && !internal {
        let what = format!("{} replied", user.name);
        let extra = serde_json::json!({ "message_id": message_id, "agent": user.name });
        publish(&mut tx, "ticket.reply", format!("message:{message_id}"), &row, &what, extra).await?;
        // A ticket opened from Discord hears back there too.
        crate::discord::service::queue_reply(&mut tx, id, message_id, &user.name, &body, at).await?;
        tell(&mut tx, &[row.requester_id], user.id, "ticket.reply", &row, &what).await?
    } else if !user.role.is_staff() {
        let assignee: Vec<i64> = row.assignee_id.into_iter().collect();
        tell(&mut tx, &assignee, user.id, "ticket.reply", &row, "the customer replied").await?
    } else {
        Vec::new()
    };
    recorded.push(
        events::record(
            &mut tx,
            ticket_event("ticket.message", &row, internal, serde_json::json!({ "message_id": message_id })),
        )
        .await?,
    );
    commit(db, tx, bus, recorded).await?;
    Ok(Message {
        id: message_id,
        ticket_id: id,
        author_id: user.id,
        author_name: user.name.clone(),
        from_staff: user.role.is_staff(),
        body,
        internal,
        created_at: crate::db::rfc3339(at),
    })
}

/// Staff move a ticket up a level (see [`super::escalation_allowed`]), with a reason that is kept.
pub async fn escalate(db: &Db, bus: &EventBus, user: &User, id: i64, to: Level, reason: &str) -> AppResult<Ticket> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let reason = check_text(reason, "reason", 2000).map_err(|m| AppError::invalid_field("reason", m))?;
    let at = now();
    let context = SlaContext::load(db).await?;
    let mut tx = begin_ticket_write(db).await?;
    let mut row = load_row_tx(&mut tx, id).await?.ok_or_else(AppError::not_found)?;
    if row.status.is_done() {
        return Err(AppError::conflict("ticket_done", "This ticket is resolved; reopen it before escalating."));
    }
    super::escalation_allowed(user.role, row.level, to).map_err(|m| AppError::invalid_field("to_level", m))?;
    history(&mut tx, id, Some(user.id), "escalation", (Some(row.level.as_str()), Some(to.as_str())), Some(&reason))
        .await?;
    row.level = to;
    // The ticket leaves the escalating agent's hands: the next level picks it up from the queue.
    if row.assignee_id.is_some() {
        let from = row.assignee_id.map(|a| a.to_string());
        history(&mut tx, id, Some(user.id), "assignee", (from.as_deref(), None), Some("escalated")).await?;
        row.assignee_id = None;
    }
    save(&mut tx, &context, &mut row, at).await?;
    let mut recorded = announce_escalation(&mut tx, &row, Some(user.id), &reason, at).await?;
    recorded.push(
        events::record(
            &mut tx,
            ticket_event("ticket.escalated", &row, true, serde_json::json!({ "level": to, "reason": reason })),
        )
        .await?,
    );
    commit(db, tx, bus, recorded).await?;
    present(db, vec![row], at).await?.pop().ok_or_else(AppError::internal)
}

/// Staff hear that `row` went up to its current level, and so do webhooks and Discord.
pub(super) async fn announce_escalation(
    tx: &mut Transaction<'static, Any>,
    row: &TicketRow,
    actor_id: Option<i64>,
    reason: &str,
    at: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let what = format!("escalated to {}", row.level.as_str());
    let extra = serde_json::json!({ "reason": reason });
    publish(tx, "ticket.escalated", format!("ticket:{}:{}:{at}", row.id, row.level.as_str()), row, &what, extra)
        .await?;
    let staff = notify::staff_for_ticket(tx, None).await?;
    tell(tx, &staff, actor_id.unwrap_or(0), "ticket.escalated", row, &what).await
}

/// A call about ticket `ticket_id` was held: the agent's notes join the conversation as an internal note, and
/// the call counts as the first public response (the customer has been answered, live). Runs inside the
/// caller's transaction; returns the events to publish after commit. A closed or missing ticket is left alone.
pub async fn record_call_held(
    tx: &mut Transaction<'static, Any>,
    context: &SlaContext,
    ticket_id: i64,
    agent: &User,
    notes: &str,
    at: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let Some(mut row) = load_row_tx(tx, ticket_id).await? else { return Ok(Vec::new()) };
    if row.status == Status::Closed {
        return Ok(Vec::new());
    }
    let inserted = sqlx::query(
        "INSERT INTO ticket_messages (ticket_id, author_id, body, internal, created_at) VALUES ($1, $2, $3, 1, $4) \
         RETURNING id",
    )
    .bind(ticket_id)
    .bind(agent.id)
    .bind(notes)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    let message_id: i64 = inserted.try_get("id")?;
    if row.first_response_at.is_none() {
        row.first_response_at = Some(at);
        history(tx, ticket_id, Some(agent.id), "first_response", (None, None), Some("call held")).await?;
    }
    if row.status == Status::New {
        change_status(tx, &mut row, Status::Open, Some(agent.id), at).await?;
    }
    save(tx, context, &mut row, at).await?;
    let event = ticket_event("ticket.message", &row, true, serde_json::json!({ "message_id": message_id }));
    Ok(vec![events::record(tx, event).await?])
}
