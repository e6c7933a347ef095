//! Account safety: changing the password, resetting a forgotten one by email, and signing out everywhere.
//!
//! Each change ends the sessions an attacker could be holding, tells the account's live streams to check
//! their credential again, and mails the owner, in one transaction.

use super::service::{auth_changed, dummy_hash, hash_password, random_hex, sha256_hex, verify_password};
use super::{check_password, is_reset_token, normalize_email, store, User, RESET_LINK_MINUTES};
use crate::client_address::limit_key;
use crate::db::now;
use crate::error::{AppError, AppResult};
use crate::events;
use crate::notify::integrations::EmailMessage;
use crate::notify::outbox;
use crate::ratelimit::Limit;
use crate::services::Services;
use std::net::IpAddr;

/// What a reset request answers, whether or not the address has an account (no enumeration).
pub const RESET_REQUESTED: &str =
    "If an account uses this address, we sent it a link to choose a new password. The link works once, for 30 minutes.";

/// Changes the signed-in user's password after checking the current one. Every other session ends (the one
/// making the change, `keep_session`, stays); outstanding reset links stop working; the owner gets an email.
pub async fn change_password(
    services: &Services,
    user: &User,
    current: &str,
    new: String,
    keep_session: Option<&str>,
) -> AppResult<()> {
    // Guessing the current password from a stolen session is as limited as guessing it at sign-in.
    services.limits.check(Limit::SignIn, &format!("user:{}", user.id)).await?;
    let stored = store::password_hash(&services.db, user.id).await?.ok_or_else(AppError::unauthorized)?;
    if current.is_empty()
        || current.chars().count() > super::PASSWORD_MAX
        || !verify_password(current.to_string(), stored).await
    {
        return Err(AppError::invalid_field("current_password", "That is not your current password."));
    }
    check_password(&new, &user.email).map_err(|m| AppError::invalid_field("new_password", m))?;
    if new == current {
        return Err(AppError::invalid_field("new_password", "Choose a password other than the current one."));
    }
    let hash = hash_password(new).await?;
    let at = now();
    let mut tx = services.db.begin_write().await?;
    store::update_password_hash(&mut *tx, user.id, &hash).await?;
    store::delete_sessions_except(&mut *tx, user.id, keep_session.map(sha256_hex).as_deref()).await?;
    store::delete_password_resets(&mut *tx, user.id).await?;
    let event = auth_changed(&mut tx, user.id).await?;
    let notice = security_mail(
        user,
        "account.password_changed",
        "Your Supportal password was changed",
        "Your Supportal password was just changed, and every other device was signed out. If this was not \
         you, reset your password now from the sign-in page and tell your support team.",
        Some("/forgot-password".into()),
    );
    outbox::queue_email(&mut tx, user.id, &notice, &format!("email:password_changed:{}:{at}", user.id)).await?;
    tx.commit().await?;
    events::after_commit(&services.db, &services.events, vec![event]);
    outbox::wake();
    Ok(())
}

/// Ends every session of the user, the caller's own included. API tokens stay (they are listed, and revoked,
/// one by one). Returns how many sessions ended.
pub async fn sign_out_everywhere(services: &Services, user: &User) -> AppResult<u64> {
    let mut tx = services.db.begin_write().await?;
    let ended = store::delete_sessions_except(&mut *tx, user.id, None).await?;
    let event = auth_changed(&mut tx, user.id).await?;
    tx.commit().await?;
    events::after_commit(&services.db, &services.events, vec![event]);
    Ok(ended)
}

/// Someone asks for a reset link. The answer is the same whether the address has an account or not; only an
/// existing account gets an email, and no account gets more than a few an hour.
pub async fn request_reset(services: &Services, ip: IpAddr, raw_email: &str) -> AppResult<&'static str> {
    let email = normalize_email(raw_email).map_err(|m| AppError::invalid_field("email", m))?;
    services.limits.check(Limit::PasswordReset, &limit_key(ip)).await?;
    let Some(user) = store::user_by_email(&services.db, &email).await? else {
        return Ok(RESET_REQUESTED);
    };
    // Over the account's budget: answered like any other request, so the limit does not tell who exists.
    if services.limits.check(Limit::PasswordReset, &format!("account:{}", user.id)).await.is_err() {
        return Ok(RESET_REQUESTED);
    }
    let token = random_hex(32);
    let mut tx = services.db.begin_write().await?;
    store::insert_password_reset(&mut *tx, &sha256_hex(&token), user.id, now() + RESET_LINK_MINUTES * 60).await?;
    let mail = security_mail(
        &user,
        "account.password_reset",
        "Choose a new password",
        "Someone (we hope you) asked to reset the password of your Supportal account. Open the link below to \
         choose a new one: it works once, for 30 minutes. If you did not ask, ignore this email; your password \
         stays as it is.",
        Some(format!("/reset-password?token={token}")),
    );
    outbox::queue_email(&mut tx, user.id, &mail, &format!("email:password_reset:{}", sha256_hex(&token))).await?;
    tx.commit().await?;
    outbox::wake();
    Ok(RESET_REQUESTED)
}

/// Whether a reset link can still be used: the page asks before showing the form.
pub async fn reset_link_usable(services: &Services, token: &str) -> AppResult<bool> {
    if !is_reset_token(token) {
        return Ok(false);
    }
    Ok(store::password_reset_owner(&services.db, &sha256_hex(token)).await?.is_some())
}

/// Sets a new password with a reset link. The link is used up; every session of the account ends (whoever
/// knew the old password is out); the other links stop working; the owner is told. Returns the user, so
/// the page can sign them in.
pub async fn complete_reset(services: &Services, ip: IpAddr, token: &str, new: String) -> AppResult<User> {
    services.limits.check(Limit::SignInAddress, &limit_key(ip)).await?;
    let expired = || AppError::invalid_field("token", "This link has expired or was already used. Ask for a new one.");
    if !is_reset_token(token) {
        // Same cost as a real attempt, so probing for live tokens learns nothing from timing.
        verify_password(new, dummy_hash().await.to_string()).await;
        return Err(expired());
    }
    let hash_of_token = sha256_hex(token);
    let Some(owner) = store::password_reset_owner(&services.db, &hash_of_token).await? else {
        return Err(expired());
    };
    let user = store::user_by_id(&services.db, owner).await?.ok_or_else(expired)?;
    check_password(&new, &user.email).map_err(|m| AppError::invalid_field("new_password", m))?;
    // Hashed before the transaction: argon2 takes a while, and SQLite has one writer.
    let hash = hash_password(new).await?;
    let mut tx = services.db.begin_write().await?;
    // Taken in one statement: of two tabs racing with the same link, one wins.
    let user_id = match store::take_password_reset(&mut *tx, &hash_of_token).await? {
        Some(id) if id == user.id => id,
        _ => return Err(expired()),
    };
    store::update_password_hash(&mut *tx, user_id, &hash).await?;
    store::delete_sessions_except(&mut *tx, user_id, None).await?;
    store::delete_password_resets(&mut *tx, user_id).await?;
    let event = auth_changed(&mut tx, user_id).await?;
    let at = now();
    let notice = security_mail(
        &user,
        "account.password_changed",
        "Your Supportal password was reset",
        "Your Supportal password was just reset with a link sent to this address, and every device was \
         signed out. If this was not you, reset it again and tell your support team.",
        Some("/forgot-password".into()),
    );
    outbox::queue_email(&mut tx, user_id, &notice, &format!("email:password_changed:{user_id}:{at}")).await?;
    tx.commit().await?;
    events::after_commit(&services.db, &services.events, vec![event]);
    outbox::wake();
    Ok(user)
}

fn security_mail(user: &User, kind: &str, subject: &str, text: &str, path: Option<String>) -> EmailMessage {
    EmailMessage {
        to: user.email.clone(),
        name: user.name.clone(),
        kind: kind.into(),
        text: text.into(),
        path,
        invite: None,
        ics: None,
        subject: Some(subject.into()),
    }
}
