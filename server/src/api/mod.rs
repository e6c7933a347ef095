//! The public REST API under `/api/v1` (see shared API.md and /api/v1/openapi.json).

pub mod accounts;
pub mod articles;
pub mod bookings;
pub mod events;
pub mod features;
pub mod idempotency;
pub mod notifications;
pub mod openapi;
pub mod reports;
pub mod sla;
pub mod tickets;
pub mod webhooks;

use crate::AppState;
use app::accounts::{service, User};
use app::error::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::Router;
use http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The API's JSON bodies are small; anything larger is refused with 413.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(tickets::router())
        .merge(features::router())
        .merge(bookings::router())
        .merge(events::router())
        .merge(sla::router())
        .merge(notifications::router())
        .merge(reports::router())
        .merge(webhooks::router())
        .merge(articles::router())
        .route("/openapi.json", axum::routing::get(openapi::spec))
        .fallback(|| async { AppError::not_found() })
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// A positive id from the path; anything else is "not found", like an id nobody may see.
pub(crate) fn path_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().ok().filter(|id: &i64| *id > 0).ok_or_else(AppError::not_found)
}

/// A query parameter with something in it (blank counts as absent).
pub(crate) use app::error::non_blank as present;

/// An optional query filter parsed as `T`; blank is absent, a bad value is a 422 naming `field`.
pub(crate) fn optional<T: std::str::FromStr<Err = String>>(
    raw: Option<&str>,
    field: &str,
) -> Result<Option<T>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|m| AppError::invalid_field(field, m)),
    }
}

/// A JSON body whose every rejection becomes the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

pub fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::new(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.")
        }
        JsonRejection::JsonSyntaxError(_) => AppError::bad_request("malformed_json", "The body is not valid JSON."),
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and what was expected; it is about the
            // client's own input, so it is safe and useful to return.
            let detail = e.body_text();
            let detail = detail.rsplit(": ").next().unwrap_or(&detail).to_string();
            AppError::new(422, "invalid_body", format!("The JSON body does not fit: {detail}"))
        }
        JsonRejection::BytesRejection(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(413, "payload_too_large", format!("The body is larger than {} KiB.", MAX_JSON_BYTES / 1024))
        }
        _ => AppError::bad_request("bad_request", "The request body could not be read."),
    }
}

/// The signed-in caller (bearer token or session cookie); 401 otherwise.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        service::user_from_headers(&state.services.db, &parts.headers)
            .await?
            .map(CurrentUser)
            .ok_or_else(AppError::unauthorized)
    }
}

/// A signed-in manager or admin; 403 for anyone else signed in.
pub struct Manager(pub User);

impl FromRequestParts<AppState> for Manager {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role.is_manager() {
            Ok(Manager(user))
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// `?limit=&cursor=` as API.md describes them.
#[derive(Debug, Deserialize)]
pub struct Page {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

impl Page {
    /// The limit (1..=200, default 50) and the id after which to continue.
    pub fn parse(&self) -> Result<(i64, i64), AppError> {
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(AppError::invalid_field("limit", format!("Use a number from 1 to {MAX_LIMIT}."))),
            },
        };
        let after = match self.cursor.as_deref() {
            None | Some("") => 0,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| AppError::invalid_field("cursor", "This cursor is not one we gave out."))?,
        };
        Ok((limit, after))
    }
}

/// `{"items": [...], "next_cursor": ...}` from a page fetched with one extra row.
pub fn page_of<T: serde::Serialize>(mut items: Vec<T>, limit: i64, id_of: impl Fn(&T) -> i64) -> serde_json::Value {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next = if more { items.last().map(|i| id_of(i).to_string()) } else { None };
    serde_json::json!({ "items": items, "next_cursor": next })
}

/// Query parameters whose rejection is a JSON 400.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| ApiQuery(q))
            .map_err(|_| AppError::bad_request("bad_query", "The query string could not be read."))
    }
}
