#![recursion_limit = "256"]
//! The probes of the hardening issue, on SQLite and PostgreSQL: each of these passed against the portal before
//! only while the hole it names was open.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use app::outbound::OutboundPolicy;
use app::ratelimit::RateLimits;
use app::services::Services;
use common::{call, read_events_for, sse, test_outbox, Backend, TestApp};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

struct People {
    customer: String,
    agent: String,
    agent_id: i64,
    manager: String,
}

async fn people(app: &TestApp) -> People {
    app.create_user("cust@example.com", Profile::customer(Tier::General)).await;
    let agent = app
        .create_user(
            "agent@example.com",
            Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
        )
        .await;
    People {
        customer: app.token("cust@example.com", "a long passphrase").await,
        agent: app.token("agent@example.com", "a long passphrase").await,
        agent_id: agent.id,
        manager: app.manager_token().await,
    }
}

async fn open_ticket(app: &TestApp, token: &str, priority: &str) -> common::TestResponse {
    app.send(call(Method::POST, "/api/v1/tickets").bearer(token).json(json!({
        "subject": format!("{priority} trouble"), "body": "Details.", "priority": priority
    })))
    .await
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql).fetch_one(&app.state.services.db.pool).await.expect(sql).get::<i64, _>(0)
}

/// Another instance (or another configuration) of the portal on the same database.
async fn instance(
    app: &TestApp,
    services: impl FnOnce(Services) -> Services,
    state: impl FnOnce(supportal::AppState) -> supportal::AppState,
) -> TestApp {
    common::app_with(app.state.services.db.clone(), app.backend, test_outbox(None), services, state).await
}

// ---- 1. /metrics -----------------------------------------------------------------------------------------

async fn junk_requests_do_not_grow_the_metrics(app: TestApp) {
    let p = people(&app).await;
    let metrics = || async { app.send(call(Method::GET, "/metrics")).await.text };
    // Junk of each kind first, so the series they fold into exist (odd methods count as writes: past the
    // budget they are answered 429, another status of the same series).
    app.send(call(Method::GET, "/junk/first")).await;
    for _ in 0..130 {
        app.send(call(Method::from_bytes(b"BREW").unwrap(), "/api/v1/junk/first")).await;
    }
    metrics().await;
    let before = metrics().await;
    // Junk under the API, answered by its JSON fallback. (Outside it, each junk path renders the "not
    // found" page, which is the same fallback route: the one above stands for them. Hundreds of page renders
    // here would only make this test slow.)
    for i in 0..600 {
        let segment: String = (0..150).map(|k| char::from(b'a' + ((i * 7 + k) % 26) as u8)).collect();
        let method = Method::from_bytes(format!("M{i}").as_bytes()).unwrap();
        app.send(call(Method::GET, &format!("/api/v1/{segment}/{i}"))).await;
        app.send(call(method, &format!("/api/v1/{segment}"))).await;
    }
    let after = metrics().await;
    assert!(!after.contains("aaaa") && !after.contains("M599"), "no path or method becomes a label");
    // Only counts and sums change: a few digits per existing series, no new series.
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(series(&after), series(&before), "{after}");
    assert!(after.len() < before.len() + 400, "{} → {} bytes", before.len(), after.len());
    assert!(after.contains("route=\"unmatched\""));
    assert!(after.contains("method=\"OTHER\""));

    // Real routes are labelled by their template.
    app.send(call(Method::GET, "/api/v1/tickets/12345").bearer(&p.customer)).await;
    let text = metrics().await;
    assert!(text.contains("route=\"/api/v1/tickets/{id}\""), "{text}");
    assert!(!text.contains("12345"));
}

async fn metrics_can_ask_for_a_token(app: TestApp) {
    let guarded = instance(&app, |s| s, |st| st.with_metrics(Some("a-metrics-token-of-length".into()), false)).await;
    let r = guarded.send(call(Method::GET, "/metrics")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = guarded.send(call(Method::GET, "/metrics").bearer("wrong-token")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = guarded.send(call(Method::GET, "/metrics").bearer("a-metrics-token-of-length")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("supportal_db_pool_connections"));
    // Moved to a listener of its own: the portal answers 404.
    let moved = instance(&app, |s| s, |st| st.with_metrics(None, true)).await;
    assert_eq!(moved.send(call(Method::GET, "/metrics")).await.status, StatusCode::NOT_FOUND);
}

// ---- 2. client address behind a proxy, shared budgets ------------------------------------------------------

async fn register_from(app: &TestApp, peer: [u8; 4], forwarded: Option<&str>, n: u32) -> StatusCode {
    let mut c = call(Method::POST, "/api/v1/auth/register")
        .json(json!({ "email": format!("r{n}-{}@example.com", peer[3]), "password": "a long passphrase", "name": "R" }))
        .with_ip(peer);
    if let Some(hops) = forwarded {
        c = c.header("x-forwarded-for", hops);
    }
    app.send(c).await.status
}

async fn a_client_behind_a_trusted_proxy_gets_its_own_budget(app: TestApp) {
    let trusted = app::client_address::parse_trusted("10.0.0.0/8").unwrap();
    let proxied = instance(
        &app,
        |s| Services { limits: Arc::new(RateLimits::new(5, 2)), ..s },
        |st| st.with_trusted_proxies(trusted),
    )
    .await;
    let proxy = [10, 0, 0, 2];
    // Two sign-ups an hour per client: one client through the proxy uses up its own budget only.
    assert_eq!(register_from(&proxied, proxy, Some("198.51.100.1"), 1).await, StatusCode::CREATED);
    assert_eq!(register_from(&proxied, proxy, Some("198.51.100.1"), 2).await, StatusCode::CREATED);
    assert_eq!(register_from(&proxied, proxy, Some("198.51.100.1"), 3).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(register_from(&proxied, proxy, Some("198.51.100.2"), 4).await, StatusCode::CREATED);
    // A hop the client wrote itself in front of the real one changes nothing.
    assert_eq!(register_from(&proxied, proxy, Some("6.6.6.6, 198.51.100.1"), 5).await, StatusCode::TOO_MANY_REQUESTS);
    // From an untrusted peer the header is ignored: the peer is the client.
    assert_eq!(register_from(&proxied, [203, 0, 113, 5], Some("198.51.100.7"), 6).await, StatusCode::CREATED);
    assert_eq!(register_from(&proxied, [203, 0, 113, 5], Some("198.51.100.8"), 7).await, StatusCode::CREATED);
    assert_eq!(register_from(&proxied, [203, 0, 113, 5], Some("198.51.100.9"), 8).await, StatusCode::TOO_MANY_REQUESTS);
    // IPv6 clients count by their /64.
    assert_eq!(register_from(&proxied, proxy, Some("2001:db8:1:2::1"), 9).await, StatusCode::CREATED);
    assert_eq!(register_from(&proxied, proxy, Some("2001:db8:1:2::ffff"), 10).await, StatusCode::CREATED);
    assert_eq!(register_from(&proxied, proxy, Some("2001:db8:1:2:aa::9"), 11).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(register_from(&proxied, proxy, Some("2001:db8:1:3::1"), 12).await, StatusCode::CREATED);
}

async fn instances_on_postgres_share_one_budget(app: TestApp) {
    if app.backend != Backend::Postgres {
        return; // one SQLite instance keeps its budgets in memory
    }
    let db = app.state.services.db.clone();
    let shared = || Arc::new(RateLimits::new(5, 2).shared(db.clone()));
    let (one, two) = (shared(), shared());
    let a = instance(&app, |s| Services { limits: one, ..s }, |st| st).await;
    let b = instance(&app, |s| Services { limits: two, ..s }, |st| st).await;
    let peer = [198, 51, 100, 20];
    assert_eq!(register_from(&a, peer, None, 1).await, StatusCode::CREATED);
    assert_eq!(register_from(&b, peer, None, 2).await, StatusCode::CREATED);
    let r = a
        .send(
            call(Method::POST, "/api/v1/auth/register")
                .json(json!({ "email": "r3@example.com", "password": "a long passphrase", "name": "R" }))
                .with_ip(peer),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "the second instance spent the shared budget");
    assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0)));
    assert_eq!(register_from(&b, peer, None, 4).await, StatusCode::TOO_MANY_REQUESTS);
    // Concurrent checks never hand out more than the budget.
    let both = Arc::new(RateLimits::new(5, 10).shared(db.clone()));
    let tries = (0..40).map(|_| {
        let limits = both.clone();
        tokio::spawn(async move { limits.check(app::ratelimit::Limit::Register, "burst").await.is_ok() })
    });
    let granted = futures::future::join_all(tries).await.into_iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(granted, 10);
}

// ---- 3. outbound requests to private addresses -------------------------------------------------------------

async fn private_destinations_are_refused_unless_allowed(app: TestApp) {
    let strict_outbox = {
        let mut c = app::notify::outbox::OutboxConfig::new(
            "http://portal.test",
            None,
            "Supportal <support@portal.test>",
            Duration::from_secs(2),
            &OutboundPolicy::default(),
        )
        .unwrap();
        c.retry_base_secs = 1;
        Arc::new(c)
    };
    let strict = instance(
        &app,
        |s| Services { outbound: OutboundPolicy::default(), outbox: strict_outbox.clone(), ..s },
        |st| st,
    )
    .await;
    let manager = strict.manager_token().await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "https://192.168.1.1/x",
        "http://2130706433/x",
    ] {
        let r = strict
            .send(
                call(Method::POST, "/api/v1/webhooks")
                    .bearer(&manager)
                    .json(json!({ "url": url, "events": ["ticket.created"] })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {}", r.text);
        assert!(r.json()["error"]["fields"]["url"].as_str().unwrap().contains("private"), "{url}: {}", r.text);
        let r = strict
            .send(
                call(Method::PUT, "/api/v1/integrations/discord")
                    .bearer(&manager)
                    .json(json!({ "url": url, "events": [] })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {}", r.text);
        assert!(r.json()["error"]["fields"]["url"].is_string());
    }
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM webhooks").await, 0, "nothing half-written");

    // A URL already stored (by an older version, or before the rule): refused at send time, and the test
    // button says so instead of telling open ports from closed ones.
    let receiver = common::peers::HttpReceiver::start(&[], common::peers::Answer::Status(200)).await;
    sqlx::query("UPDATE discord_settings SET url = $1 WHERE id = 1")
        .bind(&receiver.url)
        .execute(&app.state.services.db.pool)
        .await
        .unwrap();
    let r = strict.send(call(Method::POST, "/api/v1/integrations/discord/test").bearer(&manager)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("refused"), "{}", r.text);
    assert!(receiver.received().is_empty(), "nothing reached the private address");

    // Allowed by address and port: that one destination, and not its neighbour.
    let port = receiver.url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_string();
    let allowed = OutboundPolicy::from_setting(&format!("127.0.0.1:{port}")).unwrap();
    let open = instance(&app, |s| Services { outbound: allowed, ..s }, |st| st).await;
    let r = open
        .send(
            call(Method::POST, "/api/v1/webhooks")
                .bearer(&manager)
                .json(json!({ "url": receiver.url, "events": ["ticket.created"] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = open
        .send(
            call(Method::POST, "/api/v1/webhooks")
                .bearer(&manager)
                .json(json!({ "url": "http://127.0.0.1:22/x", "events": ["ticket.created"] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

async fn the_http_client_checks_every_request(_app: TestApp) {
    let receiver = common::peers::HttpReceiver::start(&[], common::peers::Answer::Status(204)).await;
    let strict = OutboundPolicy::default().http(Duration::from_secs(2), "test").unwrap();
    for url in [receiver.url.as_str(), "http://localhost:1/", "http://[::1]:1/"] {
        assert_eq!(
            strict.post(url).await.err(),
            Some(app::outbound::Refusal::PrivateAddress),
            "{url} refused before any connection"
        );
    }
    assert_eq!(strict.get("ftp://example.com/").await.err(), Some(app::outbound::Refusal::BadUrl));
    assert!(strict.post("http://LOCALHOST./").await.is_err(), "no spelling of a loopback name gets through");
    // Allowed by name: the name, not the address, is what was allowed.
    let by_name = OutboundPolicy::from_setting("localhost").unwrap().http(Duration::from_secs(2), "test").unwrap();
    let via_name = receiver.url.replace("127.0.0.1", "localhost");
    let sent = by_name.post(&via_name).await.expect("allowed").send().await.expect("delivered");
    assert_eq!(sent.status().as_u16(), 204);
    assert!(by_name.post(&receiver.url).await.is_err(), "the address itself was not allowed");
    assert_eq!(receiver.received().len(), 1);
    // Allowed on one port: the request goes to exactly the checked addresses.
    let port = receiver.url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_string();
    let on_port = OutboundPolicy::from_setting(&format!("localhost:{port}")).unwrap();
    let client = on_port.http(Duration::from_secs(2), "test").unwrap();
    assert!(client.post(&via_name).await.expect("allowed").send().await.is_ok());
    assert!(client.post("http://localhost:1/").await.is_err());
    assert_eq!(receiver.received().len(), 2);
    // Raw TCP (mail servers) goes through the same rule.
    assert!(OutboundPolicy::default().connect_tcp("127.0.0.1", port.parse().unwrap()).await.is_err());
    assert!(on_port.connect_tcp("localhost", port.parse().unwrap()).await.is_ok());
}

// ---- 4. flooding staff ---------------------------------------------------------------------------------------

async fn a_customer_cannot_flood_staff_with_p1_tickets(app: TestApp) {
    let limited = instance(&app, |s| Services { ticket_limits: Default::default(), ..s }, |st| st).await;
    let p = people(&app).await;
    for _ in 0..3 {
        assert_eq!(open_ticket(&limited, &p.customer, "P1").await.status, StatusCode::CREATED);
    }
    let r = open_ticket(&limited, &p.customer, "P1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.error_code(), "ticket_limit");
    assert!(r.json()["error"]["fields"]["priority"].is_string());
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&wait), "until the first one is an hour old: {wait}");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM tickets").await, 3, "the refused one was not written");
    // Something less urgent still gets through.
    assert_eq!(open_ticket(&limited, &p.customer, "P3").await.status, StatusCode::CREATED);

    // The agent heard of the burst once, with a count, not three times.
    let notices = limited.send(call(Method::GET, "/api/v1/notifications").bearer(&p.agent)).await.json();
    let p1: Vec<&Value> =
        notices["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "ticket.new_p1").collect();
    assert_eq!(p1.len(), 1, "{notices}");
    assert!(p1[0]["text"].as_str().unwrap().starts_with("3 new P1 tickets"), "{notices}");
    let emails =
        scalar(&app, &format!("SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND user_id = {}", p.agent_id))
            .await;
    assert_eq!(emails, 1, "one email for the burst");
}

// ---- 5. live streams ---------------------------------------------------------------------------------------

async fn a_revoked_tokens_stream_receives_nothing_more(app: TestApp) {
    let p = people(&app).await;
    let r = app
        .send(call(Method::POST, "/api/v1/auth/tokens").json(json!({
            "email": "agent@example.com", "password": "a long passphrase", "label": "stream"
        })))
        .await;
    let (stream_token, stream_token_id) =
        (r.json()["token"].as_str().unwrap().to_string(), r.json()["token_info"]["id"].as_i64().unwrap());
    let reader = tokio::spawn(read_events_for(sse(&app, &stream_token, None).await, 10, Duration::from_secs(4)));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let first = open_ticket(&app, &p.customer, "P2").await.json()["id"].as_i64().unwrap();
    let r = app.send(call(Method::DELETE, &format!("/api/v1/auth/tokens/{stream_token_id}")).bearer(&p.agent)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let second = open_ticket(&app, &p.customer, "P2").await.json()["id"].as_i64().unwrap();
    let (events, ended) = reader.await.unwrap();
    let tickets: Vec<Option<i64>> = events.iter().map(|e| e.2["ticket_id"].as_i64()).collect();
    assert_eq!(tickets, [Some(first)], "{events:?}");
    assert!(!tickets.contains(&Some(second)));
    assert!(ended, "the stream ended instead of going quiet");
    assert_eq!(
        app.send(call(Method::GET, "/api/v1/events").bearer(&stream_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_demoted_agents_stream_ends(app: TestApp) {
    let p = people(&app).await;
    let reader = tokio::spawn(read_events_for(sse(&app, &p.agent, None).await, 10, Duration::from_secs(4)));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/users/{}", p.agent_id))
                .bearer(&p.manager)
                .json(json!({ "role": "customer" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    open_ticket(&app, &p.customer, "P2").await;
    let (events, ended) = reader.await.unwrap();
    assert!(events.iter().all(|e| e.1 != "ticket.created"), "staff events stop at the role change: {events:?}");
    assert!(ended);
}

async fn a_signed_out_sessions_stream_ends(app: TestApp) {
    let p = people(&app).await;
    let session = app.sign_in("agent@example.com", "a long passphrase").await;
    let stream = {
        use tower::ServiceExt;
        let request = http::Request::builder()
            .uri("/api/v1/events")
            .header("cookie", format!("supportal_session={session}"))
            .body(axum::body::Body::empty())
            .unwrap();
        app.router.clone().oneshot(request).await.unwrap()
    };
    let reader = tokio::spawn(read_events_for(stream, 10, Duration::from_secs(4)));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = app.send(call(Method::DELETE, "/api/v1/auth/session").cookie(&session)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    open_ticket(&app, &p.customer, "P2").await;
    let (events, ended) = reader.await.unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert!(ended);
}

async fn streams_are_capped_and_replays_bounded(app: TestApp) {
    let p = people(&app).await;
    let mut open = Vec::new();
    for _ in 0..supportal::api::events::MAX_STREAMS_PER_USER {
        open.push(sse(&app, &p.agent, None).await);
    }
    let r = app.send(call(Method::GET, "/api/v1/events").bearer(&p.agent)).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"));
    open.pop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    open.push(sse(&app, &p.agent, None).await);
    drop(open);

    // A resume from the beginning of a long log replays a bounded tail, after telling the page to reload.
    let db = &app.state.services.db;
    let mut tx = db.begin_write().await.unwrap();
    for n in 0..(supportal::api::events::MAX_REPLAY + 20) {
        sqlx::query(
            "INSERT INTO events (kind, ticket_id, requester_id, internal, user_id, public, payload, created_at) \
             VALUES ('feature.voted', NULL, NULL, 0, NULL, 1, $1, 0)",
        )
        .bind(format!("{{\"n\":{n}}}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let latest = app::events::latest_id(db).await.unwrap();
    let (events, _) = read_events_for(sse(&app, &p.customer, Some(0)).await, 3, Duration::from_secs(5)).await;
    assert_eq!(events[0].1, "stream.reset", "{:?}", &events[..1]);
    assert_eq!(events[1].0, latest - supportal::api::events::MAX_REPLAY + 1);

    // Old events are pruned, but never the newest (ids must not start again).
    assert!(app::events::prune(db, app::db::now() + 10).await.unwrap() > 0);
    assert_eq!(app::events::latest_id(db).await.unwrap(), latest);
}

// ---- 6. the write limiter's key --------------------------------------------------------------------------------

async fn made_up_credentials_earn_no_budget(app: TestApp) {
    let tight =
        instance(&app, |s| Services { limits: Arc::new(RateLimits::with_writes(5, 10, 3)), ..s }, |st| st).await;
    let p = people(&app).await;
    let slug: String = {
        use sqlx::Row;
        sqlx::query("SELECT slug FROM articles WHERE published = 1 LIMIT 1")
            .fetch_optional(&app.state.services.db.pool)
            .await
            .unwrap()
            .map(|r| r.get("slug"))
            .unwrap_or_default()
    };
    let slug = if slug.is_empty() {
        app::kb::service::seed_starter(&app.state.services.db, None).await.unwrap();
        use sqlx::Row;
        sqlx::query("SELECT slug FROM articles WHERE published = 1 LIMIT 1")
            .fetch_one(&app.state.services.db.pool)
            .await
            .unwrap()
            .get("slug")
    } else {
        slug
    };
    let vote = |cookie: String| {
        call(Method::POST, &format!("/api/v1/articles/{slug}/helpful"))
            .header("cookie", &format!("supportal_session={cookie}"))
            .with_ip([198, 51, 100, 40])
            .json(json!({ "helpful": true }))
    };
    for n in 0..3 {
        let r = tight.send(vote(format!("made-up-{n}"))).await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    }
    let r = tight.send(vote("made-up-4".into())).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "a fresh made-up cookie shares the address's budget");
    // A real user has a budget of their own, whatever address they come from.
    for _ in 0..3 {
        let r = tight
            .send(
                call(Method::POST, "/api/v1/notifications/read")
                    .bearer(&p.customer)
                    .with_ip([198, 51, 100, 40])
                    .json(json!({})),
            )
            .await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    }
    let r = tight.send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.customer).json(json!({}))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

// ---- 7. secrets and idempotency ----------------------------------------------------------------------------

async fn idempotency_keeps_no_secrets_and_forgets(app: TestApp) {
    people(&app).await;
    let request = || {
        call(Method::POST, "/api/v1/auth/tokens").header("idempotency-key", "token-once").json(json!({
            "email": "cust@example.com", "password": "a long passphrase", "label": "ci"
        }))
    };
    let r = app.send(request()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let stored: String = {
        use sqlx::Row;
        sqlx::query("SELECT COALESCE(response, '') AS r FROM idempotency_keys WHERE key = 'token-once'")
            .fetch_one(&app.state.services.db.pool)
            .await
            .unwrap()
            .get("r")
    };
    assert!(!stored.contains(&token) && !stored.contains("sp_"), "{stored}");
    let r = app.send(request()).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "already_created"));
    assert!(!r.text.contains("sp_"));
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM api_tokens WHERE label = 'ci'").await, 1);

    // Keys are forgotten after a day.
    sqlx::query("UPDATE idempotency_keys SET created_at = created_at - 90000")
        .execute(&app.state.services.db.pool)
        .await
        .unwrap();
    let pruned = supportal::api::idempotency::prune(&app.state.services.db, app::db::now()).await.unwrap();
    assert!(pruned >= 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM idempotency_keys").await, 0);
}

// ---- 8. quadratic input ----------------------------------------------------------------------------------------

async fn huge_id_lists_are_refused_not_sorted(app: TestApp) {
    let p = people(&app).await;
    let ids = (1..=150_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let form = format!("ids={ids}&action=claim");
    let r = app
        .send(
            call(Method::POST, "/rpc/bulk_update_tickets")
                .bearer(&p.agent)
                .header("accept", "application/json")
                .raw(form.as_bytes(), Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.text[..r.text.len().min(300)]);
    assert!(r.text.contains("at most 100"));
}

// ---- 10. control characters, 11. field names -------------------------------------------------------------------

async fn control_characters_are_refused_everywhere(app: TestApp) {
    let p = people(&app).await;
    let ticket = open_ticket(&app, &p.customer, "P3").await.json()["id"].as_i64().unwrap();
    let feature = app
        .send(
            call(Method::POST, "/api/v1/features")
                .bearer(&p.customer)
                .json(json!({ "title": "A fine idea", "body": "Yes." })),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let tickets_before = scalar(&app, "SELECT COUNT(*) FROM tickets").await;
    let nul = "a\u{0}b";
    let cases: Vec<(Method, String, &str, Value, &str)> = vec![
        (
            Method::POST,
            "/api/v1/tickets".into(),
            &p.customer,
            json!({ "subject": nul, "body": "x", "priority": "P3" }),
            "subject",
        ),
        (
            Method::POST,
            "/api/v1/tickets".into(),
            &p.customer,
            json!({ "subject": "ok", "body": "bell\u{7}", "priority": "P3" }),
            "body",
        ),
        (Method::POST, format!("/api/v1/tickets/{ticket}/messages"), &p.customer, json!({ "body": nul }), "body"),
        (
            Method::POST,
            format!("/api/v1/tickets/{ticket}/escalations"),
            &p.agent,
            json!({ "to_level": "L2", "reason": "esc\u{1b}[31m" }),
            "reason",
        ),
        (Method::POST, "/api/v1/features".into(), &p.customer, json!({ "title": nul, "body": "x" }), "title"),
        (Method::POST, format!("/api/v1/features/{feature}/comments"), &p.customer, json!({ "body": nul }), "body"),
        (
            Method::POST,
            "/api/v1/articles".into(),
            &p.agent,
            json!({ "title": nul, "body": "x", "category": "getting-started" }),
            "title",
        ),
        (Method::PUT, "/api/v1/hours/holidays".into(), &p.manager, json!(["2026-12-25\u{0}"]), "body[0]"),
        (
            Method::POST,
            "/api/v1/webhooks".into(),
            &p.manager,
            json!({ "url": "https://hooks.example/x", "events": ["ticket.created"], "description": "c1\u{85}" }),
            "description",
        ),
        (Method::PATCH, format!("/api/v1/tickets/{ticket}"), &p.agent, json!({ "status": "open\u{0}" }), "status"),
        (
            Method::POST,
            "/api/v1/tickets".into(),
            &p.customer,
            json!({ "sub\u{0}ject": "x", "body": "x", "priority": "P3" }),
            "body",
        ),
    ];
    for (method, path, token, body, field) in cases {
        let r = app.send(call(method.clone(), &path).bearer(token).json(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {path} {body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{method} {path}: {}", r.text);
    }
    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/register")
                .json(json!({ "email": "n@example.com", "password": "a long passphrase", "name": nul })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["error"]["fields"]["name"].is_string());
    // Query strings, for the API and for server-rendered pages alike.
    for (path, field) in [
        ("/api/v1/tickets?q=%00", "q"),
        ("/api/v1/articles?q=x%01y", "q"),
        ("/kb?q=%00", "q"),
        ("/api/v1/features?q=%1b", "q"),
    ] {
        let r = app.send(call(Method::GET, path).bearer(&p.customer)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{path}: {}", r.text);
    }
    // Server functions: the error the page shows beside the field.
    let r = app
        .send(
            call(Method::POST, "/rpc/create_ticket")
                .bearer(&p.customer)
                .header("accept", "application/json")
                .raw(b"subject=a%00b&body=x&priority=P3", Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["fields"]["subject"].is_string(), "{}", r.text);
    // Line breaks and tabs are text, not control.
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(&p.customer).json(json!({
            "subject": "Tabs\tare fine", "body": "Line one\r\nLine two", "priority": "P3"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM tickets").await, tickets_before + 1, "nothing else was written");
}

async fn every_body_error_names_its_field(app: TestApp) {
    let p = people(&app).await;
    let cases = [
        ("/api/v1/tickets", json!({ "body": "x", "priority": "P3" }), "subject"),
        ("/api/v1/tickets", json!({ "subject": "x", "body": "x", "priority": 5 }), "priority"),
        ("/api/v1/tickets", json!({ "subject": "x", "body": "x", "priority": "P3", "colour": "red" }), "colour"),
        ("/api/v1/features", json!({ "title": "x" }), "body"),
        ("/api/v1/tickets", json!("just a string"), "body"),
    ];
    for (path, body, field) in cases {
        let r = app.send(call(Method::POST, path).bearer(&p.customer).json(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.text);
    }
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(&p.customer).raw(b"{not json", Some("application/json")))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.send(call(Method::POST, "/api/v1/tickets").bearer(&p.customer).raw(b"{}", Some("text/plain"))).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

// ---- 12. the slots contract ------------------------------------------------------------------------------------

async fn slots_are_the_documented_array(app: TestApp) {
    app.create_user("plat@example.com", Profile::customer(Tier::Platinum)).await;
    app.create_user(
        "caller@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L2), takes_calls: true },
    )
    .await;
    let platinum = app.token("plat@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/api/v1/bookings/slots?days=14").bearer(&platinum)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let slots = r.json();
    assert!(!slots.as_array().unwrap().is_empty());
    assert!(slots.as_array().unwrap().iter().all(|s| s.as_object().unwrap().len() == 2));
    // About a P1 ticket: its deadline in a header, and each slot says whether it beats it.
    let ticket = open_ticket(&app, &platinum, "P1").await.json()["id"].as_i64().unwrap();
    let r = app
        .send(call(Method::GET, &format!("/api/v1/bookings/slots?days=14&ticket_id={ticket}")).bearer(&platinum))
        .await;
    let deadline: jiff::Timestamp = r.header("sla-deadline").expect("deadline header").parse().unwrap();
    for slot in r.json().as_array().unwrap() {
        let start: jiff::Timestamp = slot["start"].as_str().unwrap().parse().unwrap();
        assert_eq!(slot["before_sla_deadline"].as_bool(), Some(start < deadline), "{slot}");
    }
}

// ---- 13. Account safety ---------------------------------------------------------------------------------

async fn status_of(app: &TestApp, call: common::Call) -> StatusCode {
    app.send(call).await.status
}

async fn changing_the_password_asks_for_the_current_one_and_ends_other_sessions(app: TestApp) {
    app.create_user("cust@example.com", Profile::customer(Tier::General)).await;
    let here = app.sign_in("cust@example.com", "a long passphrase").await;
    let elsewhere = app.sign_in("cust@example.com", "a long passphrase").await;
    let token = app.token("cust@example.com", "a long passphrase").await;
    let change = |body: Value| call(Method::POST, "/api/v1/me/password").cookie(&here).json(body);

    let r =
        app.send(change(json!({ "current_password": "wrong guess!!", "new_password": "a brand new phrase" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["error"]["fields"]["current_password"].is_string(), "{}", r.text);
    let r = app.send(change(json!({ "current_password": "a long passphrase", "new_password": "short" }))).await;
    assert!(r.json()["error"]["fields"]["new_password"].is_string(), "{}", r.text);
    let r = app.send(change(json!({ "current_password": "a long passphrase" }))).await;
    assert!(r.json()["error"]["fields"]["new_password"].is_string(), "a missing field is named: {}", r.text);
    let r =
        app.send(change(json!({ "current_password": "a long passphrase", "new_password": "a long passphrase" }))).await;
    assert!(r.json()["error"]["fields"]["new_password"].is_string(), "the same password again: {}", r.text);
    assert_eq!(
        status_of(&app, call(Method::GET, "/api/v1/me").cookie(&elsewhere)).await,
        StatusCode::OK,
        "nothing changed yet"
    );
    assert_eq!(
        status_of(
            &app,
            call(Method::POST, "/api/v1/me/password")
                .json(json!({ "current_password": "a long passphrase", "new_password": "a brand new phrase" }))
        )
        .await,
        StatusCode::UNAUTHORIZED
    );

    let r = app
        .send(change(json!({ "current_password": "a long passphrase", "new_password": "a brand new phrase" })))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        status_of(&app, call(Method::GET, "/api/v1/me").cookie(&here)).await,
        StatusCode::OK,
        "this browser stays"
    );
    assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").cookie(&elsewhere)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status_of(&app, call(Method::GET, "/api/v1/me").bearer(&token)).await,
        StatusCode::OK,
        "API tokens stay"
    );
    let old = json!({ "email": "cust@example.com", "password": "a long passphrase" });
    assert_eq!(status_of(&app, call(Method::POST, "/api/v1/auth/session").json(old)).await, StatusCode::UNAUTHORIZED);
    app.sign_in("cust@example.com", "a brand new phrase").await;
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND event = 'account.password_changed'")
            .await,
        1,
        "the owner is told by email"
    );
    assert!(scalar(&app, "SELECT COUNT(*) FROM events WHERE kind = 'auth.changed'").await >= 1, "streams check again");
}

async fn sign_out_everywhere_ends_every_session_but_not_tokens(app: TestApp) {
    app.create_user("cust@example.com", Profile::customer(Tier::General)).await;
    let a = app.sign_in("cust@example.com", "a long passphrase").await;
    let b = app.sign_in("cust@example.com", "a long passphrase").await;
    let token = app.token("cust@example.com", "a long passphrase").await;
    app.create_user("other@example.com", Profile::customer(Tier::General)).await;
    let other = app.sign_in("other@example.com", "a long passphrase").await;
    let r = app.send(call(Method::DELETE, "/api/v1/auth/sessions").cookie(&a)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["sessions_ended"], 2);
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")), "this browser's cookie is cleared");
    for session in [&a, &b] {
        assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").cookie(session)).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").bearer(&token)).await, StatusCode::OK);
    assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").cookie(&other)).await, StatusCode::OK, "only theirs");
    assert_eq!(status_of(&app, call(Method::DELETE, "/api/v1/auth/sessions")).await, StatusCode::UNAUTHORIZED);
}

/// The reset token in the link of a mail as the SMTP server received it (its text part, decoded).
fn reset_token_in(raw: &str) -> Option<String> {
    fn texts(part: &mailparse::ParsedMail) -> Vec<String> {
        let mut out: Vec<String> = part.subparts.iter().flat_map(texts).collect();
        if part.subparts.is_empty() && part.ctype.mimetype == "text/plain" {
            out.extend(part.get_body().ok());
        }
        out
    }
    let mail = mailparse::parse_mail(raw.as_bytes()).ok()?;
    texts(&mail).iter().find_map(|text| {
        let at = text.find("/reset-password?token=")? + "/reset-password?token=".len();
        let token: String = text[at..].chars().take_while(char::is_ascii_hexdigit).collect();
        (token.len() == 64).then_some(token)
    })
}

async fn a_forgotten_password_is_reset_by_email_once(app: TestApp) {
    let sink = common::peers::SmtpSink::start().await;
    let app = common::app_with_outbox(app.state.services.db.clone(), app.backend, test_outbox(Some(&sink.url))).await;
    let user = app.create_user("cust@example.com", Profile::customer(Tier::General)).await;
    let session = app.sign_in("cust@example.com", "a long passphrase").await;
    let drain = || async {
        let s = &app.state.services;
        app::notify::outbox::drain_once(&s.db, &s.events, &s.outbox).await.expect("drain")
    };
    let ask = |email: &str, ip: [u8; 4]| {
        call(Method::POST, "/api/v1/auth/password-resets").with_ip(ip).json(json!({ "email": email }))
    };

    // known and unknown addresses get the same answer; only the known one gets mail
    let known = app.send(ask("Cust@Example.com ", [10, 0, 0, 1])).await;
    let unknown = app.send(ask("nobody@example.com", [10, 0, 0, 1])).await;
    assert_eq!((known.status, unknown.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED), "{}", known.text);
    assert_eq!(known.text, unknown.text, "no account enumeration");
    let r = app.send(ask("not an address", [10, 0, 0, 1])).await;
    assert!(r.json()["error"]["fields"]["email"].is_string(), "{}", r.text);
    drain().await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, vec![user.email.clone()]);
    let token = reset_token_in(&mails[0].data).expect("a reset link in the mail");
    let stored: i64 = scalar(&app, &format!("SELECT COUNT(*) FROM password_resets WHERE token_hash = '{token}'")).await;
    assert_eq!(stored, 0, "only the hash of the token is kept");

    let confirm = |token: &str, password: &str| {
        call(Method::POST, "/api/v1/auth/password-resets/confirm")
            .json(json!({ "token": token, "new_password": password }))
    };
    // a weak password is refused and the link still works; a made-up link is refused
    let r = app.send(confirm(&token, "short")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["new_password"].is_string(), "{}", r.text);
    let r = app.send(confirm(&"0".repeat(64), "a brand new phrase")).await;
    assert!(r.json()["error"]["fields"]["token"].is_string(), "{}", r.text);
    let r = app.send(confirm("../../etc", "a brand new phrase")).await;
    assert!(r.json()["error"]["fields"]["token"].is_string(), "{}", r.text);
    assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").cookie(&session)).await, StatusCode::OK);

    let r = app.send(confirm(&token, "a brand new phrase")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["email"], "cust@example.com");
    assert_eq!(
        status_of(&app, call(Method::GET, "/api/v1/me").cookie(&session)).await,
        StatusCode::UNAUTHORIZED,
        "everyone is signed out"
    );
    app.sign_in("cust@example.com", "a brand new phrase").await;
    let r = app.send(confirm(&token, "yet another phrase")).await;
    assert!(r.json()["error"]["fields"]["token"].is_string(), "single use: {}", r.text);
    drain().await;
    assert_eq!(sink.mails().len(), 2, "the owner is told the password changed");

    // a link older than 30 minutes no longer works
    app.send(ask("cust@example.com", [10, 0, 0, 2])).await;
    drain().await;
    let late = reset_token_in(&sink.mails()[2].data).expect("second link");
    sqlx::query("UPDATE password_resets SET expires_at = $1")
        .bind(app::db::now() - 1)
        .execute(&app.state.services.db.pool)
        .await
        .unwrap();
    let r = app.send(confirm(&late, "a fourth phrase here")).await;
    assert!(r.json()["error"]["fields"]["token"].is_string(), "{}", r.text);

    // nobody's inbox is flooded: a few links an hour per account, whoever asks; the answer stays the same
    for i in 0..8u8 {
        let r = app.send(ask("cust@example.com", [10, 0, 1, i])).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        assert_eq!(r.text, unknown.text);
    }
    drain().await;
    let to_user = sink.mails().iter().filter(|m| reset_token_in(&m.data).is_some()).count();
    assert_eq!(to_user, 5, "the account's budget is 5 links an hour");
    // and one address cannot ask without end
    let statuses: Vec<StatusCode> =
        futures::future::join_all((0..6).map(|i| app.send(ask(&format!("someone{i}@example.com"), [10, 0, 2, 1]))))
            .await
            .into_iter()
            .map(|r| r.status)
            .collect();
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

async fn api_tokens_can_expire(app: TestApp) {
    app.create_user("cust@example.com", Profile::customer(Tier::General)).await;
    let ask = |days: Value| {
        call(Method::POST, "/api/v1/auth/tokens").json(json!({
            "email": "cust@example.com", "password": "a long passphrase", "label": "ci", "expires_in_days": days
        }))
    };
    for bad in [json!(0), json!(366), json!("soon")] {
        let r = app.send(ask(bad.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
        assert!(r.json()["error"]["fields"]["expires_in_days"].is_string(), "{bad}: {}", r.text);
    }
    let r = app.send(ask(json!(30))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let expires: jiff::Timestamp = r.json()["token_info"]["expires_at"].as_str().expect("expiry").parse().unwrap();
    let days = (expires.as_second() - app::db::now()) as f64 / 86_400.0;
    assert!((29.9..=30.1).contains(&days), "{days}");
    let token = r.json()["token"].as_str().unwrap().to_string();
    let forever = app.token("cust@example.com", "a long passphrase").await;
    assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").bearer(&token)).await, StatusCode::OK);
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE expires_at IS NOT NULL")
        .bind(app::db::now() - 1)
        .execute(&app.state.services.db.pool)
        .await
        .unwrap();
    assert_eq!(status_of(&app, call(Method::GET, "/api/v1/me").bearer(&token)).await, StatusCode::UNAUTHORIZED);
    let list = app.send(call(Method::GET, "/api/v1/auth/tokens").bearer(&forever)).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "an expired token is not listed: {list}");
    assert!(items[0]["expires_at"].is_null());
}

async fn https_portals_send_hsts_and_host_prefixed_cookies(app: TestApp) {
    app.create_user("cust@example.com", Profile::customer(Tier::General)).await;
    let plain = app.send(call(Method::GET, "/healthz")).await;
    assert!(plain.header("strict-transport-security").is_none(), "not over plain HTTP");
    let secure = instance(
        &app,
        |mut s| {
            s.secure_cookies = true;
            s
        },
        |a| a,
    )
    .await;
    let r = secure
        .send(
            call(Method::POST, "/api/v1/auth/session")
                .json(json!({ "email": "cust@example.com", "password": "a long passphrase" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
    let cookie = r.header("set-cookie").expect("cookie").to_string();
    assert!(
        cookie.starts_with("__Host-supportal_session=") && cookie.contains("; Path=/;") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
    let id = cookie["__Host-supportal_session=".len()..].split(';').next().unwrap().to_string();
    let me = |cookie: String| call(Method::GET, "/api/v1/me").header("cookie", &cookie);
    assert_eq!(secure.send(me(format!("__Host-supportal_session={id}"))).await.status, StatusCode::OK);
    // the unprefixed name (which a sibling subdomain could plant) does not count over HTTPS
    assert_eq!(secure.send(me(format!("supportal_session={id}"))).await.status, StatusCode::UNAUTHORIZED);
    let page = secure.send(call(Method::GET, "/kb")).await;
    assert!(page.header("strict-transport-security").is_some(), "pages too");
}

both!(
    junk_requests_do_not_grow_the_metrics,
    metrics_can_ask_for_a_token,
    a_client_behind_a_trusted_proxy_gets_its_own_budget,
    instances_on_postgres_share_one_budget,
    private_destinations_are_refused_unless_allowed,
    the_http_client_checks_every_request,
    a_customer_cannot_flood_staff_with_p1_tickets,
    a_revoked_tokens_stream_receives_nothing_more,
    a_demoted_agents_stream_ends,
    a_signed_out_sessions_stream_ends,
    streams_are_capped_and_replays_bounded,
    made_up_credentials_earn_no_budget,
    idempotency_keeps_no_secrets_and_forgets,
    huge_id_lists_are_refused_not_sorted,
    control_characters_are_refused_everywhere,
    every_body_error_names_its_field,
    slots_are_the_documented_array,
    changing_the_password_asks_for_the_current_one_and_ends_other_sessions,
    sign_out_everywhere_ends_every_session_but_not_tokens,
    a_forgotten_password_is_reset_by_email_once,
    api_tokens_can_expire,
    https_portals_send_hsts_and_host_prefixed_cookies,
);
