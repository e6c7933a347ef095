#![recursion_limit = "256"]

//! The Supportal server: router, REST API, HTTP hardening, operations endpoints.

pub mod api;
pub mod assets;
pub mod config;
pub mod demo;
pub mod demo_metrics;
pub mod guard;
pub mod metrics;

use app::services::{ClientIp, Services};
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    pub metrics: Arc<metrics::Metrics>,
    /// Origins allowed to send state-changing browser requests besides the Host itself.
    pub trusted_origins: Arc<Vec<String>>,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` name the client (`SUPPORTAL_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// `/metrics` on the main listener (false when `SUPPORTAL_METRICS_BIND` gives it one of its own).
    pub metrics_on_main: bool,
    /// Live event streams open on this instance, per user.
    pub open_streams: Arc<api::events::OpenStreams>,
    /// STUN and TURN servers for video in the call room (none by default).
    pub ice: Arc<app::booking::signal::IceConfig>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(services: Services, leptos_options: LeptosOptions, public_url: Option<String>) -> Self {
        AppState {
            services,
            leptos_options,
            metrics: Arc::new(metrics::Metrics::default()),
            trusted_origins: Arc::new(public_url.into_iter().collect()),
            trusted_proxies: Arc::new(Vec::new()),
            metrics_on_main: true,
            open_streams: Arc::default(),
            ice: Arc::new(app::booking::signal::IceConfig {
                turn_ttl_secs: app::booking::signal::DEFAULT_TURN_TTL_SECS,
                ..Default::default()
            }),
        }
    }

    /// The call room's STUN and TURN servers.
    pub fn with_ice(mut self, ice: app::booking::signal::IceConfig) -> Self {
        self.ice = Arc::new(ice);
        self
    }

    /// `/metrics` asks for this bearer token; with `separate`, it moves off the main listener.
    pub fn with_metrics(mut self, token: Option<String>, separate: bool) -> Self {
        self.metrics = Arc::new(metrics::Metrics::new(token));
        self.metrics_on_main = !separate;
        self
    }

    /// Trusts `Forwarded` / `X-Forwarded-For` from these proxies.
    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }
}

/// The client's address ([`guard::client_address`] worked it out for this request).
pub fn client_ip(req: &Request) -> IpAddr {
    req.extensions().get::<ClientIp>().map(|c| c.0).unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// Small writes go out at once: a streamed page is written in pieces, and with Nagle's algorithm each piece
/// after the first waited for the browser's delayed ACK (a flat ~40 ms on every server-rendered page).
pub fn no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
}

/// Looks up who sent a page or server-function request, once, before anything renders: the page gets its
/// user synchronously (no suspense around every signed-in page, no second fetch in the browser) and every
/// server function the page runs shares the answer instead of reading the session again.
async fn load_request_user(State(state): State<AppState>, mut req: Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    let has_pages_or_rpc = !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg"));
    if has_pages_or_rpc {
        // A write was already verified by the write limiter: the same answer, without a second lookup.
        let user = match req.extensions().get::<app::services::VerifiedCaller>() {
            Some(verified) => Ok(verified.0.clone()),
            None => {
                app::accounts::service::user_from_headers(
                    &state.services.db,
                    req.headers(),
                    state.services.secure_cookies,
                )
                .await
            }
        };
        req.extensions_mut().insert(app::accounts::service::RequestUser(user));
    }
    next.run(req).await
}

/// Only reached for names no server function has (leptos routes the real ones itself, with the render
/// context); answers with the usual error.
async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let services = state.services.clone();
    leptos_axum::handle_server_fns_with_context(move || provide_context(services.clone()), req).await
}

/// For `/rpc/…` only: see [`with_error_status`].
async fn rpc_error_status(req: Request, next: axum::middleware::Next) -> Response {
    let rpc = req.uri().path().starts_with("/rpc/");
    let response = next.run(req).await;
    if rpc {
        with_error_status(response).await
    } else {
        response
    }
}

/// Server functions answer every error with 500; the body is our `AppError` with its real status (422, 403…).
/// Send that status instead, so logs, metrics and proxies do not count a refused form as a server fault.
/// (The browser client decodes the error from any 4xx/5xx alike.)
async fn with_error_status(response: Response) -> Response {
    if response.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return app::error::AppError::internal().into_response();
    };
    let status = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("status")?.as_u64())
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| (400..=599).contains(code))
        .and_then(|code| http::StatusCode::from_u16(code).ok());
    if let Some(status) = status {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The whole application: pages, server functions, REST API, operations endpoints.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let services = state.services.clone();
    let render_context = move || provide_context(services.clone());
    let options = state.leptos_options.clone();
    let shell = move || app::shell(options.clone());
    let fallback = leptos_axum::file_and_error_handler_with_context::<AppState, _>(render_context.clone(), app::shell);

    let mut router = Router::new()
        .nest("/api/v1", api::router())
        .route("/rpc/{*fn_name}", get(server_fn_handler).post(server_fn_handler))
        .route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz));
    if state.metrics_on_main {
        router = router.route("/metrics", get(metrics::prometheus));
    }
    router
        .leptos_routes_with_context(&state, routes, render_context, shell)
        .merge(assets::pkg_router(std::path::Path::new(&*state.leptos_options.site_root)))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), load_request_user))
        .layer(axum::middleware::from_fn(rpc_error_status))
        .layer(axum::middleware::from_fn(guard::run_to_completion))
        .layer(axum::middleware::from_fn(guard::refuse_control_characters))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::rate_limit_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::same_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::client_address))
        .layer(guard::body_limit())
        .layer(axum::middleware::from_fn(assets::html_no_cache))
        .layer(tower_http::compression::CompressionLayer::new().compress_when(assets::DynamicOnly::new()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::security_headers))
        .with_state(state)
}

/// Turns any error response into the API's JSON error shape (used by fallbacks).
pub fn json_error(error: app::error::AppError) -> Response {
    error.into_response()
}
