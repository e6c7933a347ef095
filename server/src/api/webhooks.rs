//! Integrations over REST: outgoing webhooks and their delivery logs, the Discord channel and the
//! SMTP test (managers), and each user's email choices.

use super::{path_id, ApiJson, ApiQuery, CurrentUser};
use crate::AppState;
use app::accounts::User;
use app::error::AppError;
use app::notify::integrations::EmailPreferences;
use app::notify::integrations_store::{self as store, LogOf, WebhookInput};
use app::notify::outbox;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", get(one).patch(update).delete(remove))
        .route("/webhooks/{id}/test", post(test))
        .route("/webhooks/{id}/deliveries", get(deliveries))
        .route("/integrations/discord", get(discord).put(save_discord))
        .route("/integrations/discord/test", post(test_discord))
        .route("/integrations/discord/deliveries", get(discord_deliveries))
        .route("/integrations/email/test", post(test_email))
        .route("/me/email-preferences", get(email_preferences).put(save_email_preferences))
}

fn manager(user: &User) -> Result<(), AppError> {
    if user.role.is_manager() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    Ok(Json(json!({ "items": store::list_webhooks(&state.services.db).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    secret: Option<String>,
    active: Option<bool>,
}

impl From<WebhookBody> for WebhookInput {
    fn from(b: WebhookBody) -> Self {
        WebhookInput { url: b.url, events: b.events, description: b.description, secret: b.secret, active: b.active }
    }
}

/// `{url, events, secret?, description?}` → 201 with the webhook and its secret, shown this once.
async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    manager(&user)?;
    if body.active.is_some() {
        return Err(AppError::invalid_field("active", "A new webhook starts switched on."));
    }
    let created = store::create_webhook(&state.services.db, &state.services.outbound, user.id, &body.into()).await?;
    let mut value = json!(created.webhook);
    value["secret"] = json!(created.secret);
    Ok((StatusCode::CREATED, Json(value)))
}

async fn one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    Ok(Json(json!(store::webhook(&state.services.db, path_id(&id)?).await?)))
}

/// `{url?, events?, description?, active?}`; `active: true` switches a disabled webhook back on.
async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    Ok(Json(json!(
        store::update_webhook(&state.services.db, &state.services.outbound, path_id(&id)?, &body.into()).await?
    )))
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    manager(&user)?;
    store::delete_webhook(&state.services.db, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a signed `ping` for this webhook → 202 `{delivery_id}`; its result shows in the log.
async fn test(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    manager(&user)?;
    let db = &state.services.db;
    let hook = store::webhook(db, path_id(&id)?).await?;
    if !hook.active {
        return Err(AppError::conflict("webhook_disabled", "Switch the webhook on before sending a test."));
    }
    let delivery_id = outbox::queue_test(db, hook.id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "delivery_id": delivery_id }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    limit: Option<String>,
}

fn log_limit(query: &LogQuery) -> Result<i64, AppError> {
    match super::present(&query.limit) {
        None => Ok(50),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| AppError::invalid_field("limit", "Use a number from 1 to 200.")),
    }
}

/// The newest deliveries first: status, attempts, last status code, latency and error.
async fn deliveries(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    let db = &state.services.db;
    let hook = store::webhook(db, path_id(&id)?).await?;
    Ok(Json(json!({ "items": store::deliveries(db, LogOf::Webhook(hook.id), log_limit(&query)?).await? })))
}

async fn discord(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    Ok(Json(json!(store::discord_settings(&state.services.db).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscordBody {
    /// Omitted: keep the saved URL; empty: remove it.
    url: Option<String>,
    events: Vec<String>,
}

async fn save_discord(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<DiscordBody>,
) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    Ok(Json(json!(
        store::save_discord(&state.services.db, &state.services.outbound, body.url.as_deref(), &body.events).await?
    )))
}

/// Posts a test embed now → `{ok, status_code, latency_ms, error}`.
async fn test_discord(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    let outcome = store::test_discord(&state.services.db, &state.services.outbox).await?;
    Ok(Json(json!({
        "ok": outcome.error.is_none(),
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
    })))
}

async fn discord_deliveries(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    let items = store::deliveries(&state.services.db, LogOf::Discord, log_limit(&query)?).await?;
    Ok(Json(json!({ "items": items })))
}

/// Sends a test email to the calling manager now → `{ok, to, error}`.
async fn test_email(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Value>, AppError> {
    manager(&user)?;
    let result = store::test_email(&state.services.outbox, &user.email, &user.name).await?;
    Ok(Json(json!({ "ok": result.is_ok(), "to": user.email, "error": result.err() })))
}

async fn email_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<EmailPreferences>, AppError> {
    Ok(Json(store::email_preferences(&state.services.db, user.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreferencesBody {
    tickets: bool,
    sla: bool,
    bookings: bool,
    features: bool,
}

async fn save_email_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<PreferencesBody>,
) -> Result<Json<EmailPreferences>, AppError> {
    let prefs =
        EmailPreferences { tickets: body.tickets, sla: body.sla, bookings: body.bookings, features: body.features };
    Ok(Json(store::save_email_preferences(&state.services.db, user.id, prefs).await?))
}
