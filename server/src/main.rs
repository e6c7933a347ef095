#![recursion_limit = "256"]

//! `supportal`: serves the portal. `supportal --help` lists every setting.

use app::db::Db;
use app::ratelimit::RateLimits;
use app::services::Services;
use axum::serve::ListenerExt;
use clap::Parser;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use supportal::config::{Cli, Config};
use supportal::{app, demo, AppState};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let first = e.to_string().lines().next().unwrap_or("invalid arguments").to_string();
            eprintln!("supportal: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let config = match Config::try_from(cli) {
        Ok(c) => c,
        Err(line) => {
            eprintln!("supportal: configuration error: {line}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.json_logs);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            eprintln!("supportal: {line}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(config: Config) -> Result<(), String> {
    let db = Db::connect(&config.database_url, config.db_max_connections)
        .await
        .map_err(|e| format!("DATABASE_URL: cannot open the database: {e}"))?;
    db.migrate().await.map_err(|e| format!("database migration failed: {e}"))?;
    tracing::info!(backend = ?db.backend, pool = config.db_max_connections, "database ready");

    if let Some((email, password)) = &config.admin {
        match app::accounts::service::ensure_admin(&db, email, password).await {
            Ok(true) => tracing::info!(%email, "created the first admin"),
            Ok(false) => {}
            Err(line) => return Err(line),
        }
    }
    let outbound = config.outbound();
    if config.demo {
        let created = demo::seed_for(&db, &config.base_url(), &outbound).await?;
        if created > 0 {
            tracing::info!(created, "seeded demo data");
        }
    }

    // A new portal starts with the knowledge base's starter articles (only while it has no article at all,
    // so ones the team edited or retired do not come back).
    let articles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| format!("cannot read the knowledge base: {e}"))?;
    if articles == 0 {
        let added = app::kb::service::seed_starter(&db, None)
            .await
            .map_err(|e| format!("cannot add the starter articles: {}", e.message))?;
        tracing::info!(added, "starter articles added");
    }
    let mut outbox = config.outbox(&outbound)?;
    // Agent replies go back to Discord through the outbox, with the bot's token.
    outbox.discord = config.discord.clone();
    if config.smtp_url.is_none() {
        tracing::info!("SMTP_URL is not set: email notifications are skipped");
    }
    let leptos_options = leptos::config::LeptosOptions::builder()
        .output_name("supportal")
        .site_root(config.site_root.clone())
        .site_pkg_dir("pkg")
        .site_addr(config.bind)
        .env(leptos::config::Env::PROD)
        .build();
    let leptos_options = supportal::assets::with_hashed_names(leptos_options);
    let limits =
        RateLimits::with_writes(config.signin_attempts, config.registrations_per_hour, config.writes_per_minute)
            .with_budget(app::ratelimit::Limit::Signals, config.call_signals_per_10_minutes);
    // Several instances share PostgreSQL, so they share the budgets there too.
    let limits = if db.backend == app::db::Backend::Postgres { limits.shared(db.clone()) } else { limits };
    let services = Services {
        db: db.clone(),
        limits: Arc::new(limits),
        events: app::events::EventBus::new(),
        secure_cookies: config.secure_cookies(),
        outbox: Arc::new(outbox),
        outbound,
        ticket_limits: app::tickets::quota::TicketLimits {
            urgent_per_hour: config.urgent_tickets_per_hour,
            per_hour: config.tickets_per_hour,
        },
        discord: Arc::new(config.discord.clone()),
    };
    if db.backend == app::db::Backend::Postgres {
        let start = app::events::latest_id(&db).await.map_err(|e| format!("cannot read the event log: {e}"))?;
        tokio::spawn(app::events::listen_postgres(db.clone(), services.events.clone(), start));
    }
    tokio::spawn(app::tickets::monitor::run(db.clone(), services.events.clone()));
    tokio::spawn(app::booking::service::run_reminders(db.clone(), services.events.clone()));
    let (outbox_events, outbox) = (services.events.clone(), services.outbox.clone());
    let state = AppState::new(services, leptos_options, config.public_url.clone())
        .with_trusted_proxies(config.trusted_proxies.clone())
        .with_metrics(config.metrics_token.clone(), config.metrics_bind.is_some())
        .with_ice(config.ice.clone());
    spawn_metrics(&state, config.metrics_bind).await?;
    spawn_sweeper(db.clone(), state.services.limits.clone(), config.event_retention_days);

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("SUPPORTAL_BIND: cannot listen on {}: {e}", config.bind))?
        .tap_io(supportal::no_delay);
    let address = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.bind));
    tracing::info!(%address, "listening");
    // Deliveries start once the portal listens: the demo's webhooks point at the portal itself.
    tokio::spawn(app::notify::outbox::run(db.clone(), outbox_events, outbox));
    if config.demo {
        demo::print_sign_ins(&address);
    }
    let mut router = app(state);
    if config.demo {
        router = router.merge(demo::receiver(db.clone()));
    }
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    db.pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The metrics' upkeep, and their own listener when `SUPPORTAL_METRICS_BIND` asks for one.
async fn spawn_metrics(state: &AppState, bind: Option<SocketAddr>) -> Result<(), String> {
    let metrics = state.metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            metrics.upkeep();
        }
    });
    if let Some(bind) = bind {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("SUPPORTAL_METRICS_BIND: cannot listen on {bind}: {e}"))?;
        tracing::info!(%bind, "metrics on their own listener");
        let router = supportal::metrics::separate_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    Ok(())
}

/// Hourly: expired sessions and reset links, outbox rows settled long ago, idempotency keys older than a
/// day, the live-update log past its retention, idle shared rate-limit buckets. Each is a plain DELETE, so
/// several instances sweeping at once do no harm.
fn spawn_sweeper(db: Db, limits: Arc<RateLimits>, event_retention_days: u32) {
    fn report(what: &str, result: Result<u64, sqlx::Error>) {
        match result {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "{what} removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweeping {what} failed"),
        }
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = app::db::now();
            report("expired sessions", app::accounts::store::delete_expired_sessions(&db).await);
            report("expired reset links", app::accounts::store::delete_expired_password_resets(&db).await);
            report(
                "old outbox rows",
                app::notify::outbox::prune(&db, now - app::notify::outbox::KEEP_SETTLED_SECS).await,
            );
            report("old idempotency keys", supportal::api::idempotency::prune(&db, now).await);
            let kept = i64::from(event_retention_days) * 86_400;
            report("old live-update events", app::events::prune(&db, now - kept).await);
            report("idle rate-limit buckets", limits.prune().await);
        }
    });
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
