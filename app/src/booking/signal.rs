//! Video in the portal call room: what goes through the server (signals) and what it hands out (ICE servers).
//!
//! The media itself flows peer to peer (or through a TURN relay); the server only carries the few messages
//! that set a connection up (offers, answers, ICE candidates, a hang-up), each to one participant's event
//! stream, and tells the browser which STUN and TURN servers to try.
//!
//! Pure: no I/O, no clock reads (callers pass `now`). The TURN credential needs HMAC-SHA1 and is built on the
//! server only.

use crate::error::{AppError, FieldErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;

crate::text_enum!(SignalKind {
    Offer => "offer",
    Answer => "answer",
    Candidate => "candidate",
    Bye => "bye",
});

/// The event kind a signal arrives as on the recipient's stream.
pub const SIGNAL_EVENT: &str = "call.signal";
/// The largest payload (as JSON text): an SDP offer with audio and two video sections is under 10 KiB.
pub const SIGNAL_PAYLOAD_MAX: usize = 32 * 1024;

/// A signal as checked: its kind, who it is for (`None`: the call's other side) and its opaque payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub kind: SignalKind,
    pub to_user_id: Option<i64>,
    pub payload: Value,
}

/// Reads `{kind, to_user_id?, payload}`, naming every bad field at once. The payload is the browser's own
/// business (an SDP, a candidate), so it is only bounded: a JSON object of at most [`SIGNAL_PAYLOAD_MAX`]
/// bytes; a `bye` may leave it out.
pub fn check_signal(body: &Value) -> Result<Signal, AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::new(422, "invalid_body", "Send the signal as a JSON object."));
    };
    let mut errors = FieldErrors::default();
    for key in object.keys() {
        if !matches!(key.as_str(), "kind" | "to_user_id" | "payload") {
            errors.add(key, "Unknown field: a signal has kind, to_user_id and payload.");
        }
    }
    let kind = match object.get("kind").and_then(Value::as_str).map(str::parse::<SignalKind>) {
        Some(Ok(kind)) => Some(kind),
        _ => {
            errors.add("kind", "Use offer, answer, candidate or bye.");
            None
        }
    };
    let to_user_id = match object.get("to_user_id") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|id| *id > 0) {
            Some(id) => Some(id),
            None => {
                errors.add("to_user_id", "Use the id of someone in this call, or leave it out.");
                None
            }
        },
    };
    let payload = match object.get("payload") {
        None | Some(Value::Null) if kind == Some(SignalKind::Bye) => Value::Object(Default::default()),
        Some(p @ Value::Object(_)) => {
            if p.to_string().len() > SIGNAL_PAYLOAD_MAX {
                errors.add("payload", format!("Keep the payload under {} KiB.", SIGNAL_PAYLOAD_MAX / 1024));
            }
            p.clone()
        }
        _ => {
            errors.add("payload", "Send the payload as a JSON object.");
            Value::Null
        }
    };
    match kind {
        Some(kind) if errors.is_empty() => Ok(Signal { kind, to_user_id, payload }),
        _ => Err(AppError::invalid(errors)),
    }
}

/// One ICE server as `RTCPeerConnection` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// What `GET /bookings/{id}/ice` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServers {
    pub ice_servers: Vec<IceServer>,
    /// RFC 3339: when the TURN credential stops working (fetch again for a new connection after it).
    pub expires_at: String,
}

/// The operator's STUN and TURN servers. None by default: host candidates work on one network (and in tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server (coturn's `static-auth-secret`); set whenever `turn_urls` is.
    pub turn_secret: Option<String>,
    /// The least a TURN credential lives, in seconds (it also lives until the call's end).
    pub turn_ttl_secs: i64,
}

/// Default for [`IceConfig::turn_ttl_secs`].
pub const DEFAULT_TURN_TTL_SECS: i64 = 600;

/// A comma-separated list of ICE server URLs, each with one of `schemes` (`stun:`, `turns:`, …): the
/// setting's error names the bad entry.
pub fn parse_ice_urls(raw: &str, schemes: &[&str]) -> Result<Vec<String>, String> {
    let mut urls = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let lower = entry.to_ascii_lowercase();
        let rest = schemes.iter().find_map(|s| lower.strip_prefix(s));
        let host = rest.map(|r| r.trim_start_matches("//").split(['?', ':']).next().unwrap_or_default());
        match host {
            Some(host)
                if !host.is_empty()
                    && entry.len() <= 300
                    && !entry.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                urls.push(entry.to_string())
            }
            _ => return Err(format!("`{entry}` is not a URL like {}host:3478", schemes.first().unwrap_or(&""))),
        }
    }
    Ok(urls)
}

/// When a TURN credential handed out at `now` for a call ending at `call_end` expires (unix seconds): after
/// at least `ttl` seconds, and not before the call ends, so a call under way never loses its relay.
pub fn turn_expiry(now: i64, call_end: i64, ttl: i64) -> i64 {
    now.saturating_add(ttl.max(1)).max(call_end)
}

/// The TURN REST API username coturn's `use-auth-secret` checks: `"<unix expiry>:<user id>"`.
pub fn turn_username(expiry: i64, user_id: i64) -> String {
    format!("{expiry}:{user_id}")
}

#[cfg(feature = "ssr")]
mod credential {
    use base64::Engine;
    use hmac::{Hmac, Mac};

    /// The TURN REST API password for `username`: base64(HMAC-SHA1(secret, username)), as coturn computes it.
    pub fn turn_credential(secret: &str, username: &str) -> String {
        // HMAC takes a key of any length; this cannot fail.
        let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) else { return String::new() };
        mac.update(username.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(feature = "ssr")]
pub use credential::turn_credential;

#[cfg(feature = "ssr")]
impl IceConfig {
    /// The servers for `user_id` in a call ending at `call_end`, asked at `now` (unix seconds). Without TURN,
    /// `expires_at` says how long the answer is worth keeping (the same TTL).
    pub fn servers_for(&self, user_id: i64, now: i64, call_end: i64) -> IceServers {
        let expiry = turn_expiry(now, call_end, self.turn_ttl_secs);
        let mut ice_servers = Vec::new();
        if !self.stun_urls.is_empty() {
            ice_servers.push(IceServer { urls: self.stun_urls.clone(), username: None, credential: None });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let username = turn_username(expiry, user_id);
            let credential = turn_credential(secret, &username);
            ice_servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        IceServers { ice_servers, expires_at: crate::db::rfc3339(expiry) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signals_are_read_field_by_field() {
        let ok = check_signal(&json!({ "kind": "offer", "to_user_id": 7, "payload": { "sdp": "v=0" } })).unwrap();
        assert_eq!((ok.kind, ok.to_user_id), (SignalKind::Offer, Some(7)));
        let bye = check_signal(&json!({ "kind": "bye" })).unwrap();
        assert_eq!((bye.kind, bye.payload), (SignalKind::Bye, json!({})));
        // (body, fields named)
        let cases = [
            (json!({ "kind": "hello", "payload": {} }), vec!["kind"]),
            (json!({ "payload": {} }), vec!["kind"]),
            (json!({ "kind": 3, "payload": {} }), vec!["kind"]),
            (json!({ "kind": "offer" }), vec!["payload"]),
            (json!({ "kind": "candidate", "payload": "a=candidate" }), vec!["payload"]),
            (json!({ "kind": "answer", "payload": {}, "to_user_id": "7" }), vec!["to_user_id"]),
            (json!({ "kind": "answer", "payload": {}, "to_user_id": 0 }), vec!["to_user_id"]),
            (json!({ "kind": "answer", "payload": {}, "room": 1 }), vec!["room"]),
            (json!({ "kind": "nope", "payload": [] }), vec!["kind", "payload"]),
        ];
        for (body, fields) in cases {
            let err = check_signal(&body).unwrap_err();
            assert_eq!(err.status, 422, "{body}");
            assert_eq!(err.fields.keys().collect::<Vec<_>>(), fields, "{body}");
        }
        assert_eq!(check_signal(&json!([1])).unwrap_err().status, 422);
    }

    #[test]
    fn payloads_are_bounded() {
        let fits = "x".repeat(SIGNAL_PAYLOAD_MAX - 20);
        assert!(check_signal(&json!({ "kind": "offer", "payload": { "sdp": fits } })).is_ok());
        let big = "x".repeat(SIGNAL_PAYLOAD_MAX);
        let err = check_signal(&json!({ "kind": "offer", "payload": { "sdp": big } })).unwrap_err();
        assert!(err.field("payload").is_some_and(|m| m.contains("32 KiB")), "{err:?}");
    }

    #[test]
    fn ice_urls_need_their_scheme_and_a_host() {
        let stun = ["stun:", "stuns:"];
        assert_eq!(parse_ice_urls("", &stun), Ok(vec![]));
        assert_eq!(
            parse_ice_urls(" stun:stun.example.com:3478 , stuns:stun.example.com ", &stun),
            Ok(vec!["stun:stun.example.com:3478".to_string(), "stuns:stun.example.com".to_string()])
        );
        let turn = ["turn:", "turns:"];
        assert!(parse_ice_urls("turn:127.0.0.1:3478?transport=udp", &turn).is_ok());
        for bad in ["turn:", "http://turn.example.com", "turn:a b", "stun:x.example.com", "turn::3478"] {
            let err = parse_ice_urls(bad, &turn).unwrap_err();
            assert!(err.contains("turn:host:3478"), "{bad}: {err}");
        }
    }

    #[test]
    fn turn_credentials_follow_the_rest_api_scheme() {
        // Reference values from `printf %s USERNAME | openssl dgst -sha1 -hmac SECRET -binary | base64`.
        assert_eq!(turn_username(1_700_000_000, 42), "1700000000:42");
        assert_eq!(turn_credential("s3cret-turn-key", "1700000000:42"), "YuW4bUxg1MxRth/UJAKie9XSFzc=");
        assert_eq!(turn_credential("another secret", "1765000000:7"), "OwaDGWneDc8lVB9teq3Beknh6JI=");
    }

    #[test]
    fn credentials_last_the_ttl_and_at_least_until_the_call_ends() {
        // (now, call end, ttl, expiry)
        let cases = [(1_000, 5_000, 600, 5_000), (1_000, 1_200, 600, 1_600), (1_000, 900, 0, 1_001)];
        for (now, end, ttl, expiry) in cases {
            assert_eq!(turn_expiry(now, end, ttl), expiry, "{now} {end} {ttl}");
        }
        assert_eq!(turn_expiry(i64::MAX - 5, 0, 600), i64::MAX);
    }

    #[test]
    fn servers_are_none_by_default_and_turn_gets_a_credential() {
        let none = IceConfig { turn_ttl_secs: 600, ..IceConfig::default() };
        let answer = none.servers_for(9, 1_700_000_000, 1_700_000_100);
        assert!(answer.ice_servers.is_empty());
        assert_eq!(answer.expires_at, "2023-11-14T22:23:20Z");
        let config = IceConfig {
            stun_urls: vec!["stun:stun.example.com".into()],
            turn_urls: vec!["turn:turn.example.com:3478".into(), "turns:turn.example.com:5349".into()],
            turn_secret: Some("s3cret-turn-key".into()),
            turn_ttl_secs: 600,
        };
        let answer = config.servers_for(42, 1_699_999_400, 1_699_999_500);
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(
            json,
            json!({
                "ice_servers": [
                    { "urls": ["stun:stun.example.com"] },
                    {
                        "urls": ["turn:turn.example.com:3478", "turns:turn.example.com:5349"],
                        "username": "1700000000:42",
                        "credential": "YuW4bUxg1MxRth/UJAKie9XSFzc="
                    }
                ],
                "expires_at": "2023-11-14T22:13:20Z"
            })
        );
    }
}
