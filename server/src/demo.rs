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
    seed_features(db).await?;
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

/// Other customers of the demo community, so votes add up to something (they can sign in too).
const COMMUNITY: [(&str, &str, Tier); 5] = [
    ("ada@community.supportal.test", "Ada Builder", Tier::Platinum),
    ("ben@community.supportal.test", "Ben Ops", Tier::General),
    ("cleo@community.supportal.test", "Cleo Analyst", Tier::General),
    ("dev@community.supportal.test", "Dev Integrator", Tier::Platinum),
    ("eve@community.supportal.test", "Eve Moderator", Tier::General),
];

/// Feature requests in every state (one merged, one from a ticket), with votes
/// spread over the last weeks so top and trending differ, comments and history.
async fn seed_features(db: &Db) -> Result<(), String> {
    use app::features::{service as features, FeatureStatus, NewFeatureInput, StatusChange};
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM features").fetch_one(&db.pool).await.map_err(|e| e.to_string())?;
    if existing > 0 {
        return Ok(());
    }
    let bus = EventBus::new();
    let mut community = Vec::new();
    for (email, name, tier) in COMMUNITY {
        let user = match store::credentials_by_email(db, email).await.map_err(|e| e.to_string())? {
            Some((user, _)) => user,
            None => service::create_user(db, email, name, DEMO_PASSWORD.to_string(), &Profile::customer(tier))
                .await
                .map_err(|e| format!("demo user {email}: {}", e.message))?,
        };
        community.push(user);
    }
    let platinum = demo_user(db, "platinum@demo.supportal.test").await?;
    let general = demo_user(db, "general@demo.supportal.test").await?;
    let l1 = demo_user(db, "l1@demo.supportal.test").await?;
    let l2 = demo_user(db, "l2@demo.supportal.test").await?;
    let manager = demo_user(db, "manager@demo.supportal.test").await?;
    let fail = |e: app::error::AppError| format!("demo feature: {}", e.message);
    let post = |user: &User, title: &str, body: &str| {
        let input = NewFeatureInput { title: title.into(), body: body.into() };
        let (db, bus, user) = (db.clone(), bus.clone(), user.clone());
        async move { features::create(&db, &bus, &user, input.validate()?).await }
    };
    // Each voter votes, then the vote is dated `days_ago` days back.
    let votes = |id: i64, voters: Vec<(&User, i64)>| {
        let (db, bus) = (db.clone(), bus.clone());
        let voters: Vec<(User, i64)> = voters.into_iter().map(|(u, d)| (u.clone(), d)).collect();
        async move {
            for (user, days_ago) in voters {
                features::vote(&db, &bus, &user, id, true).await.map_err(|e| e.message)?;
                sqlx::query(
                    "UPDATE feature_votes SET created_at = created_at - $1 WHERE feature_id = $2 AND user_id = $3",
                )
                .bind(days_ago * 86_400)
                .bind(id)
                .bind(user.id)
                .execute(&db.pool)
                .await
                .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }
    };
    let status = |user: &User, id: i64, to: FeatureStatus, note: &str| {
        let change = StatusChange { status: to, note: Some(note.to_string()) };
        let (db, bus, user) = (db.clone(), bus.clone(), user.clone());
        async move { features::set_status(&db, &bus, &user, id, &change).await.map(|_| ()) }
    };
    let comment = |user: &User, id: i64, body: &str| {
        let (db, bus, user, body) = (db.clone(), bus.clone(), user.clone(), body.to_string());
        async move { features::add_comment(&db, &bus, &user, id, &body).await.map(|_| ()) }
    };
    let c = &community;

    let dark = post(
        &platinum,
        "Dark mode for the dashboard",
        "Our team works late; a dark theme would be easier on the eyes.",
    )
    .await
    .map_err(fail)?;
    votes(dark.id, vec![(&general, 20), (&c[0], 18), (&c[1], 16), (&c[2], 9), (&c[3], 2)]).await?;
    status(&l1, dark.id, FeatureStatus::UnderReview, "Thanks! Collecting designs.").await.map_err(fail)?;
    status(&l2, dark.id, FeatureStatus::Planned, "Designs are done; we build it next month.").await.map_err(fail)?;
    comment(&c[1], dark.id, "Please follow the system setting automatically.").await.map_err(fail)?;
    comment(&l2, dark.id, "It will follow the system setting, with a switch to override it.").await.map_err(fail)?;

    let night = post(&c[4], "Night mode theme", "A darker colour scheme for the portal.").await.map_err(fail)?;
    votes(night.id, vec![(&general, 3), (&c[1], 1)]).await?;
    comment(&c[4], night.id, "Dark grey rather than pure black, please.").await.map_err(fail)?;
    features::merge(db, &bus, &manager, night.id, dark.id).await.map_err(fail)?;

    let export = post(
        &general,
        "Scheduled CSV export of tickets",
        "Send the monthly ticket export to an address automatically.",
    )
    .await
    .map_err(fail)?;
    votes(export.id, vec![(&platinum, 12), (&c[2], 11), (&c[3], 5)]).await?;
    status(&l2, export.id, FeatureStatus::InProgress, "Being built now: daily, weekly and monthly schedules.")
        .await
        .map_err(fail)?;

    let slack =
        post(&platinum, "Slack alerts for SLA breaches", "Like the Discord webhook, but for our Slack workspace.")
            .await
            .map_err(fail)?;
    votes(slack.id, vec![(&c[0], 1), (&c[3], 0), (&c[4], 0)]).await?;
    status(&l1, slack.id, FeatureStatus::UnderReview, "Looking at how this fits next to the Discord webhook.")
        .await
        .map_err(fail)?;

    let two_factor = post(&general, "Two-factor sign-in", "An authenticator app code on top of the password.")
        .await
        .map_err(fail)?;
    votes(two_factor.id, vec![(&platinum, 40), (&c[0], 38), (&c[1], 35), (&c[2], 30), (&c[3], 30), (&c[4], 29)])
        .await?;
    status(&l2, two_factor.id, FeatureStatus::Planned, "Scheduled for the next quarter.").await.map_err(fail)?;
    status(&l2, two_factor.id, FeatureStatus::InProgress, "Under way.").await.map_err(fail)?;
    status(&l2, two_factor.id, FeatureStatus::Shipped, "Available now under Account → Security.")
        .await
        .map_err(fail)?;
    comment(&platinum, two_factor.id, "Works great, thank you!").await.map_err(fail)?;

    let fields = post(&c[2], "Free-form custom ticket fields", "Let us add our own fields to the ticket form.")
        .await
        .map_err(fail)?;
    votes(fields.id, vec![(&c[1], 25)]).await?;
    status(
        &l2,
        fields.id,
        FeatureStatus::Declined,
        "Categories and the description cover this; we will not add free-form fields.",
    )
    .await
    .map_err(fail)?;

    let retries = post(
        &c[3],
        "Webhook retries with backoff",
        "Retry failed webhook deliveries a few times, waiting longer each time.",
    )
    .await
    .map_err(fail)?;
    votes(retries.id, vec![(&platinum, 0), (&c[0], 1)]).await?;
    comment(&l1, retries.id, "Good idea; the delivery log would show each attempt.").await.map_err(fail)?;

    // A P4 ticket that an agent turned into a request.
    let ticket = tickets::create(
        db,
        &bus,
        &general,
        NewTicketInput {
            subject: "Keyboard shortcuts for the ticket list".into(),
            body: "Moving through tickets with j/k would save us a lot of clicks.".into(),
            priority: "P4".into(),
            category: Some("feature_request".into()),
        }
        .validate()
        .map_err(fail)?,
    )
    .await
    .map_err(fail)?;
    features::from_ticket(db, &bus, &l1, ticket.id, None, None).await.map_err(fail)?;
    Ok(())
}
