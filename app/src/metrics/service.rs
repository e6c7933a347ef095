//! Loads the facts behind the metrics (server only) and hands them to [`super::summarize`]; writes the CSV
//! export. Managers and admins only.

use super::{AgentFact, CallToday, Facts, Summary, SurveyFact, TicketFacts};
use crate::accounts::User;
use crate::db::{rfc3339, text_column, Db};
use crate::error::{AppError, AppResult};
use crate::sla::SlaState;
use crate::tickets::clocks::SlaContext;
use crate::tickets::service::{pauses_for, ticket_from_row, TicketRow, TICKET_COLUMNS};
use crate::tickets::TicketSla;
use jiff::civil::Date;
use sqlx::Row;
use std::collections::HashMap;

fn managers_only(user: &User) -> AppResult<()> {
    if user.role.is_manager() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// Both clocks of each row at `now`, by ticket id.
async fn clocks(db: &Db, rows: &[TicketRow], now: i64) -> AppResult<HashMap<i64, TicketSla>> {
    let context = SlaContext::load(db).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut pauses = pauses_for(db, &ids).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let p = pauses.remove(&row.id).unwrap_or_default();
            (row.id, context.ticket_sla(row, &p, now))
        })
        .collect())
}

fn breached(sla: Option<&TicketSla>) -> bool {
    sla.is_some_and(|s| s.first_response.state == SlaState::Breached || s.resolution.state == SlaState::Breached)
}

/// The summary over the last `days` days (see the definitions in [`super`]), at `now`.
pub async fn summary(db: &Db, user: &User, days: i64, now: i64) -> AppResult<Summary> {
    managers_only(user)?;
    let days = days.clamp(1, super::MAX_DAYS);
    let (_, start) = super::window_start(now, days);

    let open = sqlx::query(
        "SELECT priority, assignee_id, COUNT(*) AS n FROM tickets WHERE status NOT IN ('resolved', 'closed') \
         GROUP BY priority, assignee_id",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((text_column(r, "priority")?, r.try_get("assignee_id")?, r.try_get("n")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    // Window tickets, and the older tickets surveyed in the window (their SLA splits satisfaction).
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE created_at >= $1 \
         OR id IN (SELECT ticket_id FROM ticket_surveys WHERE created_at >= $1) ORDER BY id"
    ))
    .bind(start)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(ticket_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let slas = clocks(db, &rows, now).await?;
    let tickets = rows
        .iter()
        .filter_map(|row| {
            slas.get(&row.id).map(|sla| TicketFacts {
                created_at: row.created_at,
                first_response_at: row.first_response_at,
                first: sla.first_response.state,
                resolution: sla.resolution.state,
            })
        })
        .collect();

    let resolutions = sqlx::query("SELECT assignee_id, resolved_at FROM tickets WHERE resolved_at >= $1")
        .bind(start)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("assignee_id")?, r.try_get("resolved_at")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let replies = sqlx::query(
        "SELECT m.author_id, COUNT(*) AS n FROM ticket_messages m JOIN users u ON u.id = m.author_id \
         WHERE m.internal = 0 AND m.created_at >= $1 AND u.role <> 'customer' GROUP BY m.author_id",
    )
    .bind(start)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("author_id")?, r.try_get("n")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let surveys = sqlx::query(
        "SELECT s.ticket_id, s.rating, s.created_at, t.assignee_id FROM ticket_surveys s \
         JOIN tickets t ON t.id = s.ticket_id WHERE s.created_at >= $1",
    )
    .bind(start)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        let ticket_id: i64 = r.try_get("ticket_id")?;
        Ok(SurveyFact {
            created_at: r.try_get("created_at")?,
            good: r.try_get::<String, _>("rating")? == "good",
            sla_breached: breached(slas.get(&ticket_id)),
            assignee_id: r.try_get("assignee_id")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let agents = sqlx::query("SELECT id, name, level FROM users WHERE role IN ('agent', 'manager') ORDER BY id")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AgentFact {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                level: r.try_get::<Option<String>, _>("level")?.and_then(|l| l.parse().ok()),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let calls_today = calls_on(db, super::today(now)).await?;
    Ok(super::summarize(&Facts { now, days, open, tickets, resolutions, replies, surveys, agents, calls_today }))
}

/// Bookings starting on an Eastern date, any status, by start.
async fn calls_on(db: &Db, day: Date) -> Result<Vec<CallToday>, sqlx::Error> {
    let (start, end) = super::day_range(day, day);
    sqlx::query(
        "SELECT b.id, b.start_at, b.duration_minutes, b.platform, b.status, b.topic, b.agent_id, a.name AS agent_name, \
         b.customer_id, c.name AS customer_name FROM bookings b JOIN users a ON a.id = b.agent_id \
         JOIN users c ON c.id = b.customer_id WHERE b.start_at >= $1 AND b.start_at < $2 ORDER BY b.start_at, b.id",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        let start_epoch: i64 = r.try_get("start_at")?;
        Ok(CallToday {
            id: r.try_get("id")?,
            start: rfc3339(start_epoch),
            start_epoch,
            duration_minutes: r.try_get("duration_minutes")?,
            platform: text_column(r, "platform")?,
            status: text_column(r, "status")?,
            topic: r.try_get("topic")?,
            agent_id: r.try_get("agent_id")?,
            agent_name: r.try_get("agent_name")?,
            customer_id: r.try_get("customer_id")?,
            customer_name: r.try_get("customer_name")?,
        })
    })
    .collect()
}

/// The CSV export of the tickets created on the Eastern days `from..=to`, by id, with their SLA outcome now and
/// their latest survey rating.
pub async fn export_csv(db: &Db, user: &User, from: Date, to: Date, now: i64) -> AppResult<String> {
    managers_only(user)?;
    let (start, end) = super::day_range(from, to);
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE created_at >= $1 AND created_at < $2 ORDER BY id"
    ))
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(ticket_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let people: HashMap<i64, (String, Option<String>)> = sqlx::query(
        "SELECT t.id, r.email AS requester_email, a.name AS assignee_name FROM tickets t \
         JOIN users r ON r.id = t.requester_id LEFT JOIN users a ON a.id = t.assignee_id \
         WHERE t.created_at >= $1 AND t.created_at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, (r.try_get("requester_email")?, r.try_get("assignee_name")?))))
    .collect::<Result<_, sqlx::Error>>()?;
    // Oldest resolution first, so the last one seen per ticket is the latest.
    let mut ratings: HashMap<i64, String> = HashMap::new();
    for r in sqlx::query(
        "SELECT s.ticket_id, s.rating FROM ticket_surveys s JOIN tickets t ON t.id = s.ticket_id \
         WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY s.resolved_at",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?
    {
        ratings.insert(r.try_get("ticket_id")?, r.try_get("rating")?);
    }
    let slas = clocks(db, &rows, now).await?;
    let mut out = super::csv_line(&super::EXPORT_COLUMNS);
    for row in &rows {
        let (email, assignee) = people.get(&row.id).cloned().unwrap_or_default();
        let (first, resolution) = match slas.get(&row.id) {
            Some(sla) => (sla.first_response.state.as_str(), sla.resolution.state.as_str()),
            None => ("", ""),
        };
        let stamp = |at: Option<i64>| at.map(rfc3339).unwrap_or_default();
        out.push_str(&super::csv_line(&[
            row.id.to_string(),
            rfc3339(row.created_at),
            row.subject.clone(),
            row.category.as_str().to_string(),
            row.priority.as_str().to_string(),
            row.tier.as_str().to_string(),
            row.status.as_str().to_string(),
            row.level.as_str().to_string(),
            email,
            assignee.unwrap_or_default(),
            stamp(row.first_response_at),
            first.to_string(),
            stamp(row.resolved_at),
            resolution.to_string(),
            ratings.get(&row.id).cloned().unwrap_or_default(),
        ]));
    }
    Ok(out)
}
