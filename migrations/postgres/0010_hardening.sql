-- Hardening: shared rate-limit buckets, password resets, token expiry, indexes for event replay and pruning.

-- Token buckets shared by every instance (PostgreSQL only uses it; SQLite keeps them in memory).
CREATE TABLE rate_limits (
    bucket     TEXT             PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_ms BIGINT           NOT NULL,
    allowed    BIGINT           NOT NULL DEFAULT 1 CHECK (allowed IN (0, 1))
);
CREATE INDEX rate_limits_updated ON rate_limits (updated_ms);

-- Single-use password-reset links: only the hash of the token is kept.
CREATE TABLE password_resets (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- API tokens may expire.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

-- Replay of one user's stream, and pruning by age.
CREATE INDEX events_user ON events (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX events_requester ON events (requester_id, id) WHERE requester_id IS NOT NULL;
CREATE INDEX events_created ON events (created_at);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
