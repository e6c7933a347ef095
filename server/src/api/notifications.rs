//! `/api/v1/notifications`: the signed-in user's in-portal notifications (the bell), newest first.

use super::{page_of, ApiJson, ApiQuery, CurrentUser, Page};
use crate::AppState;
use app::error::AppError;
use app::notify;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/notifications", get(list)).route("/notifications/read", post(mark_read))
}

/// `?limit=&cursor=`: the cursor is the last id of the previous page; older ones follow.
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Value>, AppError> {
    let (limit, before) = page.parse()?;
    let before = (before > 0).then_some(before);
    let db = &state.services.db;
    let items = notify::list(db, user.id, before, limit + 1).await?;
    let mut body = page_of(items, limit, |n| n.id);
    body["unread"] = json!(notify::unread_count(db, user.id).await?);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    /// Omitted: every notification.
    ids: Option<Vec<i64>>,
}

/// `{ids?: [..]}` → `{changed, unread}`; ids of other users' notifications change nothing.
async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ReadBody>,
) -> Result<Json<Value>, AppError> {
    if body.ids.as_ref().is_some_and(|ids| ids.is_empty() || ids.len() > 500) {
        return Err(AppError::invalid_field("ids", "List from 1 to 500 ids, or leave ids out to mark all."));
    }
    let db = &state.services.db;
    let changed = notify::mark_read(db, &state.services.events, user.id, body.ids.as_deref()).await?;
    Ok(Json(json!({ "changed": changed, "unread": notify::unread_count(db, user.id).await? })))
}
