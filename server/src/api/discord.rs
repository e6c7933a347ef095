//! `POST /api/v1/discord/interactions`: Discord's HTTP Interactions endpoint. Discord's servers call it,
//! not a browser, so the same-origin check lets it through (see [`crate::guard`]); the body limit and the
//! write rate limits still apply, and nothing is read before the Ed25519 signature verifies.

use crate::AppState;
use app::error::AppError;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

pub const INTERACTIONS_PATH: &str = "/api/v1/discord/interactions";

pub fn router() -> Router<AppState> {
    Router::new().route("/discord/interactions", post(interactions))
}

async fn interactions(
    State(state): State<AppState>,
    headers: http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (timestamp, signature) = (header("x-signature-timestamp"), header("x-signature-ed25519"));
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
            return AppError::new(413, "payload_too_large", "The request is too large.").into_response()
        }
        Err(_) => return AppError::bad_request("bad_request", "The request body could not be read.").into_response(),
    };
    let services = &state.services;
    match app::discord::service::handle(services, &services.discord, timestamp.as_deref(), signature.as_deref(), &body)
        .await
    {
        Ok(reply) => Json(reply).into_response(),
        Err(e) => e.into_response(),
    }
}
