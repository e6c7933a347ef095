#![recursion_limit = "256"]
//! Discord as a way in, through the real interactions endpoint on SQLite and PostgreSQL: requests signed
//! with a key pair from a fixed seed, and a local fake of Discord's REST API (the only fake: Discord itself
//! is on the internet) that records what the portal sends it.

mod common;

use app::accounts::{Level, Profile, Role, Tier, User};
use app::discord::DiscordConfig;
use app::services::Services;
use common::{call, TestApp, TestResponse};
use ed25519_dalek::{Signer, SigningKey};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "a long passphrase";
const PATH: &str = "/api/v1/discord/interactions";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

/// One request the fake Discord API received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: String,
    body: Value,
}

/// Discord's REST API as far as Supportal uses it, on 127.0.0.1.
struct FakeDiscord {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeDiscord {
    async fn start() -> FakeDiscord {
        use axum::extract::{Request, State};
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        async fn record(State(seen): State<Arc<Mutex<Vec<Seen>>>>, req: Request) -> axum::Json<Value> {
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            let authorization =
                req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let answer = if path.ends_with("/commands") {
                body.clone()
            } else if path == "/api/v10/users/@me/channels" {
                json!({ "id": "900000000000000001", "type": 1 })
            } else {
                json!({ "id": "900000000000000002" })
            };
            seen.lock().unwrap().push(Seen { method, path, authorization, body });
            axum::Json(answer)
        }
        let router = axum::Router::new().fallback(record).with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake Discord");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeDiscord { base: format!("http://127.0.0.1:{port}/api/v10"), seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn config(base: &str) -> DiscordConfig {
    DiscordConfig {
        public_key: Some(key().verifying_key()),
        application_id: Some("100000000000000001".into()),
        bot_token: Some("bot-token-for-tests".into()),
        api_base: base.into(),
    }
}

/// The app with Discord configured (the fake's address is on loopback, which the tests' outbound rule allows).
async fn discord_app(app: &TestApp, fake: &FakeDiscord) -> TestApp {
    let discord = Arc::new(config(&fake.base));
    let mut outbox = common::test_outbox(None);
    outbox.discord = (*discord).clone();
    common::app_with(app.state.services.db.clone(), app.backend, outbox, |s| Services { discord, ..s }, |st| st).await
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn interaction_id() -> String {
    format!("{}", 800_000_000_000_000_000u64 + NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

fn now() -> i64 {
    app::db::now()
}

fn signed(body: &str, timestamp: i64, key: &SigningKey) -> common::Call {
    let ts = timestamp.to_string();
    let signature = hex::encode(key.sign(format!("{ts}{body}").as_bytes()).to_bytes());
    call(Method::POST, PATH)
        .raw(body.as_bytes(), Some("application/json"))
        .header("x-signature-timestamp", &ts)
        .header("x-signature-ed25519", &signature)
}

/// Sends `interaction` (an id added) as Discord would, from Discord user `discord_id` in `channel`.
async fn interact(app: &TestApp, discord_id: &str, channel: &str, mut interaction: Value) -> Value {
    let id = interaction_id();
    interaction["token"] = json!(format!("token{id}"));
    interaction["id"] = json!(id);
    interaction["channel_id"] = json!("700000000000000001");
    interaction["channel"] = json!({ "id": "700000000000000001", "name": channel });
    interaction["guild_id"] = json!("600000000000000001");
    if interaction.get("member").is_none() {
        interaction["member"] =
            json!({ "user": { "id": discord_id, "username": format!("user{discord_id}") }, "permissions": "0" });
    }
    let r = app.send(signed(&interaction.to_string(), now(), &key())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// An interaction whose answer is deferred: Discord gets "thinking…" at once, then the portal edits it through
/// Discord's API; returns the edit as if it had been the answer.
async fn deferred(app: &TestApp, fake: &FakeDiscord, discord_id: &str, channel: &str, interaction: Value) -> Value {
    let before = fake.seen().len();
    let reply = interact(app, discord_id, channel, interaction).await;
    assert_eq!(reply, json!({ "type": 5, "data": { "flags": 64 } }));
    for _ in 0..100 {
        let seen = fake.seen();
        if let Some(edit) = seen[before..].iter().find(|s| s.method == "PATCH") {
            assert!(edit.path.starts_with("/api/v10/webhooks/100000000000000001/token"), "{}", edit.path);
            assert!(edit.path.ends_with("/messages/@original"), "{}", edit.path);
            return json!({ "type": 4, "data": edit.body });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the deferred answer never came");
}

fn command(name: &str, options: Value) -> Value {
    json!({ "type": 2, "data": { "name": name, "type": 1, "options": options } })
}

fn content(reply: &Value) -> String {
    reply["data"]["content"].as_str().unwrap_or_default().to_string()
}

async fn customer(app: &TestApp, email: &str, tier: Tier) -> (User, String) {
    let user = app.create_user(email, Profile::customer(tier)).await;
    (user, app.token(email, PASSWORD).await)
}

/// A server function's error code (its error shape is `{status, code, message}`).
fn rpc_code(r: &TestResponse) -> String {
    r.json()["code"].as_str().unwrap_or_default().to_string()
}

/// `/link` from `discord_id`, then the customer confirms the link in the portal.
async fn link(app: &TestApp, discord_id: &str, token: &str) {
    let reply = interact(app, discord_id, "general-support", command("link", json!([]))).await;
    let link_token = link_token(&reply);
    let r = app.rpc(token, "discord_confirm_link", &format!("token={link_token}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

fn link_token(reply: &Value) -> String {
    assert_eq!(reply["data"]["flags"], 64, "ephemeral: {reply}");
    let text = content(reply);
    let start = text.find("token=").expect("a link") + "token=".len();
    text[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}

// ---------------------------------------------------------------------------------------------------------

async fn signature_matrix(app: TestApp) {
    let ping = r#"{"type":1,"id":"1","application_id":"100000000000000001"}"#;
    // Not configured: the endpoint says so and does nothing.
    let r = app.send(signed(ping, now(), &key())).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);

    let fake = FakeDiscord::start().await;
    let app = discord_app(&app, &fake).await;
    let r = app.send(signed(ping, now(), &key())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "type": 1 }));

    // Missing headers, a signature that is not one, another key, a stale or future timestamp, a tampered body.
    let r = app.send(call(Method::POST, PATH).raw(ping.as_bytes(), Some("application/json"))).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"), "{}", r.text);
    let r = app
        .send(
            call(Method::POST, PATH)
                .raw(ping.as_bytes(), Some("application/json"))
                .header("x-signature-timestamp", &now().to_string())
                .header("x-signature-ed25519", "not-hex"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let other = SigningKey::from_bytes(&[43u8; 32]);
    assert_eq!(app.send(signed(ping, now(), &other)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(signed(ping, now() - 600, &key())).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(signed(ping, now() + 600, &key())).await.status, StatusCode::UNAUTHORIZED);
    let tampered = signed(ping, now(), &key()).raw(br#"{"type":1,"id":"2"}"#, Some("application/json"));
    assert_eq!(app.send(tampered).await.status, StatusCode::UNAUTHORIZED);

    // Discord's servers send no Origin, but even a cross-site one does not matter: the signature decides.
    let r = app.send(signed(ping, now(), &key()).header("origin", "https://discord.com")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A browser form from another site is still refused everywhere else.
    let r = app.send(call(Method::POST, "/api/v1/tickets").header("origin", "https://evil.example")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The body limit still applies.
    let big = format!(r#"{{"type":1,"pad":"{}"}}"#, "x".repeat(100 * 1024));
    let r = app.send(signed(&big, now(), &key())).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);

    // Signed but not an interaction; a replayed interaction (same id, still inside the window).
    let r = app.send(signed(r#"{"hello":true}"#, now(), &key())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let hours = json!({ "type": 2, "id": "555000000000000001", "data": { "name": "hours", "type": 1 },
                        "member": { "user": { "id": "123456789012345678", "username": "ann" } } })
    .to_string();
    assert_eq!(app.send(signed(&hours, now(), &key())).await.status, StatusCode::OK);
    let r = app.send(signed(&hours, now(), &key())).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "interaction_replayed"), "{}", r.text);

    // An unknown command gets a clear answer, not an error.
    let reply = interact(&app, "123456789012345678", "general-support", command("dance", json!([]))).await;
    assert!(content(&reply).contains("I do not know `dance`"), "{reply}");
}

async fn linking_accounts(app: TestApp) {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&app, &fake).await;
    let (ann_user, ann) = customer(&app, "ann@example.com", Tier::General).await;
    let (_, bob) = customer(&app, "bob@example.com", Tier::General).await;
    let ann_discord = "200000000000000001";

    // Not linked: a friendly explanation with the way to link and to sign up; nothing is created.
    let reply = interact(&app, ann_discord, "general-support", command("status", json!([]))).await;
    assert_eq!(reply["data"]["flags"], 64);
    assert!(content(&reply).contains("/link") && content(&reply).contains("/register"), "{reply}");
    let reply = interact(&app, ann_discord, "general-support", command("ticket", json!([]))).await;
    assert_ne!(reply["type"], 9, "no form for someone unlinked: {reply}");

    // /link: a one-time link; only its hash is stored.
    let reply = interact(&app, ann_discord, "general-support", command("link", json!([]))).await;
    let token = link_token(&reply);
    assert_eq!(token.len(), 64);
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM discord_link_tokens")
        .fetch_all(&app.state.services.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    // Signed out, the page's server functions refuse; signed in, the offer names the Discord user.
    let r = app
        .send(
            call(Method::POST, "/rpc/discord_link_offer")
                .header("accept", "application/json")
                .raw(format!("token={token}").as_bytes(), Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.rpc(&ann, "discord_link_offer", &format!("token={token}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["discord_name"], format!("user{ann_discord}"));
    assert_eq!(r.json()["already_linked_as"], Value::Null);

    let r = app.rpc(&ann, "discord_confirm_link", &format!("token={token}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Single use.
    let r = app.rpc(&ann, "discord_confirm_link", &format!("token={token}")).await;
    assert_eq!((r.status.as_u16(), rpc_code(&r).as_str()), (410, "link_expired"), "{}", r.text);
    let r = app.rpc(&ann, "discord_confirm_link", "token=deadbeef").await;
    assert_eq!(r.status.as_u16(), 410, "{}", r.text);

    // Now Discord knows who Ann is.
    let reply = interact(&app, ann_discord, "general-support", command("status", json!([]))).await;
    assert!(content(&reply).contains("no open tickets"), "{reply}");
    let reply = interact(&app, ann_discord, "general-support", command("link", json!([]))).await;
    assert!(content(&reply).contains("already linked"), "{reply}");

    // One Discord id ↔ one account. Ann cannot add a second Discord account to hers:
    let reply = interact(&app, "200000000000000002", "general-support", command("link", json!([]))).await;
    let second = link_token(&reply);
    let r = app.rpc(&ann, "discord_link_offer", &format!("token={second}")).await;
    assert_eq!(r.json()["already_linked_as"], format!("user{ann_discord}"), "{}", r.text);
    let r = app.rpc(&ann, "discord_confirm_link", &format!("token={second}")).await;
    assert_eq!((r.status, rpc_code(&r).as_str()), (StatusCode::CONFLICT, "already_linked"), "{}", r.text);
    // …and a link made for a Discord account that is linked to Ann by the time Bob confirms it is refused.
    sqlx::query("DELETE FROM discord_links").execute(&app.state.services.db.pool).await.unwrap();
    let reply = interact(&app, ann_discord, "general-support", command("link", json!([]))).await;
    let third = link_token(&reply);
    sqlx::query(
        "INSERT INTO discord_links (user_id, discord_user_id, discord_name, linked_at) VALUES ($1, $2, 'ann', 0)",
    )
    .bind(ann_user.id)
    .bind(ann_discord)
    .execute(&app.state.services.db.pool)
    .await
    .unwrap();
    let r = app.rpc(&bob, "discord_confirm_link", &format!("token={third}")).await;
    assert_eq!((r.status, rpc_code(&r).as_str()), (StatusCode::CONFLICT, "discord_linked_elsewhere"), "{}", r.text);
    let links: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM discord_links").fetch_one(&app.state.services.db.pool).await.unwrap();
    assert_eq!(links, 1, "nothing half-written");
    // The link Ann could not use still works for Bob.
    let r = app.rpc(&bob, "discord_confirm_link", &format!("token={second}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Unlinking is the customer's own choice.
    let r = app.rpc(&ann, "discord_unlink", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.rpc(&ann, "discord_linked_name", "").await;
    assert_eq!(r.json(), Value::Null);
}

fn modal(subject: &str, description: &str, priority: &str) -> Value {
    let field =
        |id: &str, value: &str| json!({ "type": 1, "components": [{ "type": 4, "custom_id": id, "value": value }] });
    json!({ "type": 5, "data": { "custom_id": "ticket", "components": [
        field("subject", subject), field("description", description), field("priority", priority)
    ] } })
}

async fn tickets_from_discord(app: TestApp) {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&app, &fake).await;
    let (ann_user, ann) = customer(&app, "ann@example.com", Tier::Platinum).await;
    let (_, bob) = customer(&app, "bob@example.com", Tier::General).await;
    link(&app, "300000000000000001", &ann).await;
    link(&app, "300000000000000002", &bob).await;

    // /ticket opens the form.
    let reply = interact(&app, "300000000000000001", "bug-reports", command("ticket", json!([]))).await;
    assert_eq!(reply["type"], 9, "{reply}");
    assert_eq!(reply["data"]["custom_id"], "ticket");

    // Bad input: each a clear answer, no ticket.
    let reply = interact(&app, "300000000000000001", "bug-reports", modal("Export broken", "It fails", "urgent")).await;
    assert!(content(&reply).contains("priority"), "{reply}");
    let reply =
        interact(&app, "300000000000000001", "bug-reports", modal("Export broken", &"x".repeat(4001), "P2")).await;
    assert!(content(&reply).contains("description"), "{reply}");
    let reply = interact(&app, "300000000000000001", "bug-reports", modal("", "It fails", "P2")).await;
    assert!(content(&reply).contains("subject"), "{reply}");
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&app.state.services.db.pool).await.unwrap();
    assert_eq!(count, 0);

    // The form sent back in #bug-reports: a bug ticket with the same SLA clocks as the portal's.
    let reply =
        interact(&app, "300000000000000001", "bug-reports", modal("Export broken", "It fails at 50%", "p2")).await;
    let text = content(&reply);
    assert!(text.contains("Ticket **#"), "{reply}");
    assert!(text.contains("First response due <t:"), "{text}");
    let id: i64 = text.split("#").nth(1).and_then(|s| s.split("**").next()).and_then(|n| n.parse().ok()).expect("id");
    assert!(text.contains(&format!("/tickets/{id}")));
    let ticket = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&ann)).await.json();
    assert_eq!(ticket["category"], "bug");
    assert_eq!(ticket["priority"], "P2");
    assert_eq!(ticket["tier"], "platinum");
    assert_eq!(ticket["requester_id"], ann_user.id);
    let due = ticket["sla"]["first_response"]["due_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(text.contains(&format!("<t:{}:f>", due.as_second())), "{text}");
    let origin = app::discord::service::origin(&app.state.services.db, id).await.unwrap().expect("via Discord");
    assert_eq!((origin.source.as_str(), origin.channel_name.as_deref()), ("command", Some("bug-reports")));

    // A manager maps another channel; tickets there get its category.
    let manager = app.manager_token().await;
    let r = app.rpc(&manager, "discord_save_channel", "channel=%23integrations&category=integration").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.rpc(&ann, "discord_save_channel", "channel=x&category=bug").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.rpc(&manager, "discord_save_channel", "channel=bad%20name&category=bug").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = interact(&app, "300000000000000001", "integrations", modal("Webhook", "No events", "P3")).await;
    let second: i64 =
        content(&reply).split("#").nth(1).and_then(|s| s.split("**").next()).and_then(|n| n.parse().ok()).expect("id");
    let ticket = app.send(call(Method::GET, &format!("/api/v1/tickets/{second}")).bearer(&ann)).await.json();
    assert_eq!(ticket["category"], "integration");

    // /status: own open tickets with their clocks; someone else's ticket is not there.
    let reply = interact(&app, "300000000000000001", "general-support", command("status", json!([]))).await;
    let text = content(&reply);
    assert!(text.contains(&format!("#{id}**")) && text.contains(&format!("#{second}**")), "{text}");
    assert!(text.contains("on track"), "{text}");
    let reply = interact(&app, "300000000000000002", "general-support", command("status", json!([]))).await;
    assert!(!content(&reply).contains(&format!("#{id}")), "{reply}");
    let reply = interact(
        &app,
        "300000000000000002",
        "general-support",
        command("status", json!([{ "name": "ticket", "value": id }])),
    )
    .await;
    assert_eq!(content(&reply), format!("You have no ticket #{id}."));
    let reply = interact(
        &app,
        "300000000000000001",
        "general-support",
        command("status", json!([{ "name": "ticket", "value": id }])),
    )
    .await;
    assert!(content(&reply).contains("Export broken"), "{reply}");

    // An agent's public reply goes back to Ann on Discord (a DM from the bot, through the outbox); an
    // internal note does not.
    let agent = app
        .create_user(
            "agent@example.com",
            Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
        )
        .await;
    let agent_token = app.token(&agent.email, PASSWORD).await;
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(&agent_token)
                .json(json!({ "body": "Fixed in 2.4, please retry", "internal": false })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(&agent_token)
                .json(json!({ "body": "secret note", "internal": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let outbox = Arc::new(app.state.services.outbox.as_ref().clone());
    for _ in 0..20 {
        app::notify::outbox::drain_once(&app.state.services.db, &app.state.services.events, &outbox).await.unwrap();
        if fake.seen().iter().any(|s| s.path.ends_with("/messages")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let seen = fake.seen();
    let dm = seen.iter().find(|s| s.path == "/api/v10/users/@me/channels").expect("a DM channel was opened");
    assert_eq!(dm.body["recipient_id"], "300000000000000001");
    assert_eq!(dm.authorization, "Bot bot-token-for-tests");
    let posted: Vec<&Seen> =
        seen.iter().filter(|s| s.path == "/api/v10/channels/900000000000000001/messages").collect();
    assert_eq!(posted.len(), 1, "{seen:?}");
    let message = posted[0].body["content"].as_str().unwrap();
    assert!(message.contains("Fixed in 2.4") && message.contains(&format!("#{id}")), "{message}");
    assert!(!seen.iter().any(|s| s.body.to_string().contains("secret note")));
    assert_eq!(posted[0].method, "POST");

    // Ann turns replies on Discord off: the next agent reply stays in the portal.
    let r = app.rpc(&ann, "discord_set_replies", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["replies"], false);
    let r = app.rpc(&ann, "discord_account", "").await;
    assert_eq!(r.json()["discord_name"], "user300000000000000001");
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(&agent_token)
                .json(json!({ "body": "Anything else?" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app::notify::outbox::drain_once(&app.state.services.db, &app.state.services.events, &outbox).await.unwrap();
    assert!(!fake.seen().iter().any(|s| s.body.to_string().contains("Anything else?")));
    let r = app.rpc(&ann, "discord_set_replies", "replies=on").await;
    assert_eq!(r.json()["replies"], true, "{}", r.text);

    // Ticket quotas are the portal's: a tight limit refuses the next one, with the reason.
    let limited = common::app_with(
        app.state.services.db.clone(),
        app.backend,
        app.state.services.outbox.as_ref().clone(),
        |s| Services {
            ticket_limits: app::tickets::quota::TicketLimits { urgent_per_hour: 1, per_hour: 1 },
            discord: app.state.services.discord.clone(),
            ..s
        },
        |st| st,
    )
    .await;
    let reply = interact(&limited, "300000000000000002", "general-support", modal("One", "First", "P3")).await;
    assert!(content(&reply).contains("Ticket **#"), "{reply}");
    let reply = interact(&limited, "300000000000000002", "general-support", modal("Two", "Second", "P3")).await;
    assert!(!content(&reply).contains("Ticket **#"), "{reply}");
}

async fn message_command_opens_a_ticket_for_the_author(app: TestApp) {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&app, &fake).await;
    let (ann_user, ann) = customer(&app, "ann@example.com", Tier::Platinum).await;
    link(&app, "400000000000000001", &ann).await;
    let on_message = |author: &str, permissions: &str| {
        json!({ "type": 2, "member": { "user": { "id": "400000000000000009", "username": "mod" }, "permissions": permissions },
                "data": { "type": 3, "name": "Open a support ticket from this message", "target_id": "410000000000000001",
                          "resolved": { "messages": { "410000000000000001": {
                              "content": "Bot is down since 10:00\nAll commands time out",
                              "author": { "id": author, "username": "ann" } } } } } })
    };
    // Not staff: refused.
    let reply = interact(&app, "400000000000000009", "platinum-support", on_message("400000000000000001", "0")).await;
    assert!(content(&reply).contains("Only support staff"), "{reply}");
    // The author has not linked an account: nothing is opened.
    let manage_messages = (1u64 << 13).to_string();
    let reply =
        interact(&app, "400000000000000009", "platinum-support", on_message("400000000000000077", &manage_messages))
            .await;
    assert!(content(&reply).contains("has not linked"), "{reply}");
    // A moderator on a linked customer's post.
    let reply =
        interact(&app, "400000000000000009", "platinum-support", on_message("400000000000000001", &manage_messages))
            .await;
    let text = content(&reply);
    assert!(text.contains("Ticket #"), "{reply}");
    let id: i64 = text.split('#').nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).expect("id");
    let ticket = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&ann)).await.json();
    assert_eq!(ticket["requester_id"], ann_user.id);
    assert_eq!(ticket["subject"], "Bot is down since 10:00");
    assert!(ticket["body"]
        .as_str()
        .unwrap()
        .contains("https://discord.com/channels/600000000000000001/700000000000000001/410000000000000001"));
    let origin = app::discord::service::origin(&app.state.services.db, id).await.unwrap().expect("via Discord");
    assert_eq!(origin.source, "message");
}

async fn hours_book_and_features(app: TestApp) {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&app, &fake).await;
    let (_, plat) = customer(&app, "plat@example.com", Tier::Platinum).await;
    let (_, plat2) = customer(&app, "plat2@example.com", Tier::Platinum).await;
    let (_, gen) = customer(&app, "gen@example.com", Tier::General).await;
    link(&app, "500000000000000001", &plat).await;
    link(&app, "500000000000000002", &plat2).await;
    link(&app, "500000000000000003", &gen).await;
    app.create_user(
        "caller@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L2), takes_calls: true },
    )
    .await;

    // /hours works for anyone, linked or not.
    let reply = interact(&app, "500000000000000099", "general-support", command("hours", json!([]))).await;
    let text = content(&reply);
    assert!(text.contains("**Support**") && text.contains("**Live chat and calls**"), "{text}");
    assert!(text.contains("open now") || text.contains("closed now"));

    // /book: General gets the upsell, Platinum the next free times as buttons.
    let reply = deferred(&app, &fake, "500000000000000003", "general-support", command("book", json!([]))).await;
    assert!(content(&reply).contains("Platinum"), "{reply}");
    assert!(reply["data"]["components"].is_null());
    let reply = deferred(&app, &fake, "500000000000000001", "platinum-support", command("book", json!([]))).await;
    let first =
        reply["data"]["components"][0]["components"][0]["custom_id"].as_str().expect("a time button").to_string();
    assert!(first.starts_with("book:"), "{first}");
    let click = json!({ "type": 3, "data": { "custom_id": first, "component_type": 2 } });
    let reply = interact(&app, "500000000000000001", "platinum-support", click.clone()).await;
    assert!(content(&reply).starts_with("Booked"), "{reply}");
    // The same time again (one agent): the engine's 409, answered with the times still free.
    let reply = interact(&app, "500000000000000002", "platinum-support", click).await;
    assert!(content(&reply).contains("just taken"), "{reply}");
    assert!(reply["data"]["components"][0]["components"][0]["custom_id"].as_str().is_some_and(|c| c != first));
    let bookings = app.send(call(Method::GET, "/api/v1/bookings").bearer(&plat)).await.json();
    assert_eq!(bookings["items"].as_array().map(Vec::len), Some(1), "{bookings}");
    assert_eq!(bookings["items"][0]["platform"], "discord");

    // /feature: nothing like it → posted; then the same idea finds it with a vote button.
    let feature = |title: &str| command("feature", json!([{ "name": "title", "value": title }]));
    let reply =
        deferred(&app, &fake, "500000000000000001", "feature-requests", feature("Dark mode for the dashboard")).await;
    assert!(content(&reply).starts_with("Posted"), "{reply}");
    let reply = deferred(&app, &fake, "500000000000000003", "feature-requests", feature("dashboard dark mode")).await;
    let buttons = &reply["data"]["components"][0]["components"];
    let vote = buttons[0]["custom_id"].as_str().expect("vote button").to_string();
    assert!(vote.starts_with("vote:"), "{reply}");
    assert!(buttons.as_array().unwrap().iter().any(|b| b["custom_id"].as_str().unwrap().starts_with("feature_new:")));
    let reply =
        interact(&app, "500000000000000003", "feature-requests", json!({ "type": 3, "data": { "custom_id": vote } }))
            .await;
    assert!(content(&reply).contains("Your vote is in"), "{reply}");
    let id = vote.trim_start_matches("vote:");
    let f = app.send(call(Method::GET, &format!("/api/v1/features/{id}")).bearer(&gen)).await.json();
    // The author's own vote and Gene's.
    assert_eq!((f["votes"].as_i64(), f["voted_by_me"].as_bool()), (Some(2), Some(true)), "{f}");
    let post_new = json!({ "type": 3, "data": { "custom_id": "feature_new:dashboard dark mode" } });
    let reply = interact(&app, "500000000000000003", "feature-requests", post_new).await;
    assert!(content(&reply).starts_with("Posted"), "{reply}");
}

async fn managers_register_commands(app: TestApp) {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&app, &fake).await;
    let manager = app.manager_token().await;
    let (_, customer_token) = customer(&app, "c@example.com", Tier::General).await;
    let r = app.rpc(&customer_token, "discord_register_commands", "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.rpc(&manager, "discord_register_commands", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!(7));
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].path, "/api/v10/applications/100000000000000001/commands");
    assert_eq!(seen[0].authorization, "Bot bot-token-for-tests");
    let names: Vec<&str> = seen[0].body.as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    for name in ["link", "ticket", "status", "hours", "book", "feature", "Open a support ticket from this message"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let state = app.rpc(&manager, "discord_state", "").await.json();
    assert_eq!(state["interactions_url"], "http://portal.test/api/v1/discord/interactions");
    assert_eq!(state["public_key_set"], true);
    assert_eq!(state["channels"][2], json!({ "channel": "bug-reports", "category": "bug", "custom": false }));
    assert!(!state.to_string().contains("bot-token-for-tests"));
}

async fn demo_data_has_tickets_from_discord(app: TestApp) {
    supportal::demo::seed(&app.state.services.db).await.expect("demo");
    let db = &app.state.services.db;
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT source FROM discord_tickets ORDER BY ticket_id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(sources, ["command", "message"]);
    let platinum =
        app::accounts::store::credentials_by_email(db, "platinum@demo.supportal.test").await.unwrap().unwrap().0;
    let link = app::discord::service::account_link(db, platinum.id).await.unwrap().expect("linked");
    assert_eq!(link.discord_name, "paula.platinum");
    // A second start adds nothing.
    supportal::demo::seed(db).await.expect("demo again");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM discord_tickets").fetch_one(&db.pool).await.unwrap();
    assert_eq!(count, 2);
}

both!(
    demo_data_has_tickets_from_discord,
    signature_matrix,
    linking_accounts,
    tickets_from_discord,
    message_command_opens_a_ticket_for_the_author,
    hours_book_and_features,
    managers_register_commands,
);
