//! The Discord channel's I/O: answering interactions (each command goes through the same services as the
//! portal: ticket rules and quotas, SLA clocks, booking engine, feature votes), linking accounts, the
//! channel mapping, registering commands and sending agent replies back through Discord's REST API.

use super::rules::{self, Request};
use super::{ChannelMapping, DiscordConfig, DiscordOrigin, DiscordState, LinkOffer, LINK_TTL_SECS, REPLY_EVENT};
use crate::accounts::service::sha256_hex;
use crate::accounts::{Role, Tier, User};
use crate::db::{now, Db};
use crate::error::{AppError, AppResult};
use crate::ratelimit::Limit;
use crate::services::Services;
use crate::tickets::{Category, NewTicketInput, Status};
use serde_json::{json, Value};
use sqlx::{Any, Row, Transaction};
use std::time::Duration;

/// Interactions kept for replay checks: well past the signature's time window.
const SEEN_KEEP_SECS: i64 = 3600;

/// Verifies and answers one interaction request. `Err` only for what Discord itself should see as a refusal
/// (401 unsigned or stale, 409 replayed, 400 not an interaction, 503 not configured); everything a person
/// did wrong is an ephemeral reply they can read.
pub async fn handle(
    services: &Services,
    config: &DiscordConfig,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> AppResult<Value> {
    let Some(key) = &config.public_key else {
        return Err(AppError::new(
            503,
            "discord_not_configured",
            "Discord is not set up on this portal (SUPPORTAL_DISCORD_PUBLIC_KEY).",
        ));
    };
    if let Err(refusal) = rules::verify(key, timestamp, signature, body, now()) {
        return Err(AppError::new(401, "bad_signature", refusal.message()));
    }
    let interaction: Value = serde_json::from_slice(body)
        .map_err(|_| AppError::bad_request("malformed_json", "The body is not valid JSON."))?;
    let request = rules::parse(&interaction).map_err(|why| AppError::bad_request("not_an_interaction", why))?;
    if request == Request::Ping {
        return Ok(json!({ "type": rules::PONG }));
    }
    let id = interaction.get("id").and_then(Value::as_str).filter(|id| rules::is_snowflake(id));
    let Some(id) = id else { return Err(AppError::bad_request("not_an_interaction", "The interaction has no id.")) };
    if !first_time(&services.db, id).await? {
        return Err(AppError::conflict("interaction_replayed", "This interaction was already handled."));
    }
    let Some((discord_id, discord_name)) = rules::caller(&interaction) else {
        return Ok(rules::ephemeral("Discord did not say who you are, so nothing was done."));
    };
    // One budget per Discord user: the requests all come from Discord's own addresses.
    if let Err(e) = services.limits.check(Limit::Discord, &format!("discord:{discord_id}")).await {
        let wait = e.retry_after.unwrap_or(60);
        return Ok(rules::ephemeral(&format!("You are going a little fast. Try again in {wait} seconds.")));
    }
    let base = services.outbox.base_url.clone();
    let token = interaction.get("token").and_then(Value::as_str).map(str::to_string);
    // Searches that may take a while (free call times across every agent's diary, similar requests across
    // all of them) answer "thinking…" at once and edit that answer when done: Discord waits 3 seconds only.
    if let (true, Some(app_id), Some(token)) = (rules::is_slow(&request), config.application_id.clone(), token) {
        let (services, config) = (services.clone(), config.clone());
        tokio::spawn(async move {
            let context = Context { services: &services, interaction: &interaction, discord_id, discord_name, base };
            let reply = answer_or_explain(context.answer(request).await);
            edit_original(&services, &config, &app_id, &token, &reply["data"]).await;
        });
        return Ok(json!({ "type": rules::DEFERRED_CHANNEL_MESSAGE, "data": { "flags": rules::EPHEMERAL } }));
    }
    let context = Context { services, interaction: &interaction, discord_id, discord_name, base };
    Ok(answer_or_explain(context.answer(request).await))
}

fn answer_or_explain(answer: AppResult<Value>) -> Value {
    answer.unwrap_or_else(|e| {
        if e.status >= 500 {
            rules::ephemeral("Something went wrong on our side; nothing was saved. Please try again in a moment.")
        } else {
            rules::ephemeral(&refusal_text(&e))
        }
    })
}

/// Replaces a deferred answer with the real one (Discord's "edit original interaction response"), with a
/// few tries: the interaction's token is good for 15 minutes.
async fn edit_original(services: &Services, config: &DiscordConfig, app_id: &str, token: &str, data: &Value) {
    let url = format!("{}/webhooks/{app_id}/{token}/messages/@original", config.api_base.trim_end_matches('/'));
    let Ok(client) = http(services) else { return };
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
        }
        let Ok(request) = client.request(reqwest::Method::PATCH, &url).await else {
            tracing::warn!("Discord: the API address is refused by the outbound rule");
            return;
        };
        let sent = request.header("content-type", "application/json").body(data.to_string()).send().await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) if response.status().is_client_error() && response.status().as_u16() != 429 => {
                tracing::warn!(status = response.status().as_u16(), "Discord refused a deferred answer");
                return;
            }
            Ok(response) => {
                tracing::info!(status = response.status().as_u16(), "Discord: deferred answer failed; retrying")
            }
            Err(_) => tracing::info!("Discord: could not reach the API for a deferred answer; retrying"),
        }
    }
}

/// An error as a person reads it: the message and what is wrong with each field.
fn refusal_text(e: &AppError) -> String {
    let mut text = e.message.clone();
    for (field, why) in &e.fields {
        if !text.contains(why.as_str()) {
            text.push_str(&format!("\n• {field}: {why}"));
        }
    }
    text
}

/// Records the interaction id; false when it was seen already (a replay).
async fn first_time(db: &Db, id: &str) -> AppResult<bool> {
    let at = now();
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM discord_interactions WHERE at < $1").bind(at - SEEN_KEEP_SECS).execute(&mut *tx).await?;
    let inserted = sqlx::query("INSERT INTO discord_interactions (id, at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(inserted.rows_affected() == 1)
}

struct Context<'a> {
    services: &'a Services,
    interaction: &'a Value,
    discord_id: String,
    discord_name: String,
    base: String,
}

impl Context<'_> {
    async fn answer(&self, request: Request) -> AppResult<Value> {
        let db = &self.services.db;
        if request == Request::Link {
            return self.link().await;
        }
        if let Request::Unknown(what) = &request {
            return Ok(rules::ephemeral(&format!(
                "I do not know `{}`. Try /ticket, /status, /hours, /book, /feature or /link.",
                rules::cut(what, 60)
            )));
        }
        if let Request::FromMessage { author_id, author_name, content, message_id } = request {
            return self.ticket_from_message(&author_id, &author_name, &content, &message_id).await;
        }
        if request == Request::Hours {
            return self.hours().await;
        }
        let Some(user) = linked_user(db, &self.discord_id).await? else {
            return Ok(rules::ephemeral(&unlinked_text(&self.base)));
        };
        match request {
            Request::TicketForm => {
                if user.role != Role::Customer {
                    return Ok(rules::ephemeral("Tickets are opened by customers; agents answer them in the portal."));
                }
                Ok(rules::ticket_modal())
            }
            Request::TicketSubmit { subject, description, priority } => {
                self.ticket(&user, &subject, &description, &priority).await
            }
            Request::Status { ticket } => self.status(&user, ticket).await,
            Request::Book => self.book(&user).await,
            Request::BookSlot { start, minutes } => self.book_slot(&user, start, minutes).await,
            Request::Feature { title } => self.feature(&user, &title).await,
            Request::FeaturePost { title } => self.feature_post(&user, &title).await,
            Request::Vote { feature_id } => {
                let feature =
                    crate::features::service::vote(db, &self.services.events, &user, feature_id, true).await?;
                Ok(rules::ephemeral(&format!(
                    "Your vote is in for “{}” ({} votes): {}/features/{}",
                    rules::defuse_mentions(&feature.title),
                    feature.votes,
                    self.base,
                    feature.id
                )))
            }
            _ => Ok(rules::ephemeral("Nothing to do.")),
        }
    }

    async fn link(&self) -> AppResult<Value> {
        let db = &self.services.db;
        if let Some(user) = linked_user(db, &self.discord_id).await? {
            return Ok(rules::ephemeral(&format!(
                "Your Discord account is already linked to the Supportal account of {}. To link another one, \
                 unlink it first on your account page: {}/account",
                user.name, self.base
            )));
        }
        let token = new_token();
        let at = now();
        let mut tx = db.begin_write().await?;
        // Earlier unused links of this Discord user stop working: only the newest one counts.
        sqlx::query("DELETE FROM discord_link_tokens WHERE discord_user_id = $1 OR expires_at < $2")
            .bind(&self.discord_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO discord_link_tokens (token_hash, discord_user_id, discord_name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(&self.discord_id)
        .bind(&self.discord_name)
        .bind(at)
        .bind(at + LINK_TTL_SECS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rules::ephemeral(&format!(
            "Open this link in your browser, signed in to Supportal, and confirm: {}/discord/link?token={token}\n\
             It works once, for {} minutes, and only you can see this message. No account yet? Sign up first: {}/register",
            self.base,
            LINK_TTL_SECS / 60,
            self.base
        )))
    }

    fn channel(&self) -> (Option<String>, Option<String>) {
        let id = self.interaction.get("channel_id").and_then(Value::as_str).map(str::to_string);
        let name = self
            .interaction
            .get("channel")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(|n| rules::cut(n, 100));
        (id, name)
    }

    async fn ticket(&self, user: &User, subject: &str, description: &str, priority: &str) -> AppResult<Value> {
        let mut problems = Vec::new();
        if description.chars().count() > rules::MODAL_TEXT_MAX {
            problems.push(format!("description: at most {} characters", rules::MODAL_TEXT_MAX));
        }
        let priority = match rules::parse_priority(priority) {
            Ok(p) => Some(p),
            Err(why) => {
                problems.push(format!("priority: {why}"));
                None
            }
        };
        if !problems.is_empty() {
            return Ok(rules::ephemeral(&format!("The ticket was not opened:\n• {}", problems.join("\n• "))));
        }
        let (channel_id, channel_name) = self.channel();
        let mapping = load_mapping(&self.services.db).await?;
        let category = rules::category_for(channel_name.as_deref(), &mapping);
        let input = NewTicketInput {
            subject: subject.to_string(),
            body: description.to_string(),
            priority: priority.map(|p| p.as_str().to_string()).unwrap_or_default(),
            category: Some(category.as_str().to_string()),
        };
        let ticket = self.open_ticket(user, input, channel_id, channel_name, "command", None).await?;
        Ok(rules::ephemeral(&ticket_opened_text(&ticket, &self.base)))
    }

    async fn open_ticket(
        &self,
        user: &User,
        input: NewTicketInput,
        channel_id: Option<String>,
        channel_name: Option<String>,
        source: &str,
        message_url: Option<String>,
    ) -> AppResult<crate::tickets::Ticket> {
        let new = input.validate()?;
        let services = self.services;
        let ticket =
            crate::tickets::service::create(&services.db, &services.events, user, new, services.ticket_limits).await?;
        let discord_id = discord_id_of(&services.db, user.id).await?.unwrap_or_else(|| self.discord_id.clone());
        let origin = Origin { discord_user_id: &discord_id, channel_id, channel_name, source, message_url };
        record_origin(&services.db, ticket.id, origin).await?;
        Ok(ticket)
    }

    async fn ticket_from_message(
        &self,
        author_id: &str,
        author_name: &str,
        content: &str,
        message_id: &str,
    ) -> AppResult<Value> {
        let db = &self.services.db;
        let caller = linked_user(db, &self.discord_id).await?;
        let staff = caller.as_ref().is_some_and(|u| u.role.is_staff()) || rules::member_is_moderator(self.interaction);
        if !staff {
            return Ok(rules::ephemeral("Only support staff turn messages into tickets."));
        }
        let Some(author) = linked_user(db, author_id).await? else {
            return Ok(rules::ephemeral(&format!(
                "{} has not linked a Supportal account, so no ticket was opened. Ask them to use /link.",
                rules::defuse_mentions(author_name)
            )));
        };
        let content = content.trim();
        if content.is_empty() {
            return Ok(rules::ephemeral("That message has no text to open a ticket with."));
        }
        let (channel_id, channel_name) = self.channel();
        let guild = self.interaction.get("guild_id").and_then(Value::as_str).unwrap_or("@me");
        let message_url =
            channel_id.as_deref().map(|c| format!("https://discord.com/channels/{guild}/{c}/{message_id}"));
        let subject = rules::cut(content.lines().next().unwrap_or(content), crate::tickets::SUBJECT_MAX);
        let mut body = rules::cut(content, crate::tickets::BODY_MAX - 200);
        if let Some(url) = &message_url {
            body.push_str(&format!("\n\n(From Discord: {url})"));
        }
        let mapping = load_mapping(db).await?;
        let input = NewTicketInput {
            subject,
            body,
            priority: "P3".into(),
            category: Some(rules::category_for(channel_name.as_deref(), &mapping).as_str().to_string()),
        };
        let ticket = self.open_ticket(&author, input, channel_id, channel_name, "message", message_url).await?;
        Ok(rules::ephemeral(&format!(
            "Ticket #{} opened for {} from that message (P3; an agent can change it): {}/tickets/{}",
            ticket.id,
            rules::defuse_mentions(author_name),
            self.base,
            ticket.id
        )))
    }

    async fn status(&self, user: &User, ticket: Option<i64>) -> AppResult<Value> {
        let db = &self.services.db;
        if let Some(id) = ticket {
            // Someone else's ticket answers exactly like one that does not exist.
            return match crate::tickets::service::get(db, user, id).await {
                Ok(t) => Ok(rules::ephemeral(&status_line(&t, &self.base))),
                Err(e) if e.status == 404 => Ok(rules::ephemeral(&format!("You have no ticket #{id}."))),
                Err(e) => Err(e),
            };
        }
        let filter = crate::tickets::TicketFilter::default();
        let tickets = crate::tickets::service::list(db, user, &filter, 0, 50).await?;
        let open: Vec<_> = tickets
            .iter()
            .filter(|t| t.requester_id == user.id && !matches!(t.status, Status::Resolved | Status::Closed))
            .take(10)
            .collect();
        if open.is_empty() {
            return Ok(rules::ephemeral(&format!(
                "You have no open tickets. Open one with /ticket or at {}/tickets/new",
                self.base
            )));
        }
        let lines: Vec<String> = open.iter().map(|t| status_line(t, &self.base)).collect();
        Ok(rules::ephemeral(&format!("Your open tickets:\n{}", lines.join("\n"))))
    }

    async fn hours(&self) -> AppResult<Value> {
        let report = crate::sla_store::hours(&self.services.db, jiff::Timestamp::now()).await?;
        let line = |name: &str, status: &crate::sla_store::OpenStatus, weekly: &str| {
            let state = if status.open { "open now" } else { "closed now" };
            let next = status
                .next_change_at
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| {
                    let verb = if status.open { "closes" } else { "opens" };
                    format!(", {verb} {}", rules::when(t.as_second()))
                })
                .unwrap_or_default();
            format!("**{name}**: {state}{next}. {weekly}")
        };
        let text = format!(
            "{}\n{}\nTimes are America/New_York; holidays are closed.",
            line("Support", &report.support, "Mon–Fri 09:00–18:00, Sat 10:00–16:00 Eastern."),
            line("Live chat and calls", &report.live_chat, "Mon–Fri 09:00–18:00 Eastern; Platinum books with /book."),
        );
        Ok(rules::ephemeral(&text))
    }

    async fn book(&self, user: &User) -> AppResult<Value> {
        if user.tier != Some(Tier::Platinum) || user.role != Role::Customer {
            return Ok(rules::ephemeral(&format!(
                "Calls with an engineer (30–60 minutes, screen sharing, on Discord or Zoom) are part of the Platinum \
                 plan. You can still open a ticket with /ticket; to upgrade, see {}/calls",
                self.base
            )));
        }
        self.offer_times(user, "Pick a time for a 30-minute call (your local time):").await
    }

    async fn offer_times(&self, user: &User, heading: &str) -> AppResult<Value> {
        let today = jiff::Timestamp::now().to_zoned(crate::booking::eastern().clone()).date();
        let offer =
            crate::booking::service::offer(&self.services.db, user, today, 14, crate::booking::CallLength::M30, None)
                .await?;
        let buttons: Vec<(String, String)> = offer
            .slots
            .iter()
            .take(10)
            .map(|s| {
                let eastern = s.start.to_zoned(crate::booking::eastern().clone());
                (format!("book:{}:30", s.start.as_second()), eastern.strftime("%a %b %-d, %H:%M ET").to_string())
            })
            .collect();
        if buttons.is_empty() {
            return Ok(rules::ephemeral(&format!(
                "No call times are free in the next two weeks. Try {}/calls/book",
                self.base
            )));
        }
        let times: Vec<String> = offer.slots.iter().take(10).map(|s| rules::when(s.start.as_second())).collect();
        Ok(rules::with_buttons(&format!("{heading}\n{}", times.join("\n")), &buttons))
    }

    async fn book_slot(&self, user: &User, start: i64, minutes: i64) -> AppResult<Value> {
        crate::booking::service::check_booking_rate(&self.services.limits, user).await?;
        let Ok(start_at) = jiff::Timestamp::from_second(start) else {
            return Ok(rules::ephemeral("That time is not valid."));
        };
        let new = crate::booking::calls::NewBooking {
            start: start_at.to_string(),
            duration_minutes: minutes,
            platform: "discord".into(),
            topic: "Call booked from Discord".into(),
            ticket_id: None,
        };
        match crate::booking::service::book(&self.services.db, &self.services.events, user, &new).await {
            Ok(booking) => Ok(rules::ephemeral(&format!(
                "Booked: a {}-minute call on Discord at {}. Details and calendar file: {}/calls/{}",
                booking.duration_minutes,
                rules::when(start),
                self.base,
                booking.id
            ))),
            Err(e) if e.status == 409 => {
                self.offer_times(user, "That time was just taken. These are still free:").await
            }
            Err(e) => Err(e),
        }
    }

    async fn feature(&self, user: &User, title: &str) -> AppResult<Value> {
        let title = title.trim();
        if title.is_empty() {
            return Ok(rules::ephemeral("Give the request a title: /feature title: what you would like"));
        }
        let similar = crate::features::service::similar(&self.services.db, Some(user), title).await?;
        if similar.is_empty() {
            return self.feature_post(user, title).await;
        }
        let mut buttons: Vec<(String, String)> = similar
            .iter()
            .take(4)
            .map(|f| (format!("vote:{}", f.id), format!("Vote: {}", rules::cut(&f.title, 60))))
            .collect();
        buttons.push((rules::feature_post_id(title), "Post mine as new".into()));
        let lines: Vec<String> = similar
            .iter()
            .take(4)
            .map(|f| {
                format!("• {} ({} votes) {}/features/{}", rules::defuse_mentions(&f.title), f.votes, self.base, f.id)
            })
            .collect();
        Ok(rules::with_buttons(
            &format!("These requests look like yours; a vote counts more than a duplicate:\n{}", lines.join("\n")),
            &buttons,
        ))
    }

    async fn feature_post(&self, user: &User, title: &str) -> AppResult<Value> {
        crate::features::service::check_post_rate(&self.services.limits, user).await?;
        let input = crate::features::NewFeatureInput {
            title: title.to_string(),
            body: format!("{title}\n\n(Posted from Discord.)"),
        };
        let feature =
            crate::features::service::create(&self.services.db, &self.services.events, user, input.validate()?).await?;
        Ok(rules::ephemeral(&format!(
            "Posted “{}”. Others can vote on it: {}/features/{}",
            rules::defuse_mentions(&feature.title),
            self.base,
            feature.id
        )))
    }
}

/// Where a ticket opened from Discord came from.
pub struct Origin<'a> {
    pub discord_user_id: &'a str,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    /// `command` (/ticket) or `message` (staff's message command).
    pub source: &'a str,
    pub message_url: Option<String>,
}

/// Marks a ticket as opened from Discord (replies go back there; the ticket shows "via Discord").
pub async fn record_origin(db: &Db, ticket_id: i64, origin: Origin<'_>) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO discord_tickets (ticket_id, discord_user_id, channel_id, channel_name, source, message_url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ticket_id)
    .bind(origin.discord_user_id)
    .bind(origin.channel_id)
    .bind(origin.channel_name)
    .bind(origin.source)
    .bind(origin.message_url)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Links a Discord user to an account without a `/link` round trip (demo data).
pub async fn link_directly(db: &Db, user_id: i64, discord_user_id: &str, discord_name: &str) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO discord_links (user_id, discord_user_id, discord_name, linked_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(discord_user_id)
    .bind(discord_name)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn status_line(t: &crate::tickets::Ticket, base: &str) -> String {
    let clock = |c: &crate::tickets::SlaClock| {
        if c.running {
            format!("due {} ({})", rules::when(c.due_epoch), c.state.as_str().replace('_', " "))
        } else {
            c.state.as_str().replace('_', " ")
        }
    };
    format!(
        "**#{}** {} · {} · {} — first response {}, resolution {} — {base}/tickets/{}",
        t.id,
        rules::defuse_mentions(&rules::cut(&t.subject, 80)),
        t.priority.as_str(),
        t.status.label(),
        clock(&t.sla.first_response),
        clock(&t.sla.resolution),
        t.id
    )
}

fn ticket_opened_text(t: &crate::tickets::Ticket, base: &str) -> String {
    format!(
        "Ticket **#{}** is open ({}, {}). First response due {}; resolution due {}. Follow it here: {base}/tickets/{}\n\
         Agent replies will also come to you here on Discord.",
        t.id,
        t.priority.as_str(),
        t.category.label(),
        rules::when(t.sla.first_response.due_epoch),
        rules::when(t.sla.resolution.due_epoch),
        t.id
    )
}

/// What a Discord user who has not linked an account is told.
pub fn unlinked_text(base: &str) -> String {
    format!(
        "Your Discord account is not linked to a Supportal account yet, so I cannot tell which tickets and plan are \
         yours. Use /link to get a one-time link (nothing is created until you confirm it in the portal). \
         No account yet? Sign up at {base}/register, then use /link."
    )
}

fn new_token() -> String {
    use rand::RngCore;
    let mut buf = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

pub async fn linked_user(db: &Db, discord_user_id: &str) -> AppResult<Option<User>> {
    let row = sqlx::query("SELECT user_id FROM discord_links WHERE discord_user_id = $1")
        .bind(discord_user_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let user_id: i64 = row.try_get("user_id")?;
    Ok(crate::accounts::store::user_by_id(db, user_id).await?)
}

async fn discord_id_of(db: &Db, user_id: i64) -> AppResult<Option<String>> {
    let row = sqlx::query("SELECT discord_user_id FROM discord_links WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.try_get("discord_user_id")).transpose()?)
}

/// The Discord name linked to an account, if any.
pub async fn linked_name(db: &Db, user_id: i64) -> AppResult<Option<String>> {
    let row = sqlx::query("SELECT discord_name FROM discord_links WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.try_get("discord_name")).transpose()?)
}

fn link_expired() -> AppError {
    AppError::new(
        410,
        "link_expired",
        "This link has expired or was already used. Use /link in Discord again to get a new one.",
    )
}

/// What a link token is for, before the signed-in customer confirms it.
pub async fn link_offer(db: &Db, user: &User, token: &str) -> AppResult<LinkOffer> {
    let row = sqlx::query(
        "SELECT discord_name, expires_at FROM discord_link_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(sha256_hex(token.trim()))
    .bind(now())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Err(link_expired()) };
    Ok(LinkOffer {
        discord_name: row.try_get("discord_name")?,
        expires_at: row.try_get("expires_at")?,
        already_linked_as: linked_name(db, user.id).await?,
    })
}

/// Binds the Discord user of `token` to `user`: once, before it expires, and only when neither side is
/// linked to someone else (409 otherwise, nothing written).
pub async fn confirm_link(db: &Db, user: &User, token: &str) -> AppResult<String> {
    if user.role != Role::Customer && !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let at = now();
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT discord_user_id, discord_name FROM discord_link_tokens \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(sha256_hex(token.trim()))
    .bind(at)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Err(link_expired()) };
    let discord_user_id: String = row.try_get("discord_user_id")?;
    let discord_name: String = row.try_get("discord_name")?;
    let taken = sqlx::query("SELECT user_id FROM discord_links WHERE discord_user_id = $1 OR user_id = $2")
        .bind(&discord_user_id)
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?;
    if let Some(other) = taken.first() {
        let other: i64 = other.try_get("user_id")?;
        return Err(if other == user.id {
            AppError::conflict(
                "already_linked",
                "Your account is already linked to a Discord account. Unlink it first on your account page.",
            )
        } else {
            AppError::conflict(
                "discord_linked_elsewhere",
                "This Discord account is already linked to another Supportal account. One Discord account links to one Supportal account.",
            )
        });
    }
    sqlx::query("UPDATE discord_link_tokens SET used_at = $1 WHERE token_hash = $2")
        .bind(at)
        .bind(sha256_hex(token.trim()))
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO discord_links (user_id, discord_user_id, discord_name, linked_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.id)
    .bind(&discord_user_id)
    .bind(&discord_name)
    .bind(at)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        // Two confirmations racing: the schema's unique keys decide, and the loser is told plainly.
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(AppError::conflict(
                "discord_linked_elsewhere",
                "This Discord account was just linked elsewhere.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(discord_name)
}

/// The account's Discord link, if any.
pub async fn account_link(db: &Db, user_id: i64) -> AppResult<Option<super::AccountLink>> {
    let row = sqlx::query("SELECT discord_name, replies FROM discord_links WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| {
        Ok(super::AccountLink { discord_name: r.try_get("discord_name")?, replies: crate::db::flag(&r, "replies")? })
    })
    .transpose()
    .map_err(|e: sqlx::Error| AppError::from(e))
}

/// Whether agent replies go to the customer on Discord too.
pub async fn set_replies(db: &Db, user: &User, on: bool) -> AppResult<Option<super::AccountLink>> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE discord_links SET replies = $1 WHERE user_id = $2")
        .bind(i64::from(on))
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    account_link(db, user.id).await
}

/// Removes the account's Discord link (the customer's own choice).
pub async fn unlink(db: &Db, user: &User) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM discord_links WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The managers' saved mapping, as (channel, category).
pub async fn load_mapping(db: &Db) -> AppResult<Vec<(String, Category)>> {
    let rows =
        sqlx::query("SELECT channel, category FROM discord_channels ORDER BY channel").fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("channel")?, crate::db::text_column(r, "category")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Sets (or with `None`, removes) the category of a channel.
pub async fn save_mapping(
    db: &Db,
    user: &User,
    channel: &str,
    category: Option<&str>,
) -> AppResult<Vec<ChannelMapping>> {
    if !matches!(user.role, Role::Manager | Role::Admin) {
        return Err(AppError::forbidden());
    }
    let channel = rules::normalise_channel(channel);
    let valid = !channel.is_empty()
        && channel.chars().count() <= 100
        && channel.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(AppError::invalid_field("channel", "A channel name like bug-reports (letters, digits, - and _)."));
    }
    let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse::<Category>().map_err(|m| AppError::invalid_field("category", m))?),
        None => None,
    };
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM discord_channels WHERE channel = $1").bind(&channel).execute(&mut *tx).await?;
    if let Some(category) = category {
        sqlx::query("INSERT INTO discord_channels (channel, category) VALUES ($1, $2)")
            .bind(&channel)
            .bind(category.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    mappings(db).await
}

/// The plan's channels with their categories, then the managers' other channels.
pub async fn mappings(db: &Db) -> AppResult<Vec<ChannelMapping>> {
    let saved = load_mapping(db).await?;
    let mut out: Vec<ChannelMapping> = ["platinum-support", "general-support", "bug-reports", "feature-requests"]
        .iter()
        .map(|name| {
            let custom = saved.iter().any(|(c, _)| c == name);
            ChannelMapping {
                channel: name.to_string(),
                category: rules::category_for(Some(name), &saved).as_str().to_string(),
                custom,
            }
        })
        .collect();
    for (channel, category) in &saved {
        if !out.iter().any(|m| &m.channel == channel) {
            out.push(ChannelMapping {
                channel: channel.clone(),
                category: category.as_str().to_string(),
                custom: true,
            });
        }
    }
    Ok(out)
}

pub async fn state(db: &Db, config: &DiscordConfig, base_url: &str) -> AppResult<DiscordState> {
    let count = |sql: &'static str| async move {
        sqlx::query(sql).fetch_one(&db.pool).await.and_then(|r| r.try_get::<i64, _>("n"))
    };
    Ok(DiscordState {
        interactions_url: format!("{}/api/v1/discord/interactions", base_url.trim_end_matches('/')),
        public_key_set: config.public_key.is_some(),
        application_id: config.application_id.clone(),
        bot_token_set: config.bot_token.is_some(),
        api_base: config.api_base.clone(),
        linked_accounts: count("SELECT COUNT(*) AS n FROM discord_links").await?,
        tickets_from_discord: count("SELECT COUNT(*) AS n FROM discord_tickets").await?,
        channels: mappings(db).await?,
    })
}

/// How a ticket came in, when it came from Discord.
pub async fn origin(db: &Db, ticket_id: i64) -> AppResult<Option<DiscordOrigin>> {
    let row = sqlx::query("SELECT source, channel_name, message_url FROM discord_tickets WHERE ticket_id = $1")
        .bind(ticket_id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| {
        Ok(DiscordOrigin {
            source: r.try_get("source")?,
            channel_name: r.try_get("channel_name")?,
            message_url: r.try_get("message_url")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| AppError::from(e))
}

fn http(services: &Services) -> AppResult<crate::outbound::OutboundHttp> {
    services
        .outbound
        .http(Duration::from_secs(10), concat!("Supportal-Discord/", env!("CARGO_PKG_VERSION")))
        .map_err(|_| AppError::internal())
}

/// Registers the slash commands and the message command with Discord (bulk overwrite: the list replaces
/// whatever was registered before). Returns how many Discord now has.
pub async fn register_commands(services: &Services, config: &DiscordConfig, user: &User) -> AppResult<usize> {
    if !matches!(user.role, Role::Manager | Role::Admin) {
        return Err(AppError::forbidden());
    }
    let (Some(app_id), Some(token)) = (&config.application_id, &config.bot_token) else {
        return Err(AppError::new(
            422,
            "discord_not_configured",
            "Set SUPPORTAL_DISCORD_APPLICATION_ID and SUPPORTAL_DISCORD_BOT_TOKEN first.",
        ));
    };
    let url = format!("{}/applications/{app_id}/commands", config.api_base.trim_end_matches('/'));
    let request = http(services)?.request(reqwest::Method::PUT, &url).await.map_err(|refusal| {
        AppError::new(502, "discord_unreachable", format!("Discord's API was refused: {}", refusal.short()))
    })?;
    let response = request
        .header("authorization", format!("Bot {token}"))
        .header("content-type", "application/json")
        .body(rules::commands().to_string())
        .send()
        .await
        .map_err(|_| AppError::new(502, "discord_unreachable", "Discord's API did not answer."))?;
    let status = response.status();
    if !status.is_success() {
        return Err(AppError::new(
            502,
            "discord_refused",
            format!("Discord refused the commands (HTTP {}). Check the application id and bot token.", status.as_u16()),
        ));
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(body.as_array().map_or(0, Vec::len))
}

/// Queues a public agent reply for the Discord user who opened the ticket there (if they still want that),
/// inside the reply's own transaction.
pub async fn queue_reply(
    tx: &mut Transaction<'static, Any>,
    ticket_id: i64,
    message_id: i64,
    agent: &str,
    body: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "SELECT d.discord_user_id, l.user_id FROM discord_tickets d \
         JOIN tickets t ON t.id = d.ticket_id \
         JOIN discord_links l ON l.user_id = t.requester_id AND l.discord_user_id = d.discord_user_id \
         WHERE d.ticket_id = $1 AND l.replies = 1",
    )
    .bind(ticket_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let discord_user_id: String = row.try_get("discord_user_id")?;
    let user_id: i64 = row.try_get("user_id")?;
    let payload = json!({
        "discord_user_id": discord_user_id,
        "ticket_id": ticket_id,
        "content": rules::cut(&format!("**{agent}** replied on ticket #{ticket_id}:\n{body}"), rules::MESSAGE_MAX - 120),
    });
    sqlx::query(
        "INSERT INTO outbox (channel, webhook_id, user_id, dedupe_key, event, payload, next_attempt_at, created_at) \
         VALUES ('discord', NULL, $1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(format!("discord_reply:message:{message_id}"))
    .bind(REPLY_EVENT)
    .bind(payload.to_string())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What one try of sending a reply back came to: (HTTP status, error).
pub struct Sent {
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// Nothing to send with (no bot token): settled without retries.
    pub skipped: bool,
}

/// Sends a queued reply as a direct message from the bot: open (or reuse) the DM channel, post into it.
pub async fn deliver_reply(http: &crate::outbound::OutboundHttp, config: &DiscordConfig, payload: &str) -> Sent {
    let skipped = |why: &str| Sent { status_code: None, error: Some(why.to_string()), skipped: true };
    let Some(token) = &config.bot_token else { return skipped("no Discord bot token is set") };
    let Ok(payload) = serde_json::from_str::<Value>(payload) else { return skipped("unreadable reply in the outbox") };
    let (Some(recipient), Some(content)) =
        (payload.get("discord_user_id").and_then(Value::as_str), payload.get("content").and_then(Value::as_str))
    else {
        return skipped("unreadable reply in the outbox");
    };
    let base = config.api_base.trim_end_matches('/');
    let post = |url: String, body: Value| async move {
        let request = http.post(&url).await.map_err(|r| (None, format!("refused: {}", r.short())))?;
        let response = request
            .header("authorization", format!("Bot {token}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|_| (None, "could not reach Discord".to_string()))?;
        let status = i64::from(response.status().as_u16());
        if !response.status().is_success() {
            return Err((Some(status), format!("HTTP {status}")));
        }
        let bytes = response.bytes().await.unwrap_or_default();
        Ok::<(i64, Value), (Option<i64>, String)>((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    };
    let channel = match post(format!("{base}/users/@me/channels"), json!({ "recipient_id": recipient })).await {
        Ok((_, body)) => body.get("id").and_then(Value::as_str).map(str::to_string),
        Err((status_code, error)) => return Sent { status_code, error: Some(error), skipped: false },
    };
    let Some(channel) = channel.filter(|c| rules::is_snowflake(c)) else {
        return Sent { status_code: None, error: Some("Discord sent no DM channel".into()), skipped: false };
    };
    let message = json!({ "content": content, "allowed_mentions": { "parse": [] } });
    match post(format!("{base}/channels/{channel}/messages"), message).await {
        Ok((status, _)) => Sent { status_code: Some(status), error: None, skipped: false },
        Err((status_code, error)) => Sent { status_code, error: Some(error), skipped: false },
    }
}
