-- Weekly opening hours that managers edit, who an event is for, and where a
-- notification leads. Instants are Unix seconds; flags 0/1.

-- One row per open weekday (1 = Monday … 7 = Sunday) and calendar; no row: closed that day.
-- Minutes since local midnight in America/New_York; open during [open_minute, close_minute).
CREATE TABLE weekly_hours (
    calendar     TEXT    NOT NULL CHECK (calendar IN ('support', 'live_chat')),
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    open_minute  INTEGER NOT NULL CHECK (open_minute BETWEEN 0 AND 1439),
    close_minute INTEGER NOT NULL CHECK (close_minute BETWEEN 1 AND 1440),
    PRIMARY KEY (calendar, weekday),
    CHECK (open_minute < close_minute)
);

-- The support plan: support Mon–Fri 09:00–18:00 and Sat 10:00–16:00; live chat Mon–Fri 09:00–18:00.
INSERT INTO weekly_hours (calendar, weekday, open_minute, close_minute) VALUES
    ('support', 1, 540, 1080), ('support', 2, 540, 1080), ('support', 3, 540, 1080),
    ('support', 4, 540, 1080), ('support', 5, 540, 1080), ('support', 6, 600, 960),
    ('live_chat', 1, 540, 1080), ('live_chat', 2, 540, 1080), ('live_chat', 3, 540, 1080),
    ('live_chat', 4, 540, 1080), ('live_chat', 5, 540, 1080);

-- Personal events (a user's notifications) and public ones (feature votes) besides ticket events.
ALTER TABLE events ADD COLUMN user_id INTEGER;
ALTER TABLE events ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));

-- Where a notification leads when it is not about a ticket (a feature request, a call).
ALTER TABLE notifications ADD COLUMN link TEXT;
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
