//! Demo data for the Discord channel: the Platinum demo customer is linked to a Discord account, and two of
//! her tickets came in through Discord (one with `/ticket` in #bug-reports, one that staff opened from her
//! post in #platinum-support), so the ticket pages show "via Discord" and agent replies there go back.

use super::demo_user;
use app::db::Db;
use app::discord::service::{link_directly, record_origin, Origin};
use app::events::EventBus;
use app::tickets::quota::TicketLimits;
use app::tickets::{service as tickets, NewTicketInput};

/// The demo customer's Discord id (a made-up snowflake).
pub const DEMO_DISCORD_ID: &str = "111111111111111111";

pub async fn seed(db: &Db) -> Result<(), String> {
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM discord_tickets")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        return Ok(());
    }
    let fail = |e: app::error::AppError| format!("demo Discord: {}", e.message);
    let platinum = demo_user(db, "platinum@demo.supportal.test").await?;
    link_directly(db, platinum.id, DEMO_DISCORD_ID, "paula.platinum").await.map_err(fail)?;
    let bus = EventBus::new();
    let url = "https://discord.com/channels/333333333333333333/444444444444444444/555555555555555555";
    // (subject, description, priority, category, channel id, channel, how it came in, the post it came from)
    let tickets = [
        (
            "Export to CSV stops at 50%".to_string(),
            "Exporting last month's bets stops at 50% with \"Limit reached\", though I exported only once this month."
                .to_string(),
            "P2",
            "bug",
            "222222222222222222",
            "bug-reports",
            "command",
            None,
        ),
        (
            "Webhook notifications stopped this morning".to_string(),
            format!("Webhook notifications stopped this morning; the webhook shows active.\n\n(From Discord: {url})"),
            "P3",
            "question",
            "444444444444444444",
            "platinum-support",
            "message",
            Some(url),
        ),
    ];
    for (subject, body, priority, category, channel_id, channel_name, source, message_url) in tickets {
        let input = NewTicketInput { subject, body, priority: priority.into(), category: Some(category.into()) };
        let ticket = tickets::create(db, &bus, &platinum, input.validate().map_err(fail)?, TicketLimits::NONE)
            .await
            .map_err(fail)?;
        let origin = Origin {
            discord_user_id: DEMO_DISCORD_ID,
            channel_id: Some(channel_id.into()),
            channel_name: Some(channel_name.into()),
            source,
            message_url: message_url.map(Into::into),
        };
        record_origin(db, ticket.id, origin).await.map_err(fail)?;
    }
    Ok(())
}
