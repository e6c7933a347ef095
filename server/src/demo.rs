//! Demo data for a newcomer's first run (`--demo`).

use app::accounts::User;
use app::accounts::{service, store, Level, Profile, Role, Tier};
use app::db::Db;
use app::events::EventBus;
use app::tickets::{service as tickets, NewTicketInput, Status, TicketPatch};

pub const DEMO_PASSWORD: &str = "supportal-demo";

pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub profile: Profile,
    pub what: &'static str,
}

pub fn demo_users() -> Vec<DemoUser> {
    let staff = |role, level, takes_calls| Profile { role, tier: None, level: Some(level), takes_calls };
    vec![
        DemoUser {
            email: "platinum@demo.supportal.test",
            name: "Paula Platinum",
            profile: Profile::customer(Tier::Platinum),
            what: "platinum customer",
        },
        DemoUser {
            email: "general@demo.supportal.test",
            name: "Gene General",
            profile: Profile::customer(Tier::General),
            what: "general customer",
        },
        DemoUser {
            email: "l1@demo.supportal.test",
            name: "Lee Frontline",
            profile: staff(Role::Agent, Level::L1, false),
            what: "L1 agent",
        },
        DemoUser {
            email: "l2@demo.supportal.test",
            name: "Sam Senior",
            profile: staff(Role::Agent, Level::L2, true),
            what: "L2 agent, takes calls",
        },
        DemoUser {
            email: "manager@demo.supportal.test",
            name: "Morgan Manager",
            profile: staff(Role::Manager, Level::L4, false),
            what: "manager (L4)",
        },
    ]
}

/// Creates the demo users that do not exist yet; returns how many were created.
/// On a portal without tickets it also opens a few in different states.
pub async fn seed(db: &Db) -> Result<usize, String> {
    let created = seed_users(db).await?;
    seed_tickets(db).await?;
    Ok(created)
}

async fn seed_users(db: &Db) -> Result<usize, String> {
    let mut created = 0;
    for u in demo_users() {
        if store::credentials_by_email(db, u.email).await.map_err(|e| e.to_string())?.is_some() {
            continue;
        }
        service::create_user(db, u.email, u.name, DEMO_PASSWORD.to_string(), &u.profile)
            .await
            .map_err(|e| format!("demo user {}: {}", u.email, e.message))?;
        created += 1;
    }
    Ok(created)
}

pub fn print_sign_ins(address: &str) {
    println!();
    println!("  Supportal is running at {address}");
    println!("  Demo sign-ins (password for all: {DEMO_PASSWORD}):");
    for u in demo_users() {
        println!("    {:<32} {}", u.email, u.what);
    }
    println!();
}

async fn demo_user(db: &Db, email: &str) -> Result<User, String> {
    store::credentials_by_email(db, email)
        .await
        .map_err(|e| e.to_string())?
        .map(|(user, _)| user)
        .ok_or_else(|| format!("demo user {email} missing"))
}

/// A handful of tickets in different states, some backdated so their clocks
/// are already running down when a newcomer signs in.
async fn seed_tickets(db: &Db) -> Result<(), String> {
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&db.pool).await.map_err(|e| e.to_string())?;
    if existing > 0 {
        return Ok(());
    }
    let bus = EventBus::new();
    let platinum = demo_user(db, "platinum@demo.supportal.test").await?;
    let general = demo_user(db, "general@demo.supportal.test").await?;
    let l1 = demo_user(db, "l1@demo.supportal.test").await?;
    let l2 = demo_user(db, "l2@demo.supportal.test").await?;
    let fail = |e: app::error::AppError| format!("demo ticket: {}", e.message);
    let open = |user: &User, subject: &str, body: &str, priority: &str, category: &str| {
        let input = NewTicketInput {
            subject: subject.into(),
            body: body.into(),
            priority: priority.into(),
            category: Some(category.into()),
        };
        let (db, bus, user) = (db.clone(), bus.clone(), user.clone());
        async move { tickets::create(&db, &bus, &user, input.validate()?).await }
    };
    let backdate = |id: i64, minutes: i64| {
        let db = db.clone();
        async move {
            sqlx::query("UPDATE tickets SET created_at = created_at - $1, updated_at = updated_at - $1 WHERE id = $2")
                .bind(minutes * 60)
                .bind(id)
                .execute(&db.pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };

    // Unanswered P1: its one-hour first-response clock is already 40 minutes down.
    let down = open(
        &platinum,
        "Bot completely down since this morning",
        "No command answers and the dashboard shows no data.",
        "P1",
        "bug",
    )
    .await
    .map_err(fail)?;
    backdate(down.id, 40).await?;

    let webhooks = open(
        &platinum,
        "Webhook notifications not arriving",
        "The webhook shows as active but nothing reaches our Discord channel.",
        "P3",
        "integration",
    )
    .await
    .map_err(fail)?;
    tickets::add_message(
        db,
        &bus,
        &l1,
        webhooks.id,
        "Could you send a test with curl and tell us the status code you get?",
        false,
    )
    .await
    .map_err(fail)?;
    tickets::add_message(db, &bus, &platinum, webhooks.id, "curl says 404 for the old webhook URL.", false)
        .await
        .map_err(fail)?;
    tickets::add_message(db, &bus, &l1, webhooks.id, "Customer is still on the pre-2.0 webhook URL.", true)
        .await
        .map_err(fail)?;

    let api = open(
        &platinum,
        "API requests fail with 500",
        "Every call to the teams endpoint fails since the update.",
        "P2",
        "integration",
    )
    .await
    .map_err(fail)?;
    tickets::add_message(
        db,
        &bus,
        &l2,
        api.id,
        "Which API key prefix do you use? We need it to find your requests.",
        false,
    )
    .await
    .map_err(fail)?;
    let waiting = TicketPatch { status: Some(Status::PendingCustomer), ..Default::default() };
    tickets::update(db, &bus, &l2, api.id, &waiting).await.map_err(fail)?;

    let export = open(
        &general,
        "Export fails with \"Limit reached\"",
        "The monthly export stops with a limit error.",
        "P3",
        "bug",
    )
    .await
    .map_err(fail)?;
    backdate(export.id, 60 * 30).await?;
    tickets::escalate(db, &bus, &l1, export.id, app::accounts::Level::L2, "Looks like a quota bug, needs an engineer")
        .await
        .map_err(fail)?;

    let question = open(
        &general,
        "How do I read the analytics dashboard?",
        "Which numbers show weekly activity?",
        "P4",
        "question",
    )
    .await
    .map_err(fail)?;
    tickets::add_message(
        db,
        &bus,
        &l1,
        question.id,
        "The Activity panel shows weekly totals; our Analytics guide explains each chart.",
        false,
    )
    .await
    .map_err(fail)?;
    let resolved = TicketPatch { status: Some(Status::Resolved), ..Default::default() };
    tickets::update(db, &bus, &general, question.id, &resolved).await.map_err(fail)?;
    Ok(())
}
