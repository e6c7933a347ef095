//! The agents' queue: running tickets sorted by their next SLA deadline, in views (unassigned, mine, at risk or
//! breached, all open) with live counts, and filters. Sorting and counting read the stored deadlines
//! (`sla_next_due`, `sla_at_risk_from`), so a large backlog stays an index scan.

use super::{Priority, SlaState, Status, TicketSla};
use crate::accounts::{Level, Tier};
use crate::error::{non_blank, AppResult, FieldErrors};
use serde::{Deserialize, Serialize};

crate::text_enum!(QueueView {
    Unassigned => "unassigned",
    Mine => "mine",
    AtRisk => "at_risk",
    AllOpen => "all",
});

impl QueueView {
    pub fn label(self) -> &'static str {
        match self {
            QueueView::Unassigned => "Unassigned",
            QueueView::Mine => "Mine",
            QueueView::AtRisk => "At risk / breached",
            QueueView::AllOpen => "All open",
        }
    }
}

/// The statuses a queued ticket can have (done tickets leave the queue).
pub const QUEUE_STATUSES: [Status; 4] = [Status::New, Status::Open, Status::PendingCustomer, Status::OnHold];
pub const QUEUE_PAGE: i64 = 50;
pub const QUEUE_MAX: i64 = 200;

/// One queue row: what an agent scans for, and no more (the page carries 50 of them; the ticket itself is one
/// click away).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueRow {
    pub id: i64,
    pub subject: String,
    pub priority: Priority,
    pub status: Status,
    pub tier: Tier,
    pub level: Level,
    pub version: i64,
    pub assignee_id: Option<i64>,
    pub requester_name: String,
    pub assignee_name: Option<String>,
    pub created_at: String,
    /// The running clock that is due first.
    pub next: Option<NextDeadline>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextDeadline {
    /// `first_response` or `resolution`.
    pub clock: String,
    pub due_epoch: i64,
    pub state: SlaState,
}

/// Of the two clocks, the running one that is due first (none when both are stopped or paused).
pub fn next_deadline(sla: &TicketSla) -> Option<NextDeadline> {
    [("first_response", &sla.first_response), ("resolution", &sla.resolution)]
        .into_iter()
        .filter(|(_, c)| c.running)
        .min_by_key(|(_, c)| c.due_epoch)
        .map(|(clock, c)| NextDeadline { clock: clock.to_string(), due_epoch: c.due_epoch, state: c.state })
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    pub unassigned: i64,
    pub mine: i64,
    pub at_risk: i64,
    pub all: i64,
}

impl QueueCounts {
    pub fn of(&self, view: QueueView) -> i64 {
        match view {
            QueueView::Unassigned => self.unassigned,
            QueueView::Mine => self.mine,
            QueueView::AtRisk => self.at_risk,
            QueueView::AllOpen => self.all,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub view: QueueView,
    pub counts: QueueCounts,
    pub tickets: Vec<QueueRow>,
}

/// Validated queue filters. Every field narrows the rows and the counts alike.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueFilter {
    pub view: QueueView,
    pub tier: Option<Tier>,
    pub priority: Option<Priority>,
    pub level: Option<Level>,
    pub status: Option<Status>,
    pub q: Option<String>,
    pub limit: i64,
}

/// The filters as they arrive (query string or form); blank means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueParams {
    #[serde(default)]
    pub view: Option<String>,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

impl QueueParams {
    /// Checks every field at once; a bad value is a 422 naming it.
    pub fn validate(&self) -> AppResult<QueueFilter> {
        let mut errors = FieldErrors::default();
        fn parse<T: std::str::FromStr<Err = String>>(
            errors: &mut FieldErrors,
            field: &str,
            raw: Option<&str>,
        ) -> Option<T> {
            raw.and_then(|v| v.parse::<T>().map_err(|m| errors.add(field, m)).ok())
        }
        let view = parse::<QueueView>(&mut errors, "view", non_blank(&self.view)).unwrap_or(QueueView::AllOpen);
        let tier = parse(&mut errors, "tier", non_blank(&self.tier));
        let priority = parse(&mut errors, "priority", non_blank(&self.priority));
        let level = parse(&mut errors, "level", non_blank(&self.level));
        let status: Option<Status> = parse(&mut errors, "status", non_blank(&self.status));
        if status.is_some_and(|s| s.is_done()) {
            errors.add("status", "The queue holds running tickets; resolved and closed ones are under Tickets.");
        }
        let q = non_blank(&self.q).map(str::to_string);
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            errors.add("q", "Search for at most 200 characters.");
        }
        let limit = match non_blank(&self.limit) {
            None => QUEUE_PAGE,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=QUEUE_MAX).contains(&n) => n,
                _ => {
                    errors.add("limit", format!("Ask for 1 to {QUEUE_MAX} rows."));
                    QUEUE_PAGE
                }
            },
        };
        errors.into_result()?;
        Ok(QueueFilter { view, tier, priority, level, status, q, limit })
    }
}

/// `#123` or `123` searches by ticket number; anything else by words in the subject and description.
pub fn search_terms(q: &str) -> (Option<i64>, String) {
    let trimmed = q.trim();
    let number = trimmed.strip_prefix('#').unwrap_or(trimmed).parse::<i64>().ok().filter(|n| *n > 0);
    let pattern = format!("%{}%", trimmed.to_lowercase().replace(['%', '_', '\\'], ""));
    (number, pattern)
}

#[cfg(feature = "ssr")]
pub use ssr::load;

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::accounts::User;
    use crate::db::{now, Db};
    use crate::error::AppError;
    use crate::tickets::service::{self, ticket_from_row, TICKET_COLUMNS};
    use sqlx::Row;

    /// The WHERE clause shared by rows and counts: running tickets and the filters, binding from `$3` on
    /// (`$1` is the caller, `$2` now). Only fixed SQL is assembled here; every value is bound. Without a search
    /// the counts read the covering index `tickets_queue_counts` alone.
    pub fn filters_sql(search: bool) -> String {
        let words = if search {
            "($7 = '' OR t.id = $8 OR lower(t.subject) LIKE $7 OR lower(t.body) LIKE $7)"
        } else {
            "$7 = '' AND $8 = 0"
        };
        format!(
            "t.status NOT IN ('resolved', 'closed') \
             AND ($3 = '' OR t.tier = $3) AND ($4 = '' OR t.priority = $4) AND ($5 = '' OR t.level = $5) \
             AND ($6 = '' OR t.status = $6) AND {words}"
        )
    }

    fn view_clause(view: QueueView) -> &'static str {
        match view {
            QueueView::Unassigned => "AND t.assignee_id IS NULL",
            QueueView::Mine => "AND t.assignee_id = $1",
            QueueView::AtRisk => "AND t.sla_at_risk_from <= $2",
            QueueView::AllOpen => "AND $1 = $1",
        }
    }

    /// The rows' SQL, for the benchmark's query plans too.
    pub fn rows_sql(view: QueueView, search: bool) -> String {
        let columns = TICKET_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
        format!(
            "SELECT {columns}, r.name AS requester_name, a.name AS assignee_name \
             FROM tickets t JOIN users r ON r.id = t.requester_id LEFT JOIN users a ON a.id = t.assignee_id \
             WHERE {} AND $2 = $2 {} ORDER BY t.sla_next_due, t.id LIMIT $9",
            filters_sql(search),
            view_clause(view)
        )
    }

    pub const COUNTS_SQL: &str = "SELECT COUNT(*) AS all_open, \
        COALESCE(SUM(CASE WHEN t.assignee_id IS NULL THEN 1 ELSE 0 END), 0) AS unassigned, \
        COALESCE(SUM(CASE WHEN t.assignee_id = $1 THEN 1 ELSE 0 END), 0) AS mine, \
        COALESCE(SUM(CASE WHEN t.sla_at_risk_from <= $2 THEN 1 ELSE 0 END), 0) AS at_risk \
        FROM tickets t WHERE ";

    fn bind_all<'q>(
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        user: &User,
        at: i64,
        filter: &'q QueueFilter,
        search: &'q (Option<i64>, String),
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        query
            .bind(user.id)
            .bind(at)
            .bind(filter.tier.map(Tier::as_str).unwrap_or(""))
            .bind(filter.priority.map(Priority::as_str).unwrap_or(""))
            .bind(filter.level.map(Level::as_str).unwrap_or(""))
            .bind(filter.status.map(Status::as_str).unwrap_or(""))
            .bind(if filter.q.is_some() { search.1.as_str() } else { "" })
            .bind(search.0.unwrap_or(0))
    }

    /// The queue as `user` (staff) sees it at this moment.
    pub async fn load(db: &Db, user: &User, filter: &QueueFilter) -> AppResult<Queue> {
        if !user.role.is_staff() {
            return Err(AppError::forbidden());
        }
        let at = now();
        let search = filter.q.as_deref().map(search_terms).unwrap_or((None, String::new()));
        let rows_sql = rows_sql(filter.view, filter.q.is_some());
        let rows =
            bind_all(sqlx::query(&rows_sql), user, at, filter, &search).bind(filter.limit).fetch_all(&db.pool).await?;
        let counts_sql = format!("{COUNTS_SQL}{}", filters_sql(filter.q.is_some()));
        let counts = bind_all(sqlx::query(&counts_sql), user, at, filter, &search).fetch_one(&db.pool).await?;
        let counts = QueueCounts {
            unassigned: counts.try_get("unassigned")?,
            mine: counts.try_get("mine")?,
            at_risk: counts.try_get("at_risk")?,
            all: counts.try_get("all_open")?,
        };
        let mut names = Vec::with_capacity(rows.len());
        let mut ticket_rows = Vec::with_capacity(rows.len());
        for r in &rows {
            ticket_rows.push(ticket_from_row(r)?);
            names.push((r.try_get::<String, _>("requester_name")?, r.try_get::<Option<String>, _>("assignee_name")?));
        }
        let tickets = service::present(db, ticket_rows, at)
            .await?
            .into_iter()
            .zip(names)
            .map(|(t, (requester_name, assignee_name))| QueueRow {
                next: next_deadline(&t.sla),
                id: t.id,
                subject: t.subject,
                priority: t.priority,
                status: t.status,
                tier: t.tier,
                level: t.level,
                version: t.version,
                assignee_id: t.assignee_id,
                requester_name,
                assignee_name,
                created_at: t.created_at,
            })
            .collect();
        Ok(Queue { view: filter.view, counts, tickets })
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{filters_sql, rows_sql, COUNTS_SQL};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_validate_each_field() {
        let ok = QueueParams { view: Some("mine".into()), priority: Some("P1".into()), ..Default::default() }
            .validate()
            .unwrap();
        assert_eq!((ok.view, ok.priority, ok.limit), (QueueView::Mine, Some(Priority::P1), QUEUE_PAGE));
        let defaults = QueueParams { view: Some(" ".into()), ..Default::default() }.validate().unwrap();
        assert_eq!(defaults.view, QueueView::AllOpen);
        let err = QueueParams {
            view: Some("later".into()),
            tier: Some("gold".into()),
            level: Some("L9".into()),
            status: Some("closed".into()),
            limit: Some("500".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        for field in ["view", "tier", "level", "status", "limit"] {
            assert!(err.field(field).is_some(), "{field}");
        }
    }

    #[test]
    fn the_next_deadline_is_the_first_running_clock() {
        let clock = |due_epoch, running, state| super::super::SlaClock {
            target_minutes: 60,
            due_at: String::new(),
            due_epoch,
            state,
            running,
            remaining_seconds: 0,
            paused_since: None,
            paused_reason: None,
        };
        let sla = |first, resolution| TicketSla { first_response: first, resolution };
        let next = next_deadline(&sla(clock(100, true, SlaState::AtRisk), clock(50, false, SlaState::Paused))).unwrap();
        assert_eq!((next.clock.as_str(), next.due_epoch, next.state), ("first_response", 100, SlaState::AtRisk));
        let next =
            next_deadline(&sla(clock(300, true, SlaState::OnTrack), clock(200, true, SlaState::Breached))).unwrap();
        assert_eq!((next.clock.as_str(), next.due_epoch), ("resolution", 200));
        assert_eq!(next_deadline(&sla(clock(1, false, SlaState::Met), clock(2, false, SlaState::Paused))), None);
    }

    #[test]
    fn search_by_number_or_words() {
        assert_eq!(search_terms("#42"), (Some(42), "%#42%".to_string()));
        assert_eq!(search_terms(" Webhook 50%_ "), (None, "%webhook 50%".to_string()));
        assert_eq!(search_terms("0").0, None);
    }
}
