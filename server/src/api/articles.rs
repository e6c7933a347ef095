//! `/api/v1/articles…`: the knowledge base. Anyone reads and searches published
//! articles; agents and managers also see drafts (`?include_drafts=1`) and write
//! articles; anyone answers "was this helpful?" once per article (signed in: as
//! themselves; anonymous: as their browser, by the voter cookie set on the first answer).

use super::accounts::typed;
use super::{idempotency, optional, ApiJson, ApiQuery, CurrentUser, Page};
use crate::AppState;
use app::accounts::{service as accounts, User};
use app::error::AppError;
use app::kb::service::{self, Search, Voter};
use app::kb::{Article, ArticleInput, Category};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/articles", get(list).post(create))
        .route("/articles/{slug}", get(show).put(update))
        .route("/articles/{slug}/helpful", post(helpful))
}

/// The caller, if signed in (bearer token or session cookie); anonymous is fine here.
async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, AppError> {
    accounts::user_from_headers(&state.services.db, headers, state.services.secure_cookies).await
}

fn staff_only(user: &User) -> Result<(), AppError> {
    if user.role.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: Page,
    q: Option<String>,
    category: Option<String>,
    include_drafts: Option<String>,
}

/// Best matches first (recent first without `q`); the cursor is the offset of the next item.
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let user = viewer(&state, &headers).await?;
    let (limit, offset) = query.page.parse()?;
    let include_drafts = match query.include_drafts.as_deref().map(str::trim) {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(AppError::invalid_field("include_drafts", "Use 1 or 0.")),
    };
    let search = Search {
        q: query.q.unwrap_or_default().chars().take(app::kb::QUERY_MAX).collect(),
        category: optional::<Category>(query.category.as_deref(), "category")?,
        include_drafts,
        offset,
        limit: limit + 1,
    };
    let mut items = service::list(&state.services.db, user.as_ref(), &search).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next = more.then(|| (offset + limit).to_string());
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Json<Article>, AppError> {
    let user = viewer(&state, &headers).await?;
    let voter = match &user {
        Some(u) => Some(Voter::user(u)),
        None => service::voter_cookie_from(&headers).map(|c| Voter::anonymous(&c)),
    };
    Ok(Json(service::get(&state.services.db, user.as_ref(), voter.as_ref(), &slug).await?))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    // Role first: a customer learns nothing about the body's shape.
    if let Err(e) = staff_only(&user) {
        return e.into_response();
    }
    let db = state.services.db.clone();
    let scope = format!("user:{}:create_article", user.id);
    idempotency::once(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let input: ArticleInput = typed(body)?;
        let draft = input.validate()?;
        let article = service::create(&db, &user, draft).await?;
        Ok((StatusCode::CREATED, json!(article)))
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Article>, AppError> {
    staff_only(&user)?;
    let input: ArticleInput = typed(body)?;
    let draft = input.validate()?;
    Ok(Json(service::update(&state.services.db, &user, &slug, draft).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelpfulRequest {
    helpful: bool,
}

async fn helpful(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let user = viewer(&state, &headers).await?;
    let request: HelpfulRequest = match body.get("helpful") {
        Some(Value::Bool(_)) => typed(body)?,
        _ => return Err(AppError::invalid_field("helpful", "Answer true (helpful) or false (not helpful).")),
    };
    let mut set_cookie = None;
    let voter = match (&user, service::voter_cookie_from(&headers)) {
        (Some(u), _) => Voter::user(u),
        (None, Some(cookie)) => Voter::anonymous(&cookie),
        (None, None) => {
            let (value, header) = service::new_voter_cookie(state.services.secure_cookies);
            set_cookie = Some(header);
            Voter::anonymous(&value)
        }
    };
    let article = service::vote(&state.services.db, user.as_ref(), &voter, &slug, request.helpful).await?;
    let mut response = Json(article).into_response();
    if let Some(Ok(value)) = set_cookie.map(|c| HeaderValue::from_str(&c)) {
        response.headers_mut().append(http::header::SET_COOKIE, value);
    }
    Ok(response)
}
