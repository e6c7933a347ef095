//! Server functions behind the account pages. They go through the same
//! service as the REST API, so the rules are the same on both paths.

use super::{ApiToken, NewApiToken, ProfilePatch, User};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::accounts::{service, User};
    use crate::error::{AppError, AppResult};
    use crate::services::{services, Services};
    use http::request::Parts;
    use leptos::prelude::*;

    pub fn request_headers() -> AppResult<http::HeaderMap> {
        use_context::<Parts>().map(|p| p.headers).ok_or_else(|| {
            tracing::error!("request parts missing from context");
            AppError::internal()
        })
    }

    pub fn set_cookie(value: String) {
        if let (Some(options), Ok(value)) =
            (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&value))
        {
            options.append_header(http::header::SET_COOKIE, value);
        }
    }

    /// The services and the signed-in caller; 401 when nobody is signed in.
    pub async fn signed_in() -> AppResult<(Services, User)> {
        let s = services()?;
        let user = request_user(&s).await?.ok_or_else(AppError::unauthorized)?;
        Ok((s, user))
    }

    /// The services and the signed-in caller if they are a manager; 401 / 403 otherwise.
    pub async fn signed_in_manager() -> AppResult<(Services, User)> {
        let (s, user) = signed_in().await?;
        if !user.role.is_manager() {
            return Err(AppError::forbidden());
        }
        Ok((s, user))
    }

    /// Whoever sent this request, or `None`. The server looks the session up once per page or server-function
    /// request ([`service::RequestUser`] in the request's extensions), and a page's server functions share that
    /// answer; looked up here only when nobody has. Never kept across requests, so a changed role counts from
    /// the next request on.
    pub async fn request_user(s: &Services) -> AppResult<Option<User>> {
        let parts = use_context::<Parts>().ok_or_else(|| {
            tracing::error!("request parts missing from context");
            AppError::internal()
        })?;
        if let Some(known) = parts.extensions.get::<service::RequestUser>() {
            return known.0.clone();
        }
        match parts.extensions.get::<crate::services::VerifiedCaller>() {
            Some(verified) => Ok(verified.0.clone()),
            None => service::user_from_headers(&s.db, &parts.headers, s.secure_cookies).await,
        }
    }

    /// The signed-in user known when the page is rendered: what [`request_user`] found before rendering began.
    pub fn rendered_user() -> AppResult<Option<User>> {
        match use_context::<Parts>().and_then(|p| p.extensions.get::<service::RequestUser>().cloned()) {
            Some(known) => known.0,
            None => {
                tracing::error!("the page middleware did not look up the signed-in user");
                Err(AppError::internal())
            }
        }
    }
}

/// The signed-in user, or `None`.
#[server(prefix = "/rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    let s = crate::services::services()?;
    ssr::request_user(&s).await
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<User, AppError> {
    use super::service;
    let s = crate::services::services()?;
    let user = service::authenticate(&s, crate::services::client_ip(), &email, &password).await?;
    let previous = service::session_id_from(&ssr::request_headers()?, s.secure_cookies);
    let id = service::start_session(&s.db, user.id, previous.as_deref()).await?;
    ssr::set_cookie(service::session_cookie(&id, s.secure_cookies));
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(email: String, password: String, name: String) -> Result<User, AppError> {
    use super::{service, RegistrationInput};
    let s = crate::services::services()?;
    let registration = RegistrationInput { email, password, name }.validate()?;
    let user = service::register(&s, crate::services::client_ip(), registration).await?;
    let previous = service::session_id_from(&ssr::request_headers()?, s.secure_cookies);
    let id = service::start_session(&s.db, user.id, previous.as_deref()).await?;
    ssr::set_cookie(service::session_cookie(&id, s.secure_cookies));
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::service;
    let s = crate::services::services()?;
    if let Some(id) = service::session_id_from(&ssr::request_headers()?, s.secure_cookies) {
        service::end_session(&s, &id).await?;
    }
    ssr::set_cookie(service::clear_session_cookie(s.secure_cookies));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<ApiToken>, AppError> {
    let (s, user) = ssr::signed_in().await?;
    Ok(super::store::list_tokens(&s.db, user.id).await?)
}

/// `expires_in_days`: blank for a token that lives until revoked, else a number of days.
#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(label: String, expires_in_days: String) -> Result<NewApiToken, AppError> {
    let (s, user) = ssr::signed_in().await?;
    let days = match expires_in_days.trim() {
        "" => None,
        raw => Some(raw.parse::<i64>().map_err(|_| AppError::invalid_field("expires_in_days", "Choose a lifetime."))?),
    };
    super::service::create_token(&s.db, &user, &label, days).await
}

/// Changes the password after checking the current one; this browser stays signed in, every other one is
/// signed out.
#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let (s, user) = ssr::signed_in().await?;
    let keep = super::service::session_id_from(&ssr::request_headers()?, s.secure_cookies);
    super::recovery::change_password(&s, &user, &current_password, new_password, keep.as_deref()).await
}

/// Signs out every browser of this account, this one too.
#[server(prefix = "/rpc", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<u64, AppError> {
    let (s, user) = ssr::signed_in().await?;
    let ended = super::recovery::sign_out_everywhere(&s, &user).await?;
    ssr::set_cookie(super::service::clear_session_cookie(s.secure_cookies));
    Ok(ended)
}

/// Mails a reset link when the address has an account; the answer never says whether it has.
#[server(prefix = "/rpc", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<String, AppError> {
    let s = crate::services::services()?;
    Ok(super::recovery::request_reset(&s, crate::services::client_ip(), &email).await?.to_string())
}

/// Whether a reset link can still be used.
#[server(prefix = "/rpc", endpoint = "reset_link_usable")]
pub async fn reset_link_usable(token: String) -> Result<bool, AppError> {
    let s = crate::services::services()?;
    super::recovery::reset_link_usable(&s, &token).await
}

/// Sets the new password with a reset link, then signs this browser in (every other session ended).
#[server(prefix = "/rpc", endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<User, AppError> {
    use super::service;
    let s = crate::services::services()?;
    let user = super::recovery::complete_reset(&s, crate::services::client_ip(), &token, new_password).await?;
    let id = service::start_session(&s.db, user.id, None).await?;
    ssr::set_cookie(service::session_cookie(&id, s.secure_cookies));
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let (s, user) = ssr::signed_in().await?;
    super::service::revoke_token(&s, &user, id).await
}

/// Managers: list users, optionally filtered by a text query.
#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users(query: String) -> Result<Vec<User>, AppError> {
    let (s, _) = ssr::signed_in_manager().await?;
    let query = query.trim();
    let query = (!query.is_empty()).then_some(query);
    Ok(super::store::list_users(&s.db, query, None, 0, 200).await?)
}

/// Managers: change a user's role, tier, level and call duty.
/// A missing tier or level takes the role's default; an empty one clears it.
#[server(prefix = "/rpc", endpoint = "update_user")]
pub async fn update_user(
    id: i64,
    role: String,
    tier: Option<String>,
    level: Option<String>,
    takes_calls: Option<String>,
) -> Result<User, AppError> {
    let (s, actor) = ssr::signed_in().await?;
    let patch = patch_from_form(&role, tier.as_deref(), level.as_deref(), takes_calls.is_some())?;
    super::service::change_profile(&s, &actor, id, &patch).await
}

/// Managers: add an agent, manager or customer.
#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(
    email: String,
    name: String,
    password: String,
    role: String,
    tier: Option<String>,
    level: Option<String>,
    takes_calls: Option<String>,
) -> Result<User, AppError> {
    use super::RegistrationInput;
    let (s, actor) = ssr::signed_in().await?;
    let registration = RegistrationInput { email, password, name }.validate()?;
    let patch = patch_from_form(&role, tier.as_deref(), level.as_deref(), takes_calls.is_some())?;
    super::service::create_staff_user(&s.db, &actor, registration, &patch).await
}

/// Turns the user form's strings into a patch, naming the field that is wrong.
pub fn patch_from_form(
    role: &str,
    tier: Option<&str>,
    level: Option<&str>,
    takes_calls: bool,
) -> Result<ProfilePatch, AppError> {
    fn optional<T: std::str::FromStr<Err = String>>(
        value: Option<&str>,
        field: &str,
        errors: &mut crate::error::FieldErrors,
    ) -> Option<Option<T>> {
        match value {
            None => None,
            Some("") => Some(None),
            Some(v) => v.parse().map(Some).map_err(|m: String| errors.add(field, m)).ok(),
        }
    }
    let mut errors = crate::error::FieldErrors::default();
    let role = role.parse().map_err(|m: String| errors.add("role", m)).ok();
    let tier = optional(tier, "tier", &mut errors);
    let level = optional(level, "level", &mut errors);
    errors.into_result()?;
    Ok(ProfilePatch { role, tier, level, takes_calls: Some(takes_calls) })
}
