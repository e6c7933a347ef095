//! Request guards every route goes through: same-origin check (CSRF), write
//! rate limits, body size limit, security headers.

use crate::AppState;
use app::error::AppError;
use app::ratelimit::Limit;
use app::services::{ClientIp, VerifiedCaller};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method};
use std::net::{IpAddr, SocketAddr};

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
    // Discord's servers call the interactions endpoint; it carries no ambient credential and is
    // authenticated by its Ed25519 signature instead.
    let from_discord = req.uri().path() == crate::api::discord::INTERACTIONS_PATH;
    if is_safe(req.method()) || from_discord || origin_allowed(req.headers(), &state.trusted_origins) {
        return next.run(req).await;
    }
    AppError::new(403, "cross_origin_request", "This request came from another site and was refused.").into_response()
}

/// Works out the client's address once (see [`app::client_address`]) and leaves it in the request's
/// extensions, where everything after reads it.
pub async fn client_address(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer =
        req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let client = app::client_address::client_address(peer, req.headers(), &state.trusted_proxies);
    req.extensions_mut().insert(ClientIp(client));
    next.run(req).await
}

/// Every write counts against a per-caller budget: the verified user if the credential is a live one, else
/// the client address (a made-up cookie or token earns no budget of its own). The user found is left in the
/// request for the handler, so the credential is looked up once.
pub async fn rate_limit_writes(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let user = match app::accounts::service::user_from_headers(
        &state.services.db,
        req.headers(),
        state.services.secure_cookies,
    )
    .await
    {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let key = match &user {
        Some(user) => format!("user:{}", user.id),
        None => format!("addr:{}", app::client_address::limit_key(crate::client_ip(&req))),
    };
    req.extensions_mut().insert(VerifiedCaller(user));
    match state.services.limits.check(Limit::Writes, &key).await {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The text rule (see [`app::error::has_control_characters`]) for what the API's JSON extractor does not see:
/// every query string (API filters, page searches a server-rendered page runs) and the form or JSON
/// arguments of server functions. Refused with 422 naming the field, before anything reaches the database.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let rpc = req.uri().path().starts_with("/rpc/");
    if let Some(field) = req.uri().query().and_then(|q| control_in_form(q.as_bytes())) {
        return text_refused(&field, rpc);
    }
    if !rpc || is_safe(req.method()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return AppError::new(413, "payload_too_large", "The request is too large.").into_response();
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let field = if content_type.starts_with("application/x-www-form-urlencoded") {
        control_in_form(&bytes)
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|value| crate::api::check_json_text(&value).err())
            .and_then(|e| e.fields.into_keys().next())
    } else {
        None
    };
    if let Some(field) = field {
        return text_refused(&field, true);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// The first form field (name as the UI knows it: `new[subject]` → `subject`) holding a control character.
fn control_in_form(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded).find_map(|(name, value)| {
        (app::error::has_control_characters(&name) || app::error::has_control_characters(&value)).then(|| {
            let name = name.trim_end_matches(']');
            let name = name.rsplit('[').next().unwrap_or(name);
            app::error::strip_control_characters(name).into_owned()
        })
    })
}

/// Server functions decode our error type itself; the REST API and pages get the API's error shape.
fn text_refused(field: &str, rpc: bool) -> Response {
    let error = crate::api::control_characters(if field.is_empty() { "query" } else { field });
    if rpc {
        let status = http::StatusCode::UNPROCESSABLE_ENTITY;
        (status, axum::Json(serde_json::to_value(&error).unwrap_or_default())).into_response()
    } else {
        error.into_response()
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

/// HSTS for a year once the portal is served over HTTPS (its public URL says so): browsers then never try
/// plain HTTP again, so nothing can strip TLS on the way.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    if state.services.secure_cookies {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    let defaults: [(header::HeaderName, &str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "geolocation=(), camera=(self), microphone=(self), display-capture=(self)",
        ),
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
