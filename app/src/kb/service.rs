//! Knowledge base storage and search (server only).
//!
//! Search runs in the database's own full-text engine. SQLite: the FTS5 table
//! `articles_fts` (porter stemming), ranked by `bm25()` with the title weighing
//! ten times the body, matches marked by `highlight()` and `snippet()`.
//! PostgreSQL: the generated `tsvector` column `search` (title weight A, body B)
//! with its GIN index, ranked by `ts_rank_cd`, matches marked by `ts_headline`.
//! Both get the same query, built by [`SearchTerms`] from the typed words only
//! (each word quoted, the last one a prefix while it is being typed); a search
//! whose words do not all appear anywhere falls back to any of them. (Not
//! `websearch_to_tsquery`: it has no prefix matching, which suggestions while
//! typing need, and its operators would mean something SQLite does not do.)
//!
//! `ts_headline` drops whatever looks like an HTML tag, so PostgreSQL gets the
//! text with `<` swapped for [`super::HIDDEN_LT`] (`chr(1)`), which
//! [`mark_html`] turns back into `&lt;`.
//!
//! The engines mark matches with the control characters [`MARK_START`] and
//! [`MARK_END`], which stored text never contains; [`mark_html`] escapes the
//! text and only then turns them into `<mark>` tags.

use super::{mark_html, MARK_END, MARK_START, SUGGESTIONS_MAX};
use super::{plain_snippet, render, starter, Article, ArticleDraft, ArticleSummary, Category, Match, SearchTerms};
use crate::accounts::User;
use crate::db::{flag, is_unique_violation, now, rfc3339, text_column, Backend, Db};
use crate::error::{AppError, AppResult};
use sqlx::any::AnyRow;
use sqlx::Row;

/// Characters of body text a result shows when there is no match to centre on.
const SNIPPET_CHARS: usize = 180;
/// Words around the matches in a search snippet (SQLite's `snippet()` token count).
const SNIPPET_TOKENS: i64 = 24;

/// Who answers "was this helpful?": a signed-in person, or one anonymous browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voter {
    /// `user:<id>` or `anon:<SHA-256 of the browser's voter cookie>`.
    pub key: String,
    pub user_id: Option<i64>,
}

impl Voter {
    pub fn user(user: &User) -> Voter {
        Voter { key: format!("user:{}", user.id), user_id: Some(user.id) }
    }

    /// From the anonymous voter cookie's value (stored only as its hash).
    pub fn anonymous(cookie: &str) -> Voter {
        Voter { key: format!("anon:{}", crate::accounts::service::sha256_hex(cookie)), user_id: None }
    }
}

/// The name of the cookie that lets one anonymous browser answer once per article.
pub const VOTER_COOKIE: &str = "supportal_kb_voter";

/// The anonymous voter cookie's value from request headers, if it looks like one we set.
pub fn voter_cookie_from(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| {
            *name == VOTER_COOKIE && value.len() == 32 && value.chars().all(|c| c.is_ascii_hexdigit())
        })
        .map(|(_, value)| value.to_string())
}

/// A new anonymous voter cookie: its value and the `Set-Cookie` header (one year, HttpOnly, SameSite=Lax).
pub fn new_voter_cookie(secure: bool) -> (String, String) {
    let value = format!("{:032x}", rand::random::<u128>());
    let header = format!(
        "{VOTER_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        365 * 86_400,
        if secure { "; Secure" } else { "" }
    );
    (value, header)
}

fn is_staff(user: Option<&User>) -> bool {
    user.is_some_and(|u| u.role.is_staff())
}

fn summary_from_row(row: &AnyRow, highlighted: bool) -> Result<ArticleSummary, sqlx::Error> {
    let title: String = row.try_get("title")?;
    let title_marked: String = row.try_get("title_marked")?;
    let snippet_marked: String = row.try_get("snippet_marked")?;
    Ok(ArticleSummary {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        title,
        title_html: mark_html(&title_marked),
        category: text_column(row, "category")?,
        snippet: if highlighted && snippet_marked.contains(MARK_START) {
            mark_html(&snippet_marked)
        } else if highlighted {
            // Only the title matched: the body's opening, without "…" pieces.
            plain_snippet(
                &snippet_marked.replace(['…', MARK_START, MARK_END], "").replace(super::HIDDEN_LT, "<"),
                SNIPPET_CHARS,
            )
        } else {
            plain_snippet(&snippet_marked, SNIPPET_CHARS)
        },
        published: flag(row, "published")?,
        updated_at: rfc3339(row.try_get("updated_at")?),
        helpful_yes: row.try_get("helpful_yes")?,
        helpful_no: row.try_get("helpful_no")?,
    })
}

const SUMMARY_COLUMNS: &str =
    "a.id, a.slug, a.title, a.category, a.published, a.updated_at, a.helpful_yes, a.helpful_no";

/// What to look for and whom for.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub q: String,
    pub category: Option<Category>,
    /// Staff only; ignored for anyone else.
    pub include_drafts: bool,
    pub offset: i64,
    pub limit: i64,
}

/// Articles matching the search, best first; with no words, the most recently updated first.
/// Customers and anonymous visitors only ever see published articles.
pub async fn list(db: &Db, viewer: Option<&User>, search: &Search) -> AppResult<Vec<ArticleSummary>> {
    let drafts = search.include_drafts && is_staff(viewer);
    let category = search.category.map(Category::as_str).unwrap_or("");
    let limit = search.limit.clamp(1, 201);
    let offset = search.offset.max(0);
    if search.q.trim().is_empty() {
        return recent(db, drafts, category, limit, offset).await;
    }
    let terms = SearchTerms::parse(&search.q);
    if terms.is_empty() {
        return Ok(vec![]);
    }
    let all = matching(db, &terms, Match::All, drafts, category, limit, offset).await?;
    if all.is_empty() && terms.terms.len() > 1 && offset == 0 {
        return matching(db, &terms, Match::Any, drafts, category, limit, offset).await;
    }
    Ok(all)
}

/// Published articles for what a customer is typing as a ticket subject (any of its words).
pub async fn suggest(db: &Db, text: &str) -> AppResult<Vec<ArticleSummary>> {
    if text.trim().chars().count() < super::SUGGEST_MIN_CHARS {
        return Ok(vec![]);
    }
    let terms = SearchTerms::parse(text);
    if terms.is_empty() {
        return Ok(vec![]);
    }
    matching(db, &terms, Match::Any, false, "", SUGGESTIONS_MAX as i64, 0).await
}

async fn recent(db: &Db, drafts: bool, category: &str, limit: i64, offset: i64) -> AppResult<Vec<ArticleSummary>> {
    let rows = sqlx::query(&format!(
        "SELECT {SUMMARY_COLUMNS}, a.title AS title_marked, substr(a.body_text, 1, 400) AS snippet_marked \
         FROM articles a WHERE (a.published = 1 OR $1 = 1) AND ($2 = '' OR a.category = $2) \
         ORDER BY a.updated_at DESC, a.id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(i64::from(drafts))
    .bind(category)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(|r| summary_from_row(r, false)).collect::<Result<_, _>>()?)
}

async fn matching(
    db: &Db,
    terms: &SearchTerms,
    how: Match,
    drafts: bool,
    category: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<ArticleSummary>> {
    let rows = match db.backend {
        Backend::Sqlite => {
            sqlx::query(&format!(
                "SELECT {SUMMARY_COLUMNS}, \
                   highlight(articles_fts, 0, char(2), char(3)) AS title_marked, \
                   snippet(articles_fts, 1, char(2), char(3), '…', {SNIPPET_TOKENS}) AS snippet_marked \
                 FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid \
                 WHERE articles_fts MATCH $1 AND (a.published = 1 OR $2 = 1) AND ($3 = '' OR a.category = $3) \
                 ORDER BY bm25(articles_fts, 10.0, 1.0), a.id DESC LIMIT $4 OFFSET $5"
            ))
            .bind(terms.fts5(how))
            .bind(i64::from(drafts))
            .bind(category)
            .bind(limit)
            .bind(offset)
            .fetch_all(&db.pool)
            .await?
        }
        Backend::Postgres => {
            let title_options = format!("StartSel=\"{MARK_START}\", StopSel=\"{MARK_END}\", HighlightAll=true");
            let body_options = format!(
                "StartSel=\"{MARK_START}\", StopSel=\"{MARK_END}\", MaxWords=28, MinWords=12, \
                 MaxFragments=2, FragmentDelimiter=\" … \""
            );
            sqlx::query(&format!(
                "SELECT {SUMMARY_COLUMNS}, \
                   ts_headline('english', replace(a.title, '<', chr(1)), q, $6) AS title_marked, \
                   ts_headline('english', replace(a.body_text, '<', chr(1)), q, $7) AS snippet_marked \
                 FROM articles a, to_tsquery('english', $1) q \
                 WHERE a.search @@ q AND (a.published = 1 OR $2 = 1) AND ($3 = '' OR a.category = $3) \
                 ORDER BY ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}', a.search, q) DESC, a.id DESC LIMIT $4 OFFSET $5"
            ))
            .bind(terms.tsquery(how))
            .bind(i64::from(drafts))
            .bind(category)
            .bind(limit)
            .bind(offset)
            .bind(title_options)
            .bind(body_options)
            .fetch_all(&db.pool)
            .await?
        }
    };
    Ok(rows.iter().map(|r| summary_from_row(r, true)).collect::<Result<_, _>>()?)
}

/// One article as `viewer` may see it (drafts: staff only; anyone else gets 404). The Markdown source
/// is for staff. `voter` picks whose answer `my_vote` shows.
pub async fn get(db: &Db, viewer: Option<&User>, voter: Option<&Voter>, slug: &str) -> AppResult<Article> {
    known_shape(slug)?;
    let row = sqlx::query(
        "SELECT a.id, a.slug, a.title, a.category, a.body_html, a.body_md, a.published, a.created_at, a.updated_at, \
           a.helpful_yes, a.helpful_no, a.version, u.name AS author_name, \
           (SELECT v.helpful FROM article_votes v WHERE v.article_id = a.id AND v.voter = $2) AS my_vote \
         FROM articles a LEFT JOIN users u ON u.id = a.author_id WHERE a.slug = $1",
    )
    .bind(slug)
    .bind(voter.map(|v| v.key.as_str()).unwrap_or(""))
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(AppError::not_found)?;
    let staff = is_staff(viewer);
    let published = flag(&row, "published")?;
    if !published && !staff {
        return Err(AppError::not_found());
    }
    Ok(Article {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        title: row.try_get("title")?,
        category: text_column(&row, "category")?,
        body_html: row.try_get("body_html")?,
        body_md: if staff { Some(row.try_get("body_md")?) } else { None },
        published,
        author_name: if staff { row.try_get("author_name")? } else { None },
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
        helpful_yes: row.try_get("helpful_yes")?,
        helpful_no: row.try_get("helpful_no")?,
        version: row.try_get("version")?,
        my_vote: row.try_get::<Option<i64>, _>("my_vote")?.map(|v| v != 0),
    })
}

/// A path that cannot be a slug is "not found" without asking the database (which may refuse odd
/// bytes, such as NUL on PostgreSQL, with an error).
fn known_shape(slug: &str) -> AppResult<()> {
    super::check_slug(slug).map(|_| ()).map_err(|_| AppError::not_found())
}

fn require_staff(user: &User) -> AppResult<()> {
    if user.role.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

fn slug_taken(slug: &str) -> AppError {
    let mut e = AppError::conflict("slug_taken", format!("Another article already lives at /kb/{slug}."));
    e.fields.insert("slug".into(), "Another article already uses this address; choose another.".into());
    e
}

/// The live preview: exactly what saving would store as the article's HTML.
pub fn preview(user: &User, markdown: &str) -> AppResult<String> {
    require_staff(user)?;
    let markdown: String = markdown.chars().take(super::BODY_MAX).collect();
    Ok(render::to_html(&markdown))
}

/// Agents and managers write articles; 409 `slug_taken` when the address is in use.
pub async fn create(db: &Db, user: &User, draft: ArticleDraft) -> AppResult<Article> {
    require_staff(user)?;
    let (html, text) = (render::to_html(&draft.body_md), render::to_text(&draft.body_md));
    let at = now();
    let inserted = sqlx::query(
        "INSERT INTO articles (slug, title, category, body_md, body_html, body_text, author_id, published, \
           created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&draft.slug)
    .bind(&draft.title)
    .bind(draft.category.as_str())
    .bind(&draft.body_md)
    .bind(&html)
    .bind(&text)
    .bind(user.id)
    .bind(i64::from(draft.published))
    .bind(at)
    .execute(&db.pool)
    .await;
    match inserted {
        Ok(_) => get(db, Some(user), Some(&Voter::user(user)), &draft.slug).await,
        Err(e) if is_unique_violation(&e) => Err(slug_taken(&draft.slug)),
        Err(e) => Err(e.into()),
    }
}

/// Agents and managers change an article (its address too). With `draft.version`, an edit made
/// against an older version is refused with 409 `article_changed`.
pub async fn update(db: &Db, user: &User, slug: &str, draft: ArticleDraft) -> AppResult<Article> {
    require_staff(user)?;
    known_shape(slug)?;
    let (html, text) = (render::to_html(&draft.body_md), render::to_text(&draft.body_md));
    let at = now();
    let mut tx = db.begin_write().await?;
    let lock = if db.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!("SELECT id, version FROM articles WHERE slug = $1{lock}"))
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (id, version): (i64, i64) = (row.try_get("id")?, row.try_get("version")?);
    if draft.version.is_some_and(|v| v != version) {
        return Err(AppError::conflict(
            "article_changed",
            "Someone else saved this article while you were editing. Copy your changes, reload, and edit again.",
        ));
    }
    let updated = sqlx::query(
        "UPDATE articles SET slug = $1, title = $2, category = $3, body_md = $4, body_html = $5, body_text = $6, \
           published = $7, version = version + 1, updated_at = $8 WHERE id = $9",
    )
    .bind(&draft.slug)
    .bind(&draft.title)
    .bind(draft.category.as_str())
    .bind(&draft.body_md)
    .bind(&html)
    .bind(&text)
    .bind(i64::from(draft.published))
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await;
    match updated {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(slug_taken(&draft.slug)),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    get(db, Some(user), Some(&Voter::user(user)), &draft.slug).await
}

/// Records (or changes) `voter`'s answer; each voter counts once per article.
pub async fn vote(db: &Db, viewer: Option<&User>, voter: &Voter, slug: &str, helpful: bool) -> AppResult<Article> {
    known_shape(slug)?;
    let at = now();
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("SELECT id, published FROM articles WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(AppError::not_found)?;
    let id: i64 = row.try_get("id")?;
    if !flag(&row, "published")? && !is_staff(viewer) {
        return Err(AppError::not_found());
    }
    sqlx::query(
        "INSERT INTO article_votes (article_id, voter, user_id, helpful, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (article_id, voter) DO UPDATE SET helpful = excluded.helpful, updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(&voter.key)
    .bind(voter.user_id)
    .bind(i64::from(helpful))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE articles SET \
           helpful_yes = (SELECT COUNT(*) FROM article_votes v WHERE v.article_id = $1 AND v.helpful = 1), \
           helpful_no = (SELECT COUNT(*) FROM article_votes v WHERE v.article_id = $1 AND v.helpful = 0) \
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get(db, viewer, Some(voter), slug).await
}

/// Adds the starter articles that are not there yet (by slug); returns how many were added.
pub async fn seed_starter(db: &Db, author_id: Option<i64>) -> AppResult<usize> {
    let at = now();
    let mut added = 0;
    for a in starter::ARTICLES {
        let done = sqlx::query(
            "INSERT INTO articles (slug, title, category, body_md, body_html, body_text, author_id, published, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(a.slug)
        .bind(a.title)
        .bind(a.category.as_str())
        .bind(a.body_md)
        .bind(render::to_html(a.body_md))
        .bind(render::to_text(a.body_md))
        .bind(author_id)
        .bind(i64::from(a.published))
        .bind(at)
        .execute(&db.pool)
        .await?;
        added += done.rows_affected() as usize;
    }
    Ok(added)
}
