//! Test harness: every test runs against a fresh database it creates and drops,
//! on SQLite and on PostgreSQL (when reachable; required when
//! SUPPORTAL_REQUIRE_PG=1).

#![allow(dead_code)]

use app::db::Db;
use app::ratelimit::RateLimits;
use app::services::Services;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use futures::FutureExt;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Executor};
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use supportal::AppState;
use tower::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn pg_admin_url() -> String {
    std::env::var("SUPPORTAL_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn pg_required() -> bool {
    std::env::var("SUPPORTAL_REQUIRE_PG").is_ok_and(|v| v == "1")
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub backend: Backend,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The session id from a Set-Cookie header.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("supportal_session="))
            .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
            .filter(|id| !id.is_empty())
    }
}

/// One request to build: method, path, optional JSON body, extra headers.
pub struct Call {
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    ip: Option<[u8; 4]>,
}

pub fn call(method: Method, path: &str) -> Call {
    Call { method, path: path.into(), body: None, content_type: None, headers: vec![], ip: None }
}

impl Call {
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self.content_type = Some("application/json".into());
        self
    }

    pub fn raw(mut self, body: &[u8], content_type: Option<&str>) -> Self {
        self.body = Some(body.to_vec());
        self.content_type = content_type.map(str::to_string);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn cookie(self, session: &str) -> Self {
        self.header("cookie", &format!("supportal_session={session}"))
    }

    pub fn with_ip(mut self, ip: [u8; 4]) -> Self {
        self.ip = Some(ip);
        self
    }
}

impl TestApp {
    pub async fn send(&self, call: Call) -> TestResponse {
        let mut builder = Request::builder().method(call.method).uri(&call.path).header("host", "127.0.0.1:3000");
        if let Some(ct) = &call.content_type {
            builder = builder.header("content-type", ct);
        }
        for (k, v) in &call.headers {
            builder = builder.header(k, v);
        }
        let mut request = builder.body(Body::from(call.body.unwrap_or_default())).expect("request");
        if let Some(ip) = call.ip {
            request.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        }
        let response = self.router.clone().oneshot(request).await.expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// A server function posted as the browser's forms post it (`application/x-www-form-urlencoded`).
    pub async fn rpc(&self, token: &str, endpoint: &str, form: &str) -> TestResponse {
        self.send(
            call(Method::POST, &format!("/rpc/{endpoint}"))
                .bearer(token)
                .header("accept", "application/json")
                .raw(form.as_bytes(), Some("application/x-www-form-urlencoded")),
        )
        .await
    }

    /// Registers a customer through the API and returns (user json, session id).
    pub async fn register(&self, email: &str, name: &str) -> Value {
        let r = self
            .send(call(Method::POST, "/api/v1/auth/register").json(serde_json::json!({
                "email": email, "password": "a long passphrase", "name": name
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()
    }

    /// Signs in and returns the session id.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let r = self
            .send(
                call(Method::POST, "/api/v1/auth/session")
                    .json(serde_json::json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.session_cookie().expect("session cookie")
    }

    /// A bearer token for an existing user.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self
            .send(call(Method::POST, "/api/v1/auth/tokens").json(serde_json::json!({
                "email": email, "password": password, "label": "tests"
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["token"].as_str().expect("token").to_string()
    }

    /// Creates a user directly in the database with the given profile.
    pub async fn create_user(&self, email: &str, profile: app::accounts::Profile) -> app::accounts::User {
        app::accounts::service::create_user(
            &self.state.services.db,
            email,
            "Test User",
            "a long passphrase".into(),
            &profile,
        )
        .await
        .expect("create user")
    }

    pub async fn manager_token(&self) -> String {
        use app::accounts::{Level, Profile, Role};
        self.create_user(
            "boss@example.com",
            Profile { role: Role::Manager, tier: None, level: Some(Level::L4), takes_calls: false },
        )
        .await;
        self.token("boss@example.com", "a long passphrase").await
    }
}

pub mod peers;

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("supportal")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .build()
}

/// An event bus fed the way the server feeds it: directly on SQLite, through
/// LISTEN/NOTIFY on PostgreSQL.
pub async fn event_bus(db: &Db) -> app::events::EventBus {
    let bus = app::events::EventBus::new();
    if db.backend == app::db::Backend::Postgres {
        let start = app::events::latest_id(db).await.expect("event log");
        tokio::spawn(app::events::listen_postgres(db.clone(), bus.clone(), start));
    }
    bus
}

/// The outbox settings tests use: no mail server, short timeouts and quick retries.
pub fn test_outbox(smtp_url: Option<&str>) -> app::notify::outbox::OutboxConfig {
    let mut config = app::notify::outbox::OutboxConfig::new(
        "http://portal.test",
        smtp_url,
        "Supportal <support@portal.test>",
        std::time::Duration::from_secs(2),
        &test_outbound(),
    )
    .expect("outbox config");
    config.retry_base_secs = 1;
    config.lease_secs = 5;
    config
}

/// The private-address rule in tests: loopback allowed (the tests' receivers and mail sink listen there),
/// everything else private refused, as in production.
pub fn test_outbound() -> app::outbound::OutboundPolicy {
    app::outbound::OutboundPolicy::from_setting("127.0.0.1,::1").expect("allow list")
}

pub async fn app_for(db: Db, backend: Backend) -> TestApp {
    app_with_outbox(db, backend, test_outbox(None)).await
}

pub async fn app_with_outbox(db: Db, backend: Backend, outbox: app::notify::outbox::OutboxConfig) -> TestApp {
    app_with(db, backend, outbox, |s| s, |a| a).await
}

/// A second app on the same database (another instance), with its services and state adjusted.
pub async fn app_with(
    db: Db,
    backend: Backend,
    outbox: app::notify::outbox::OutboxConfig,
    services: impl FnOnce(Services) -> Services,
    state: impl FnOnce(AppState) -> AppState,
) -> TestApp {
    let base = Services {
        events: event_bus(&db).await,
        db,
        limits: Arc::new(RateLimits::standard()),
        secure_cookies: false,
        outbox: Arc::new(outbox),
        outbound: test_outbound(),
        // Tests open many tickets for one customer quickly; the limits have tests of their own.
        ticket_limits: app::tickets::quota::TicketLimits { urgent_per_hour: 1000, per_hour: 1000 },
        discord: Default::default(),
    };
    let state = state(AppState::new(services(base), leptos_options(), None));
    TestApp { router: supportal::app(state.clone()), state, backend }
}

/// Reads SSE frames from a response body until `count` events arrived (or 5 s passed).
pub async fn read_events(response: axum::response::Response, count: usize) -> Vec<(i64, String, Value)> {
    read_events_for(response, count, std::time::Duration::from_secs(5)).await.0
}

/// [`read_events`] for at most `wait`; also says whether the stream ended (rather than went quiet).
pub async fn read_events_for(
    response: axum::response::Response,
    count: usize,
    wait: std::time::Duration,
) -> (Vec<(i64, String, Value)>, bool) {
    use futures::StreamExt;
    let mut body = response.into_body().into_data_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut ended = false;
    while events.len() < count {
        let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(_) => {
                ended = true;
                break;
            }
            Err(_) => break,
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let (mut id, mut kind, mut data) = (None, String::new(), String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if let Some(id) = id {
                events.push((id, kind, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
    }
    (events, ended)
}

/// Opens `/api/v1/events` with a bearer token (resuming after `last_event_id` when given).
pub async fn sse(app: &TestApp, token: &str, last_event_id: Option<i64>) -> axum::response::Response {
    let mut request = Request::builder().uri("/api/v1/events").header("authorization", format!("Bearer {token}"));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("router");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

fn unique_name() -> String {
    use rand::Rng;
    format!("supportal_t_{}_{:08x}", std::process::id(), rand::thread_rng().gen::<u32>())
}

/// Runs `test` on a fresh database of the given backend, then drops it.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(unique_name());
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}/test.db", dir.display());
            let db = Db::connect(&url, 8).await.expect("sqlite");
            db.migrate().await.expect("migrate");
            let outcome = AssertUnwindSafe(test(app_for(db.clone(), backend).await)).catch_unwind().await;
            db.pool.close().await;
            let _ = std::fs::remove_dir_all(&dir);
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
        }
        Backend::Postgres => {
            let admin_url = pg_admin_url();
            let mut admin = match AnyConnection::connect(&admin_url).await {
                Ok(c) => c,
                Err(e) if !pg_required() => {
                    eprintln!("skipping PostgreSQL test: {admin_url} unreachable ({e}); set SUPPORTAL_REQUIRE_PG=1 to fail instead");
                    return;
                }
                Err(e) => panic!("PostgreSQL required but unreachable at {admin_url}: {e}"),
            };
            let name = unique_name();
            admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
            let url = match admin_url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("SUPPORTAL_TEST_PG_URL needs a database path"),
            };
            let db = Db::connect(&url, 8).await.expect("postgres");
            db.migrate().await.expect("migrate");
            let outcome = AssertUnwindSafe(test(app_for(db.clone(), backend).await)).catch_unwind().await;
            db.pool.close().await;
            let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
            let _ = admin.close().await;
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

/// Declares a test that runs on both backends: `both!(name)` for `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::common::run($crate::common::Backend::Sqlite, super::$name).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::common::run($crate::common::Backend::Postgres, super::$name).await;
                }
            }
        )+
    };
}
