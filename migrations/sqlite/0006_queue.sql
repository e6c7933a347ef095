-- The agents' queue: each ticket's next SLA deadline and the instant its first running clock is (or was) at
-- risk, kept up to date with every change so the queue sorts and counts by index. 253402300799
-- (9999-12-31) means "no running clock" and sorts last.

ALTER TABLE tickets ADD COLUMN sla_next_due INTEGER NOT NULL DEFAULT 253402300799;
ALTER TABLE tickets ADD COLUMN sla_at_risk_from INTEGER NOT NULL DEFAULT 253402300799;

CREATE INDEX tickets_queue ON tickets (sla_next_due, id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_assignee_open ON tickets (assignee_id, sla_next_due) WHERE status NOT IN ('resolved', 'closed');
-- Covers the view counts (no table reads) for any filter but a text search.
CREATE INDEX tickets_queue_counts ON tickets (assignee_id, sla_at_risk_from, tier, priority, level, status)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_created ON tickets (created_at);
