//! The agents' dashboard on SQLite and PostgreSQL: the queue's views, counts, order and filters; stored
//! deadlines that follow every change; concurrent agents (no lost message, no lost update); escalation rules;
//! internal notes; the workspace, timeline, presence and bulk actions; customers refused everywhere.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

struct People {
    platinum: String,
    general: String,
    a: String,
    b: String,
    a_id: i64,
    b_id: i64,
    manager: String,
}

async fn people(app: &TestApp) -> People {
    app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    app.create_user("gen@example.com", Profile::customer(Tier::General)).await;
    let staff = |level| Profile { role: Role::Agent, tier: None, level: Some(level), takes_calls: false };
    let a = app.create_user("dana@example.com", staff(Level::L1)).await;
    let b = app.create_user("lee@example.com", staff(Level::L2)).await;
    let pool = &app.state.services.db.pool;
    for (id, name) in [(a.id, "Dana"), (b.id, "Lee")] {
        sqlx::query("UPDATE users SET name = $1 WHERE id = $2").bind(name).bind(id).execute(pool).await.unwrap();
    }
    People {
        platinum: app.token("pat@example.com", "a long passphrase").await,
        general: app.token("gen@example.com", "a long passphrase").await,
        a: app.token("dana@example.com", "a long passphrase").await,
        b: app.token("lee@example.com", "a long passphrase").await,
        a_id: a.id,
        b_id: b.id,
        manager: app.manager_token().await,
    }
}

async fn open(app: &TestApp, token: &str, subject: &str, priority: &str) -> i64 {
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(token).json(json!({
            "subject": subject, "body": format!("{subject}: details."), "priority": priority
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

async fn queue(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.send(call(Method::GET, &format!("/api/v1/queue?{query}")).bearer(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    r.json()
}

fn ids(q: &Value) -> Vec<i64> {
    q["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

/// A server function call as the browser makes it (form body, same origin).
fn rpc(name: &str, token: &str, form: &str) -> common::Call {
    call(Method::POST, &format!("/rpc/{name}"))
        .bearer(token)
        .header("origin", "http://127.0.0.1:3000")
        .header("accept", "application/json")
        .raw(form.as_bytes(), Some("application/x-www-form-urlencoded"))
}

async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> common::TestResponse {
    app.send(call(Method::PATCH, &format!("/api/v1/tickets/{id}")).bearer(token).json(body)).await
}

async fn queue_views_count_order_and_filter(app: TestApp) {
    let p = people(&app).await;
    // Due: platinum P1 first response in 1 h (24x7); platinum P2 in 4 h; general P4 in 48 support hours.
    let low = open(&app, &p.general, "Typo in the docs", "P4").await;
    let p2 = open(&app, &p.platinum, "Webhooks slow", "P2").await;
    let p1 = open(&app, &p.platinum, "Bot completely down", "P1").await;
    let done = open(&app, &p.general, "Already solved", "P3").await;
    assert_eq!(patch(&app, &p.a, done, json!({ "status": "resolved" })).await.status, StatusCode::OK);

    let all = queue(&app, &p.a, "").await;
    assert_eq!(all["view"], "all");
    assert_eq!(ids(&all), [p1, p2, low], "running tickets by next deadline; resolved ones leave the queue");
    assert_eq!(all["counts"], json!({ "unassigned": 3, "mine": 0, "at_risk": 0, "all": 3 }));
    assert_eq!(all["tickets"][0]["requester_name"], "Test User");
    assert_eq!(all["tickets"][0]["next"]["clock"], "first_response");
    assert_eq!(all["tickets"][0]["tier"], "platinum");
    assert!(all["tickets"][0].get("body").is_none(), "rows carry what the queue shows, not the description");

    // A claims the P2: the views and counts follow, for A and for B.
    assert_eq!(patch(&app, &p.a, p2, json!({ "assignee_id": p.a_id })).await.status, StatusCode::OK);
    let mine = queue(&app, &p.a, "view=mine").await;
    assert_eq!(ids(&mine), [p2]);
    assert_eq!(mine["tickets"][0]["assignee_name"], "Dana");
    assert_eq!(mine["counts"], json!({ "unassigned": 2, "mine": 1, "at_risk": 0, "all": 3 }));
    assert_eq!(queue(&app, &p.b, "view=mine").await["counts"]["mine"], 0);
    assert_eq!(ids(&queue(&app, &p.b, "view=unassigned").await), [p1, low]);

    // 50 minutes into a 60-minute first response the P1 is at risk (75 %); the stored deadline says so.
    let pool = &app.state.services.db.pool;
    let at = app::db::now() - 50 * 60;
    sqlx::query("UPDATE tickets SET created_at = $1 WHERE id = $2").bind(at).bind(p1).execute(pool).await.unwrap();
    app::tickets::service::refresh_deadlines(&app.state.services.db).await.unwrap();
    let risky = queue(&app, &p.a, "view=at_risk").await;
    assert_eq!(ids(&risky), [p1]);
    assert_eq!(risky["counts"]["at_risk"], 1);
    assert_eq!(risky["tickets"][0]["next"]["state"], "at_risk");

    // Filters narrow rows and counts alike.
    assert_eq!(ids(&queue(&app, &p.a, "tier=general").await), [low]);
    assert_eq!(queue(&app, &p.a, "tier=platinum").await["counts"]["all"], 2);
    assert_eq!(ids(&queue(&app, &p.a, "priority=P2").await), [p2]);
    assert_eq!(ids(&queue(&app, &p.a, "q=COMPLETELY").await), [p1]);
    assert_eq!(ids(&queue(&app, &p.a, &format!("q=%23{low}")).await), [low], "#id finds the ticket");
    assert_eq!(ids(&queue(&app, &p.a, "level=L2").await), Vec::<i64>::new());
    assert_eq!(ids(&queue(&app, &p.a, "status=new&view=unassigned").await), [p1, low]);

    let bad = app.send(call(Method::GET, "/api/v1/queue?view=later&tier=gold&limit=0").bearer(&p.a)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["view", "tier", "limit"] {
        assert!(bad.json()["error"]["fields"][field].is_string(), "{field}: {}", bad.text);
    }
    // Customers are refused the queue, the timeline and every staff server function.
    assert_eq!(app.send(call(Method::GET, "/api/v1/queue").bearer(&p.platinum)).await.status, StatusCode::FORBIDDEN);
    let history = call(Method::GET, &format!("/api/v1/tickets/{p1}/history")).bearer(&p.platinum);
    assert_eq!(app.send(history).await.status, StatusCode::FORBIDDEN);
    for (name, form) in [
        ("ticket_queue", String::new()),
        ("update_ticket", format!("id={p1}&version=1&status=open")),
        ("escalate_ticket", format!("id={p1}&to_level=L2&reason=x")),
        ("bulk_update_tickets", format!("ids={p1}&action=claim")),
    ] {
        let r = app.send(rpc(name, &p.platinum, &form)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.text);
    }
    let escalate = call(Method::POST, &format!("/api/v1/tickets/{p1}/escalations"))
        .bearer(&p.platinum)
        .json(json!({ "to_level": "L2", "reason": "hurry" }));
    assert_eq!(app.send(escalate).await.status, StatusCode::FORBIDDEN);
}

/// The stored sort keys equal what the SLA engine says, after every kind of change.
async fn stored_deadlines_follow_every_change(app: TestApp) {
    let p = people(&app).await;
    let id = open(&app, &p.platinum, "Exports fail", "P3").await;
    let pool = &app.state.services.db.pool;
    let stored = || async move {
        sqlx::query_as::<_, (i64, i64)>("SELECT sla_next_due, sla_at_risk_from FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let ticket = || async { app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&p.a)).await.json() };
    let t = ticket().await;
    let first_due = t["sla"]["first_response"]["due_epoch"].as_i64().unwrap();
    assert_eq!(stored().await.0, first_due, "a new ticket: the first response comes first");

    // P3 → P1: 1 h around the clock instead of 24 support hours.
    assert_eq!(patch(&app, &p.a, id, json!({ "priority": "P1" })).await.status, StatusCode::OK);
    let t = ticket().await;
    let p1_due = t["sla"]["first_response"]["due_epoch"].as_i64().unwrap();
    assert!(p1_due < first_due);
    assert_eq!(stored().await.0, p1_due);

    // Answered and waiting on the customer: nothing runs, the ticket sorts last.
    let reply =
        call(Method::POST, &format!("/api/v1/tickets/{id}/messages")).bearer(&p.a).json(json!({ "body": "On it" }));
    assert_eq!(app.send(reply).await.status, StatusCode::CREATED);
    assert_eq!(patch(&app, &p.a, id, json!({ "status": "pending_customer" })).await.status, StatusCode::OK);
    assert_eq!(stored().await, (app::tickets::clocks::NO_DEADLINE, app::tickets::clocks::NO_DEADLINE));
    // The customer answers: the resolution clock runs again and leads.
    let answer = call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
        .bearer(&p.platinum)
        .json(json!({ "body": "Done" }));
    assert_eq!(app.send(answer).await.status, StatusCode::CREATED);
    let t = ticket().await;
    assert_eq!(t["status"], "open");
    assert_eq!(stored().await.0, t["sla"]["resolution"]["due_epoch"].as_i64().unwrap());

    // A policy edit moves running deadlines at once.
    let policies = json!([{"tier": "platinum", "priority": "P1", "first_response_minutes": 60,
        "resolution_minutes": 480, "calendar": "24x7", "pause_on_hold": false}]);
    let put = call(Method::PUT, "/api/v1/sla/policies").bearer(&p.manager).json(policies);
    let r = app.send(put).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let t = ticket().await;
    assert_eq!(t["sla"]["resolution"]["target_minutes"], 480);
    assert_eq!(stored().await.0, t["sla"]["resolution"]["due_epoch"].as_i64().unwrap());
}

/// Two agents on one ticket at once: every message is kept; a change made against an old version is refused.
async fn concurrent_agents_lose_nothing(app: TestApp) {
    let p = people(&app).await;
    let id = open(&app, &p.platinum, "Both agents here", "P2").await;
    let path = format!("/api/v1/tickets/{id}/messages");
    let write = |token: String, who: &'static str| {
        let (app, path) = (&app, path.clone());
        async move {
            for n in 0..15 {
                let internal = n % 3 == 0;
                let r = app
                    .send(
                        call(Method::POST, &path)
                            .bearer(&token)
                            .json(json!({ "body": format!("{who} {n}"), "internal": internal })),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            }
        }
    };
    tokio::join!(write(p.a.clone(), "a"), write(p.b.clone(), "b"));
    let all = app.send(call(Method::GET, &path).bearer(&p.a)).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 30, "no message lost");
    let seen = app.send(call(Method::GET, &path).bearer(&p.platinum)).await.json();
    assert_eq!(seen["items"].as_array().unwrap().len(), 20, "internal notes never reach the customer");
    assert!(seen["items"].as_array().unwrap().iter().all(|m| m["internal"] == false));

    // Both claim against the version they saw: exactly one wins, the other is told and nothing is overwritten.
    let version = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&p.a)).await.json()["version"]
        .as_i64()
        .unwrap();
    let claim = |token: String, who: i64| {
        let app = &app;
        async move { patch(app, &token, id, json!({ "assignee_id": who, "version": version })).await.status }
    };
    let (first, second) = tokio::join!(claim(p.a.clone(), p.a_id), claim(p.b.clone(), p.b_id));
    let mut statuses = [first, second];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let t = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}")).bearer(&p.a)).await.json();
    let winner = if first == StatusCode::OK { p.a_id } else { p.b_id };
    assert_eq!(t["assignee_id"], winner);
    assert_eq!(t["version"], version + 1);
    let stale = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.b)
                .header("if-match", &format!("\"{version}\""))
                .json(json!({ "status": "on_hold" })),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.error_code(), "ticket_changed");
    let fresh = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.b)
                .header("if-match", &format!("\"{}\"", version + 1))
                .json(json!({ "status": "on_hold" })),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    let bad = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.b)
                .header("if-match", "soon")
                .json(json!({})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn escalation_rules_and_timeline(app: TestApp) {
    let p = people(&app).await;
    let id = open(&app, &p.platinum, "Quota bug", "P3").await;
    let escalate = |token: &str, to: &str, reason: &str| {
        call(Method::POST, &format!("/api/v1/tickets/{id}/escalations"))
            .bearer(token)
            .json(json!({ "to_level": to, "reason": reason }))
    };
    assert_eq!(patch(&app, &p.a, id, json!({ "assignee_id": p.a_id })).await.status, StatusCode::OK);
    // L1 cannot skip to L3 or L4; the reason is required; nothing is written on refusal.
    let skip = app.send(escalate(&p.a, "L4", "Angry customer")).await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(skip.json()["error"]["fields"]["to_level"].as_str().unwrap().contains("L1 → L2"), "{}", skip.text);
    assert_eq!(app.send(escalate(&p.a, "L2", " ")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.send(escalate(&p.a, "L2", "Needs an engineer")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["level"], "L2");
    assert_eq!(r.json()["assignee_id"], Value::Null, "the next level picks it up from the queue");
    assert_eq!(ids(&queue(&app, &p.b, "level=L2&view=unassigned").await), [id]);
    // A manager may move it further at once.
    let r = app.send(escalate(&p.manager, "L4", "Contract at stake")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(app.send(escalate(&p.manager, "L4", "again")).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let timeline = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/history")).bearer(&p.b)).await.json();
    let entries: Vec<(String, String, String)> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["summary"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap_or("System").to_string(),
                e["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("Opened as P3", "Test User", ""),
        ("Assigned to Dana", "Dana", ""),
        ("Escalated L1 → L2", "Dana", "Needs an engineer"),
        ("Unassigned from Dana", "Dana", "escalated"),
        ("Escalated L2 → L4", "Test User", "Contract at stake"),
    ];
    let got: Vec<(&str, &str, &str)> = entries.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(got, expected);
    assert!(timeline["items"][2]["at"].as_str().unwrap().ends_with('Z'));
}

/// The workspace server function: staff get the side panel and timeline; customers their public view only.
async fn workspace_presence_and_bulk(app: TestApp) {
    let p = people(&app).await;
    let id = open(&app, &p.platinum, "Calendar sync", "P2").await;
    let older = open(&app, &p.platinum, "Older question", "P4").await;
    let note = rpc("reply_ticket", &p.a, &format!("id={id}&body=Customer+is+on+the+legacy+plan&internal=true"));
    let r = app.send(note).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["internal"], true);
    let public = app.send(rpc("reply_ticket", &p.a, &format!("id={id}&body=Looking+now"))).await;
    assert_eq!(public.json()["internal"], false);

    let staff_view = app.send(rpc("ticket_workspace", &p.b, &format!("id={id}"))).await;
    assert_eq!(staff_view.status, StatusCode::OK, "{}", staff_view.text);
    let w = staff_view.json();
    assert_eq!(w["messages"].as_array().unwrap().len(), 2);
    assert_eq!(w["staff"]["requester"]["tier"], "platinum");
    assert_eq!(w["staff"]["other_tickets"][0]["id"], older);
    assert!(w["staff"]["agents"].as_array().unwrap().iter().any(|a| a["name"] == "Lee"));
    assert!(w["staff"]["timeline"].as_array().unwrap().iter().any(|e| e["summary"] == "First response sent"));
    let customer_view = app.send(rpc("ticket_workspace", &p.platinum, &format!("id={id}"))).await.json();
    assert_eq!(customer_view["staff"], Value::Null);
    let bodies: Vec<&str> =
        customer_view["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Looking now"], "the internal note is not in the customer's page data");
    let theirs = app.send(rpc("ticket_workspace", &p.general, &format!("id={id}"))).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    // Presence: A opens the ticket, B sees A; A types, B sees it; A leaves, B sees nobody. Customers see no one.
    let presence = |token: &str, form: &str| rpc("ticket_presence", token, &format!("id={id}&{form}"));
    assert_eq!(app.send(presence(&p.a, "typing=false")).await.json(), json!([]));
    assert_eq!(
        app.send(presence(&p.b, "typing=false")).await.json(),
        json!([{ "user_id": p.a_id, "name": "Dana", "typing": false }])
    );
    app.send(presence(&p.a, "typing=true")).await;
    assert_eq!(app.send(presence(&p.b, "")).await.json()[0]["typing"], true);
    assert_eq!(app.send(presence(&p.platinum, "")).await.json(), json!([]));
    assert_eq!(app.send(presence(&p.a, "")).await.json()[0]["name"], "Lee");
    app.send(presence(&p.a, "leaving=true")).await;
    assert_eq!(app.send(presence(&p.b, "")).await.json(), json!([]));

    // Bulk: claim three, one of them closed: two change, the closed one is reported, nothing else moves.
    let closed = open(&app, &p.general, "Closed one", "P4").await;
    assert_eq!(patch(&app, &p.a, closed, json!({ "status": "closed" })).await.status, StatusCode::OK);
    let r = app
        .send(rpc("bulk_update_tickets", &p.b, &format!("ids={id},{older},{closed},{id}&action=status:on_hold")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["changed"], json!([id, older]));
    assert_eq!(r.json()["failed"][0][0], closed);
    let r = app.send(rpc("bulk_update_tickets", &p.b, &format!("ids={id},{older}&action=claim"))).await;
    assert_eq!(r.json()["changed"], json!([id, older]));
    assert_eq!(queue(&app, &p.b, "view=mine").await["counts"]["mine"], 2);
    let bad = app.send(rpc("bulk_update_tickets", &p.b, "ids=&action=claim")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app.send(rpc("bulk_update_tickets", &p.b, &format!("ids={id}&action=delete"))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // update_ticket from the workspace: a stale version is refused with the conflict code.
    let r = app.send(rpc("update_ticket", &p.a, &format!("id={id}&version=1&status=open"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let _ = p.b_id;
}

both!(
    queue_views_count_order_and_filter,
    stored_deadlines_follow_every_change,
    concurrent_agents_lose_nothing,
    escalation_rules_and_timeline,
    workspace_presence_and_bulk,
);
