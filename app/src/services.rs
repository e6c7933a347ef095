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
    /// The private-address rule every outbound connection obeys (see [`crate::outbound`]).
    pub outbound: crate::outbound::OutboundPolicy,
    /// How many tickets a customer may open an hour.
    pub ticket_limits: crate::tickets::quota::TicketLimits,
    /// The Discord application (interactions, commands, replies back).
    pub discord: Arc<crate::discord::DiscordConfig>,
}

/// The client's address: the socket's peer, or behind a trusted proxy the client it names (see
/// [`crate::client_address`]). The server works it out once per request and puts it in the request's
/// extensions.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// The caller as the write limiter verified them (`None`: no live credential), left in the request so the
/// handler does not look the credential up again.
#[derive(Clone, Debug)]
pub struct VerifiedCaller(pub Option<crate::accounts::User>);

/// The services, from the server-function context.
pub fn services() -> crate::error::AppResult<Services> {
    leptos::prelude::use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the server-function context");
        crate::error::AppError::internal()
    })
}

/// The caller's address in a server function: the [`ClientIp`] the server put in the request leptos hands
/// over (server functions are routed by leptos itself, so nothing else can put it in their context).
pub fn client_ip() -> IpAddr {
    use leptos::prelude::use_context;
    use_context::<ClientIp>()
        .or_else(|| use_context::<http::request::Parts>()?.extensions.get::<ClientIp>().copied())
        .map(|c| c.0)
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}
