-- Booked live-chat and video calls, the agents' call hours and time off, and
-- the chat of the portal's call room. Instants are Unix seconds (BIGINT).

CREATE TABLE bookings (
    id               INTEGER PRIMARY KEY,
    customer_id      BIGINT  NOT NULL REFERENCES users (id),
    agent_id         BIGINT  NOT NULL REFERENCES users (id),
    ticket_id        BIGINT  REFERENCES tickets (id) ON DELETE SET NULL,
    start_at         BIGINT  NOT NULL,
    end_at           BIGINT  NOT NULL,
    -- The end plus the 10-minute buffer: the agent is busy until then.
    busy_until       BIGINT  NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes IN (30, 45, 60)),
    platform         TEXT    NOT NULL CHECK (platform IN ('discord', 'zoom', 'portal')),
    topic            TEXT    NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
    status           TEXT    NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled', 'done')),
    -- Discord or Zoom link the agent sets (the portal room needs none).
    meeting_url      TEXT,
    cancel_reason    TEXT,
    cancelled_by     BIGINT REFERENCES users (id),
    notes            TEXT,
    reminded_day_at  BIGINT,
    reminded_soon_at BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    CHECK (start_at < end_at AND end_at <= busy_until)
);
-- SQLite has no exclusion constraint: a booking checks for overlaps and inserts in one
-- BEGIN IMMEDIATE transaction, so no two bookings can interleave.
CREATE INDEX bookings_customer ON bookings (customer_id, start_at);
CREATE INDEX bookings_agent ON bookings (agent_id, start_at);
CREATE INDEX bookings_start ON bookings (start_at) WHERE status = 'booked';

-- An agent's own call hours (Eastern); an agent with no rows keeps the live-chat hours.
CREATE TABLE agent_call_hours (
    agent_id     BIGINT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    open_minute  INTEGER  NOT NULL CHECK (open_minute BETWEEN 0 AND 1440),
    close_minute INTEGER  NOT NULL CHECK (close_minute BETWEEN 0 AND 1440),
    PRIMARY KEY (agent_id, weekday),
    CHECK (open_minute < close_minute)
);

CREATE TABLE agent_time_off (
    id       INTEGER PRIMARY KEY,
    agent_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_at BIGINT NOT NULL,
    end_at   BIGINT NOT NULL,
    reason   TEXT   NOT NULL DEFAULT '',
    CHECK (start_at < end_at)
);
CREATE INDEX agent_time_off_agent ON agent_time_off (agent_id, end_at);

CREATE TABLE call_messages (
    id         INTEGER PRIMARY KEY,
    booking_id BIGINT NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    author_id  BIGINT NOT NULL REFERENCES users (id),
    body       TEXT   NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at BIGINT NOT NULL
);
CREATE INDEX call_messages_booking ON call_messages (booking_id, id);
