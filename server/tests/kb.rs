#![recursion_limit = "256"]
//! Knowledge base: search ranking and highlighting, hostile queries, suggestions,
//! drafts, roles, validation, conflicts, helpful votes and sanitised Markdown,
//! on SQLite and PostgreSQL.

mod common;

use app::accounts::{Level, Profile, Role};
use app::kb::encode_query_value as enc;
use common::{call, TestApp, TestResponse};
use http::{Method, StatusCode};
use serde_json::{json, Value};

struct People {
    manager: String,
    agent: String,
    customer: String,
    other_customer: String,
}

async fn people(app: &TestApp) -> People {
    let manager = app.manager_token().await;
    app.create_user(
        "agent@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false },
    )
    .await;
    let agent = app.token("agent@example.com", "a long passphrase").await;
    app.register("cara@example.com", "Cara Customer").await;
    let customer = app.token("cara@example.com", "a long passphrase").await;
    app.register("otto@example.com", "Otto Other").await;
    let other_customer = app.token("otto@example.com", "a long passphrase").await;
    People { manager, agent, customer, other_customer }
}

async fn write(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.send(call(Method::POST, "/api/v1/articles").bearer(token).json(body)).await
}

async fn article(app: &TestApp, token: &str, title: &str, category: &str, body: &str) -> Value {
    let r =
        write(app, token, json!({ "title": title, "category": category, "body_md": body, "published": true })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()
}

async fn search(app: &TestApp, token: Option<&str>, query: &str) -> Vec<Value> {
    let mut c = call(Method::GET, &format!("/api/v1/articles?{query}"));
    if let Some(t) = token {
        c = c.bearer(t);
    }
    let r = app.send(c).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

fn slugs(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["slug"].as_str().unwrap_or_default().to_string()).collect()
}

/// Every tag in some HTML (escaped text holds no `<`).
fn tags(html: &str) -> Vec<String> {
    html.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default().to_lowercase()).collect()
}

async fn search_ranks_and_highlights(app: TestApp) {
    let p = people(&app).await;
    article(
        &app,
        &p.manager,
        "Webhook signatures explained",
        "advanced-topics",
        "How to verify each delivery you receive.",
    )
    .await;
    article(
        &app,
        &p.agent,
        "Delivery log",
        "troubleshooting",
        "The log lists every webhook delivery, one line per webhook.",
    )
    .await;
    article(&app, &p.agent, "Unrelated topic", "getting-started", "Nothing to see about deliveries here.").await;
    let items = search(&app, None, "q=webhook").await;
    assert_eq!(slugs(&items), ["webhook-signatures-explained", "delivery-log"], "a title match ranks first");
    assert_eq!(items[0]["title_html"], "<mark>Webhook</mark> signatures explained");
    let snippet = items[1]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>webhook</mark>"), "{snippet}");
    for field in ["id", "slug", "title", "category", "snippet", "updated_at", "helpful_yes", "helpful_no"] {
        assert!(!items[0][field].is_null(), "{field} missing: {}", items[0]);
    }

    // More mentions of the word rank higher among body matches.
    article(
        &app,
        &p.agent,
        "Retry timing",
        "advanced-topics",
        "Backoff grows: the first backoff is short, each next backoff doubles.",
    )
    .await;
    article(
        &app,
        &p.agent,
        "Outages",
        "troubleshooting",
        "During outages we wait with backoff before trying again later.",
    )
    .await;
    assert_eq!(slugs(&search(&app, None, "q=backoff").await), ["retry-timing", "outages"]);

    // Matched words are marked only after the text is escaped.
    article(
        &app,
        &p.agent,
        "Pasting <b>markup</b> & webhooks",
        "troubleshooting",
        "Never paste `<script>alert(1)</script>` into the callback field.",
    )
    .await;
    let items = search(&app, None, "q=callback").await;
    assert_eq!(slugs(&items), ["pasting-b-markup-b-webhooks"]);
    let snippet = items[0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>callback</mark>"), "{snippet}");
    assert!(snippet.contains("&lt;script&gt;") && !snippet.contains("<script"), "{snippet}");
    let items = search(&app, None, "q=markup").await;
    assert_eq!(items[0]["title_html"], "Pasting &lt;b&gt;<mark>markup</mark>&lt;/b&gt; &amp; webhooks");
    for item in search(&app, None, "q=script%20alert").await {
        for tag in tags(item["snippet"].as_str().unwrap()).into_iter().chain(tags(item["title_html"].as_str().unwrap()))
        {
            assert!(tag == "mark" || tag == "/mark", "only <mark> tags: <{tag}>");
        }
    }

    // Without words: most recently updated first; a category narrows it.
    let all = search(&app, None, "").await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[0]["slug"], "pasting-b-markup-b-webhooks");
    assert!(!all[0]["snippet"].as_str().unwrap().contains("<mark>"));
    let troubleshooting = search(&app, None, "category=troubleshooting").await;
    assert_eq!(slugs(&troubleshooting), ["pasting-b-markup-b-webhooks", "outages", "delivery-log"]);
    assert_eq!(
        slugs(&search(&app, None, "q=webhook&category=troubleshooting").await),
        ["pasting-b-markup-b-webhooks", "delivery-log"]
    );
    let r = app.send(call(Method::GET, "/api/v1/articles?category=recipes")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["category"].is_string());

    // Every word must appear; when no article has them all, any of them will do.
    assert_eq!(slugs(&search(&app, None, "q=webhook%20signatures").await), ["webhook-signatures-explained"]);
    let any = slugs(&search(&app, None, "q=signatures%20outages").await);
    assert!(any.contains(&"webhook-signatures-explained".into()) && any.contains(&"outages".into()), "{any:?}");

    // Paging: the cursor is an offset.
    let r = app.send(call(Method::GET, "/api/v1/articles?limit=4")).await;
    let next = r.json()["next_cursor"].as_str().unwrap().to_string();
    let rest = search(&app, None, &format!("limit=4&cursor={next}")).await;
    assert_eq!(rest.len(), 2);
}

async fn hostile_queries_answer_200(app: TestApp) {
    let p = people(&app).await;
    article(&app, &p.manager, "Webhooks and retries", "advanced-topics", "Retries use exponential backoff.").await;
    let long = "webhook ".repeat(100);
    let hostile = [
        "\"",
        "*",
        "AND(",
        "-foo",
        "NEAR(",
        "a:b",
        "^",
        ")",
        "OR",
        "NOT",
        "\"\"\"\"",
        "webhook\"",
        "web*hook",
        "'",
        "\\",
        "%",
        "%%",
        "_",
        "title:webhook",
        "{title}: x",
        "日本語",
        "café crème",
        "🙂",
        "AND OR NOT",
        "webhook AND(",
        "-",
        "--",
        "((((",
        "webhook -retries",
        "+webhook",
        "webhook:*",
        "!webhook",
        "& |",
        "<script>",
        &long,
    ];
    for q in hostile {
        let r = app.send(call(Method::GET, &format!("/api/v1/articles?q={}", enc(q)))).await;
        assert_eq!(r.status, StatusCode::OK, "{q:?}: {}", r.text);
        assert!(r.json()["items"].is_array(), "{q:?}");
        let r = app.send(call(Method::GET, &format!("/rpc/kb_suggest?text={}", enc(q)))).await;
        assert_eq!(r.status, StatusCode::OK, "suggest {q:?}: {}", r.text);
        let r = app.send(call(Method::GET, &format!("/kb?q={}", enc(q)))).await;
        assert_eq!(r.status, StatusCode::OK, "page {q:?}");
    }
    // Control characters are refused like in every other text field (422 naming it), never a 500.
    for q in ["\u{0}", "\u{2}x\u{3}"] {
        let r = app.send(call(Method::GET, &format!("/api/v1/articles?q={}", enc(q)))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q:?}: {}", r.text);
        assert!(r.json()["error"]["fields"]["q"].is_string(), "{q:?}: {}", r.text);
        let r = app.send(call(Method::GET, &format!("/rpc/kb_suggest?text={}", enc(q)))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "suggest {q:?}: {}", r.text);
        assert!(r.json()["fields"]["text"].is_string(), "suggest {q:?}: {}", r.text);
        let r = app.send(call(Method::GET, &format!("/kb?q={}", enc(q)))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "page {q:?}");
    }
    for slug in ["%00", "a%00b", "..%2F..", "%E2%80%AE", "NEW", "x%20y"] {
        let r = app.send(call(Method::GET, &format!("/api/v1/articles/{slug}"))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{slug}: {}", r.text);
        let r = app
            .send(call(Method::POST, &format!("/api/v1/articles/{slug}/helpful")).json(json!({ "helpful": true })))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{slug}: {}", r.text);
    }
    // Hostile punctuation around a real word still finds it.
    for q in ["webhook\"", "web*hook", "\"webhooks\"", "-webhooks", "webhooks AND(", "title:webhooks"] {
        assert!(!search(&app, None, &format!("q={}", enc(q))).await.is_empty() || q == "web*hook", "{q:?}");
    }
}

async fn suggestions_match_while_typing(app: TestApp) {
    let p = people(&app).await;
    article(
        &app,
        &p.manager,
        "Troubleshooting notifications and webhooks",
        "troubleshooting",
        "Deliveries are retried with exponential backoff.",
    )
    .await;
    article(&app, &p.manager, "Exporting tickets (CSV)", "advanced-topics", "Managers export tickets as CSV.").await;
    let draft = json!({ "title": "Webhook secrets rotation", "category": "advanced-topics", "body_md": "Draft.", "published": false });
    assert_eq!(write(&app, &p.manager, draft).await.status, StatusCode::CREATED);

    // Prefix: the last word matches while it is being typed.
    assert_eq!(slugs(&search(&app, None, "q=webho").await), ["troubleshooting-notifications-and-webhooks"]);
    let suggest = |text: &str| call(Method::GET, &format!("/rpc/kb_suggest?text={}", enc(text)));
    let r = app.send(suggest("webho")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(slugs(list), ["troubleshooting-notifications-and-webhooks"], "drafts are never suggested");
    assert!(list[0]["title_html"].as_str().unwrap().contains("<mark>webhooks</mark>"), "{}", list[0]);
    // A whole ticket subject: any of its words.
    let r = app.send(suggest("My webhook deliveries keep failing")).await;
    assert_eq!(slugs(r.json().as_array().unwrap()), ["troubleshooting-notifications-and-webhooks"]);
    let r = app.send(suggest("csv export please")).await;
    assert_eq!(slugs(r.json().as_array().unwrap()), ["exporting-tickets-csv"]);
    // Fewer than three characters: nothing yet.
    assert_eq!(app.send(suggest("we")).await.json(), json!([]));
    assert_eq!(app.send(suggest("zzzzqqq")).await.json(), json!([]));
}

async fn drafts_are_for_staff(app: TestApp) {
    let p = people(&app).await;
    let draft = json!({ "title": "Unreleased calls feature", "category": "feature-guides", "body_md": "Secret plans.", "published": false });
    let r = write(&app, &p.agent, draft).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["published"], false);
    let slug = "unreleased-calls-feature";
    article(&app, &p.agent, "Released calls feature", "feature-guides", "Public plans.").await;

    for token in [None, Some(p.customer.as_str())] {
        assert_eq!(slugs(&search(&app, token, "").await), ["released-calls-feature"]);
        assert_eq!(slugs(&search(&app, token, "include_drafts=1").await), ["released-calls-feature"]);
        assert_eq!(slugs(&search(&app, token, "q=plans&include_drafts=1").await), ["released-calls-feature"]);
        let mut c = call(Method::GET, &format!("/api/v1/articles/{slug}"));
        if let Some(t) = token {
            c = c.bearer(t);
        }
        let r = app.send(c).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
    }
    let r = app
        .send(call(Method::POST, &format!("/api/v1/articles/{slug}/helpful")).json(json!({ "helpful": true })))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let session = app.sign_in("cara@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, &format!("/kb/{slug}")).cookie(&session)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text.contains("Secret plans"));

    // Staff see drafts when they ask, and the Markdown source.
    assert_eq!(search(&app, Some(&p.agent), "").await.len(), 1);
    assert_eq!(search(&app, Some(&p.agent), "include_drafts=1").await.len(), 2);
    assert_eq!(slugs(&search(&app, Some(&p.manager), "q=secret&include_drafts=1").await), [slug]);
    let r = app.send(call(Method::GET, &format!("/api/v1/articles/{slug}")).bearer(&p.agent)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["body_md"], "Secret plans.");
    let r = app.send(call(Method::GET, "/api/v1/articles/released-calls-feature").bearer(&p.customer)).await;
    assert!(r.json().get("body_md").is_none(), "customers get the HTML only: {}", r.text);
    assert_eq!(r.json()["body_html"], "<p>Public plans.</p>\n");
}

async fn only_staff_write(app: TestApp) {
    let p = people(&app).await;
    let body =
        json!({ "title": "Customer article", "category": "getting-started", "body_md": "Hi", "published": true });
    let r = write(&app, &p.customer, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "forbidden");
    let r = write(&app, &p.customer, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "role before validation");
    let r = app.send(call(Method::POST, "/api/v1/articles").json(body.clone())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let created = article(&app, &p.agent, "Agent article", "getting-started", "Hello").await;
    assert_eq!(created["slug"], "agent-article");
    let r = app.send(call(Method::PUT, "/api/v1/articles/agent-article").bearer(&p.customer).json(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(search(&app, None, "").await[0]["title"], "Agent article");

    // Browser writes from another site are refused (CSRF), as everywhere.
    app.create_user(
        "agent2@example.com",
        Profile { role: Role::Agent, tier: None, level: Some(Level::L2), takes_calls: false },
    )
    .await;
    let session = app.sign_in("agent2@example.com", "a long passphrase").await;
    let r = app
        .send(
            call(Method::POST, "/api/v1/articles")
                .cookie(&session)
                .header("origin", "http://evil.example")
                .json(json!({ "title": "Forged", "category": "getting-started", "body_md": "x" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "cross_origin_request");
    let form = |body: &str| {
        call(Method::POST, "/rpc/kb_save")
            .cookie(&session)
            .header("origin", "http://evil.example")
            .header("accept", "application/json")
            .raw(body.as_bytes(), Some("application/x-www-form-urlencoded"))
    };
    let r = app.send(form("original_slug=&title=Forged&slug=&category=getting-started&body_md=x&version=")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The editor's server functions: same rules.
    let rpc = |path: &str, token: &str, body: &str| {
        call(Method::POST, path)
            .bearer(token)
            .header("accept", "application/json")
            .raw(body.as_bytes(), Some("application/x-www-form-urlencoded"))
    };
    let r = app.send(rpc("/rpc/kb_preview", &p.customer, "body_md=hi")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .send(rpc(
            "/rpc/kb_save",
            &p.customer,
            "original_slug=&title=Mine&slug=&category=getting-started&body_md=x&version=",
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let md = "Hi <script>alert(1)</script> [x](javascript:alert(1)) **bold**";
    let r = app.send(rpc("/rpc/kb_preview", &p.agent, &format!("body_md={}", enc(md)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let preview: String = serde_json::from_str(&r.text).unwrap();
    let saved = article(&app, &p.agent, "Preview equals saved", "getting-started", md).await;
    assert_eq!(preview, saved["body_html"].as_str().unwrap(), "the preview is the saved HTML");
    let r = app
        .send(rpc(
            "/rpc/kb_save",
            &p.agent,
            "original_slug=&title=From%20the%20form&slug=&category=feature-guides&body_md=Body&published=on&version=",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.json()["slug"].as_str(), r.json()["published"].as_bool()), (Some("from-the-form"), Some(true)));
    let r = app
        .send(rpc("/rpc/kb_save", &p.agent, "original_slug=&title=x&slug=Bad%20Slug&category=nope&body_md=&version="))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    for field in ["title", "slug", "category", "body_md"] {
        assert!(r.json()["fields"][field].is_string(), "{field}: {}", r.text);
    }
}

async fn validation_and_conflicts(app: TestApp) {
    let p = people(&app).await;
    let r = write(&app, &p.agent, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields = &r.json()["error"]["fields"];
    for field in ["title", "category", "body_md"] {
        assert!(fields[field].is_string(), "{field}: {}", r.text);
    }
    let r = write(
        &app,
        &p.agent,
        json!({ "title": "OK title", "slug": "Not OK!", "category": "troubleshooting", "body_md": "x" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["slug"].is_string(), "{}", r.text);
    let r =
        write(&app, &p.agent, json!({ "title": "t", "category": "troubleshooting", "body_md": "x".repeat(50_001) }))
            .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["body_md"].is_string() && r.json()["error"]["fields"]["title"].is_string());
    let r = write(
        &app,
        &p.agent,
        json!({ "title": "OK title", "category": "troubleshooting", "body_md": "x", "extra": 1 }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(call(Method::POST, "/api/v1/articles").bearer(&p.agent).raw(b"{not json", Some("application/json")))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let first = article(&app, &p.agent, "Same title", "troubleshooting", "One").await;
    let r = write(&app, &p.manager, json!({ "title": "Same title", "category": "getting-started", "body_md": "Two" }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.error_code(), "slug_taken");
    assert!(r.json()["error"]["fields"]["slug"].is_string());
    let r = write(
        &app,
        &p.manager,
        json!({ "title": "Same title", "slug": "same-title-2", "category": "getting-started", "body_md": "Two" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);

    // Edits: the version guards against lost updates; renaming onto another slug is a conflict.
    let put =
        |slug: &str, body: Value| call(Method::PUT, &format!("/api/v1/articles/{slug}")).bearer(&p.agent).json(body);
    let v1 = first["version"].as_i64().unwrap();
    let edit = |version: i64, slug: &str| json!({ "title": "Same title, edited", "slug": slug, "category": "troubleshooting", "body_md": "One, edited", "published": true, "version": version });
    let r = app.send(put("same-title", edit(v1, "same-title"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["version"], v1 + 1);
    assert_eq!(r.json()["title"], "Same title, edited");
    let r = app.send(put("same-title", edit(v1, "same-title"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error_code(), "article_changed");
    let r = app.send(put("same-title", edit(v1 + 1, "same-title-2"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error_code(), "slug_taken");
    let r = app.send(put("same-title", edit(v1 + 1, "renamed"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.send(call(Method::GET, "/api/v1/articles/same-title")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(call(Method::GET, "/api/v1/articles/renamed")).await.status, StatusCode::OK);
    assert_eq!(app.send(put("no-such-article", edit(1, "x"))).await.status, StatusCode::NOT_FOUND);
    // The search index follows edits.
    assert_eq!(slugs(&search(&app, None, "q=edited").await), ["renamed"]);
    assert!(search(&app, None, "q=one").await.iter().all(|i| i["slug"] != "same-title"));

    // Idempotent creation.
    let keyed = |title: &str| {
        call(Method::POST, "/api/v1/articles")
            .bearer(&p.agent)
            .header("idempotency-key", "kb-1")
            .json(json!({ "title": title, "category": "getting-started", "body_md": "x" }))
    };
    let a = app.send(keyed("Keyed article")).await;
    let b = app.send(keyed("Keyed article")).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(app.send(keyed("Other body")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn helpful_votes_count_once(app: TestApp) {
    let p = people(&app).await;
    article(&app, &p.agent, "How SLA clocks work", "getting-started", "Clocks.").await;
    let vote = |token: Option<&str>, cookie: Option<&str>, helpful: Value| {
        let mut c =
            call(Method::POST, "/api/v1/articles/how-sla-clocks-work/helpful").json(json!({ "helpful": helpful }));
        if let Some(t) = token {
            c = c.bearer(t);
        }
        if let Some(k) = cookie {
            c = c.header("cookie", k);
        }
        c
    };
    let counts =
        |r: &TestResponse| (r.json()["helpful_yes"].as_i64().unwrap(), r.json()["helpful_no"].as_i64().unwrap());
    let r = app.send(vote(Some(&p.customer), None, json!(true))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((counts(&r), r.json()["my_vote"].clone()), ((1, 0), json!(true)));
    let r = app.send(vote(Some(&p.customer), None, json!(true))).await;
    assert_eq!(counts(&r), (1, 0), "the same person counts once");
    let r = app.send(vote(Some(&p.customer), None, json!(false))).await;
    assert_eq!((counts(&r), r.json()["my_vote"].clone()), ((0, 1), json!(false)), "and can change their answer");
    let r = app.send(vote(Some(&p.other_customer), None, json!(true))).await;
    assert_eq!(counts(&r), (1, 1));
    assert_eq!(r.json()["my_vote"], true);
    let r = app.send(call(Method::GET, "/api/v1/articles/how-sla-clocks-work").bearer(&p.customer)).await;
    assert_eq!(r.json()["my_vote"], false, "each sees their own answer");

    // Anonymous: the first answer sets a voter cookie; with it, the browser counts once.
    let r = app.send(vote(None, None, json!(true))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(counts(&r), (2, 1));
    let set = r.header("set-cookie").expect("voter cookie").to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let r = app.send(vote(None, Some(&cookie), json!(true))).await;
    assert_eq!(counts(&r), (2, 1));
    assert!(r.header("set-cookie").is_none());
    let r = app.send(vote(None, Some(&cookie), json!(false))).await;
    assert_eq!(counts(&r), (1, 2));
    let r = app.send(call(Method::GET, "/api/v1/articles/how-sla-clocks-work").header("cookie", &cookie)).await;
    assert_eq!(r.json()["my_vote"], false);
    // A made-up cookie is not trusted as a voter; a new one is issued.
    let r = app.send(vote(None, Some("supportal_kb_voter=not-ours"), json!(true))).await;
    assert!(r.header("set-cookie").is_some());
    assert_eq!(counts(&r), (2, 2));

    let r = app.send(vote(Some(&p.customer), None, json!("yes"))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["helpful"].is_string());
    let r = app.send(call(Method::POST, "/api/v1/articles/nope/helpful").json(json!({ "helpful": true }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The server function the page uses: same counting.
    let session = app.sign_in("otto@example.com", "a long passphrase").await;
    let rpc = |helpful: bool| {
        call(Method::POST, "/rpc/kb_vote")
            .cookie(&session)
            .header("origin", "http://127.0.0.1:3000")
            .header("accept", "application/json")
            .raw(
                format!("slug=how-sla-clocks-work&helpful={helpful}").as_bytes(),
                Some("application/x-www-form-urlencoded"),
            )
    };
    let r = app.send(rpc(false)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(counts(&r), (1, 3), "Otto changed his yes to no");
}

async fn markdown_is_sanitised(app: TestApp) {
    let p = people(&app).await;
    let body = [
        "# Heading",
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "[y](JaVaScRiPt:alert(1))",
        "<img src=x onerror=alert(1)>",
        "<a href=\"JaVaScRiPt:alert(1)\">z</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<p style=\"color:red\" onmouseover=\"alert(1)\">styled</p>",
        "[safe](https://example.com/docs)",
    ]
    .join("\n\n");
    let created = article(&app, &p.agent, "Hostile article", "troubleshooting", &body).await;
    let html = created["body_html"].as_str().unwrap();
    for tag in tags(html) {
        for bad in ["script", "onerror", "onmouseover", "javascript", "iframe", "style"] {
            assert!(!tag.contains(bad), "<{tag}> in {html}");
        }
        if tag.starts_with("a ") {
            assert!(tag.contains("rel=\"noopener noreferrer nofollow\""), "{tag}");
        }
    }
    assert!(html.contains("<h2>Heading</h2>") && html.contains("href=\"https://example.com/docs\""), "{html}");
    assert!(html.contains("<img src=\"x\">") && html.contains(">styled</p>"), "{html}");

    // The page as the server renders it carries the same sanitised HTML.
    let r = app.send(call(Method::GET, "/kb/hostile-article")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<h2>Heading</h2>"), "{}", r.text);
    assert!(!r.text.contains("onerror=") && !r.text.contains("javascript:alert"), "{}", r.text);
    assert!(!r.text.contains("<script>alert(1)"));
    assert!(!r.text.to_lowercase().contains("<iframe"));
}

async fn pages_render(app: TestApp) {
    let p = people(&app).await;
    article(&app, &p.agent, "Webhook retries", "advanced-topics", "Retries back off.").await;
    let r = app.send(call(Method::GET, "/kb")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Knowledge base") && r.text.contains("Webhook retries"), "{}", r.text);
    assert!(r.text.contains("Advanced Topics"));
    let r = app.send(call(Method::GET, "/kb?q=webhook")).await;
    assert!(r.text.contains("<mark>Webhook</mark>"), "{}", r.text);
    let r = app.send(call(Method::GET, "/kb?q=nothingmatches")).await;
    assert!(r.text.contains("No articles match") && r.text.contains("/tickets/new"), "{}", r.text);
    let r = app.send(call(Method::GET, "/kb/webhook-retries")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Was this helpful?") && r.text.contains("Retries back off."));
    assert!(!r.text.contains("data-testid=\"helpful-counts\""), "counts are for staff");
    let staff = app.sign_in("agent@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/kb/webhook-retries").cookie(&staff)).await;
    assert!(r.text.contains("data-testid=\"helpful-counts\"") && r.text.contains("/kb/webhook-retries/edit"));
    let r = app.send(call(Method::GET, "/kb/no-such-article")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let customer = app.sign_in("cara@example.com", "a long passphrase").await;
    let r = app.send(call(Method::GET, "/kb/new").cookie(&customer)).await;
    assert!(r.text.contains("Not available to you"));
    let r = app.send(call(Method::GET, "/kb/webhook-retries/edit").cookie(&staff)).await;
    assert!(r.text.contains("Retries back off.") && r.text.contains("name=\"version\""), "{}", r.text);
    let r = app.send(call(Method::GET, "/tickets/new").cookie(&customer)).await;
    assert!(r.text.contains("data-testid=\"kb-suggestions\""), "{}", r.text);
}

async fn demo_starter_articles(app: TestApp) {
    let db = &app.state.services.db;
    supportal::demo::seed(db).await.unwrap();
    supportal::demo::seed(db).await.unwrap();
    let published = search(&app, None, "limit=200").await;
    assert!(published.len() >= 8, "{}", published.len());
    for category in ["getting-started", "feature-guides", "troubleshooting", "advanced-topics"] {
        assert!(published.iter().any(|a| a["category"] == category), "{category}");
    }
    let manager = app.token("manager@demo.supportal.test", supportal::demo::DEMO_PASSWORD).await;
    let all = search(&app, Some(&manager), "limit=200&include_drafts=1").await;
    assert_eq!(all.len(), published.len() + 1, "one draft");
    assert_eq!(all.len(), app::kb::starter::ARTICLES.len(), "seeded once");
    let sla = all.iter().find(|a| a["slug"] == "how-sla-clocks-work").unwrap();
    assert_eq!((sla["helpful_yes"].as_i64(), sla["helpful_no"].as_i64()), (Some(2), Some(1)));
    assert_eq!(slugs(&search(&app, None, "q=webho").await)[0], "troubleshooting-notifications-and-webhooks");
    let signed = slugs(&search(&app, None, "q=X-Supportal-Signature").await);
    assert!(signed.contains(&"troubleshooting-notifications-and-webhooks".to_string()), "{signed:?}");
    assert!(signed.contains(&"security-best-practices".to_string()), "{signed:?}");
    let booking = slugs(&search(&app, None, "q=book%20a%20call").await);
    assert_eq!(booking[0], "book-a-live-chat-or-video-call", "{booking:?}");
}

both!(
    search_ranks_and_highlights,
    hostile_queries_answer_200,
    suggestions_match_while_typing,
    drafts_are_for_staff,
    only_staff_write,
    validation_and_conflicts,
    helpful_votes_count_once,
    markdown_is_sanitised,
    pages_render,
    demo_starter_articles,
);
