#![recursion_limit = "256"]
//! Satisfaction surveys, the managers' SLA summary and the CSV export, on SQLite and PostgreSQL.
//!
//! Fixtures are built through the API and then moved back in time with SQL (the services stamp "now"). Every
//! SLA-bearing fixture ticket is Platinum P1 or P2, whose clocks run around the clock, so the expected states do
//! not depend on the hour the tests run.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use jiff::civil::Date;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

struct People {
    pat: String,
    gen: String,
    agent: String,
    senior: String,
    boss: String,
    agent_id: i64,
    senior_id: i64,
    boss_id: i64,
}

async fn people(app: &TestApp) -> People {
    app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    app.create_user("gen@example.com", Profile::customer(Tier::General)).await;
    let staff = |level| Profile { role: Role::Agent, tier: None, level: Some(level), takes_calls: false };
    let agent = app.create_user("agent@example.com", staff(Level::L1)).await;
    let senior = app.create_user("senior@example.com", staff(Level::L2)).await;
    let boss = app
        .create_user(
            "boss@example.com",
            Profile { role: Role::Manager, tier: None, level: Some(Level::L4), takes_calls: false },
        )
        .await;
    People {
        pat: app.token("pat@example.com", "a long passphrase").await,
        gen: app.token("gen@example.com", "a long passphrase").await,
        agent: app.token("agent@example.com", "a long passphrase").await,
        senior: app.token("senior@example.com", "a long passphrase").await,
        boss: app.token("boss@example.com", "a long passphrase").await,
        agent_id: agent.id,
        senior_id: senior.id,
        boss_id: boss.id,
    }
}

async fn open_ticket(app: &TestApp, token: &str, priority: &str, subject: &str) -> i64 {
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(token).json(json!({
            "subject": subject, "body": "Details follow.", "priority": priority, "category": "bug"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

async fn patch(app: &TestApp, token: &str, id: i64, body: Value) {
    let r = app.send(call(Method::PATCH, &format!("/api/v1/tickets/{id}")).bearer(token).json(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// A public reply (or internal note); returns the message id.
async fn reply(app: &TestApp, token: &str, id: i64, internal: bool) -> i64 {
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{id}/messages"))
                .bearer(token)
                .json(json!({ "body": "On it.", "internal": internal })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

async fn exec(app: &TestApp, sql: &str, binds: &[i64]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&app.state.services.db.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(app: &TestApp, sql: &str, bind: i64) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(&app.state.services.db.pool).await.unwrap()
}

/// Moves a ticket's instants: created, first response (and the reply that made it), resolved (and its pause).
async fn backdate(app: &TestApp, id: i64, created: i64, first: Option<(i64, i64)>, resolved: Option<i64>) {
    exec(app, "UPDATE tickets SET created_at = $1, updated_at = $1 WHERE id = $2", &[created, id]).await;
    if let Some((message, at)) = first {
        exec(app, "UPDATE tickets SET first_response_at = $1 WHERE id = $2", &[at, id]).await;
        exec(app, "UPDATE ticket_messages SET created_at = $1 WHERE id = $2", &[at, message]).await;
    }
    if let Some(at) = resolved {
        exec(app, "UPDATE tickets SET resolved_at = $1 WHERE id = $2", &[at, id]).await;
        exec(app, "UPDATE sla_pauses SET started_at = $1 WHERE ticket_id = $2 AND reason = 'resolved'", &[at, id])
            .await;
    }
}

async fn rate(app: &TestApp, token: &str, id: i64, body: Value) -> common::TestResponse {
    app.send(call(Method::POST, &format!("/api/v1/tickets/{id}/satisfaction")).bearer(token).json(body)).await
}

fn eastern_date(at: i64) -> Date {
    jiff::Timestamp::from_second(at).unwrap().to_zoned(app::sla::eastern().clone()).date()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The fixture (all Platinum; `now` = when the test runs):
///
/// | ticket | prio | created   | first reply      | resolved        | assignee | clocks now (first, resolution) | survey |
/// |--------|------|-----------|------------------|-----------------|----------|--------------------------------|--------|
/// | T1     | P1   | now − 2 d | +30 min (1800 s) | +3 h            | agent    | Met (≤ 1 h), Met (≤ 4 h)       | good   |
/// | T2     | P1   | now − 3 d | +2 h (7200 s)    | +5 h            | agent    | Breached, Breached             | bad    |
/// | T3     | P2   | now − 1 h | +10 min (600 s)  | —               | senior   | Met (≤ 4 h), OnTrack (24 h)    |        |
/// | T4     | P1   | now − 10 d| —                | —               | agent    | Breached, Breached (running)   |        |
/// | T5     | P2   | now − 40 d| +1 h             | +2 h            | senior   | Met, Met                       | good   |
/// | T6     | P2   | now − 30 m| —                | —               | nobody   | OnTrack, OnTrack               |        |
///
/// The agent also writes an internal note on T1 (not a reply). The surveys are answered now.
struct Fixture {
    t: [i64; 6],
    created: [i64; 6],
    resolved: [Option<i64>; 6],
}

async fn fixture(app: &TestApp, p: &People) -> Fixture {
    let at = now();
    let mut t = [0; 6];
    for (i, priority) in ["P1", "P1", "P2", "P1", "P2", "P2"].iter().enumerate() {
        t[i] = open_ticket(app, &p.pat, priority, &format!("T{}", i + 1)).await;
    }
    for (i, who) in [(0, p.agent_id), (1, p.agent_id), (2, p.senior_id), (3, p.agent_id), (4, p.senior_id)] {
        patch(app, &p.agent, t[i], json!({ "assignee_id": who })).await;
    }
    let created = [at - 2 * DAY, at - 3 * DAY, at - HOUR, at - 10 * DAY, at - 40 * DAY, at - 1800];
    let first = [Some(1800), Some(2 * HOUR), Some(600), None, Some(HOUR), None];
    let resolved_after = [Some(3 * HOUR), Some(5 * HOUR), None, None, Some(2 * HOUR), None];
    let mut resolved = [None; 6];
    for i in 0..6 {
        let replier = if i == 2 || i == 4 { &p.senior } else { &p.agent };
        let message = match first[i] {
            Some(after) => Some((reply(app, replier, t[i], false).await, created[i] + after)),
            None => None,
        };
        if resolved_after[i].is_some() {
            patch(app, replier, t[i], json!({ "status": "resolved" })).await;
        }
        resolved[i] = resolved_after[i].map(|after| created[i] + after);
        backdate(app, t[i], created[i], message, resolved[i]).await;
    }
    reply(app, &p.agent, t[0], true).await;
    for (i, rating) in [(0, "good"), (1, "bad"), (4, "good")] {
        let r = rate(app, &p.pat, t[i], json!({ "rating": rating })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    Fixture { t, created, resolved }
}

fn summary_of(app_response: common::TestResponse) -> Value {
    assert_eq!(app_response.status, StatusCode::OK, "{}", app_response.text);
    app_response.json()
}

async fn summary_numbers_by_hand(app: TestApp) {
    let p = people(&app).await;
    let f = fixture(&app, &p).await;
    let week = summary_of(app.send(call(Method::GET, "/api/v1/sla/summary?days=7").bearer(&p.boss)).await);
    let month = summary_of(app.send(call(Method::GET, "/api/v1/sla/summary").bearer(&p.boss)).await);
    assert_eq!(month["days"], 30);

    // Open now (any age): T3 P2, T4 P1, T6 P2 → P1 1, P2 2, P3 0, P4 0.
    assert_eq!(week["open_by_priority"], json!({ "P1": 1, "P2": 2, "P3": 0, "P4": 0 }));
    assert_eq!(month["open_by_priority"], week["open_by_priority"]);

    // 7 days: T1, T2, T3, T6. First response Met, Breached, Met, OnTrack → 2 met, 1 breached.
    assert_eq!(week["first_response"]["met"], 2);
    assert_eq!(week["first_response"]["breached"], 1);
    assert!((week["first_response"]["compliance"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    // Resolution Met, Breached, OnTrack, OnTrack → 1 / 2.
    assert_eq!(week["resolution"], json!({ "met": 1, "breached": 1, "compliance": 0.5 }));
    // 30 days adds T4 (Breached, Breached): first 2 / 4, resolution 1 / 3.
    assert_eq!(month["first_response"], json!({ "met": 2, "breached": 2, "compliance": 0.5 }));
    assert_eq!((month["resolution"]["met"].as_i64(), month["resolution"]["breached"].as_i64()), (Some(1), Some(2)));
    // Both targets: T1 met; T2 and T4 breached; T3 and T6 not decided.
    assert_eq!((month["both_targets"]["met"].as_i64(), month["both_targets"]["breached"].as_i64()), (Some(1), Some(2)));

    // Median first response: T1 1800, T2 7200, T3 600 → 600, 1800, 7200 → 1800 (T4, T6 have none; T5 is older).
    assert_eq!(week["median_first_response_seconds"], 1800);
    assert_eq!(month["median_first_response_seconds"], 1800);

    // Surveys answered now: T1 good (SLA met), T2 bad (breached), T5 good (met; the ticket is older, the answer
    // is not) → 2 / 3; met 2 good of 2; breached 0 of 1.
    let sat = &week["satisfaction"];
    assert_eq!((sat["good"].as_i64(), sat["bad"].as_i64(), sat["target"].as_f64()), (Some(2), Some(1), Some(0.95)));
    assert!((sat["rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(sat["sla_met"], json!({ "good": 2, "bad": 0, "rate": 1.0 }));
    assert_eq!(sat["sla_breached"], json!({ "good": 0, "bad": 1, "rate": 0.0 }));

    // Per day: one bucket per Eastern day, oldest first, zeros included; created T1, T2, T3, T6 (and T4 in 30 d),
    // resolved T1 and T2 (T5 was resolved 40 days ago).
    for (summary, days, tickets) in [(&week, 7, vec![0, 1, 2, 5]), (&month, 30, vec![0, 1, 2, 3, 5])] {
        let per_day = summary["per_day"].as_array().unwrap();
        assert_eq!(per_day.len(), days);
        let today = eastern_date(now());
        assert_eq!(per_day.last().unwrap()["date"], today.to_string());
        let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for &i in &tickets {
            expected.entry(eastern_date(f.created[i]).to_string()).or_default().0 += 1;
        }
        for resolved in [f.resolved[0], f.resolved[1]].into_iter().flatten() {
            expected.entry(eastern_date(resolved).to_string()).or_default().1 += 1;
        }
        let got: BTreeMap<String, (i64, i64)> = per_day
            .iter()
            .filter(|d| d["created"] != 0 || d["resolved"] != 0)
            .map(|d| {
                (
                    d["date"].as_str().unwrap().to_string(),
                    (d["created"].as_i64().unwrap(), d["resolved"].as_i64().unwrap()),
                )
            })
            .collect();
        assert_eq!(got, expected, "{days} days");
    }

    // Agents by id: agent → open T4; resolved T1, T2; replies on T1, T2 (the note does not count); surveys 1 good
    // of 2. senior → open T3; resolved nothing in the window (T5 is 40 days old); 1 reply (T3); 1 good of 1.
    // The manager: zeros.
    let agents: Vec<Value> = month["agents"].as_array().unwrap().clone();
    let row = |a: &Value| {
        (
            a["id"].as_i64().unwrap(),
            a["open_assigned"].as_i64().unwrap(),
            a["resolved"].as_i64().unwrap(),
            a["replies"].as_i64().unwrap(),
            a["survey_good"].as_i64().unwrap(),
            a["survey_total"].as_i64().unwrap(),
        )
    };
    assert_eq!(
        agents.iter().map(row).collect::<Vec<_>>(),
        [(p.agent_id, 1, 2, 2, 1, 2), (p.senior_id, 1, 0, 1, 1, 1), (p.boss_id, 0, 0, 0, 0, 0)]
    );
    assert_eq!(agents[0]["level"], "L1");
    assert_eq!(agents[0]["name"], "Test User");
    let _ = f.t;
}

async fn todays_calls_are_listed(app: TestApp) {
    let p = people(&app).await;
    let today = eastern_date(now());
    let start_of_today = app::metrics::start_of_day(today);
    let insert = |start: i64, topic: &'static str, status: &'static str| {
        let db = app.state.services.db.clone();
        let (customer, agent) = (p.boss_id, p.senior_id);
        async move {
            sqlx::query(
                "INSERT INTO bookings (customer_id, agent_id, start_at, end_at, busy_until, duration_minutes, platform, \
                 topic, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 30, 'portal', $6, $7, $3, $3)",
            )
            .bind(customer)
            .bind(agent)
            .bind(start)
            .bind(start + 1800)
            .bind(start + 2400)
            .bind(topic)
            .bind(status)
            .execute(&db.pool)
            .await
            .unwrap();
        }
    };
    let r = app.send(call(Method::GET, "/api/v1/sla/summary").bearer(&p.boss)).await.json();
    assert_eq!(r["calls_today"], json!([]), "a fresh portal has no calls");
    insert(start_of_today + 15 * HOUR, "Afternoon check", "cancelled").await;
    insert(start_of_today + 9 * HOUR, "Morning setup", "booked").await;
    insert(start_of_today - 2 * HOUR, "Yesterday evening", "done").await;
    insert(start_of_today + DAY + 9 * HOUR, "Tomorrow", "booked").await;
    let r = app.send(call(Method::GET, "/api/v1/sla/summary").bearer(&p.boss)).await.json();
    let topics: Vec<&str> = r["calls_today"].as_array().unwrap().iter().map(|c| c["topic"].as_str().unwrap()).collect();
    assert_eq!(topics, ["Morning setup", "Afternoon check"]);
    assert_eq!(r["calls_today"][1]["status"], "cancelled");
    assert_eq!(r["calls_today"][0]["agent_id"], p.senior_id);
    assert_eq!(r["calls_today"][0]["customer_name"], "Test User");
}

async fn a_fresh_portal_has_zeros_not_errors(app: TestApp) {
    let boss = app.manager_token().await;
    let s = summary_of(app.send(call(Method::GET, "/api/v1/sla/summary?days=1").bearer(&boss)).await);
    assert_eq!(s["first_response"], json!({ "met": 0, "breached": 0, "compliance": null }));
    assert_eq!(s["median_first_response_seconds"], Value::Null);
    assert_eq!(s["satisfaction"]["rate"], Value::Null);
    assert_eq!(s["per_day"].as_array().unwrap().len(), 1);
    assert_eq!(s["open_by_priority"], json!({ "P1": 0, "P2": 0, "P3": 0, "P4": 0 }));
    let csv = app.send(call(Method::GET, "/api/v1/tickets/export.csv").bearer(&boss)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.text.lines().count(), 1, "the header alone: {}", csv.text);
}

async fn summary_and_export_are_for_managers(app: TestApp) {
    let p = people(&app).await;
    for path in ["/api/v1/sla/summary", "/api/v1/tickets/export.csv"] {
        for (who, token) in [("customer", &p.pat), ("agent", &p.agent)] {
            let r = app.send(call(Method::GET, path).bearer(token)).await;
            // 403, and in particular not a 404 from `/tickets/{id}` taking "export.csv" as an id.
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {path}: {}", r.text);
        }
        assert_eq!(app.send(call(Method::GET, path)).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.send(call(Method::GET, path).bearer(&p.boss)).await.status, StatusCode::OK);
    }
    for bad in ["0", "366", "-3", "seven", "1.5"] {
        let r = app.send(call(Method::GET, &format!("/api/v1/sla/summary?days={bad}")).bearer(&p.boss)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "days={bad}");
        assert!(r.json()["error"]["fields"]["days"].is_string(), "{}", r.text);
    }
    assert_eq!(
        app.send(call(Method::GET, "/api/v1/sla/summary?days=365").bearer(&p.boss)).await.status,
        StatusCode::OK
    );
    // The page's download is a plain link: a signed-in manager's session cookie is enough.
    let session = app.sign_in("boss@example.com", "a long passphrase").await;
    let r =
        app.send(call(Method::GET, "/api/v1/tickets/export.csv?from=2026-01-01&to=2026-01-31").cookie(&session)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let agent_session = app.sign_in("agent@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/api/v1/tickets/export.csv").cookie(&agent_session)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Splits CSV text into records of cells (quotes, doubled quotes, commas and newlines inside quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell, mut quoted) = (vec![], vec![], String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => record.push(std::mem::take(&mut cell)),
            ('\r', false) if chars.peek() == Some(&'\n') => {}
            ('\n', false) => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (c, _) => cell.push(c),
        }
    }
    records
}

async fn export_csv(app: TestApp) {
    let p = people(&app).await;
    let f = fixture(&app, &p).await;
    let evil = open_ticket(&app, &p.pat, "P3", "=HYPERLINK(\"http://evil.example\",\"click\")").await;
    let quoted = open_ticket(&app, &p.gen, "P4", "Hello, \"world\"\nsecond line").await;
    let plus = open_ticket(&app, &p.gen, "P4", "+1 more @everyone").await;
    let r = app.send(call(Method::GET, "/api/v1/tickets/export.csv").bearer(&p.boss)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let today = eastern_date(now());
    let from = today.checked_sub(jiff::Span::new().days(29)).unwrap();
    assert_eq!(
        r.header("content-disposition").map(str::to_string),
        Some(format!("attachment; filename=\"tickets-{from}-to-{today}.csv\""))
    );
    assert!(r.text.starts_with(
        "id,created_at,subject,category,priority,tier,status,level,requester_email,assignee,first_response_at,\
         first_response_sla,resolved_at,resolution_sla,satisfaction\r\n"
    ));
    // Formulas are defused and quoting survives commas, quotes and newlines.
    assert!(r.text.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\","), "{}", r.text);
    assert!(r.text.contains(",'+1 more @everyone,"), "{}", r.text);
    let rows = parse_csv(&r.text);
    assert!(rows.iter().all(|r| r.len() == 15), "{rows:?}");
    // The default range is the last 30 days: T5 (40 days old) is left out; the rest by id.
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ids, [f.t[0], f.t[1], f.t[2], f.t[3], f.t[5], evil, quoted, plus]);
    let by_id = |id: i64| rows.iter().find(|r| r[0] == id.to_string()).unwrap().clone();
    let t1 = by_id(f.t[0]);
    assert_eq!(t1[1], app::db::rfc3339(f.created[0]));
    assert_eq!((t1[2].as_str(), t1[4].as_str(), t1[5].as_str(), t1[6].as_str()), ("T1", "P1", "platinum", "resolved"));
    assert_eq!((t1[8].as_str(), t1[9].as_str()), ("pat@example.com", "Test User"));
    assert_eq!((t1[11].as_str(), t1[13].as_str(), t1[14].as_str()), ("met", "met", "good"));
    assert_eq!(t1[12], app::db::rfc3339(f.resolved[0].unwrap()));
    let t2 = by_id(f.t[1]);
    assert_eq!((t2[11].as_str(), t2[13].as_str(), t2[14].as_str()), ("breached", "breached", "bad"));
    let t6 = by_id(f.t[5]);
    assert_eq!((t6[9].as_str(), t6[10].as_str(), t6[12].as_str(), t6[14].as_str()), ("", "", "", ""));
    assert_eq!(by_id(quoted)[2], "Hello, \"world\"\nsecond line");
    assert_eq!(by_id(evil)[2], "'=HYPERLINK(\"http://evil.example\",\"click\")");

    // One Eastern day, both ends inclusive: the day T4 was opened holds T4 only.
    let day = eastern_date(f.created[3]);
    let r =
        app.send(call(Method::GET, &format!("/api/v1/tickets/export.csv?from={day}&to={day}")).bearer(&p.boss)).await;
    let rows = parse_csv(&r.text);
    assert_eq!(rows.len(), 2, "{}", r.text);
    assert_eq!(rows[1][0], f.t[3].to_string());
    // 45 days back reaches T5.
    let long_ago = today.checked_sub(jiff::Span::new().days(45)).unwrap();
    let r = app.send(call(Method::GET, &format!("/api/v1/tickets/export.csv?from={long_ago}")).bearer(&p.boss)).await;
    assert!(parse_csv(&r.text).iter().any(|r| r[0] == f.t[4].to_string()));

    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-03-02&to=2026-03-01", "from"),
        ("from=2025-01-01&to=2026-01-02", "to"),
    ] {
        let r = app.send(call(Method::GET, &format!("/api/v1/tickets/export.csv?{query}")).bearer(&p.boss)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{query}: {}", r.text);
    }
    let r =
        app.send(call(Method::GET, "/api/v1/tickets/export.csv?from=2025-01-01&to=2026-01-01").bearer(&p.boss)).await;
    assert_eq!(r.status, StatusCode::OK, "366 days are allowed");
}

async fn surveys(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.pat, "P2", "Survey me").await;
    patch(&app, &p.agent, id, json!({ "assignee_id": p.agent_id })).await;
    let survey_rows = "SELECT COUNT(*) FROM ticket_surveys WHERE ticket_id = $1";
    let survey_history = "SELECT COUNT(*) FROM ticket_history WHERE kind = 'survey' AND ticket_id = $1";

    // Not resolved yet.
    let r = rate(&app, &p.pat, id, json!({ "rating": "good" })).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "not_resolved"), "{}", r.text);
    patch(&app, &p.agent, id, json!({ "status": "resolved" })).await;
    // Pretend the first resolution was an hour ago, so the second one below is a different instant.
    exec(&app, "UPDATE tickets SET resolved_at = resolved_at - 3600 WHERE id = $1", &[id]).await;

    // Another customer: not found; staff: only the requester answers; bad input names the field.
    assert_eq!(rate(&app, &p.gen, id, json!({ "rating": "good" })).await.status, StatusCode::NOT_FOUND);
    assert_eq!(rate(&app, &p.gen, 999_999, json!({ "rating": "good" })).await.status, StatusCode::NOT_FOUND);
    assert_eq!(rate(&app, &p.agent, id, json!({ "rating": "good" })).await.status, StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({ "rating": "meh" }), "rating"),
        (json!({}), "rating"),
        (json!({ "rating": 5 }), "rating"),
        (json!({ "rating": "good", "comment": "x".repeat(2001) }), "comment"),
        (json!({ "rating": "good", "comment": 7 }), "comment"),
    ] {
        let r = rate(&app, &p.pat, id, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.text);
    }
    let r = rate(&app, &p.pat, id, json!({ "rating": "good", "extra": 1 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was written by any refusal.
    assert_eq!(count(&app, survey_rows, id).await, 0);
    assert_eq!(count(&app, survey_history, id).await, 0);
    let state = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/satisfaction")).bearer(&p.pat)).await.json();
    assert_eq!(state, json!({ "can_answer": true, "answers": [] }));

    // Once.
    let r = rate(&app, &p.pat, id, json!({ "rating": "good", "comment": "  Quick and kind.  " })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let first = r.json();
    assert_eq!((first["rating"].as_str(), first["comment"].as_str()), (Some("good"), Some("Quick and kind.")));
    let r = rate(&app, &p.pat, id, json!({ "rating": "bad" })).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "already_answered"));
    assert_eq!(count(&app, survey_rows, id).await, 1);
    let (to_value, reason): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT to_value, reason FROM ticket_history WHERE kind = 'survey' AND ticket_id = $1")
            .bind(id)
            .fetch_one(&app.state.services.db.pool)
            .await
            .unwrap();
    assert_eq!((to_value.as_deref(), reason.as_deref()), (Some("good"), Some("Quick and kind.")));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events WHERE kind = 'ticket.survey' AND ticket_id = $1", id).await, 1);
    // A good rating tells nobody.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM notifications WHERE kind = 'ticket.survey' AND user_id = $1", p.agent_id)
            .await,
        0
    );

    // Who sees what.
    let mine = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/satisfaction")).bearer(&p.pat)).await.json();
    assert_eq!(mine["can_answer"], false);
    assert_eq!(mine["answers"][0]["rating"], "good");
    let staff =
        app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/satisfaction")).bearer(&p.senior)).await.json();
    assert_eq!(staff["answers"][0]["comment"], "Quick and kind.");
    assert_eq!(staff["can_answer"], false);
    let r = app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/satisfaction")).bearer(&p.gen)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Reopened and resolved again: a new resolution asks again; a Bad answer tells the assignee.
    patch(&app, &p.pat, id, json!({ "status": "open" })).await;
    let r = rate(&app, &p.pat, id, json!({ "rating": "bad" })).await;
    assert_eq!(r.error_code(), "not_resolved");
    patch(&app, &p.agent, id, json!({ "status": "resolved" })).await;
    let r = rate(&app, &p.pat, id, json!({ "rating": "bad", "comment": "Broke again." })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_ne!(r.json()["resolved_at"], first["resolved_at"]);
    assert_eq!(count(&app, survey_rows, id).await, 2);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM notifications WHERE kind = 'ticket.survey' AND user_id = $1", p.agent_id)
            .await,
        1
    );
    let staff =
        app.send(call(Method::GET, &format!("/api/v1/tickets/{id}/satisfaction")).bearer(&p.agent)).await.json();
    let ratings: Vec<&str> =
        staff["answers"].as_array().unwrap().iter().map(|a| a["rating"].as_str().unwrap()).collect();
    assert_eq!(ratings, ["bad", "good"], "newest first");

    // A closed ticket keeps its resolution: still answered, still refused.
    patch(&app, &p.agent, id, json!({ "status": "closed" })).await;
    assert_eq!(rate(&app, &p.pat, id, json!({ "rating": "good" })).await.error_code(), "already_answered");
}

/// The survey form posts to the server function: same rules, errors by field.
async fn survey_server_function(app: TestApp) {
    let p = people(&app).await;
    let id = open_ticket(&app, &p.pat, "P3", "Form survey").await;
    patch(&app, &p.agent, id, json!({ "status": "resolved" })).await;
    let post = |body: String| {
        call(Method::POST, "/rpc/answer_survey")
            .bearer(&p.pat)
            .header("origin", "http://127.0.0.1:3000")
            .header("accept", "application/json")
            .raw(body.as_bytes(), Some("application/x-www-form-urlencoded"))
    };
    let r = app.send(post(format!("id={id}&comment="))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["fields"]["rating"].is_string(), "{}", r.text);
    let r = app.send(post(format!("id={id}&rating=good&comment="))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["comment"], Value::Null, "a blank comment is none");
    let r = app.send(post(format!("id={id}&rating=bad"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
}

/// The pages render on the server: the manager sees the dashboard, an agent the refusal.
async fn metrics_page_renders(app: TestApp) {
    let p = people(&app).await;
    fixture(&app, &p).await;
    let session = app.sign_in("boss@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/admin/metrics").cookie(&session)).await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Open tickets",
        "First response",
        "Median first response",
        "Satisfaction",
        "Download CSV",
        "data-testid=\"day-chart\"",
        "data-testid=\"agents-table\"",
    ] {
        assert!(r.text.contains(text), "{text} missing");
    }
    let r = app.send(call(Method::GET, "/").cookie(&session)).await;
    assert!(r.text.contains("href=\"/admin/metrics\""), "managers get the nav link");
    let agent = app.sign_in("agent@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/admin/metrics").cookie(&agent)).await;
    assert!(r.text.contains("Not available to you"));
    assert!(!app.send(call(Method::GET, "/").cookie(&agent)).await.text.contains("href=\"/admin/metrics\""));
    // The survey page shows the question to the requester of a resolved ticket.
    let id = open_ticket(&app, &p.pat, "P3", "Page survey").await;
    patch(&app, &p.agent, id, json!({ "status": "resolved" })).await;
    let pat = app.sign_in("pat@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, &format!("/tickets/{id}/survey?rating=bad")).cookie(&pat)).await;
    assert!(r.text.contains(&format!("id=\"survey-q-{id}\"")), "{}", r.text);
    assert!(r.text.contains("How did we do?"));
}

/// The demo history gives the metrics page something believable, once.
async fn demo_history(app: TestApp) {
    let db = &app.state.services.db;
    supportal::demo::seed(db).await.unwrap();
    supportal::demo_metrics::seed(db).await.unwrap();
    let tickets = count(&app, "SELECT COUNT(*) FROM tickets WHERE id > $1", 0).await;
    supportal::demo_metrics::seed(db).await.unwrap();
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets WHERE id > $1", 0).await, tickets, "seeded once");
    let boss = app.token("manager@demo.supportal.test", supportal::demo::DEMO_PASSWORD).await;
    let s = summary_of(app.send(call(Method::GET, "/api/v1/sla/summary").bearer(&boss)).await);
    let created: i64 = s["per_day"].as_array().unwrap().iter().map(|d| d["created"].as_i64().unwrap()).sum();
    assert!(created >= 40, "{created}");
    for clock in ["first_response", "resolution"] {
        assert!(s[clock]["met"].as_i64().unwrap() > s[clock]["breached"].as_i64().unwrap(), "{clock}: {}", s[clock]);
        assert!(s[clock]["breached"].as_i64().unwrap() > 0, "{clock}: {}", s[clock]);
    }
    let sat = &s["satisfaction"];
    assert!(sat["good"].as_i64().unwrap() > 3 * sat["bad"].as_i64().unwrap(), "{sat}");
    assert!(sat["bad"].as_i64().unwrap() > 0, "{sat}");
    let active = s["agents"].as_array().unwrap().iter().filter(|a| a["resolved"].as_i64().unwrap() > 0).count();
    assert_eq!(active, 2, "both demo agents resolved tickets: {}", s["agents"]);
}

async fn openapi_lists_the_new_paths(app: TestApp) {
    let doc = app.send(call(Method::GET, "/api/v1/openapi.json")).await.json();
    for path in ["/tickets/{id}/satisfaction", "/sla/summary", "/tickets/export.csv"] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/events"].to_string().contains("ticket.survey"));
}

both!(
    demo_history,
    openapi_lists_the_new_paths,
    summary_numbers_by_hand,
    todays_calls_are_listed,
    a_fresh_portal_has_zeros_not_errors,
    summary_and_export_are_for_managers,
    export_csv,
    surveys,
    survey_server_function,
    metrics_page_renders,
);
