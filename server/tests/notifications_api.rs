#![recursion_limit = "256"]
//! In-portal notifications, personal events, weekly hours and the ticket form's request id, on SQLite and
//! PostgreSQL.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

struct People {
    customer: String,
    customer_id: i64,
    other: String,
    agent: String,
    agent_id: i64,
}

async fn people(app: &TestApp) -> People {
    let customer = app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    app.create_user("gen@example.com", Profile::customer(Tier::General)).await;
    let agent = app
        .create_user(
            "agent@example.com",
            Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
        )
        .await;
    People {
        customer: app.token("pat@example.com", "a long passphrase").await,
        customer_id: customer.id,
        other: app.token("gen@example.com", "a long passphrase").await,
        agent: app.token("agent@example.com", "a long passphrase").await,
        agent_id: agent.id,
    }
}

async fn open_ticket(app: &TestApp, token: &str, priority: &str) -> i64 {
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(token).json(json!({
            "subject": "Exports fail", "body": "The CSV export times out.", "priority": priority
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

async fn notifications(app: &TestApp, token: &str) -> Value {
    let r = app.send(call(Method::GET, "/api/v1/notifications").bearer(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

async fn reply(app: &TestApp, token: &str, id: i64, body: &str, internal: bool) {
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(token)
                .json(json!({ "body": body, "internal": internal })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn replies_and_status_changes_notify_the_customer(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.customer, "P3").await;
    assert_eq!(notifications(&app, &p.customer).await["unread"], 0);

    // An internal note tells the customer nothing; a public reply does.
    reply(&app, &p.agent, id, "Looks like the 30 s proxy timeout.", true).await;
    assert_eq!(notifications(&app, &p.customer).await["unread"], 0);
    reply(&app, &p.agent, id, "We are looking at it.", false).await;
    let list = notifications(&app, &p.customer).await;
    assert_eq!(list["unread"], 1, "{list}");
    let first = &list["items"][0];
    assert_eq!(first["kind"], "ticket.reply");
    assert_eq!(first["ticket_id"], id);
    assert_eq!(first["read"], false);
    assert!(first["text"].as_str().unwrap().contains(&format!("#{id}")), "{first}");

    // Waiting on the customer: they are told.
    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/tickets/{id}"))
                .bearer(&p.agent)
                .json(json!({ "status": "pending_customer", "assignee_id": p.agent_id })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = notifications(&app, &p.customer).await;
    assert_eq!(list["unread"], 2);
    assert_eq!(list["items"][0]["kind"], "ticket.status");
    // Assigning to yourself tells nobody.
    assert_eq!(notifications(&app, &p.agent).await["unread"], 0);

    // The customer's reply reaches the assignee.
    reply(&app, &p.customer, id, "Here is the log.", false).await;
    let agent_list = notifications(&app, &p.agent).await;
    assert_eq!(agent_list["unread"], 1, "{agent_list}");
    assert_eq!(agent_list["items"][0]["kind"], "ticket.reply");

    // Nobody else hears about it.
    assert_eq!(notifications(&app, &p.other).await["items"].as_array().unwrap().len(), 0);
}

async fn marking_read_touches_only_your_own(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.customer, "P3").await;
    reply(&app, &p.agent, id, "First answer.", false).await;
    reply(&app, &p.agent, id, "Second answer.", false).await;
    let list = notifications(&app, &p.customer).await;
    assert_eq!(list["unread"], 2);
    let newest = list["items"][0]["id"].as_i64().unwrap();

    // Someone else's ids change nothing.
    let r = app
        .send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.other).json(json!({ "ids": [newest] })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["changed"], 0);
    assert_eq!(notifications(&app, &p.customer).await["unread"], 2);

    let r = app
        .send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.customer).json(json!({ "ids": [newest] })))
        .await;
    assert_eq!((r.json()["changed"].as_i64(), r.json()["unread"].as_i64()), (Some(1), Some(1)));
    let list = notifications(&app, &p.customer).await;
    assert_eq!((list["items"][0]["read"].as_bool(), list["items"][1]["read"].as_bool()), (Some(true), Some(false)));

    // All at once; again is a no-op.
    let r = app.send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.customer).json(json!({}))).await;
    assert_eq!((r.json()["changed"].as_i64(), r.json()["unread"].as_i64()), (Some(1), Some(0)));
    let r = app.send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.customer).json(json!({}))).await;
    assert_eq!(r.json()["changed"], 0);

    // Bad input.
    let r =
        app.send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.customer).json(json!({ "ids": [] }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["ids"].is_string(), "{}", r.text);
    let r = app
        .send(call(Method::POST, "/api/v1/notifications/read").bearer(&p.customer).json(json!({ "ids": "all" })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.send(call(Method::GET, "/api/v1/notifications")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn pages_go_back_in_time(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.customer, "P3").await;
    for n in 0..5 {
        reply(&app, &p.agent, id, &format!("Update {n}"), false).await;
    }
    let r = app.send(call(Method::GET, "/api/v1/notifications?limit=2").bearer(&p.customer)).await;
    let first = r.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let r = app
        .send(call(Method::GET, &format!("/api/v1/notifications?limit=10&cursor={cursor}")).bearer(&p.customer))
        .await;
    let rest = r.json();
    let ids: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert!(rest["next_cursor"].is_null());
}

/// A personal event reaches its user only; a ticket event its requester and staff.
async fn personal_events_stay_personal(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.customer, "P3").await;
    reply(&app, &p.agent, id, "Answer.", false).await;
    let db = &app.state.services.db;
    let user = |id: i64| async move { app::accounts::store::user_by_id(db, id).await.unwrap().unwrap() };
    let kinds = |events: Vec<app::events::Event>| events.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    let customer = user(p.customer_id).await;
    let agent = user(p.agent_id).await;
    let seen = kinds(app::events::since(db, &customer, 0, 100).await.unwrap());
    assert!(seen.contains(&"notification.created".to_string()), "{seen:?}");
    assert!(seen.contains(&"ticket.message".to_string()), "{seen:?}");
    let staff_seen = kinds(app::events::since(db, &agent, 0, 100).await.unwrap());
    assert!(staff_seen.contains(&"ticket.message".to_string()));
    assert!(!staff_seen.contains(&"notification.created".to_string()), "staff see others' notices: {staff_seen:?}");
}

async fn a_new_p1_reaches_every_agent(app: TestApp) {
    let p = people(&app).await;
    open_ticket(&app, &p.customer, "P2").await;
    assert_eq!(notifications(&app, &p.agent).await["unread"], 0);
    let id = open_ticket(&app, &p.customer, "P1").await;
    let list = notifications(&app, &p.agent).await;
    assert_eq!(list["unread"], 1);
    assert_eq!(
        (list["items"][0]["kind"].as_str(), list["items"][0]["ticket_id"].as_i64()),
        (Some("ticket.new_p1"), Some(id))
    );
}

async fn managers_edit_weekly_hours(app: TestApp) {
    let p = people(&app).await;
    let manager = app.manager_token().await;
    let r = app.send(call(Method::GET, "/api/v1/hours/weekly")).await;
    assert_eq!(r.status, StatusCode::OK);
    let week = r.json();
    assert_eq!(week["support"]["saturday"], json!({ "open": "10:00", "close": "16:00" }));
    assert!(week["support"]["sunday"].is_null());
    assert!(week["live_chat"]["saturday"].is_null());

    // Customers and agents may not.
    for token in [&p.customer, &p.agent] {
        let r = app.send(call(Method::PUT, "/api/v1/hours/weekly").bearer(token).json(week.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    // Bad times name their day; nothing is written.
    let r = app
        .send(call(Method::PUT, "/api/v1/hours/weekly").bearer(&manager).json(json!({
            "support": { "monday": { "open": "9am", "close": "18:00" }, "tuesday": { "open": "18:00", "close": "09:00" } },
            "live_chat": { "monday": { "open": "09:00", "close": "25:00" } }
        })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields = &r.json()["error"]["fields"];
    for f in ["support.monday.open", "support.tuesday.close", "live_chat.monday.close"] {
        assert!(fields[f].is_string(), "{f}: {fields}");
    }
    let r = app.send(call(Method::PUT, "/api/v1/hours/weekly").bearer(&manager).json(json!({ "support": {} }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["support"].is_string());
    let r = app
        .send(call(Method::PUT, "/api/v1/hours/weekly").bearer(&manager).json(json!({ "support": { "funday": null } })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.send(call(Method::GET, "/api/v1/hours/weekly")).await.json(), week);

    // Open Sundays 10:00–14:00: a general P3 opened Sunday 2026-12-06 09:00 ET now starts counting at 10:00.
    let preview = || {
        call(Method::GET, "/api/v1/sla/preview?tier=general&priority=P3&at=2026-12-06T14:00:00Z").bearer(&p.customer)
    };
    let before = app.send(preview()).await.json();
    // Closed Sunday: 24 support hours from Mon 09:00 → Mon 9h, Tue 9h, Wed 6h → Wed 15:00 ET.
    assert_eq!(before["first_response_due"], "2026-12-09T20:00:00Z");
    let mut sundays = week.clone();
    sundays["support"]["sunday"] = json!({ "open": "10:00", "close": "14:00" });
    sundays.as_object_mut().unwrap().remove("live_chat");
    let r = app.send(call(Method::PUT, "/api/v1/hours/weekly").bearer(&manager).json(sundays)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["support"]["sunday"], json!({ "open": "10:00", "close": "14:00" }));
    assert_eq!(r.json()["live_chat"], week["live_chat"], "an absent calendar stays as it was");
    // Sun 4h + Mon 9h + Tue 9h + Wed 2h → Wed 11:00 ET.
    assert_eq!(app.send(preview()).await.json()["first_response_due"], "2026-12-09T16:00:00Z");
    let hours = app.send(call(Method::GET, "/api/v1/hours")).await.json();
    assert_eq!(hours["weekly"]["support"]["sunday"]["open"], "10:00");
}

/// The ticket form's hidden request id: a resent form opens one ticket, whoever double-clicks.
async fn a_resent_ticket_form_opens_one_ticket(app: TestApp) {
    let p = people(&app).await;
    let form = "subject=Login+loop&body=The+sign-in+page+reloads+forever.&priority=P3&category=bug&request_id=form-1";
    let post = |token: &str, body: &str| {
        call(Method::POST, "/rpc/create_ticket")
            .bearer(token)
            .header("origin", "http://127.0.0.1:3000")
            .header("accept", "application/json")
            .raw(body.as_bytes(), Some("application/x-www-form-urlencoded"))
    };
    let first = app.send(post(&p.customer, form)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let again = app.send(post(&p.customer, form)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(first.json()["id"], again.json()["id"]);
    // Another customer's form with the same id is theirs alone.
    let theirs = app.send(post(&p.other, form)).await;
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    // A refused submission does not use up its id.
    let empty = "subject=&body=x&priority=P3&request_id=form-2";
    let refused = app.send(post(&p.customer, empty)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    let fixed = app.send(post(&p.customer, &empty.replace("subject=&", "subject=Fixed&"))).await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text);
    let list = app.send(call(Method::GET, "/api/v1/tickets").bearer(&p.customer)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
}

/// The page's "Mark all as read" sends the server function no ids at all (an empty form): that means all.
async fn the_mark_all_button_marks_everything(app: TestApp) {
    let p = people(&app).await;
    let ticket = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(&p.customer).json(json!({
            "subject": "Mark all", "body": "Two replies coming.", "priority": "P3"
        })))
        .await
        .json();
    for text in ["One", "Two"] {
        let path = format!("/api/v1/tickets/{}/messages", ticket["id"]);
        let r = app.send(call(Method::POST, &path).bearer(&p.agent).json(json!({ "body": text }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let unread = || call(Method::GET, "/api/v1/notifications").bearer(&p.customer);
    assert_eq!(app.send(unread()).await.json()["unread"], 2);
    let mark_all = call(Method::POST, "/rpc/mark_notifications_read")
        .bearer(&p.customer)
        .header("origin", "http://127.0.0.1:3000")
        .header("accept", "application/json")
        .raw(b"", Some("application/x-www-form-urlencoded"));
    let r = app.send(mark_all).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!(2));
    assert_eq!(app.send(unread()).await.json()["unread"], 0);
}

both!(
    the_mark_all_button_marks_everything,
    replies_and_status_changes_notify_the_customer,
    marking_read_touches_only_your_own,
    pages_go_back_in_time,
    personal_events_stay_personal,
    a_new_p1_reaches_every_agent,
    managers_edit_weekly_hours,
    a_resent_ticket_form_opens_one_ticket,
);
