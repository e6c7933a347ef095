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
    let open = |subject: &str, body: &str, priority: &str, category: &str| NewTicketInput {
        subject: subject.into(),
        body: body.into(),
        priority: priority.into(),
        category: Some(category.into()),
    };
    let from_command = open(
        "Export to CSV stops at 50%",
        "Exporting last month's bets stops at 50% with \"Limit reached\", though I exported only once this month.",
        "P2",
        "bug",
    );
    let ticket = tickets::create(db, &bus, &platinum, from_command.validate().map_err(fail)?, TicketLimits::NONE)
        .await
        .map_err(fail)?;
    let origin = Origin {
        discord_user_id: DEMO_DISCORD_ID,
        channel_id: Some("222222222222222222".into()),
        channel_name: Some("bug-reports".into()),
        source: "command",
        message_url: None,
    };
    record_origin(db, ticket.id, origin).await.map_err(fail)?;

    let url = "https://discord.com/channels/333333333333333333/444444444444444444/555555555555555555";
    let from_message = open(
        "Webhook notifications stopped this morning",
        &format!("Webhook notifications stopped this morning; the webhook shows active.\n\n(From Discord: {url})"),
        "P3",
        "question",
    );
    let ticket = tickets::create(db, &bus, &platinum, from_message.validate().map_err(fail)?, TicketLimits::NONE)
        .await
        .map_err(fail)?;
    let origin = Origin {
        discord_user_id: DEMO_DISCORD_ID,
        channel_id: Some("444444444444444444".into()),
        channel_name: Some("platinum-support".into()),
        source: "message",
        message_url: Some(url.into()),
    };
    record_origin(db, ticket.id, origin).await.map_err(fail)?;
    Ok(())
}
