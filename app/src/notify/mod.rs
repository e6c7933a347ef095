//! In-portal notifications (the bell): what a user is told, where it leads, and
//! whether they have seen it. Written in the same transaction as the change that
//! causes it; each one also records a personal event so the bell's unread count
//! updates live in every tab the user has open, and an email twin in the outbox when the user
//! wants that kind of email.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
pub use store::*;

pub mod integrations;
pub mod integrations_page;
#[cfg(feature = "ssr")]
pub mod integrations_store;
#[cfg(feature = "ssr")]
pub mod outbox;
pub mod pages;
pub mod server_fns;

/// One notification as the bell and `GET /api/v1/notifications` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    /// What happened, e.g. `sla.at_risk`, `ticket.reply`, `feature.status`.
    pub kind: String,
    pub text: String,
    pub ticket_id: Option<i64>,
    /// Where it leads in the portal (`/tickets/7`, `/features/3`…), when anywhere.
    pub link: Option<String>,
    pub created_at: i64,
    pub read: bool,
}

/// Where a notification leads: its own link, else its ticket.
pub fn href(link: Option<&str>, ticket_id: Option<i64>) -> Option<String> {
    match (link, ticket_id) {
        (Some(link), _) if is_portal_path(link) => Some(link.to_string()),
        (_, Some(id)) => Some(format!("/tickets/{id}")),
        _ => None,
    }
}

/// Only paths inside the portal: a notification can never send someone elsewhere.
pub fn is_portal_path(link: &str) -> bool {
    link.starts_with('/') && !link.starts_with("//") && !link.contains('\\') && !link.contains("://")
}

/// Short text for the bell's accessible name: "Notifications, 3 unread".
pub fn bell_label(unread: i64) -> String {
    match unread {
        0 => "Notifications, none unread".to_string(),
        n => format!("Notifications, {n} unread"),
    }
}

/// The badge text: the count, capped so it fits ("99+").
pub fn badge_text(unread: i64) -> Option<String> {
    match unread {
        n if n <= 0 => None,
        n if n > 99 => Some("99+".to_string()),
        n => Some(n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_stay_inside_the_portal() {
        assert_eq!(href(Some("/features/3"), Some(9)).as_deref(), Some("/features/3"));
        assert_eq!(href(None, Some(9)).as_deref(), Some("/tickets/9"));
        assert_eq!(href(Some("https://evil.example/"), Some(9)).as_deref(), Some("/tickets/9"));
        for bad in ["//evil.example", "javascript:alert(1)", "/\\evil", "http://x"] {
            assert_eq!(href(Some(bad), None), None, "{bad}");
        }
    }

    #[test]
    fn badge_and_label() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(7).as_deref(), Some("7"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
        assert_eq!(bell_label(0), "Notifications, none unread");
        assert_eq!(bell_label(2), "Notifications, 2 unread");
    }
}
