//! The public REST API under `/api/v1` (see shared API.md and /api/v1/openapi.json).

pub mod accounts;
pub mod articles;
pub mod bookings;
pub mod discord;
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
        .merge(discord::router())
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

/// A JSON body whose every rejection becomes the API's error shape: 415 without a JSON content type, 413 when
/// too large, 400 when not JSON, 422 naming the field when it does not fit `T` or holds control characters.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::new(
                415,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(
                    413,
                    "payload_too_large",
                    format!("The body is larger than {} KiB.", MAX_JSON_BYTES / 1024),
                )
            } else {
                AppError::bad_request("bad_request", "The request body could not be read.")
            }
        })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| AppError::bad_request("malformed_json", "The body is not valid JSON."))?;
        check_json_text(&value)?;
        typed(value).map(ApiJson)
    }
}

/// `application/json` or any `+json` type.
fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Typed view of a JSON body already read as a value (so it can be hashed for idempotency). A value that
/// does not fit is a 422 naming the field: serde's message is about the client's own input, so it is safe
/// and useful to return.
pub fn typed<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let detail = e.inner().to_string();
        let detail = detail.split(" at line ").next().unwrap_or(&detail).to_string();
        let mut error = AppError::new(422, "invalid_body", format!("The JSON body does not fit: {detail}"));
        error.fields.insert(field_of(&e.path().to_string(), &detail), detail);
        error
    })
}

/// The field a deserialisation error is about: its path, or for a missing or unknown field that field's
/// name inside it ("missing field `subject`" at the top → `subject`).
fn field_of(path: &str, detail: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| detail.strip_prefix(prefix)?.split('`').next())
        .filter(|name| !name.is_empty());
    let path = path.trim_matches('.');
    // The path of an unknown field already ends with it; that of a missing one is its parent's.
    let missing = detail.starts_with("missing field");
    match (path, named) {
        ("", Some(name)) => name.to_string(),
        ("", None) => "body".to_string(),
        (path, Some(name)) if missing => format!("{path}.{name}"),
        (path, _) => path.to_string(),
    }
}

/// The one rule for text on every endpoint: control characters other than tab, line feed and carriage return
/// (NUL above all, which PostgreSQL cannot store) are refused with 422 naming the field.
pub fn check_json_text(value: &serde_json::Value) -> Result<(), AppError> {
    match find_control(value, "") {
        None => Ok(()),
        Some(field) => Err(control_characters(&field)),
    }
}

fn find_control(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = || if path.is_empty() { "body".to_string() } else { path.to_string() };
    match value {
        Value::String(s) => app::error::has_control_characters(s).then(here),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find_control(v, &format!("{}[{i}]", here()))),
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if app::error::has_control_characters(key) {
                return Some(here());
            }
            find_control(v, &field)
        }),
        _ => None,
    }
}

pub fn control_characters(field: &str) -> AppError {
    let mut error = AppError::invalid_field(field, app::error::CONTROL_CHARACTERS_MESSAGE);
    error.code = "control_characters".into();
    error
}

/// The signed-in caller (bearer token or session cookie); 401 otherwise.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        user.map(CurrentUser).ok_or_else(AppError::unauthorized)
    }
}

/// The caller if signed in, `None` for a visitor: for what anyone may read (the feature board).
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The write limiter already verified the credential of a write.
        let user = match parts.extensions.get::<app::services::VerifiedCaller>() {
            Some(verified) => verified.0.clone(),
            None => {
                service::user_from_headers(&state.services.db, &parts.headers, state.services.secure_cookies).await?
            }
        };
        Ok(MaybeUser(user))
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
        // (Control characters in the query were refused before any handler: see guard::refuse_control_characters.)
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| ApiQuery(q))
            .map_err(|_| AppError::bad_request("bad_query", "The query string could not be read."))
    }
}
