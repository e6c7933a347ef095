#![recursion_limit = "256"]
//! Accounts through the REST API, on SQLite and PostgreSQL.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::json;

async fn register_sign_in_sign_out(app: TestApp) {
    let user = app.register("Ana@Example.com", "Ana Lopez").await;
    assert_eq!(user["email"], "ana@example.com");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["tier"], "general");
    assert_eq!(user["level"], serde_json::Value::Null);
    assert_eq!(user["takes_calls"], false);
    assert!(user.get("password_hash").is_none());

    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/session")
                .json(json!({ "email": "ana@example.com", "password": "a long passphrase" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let set_cookie = r.header("set-cookie").unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let session = r.session_cookie().unwrap();
    assert_eq!(session.len(), 32, "128-bit id as hex");

    let me = app.send(call(Method::GET, "/api/v1/me").cookie(&session)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["name"], "Ana Lopez");

    let out = app.send(call(Method::DELETE, "/api/v1/auth/session").cookie(&session)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = app.send(call(Method::GET, "/api/v1/me").cookie(&session)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.error_code(), "unauthorized");
}

async fn wrong_password_and_unknown_email_look_the_same(app: TestApp) {
    app.register("kim@example.com", "Kim").await;
    let wrong = app
        .send(
            call(Method::POST, "/api/v1/auth/session")
                .json(json!({ "email": "kim@example.com", "password": "not the password" })),
        )
        .await;
    let unknown = app
        .send(
            call(Method::POST, "/api/v1/auth/session")
                .json(json!({ "email": "nobody@example.com", "password": "not the password" })),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.error_code(), "invalid_credentials");
}

async fn token_auth_list_and_revoke(app: TestApp) {
    app.register("dev@example.com", "Dev").await;
    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/tokens")
                .json(json!({ "email": "dev@example.com", "password": "a long passphrase", "label": "CI" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let body = r.json();
    let token = body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("sp_") && token.len() == 67);
    assert_eq!(body["user"]["email"], "dev@example.com");

    let me = app.send(call(Method::GET, "/api/v1/me").bearer(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], "dev@example.com");

    let list = app.send(call(Method::GET, "/api/v1/auth/tokens").bearer(&token)).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["label"], "CI");
    assert!(!list.to_string().contains(&token), "the secret is never listed");
    let id = items[0]["id"].as_i64().unwrap();

    // someone else cannot revoke it
    app.register("other@example.com", "Other").await;
    let other = app.token("other@example.com", "a long passphrase").await;
    let r = app.send(call(Method::DELETE, &format!("/api/v1/auth/tokens/{id}")).bearer(&other)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app.send(call(Method::DELETE, &format!("/api/v1/auth/tokens/{id}")).bearer(&token)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let me = app.send(call(Method::GET, "/api/v1/me").bearer(&token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let garbage = app.send(call(Method::GET, "/api/v1/me").bearer("sp_not-a-real-token")).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);

    let bad = app
        .send(
            call(Method::POST, "/api/v1/auth/tokens")
                .json(json!({ "email": "dev@example.com", "password": "wrong password!", "label": "x" })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let no_label = app
        .send(
            call(Method::POST, "/api/v1/auth/tokens")
                .json(json!({ "email": "dev@example.com", "password": "a long passphrase", "label": "  " })),
        )
        .await;
    assert_eq!(no_label.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_label.json()["error"]["fields"]["label"].is_string());
}

async fn unauthorized_versus_forbidden(app: TestApp) {
    let r = app.send(call(Method::GET, "/api/v1/me")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.send(call(Method::GET, "/api/v1/users")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let customer = app.register("cu@example.com", "Cu").await;
    let token = app.token("cu@example.com", "a long passphrase").await;
    for (method, path, body) in [
        (Method::GET, "/api/v1/users".to_string(), None),
        (Method::GET, format!("/api/v1/users/{}", customer["id"]), None),
        (Method::PATCH, format!("/api/v1/users/{}", customer["id"]), Some(json!({ "tier": "platinum" }))),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            Some(json!({ "email": "x@example.com", "password": "a long passphrase", "name": "X" })),
        ),
    ] {
        let mut c = call(method.clone(), &path).bearer(&token);
        if let Some(b) = body {
            c = c.json(b);
        }
        let r = app.send(c).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.text);
        assert_eq!(r.error_code(), "forbidden");
    }
    // an agent is not a manager either
    app.create_user(
        "agent@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
    )
    .await;
    let agent = app.token("agent@example.com", "a long passphrase").await;
    assert_eq!(app.send(call(Method::GET, "/api/v1/users").bearer(&agent)).await.status, StatusCode::FORBIDDEN);
}

async fn bad_input_gets_clear_errors(app: TestApp) {
    let r = app.send(call(Method::POST, "/api/v1/auth/register").raw(b"{\"email\": ", Some("application/json"))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "malformed_json");

    let r = app
        .send(call(Method::POST, "/api/v1/auth/register").raw(b"email=a", Some("application/x-www-form-urlencoded")))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.error_code(), "unsupported_media_type");

    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/register")
                .json(json!({ "email": "a@example.com", "password": "short", "name": "A" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_code(), "validation_failed");
    assert!(r.json()["error"]["fields"]["password"].as_str().unwrap().contains("10 characters"));

    let r = app
        .send(call(Method::POST, "/api/v1/auth/register").json(json!({ "email": "nope", "password": "x", "name": "" })))
        .await;
    let fields = &r.json()["error"]["fields"];
    assert!(fields["email"].is_string() && fields["password"].is_string() && fields["name"].is_string(), "{fields}");

    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/register")
                .json(json!({ "email": "a@example.com", "password": "a long passphrase" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("name"));

    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/register").json(
                json!({ "email": "a@example.com", "password": "a long passphrase", "name": "A", "role": "admin" }),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused, not ignored");

    app.register("dup@example.com", "Dup").await;
    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/register")
                .json(json!({ "email": "DUP@example.com", "password": "a long passphrase", "name": "Dup" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error_code(), "email_taken");
    assert!(r.json()["error"]["fields"]["email"].is_string());

    let big = json!({ "email": "big@example.com", "password": "a long passphrase", "name": "x".repeat(100 * 1024) });
    let r = app.send(call(Method::POST, "/api/v1/auth/register").json(big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error_code(), "payload_too_large");

    let r = app.send(call(Method::GET, "/api/v1/no/such/thing")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "not_found");

    // nothing half-written: only the one successful registration exists
    assert_eq!(app::accounts::store::count_users(&app.state.services.db).await.unwrap(), 1);
}

async fn session_rotates_at_sign_in(app: TestApp) {
    app.register("rot@example.com", "Rot").await;
    let first = app.sign_in("rot@example.com", "a long passphrase").await;
    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/session")
                .cookie(&first)
                .json(json!({ "email": "rot@example.com", "password": "a long passphrase" })),
        )
        .await;
    let second = r.session_cookie().unwrap();
    assert_ne!(first, second);
    assert_eq!(app.send(call(Method::GET, "/api/v1/me").cookie(&first)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(call(Method::GET, "/api/v1/me").cookie(&second)).await.status, StatusCode::OK);
}

async fn sign_in_is_rate_limited_without_locking_out_the_owner(app: TestApp) {
    app.register("victim@example.com", "Victim").await;
    let attacker = [203, 0, 113, 9];
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            app.send(
                call(Method::POST, "/api/v1/auth/session")
                    .with_ip(attacker)
                    .json(json!({ "email": "victim@example.com", "password": "guess guess guess" })),
            )
            .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(last.error_code(), "rate_limited");
    let retry: u64 = last.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // the owner, from their own address, still gets in
    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/session")
                .with_ip([198, 51, 100, 7])
                .json(json!({ "email": "victim@example.com", "password": "a long passphrase" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn registration_is_rate_limited_per_address(app: TestApp) {
    let ip = [192, 0, 2, 1];
    for i in 0..10 {
        let r = app
            .send(
                call(Method::POST, "/api/v1/auth/register").with_ip(ip).json(
                    json!({ "email": format!("r{i}@example.com"), "password": "a long passphrase", "name": "R" }),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = app
        .send(
            call(Method::POST, "/api/v1/auth/register")
                .with_ip(ip)
                .json(json!({ "email": "r10@example.com", "password": "a long passphrase", "name": "R" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
}

async fn managers_set_tier_role_level_and_calls(app: TestApp) {
    let boss = app.manager_token().await;
    let customer = app.register("up@example.com", "Up").await;
    let id = customer["id"].as_i64().unwrap();

    let r = app
        .send(call(Method::PATCH, &format!("/api/v1/users/{id}")).bearer(&boss).json(json!({ "tier": "platinum" })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["tier"], "platinum");

    let r = app
        .send(
            call(Method::PATCH, &format!("/api/v1/users/{id}"))
                .bearer(&boss)
                .json(json!({ "role": "agent", "level": "L2", "takes_calls": true })),
        )
        .await;
    let agent = r.json();
    assert_eq!(
        (agent["role"].clone(), agent["tier"].clone(), agent["level"].clone(), agent["takes_calls"].clone()),
        (json!("agent"), json!(null), json!("L2"), json!(true))
    );

    for (body, field) in [
        (json!({ "level": "L4" }), "level"),
        (json!({ "tier": "platinum" }), "tier"),
        (json!({ "role": "customer", "level": "L1" }), "level"),
    ] {
        let r = app.send(call(Method::PATCH, &format!("/api/v1/users/{id}")).bearer(&boss).json(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.text);
    }
    let r = app
        .send(call(Method::PATCH, &format!("/api/v1/users/{id}")).bearer(&boss).json(json!({ "level": "L9" })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(call(Method::PATCH, &format!("/api/v1/users/{id}")).bearer(&boss).json(json!({ "tierr": "platinum" })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // managers cannot mint admins
    let r = app
        .send(call(Method::PATCH, &format!("/api/v1/users/{id}")).bearer(&boss).json(json!({ "role": "admin" })))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r =
        app.send(call(Method::PATCH, "/api/v1/users/999999").bearer(&boss).json(json!({ "tier": "general" }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.send(call(Method::PATCH, "/api/v1/users/abc").bearer(&boss).json(json!({ "tier": "general" }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // create an L1 agent directly
    let r = app
        .send(call(Method::POST, "/api/v1/users").bearer(&boss).json(json!({
            "email": "new.agent@example.com", "password": "a long passphrase", "name": "New Agent", "role": "agent", "level": "L1"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["level"], "L1");
    let stored = app::accounts::store::user_by_id(&app.state.services.db, r.json()["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, Role::Agent);
}

async fn users_are_paginated_with_a_cursor(app: TestApp) {
    let boss = app.manager_token().await;
    for i in 0..5 {
        app.create_user(&format!("c{i}@example.com"), Profile::customer(Tier::General)).await;
    }
    let first = app.send(call(Method::GET, "/api/v1/users?limit=4").bearer(&boss)).await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second =
        app.send(call(Method::GET, &format!("/api/v1/users?limit=4&cursor={cursor}")).bearer(&boss)).await.json();
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
    let mut emails: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 6, "every user exactly once");

    let filtered = app.send(call(Method::GET, "/api/v1/users?role=manager").bearer(&boss)).await.json();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let searched = app.send(call(Method::GET, "/api/v1/users?q=C3%40").bearer(&boss)).await.json();
    assert_eq!(searched["items"][0]["email"], "c3@example.com");
    for bad in [
        "/api/v1/users?limit=0",
        "/api/v1/users?limit=201",
        "/api/v1/users?limit=x",
        "/api/v1/users?cursor=abc",
        "/api/v1/users?role=boss",
    ] {
        let r = app.send(call(Method::GET, bad).bearer(&boss)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

async fn cross_site_writes_are_refused(app: TestApp) {
    let body = json!({ "email": "csrf@example.com", "password": "a long passphrase", "name": "C" });
    let r = app
        .send(call(Method::POST, "/api/v1/auth/register").header("origin", "https://evil.example").json(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "cross_origin_request");
    let r = app.send(call(Method::POST, "/rpc/sign_out").header("sec-fetch-site", "cross-site")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(call(Method::POST, "/api/v1/auth/register").header("origin", "http://127.0.0.1:3000").json(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

async fn idempotency_key_replays_the_first_response(app: TestApp) {
    let body = json!({ "email": "once@example.com", "password": "a long passphrase", "name": "Once" });
    let first =
        app.send(call(Method::POST, "/api/v1/auth/register").header("idempotency-key", "k-1").json(body.clone())).await;
    let again = app.send(call(Method::POST, "/api/v1/auth/register").header("idempotency-key", "k-1").json(body)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(first.json(), again.json());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let other = json!({ "email": "twice@example.com", "password": "a long passphrase", "name": "Twice" });
    let r = app.send(call(Method::POST, "/api/v1/auth/register").header("idempotency-key", "k-1").json(other)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_code(), "idempotency_key_reused");
    assert_eq!(app::accounts::store::count_users(&app.state.services.db).await.unwrap(), 1);
}

async fn first_start_admin_is_created_once(app: TestApp) {
    let db = &app.state.services.db;
    let weak = app::accounts::service::ensure_admin(db, "root@example.com", "short").await.unwrap_err();
    assert!(weak.starts_with("SUPPORTAL_ADMIN_PASSWORD"), "{weak}");
    assert!(app::accounts::service::ensure_admin(db, "root@example.com", "a long passphrase").await.unwrap());
    assert!(!app::accounts::service::ensure_admin(db, "root2@example.com", "a long passphrase").await.unwrap());
    let token = app.token("root@example.com", "a long passphrase").await;
    let me = app.send(call(Method::GET, "/api/v1/me").bearer(&token)).await.json();
    assert_eq!(me["role"], "admin");
}

async fn demo_seed_creates_each_role_once(app: TestApp) {
    let db = &app.state.services.db;
    assert_eq!(supportal::demo::seed(db).await.unwrap(), 5);
    assert_eq!(supportal::demo::seed(db).await.unwrap(), 0);
    let token = app.token("l2@demo.supportal.test", supportal::demo::DEMO_PASSWORD).await;
    let me = app.send(call(Method::GET, "/api/v1/me").bearer(&token)).await.json();
    assert_eq!(
        (me["role"].as_str(), me["level"].as_str(), me["takes_calls"].as_bool()),
        (Some("agent"), Some("L2"), Some(true))
    );
    let token = app.token("platinum@demo.supportal.test", supportal::demo::DEMO_PASSWORD).await;
    assert_eq!(app.send(call(Method::GET, "/api/v1/me").bearer(&token)).await.json()["tier"], "platinum");
    // demo tickets in different states, seeded once
    let mine = app.send(call(Method::GET, "/api/v1/tickets").bearer(&token)).await.json();
    let states: Vec<(String, String)> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (t["status"].as_str().unwrap().to_string(), t["sla"]["resolution"]["state"].as_str().unwrap().to_string())
        })
        .collect();
    // The three demo tickets still running (the history adds a few recent ones), and a month of resolved history
    // for the metrics, some of it resolved late.
    assert!(states.iter().filter(|(status, _)| status != "resolved").count() >= 3, "{states:?}");
    assert!(states.contains(&("new".into(), "on_track".into())), "{states:?}");
    assert!(states.contains(&("pending_customer".into(), "paused".into())), "{states:?}");
    assert!(states.contains(&("resolved".into(), "met".into())), "{states:?}");
    assert!(states.contains(&("resolved".into(), "breached".into())), "{states:?}");
    let general = app.token("general@demo.supportal.test", supportal::demo::DEMO_PASSWORD).await;
    let theirs = app.send(call(Method::GET, "/api/v1/tickets").bearer(&general)).await.json();
    let statuses: Vec<&str> =
        theirs["items"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"resolved"), "{statuses:?}");
    assert!(theirs["items"].as_array().unwrap().iter().any(|t| t["level"] == "L2"));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&db.pool).await.unwrap();
    supportal::demo::seed(db).await.unwrap();
    let again: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&db.pool).await.unwrap();
    // Five support tickets, one P4 feature-request ticket turned into a feature request, six running ones from
    // the community for the queue, 40 of metrics history and two that came from Discord; a second seeding adds
    // none.
    assert_eq!((count, again), (54, 54));
}

/// The sign-in form (a server function) counts attempts per client address like the API does: one address
/// that exhausts its budget does not lock the same account out for everyone else.
async fn the_sign_in_form_limits_per_address(app: TestApp) {
    app.register("ada@example.com", "Ada").await;
    let attempt = |ip: [u8; 4]| {
        call(Method::POST, "/rpc/sign_in")
            .with_ip(ip)
            .header("origin", "http://127.0.0.1:3000")
            .header("accept", "application/json")
            .raw(b"email=ada%40example.com&password=wrong+guess+here", Some("application/x-www-form-urlencoded"))
    };
    let mut limited = false;
    for _ in 0..60 {
        let r = app.send(attempt([203, 0, 113, 7])).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    assert!(limited, "the form's sign-in attempts are never limited");
    let elsewhere = app.send(attempt([198, 51, 100, 9])).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED, "{}", elsewhere.text);
}

both!(
    the_sign_in_form_limits_per_address,
    register_sign_in_sign_out,
    wrong_password_and_unknown_email_look_the_same,
    token_auth_list_and_revoke,
    unauthorized_versus_forbidden,
    bad_input_gets_clear_errors,
    session_rotates_at_sign_in,
    sign_in_is_rate_limited_without_locking_out_the_owner,
    registration_is_rate_limited_per_address,
    managers_set_tier_role_level_and_calls,
    users_are_paginated_with_a_cursor,
    cross_site_writes_are_refused,
    idempotency_key_replays_the_first_response,
    first_start_admin_is_created_once,
    demo_seed_creates_each_role_once,
);
