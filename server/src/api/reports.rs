//! Satisfaction surveys, the managers' SLA summary and the CSV export of tickets:
//! `POST/GET /api/v1/tickets/{id}/satisfaction`, `GET /api/v1/sla/summary`, `GET /api/v1/tickets/export.csv`.

use super::{idempotency, path_id, present, ApiJson, ApiQuery, CurrentUser, Manager};
use crate::AppState;
use app::db::now;
use app::error::AppError;
use app::metrics;
use app::tickets::{service, survey};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    // `/tickets/export.csv` is a static segment: the router prefers it to `/tickets/{id}`.
    Router::new()
        .route("/tickets/export.csv", get(export))
        .route("/tickets/{id}/satisfaction", get(survey_state).post(answer))
        .route("/sla/summary", get(summary))
}

/// `{rating: "good" | "bad", comment?: string}`. Read loosely so a wrong or missing rating is a 422 naming
/// `rating` rather than a generic body error.
fn answer_fields(body: &Value) -> Result<(String, Option<String>), AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::new(
            422,
            "invalid_body",
            "Send a JSON object: {\"rating\": \"good\" | \"bad\", \"comment\"?: text}.",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !matches!(k.as_str(), "rating" | "comment")) {
        return Err(AppError::new(
            422,
            "invalid_body",
            format!("The JSON body does not fit: unknown field `{unknown}`."),
        ));
    }
    let rating = object.get("rating").and_then(Value::as_str).unwrap_or_default().to_string();
    let comment = match object.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(AppError::invalid_field("comment", "Send the comment as text.")),
    };
    Ok((rating, comment))
}

async fn answer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let services = state.services.clone();
    let id = match path_id(&id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let scope = format!("user:{}:satisfaction:{id}", user.id);
    idempotency::once(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let (rating, comment) = answer_fields(&body)?;
        let answer = survey::answer(&services.db, &services.events, &user, id, &rating, comment.as_deref()).await?;
        Ok((StatusCode::CREATED, json!(answer)))
    })
    .await
}

/// The survey as the caller sees it: `{can_answer, answers}` (answers for the requester and staff).
async fn survey_state(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<survey::SurveyState>, AppError> {
    let db = &state.services.db;
    let row = service::visible_row(db, &user, path_id(&id)?).await?;
    Ok(Json(survey::state(db, &user, &row).await?))
}

#[derive(Deserialize)]
struct SummaryQuery {
    days: Option<String>,
}

async fn summary(
    State(state): State<AppState>,
    Manager(user): Manager,
    ApiQuery(query): ApiQuery<SummaryQuery>,
) -> Result<Json<metrics::Summary>, AppError> {
    let days = metrics::check_days(present(&query.days))?;
    Ok(Json(metrics::service::summary(&state.services.db, &user, days, now()).await?))
}

#[derive(Deserialize)]
struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
}

/// CSV of the tickets created on the Eastern days `from..=to`. A signed-in manager's browser can follow the
/// link: the session cookie is accepted like a bearer token.
async fn export(
    State(state): State<AppState>,
    Manager(user): Manager,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let at = now();
    let (from, to) = metrics::export_range(query.from.as_deref(), query.to.as_deref(), metrics::today(at))?;
    let csv = metrics::service::export_csv(&state.services.db, &user, from, to, at).await?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", metrics::export_filename(from, to)))
            .map_err(|_| AppError::internal())?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        csv,
    )
        .into_response())
}
