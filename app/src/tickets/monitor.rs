//! The SLA monitor: moves tickets to "at risk" and "breached" when their time
//! comes, records each transition exactly once (a primary key, so also across
//! restarts), tells staff, and escalates an at-risk P1/P2 that has had no
//! public reply yet. It sleeps until the next deadline or the next change.

use super::clocks::{ts, Deadlines, SlaContext};
use super::service::{self, TicketRow, TICKET_COLUMNS};
use super::{Priority, SlaState};
use crate::db::{now, Db};
use crate::events::{self, EventBus, NewEvent};
use crate::notify;
use crate::sla;
use std::time::Duration;

/// What one pass did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// (ticket id, clock, state) recorded in this pass, in order.
    pub transitions: Vec<(i64, &'static str, &'static str)>,
    pub escalated: Vec<i64>,
    /// The next instant (Unix seconds) at which some clock changes state by time alone.
    pub next_due: Option<i64>,
}

/// One pass over the tickets that are still running, as of `at`.
pub async fn run_once(db: &Db, bus: &EventBus, at: i64) -> Result<Pass, sqlx::Error> {
    let context = SlaContext::load(db).await?;
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE status NOT IN ('resolved', 'closed') ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(service::ticket_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut pauses = service::pauses_for(db, &ids).await?;
    let mut pass = Pass::default();
    let mut stale: Vec<(i64, Deadlines)> = Vec::new();
    for row in rows {
        let p = pauses.remove(&row.id).unwrap_or_default();
        let deadlines = context.deadlines(&row, &p, at);
        if deadlines.differ_from(&row) {
            stale.push((row.id, deadlines));
        }
        let policy = context.policy(row.tier, row.priority);
        let counted = SlaContext::counted_pauses(&policy, &p);
        let (first, resolution) = context.clock_inputs(&row, &policy, &counted);
        // Only running tickets are loaded, so only a replied-to first response has stopped.
        for (clock, input) in [("first_response", first), ("resolution", resolution)] {
            if input.stopped_at.is_some() {
                continue;
            }
            let status = sla::evaluate(&input, ts(at));
            let reached: &[&'static str] = match status.state {
                SlaState::Breached => &["at_risk", "breached"],
                SlaState::AtRisk => &["at_risk"],
                _ => &[],
            };
            for state in reached {
                if record_transition(db, bus, &row, clock, state, at).await? {
                    pass.transitions.push((row.id, clock, state));
                    if clock == "first_response"
                        && *state == "at_risk"
                        && auto_escalate(db, bus, &context, row.id, at).await?
                    {
                        pass.escalated.push(row.id);
                    }
                }
            }
            if let Some(next) = sla::next_transition(&input, ts(at)) {
                let next = next.as_second();
                pass.next_due = Some(pass.next_due.map_or(next, |n: i64| n.min(next)));
            }
        }
    }
    // Rows from before the queue's sort keys existed, or whose policy or hours changed: mend them.
    service::store_many_deadlines(db, &stale).await?;
    Ok(pass)
}

/// Records (ticket, clock, state) once; false when it was already recorded.
async fn record_transition(
    db: &Db,
    bus: &EventBus,
    row: &TicketRow,
    clock: &'static str,
    state: &'static str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO sla_transitions (ticket_id, clock, state, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(row.id)
    .bind(clock)
    .bind(state)
    .bind(at)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(false);
    }
    let kind = if state == "breached" { "sla.breached" } else { "sla.at_risk" };
    let label = if clock == "first_response" { "first response" } else { "resolution" };
    let what = if state == "breached" { "breached" } else { "at risk" };
    sqlx::query(
        "INSERT INTO ticket_history (ticket_id, actor_id, kind, from_value, to_value, reason, created_at) \
         VALUES ($1, NULL, 'sla', $2, $3, NULL, $4)",
    )
    .bind(row.id)
    .bind(clock)
    .bind(state)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let staff = notify::staff_for_ticket(&mut tx, row.assignee_id).await?;
    let notice = notify::NewNotification {
        kind,
        text: format!("#{} {}: {label} {what}", row.id, row.subject),
        ticket_id: Some(row.id),
        link: None,
        invite: None,
    };
    let mut recorded = notify::to_users(&mut tx, &staff, &notice).await?;
    let extra = serde_json::json!({ "clock": clock, "state": state });
    service::publish(&mut tx, kind, format!("ticket:{}:{clock}:{at}", row.id), row, &format!("{label} {what}"), extra)
        .await?;
    let event = events::record(
        &mut tx,
        NewEvent::ticket(
            kind,
            row.id,
            row.requester_id,
            false,
            serde_json::json!({ "ticket_id": row.id, "clock": clock, "state": state }),
        ),
    )
    .await?;
    recorded.push(event);
    tx.commit().await?;
    events::after_commit(db, bus, recorded);
    Ok(true)
}

/// An at-risk P1/P2 that still has no public agent reply goes up one level.
async fn auto_escalate(
    db: &Db,
    bus: &EventBus,
    context: &SlaContext,
    ticket_id: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = service::begin_ticket_write(db).await?;
    let Some(mut row) = service::load_row_tx(&mut tx, ticket_id).await? else { return Ok(false) };
    let Some(next) = super::level_above(row.level) else { return Ok(false) };
    if !matches!(row.priority, Priority::P1 | Priority::P2) || row.first_response_at.is_some() {
        return Ok(false);
    }
    let reason = "Automatic: first response at risk with no reply yet";
    service::history(
        &mut tx,
        ticket_id,
        None,
        "escalation",
        (Some(row.level.as_str()), Some(next.as_str())),
        Some(reason),
    )
    .await?;
    row.level = next;
    service::save(&mut tx, context, &mut row, at).await?;
    let mut recorded = service::announce_escalation(&mut tx, &row, None, reason, at).await?;
    recorded.push(
        events::record(
            &mut tx,
            service::ticket_event(
                "ticket.escalated",
                &row,
                true,
                serde_json::json!({ "level": next, "reason": reason }),
            ),
        )
        .await?,
    );
    tx.commit().await?;
    events::after_commit(db, bus, recorded);
    Ok(true)
}

/// Runs forever: a pass, then sleep until the next deadline (at most 5 minutes,
/// so edited policies and holidays are picked up) or until a ticket changes.
pub async fn run(db: Db, bus: EventBus) {
    let mut changes = bus.subscribe();
    loop {
        let at = now();
        let wait = match run_once(&db, &bus, at).await {
            Ok(pass) => {
                if !pass.transitions.is_empty() {
                    tracing::info!(transitions = ?pass.transitions, escalated = ?pass.escalated, "SLA monitor");
                }
                let until_next = pass.next_due.map(|n| (n - at).max(1) as u64).unwrap_or(300);
                Duration::from_secs(until_next.min(300))
            }
            Err(e) => {
                tracing::warn!(error = %e, "SLA monitor pass failed; retrying");
                Duration::from_secs(10)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            // Our own sla.* events would wake us needlessly; ticket changes may move deadlines.
            Ok(event) = changes.recv() => {
                if event.kind.starts_with("sla.") {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}
