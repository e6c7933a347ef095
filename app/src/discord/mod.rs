//! Discord as a way in: customers use slash commands in the support server (Discord's HTTP Interactions
//! endpoint, `POST /api/v1/discord/interactions`), link their Discord account to their portal account,
//! open tickets, see their SLA clocks, book calls and vote on feature requests; agent replies go back.
//! Pure rules in [`rules`], database and HTTP in [`service`], the pages in [`pages`].

use serde::{Deserialize, Serialize};

pub mod pages;
#[cfg(feature = "ssr")]
pub mod rules;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;

/// The outbox event of an agent reply going back to a Discord user.
pub const REPLY_EVENT: &str = "discord.reply";

/// How long a `/link` link works.
pub const LINK_TTL_SECS: i64 = 15 * 60;

/// What the link page shows before the customer confirms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOffer {
    /// The Discord name the link was made for.
    pub discord_name: String,
    /// Unix seconds the link stops working.
    pub expires_at: i64,
    /// The Discord name already linked to this account, if any (linking again replaces nothing: refused).
    pub already_linked_as: Option<String>,
}

/// The settings state the managers' page shows (never the bot token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordState {
    /// What to paste as "Interactions Endpoint URL" in Discord's developer portal.
    pub interactions_url: String,
    pub public_key_set: bool,
    pub application_id: Option<String>,
    pub bot_token_set: bool,
    pub api_base: String,
    pub linked_accounts: i64,
    pub tickets_from_discord: i64,
    /// Channel name → category (the plan's channels first, then the managers' own).
    pub channels: Vec<ChannelMapping>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMapping {
    pub channel: String,
    pub category: String,
    /// Saved by a manager (else the plan's default).
    pub custom: bool,
}

/// The signed-in customer's Discord link, on the account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLink {
    pub discord_name: String,
    /// Agent replies are sent to them on Discord.
    pub replies: bool,
}

/// How a ticket came in from Discord (shown as "via Discord" on the ticket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordOrigin {
    pub source: String,
    pub channel_name: Option<String>,
    pub message_url: Option<String>,
}

/// The Discord side's settings: the application's public key (requests are verified with it), its id and
/// bot token (for registering commands and posting replies), and where Discord's REST API is.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct DiscordConfig {
    pub public_key: Option<ed25519_dalek::VerifyingKey>,
    pub application_id: Option<String>,
    pub bot_token: Option<String>,
    /// `https://discord.com/api/v10`; tests point it at a fake on loopback.
    pub api_base: String,
}

#[cfg(feature = "ssr")]
pub const DEFAULT_API_BASE: &str = "https://discord.com/api/v10";

#[cfg(feature = "ssr")]
impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig { public_key: None, application_id: None, bot_token: None, api_base: DEFAULT_API_BASE.into() }
    }
}

#[cfg(feature = "ssr")]
impl std::fmt::Debug for DiscordConfig {
    // The bot token is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("public_key", &self.public_key.map(|k| hex::encode(k.to_bytes())))
            .field("application_id", &self.application_id)
            .field("bot_token", &self.bot_token.as_ref().map(|_| "…"))
            .field("api_base", &self.api_base)
            .finish()
    }
}
