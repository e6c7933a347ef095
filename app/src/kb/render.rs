//! Markdown → sanitised HTML (and the plain text that search indexes), server only.
//!
//! pulldown-cmark renders CommonMark with tables and strikethrough; ammonia then
//! keeps only harmless tags and attributes: no `<script>`, `<style>`, `<iframe>`,
//! event handlers or `style` attributes survive, link and image URLs must be
//! relative or http(s)/mailto (so `javascript:` in any letter case goes), and
//! every link gets `rel="noopener noreferrer nofollow"`. Raw HTML in the
//! Markdown goes through the same filter. Headings move one level down, so an
//! article's `# Heading` sits under the page's own `<h1>`.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The rel every link in an article carries.
pub const LINK_REL: &str = "noopener noreferrer nofollow";

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

fn lower(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(HashSet::from(["http", "https", "mailto"])).link_rel(Some(LINK_REL)).strip_comments(true);
        b
    })
}

/// The article's HTML: rendered, then sanitised. The same function serves the
/// saved article and the editor's live preview.
pub fn to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: lower(level), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        other => other,
    });
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, parser);
    sanitizer().clean(&raw).to_string()
}

/// The words of an article as plain text, for the search index and snippets: text and code, never
/// markup, link targets or raw HTML; blocks separated by line breaks.
pub fn to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell
                | TagEnd::BlockQuote(_),
            ) => text.push('\n'),
            _ => {}
        }
    }
    crate::kb::strip_markers(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tag in the HTML (text between `<` and `>`; escaped text has neither).
    fn tags(html: &str) -> Vec<String> {
        html.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default().to_lowercase()).collect()
    }

    #[test]
    fn markdown_renders() {
        let html = to_html("# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h2>Title</h2>"), "{html}");
        assert!(html.contains("<strong>bold</strong>") && html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(html.contains("<tbody>"), "{html}");
        let html = to_html("[docs](https://example.com/x) and [home](/kb/other)");
        assert!(html.contains("href=\"https://example.com/x\""), "{html}");
        assert!(html.contains("href=\"/kb/other\""), "{html}");
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""), "{html}");
    }

    #[test]
    fn hostile_markup_is_inert() {
        let cases = [
            "<script>alert(1)</script>",
            "Hi <script>alert(1)</script> there",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"  javascript:alert(1)\">x</a>",
            "<a href=\"java\tscript:alert(1)\">x</a>",
            "<img src=x onerror=alert(1)>",
            "![x](javascript:alert(1))",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<p style=\"position:fixed\" onclick=\"alert(1)\">hi</p>",
            "<style>body{display:none}</style>",
            "<svg><script>alert(1)</script></svg>",
            "<form action=\"https://evil.example\"><input name=x></form>",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<object data=x></object><embed src=x>",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        ];
        for md in cases {
            let html = to_html(md);
            for tag in tags(&html) {
                for bad in [
                    "script",
                    "iframe",
                    "style",
                    "onerror",
                    "onclick",
                    "javascript",
                    "data:",
                    "form",
                    "input",
                    "object",
                    "embed",
                    "meta",
                    "svg",
                ] {
                    assert!(!tag.contains(bad), "{md:?} → {html:?} has {bad} in <{tag}>");
                }
                if tag.starts_with("a ") {
                    assert!(tag.contains("rel=\"noopener noreferrer nofollow\""), "{md:?} → {html:?}");
                }
            }
            assert!(!html.contains("alert(1)</script"), "{md:?} → {html:?}");
        }
        // the image stays, without its handler
        assert_eq!(to_html("<img src=x onerror=alert(1)>").trim(), "<img src=\"x\">");
    }

    #[test]
    fn text_is_words_only() {
        let text = to_text("# Webhooks\n\nSee [the docs](https://example.com/secret-url) and `X-Supportal-Signature`.\n\n<div>raw</div>\n");
        assert!(
            text.contains("Webhooks") && text.contains("the docs") && text.contains("X-Supportal-Signature"),
            "{text}"
        );
        assert!(!text.contains("secret-url") && !text.contains("<div>"), "{text}");
        assert_eq!(to_text("a\u{2}b\u{3}c"), "abc");
    }
}
