//! Server functions behind the Discord pages (the link page and the managers' page). Same service as the
//! interactions endpoint, so the rules are the same on both paths.

use super::{ChannelMapping, DiscordState, LinkOffer};
use crate::error::AppError;
use leptos::prelude::*;

/// What a `/link` link is for; 410 when it has expired or was used, 401 when signed out.
#[server(prefix = "/rpc", endpoint = "discord_link_offer")]
pub async fn discord_link_offer(token: String) -> Result<LinkOffer, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::service::link_offer(&s.db, &user, &token).await
}

/// Links the Discord account of the link to the signed-in account; returns the Discord name.
#[server(prefix = "/rpc", endpoint = "discord_confirm_link")]
pub async fn discord_confirm_link(token: String) -> Result<String, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::service::confirm_link(&s.db, &user, &token).await
}

/// The Discord name linked to the signed-in account.
#[server(prefix = "/rpc", endpoint = "discord_linked_name")]
pub async fn discord_linked_name() -> Result<Option<String>, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::service::linked_name(&s.db, user.id).await
}

/// The signed-in account's Discord link and reply choice.
#[server(prefix = "/rpc", endpoint = "discord_account")]
pub async fn discord_account() -> Result<Option<super::AccountLink>, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::service::account_link(&s.db, user.id).await
}

/// Turns agent replies on Discord on or off (a checkbox: absent means off).
#[server(prefix = "/rpc", endpoint = "discord_set_replies")]
pub async fn discord_set_replies(
    #[server(default)] replies: Option<String>,
) -> Result<Option<super::AccountLink>, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::service::set_replies(&s.db, &user, replies.is_some()).await
}

#[server(prefix = "/rpc", endpoint = "discord_unlink")]
pub async fn discord_unlink() -> Result<(), AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::service::unlink(&s.db, &user).await
}

/// The Discord settings state for managers.
#[server(prefix = "/rpc", endpoint = "discord_state")]
pub async fn load_discord_state() -> Result<DiscordState, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    super::service::state(&s.db, &s.discord, &s.outbox.base_url).await
}

/// Registers the commands with Discord; returns how many Discord has now.
#[server(prefix = "/rpc", endpoint = "discord_register_commands")]
pub async fn discord_register_commands() -> Result<usize, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    super::service::register_commands(&s, &s.discord, &user).await
}

/// Sets a channel's category; an empty category goes back to the plan's default.
#[server(prefix = "/rpc", endpoint = "discord_save_channel")]
pub async fn discord_save_channel(channel: String, category: String) -> Result<Vec<ChannelMapping>, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    super::service::save_mapping(&s.db, &user, &channel, Some(category.as_str())).await
}

/// How a ticket came in from Discord, for whoever may see the ticket (`None`: not from Discord).
#[server(prefix = "/rpc", endpoint = "discord_origin")]
pub async fn discord_origin(ticket_id: i64) -> Result<Option<super::DiscordOrigin>, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    crate::tickets::service::visible_row(&s.db, &user, ticket_id).await?;
    super::service::origin(&s.db, ticket_id).await
}
