//! Knowledge base: Markdown articles in the support plan's four categories,
//! full-text search with highlighted matches, "was this helpful?" votes, and the
//! articles suggested while a customer types a ticket subject.
//!
//! The rules here are plain Rust shared by the server and the browser: slugs,
//! categories, validation, turning typed text into a safe full-text query, and
//! turning the database's marked-up snippets into safe HTML. Rendering Markdown
//! (`render`), storage and search (`service`) and the starter articles
//! (`starter`) are server-only.

use crate::error::{check_text, AppError, AppResult, FieldErrors};
use serde::{Deserialize, Serialize};

pub mod pages;
#[cfg(feature = "ssr")]
pub mod render;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod starter;

crate::text_enum!(Category {
    GettingStarted => "getting-started",
    FeatureGuides => "feature-guides",
    Troubleshooting => "troubleshooting",
    AdvancedTopics => "advanced-topics",
});

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::GettingStarted => "Getting Started",
            Category::FeatureGuides => "Feature Guides",
            Category::Troubleshooting => "Troubleshooting",
            Category::AdvancedTopics => "Advanced Topics",
        }
    }
}

/// One search result or list entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The title as safe HTML, matched words in `<mark>`.
    pub title_html: String,
    pub category: Category,
    /// A short excerpt as safe HTML, matched words in `<mark>`.
    pub snippet: String,
    pub published: bool,
    pub updated_at: String,
    pub helpful_yes: i64,
    pub helpful_no: i64,
}

/// One article as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub category: Category,
    /// Rendered from the Markdown and sanitised when the article was saved.
    pub body_html: String,
    /// The Markdown source: staff only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_md: Option<String>,
    pub published: bool,
    pub author_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    /// Bumped by every save; an edit made against an older version is refused (409).
    pub version: i64,
    /// The caller's own answer to "was this helpful?", if they gave one.
    pub my_vote: Option<bool>,
}

pub const TITLE_MIN: usize = 3;
pub const TITLE_MAX: usize = 150;
pub const SLUG_MAX: usize = 80;
pub const BODY_MAX: usize = 50_000;
/// Typed query text beyond this is ignored.
pub const QUERY_MAX: usize = 200;
/// Words of a query that count; the rest are ignored.
pub const QUERY_TERMS_MAX: usize = 8;
/// Characters of one query word that count.
pub const TERM_MAX: usize = 40;
/// Suggestions beside the new-ticket form.
pub const SUGGESTIONS_MAX: usize = 5;
/// Characters typed before suggestions are looked for.
pub const SUGGEST_MIN_CHARS: usize = 3;

/// What an agent sends to create or change an article.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    /// Missing text fields read as blank, so validation names each one.
    #[serde(default)]
    pub title: String,
    /// Derived from the title when absent or blank.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub body_md: String,
    #[serde(default)]
    pub published: bool,
    /// The version the edit was made against (edits only; absent: no check).
    #[serde(default)]
    pub version: Option<i64>,
}

/// A validated article, ready to render and store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleDraft {
    pub title: String,
    pub slug: String,
    pub category: Category,
    pub body_md: String,
    pub published: bool,
    pub version: Option<i64>,
}

impl ArticleInput {
    pub fn validate(self) -> AppResult<ArticleDraft> {
        let mut errors = FieldErrors::default();
        let title = check_title(&self.title).map_err(|m| errors.add("title", m)).ok();
        let category = self.category.trim().parse::<Category>().map_err(|m| errors.add("category", m)).ok();
        let body_md = check_text(&self.body_md, "article body", BODY_MAX).map_err(|m| errors.add("body_md", m)).ok();
        let slug = match crate::error::non_blank(&self.slug) {
            Some(given) => check_slug(given).map_err(|m| errors.add("slug", m)).ok(),
            None => title.as_deref().map(slugify),
        };
        errors.into_result()?;
        match (title, slug, category, body_md) {
            (Some(title), Some(slug), Some(category), Some(body_md)) => {
                Ok(ArticleDraft { title, slug, category, body_md, published: self.published, version: self.version })
            }
            _ => Err(AppError::internal()),
        }
    }
}

/// A title: trimmed, inner whitespace and control characters collapsed to single spaces.
pub fn check_title(raw: &str) -> Result<String, String> {
    let title = raw.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>();
    let title = title.join(" ");
    let n = title.chars().count();
    if n == 0 {
        return Err("Enter a title.".into());
    }
    if n < TITLE_MIN {
        return Err(format!("A title has at least {TITLE_MIN} characters."));
    }
    if n > TITLE_MAX {
        return Err(format!("A title has at most {TITLE_MAX} characters."));
    }
    Ok(title)
}

/// A slug someone typed: lowercase letters, digits and single hyphens.
pub fn check_slug(raw: &str) -> Result<String, String> {
    let slug = raw.trim();
    let shape_ok = !slug.is_empty()
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if !shape_ok {
        return Err("Use lowercase letters, digits and single hyphens, like how-sla-clocks-work.".into());
    }
    if slug.len() > SLUG_MAX {
        return Err(format!("A slug has at most {SLUG_MAX} characters."));
    }
    if matches!(slug, "new") {
        return Err("This slug is reserved; choose another.".into());
    }
    Ok(slug.to_string())
}

/// The address of an article made from its title: "How SLA clocks work!" → `how-sla-clocks-work`.
/// Accented Latin letters lose their accents; other characters separate words.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    let mut gap = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        let folded = fold_accent(c);
        if folded.is_ascii_alphanumeric() {
            if gap && !slug.is_empty() {
                slug.push('-');
            }
            gap = false;
            slug.push(folded);
        } else if c == 'ß' {
            if gap && !slug.is_empty() {
                slug.push('-');
            }
            gap = false;
            slug.push_str("ss");
        } else {
            gap = true;
        }
        if slug.len() >= SLUG_MAX {
            break;
        }
    }
    slug.truncate(SLUG_MAX);
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() || slug == "new" {
        "article".to_string()
    } else {
        slug
    }
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'č' | 'ć' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'š' | 'ś' => 's',
        'ž' | 'ź' | 'ż' => 'z',
        'ł' => 'l',
        'ř' => 'r',
        other => other,
    }
}

// ---- search queries ----

/// Words too common to narrow a search (PostgreSQL's `english` configuration drops them too).
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "how", "i",
    "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "that", "the",
    "their", "then", "there", "these", "this", "to", "was", "we", "what", "when", "where", "which", "who", "why",
    "will", "with", "you", "your",
];

/// How the words of a query combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// Every word must appear (the search box).
    All,
    /// Any word may appear; more matches rank higher (suggestions, and the search box's fallback).
    Any,
}

/// The searchable words of typed text, lowercased, at most [`QUERY_TERMS_MAX`] of them.
///
/// Anything that is not a letter or a digit separates words, so quotes, `*`,
/// parentheses, `-`, `:` and `^` never reach the full-text engine: no input can
/// be a syntax error. Common words are dropped unless nothing else is left.
/// `prefix` is whether the text ends inside a word (someone still typing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    pub terms: Vec<String>,
    pub prefix: bool,
}

impl SearchTerms {
    pub fn parse(raw: &str) -> SearchTerms {
        let raw: String = raw.chars().take(QUERY_MAX).collect();
        let words: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase().chars().take(TERM_MAX).collect())
            .collect();
        let prefix = raw.chars().last().is_some_and(char::is_alphanumeric);
        let last = words.last().cloned();
        let mut kept: Vec<String> = words.iter().filter(|w| !STOPWORDS.contains(&w.as_str())).cloned().collect();
        if kept.is_empty() {
            kept = words;
        }
        // The word being typed keeps its prefix match only if it is still the last one.
        let prefix = prefix && kept.last() == last.as_ref();
        let mut unique = std::collections::HashSet::new();
        let terms: Vec<String> = kept.into_iter().filter(|w| unique.insert(w.clone())).take(QUERY_TERMS_MAX).collect();
        SearchTerms { terms, prefix }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// An SQLite FTS5 query: each word a quoted string (`"webhook"`), the last one a prefix (`"webho"*`)
    /// while it is being typed.
    pub fn fts5(&self, how: Match) -> String {
        let last = self.terms.len().saturating_sub(1);
        let parts: Vec<String> = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let star = if self.prefix && i == last { "*" } else { "" };
                format!("\"{}\"{star}", t.replace('"', "\"\""))
            })
            .collect();
        parts.join(if how == Match::All { " " } else { " OR " })
    }

    /// A PostgreSQL `to_tsquery('english', …)` text: `webhook & retri:*`. The words hold letters and
    /// digits only, so none is an operator.
    pub fn tsquery(&self, how: Match) -> String {
        let last = self.terms.len().saturating_sub(1);
        let parts: Vec<String> = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let star = if self.prefix && i == last { ":*" } else { "" };
                format!("{}{star}", t.replace(|c: char| !c.is_alphanumeric(), ""))
            })
            .collect();
        parts.join(if how == Match::All { " & " } else { " | " })
    }
}

// ---- highlighting ----

/// Marks the start of a matched word in text coming back from the database (never in stored text).
pub const MARK_START: char = '\u{2}';
/// Marks the end of a matched word.
pub const MARK_END: char = '\u{3}';

/// Replaces `<` in text handed to PostgreSQL's `ts_headline`, which would otherwise drop what looks like a
/// tag; [`mark_html`] turns it back into `&lt;`. Stored text never contains it.
pub const HIDDEN_LT: char = '\u{1}';

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Text from the database with matches between [`MARK_START`] and [`MARK_END`] → safe HTML:
/// everything is escaped first, then each marked run becomes `<mark>…</mark>`. Stray or unbalanced
/// markers never produce unbalanced tags; other control characters are dropped.
pub fn mark_html(marked: &str) -> String {
    let mut out = String::with_capacity(marked.len() + 32);
    let mut open = false;
    for c in marked.chars() {
        match c {
            MARK_START if !open => {
                out.push_str("<mark>");
                open = true;
            }
            MARK_END if open => {
                out.push_str("</mark>");
                open = false;
            }
            MARK_START | MARK_END => {}
            '\n' | '\t' | '\r' => out.push(' '),
            // Stands for `<` in text PostgreSQL's `ts_headline` marked (see `service`).
            HIDDEN_LT => out.push_str("&lt;"),
            c if c.is_control() => {}
            c => out.push_str(&escape_html(&c.to_string())),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// Removes the highlight markers (and other control characters except whitespace) from text to be stored.
pub fn strip_markers(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect()
}

/// The opening of a text as a snippet when there is nothing to highlight: whole words up to about
/// `max` characters, with "…" when cut.
pub fn plain_snippet(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return escape_html(&text);
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(at) if at > max / 2 => cut[..at].to_string(),
        _ => cut,
    };
    format!("{}…", escape_html(cut.trim_end_matches([',', '.', ';', ':'])))
}

/// Percent-encodes a query-string value (everything but letters, digits and `-._~`).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The knowledge base page for a search: `/kb`, `/kb?q=sla`, `/kb?q=sla&category=troubleshooting`.
pub fn search_href(q: &str, category: &str) -> String {
    let mut parts = Vec::new();
    if !q.trim().is_empty() {
        parts.push(format!("q={}", encode_query_value(q.trim())));
    }
    if !category.is_empty() {
        parts.push(format!("category={}", encode_query_value(category)));
    }
    if parts.is_empty() {
        "/kb".to_string()
    } else {
        format!("/kb?{}", parts.join("&"))
    }
}

/// "Was this helpful?" as the article page says it to staff.
pub fn helpful_summary(yes: i64, no: i64) -> String {
    let total = yes + no;
    if total == 0 {
        return "No answers yet".to_string();
    }
    let percent = (yes as f64 * 100.0 / total as f64).round() as i64;
    format!("{yes} of {total} found this helpful ({percent} %)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_titles() {
        let cases = [
            ("How SLA clocks work", "how-sla-clocks-work"),
            ("  Book a live-chat or video call!  ", "book-a-live-chat-or-video-call"),
            ("Exporting tickets & metrics (CSV)", "exporting-tickets-metrics-csv"),
            ("Café crème über Straße", "cafe-creme-uber-strasse"),
            ("日本語", "article"),
            ("---", "article"),
            ("New", "article"),
            ("P1 vs. P2", "p1-vs-p2"),
        ];
        for (title, slug) in cases {
            assert_eq!(slugify(title), slug, "{title}");
            assert!(check_slug(&slugify(title)).is_ok(), "{title}");
        }
        let long = slugify(&"word ".repeat(40));
        assert!(long.len() <= SLUG_MAX && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn typed_slugs_are_checked() {
        for ok in ["a", "how-to-2", "x1"] {
            assert_eq!(check_slug(ok).as_deref(), Ok(ok));
        }
        for bad in ["", "A", "a--b", "-a", "a-", "a b", "a/b", "../x", "new", "é"] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
        assert!(check_slug(&"a".repeat(81)).is_err());
    }

    #[test]
    fn validation_names_each_field() {
        let input = |title: &str, slug: Option<&str>, category: &str, body: &str| ArticleInput {
            title: title.into(),
            slug: slug.map(str::to_string),
            category: category.into(),
            body_md: body.into(),
            published: true,
            version: None,
        };
        let err = input(" ", Some("Bad Slug"), "recipes", "  ").validate().unwrap_err();
        assert_eq!(err.status, 422);
        for field in ["title", "slug", "category", "body_md"] {
            assert!(err.field(field).is_some(), "{field}: {err:?}");
        }
        let err = input("ab", None, "troubleshooting", "x").validate().unwrap_err();
        assert!(err.field("title").unwrap().contains('3'));
        let err = input(&"t".repeat(151), None, "troubleshooting", "x").validate().unwrap_err();
        assert!(err.field("title").unwrap().contains("150"));
        let err = input("Fine title", None, "troubleshooting", &"b".repeat(BODY_MAX + 1)).validate().unwrap_err();
        assert!(err.field("body_md").is_some());
        let ok = input("  Webhooks \n explained ", Some(" "), "advanced-topics", " body ").validate().unwrap();
        assert_eq!(ok.title, "Webhooks explained");
        assert_eq!(ok.slug, "webhooks-explained");
        assert_eq!(ok.category, Category::AdvancedTopics);
        assert_eq!(ok.body_md, "body");
        let ok = input("Webhooks", Some("hooks"), "feature-guides", "b").validate().unwrap();
        assert_eq!(ok.slug, "hooks");
    }

    #[test]
    fn categories_match_the_support_plan() {
        let labels: Vec<_> = Category::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(labels, ["Getting Started", "Feature Guides", "Troubleshooting", "Advanced Topics"]);
        assert_eq!("troubleshooting".parse::<Category>(), Ok(Category::Troubleshooting));
        assert!("Troubleshooting".parse::<Category>().is_err());
    }

    #[test]
    fn hostile_queries_become_plain_words() {
        let cases: [(&str, &[&str], bool); 11] = [
            ("", &[], false),
            ("\"", &[], false),
            ("*", &[], false),
            ("AND(", &["and"], false),
            ("-foo", &["foo"], true),
            ("webho", &["webho"], true),
            ("webhook ", &["webhook"], false),
            ("How do I export tickets?", &["export", "tickets"], false),
            ("the", &["the"], true),
            ("NEAR(a b) OR c:d ^e \"f g\"", &["near", "b", "c", "d", "e", "f", "g"], false),
            ("Über café 日本", &["über", "café", "日本"], true),
        ];
        for (raw, terms, prefix) in cases {
            let parsed = SearchTerms::parse(raw);
            assert_eq!(parsed.terms, terms, "{raw:?}");
            assert_eq!(parsed.prefix, prefix, "{raw:?}");
        }
        let many = SearchTerms::parse("word1 word2 word3 word4 word5 word6 word7 word8 word9 word10");
        assert_eq!(many.terms.len(), QUERY_TERMS_MAX);
        assert_eq!(SearchTerms::parse("sla sla SLA").terms, ["sla"]);
        // a stopword typed last does not make the previous word a prefix
        let q = SearchTerms::parse("webhook to");
        assert_eq!((q.terms.as_slice(), q.prefix), (&["webhook".to_string()][..], false));
    }

    #[test]
    fn engine_queries_quote_every_word() {
        let q = SearchTerms::parse("Webhook retr");
        assert_eq!(q.fts5(Match::All), "\"webhook\" \"retr\"*");
        assert_eq!(q.fts5(Match::Any), "\"webhook\" OR \"retr\"*");
        assert_eq!(q.tsquery(Match::All), "webhook & retr:*");
        assert_eq!(q.tsquery(Match::Any), "webhook | retr:*");
        let q = SearchTerms::parse("csv export.");
        assert_eq!(q.fts5(Match::All), "\"csv\" \"export\"");
        assert_eq!(q.tsquery(Match::Any), "csv | export");
    }

    #[test]
    fn marks_are_added_after_escaping() {
        let s = MARK_START;
        let e = MARK_END;
        let cases = [
            (format!("a {s}webhook{e} b"), "a <mark>webhook</mark> b".to_string()),
            (
                format!("<script>alert(1)</script> {s}x{e}"),
                "&lt;script&gt;alert(1)&lt;/script&gt; <mark>x</mark>".into(),
            ),
            (format!("{s}\"q\" & 'r'{e}"), "<mark>&quot;q&quot; &amp; &#x27;r&#x27;</mark>".into()),
            (format!("{e}stray{s}open"), "stray<mark>open</mark>".into()),
            (format!("{s}{s}double{e}{e}"), "<mark>double</mark>".into()),
            ("line\nbreak\u{0}".to_string(), "line break".into()),
            ("<mark>fake</mark>".to_string(), "&lt;mark&gt;fake&lt;/mark&gt;".into()),
            (format!("{}b>x", HIDDEN_LT), "&lt;b&gt;x".into()),
        ];
        for (raw, html) in cases {
            assert_eq!(mark_html(&raw), html, "{raw:?}");
        }
        assert_eq!(strip_markers(&format!("a{s}b{e}c\n\u{7}d")), "abc\nd");
    }

    #[test]
    fn plain_snippets_cut_at_words() {
        assert_eq!(plain_snippet("short  text\nhere", 40), "short text here");
        assert_eq!(plain_snippet("one two three four five six", 14), "one two three…");
        assert_eq!(plain_snippet("<b> & more words here", 10), "&lt;b&gt; &amp; more…");
        assert_eq!(plain_snippet("abcdefghijklmnop", 5), "abcde…");
    }

    #[test]
    fn search_links() {
        assert_eq!(search_href("", ""), "/kb");
        assert_eq!(search_href("  ", "troubleshooting"), "/kb?category=troubleshooting");
        assert_eq!(search_href(" sla clocks ", ""), "/kb?q=sla%20clocks");
        assert_eq!(search_href("a&b=c#d", "x"), "/kb?q=a%26b%3Dc%23d&category=x");
        assert_eq!(search_href("café", ""), "/kb?q=caf%C3%A9");
    }

    #[test]
    fn helpful_summaries() {
        assert_eq!(helpful_summary(0, 0), "No answers yet");
        assert_eq!(helpful_summary(3, 1), "3 of 4 found this helpful (75 %)");
        assert_eq!(helpful_summary(0, 2), "0 of 2 found this helpful (0 %)");
    }
}
