//! Demo data for a newcomer's first run (`--demo`).

mod discord;

use app::accounts::User;
use app::accounts::{service, store, Level, Profile, Role, Tier};
use app::booking::calls::{BookingStatus, Platform};
use app::booking::{self, eastern, DayHours, WeeklyHours, BUFFER_MINUTES};
use app::db::rfc3339;
use app::db::Db;
use app::events::EventBus;
use app::tickets::quota::TicketLimits;
use app::tickets::{service as tickets, NewTicketInput, Status, TicketPatch};
use jiff::civil::Date;
use sqlx::Row;

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
            profile: staff(Role::Manager, Level::L4, true),
            what: "manager (L4), takes calls Tue/Thu afternoons",
        },
    ]
}

/// Creates the demo users that do not exist yet; returns how many were created.
/// On a portal without tickets it also opens a few in different states.
pub async fn seed(db: &Db) -> Result<usize, String> {
    let policy = app::outbound::OutboundPolicy::default()
        .with_operator_host("127.0.0.1", 3000)
        .with_operator_host("127.0.0.1", CLOSED_PORT);
    seed_for(db, "http://127.0.0.1:3000", &policy).await
}

/// The closed port the demo's broken "CRM sync" webhook points at (9, discard: connections are refused).
pub const CLOSED_PORT: u16 = 9;

/// [`seed`], for a portal reached at `base_url` (where the demo webhooks point), whose outbound rule must
/// allow that address (the server's `--demo` does).
pub async fn seed_for(db: &Db, base_url: &str, outbound: &app::outbound::OutboundPolicy) -> Result<usize, String> {
    let created = seed_users(db).await?;
    // Before the tickets and calls, so that those announce themselves through the outbox like real ones.
    seed_integrations(db, base_url, outbound).await?;
    seed_tickets(db).await?;
    crate::demo_metrics::seed(db).await?;
    seed_features(db).await?;
    seed_queue(db).await?;
    seed_calls(db).await?;
    seed_kb(db).await?;
    discord::seed(db).await?;
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

/// Outgoing webhooks (one healthy, one whose server is down and that gets switched off), the Discord
/// channel, and an email choice, so the Integrations page and the delivery logs fill up as the demo runs.
async fn seed_integrations(db: &Db, base_url: &str, outbound: &app::outbound::OutboundPolicy) -> Result<(), String> {
    use app::notify::integrations::WEBHOOK_EVENTS;
    use app::notify::integrations_store::{self as integrations, WebhookInput};
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhooks").fetch_one(&db.pool).await.map_err(|e| e.to_string())?;
    if existing > 0 {
        return Ok(());
    }
    let fail = |e: app::error::AppError| format!("demo integrations: {}", e.message);
    let manager = demo_user(db, "manager@demo.supportal.test").await?;
    let healthy = WebhookInput {
        url: Some(format!("{base_url}{DEMO_RECEIVER}/webhook")),
        events: Some(WEBHOOK_EVENTS.iter().map(|(kind, _)| kind.to_string()).collect()),
        description: Some("Demo receiver: the portal's own endpoint, which checks each signature".into()),
        ..WebhookInput::default()
    };
    integrations::create_webhook(db, outbound, manager.id, &healthy).await.map_err(fail)?;
    let broken = WebhookInput {
        // Port 9 (discard) refuses connections: watch the retries, then the automatic switch-off.
        url: Some(format!("http://127.0.0.1:{CLOSED_PORT}/crm-sync")),
        events: Some(vec!["ticket.created".into(), "sla.breached".into()]),
        description: Some("CRM sync (its server is down)".into()),
        ..WebhookInput::default()
    };
    integrations::create_webhook(db, outbound, manager.id, &broken).await.map_err(fail)?;
    let discord_events: Vec<String> =
        ["ticket.new_p1", "sla.breached", "booking.created", "booking.cancelled"].map(String::from).to_vec();
    integrations::save_discord(db, outbound, Some(&format!("{base_url}{DEMO_RECEIVER}/discord")), &discord_events)
        .await
        .map_err(fail)?;
    let general = demo_user(db, "general@demo.supportal.test").await?;
    let prefs = app::notify::integrations::EmailPreferences { features: false, ..Default::default() };
    integrations::save_email_preferences(db, general.id, prefs).await.map_err(fail)?;
    Ok(())
}

/// Where the demo's webhooks deliver: a receiver inside the portal itself, mounted only with `--demo`.
pub const DEMO_RECEIVER: &str = "/demo/receiver";

/// The demo receiver: a Discord post is taken as is; a webhook delivery only with a valid signature.
pub fn receiver(db: Db) -> axum::Router {
    axum::Router::new().route(&format!("{DEMO_RECEIVER}/{{kind}}"), axum::routing::post(receive)).with_state(db)
}

async fn receive(
    axum::extract::State(db): axum::extract::State<Db>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    headers: http::HeaderMap,
    body: String,
) -> http::StatusCode {
    use http::StatusCode;
    if serde_json::from_str::<serde_json::Value>(&body).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    if kind == "discord" {
        return StatusCode::NO_CONTENT;
    }
    let Some(signature) = headers.get("x-supportal-signature").and_then(|v| v.to_str().ok()) else {
        return StatusCode::UNAUTHORIZED;
    };
    let Some(t) = signature.split(',').find_map(|p| p.strip_prefix("t=")).and_then(|t| t.parse::<i64>().ok()) else {
        return StatusCode::UNAUTHORIZED;
    };
    let secrets: Vec<String> = sqlx::query_scalar("SELECT secret FROM webhooks WHERE url LIKE $1")
        .bind(format!("%{DEMO_RECEIVER}/webhook"))
        .fetch_all(&db.pool)
        .await
        .unwrap_or_default();
    if secrets.iter().any(|secret| app::notify::integrations::signature(secret, t, &body) == signature) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
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
        async move { tickets::create(&db, &bus, &user, input.validate()?, TicketLimits::NONE).await }
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
    // The platinum customer's webhook ticket is the L1 agent's; the API one the L2 agent's.
    for (agent, id) in [(&l1, webhooks.id), (&l2, api.id)] {
        let claim = TicketPatch { assignee_id: Some(Some(agent.id)), ..Default::default() };
        tickets::update(db, &bus, agent, id, &claim).await.map_err(fail)?;
    }
    tickets::refresh_deadlines(db).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// More running tickets from the community, so the agents' queue has every view populated: claimed and
/// unclaimed, at risk and breached, on hold, with internal notes. Backdated, then the stored deadlines are
/// worked out again.
async fn seed_queue(db: &Db) -> Result<(), String> {
    const MARKER: &str = "Scheduled posts publish twice";
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE subject = $1")
        .bind(MARKER)
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    if done > 0 {
        return Ok(());
    }
    let bus = EventBus::new();
    let fail = |e: app::error::AppError| format!("demo queue: {}", e.message);
    let l1 = demo_user(db, "l1@demo.supportal.test").await?;
    let l2 = demo_user(db, "l2@demo.supportal.test").await?;
    let ada = demo_user(db, COMMUNITY[0].0).await?;
    let ben = demo_user(db, COMMUNITY[1].0).await?;
    let cleo = demo_user(db, COMMUNITY[2].0).await?;
    let dev = demo_user(db, COMMUNITY[3].0).await?;
    // (customer, subject, body, priority, category, minutes ago, assignee, status, internal note)
    type Row<'a> =
        (&'a User, &'a str, &'a str, &'a str, &'a str, i64, Option<&'a User>, Option<Status>, Option<&'a str>);
    let rows: [Row; 6] = [
        (&ada, MARKER, "Every scheduled post goes out twice since Monday.", "P2", "bug", 5 * 60, None, None, None),
        (
            &dev,
            "SSO setup guidance",
            "We want to sign in with our Okta; where do we start?",
            "P4",
            "question",
            20,
            None,
            None,
            None,
        ),
        (
            &ben,
            "Login emails arrive late",
            "The sign-in link takes 10 minutes to arrive.",
            "P3",
            "bug",
            2 * 60,
            Some(&l1),
            None,
            Some("Mail provider shows a queue backlog; checking with them before we answer."),
        ),
        (
            &cleo,
            "Data import stopped halfway",
            "The CSV import stopped at row 4,000.",
            "P3",
            "bug",
            26 * 60,
            Some(&l2),
            Some(Status::OnHold),
            Some("Waiting on the storage fix in tonight's release."),
        ),
        (
            &dev,
            "Rate limit hit by our dashboard",
            "Our dashboard gets 429s every few minutes.",
            "P2",
            "integration",
            3 * 60 + 20,
            Some(&l1),
            None,
            None,
        ),
        (
            &ben,
            "Invoice is missing our VAT number",
            "The November invoice has no VAT number on it.",
            "P4",
            "account",
            30,
            None,
            None,
            None,
        ),
    ];
    for (customer, subject, body, priority, category, minutes, assignee, status, note) in rows {
        let input = NewTicketInput {
            subject: subject.into(),
            body: body.into(),
            priority: priority.into(),
            category: Some(category.into()),
        };
        let ticket = tickets::create(db, &bus, customer, input.validate().map_err(fail)?, TicketLimits::NONE)
            .await
            .map_err(fail)?;
        sqlx::query("UPDATE tickets SET created_at = created_at - $1, updated_at = updated_at - $1 WHERE id = $2")
            .bind(minutes * 60)
            .bind(ticket.id)
            .execute(&db.pool)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(agent) = assignee {
            let claim = TicketPatch { assignee_id: Some(Some(agent.id)), status, ..Default::default() };
            tickets::update(db, &bus, agent, ticket.id, &claim).await.map_err(fail)?;
            if let Some(note) = note {
                tickets::add_message(db, &bus, agent, ticket.id, note, true).await.map_err(fail)?;
            }
        }
    }
    tickets::refresh_deadlines(db).await.map_err(|e| e.to_string())?;
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
        TicketLimits::NONE,
    )
    .await
    .map_err(fail)?;
    let public = app::features::NewFeatureInput {
        title: "Keyboard shortcuts for the ticket list".into(),
        body: "Move through the ticket list and open tickets from the keyboard.".into(),
    };
    features::from_ticket(db, &bus, &l1, ticket.id, public).await.map_err(fail)?;
    Ok(())
}

/// The Eastern instant of `date` at `hour:minute`.
fn eastern_at(date: Date, hour: i8, minute: i8) -> Result<i64, String> {
    let zoned = date.at(hour, minute, 0, 0).to_zoned(eastern().clone()).map_err(|e| e.to_string())?;
    Ok(zoned.timestamp().as_second())
}

/// One demo call, written straight to the table: calls in the past or less than 2 hours ahead cannot be booked
/// through the rules, and the demo needs some. Every start is on the grid and inside live-chat hours, and no two
/// calls of one agent overlap (buffer included).
struct DemoCall<'a> {
    customer: &'a User,
    agent: &'a User,
    ticket_id: Option<i64>,
    start: i64,
    minutes: i64,
    platform: Platform,
    topic: &'a str,
    status: BookingStatus,
    meeting_url: Option<&'a str>,
    cancel: Option<(&'a User, &'a str)>,
    notes: Option<&'a str>,
    created: i64,
}

async fn insert_call(db: &Db, call: &DemoCall<'_>, at: i64) -> Result<i64, String> {
    let end = call.start + call.minutes * 60;
    let busy_until = end + BUFFER_MINUTES * 60;
    // Reminders that would already have gone out are marked sent, so the worker does not send stale ones.
    let day_reminded = (call.start - at < 86_400).then_some(at);
    let soon_reminded = (call.start - at < 15 * 60).then_some(at);
    let row = sqlx::query(
        "INSERT INTO bookings (customer_id, agent_id, ticket_id, start_at, end_at, busy_until, duration_minutes, \
         platform, topic, status, meeting_url, cancel_reason, cancelled_by, notes, reminded_day_at, reminded_soon_at, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
    )
    .bind(call.customer.id)
    .bind(call.agent.id)
    .bind(call.ticket_id)
    .bind(call.start)
    .bind(end)
    .bind(busy_until)
    .bind(call.minutes)
    .bind(call.platform.as_str())
    .bind(call.topic)
    .bind(call.status.as_str())
    .bind(call.meeting_url)
    .bind(call.cancel.map(|(_, why)| why))
    .bind(call.cancel.map(|(who, _)| who.id))
    .bind(call.notes)
    .bind(day_reminded)
    .bind(soon_reminded)
    .bind(call.created)
    .fetch_one(&db.pool)
    .await
    .map_err(|e| format!("demo call: {e}"))?;
    row.try_get("id").map_err(|e| e.to_string())
}

/// A ticket of `requester` by its subject, if the demo tickets are there.
async fn ticket_by_subject(db: &Db, requester: &User, subject: &str) -> Result<Option<i64>, String> {
    sqlx::query_scalar("SELECT id FROM tickets WHERE requester_id = $1 AND subject = $2 ORDER BY id LIMIT 1")
        .bind(requester.id)
        .bind(subject)
        .fetch_optional(&db.pool)
        .await
        .map_err(|e| e.to_string())
}

/// Calls for the Platinum demo customer in every state, placed relative to now: one under way in the portal's
/// call room about their P1 ticket, a Zoom call with its link the business day after next, one cancelled by the
/// agent, one held on the previous business day with notes (an internal note on its ticket). Two other Platinum
/// customers have the agent on the next business day. The L2 agent has a day off next week; the manager takes calls on
/// Tuesday and Thursday afternoons only.
async fn seed_calls(db: &Db) -> Result<(), String> {
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM bookings").fetch_one(&db.pool).await.map_err(|e| e.to_string())?;
    if existing > 0 {
        return Ok(());
    }
    let platinum = demo_user(db, "platinum@demo.supportal.test").await?;
    let l2 = demo_user(db, "l2@demo.supportal.test").await?;
    let manager = demo_user(db, "manager@demo.supportal.test").await?;
    let ada = store::credentials_by_email(db, COMMUNITY[0].0).await.map_err(|e| e.to_string())?.map(|(u, _)| u);
    let rules = booking::service::load_rules(db).await.map_err(|e| e.to_string())?;
    let business = |date: &Date| rules.live_chat.get(date.weekday()).is_some() && !rules.holidays.contains(date);
    let step = |date: Date, forward: bool| if forward { date.tomorrow() } else { date.yesterday() };
    let business_day = |from: Date, forward: bool, nth: usize| -> Result<Date, String> {
        let (mut date, mut found) = (from, 0);
        for _ in 0..60 {
            date = step(date, forward).map_err(|e| e.to_string())?;
            if business(&date) {
                found += 1;
                if found == nth {
                    return Ok(date);
                }
            }
        }
        Err("demo calls: no business day within 60 days".to_string())
    };
    let at = app::db::now();
    let today = jiff::Timestamp::now().to_zoned(eastern().clone()).date();
    let (next, after, third) =
        (business_day(today, true, 1)?, business_day(today, true, 2)?, business_day(today, true, 3)?);
    let previous = business_day(today, false, 1)?;
    let webhooks = ticket_by_subject(db, &platinum, "Webhook notifications not arriving").await?;
    let days = |n: i64| n * 86_400;

    let call = |start: i64, minutes: i64, platform: Platform, topic: &'static str| DemoCall {
        customer: &platinum,
        agent: &l2,
        ticket_id: None,
        start,
        minutes,
        platform,
        topic,
        status: BookingStatus::Booked,
        meeting_url: None,
        cancel: None,
        notes: None,
        created: at - days(2),
    };
    // Under way right now, whatever the hour (demo data only: it ignores the hours so that a newcomer always finds
    // a live call room): a portal call about the P1 outage, begun on the last quarter hour.
    let outage = ticket_by_subject(db, &platinum, "Bot completely down since this morning").await?;
    let under_way = DemoCall {
        ticket_id: outage,
        created: at - 3 * 3600,
        ..call(at - at.rem_euclid(15 * 60), 60, Platform::Portal, "Bot down: restart and check the gateway together")
    };
    insert_call(db, &under_way, at).await?;
    // A second call under way, with the manager: Ada shares her screen. (The browser tests' video calls use it,
    // so they do not depend on the first one staying open.)
    if let Some(ada) = &ada {
        let screen_share = DemoCall {
            customer: ada,
            agent: &manager,
            created: at - 3 * 3600,
            ..call(at - at.rem_euclid(15 * 60), 60, Platform::Portal, "Screen share: walk through our role sync setup")
        };
        insert_call(db, &screen_share, at).await?;
    }
    // Next business day: another Platinum customer's portal call about the API.
    let dev = store::credentials_by_email(db, COMMUNITY[3].0).await.map_err(|e| e.to_string())?.map(|(u, _)| u);
    if let Some(dev) = &dev {
        let theirs = DemoCall {
            customer: dev,
            ticket_id: None,
            ..call(eastern_at(next, 11, 0)?, 45, Platform::Portal, "Walk through our API rate limits")
        };
        insert_call(db, &theirs, at).await?;
    }
    // The same morning another Platinum customer has the agent from 10:00 to 10:30 (busy until 10:40).
    if let Some(ada) = &ada {
        let theirs = DemoCall {
            customer: ada,
            ..call(eastern_at(next, 10, 0)?, 30, Platform::Discord, "Setting up role sync on our server")
        };
        insert_call(db, &theirs, at).await?;
    }
    // The business day after: Zoom, the agent has already sent the link.
    let zoom = DemoCall {
        meeting_url: Some("https://zoom.us/j/5550101234"),
        ..call(eastern_at(after, 15, 30)?, 45, Platform::Zoom, "Dashboard tour for our new team leads")
    };
    insert_call(db, &zoom, at).await?;
    // Cancelled by the agent, with the reason the customer was told.
    let cancelled = DemoCall {
        status: BookingStatus::Cancelled,
        cancel: Some((&l2, "Sam is at a customer site that day; please pick another time. Sorry!")),
        ..call(eastern_at(third, 14, 0)?, 30, Platform::Discord, "Review our moderation bot setup")
    };
    insert_call(db, &cancelled, at).await?;
    // Held on the previous business day, with the agent's notes.
    let notes = "Found the cause: the customer still posts to the pre-2.0 webhook URL. Sent the new URL and the \
                 migration guide; they will switch tonight and confirm on the ticket.";
    let held = DemoCall {
        ticket_id: webhooks,
        status: BookingStatus::Done,
        notes: Some(notes),
        created: eastern_at(previous, 9, 0)? - days(3),
        ..call(eastern_at(previous, 14, 0)?, 30, Platform::Portal, "Webhooks stopped arriving")
    };
    insert_call(db, &held, at).await?;
    if let Some(ticket_id) = webhooks {
        let context = app::tickets::clocks::SlaContext::load(db).await.map_err(|e| e.to_string())?;
        let mut tx = db.begin_write().await.map_err(|e| e.to_string())?;
        let text = format!("Call held on {} (30 min): {notes}", app::time::eastern_label(held.start));
        tickets::record_call_held(&mut tx, &context, ticket_id, &l2, &text, held.start + 30 * 60)
            .await
            .map_err(|e| format!("demo call notes: {e}"))?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }

    // A training day off for the L2 agent on Thursday next week (Eastern midnight to midnight).
    let monday = (1..=7)
        .filter_map(|n| today.checked_add(jiff::Span::new().days(n)).ok())
        .find(|d| d.weekday() == jiff::civil::Weekday::Monday)
        .ok_or("demo calls: no Monday ahead")?;
    let thursday = monday.checked_add(jiff::Span::new().days(3)).map_err(|e| e.to_string())?;
    let friday = thursday.tomorrow().map_err(|e| e.to_string())?;
    booking::service::add_time_off(
        db,
        &manager,
        l2.id,
        &eastern_at(thursday, 0, 0).map(rfc3339)?,
        &eastern_at(friday, 0, 0).map(rfc3339)?,
        "Training day",
    )
    .await
    .map_err(|e| format!("demo time off: {}", e.message))?;
    // The manager takes calls on Tuesday and Thursday afternoons only.
    let afternoon = Some(DayHours::hours(13, 17).map_err(|e| format!("demo hours: {e}"))?);
    let hours = WeeklyHours { tuesday: afternoon, thursday: afternoon, ..WeeklyHours::default() };
    booking::service::save_hours(db, &manager, manager.id, Some(&hours))
        .await
        .map_err(|e| format!("demo hours: {}", e.message))?;
    Ok(())
}

/// The starter knowledge base (added by slug, so edited articles are kept), with a few
/// "was this helpful?" answers; one starter article is a draft.
async fn seed_kb(db: &Db) -> Result<(), String> {
    use app::kb::service::{self as kb, Voter};
    let fail = |e: app::error::AppError| format!("demo articles: {}", e.message);
    let manager = demo_user(db, "manager@demo.supportal.test").await?;
    if kb::seed_starter(db, Some(manager.id)).await.map_err(fail)? == 0 {
        return Ok(());
    }
    let platinum = demo_user(db, "platinum@demo.supportal.test").await?;
    let general = demo_user(db, "general@demo.supportal.test").await?;
    let answers = [
        (&platinum, "how-sla-clocks-work", true),
        (&general, "how-sla-clocks-work", true),
        (&manager, "how-sla-clocks-work", false),
        (&platinum, "book-a-live-chat-or-video-call", true),
        (&general, "troubleshooting-notifications-and-webhooks", false),
    ];
    for (user, slug, helpful) in answers {
        kb::vote(db, Some(user), &Voter::user(user), slug, helpful).await.map_err(fail)?;
    }
    Ok(())
}
