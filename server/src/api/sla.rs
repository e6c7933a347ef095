//! `/api/v1/sla…` and `/api/v1/hours…`: the SLA policy table, due-date previews, opening hours and holidays.

use super::{present, ApiJson, ApiQuery, CurrentUser, Manager};
use crate::AppState;
use app::db::rfc3339;
use app::error::AppError;
use app::sla::{Policy, Priority, SlaTier};
use app::sla_store;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sla/policies", get(policies).put(save_policies))
        .route("/sla/preview", get(preview))
        .route("/hours", get(hours))
        .route("/hours/holidays", put(save_holidays))
        .route("/hours/weekly", get(weekly).put(save_weekly))
}

async fn policies(State(state): State<AppState>, CurrentUser(_): CurrentUser) -> Result<Json<Value>, AppError> {
    let items = sla_store::load_policies(&state.services.db).await?;
    Ok(Json(json!({ "items": items })))
}

async fn save_policies(
    State(state): State<AppState>,
    Manager(_): Manager,
    ApiJson(rows): ApiJson<Vec<Policy>>,
) -> Result<Json<Value>, AppError> {
    let items = sla_store::save_policies(&state.services.db, &rows).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct PreviewQuery {
    tier: Option<String>,
    priority: Option<String>,
    at: Option<String>,
}

async fn preview(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<PreviewQuery>,
) -> Result<Json<Value>, AppError> {
    let tier = match present(&query.tier) {
        Some(raw) => raw.parse::<SlaTier>().map_err(|m| AppError::invalid_field("tier", m))?,
        None => app::tickets::clocks::sla_tier(user.tier.unwrap_or(app::accounts::Tier::General)),
    };
    let priority = present(&query.priority)
        .ok_or_else(|| "Choose a priority: P1, P2, P3 or P4.".to_string())
        .and_then(|raw| raw.parse::<Priority>())
        .map_err(|m| AppError::invalid_field("priority", m))?;
    let at = match present(&query.at) {
        Some(raw) => raw.parse::<jiff::Timestamp>().map_err(|_| {
            AppError::invalid_field("at", format!("{raw:?} is not an RFC 3339 instant, e.g. 2026-12-04T22:00:00Z."))
        })?,
        None => jiff::Timestamp::now(),
    };
    let (first, resolution) = sla_store::preview(&state.services.db, tier, priority, at).await?;
    Ok(Json(json!({
        "tier": tier,
        "priority": priority,
        "first_response_due": rfc3339(first.as_second()),
        "resolution_due": rfc3339(resolution.as_second()),
    })))
}

async fn hours(State(state): State<AppState>) -> Result<Json<sla_store::HoursReport>, AppError> {
    Ok(Json(sla_store::hours(&state.services.db, jiff::Timestamp::now()).await?))
}

async fn save_holidays(
    State(state): State<AppState>,
    Manager(_): Manager,
    ApiJson(days): ApiJson<Vec<String>>,
) -> Result<Json<Vec<String>>, AppError> {
    let days = sla_store::parse_holidays(&days)?;
    let stored = sla_store::replace_holidays(&state.services.db, &days).await?;
    Ok(Json(stored.iter().map(ToString::to_string).collect()))
}

async fn weekly(State(state): State<AppState>) -> Result<Json<sla_store::WeeklyText>, AppError> {
    let weekly = sla_store::load_weekly(&state.services.db).await?;
    Ok(Json(sla_store::WeeklyText::from_weekly(&weekly)))
}

/// `{support?: {monday: {open, close} | null, …}, live_chat?: {…}}`: a given calendar is replaced whole.
async fn save_weekly(
    State(state): State<AppState>,
    Manager(_): Manager,
    ApiJson(text): ApiJson<sla_store::WeeklyText>,
) -> Result<Json<sla_store::WeeklyText>, AppError> {
    let weekly = sla_store::save_weekly(&state.services.db, &text).await?;
    Ok(Json(sla_store::WeeklyText::from_weekly(&weekly)))
}
