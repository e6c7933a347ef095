//! Queue benchmark helper (prints numbers; no pass/fail). Used by `scripts/bench_queue.sh`.
//!
//! `queue_bench seed DATABASE_URL [TICKETS]`: adds TICKETS (default 100,000) tickets to a migrated database with
//! the demo users: a year of history, one in ten still running, spread over tiers, priorities, levels and
//! agents; works out their deadlines; prints the query plans of the queue's queries and the latency of
//! `queue::load` for each view.
//!
//! `queue_bench hello ADDR`: a bare axum "hello" server, the baseline the SSR queue page is compared with.

use app::accounts::{Role, User};
use app::db::{now, Backend, Db};
use app::tickets::queue::{self, QueueParams, QueueView};
use std::time::Instant;

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("seed") => {
            let url = args.get(2).ok_or("seed needs a DATABASE_URL")?;
            let count = args.get(3).map(|n| n.parse()).transpose()?.unwrap_or(100_000_i64);
            seed(url, count).await
        }
        Some("hello") => hello(args.get(2).map(String::as_str).unwrap_or("127.0.0.1:3301")).await,
        _ => Err("usage: queue_bench seed DATABASE_URL [TICKETS] | queue_bench hello ADDR".into()),
    }
}

async fn hello(addr: &str) -> Result<(), Error> {
    let router = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("hello server on {addr}");
    axum::serve(listener, router).await?;
    Ok(())
}

async fn ids_of(db: &Db, role: &str) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar("SELECT id FROM users WHERE role = $1 ORDER BY id").bind(role).fetch_all(&db.pool).await?)
}

async fn seed(url: &str, count: i64) -> Result<(), Error> {
    let db = Db::connect(url, 8).await?;
    db.migrate().await?;
    let customers = ids_of(&db, "customer").await?;
    let agents = ids_of(&db, "agent").await?;
    if customers.is_empty() || agents.is_empty() {
        return Err("seed a database that has the demo users (start the server with --demo once)".into());
    }
    let tiers: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, COALESCE(tier, 'general') FROM users WHERE role = 'customer'")
            .fetch_all(&db.pool)
            .await?;
    let started = Instant::now();
    let at = now();
    let year = 365 * 86_400;
    let priorities = ["P1", "P2", "P3", "P4"];
    let levels = ["L1", "L1", "L1", "L2", "L3"];
    let mut inserted = 0_i64;
    while inserted < count {
        let batch = (count - inserted).min(500);
        let mut sql = String::from(
            "INSERT INTO tickets (subject, body, priority, category, status, tier, requester_id, assignee_id, level, \
             created_at, updated_at, first_response_at, resolved_at) VALUES ",
        );
        for i in 0..batch {
            let n = inserted + i;
            let (customer, tier) = &tiers[(n as usize) % tiers.len()];
            // One in ten still running (the newest, mostly); the rest resolved or closed.
            let running = n % 10 == 0;
            let created = if running { at - (n % 20_000) * 60 } else { at - year + (n * 7919) % year };
            let status = if running {
                ["new", "open", "pending_customer", "on_hold"][(n / 10 % 4) as usize]
            } else if n % 3 == 0 {
                "closed"
            } else {
                "resolved"
            };
            let assignee = if running && n % 20 == 0 {
                "NULL".to_string()
            } else {
                agents[(n as usize) % agents.len()].to_string()
            };
            let first = if status == "new" { "NULL".to_string() } else { (created + 1800).to_string() };
            let resolved = if running { "NULL".to_string() } else { (created + 86_400).to_string() };
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('Bench ticket {n} about exports and webhooks', 'Body of bench ticket {n}.', '{}', 'bug', '{status}', \
                 '{tier}', {customer}, {assignee}, '{}', {created}, {created}, {first}, {resolved})",
                priorities[(n % 4) as usize],
                levels[(n % 5) as usize],
            ));
        }
        sqlx::query(&sql).execute(&db.pool).await?;
        inserted += batch;
    }
    // A live portal has told staff about its at-risk and breached tickets long ago: mark them told, or the SLA
    // monitor of the server under test would spend the measured seconds notifying about thousands of them.
    for clock in ["first_response", "resolution"] {
        for state in ["at_risk", "breached"] {
            sqlx::query(
                "INSERT INTO sla_transitions (ticket_id, clock, state, at) \
                 SELECT id, $1, $2, $3 FROM tickets WHERE status NOT IN ('resolved', 'closed') ON CONFLICT DO NOTHING",
            )
            .bind(clock)
            .bind(state)
            .bind(at)
            .execute(&db.pool)
            .await?;
        }
    }
    let refreshed = app::tickets::service::refresh_deadlines(&db).await?;
    if db.backend == Backend::Postgres {
        sqlx::query("ANALYZE tickets").execute(&db.pool).await?;
    } else {
        sqlx::query("ANALYZE").execute(&db.pool).await?;
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&db.pool).await?;
    println!(
        "seeded {count} tickets in {:.1} s ({refreshed} running with deadlines); {total} tickets in all",
        started.elapsed().as_secs_f64()
    );
    plans(&db).await?;
    latencies(&db, agents[0]).await
}

/// The plans of the rows query (view "all" and "mine") and the counts query.
async fn plans(db: &Db) -> Result<(), Error> {
    let explain = if db.backend == Backend::Postgres { "EXPLAIN" } else { "EXPLAIN QUERY PLAN" };
    let counts = format!("{}{}", queue::COUNTS_SQL, queue::filters_sql(false));
    for (label, sql, with_limit) in [
        ("rows, view all", queue::rows_sql(QueueView::AllOpen, false), true),
        ("rows, view mine", queue::rows_sql(QueueView::Mine, false), true),
        ("counts", counts, false),
    ] {
        let text = format!("{explain} {sql}");
        let mut query =
            sqlx::query(&text).bind(1_i64).bind(now()).bind("").bind("").bind("").bind("").bind("").bind(0_i64);
        if with_limit {
            query = query.bind(50_i64);
        }
        println!("-- plan: {label}");
        for row in query.fetch_all(&db.pool).await? {
            use sqlx::Row;
            // PostgreSQL: one text column; SQLite: (id, parent, notused, detail).
            let line: String = if db.backend == Backend::Postgres { row.try_get(0)? } else { row.try_get(3)? };
            println!("   {line}");
        }
    }
    Ok(())
}

/// queue::load (rows + counts + SLA clocks of 50 rows) per view, 200 runs each.
async fn latencies(db: &Db, agent_id: i64) -> Result<(), Error> {
    let agent: User = app::accounts::store::user_by_id(db, agent_id).await?.ok_or("no agent")?;
    assert!(agent.role == Role::Agent);
    for view in QueueView::ALL {
        let filter = QueueParams { view: Some(view.as_str().into()), ..Default::default() }.validate()?;
        let mut millis = Vec::new();
        let mut rows = 0;
        for _ in 0..200 {
            let t = Instant::now();
            rows = queue::load(db, &agent, &filter).await?.tickets.len();
            millis.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        millis.sort_by(f64::total_cmp);
        println!(
            "queue::load view={:<10} rows={rows:<3} p50={:.2} ms p99={:.2} ms",
            view.as_str(),
            millis[millis.len() / 2],
            millis[(millis.len() * 99) / 100]
        );
    }
    Ok(())
}
