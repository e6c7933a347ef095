#![recursion_limit = "256"]
//! SLA policies, due-date previews, opening hours and holidays through the REST API, on SQLite and PostgreSQL.

mod common;

use app::accounts::{Profile, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

async fn customer_token(app: &TestApp, email: &str, tier: Tier) -> String {
    app.create_user(email, Profile::customer(tier)).await;
    app.token(email, "a long passphrase").await
}

async fn policies(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.send(call(Method::GET, "/api/v1/sla/policies").bearer(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["items"].as_array().expect("items").clone()
}

fn row<'a>(rows: &'a [Value], tier: &str, priority: &str) -> &'a Value {
    rows.iter().find(|r| r["tier"] == tier && r["priority"] == priority).unwrap_or_else(|| panic!("{tier} {priority}"))
}

async fn preview(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    let r = app.send(call(Method::GET, &format!("/api/v1/sla/preview?{query}")).bearer(token)).await;
    (r.status, r.json())
}

async fn policies_list_the_defaults(app: TestApp) {
    let token = customer_token(&app, "pat@example.com", Tier::Platinum).await;
    let rows = policies(&app, &token).await;
    assert_eq!(rows.len(), 8);
    let order: Vec<String> =
        rows.iter().map(|r| format!("{} {}", r["tier"].as_str().unwrap(), r["priority"])).collect();
    assert_eq!(
        order,
        [
            "platinum \"P1\"",
            "platinum \"P2\"",
            "platinum \"P3\"",
            "platinum \"P4\"",
            "general \"P1\"",
            "general \"P2\"",
            "general \"P3\"",
            "general \"P4\""
        ]
    );
    let defaults = serde_json::to_value(app::sla::default_policies()).unwrap();
    assert_eq!(Value::Array(rows), defaults);
    assert_eq!(
        row(defaults.as_array().unwrap(), "platinum", "P1"),
        &json!({"tier": "platinum", "priority": "P1", "first_response_minutes": 60, "resolution_minutes": 240,
                "calendar": "24x7", "pause_on_hold": false})
    );
    // signed-out callers may not read the table
    let r = app.send(call(Method::GET, "/api/v1/sla/policies")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

fn platinum_p1(first: i64, resolution: i64) -> Value {
    json!([{"tier": "platinum", "priority": "P1", "first_response_minutes": first, "resolution_minutes": resolution,
            "calendar": "24x7", "pause_on_hold": true}])
}

async fn customers_may_not_change_policies(app: TestApp) {
    let token = customer_token(&app, "pat@example.com", Tier::Platinum).await;
    let r = app.send(call(Method::PUT, "/api/v1/sla/policies").bearer(&token).json(platinum_p1(30, 120))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.error_code(), "forbidden");
    let r = app.send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&token).json(json!(["2026-12-25"]))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(row(&policies(&app, &token).await, "platinum", "P1")["first_response_minutes"], 60);
}

async fn manager_changes_a_policy_and_new_tickets_use_it(app: TestApp) {
    let manager = app.manager_token().await;
    let r = app.send(call(Method::PUT, "/api/v1/sla/policies").bearer(&manager).json(platinum_p1(30, 120))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 8);
    let p1 = row(&items, "platinum", "P1");
    assert_eq!((p1["first_response_minutes"].as_i64(), p1["resolution_minutes"].as_i64()), (Some(30), Some(120)));
    assert_eq!(p1["pause_on_hold"], true);
    // the rest of the table is untouched
    assert_eq!(row(&items, "platinum", "P2")["first_response_minutes"], 240);
    assert_eq!(policies(&app, &manager).await, items);

    let customer = customer_token(&app, "pat@example.com", Tier::Platinum).await;
    let r = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(&customer).json(json!({
            "subject": "Bot completely down", "body": "Nothing answers.", "priority": "P1", "category": "bug"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let t = r.json();
    assert_eq!(t["sla"]["first_response"]["target_minutes"], 30);
    assert_eq!(t["sla"]["resolution"]["target_minutes"], 120);
}

async fn invalid_rows_change_nothing(app: TestApp) {
    let manager = app.manager_token().await;
    let before = policies(&app, &manager).await;
    // a valid row followed by one whose resolution is shorter than its first response: nothing is written
    let body = json!([
        {"tier": "platinum", "priority": "P2", "first_response_minutes": 10, "resolution_minutes": 20,
         "calendar": "24x7", "pause_on_hold": false},
        {"tier": "platinum", "priority": "P1", "first_response_minutes": 120, "resolution_minutes": 60,
         "calendar": "24x7", "pause_on_hold": false},
    ]);
    let r = app.send(call(Method::PUT, "/api/v1/sla/policies").bearer(&manager).json(body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let error = &r.json()["error"];
    assert_eq!(error["code"], "validation_failed");
    assert!(
        error["fields"]["platinum.P1.resolution_minutes"].as_str().unwrap().contains("must not be shorter"),
        "{error}"
    );
    assert_eq!(policies(&app, &manager).await, before);

    let r = app.send(call(Method::PUT, "/api/v1/sla/policies").bearer(&manager).json(platinum_p1(0, 60))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["platinum.P1.first_response_minutes"].is_string(), "{}", r.text);
    let r = app
        .send(
            call(Method::PUT, "/api/v1/sla/policies")
                .bearer(&manager)
                .json(json!([{"tier": "gold", "priority": "P1"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(policies(&app, &manager).await, before);
}

async fn preview_counts_support_hours(app: TestApp) {
    let token = customer_token(&app, "gen@example.com", Tier::General).await;
    // Friday 17:00 ET: 1 h Friday + 6 h Saturday + 9 h Monday + 8 h Tuesday = 24 h → Tuesday 17:00 ET
    let (status, body) = preview(&app, &token, "tier=platinum&priority=P3&at=2026-12-04T22:00:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["first_response_due"], "2026-12-08T22:00:00Z");
    assert_eq!(body["resolution_due"], "2026-12-15T19:00:00Z");
    // the tier defaults to the caller's (general P1 also 24 support hours)
    let (status, body) = preview(&app, &token, "priority=P1&at=2026-12-04T22:00:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tier"], "general");
    assert_eq!(body["first_response_due"], "2026-12-08T22:00:00Z");
    // `at` defaults to now
    let (status, body) = preview(&app, &token, "tier=platinum&priority=P1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let due: jiff::Timestamp = body["first_response_due"].as_str().unwrap().parse().unwrap();
    let ahead = due.as_second() - jiff::Timestamp::now().as_second();
    assert!((3590..=3600).contains(&ahead), "{ahead}");

    for (query, field) in [
        ("tier=gold&priority=P1", "tier"),
        ("priority=P9", "priority"),
        ("tier=general", "priority"),
        ("priority=P1&at=yesterday", "at"),
    ] {
        let (status, body) = preview(&app, &token, query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert!(body["error"]["fields"][field].is_string(), "{query}: {body}");
    }
    let r = app.send(call(Method::GET, "/api/v1/sla/preview?priority=P1")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn holidays_are_listed_and_push_previews(app: TestApp) {
    let manager = app.manager_token().await;
    // Monday 09:00 ET: 24 support hours = Mon 9 + Tue 9 + Wed 6 → Wednesday 15:00 ET
    let query = "tier=general&priority=P3&at=2026-12-07T14:00:00Z";
    let (_, body) = preview(&app, &manager, query).await;
    assert_eq!(body["first_response_due"], "2026-12-09T20:00:00Z");

    let r = app
        .send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&manager).json(json!([
            "2026-12-25",
            "2026-12-08",
            "2026-12-25"
        ])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!(["2026-12-08", "2026-12-25"]));

    let r = app.send(call(Method::GET, "/api/v1/hours")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["holidays"], json!(["2026-12-08", "2026-12-25"]));

    // Tuesday is now a holiday: Mon 9 + Wed 9 + Thu 6 → Thursday 15:00 ET
    let (_, body) = preview(&app, &manager, query).await;
    assert_eq!(body["first_response_due"], "2026-12-10T20:00:00Z");

    // replacing the set removes the old days
    let r = app.send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&manager).json(json!([]))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.send(call(Method::GET, "/api/v1/hours")).await.json()["holidays"], json!([]));
}

async fn bad_holidays_are_refused(app: TestApp) {
    let manager = app.manager_token().await;
    let r = app.send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&manager).json(json!(["2026-12-25"]))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (body, field) in [
        (json!(["2026-12-24", "2026-02-30"]), "holidays[1]"),
        (json!(["12/25/2026"]), "holidays[0]"),
        (json!(["2026-12-24", "2026-12-31", "2027-1-1"]), "holidays[2]"),
    ] {
        let r = app.send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&manager).json(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.text);
    }
    let too_many: Vec<String> =
        (0..367).map(|i| (jiff::civil::date(2026, 1, 1) + jiff::Span::new().days(i)).to_string()).collect();
    let r = app.send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&manager).json(json!(too_many))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app.send(call(Method::PUT, "/api/v1/hours/holidays").bearer(&manager).json(json!([2026]))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // nothing changed
    assert_eq!(app.send(call(Method::GET, "/api/v1/hours")).await.json()["holidays"], json!(["2026-12-25"]));
}

async fn hours_need_no_sign_in(app: TestApp) {
    let r = app.send(call(Method::GET, "/api/v1/hours")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    for calendar in ["support", "live_chat"] {
        assert!(body[calendar]["open"].is_boolean(), "{body}");
        let next: jiff::Timestamp = body[calendar]["next_change_at"].as_str().expect("next change").parse().unwrap();
        assert!(next > jiff::Timestamp::now(), "{body}");
    }
    assert_eq!(body["holidays"], json!([]));
}

/// The settings page's server function reads the same form the page posts and applies the same rules.
async fn settings_form_saves_through_the_same_rules(app: TestApp) {
    let manager = app.manager_token().await;
    let form = |first: &str| {
        format!(
            "policies%5B0%5D%5Btier%5D=general&policies%5B0%5D%5Bpriority%5D=P4&policies%5B0%5D%5Bfirst_response_minutes%5D={first}\
             &policies%5B0%5D%5Bresolution_minutes%5D=3000&policies%5B0%5D%5Bcalendar%5D=24x7\
             &policies%5B0%5D%5Bpause_on_hold%5D=on\
             &policies%5B1%5D%5Btier%5D=general&policies%5B1%5D%5Bpriority%5D=P3&policies%5B1%5D%5Bfirst_response_minutes%5D=1440\
             &policies%5B1%5D%5Bresolution_minutes%5D=10080&policies%5B1%5D%5Bcalendar%5D=support_hours"
        )
    };
    let post = |body: String| {
        call(Method::POST, "/rpc/save_sla_policies")
            .bearer(&manager)
            .header("accept", "application/json")
            .raw(body.as_bytes(), Some("application/x-www-form-urlencoded"))
    };
    let r = app.send(post(form("100"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = policies(&app, &manager).await;
    let p4 = row(&rows, "general", "P4");
    assert_eq!(
        (&p4["first_response_minutes"], &p4["resolution_minutes"], &p4["calendar"], &p4["pause_on_hold"]),
        (&json!(100), &json!(3000), &json!("24x7"), &json!(true))
    );
    assert_eq!(row(&rows, "general", "P3")["pause_on_hold"], false);

    // resolution shorter than first response: refused, naming the field, nothing written
    let r = app.send(post(form("5000"))).await;
    assert!(!r.status.is_success(), "{}", r.text);
    assert!(r.text.contains("general.P4.resolution_minutes"), "{}", r.text);
    let r = app.send(post(form("soon"))).await;
    assert!(r.text.contains("general.P4.first_response_minutes"), "{}", r.text);
    assert_eq!(policies(&app, &manager).await, rows);

    let customer = customer_token(&app, "gen@example.com", Tier::General).await;
    let r = app
        .send(
            call(Method::POST, "/rpc/save_sla_policies")
                .bearer(&customer)
                .header("accept", "application/json")
                .raw(form("100").as_bytes(), Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert!(r.text.contains("forbidden"), "{}", r.text);

    let r = app
        .send(
            call(Method::POST, "/rpc/save_sla_holidays")
                .bearer(&manager)
                .header("accept", "application/json")
                .raw(b"holidays=2026-12-25%0D%0A%0D%0A2026-12-24%0D%0A", Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!(["2026-12-24", "2026-12-25"]));
    let r = app
        .send(
            call(Method::POST, "/rpc/save_sla_holidays")
                .bearer(&manager)
                .header("accept", "application/json")
                .raw(b"holidays=2026-12-25%0A2026-13-01", Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert!(r.text.contains("Line 2"), "{}", r.text);
}

both!(
    policies_list_the_defaults,
    customers_may_not_change_policies,
    manager_changes_a_policy_and_new_tickets_use_it,
    invalid_rows_change_nothing,
    preview_counts_support_hours,
    holidays_are_listed_and_push_previews,
    bad_holidays_are_refused,
    hours_need_no_sign_in,
    settings_form_saves_through_the_same_rules,
);
