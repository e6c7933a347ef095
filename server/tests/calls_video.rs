//! Video in the portal call room, through the REST API on SQLite and PostgreSQL: signals (offer, answer,
//! candidate, bye) reach only the addressed participant's event stream, strangers get 404, bad signals are
//! named, the room's time window and a rate limit apply; the ICE servers are none by default, and TURN
//! credentials follow the TURN REST API scheme coturn checks.

mod common;

use app::accounts::{Level, Profile, Role, Tier, User};
use app::booking::signal::{turn_credential, IceConfig};
use common::{call, read_events_for, sse, Backend, TestApp, TestResponse};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "a long passphrase";
const TURN_SECRET: &str = "turn-secret-for-tests";

struct Call {
    id: i64,
    customer: (User, String),
    agent: (User, String),
}

async fn person(app: &TestApp, email: &str, profile: Profile) -> (User, String) {
    let user = app.create_user(email, profile).await;
    (user, app.token(email, PASSWORD).await)
}

fn staff(role: Role, takes_calls: bool) -> Profile {
    Profile { role, tier: None, level: Some(Level::L2), takes_calls }
}

/// A booking written straight to the database, starting `start_offset` seconds from now (the API books only
/// 2 hours ahead; the room opens 10 minutes before the start).
async fn booking(app: &TestApp, customer: &User, agent: &User, start_offset: i64, minutes: i64, platform: &str) -> i64 {
    let at = app::db::now();
    let start = at + start_offset;
    let row: (i64,) = sqlx::query_as(
        "INSERT INTO bookings (customer_id, agent_id, start_at, end_at, busy_until, duration_minutes, platform, topic, \
         status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'Screen share', 'booked', $8, $8) \
         RETURNING id",
    )
    .bind(customer.id)
    .bind(agent.id)
    .bind(start)
    .bind(start + minutes * 60)
    .bind(start + minutes * 60 + 600)
    .bind(minutes)
    .bind(platform)
    .bind(at)
    .fetch_one(&app.state.services.db.pool)
    .await
    .expect("insert booking");
    row.0
}

/// A portal call under way: begun 5 minutes ago, 30 minutes long.
async fn call_under_way(app: &TestApp) -> Call {
    let customer = person(app, "pat@example.com", Profile::customer(Tier::Platinum)).await;
    let agent = person(app, "sam@example.com", staff(Role::Agent, true)).await;
    let id = booking(app, &customer.0, &agent.0, -300, 30, "portal").await;
    Call { id, customer, agent }
}

async fn signal(app: &TestApp, token: &str, id: i64, body: Value) -> TestResponse {
    app.send(call(Method::POST, &format!("/api/v1/bookings/{id}/signal")).bearer(token).json(body)).await
}

async fn ice(app: &TestApp, token: &str, id: i64) -> TestResponse {
    app.send(call(Method::GET, &format!("/api/v1/bookings/{id}/ice")).bearer(token)).await
}

fn offer() -> Value {
    json!({ "kind": "offer", "payload": { "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "session": "a1" } })
}

/// The `call.signal` events a stream shows within `wait` (at most `count`).
async fn signals_on(response: axum::response::Response, count: usize, wait: u64) -> Vec<Value> {
    let (events, _) = read_events_for(response, count, Duration::from_millis(wait)).await;
    events.into_iter().filter(|(_, kind, _)| kind == "call.signal").map(|(_, _, data)| data).collect()
}

async fn a_signal_reaches_only_the_other_side(app: TestApp) {
    let c = call_under_way(&app).await;
    let (_, stranger) = person(&app, "stranger@example.com", Profile::customer(Tier::Platinum)).await;
    let (_, colleague) = person(&app, "colleague@example.com", staff(Role::Agent, true)).await;
    let agent_stream = sse(&app, &c.agent.1, None).await;
    let stranger_stream = sse(&app, &stranger, None).await;
    let colleague_stream = sse(&app, &colleague, None).await;
    let customer_stream = sse(&app, &c.customer.1, None).await;

    let r = signal(&app, &c.customer.1, c.id, offer()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["to_user_ids"], json!([c.agent.0.id]));
    let got = signals_on(agent_stream, 1, 5000).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let payload = &got[0]["payload"];
    assert_eq!(payload["booking_id"], c.id);
    assert_eq!(payload["from_user_id"], c.customer.0.id);
    assert_eq!(payload["from_name"], c.customer.0.name);
    assert_eq!(payload["kind"], "offer");
    assert_eq!(payload["payload"], offer()["payload"]);

    // The answer goes back by name; nobody else hears either.
    let answer =
        json!({ "kind": "answer", "to_user_id": c.customer.0.id, "payload": { "sdp": "v=0", "session": "a1" } });
    assert_eq!(signal(&app, &c.agent.1, c.id, answer).await.status, StatusCode::ACCEPTED);
    let got = signals_on(customer_stream, 1, 5000).await;
    assert_eq!(got.iter().map(|e| e["payload"]["kind"].clone()).collect::<Vec<_>>(), [json!("answer")]);
    assert!(signals_on(stranger_stream, 1, 700).await.is_empty(), "a stranger's stream stays quiet");
    assert!(signals_on(colleague_stream, 1, 300).await.is_empty(), "another agent's stream stays quiet");
}

async fn strangers_get_404_and_managers_may_join(app: TestApp) {
    let c = call_under_way(&app).await;
    let (_, stranger) = person(&app, "stranger@example.com", Profile::customer(Tier::Platinum)).await;
    let (colleague, colleague_token) = person(&app, "colleague@example.com", staff(Role::Agent, true)).await;
    let boss = Profile { role: Role::Manager, tier: None, level: Some(Level::L4), takes_calls: false };
    let (manager, manager_token) = person(&app, "boss@example.com", boss).await;
    for token in [&stranger, &colleague_token] {
        let r = signal(&app, token, c.id, offer()).await;
        assert_eq!((r.status, r.error_code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.text);
        assert_eq!(ice(&app, token, c.id).await.status, StatusCode::NOT_FOUND);
    }
    for path_id in [c.id + 1000, 0] {
        assert_eq!(signal(&app, &c.customer.1, path_id, offer()).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.send(call(Method::GET, "/api/v1/bookings/abc/ice").bearer(&stranger)).await.status,
        StatusCode::NOT_FOUND
    );
    // Only portal calls have a room.
    let zoom = booking(&app, &c.customer.0, &colleague, -300, 30, "zoom").await;
    assert_eq!(signal(&app, &c.customer.1, zoom, offer()).await.status, StatusCode::NOT_FOUND);
    // Signed out: 401.
    let r = app.send(call(Method::POST, &format!("/api/v1/bookings/{}/signal", c.id)).json(offer())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A manager joins: they signal both sides, and either side may answer them.
    let customer_stream = sse(&app, &c.customer.1, None).await;
    let r = signal(&app, &manager_token, c.id, offer()).await;
    assert_eq!(
        (r.status, r.json()["to_user_ids"].clone()),
        (StatusCode::ACCEPTED, json!([c.customer.0.id, c.agent.0.id]))
    );
    assert_eq!(signals_on(customer_stream, 1, 5000).await[0]["payload"]["from_user_id"], manager.id);
    let to_manager = json!({ "kind": "answer", "to_user_id": manager.id, "payload": { "sdp": "v=0" } });
    assert_eq!(signal(&app, &c.customer.1, c.id, to_manager).await.status, StatusCode::ACCEPTED);
    // Nobody else can be reached through a call: not another agent, not oneself.
    for (to, token) in [(colleague.id, &c.customer.1), (c.customer.0.id, &c.customer.1), (999_999, &c.agent.1)] {
        let body = json!({ "kind": "offer", "to_user_id": to, "payload": {} });
        let r = signal(&app, token, c.id, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{to}: {}", r.text);
        assert!(r.json()["error"]["fields"]["to_user_id"].is_string(), "{}", r.text);
    }
}

async fn bad_signals_are_named(app: TestApp) {
    let c = call_under_way(&app).await;
    let token = &c.customer.1;
    // (body, the field named)
    let cases = [
        (json!({ "kind": "hello", "payload": {} }), "kind"),
        (json!({ "payload": { "sdp": "v=0" } }), "kind"),
        (json!({ "kind": "offer" }), "payload"),
        (json!({ "kind": "candidate", "payload": "candidate:1 1 udp" }), "payload"),
        (json!({ "kind": "offer", "payload": { "sdp": "x".repeat(40 * 1024) } }), "payload"),
        (json!({ "kind": "offer", "payload": {}, "to_user_id": "everyone" }), "to_user_id"),
        (json!({ "kind": "offer", "payload": {}, "room": "all" }), "room"),
        (json!({ "kind": "offer", "payload": { "sdp": "a\u{0}b" } }), "payload.sdp"),
    ];
    for (body, field) in cases {
        let r = signal(&app, token, c.id, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{field} not named: {}", r.text);
    }
    let huge = json!({ "kind": "offer", "payload": { "sdp": "x".repeat(70 * 1024) } });
    assert_eq!(signal(&app, token, c.id, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/bookings/{}/signal", c.id))
                .bearer(token)
                .raw(b"{", Some("application/json")),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A hang-up needs no payload.
    assert_eq!(signal(&app, token, c.id, json!({ "kind": "bye" })).await.status, StatusCode::ACCEPTED);
}

async fn signals_only_while_the_room_is_open(app: TestApp) {
    let c = call_under_way(&app).await;
    let (customer, agent) = (&c.customer.0, &c.agent.0);
    let later = booking(&app, customer, agent, 3600, 30, "portal").await;
    let over = booking(&app, customer, agent, -7200, 30, "portal").await;
    // (Another agent: this one is busy with the call under way.)
    let (other_agent, _) = person(&app, "kim@example.com", staff(Role::Agent, true)).await;
    let soon = booking(&app, customer, &other_agent, 9 * 60, 30, "portal").await;
    for id in [later, over] {
        let r = signal(&app, &c.customer.1, id, offer()).await;
        assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "room_closed"), "{}", r.text);
        let r = ice(&app, &c.agent.1, id).await;
        assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "room_closed"), "{}", r.text);
    }
    // The room opens 10 minutes before the start.
    assert_eq!(signal(&app, &c.customer.1, soon, offer()).await.status, StatusCode::ACCEPTED);
    // A cancelled call has no room any more.
    sqlx::query("UPDATE bookings SET status = 'cancelled' WHERE id = $1")
        .bind(soon)
        .execute(&app.state.services.db.pool)
        .await
        .unwrap();
    assert_eq!(signal(&app, &c.customer.1, soon, offer()).await.status, StatusCode::CONFLICT);
}

fn unix(rfc3339: &Value) -> i64 {
    rfc3339.as_str().expect("a time").parse::<jiff::Timestamp>().expect("RFC 3339").as_second()
}

async fn ice_servers_are_none_by_default_and_turn_gets_short_lived_credentials(app: TestApp) {
    let c = call_under_way(&app).await;
    let before = app::db::now();
    let r = ice(&app, &c.customer.1, c.id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert_eq!(body["ice_servers"], json!([]), "host candidates only by default");
    assert!(unix(&body["expires_at"]) >= before + 600);

    // The same database behind an instance with STUN and TURN configured.
    let config = IceConfig {
        stun_urls: vec!["stun:stun.example.com:3478".into()],
        turn_urls: vec!["turn:127.0.0.1:3478?transport=udp".into(), "turn:127.0.0.1:3478?transport=tcp".into()],
        turn_secret: Some(TURN_SECRET.into()),
        turn_ttl_secs: 120,
    };
    let db = app.state.services.db.clone();
    let turn =
        common::app_with(db, app.backend, common::test_outbox(None), |s| s, |state| state.with_ice(config)).await;
    let call_end = before - 300 + 30 * 60;
    let mut usernames = Vec::new();
    for (user, token) in [&c.customer, &c.agent] {
        let body = ice(&turn, token, c.id).await.json();
        let servers = body["ice_servers"].as_array().expect("servers").clone();
        assert_eq!(servers.len(), 2, "{body}");
        assert_eq!(servers[0], json!({ "urls": ["stun:stun.example.com:3478"] }));
        assert_eq!(servers[1]["urls"].as_array().map(Vec::len), Some(2));
        let username = servers[1]["username"].as_str().expect("username").to_string();
        let (expiry, who) = username.split_once(':').expect("<expiry>:<user id>");
        assert_eq!(who, user.id.to_string());
        let expiry: i64 = expiry.parse().expect("unix expiry");
        // The call ends in 25 minutes, later than the 2-minute TTL: the credential lasts until then.
        assert_eq!(expiry, unix(&body["expires_at"]));
        assert!((call_end..=call_end + 5).contains(&expiry), "{expiry} vs call end {call_end}");
        assert_eq!(servers[1]["credential"], turn_credential(TURN_SECRET, &username));
        usernames.push(username);
    }
    assert_ne!(usernames[0], usernames[1], "each participant gets a credential of their own");

    // Near its end, a call's credential lives the TTL instead: short, never for ever.
    sqlx::query("UPDATE bookings SET end_at = $1 WHERE id = $2")
        .bind(app::db::now() + 30)
        .bind(c.id)
        .execute(&app.state.services.db.pool)
        .await
        .unwrap();
    let now = app::db::now();
    let body = ice(&turn, &c.customer.1, c.id).await.json();
    let expiry = unix(&body["expires_at"]);
    assert!((now + 120..=now + 125).contains(&expiry), "{expiry} vs now {now}");
    assert!(body["ice_servers"][1]["username"].as_str().unwrap().starts_with(&format!("{expiry}:")));
}

async fn signals_are_rate_limited(app: TestApp) {
    let c = call_under_way(&app).await;
    // Plenty of general write budget, so the signal limit is what stops the sender.
    let limits = std::sync::Arc::new(app::ratelimit::RateLimits::with_writes(5, 10, 100_000));
    let db = app.state.services.db.clone();
    let limited = common::app_with(
        db,
        app.backend,
        common::test_outbox(None),
        |s| app::services::Services { limits, ..s },
        |state| state,
    )
    .await;
    let candidate = json!({ "kind": "candidate", "payload": { "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host" } });
    for n in 0..app::ratelimit::DEFAULT_SIGNALS_PER_10_MINUTES {
        let r = signal(&limited, &c.customer.1, c.id, candidate.clone()).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "signal {n}: {}", r.text);
    }
    let r = signal(&limited, &c.customer.1, c.id, candidate.clone()).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(r.header("retry-after").is_some());
    // The other side has a budget of its own.
    assert_eq!(signal(&limited, &c.agent.1, c.id, candidate).await.status, StatusCode::ACCEPTED);
}

/// PostgreSQL: a signal posted to one instance reaches a stream on another (no in-memory relay).
async fn signals_cross_instances_on_postgres(app: TestApp) {
    if app.backend != Backend::Postgres {
        return;
    }
    let c = call_under_way(&app).await;
    let db = app.state.services.db.clone();
    let other = common::app_with(db, app.backend, common::test_outbox(None), |s| s, |state| state).await;
    let stream = sse(&other, &c.agent.1, None).await;
    assert_eq!(signal(&app, &c.customer.1, c.id, offer()).await.status, StatusCode::ACCEPTED);
    let got = signals_on(stream, 1, 5000).await;
    assert_eq!(got.first().map(|e| e["payload"]["kind"].clone()), Some(json!("offer")));
}

async fn the_api_description_lists_signal_and_ice(app: TestApp) {
    let doc = app.send(call(Method::GET, "/api/v1/openapi.json")).await.json();
    assert!(doc["paths"]["/bookings/{id}/signal"]["post"].is_object());
    assert!(doc["paths"]["/bookings/{id}/ice"]["get"].is_object());
    // The browser may use the camera, microphone and screen capture for the portal itself only.
    let r = app.send(call(Method::GET, "/healthz")).await;
    let policy = r.header("permissions-policy").unwrap_or_default().to_string();
    for feature in ["camera=(self)", "microphone=(self)", "display-capture=(self)"] {
        assert!(policy.contains(feature), "{policy}");
    }
}

both!(
    a_signal_reaches_only_the_other_side,
    strangers_get_404_and_managers_may_join,
    bad_signals_are_named,
    signals_only_while_the_room_is_open,
    ice_servers_are_none_by_default_and_turn_gets_short_lived_credentials,
    signals_are_rate_limited,
    signals_cross_instances_on_postgres,
    the_api_description_lists_signal_and_ice,
);
