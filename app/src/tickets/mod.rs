//! Tickets: what a customer opens and agents work, with its status rules.
//! Plain Rust shared by server and browser; storage and I/O in `ssr` submodules.

use crate::error::{check_text, AppResult, FieldErrors};
use serde::{Deserialize, Serialize};

use crate::accounts::{Level, Tier};
pub use crate::sla::{Priority, SlaState};

#[cfg(feature = "ssr")]
pub mod clocks;
#[cfg(feature = "ssr")]
pub mod monitor;
pub mod pages;
pub mod queue;
pub mod queue_page;
pub mod quota;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;
pub mod shortcuts;
pub mod survey;
pub mod ticket_page;
pub mod workspace;

crate::text_enum!(Status {
    New => "new",
    Open => "open",
    PendingCustomer => "pending_customer",
    OnHold => "on_hold",
    Resolved => "resolved",
    Closed => "closed",
});

crate::text_enum!(Category {
    Question => "question",
    Bug => "bug",
    Integration => "integration",
    Account => "account",
    FeatureRequest => "feature_request",
    Other => "other",
});

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Question => "General question",
            Category::Bug => "Something is broken",
            Category::Integration => "Webhooks, API or exports",
            Category::Account => "Account or billing",
            Category::FeatureRequest => "Feature request",
            Category::Other => "Something else",
        }
    }
}

impl Status {
    /// Statuses in which nobody is expected to act any more.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }

    /// The status in the customer's words ("Waiting on you").
    pub fn label(self) -> &'static str {
        self.label_for(false)
    }

    /// The status in the reader's words: the customer waits on nobody when staff wait on the customer.
    pub fn label_for(self, staff: bool) -> &'static str {
        match self {
            Status::New => "New",
            Status::Open => "Open",
            Status::PendingCustomer if staff => "Waiting on customer",
            Status::PendingCustomer => "Waiting on you",
            Status::OnHold => "On hold",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
        }
    }
}

/// Why a paused SLA clock is paused, in the reader's words.
pub fn pause_reason_label(reason: Option<&str>, staff: bool) -> &'static str {
    match reason {
        Some("pending_customer") if staff => "waiting on the customer's reply",
        Some("pending_customer") => "waiting on your reply",
        Some("on_hold") => "on hold",
        _ => "paused",
    }
}

/// What each priority means, from the support plan, so customers pick honestly.
pub fn priority_meaning(p: Priority) -> &'static str {
    match p {
        Priority::P1 => "Critical: service completely down, data loss or corruption, or a security issue.",
        Priority::P2 => "High: a major feature is broken, performance problems, or API failures.",
        Priority::P3 => "Medium: a minor feature issue, a configuration problem, or a user-experience issue.",
        Priority::P4 => "Low: a feature request, a documentation update, or a general question.",
    }
}

/// One SLA clock as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaClock {
    pub target_minutes: i64,
    pub due_at: String,
    /// `due_at` as Unix seconds, for countdowns.
    pub due_epoch: i64,
    pub state: SlaState,
    /// Still counting: not stopped (replied, resolved) and not paused.
    #[serde(default)]
    pub running: bool,
    pub remaining_seconds: i64,
    /// When and why the clock is paused (resolution clock only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketSla {
    pub first_response: SlaClock,
    pub resolution: SlaClock,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub priority: Priority,
    pub category: Category,
    pub status: Status,
    pub tier: Tier,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub level: Level,
    pub created_at: String,
    pub updated_at: String,
    pub sla: TicketSla,
    /// Bumped by every change; send it back as `version` (or `If-Match`) to refuse a change made meanwhile.
    pub version: i64,
}

#[cfg(feature = "ssr")]
impl Ticket {
    pub fn from_row(row: &service::TicketRow, sla: TicketSla) -> Self {
        use crate::db::rfc3339;
        Ticket {
            id: row.id,
            subject: row.subject.clone(),
            body: row.body.clone(),
            priority: row.priority,
            category: row.category,
            status: row.status,
            tier: row.tier,
            requester_id: row.requester_id,
            assignee_id: row.assignee_id,
            level: row.level,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
            sla,
            version: row.version,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub from_staff: bool,
    pub body: String,
    pub internal: bool,
    pub created_at: String,
}

/// List filters (all optional). `assignee: Some(0)` means unassigned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub tier: Option<Tier>,
    pub assignee: Option<i64>,
    pub sla_state: Option<SlaState>,
    pub q: Option<String>,
}

/// PATCH body. `assignee_id: null` unassigns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "crate::accounts::double_option")]
    pub assignee_id: Option<Option<i64>>,
    /// The version the change was made against: if the ticket changed since, 409 and nothing is written.
    #[serde(default)]
    pub version: Option<i64>,
}

pub const SUBJECT_MAX: usize = 200;
pub const BODY_MAX: usize = 20_000;
/// A resolved ticket can be reopened by its requester for this long.
pub const REOPEN_WINDOW_SECS: i64 = 7 * 86_400;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicketInput {
    pub subject: String,
    pub body: String,
    pub priority: String,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTicket {
    pub subject: String,
    pub body: String,
    pub priority: Priority,
    pub category: Category,
}

impl NewTicketInput {
    pub fn validate(self) -> AppResult<NewTicket> {
        let mut errors = FieldErrors::default();
        let subject = check_text(&self.subject, "subject", SUBJECT_MAX).map_err(|m| errors.add("subject", m)).ok();
        let body = check_text(&self.body, "description", BODY_MAX).map_err(|m| errors.add("body", m)).ok();
        let priority = self.priority.parse::<Priority>().map_err(|m| errors.add("priority", m)).ok();
        let category = match self.category.as_deref().map(str::trim) {
            None | Some("") => Some(Category::Question),
            Some(c) => c.parse::<Category>().map_err(|m| errors.add("category", m)).ok(),
        };
        errors.into_result()?;
        match (subject, body, priority, category) {
            (Some(subject), Some(body), Some(priority), Some(category)) => {
                Ok(NewTicket { subject, body, priority, category })
            }
            _ => Err(crate::error::AppError::internal()),
        }
    }
}

pub fn check_message(raw: &str) -> Result<String, String> {
    check_text(raw, "message", BODY_MAX)
}

/// Most tickets one bulk action changes.
pub const BULK_MAX: usize = 100;

/// "3, 5,9" → [3, 5, 9]: the ticket ids of a bulk action (1 to [`BULK_MAX`], no repeats). Linear in the
/// input, and it stops reading as soon as the list is too long (a list of 150,000 ids is refused, not sorted
/// out).
pub fn parse_id_list(raw: &str) -> Result<Vec<i64>, String> {
    let too_many = || format!("Select at most {BULK_MAX} tickets at once.");
    let mut ids = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, part) in raw.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        // Repeats are allowed, but not without end.
        if n >= BULK_MAX * 10 {
            return Err(too_many());
        }
        let id = part
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("\"{}\" is not a ticket number.", part.chars().take(20).collect::<String>()))?;
        if seen.insert(id) {
            if ids.len() == BULK_MAX {
                return Err(too_many());
            }
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err("Select at least one ticket.".into());
    }
    Ok(ids)
}

/// Who is changing the status, for [`status_change_allowed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Requester,
    Staff,
}

/// Whether `actor` may move a ticket from `from` to `to` at `now`.
/// Closed is final. Requesters may only resolve, or reopen within 7 days of resolving.
pub fn status_change_allowed(
    actor: Actor,
    from: Status,
    to: Status,
    resolved_at: Option<i64>,
    now: i64,
) -> Result<(), String> {
    if from == to {
        return Ok(());
    }
    if from == Status::Closed {
        return Err("This ticket is closed; open a new one instead.".into());
    }
    match actor {
        Actor::Staff => Ok(()),
        Actor::Requester => match (from, to) {
            (_, Status::Resolved) => Ok(()),
            (Status::Resolved, Status::Open) => match resolved_at {
                Some(at) if now - at <= REOPEN_WINDOW_SECS => Ok(()),
                _ => Err("Resolved more than 7 days ago; open a new ticket instead.".into()),
            },
            _ => Err("You can mark your ticket resolved, or reopen it within 7 days.".into()),
        },
    }
}

/// Who may move a ticket from level `from` to `to`. Agents escalate one level at a time (L1 → L2 → L3 → L4),
/// so each level sees the ticket before the next; managers (L4) and admins may move it straight to any higher
/// level. Nobody escalates downwards or sideways.
pub fn escalation_allowed(actor: crate::accounts::Role, from: Level, to: Level) -> Result<(), String> {
    if to <= from {
        return Err(format!("The ticket is already at {from}; escalate upwards."));
    }
    let next = level_above(from).unwrap_or(Level::L4);
    if to != next && !actor.is_manager() {
        return Err(format!("Escalate one level at a time ({from} → {next}); only a manager moves a ticket further."));
    }
    Ok(())
}

/// The next level up, if any.
pub fn level_above(level: Level) -> Option<Level> {
    match level {
        Level::L1 => Some(Level::L2),
        Level::L2 => Some(Level::L3),
        Level::L3 => Some(Level::L4),
        Level::L4 => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_reader_gets_their_own_words() {
        use super::{pause_reason_label, Status};
        assert_eq!(Status::PendingCustomer.label_for(false), "Waiting on you");
        assert_eq!(Status::PendingCustomer.label_for(true), "Waiting on customer");
        assert_eq!(Status::Open.label_for(true), Status::Open.label_for(false));
        assert_eq!(pause_reason_label(Some("pending_customer"), false), "waiting on your reply");
        assert_eq!(pause_reason_label(Some("pending_customer"), true), "waiting on the customer's reply");
        assert_eq!(pause_reason_label(Some("on_hold"), true), "on hold");
    }

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("3, 5,9,3"), Ok(vec![3, 5, 9]));
        assert!(parse_id_list(" , ").is_err());
        assert!(parse_id_list("3,x").unwrap_err().contains("\"x\""));
        assert!(parse_id_list(&(1..=101).map(|i| i.to_string()).collect::<Vec<_>>().join(",")).is_err());
        assert_eq!(
            parse_id_list(&(1..=100).map(|i| i.to_string()).collect::<Vec<_>>().join(",")).map(|v| v.len()),
            Ok(100)
        );
        // A huge list is refused after reading a bounded part of it.
        let huge = (1..=150_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert!(parse_id_list(&huge).unwrap_err().contains("at most 100"));
        let repeats = vec!["7"; 150_000].join(",");
        assert!(parse_id_list(&repeats).is_err());
        assert!(parse_id_list(&format!("{},x", "1,".repeat(5))).unwrap_err().contains("\"x\""));
    }

    #[test]
    fn escalation_rules() {
        use crate::accounts::Role;
        use Level::*;
        let cases = [
            (Role::Agent, L1, L2, true),
            (Role::Agent, L1, L3, false),
            (Role::Agent, L1, L4, false),
            (Role::Agent, L3, L4, true),
            (Role::Agent, L2, L2, false),
            (Role::Agent, L3, L2, false),
            (Role::Manager, L1, L4, true),
            (Role::Admin, L1, L3, true),
            (Role::Manager, L4, L4, false),
        ];
        for (actor, from, to, ok) in cases {
            assert_eq!(escalation_allowed(actor, from, to).is_ok(), ok, "{actor:?} {from} → {to}");
        }
        assert!(escalation_allowed(Role::Agent, L1, L4).unwrap_err().contains("L1 → L2"));
        assert_eq!((level_above(L1), level_above(L4)), (Some(L2), None));
    }

    use super::*;

    #[test]
    fn new_ticket_validation_names_each_field() {
        let err =
            NewTicketInput { subject: " ".into(), body: "".into(), priority: "P9".into(), category: Some("x".into()) }
                .validate()
                .unwrap_err();
        for field in ["subject", "body", "priority", "category"] {
            assert!(err.field(field).is_some(), "{field}");
        }
        let long = NewTicketInput { subject: "s".repeat(201), body: "b".into(), priority: "P1".into(), category: None };
        assert!(long.validate().unwrap_err().field("subject").unwrap().contains("200"));
        let ok = NewTicketInput {
            subject: "  Bot down ".into(),
            body: "All down".into(),
            priority: "P1".into(),
            category: None,
        }
        .validate()
        .unwrap();
        assert_eq!((ok.subject.as_str(), ok.priority, ok.category), ("Bot down", Priority::P1, Category::Question));
    }

    #[test]
    fn status_rules() {
        use Status::*;
        let day = 86_400;
        let cases = [
            (Actor::Staff, Open, PendingCustomer, None, true),
            (Actor::Staff, Closed, Open, None, false),
            (Actor::Requester, Open, Resolved, None, true),
            (Actor::Requester, Open, OnHold, None, false),
            (Actor::Requester, Resolved, Open, Some(-6 * day), true),
            (Actor::Requester, Resolved, Open, Some(-8 * day), false),
            (Actor::Requester, Closed, Open, Some(-day), false),
        ];
        for (actor, from, to, resolved, ok) in cases {
            assert_eq!(status_change_allowed(actor, from, to, resolved, 0).is_ok(), ok, "{actor:?} {from} → {to}");
        }
    }
}
