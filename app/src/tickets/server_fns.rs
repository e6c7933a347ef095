//! Server functions behind the ticket pages; same service and rules as the REST API.

use super::{Message, Ticket};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// First-response and resolution due instants for a ticket opened now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaPromise {
    pub tier: crate::accounts::Tier,
    pub priority: super::Priority,
    pub first_response_epoch: i64,
    pub resolution_epoch: i64,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
    pub calendar: String,
}

#[cfg(feature = "ssr")]
use crate::accounts::server_fns::ssr::signed_in as caller;

#[server(prefix = "/rpc", endpoint = "sla_preview")]
pub async fn sla_preview(priority: String) -> Result<SlaPromise, AppError> {
    let (s, user) = caller().await?;
    let priority: super::Priority = priority.parse().map_err(|m: String| AppError::invalid_field("priority", m))?;
    let tier = user.tier.unwrap_or(crate::accounts::Tier::General);
    let context = super::clocks::SlaContext::load(&s.db).await?;
    let policy = context.policy(tier, priority);
    let (first, resolution) = crate::sla::preview(&policy, &context.support, jiff::Timestamp::now());
    Ok(SlaPromise {
        tier,
        priority,
        first_response_epoch: first.as_second(),
        resolution_epoch: resolution.as_second(),
        first_response_minutes: policy.first_response_minutes,
        resolution_minutes: policy.resolution_minutes,
        calendar: policy.calendar.as_str().to_string(),
    })
}

/// `request_id` (the form's hidden field) makes a repeat of the same submission return the ticket the first
/// one opened instead of opening another.
#[server(prefix = "/rpc", endpoint = "create_ticket")]
pub async fn create_ticket(
    subject: String,
    body: String,
    priority: String,
    category: Option<String>,
    #[server(default)] request_id: Option<String>,
) -> Result<Ticket, AppError> {
    let (s, user) = caller().await?;
    let new = super::NewTicketInput { subject, body, priority, category }.validate()?;
    match request_id.as_deref().map(str::trim).filter(|id| !id.is_empty() && id.len() <= 64) {
        Some(request_id) => ssr::create_once(&s, &user, request_id, new).await,
        None => super::service::create(&s.db, &s.events, &user, new).await,
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::accounts::User;
    use crate::db::{is_unique_violation, now};
    use crate::error::AppError;
    use crate::services::Services;
    use crate::tickets::{service, NewTicket, Ticket};
    use sqlx::Row;

    /// Claims `(ui-ticket:{user}, request_id)` in the idempotency table, then creates; a repeat gets the
    /// ticket the first one created, or 409 while the first is still running. A failed create frees the id.
    pub async fn create_once(s: &Services, user: &User, request_id: &str, new: NewTicket) -> Result<Ticket, AppError> {
        let scope = format!("ui-ticket:{}", user.id);
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at) VALUES ($1, $2, '', 0, $3)",
        )
        .bind(&scope)
        .bind(request_id)
        .bind(now())
        .execute(&s.db.pool)
        .await;
        match claimed {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                let row = sqlx::query("SELECT status, response FROM idempotency_keys WHERE scope = $1 AND key = $2")
                    .bind(&scope)
                    .bind(request_id)
                    .fetch_one(&s.db.pool)
                    .await?;
                let created: Option<i64> = row
                    .try_get::<Option<String>, _>("response")?
                    .and_then(|r| r.parse().ok())
                    .filter(|_| row.try_get::<i64, _>("status").is_ok_and(|st| st == 201));
                return match created {
                    Some(id) => service::get(&s.db, user, id).await,
                    None => Err(AppError::conflict("already_submitting", "This ticket is already being opened.")),
                };
            }
            Err(e) => return Err(e.into()),
        }
        let result = service::create(&s.db, &s.events, user, new).await;
        let stored = match &result {
            Ok(ticket) => {
                sqlx::query("UPDATE idempotency_keys SET status = 201, response = $1 WHERE scope = $2 AND key = $3")
                    .bind(ticket.id.to_string())
                    .bind(&scope)
                    .bind(request_id)
                    .execute(&s.db.pool)
                    .await
            }
            Err(_) => {
                sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
                    .bind(&scope)
                    .bind(request_id)
                    .execute(&s.db.pool)
                    .await
            }
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "could not record the form's request id");
        }
        result
    }
}

#[server(prefix = "/rpc", endpoint = "list_tickets")]
pub async fn list_tickets() -> Result<Vec<Ticket>, AppError> {
    let (s, user) = caller().await?;
    let mut tickets = super::service::list(&s.db, &user, &Default::default(), 0, 200).await?;
    tickets.reverse();
    Ok(tickets)
}

#[server(prefix = "/rpc", endpoint = "get_ticket")]
pub async fn get_ticket(id: i64) -> Result<(Ticket, Vec<Message>), AppError> {
    let (s, user) = caller().await?;
    let ticket = super::service::get(&s.db, &user, id).await?;
    let messages = super::service::messages(&s.db, &user, id).await?;
    Ok((ticket, messages))
}

#[server(prefix = "/rpc", endpoint = "reply_ticket")]
pub async fn reply_ticket(id: i64, body: String) -> Result<Message, AppError> {
    let (s, user) = caller().await?;
    super::service::add_message(&s.db, &s.events, &user, id, &body, false).await
}

#[server(prefix = "/rpc", endpoint = "set_ticket_status")]
pub async fn set_ticket_status(id: i64, status: String) -> Result<Ticket, AppError> {
    let (s, user) = caller().await?;
    let status = status.parse().map_err(|m: String| AppError::invalid_field("status", m))?;
    let patch = super::TicketPatch { status: Some(status), ..Default::default() };
    super::service::update(&s.db, &s.events, &user, id, &patch).await
}

/// Support hours right now: open or not, and when that changes (Unix seconds).
#[server(prefix = "/rpc", endpoint = "support_hours")]
pub async fn support_hours() -> Result<(bool, Option<i64>), AppError> {
    let s = crate::services::services()?;
    let context = super::clocks::SlaContext::load(&s.db).await?;
    let (open, next) = crate::sla::hours_status(&context.support, jiff::Timestamp::now());
    Ok((open, next.map(|t| t.as_second())))
}
