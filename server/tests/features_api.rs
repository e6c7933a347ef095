#![recursion_limit = "256"]
//! Feature voting through the REST API on SQLite and PostgreSQL: posting,
//! validation, roles, idempotent votes, merges, races, notifications, tickets.

mod common;

use app::accounts::{Level, Profile, Role, Tier};
use common::{call, TestApp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

struct People {
    platinum: String,
    general: String,
    agent: String,
    manager: String,
}

async fn people(app: &TestApp) -> People {
    app.create_user("pat@example.com", Profile::customer(Tier::Platinum)).await;
    app.create_user("gen@example.com", Profile::customer(Tier::General)).await;
    app.create_user(
        "agent@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
    )
    .await;
    People {
        platinum: app.token("pat@example.com", "a long passphrase").await,
        general: app.token("gen@example.com", "a long passphrase").await,
        agent: app.token("agent@example.com", "a long passphrase").await,
        manager: app.manager_token().await,
    }
}

/// Many customers at once: written straight to the database with a session each
/// (no password hashing), returned as (user id, session id).
async fn crowd(app: &TestApp, n: usize, tier: Tier) -> Vec<(i64, String)> {
    let db = &app.state.services.db;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("voter{i}-{}@example.com", tier.as_str());
        let user = app::accounts::store::insert_user(&db.pool, &email, "Voter", "not-a-hash", &Profile::customer(tier))
            .await
            .unwrap();
        let session = app::accounts::service::start_session(db, user.id, None).await.unwrap();
        out.push((user.id, session));
    }
    out
}

async fn post_feature(app: &TestApp, token: &str, title: &str) -> Value {
    let r = app
        .send(
            call(Method::POST, "/api/v1/features")
                .bearer(token)
                .json(json!({ "title": title, "body": "It would help us a lot." })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn get(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app.send(call(Method::GET, &format!("/api/v1/features/{id}")).bearer(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

async fn vote(app: &TestApp, token: &str, id: i64, method: Method) -> common::TestResponse {
    app.send(call(method, &format!("/api/v1/features/{id}/vote")).bearer(token)).await
}

async fn patch_status(app: &TestApp, token: &str, id: i64, status: &str, note: &str) -> common::TestResponse {
    app.send(
        call(Method::PATCH, &format!("/api/v1/features/{id}"))
            .bearer(token)
            .json(json!({ "status": status, "note": note })),
    )
    .await
}

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql).bind(id).fetch_one(&app.state.services.db.pool).await.unwrap()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.state.services.db.pool).await.unwrap()
}

async fn post_list_and_read(app: TestApp) {
    let p = people(&app).await;
    let f = post_feature(&app, &p.platinum, "  Dark mode for the dashboard ").await;
    assert_eq!(f["title"], "Dark mode for the dashboard");
    assert_eq!(
        (f["status"].as_str(), f["votes"].as_i64(), f["platinum_votes"].as_i64()),
        (Some("open"), Some(1), Some(1))
    );
    assert_eq!((f["voted_by_me"].as_bool(), f["comments_count"].as_i64()), (Some(true), Some(0)));
    let id = id_of(&f);
    // another customer sees it without their vote; staff post without voting
    let seen = get(&app, &p.general, id).await;
    assert_eq!((seen["votes"].as_i64(), seen["voted_by_me"].as_bool()), (Some(1), Some(false)));
    let by_agent = post_feature(&app, &p.agent, "Scheduled CSV export").await;
    assert_eq!(by_agent["votes"], 0);

    // HTML is stored and returned as the text it is
    let html = "<img src=x onerror=alert(1)>";
    let r = app
        .send(call(Method::POST, "/api/v1/features").bearer(&p.general).json(json!({ "title": html, "body": html })))
        .await;
    assert_eq!(r.json()["title"], html);

    // lists: top by votes, new by id, filters, search, paging
    assert_eq!(vote(&app, &p.general, id, Method::PUT).await.json()["votes"], 2);
    let list = app.send(call(Method::GET, "/api/v1/features?sort=top").bearer(&p.general)).await.json();
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids[0], id, "most votes first: {ids:?}");
    assert_eq!(ids.len(), 3);
    let newest = app.send(call(Method::GET, "/api/v1/features?sort=new").bearer(&p.general)).await.json();
    assert_eq!(newest["items"][0]["title"], html);
    let found = app.send(call(Method::GET, "/api/v1/features?q=DARK").bearer(&p.general)).await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let page = app.send(call(Method::GET, "/api/v1/features?sort=new&limit=2").bearer(&p.general)).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .send(call(Method::GET, &format!("/api/v1/features?sort=new&limit=2&cursor={cursor}")).bearer(&p.general))
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let trending = app.send(call(Method::GET, "/api/v1/features?sort=trending").bearer(&p.general)).await.json();
    assert_eq!(trending["items"][0]["id"], id);
    assert!(trending["items"][0]["trending"].as_f64().unwrap() > 0.99);
    let similar =
        app.send(call(Method::GET, "/api/v1/features/similar?title=dark%20dashboard").bearer(&p.general)).await.json();
    assert_eq!(similar["items"][0]["id"], id);

    // not found and not signed in
    for path in ["/api/v1/features/999999", "/api/v1/features/abc", "/api/v1/features/-1"] {
        assert_eq!(app.send(call(Method::GET, path).bearer(&p.general)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(vote(&app, &p.general, 999_999, Method::PUT).await.status, StatusCode::NOT_FOUND);
}

/// The board is open to read, like Fider's and Canny's: a visitor sees requests, comments and the roadmap
/// (pages with their own titles and descriptions for sharing), and must sign in to take part.
async fn visitors_read_the_board_but_sign_in_to_take_part(app: TestApp) {
    let p = people(&app).await;
    let f = post_feature(&app, &p.general, "Dark mode for the dashboard").await;
    let id = id_of(&f);
    vote(&app, &p.platinum, id, Method::PUT).await;
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{id}/comments"))
                .bearer(&p.agent)
                .json(json!({ "body": "Noted." })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ticket = app
        .send(call(Method::POST, "/api/v1/tickets").bearer(&p.platinum).json(json!({
            "subject": "Export to Excel", "body": "Our finance team (ACME-7) needs xlsx.", "priority": "P4",
            "category": "feature_request"
        })))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let from_ticket = app
        .send(call(Method::POST, &format!("/api/v1/tickets/{ticket}/feature")).bearer(&p.agent).json(json!({
            "title": "Export to spreadsheets", "body": "Download ticket lists as xlsx."
        })))
        .await
        .json();

    let list = app.send(call(Method::GET, "/api/v1/features")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|f| f["voted_by_me"] == false && f["ticket_id"].is_null()), "{items:?}");
    let one = app.send(call(Method::GET, &format!("/api/v1/features/{id}"))).await;
    assert_eq!((one.status, one.json()["votes"].as_i64()), (StatusCode::OK, Some(2)));
    let seen = app.send(call(Method::GET, &format!("/api/v1/features/{}", id_of(&from_ticket)))).await.json();
    assert!(seen["ticket_id"].is_null() && !seen.to_string().contains("ACME"), "{seen}");
    let comments = app.send(call(Method::GET, &format!("/api/v1/features/{id}/comments"))).await;
    assert_eq!(comments.json()["items"][0]["body"], "Noted.");
    assert_eq!(app.send(call(Method::GET, "/api/v1/features/999999")).await.status, StatusCode::NOT_FOUND);

    // taking part needs an account
    let post = call(Method::POST, "/api/v1/features").json(json!({ "title": "Anonymous idea", "body": "b" }));
    assert_eq!(app.send(post).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.send(call(Method::PUT, &format!("/api/v1/features/{id}/vote"))).await.status,
        StatusCode::UNAUTHORIZED
    );
    let comment = call(Method::POST, &format!("/api/v1/features/{id}/comments")).json(json!({ "body": "hi" }));
    assert_eq!(app.send(comment).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM features").await, 2, "nothing written");

    // the pages render for a visitor, the request's with its own title and description in the head
    let board = app.send(call(Method::GET, "/features")).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.text.contains("Dark mode for the dashboard") && board.text.contains("Sign in to suggest a feature"));
    let page = app.send(call(Method::GET, &format!("/features/{id}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    let head = page.text.split("</head>").next().unwrap_or_default().to_string();
    assert!(head.contains("<title>Dark mode for the dashboard"), "{head}");
    assert!(head.contains(r#"property="og:title" content="Dark mode for the dashboard""#), "{head}");
    assert!(head.contains(r#"name="description" content="It would help us a lot.""#), "{head}");
    assert!(page.text.contains("Noted.") && page.text.contains("to vote for this request"));
    let roadmap = app.send(call(Method::GET, "/roadmap")).await;
    assert_eq!(roadmap.status, StatusCode::OK);
    assert!(roadmap.text.contains("Recently shipped"));
}

async fn bad_input_is_refused_with_field_names(app: TestApp) {
    let p = people(&app).await;
    let r = app
        .send(call(Method::POST, "/api/v1/features").bearer(&p.general).json(json!({ "title": " ", "body": "" })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &r.json()["error"]["fields"];
    assert!(fields["title"].is_string() && fields["body"].is_string(), "{fields}");
    let r = app
        .send(
            call(Method::POST, "/api/v1/features")
                .bearer(&p.general)
                .json(json!({ "title": "t".repeat(121), "body": "b" })),
        )
        .await;
    assert!(r.json()["error"]["fields"]["title"].as_str().unwrap().contains("120"));
    let r = app
        .send(call(Method::POST, "/api/v1/features").bearer(&p.general).json(json!({ "title": "x", "extra": 1 })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.send(call(Method::POST, "/api/v1/features").bearer(&p.general).raw(b"{", Some("application/json")))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    for bad in ["?sort=best", "?status=done", "?limit=0"] {
        let r = app.send(call(Method::GET, &format!("/api/v1/features{bad}")).bearer(&p.general)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let r = app.send(call(Method::GET, "/api/v1/features?sort=best").bearer(&p.general)).await;
    assert!(r.json()["error"]["fields"]["sort"].is_string());

    let id = id_of(&post_feature(&app, &p.general, "Webhook retries").await);
    let r = patch_status(&app, &p.agent, id, "finished", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["status"].is_string(), "{}", r.text);
    let r = app.send(call(Method::PATCH, &format!("/api/v1/features/{id}")).bearer(&p.agent).json(json!({}))).await;
    assert!(r.json()["error"]["fields"]["status"].is_string(), "{}", r.text);
    let r = patch_status(&app, &p.agent, id, "planned", &"n".repeat(2001)).await;
    assert!(r.json()["error"]["fields"]["note"].is_string(), "{}", r.text);
    // the same status again says so, unless it carries an update note
    let r = patch_status(&app, &p.agent, id, "open", "").await;
    assert!(r.json()["error"]["fields"]["status"].as_str().unwrap().contains("already"), "{}", r.text);
    let r = patch_status(&app, &p.agent, id, "open", "Still collecting feedback").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let path = format!("/api/v1/features/{id}/comments");
    let r = app.send(call(Method::POST, &path).bearer(&p.general).json(json!({ "body": "  " }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["body"].is_string());
    let r = app.send(call(Method::POST, &path).bearer(&p.platinum).json(json!({ "body": "<b>+1</b> from us" }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["body"], "<b>+1</b> from us");
    let comments = app.send(call(Method::GET, &path).bearer(&p.general)).await.json();
    assert_eq!(comments["items"].as_array().unwrap().len(), 1);
    assert_eq!(get(&app, &p.general, id).await["comments_count"], 1);
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{id}/merge"))
                .bearer(&p.manager)
                .json(json!({ "into_id": id })),
        )
        .await;
    assert!(r.json()["error"]["fields"]["into_id"].is_string(), "{}", r.text);
    let r = app
        .send(call(Method::POST, &format!("/api/v1/features/{id}/merge")).bearer(&p.manager).json(json!({ "into": 1 })))
        .await;
    assert!(r.json()["error"]["fields"]["into_id"].is_string(), "{}", r.text);
}

async fn roles_are_enforced(app: TestApp) {
    let p = people(&app).await;
    let a = id_of(&post_feature(&app, &p.general, "Dark mode").await);
    let b = id_of(&post_feature(&app, &p.platinum, "Night theme").await);
    let r = patch_status(&app, &p.general, a, "planned", "").await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let merge = |token: String| {
        let app = &app;
        async move {
            app.send(
                call(Method::POST, &format!("/api/v1/features/{b}/merge")).bearer(&token).json(json!({ "into_id": a })),
            )
            .await
        }
    };
    assert_eq!(merge(p.agent.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(merge(p.general.clone()).await.status, StatusCode::FORBIDDEN);
    let r = vote(&app, &p.agent, a, Method::PUT).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::FORBIDDEN, "customers_only"));
    assert_eq!(get(&app, &p.general, a).await["status"], "open");
    assert_eq!(merge(p.manager.clone()).await.status, StatusCode::OK);
}

async fn votes_are_idempotent_and_settled_requests_answer_clearly(app: TestApp) {
    let p = people(&app).await;
    let id = id_of(&post_feature(&app, &p.agent, "Keyboard shortcuts").await);
    for _ in 0..2 {
        let r = vote(&app, &p.general, id, Method::PUT).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!((r.json()["votes"].as_i64(), r.json()["voted_by_me"].as_bool()), (Some(1), Some(true)));
    }
    assert_eq!(vote(&app, &p.platinum, id, Method::PUT).await.json()["platinum_votes"], 1);
    for _ in 0..2 {
        let r = vote(&app, &p.general, id, Method::DELETE).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!((r.json()["votes"].as_i64(), r.json()["voted_by_me"].as_bool()), (Some(1), Some(false)));
    }
    // one event per real change, none for the repeats
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM events WHERE public = 1 ORDER BY id")
        .fetch_all(&app.state.services.db.pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["feature.created", "feature.voted", "feature.voted", "feature.voted"]);

    // declined and shipped requests take no new votes, but votes can be withdrawn
    assert_eq!(patch_status(&app, &p.agent, id, "declined", "Out of scope").await.status, StatusCode::OK);
    let r = vote(&app, &p.general, id, Method::PUT).await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "feature_declined"));
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("declined"));
    assert_eq!(vote(&app, &p.platinum, id, Method::DELETE).await.json()["votes"], 0);
    let shipped = id_of(&post_feature(&app, &p.agent, "Two-factor sign-in").await);
    patch_status(&app, &p.agent, shipped, "shipped", "Live now").await;
    assert_eq!(vote(&app, &p.general, shipped, Method::PUT).await.error_code(), "feature_shipped");

    // a merged request points to the kept one
    let a = id_of(&post_feature(&app, &p.agent, "Dark mode").await);
    let b = id_of(&post_feature(&app, &p.agent, "Night mode").await);
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{b}/merge")).bearer(&p.manager).json(json!({ "into_id": a })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for method in [Method::PUT, Method::DELETE] {
        let r = vote(&app, &p.general, b, method).await;
        assert_eq!((r.status, r.error_code().as_str()), (StatusCode::CONFLICT, "feature_merged"));
        assert!(r.json()["error"]["message"].as_str().unwrap().contains(&format!("#{a}")));
    }
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{b}/comments"))
                .bearer(&p.general)
                .json(json!({ "body": "hi" })),
        )
        .await;
    assert_eq!(r.error_code(), "feature_merged");
    assert_eq!(patch_status(&app, &p.agent, b, "planned", "").await.error_code(), "feature_merged");
}

async fn merging_combines_votes_once_and_moves_comments(app: TestApp) {
    let p = people(&app).await;
    let voters = crowd(&app, 5, Tier::General).await;
    let kept = id_of(&post_feature(&app, &p.agent, "Dark mode for the dashboard").await);
    let dup = id_of(&post_feature(&app, &p.agent, "Night theme").await);
    // kept: voters 0, 1, 2 and the platinum customer; duplicate: voters 2, 3, 4 and the platinum customer
    for (i, (_, session)) in voters.iter().enumerate() {
        if i <= 2 {
            assert_eq!(
                app.send(call(Method::PUT, &format!("/api/v1/features/{kept}/vote")).cookie(session)).await.status,
                StatusCode::OK
            );
        }
        if i >= 2 {
            assert_eq!(
                app.send(call(Method::PUT, &format!("/api/v1/features/{dup}/vote")).cookie(session)).await.status,
                StatusCode::OK
            );
        }
    }
    vote(&app, &p.platinum, kept, Method::PUT).await;
    vote(&app, &p.platinum, dup, Method::PUT).await;
    for body in ["First on the duplicate", "Second on the duplicate"] {
        app.send(
            call(Method::POST, &format!("/api/v1/features/{dup}/comments"))
                .bearer(&p.general)
                .json(json!({ "body": body })),
        )
        .await;
    }
    app.send(
        call(Method::POST, &format!("/api/v1/features/{kept}/comments"))
            .bearer(&p.general)
            .json(json!({ "body": "On the kept one" })),
    )
    .await;
    assert_eq!(
        (get(&app, &p.general, kept).await["votes"].as_i64(), get(&app, &p.general, dup).await["votes"].as_i64()),
        (Some(4), Some(4))
    );

    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{dup}/merge"))
                .bearer(&p.manager)
                .json(json!({ "into_id": kept })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let merged = r.json();
    // 4 + 4 − 2 people on both = 6
    assert_eq!(merged["id"], kept);
    assert_eq!((merged["votes"].as_i64(), merged["platinum_votes"].as_i64()), (Some(6), Some(1)));
    assert_eq!(merged["comments_count"], 3);
    assert_eq!(count(&app, "SELECT COUNT(DISTINCT user_id) FROM feature_votes WHERE feature_id = $1", kept).await, 6);
    let dup_now = get(&app, &p.general, dup).await;
    assert_eq!((dup_now["merged_into_id"].as_i64(), dup_now["votes"].as_i64()), (Some(kept), Some(0)));
    let comments =
        app.send(call(Method::GET, &format!("/api/v1/features/{kept}/comments")).bearer(&p.general)).await.json();
    let bodies: Vec<&str> = comments["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["First on the duplicate", "Second on the duplicate", "On the kept one"]);
    // merged requests leave the board; voters of the duplicate are told where their vote went
    let board = app.send(call(Method::GET, "/api/v1/features").bearer(&p.general)).await.json();
    assert!(board["items"].as_array().unwrap().iter().all(|f| f["id"] != dup));
    let told = count(
        &app,
        "SELECT COUNT(*) FROM notifications WHERE kind = 'feature.merged' AND link = '/features/' || $1",
        kept,
    )
    .await;
    assert_eq!(told, 4);
    // history on both sides
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM feature_history WHERE feature_id = $1 ORDER BY id")
        .bind(dup)
        .fetch_all(&app.state.services.db.pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["created", "merged_into"]);
    // merging again, or into a merged request, is a conflict
    let again = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{dup}/merge"))
                .bearer(&p.manager)
                .json(json!({ "into_id": kept })),
        )
        .await;
    assert_eq!((again.status, again.error_code().as_str()), (StatusCode::CONFLICT, "feature_merged"));
    let third = id_of(&post_feature(&app, &p.agent, "Dark theme again").await);
    let into_merged = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{third}/merge"))
                .bearer(&p.manager)
                .json(json!({ "into_id": dup })),
        )
        .await;
    assert_eq!(into_merged.status, StatusCode::CONFLICT);
    let missing = app
        .send(
            call(Method::POST, &format!("/api/v1/features/{third}/merge"))
                .bearer(&p.manager)
                .json(json!({ "into_id": 999_999 })),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_hundred_people_voting_at_once_make_a_hundred_votes(app: TestApp) {
    let p = people(&app).await;
    let id = id_of(&post_feature(&app, &p.agent, "Slack alerts").await);
    let voters = crowd(&app, 100, Tier::General).await;
    let tasks: Vec<_> = voters
        .into_iter()
        .map(|(_, session)| {
            let router = app.router.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let request = http::Request::builder()
                    .method(Method::PUT)
                    .uri(format!("/api/v1/features/{id}/vote"))
                    .header("host", "127.0.0.1:3000")
                    .header("cookie", format!("supportal_session={session}"))
                    .body(axum::body::Body::empty())
                    .unwrap();
                router.oneshot(request).await.unwrap().status()
            })
        })
        .collect();
    for status in futures::future::join_all(tasks).await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(get(&app, &p.general, id).await["votes"], 100);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM feature_votes WHERE feature_id = $1", id).await, 100);
}

async fn one_person_voting_twenty_times_at_once_is_one_vote(app: TestApp) {
    let p = people(&app).await;
    let id = id_of(&post_feature(&app, &p.agent, "Slack alerts").await);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let router = app.router.clone();
            let token = p.general.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let request = http::Request::builder()
                    .method(Method::PUT)
                    .uri(format!("/api/v1/features/{id}/vote"))
                    .header("host", "127.0.0.1:3000")
                    .header("authorization", format!("Bearer {token}"))
                    .body(axum::body::Body::empty())
                    .unwrap();
                router.oneshot(request).await.unwrap().status()
            })
        })
        .collect();
    for status in futures::future::join_all(tasks).await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(get(&app, &p.general, id).await["votes"], 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM feature_votes WHERE feature_id = $1", id).await, 1);
    let events = scalar(&app, "SELECT COUNT(*) FROM events WHERE kind = 'feature.voted'").await;
    assert_eq!(events, 1, "only the vote that counted was announced");
}

async fn voters_are_told_when_the_status_changes(app: TestApp) {
    let p = people(&app).await;
    let id = id_of(&post_feature(&app, &p.platinum, "Dark mode").await);
    vote(&app, &p.general, id, Method::PUT).await;
    let bystanders = crowd(&app, 2, Tier::General).await;
    let r = patch_status(&app, &p.agent, id, "planned", "Building it next month").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "planned");
    let rows: Vec<(i64, String, Option<String>)> = {
        use sqlx::Row;
        sqlx::query("SELECT user_id, text, link FROM notifications WHERE kind = 'feature.status' ORDER BY user_id")
            .fetch_all(&app.state.services.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("user_id"), r.get("text"), r.get("link")))
            .collect()
    };
    assert_eq!(rows.len(), 2, "the author (who voted) and the other voter: {rows:?}");
    for (_, text, link) in &rows {
        assert_eq!(text, "\"Dark mode\" is now planned: Building it next month");
        assert_eq!(link.as_deref(), Some(format!("/features/{id}").as_str()));
    }
    for (user, _) in bystanders {
        assert!(rows.iter().all(|r| r.0 != user));
    }
    // each notification reached its user's event stream as a personal event
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM events WHERE kind = 'notification.created' AND user_id IS NOT NULL").await,
        2
    );
    // the history keeps the public note
    let note: Option<String> =
        sqlx::query_scalar("SELECT note FROM feature_history WHERE feature_id = $1 AND kind = 'status'")
            .bind(id)
            .fetch_one(&app.state.services.db.pool)
            .await
            .unwrap();
    assert_eq!(note.as_deref(), Some("Building it next month"));
    // an update note without a new status tells nobody
    patch_status(&app, &p.agent, id, "planned", "Design review on Friday").await;
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM notifications WHERE kind = 'feature.status'").await, 2);
}

async fn a_ticket_becomes_a_feature_request(app: TestApp) {
    let p = people(&app).await;
    let open = |priority: &'static str, category: &'static str| {
        let app = &app;
        let token = p.general.clone();
        async move {
            app.send(call(Method::POST, "/api/v1/tickets").bearer(&token).json(json!({
                "subject": "Keyboard shortcuts for the ticket list", "body": "j/k to move would save clicks.",
                "priority": priority, "category": category
            })))
            .await
            .json()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let ticket = open("P4", "feature_request").await;
    let bug = open("P2", "bug").await;
    let path = format!("/api/v1/tickets/{ticket}/feature");
    let public =
        json!({ "title": "Keyboard navigation in the ticket list", "body": "Move through tickets with keys." });
    assert_eq!(
        app.send(call(Method::POST, &path).bearer(&p.general).json(public.clone())).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .send(call(Method::POST, &format!("/api/v1/tickets/{bug}/feature")).bearer(&p.agent).json(public.clone()))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["ticket"].is_string());
    assert_eq!(
        app.send(call(Method::POST, "/api/v1/tickets/999999/feature").bearer(&p.agent).json(public.clone()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // the ticket is private: its text is never copied, the public text must be given (and is checked)
    let r = app.send(call(Method::POST, &path).bearer(&p.agent).json(json!({ "title": "Keys" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["error"]["fields"]["body"].is_string(), "{}", r.text);
    let r = app.send(call(Method::POST, &path).bearer(&p.agent).json(json!({ "title": " ", "body": " " }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["error"]["fields"]["title"].is_string() && r.json()["error"]["fields"]["body"].is_string());
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM features WHERE ticket_id IS NOT NULL").await,
        0,
        "nothing half-written"
    );

    let r = app.send(call(Method::POST, &path).bearer(&p.agent).json(public.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let f = r.json();
    let id = id_of(&f);
    assert_eq!(
        (f["title"].as_str(), f["body"].as_str(), f["ticket_id"].as_i64(), f["votes"].as_i64()),
        (
            Some("Keyboard navigation in the ticket list"),
            Some("Move through tickets with keys."),
            Some(ticket),
            Some(1)
        )
    );
    let agent_id = app.send(call(Method::GET, "/api/v1/me").bearer(&p.agent)).await.json()["id"].as_i64();
    assert_eq!(f["author_id"].as_i64(), agent_id, "posted under the agent's name, not the customer's");
    assert_eq!(get(&app, &p.general, id).await["voted_by_me"], true, "the requester's vote was added");
    for customer in [&p.general, &p.platinum] {
        let seen = get(&app, customer, id).await;
        assert!(seen["ticket_id"].is_null(), "customers do not learn of the ticket: {seen}");
        assert!(!seen.to_string().contains("j/k to move"), "the private description stays private");
    }
    // nothing public names the ticket: the history and the public event
    let history = app.send(call(Method::GET, &format!("/api/v1/features/{id}")).bearer(&p.platinum)).await.text;
    assert!(!history.contains(&format!("#{ticket}")) && !history.contains("j/k"), "{history}");
    let (from_value, to_value): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT from_value, to_value FROM feature_history WHERE feature_id = $1 AND kind = 'from_ticket'",
    )
    .bind(id)
    .fetch_one(&app.state.services.db.pool)
    .await
    .unwrap();
    assert_eq!((from_value, to_value.as_deref()), (None, Some("open")));
    let payload: String = sqlx::query_scalar(
        "SELECT CAST(payload AS TEXT) FROM events WHERE kind = 'feature.created' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.state.services.db.pool)
    .await
    .unwrap();
    assert!(!payload.contains("ticket"), "{payload}");
    let again =
        app.send(call(Method::POST, &path).bearer(&p.agent).json(json!({ "title": "Other", "body": "b" }))).await;
    assert_eq!((again.status, again.error_code().as_str()), (StatusCode::CONFLICT, "already_converted"));
    let history: String =
        sqlx::query_scalar("SELECT to_value FROM ticket_history WHERE ticket_id = $1 AND kind = 'feature_request'")
            .bind(ticket)
            .fetch_one(&app.state.services.db.pool)
            .await
            .unwrap();
    assert_eq!(history, id.to_string());

    // a general P4 question can become one too
    let question = open("P4", "question").await;
    let r = app
        .send(
            call(Method::POST, &format!("/api/v1/tickets/{question}/feature"))
                .bearer(&p.agent)
                .json(json!({ "title": "Vim keys", "body": "hjkl everywhere" })),
        )
        .await;
    assert_eq!(r.json()["title"], "Vim keys");

    // shipping tells the requester in words about their ticket, once
    vote(&app, &p.platinum, id, Method::PUT).await;
    assert_eq!(patch_status(&app, &p.agent, id, "shipped", "Press ? for the list").await.status, StatusCode::OK);
    let texts: Vec<String> =
        sqlx::query_scalar("SELECT text FROM notifications WHERE kind = 'feature.status' AND user_id = (SELECT id FROM users WHERE email = 'gen@example.com')")
            .fetch_all(&app.state.services.db.pool)
            .await
            .unwrap();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&format!("ticket #{ticket}")) && texts[0].contains("shipped"), "{texts:?}");
    let platinum_told = scalar(&app, "SELECT COUNT(*) FROM notifications WHERE kind = 'feature.status' AND user_id = (SELECT id FROM users WHERE email = 'pat@example.com')").await;
    assert_eq!(platinum_told, 1);
}

async fn posting_is_rate_limited(app: TestApp) {
    let p = people(&app).await;
    for i in 0..10 {
        post_feature(&app, &p.general, &format!("Idea number {i}")).await;
    }
    let r = app
        .send(
            call(Method::POST, "/api/v1/features").bearer(&p.general).json(json!({ "title": "One more", "body": "b" })),
        )
        .await;
    assert_eq!((r.status, r.error_code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(r.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s > 0));
    // others are not affected; a repeat with the same Idempotency-Key returns the first answer
    let body = json!({ "title": "Platinum idea", "body": "b" });
    let a = app
        .send(
            call(Method::POST, "/api/v1/features")
                .bearer(&p.platinum)
                .header("idempotency-key", "f-1")
                .json(body.clone()),
        )
        .await;
    let b = app
        .send(call(Method::POST, "/api/v1/features").bearer(&p.platinum).header("idempotency-key", "f-1").json(body))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
}

async fn the_demo_has_requests_in_every_state(app: TestApp) {
    let db = &app.state.services.db;
    supportal::demo::seed(db).await.unwrap();
    supportal::demo::seed(db).await.unwrap();
    let token = app.token("platinum@demo.supportal.test", supportal::demo::DEMO_PASSWORD).await;
    let board = app.send(call(Method::GET, "/api/v1/features?limit=200").bearer(&token)).await.json();
    let items = board["items"].as_array().unwrap();
    let mut statuses: Vec<&str> = items.iter().map(|f| f["status"].as_str().unwrap()).collect();
    statuses.sort();
    statuses.dedup();
    assert_eq!(statuses, ["declined", "in_progress", "open", "planned", "shipped", "under_review"]);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM features WHERE merged_into_id IS NOT NULL").await, 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM features WHERE ticket_id IS NOT NULL").await, 1);
    assert!(items
        .iter()
        .any(|f| f["comments_count"].as_i64().unwrap() > 0 && f["platinum_votes"].as_i64().unwrap() > 0));
    // top and trending disagree: old popularity is not trending
    let first = |sort: &str| {
        let app = &app;
        let token = token.clone();
        let sort = sort.to_string();
        async move {
            app.send(call(Method::GET, &format!("/api/v1/features?sort={sort}")).bearer(&token)).await.json()["items"]
                [0]["id"]
                .as_i64()
                .unwrap()
        }
    };
    assert_ne!(first("top").await, first("trending").await);
    let roadmap_rows =
        scalar(&app, "SELECT COUNT(*) FROM features WHERE status IN ('planned', 'in_progress', 'shipped')").await;
    assert!(roadmap_rows >= 3);
    // the voters were told about status changes
    assert!(scalar(&app, "SELECT COUNT(*) FROM notifications WHERE kind = 'feature.status'").await > 0);
}

both!(
    the_demo_has_requests_in_every_state,
    post_list_and_read,
    visitors_read_the_board_but_sign_in_to_take_part,
    bad_input_is_refused_with_field_names,
    roles_are_enforced,
    votes_are_idempotent_and_settled_requests_answer_clearly,
    merging_combines_votes_once_and_moves_comments,
    a_hundred_people_voting_at_once_make_a_hundred_votes,
    one_person_voting_twenty_times_at_once_is_one_vote,
    voters_are_told_when_the_status_changes,
    a_ticket_becomes_a_feature_request,
    posting_is_rate_limited,
);
