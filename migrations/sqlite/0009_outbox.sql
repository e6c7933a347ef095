-- The notification outbox and the integrations it feeds: outgoing webhooks, the
-- Discord webhook and email preferences. Outbox rows are written in the same
-- transaction as the change they announce; a worker delivers them with retries.
-- Instants are Unix seconds; flags 0/1.

CREATE TABLE webhooks (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL CHECK (length(url) BETWEEN 10 AND 2000),
    -- Space-separated event kinds, e.g. 'ticket.created sla.breached'.
    events               TEXT    NOT NULL CHECK (length(events) BETWEEN 1 AND 1000),
    -- Signs each delivery; shown once when the webhook is created, never listed.
    secret               TEXT    NOT NULL,
    description          TEXT    CHECK (description IS NULL OR length(description) <= 200),
    active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_reason      TEXT,
    created_by           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

-- The one Discord webhook: where to post and which events.
CREATE TABLE discord_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    url        TEXT,
    events     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO discord_settings (id, url, events, updated_at)
VALUES (1, NULL, 'ticket.new_p1 sla.breached booking.created booking.cancelled', 0);

-- One row per message to send. dedupe_key makes a repeated enqueue a no-op.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'webhook', 'discord')),
    webhook_id      INTEGER REFERENCES webhooks (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- A worker's lease: while it is in the future no other worker takes the row;
    -- a worker killed mid-send leaves it to expire and the row is sent again.
    locked_until    INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_webhook ON outbox (webhook_id, id);

-- Every try of every outbox row: the delivery log.
CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, attempt);

-- Which emails a user wants; no row: all of them.
CREATE TABLE email_preferences (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tickets    INTEGER NOT NULL DEFAULT 1 CHECK (tickets IN (0, 1)),
    sla        INTEGER NOT NULL DEFAULT 1 CHECK (sla IN (0, 1)),
    bookings   INTEGER NOT NULL DEFAULT 1 CHECK (bookings IN (0, 1)),
    features   INTEGER NOT NULL DEFAULT 1 CHECK (features IN (0, 1)),
    updated_at INTEGER NOT NULL
);
