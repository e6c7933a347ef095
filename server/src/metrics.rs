//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Debug)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default, Debug)]
pub struct Metrics {
    /// (method, route, status) → requests and latencies.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

/// A bounded label for a path: ids become `{id}`, unknown paths one label.
pub fn route_label(path: &str, status: u16) -> String {
    if status == 404 {
        return "unmatched".into();
    }
    if path.starts_with("/pkg/") {
        return "/pkg/*".into();
    }
    if path.starts_with("/rpc/") {
        return "/rpc/*".into();
    }
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take(5)
        .map(|s| if s.chars().all(|c| c.is_ascii_digit()) { "{id}" } else { s })
        .collect();
    format!("/{}", segments.join("/"))
}

impl Metrics {
    pub fn observe(&self, method: &str, route: String, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = series.entry((method.to_string(), route, status)).or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self, pool_size: u32, pool_idle: usize) -> String {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP supportal_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE supportal_http_requests_total counter\n");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "supportal_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP supportal_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE supportal_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((method, route, _), s) in series.iter() {
            let agg = by_route.entry((method, route)).or_default();
            agg.count += s.count;
            agg.sum_seconds += s.sum_seconds;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in by_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "supportal_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(out, "supportal_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "supportal_http_request_duration_seconds_sum{{{labels}}} {}", s.sum_seconds);
            let _ = writeln!(out, "supportal_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out.push_str("# HELP supportal_db_pool_connections Open database connections.\n");
        out.push_str("# TYPE supportal_db_pool_connections gauge\n");
        let _ = writeln!(out, "supportal_db_pool_connections {pool_size}");
        out.push_str("# HELP supportal_db_pool_idle_connections Idle database connections.\n");
        out.push_str("# TYPE supportal_db_pool_idle_connections gauge\n");
        let _ = writeln!(out, "supportal_db_pool_idle_connections {pool_idle}");
        out
    }
}

pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    state.metrics.observe(&method, route_label(&path, status), status, elapsed);
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

pub async fn prometheus(State(state): State<AppState>) -> impl IntoResponse {
    let pool = &state.services.db.pool;
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(pool.size(), pool.num_idle()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_stay_bounded() {
        assert_eq!(route_label("/api/v1/users/42", 200), "/api/v1/users/{id}");
        assert_eq!(route_label("/pkg/supportal.wasm", 200), "/pkg/*");
        assert_eq!(route_label("/wp-admin/xyz", 404), "unmatched");
        assert_eq!(route_label("/", 200), "/");
    }

    #[test]
    fn histogram_counts_each_bucket_cumulatively() {
        let m = Metrics::default();
        m.observe("GET", "/".into(), 200, 0.004);
        m.observe("GET", "/".into(), 200, 0.2);
        let text = m.render(3, 1);
        assert!(text.contains("supportal_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.25\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("supportal_db_pool_connections 3"));
    }
}
