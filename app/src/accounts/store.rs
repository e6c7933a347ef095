//! Account storage: users, sessions and API tokens (SQL for both backends).

use super::{ApiToken, Level, Profile, Role, Tier, User};
use crate::db::{flag, now, rfc3339, Db};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

const USER_COLUMNS: &str = "id, email, name, role, tier, level, takes_calls";

fn parse<T: std::str::FromStr>(value: &str, column: &str) -> Result<T, sqlx::Error> {
    value.parse().map_err(|_| sqlx::Error::ColumnDecode {
        index: column.into(),
        source: format!("unexpected value {value:?}").into(),
    })
}

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    let tier: Option<String> = row.try_get("tier")?;
    let level: Option<String> = row.try_get("level")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: parse::<Role>(&row.try_get::<String, _>("role")?, "role")?,
        tier: tier.as_deref().map(|t| parse::<Tier>(t, "tier")).transpose()?,
        level: level.as_deref().map(|l| parse::<Level>(l, "level")).transpose()?,
        takes_calls: flag(row, "takes_calls")?,
    })
}

pub async fn insert_user<'e, E>(
    executor: E,
    email: &str,
    name: &str,
    password_hash: &str,
    profile: &Profile,
) -> Result<User, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let at = now();
    let row = sqlx::query(&format!(
        "INSERT INTO users (email, name, password_hash, role, tier, level, takes_calls, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {USER_COLUMNS}"
    ))
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(profile.role.as_str())
    .bind(profile.tier.map(Tier::as_str))
    .bind(profile.level.map(Level::as_str))
    .bind(i64::from(profile.takes_calls))
    .bind(at)
    .fetch_one(executor)
    .await?;
    user_from_row(&row)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

/// The user and their password hash, for signing in.
pub async fn credentials_by_email(db: &Db, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?))).transpose()
}

pub async fn any_user_with_role(db: &Db, role: Role) -> Result<bool, sqlx::Error> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = $1").bind(role.as_str()).fetch_one(&db.pool).await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

pub async fn count_users(db: &Db) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&db.pool).await?;
    row.try_get("n")
}

/// Users ordered by id, after `after_id`, optionally filtered by a text query
/// (name or email) and a role.
pub async fn list_users(
    db: &Db,
    query: Option<&str>,
    role: Option<Role>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<User>, sqlx::Error> {
    let pattern =
        query.map(|q| format!("%{}%", q.trim().to_lowercase().replace(['%', '_'], ""))).unwrap_or_else(|| "%".into());
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE id > $1 AND (lower(name) LIKE $2 OR email LIKE $2) AND ($3 = '' OR role = $3) \
         ORDER BY id LIMIT $4"
    ))
    .bind(after_id)
    .bind(pattern)
    .bind(role.map(Role::as_str).unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(user_from_row)
    .collect()
}

pub async fn update_profile<'e, E>(executor: E, id: i64, profile: &Profile) -> Result<Option<User>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(&format!(
        "UPDATE users SET role = $1, tier = $2, level = $3, takes_calls = $4, updated_at = $5 \
         WHERE id = $6 RETURNING {USER_COLUMNS}"
    ))
    .bind(profile.role.as_str())
    .bind(profile.tier.map(Tier::as_str))
    .bind(profile.level.map(Level::as_str))
    .bind(i64::from(profile.takes_calls))
    .bind(now())
    .bind(id)
    .fetch_optional(executor)
    .await?
    .map(|r| user_from_row(&r))
    .transpose()
}

pub async fn update_password_hash<'e, E>(executor: E, id: i64, hash: &str) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now())
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

pub async fn password_hash(db: &Db, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("password_hash"))
        .transpose()
}

pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

// ---- password resets ------------------------------------------------------

pub async fn insert_password_reset<'e, E>(
    executor: E,
    token_hash: &str,
    user_id: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now())
        .bind(expires_at)
        .execute(executor)
        .await?;
    Ok(())
}

/// Uses a reset link: marks it used and returns whose it is, or `None` when it is unknown, used or expired.
/// One statement, so two tabs racing with the same link cannot both win.
pub async fn take_password_reset<'e, E>(executor: E, token_hash: &str) -> Result<Option<i64>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let at = now();
    sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1          RETURNING user_id",
    )
    .bind(at)
    .bind(token_hash)
    .fetch_optional(executor)
    .await?
    .map(|r| r.try_get("user_id"))
    .transpose()
}

/// Whose a reset link is, while it can still be used.
pub async fn password_reset_owner(db: &Db, token_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("user_id"))
        .transpose()
}

/// Ends every outstanding reset link of a user (after the password changed).
pub async fn delete_password_resets<'e, E>(executor: E, user_id: i64) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1").bind(user_id).execute(executor).await?;
    Ok(())
}

pub async fn delete_expired_password_resets(db: &Db) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1").bind(now()).execute(&db.pool).await?;
    Ok(done.rows_affected())
}

// ---- sessions -------------------------------------------------------------

pub async fn insert_session(db: &Db, id_hash: &str, user_id: i64, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id_hash)
        .bind(user_id)
        .bind(now())
        .bind(expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn session_user(db: &Db, id_hash: &str) -> Result<Option<User>, sqlx::Error> {
    let cols = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    sqlx::query(&format!(
        "SELECT {cols} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2"
    ))
    .bind(id_hash)
    .bind(now())
    .fetch_optional(&db.pool)
    .await?
    .map(|r| user_from_row(&r))
    .transpose()
}

/// Ends one session; returns whose it was.
pub async fn delete_session<'e, E>(executor: E, id_hash: &str) -> Result<Option<i64>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id")
        .bind(id_hash)
        .fetch_optional(executor)
        .await?
        .map(|r| r.try_get("user_id"))
        .transpose()
}

/// Ends every session of a user except `keep` (the one making the change, if any); returns how many ended.
pub async fn delete_sessions_except<'e, E>(executor: E, user_id: i64, keep: Option<&str>) -> Result<u64, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_expired_sessions(db: &Db) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now()).execute(&db.pool).await?;
    Ok(done.rows_affected())
}

// ---- API tokens -----------------------------------------------------------

fn token_from_row(row: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        prefix: row.try_get("prefix")?,
        created_at: rfc3339(row.try_get("created_at")?),
        last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(rfc3339),
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(rfc3339),
    })
}

pub async fn insert_token(
    db: &Db,
    user_id: i64,
    label: &str,
    token_hash: &str,
    prefix: &str,
    expires_at: Option<i64>,
) -> Result<ApiToken, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO api_tokens (user_id, label, token_hash, prefix, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, label, prefix, created_at, last_used_at, expires_at",
    )
    .bind(user_id)
    .bind(label)
    .bind(token_hash)
    .bind(prefix)
    .bind(now())
    .bind(expires_at)
    .fetch_one(&db.pool)
    .await?;
    token_from_row(&row)
}

pub async fn list_tokens(db: &Db, user_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query(
        "SELECT id, label, prefix, created_at, last_used_at, expires_at FROM api_tokens \
         WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC",
    )
    .bind(user_id)
    .bind(now())
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(token_from_row)
    .collect()
}

/// Revokes one of the user's own tokens; false when there is no such live token.
pub async fn revoke_token<'e, E>(executor: E, user_id: i64, token_id: i64) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now())
            .bind(token_id)
            .bind(user_id)
            .execute(executor)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn token_user(db: &Db, token_hash: &str) -> Result<Option<User>, sqlx::Error> {
    let cols = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let row = sqlx::query(&format!(
        "SELECT {cols}, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(now())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user = user_from_row(&row)?;
    // Record use at most once a minute: a busy integration should not turn every read into a write.
    let last_used: Option<i64> = row.try_get("last_used_at")?;
    let at = now();
    if last_used.is_none_or(|t| at - t >= 60) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(row.try_get::<i64, _>("token_id")?)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(user))
}
