//! Settings from flags and environment variables. A bad value stops start-up
//! with one line naming the setting and what is wrong.

use clap::Parser;
use std::net::SocketAddr;

#[derive(Parser, Debug, Clone)]
#[command(name = "supportal", version, about = "Supportal: a self-hostable customer support portal")]
pub struct Cli {
    /// Database: sqlite://path/to/file.db (default, embedded) or postgres://user@host/db
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/supportal.db")]
    pub database_url: String,

    /// Address to listen on
    #[arg(long, env = "SUPPORTAL_BIND", default_value = "127.0.0.1:3000")]
    pub bind: String,

    /// The address people use to reach the portal; https:// makes cookies Secure
    #[arg(long, env = "SUPPORTAL_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Email of the admin created on first start (with SUPPORTAL_ADMIN_PASSWORD)
    #[arg(long, env = "SUPPORTAL_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// Password of the admin created on first start
    #[arg(long, env = "SUPPORTAL_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Seed demo users on first start and print their sign-ins
    #[arg(long, env = "SUPPORTAL_DEMO", num_args = 0..=1, default_value = "false", default_missing_value = "true")]
    pub demo: String,

    /// Folder with the built site (WASM, JS, CSS), as cargo-leptos writes it
    #[arg(long, env = "SUPPORTAL_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Most database connections in the pool (default: sized for this machine)
    #[arg(long, env = "SUPPORTAL_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<String>,

    /// Sign-in attempts allowed per address and email every 15 minutes
    #[arg(long, env = "SUPPORTAL_SIGNIN_ATTEMPTS", default_value = "5")]
    pub signin_attempts: String,

    /// Registrations allowed per address every hour
    #[arg(long, env = "SUPPORTAL_REGISTRATIONS_PER_HOUR", default_value = "10")]
    pub registrations_per_hour: String,

    /// State-changing requests allowed per credential (or address) every minute
    #[arg(long, env = "SUPPORTAL_WRITES_PER_MINUTE", default_value = "120")]
    pub writes_per_minute: String,

    /// Video-call signals (offers, answers, ICE candidates) allowed per person every 10 minutes
    #[arg(long, env = "SUPPORTAL_CALL_SIGNALS_PER_10_MINUTES", default_value = "200")]
    pub call_signals_per_10_minutes: String,

    /// Log format: text or json
    #[arg(long, env = "SUPPORTAL_LOG_FORMAT", default_value = "text")]
    pub log_format: String,

    /// Mail server for email notifications: smtps://user:pass@host, smtp://host:587?tls=required,
    /// or smtp://localhost:25 (unencrypted); unset: no email
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of email notifications
    #[arg(long, env = "SMTP_FROM", default_value = "Supportal <supportal@localhost>")]
    pub smtp_from: String,

    /// Seconds an email or webhook send may take before it counts as failed
    #[arg(long, env = "SUPPORTAL_DELIVERY_TIMEOUT_SECS", default_value = "10")]
    pub delivery_timeout_secs: String,

    /// Seconds before the first retry of a failed delivery (then doubling, up to 6 h)
    #[arg(long, env = "SUPPORTAL_RETRY_BASE_SECS", default_value = "30")]
    pub retry_base_secs: String,

    /// Private destinations outbound requests may reach anyway: comma-separated hosts, IPs or CIDRs,
    /// each with an optional :port (e.g. `hooks.internal,10.0.5.0/24:8443`)
    #[arg(long, env = "SUPPORTAL_OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,

    /// Proxies (addresses or CIDRs, comma-separated) whose Forwarded / X-Forwarded-For headers name the client
    #[arg(long, env = "SUPPORTAL_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// Bearer token /metrics asks for (unset: open, like /healthz)
    #[arg(long, env = "SUPPORTAL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Serve /metrics on this address only (e.g. 127.0.0.1:9100), not on the portal's own
    #[arg(long, env = "SUPPORTAL_METRICS_BIND")]
    pub metrics_bind: Option<String>,

    /// P1 tickets a General customer may open per hour (Platinum: three times as many)
    #[arg(long, env = "SUPPORTAL_URGENT_TICKETS_PER_HOUR", default_value = "3")]
    pub urgent_tickets_per_hour: String,

    /// Tickets of any priority a General customer may open per hour (Platinum: three times as many)
    #[arg(long, env = "SUPPORTAL_TICKETS_PER_HOUR", default_value = "20")]
    pub tickets_per_hour: String,

    /// Days the live-update log is kept for resuming streams
    #[arg(long, env = "SUPPORTAL_EVENT_RETENTION_DAYS", default_value = "7")]
    pub event_retention_days: String,

    /// Discord application's public key (64 hex digits, from the developer portal): interactions are
    /// verified with it; unset, the Discord interactions endpoint answers 503
    #[arg(long, env = "SUPPORTAL_DISCORD_PUBLIC_KEY")]
    pub discord_public_key: Option<String>,

    /// Discord application id (for registering the slash commands)
    #[arg(long, env = "SUPPORTAL_DISCORD_APPLICATION_ID")]
    pub discord_application_id: Option<String>,

    /// Discord bot token (registering commands, sending agent replies back to Discord users)
    #[arg(long, env = "SUPPORTAL_DISCORD_BOT_TOKEN", hide_env_values = true)]
    pub discord_bot_token: Option<String>,

    /// Discord's REST API
    #[arg(long, env = "SUPPORTAL_DISCORD_API_BASE", default_value = "https://discord.com/api/v10")]
    pub discord_api_base: String,
    /// STUN servers for video calls, comma-separated (e.g. `stun:stun.example.com:3478`); unset: none
    #[arg(long, env = "SUPPORTAL_STUN_URLS", default_value = "")]
    pub stun_urls: String,

    /// TURN servers for video calls, comma-separated (e.g. `turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349`); needs SUPPORTAL_TURN_SECRET
    #[arg(long, env = "SUPPORTAL_TURN_URLS", default_value = "")]
    pub turn_urls: String,

    /// The secret shared with the TURN server (coturn's static-auth-secret), for short-lived credentials
    #[arg(long, env = "SUPPORTAL_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// Seconds a TURN credential lives at least (it also lives until the call's end)
    #[arg(long, env = "SUPPORTAL_TURN_TTL", default_value = "600")]
    pub turn_ttl: String,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    pub admin: Option<(String, String)>,
    pub demo: bool,
    pub site_root: String,
    pub db_max_connections: u32,
    pub json_logs: bool,
    pub signin_attempts: u32,
    pub registrations_per_hour: u32,
    pub writes_per_minute: u32,
    pub call_signals_per_10_minutes: u32,
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub delivery_timeout_secs: u32,
    pub retry_base_secs: u32,
    pub outbound_allow: Vec<app::outbound::AllowRule>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub metrics_token: Option<String>,
    pub metrics_bind: Option<SocketAddr>,
    pub event_retention_days: u32,
    pub urgent_tickets_per_hour: u32,
    pub tickets_per_hour: u32,
    pub discord: app::discord::DiscordConfig,
    pub ice: app::booking::signal::IceConfig,
}

impl Config {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// Where people reach the portal, for links in emails and webhooks.
    pub fn base_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// The private-address rule: the allow-list, the mail server the operator configured, and with `--demo`
    /// the portal's own address (its demo receiver) and the closed port the demo's broken webhook points at.
    pub fn outbound(&self) -> app::outbound::OutboundPolicy {
        let mut policy = app::outbound::OutboundPolicy::new(self.outbound_allow.clone());
        if let Some((host, port)) = self.smtp_url.as_deref().and_then(smtp_host_port) {
            policy = policy.with_operator_host(&host, port);
        }
        if self.demo {
            policy = policy.with_operator_host(&self.bind.ip().to_string(), self.bind.port());
            policy = policy.with_operator_host("127.0.0.1", crate::demo::CLOSED_PORT);
        }
        policy
    }

    /// The outbox worker's settings; a bad SMTP_URL or SMTP_FROM stops start-up.
    pub fn outbox(
        &self,
        outbound: &app::outbound::OutboundPolicy,
    ) -> Result<app::notify::outbox::OutboxConfig, String> {
        let timeout = std::time::Duration::from_secs(u64::from(self.delivery_timeout_secs));
        let mut outbox = app::notify::outbox::OutboxConfig::new(
            &self.base_url(),
            self.smtp_url.as_deref(),
            &self.smtp_from,
            timeout,
            outbound,
        )?;
        outbox.retry_base_secs = i64::from(self.retry_base_secs);
        Ok(outbox)
    }
}

/// The host and port of an SMTP URL (`smtps://user:pass@host` → 465, `smtp://host` → 25 unless given).
fn smtp_host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default = if scheme.eq_ignore_ascii_case("smtps") { 465 } else { 25 };
    match host_port.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => Some((host.to_string(), port.parse().ok()?)),
        _ => Some((host_port.to_string(), default)),
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        other => Err(format!("{name}: `{other}` is not a yes/no value (use true or false)")),
    }
}

fn parse_count(name: &str, value: &str, max: u32) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{name}: `{value}` is not a number from 1 to {max}")),
    }
}

/// The call room's STUN and TURN servers; TURN needs its shared secret, and a secret needs TURN servers.
fn ice_config(cli: &Cli) -> Result<app::booking::signal::IceConfig, String> {
    use app::booking::signal::{parse_ice_urls, IceConfig};
    let stun_urls =
        parse_ice_urls(&cli.stun_urls, &["stun:", "stuns:"]).map_err(|e| format!("SUPPORTAL_STUN_URLS: {e}"))?;
    let turn_urls =
        parse_ice_urls(&cli.turn_urls, &["turn:", "turns:"]).map_err(|e| format!("SUPPORTAL_TURN_URLS: {e}"))?;
    let turn_secret = cli.turn_secret.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    match (&turn_secret, turn_urls.is_empty()) {
        (None, false) => return Err("SUPPORTAL_TURN_SECRET: must be set together with SUPPORTAL_TURN_URLS".into()),
        (Some(_), true) => return Err("SUPPORTAL_TURN_URLS: must be set together with SUPPORTAL_TURN_SECRET".into()),
        (Some(secret), false) if secret.len() < 16 => {
            return Err("SUPPORTAL_TURN_SECRET: use at least 16 characters".into())
        }
        _ => {}
    }
    let turn_ttl_secs = i64::from(parse_count("SUPPORTAL_TURN_TTL", &cli.turn_ttl, 86_400)?);
    if turn_ttl_secs < 60 {
        return Err(format!("SUPPORTAL_TURN_TTL: `{}` is not a number of seconds from 60 to 86400", cli.turn_ttl));
    }
    Ok(IceConfig { stun_urls, turn_urls, turn_secret, turn_ttl_secs })
}

/// Default pool size: a few connections per core, within sane bounds.
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as u32;
    (cores * 4).clamp(4, 32)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The Discord settings, each checked: a key that is not one, an id that is not a number, an API base that is
/// not an http(s) URL stop start-up.
fn discord_config(
    public_key: Option<String>,
    application_id: Option<String>,
    bot_token: Option<String>,
    api_base: &str,
) -> Result<app::discord::DiscordConfig, String> {
    let public_key = match non_empty(public_key) {
        None => None,
        Some(k) => Some(
            app::discord::rules::parse_public_key(&k).map_err(|why| format!("SUPPORTAL_DISCORD_PUBLIC_KEY: {why}"))?,
        ),
    };
    let application_id = non_empty(application_id);
    if let Some(id) = &application_id {
        if !app::discord::rules::is_snowflake(id) {
            return Err(format!("SUPPORTAL_DISCORD_APPLICATION_ID: `{id}` is not a Discord id (digits only)"));
        }
    }
    let api_base = api_base.trim().trim_end_matches('/').to_string();
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        return Err(format!("SUPPORTAL_DISCORD_API_BASE: `{api_base}` must start with https:// or http://"));
    }
    Ok(app::discord::DiscordConfig { public_key, application_id, bot_token: non_empty(bot_token), api_base })
}

impl TryFrom<Cli> for Config {
    type Error = String;

    fn try_from(cli: Cli) -> Result<Self, String> {
        let ice = ice_config(&cli)?;
        app::db::Backend::from_url(&cli.database_url)
            .map_err(|why| format!("DATABASE_URL: `{}` {why}", cli.database_url))?;
        let bind = cli
            .bind
            .parse::<SocketAddr>()
            .map_err(|_| format!("SUPPORTAL_BIND: `{}` is not an address like 127.0.0.1:3000", cli.bind))?;
        if let Some(url) = &cli.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("SUPPORTAL_PUBLIC_URL: `{url}` must start with http:// or https://"));
            }
        }
        let admin = match (cli.admin_email, cli.admin_password) {
            (Some(e), Some(p)) => Some((e, p)),
            (None, None) => None,
            (Some(_), None) => {
                return Err("SUPPORTAL_ADMIN_PASSWORD: must be set together with SUPPORTAL_ADMIN_EMAIL".into())
            }
            (None, Some(_)) => {
                return Err("SUPPORTAL_ADMIN_EMAIL: must be set together with SUPPORTAL_ADMIN_PASSWORD".into())
            }
        };
        let db_max_connections = match cli.db_max_connections {
            None => default_pool_size(),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return Err(format!("SUPPORTAL_DB_MAX_CONNECTIONS: `{v}` is not a number from 1 to 1000")),
            },
        };
        let json_logs = match cli.log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(format!("SUPPORTAL_LOG_FORMAT: `{other}` is not text or json")),
        };
        let discord = discord_config(
            cli.discord_public_key,
            cli.discord_application_id,
            cli.discord_bot_token,
            &cli.discord_api_base,
        )?;
        Ok(Config {
            discord,
            database_url: cli.database_url,
            bind,
            public_url: cli.public_url.map(|u| u.trim_end_matches('/').to_string()),
            admin,
            demo: parse_bool("SUPPORTAL_DEMO", &cli.demo)?,
            site_root: cli.site_root,
            db_max_connections,
            json_logs,
            signin_attempts: parse_count("SUPPORTAL_SIGNIN_ATTEMPTS", &cli.signin_attempts, 100_000)?,
            registrations_per_hour: parse_count(
                "SUPPORTAL_REGISTRATIONS_PER_HOUR",
                &cli.registrations_per_hour,
                100_000,
            )?,
            writes_per_minute: parse_count("SUPPORTAL_WRITES_PER_MINUTE", &cli.writes_per_minute, 10_000_000)?,
            call_signals_per_10_minutes: parse_count(
                "SUPPORTAL_CALL_SIGNALS_PER_10_MINUTES",
                &cli.call_signals_per_10_minutes,
                10_000_000,
            )?,
            smtp_url: cli.smtp_url.filter(|u| !u.trim().is_empty()),
            smtp_from: cli.smtp_from,
            delivery_timeout_secs: parse_count("SUPPORTAL_DELIVERY_TIMEOUT_SECS", &cli.delivery_timeout_secs, 300)?,
            retry_base_secs: parse_count("SUPPORTAL_RETRY_BASE_SECS", &cli.retry_base_secs, 86_400)?,
            outbound_allow: app::outbound::parse_allow_list(&cli.outbound_allow)
                .map_err(|why| format!("SUPPORTAL_OUTBOUND_ALLOW: {why}"))?,
            trusted_proxies: app::client_address::parse_trusted(&cli.trusted_proxies)
                .map_err(|why| format!("SUPPORTAL_TRUSTED_PROXIES: {why}"))?,
            metrics_token: match cli.metrics_token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
                Some(t) if t.len() < 16 => {
                    return Err("SUPPORTAL_METRICS_TOKEN: use at least 16 characters".into());
                }
                other => other,
            },
            urgent_tickets_per_hour: parse_count(
                "SUPPORTAL_URGENT_TICKETS_PER_HOUR",
                &cli.urgent_tickets_per_hour,
                100_000,
            )?,
            tickets_per_hour: parse_count("SUPPORTAL_TICKETS_PER_HOUR", &cli.tickets_per_hour, 100_000)?,
            event_retention_days: parse_count("SUPPORTAL_EVENT_RETENTION_DAYS", &cli.event_retention_days, 3650)?,
            ice,
            metrics_bind: match cli.metrics_bind.filter(|b| !b.trim().is_empty()) {
                None => None,
                Some(b) => Some(
                    b.trim()
                        .parse::<SocketAddr>()
                        .map_err(|_| format!("SUPPORTAL_METRICS_BIND: `{b}` is not an address like 127.0.0.1:9100"))?,
                ),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut argv = vec!["supportal"];
        argv.extend_from_slice(args);
        Config::try_from(Cli::try_parse_from(argv).map_err(|e| e.to_string())?)
    }

    #[test]
    fn defaults_are_sqlite_on_localhost() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://data/supportal.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert!(!c.demo && !c.secure_cookies());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases = [
            (vec!["--bind", "localhost"], "SUPPORTAL_BIND"),
            (vec!["--database-url", "mysql://x"], "DATABASE_URL"),
            (vec!["--demo", "maybe"], "SUPPORTAL_DEMO"),
            (vec!["--admin-email", "a@b.co"], "SUPPORTAL_ADMIN_PASSWORD"),
            (vec!["--db-max-connections", "0"], "SUPPORTAL_DB_MAX_CONNECTIONS"),
            (vec!["--public-url", "ftp://x"], "SUPPORTAL_PUBLIC_URL"),
            (vec!["--log-format", "xml"], "SUPPORTAL_LOG_FORMAT"),
            (vec!["--signin-attempts", "0"], "SUPPORTAL_SIGNIN_ATTEMPTS"),
            (vec!["--registrations-per-hour", "lots"], "SUPPORTAL_REGISTRATIONS_PER_HOUR"),
            (vec!["--delivery-timeout-secs", "0"], "SUPPORTAL_DELIVERY_TIMEOUT_SECS"),
            (vec!["--retry-base-secs", "soon"], "SUPPORTAL_RETRY_BASE_SECS"),
            (vec!["--outbound-allow", "10.0.0.0/40"], "SUPPORTAL_OUTBOUND_ALLOW"),
            (vec!["--trusted-proxies", "the proxy"], "SUPPORTAL_TRUSTED_PROXIES"),
            (vec!["--metrics-token", "short"], "SUPPORTAL_METRICS_TOKEN"),
            (vec!["--metrics-bind", "metrics"], "SUPPORTAL_METRICS_BIND"),
            (vec!["--discord-public-key", "abc"], "SUPPORTAL_DISCORD_PUBLIC_KEY"),
            (vec!["--discord-application-id", "my-app"], "SUPPORTAL_DISCORD_APPLICATION_ID"),
            (vec!["--discord-api-base", "discord.com"], "SUPPORTAL_DISCORD_API_BASE"),
            (vec!["--stun-urls", "http://stun.example.com"], "SUPPORTAL_STUN_URLS"),
            (vec!["--turn-urls", "turn:turn.example.com"], "SUPPORTAL_TURN_SECRET"),
            (vec!["--turn-secret", "a secret long enough"], "SUPPORTAL_TURN_URLS"),
            (vec!["--turn-urls", "turn:t.example.com", "--turn-secret", "short"], "SUPPORTAL_TURN_SECRET"),
            (vec!["--turn-urls", "stun:t.example.com", "--turn-secret", "a secret long enough"], "SUPPORTAL_TURN_URLS"),
            (vec!["--turn-ttl", "30"], "SUPPORTAL_TURN_TTL"),
        ];
        for (args, setting) in cases {
            let err = parse(&args).unwrap_err();
            assert!(err.starts_with(setting), "{args:?} → {err}");
            assert_eq!(err.lines().count(), 1);
        }
    }

    #[test]
    fn the_mail_server_and_the_demo_receiver_are_allowed_destinations() {
        assert_eq!(smtp_host_port("smtp://localhost:2525"), Some(("localhost".into(), 2525)));
        assert_eq!(smtp_host_port("smtps://u:p@mail.example.com"), Some(("mail.example.com".into(), 465)));
        assert_eq!(smtp_host_port("smtp://10.0.0.5?tls=required"), Some(("10.0.0.5".into(), 25)));
        let sock = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        let c = parse(&["--smtp-url", "smtp://10.0.0.5:2525", "--demo", "--bind", "127.0.0.1:3100"]).unwrap();
        let policy = c.outbound();
        let allowed =
            |host: &str, addr: &str| !app::outbound::permitted(policy.rules(), host, &[sock(addr)]).is_empty();
        assert!(allowed("10.0.0.5", "10.0.0.5:2525"));
        assert!(allowed("127.0.0.1", "127.0.0.1:3100"));
        assert!(!allowed("127.0.0.1", "127.0.0.1:22"));
        let plain = parse(&["--bind", "127.0.0.1:3100"]).unwrap().outbound();
        assert!(app::outbound::permitted(plain.rules(), "127.0.0.1", &[sock("127.0.0.1:3100")]).is_empty());
    }

    #[test]
    fn video_calls_have_no_ice_servers_unless_configured() {
        let c = parse(&[]).unwrap();
        assert!(c.ice.stun_urls.is_empty() && c.ice.turn_urls.is_empty() && c.ice.turn_secret.is_none());
        assert_eq!(c.ice.turn_ttl_secs, 600);
        let c = parse(&[
            "--stun-urls",
            "stun:stun.example.com",
            "--turn-urls",
            "turn:127.0.0.1:3478?transport=udp, turns:turn.example.com:5349",
            "--turn-secret",
            "a secret long enough",
            "--turn-ttl",
            "900",
        ])
        .unwrap();
        assert_eq!(c.ice.turn_urls.len(), 2);
        assert_eq!((c.ice.turn_secret.as_deref(), c.ice.turn_ttl_secs), (Some("a secret long enough"), 900));
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let c = parse(&["--public-url", "https://help.example.com/", "--demo"]).unwrap();
        assert!(c.secure_cookies() && c.demo);
        assert_eq!(c.public_url.as_deref(), Some("https://help.example.com"));
    }
}
