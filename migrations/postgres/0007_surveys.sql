-- Satisfaction surveys: the requester's answer to one resolution of a ticket.
-- A ticket reopened and resolved again is asked again: the key is the ticket and
-- the resolved_at of the resolution answered. Instants are Unix seconds (BIGINT).

CREATE TABLE ticket_surveys (
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    resolved_at  BIGINT NOT NULL,
    rating       TEXT   NOT NULL CHECK (rating IN ('good', 'bad')),
    comment      TEXT   CHECK (comment IS NULL OR length(comment) BETWEEN 1 AND 2000),
    requester_id BIGINT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, resolved_at)
);
CREATE INDEX ticket_surveys_created ON ticket_surveys (created_at);
