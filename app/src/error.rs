//! One error type for the REST API and the server functions.
//!
//! It carries exactly what a client may see: a status, a stable snake_case code,
//! a human message and per-field messages. Details of internal failures are
//! logged on the server and never put in here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub status: u16,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Seconds to wait before retrying (rate limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_string(), message: message.into(), fields: BTreeMap::new(), retry_after: None }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "Sign in to continue.")
    }

    pub fn forbidden() -> Self {
        Self::new(403, "forbidden", "You are not allowed to do that.")
    }

    pub fn not_found() -> Self {
        Self::new(404, "not_found", "Not found.")
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    /// 422 with one message per offending field.
    pub fn invalid(fields: FieldErrors) -> Self {
        let message = match fields.0.len() {
            1 => fields.0.values().next().cloned().unwrap_or_default(),
            _ => "Some fields need attention.".to_string(),
        };
        Self { fields: fields.0, ..Self::new(422, "validation_failed", message) }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::default();
        fields.add(field, message);
        Self::invalid(fields)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                429,
                "rate_limited",
                format!("Too many attempts. Try again in {} seconds.", retry_after_secs.max(1)),
            )
        }
    }

    /// The only thing a client learns about an internal failure.
    pub fn internal() -> Self {
        Self::new(500, "internal_error", "Something went wrong on our side. Please try again.")
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// Control characters other than tab, line feed and carriage return: no text field takes them (PostgreSQL
/// cannot even store NUL), so every input path refuses them with [`CONTROL_CHARACTERS_MESSAGE`].
pub fn has_control_characters(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

pub const CONTROL_CHARACTERS_MESSAGE: &str =
    "Remove the control characters (such as NUL) from this text; only line breaks and tabs are allowed.";

/// Text from outside that nobody typed into a form (mail bodies, file names, chat payloads): control
/// characters other than tab and line breaks are dropped rather than refused.
pub fn strip_control_characters(text: &str) -> std::borrow::Cow<'_, str> {
    if has_control_characters(text) {
        text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect::<String>().into()
    } else {
        text.into()
    }
}

/// An optional form or query value, trimmed; blank means absent.
pub fn non_blank(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Required text of at most `max` characters, trimmed; `what` names it in the message ("Enter a subject.").
pub fn check_text(raw: &str, what: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("Enter a {what}."));
    }
    if text.chars().count() > max {
        return Err(format!("A {what} has at most {max} characters."));
    }
    Ok(text.to_string())
}

/// Collects validation messages so a form can show all of them at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_string()).or_insert_with(|| message.into());
    }

    pub fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.add(field, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> AppResult<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid(self))
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // Raised in the browser when the network or the response fails.
            E::Request(_) | E::Deserialization(_) => {
                Self::new(503, "network_error", "Could not reach the server. Check your connection and try again.")
            }
            E::Args(_) | E::MissingArg(_) => Self::bad_request("bad_request", "The request could not be understood."),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function framework error");
                let _ = other;
                Self::internal()
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error");
        Self::internal()
    }
}

impl AppError {
    /// The REST API's error body: `{"error": {"code", "message", "fields"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "code": self.code, "message": self.message });
        if !self.fields.is_empty() {
            body["fields"] = serde_json::json!(self.fields);
        }
        serde_json::json!({ "error": body })
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.to_json())).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_uses_the_single_field_message() {
        let e = AppError::invalid_field("email", "Enter an email address.");
        assert_eq!(e.status, 422);
        assert_eq!(e.message, "Enter an email address.");
        assert_eq!(e.field("email"), Some("Enter an email address."));
    }

    #[test]
    fn field_errors_keep_the_first_message_per_field() {
        let mut f = FieldErrors::default();
        f.add("name", "first");
        f.add("name", "second");
        f.check("email", Err("bad".into()));
        f.check("password", Ok(()));
        let e = f.into_result().unwrap_err();
        assert_eq!(e.field("name"), Some("first"));
        assert_eq!(e.field("email"), Some("bad"));
        assert_eq!(e.field("password"), None);
        assert_eq!(e.message, "Some fields need attention.");
    }

    #[test]
    fn control_characters_are_found_and_stripped() {
        assert!(!has_control_characters("Line one\r\nLine two\twith a tab, ünïcödé"));
        for bad in ["nul\0here", "bell\u{7}", "esc\u{1b}[31m", "c1\u{85}", "del\u{7f}"] {
            assert!(has_control_characters(bad), "{bad:?}");
        }
        assert_eq!(strip_control_characters("a\0b\nc\u{1b}d"), "ab\ncd");
    }

    #[test]
    fn rate_limited_never_says_zero_seconds() {
        assert_eq!(AppError::rate_limited(0).retry_after, Some(1));
    }
}
