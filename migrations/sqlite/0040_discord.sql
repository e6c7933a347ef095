-- Discord as a way in (issue 15): linked accounts, one-time link tokens, seen interactions, tickets that
-- came from Discord and the channel → category mapping managers edit.

-- One Discord user ↔ one portal account, both ways.
CREATE TABLE discord_links (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    discord_user_id  TEXT    NOT NULL UNIQUE,
    discord_name     TEXT    NOT NULL,
    linked_at        INTEGER NOT NULL,
    -- Agent replies go back to Discord unless the customer turns that off.
    replies          INTEGER NOT NULL DEFAULT 1 CHECK (replies IN (0, 1))
);

-- `/link` hands out a short-lived, single-use link; only its hash is kept.
CREATE TABLE discord_link_tokens (
    token_hash       TEXT    PRIMARY KEY,
    discord_user_id  TEXT    NOT NULL,
    discord_name     TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
);
CREATE INDEX discord_link_tokens_user ON discord_link_tokens (discord_user_id);

-- Interaction ids already handled: a replayed signed request inside the time window does nothing twice.
CREATE TABLE discord_interactions (
    id   TEXT    PRIMARY KEY,
    at   INTEGER NOT NULL
);

-- Tickets opened from Discord: where replies go and what the ticket shows ("via Discord").
CREATE TABLE discord_tickets (
    ticket_id        INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    discord_user_id  TEXT    NOT NULL,
    channel_id       TEXT,
    channel_name     TEXT,
    source           TEXT    NOT NULL CHECK (source IN ('command', 'message')),
    message_url      TEXT,
    created_at       INTEGER NOT NULL
);

-- Which category a channel's tickets get (the plan's channels have defaults in code).
CREATE TABLE discord_channels (
    channel   TEXT PRIMARY KEY,
    category  TEXT NOT NULL
);
