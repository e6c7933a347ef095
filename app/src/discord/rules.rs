//! Discord's Interactions protocol as pure functions: request signatures, what an interaction asks for,
//! the replies we send back, and which ticket category a channel stands for. No I/O here; the service
//! ([`super::service`]) reads and writes the database and calls Discord's REST API.

use crate::sla::Priority;
use crate::tickets::Category;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{json, Value};

/// Discord's own limit on a request's age is not published; five minutes either way tolerates clock drift
/// and still makes a captured request useless soon after (replays inside the window are caught by the
/// interaction id, see the service).
pub const MAX_SKEW_SECS: i64 = 300;

/// Flag on a reply only its caller sees.
pub const EPHEMERAL: u64 = 1 << 6;

/// Interaction types (Discord's numbers).
pub const PING: u64 = 1;
pub const APPLICATION_COMMAND: u64 = 2;
pub const MESSAGE_COMPONENT: u64 = 3;
pub const MODAL_SUBMIT: u64 = 5;

/// Reply types.
pub const PONG: u64 = 1;
pub const CHANNEL_MESSAGE: u64 = 4;
pub const DEFERRED_CHANNEL_MESSAGE: u64 = 5;
pub const UPDATE_MESSAGE: u64 = 7;
pub const MODAL: u64 = 9;

/// Longest text in a Discord modal field (Discord's cap) and in one message.
pub const MODAL_TEXT_MAX: usize = 4000;
pub const MESSAGE_MAX: usize = 2000;

/// The name of the message command staff use on a post.
pub const MESSAGE_COMMAND: &str = "Open a support ticket from this message";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureRefusal {
    /// A header is missing or not what Discord sends.
    Missing,
    /// The timestamp is too far from now.
    Stale,
    /// The signature does not verify with our key over this timestamp and body.
    Invalid,
}

impl SignatureRefusal {
    pub fn message(self) -> &'static str {
        match self {
            SignatureRefusal::Missing => "The request is not signed.",
            SignatureRefusal::Stale => "The request's timestamp is too old or in the future.",
            SignatureRefusal::Invalid => "The request's signature does not verify.",
        }
    }
}

/// The application's public key as the developer portal shows it (64 hex digits).
pub fn parse_public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| "not hexadecimal".to_string())?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| "not 32 bytes (64 hex digits)".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_string())
}

/// Checks `X-Signature-Ed25519` over `X-Signature-Timestamp` + the raw body, and that the timestamp (Unix
/// seconds) is within [`MAX_SKEW_SECS`] of `now`.
pub fn verify(
    key: &VerifyingKey,
    timestamp: Option<&str>,
    signature_hex: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureRefusal> {
    let (Some(timestamp), Some(signature_hex)) = (timestamp, signature_hex) else {
        return Err(SignatureRefusal::Missing);
    };
    let signature = hex::decode(signature_hex.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(SignatureRefusal::Missing)?;
    let seconds: i64 = timestamp.trim().parse().map_err(|_| SignatureRefusal::Missing)?;
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    // The signature first: an unsigned request learns nothing, not even whether its clock is right.
    key.verify(&message, &signature).map_err(|_| SignatureRefusal::Invalid)?;
    if (now - seconds).abs() > MAX_SKEW_SECS {
        return Err(SignatureRefusal::Stale);
    }
    Ok(())
}

/// Who used an interaction: `member.user` in a server, `user` in a DM.
pub fn caller(interaction: &Value) -> Option<(String, String)> {
    let user = interaction.get("member").and_then(|m| m.get("user")).or_else(|| interaction.get("user"))?;
    let id = user.get("id")?.as_str().filter(|id| is_snowflake(id))?.to_string();
    let name = user
        .get("global_name")
        .and_then(Value::as_str)
        .or_else(|| user.get("username").and_then(Value::as_str))
        .unwrap_or("someone")
        .chars()
        .take(64)
        .collect();
    Some((id, name))
}

/// Discord's ids are decimal 64-bit numbers.
pub fn is_snowflake(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the caller may moderate in the server (Manage Messages, or Administrator): who may turn a
/// post into a ticket besides portal staff.
pub fn member_is_moderator(interaction: &Value) -> bool {
    let permissions = interaction
        .get("member")
        .and_then(|m| m.get("permissions"))
        .and_then(Value::as_str)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0);
    const ADMINISTRATOR: u64 = 1 << 3;
    const MANAGE_MESSAGES: u64 = 1 << 13;
    permissions & (ADMINISTRATOR | MANAGE_MESSAGES) != 0
}

/// What an interaction asks for, once parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Ping,
    Link,
    /// `/ticket`: show the form.
    TicketForm,
    /// The form sent back.
    TicketSubmit {
        subject: String,
        description: String,
        priority: String,
    },
    Status {
        ticket: Option<i64>,
    },
    Hours,
    Book,
    /// A time button from `/book`: Unix start and minutes.
    BookSlot {
        start: i64,
        minutes: i64,
    },
    Feature {
        title: String,
    },
    Vote {
        feature_id: i64,
    },
    /// "Post it as new" from `/feature`.
    FeaturePost {
        title: String,
    },
    /// The message command on a post.
    FromMessage {
        author_id: String,
        author_name: String,
        content: String,
        message_id: String,
    },
    Unknown(String),
}

fn option<'a>(data: &'a Value, name: &str) -> Option<&'a Value> {
    data.get("options")?.as_array()?.iter().find(|o| o.get("name").and_then(Value::as_str) == Some(name))?.get("value")
}

/// The value a modal's text field came back with.
fn modal_field(data: &Value, custom_id: &str) -> String {
    let rows = data.get("components").and_then(Value::as_array).cloned().unwrap_or_default();
    rows.iter()
        .flat_map(|row| {
            // Action rows hold the inputs; newer "label" components hold one as `component`.
            let inner = row.get("components").and_then(Value::as_array).cloned().unwrap_or_default();
            inner.into_iter().chain(row.get("component").cloned())
        })
        .find(|c| c.get("custom_id").and_then(Value::as_str) == Some(custom_id))
        .and_then(|c| c.get("value").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// Reads an interaction body into a [`Request`]; `Err` for a body that is not an interaction at all.
pub fn parse(interaction: &Value) -> Result<Request, String> {
    let kind = interaction.get("type").and_then(Value::as_u64).ok_or("no interaction type")?;
    let data = interaction.get("data").cloned().unwrap_or(Value::Null);
    match kind {
        PING => Ok(Request::Ping),
        APPLICATION_COMMAND => {
            let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
            // Message commands (type 3) carry the message they were used on.
            if data.get("type").and_then(Value::as_u64) == Some(3) || name == MESSAGE_COMMAND {
                let target = data.get("target_id").and_then(Value::as_str).unwrap_or_default();
                let message = data.get("resolved").and_then(|r| r.get("messages")).and_then(|m| m.get(target));
                let Some(message) = message else { return Ok(Request::Unknown(name.to_string())) };
                let author = message.get("author").cloned().unwrap_or(Value::Null);
                let (author_id, author_name) = caller(&json!({ "user": author })).unwrap_or_default();
                return Ok(Request::FromMessage {
                    author_id,
                    author_name,
                    content: message.get("content").and_then(Value::as_str).unwrap_or_default().to_string(),
                    message_id: target.to_string(),
                });
            }
            Ok(match name {
                "link" => Request::Link,
                "ticket" => Request::TicketForm,
                "status" => Request::Status { ticket: option(&data, "ticket").and_then(Value::as_i64) },
                "hours" => Request::Hours,
                "book" => Request::Book,
                "feature" => Request::Feature {
                    title: option(&data, "title").and_then(Value::as_str).unwrap_or_default().to_string(),
                },
                other => Request::Unknown(other.to_string()),
            })
        }
        MESSAGE_COMPONENT => {
            let id = data.get("custom_id").and_then(Value::as_str).unwrap_or_default();
            Ok(parse_custom_id(id).unwrap_or_else(|| Request::Unknown(id.to_string())))
        }
        MODAL_SUBMIT => {
            let id = data.get("custom_id").and_then(Value::as_str).unwrap_or_default();
            if id != "ticket" {
                return Ok(Request::Unknown(id.to_string()));
            }
            Ok(Request::TicketSubmit {
                subject: modal_field(&data, "subject"),
                description: modal_field(&data, "description"),
                priority: modal_field(&data, "priority"),
            })
        }
        other => Ok(Request::Unknown(format!("interaction type {other}"))),
    }
}

/// Requests whose answer may take longer than Discord waits (3 s): answered deferred, then edited.
pub fn is_slow(request: &Request) -> bool {
    matches!(request, Request::Book | Request::Feature { .. })
}

/// Buttons name what they do in their custom id (at most 100 characters, Discord's cap).
fn parse_custom_id(id: &str) -> Option<Request> {
    let mut parts = id.splitn(3, ':');
    match (parts.next()?, parts.next(), parts.next()) {
        ("book", Some(start), Some(minutes)) => {
            Some(Request::BookSlot { start: start.parse().ok()?, minutes: minutes.parse().ok()? })
        }
        ("vote", Some(id), None) => Some(Request::Vote { feature_id: id.parse().ok().filter(|i| *i > 0)? }),
        ("feature_new", Some(_), _) => Some(Request::FeaturePost { title: id["feature_new:".len()..].to_string() }),
        _ => None,
    }
}

/// A button's custom id for posting `title` as a new request (cut to Discord's 100 characters).
pub fn feature_post_id(title: &str) -> String {
    let mut id = String::from("feature_new:");
    for c in title.chars() {
        if id.len() + c.len_utf8() > 100 {
            break;
        }
        id.push(c);
    }
    id
}

/// Channel names as people write them: `#Bug-Reports` → `bug-reports`.
pub fn normalise_channel(name: &str) -> String {
    name.trim().trim_start_matches('#').trim().to_ascii_lowercase()
}

/// The support plan's channels and the category each stands for; `None`: the form's default (a question).
/// #platinum-support has no category of its own: the tier comes from the account, and Platinum tickets are
/// first in the queue already.
pub fn default_category(channel: &str) -> Option<Category> {
    match normalise_channel(channel).as_str() {
        "bug-reports" => Some(Category::Bug),
        "feature-requests" => Some(Category::FeatureRequest),
        "general-support" | "platinum-support" => Some(Category::Question),
        _ => None,
    }
}

/// The category for a channel: the managers' mapping first, then the plan's defaults, then a question.
pub fn category_for(channel: Option<&str>, mapping: &[(String, Category)]) -> Category {
    let Some(channel) = channel.map(normalise_channel) else { return Category::Question };
    mapping
        .iter()
        .find(|(name, _)| normalise_channel(name) == channel)
        .map(|(_, c)| *c)
        .or_else(|| default_category(&channel))
        .unwrap_or(Category::Question)
}

/// "p2", " P2 ", "2", "P2 High" → P2.
pub fn parse_priority(raw: &str) -> Result<Priority, String> {
    let t = raw.trim();
    let first = t.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
    let code = if first.starts_with('P') { first } else { format!("P{first}") };
    code.parse::<Priority>().map_err(|_| "Write P1, P2, P3 or P4 (see the guidance in the form).".to_string())
}

/// A reply only the caller sees.
pub fn ephemeral(content: &str) -> Value {
    json!({ "type": CHANNEL_MESSAGE, "data": { "content": cut(content, MESSAGE_MAX), "flags": EPHEMERAL } })
}

/// An ephemeral reply with rows of buttons: each `(custom_id, label)`; at most 5 per row, 5 rows.
pub fn with_buttons(content: &str, buttons: &[(String, String)]) -> Value {
    let rows: Vec<Value> = buttons
        .chunks(5)
        .take(5)
        .map(|row| {
            let components: Vec<Value> = row
                .iter()
                .map(|(id, label)| json!({ "type": 2, "style": 1, "custom_id": id, "label": cut(label, 80) }))
                .collect();
            json!({ "type": 1, "components": components })
        })
        .collect();
    json!({ "type": CHANNEL_MESSAGE, "data": { "content": cut(content, MESSAGE_MAX), "flags": EPHEMERAL, "components": rows } })
}

/// The `/ticket` form: subject, description and priority with the plan's guidance.
pub fn ticket_modal() -> Value {
    let input = |id: &str, label: &str, style: u64, max: usize, placeholder: &str, required: bool| {
        json!({ "type": 1, "components": [{
            "type": 4, "custom_id": id, "label": label, "style": style, "max_length": max,
            "placeholder": placeholder, "required": required
        }] })
    };
    json!({ "type": MODAL, "data": { "custom_id": "ticket", "title": "Open a support ticket", "components": [
        input("subject", "Subject", 1, crate::tickets::SUBJECT_MAX, "What is wrong, in a line", true),
        input("description", "Description", 2, MODAL_TEXT_MAX, "What happened, what you expected, steps to see it", true),
        input("priority", "Priority: P1, P2, P3 or P4", 1, 20,
              "P1 down/data loss/security · P2 major feature · P3 minor · P4 question", true),
    ] } })
}

/// Cuts text to `max` characters (Discord counts characters), ending in "…" when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Keeps Discord from pinging anyone or everyone through text we pass on.
pub fn defuse_mentions(text: &str) -> String {
    text.replace("@everyone", "@\u{200b}everyone").replace("@here", "@\u{200b}here").replace("<@", "<@\u{200b}")
}

/// A Discord timestamp that each reader sees in their own time zone, with how long until it.
pub fn when(epoch: i64) -> String {
    format!("<t:{epoch}:f> (<t:{epoch}:R>)")
}

/// The slash commands as Discord's "bulk overwrite" wants them.
pub fn commands() -> Value {
    json!([
        { "name": "link", "type": 1, "description": "Link your Discord account to your Supportal account" },
        { "name": "ticket", "type": 1, "description": "Open a support ticket" },
        { "name": "status", "type": 1, "description": "Your open tickets and their SLA clocks",
          "options": [{ "name": "ticket", "type": 4, "description": "A ticket number", "required": false, "min_value": 1 }] },
        { "name": "hours", "type": 1, "description": "Support and live-chat hours, open or closed now" },
        { "name": "book", "type": 1, "description": "Book a call with an engineer (Platinum)" },
        { "name": "feature", "type": 1, "description": "Find or post a feature request",
          "options": [{ "name": "title", "type": 3, "description": "What you would like", "required": true, "max_length": 100 }] },
        { "name": MESSAGE_COMMAND, "type": 3 }
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn sign(key: &SigningKey, ts: &str, body: &[u8]) -> String {
        let mut m = ts.as_bytes().to_vec();
        m.extend_from_slice(body);
        hex::encode(key.sign(&m).to_bytes())
    }

    #[test]
    fn signature_matrix() {
        let key = key();
        let public = key.verifying_key();
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let body = br#"{"type":1}"#;
        let now = 1_800_000_000;
        let ts = now.to_string();
        let good = sign(&key, &ts, body);
        assert_eq!(verify(&public, Some(&ts), Some(&good), body, now), Ok(()));
        assert_eq!(verify(&public, Some(&ts), Some(&good), body, now + 299), Ok(()));
        assert_eq!(verify(&public, None, Some(&good), body, now), Err(SignatureRefusal::Missing));
        assert_eq!(verify(&public, Some(&ts), None, body, now), Err(SignatureRefusal::Missing));
        assert_eq!(verify(&public, Some(&ts), Some("zz"), body, now), Err(SignatureRefusal::Missing));
        assert_eq!(verify(&public, Some("soon"), Some(&good), body, now), Err(SignatureRefusal::Missing));
        assert_eq!(
            verify(&public, Some(&ts), Some(&sign(&other, &ts, body)), body, now),
            Err(SignatureRefusal::Invalid)
        );
        assert_eq!(verify(&public, Some(&ts), Some(&good), br#"{"type":2}"#, now), Err(SignatureRefusal::Invalid));
        let old = (now - 301).to_string();
        assert_eq!(verify(&public, Some(&old), Some(&sign(&key, &old, body)), body, now), Err(SignatureRefusal::Stale));
        // A timestamp from another request does not fit this signature.
        assert_eq!(verify(&public, Some(&old), Some(&good), body, now), Err(SignatureRefusal::Invalid));
    }

    #[test]
    fn public_keys_are_64_hex_digits() {
        let hex_key = hex::encode(key().verifying_key().to_bytes());
        assert!(parse_public_key(&hex_key).is_ok());
        assert!(parse_public_key("abc").is_err());
        assert!(parse_public_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn commands_and_components_parse() {
        let command =
            |name: &str, options: Value| json!({ "type": 2, "data": { "name": name, "type": 1, "options": options } });
        assert_eq!(parse(&json!({ "type": 1 })), Ok(Request::Ping));
        assert_eq!(parse(&command("link", json!([]))), Ok(Request::Link));
        assert_eq!(
            parse(&command("status", json!([{ "name": "ticket", "value": 12 }]))),
            Ok(Request::Status { ticket: Some(12) })
        );
        assert_eq!(parse(&command("status", json!(null))), Ok(Request::Status { ticket: None }));
        assert_eq!(
            parse(&command("feature", json!([{ "name": "title", "value": "Dark mode" }]))),
            Ok(Request::Feature { title: "Dark mode".into() })
        );
        assert_eq!(parse(&command("dance", json!([]))), Ok(Request::Unknown("dance".into())));
        let button = |id: &str| json!({ "type": 3, "data": { "custom_id": id } });
        assert_eq!(parse(&button("book:1800000000:30")), Ok(Request::BookSlot { start: 1_800_000_000, minutes: 30 }));
        assert_eq!(parse(&button("vote:4")), Ok(Request::Vote { feature_id: 4 }));
        assert_eq!(parse(&button("vote:-4")), Ok(Request::Unknown("vote:-4".into())));
        assert_eq!(parse(&button("feature_new:Dark: mode")), Ok(Request::FeaturePost { title: "Dark: mode".into() }));
        let modal = json!({ "type": 5, "data": { "custom_id": "ticket", "components": [
            { "type": 1, "components": [{ "type": 4, "custom_id": "subject", "value": "Bot down" }] },
            { "type": 1, "components": [{ "type": 4, "custom_id": "description", "value": "Nothing answers" }] },
            { "type": 18, "component": { "type": 4, "custom_id": "priority", "value": "p1" } },
        ] } });
        assert_eq!(
            parse(&modal),
            Ok(Request::TicketSubmit {
                subject: "Bot down".into(),
                description: "Nothing answers".into(),
                priority: "p1".into()
            })
        );
        assert!(parse(&json!({ "data": {} })).is_err());
        let message = json!({ "type": 2, "data": { "name": MESSAGE_COMMAND, "type": 3, "target_id": "55",
            "resolved": { "messages": { "55": { "content": "It broke", "author": { "id": "77", "username": "ann" } } } } } });
        assert_eq!(
            parse(&message),
            Ok(Request::FromMessage {
                author_id: "77".into(),
                author_name: "ann".into(),
                content: "It broke".into(),
                message_id: "55".into()
            })
        );
    }

    #[test]
    fn the_caller_is_the_member_or_the_dm_user() {
        let in_guild = json!({ "member": { "user": { "id": "123", "username": "ann", "global_name": "Ann" } } });
        assert_eq!(caller(&in_guild), Some(("123".into(), "Ann".into())));
        assert_eq!(caller(&json!({ "user": { "id": "9", "username": "bo" } })), Some(("9".into(), "bo".into())));
        assert_eq!(caller(&json!({ "user": { "id": "x1" } })), None);
        assert_eq!(caller(&json!({})), None);
        assert!(member_is_moderator(&json!({ "member": { "permissions": (1u64 << 13).to_string() } })));
        assert!(!member_is_moderator(&json!({ "member": { "permissions": "1024" } })));
    }

    #[test]
    fn channels_map_to_categories() {
        assert_eq!(category_for(Some("bug-reports"), &[]), Category::Bug);
        assert_eq!(category_for(Some("#Feature-Requests"), &[]), Category::FeatureRequest);
        assert_eq!(category_for(Some("platinum-support"), &[]), Category::Question);
        assert_eq!(category_for(Some("random"), &[]), Category::Question);
        assert_eq!(category_for(None, &[]), Category::Question);
        let mapping =
            vec![("#integrations".to_string(), Category::Integration), ("bug-reports".into(), Category::Other)];
        assert_eq!(category_for(Some("integrations"), &mapping), Category::Integration);
        assert_eq!(category_for(Some("bug-reports"), &mapping), Category::Other, "the managers' mapping wins");
    }

    #[test]
    fn priorities_and_text() {
        assert_eq!(parse_priority(" p2 "), Ok(Priority::P2));
        assert_eq!(parse_priority("1"), Ok(Priority::P1));
        assert_eq!(parse_priority("P4 low"), Ok(Priority::P4));
        assert!(parse_priority("urgent").is_err());
        assert!(parse_priority("").is_err());
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(defuse_mentions("hi @everyone <@12>"), "hi @\u{200b}everyone <@\u{200b}12>");
        assert!(feature_post_id(&"é".repeat(80)).len() <= 100);
        let modal = ticket_modal();
        assert_eq!(modal["type"], MODAL);
        assert_eq!(ephemeral("x")["data"]["flags"], EPHEMERAL);
        let buttons: Vec<(String, String)> = (0..7).map(|i| (format!("vote:{i}"), format!("b{i}"))).collect();
        assert_eq!(with_buttons("x", &buttons)["data"]["components"].as_array().map(Vec::len), Some(2));
        assert_eq!(commands().as_array().map(Vec::len), Some(7));
        assert!(is_slow(&Request::Book) && !is_slow(&Request::Hours));
    }
}
