//! The ticket workspace: everything one ticket page shows, loaded in one request (ticket, conversation, and for
//! staff the timeline and the side panel), and who else has the ticket open or is replying.

use super::{Message, Priority, Status, Ticket};
use crate::accounts::{Level, Tier};
pub use crate::presence::Presence;
use serde::{Deserialize, Serialize};

/// One change in the timeline: who (None: the system), when, what, from → to, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    pub actor: Option<String>,
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
    /// The entry in words, e.g. "Escalated L1 → L2".
    pub summary: String,
}

/// Words for a history row. Assignee ids are replaced by names through `name_of`.
pub fn describe(kind: &str, from: Option<&str>, to: Option<&str>, name_of: &dyn Fn(&str) -> String) -> String {
    let status = |s: Option<&str>| s.and_then(|s| s.parse::<Status>().ok()).map_or("—", Status::label);
    match kind {
        "created" => format!("Opened as {}", to.unwrap_or("—")),
        "status" => format!("Status {} → {}", status(from), status(to)),
        "priority" => format!("Priority {} → {}", from.unwrap_or("—"), to.unwrap_or("—")),
        "assignee" => match (from, to) {
            (_, Some(to)) => match from {
                Some(from) => format!("Reassigned from {} to {}", name_of(from), name_of(to)),
                None => format!("Assigned to {}", name_of(to)),
            },
            (Some(from), None) => format!("Unassigned from {}", name_of(from)),
            (None, None) => "Unassigned".to_string(),
        },
        "escalation" => format!("Escalated {} → {}", from.unwrap_or("—"), to.unwrap_or("—")),
        "first_response" => "First response sent".to_string(),
        "sla" => {
            let clock = if from == Some("first_response") { "First response" } else { "Resolution" };
            let state = if to == Some("breached") { "breached" } else { "at risk" };
            format!("{clock} SLA {state}")
        }
        "survey" => format!("Customer rated the support {}", to.unwrap_or("—")),
        other => other.replace('_', " "),
    }
}

/// The customer behind a ticket, for the side panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Requester {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub tier: Option<Tier>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OtherTicket {
    pub id: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpcomingCall {
    pub id: i64,
    pub start_epoch: i64,
    pub duration_minutes: i64,
    pub topic: String,
    pub agent_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub level: Option<Level>,
}

/// What only staff see beside a ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffPanel {
    pub requester: Requester,
    pub assignee_name: Option<String>,
    pub other_tickets: Vec<OtherTicket>,
    pub upcoming_calls: Vec<UpcomingCall>,
    pub timeline: Vec<TimelineEntry>,
    /// Who a ticket can be assigned to.
    pub agents: Vec<Agent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub ticket: Ticket,
    pub messages: Vec<Message>,
    pub feature: Option<crate::features::Feature>,
    pub staff: Option<StaffPanel>,
    /// The satisfaction survey: asked of the requester once per resolution; answers shown to them and staff.
    pub survey: super::survey::SurveyState,
}

/// "Dana is replying…", "Dana and Lee are viewing this ticket", or nothing.
pub fn presence_text(others: &[Presence]) -> String {
    fn names(list: &[&Presence]) -> String {
        match list {
            [one] => one.name.clone(),
            [rest @ .., last] => {
                format!("{} and {}", rest.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", "), last.name)
            }
            [] => String::new(),
        }
    }
    let typing: Vec<&Presence> = others.iter().filter(|w| w.typing).collect();
    let viewing: Vec<&Presence> = others.iter().filter(|w| !w.typing).collect();
    let mut parts = Vec::new();
    if !typing.is_empty() {
        parts.push(format!("{} {} replying…", names(&typing), if typing.len() == 1 { "is" } else { "are" }));
    }
    if !viewing.is_empty() {
        parts.push(format!(
            "{} {} viewing this ticket",
            names(&viewing),
            if viewing.len() == 1 { "is" } else { "are" }
        ));
    }
    parts.join(" · ")
}

#[cfg(feature = "ssr")]
pub use ssr::{load, note_presence, timeline};

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::accounts::{Role, User};
    use crate::db::{now, rfc3339, text_column, Db};
    use crate::error::AppResult;
    use crate::tickets::service;
    use sqlx::Row;
    use std::collections::HashMap;

    /// The ticket's history in words, oldest first.
    pub async fn timeline(db: &Db, ticket_id: i64) -> AppResult<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT h.kind, h.from_value, h.to_value, h.reason, h.created_at, u.name AS actor \
             FROM ticket_history h LEFT JOIN users u ON u.id = h.actor_id WHERE h.ticket_id = $1 ORDER BY h.id",
        )
        .bind(ticket_id)
        .fetch_all(&db.pool)
        .await?;
        let names: HashMap<String, String> =
            sqlx::query("SELECT id, name FROM users WHERE role <> 'customer' ORDER BY id LIMIT 5000")
                .fetch_all(&db.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<i64, _>("id")?.to_string(), r.try_get("name")?)))
                .collect::<Result<_, sqlx::Error>>()?;
        let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| format!("user {id}"));
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let from: Option<String> = r.try_get("from_value")?;
                let to: Option<String> = r.try_get("to_value")?;
                Ok(TimelineEntry {
                    summary: describe(&kind, from.as_deref(), to.as_deref(), &name_of),
                    at: rfc3339(r.try_get("created_at")?),
                    actor: r.try_get("actor")?,
                    kind,
                    from,
                    to,
                    reason: r.try_get("reason")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn staff_panel(db: &Db, ticket: &Ticket) -> AppResult<StaffPanel> {
        let r = sqlx::query("SELECT id, name, email, tier FROM users WHERE id = $1")
            .bind(ticket.requester_id)
            .fetch_one(&db.pool)
            .await?;
        let requester = Requester {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            tier: r.try_get::<Option<String>, _>("tier")?.and_then(|t| t.parse().ok()),
        };
        let other_tickets = sqlx::query(
            "SELECT id, subject, status, priority FROM tickets WHERE requester_id = $1 AND id <> $2 \
             ORDER BY id DESC LIMIT 10",
        )
        .bind(ticket.requester_id)
        .bind(ticket.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(OtherTicket {
                id: r.try_get("id")?,
                subject: r.try_get("subject")?,
                status: text_column(r, "status")?,
                priority: text_column(r, "priority")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let upcoming_calls = sqlx::query(
            "SELECT b.id, b.start_at, b.duration_minutes, b.topic, u.name FROM bookings b JOIN users u ON u.id = b.agent_id \
             WHERE b.customer_id = $1 AND b.status = 'booked' AND b.end_at > $2 ORDER BY b.start_at LIMIT 5",
        )
        .bind(ticket.requester_id)
        .bind(now())
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(UpcomingCall {
                id: r.try_get("id")?,
                start_epoch: r.try_get("start_at")?,
                duration_minutes: r.try_get("duration_minutes")?,
                topic: r.try_get("topic")?,
                agent_name: r.try_get("name")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let agents = sqlx::query(
            "SELECT id, name, level FROM users WHERE role IN ('agent', 'manager') ORDER BY level, name LIMIT 500",
        )
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Agent {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                level: r.try_get::<Option<String>, _>("level")?.and_then(|l| l.parse().ok()),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let assignee_name = match ticket.assignee_id {
            Some(id) => sqlx::query("SELECT name FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
                .map(|r| r.try_get("name"))
                .transpose()?,
            None => None,
        };
        Ok(StaffPanel {
            requester,
            assignee_name,
            other_tickets,
            upcoming_calls,
            timeline: timeline(db, ticket.id).await?,
            agents,
        })
    }

    /// The workspace as `user` may see it: customers get their own ticket's public conversation only.
    pub async fn load(db: &Db, user: &User, id: i64) -> AppResult<Workspace> {
        let row = service::visible_row(db, user, id).await?;
        let survey = super::super::survey::state(db, user, &row).await?;
        let ticket =
            service::present(db, vec![row], now()).await?.pop().ok_or_else(crate::error::AppError::not_found)?;
        let messages = service::messages(db, user, id).await?;
        let feature = crate::features::service::for_ticket(db, user, id).await.ok().flatten();
        let staff = if user.role.is_staff() { Some(staff_panel(db, &ticket).await?) } else { None };
        Ok(Workspace { ticket, messages, feature, staff, survey })
    }

    // ---- who else is on the ticket ----------------------------------------------------------------------------

    /// Staff on each ticket page (someone not heard from for 10 s has closed it).
    static TICKETS: crate::presence::Places = crate::presence::Places::new(10);

    /// Says "`user` is on ticket `id`" (and whether typing a reply); returns the other staff there. Only staff
    /// are tracked: customers neither show up nor see anyone.
    pub fn note_presence(db: &Db, user: &User, id: i64, typing: bool, leaving: bool) -> Vec<Presence> {
        if user.role == Role::Customer {
            return Vec::new();
        }
        TICKETS.note(db, id, user, typing, leaving, now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_words() {
        let name_of = |id: &str| if id == "7" { "Dana".to_string() } else { format!("user {id}") };
        assert_eq!(describe("status", Some("new"), Some("open"), &name_of), "Status New → Open");
        assert_eq!(describe("assignee", None, Some("7"), &name_of), "Assigned to Dana");
        assert_eq!(describe("assignee", Some("7"), Some("8"), &name_of), "Reassigned from Dana to user 8");
        assert_eq!(describe("assignee", Some("7"), None, &name_of), "Unassigned from Dana");
        assert_eq!(describe("escalation", Some("L1"), Some("L2"), &name_of), "Escalated L1 → L2");
        assert_eq!(describe("sla", Some("first_response"), Some("breached"), &name_of), "First response SLA breached");
    }

    #[test]
    fn presence_in_words() {
        let w = |name: &str, typing| Presence { user_id: 1, name: name.into(), typing };
        assert_eq!(presence_text(&[]), "");
        assert_eq!(presence_text(&[w("Dana", true)]), "Dana is replying…");
        assert_eq!(
            presence_text(&[w("Dana", false), w("Lee", false), w("Sam", true)]),
            "Sam is replying… · Dana and Lee are viewing this ticket"
        );
        assert_eq!(presence_text(&[w("A", false), w("B", false), w("C", false)]), "A, B and C are viewing this ticket");
    }
}
