//! Request guards every route goes through: same-origin check (CSRF), write
//! rate limits, body size limit, security headers.

use crate::AppState;
use app::error::AppError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method};
use std::time::Instant;

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `https://host:port` → `host:port`.
fn origin_authority(origin: &str) -> Option<&str> {
    origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")).map(|rest| rest.trim_end_matches('/'))
}

/// Decides whether a state-changing request may come from where it says it does.
/// Browsers send `Origin` (and `Sec-Fetch-Site`) on such requests; a request from
/// another site is refused. Calls with a bearer token carry no ambient credential
/// and pass; so do non-browser clients that send neither header.
pub fn origin_allowed(headers: &HeaderMap, trusted: &[String]) -> bool {
    if app::accounts::service::bearer_from(headers).is_some() {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        if trusted.iter().any(|t| t == origin) {
            return true;
        }
        return match (origin_authority(origin), host) {
            (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
            _ => false,
        };
    }
    !matches!(headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site" | "same-site"))
}

pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) || origin_allowed(req.headers(), &state.trusted_origins) {
        return next.run(req).await;
    }
    AppError::new(403, "cross_origin_request", "This request came from another site and was refused.").into_response()
}

/// Every write counts against a per-caller budget: the credential if there is
/// one, else the client address.
pub async fn rate_limit_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let key = app::accounts::service::bearer_from(headers)
        .map(|t| t.to_string())
        .or_else(|| app::accounts::service::session_id_from(headers))
        .map(|credential| app::accounts::service::sha256_hex(&credential))
        .unwrap_or_else(|| crate::client_ip(&req).to_string());
    match state.services.limits.writes.check(&key, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => AppError::rate_limited(app::ratelimit::retry_after_secs(wait)).into_response(),
    }
}

/// Runs every request to completion in its own task, even if the client goes
/// away: dropping a handler mid-transaction would hand a connection back to the
/// pool with its transaction still open (seen under load as requests stuck on
/// row locks and "transaction already in progress").
pub async fn run_to_completion(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "request task failed");
            AppError::internal().into_response()
        }
    }
}

/// Nothing Supportal accepts is larger than this; the API's own JSON limit is smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn body_limit() -> tower_http::limit::RequestBodyLimitLayer {
    tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES)
}

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let defaults: [(header::HeaderName, &str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (header::HeaderName::from_static("permissions-policy"), "geolocation=(), microphone=(self), camera=(self)"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        let trusted = vec!["https://help.example.com".to_string()];
        let cases: [(&[(&str, &str)], bool); 8] = [
            (&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")], true),
            (&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")], false),
            (&[("host", "127.0.0.1:3000"), ("origin", "null")], false),
            (&[("host", "internal:3000"), ("origin", "https://help.example.com")], true),
            (&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")], false),
            (&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")], true),
            (&[("host", "127.0.0.1:3000")], true),
            (&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example"), ("authorization", "Bearer sp_x")], true),
        ];
        for (pairs, allowed) in cases {
            assert_eq!(origin_allowed(&headers(pairs), &trusted), allowed, "{pairs:?}");
        }
    }
}
