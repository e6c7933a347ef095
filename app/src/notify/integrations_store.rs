//! Reading and changing the integrations: outgoing webhooks and their delivery logs, the Discord
//! channel, each user's email choices, and the test sends. Managers only; callers check the role.

use super::integrations::{
    self as rules, CreatedWebhook, Delivery, DiscordSettings, EmailPreferences, IntegrationEvent, Webhook,
};
use super::outbox::{self, OutboxConfig, Outcome};
use crate::db::{now, Db};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::outbound::OutboundPolicy;
use sqlx::Row;

/// Most webhooks a portal keeps: each event is queued once per webhook.
pub const MAX_WEBHOOKS: i64 = 20;

const WEBHOOK_COLUMNS: &str = "w.id, w.url, w.events, w.description, w.active, w.consecutive_failures, \
     w.disabled_reason, w.created_at, \
     (SELECT COUNT(*) FROM outbox o WHERE o.webhook_id = w.id) AS deliveries, \
     (SELECT COUNT(*) FROM outbox o WHERE o.webhook_id = w.id AND o.status = 'delivered') AS delivered";

fn webhook_from_row(r: &sqlx::any::AnyRow) -> Result<Webhook, sqlx::Error> {
    Ok(Webhook {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        events: rules::events_from_text(&r.try_get::<String, _>("events")?),
        description: r.try_get("description")?,
        active: r.try_get::<i64, _>("active")? == 1,
        consecutive_failures: r.try_get("consecutive_failures")?,
        disabled_reason: r.try_get("disabled_reason")?,
        created_at: r.try_get("created_at")?,
        deliveries: r.try_get("deliveries")?,
        delivered: r.try_get("delivered")?,
    })
}

pub async fn list_webhooks(db: &Db) -> AppResult<Vec<Webhook>> {
    let rows =
        sqlx::query(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w ORDER BY w.id")).fetch_all(&db.pool).await?;
    Ok(rows.iter().map(webhook_from_row).collect::<Result<_, _>>()?)
}

pub async fn webhook(db: &Db, id: i64) -> AppResult<Webhook> {
    let row = sqlx::query(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(webhook_from_row(&row)?)
}

/// What a manager asks for when adding or changing a webhook.
#[derive(Clone, Debug, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub secret: Option<String>,
    pub active: Option<bool>,
}

fn check_secret(secret: &str) -> Result<(), String> {
    if !(16..=200).contains(&secret.len()) {
        return Err("Use a secret of 16 to 200 characters, or leave it empty to get one made for you.".into());
    }
    if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A secret cannot contain spaces.".into());
    }
    Ok(())
}

fn check_description(raw: Option<&str>) -> Result<Option<String>, String> {
    match raw.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) if d.chars().count() > 200 => Err("Use at most 200 characters.".into()),
        Some(d) => Ok(Some(d.to_string())),
    }
}

/// A URL the portal will send to: well formed, then (only then, as it needs DNS) a destination the
/// private-address rule allows.
async fn check_destination(
    policy: &OutboundPolicy,
    raw: &str,
    errors: &mut FieldErrors,
    field: &str,
) -> Option<String> {
    let url = rules::check_url(raw).map_err(|e| errors.add(field, e)).ok()?;
    policy.check_url(&url).await.map_err(|refusal| errors.add(field, refusal.to_string())).ok()?;
    Some(url)
}

/// Adds a webhook. The secret (given, or made here) is returned this once and never again.
pub async fn create_webhook(
    db: &Db,
    policy: &OutboundPolicy,
    created_by: i64,
    input: &WebhookInput,
) -> AppResult<CreatedWebhook> {
    let mut errors = FieldErrors::default();
    let url = check_destination(policy, input.url.as_deref().unwrap_or_default(), &mut errors, "url").await;
    let events = rules::choose_events(input.events.as_deref().unwrap_or_default(), rules::WEBHOOK_EVENTS)
        .map_err(|e| errors.add("events", e))
        .ok();
    let description = check_description(input.description.as_deref()).map_err(|e| errors.add("description", e)).ok();
    let secret = match crate::error::non_blank(&input.secret) {
        Some(secret) => check_secret(secret).map_err(|e| errors.add("secret", e)).ok().map(|_| secret.to_string()),
        None => Some(rules::new_secret()),
    };
    let (Some(url), Some(events), Some(description), Some(secret)) = (url, events, description, secret) else {
        return Err(AppError::invalid(errors));
    };
    let at = now();
    let mut tx = db.begin_write().await?;
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhooks").fetch_one(&mut *tx).await?.try_get("n")?;
    if count >= MAX_WEBHOOKS {
        return Err(AppError::conflict(
            "too_many_webhooks",
            format!("A portal keeps at most {MAX_WEBHOOKS} webhooks."),
        ));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO webhooks (url, events, secret, description, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(&url)
    .bind(rules::events_text(&events))
    .bind(&secret)
    .bind(description.as_deref())
    .bind(created_by)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    tx.commit().await?;
    Ok(CreatedWebhook { webhook: webhook(db, id).await?, secret })
}

/// Changes a webhook's URL, events, description or state. Switching it back on clears its failures.
pub async fn update_webhook(db: &Db, policy: &OutboundPolicy, id: i64, input: &WebhookInput) -> AppResult<Webhook> {
    let current = webhook(db, id).await?;
    let mut errors = FieldErrors::default();
    let url = match &input.url {
        Some(raw) => check_destination(policy, raw, &mut errors, "url").await,
        None => Some(current.url.clone()),
    };
    let events = match &input.events {
        Some(chosen) => rules::choose_events(chosen, rules::WEBHOOK_EVENTS).map_err(|e| errors.add("events", e)).ok(),
        None => Some(current.events.clone()),
    };
    let description = match &input.description {
        Some(raw) => check_description(Some(raw)).map_err(|e| errors.add("description", e)).ok(),
        None => Some(current.description.clone()),
    };
    if input.secret.is_some() {
        errors.add("secret", "A secret cannot be changed; delete the webhook and add it again.");
    }
    let (Some(url), Some(events), Some(description), true) = (url, events, description, errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    let active = input.active.unwrap_or(current.active);
    let reenabled = active && !current.active;
    sqlx::query(
        "UPDATE webhooks SET url = $1, events = $2, description = $3, active = $4, \
         consecutive_failures = CASE WHEN $5 = 1 THEN 0 ELSE consecutive_failures END, \
         disabled_reason = CASE WHEN $4 = 1 THEN NULL WHEN $6 = 1 THEN 'Switched off by a manager.' ELSE disabled_reason END, \
         updated_at = $7 WHERE id = $8",
    )
    .bind(&url)
    .bind(rules::events_text(&events))
    .bind(description.as_deref())
    .bind(i64::from(active))
    .bind(i64::from(reenabled))
    .bind(i64::from(current.active))
    .bind(now())
    .bind(id)
    .execute(&db.pool)
    .await?;
    webhook(db, id).await
}

pub async fn delete_webhook(db: &Db, id: i64) -> AppResult<()> {
    let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&db.pool).await?.rows_affected();
    if deleted == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// Where a delivery log is kept: one webhook's, or the Discord channel's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogOf {
    Webhook(i64),
    Discord,
}

/// The newest deliveries first, each with its last try's status code and latency.
pub async fn deliveries(db: &Db, of: LogOf, limit: i64) -> AppResult<Vec<Delivery>> {
    let (filter, id) = match of {
        LogOf::Webhook(id) => ("o.webhook_id = $1", id),
        LogOf::Discord => ("o.channel = 'discord' AND $1 = 0", 0),
    };
    let rows = sqlx::query(&format!(
        "SELECT o.id, o.event, o.dedupe_key, o.status, o.attempts, o.last_status, o.last_error, o.created_at, \
         o.delivered_at, o.next_attempt_at, \
         (SELECT a.latency_ms FROM delivery_attempts a WHERE a.outbox_id = o.id ORDER BY a.attempt DESC LIMIT 1) AS latency_ms \
         FROM outbox o WHERE {filter} ORDER BY o.id DESC LIMIT $2"
    ))
    .bind(id)
    .bind(limit.clamp(1, 200))
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let status: String = r.try_get("status")?;
        let key: String = r.try_get("dedupe_key")?;
        out.push(Delivery {
            id: r.try_get("id")?,
            event: r.try_get("event")?,
            // The key is `webhook:<id>:<event id>` or `discord:<event id>`: the receiver's id is the rest.
            event_id: match of {
                LogOf::Webhook(_) => key.splitn(3, ':').nth(2).unwrap_or_default().to_string(),
                LogOf::Discord => key.trim_start_matches("discord:").to_string(),
            },
            next_attempt_at: (status == "pending").then(|| r.try_get("next_attempt_at")).transpose()?,
            status,
            attempts: r.try_get("attempts")?,
            status_code: r.try_get("last_status")?,
            latency_ms: r.try_get("latency_ms")?,
            error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
            delivered_at: r.try_get("delivered_at")?,
        });
    }
    Ok(out)
}

pub async fn discord_settings(db: &Db) -> AppResult<DiscordSettings> {
    let row = sqlx::query("SELECT url, events FROM discord_settings WHERE id = 1").fetch_optional(&db.pool).await?;
    Ok(match row {
        None => DiscordSettings::default(),
        Some(r) => DiscordSettings {
            url_masked: r.try_get::<Option<String>, _>("url")?.map(|u| rules::mask_url(&u)),
            events: rules::events_from_text(&r.try_get::<String, _>("events")?),
        },
    })
}

/// Saves the Discord channel. `url`: `None` keeps the current one, an empty string removes it.
pub async fn save_discord(
    db: &Db,
    policy: &OutboundPolicy,
    url: Option<&str>,
    events: &[String],
) -> AppResult<DiscordSettings> {
    let mut errors = FieldErrors::default();
    let url = match url.map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(raw) => check_destination(policy, raw, &mut errors, "url").await.map(Some),
    };
    let events = if events.is_empty() {
        Some(Vec::new())
    } else {
        rules::choose_events(events, rules::DISCORD_EVENTS).map_err(|e| errors.add("events", e)).ok()
    };
    let Some(events) = events.filter(|_| errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    let at = now();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO discord_settings (id, url, events, updated_at) VALUES (1, NULL, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET events = $1, updated_at = $2",
    )
    .bind(rules::events_text(&events))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    if let Some(url) = url {
        sqlx::query("UPDATE discord_settings SET url = $1 WHERE id = 1").bind(url).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    discord_settings(db).await
}

pub async fn email_preferences(db: &Db, user_id: i64) -> AppResult<EmailPreferences> {
    let row = sqlx::query("SELECT tickets, sla, bookings, features FROM email_preferences WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(r) => outbox::preferences_from_row(&r)?,
        None => EmailPreferences::default(),
    })
}

pub async fn save_email_preferences(db: &Db, user_id: i64, prefs: EmailPreferences) -> AppResult<EmailPreferences> {
    sqlx::query(
        "INSERT INTO email_preferences (user_id, tickets, sla, bookings, features, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET \
         tickets = $2, sla = $3, bookings = $4, features = $5, updated_at = $6",
    )
    .bind(user_id)
    .bind(i64::from(prefs.tickets))
    .bind(i64::from(prefs.sla))
    .bind(i64::from(prefs.bookings))
    .bind(i64::from(prefs.features))
    .bind(now())
    .execute(&db.pool)
    .await?;
    email_preferences(db, user_id).await
}

/// Posts a test embed to the saved Discord webhook now, so the manager sees at once whether it works.
pub async fn test_discord(db: &Db, config: &OutboxConfig) -> AppResult<Outcome> {
    let url: Option<String> = sqlx::query("SELECT url FROM discord_settings WHERE id = 1")
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("url"))
        .transpose()?
        .flatten();
    let Some(url) = url else {
        return Err(AppError::invalid_field("url", "Save a Discord webhook URL first."));
    };
    let event = IntegrationEvent::new(
        "ticket.created",
        "test",
        "Test message from Supportal: the Discord channel works",
        Some("/admin/integrations".into()),
        serde_json::json!({ "priority": "P1", "tier": "platinum", "category": "technical" }),
    );
    let body = rules::discord_payload(&event, now(), &config.base_url).to_string();
    Ok(outbox::post_json(config, &url, body, &[]).await)
}

/// Sends a test email to `to` now and says how it went.
pub async fn test_email(config: &OutboxConfig, to: &str, name: &str) -> AppResult<Result<(), String>> {
    let Some(smtp) = &config.smtp else {
        return Ok(Err("SMTP is not configured: set SMTP_URL (for example smtp://mail.example.com:587?tls=required) \
                       and restart."
            .into()));
    };
    let message = rules::EmailMessage {
        to: to.to_string(),
        name: name.to_string(),
        kind: "email.test".into(),
        text: "This is a test message: email from Supportal reaches you.".into(),
        path: Some("/notifications".into()),
        invite: None,
        ics: None,
        subject: None,
    };
    let id = format!("<test.{}@{}>", now(), smtp.from.email.domain());
    let email = outbox::build_email(&smtp.from, &message, &config.base_url, &id).map_err(|_| AppError::internal())?;
    Ok(outbox::send_email(smtp, email).await)
}
