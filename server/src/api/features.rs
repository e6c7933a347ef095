//! `/api/v1/features…`: customers post and vote on feature requests; agents
//! move them through their statuses; managers merge duplicates. Anyone may read the board; voting,
//! posting and commenting need an account. Also
//! `POST /tickets/{id}/feature`, which turns a ticket into a request.

use super::accounts::typed;
use super::{idempotency, optional, path_id, ApiJson, ApiQuery, CurrentUser, MaybeUser, Page};
use crate::AppState;
use app::error::AppError;
use app::features::{service, Comment, Feature, FeatureFilter, FeatureStatus, NewFeatureInput, Sort, StatusChange};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/features", post(create).get(list))
        .route("/features/similar", get(similar))
        .route("/features/{id}", get(show).patch(update))
        .route("/features/{id}/vote", put(vote).delete(unvote))
        .route("/features/{id}/comments", get(comments).post(comment))
        .route("/features/{id}/merge", post(merge))
        .route("/tickets/{id}/feature", post(from_ticket))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let services = state.services.clone();
    let scope = format!("user:{}:create_feature", user.id);
    idempotency::once(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let input: NewFeatureInput = typed(body)?;
        let new = input.validate()?;
        service::check_post_rate(&services.limits, &user).await?;
        let feature = service::create(&services.db, &services.events, &user, new).await?;
        Ok((StatusCode::CREATED, json!(feature)))
    })
    .await
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: Page,
    sort: Option<String>,
    status: Option<String>,
    q: Option<String>,
}

/// Ranked lists page by position: the cursor is the offset of the next item.
async fn list(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let (limit, offset) = query.page.parse()?;
    let filter = FeatureFilter {
        sort: optional::<Sort>(query.sort.as_deref(), "sort")?,
        status: optional::<FeatureStatus>(query.status.as_deref(), "status")?,
        q: query.q.map(|q| q.trim().chars().take(200).collect::<String>()).filter(|q| !q.is_empty()),
    };
    let mut items = service::list(&state.services.db, user.as_ref(), &filter, offset, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next = more.then(|| (offset + limit).to_string());
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

#[derive(Deserialize)]
struct SimilarQuery {
    title: Option<String>,
}

async fn similar(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(query): ApiQuery<SimilarQuery>,
) -> Result<Json<Value>, AppError> {
    let title: String = query.title.unwrap_or_default().chars().take(app::features::TITLE_MAX).collect();
    let items = service::similar(&state.services.db, user.as_ref(), &title).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<Feature>, AppError> {
    Ok(Json(service::get(&state.services.db, user.as_ref(), path_id(&id)?).await?))
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Feature>, AppError> {
    let s = &state.services;
    let id = path_id(&id)?;
    // Role first: a customer learns nothing about the body's shape.
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let change: StatusChange = match body.get("status") {
        Some(Value::String(raw)) if raw.parse::<FeatureStatus>().is_err() => {
            return Err(AppError::invalid_field("status", raw.parse::<FeatureStatus>().err().unwrap_or_default()))
        }
        None | Some(Value::Null) => return Err(AppError::invalid_field("status", "Choose the new status.")),
        _ => typed(body)?,
    };
    Ok(Json(service::set_status(&s.db, &s.events, &user, id, &change).await?))
}

async fn vote(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Feature>, AppError> {
    let s = &state.services;
    Ok(Json(service::vote(&s.db, &s.events, &user, path_id(&id)?, true).await?))
}

async fn unvote(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Feature>, AppError> {
    let s = &state.services;
    Ok(Json(service::vote(&s.db, &s.events, &user, path_id(&id)?, false).await?))
}

async fn comments(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = path_id(&id)?;
    service::get(&state.services.db, user.as_ref(), id).await?;
    let items = service::comments(&state.services.db, id).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentRequest {
    body: String,
}

async fn comment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<(StatusCode, Json<Comment>), AppError> {
    let s = &state.services;
    let comment = service::add_comment(&s.db, &s.events, &user, path_id(&id)?, &request.body).await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeRequest {
    into_id: i64,
}

async fn merge(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Feature>, AppError> {
    let s = &state.services;
    let id = path_id(&id)?;
    if !user.role.is_manager() {
        return Err(AppError::forbidden());
    }
    let request: MergeRequest = match body.get("into_id") {
        Some(Value::Number(_)) => typed(body)?,
        _ => return Err(AppError::invalid_field("into_id", "Give the id of the request to keep.")),
    };
    Ok(Json(service::merge(&s.db, &s.events, &user, id, request.into_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromTicketRequest {
    title: String,
    body: String,
}

/// Agents: a public request from a ticket. The ticket is private, so the public title and description
/// are given explicitly (never copied from the ticket).
async fn from_ticket(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<FromTicketRequest>,
) -> Result<(StatusCode, Json<Feature>), AppError> {
    let s = &state.services;
    let ticket_id = path_id(&id)?;
    let public = NewFeatureInput { title: request.title, body: request.body };
    let feature = service::from_ticket(&s.db, &s.events, &user, ticket_id, public).await?;
    Ok((StatusCode::CREATED, Json(feature)))
}
