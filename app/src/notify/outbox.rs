//! The durable outbox. Whatever leaves the portal (email, Discord, outgoing webhooks) is first a row
//! in `outbox`, written in the same transaction as the change it announces, so a rolled-back change
//! sends nothing and a committed one is never forgotten. A worker claims due rows under a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances never take the same row), sends them, and
//! records each try in `delivery_attempts`. A worker killed mid-send leaves its lease to expire and
//! the row is sent again: delivery is at least once, and receivers de-duplicate on the event id.

use super::integrations::{self as rules, EmailMessage, EmailPreferences, IntegrationEvent};
use crate::db::{now, Backend, Db};
use crate::events::{self, Event, EventBus, NewEvent};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::{Any, Row, Transaction};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

fn wake_signal() -> &'static Notify {
    static WAKE: OnceLock<Notify> = OnceLock::new();
    WAKE.get_or_init(Notify::new)
}

/// Tells this instance's worker that rows may be waiting (called after every commit).
pub fn wake() {
    wake_signal().notify_one();
}

/// How the worker reaches the outside world.
#[derive(Clone)]
pub struct OutboxConfig {
    /// The portal's address, for links in emails, embeds and webhook bodies.
    pub base_url: String,
    pub smtp: Option<Smtp>,
    /// Webhooks and Discord, under the private-address rule.
    pub http: crate::outbound::OutboundHttp,
    /// Wait after the first failed try; doubles each time.
    pub retry_base_secs: i64,
    /// How long a claimed row stays with its worker; longer than any send may take.
    pub lease_secs: i64,
    /// How often the worker looks for due rows when nothing woke it.
    pub poll: Duration,
    /// Rows taken per claim.
    pub batch: i64,
    /// The Discord bot that sends agent replies back to Discord users.
    pub discord: crate::discord::DiscordConfig,
}

#[derive(Clone)]
pub struct Smtp {
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

impl std::fmt::Debug for OutboxConfig {
    // The SMTP URL may hold a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxConfig")
            .field("base_url", &self.base_url)
            .field("smtp", &self.smtp.as_ref().map(|s| s.from.to_string()))
            .field("retry_base_secs", &self.retry_base_secs)
            .field("lease_secs", &self.lease_secs)
            .finish()
    }
}

impl OutboxConfig {
    /// `smtp_url` as lettre reads it (`smtp://host:25`, `smtps://user:pass@host`, `?tls=required`…);
    /// `timeout` bounds every send, so a receiver that hangs never holds the worker; `outbound` is the rule
    /// webhook and Discord destinations obey.
    pub fn new(
        base_url: &str,
        smtp_url: Option<&str>,
        from: &str,
        timeout: Duration,
        outbound: &crate::outbound::OutboundPolicy,
    ) -> Result<Self, String> {
        let smtp = match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| "SMTP_URL: not a URL like smtp://host:25 or smtps://user:pass@host".to_string())?
                    .timeout(Some(timeout))
                    .build();
                let from = from.parse::<Mailbox>().map_err(|_| format!("SMTP_FROM: `{from}` is not an address"))?;
                Some(Smtp { transport, from })
            }
        };
        // No redirects are followed (a 3xx counts as a failure), and private addresses are refused.
        let http = outbound.http(timeout, concat!("Supportal-Webhooks/", env!("CARGO_PKG_VERSION")))?;
        let timeout_secs = timeout.as_secs().max(1) as i64;
        Ok(OutboxConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            smtp,
            http,
            retry_base_secs: 30,
            lease_secs: timeout_secs * 2 + 5,
            poll: Duration::from_secs(2),
            batch: 16,
            discord: crate::discord::DiscordConfig::default(),
        })
    }
}

async fn insert(
    tx: &mut Transaction<'static, Any>,
    channel: &str,
    target: (Option<i64>, Option<i64>),
    dedupe_key: &str,
    event: &str,
    payload: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (channel, webhook_id, user_id, dedupe_key, event, payload, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(channel)
    .bind(target.0)
    .bind(target.1)
    .bind(dedupe_key)
    .bind(event)
    .bind(payload)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues `event` for every active webhook subscribed to it and for Discord when it posts it,
/// inside the caller's transaction.
pub async fn publish(tx: &mut Transaction<'static, Any>, event: &IntegrationEvent) -> Result<(), sqlx::Error> {
    let at = now();
    let payload = serde_json::to_string(event).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let hooks =
        sqlx::query("SELECT id, events FROM webhooks WHERE active = 1 ORDER BY id").fetch_all(&mut **tx).await?;
    for hook in hooks {
        let id: i64 = hook.try_get("id")?;
        let subscribed = rules::events_from_text(&hook.try_get::<String, _>("events")?);
        if rules::webhook_wants(&subscribed, &event.kind) {
            let key = format!("webhook:{id}:{}", event.id());
            insert(tx, "webhook", (Some(id), None), &key, &event.kind, &payload, at).await?;
        }
    }
    let discord =
        sqlx::query("SELECT url, events FROM discord_settings WHERE id = 1").fetch_optional(&mut **tx).await?;
    if let Some(row) = discord {
        let url: Option<String> = row.try_get("url")?;
        let chosen = rules::events_from_text(&row.try_get::<String, _>("events")?);
        if url.is_some() && rules::discord_wants(&chosen, event) {
            insert(tx, "discord", (None, None), &format!("discord:{}", event.id()), &event.kind, &payload, at).await?;
        }
    }
    Ok(())
}

/// Queues a signed test event for one webhook; returns the outbox row's id.
pub async fn queue_test(db: &Db, webhook_id: i64) -> Result<i64, sqlx::Error> {
    let at = now();
    let nonce = {
        use rand::RngCore;
        let mut bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    let event = IntegrationEvent::new(
        rules::TEST_EVENT,
        format!("{webhook_id}:{nonce}"),
        "Test delivery from Supportal",
        Some("/admin/integrations".into()),
        serde_json::json!({ "webhook_id": webhook_id }),
    );
    let payload = serde_json::to_string(&event).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut tx = db.begin_write().await?;
    let key = format!("webhook:{webhook_id}:{}", event.id());
    insert(&mut tx, "webhook", (Some(webhook_id), None), &key, rules::TEST_EVENT, &payload, at).await?;
    let id: i64 = sqlx::query("SELECT id FROM outbox WHERE dedupe_key = $1")
        .bind(&key)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    tx.commit().await?;
    wake();
    Ok(id)
}

/// Queues the email twin of notification `notification_id`, if the user wants that kind of email.
pub async fn email_notification(
    tx: &mut Transaction<'static, Any>,
    user_id: i64,
    notification_id: i64,
    new: &super::NewNotification,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.email, u.name, p.tickets, p.sla, p.bookings, p.features FROM users u \
         LEFT JOIN email_preferences p ON p.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    if !preferences_from_row(&row)?.wants(new.kind) {
        return Ok(());
    }
    let message = EmailMessage {
        to: row.try_get("email")?,
        name: row.try_get("name")?,
        kind: new.kind.to_string(),
        text: new.text.clone(),
        path: super::href(new.link.as_deref(), new.ticket_id),
        invite: new.invite,
        ics: None,
        subject: None,
    };
    let payload = serde_json::to_string(&message).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let key = format!("email:notification:{notification_id}");
    insert(tx, "email", (None, Some(user_id)), &key, new.kind, &payload, now()).await
}

/// Queues an email that does not depend on preferences (account security mail: reset links, "your password
/// changed"); `dedupe_key` makes a retried request queue it once.
pub async fn queue_email(
    tx: &mut Transaction<'static, Any>,
    user_id: i64,
    message: &EmailMessage,
    dedupe_key: &str,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(message).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    insert(tx, "email", (None, Some(user_id)), dedupe_key, &message.kind, &payload, now()).await
}

/// A user's choices; no row means every kind.
pub(super) fn preferences_from_row(row: &sqlx::any::AnyRow) -> Result<EmailPreferences, sqlx::Error> {
    let flag = |name: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<Option<i64>, _>(name)?.unwrap_or(1) == 1) };
    Ok(EmailPreferences {
        tickets: flag("tickets")?,
        sla: flag("sla")?,
        bookings: flag("bookings")?,
        features: flag("features")?,
    })
}

/// One claimed row.
#[derive(Clone, Debug)]
struct Claimed {
    id: i64,
    channel: String,
    webhook_id: Option<i64>,
    dedupe_key: String,
    event: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}

/// Takes up to `limit` due rows under a lease. On PostgreSQL `SKIP LOCKED` lets several workers
/// claim at once without waiting for, or taking, each other's rows; SQLite has one writer anyway.
async fn claim(db: &Db, config: &OutboxConfig) -> Result<Vec<Claimed>, sqlx::Error> {
    let at = now();
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 WHERE id IN (\
           SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
           AND (locked_until IS NULL OR locked_until <= $2) ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
         RETURNING id, channel, webhook_id, dedupe_key, event, payload, attempts, created_at"
    );
    let mut tx = db.begin_write().await?;
    let rows = sqlx::query(&sql).bind(at + config.lease_secs).bind(at).bind(config.batch).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                channel: r.try_get("channel")?,
                webhook_id: r.try_get("webhook_id")?,
                dedupe_key: r.try_get("dedupe_key")?,
                event: r.try_get("event")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// How one try went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// Nothing to send it with (no SMTP, no Discord URL): settled without a retry.
    pub skipped: bool,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.error.is_none() && !self.skipped
    }

    fn skipped(why: &str) -> Self {
        Outcome { status_code: None, latency_ms: 0, error: Some(why.to_string()), skipped: true }
    }
}

/// An error for the delivery log: what kind of failure, never a secret.
fn describe_http_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else if error.is_request() {
        "request failed".into()
    } else {
        "network error".into()
    }
}

/// POSTs `body` as JSON with the given headers.
pub(crate) async fn post_json(config: &OutboxConfig, url: &str, body: String, headers: &[(&str, String)]) -> Outcome {
    let started = Instant::now();
    let request = match config.http.post(url).await {
        Ok(request) => request,
        Err(refusal) => {
            return Outcome {
                status_code: None,
                latency_ms: 0,
                error: Some(format!("refused: {}", refusal.short())),
                skipped: false,
            }
        }
    };
    let mut request = request.header("content-type", "application/json").body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let result = request.send().await;
    let latency_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
    match result {
        Ok(response) => {
            let status = response.status();
            Outcome {
                status_code: Some(i64::from(status.as_u16())),
                latency_ms,
                error: (!status.is_success()).then(|| format!("HTTP {}", status.as_u16())),
                skipped: false,
            }
        }
        Err(error) => {
            Outcome { status_code: None, latency_ms, error: Some(describe_http_error(&error)), skipped: false }
        }
    }
}

async fn send_webhook(db: &Db, config: &OutboxConfig, row: &Claimed, event: &IntegrationEvent) -> Outcome {
    let hook = sqlx::query("SELECT url, secret, active FROM webhooks WHERE id = $1")
        .bind(row.webhook_id)
        .fetch_optional(&db.pool)
        .await;
    let (url, secret) = match hook {
        Ok(Some(r)) => match (r.try_get::<String, _>("url"), r.try_get::<String, _>("secret"), r.try_get("active")) {
            (Ok(url), Ok(secret), Ok(1_i64)) => (url, secret),
            (Ok(_), Ok(_), Ok(_)) => return Outcome::skipped("the webhook is disabled"),
            _ => return Outcome::skipped("the webhook is unreadable"),
        },
        Ok(None) => return Outcome::skipped("the webhook was deleted"),
        Err(e) => {
            tracing::warn!(error = %e, "outbox: webhook lookup failed");
            return Outcome { status_code: None, latency_ms: 0, error: Some("database error".into()), skipped: false };
        }
    };
    let body = rules::webhook_body(event, row.created_at, &config.base_url);
    let signature = rules::signature(&secret, now(), &body);
    let headers = [
        ("x-supportal-event", row.event.clone()),
        ("x-supportal-delivery", event.id()),
        ("x-supportal-signature", signature),
    ];
    post_json(config, &url, body, &headers).await
}

async fn send_discord(db: &Db, config: &OutboxConfig, row: &Claimed, event: &IntegrationEvent) -> Outcome {
    let url: Option<String> = match sqlx::query("SELECT url FROM discord_settings WHERE id = 1")
        .fetch_optional(&db.pool)
        .await
    {
        Ok(Some(r)) => r.try_get("url").ok().flatten(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "outbox: Discord settings lookup failed");
            return Outcome { status_code: None, latency_ms: 0, error: Some("database error".into()), skipped: false };
        }
    };
    let Some(url) = url else { return Outcome::skipped("no Discord webhook is set") };
    let body = rules::discord_payload(event, row.created_at, &config.base_url).to_string();
    post_json(config, &url, body, &[]).await
}

/// Builds the MIME message: text and HTML alternatives, plus `invite.ics` when there is one.
pub fn build_email(
    config_from: &Mailbox,
    message: &EmailMessage,
    base_url: &str,
    message_id: &str,
) -> Result<Message, String> {
    let to: Mailbox = match format!("{} <{}>", message.name.replace(['<', '>', '"'], ""), message.to).parse() {
        Ok(to) => to,
        Err(_) => message.to.parse().map_err(|_| "the recipient address is not valid".to_string())?,
    };
    let (subject, text, html) = rules::compose_email(message, base_url);
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html));
    let body = match &message.ics {
        None => alternative,
        Some(ics) => {
            let calendar = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                .map_err(|_| "bad calendar content type".to_string())?;
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new("invite.ics".into()).body(ics.clone(), calendar))
        }
    };
    Message::builder()
        .from(config_from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.to_string()))
        .multipart(body)
        .map_err(|_| "the email could not be built".to_string())
}

/// Sends one email now; the error says what kind of failure, without server details.
pub async fn send_email(smtp: &Smtp, email: Message) -> Result<(), String> {
    smtp.transport.send(email).await.map(|_| ()).map_err(|e| {
        tracing::warn!(error = %e, "SMTP send failed");
        if e.is_permanent() {
            "the mail server refused the message".into()
        } else if e.is_transient() {
            "the mail server asked to try again later".into()
        } else if e.is_timeout() {
            "the mail server did not answer in time".into()
        } else {
            "could not reach the mail server".into()
        }
    })
}

async fn deliver_email(db: &Db, config: &OutboxConfig, row: &Claimed) -> Outcome {
    let Some(smtp) = &config.smtp else { return Outcome::skipped("SMTP is not configured (set SMTP_URL)") };
    let mut message: EmailMessage = match serde_json::from_str(&row.payload) {
        Ok(m) => m,
        Err(_) => return Outcome::skipped("unreadable email in the outbox"),
    };
    if let Some(booking_id) = message.invite {
        match crate::booking::service::invite_ics(db, booking_id, &config.base_url).await {
            Ok(ics) => message.ics = ics,
            Err(e) => {
                tracing::warn!(error = %e, booking_id, "outbox: could not make the invitation");
                return Outcome {
                    status_code: None,
                    latency_ms: 0,
                    error: Some("database error".into()),
                    skipped: false,
                };
            }
        }
    }
    let domain = smtp.from.email.domain().to_string();
    let message_id = format!("<{}@{domain}>", row.dedupe_key.replace([':', '<', '>', '@'], "."));
    let email = match build_email(&smtp.from, &message, &config.base_url, &message_id) {
        Ok(email) => email,
        Err(why) => return Outcome::skipped(&why),
    };
    let started = Instant::now();
    let result = send_email(smtp, email).await;
    let latency_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
    Outcome { status_code: None, latency_ms, error: result.err(), skipped: false }
}

async fn deliver(db: &Db, config: &OutboxConfig, row: &Claimed) -> Outcome {
    if row.channel == "email" {
        return deliver_email(db, config, row).await;
    }
    if row.channel == "discord" && row.event == crate::discord::REPLY_EVENT {
        let started = Instant::now();
        let sent = crate::discord::service::deliver_reply(&config.http, &config.discord, &row.payload).await;
        let latency_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
        return Outcome { status_code: sent.status_code, latency_ms, error: sent.error, skipped: sent.skipped };
    }
    let event: IntegrationEvent = match serde_json::from_str(&row.payload) {
        Ok(e) => e,
        Err(_) => return Outcome::skipped("unreadable event in the outbox"),
    };
    match row.channel.as_str() {
        "webhook" => send_webhook(db, config, row, &event).await,
        "discord" => send_discord(db, config, row, &event).await,
        _ => Outcome::skipped("unknown channel"),
    }
}

/// Records the try, and either finishes the row or schedules the next try. A webhook that keeps
/// failing is switched off and the managers are told.
async fn settle(
    tx: &mut Transaction<'static, Any>,
    config: &OutboxConfig,
    row: &Claimed,
    outcome: &Outcome,
    recorded: &mut Vec<Event>,
) -> Result<(), sqlx::Error> {
    let at = now();
    sqlx::query(
        "INSERT INTO delivery_attempts (outbox_id, attempt, at, status_code, latency_ms, error) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(row.attempts)
    .bind(at)
    .bind(outcome.status_code)
    .bind(outcome.latency_ms)
    .bind(outcome.error.as_deref())
    .execute(&mut **tx)
    .await?;
    let (status, next) = if outcome.ok() {
        ("delivered", at)
    } else if outcome.skipped {
        ("skipped", at)
    } else if row.attempts >= rules::MAX_ATTEMPTS {
        ("failed", at)
    } else {
        ("pending", at + rules::backoff_secs(row.attempts, config.retry_base_secs))
    };
    // `attempts` matches only while the row is still ours: a late finish after the lease ran out
    // and another worker took it leaves that worker's state alone.
    sqlx::query(
        "UPDATE outbox SET status = $1, next_attempt_at = $2, locked_until = NULL, last_status = $3, last_error = $4, \
         delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at END WHERE id = $6 AND attempts = $7",
    )
    .bind(status)
    .bind(next)
    .bind(outcome.status_code)
    .bind(outcome.error.as_deref())
    .bind(at)
    .bind(row.id)
    .bind(row.attempts)
    .execute(&mut **tx)
    .await?;
    if let (Some(webhook_id), false) = (row.webhook_id, outcome.skipped) {
        recorded.extend(count_webhook_result(tx, webhook_id, outcome.ok(), at).await?);
        recorded.push(
            events::record(
                tx,
                staff_event("webhook.delivery", serde_json::json!({ "webhook_id": webhook_id, "status": status })),
            )
            .await?,
        );
    }
    Ok(())
}

/// An event only staff see (the settings page listens to it).
fn staff_event(kind: &'static str, payload: serde_json::Value) -> NewEvent {
    NewEvent { kind, ticket_id: None, requester_id: None, internal: true, user_id: None, public: false, payload }
}

async fn count_webhook_result(
    tx: &mut Transaction<'static, Any>,
    webhook_id: i64,
    ok: bool,
    at: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    if ok {
        sqlx::query("UPDATE webhooks SET consecutive_failures = 0 WHERE id = $1")
            .bind(webhook_id)
            .execute(&mut **tx)
            .await?;
        return Ok(Vec::new());
    }
    let row = sqlx::query(
        "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, \
         active = CASE WHEN consecutive_failures + 1 >= $1 THEN 0 ELSE active END, updated_at = $2 \
         WHERE id = $3 RETURNING consecutive_failures, active, url",
    )
    .bind(rules::DISABLE_AFTER_FAILURES)
    .bind(at)
    .bind(webhook_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(Vec::new()) };
    if row.try_get::<i64, _>("active")? == 1 {
        return Ok(Vec::new());
    }
    // Switched off: nothing more goes out, including rows that sends under way just put back for a retry.
    let dropped = sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = 'the webhook is disabled', locked_until = NULL \
         WHERE webhook_id = $1 AND status = 'pending'",
    )
    .bind(webhook_id)
    .execute(&mut **tx)
    .await?;
    // Only the failure that reaches the limit tells the managers; those of sends that were under way
    // count past it without telling anyone again.
    if row.try_get::<i64, _>("consecutive_failures")? != rules::DISABLE_AFTER_FAILURES {
        return Ok(Vec::new());
    }
    tracing::warn!(webhook_id, dropped = dropped.rows_affected(), "webhook switched off after repeated failures");
    let reason = format!("Switched off after {} failed deliveries in a row.", rules::DISABLE_AFTER_FAILURES);
    sqlx::query("UPDATE webhooks SET disabled_reason = $1 WHERE id = $2")
        .bind(&reason)
        .bind(webhook_id)
        .execute(&mut **tx)
        .await?;
    let url: String = row.try_get("url")?;
    let managers: Vec<i64> = sqlx::query("SELECT id FROM users WHERE role IN ('manager', 'admin') ORDER BY id")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let notice = super::NewNotification {
        kind: "webhook.disabled",
        text: format!(
            "Webhook {} was switched off after {} failed deliveries in a row",
            rules::mask_url(&url),
            rules::DISABLE_AFTER_FAILURES
        ),
        ticket_id: None,
        link: Some("/admin/integrations".into()),
        invite: None,
    };
    super::to_users(tx, &managers, &notice).await
}

/// Settled rows (and their delivery logs) are kept this long.
pub const KEEP_SETTLED_SECS: i64 = 30 * 86_400;

/// Deletes rows settled before `before`; pending ones stay whatever their age.
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM outbox WHERE status <> 'pending' AND created_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// Claims what is due, sends it all at once, then records every outcome in one transaction (one commit
/// per batch rather than per row: on SQLite, 32 writers queueing for the lock cost more than the sends).
/// Returns how many rows were handled. Should recording fail, the leases run out and the rows go again.
pub async fn drain_once(db: &Db, bus: &EventBus, config: &Arc<OutboxConfig>) -> Result<usize, sqlx::Error> {
    let claimed = claim(db, config).await?;
    let count = claimed.len();
    let mut sends = tokio::task::JoinSet::new();
    for row in claimed {
        let (db, config) = (db.clone(), config.clone());
        sends.spawn(async move {
            let outcome = deliver(&db, &config, &row).await;
            (row, outcome)
        });
    }
    let mut results = Vec::with_capacity(count);
    while let Some(done) = sends.join_next().await {
        match done {
            Ok(result) => results.push(result),
            Err(e) => tracing::error!(error = %e, "outbox: a send panicked; its lease will run out"),
        }
    }
    if results.is_empty() {
        return Ok(count);
    }
    let mut tx = db.begin_write().await?;
    // The events are recorded last; taking the log's lock first keeps two instances' batches, which
    // update the same webhook rows, from waiting on each other in a cycle.
    events::lock_log_early(&mut tx).await?;
    let mut recorded = Vec::new();
    for (row, outcome) in &results {
        settle(&mut tx, config, row, outcome, &mut recorded).await?;
    }
    tx.commit().await?;
    events::after_commit(db, bus, recorded);
    Ok(count)
}

/// The worker: sends due rows as soon as a commit wakes it, and looks again every `poll` for retries
/// and for rows other instances queued.
pub async fn run(db: Db, bus: EventBus, config: Arc<OutboxConfig>) {
    loop {
        match drain_once(&db, &bus, &config).await {
            Ok(0) => {}
            Ok(_) => continue,
            Err(e) => tracing::warn!(error = %e, "outbox: claim failed; retrying"),
        }
        tokio::select! {
            _ = wake_signal().notified() => {}
            _ = tokio::time::sleep(config.poll) => {}
        }
    }
}
