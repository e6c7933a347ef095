#![recursion_limit = "256"]
//! The outbox and its channels against real peers: email to an SMTP server, signed webhooks and Discord
//! embeds to an HTTP receiver; retries, leases, de-duplication, auto-disable; the settings endpoints.
//! On SQLite and PostgreSQL.

mod common;

use app::accounts::{Level, Profile, Role, Tier, User};
use app::notify::integrations::IntegrationEvent;
use app::notify::outbox;
use common::peers::{Answer, HttpReceiver, SmtpSink};
use common::{call, test_outbox, TestApp, TestResponse};
use hmac::{Hmac, Mac};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long passphrase";

async fn customer(app: &TestApp, email: &str, tier: Tier) -> (User, String) {
    let user = app.create_user(email, Profile::customer(tier)).await;
    (user, app.token(email, PASSWORD).await)
}

async fn agent(app: &TestApp, email: &str) -> (User, String) {
    let profile = Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: true };
    let user = app.create_user(email, profile).await;
    (user, app.token(email, PASSWORD).await)
}

async fn send(app: &TestApp, method: Method, token: &str, path: &str, body: Option<Value>) -> TestResponse {
    let request = call(method, path).bearer(token);
    app.send(match body {
        Some(body) => request.json(body),
        None => request,
    })
    .await
}

async fn open_ticket(app: &TestApp, token: &str, subject: &str, priority: &str) -> i64 {
    let body = json!({ "subject": subject, "body": "The CSV export stops half way.", "priority": priority });
    let r = send(app, Method::POST, token, "/api/v1/tickets", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().expect("ticket id")
}

async fn add_webhook(app: &TestApp, manager: &str, url: &str, events: &[&str]) -> (i64, String) {
    let r = send(app, Method::POST, manager, "/api/v1/webhooks", Some(json!({ "url": url, "events": events }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let body = r.json();
    (body["id"].as_i64().expect("id"), body["secret"].as_str().expect("secret shown once").to_string())
}

async fn drain(app: &TestApp) -> usize {
    let s = &app.state.services;
    outbox::drain_once(&s.db, &s.events, &s.outbox).await.expect("drain")
}

/// Runs the worker until `done` holds (retries wait whole seconds); panics after 20 s.
async fn drain_until(app: &TestApp, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        if drain(app).await == 0 {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&app.state.services.db.pool).await.expect(sql).try_get(0).expect("value")
}

/// What a receiver does to check a delivery: HMAC-SHA256 of "<t>.<body>" with the secret.
fn signature_verifies(secret: &str, header: &str, body: &str) -> bool {
    let (Some(t), Some(v1)) =
        (header.split(',').find_map(|p| p.strip_prefix("t=")), header.split(',').find_map(|p| p.strip_prefix("v1=")))
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

async fn a_failed_delivery_is_retried_and_arrives_once_signed(app: TestApp) {
    let receiver = HttpReceiver::start(&[Answer::Status(500)], Answer::Status(200)).await;
    let manager = app.manager_token().await;
    let (_, pat) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (hook, secret) = add_webhook(&app, &manager, &receiver.url, &["ticket.created"]).await;
    let id = open_ticket(&app, &pat, "Exports fail", "P2").await;

    // First try: the receiver answers 500, so the row waits for a retry.
    drain(&app).await;
    assert_eq!(receiver.received().len(), 1);
    let log = send(&app, Method::GET, &manager, &format!("/api/v1/webhooks/{hook}/deliveries"), None).await.json();
    let first = &log["items"][0];
    assert_eq!((first["status"].as_str(), first["attempts"].as_i64()), (Some("pending"), Some(1)), "{log}");
    assert_eq!((first["status_code"].as_i64(), first["error"].as_str()), (Some(500), Some("HTTP 500")));
    assert!(first["next_attempt_at"].as_i64().is_some(), "{first}");

    drain_until(&app, "the retry", || receiver.received().len() == 2).await;
    // Nothing more goes out once it arrived.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    drain(&app).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2, "delivered once after one failure: {got:?}");
    assert_eq!(got.iter().map(|r| r.answered).collect::<Vec<_>>(), vec![Some(500), Some(200)]);
    let delivery_ids: Vec<_> = got.iter().map(|r| r.header("x-supportal-delivery").map(str::to_string)).collect();
    assert_eq!(delivery_ids[0], delivery_ids[1], "a retry carries the same delivery id");
    assert_eq!(delivery_ids[0].as_deref(), Some(format!("ticket.created:ticket:{id}").as_str()));
    for r in &got {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-supportal-event"), Some("ticket.created"));
        let signature = r.header("x-supportal-signature").expect("signed");
        assert!(signature_verifies(&secret, signature, &r.body), "{signature}");
        assert!(!signature_verifies("whsec_wrong", signature, &r.body));
        assert!(!signature_verifies(&secret, signature, &r.body.replace("P2", "P1")), "the body is covered");
        let body = r.json();
        assert_eq!((body["type"].as_str(), body["data"]["ticket_id"].as_i64()), (Some("ticket.created"), Some(id)));
        assert_eq!(body["data"]["priority"], "P2");
        assert_eq!(body["url"], format!("http://portal.test/tickets/{id}"));
    }
    let log = send(&app, Method::GET, &manager, &format!("/api/v1/webhooks/{hook}/deliveries"), None).await.json();
    let done = &log["items"][0];
    assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("delivered"), Some(2)), "{log}");
    assert_eq!((done["status_code"].as_i64(), done["error"].as_str()), (Some(200), None));
    assert!(done["latency_ms"].as_i64().is_some_and(|ms| ms >= 0));
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE o.webhook_id = {hook}")).await, 2);
    // The secret is never listed again.
    let list = send(&app, Method::GET, &manager, "/api/v1/webhooks", None).await;
    assert!(!list.text.contains(&secret) && !list.text.contains("\"secret\""), "{}", list.text);
    assert_eq!(list.json()["items"][0]["delivered"], 1);
    // Settled rows go after their keeping time, with their log; pending ones stay.
    open_ticket(&app, &pat, "Still waiting", "P3").await;
    let db = &app.state.services.db;
    assert_eq!(outbox::prune(db, app::db::now() - 60).await.expect("prune"), 0);
    assert_eq!(outbox::prune(db, app::db::now() + 60).await.expect("prune"), 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'").await, 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM delivery_attempts").await, 0);
}

async fn a_send_cut_off_mid_way_is_sent_again_after_its_lease(app: TestApp) {
    let receiver = HttpReceiver::start(&[Answer::Hang], Answer::Status(204)).await;
    let manager = app.manager_token().await;
    let (_, pat) = customer(&app, "pat@example.com", Tier::Platinum).await;
    add_webhook(&app, &manager, &receiver.url, &["ticket.created"]).await;
    open_ticket(&app, &pat, "Exports fail", "P3").await;

    // The worker dies while the receiver holds the request: its future is dropped mid-send.
    let s = app.state.services.clone();
    let cut = tokio::time::timeout(Duration::from_millis(700), outbox::drain_once(&s.db, &s.events, &s.outbox)).await;
    assert!(cut.is_err(), "the send was still under way");
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND locked_until IS NOT NULL").await,
        1
    );
    // Leased rows are left alone until the lease runs out…
    assert_eq!(drain(&app).await, 0);
    // …then sent again, and once only.
    drain_until(&app, "the lease to run out", || receiver.received().iter().any(|r| r.answered == Some(204))).await;
    drain(&app).await;
    assert_eq!(receiver.received().len(), 2);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'").await, 1);
}

async fn a_receiver_that_hangs_times_out_without_holding_the_worker(app: TestApp) {
    let slow = HttpReceiver::start(&[], Answer::Hang).await;
    let fast = HttpReceiver::start(&[], Answer::Status(200)).await;
    let manager = app.manager_token().await;
    let (_, pat) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (slow_id, _) = add_webhook(&app, &manager, &slow.url, &["ticket.created"]).await;
    add_webhook(&app, &manager, &fast.url, &["ticket.created"]).await;
    open_ticket(&app, &pat, "Exports fail", "P3").await;
    // One pass finishes: the hung send ends at the 2 s timeout and the other is delivered meanwhile.
    assert_eq!(drain(&app).await, 2);
    assert_eq!(fast.received().len(), 1);
    let log = send(&app, Method::GET, &manager, &format!("/api/v1/webhooks/{slow_id}/deliveries"), None).await.json();
    assert_eq!(
        (log["items"][0]["status"].as_str(), log["items"][0]["error"].as_str()),
        (Some("pending"), Some("timed out"))
    );
}

async fn a_webhook_failing_five_times_in_a_row_is_switched_off_and_managers_told(app: TestApp) {
    let receiver = HttpReceiver::start(&[], Answer::Status(503)).await;
    let manager = app.manager_token().await;
    let (_, pat) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (hook, _) = add_webhook(&app, &manager, &receiver.url, &["ticket.created"]).await;
    for n in 0..6 {
        open_ticket(&app, &pat, &format!("Exports fail {n}"), "P3").await;
    }
    drain(&app).await;
    let webhook = send(&app, Method::GET, &manager, &format!("/api/v1/webhooks/{hook}"), None).await.json();
    assert_eq!(webhook["active"], false, "{webhook}");
    assert!(webhook["disabled_reason"].as_str().is_some_and(|r| r.contains("5 failed deliveries")), "{webhook}");
    let notices = send(&app, Method::GET, &manager, "/api/v1/notifications", None).await.json();
    let disabled: Vec<&Value> =
        notices["items"].as_array().expect("items").iter().filter(|n| n["kind"] == "webhook.disabled").collect();
    assert_eq!(disabled.len(), 1, "told once: {notices}");
    assert_eq!(disabled[0]["link"], "/admin/integrations");
    // Nothing is left waiting, new events are not queued for it, and a test is refused until it is back on.
    assert_eq!(
        scalar(&app, &format!("SELECT COUNT(*) FROM outbox WHERE webhook_id = {hook} AND status = 'pending'")).await,
        0
    );
    open_ticket(&app, &pat, "Another", "P3").await;
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM outbox WHERE webhook_id = {hook}")).await, 6);
    let test = send(&app, Method::POST, &manager, &format!("/api/v1/webhooks/{hook}/test"), None).await;
    assert_eq!((test.status, test.error_code()), (StatusCode::CONFLICT, "webhook_disabled".to_string()));
    // Switched back on, it starts from zero failures and takes a test.
    receiver.push(Answer::Status(200));
    let on =
        send(&app, Method::PATCH, &manager, &format!("/api/v1/webhooks/{hook}"), Some(json!({ "active": true }))).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    assert_eq!((on.json()["consecutive_failures"].as_i64(), on.json()["disabled_reason"].as_str()), (Some(0), None));
    let test = send(&app, Method::POST, &manager, &format!("/api/v1/webhooks/{hook}/test"), None).await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.text);
    drain_until(&app, "the test ping", || {
        receiver.received().iter().any(|r| r.header("x-supportal-event") == Some("ping"))
    })
    .await;
}

async fn several_workers_never_send_the_same_row(app: TestApp) {
    let receiver = HttpReceiver::start(&[], Answer::Status(200)).await;
    let manager = app.manager_token().await;
    add_webhook(&app, &manager, &receiver.url, &["feature.status"]).await;
    let s = app.state.services.clone();
    let mut tx = s.db.begin_write().await.expect("tx");
    for n in 0..60 {
        let event = IntegrationEvent::new("feature.status", format!("f:{n}"), format!("Feature {n}"), None, json!({}));
        outbox::publish(&mut tx, &event).await.expect("publish");
    }
    tx.commit().await.expect("commit");
    // Four workers, each with its own config (as separate instances would have), claim at once.
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (db, bus) = (s.db.clone(), s.events.clone());
        let mut config = test_outbox(None);
        config.batch = 7;
        let config = Arc::new(config);
        workers.spawn(async move {
            let mut sent = 0;
            loop {
                match outbox::drain_once(&db, &bus, &config).await.expect("drain") {
                    0 => break sent,
                    n => sent += n,
                }
            }
        });
    }
    let mut total = 0;
    while let Some(sent) = workers.join_next().await {
        total += sent.expect("worker");
    }
    let got = receiver.received();
    let mut ids: Vec<_> = got.iter().filter_map(|r| r.header("x-supportal-delivery").map(str::to_string)).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((total, got.len(), ids.len()), (60, 60, 60), "each row sent exactly once");
}

async fn publishing_the_same_event_twice_queues_it_once_and_a_rollback_queues_nothing(app: TestApp) {
    let receiver = HttpReceiver::start(&[], Answer::Status(200)).await;
    let manager = app.manager_token().await;
    add_webhook(&app, &manager, &receiver.url, &["sla.breached"]).await;
    let db = &app.state.services.db;
    let event = IntegrationEvent::new("sla.breached", "ticket:9:resolution:1", "Breached", None, json!({}));
    let mut tx = db.begin_write().await.expect("tx");
    outbox::publish(&mut tx, &event).await.expect("publish");
    outbox::publish(&mut tx, &event).await.expect("publish again");
    tx.commit().await.expect("commit");
    let mut tx = db.begin_write().await.expect("tx");
    outbox::publish(&mut tx, &event).await.expect("publish after commit");
    let other = IntegrationEvent::new("sla.breached", "ticket:10:resolution:1", "Breached", None, json!({}));
    outbox::publish(&mut tx, &other).await.expect("publish other");
    tx.rollback().await.expect("rollback");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox").await, 1);
    // An event nobody subscribed to queues nothing.
    let mut tx = db.begin_write().await.expect("tx");
    let quiet = IntegrationEvent::new("ticket.reply", "message:1", "Reply", None, json!({}));
    outbox::publish(&mut tx, &quiet).await.expect("publish");
    tx.commit().await.expect("commit");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox").await, 1);
}

async fn discord_gets_embeds_for_p1_tickets_only_when_chosen(app: TestApp) {
    let discord = HttpReceiver::start(&[], Answer::Status(204)).await;
    let manager = app.manager_token().await;
    let (_, pat) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let body = json!({ "url": discord.url, "events": ["ticket.new_p1", "sla.breached"] });
    let r = send(&app, Method::PUT, &manager, "/api/v1/integrations/discord", Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let saved = r.json();
    assert_eq!(saved["events"], json!(["ticket.new_p1", "sla.breached"]));
    assert!(!saved["url_masked"].as_str().unwrap_or_default().contains("/hook"), "the URL is masked: {saved}");
    open_ticket(&app, &pat, "Nothing works", "P3").await;
    let p1 = open_ticket(&app, &pat, "Everything is down", "P1").await;
    drain(&app).await;
    let got = discord.received();
    assert_eq!(got.len(), 1, "only the P1 ticket: {got:?}");
    let payload = got[0].json();
    assert_eq!(payload["username"], "Supportal");
    assert_eq!(payload["allowed_mentions"]["parse"], json!([]));
    let embed = &payload["embeds"][0];
    assert!(embed["title"].as_str().is_some_and(|t| t.contains("Everything is down") && t.contains(&format!("#{p1}"))));
    assert_eq!(embed["url"], format!("http://portal.test/tickets/{p1}"));
    assert_eq!(embed["color"], 0xC0392B);
    assert!(embed["fields"]
        .as_array()
        .expect("fields")
        .contains(&json!({ "name": "Priority", "value": "P1", "inline": true })));
    assert!(embed["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(got[0].header("x-supportal-signature").is_none(), "Discord is not signed");
    // The test button posts at once and says how it went.
    let test = send(&app, Method::POST, &manager, "/api/v1/integrations/discord/test", None).await.json();
    assert_eq!((test["ok"].as_bool(), test["status_code"].as_i64()), (Some(true), Some(204)), "{test}");
    assert_eq!(discord.received().len(), 2);
    let log = send(&app, Method::GET, &manager, "/api/v1/integrations/discord/deliveries", None).await.json();
    assert_eq!(log["items"].as_array().map(Vec::len), Some(1));
    // Turning everything off posts nothing more.
    let off = send(&app, Method::PUT, &manager, "/api/v1/integrations/discord", Some(json!({ "events": [] }))).await;
    assert_eq!(off.json()["events"], json!([]));
    open_ticket(&app, &pat, "Down again", "P1").await;
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox WHERE channel = 'discord'").await, 1);
}

fn part<'a>(mail: &'a mailparse::ParsedMail<'a>, mime: &str) -> Option<&'a mailparse::ParsedMail<'a>> {
    if mail.ctype.mimetype == mime {
        return Some(mail);
    }
    mail.subparts.iter().find_map(|p| part(p, mime))
}

async fn emails_reach_the_smtp_server_with_text_html_and_the_invitation(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = common::app_with_outbox(app.state.services.db.clone(), app.backend, test_outbox(Some(&sink.url))).await;
    let (pat, platinum) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (_, staff) = agent(&app, "agent@example.com").await;
    let id = open_ticket(&app, &platinum, "Exports <fail>", "P3").await;
    let reply = json!({ "body": "We found the cause.", "internal": false });
    let r = send(&app, Method::POST, &staff, &format!("/api/v1/tickets/{id}/messages"), Some(reply)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    drain(&app).await;
    let mails = sink.mails();
    let to_pat: Vec<_> = mails.iter().filter(|m| m.to == vec![pat.email.clone()]).collect();
    assert_eq!(to_pat.len(), 1, "{mails:?}");
    assert_eq!(to_pat[0].from, "support@portal.test");
    let parsed = mailparse::parse_mail(to_pat[0].data.as_bytes()).expect("MIME");
    let subject = parsed.headers.iter().find(|h| h.get_key() == "Subject").map(|h| h.get_value()).unwrap_or_default();
    assert!(subject.starts_with("[Supportal]") && subject.contains(&format!("#{id}")), "{subject}");
    let text = part(&parsed, "text/plain").expect("text part").get_body().expect("text");
    let html = part(&parsed, "text/html").expect("html part").get_body().expect("html");
    assert!(text.contains("replied") && text.contains(&format!("http://portal.test/tickets/{id}")), "{text}");
    assert!(html.contains("Exports &lt;fail&gt;") && !html.contains("<fail>"), "{html}");
    assert!(part(&parsed, "text/calendar").is_none());

    // A booking confirmation carries the calendar invitation.
    let rules = app::booking::service::load_rules(&app.state.services.db).await.expect("rules");
    let slots = send(&app, Method::GET, &platinum, "/api/v1/bookings/slots?days=14&duration=30", None).await.json();
    let start = slots[0]["start"].as_str().expect("a free slot").to_string();
    let _ = rules;
    let booking =
        json!({ "start": start, "duration_minutes": 30, "platform": "portal", "topic": "Walk through exports" });
    let r = send(&app, Method::POST, &platinum, "/api/v1/bookings", Some(booking)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let booking_id = r.json()["id"].as_i64().expect("id");
    drain(&app).await;
    let mails = sink.mails();
    let confirmation = mails
        .iter()
        .rev()
        .find(|m| m.to == vec![pat.email.clone()] && m.data.contains("invite.ics"))
        .expect("a confirmation with the invitation");
    let parsed = mailparse::parse_mail(confirmation.data.as_bytes()).expect("MIME");
    assert_eq!(parsed.ctype.mimetype, "multipart/mixed");
    let ics = part(&parsed, "text/calendar").expect("calendar part");
    assert_eq!(ics.get_content_disposition().params.get("filename").map(String::as_str), Some("invite.ics"));
    let ics = ics.get_body().expect("ics");
    assert!(ics.contains("BEGIN:VEVENT") && ics.contains(&format!("UID:booking-{booking_id}@supportal")), "{ics}");
    assert!(ics.contains(&format!("http://portal.test/calls/{booking_id}/room")), "{ics}");
    assert!(part(&parsed, "text/plain").is_some() && part(&parsed, "text/html").is_some());
    // The agent's copy has it too.
    assert!(mails.iter().any(|m| m.to == vec!["agent@example.com".to_string()] && m.data.contains("invite.ics")));
    // The manager's SMTP test reaches the manager.
    let manager = app.manager_token().await;
    let test = send(&app, Method::POST, &manager, "/api/v1/integrations/email/test", None).await.json();
    assert_eq!((test["ok"].as_bool(), test["to"].as_str()), (Some(true), Some("boss@example.com")), "{test}");
    assert!(sink.mails().iter().any(|m| m.to == vec!["boss@example.com".to_string()]));
}

async fn users_choose_which_emails_they_get(app: TestApp) {
    let (pat, platinum) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (_, staff) = agent(&app, "agent@example.com").await;
    let prefs = send(&app, Method::GET, &platinum, "/api/v1/me/email-preferences", None).await.json();
    assert_eq!(prefs, json!({ "tickets": true, "sla": true, "bookings": true, "features": true }));
    let off = json!({ "tickets": false, "sla": true, "bookings": true, "features": false });
    let r = send(&app, Method::PUT, &platinum, "/api/v1/me/email-preferences", Some(off.clone())).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, off));
    let bad =
        send(&app, Method::PUT, &platinum, "/api/v1/me/email-preferences", Some(json!({ "tickets": "no" }))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let id = open_ticket(&app, &platinum, "Exports fail", "P3").await;
    let reply = json!({ "body": "We found the cause.", "internal": false });
    send(&app, Method::POST, &staff, &format!("/api/v1/tickets/{id}/messages"), Some(reply)).await;
    // The bell still rings; no email is queued for pat.
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM notifications WHERE user_id = {}", pat.id)).await, 1);
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM outbox WHERE user_id = {}", pat.id)).await, 0);
    // Without a mail server, queued email is settled as skipped rather than retried forever.
    let staff_id = scalar(&app, "SELECT id FROM users WHERE email = 'agent@example.com'").await;
    let customer_reply = json!({ "body": "Thanks!", "internal": false });
    let assign =
        send(&app, Method::PATCH, &staff, &format!("/api/v1/tickets/{id}"), Some(json!({ "assignee_id": staff_id })))
            .await;
    assert_eq!(assign.status, StatusCode::OK, "{}", assign.text);
    send(&app, Method::POST, &platinum, &format!("/api/v1/tickets/{id}/messages"), Some(customer_reply)).await;
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM outbox WHERE user_id = {staff_id}")).await, 1);
    drain(&app).await;
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE status = 'skipped' AND last_error LIKE 'SMTP is not configured%'"
        )
        .await,
        1
    );
}

async fn webhook_settings_check_input_and_roles(app: TestApp) {
    let manager = app.manager_token().await;
    let (_, platinum) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (_, staff) = agent(&app, "agent@example.com").await;
    for token in [&platinum, &staff] {
        for (method, path) in [
            (Method::GET, "/api/v1/webhooks"),
            (Method::GET, "/api/v1/integrations/discord"),
            (Method::POST, "/api/v1/integrations/email/test"),
        ] {
            let r = send(&app, method.clone(), token, path, None).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        }
        let r = send(
            &app,
            Method::POST,
            token,
            "/api/v1/webhooks",
            Some(json!({ "url": "https://a.example/h", "events": ["ticket.created"] })),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let cases = [
        (json!({ "url": "ftp://files.example/x", "events": ["ticket.created"] }), "url"),
        (json!({ "url": "javascript:alert(1)", "events": ["ticket.created"] }), "url"),
        (json!({ "url": "https://a.example/h", "events": [] }), "events"),
        (json!({ "url": "https://a.example/h", "events": ["ticket.deleted"] }), "events"),
        (json!({ "url": "https://a.example/h", "events": ["ticket.created"], "secret": "short" }), "secret"),
        (
            json!({ "url": "https://a.example/h", "events": ["ticket.created"], "description": "x".repeat(201) }),
            "description",
        ),
    ];
    for (body, field) in cases {
        let r = send(&app, Method::POST, &manager, "/api/v1/webhooks", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.text);
    }
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM webhooks").await, 0, "nothing half-written");
    // A chosen secret is kept as given; it cannot be changed later.
    let chosen = "my-own-secret-of-decent-length";
    let body = json!({ "url": "https://a.example/h", "events": ["sla.breached", "ticket.created"], "secret": chosen });
    let r = send(&app, Method::POST, &manager, "/api/v1/webhooks", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.json();
    assert_eq!(
        (created["secret"].as_str(), created["events"].clone()),
        (Some(chosen), json!(["ticket.created", "sla.breached"]))
    );
    let id = created["id"].as_i64().expect("id");
    let r = send(
        &app,
        Method::PATCH,
        &manager,
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({ "secret": "another-secret-1234567" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &app,
        Method::PATCH,
        &manager,
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({ "url": "http://b.example:8080/x", "active": false })),
    )
    .await;
    assert_eq!(
        (r.json()["url"].as_str(), r.json()["active"].as_bool()),
        (Some("http://b.example:8080/x"), Some(false))
    );
    let r = send(&app, Method::GET, &manager, "/api/v1/webhooks/abc/deliveries", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&app, Method::GET, &manager, &format!("/api/v1/webhooks/{id}/deliveries?limit=0"), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &app,
        Method::PUT,
        &manager,
        "/api/v1/integrations/discord",
        Some(json!({ "url": "discord.com/x", "events": [] })),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(&app, Method::POST, &manager, "/api/v1/integrations/discord/test", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no URL saved yet: {}", r.text);
    let r = send(&app, Method::DELETE, &manager, &format!("/api/v1/webhooks/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&app, Method::DELETE, &manager, &format!("/api/v1/webhooks/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn every_wired_event_reaches_a_subscribed_webhook(app: TestApp) {
    let receiver = HttpReceiver::start(&[], Answer::Status(200)).await;
    let manager = app.manager_token().await;
    let all = [
        "ticket.created",
        "ticket.reply",
        "ticket.escalated",
        "booking.created",
        "booking.cancelled",
        "feature.status",
    ];
    add_webhook(&app, &manager, &receiver.url, &all).await;
    let (_, platinum) = customer(&app, "pat@example.com", Tier::Platinum).await;
    let (_, staff) = agent(&app, "agent@example.com").await;
    let id = open_ticket(&app, &platinum, "Exports fail", "P2").await;
    send(
        &app,
        Method::POST,
        &staff,
        &format!("/api/v1/tickets/{id}/messages"),
        Some(json!({ "body": "On it.", "internal": false })),
    )
    .await;
    // Internal notes and customer replies are not announced.
    send(
        &app,
        Method::POST,
        &staff,
        &format!("/api/v1/tickets/{id}/messages"),
        Some(json!({ "body": "Note.", "internal": true })),
    )
    .await;
    let r = send(
        &app,
        Method::POST,
        &staff,
        &format!("/api/v1/tickets/{id}/escalations"),
        Some(json!({ "to_level": "L2", "reason": "Needs the export team" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let slots = send(&app, Method::GET, &platinum, "/api/v1/bookings/slots?days=14&duration=30", None).await.json();
    let start = slots[0]["start"].as_str().expect("a free slot").to_string();
    let r = send(
        &app,
        Method::POST,
        &platinum,
        "/api/v1/bookings",
        Some(json!({ "start": start, "duration_minutes": 30, "platform": "zoom", "topic": "Exports" })),
    )
    .await;
    let booking = r.json()["id"].as_i64().expect("booking");
    let r = send(&app, Method::POST, &platinum, &format!("/api/v1/bookings/{booking}/cancel"), Some(json!({}))).await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = send(
        &app,
        Method::POST,
        &platinum,
        "/api/v1/features",
        Some(json!({ "title": "Dark mode for exports", "body": "Please add it." })),
    )
    .await;
    let feature = r.json()["id"].as_i64().expect("feature");
    let r =
        send(&app, Method::PATCH, &staff, &format!("/api/v1/features/{feature}"), Some(json!({ "status": "planned" })))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    drain(&app).await;
    let mut kinds: Vec<String> =
        receiver.received().iter().filter_map(|r| r.header("x-supportal-event").map(str::to_string)).collect();
    kinds.sort();
    let mut expected: Vec<String> = all.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(kinds, expected);
    let escalated = receiver
        .received()
        .into_iter()
        .find(|r| r.header("x-supportal-event") == Some("ticket.escalated"))
        .expect("escalation");
    assert_eq!(
        (escalated.json()["data"]["level"].as_str(), escalated.json()["data"]["reason"].as_str()),
        (Some("L2"), Some("Needs the export team"))
    );
}

both!(
    a_failed_delivery_is_retried_and_arrives_once_signed,
    a_send_cut_off_mid_way_is_sent_again_after_its_lease,
    a_receiver_that_hangs_times_out_without_holding_the_worker,
    a_webhook_failing_five_times_in_a_row_is_switched_off_and_managers_told,
    several_workers_never_send_the_same_row,
    publishing_the_same_event_twice_queues_it_once_and_a_rollback_queues_nothing,
    discord_gets_embeds_for_p1_tickets_only_when_chosen,
    emails_reach_the_smtp_server_with_text_html_and_the_invitation,
    users_choose_which_emails_they_get,
    webhook_settings_check_input_and_roles,
    every_wired_event_reaches_a_subscribed_webhook,
);
