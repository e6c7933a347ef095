#![recursion_limit = "256"]
//! Tickets through the REST API, with SLA clocks and live events, on SQLite and PostgreSQL.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, read_events, sse, TestApp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

struct People {
    platinum: String,
    other: String,
    agent: String,
    l2: String,
}

async fn people(app: &TestApp) -> People {
    app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    app.create_user("gen@example.com", Profile::customer(Tier::General)).await;
    let staff = |level| Profile { role: Role::Agent, tier: None, level: Some(level), takes_calls: false };
    app.create_user("agent@example.com", staff(Level::L1)).await;
    app.create_user("senior@example.com", staff(Level::L2)).await;
    People {
        platinum: app.token("pat@example.com", "a long passphrase").await,
        other: app.token("gen@example.com", "a long passphrase").await,
        agent: app.token("agent@example.com", "a long passphrase").await,
        l2: app.token("senior@example.com", "a long passphrase").await,
    }
}

async fn open_ticket(app: &TestApp, token: &str, priority: &str) -> Value {
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(token).json(json!({
            "subject": "Bot completely down", "body": "Nothing answers since 09:00.", "priority": priority, "category": "bug"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()
}

fn rfc(v: &Value) -> i64 {
    v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap().as_second()
}

async fn lifecycle_with_sla_clocks(app: TestApp) {
    let p = people(&app).await;
    let t = open_ticket(&app, &p.platinum, "P1").await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        (t["status"].as_str(), t["tier"].as_str(), t["level"].as_str()),
        (Some("new"), Some("platinum"), Some("L1"))
    );
    let first = &t["sla"]["first_response"];
    assert_eq!(first["target_minutes"], 60);
    assert_eq!(first["state"], "on_track");
    // Platinum P1 runs around the clock: due exactly one hour after opening.
    assert_eq!(rfc(&first["due_at"]) - rfc(&t["created_at"]), 3600);
    assert_eq!(rfc(&t["sla"]["resolution"]["due_at"]) - rfc(&t["created_at"]), 4 * 3600);

    // the agent sees it in the queue and answers
    let queue = app.send(call(Method::GET, "/api/v1/tickets").bearer(&p.agent)).await.json();
    assert!(queue["items"].as_array().unwrap().iter().any(|x| x["id"] == id));
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(&p.agent)
                .json(json!({ "body": "Looking now." })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(&p.agent)
                .json(json!({ "body": "Customer is on the old version", "internal": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let t = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&p.platinum)).await.json();
    assert_eq!(t["sla"]["first_response"]["state"], "met");
    assert_eq!(t["status"], "open");

    // internal notes never reach the customer
    let mine = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/messages")).bearer(&p.platinum)).await;
    assert!(!mine.text.contains("old version"), "{}", mine.text);
    assert_eq!(mine.json()["items"].as_array().unwrap().len(), 1);
    let staff_view =
        app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/messages")).bearer(&p.agent)).await.json();
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 2);
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(&p.platinum)
                .json(json!({ "body": "x", "internal": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // waiting on the customer pauses the resolution clock; their reply resumes it
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.agent)
                .json(json!({ "status": "pending_customer" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let resolution = &r.json()["sla"]["resolution"];
    assert_eq!(resolution["state"], "paused");
    assert_eq!(resolution["paused_reason"], "pending_customer");
    assert!(resolution["paused_since"].is_string());
    app.send(
        call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
            .bearer(&p.platinum)
            .json(json!({ "body": "Here are the logs." })),
    )
    .await;
    let t = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&p.platinum)).await.json();
    assert_eq!(t["status"], "open");
    assert_eq!(t["sla"]["resolution"]["state"], "on_track");

    // the customer resolves, then reopens
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.platinum)
                .json(json!({ "status": "resolved" })),
        )
        .await;
    assert_eq!(r.json()["sla"]["resolution"]["state"], "met");
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}")).bearer(&p.platinum).json(json!({ "status": "open" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["sla"]["resolution"]["state"], "on_track");
    // but may not put it on hold or change its priority
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.platinum)
                .json(json!({ "status": "on_hold" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}")).bearer(&p.platinum).json(json!({ "priority": "P4" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn priority_change_recomputes_the_targets(app: TestApp) {
    let p = people(&app).await;
    let t = open_ticket(&app, &p.platinum, "P3").await;
    assert_eq!(t["sla"]["first_response"]["target_minutes"], 1440);
    let id = t["id"].as_i64().unwrap();
    let r = app
        .send(call(Method::PATCH, &format!("/api/v1/tickets/{id}")).bearer(&p.agent).json(json!({ "priority": "P1" })))
        .await;
    let t = r.json();
    assert_eq!(t["priority"], "P1");
    assert_eq!(t["sla"]["first_response"]["target_minutes"], 60);
    assert_eq!(rfc(&t["sla"]["first_response"]["due_at"]) - rfc(&t["created_at"]), 3600);
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM ticket_history WHERE ticket_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&app.state.services.db.pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["created", "priority"]);
}

async fn another_customers_ticket_is_not_found(app: TestApp) {
    let p = people(&app).await;
    let t = open_ticket(&app, &p.platinum, "P2").await;
    let id = t["id"].as_i64().unwrap();
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/tickets/{id}"), None),
        (Method::PATCH, format!("/api/v1/tickets/{id}"), Some(json!({ "status": "resolved" }))),
        (Method::GET, format!("/api/v1/tickets/{id}/messages"), None),
        (Method::POST, format!("/api/v1/tickets/{id}/messages"), Some(json!({ "body": "hi" }))),
        (Method::GET, "/api/v1/tickets/999999".to_string(), None),
        (Method::GET, "/api/v1/tickets/abc".to_string(), None),
    ] {
        let mut c = call(method.clone(), &path).bearer(&p.other);
        if let Some(b) = body {
            c = c.json(b);
        }
        let r = app.send(c).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.text);
    }
    let list = app.send(call(Method::GET, "/api/v1/tickets").bearer(&p.other)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.send(call(Method::GET, "/api/v1/tickets")).await.status, StatusCode::UNAUTHORIZED);
    // staff do not open tickets for themselves
    let r = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(&p.agent)
                .json(json!({ "subject": "s", "body": "b", "priority": "P1" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn bad_tickets_are_refused_whole(app: TestApp) {
    let p = people(&app).await;
    let r = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(&p.platinum)
                .json(json!({ "subject": " ", "body": "", "priority": "P9" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &r.json()["error"]["fields"];
    assert!(fields["subject"].is_string() && fields["body"].is_string() && fields["priority"].is_string(), "{fields}");
    let r = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(&p.platinum)
                .json(json!({ "subject": "s", "body": "b".repeat(20_001), "priority": "P3" })),
        )
        .await;
    assert!(r.json()["error"]["fields"]["body"].as_str().unwrap().contains("20000"));
    let r = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(&p.platinum)
                .json(json!({ "subject": "s", "body": "b".repeat(70_000), "priority": "P3" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let html = "<script>alert(1)</script>";
    let r = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(&p.platinum)
                .json(json!({ "subject": html, "body": html, "priority": "P4" })),
        )
        .await;
    assert_eq!(r.json()["subject"], html, "stored as the text it is");
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&app.state.services.db.pool).await.unwrap();
    assert_eq!(count, 1, "only the valid ticket was written");
    for bad in ["?status=lost", "?priority=P0", "?sla_state=late", "?tier=gold", "?assignee=x"] {
        let r = app.send(call(Method::GET, &format!("/api/v1/tickets{bad}")).bearer(&p.agent)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

async fn a_retried_create_makes_one_ticket(app: TestApp) {
    let p = people(&app).await;
    let body = json!({ "subject": "Export fails", "body": "Limit reached", "priority": "P3" });
    let a = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(&p.platinum)
                .header("idempotency-key", "t-1")
                .json(body.clone()),
        )
        .await;
    let b = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(&p.platinum).header("idempotency-key", "t-1").json(body))
        .await;
    assert_eq!(a.json()["id"], b.json()["id"]);
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&app.state.services.db.pool).await.unwrap();
    assert_eq!(count, 1);
}

async fn escalation_goes_up_with_a_reason(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.platinum, "P2").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}/escalations");
    let r =
        app.send(call(Method::POST, &path).bearer(&p.agent).json(json!({ "to_level": "L2", "reason": "  " }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(
            call(Method::POST, &path)
                .bearer(&p.agent)
                .json(json!({ "to_level": "L2", "reason": "Needs a log analysis" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["level"], "L2");
    let r = app.send(call(Method::POST, &path).bearer(&p.l2).json(json!({ "to_level": "L1", "reason": "back" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (from, to, reason): (String, String, String) = {
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT from_value, to_value, reason FROM ticket_history WHERE ticket_id = $1 AND kind = 'escalation'",
        )
        .bind(id)
        .fetch_one(&app.state.services.db.pool)
        .await
        .unwrap();
        (row.get("from_value"), row.get("to_value"), row.get("reason"))
    };
    assert_eq!((from.as_str(), to.as_str(), reason.as_str()), ("L1", "L2", "Needs a log analysis"));
}

async fn events_stream_live_and_resume_without_gaps(app: TestApp) {
    let p = people(&app).await;
    let first = open_ticket(&app, &p.platinum, "P1").await["id"].as_i64().unwrap();
    let other = open_ticket(&app, &p.other, "P4").await["id"].as_i64().unwrap();
    app.send(
        call(Method::POST, &format!("/api/v1/tickets/{first}/messages"))
            .bearer(&p.agent)
            .json(json!({ "body": "note", "internal": true })),
    )
    .await;

    // resuming from the start replays only what this customer may see: their ticket, no internal note
    let replay = read_events(sse(&app, &p.platinum, Some(0)).await, 3).await;
    assert_eq!(replay.len(), 1, "{replay:?}");
    assert_eq!((replay[0].1.as_str(), replay[0].2["ticket_id"].as_i64()), ("ticket.created", Some(first)));
    // staff see everything
    let staff = read_events(sse(&app, &p.agent, Some(0)).await, 3).await;
    assert_eq!(staff.len(), 3);
    assert!(staff.windows(2).all(|w| w[0].0 < w[1].0), "in order");
    assert!(staff.iter().any(|e| e.2["ticket_id"].as_i64() == Some(other)));

    // live: a change after connecting arrives once; a resume after it gets nothing twice
    let live = sse(&app, &p.platinum, None).await;
    let reader = tokio::spawn(read_events(live, 2));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.send(
        call(Method::POST, &format!("/api/v1/tickets/{first}/messages"))
            .bearer(&p.agent)
            .json(json!({ "body": "On it" })),
    )
    .await;
    let got = reader.await.unwrap();
    // The reply and the customer's own notification of it (the bell), in commit order.
    let kinds: Vec<&str> = got.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(kinds, ["notification.created", "ticket.message"]);
    let after = read_events(sse(&app, &p.platinum, Some(got[1].0)).await, 1).await;
    assert!(after.is_empty(), "{after:?}");

    let r = app.send(call(Method::GET, "/api/v1/events?last_event_id=abc").bearer(&p.platinum)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.send(call(Method::GET, "/api/v1/events")).await.status, StatusCode::UNAUTHORIZED);
}

/// PostgreSQL deployments run several instances: NOTIFY carries each event to all of them.
async fn a_change_on_one_instance_reaches_clients_of_another(app: TestApp) {
    if app.backend != common::Backend::Postgres {
        return; // SQLite is a single-instance deployment
    }
    let p = people(&app).await;
    let second = common::app_for(app.state.services.db.clone(), app.backend).await;
    let stream = sse(&second, &p.agent, None).await;
    let reader = tokio::spawn(read_events(stream, 1));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // P2: a P1 would first notify every agent (a personal event) before the ticket event.
    let id = open_ticket(&app, &p.platinum, "P2").await["id"].as_i64().unwrap();
    let got = reader.await.unwrap();
    assert_eq!(got.len(), 1, "the second instance forwarded the event");
    assert_eq!((got[0].1.as_str(), got[0].2["ticket_id"].as_i64()), ("ticket.created", Some(id)));
}

both!(
    a_change_on_one_instance_reaches_clients_of_another,
    lifecycle_with_sla_clocks,
    priority_change_recomputes_the_targets,
    another_customers_ticket_is_not_found,
    bad_tickets_are_refused_whole,
    a_retried_create_makes_one_ticket,
    escalation_goes_up_with_a_reason,
    events_stream_live_and_resume_without_gaps,
);
