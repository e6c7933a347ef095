//! Booking benchmark (prints numbers; no pass/fail): slot listing for 31 days with 20 call-taking agents and
//! 500 existing bookings (latency p50/p99), then booking throughput with 32 customers booking at once.
//!
//! `cargo run --release -p supportal --example booking_bench -- [DATABASE_URL]` (default: a fresh SQLite file).
//! Give an empty PostgreSQL database's URL to measure PostgreSQL.

use app::accounts::{store, Level, Profile, Role, Tier, User};
use app::booking::calls::NewBooking;
use app::booking::{eastern, free_slots, service, CallLength, Slot};
use app::db::Db;
use app::events::EventBus;
use std::time::Instant;

const AGENTS: usize = 20;
const BOOKINGS: usize = 500;
const LISTINGS: usize = 200;
const BOOKERS: usize = 32;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut millis: Vec<f64>) {
    millis.sort_by(f64::total_cmp);
    println!(
        "{label}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        millis.len(),
        percentile(&millis, 0.5),
        percentile(&millis, 0.99),
        millis.last().copied().unwrap_or_default()
    );
}

async fn user(db: &Db, email: &str, profile: &Profile) -> Result<User, Box<dyn std::error::Error>> {
    Ok(store::insert_user(&db.pool, email, email, "not-a-hash", profile).await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Database errors behind a refused booking are logged, not returned: show them.
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("error")).init();
    let dir = std::env::temp_dir().join(format!("supportal-booking-bench-{}", std::process::id()));
    let url = std::env::args().nth(1).unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.to_string_lossy()));
    let db = Db::connect(&url, 16).await?;
    db.migrate().await?;
    let bus = EventBus::new();
    let staff = Profile { role: Role::Agent, tier: None, level: Some(Level::L2), takes_calls: true };
    for i in 0..AGENTS {
        user(&db, &format!("agent{i}@bench.test"), &staff).await?;
    }
    // The existing bookings belong to one other customer, so the bookers start with none (3 upcoming at most).
    let filler = user(&db, "filler@bench.test", &Profile::customer(Tier::Platinum)).await?;
    let mut customers = Vec::new();
    for i in 0..BOOKERS.max(1) {
        customers.push(user(&db, &format!("customer{i}@bench.test"), &Profile::customer(Tier::Platinum)).await?);
    }

    // 500 bookings spread over the offered slots of the next 30 days, each on a free agent.
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(eastern().clone()).date();
    let rules = service::load_rules(&db).await?;
    let agents: Vec<app::booking::Agent> = (0..AGENTS as i64).map(|i| app::booking::Agent::new(i + 1)).collect();
    let offered = free_slots(&rules, &agents, &[], now, today, 31, CallLength::M30);
    let at = app::db::now();
    let mut placed = 0;
    let stride = (offered.len() as f64 / BOOKINGS as f64).max(1.0);
    for i in 0..BOOKINGS.min(offered.len()) {
        let slot = &offered[((i as f64) * stride) as usize];
        let Slot { start, end } = *slot;
        // Spread over the agents: each agent's calls lie hours apart.
        let agent_id = agents[placed % AGENTS].id;
        sqlx::query(
            "INSERT INTO bookings (customer_id, agent_id, start_at, end_at, busy_until, duration_minutes, platform, \
             topic, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 30, 'portal', 'bench', 'booked', $6, $6)",
        )
        .bind(filler.id)
        .bind(agent_id)
        .bind(start.as_second())
        .bind(end.as_second())
        .bind(slot.occupied_until().as_second())
        .bind(at)
        .execute(&db.pool)
        .await?;
        placed += 1;
    }
    println!("{url}: {AGENTS} agents, {placed} bookings over 31 days");

    let viewer = &customers[0];
    let mut listing = Vec::with_capacity(LISTINGS);
    let mut count = 0;
    for _ in 0..LISTINGS {
        let started = Instant::now();
        let offer = service::offer(&db, viewer, today, 31, CallLength::M30, None).await?;
        listing.push(started.elapsed().as_secs_f64() * 1000.0);
        count = offer.slots.len();
    }
    report(&format!("slot listing, 31 days ({count} slots)"), listing);

    // Everyone books at once, each walking the offered slots from a different place; refusals are conflicts.
    let offer = service::offer(&db, viewer, today, 31, CallLength::M30, None).await?;
    let started = Instant::now();
    let tasks: Vec<_> = customers
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, customer)| {
            let (db, bus, slots) = (db.clone(), bus.clone(), offer.slots.clone());
            tokio::spawn(async move {
                let (mut ok, mut conflicts, mut latencies) = (0, Vec::new(), Vec::new());
                for slot in slots.iter().skip(i % 4).step_by(4).take(3) {
                    let new = NewBooking {
                        start: slot.start.to_string(),
                        duration_minutes: 30,
                        platform: "portal".into(),
                        topic: "bench".into(),
                        ticket_id: None,
                    };
                    let t = Instant::now();
                    match service::book(&db, &bus, &customer, &new).await {
                        Ok(_) => ok += 1,
                        Err(e) if e.status == 409 || e.status == 422 => conflicts.push(e.code),
                        Err(e) => return Err(e.message),
                    }
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                Ok((ok, conflicts, latencies))
            })
        })
        .collect();
    let (mut ok, mut refusals, mut latencies) = (0, std::collections::BTreeMap::<String, usize>::new(), Vec::new());
    for task in tasks {
        let (o, c, l) = task.await??;
        ok += o;
        for code in c {
            *refusals.entry(code).or_default() += 1;
        }
        latencies.extend(l);
    }
    let conflicts: usize = refusals.values().sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "booking under contention: {BOOKERS} customers at once, {} attempts in {elapsed:.2} s: {ok} booked, {conflicts} refused \
         {refusals:?}, {:.0} attempts/s",
        ok + conflicts,
        (ok + conflicts) as f64 / elapsed
    );
    report("booking latency", latencies);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
