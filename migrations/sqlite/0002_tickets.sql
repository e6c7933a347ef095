-- Tickets, their conversation and history, SLA policy data, and the event log
-- that feeds live updates (SSE). Instants are Unix seconds; flags 0/1.

CREATE TABLE sla_policies (
    tier                   TEXT    NOT NULL CHECK (tier IN ('platinum', 'general')),
    priority               TEXT    NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    first_response_minutes INTEGER NOT NULL CHECK (first_response_minutes BETWEEN 1 AND 525600),
    resolution_minutes     INTEGER NOT NULL CHECK (resolution_minutes BETWEEN 1 AND 525600),
    calendar               TEXT    NOT NULL CHECK (calendar IN ('24x7', 'support_hours')),
    pause_on_hold          INTEGER NOT NULL DEFAULT 0 CHECK (pause_on_hold IN (0, 1)),
    PRIMARY KEY (tier, priority),
    CHECK (resolution_minutes >= first_response_minutes)
);

INSERT INTO sla_policies (tier, priority, first_response_minutes, resolution_minutes, calendar) VALUES
    ('platinum', 'P1', 60, 240, '24x7'),
    ('platinum', 'P2', 240, 1440, '24x7'),
    ('platinum', 'P3', 1440, 4320, 'support_hours'),
    ('platinum', 'P4', 2880, 10080, 'support_hours'),
    ('general', 'P1', 1440, 4320, 'support_hours'),
    ('general', 'P2', 1440, 4320, 'support_hours'),
    ('general', 'P3', 1440, 10080, 'support_hours'),
    ('general', 'P4', 2880, 10080, 'support_hours');

CREATE TABLE holidays (
    day TEXT PRIMARY KEY CHECK (length(day) = 10)   -- YYYY-MM-DD, America/New_York
);

CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY,
    subject           TEXT    NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body              TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    priority          TEXT    NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    category          TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('new', 'open', 'pending_customer', 'on_hold', 'resolved', 'closed')),
    tier              TEXT    NOT NULL CHECK (tier IN ('platinum', 'general')),
    requester_id      INTEGER NOT NULL REFERENCES users (id),
    assignee_id       INTEGER REFERENCES users (id),
    level             TEXT    NOT NULL DEFAULT 'L1' CHECK (level IN ('L1', 'L2', 'L3', 'L4')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at       INTEGER,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tickets_requester ON tickets (requester_id, id);
CREATE INDEX tickets_status ON tickets (status, id);

CREATE TABLE ticket_messages (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    internal   INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- Every change: who (NULL = the system), when, what, from → to, why.
CREATE TABLE ticket_history (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    actor_id   INTEGER REFERENCES users (id),
    kind       TEXT    NOT NULL,
    from_value TEXT,
    to_value   TEXT,
    reason     TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_history_ticket ON ticket_history (ticket_id, id);

-- Intervals during which the resolution clock does not run.
CREATE TABLE sla_pauses (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    reason     TEXT    NOT NULL CHECK (reason IN ('pending_customer', 'on_hold', 'resolved')),
    started_at INTEGER NOT NULL,
    ended_at   INTEGER
);
CREATE INDEX sla_pauses_ticket ON sla_pauses (ticket_id);

-- At-risk and breach transitions, recorded once per ticket and clock.
CREATE TABLE sla_transitions (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    clock     TEXT    NOT NULL CHECK (clock IN ('first_response', 'resolution')),
    state     TEXT    NOT NULL CHECK (state IN ('at_risk', 'breached')),
    at        INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, clock, state)
);

-- The event log behind GET /api/v1/events: written in the same transaction as the change.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    ticket_id    INTEGER,
    requester_id INTEGER,          -- who besides staff may see it (NULL: staff only)
    internal     INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    payload      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);

-- In-portal notifications (the bell); read_at NULL while unread.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    ticket_id  INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX notifications_user ON notifications (user_id, id);
