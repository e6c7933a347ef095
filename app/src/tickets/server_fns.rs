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
        None => super::service::create(&s.db, &s.events, &user, new, s.ticket_limits).await,
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::accounts::User;
    use crate::tickets::TicketPatch;

    /// The workspace's form fields as a PATCH, each bad one named.
    pub fn patch_from_form(
        user: &User,
        version: i64,
        status: Option<String>,
        priority: Option<String>,
        assignee: Option<String>,
    ) -> Result<TicketPatch, AppError> {
        let mut errors = crate::error::FieldErrors::default();
        use crate::error::non_blank;
        let status = non_blank(&status).and_then(|v| v.parse().map_err(|m| errors.add("status", m)).ok());
        let priority = non_blank(&priority).and_then(|v| v.parse().map_err(|m| errors.add("priority", m)).ok());
        let assignee_id = match non_blank(&assignee) {
            None => None,
            Some("me") => Some(Some(user.id)),
            Some("none") => Some(None),
            Some(raw) => match raw.parse::<i64>() {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    errors.add("assignee", "Choose an agent.");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(TicketPatch { status, priority, assignee_id, version: Some(version) })
    }
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
        let result = service::create(&s.db, &s.events, user, new, s.ticket_limits).await;
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

/// A public reply, or with `internal` ("true"/"on") an internal note only staff ever see.
#[server(prefix = "/rpc", endpoint = "reply_ticket")]
pub async fn reply_ticket(
    id: i64,
    body: String,
    #[server(default)] internal: Option<String>,
) -> Result<Message, AppError> {
    let (s, user) = caller().await?;
    let internal = matches!(internal.as_deref(), Some("true" | "on" | "1"));
    let message = super::service::add_message(&s.db, &s.events, &user, id, &body, internal).await?;
    super::workspace::note_presence(&s.db, &user, id, false, false);
    Ok(message)
}

/// The agents' queue (staff only); blank filters mean "any".
#[server(prefix = "/rpc", endpoint = "ticket_queue")]
pub async fn ticket_queue(
    #[server(default)] view: Option<String>,
    #[server(default)] tier: Option<String>,
    #[server(default)] priority: Option<String>,
    #[server(default)] level: Option<String>,
    #[server(default)] status: Option<String>,
    #[server(default)] q: Option<String>,
) -> Result<super::queue::Queue, AppError> {
    let (s, user) = caller().await?;
    let filter = super::queue::QueueParams { view, tier, priority, level, status, q, limit: None }.validate()?;
    super::queue::load(&s.db, &user, &filter).await
}

/// Everything the ticket page shows, in one request.
#[server(prefix = "/rpc", endpoint = "ticket_workspace")]
pub async fn ticket_workspace(id: i64) -> Result<super::workspace::Workspace, AppError> {
    let (s, user) = caller().await?;
    super::workspace::load(&s.db, &user, id).await
}

/// Staff change status, priority or assignee against the `version` they saw; blank fields stay as they are.
/// `assignee`: a user id, `me`, or `none` to unassign.
#[server(prefix = "/rpc", endpoint = "update_ticket")]
pub async fn update_ticket(
    id: i64,
    version: i64,
    #[server(default)] status: Option<String>,
    #[server(default)] priority: Option<String>,
    #[server(default)] assignee: Option<String>,
) -> Result<Ticket, AppError> {
    let (s, user) = caller().await?;
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let patch = ssr::patch_from_form(&user, version, status, priority, assignee)?;
    super::service::update(&s.db, &s.events, &user, id, &patch).await
}

#[server(prefix = "/rpc", endpoint = "escalate_ticket")]
pub async fn escalate_ticket(id: i64, to_level: String, reason: String) -> Result<Ticket, AppError> {
    let (s, user) = caller().await?;
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let to = to_level.parse().map_err(|m: String| AppError::invalid_field("to_level", m))?;
    super::service::escalate(&s.db, &s.events, &user, id, to, &reason).await
}

/// What a bulk action did to each selected ticket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkOutcome {
    pub changed: Vec<i64>,
    /// (ticket id, why not)
    pub failed: Vec<(i64, String)>,
}

/// Staff: one action on several queue rows. `ids`: comma-separated ticket ids (at most 100); `action`:
/// `claim` or `status:<status>`. Each ticket changes in its own transaction; one refusal does not undo others.
#[server(prefix = "/rpc", endpoint = "bulk_update_tickets")]
pub async fn bulk_update_tickets(ids: String, action: String) -> Result<BulkOutcome, AppError> {
    let (s, user) = caller().await?;
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let ids = super::parse_id_list(&ids).map_err(|m| AppError::invalid_field("ids", m))?;
    let patch = match action.split_once(':') {
        None if action == "claim" => super::TicketPatch { assignee_id: Some(Some(user.id)), ..Default::default() },
        Some(("status", status)) => super::TicketPatch {
            status: Some(status.parse().map_err(|m: String| AppError::invalid_field("action", m))?),
            ..Default::default()
        },
        _ => return Err(AppError::invalid_field("action", "Choose claim or a status.")),
    };
    let mut outcome = BulkOutcome::default();
    for id in ids {
        match super::service::update(&s.db, &s.events, &user, id, &patch).await {
            Ok(_) => outcome.changed.push(id),
            Err(e) => outcome.failed.push((id, e.message)),
        }
    }
    Ok(outcome)
}

/// The ticket page says "I am here" (and whether its reply box is being typed in) every few seconds and gets
/// the other staff on the same ticket back. `leaving` is sent when the page closes.
#[server(prefix = "/rpc", endpoint = "ticket_presence")]
pub async fn ticket_presence(
    id: i64,
    #[server(default)] typing: bool,
    #[server(default)] leaving: bool,
) -> Result<Vec<crate::presence::Presence>, AppError> {
    let (s, user) = caller().await?;
    if !user.role.is_staff() {
        return Ok(Vec::new());
    }
    super::service::visible_row(&s.db, &user, id).await?;
    Ok(super::workspace::note_presence(&s.db, &user, id, typing, leaving))
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
