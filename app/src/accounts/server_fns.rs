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
            None => service::user_from_headers(&s.db, &parts.headers).await,
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
    let previous = service::session_id_from(&ssr::request_headers()?);
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
    let previous = service::session_id_from(&ssr::request_headers()?);
    let id = service::start_session(&s.db, user.id, previous.as_deref()).await?;
    ssr::set_cookie(service::session_cookie(&id, s.secure_cookies));
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::service;
    let s = crate::services::services()?;
    if let Some(id) = service::session_id_from(&ssr::request_headers()?) {
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

#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(label: String) -> Result<NewApiToken, AppError> {
    let (s, user) = ssr::signed_in().await?;
    super::service::create_token(&s.db, &user, &label).await
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let (s, user) = ssr::signed_in().await?;
    super::service::revoke_token(&s, &user, id).await
}

/// Managers: list users, optionally filtered by a text query.
#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users(query: String) -> Result<Vec<User>, AppError> {
    let (s, user) = ssr::signed_in().await?;
    if !user.role.is_manager() {
        return Err(AppError::forbidden());
    }
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
