#![recursion_limit = "256"]
//! The server functions behind `/admin/integrations` and the "Email me about" form, posted as the browser's
//! forms post them (`events[]=…`), on SQLite and PostgreSQL.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::json;

async fn agent_token(app: &TestApp) -> String {
    app.create_user(
        "l1@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
    )
    .await;
    app.token("l1@example.com", "a long passphrase").await
}

async fn customer_token(app: &TestApp) -> String {
    app.create_user("gen@example.com", Profile::customer(Tier::General)).await;
    app.token("gen@example.com", "a long passphrase").await
}

async fn webhook_form_creates_and_lists(app: TestApp) {
    let manager = app.manager_token().await;
    let form = "url=https%3A%2F%2Fhooks.example.com%2Fin&events%5B%5D=ticket.created&events%5B%5D=sla.breached\
                &description=CRM&secret=";
    let r = app.rpc(&manager, "add_webhook", form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let created = r.json();
    assert!(created["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")), "{created}");
    assert_eq!(created["webhook"]["events"], json!(["ticket.created", "sla.breached"]));
    let id = created["webhook"]["id"].as_i64().expect("id");

    let r = app.rpc(&manager, "integration_webhooks", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["webhook"]["url"], "https://hooks.example.com/in");
    assert_eq!(list[0]["deliveries"], json!([]));
    // the secret is never listed
    assert!(!r.text.contains("whsec_"), "{}", r.text);

    // a test queues a ping that shows in the log
    let r = app.rpc(&manager, "test_webhook", &format!("id={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = app.rpc(&manager, "integration_webhooks", "").await.json();
    assert_eq!(list[0]["deliveries"][0]["event"], "ping");

    // switch off: tests are refused; on again
    let r = app.rpc(&manager, "switch_webhook", &format!("id={id}&active=false")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["active"], false);
    assert_eq!(r.json()["disabled_reason"], "Switched off by a manager.");
    let r = app.rpc(&manager, "test_webhook", &format!("id={id}")).await;
    assert!(r.text.contains("Switch the webhook on"), "{}", r.text);
    let r = app.rpc(&manager, "switch_webhook", &format!("id={id}&active=true")).await;
    assert_eq!(r.json()["active"], true);

    let r = app.rpc(&manager, "remove_webhook", &format!("id={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.rpc(&manager, "integration_webhooks", "").await.json(), json!([]));
}

async fn bad_webhook_forms_name_their_fields(app: TestApp) {
    let manager = app.manager_token().await;
    let r = app.rpc(&manager, "add_webhook", "url=ftp%3A%2F%2Fx&events%5B%5D=ticket.created").await;
    assert!(!r.status.is_success(), "{}", r.text);
    assert!(r.text.contains("http:// or https://"), "{}", r.text);
    // no box ticked: nothing arrives for `events`
    let r = app.rpc(&manager, "add_webhook", "url=https%3A%2F%2Fhooks.example.com%2F").await;
    assert!(r.text.contains("at least one event"), "{}", r.text);
    let r = app.rpc(&manager, "add_webhook", "url=https%3A%2F%2Fhooks.example.com%2F&events%5B%5D=nope").await;
    assert!(r.text.contains("not an event"), "{}", r.text);
    let r = app.rpc(&manager, "add_webhook", "url=https%3A%2F%2Fh.example.com%2F&events%5B%5D=ping&secret=short").await;
    assert!(r.text.contains("16 to 200 characters"), "{}", r.text);
    assert_eq!(app.rpc(&manager, "integration_webhooks", "").await.json(), json!([]));
}

async fn discord_keeps_masks_and_removes_its_url(app: TestApp) {
    let manager = app.manager_token().await;
    let r = app
        .rpc(
            &manager,
            "save_discord_integration",
            "url=https%3A%2F%2Fdiscord.com%2Fapi%2Fwebhooks%2F1%2Fsecret-token-abcd&events%5B%5D=sla.breached",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "url_masked": "https://discord.com/…abcd", "events": ["sla.breached"] }));
    // a blank URL keeps the saved one
    let r = app.rpc(&manager, "save_discord_integration", "url=&events%5B%5D=booking.created").await;
    assert_eq!(r.json(), json!({ "url_masked": "https://discord.com/…abcd", "events": ["booking.created"] }));
    let r = app.rpc(&manager, "discord_integration", "").await;
    assert!(!r.text.contains("secret-token"), "{}", r.text);
    let r = app.rpc(&manager, "save_discord_integration", "url=ftp%3A%2F%2Fx").await;
    assert!(r.text.contains("http:// or https://"), "{}", r.text);
    let r = app.rpc(&manager, "save_discord_integration", "remove=true&events%5B0%5D=booking.created").await;
    assert_eq!(r.json(), json!({ "url_masked": null, "events": ["booking.created"] }));
    assert_eq!(app.rpc(&manager, "discord_log", "").await.json(), json!([]));

    // no SMTP in the tests: said plainly, and the test email is not sent
    let r = app.rpc(&manager, "email_integration", "").await;
    assert_eq!(r.json(), json!({ "configured": false, "from": null }));
    let r = app.rpc(&manager, "test_email_integration", "").await;
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("SMTP is not configured")), "{}", r.text);
}

async fn only_managers_reach_the_integrations(app: TestApp) {
    for token in [agent_token(&app).await, customer_token(&app).await] {
        for (endpoint, form) in [
            ("integration_webhooks", ""),
            ("add_webhook", "url=https%3A%2F%2Fhooks.example.com%2F&events%5B%5D=ticket.created"),
            ("switch_webhook", "id=1&active=false"),
            ("remove_webhook", "id=1"),
            ("test_webhook", "id=1"),
            ("discord_integration", ""),
            ("discord_log", ""),
            ("save_discord_integration", "url=https%3A%2F%2Fdiscord.com%2Fx"),
            ("test_discord_integration", ""),
            ("email_integration", ""),
            ("test_email_integration", ""),
        ] {
            let r = app.rpc(&token, endpoint, form).await;
            assert!(r.text.contains("forbidden"), "{endpoint}: {}", r.text);
        }
    }
    let manager = app.manager_token().await;
    assert_eq!(app.rpc(&manager, "integration_webhooks", "").await.json(), json!([]));
}

async fn everyone_chooses_their_emails(app: TestApp) {
    let customer = customer_token(&app).await;
    let all_on = json!({ "tickets": true, "sla": true, "bookings": true, "features": true });
    assert_eq!(app.rpc(&customer, "my_email_preferences", "").await.json(), all_on);
    // unticked boxes are simply absent from the form
    let r = app.rpc(&customer, "save_my_email_preferences", "tickets=on&bookings=on").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let chosen = json!({ "tickets": true, "sla": false, "bookings": true, "features": false });
    assert_eq!(r.json(), chosen);
    assert_eq!(app.rpc(&customer, "my_email_preferences", "").await.json(), chosen);
    // the REST API sees the same choices; another user still has the defaults
    let r = app.send(call(Method::GET, "/api/v1/me/email-preferences").bearer(&customer)).await;
    assert_eq!(r.json(), chosen);
    let agent = agent_token(&app).await;
    assert_eq!(app.rpc(&agent, "my_email_preferences", "").await.json(), all_on);

    let r = app
        .send(
            call(Method::POST, "/rpc/save_my_email_preferences")
                .header("accept", "application/json")
                .raw(b"tickets=on", Some("application/x-www-form-urlencoded")),
        )
        .await;
    assert!(!r.status.is_success(), "{}", r.text);
}

both!(
    webhook_form_creates_and_lists,
    bad_webhook_forms_name_their_fields,
    discord_keeps_masks_and_removes_its_url,
    only_managers_reach_the_integrations,
    everyone_chooses_their_emails,
);
