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

#[server(prefix = "/rpc", endpoint = "create_ticket")]
pub async fn create_ticket(
    subject: String,
    body: String,
    priority: String,
    category: Option<String>,
) -> Result<Ticket, AppError> {
    let (s, user) = caller().await?;
    let new = super::NewTicketInput { subject, body, priority, category }.validate()?;
    super::service::create(&s.db, &s.events, &user, new).await
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
