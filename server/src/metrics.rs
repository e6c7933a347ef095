//! Operations endpoints: liveness, readiness and Prometheus metrics.
//!
//! Requests are counted by the *route template* (`/api/v1/tickets/{id}`, from axum's `MatchedPath`), never
//! by the raw path: unmatched paths share one label and unknown methods another, so no request can add a
//! series. The series are kept by `metrics-exporter-prometheus`, one recorder per application (not a
//! process-wide global, so two portals in one process — the tests — count apart).

use crate::AppState;
use ::metrics::{Key, Label, Recorder};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::Arc;
use std::time::Instant;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const REQUESTS: &str = "supportal_http_requests_total";
const DURATION: &str = "supportal_http_request_duration_seconds";
static METADATA: ::metrics::Metadata<'static> =
    ::metrics::Metadata::new(module_path!(), ::metrics::Level::INFO, Some(module_path!()));

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// `SUPPORTAL_METRICS_TOKEN`: when set, `/metrics` wants `Authorization: Bearer <token>`.
    token: Option<String>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("token", &self.token.as_ref().map(|_| "***")).finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    pub fn new(token: Option<String>) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &BUCKETS)
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        Metrics { recorder, handle, token }
    }

    pub fn observe(&self, method: &'static str, route: String, status: u16, seconds: f64) {
        let labels = vec![Label::new("method", method), Label::new("route", route.clone())];
        let mut counted = labels.clone();
        counted.push(Label::new("status", status.to_string()));
        self.recorder.register_counter(&Key::from_parts(REQUESTS, counted), &METADATA).increment(1);
        self.recorder.register_histogram(&Key::from_parts(DURATION, labels), &METADATA).record(seconds);
    }

    pub fn render(&self, pool_size: u32, pool_idle: usize) -> String {
        let gauge = |name: &'static str, value: f64| {
            self.recorder.register_gauge(&Key::from_name(name), &METADATA).set(value);
        };
        gauge("supportal_db_pool_connections", f64::from(pool_size));
        gauge("supportal_db_pool_idle_connections", pool_idle as f64);
        self.handle.render()
    }

    /// Folds pending histogram samples into the series (the exporter's periodic upkeep).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    fn allows(&self, headers: &http::HeaderMap) -> bool {
        let Some(expected) = &self.token else { return true };
        let given = app::accounts::service::bearer_from(headers).unwrap_or_default();
        // Compare digests, so the time taken says nothing about how much of the token was right.
        app::accounts::service::sha256_hex(given) == app::accounts::service::sha256_hex(expected)
    }
}

/// A method as a label: the standard ones, everything else one bucket.
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// A route as a label: the template it matched; built assets and server functions by family; anything
/// unmatched (the fallback: unknown pages, probes, junk) one label.
pub fn route_label(matched: Option<&str>, path: &str, status: u16) -> String {
    if let Some(template) = matched {
        return template.to_string();
    }
    if path.starts_with("/pkg/") && status < 400 {
        return "/pkg/*".into();
    }
    if path.starts_with("/rpc/") {
        return "/rpc/*".into();
    }
    "unmatched".into()
}

pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let path = req.uri().path().to_string();
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    state.metrics.observe(method, route_label(matched.as_deref(), &path, status), status, elapsed);
    tracing::debug!(%method, %path, status, elapsed_ms = elapsed * 1000.0, "request");
    response
}

pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.services.db.ping().await {
        Json(serde_json::json!({ "status": "ready", "database": "ok" })).into_response()
    } else {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not_ready", "database": "unreachable" })),
        )
            .into_response()
    }
}

pub async fn prometheus(State(state): State<AppState>, headers: http::HeaderMap) -> Response {
    prometheus_text(&state.metrics, &state.services.db, &headers)
}

/// The metrics text, or 401 when a token is set and not given.
pub fn prometheus_text(metrics: &Arc<Metrics>, db: &app::db::Db, headers: &http::HeaderMap) -> Response {
    if !metrics.allows(headers) {
        let mut response = app::error::AppError::unauthorized().into_response();
        response.headers_mut().insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
        return response;
    }
    let pool = &db.pool;
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(pool.size(), pool.num_idle()),
    )
        .into_response()
}

/// `/metrics` on a listener of its own (`SUPPORTAL_METRICS_BIND`), for a network only Prometheus reaches.
pub fn separate_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>, headers: http::HeaderMap| async move {
                prometheus_text(&state.metrics, &state.services.db, &headers)
            }),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(route_label(Some("/api/v1/users/{id}"), "/api/v1/users/42", 200), "/api/v1/users/{id}");
        assert_eq!(route_label(None, "/pkg/supportal.wasm", 200), "/pkg/*");
        assert_eq!(route_label(None, "/pkg/nope.wasm", 404), "unmatched");
        assert_eq!(route_label(None, "/wp-admin/xyz", 404), "unmatched");
        assert_eq!(route_label(None, "/rpc/whatever", 400), "/rpc/*");
        assert_eq!(method_label(&http::Method::from_bytes(b"BREW").unwrap()), "OTHER");
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
    }

    #[test]
    fn histogram_counts_each_bucket_cumulatively() {
        let m = Metrics::default();
        m.observe("GET", "/".into(), 200, 0.004);
        m.observe("GET", "/".into(), 200, 0.2);
        let text = m.render(3, 1);
        assert!(text.contains("supportal_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("le=\"0.25\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
        assert!(text.contains("supportal_db_pool_connections 3"), "{text}");
    }

    #[test]
    fn a_token_guards_the_text_when_set() {
        let open = Metrics::new(None);
        assert!(open.allows(&http::HeaderMap::new()));
        let guarded = Metrics::new(Some("s3cret-token".into()));
        let mut headers = http::HeaderMap::new();
        assert!(!guarded.allows(&headers));
        headers.insert(http::header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert!(!guarded.allows(&headers));
        headers.insert(http::header::AUTHORIZATION, "Bearer s3cret-token".parse().unwrap());
        assert!(guarded.allows(&headers));
    }
}
