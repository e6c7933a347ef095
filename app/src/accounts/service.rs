//! Account operations shared by the REST API and the server functions:
//! registration, sign-in, sessions, API tokens, profile changes.

use super::{check_token_label, store, NewApiToken, Profile, ProfilePatch, Registration, Role, Tier, User};
use crate::client_address::limit_key;
use crate::db::{is_unique_violation, now, Db};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event, NewEvent};
use crate::ratelimit::Limit;
use crate::services::Services;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};
use std::net::IpAddr;
use std::sync::OnceLock;

pub const SESSION_COOKIE: &str = "supportal_session";
/// The name over HTTPS: the `__Host-` prefix makes the browser refuse the cookie unless it is `Secure`, for
/// `Path=/` and set by this host itself, so a sibling subdomain cannot plant a session.
pub const SECURE_SESSION_COOKIE: &str = "__Host-supportal_session";

fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}
pub const SESSION_DAYS: i64 = 14;
const TOKEN_PREFIX: &str = "sp_";

/// argon2id with OWASP's parameters: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes off the async threads: argon2 is built to be slow.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::internal()
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::internal()
    })
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the email is unknown, so both cases take as long.
pub(super) async fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return h;
    }
    let h = hash_password("not a real password, only for timing".into()).await.unwrap_or_default();
    DUMMY.get_or_init(|| h)
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

pub(super) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Creates a user; a taken email answers 409.
pub async fn create_user(db: &Db, email: &str, name: &str, password: String, profile: &Profile) -> AppResult<User> {
    super::check_profile(profile)?;
    let hash = hash_password(password).await?;
    match store::insert_user(&db.pool, email, name, &hash, profile).await {
        Ok(user) => Ok(user),
        Err(e) if is_unique_violation(&e) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

fn email_taken() -> AppError {
    let mut e = AppError::conflict("email_taken", "An account with this email already exists.");
    e.fields.insert("email".into(), "An account with this email already exists. Sign in instead?".into());
    e
}

/// Self-service sign-up: a general-tier customer.
pub async fn register(services: &Services, ip: IpAddr, registration: Registration) -> AppResult<User> {
    services.limits.check(Limit::Register, &limit_key(ip)).await?;
    create_user(
        &services.db,
        &registration.email,
        &registration.name,
        registration.password,
        &Profile::customer(Tier::General),
    )
    .await
}

/// Checks an email and password. Wrong email and wrong password look the same
/// to the client, and take the same time.
pub async fn authenticate(services: &Services, ip: IpAddr, email: &str, password: &str) -> AppResult<User> {
    let email = email.trim().to_lowercase();
    let address = limit_key(ip);
    services.limits.check(Limit::SignInAddress, &address).await?;
    services.limits.check(Limit::SignIn, &format!("{address}|{email}")).await?;
    if password.is_empty() || password.chars().count() > super::PASSWORD_MAX {
        return Err(invalid_credentials());
    }
    match store::credentials_by_email(&services.db, &email).await? {
        Some((user, hash)) => {
            if verify_password(password.to_string(), hash).await {
                Ok(user)
            } else {
                Err(invalid_credentials())
            }
        }
        None => {
            verify_password(password.to_string(), dummy_hash().await.to_string()).await;
            Err(invalid_credentials())
        }
    }
}

fn invalid_credentials() -> AppError {
    AppError::new(401, "invalid_credentials", "That email and password do not match an account.")
}

/// Starts a new session (a fresh random id every sign-in) and ends the old one.
/// Returns the cookie value to set.
pub async fn start_session(db: &Db, user_id: i64, previous: Option<&str>) -> AppResult<String> {
    if let Some(old) = previous {
        store::delete_session(&db.pool, &sha256_hex(old)).await?;
    }
    let id = random_hex(16);
    store::insert_session(db, &sha256_hex(&id), user_id, now() + SESSION_DAYS * 86_400).await?;
    Ok(id)
}

/// Signs one session out. Its live streams end (see [`auth_changed`]).
pub async fn end_session(services: &Services, session_id: &str) -> AppResult<()> {
    let mut tx = services.db.begin_write().await?;
    let mut recorded = Vec::new();
    if let Some(user_id) = store::delete_session(&mut *tx, &sha256_hex(session_id)).await? {
        recorded.push(auth_changed(&mut tx, user_id).await?);
    }
    tx.commit().await?;
    events::after_commit(&services.db, &services.events, recorded);
    Ok(())
}

/// Records, in the same transaction as the change, that `user_id`'s sign-ins, tokens or rights changed: each
/// of their live streams checks its credential again before it sends anything that happened after.
pub async fn auth_changed(tx: &mut Transaction<'static, Any>, user_id: i64) -> Result<Event, sqlx::Error> {
    events::record(tx, NewEvent::personal(super::AUTH_CHANGED, user_id, serde_json::json!({}))).await
}

pub fn session_cookie(session_id: &str, secure: bool) -> String {
    format!(
        "{}={session_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        cookie_name(secure),
        SESSION_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The session id from a Cookie header, if any. Over HTTPS only the `__Host-` cookie counts.
pub fn session_id_from(headers: &HeaderMap, secure: bool) -> Option<String> {
    let wanted = cookie_name(secure);
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// The bearer token from an Authorization header, if any.
pub fn bearer_from(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Who is calling: a bearer token wins over a session cookie.
/// The signed-in user of one request, looked up before its page renders (see
/// `accounts::server_fns::ssr::request_user`).
#[derive(Clone, Debug)]
pub struct RequestUser(pub AppResult<Option<User>>);

pub async fn user_from_headers(db: &Db, headers: &HeaderMap, secure: bool) -> AppResult<Option<User>> {
    if let Some(token) = bearer_from(headers) {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Ok(None);
        }
        return Ok(store::token_user(db, &sha256_hex(token)).await?);
    }
    match session_id_from(headers, secure) {
        Some(id) if id.len() <= 128 => Ok(store::session_user(db, &sha256_hex(&id)).await?),
        _ => Ok(None),
    }
}

/// A new API token; `expires_in_days` bounds its life (`None`: until revoked).
pub async fn create_token(db: &Db, user: &User, label: &str, expires_in_days: Option<i64>) -> AppResult<NewApiToken> {
    let label = check_token_label(label).map_err(|m| AppError::invalid_field("label", m))?;
    let days =
        super::check_token_lifetime(expires_in_days).map_err(|m| AppError::invalid_field("expires_in_days", m))?;
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let expires_at = days.map(|d| now() + d * 86_400);
    let info = store::insert_token(db, user.id, &label, &sha256_hex(&token), &prefix, expires_at).await?;
    Ok(NewApiToken { token, info })
}

/// Revokes one of the user's tokens; streams opened with it end.
pub async fn revoke_token(services: &Services, user: &User, token_id: i64) -> AppResult<()> {
    let mut tx = services.db.begin_write().await?;
    if !store::revoke_token(&mut *tx, user.id, token_id).await? {
        return Err(AppError::not_found());
    }
    let event = auth_changed(&mut tx, user.id).await?;
    tx.commit().await?;
    events::after_commit(&services.db, &services.events, vec![event]);
    Ok(())
}

/// A manager changes someone's role, tier, level or call duty. The person's live streams check their rights
/// again at once.
pub async fn change_profile(
    services: &Services,
    actor: &User,
    target_id: i64,
    patch: &ProfilePatch,
) -> AppResult<User> {
    if !actor.role.is_manager() {
        return Err(AppError::forbidden());
    }
    let db = &services.db;
    let target = store::user_by_id(db, target_id).await?.ok_or_else(AppError::not_found)?;
    let profile = super::apply_patch(Profile::of(&target), patch)?;
    super::may_change_profile(actor, &target, &profile)?;
    let mut tx = db.begin_write().await?;
    let user = store::update_profile(&mut *tx, target_id, &profile).await?.ok_or_else(AppError::not_found)?;
    let event = auth_changed(&mut tx, target_id).await?;
    tx.commit().await?;
    events::after_commit(db, &services.events, vec![event]);
    Ok(user)
}

/// A manager creates a user of any role they may grant.
pub async fn create_staff_user(
    db: &Db,
    actor: &User,
    registration: Registration,
    patch: &ProfilePatch,
) -> AppResult<User> {
    if !actor.role.is_manager() {
        return Err(AppError::forbidden());
    }
    let base = Profile::customer(Tier::General);
    let profile = super::apply_patch(base, patch)?;
    if actor.role != Role::Admin && profile.role == Role::Admin {
        return Err(AppError::forbidden());
    }
    create_user(db, &registration.email, &registration.name, registration.password, &profile).await
}

/// On first start: creates the configured admin when no admin exists yet.
pub async fn ensure_admin(db: &Db, email: &str, password: &str) -> Result<bool, String> {
    if store::any_user_with_role(db, Role::Admin).await.map_err(|e| e.to_string())? {
        return Ok(false);
    }
    let email = super::normalize_email(email).map_err(|m| format!("SUPPORTAL_ADMIN_EMAIL: {m}"))?;
    super::check_password(password, &email).map_err(|m| format!("SUPPORTAL_ADMIN_PASSWORD: {m}"))?;
    let profile = Profile { role: Role::Admin, tier: None, level: None, takes_calls: false };
    create_user(db, &email, "Administrator", password.to_string(), &profile)
        .await
        .map_err(|e| format!("could not create the admin: {}", e.message))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_the_session_cookie_among_others() {
        let h = headers(&[("cookie", "theme=dark; supportal_session=abc123; x=y")]);
        assert_eq!(session_id_from(&h, false).as_deref(), Some("abc123"));
        assert_eq!(session_id_from(&headers(&[("cookie", "supportal_session=")]), false), None);
        assert_eq!(session_id_from(&headers(&[]), false), None);
    }

    #[test]
    fn over_https_only_the_host_prefixed_cookie_counts() {
        let planted = headers(&[("cookie", "supportal_session=planted")]);
        assert_eq!(session_id_from(&planted, true), None, "a cookie a sibling subdomain could set is ignored");
        let both = headers(&[("cookie", "supportal_session=planted; __Host-supportal_session=real")]);
        assert_eq!(session_id_from(&both, true).as_deref(), Some("real"));
        assert_eq!(session_id_from(&both, false).as_deref(), Some("planted"));
        let c = session_cookie("id", true);
        assert!(
            c.starts_with("__Host-supportal_session=id; Path=/;") && c.ends_with("; Secure") && !c.contains("Domain")
        );
        assert!(clear_session_cookie(true).starts_with("__Host-supportal_session=;"));
    }

    #[test]
    fn reads_bearer_tokens_case_insensitively() {
        assert_eq!(bearer_from(&headers(&[("authorization", "Bearer sp_x")])), Some("sp_x"));
        assert_eq!(bearer_from(&headers(&[("authorization", "bearer sp_y")])), Some("sp_y"));
        assert_eq!(bearer_from(&headers(&[("authorization", "Basic abc")])), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_when_asked() {
        let c = session_cookie("id", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(!session_cookie("id", false).contains("Secure"));
        assert!(clear_session_cookie(false).contains("Max-Age=0"));
    }

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("a long passphrase".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("a long passphrase".into(), hash.clone()).await);
        assert!(!verify_password("another passphrase".into(), hash).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
    }
}
