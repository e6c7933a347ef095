-- Knowledge base: Markdown articles in the support plan's four categories, their
-- full-text index, and "was this helpful?" answers. Instants are Unix seconds;
-- flags 0/1.

CREATE TABLE articles (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 80),
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 3 AND 150),
    category    TEXT    NOT NULL
                CHECK (category IN ('getting-started', 'feature-guides', 'troubleshooting', 'advanced-topics')),
    body_md     TEXT    NOT NULL CHECK (length(body_md) BETWEEN 1 AND 50000),
    -- Rendered from body_md and sanitised when saved; pages show this as it is.
    body_html   TEXT    NOT NULL,
    -- The words of body_md without markup: what search indexes and snippets quote.
    body_text   TEXT    NOT NULL,
    author_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    published   INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    helpful_yes INTEGER NOT NULL DEFAULT 0,
    helpful_no  INTEGER NOT NULL DEFAULT 0,
    -- Bumped by every edit, so an edit made against an older one is refused.
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX articles_recent ON articles (published, updated_at);

-- The search index: an external-content FTS5 table over title and body_text
-- (porter stemming, accents folded), kept in step by the triggers below.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body_text,
    content = 'articles', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body_text) VALUES (new.id, new.title, new.body_text);
END;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body_text) VALUES ('delete', old.id, old.title, old.body_text);
END;

-- Only text changes touch the index (votes update the counts and leave it alone).
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body_text) VALUES ('delete', old.id, old.title, old.body_text);
    INSERT INTO articles_fts (rowid, title, body_text) VALUES (new.id, new.title, new.body_text);
END;

-- One answer per person (or per anonymous browser) per article; it can change.
-- voter: 'user:<id>' or 'anon:<SHA-256 of the browser's voter cookie>'.
CREATE TABLE article_votes (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    voter      TEXT    NOT NULL CHECK (length(voter) BETWEEN 6 AND 80),
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    helpful    INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, voter)
);
CREATE INDEX article_votes_user ON article_votes (user_id) WHERE user_id IS NOT NULL;
