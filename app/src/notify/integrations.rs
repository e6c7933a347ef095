//! The rules of the integrations: which events a webhook or the Discord channel may take, how a
//! delivery is shaped and signed, when it is retried, and which emails a user wants. Pure; the
//! outbox (`outbox.rs`) does the I/O.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Events an outgoing webhook can subscribe to, with the label the settings page shows.
pub const WEBHOOK_EVENTS: &[(&str, &str)] = &[
    ("ticket.created", "New ticket"),
    ("ticket.reply", "Agent reply"),
    ("ticket.escalated", "Ticket escalated"),
    ("sla.at_risk", "SLA at risk"),
    ("sla.breached", "SLA breached"),
    ("booking.created", "Call booked"),
    ("booking.cancelled", "Call cancelled"),
    ("booking.reminder", "Call reminder"),
    ("feature.status", "Feature status changed"),
];

/// What the Discord channel can post. A new ticket goes there only when it is P1.
pub const DISCORD_EVENTS: &[(&str, &str)] = &[
    ("ticket.new_p1", "New P1 ticket"),
    ("ticket.escalated", "Ticket escalated"),
    ("sla.at_risk", "SLA at risk"),
    ("sla.breached", "SLA breached"),
    ("booking.created", "Call booked"),
    ("booking.cancelled", "Call cancelled"),
    ("booking.reminder", "Call reminder"),
    ("feature.status", "Feature status changed"),
];

/// The event a "Send test" delivers.
pub const TEST_EVENT: &str = "ping";

/// A row is given up after this many tries.
pub const MAX_ATTEMPTS: i64 = 8;
/// A webhook whose deliveries failed this many times in a row is switched off.
pub const DISABLE_AFTER_FAILURES: i64 = 5;
/// The longest wait between two tries.
pub const MAX_BACKOFF_SECS: i64 = 6 * 3600;

/// Seconds to wait after failed try number `attempts` (1-based): `base`, then doubling, capped.
pub fn backoff_secs(attempts: i64, base_secs: i64) -> i64 {
    let doublings = (attempts.max(1) - 1).min(30) as u32;
    base_secs.max(1).saturating_mul(1_i64 << doublings).min(MAX_BACKOFF_SECS)
}

/// Something that happened that the outside world may hear about. `key` names the occurrence
/// (`ticket:12`, `booking:4:reminder_24h`…): publishing the same event twice sends it once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationEvent {
    pub kind: String,
    pub key: String,
    /// One line for people: "#12 Exports fail: new P1 ticket".
    pub title: String,
    /// Where it is in the portal (`/tickets/12`).
    pub path: Option<String>,
    /// The facts, for machines.
    pub data: Value,
}

impl IntegrationEvent {
    pub fn new(
        kind: &str,
        key: impl Into<String>,
        title: impl Into<String>,
        path: Option<String>,
        data: Value,
    ) -> Self {
        IntegrationEvent { kind: kind.to_string(), key: key.into(), title: title.into(), path, data }
    }

    /// The id receivers de-duplicate on; also the `X-Supportal-Delivery` header.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind, self.key)
    }
}

/// Only whole URLs on http or https, with a host and no credentials in them.
pub fn check_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("Enter the URL to send to.".into());
    }
    if url.len() > 2000 {
        return Err("Use a URL of at most 2000 characters.".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = match (lower.strip_prefix("https://"), lower.strip_prefix("http://")) {
        (Some(_), _) => &url["https://".len()..],
        (_, Some(_)) => &url["http://".len()..],
        _ => return Err("Use an http:// or https:// URL.".into()),
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL cannot contain spaces.".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("Put credentials in the secret, not in the URL.".into());
    }
    // `[v6]` or `[v6]:port`, else `host` or `host:port`.
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let Some((v6, after)) = rest.split_once(']') else { return Err("The URL needs a host name.".into()) };
            match after {
                "" => (v6, None),
                after => (v6, Some(after.strip_prefix(':').ok_or("The port must be a number.")?)),
            }
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        if port.parse::<u16>().is_err() || port.starts_with('+') {
            return Err("The port must be a number.".into());
        }
    }
    if host.is_empty() || host.starts_with('.') || host.contains(['<', '>', '"', '\\', '{', '}', '|', '^', '`']) {
        return Err("The URL needs a host name.".into());
    }
    Ok(url.to_string())
}

/// The events chosen from a list, in the list's order, known ones only; at least one.
pub fn choose_events(chosen: &[String], allowed: &[(&str, &str)]) -> Result<Vec<String>, String> {
    for kind in chosen {
        if !allowed.iter().any(|(k, _)| k == kind) {
            return Err(format!("`{kind}` is not an event you can subscribe to."));
        }
    }
    let events: Vec<String> =
        allowed.iter().filter(|(k, _)| chosen.iter().any(|c| c == k)).map(|(k, _)| k.to_string()).collect();
    if events.is_empty() {
        return Err("Choose at least one event.".into());
    }
    Ok(events)
}

/// Stored as one space-separated column.
pub fn events_text(events: &[String]) -> String {
    events.join(" ")
}

pub fn events_from_text(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// Does a webhook subscribed to `events` take this event? The test ping goes only where it is sent.
pub fn webhook_wants(events: &[String], kind: &str) -> bool {
    kind != TEST_EVENT && events.iter().any(|e| e == kind)
}

/// Does the Discord channel post this event? New tickets only when P1.
pub fn discord_wants(events: &[String], event: &IntegrationEvent) -> bool {
    let chosen = |k: &str| events.iter().any(|e| e == k);
    match event.kind.as_str() {
        "ticket.created" => chosen("ticket.new_p1") && event.data["priority"] == "P1",
        TEST_EVENT => false,
        kind => chosen(kind),
    }
}

fn absolute(base_url: &str, path: Option<&str>) -> Option<String> {
    path.filter(|p| super::is_portal_path(p)).map(|p| format!("{}{p}", base_url.trim_end_matches('/')))
}

/// The JSON body an outgoing webhook receives.
pub fn webhook_body(event: &IntegrationEvent, created_at: i64, base_url: &str) -> String {
    json!({
        "id": event.id(),
        "type": event.kind,
        "created_at": created_at,
        "title": event.title,
        "url": absolute(base_url, event.path.as_deref()),
        "data": event.data,
    })
    .to_string()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// An outgoing webhook as managers see it. The secret is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    /// Deliveries in the log, and how many of them arrived.
    pub deliveries: i64,
    pub delivered: i64,
}

/// A webhook just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

/// One row of a delivery log: an event sent (or being sent) to one place, and how its last try went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    pub event_id: String,
    /// `pending`, `delivered`, `failed` or `skipped`.
    pub status: String,
    pub attempts: i64,
    pub status_code: Option<i64>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    /// When the next try is due, while pending.
    pub next_attempt_at: Option<i64>,
}

/// The Discord channel's settings as the page shows them: the URL masked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordSettings {
    pub url_masked: Option<String>,
    pub events: Vec<String>,
}

/// Colour of the embed's edge: red for trouble, amber for risk, blue for calls, green otherwise.
fn discord_colour(kind: &str) -> u32 {
    match kind {
        "ticket.created" | "sla.breached" => 0xC0392B,
        "sla.at_risk" | "ticket.escalated" => 0xE67E22,
        "booking.created" | "booking.reminder" => 0x2E86C1,
        "booking.cancelled" => 0x7F8C8D,
        _ => 0x27AE60,
    }
}

/// Facts worth a field in the embed, with their labels, in this order.
const DISCORD_FIELDS: &[(&str, &str)] = &[
    ("priority", "Priority"),
    ("tier", "Tier"),
    ("category", "Category"),
    ("clock", "Clock"),
    ("level", "Level"),
    ("status", "Status"),
    ("starts_at_text", "When"),
    ("duration_minutes", "Length (min)"),
    ("platform", "Platform"),
    ("agent", "Agent"),
    ("reason", "Reason"),
];

/// The Discord webhook body: one embed, within Discord's limits (title 256, field value 1024).
pub fn discord_payload(event: &IntegrationEvent, created_at: i64, base_url: &str) -> Value {
    let fields: Vec<Value> = DISCORD_FIELDS
        .iter()
        .filter_map(|(key, label)| {
            let value = match &event.data[*key] {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some(json!({ "name": label, "value": clip(&value, 1024), "inline": true }))
        })
        .collect();
    let mut embed = json!({
        "title": clip(&event.title, 256),
        "color": discord_colour(&event.kind),
        "fields": fields,
        "footer": { "text": format!("Supportal · {}", event.kind) },
    });
    if let Some(url) = absolute(base_url, event.path.as_deref()) {
        embed["url"] = json!(url);
    }
    if let Ok(at) = jiff::Timestamp::from_second(created_at) {
        embed["timestamp"] = json!(at.to_string());
    }
    json!({ "username": "Supportal", "allowed_mentions": { "parse": [] }, "embeds": [embed] })
}

/// The kinds of email a user can turn off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPreferences {
    pub tickets: bool,
    pub sla: bool,
    pub bookings: bool,
    pub features: bool,
}

impl Default for EmailPreferences {
    fn default() -> Self {
        EmailPreferences { tickets: true, sla: true, bookings: true, features: true }
    }
}

impl EmailPreferences {
    /// Whether a notification of `kind` also goes out by email. Kinds outside the four groups
    /// (a disabled webhook, say) always do: they need someone's attention.
    pub fn wants(&self, kind: &str) -> bool {
        match kind.split('.').next().unwrap_or_default() {
            "ticket" => self.tickets,
            "sla" => self.sla,
            "booking" => self.bookings,
            "feature" => self.features,
            _ => true,
        }
    }
}

/// One email ready to send: who to, what, and an optional calendar invitation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailMessage {
    pub to: String,
    pub name: String,
    pub kind: String,
    pub text: String,
    pub path: Option<String>,
    /// The booking whose invitation is attached; the worker makes the `.ics` when it sends.
    #[serde(default)]
    pub invite: Option<i64>,
    /// The iCalendar file (`invite.ics`) to attach.
    #[serde(default)]
    pub ics: Option<String>,
    /// A subject of its own (account mail); otherwise the text, clipped.
    #[serde(default)]
    pub subject: Option<String>,
}

/// Subject, plain text and HTML of an email. The HTML carries the same words, escaped.
pub fn compose_email(message: &EmailMessage, base_url: &str) -> (String, String, String) {
    let subject = format!("[Supportal] {}", clip(message.subject.as_deref().unwrap_or(&message.text), 120));
    let link = absolute(base_url, message.path.as_deref());
    let preferences = absolute(base_url, Some("/notifications")).unwrap_or_default();
    let mut text = format!("Hello {},\n\n{}\n", message.name, message.text);
    if let Some(link) = &link {
        text.push_str(&format!("\nOpen it in Supportal: {link}\n"));
    }
    if message.ics.is_some() {
        text.push_str("\nThe calendar invitation is attached (invite.ics).\n");
    }
    text.push_str(&format!("\n— Supportal\nChoose which emails you get: {preferences}\n"));
    let open = link
        .as_ref()
        .map(|l| format!(r#"<p><a href="{}">Open it in Supportal</a></p>"#, escape_html(l)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hello {},</p><p>{}</p>{open}\
         <p style=\"color:#555\">— Supportal · <a href=\"{}\">Choose which emails you get</a></p></body></html>",
        escape_html(&message.name),
        escape_html(&message.text),
        escape_html(&preferences),
    );
    (subject, text, html)
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A secret URL shown without its secret part: the Discord token is most of the path.
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return "…".into() };
    let after = &url[scheme_end + 3..];
    let host_end = after.find('/').map(|i| scheme_end + 3 + i).unwrap_or(url.len());
    let tail: String = url.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    if host_end >= url.len() {
        return url.to_string();
    }
    format!("{}/…{tail}", &url[..host_end])
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as in the `X-Supportal-Signature` header.
#[cfg(feature = "ssr")]
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes a key of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new signing secret: 32 random bytes, hex, with a prefix that says what it is.
#[cfg(feature = "ssr")]
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_secs(1, 30), 30);
        assert_eq!(backoff_secs(2, 30), 60);
        assert_eq!(backoff_secs(4, 30), 240);
        assert_eq!(backoff_secs(20, 30), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(0, 0), 1);
        assert_eq!(backoff_secs(i64::MAX, i64::MAX), MAX_BACKOFF_SECS);
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        for good in [
            "https://hooks.example.com/x",
            "http://127.0.0.1:8080/hook?a=1",
            "HTTPS://Example.com",
            "http://[2606:4700::1111]/x",
            "http://[2606:4700::1111]:8443/x",
        ] {
            assert_eq!(check_url(good).as_deref(), Ok(good), "{good}");
        }
        assert_eq!(check_url("  https://a.example/  ").as_deref(), Ok("https://a.example/"));
        for bad in [
            "",
            "ftp://example.com",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://user:pw@example.com/",
            "https://exa mple.com",
            "http://example.com:99999/",
            "http://[2606:4700::1111]x/",
            "http://[2606:4700::1111/",
            "file:///etc/passwd",
            "example.com/hook",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_are_chosen_from_the_list() {
        let chosen = vec!["sla.breached".to_string(), "ticket.created".to_string(), "sla.breached".to_string()];
        assert_eq!(choose_events(&chosen, WEBHOOK_EVENTS), Ok(vec!["ticket.created".into(), "sla.breached".into()]));
        assert!(choose_events(&[], WEBHOOK_EVENTS).is_err());
        assert!(choose_events(&["ticket.deleted".into()], WEBHOOK_EVENTS).is_err());
        assert!(choose_events(&["ticket.new_p1".into()], WEBHOOK_EVENTS).is_err());
        assert_eq!(events_from_text(&events_text(&chosen)), chosen);
    }

    fn ticket_created(priority: &str) -> IntegrationEvent {
        IntegrationEvent::new(
            "ticket.created",
            "ticket:12",
            "#12 Exports fail",
            Some("/tickets/12".into()),
            json!({ "ticket_id": 12, "priority": priority, "tier": "platinum", "category": "technical" }),
        )
    }

    #[test]
    fn discord_takes_new_tickets_only_when_p1() {
        let chosen = vec!["ticket.new_p1".to_string(), "sla.breached".to_string()];
        assert!(discord_wants(&chosen, &ticket_created("P1")));
        assert!(!discord_wants(&chosen, &ticket_created("P2")));
        assert!(!discord_wants(&["sla.breached".into()], &ticket_created("P1")));
        let breach = IntegrationEvent::new("sla.breached", "t", "x", None, json!({}));
        assert!(discord_wants(&chosen, &breach));
        let ping = IntegrationEvent::new(TEST_EVENT, "t", "x", None, json!({}));
        assert!(!discord_wants(&chosen, &ping));
        assert!(!webhook_wants(&["ping".into()], TEST_EVENT));
        assert!(webhook_wants(&["ticket.created".into()], "ticket.created"));
    }

    #[test]
    fn discord_embed_shape() {
        let payload = discord_payload(&ticket_created("P1"), 1_800_000_000, "https://help.example.com/");
        let embed = &payload["embeds"][0];
        assert_eq!(embed["title"], "#12 Exports fail");
        assert_eq!(embed["url"], "https://help.example.com/tickets/12");
        assert_eq!(embed["color"], 0xC0392B);
        assert_eq!(embed["fields"][0], json!({ "name": "Priority", "value": "P1", "inline": true }));
        assert_eq!(embed["fields"].as_array().map(Vec::len), Some(3));
        assert_eq!(embed["timestamp"], "2027-01-15T08:00:00Z");
        assert_eq!(payload["allowed_mentions"]["parse"], json!([]));
        let long = IntegrationEvent::new("sla.breached", "k", "x".repeat(300), Some("//evil".into()), json!({}));
        let payload = discord_payload(&long, 0, "https://h.example");
        assert_eq!(payload["embeds"][0]["title"].as_str().map(|t| t.chars().count()), Some(256));
        assert!(payload["embeds"][0].get("url").is_none());
    }

    #[test]
    fn webhook_body_names_the_event() {
        let body: Value = serde_json::from_str(&webhook_body(&ticket_created("P2"), 5, "http://h.example")).unwrap();
        assert_eq!(body["id"], "ticket.created:ticket:12");
        assert_eq!(body["type"], "ticket.created");
        assert_eq!(body["url"], "http://h.example/tickets/12");
        assert_eq!(body["data"]["priority"], "P2");
    }

    #[test]
    fn email_preferences_by_group() {
        let prefs = EmailPreferences { tickets: false, sla: true, bookings: false, features: true };
        assert!(!prefs.wants("ticket.reply"));
        assert!(prefs.wants("sla.breached"));
        assert!(!prefs.wants("booking.created"));
        assert!(prefs.wants("feature.status"));
        assert!(prefs.wants("webhook.disabled"));
    }

    #[test]
    fn email_text_and_html_say_the_same_escaped() {
        let message = EmailMessage {
            to: "a@example.com".into(),
            name: "Ada <b>".into(),
            kind: "ticket.reply".into(),
            text: "#3 <script>x</script>: an agent replied".into(),
            path: Some("/tickets/3".into()),
            invite: Some(4),
            ics: Some("BEGIN:VCALENDAR".into()),
            subject: None,
        };
        let (subject, text, html) = compose_email(&message, "https://help.example.com");
        assert_eq!(subject, "[Supportal] #3 <script>x</script>: an agent replied");
        assert!(text.contains("Hello Ada <b>,"));
        assert!(text.contains("https://help.example.com/tickets/3"));
        assert!(text.contains("invite.ics"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains(r#"href="https://help.example.com/tickets/3""#));
    }

    #[test]
    fn masked_urls_hide_the_token() {
        assert_eq!(mask_url("https://discord.com/api/webhooks/123/abcdefghijkl"), "https://discord.com/…ijkl");
        assert_eq!(mask_url("https://h.example"), "https://h.example");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_and_body() {
        // Reference value from `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test`.
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert!(new_secret().starts_with("whsec_"));
        assert_eq!(new_secret().len(), 6 + 64);
        assert_ne!(new_secret(), new_secret());
    }
}
