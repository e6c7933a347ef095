-- Hardening: shared rate-limit buckets, password resets, token expiry, indexes for event replay and pruning.

-- Token buckets shared by several instances: only PostgreSQL deployments use this table (a single SQLite
-- instance keeps them in memory); it exists here too so both schemas stay alike.
CREATE TABLE rate_limits (
    bucket     TEXT    PRIMARY KEY,
    tokens     REAL    NOT NULL,
    updated_ms INTEGER NOT NULL,
    allowed    INTEGER NOT NULL DEFAULT 1 CHECK (allowed IN (0, 1))
);
CREATE INDEX rate_limits_updated ON rate_limits (updated_ms);

-- Single-use password-reset links: only the hash of the token is kept.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- API tokens may expire.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- Replay of one user's stream, and pruning by age.
CREATE INDEX events_user ON events (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX events_requester ON events (requester_id, id) WHERE requester_id IS NOT NULL;
CREATE INDEX events_created ON events (created_at);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
