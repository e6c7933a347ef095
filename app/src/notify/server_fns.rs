//! Server functions behind the bell and the notifications page; the same store as the REST API.

use super::Notification;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::accounts::server_fns::ssr::signed_in as caller;

/// How many notifications the page loads at a time.
pub const PAGE_SIZE: i64 = 50;

/// Unread notifications of the signed-in user.
#[server(prefix = "/rpc", endpoint = "unread_notifications")]
pub async fn unread_notifications() -> Result<i64, AppError> {
    let (s, user) = caller().await?;
    Ok(super::unread_count(&s.db, user.id).await?)
}

/// The signed-in user's notifications, newest first; `before` pages back.
#[server(prefix = "/rpc", endpoint = "my_notifications")]
pub async fn my_notifications(before: Option<i64>) -> Result<Vec<Notification>, AppError> {
    let (s, user) = caller().await?;
    Ok(super::list(&s.db, user.id, before, PAGE_SIZE).await?)
}

/// Marks the given notifications (or all, when `ids` is empty) read.
#[server(prefix = "/rpc", endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read(#[server(default)] ids: Vec<i64>) -> Result<u64, AppError> {
    let (s, user) = caller().await?;
    if ids.len() > 500 {
        return Err(AppError::invalid_field("ids", "Mark at most 500 notifications at once."));
    }
    let ids = (!ids.is_empty()).then_some(ids);
    Ok(super::mark_read(&s.db, &s.events, user.id, ids.as_deref()).await?)
}
