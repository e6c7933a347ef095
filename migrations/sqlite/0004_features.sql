-- Community feature voting: requests, one vote per person, comments, and the
-- public status history. Instants are Unix seconds; flags 0/1.

CREATE TABLE features (
    id                INTEGER PRIMARY KEY,
    title             TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    body              TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    status            TEXT    NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'under_review', 'planned', 'in_progress', 'shipped', 'declined')),
    author_id         INTEGER NOT NULL REFERENCES users (id),
    -- The ticket it came from (at most one request per ticket).
    ticket_id         INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
    -- Set once merged: the request lives on as a pointer to the one kept.
    merged_into_id    INTEGER REFERENCES features (id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    status_changed_at INTEGER NOT NULL,
    CHECK (merged_into_id IS NULL OR merged_into_id <> id)
);
CREATE UNIQUE INDEX features_ticket ON features (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX features_status ON features (status, id);

-- One vote per person per request, enforced here.
CREATE TABLE feature_votes (
    feature_id INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (feature_id, user_id)
);
CREATE INDEX feature_votes_recent ON feature_votes (created_at);
CREATE INDEX feature_votes_user ON feature_votes (user_id);

CREATE TABLE feature_comments (
    id         INTEGER PRIMARY KEY,
    feature_id INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at INTEGER NOT NULL
);
CREATE INDEX feature_comments_feature ON feature_comments (feature_id, id);

-- Public history: created, status changes with the agent's note, merges.
CREATE TABLE feature_history (
    id         INTEGER PRIMARY KEY,
    feature_id INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    actor_id   INTEGER REFERENCES users (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('created', 'status', 'note', 'merged_into', 'merged_from', 'from_ticket')),
    from_value TEXT,
    to_value   TEXT,
    note       TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX feature_history_feature ON feature_history (feature_id, id);
