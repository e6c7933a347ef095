//! `Idempotency-Key` on creating POSTs (Stripe's design): the first response to
//! a key is stored with a hash of the request; a repeat with the same body gets
//! that response again, a repeat with another body gets 422. Keys are kept 24 hours
//! ([`KEEP_SECS`]). A response that carries a secret (a new API token) is never stored:
//! its repeat answers 409 instead of showing the secret a second time.

use app::db::{is_unique_violation, now, Db};
use app::error::AppError;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use sqlx::Row;
use std::future::Future;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
/// A first request that has not finished after this long is taken as abandoned.
const ABANDONED_AFTER_SECS: i64 = 60;
/// How long a key is remembered (as Stripe does).
pub const KEEP_SECS: i64 = 86_400;
/// Stored instead of a response that held a secret.
const SECRET_WITHHELD: &str = "secret_withheld";

/// Runs `create` at most once per (scope, key). `scope` separates callers
/// (user id, or the route for anonymous calls); `request` is what makes two
/// requests "the same".
pub async fn once<F, Fut>(db: &Db, headers: &HeaderMap, scope: &str, request: &[u8], create: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), AppError>>,
{
    run_once(db, headers, scope, request, false, create).await
}

/// [`once`] for a response holding a secret shown only once: the response itself is never stored, and a
/// repeat gets 409 `already_created` rather than the secret again.
pub async fn once_with_secret<F, Fut>(db: &Db, headers: &HeaderMap, scope: &str, request: &[u8], create: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), AppError>>,
{
    run_once(db, headers, scope, request, true, create).await
}

async fn run_once<F, Fut>(
    db: &Db,
    headers: &HeaderMap,
    scope: &str,
    request: &[u8],
    secret: bool,
    create: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), AppError>>,
{
    let Some(key) = headers.get(HEADER) else {
        return respond(create().await);
    };
    let Some(key) = key.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN) else {
        return AppError::invalid_field("Idempotency-Key", format!("Use 1 to {MAX_KEY_LEN} visible ASCII characters."))
            .into_response();
    };
    let hash = app::accounts::service::sha256_hex(&String::from_utf8_lossy(request));
    match claim(db, scope, key, &hash).await {
        Ok(Claim::Mine) => {}
        Ok(Claim::Replay(response)) => return response,
        Err(e) => return e.into_response(),
    }
    let result = create().await;
    let stored = match &result {
        // Transient refusals are not remembered: a retry should run again.
        Err(e) if e.status == 429 || e.status >= 500 => forget(db, scope, key).await,
        Ok((status, _)) if secret => {
            remember(db, scope, key, status.as_u16(), &serde_json::json!({ SECRET_WITHHELD: true })).await
        }
        Ok((status, body)) => remember(db, scope, key, status.as_u16(), body).await,
        Err(e) => remember(db, scope, key, e.status, &e.to_json()).await,
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "could not record idempotency key");
    }
    respond(result)
}

enum Claim {
    Mine,
    Replay(Response),
}

async fn claim(db: &Db, scope: &str, key: &str, hash: &str) -> Result<Claim, AppError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at) VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(now())
    .execute(&db.pool)
    .await;
    match inserted {
        Ok(_) => return Ok(Claim::Mine),
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let row = sqlx::query(
        "SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_one(&db.pool)
    .await?;
    let stored_hash: String = row.try_get("request_hash")?;
    let status: i64 = row.try_get("status")?;
    if stored_hash != hash {
        return Err(AppError::new(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request.",
        ));
    }
    if status == 0 {
        let started: i64 = row.try_get("created_at")?;
        if now() - started > ABANDONED_AFTER_SECS {
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND key = $3 AND status = 0 AND created_at = $4",
            )
            .bind(now())
            .bind(scope)
            .bind(key)
            .bind(started)
            .execute(&db.pool)
            .await?;
            if taken.rows_affected() == 1 {
                return Ok(Claim::Mine);
            }
        }
        return Err(AppError::conflict(
            "request_in_progress",
            "A request with this Idempotency-Key is still being processed.",
        ));
    }
    let body: Option<String> = row.try_get("response")?;
    let body: serde_json::Value = body.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or_default();
    if body.get(SECRET_WITHHELD).is_some() {
        return Err(AppError::conflict(
            "already_created",
            "This request already succeeded, and what it created holds a secret that is shown only once. \
             Revoke it and send a new request if you lost it.",
        ));
    }
    let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert("idempotent-replayed", http::HeaderValue::from_static("true"));
    Ok(Claim::Replay(response))
}

async fn remember(db: &Db, scope: &str, key: &str, status: u16, body: &serde_json::Value) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE idempotency_keys SET status = $1, response = $2 WHERE scope = $3 AND key = $4")
        .bind(i64::from(status))
        .bind(body.to_string())
        .bind(scope)
        .bind(key)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

async fn forget(db: &Db, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

/// Forgets keys older than [`KEEP_SECS`] (hourly sweep); returns how many.
pub async fn prune(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(now - KEEP_SECS)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

fn respond(result: Result<(StatusCode, serde_json::Value), AppError>) -> Response {
    match result {
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}
