//! Outbox benchmark (prints numbers; no pass/fail). Used by `scripts/bench_outbox.sh`.
//!
//! `outbox_bench DATABASE_URL [EVENTS]` on a fresh database: starts a local HTTP receiver (204 after reading the
//! body), adds two webhooks to it, then measures
//! - publishing: EVENTS events queued 100 per transaction (two outbox rows each), and the cost of one publish
//!   inside a transaction that does nothing else;
//! - delivering: the rows sent by 1 worker, then again by 4 workers at once (as 4 instances would), in
//!   deliveries per second, with a check that every delivery id arrived exactly once.

use app::accounts::{store, Profile, Role};
use app::db::Db;
use app::notify::integrations::IntegrationEvent;
use app::notify::integrations_store::{self as integrations, WebhookInput};
use app::notify::outbox::{self, OutboxConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).ok_or("usage: outbox_bench DATABASE_URL [EVENTS]")?;
    let events = args.get(2).map(|n| n.parse()).transpose()?.unwrap_or(2_000_usize);
    let db = Db::connect(url, 16).await?;
    db.migrate().await?;
    let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let receiver = start_receiver(seen.clone()).await?;
    let manager = store::insert_user(
        &db.pool,
        "bench-manager@example.com",
        "Bench",
        "not-a-hash",
        &Profile { role: Role::Manager, tier: None, level: None, takes_calls: false },
    )
    .await?;
    // The receiver listens on loopback, which the outbound rule refuses unless allowed.
    let outbound = app::outbound::OutboundPolicy::from_setting("127.0.0.1")?;
    for path in ["a", "b"] {
        let input = WebhookInput {
            url: Some(format!("{receiver}/{path}")),
            events: Some(vec!["feature.status".into()]),
            ..WebhookInput::default()
        };
        integrations::create_webhook(&db, &outbound, manager.id, &input).await.map_err(|e| e.message)?;
    }
    let bus = app::events::EventBus::new();

    for (workers, round) in [(1_usize, "one"), (4, "four")] {
        let started = Instant::now();
        for chunk in 0..events.div_ceil(100) {
            let mut tx = db.begin_write().await?;
            for n in chunk * 100..((chunk + 1) * 100).min(events) {
                let event = IntegrationEvent::new(
                    "feature.status",
                    format!("{round}:{n}"),
                    format!("Feature {n} is now planned"),
                    Some(format!("/features/{n}")),
                    serde_json::json!({ "feature_id": n, "status": "planned" }),
                );
                outbox::publish(&mut tx, &event).await?;
            }
            tx.commit().await?;
        }
        let queued = started.elapsed();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (db, bus) = (db.clone(), bus.clone());
            let mut config =
                OutboxConfig::new("http://bench.test", None, "b <b@bench.test>", Duration::from_secs(10), &outbound)?;
            config.batch = 32;
            let config = Arc::new(config);
            tasks.spawn(async move {
                while outbox::drain_once(&db, &bus, &config).await.map_err(|e| e.to_string())? > 0 {}
                Ok::<(), String>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        let sent = started.elapsed();
        let rows = events * 2;
        let (arrived, twice) = {
            let seen = seen.lock().map_err(|_| "poisoned")?;
            (seen.len(), seen.values().filter(|&&n| n > 1).count())
        };
        println!(
            "{workers} worker(s): queued {rows} rows in {:.2} s ({:.0} rows/s, 100 events per transaction); \
             delivered in {:.2} s ({:.0} deliveries/s); {arrived} distinct deliveries so far, {twice} seen twice",
            queued.as_secs_f64(),
            rows as f64 / queued.as_secs_f64(),
            sent.as_secs_f64(),
            rows as f64 / sent.as_secs_f64(),
        );
    }

    // The cost a change pays for announcing itself: one publish in a transaction of its own.
    let mut samples = Vec::with_capacity(500);
    for n in 0..500 {
        let mut tx = db.begin_write().await?;
        let event =
            IntegrationEvent::new("feature.status", format!("single:{n}"), "x", None, serde_json::json!({ "n": n }));
        let started = Instant::now();
        outbox::publish(&mut tx, &event).await?;
        samples.push(started.elapsed());
        tx.rollback().await?;
    }
    samples.sort();
    println!(
        "publish inside a transaction (2 webhooks subscribed): p50 {:.0} µs, p99 {:.0} µs",
        samples[samples.len() / 2].as_secs_f64() * 1e6,
        samples[samples.len() * 99 / 100].as_secs_f64() * 1e6
    );
    Ok(())
}

/// Answers 204 to every POST and counts each delivery id per webhook (its path).
async fn start_receiver(seen: Arc<Mutex<HashMap<String, u32>>>) -> Result<String, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = axum::Router::new().route(
        "/{path}",
        axum::routing::post(
            move |axum::extract::Path(path): axum::extract::Path<String>, headers: http::HeaderMap, _body: String| {
                let seen = seen.clone();
                async move {
                    let id = headers.get("x-supportal-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    if let Ok(mut seen) = seen.lock() {
                        *seen.entry(format!("{path} {id}")).or_default() += 1;
                    }
                    http::StatusCode::NO_CONTENT
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{address}"))
}
