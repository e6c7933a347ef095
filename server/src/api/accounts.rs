//! `/api/v1/auth/*`, `/api/v1/me`, `/api/v1/users`.

use super::{idempotency, page_of, ApiJson, ApiQuery, CurrentUser, Manager, Page};
use crate::AppState;
use app::accounts::{recovery, service, store, ProfilePatch, RegistrationInput, Role};
use app::error::AppError;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::IpAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/tokens", post(create_token).get(list_tokens))
        .route("/auth/tokens/{id}", delete(revoke_token))
        .route("/auth/session", post(sign_in).delete(sign_out))
        .route("/auth/sessions", delete(sign_out_everywhere))
        .route("/auth/password-resets", post(request_password_reset))
        .route("/auth/password-resets/confirm", post(confirm_password_reset))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user).get(get_user))
}

pub use super::typed;

fn created(value: impl serde::Serialize) -> Result<(StatusCode, Value), AppError> {
    Ok((StatusCode::CREATED, json!(value)))
}

/// The client's address (proxy-aware: see [`crate::guard::client_address`]).
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<app::services::ClientIp>().map(|c| c.0);
        Ok(ClientAddr(ip.unwrap_or(IpAddr::from([127, 0, 0, 1]))))
    }
}

async fn register(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let services = state.services.clone();
    idempotency::once(&state.services.db, &headers, "register", body.to_string().as_bytes(), || async move {
        let input: RegistrationInput = typed(body)?;
        let user = service::register(&services, ip, input.validate()?).await?;
        created(user)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    email: String,
    password: String,
    label: String,
    /// Optional lifetime (1–365 days); without it the token lives until revoked.
    #[serde(default)]
    expires_in_days: Option<i64>,
}

async fn create_token(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let services = state.services.clone();
    // Scoped by email: one person's keys never replay another's response.
    let email = body.get("email").and_then(Value::as_str).unwrap_or_default().trim().to_lowercase();
    let scope = format!("tokens:{email}");
    idempotency::once_with_secret(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let request: TokenRequest = typed(body)?;
        let user = service::authenticate(&services, ip, &request.email, &request.password).await?;
        let new = service::create_token(&services.db, &user, &request.label, request.expires_in_days).await?;
        created(json!({ "token": new.token, "token_info": new.info, "user": user }))
    })
    .await
}

async fn list_tokens(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Value>, AppError> {
    let tokens = store::list_tokens(&state.services.db, user.id).await?;
    Ok(Json(json!({ "items": tokens, "next_cursor": null })))
}

async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = id.parse().map_err(|_| AppError::not_found())?;
    service::revoke_token(&state.services, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInRequest {
    email: String,
    password: String,
}

/// Signs in with a session cookie (what a browser without the UI would use).
async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Response, AppError> {
    let services = &state.services;
    let user = service::authenticate(services, ip, &request.email, &request.password).await?;
    let previous = service::session_id_from(&headers, services.secure_cookies);
    let id = service::start_session(&services.db, user.id, previous.as_deref()).await?;
    Ok((set_cookie(service::session_cookie(&id, services.secure_cookies))?, Json(user)).into_response())
}

async fn sign_out(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let services = &state.services;
    if let Some(id) = service::session_id_from(req.headers(), services.secure_cookies) {
        service::end_session(services, &id).await?;
    }
    Ok((set_cookie(service::clear_session_cookie(services.secure_cookies))?, StatusCode::NO_CONTENT).into_response())
}

/// A `Set-Cookie` header for a response.
fn set_cookie(value: String) -> Result<[(header::HeaderName, HeaderValue); 1], AppError> {
    let value = HeaderValue::from_str(&value).map_err(|_| AppError::internal())?;
    Ok([(header::SET_COOKIE, value)])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password (the current one is asked again). Every other session ends; the caller's
/// own session cookie, if any, stays.
async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let services = &state.services;
    let keep = match service::bearer_from(&headers) {
        Some(_) => None,
        None => service::session_id_from(&headers, services.secure_cookies),
    };
    recovery::change_password(services, &user, &request.current_password, request.new_password, keep.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller, this one included; API tokens stay.
async fn sign_out_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    let services = &state.services;
    let ended = recovery::sign_out_everywhere(services, &user).await?;
    let cleared = set_cookie(service::clear_session_cookie(services.secure_cookies))?;
    Ok((cleared, Json(json!({ "sessions_ended": ended }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

/// Mails a reset link if the address has an account; the answer is the same either way.
async fn request_password_reset(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    ApiJson(request): ApiJson<ResetRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let message = recovery::request_reset(&state.services, ip, &request.email).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "message": message }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetConfirm {
    token: String,
    new_password: String,
}

/// Sets a new password with the token from a reset link; every session of the account ends.
async fn confirm_password_reset(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    ApiJson(request): ApiJson<ResetConfirm>,
) -> Result<Json<app::accounts::User>, AppError> {
    let user = recovery::complete_reset(&state.services, ip, &request.token, request.new_password).await?;
    Ok(Json(user))
}

async fn me(CurrentUser(user): CurrentUser) -> Json<app::accounts::User> {
    Json(user)
}

#[derive(Deserialize)]
struct UserQuery {
    #[serde(flatten)]
    page: Page,
    q: Option<String>,
    role: Option<String>,
}

async fn list_users(
    State(state): State<AppState>,
    Manager(_): Manager,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Value>, AppError> {
    let (limit, after) = query.page.parse()?;
    let role = match query.role.as_deref() {
        None | Some("") => None,
        Some(r) => Some(r.parse::<Role>().map_err(|m| AppError::invalid_field("role", m))?),
    };
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let users = store::list_users(&state.services.db, q, role, after, limit + 1).await?;
    Ok(Json(page_of(users, limit, |u| u.id)))
}

async fn get_user(
    State(state): State<AppState>,
    Manager(_): Manager,
    Path(id): Path<String>,
) -> Result<Json<app::accounts::User>, AppError> {
    let id = id.parse().map_err(|_| AppError::not_found())?;
    store::user_by_id(&state.services.db, id).await?.map(Json).ok_or_else(AppError::not_found)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserRequest {
    email: String,
    password: String,
    name: String,
    role: Option<Role>,
    #[serde(default, deserialize_with = "app::accounts::double_option")]
    tier: Option<Option<app::accounts::Tier>>,
    #[serde(default, deserialize_with = "app::accounts::double_option")]
    level: Option<Option<app::accounts::Level>>,
    takes_calls: Option<bool>,
}

async fn create_user(
    State(state): State<AppState>,
    Manager(actor): Manager,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let db = state.services.db.clone();
    let scope = format!("user:{}:create_user", actor.id);
    idempotency::once(&state.services.db, &headers, &scope, body.to_string().as_bytes(), || async move {
        let request: CreateUserRequest = typed(body)?;
        let registration =
            RegistrationInput { email: request.email, password: request.password, name: request.name }.validate()?;
        let patch = ProfilePatch {
            role: request.role,
            tier: request.tier,
            level: request.level,
            takes_calls: request.takes_calls,
        };
        created(service::create_staff_user(&db, &actor, registration, &patch).await?)
    })
    .await
}

async fn update_user(
    State(state): State<AppState>,
    Manager(actor): Manager,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<Json<app::accounts::User>, AppError> {
    let id = id.parse().map_err(|_| AppError::not_found())?;
    Ok(Json(service::change_profile(&state.services, &actor, id, &patch).await?))
}
