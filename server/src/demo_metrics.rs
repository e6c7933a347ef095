//! Demo history for the metrics page: about forty tickets spread over the last 30 days from the two demo
//! customers, worked by the L1 and L2 demo agents, most answered and resolved in time, some late, with survey
//! answers (mostly good, a few bad with a comment). Written straight to the tables with backdated instants (the
//! services stamp "now"), together with the rows the services would have written: history, the resolved pause,
//! the agents' replies and the surveys.
//!
//! Idempotent: it does nothing when its first ticket already exists.

use app::accounts::{store, User};
use app::db::{now, Db};
use sqlx::{Any, Row, Transaction};

/// The subject of the first demo-history ticket: its presence means the history is there.
const MARKER_SUBJECT: &str = "Weekly report e-mail arrives twice";

const SUBJECTS: [(&str, &str, &str); 20] = [
    (MARKER_SUBJECT, "bug", "Since Monday every weekly report comes in two copies."),
    ("Webhook retries flood our endpoint", "integration", "After a timeout the retries come every second."),
    ("How do I add a second admin?", "question", "We need another person to manage the account."),
    ("Invoice shows the wrong company name", "account", "The March invoice has our old name."),
    ("Bot stops answering after deploy", "bug", "It goes quiet for ten minutes after each deploy."),
    ("API returns 502 on large uploads", "integration", "Uploads over 20 MB fail with 502."),
    ("Dark mode for the dashboard", "feature_request", "Our night shift would love it."),
    ("Password reset link expired at once", "account", "The link says expired right after it arrives."),
    ("Slow search on the ticket list", "bug", "Searching takes 8 seconds since last week."),
    ("Export to CSV misses the last day", "integration", "The export stops a day early."),
    ("Can we change the reply-to address?", "question", "Replies should go to our support alias."),
    ("Discord alerts stopped", "integration", "No P1 alerts reach our Discord since Friday."),
    ("Typo on the pricing page", "other", "It says 'anually'."),
    ("Two-factor codes rejected", "account", "Codes from the app are refused about half the time."),
    ("Bulk close for old tickets", "feature_request", "We would like to close a hundred at once."),
    ("Attachments fail on Safari", "bug", "Uploading from an iPhone shows an error."),
    ("Rate limit hit by our sync job", "integration", "The nightly sync gets 429 after ten minutes."),
    ("Where are the audit logs?", "question", "We cannot find who changed a setting."),
    ("Time zone wrong in e-mails", "bug", "E-mails show UTC instead of Eastern time."),
    ("SSO login loops", "bug", "Signing in with SSO sends us back to the login page."),
];

const BAD_COMMENTS: [&str; 3] = [
    "It took far too long to get a first answer.",
    "The fix did not work at first and I had to ask twice.",
    "Nobody told me it was waiting on us.",
];

/// A small deterministic generator, so every demo portal gets the same history.
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

async fn user(db: &Db, email: &str) -> Result<User, String> {
    store::credentials_by_email(db, email)
        .await
        .map_err(|e| e.to_string())?
        .map(|(user, _)| user)
        .ok_or_else(|| format!("demo user {email} missing"))
}

/// Targets in minutes (first response, resolution) by tier and priority, as in the default policy table.
fn targets(platinum: bool, priority: &str) -> (i64, i64) {
    match (platinum, priority) {
        (true, "P1") => (60, 240),
        (true, "P2") => (240, 1440),
        (true, "P3") => (1440, 4320),
        (true, _) => (2880, 10080),
        (false, "P1" | "P2") => (1440, 4320),
        (false, "P3") => (1440, 10080),
        (false, _) => (2880, 10080),
    }
}

async fn history(
    tx: &mut Transaction<'static, Any>,
    ticket_id: i64,
    actor: i64,
    kind: &str,
    change: (Option<&str>, Option<&str>),
    reason: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    app::tickets::service::history_at(tx, ticket_id, Some(actor), kind, change, reason, at).await
}

async fn reply(
    tx: &mut Transaction<'static, Any>,
    ticket_id: i64,
    author: i64,
    body: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_messages (ticket_id, author_id, body, internal, created_at) VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(ticket_id)
    .bind(author)
    .bind(body)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes the demo history unless it is there already.
pub async fn seed(db: &Db) -> Result<(), String> {
    let platinum = user(db, "platinum@demo.supportal.test").await?;
    let general = user(db, "general@demo.supportal.test").await?;
    let l1 = user(db, "l1@demo.supportal.test").await?;
    let l2 = user(db, "l2@demo.supportal.test").await?;
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE subject = $1 AND requester_id = $2")
        .bind(MARKER_SUBJECT)
        .bind(general.id)
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    if done > 0 {
        return Ok(());
    }
    write(db, [&platinum, &general], [&l1, &l2]).await.map_err(|e| format!("demo metrics: {e}"))
}

async fn write(db: &Db, customers: [&User; 2], agents: [&User; 2]) -> Result<(), sqlx::Error> {
    let at_now = now();
    let mut dice = Dice(0x5u64 << 40 | 2026);
    let mut tx = db.begin_write().await?;
    for i in 0..40u64 {
        // Spread over the last 30 days, the newest first in the list; the first ticket is the marker.
        let age = (i * 30 * 86_400) / 40 + dice.next(6 * 3600);
        let created = at_now - 3600 - age as i64;
        let customer = if i % 3 == 0 { customers[1] } else { customers[0] };
        let platinum = customer.id == customers[0].id;
        let (subject, category, body) = SUBJECTS[if i == 0 { 0 } else { 1 + (i as usize * 7) % 19 }];
        let priority = match dice.next(10) {
            0 => "P1",
            1..=3 => "P2",
            4..=7 => "P3",
            _ => "P4",
        };
        let agent = if dice.next(3) == 0 { agents[1] } else { agents[0] };
        let (first_target, resolution_target) = targets(platinum, priority);
        // Most answers well inside the target; about one in six late.
        let late_first = dice.next(6) == 0;
        let first_delay =
            if late_first { first_target * 60 * 3 / 2 } else { first_target * 60 * (5 + dice.next(40) as i64) / 100 };
        let first_response = Some(created + first_delay.max(120)).filter(|t| *t < at_now - 600);
        let late_resolution = dice.next(7) == 0;
        let resolution_delay = if late_resolution {
            resolution_target * 60 * 5 / 4
        } else {
            resolution_target * 60 * (10 + dice.next(50) as i64) / 100
        };
        let resolved = first_response
            .map(|f| (created + resolution_delay).max(f + 1800))
            .filter(|t| *t < at_now - 300 && age > 2 * 86_400);
        let status = match (first_response, resolved) {
            (_, Some(_)) => "resolved",
            (Some(_), None) => "open",
            (None, None) => "new",
        };
        let level = if agent.id == agents[1].id { "L2" } else { "L1" };
        let updated = resolved.or(first_response).unwrap_or(created);
        let row = sqlx::query(
            "INSERT INTO tickets (subject, body, priority, category, status, tier, requester_id, assignee_id, level, \
             created_at, updated_at, first_response_at, resolved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(subject)
        .bind(body)
        .bind(priority)
        .bind(category)
        .bind(status)
        .bind(if platinum { "platinum" } else { "general" })
        .bind(customer.id)
        .bind(agent.id)
        .bind(level)
        .bind(created)
        .bind(updated)
        .bind(first_response)
        .bind(resolved)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        history(&mut tx, id, customer.id, "created", (None, Some(priority)), None, created).await?;
        history(&mut tx, id, agent.id, "assignee", (None, Some(&agent.id.to_string())), None, created + 60).await?;
        if let Some(first) = first_response {
            reply(&mut tx, id, agent.id, "Thanks for the report — we are looking into it now.", first).await?;
            history(&mut tx, id, agent.id, "first_response", (None, None), None, first).await?;
            history(&mut tx, id, agent.id, "status", (Some("new"), Some("open")), None, first).await?;
        }
        let Some(resolved) = resolved else { continue };
        reply(&mut tx, id, agent.id, "This is fixed on our side; tell us if you still see it.", resolved - 60).await?;
        history(&mut tx, id, agent.id, "status", (Some("open"), Some("resolved")), None, resolved).await?;
        sqlx::query("INSERT INTO sla_pauses (ticket_id, reason, started_at) VALUES ($1, 'resolved', $2)")
            .bind(id)
            .bind(resolved)
            .execute(&mut *tx)
            .await?;
        // Four in five resolutions get an answer; late ones are more often bad.
        if dice.next(5) == 0 {
            continue;
        }
        let bad = dice.next(if late_first || late_resolution { 2 } else { 12 }) == 0;
        let answered = (resolved + 3600 + dice.next(8 * 3600) as i64).min(at_now - 60);
        let comment = bad.then(|| BAD_COMMENTS[dice.next(BAD_COMMENTS.len() as u64) as usize]);
        let rating = if bad { "bad" } else { "good" };
        sqlx::query(
            "INSERT INTO ticket_surveys (ticket_id, resolved_at, rating, comment, requester_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(resolved)
        .bind(rating)
        .bind(comment)
        .bind(customer.id)
        .bind(answered)
        .execute(&mut *tx)
        .await?;
        history(&mut tx, id, customer.id, "survey", (None, Some(rating)), comment, answered).await?;
    }
    tx.commit().await
}
