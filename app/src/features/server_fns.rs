//! Server functions behind the feature pages; same service and rules as the REST API.

use super::{Comment, Feature, FeatureDetail, Roadmap};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::accounts::server_fns::ssr::signed_in as caller;

/// Whoever is asking, signed in or not: the board is public to read.
#[cfg(feature = "ssr")]
async fn reader() -> Result<(crate::services::Services, Option<crate::accounts::User>), AppError> {
    let s = crate::services::services()?;
    let user = crate::accounts::server_fns::ssr::request_user(&s).await?;
    Ok((s, user))
}

/// How many requests the board shows.
pub const BOARD_SIZE: i64 = 100;

#[cfg(feature = "ssr")]
fn optional<T: std::str::FromStr<Err = String>>(raw: &str, field: &str) -> Result<Option<T>, AppError> {
    match raw.trim() {
        "" | "all" => Ok(None),
        v => v.parse().map(Some).map_err(|m| AppError::invalid_field(field, m)),
    }
}

/// The board: `sort` top|trending|new, `status` a status or "" for all, `q` words to look for.
#[server(prefix = "/rpc", endpoint = "list_features")]
pub async fn list_features(sort: String, status: String, q: String) -> Result<Vec<Feature>, AppError> {
    let (s, user) = reader().await?;
    let filter = super::FeatureFilter {
        sort: optional(&sort, "sort")?,
        status: optional(&status, "status")?,
        q: Some(q.chars().take(200).collect()),
    };
    super::service::list(&s.db, user.as_ref(), &filter, 0, BOARD_SIZE).await
}

/// Existing requests like the title being typed.
#[server(prefix = "/rpc", endpoint = "similar_features")]
pub async fn similar_features(title: String) -> Result<Vec<Feature>, AppError> {
    let (s, user) = reader().await?;
    let title: String = title.chars().take(super::TITLE_MAX).collect();
    super::service::similar(&s.db, user.as_ref(), &title).await
}

#[server(prefix = "/rpc", endpoint = "create_feature")]
pub async fn create_feature(title: String, body: String) -> Result<Feature, AppError> {
    let (s, user) = caller().await?;
    let new = super::NewFeatureInput { title, body }.validate()?;
    super::service::check_post_rate(&s.limits, &user).await?;
    super::service::create(&s.db, &s.events, &user, new).await
}

#[server(prefix = "/rpc", endpoint = "get_feature")]
pub async fn get_feature(id: i64) -> Result<FeatureDetail, AppError> {
    let (s, user) = reader().await?;
    super::service::detail(&s.db, user.as_ref(), id).await
}

#[server(prefix = "/rpc", endpoint = "vote_feature")]
pub async fn vote_feature(id: i64, vote: bool) -> Result<Feature, AppError> {
    let (s, user) = caller().await?;
    super::service::vote(&s.db, &s.events, &user, id, vote).await
}

#[server(prefix = "/rpc", endpoint = "comment_feature")]
pub async fn comment_feature(id: i64, body: String) -> Result<Comment, AppError> {
    let (s, user) = caller().await?;
    super::service::add_comment(&s.db, &s.events, &user, id, &body).await
}

#[server(prefix = "/rpc", endpoint = "set_feature_status")]
pub async fn set_feature_status(id: i64, status: String, note: String) -> Result<Feature, AppError> {
    let (s, user) = caller().await?;
    let status = status.parse().map_err(|m: String| AppError::invalid_field("status", m))?;
    let change = super::StatusChange { status, note: Some(note) };
    super::service::set_status(&s.db, &s.events, &user, id, &change).await
}

#[server(prefix = "/rpc", endpoint = "merge_feature")]
pub async fn merge_feature(id: i64, into_id: String) -> Result<Feature, AppError> {
    let (s, user) = caller().await?;
    let into_id = into_id
        .trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .map_err(|_| AppError::invalid_field("into_id", "Choose the request to keep."))?;
    super::service::merge(&s.db, &s.events, &user, id, into_id).await
}

#[server(prefix = "/rpc", endpoint = "roadmap")]
pub async fn get_roadmap() -> Result<Roadmap, AppError> {
    let (s, user) = reader().await?;
    super::service::roadmap(&s.db, user.as_ref()).await
}

/// The request a ticket became, if any.
#[server(prefix = "/rpc", endpoint = "ticket_feature")]
pub async fn ticket_feature(ticket_id: i64) -> Result<Option<Feature>, AppError> {
    let (s, user) = caller().await?;
    super::service::for_ticket(&s.db, &user, ticket_id).await
}

/// Agents: post a public feature request for the ticket, with the public title and description they reviewed.
#[server(prefix = "/rpc", endpoint = "ticket_to_feature")]
pub async fn ticket_to_feature(ticket_id: i64, title: String, body: String) -> Result<Feature, AppError> {
    let (s, user) = caller().await?;
    super::service::from_ticket(&s.db, &s.events, &user, ticket_id, super::NewFeatureInput { title, body }).await
}
