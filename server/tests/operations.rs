#![recursion_limit = "256"]
//! Health, readiness, metrics, pages and HTTP hardening, on SQLite and PostgreSQL.

mod common;

use common::{call, TestApp};
use http::{Method, StatusCode};

async fn health_readiness_and_metrics(app: TestApp) {
    let r = app.send(call(Method::GET, "/healthz")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let r = app.send(call(Method::GET, "/readyz")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["database"], "ok");
    let r = app.send(call(Method::GET, "/metrics")).await;
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(
        r.text.contains("supportal_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"),
        "{}",
        r.text
    );
    assert!(r.text.contains("supportal_http_request_duration_seconds_bucket"));
    assert!(r.text.contains("supportal_db_pool_connections"));
    app.state.services.db.pool.close().await;
    let r = app.send(call(Method::GET, "/readyz")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

async fn pages_render_with_security_headers(app: TestApp) {
    let r = app.send(call(Method::GET, "/")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Support that keeps its promises"), "{}", r.text);
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-"), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(r.text.contains(&format!("nonce=\"{nonce}\"")), "inline scripts carry the nonce");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("referrer-policy"), Some("strict-origin-when-cross-origin"));

    let r = app.send(call(Method::GET, "/signin")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<label for=\"email\""));

    let r = app.send(call(Method::GET, "/no-such-page")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("Page not found"));

    let r = app.send(call(Method::GET, "/api/v1/me")).await;
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("content-security-policy").unwrap().contains("default-src 'none'"));
}

async fn signed_in_pages_show_the_user(app: TestApp) {
    app.register("page@example.com", "Paige Turner").await;
    let session = app.sign_in("page@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/").cookie(&session)).await;
    assert!(r.text.contains("Hello, "), "{}", r.text);
    assert!(r.text.contains("Paige"));
    let r = app.send(call(Method::GET, "/admin/users").cookie(&session)).await;
    assert!(r.text.contains("Not available to you"));
}

async fn openapi_describes_the_api(app: TestApp) {
    let r = app.send(call(Method::GET, "/api/v1/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/auth/register",
        "/auth/tokens",
        "/me",
        "/users",
        "/users/{id}",
        "/tickets",
        "/tickets/{id}",
        "/tickets/{id}/messages",
        "/tickets/{id}/escalations",
        "/tickets/{id}/history",
        "/queue",
        "/events",
        "/sla/policies",
        "/sla/preview",
        "/hours",
        "/hours/holidays",
        "/webhooks",
        "/webhooks/{id}",
        "/webhooks/{id}/test",
        "/webhooks/{id}/deliveries",
        "/integrations/discord",
        "/integrations/discord/test",
        "/integrations/discord/deliveries",
        "/integrations/email/test",
        "/me/email-preferences",
        "/articles",
        "/articles/{slug}",
        "/articles/{slug}/helpful",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

async fn responses_are_compressed(app: TestApp) {
    let r = app.send(call(Method::GET, "/").header("accept-encoding", "br")).await;
    assert_eq!(r.header("content-encoding"), Some("br"));
    let r = app.send(call(Method::GET, "/api/v1/openapi.json").header("accept-encoding", "gzip")).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
}

both!(
    health_readiness_and_metrics,
    pages_render_with_security_headers,
    signed_in_pages_show_the_user,
    openapi_describes_the_api,
    responses_are_compressed,
);
