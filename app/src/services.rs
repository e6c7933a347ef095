//! What the server hands to request handlers and server functions.

use crate::db::Db;
use crate::ratelimit::RateLimits;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Services {
    pub db: Db,
    pub limits: Arc<RateLimits>,
    pub events: crate::events::EventBus,
    /// Add `Secure` to cookies (the portal is served over HTTPS).
    pub secure_cookies: bool,
    /// How the outbox worker (and the "send test" buttons) reach mail servers and webhooks.
    pub outbox: Arc<crate::notify::outbox::OutboxConfig>,
}

/// The client's address, as the server saw it.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// The services, from the server-function context.
pub fn services() -> crate::error::AppResult<Services> {
    leptos::prelude::use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the server-function context");
        crate::error::AppError::internal()
    })
}

/// The caller's address in a server function: from the connection leptos hands over with the request
/// (server functions are routed by leptos itself, so nothing else can put it in their context).
pub fn client_ip() -> IpAddr {
    use leptos::prelude::use_context;
    use_context::<ClientIp>()
        .map(|c| c.0)
        .or_else(|| {
            let parts = use_context::<http::request::Parts>()?;
            let connection = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?;
            Some(connection.0.ip())
        })
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}
