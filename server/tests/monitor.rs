#![recursion_limit = "256"]
//! The SLA monitor with a controlled clock: transitions fire once, in order,
//! and not again after a restart; at-risk P1/P2 tickets escalate.

mod common;

use app::accounts::{Profile, Tier};
use app::events::EventBus;
use app::tickets::monitor::run_once;
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::json;
use sqlx::Row;

async fn open(app: &TestApp, token: &str, priority: &str) -> (i64, i64) {
    let r = app
        .send(
            call(Method::POST, "/api/v1/tickets")
                .bearer(token)
                .json(json!({ "subject": "Down", "body": "All down", "priority": priority })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let t = r.json();
    let created = t["created_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap().as_second();
    (t["id"].as_i64().unwrap(), created)
}

async fn transitions_fire_once_in_order_and_escalate(app: TestApp) {
    app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    let token = app.token("pat@example.com", "a long passphrase").await;
    let staff = app.manager_token().await;
    let (id, t0) = open(&app, &token, "P1").await;
    let db = &app.state.services.db;
    let bus = common::event_bus(db).await;
    let mut listener = bus.subscribe();

    // 44 minutes into a 60-minute first-response target: nothing yet, and the next deadline is at 45
    let pass = run_once(db, &bus, t0 + 44 * 60).await.unwrap();
    assert!(pass.transitions.is_empty());
    assert_eq!(pass.next_due, Some(t0 + 45 * 60));

    let pass = run_once(db, &bus, t0 + 45 * 60).await.unwrap();
    assert_eq!(pass.transitions, vec![(id, "first_response", "at_risk")]);
    assert_eq!(pass.escalated, vec![id]);
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv()).await.unwrap().unwrap();
        if event.ticket_id == Some(id) && !event.kind.starts_with("ticket.created") {
            kinds.push(event.kind);
        }
    }
    assert_eq!(kinds, ["sla.at_risk", "ticket.escalated"]);
    let t = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&staff)).await.json();
    assert_eq!(t["level"], "L2", "escalated one level");

    // the same instant again: nothing new
    assert!(run_once(db, &bus, t0 + 45 * 60).await.unwrap().transitions.is_empty());

    let pass = run_once(db, &bus, t0 + 61 * 60).await.unwrap();
    assert_eq!(pass.transitions, vec![(id, "first_response", "breached")]);
    // a "restart": a fresh bus and monitor records nothing twice
    let restarted = EventBus::new();
    assert!(run_once(db, &restarted, t0 + 61 * 60).await.unwrap().transitions.is_empty());
    // resolution (4 h): at risk at 3 h, breached at 4 h; escalation happens only once
    let pass = run_once(db, &restarted, t0 + 4 * 3600).await.unwrap();
    assert_eq!(pass.transitions, vec![(id, "resolution", "at_risk"), (id, "resolution", "breached")]);
    assert!(pass.escalated.is_empty());

    let rows = sqlx::query("SELECT clock, state FROM sla_transitions WHERE ticket_id = $1 ORDER BY at, clock, state")
        .bind(id)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    let escalations: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ticket_history WHERE ticket_id = $1 AND kind = 'escalation' AND actor_id IS NULL",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(escalations, 1);
    let notified: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE ticket_id = $1 AND kind LIKE 'sla.%'")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(notified, 4, "the one manager hears of each transition");
    // a breach stays recorded after the reply
    app.send(
        call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
            .bearer(&staff)
            .json(json!({ "body": "Sorry, on it" })),
    )
    .await;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM sla_transitions WHERE ticket_id = $1 AND state = 'breached'")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("n"), 2);
}

async fn answered_and_low_priority_tickets_do_not_escalate(app: TestApp) {
    app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    let token = app.token("pat@example.com", "a long passphrase").await;
    let staff = app.manager_token().await;
    let db = &app.state.services.db;
    let bus = EventBus::new();
    let (answered, t0) = open(&app, &token, "P2").await;
    app.send(
        call(Method::POST, &format!("/api/v1/tickets/{answered}/messages"))
            .bearer(&staff)
            .json(json!({ "body": "Hi" })),
    )
    .await;
    // P2 resolution 24 h (24x7): at risk after 18 h; the answered ticket's first response is met
    let pass = run_once(db, &bus, t0 + 18 * 3600).await.unwrap();
    assert_eq!(pass.transitions, vec![(answered, "resolution", "at_risk")]);
    assert!(pass.escalated.is_empty());
    // paused tickets do not move
    let (paused, _) = open(&app, &token, "P2").await;
    app.send(
        call(Method::PATCH, &format!("/api/v1/tickets/{paused}"))
            .bearer(&staff)
            .json(json!({ "status": "pending_customer" })),
    )
    .await;
    let pass = run_once(db, &bus, t0 + 18 * 3600).await.unwrap();
    assert!(pass.transitions.iter().all(|(t, clock, _)| *t != paused || *clock == "first_response"), "{pass:?}");
}

both!(transitions_fire_once_in_order_and_escalate, answered_and_low_priority_tickets_do_not_escalate);
