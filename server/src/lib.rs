#![recursion_limit = "256"]

//! The Supportal server: router, REST API, HTTP hardening, operations endpoints.

pub mod api;
pub mod config;
pub mod demo;
pub mod guard;
pub mod metrics;

use app::services::{ClientIp, Services};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRef, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    pub metrics: Arc<metrics::Metrics>,
    /// Origins allowed to send state-changing browser requests besides the Host itself.
    pub trusted_origins: Arc<Vec<String>>,
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
        }
    }
}

/// The client address from the connection (absent in in-process tests).
pub fn client_ip(req: &Request) -> IpAddr {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let ip = client_ip(&req);
    let services = state.services.clone();
    leptos_axum::handle_server_fns_with_context(
        move || {
            provide_context(services.clone());
            provide_context(ClientIp(ip));
        },
        req,
    )
    .await
}

/// The whole application: pages, server functions, REST API, operations endpoints.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let services = state.services.clone();
    let render_context = move || provide_context(services.clone());
    let options = state.leptos_options.clone();
    let shell = move || app::shell(options.clone());
    let fallback = leptos_axum::file_and_error_handler_with_context::<AppState, _>(render_context.clone(), app::shell);

    Router::new()
        .nest("/api/v1", api::router())
        .route("/rpc/{*fn_name}", get(server_fn_handler).post(server_fn_handler))
        .route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::prometheus))
        .leptos_routes_with_context(&state, routes, render_context, shell)
        .fallback(fallback)
        .layer(axum::middleware::from_fn(guard::run_to_completion))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::rate_limit_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::same_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(guard::body_limit())
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(guard::security_headers))
        .with_state(state)
}

/// Turns any error response into the API's JSON error shape (used by fallbacks).
pub fn json_error(error: app::error::AppError) -> Response {
    error.into_response()
}
