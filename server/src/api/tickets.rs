//! `/api/v1/tickets…`: customers open and follow their tickets; agents work them.

use super::accounts::typed;
use super::{idempotency, optional, page_of, path_id, ApiJson, ApiQuery, CurrentUser, Page};
use crate::AppState;
use app::accounts::{Level, Tier};
use app::error::AppError;
use app::tickets::{service, NewTicketInput, Priority, SlaState, Status, TicketFilter, TicketPatch};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets", post(create).get(list))
        .route("/tickets/{id}", get(show).patch(update))
        .route("/tickets/{id}/messages", get(messages).post(reply))
        .route("/tickets/{id}/escalations", post(escalate))
        .route("/tickets/{id}/history", get(history))
        .route("/queue", get(queue))
}

/// Staff: the live queue (see `app::tickets::queue`).
async fn queue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<app::tickets::queue::QueueParams>,
) -> Result<Json<app::tickets::queue::Queue>, AppError> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let filter = params.validate()?;
    Ok(Json(app::tickets::queue::load(&state.services.db, &user, &filter).await?))
}

/// Staff: every change of the ticket — who, when, what, from → to, why.
async fn history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let id = path_id(&id)?;
    service::visible_row(&state.services.db, &user, id).await?;
    let items = app::tickets::workspace::timeline(&state.services.db, id).await?;
    Ok(Json(json!({ "items": items })))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let services = state.services.clone();
    let scope = format!("user:{}:create_ticket", user.id);
    idempotency::once(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let input: NewTicketInput = typed(body)?;
        let ticket =
            service::create(&services.db, &services.events, &user, input.validate()?, services.ticket_limits).await?;
        Ok((StatusCode::CREATED, json!(ticket)))
    })
    .await
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: Page,
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    sla_state: Option<String>,
    tier: Option<String>,
    q: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let (limit, after) = query.page.parse()?;
    let assignee = match query.assignee.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("none") => Some(0),
        Some("me") => Some(user.id),
        Some(v) => {
            Some(v.parse::<i64>().map_err(|_| AppError::invalid_field("assignee", "Use a user id, me or none."))?)
        }
    };
    let sla_state = match query.sla_state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(
            serde_json::from_value::<SlaState>(json!(v))
                .map_err(|_| AppError::invalid_field("sla_state", "Use on_track, at_risk, breached, met or paused."))?,
        ),
    };
    let filter = TicketFilter {
        status: optional::<Status>(query.status.as_deref(), "status")?,
        priority: optional::<Priority>(query.priority.as_deref(), "priority")?,
        tier: optional::<Tier>(query.tier.as_deref(), "tier")?,
        assignee,
        sla_state,
        q: query.q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty()),
    };
    let tickets = service::list(&state.services.db, &user, &filter, after, limit + 1).await?;
    Ok(Json(page_of(tickets, limit, |t| t.id)))
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<app::tickets::Ticket>, AppError> {
    Ok(Json(service::get(&state.services.db, &user, path_id(&id)?).await?))
}

/// `If-Match: "7"` (or `version` in the body) refuses the change with 409 if the ticket moved on meanwhile.
async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut patch): ApiJson<TicketPatch>,
) -> Result<Json<app::tickets::Ticket>, AppError> {
    if let Some(raw) = headers.get(http::header::IF_MATCH) {
        let version = raw
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| AppError::invalid_field("If-Match", "Send the ticket's version, e.g. \"7\"."))?;
        patch.version = Some(version);
    }
    let s = &state.services;
    Ok(Json(service::update(&s.db, &s.events, &user, path_id(&id)?, &patch).await?))
}

async fn messages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let items = service::messages(&state.services.db, &user, path_id(&id)?).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyRequest {
    body: String,
    #[serde(default)]
    internal: bool,
}

async fn reply(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReplyRequest>,
) -> Result<(StatusCode, Json<app::tickets::Message>), AppError> {
    let s = &state.services;
    let message = service::add_message(&s.db, &s.events, &user, path_id(&id)?, &request.body, request.internal).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalationRequest {
    to_level: Level,
    reason: String,
}

async fn escalate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<EscalationRequest>,
) -> Result<(StatusCode, Json<app::tickets::Ticket>), AppError> {
    let s = &state.services;
    let ticket = service::escalate(&s.db, &s.events, &user, path_id(&id)?, request.to_level, &request.reason).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}
