//! Community feature voting: requests customers post and vote on, the statuses
//! agents move them through, and the roadmap built from them.
//!
//! The ranking (top, trending, new), the merge arithmetic and the similarity
//! used to suggest existing requests are plain functions here, tested without a
//! database; storage and I/O live in the `ssr`-only `service` module.

use crate::error::{check_text, AppError, AppResult, FieldErrors};
use serde::{Deserialize, Serialize};

pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;

crate::text_enum!(FeatureStatus {
    Open => "open",
    UnderReview => "under_review",
    Planned => "planned",
    InProgress => "in_progress",
    Shipped => "shipped",
    Declined => "declined",
});

impl FeatureStatus {
    pub fn label(self) -> &'static str {
        match self {
            FeatureStatus::Open => "Open",
            FeatureStatus::UnderReview => "Under review",
            FeatureStatus::Planned => "Planned",
            FeatureStatus::InProgress => "In progress",
            FeatureStatus::Shipped => "Shipped",
            FeatureStatus::Declined => "Declined",
        }
    }

    /// Whether people can still add their vote (shipped and declined requests are settled).
    pub fn accepts_votes(self) -> bool {
        !matches!(self, FeatureStatus::Shipped | FeatureStatus::Declined)
    }
}

crate::text_enum!(Sort {
    Top => "top",
    Trending => "trending",
    New => "new",
});

impl Sort {
    pub fn label(self) -> &'static str {
        match self {
            Sort::Top => "Top",
            Sort::Trending => "Trending",
            Sort::New => "New",
        }
    }
}

/// One feature request as the API and the pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub status: FeatureStatus,
    pub author_id: i64,
    pub author_name: String,
    /// The ticket this request came from, if an agent turned one into it.
    pub ticket_id: Option<i64>,
    /// Set when a manager merged this request into another one: go there instead.
    pub merged_into_id: Option<i64>,
    pub votes: i64,
    pub platinum_votes: i64,
    pub voted_by_me: bool,
    pub comments_count: i64,
    /// The trending score (see [`trending_score`]) when the list was made.
    pub trending: f64,
    pub created_at: String,
    pub updated_at: String,
    /// When the status last changed (the shipping date of a shipped request).
    pub status_changed_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub feature_id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub from_staff: bool,
    pub body: String,
    pub created_at: String,
}

/// One public history entry: created, a status change with its note, a merge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub kind: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub note: Option<String>,
    pub actor_name: Option<String>,
    pub created_at: String,
}

/// The detail page: the request, its comments and its history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureDetail {
    pub feature: Feature,
    pub comments: Vec<Comment>,
    pub history: Vec<HistoryEntry>,
}

/// The roadmap columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Roadmap {
    pub planned: Vec<Feature>,
    pub in_progress: Vec<Feature>,
    /// Shipped in the last [`ROADMAP_SHIPPED_DAYS`] days, newest first.
    pub shipped: Vec<Feature>,
}

/// Board filters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureFilter {
    pub sort: Option<Sort>,
    pub status: Option<FeatureStatus>,
    pub q: Option<String>,
}

pub const TITLE_MAX: usize = 120;
pub const BODY_MAX: usize = 10_000;
pub const COMMENT_MAX: usize = 5_000;
pub const NOTE_MAX: usize = 2_000;
/// Feature requests one person may post per hour.
pub const POSTS_PER_HOUR: u32 = 10;
/// How far back the roadmap's "recently shipped" column looks.
pub const ROADMAP_SHIPPED_DAYS: i64 = 90;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFeatureInput {
    pub title: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFeature {
    pub title: String,
    pub body: String,
}

impl NewFeatureInput {
    pub fn validate(self) -> AppResult<NewFeature> {
        let mut errors = FieldErrors::default();
        let title = check_text(&self.title, "title", TITLE_MAX).map_err(|m| errors.add("title", m)).ok();
        let body = check_text(&self.body, "description", BODY_MAX).map_err(|m| errors.add("body", m)).ok();
        errors.into_result()?;
        match (title, body) {
            (Some(title), Some(body)) => Ok(NewFeature { title, body }),
            _ => Err(AppError::internal()),
        }
    }
}

pub fn check_comment(raw: &str) -> Result<String, String> {
    check_text(raw, "comment", COMMENT_MAX)
}

/// An optional public note: trimmed, empty means none.
pub fn check_note(raw: Option<&str>) -> Result<Option<String>, String> {
    let note = raw.map(str::trim).unwrap_or_default();
    if note.chars().count() > NOTE_MAX {
        return Err(format!("A note has at most {NOTE_MAX} characters."));
    }
    Ok((!note.is_empty()).then(|| note.to_string()))
}

/// PATCH body (agents).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: FeatureStatus,
    #[serde(default)]
    pub note: Option<String>,
}

/// Why a vote is refused, if it is: merged requests point elsewhere, settled ones take no new votes.
pub fn vote_refusal(status: FeatureStatus, merged_into: Option<i64>) -> Option<AppError> {
    if let Some(into) = merged_into {
        return Some(AppError::conflict(
            "feature_merged",
            format!("This request was merged into #{into}; vote there instead."),
        ));
    }
    match status {
        FeatureStatus::Declined => {
            Some(AppError::conflict("feature_declined", "This request was declined, so it no longer takes votes."))
        }
        FeatureStatus::Shipped => Some(AppError::conflict(
            "feature_shipped",
            "This request has shipped already, so it no longer takes votes.",
        )),
        _ => None,
    }
}

// ---- ranking ----

/// How far back trending looks.
pub const TRENDING_WINDOW_SECS: i64 = 14 * 86_400;

/// The trending score of a request from the instants (Unix seconds) of its votes.
///
/// Only votes of the last 14 days count, and each counts less the older it is,
/// falling linearly from 1 (cast now) to 0 (cast 14 days ago):
///
/// ```text
/// score = Σ over votes with age < 14 d of (1 − age / 14 d)
/// ```
///
/// So a vote from today is worth two from a week ago, and a request that was
/// popular last month but quiet since has a trending score of 0 however many
/// votes it has in total. A vote stamped in the future (clock skew) counts 1.
pub fn trending_score(now: i64, vote_times: &[i64]) -> f64 {
    vote_times
        .iter()
        .map(|&at| {
            let age = (now - at).max(0);
            if age >= TRENDING_WINDOW_SECS {
                0.0
            } else {
                1.0 - age as f64 / TRENDING_WINDOW_SECS as f64
            }
        })
        .sum()
}

/// What ranking needs to know of a request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankKey {
    pub id: i64,
    pub votes: i64,
    pub trending: f64,
}

/// Orders requests for the board. Top: most votes; trending: highest
/// [`trending_score`], then most votes; new: newest first. Remaining ties go to
/// the newer request (the higher id), so the order is always total and stable.
pub fn rank(keys: &mut [RankKey], sort: Sort) {
    keys.sort_by(|a, b| {
        let newer = b.id.cmp(&a.id);
        match sort {
            Sort::New => newer,
            Sort::Top => b.votes.cmp(&a.votes).then(newer),
            Sort::Trending => b.trending.total_cmp(&a.trending).then(b.votes.cmp(&a.votes)).then(newer),
        }
    });
}

/// The voters of the request kept after a merge: everyone who voted on either,
/// each once (the database does the same with `INSERT … ON CONFLICT DO NOTHING`).
pub fn merged_voters(kept: &[i64], merged: &[i64]) -> Vec<i64> {
    let mut all: Vec<i64> = kept.iter().chain(merged).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

// ---- similar requests ----

/// Words too common to say two titles are about the same thing.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "be", "by", "can", "for", "from", "have", "i", "in", "is", "it", "me", "my", "of",
    "on", "or", "our", "please", "so", "that", "the", "this", "to", "us", "we", "with", "would", "you", "add",
    "support", "allow", "option", "feature", "able",
];

/// Lowercase word stems of a title, without stopwords: "Dark mode for the Dashboards!" → {dark, mode, dashboard}.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            // A crude plural stem, so "webhooks" meets "webhook".
            match w.strip_suffix('s') {
                Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_string(),
                _ => w,
            }
        })
        .filter(|w| !STOPWORDS.contains(&w.as_str()) && (w.chars().count() > 1 || w.chars().all(char::is_numeric)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// How alike two titles are, from 0 (no word in common) to 1 (the same words):
/// shared words divided by the words of the shorter title (overlap coefficient),
/// so a short query that is wholly contained in a longer title scores high.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (tokens(a), tokens(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.iter().filter(|w| b.contains(w)).count();
    shared as f64 / a.len().min(b.len()) as f64
}

/// Below this, a title is not suggested as similar.
pub const SIMILAR_THRESHOLD: f64 = 0.5;
pub const SIMILAR_MAX: usize = 5;

/// The ids of the titles most like `title`, best first (at most [`SIMILAR_MAX`]).
pub fn most_similar(title: &str, candidates: &[(i64, String)]) -> Vec<i64> {
    let mut scored: Vec<(f64, i64)> = candidates
        .iter()
        .map(|(id, t)| (similarity(title, t), *id))
        .filter(|(score, _)| *score >= SIMILAR_THRESHOLD)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    scored.into_iter().take(SIMILAR_MAX).map(|(_, id)| id).collect()
}

/// Whether an agent may turn a ticket into a feature request: P4 (the support
/// plan's "feature request" class) or filed in the feature-request category.
pub fn ticket_convertible(priority: crate::sla::Priority, category: crate::tickets::Category) -> bool {
    priority == crate::sla::Priority::P4 || category == crate::tickets::Category::FeatureRequest
}

/// The voter's notification text for a status change.
pub fn status_notice(title: &str, to: FeatureStatus, note: Option<&str>) -> String {
    let short: String = title.chars().take(80).collect();
    match note {
        Some(note) => {
            let note: String = note.chars().take(200).collect();
            format!("\"{short}\" is now {}: {note}", to.label().to_lowercase())
        }
        None => format!("\"{short}\" is now {}.", to.label().to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn trending_decays_linearly_over_fourteen_days() {
        let now = 100 * DAY;
        let cases: [(&str, Vec<i64>, f64); 8] = [
            ("no votes", vec![], 0.0),
            ("one vote now", vec![now], 1.0),
            ("a week old is worth half", vec![now - 7 * DAY], 0.5),
            ("13.5 days old", vec![now - 13 * DAY - DAY / 2], 0.5 / 14.0),
            ("exactly 14 days old no longer counts", vec![now - 14 * DAY], 0.0),
            ("a month old", vec![now - 30 * DAY], 0.0),
            ("future votes count as now", vec![now + 3600], 1.0),
            ("mixed", vec![now, now - 7 * DAY, now - 40 * DAY, now - 3 * DAY - DAY / 2], 1.0 + 0.5 + 0.75),
        ];
        for (what, votes, expected) in cases {
            let got = trending_score(now, &votes);
            assert!(close(got, expected), "{what}: {got} != {expected}");
        }
    }

    #[test]
    fn ranking_orders_by_sort() {
        let now = 100 * DAY;
        // 1: many old votes; 2: few recent votes; 3: newest, one vote today; 4: ties with 2 on total votes
        let key =
            |id, times: Vec<i64>| RankKey { id, votes: times.len() as i64, trending: trending_score(now, &times) };
        let base = vec![
            key(1, vec![now - 30 * DAY; 10]),
            key(2, vec![now - DAY, now - 2 * DAY, now - 3 * DAY]),
            key(3, vec![now]),
            key(4, vec![now - 20 * DAY, now - 10 * DAY, now - 12 * DAY]),
        ];
        let cases = [(Sort::Top, [1, 4, 2, 3]), (Sort::Trending, [2, 3, 4, 1]), (Sort::New, [4, 3, 2, 1])];
        for (sort, expected) in cases {
            let mut keys = base.clone();
            rank(&mut keys, sort);
            assert_eq!(keys.iter().map(|k| k.id).collect::<Vec<_>>(), expected, "{sort}");
        }
    }

    #[test]
    fn trending_ties_fall_back_to_votes_then_newest() {
        let mut keys = vec![
            RankKey { id: 1, votes: 5, trending: 0.0 },
            RankKey { id: 2, votes: 9, trending: 0.0 },
            RankKey { id: 3, votes: 5, trending: 0.0 },
        ];
        rank(&mut keys, Sort::Trending);
        assert_eq!(keys.iter().map(|k| k.id).collect::<Vec<_>>(), [2, 3, 1]);
    }

    #[test]
    fn merge_counts_each_voter_once() {
        let cases: [(&[i64], &[i64], &[i64]); 5] = [
            (&[], &[], &[]),
            (&[1, 2], &[], &[1, 2]),
            (&[], &[3], &[3]),
            (&[1, 2, 3], &[3, 4], &[1, 2, 3, 4]),
            (&[5, 6], &[6, 5], &[5, 6]),
        ];
        for (kept, merged, expected) in cases {
            assert_eq!(merged_voters(kept, merged), expected, "{kept:?} + {merged:?}");
        }
        // total after a merge = |kept| + |merged| − |both|
        let (kept, merged) = ([1, 2, 3, 7], [2, 3, 9]);
        assert_eq!(merged_voters(&kept, &merged).len(), kept.len() + merged.len() - 2);
    }

    #[test]
    fn similar_titles_are_found() {
        let candidates = vec![
            (1, "Dark mode for the dashboard".to_string()),
            (2, "Export tickets to CSV".to_string()),
            (3, "Webhook retries with backoff".to_string()),
            (4, "Dashboard widgets for SLA compliance".to_string()),
        ];
        let cases: [(&str, &[i64]); 5] = [
            ("dark mode", &[1]),
            ("Please add a dark dashboard", &[1, 4]),
            ("retry webhooks", &[3]),
            ("the and for", &[]),
            ("", &[]),
        ];
        for (title, expected) in cases {
            assert_eq!(most_similar(title, &candidates), expected, "{title}");
        }
        assert!(close(similarity("Webhooks!", "webhook"), 1.0));
        assert!(close(similarity("x y", "a b"), 0.0));
    }

    #[test]
    fn validation_names_each_field() {
        let err = NewFeatureInput { title: "  ".into(), body: "".into() }.validate().unwrap_err();
        assert_eq!(err.status, 422);
        assert!(err.field("title").is_some() && err.field("body").is_some());
        let long = NewFeatureInput { title: "t".repeat(121), body: "b".into() }.validate().unwrap_err();
        assert!(long.field("title").unwrap().contains("120"));
        let ok = NewFeatureInput { title: " Dark mode ".into(), body: " Please ".into() }.validate().unwrap();
        assert_eq!((ok.title.as_str(), ok.body.as_str()), ("Dark mode", "Please"));
        assert_eq!(check_note(Some("  ")), Ok(None));
        assert!(check_note(Some(&"n".repeat(2001))).is_err());
        assert!(check_comment(" ").is_err());
    }

    #[test]
    fn votes_are_refused_clearly() {
        use FeatureStatus::*;
        let cases = [
            (Open, None, None),
            (Planned, None, None),
            (InProgress, None, None),
            (Declined, None, Some("feature_declined")),
            (Shipped, None, Some("feature_shipped")),
            (Open, Some(4), Some("feature_merged")),
            (Declined, Some(4), Some("feature_merged")),
        ];
        for (status, merged, code) in cases {
            let got = vote_refusal(status, merged);
            assert_eq!(got.as_ref().map(|e| e.code.as_str()), code, "{status} {merged:?}");
            assert!(got.is_none_or(|e| e.status == 409));
        }
        assert!(vote_refusal(Open, Some(4)).unwrap().message.contains("#4"));
    }

    #[test]
    fn tickets_that_can_become_requests() {
        use crate::sla::Priority;
        use crate::tickets::Category;
        assert!(ticket_convertible(Priority::P4, Category::Question));
        assert!(ticket_convertible(Priority::P3, Category::FeatureRequest));
        assert!(!ticket_convertible(Priority::P2, Category::Bug));
    }

    #[test]
    fn status_notices_read_well() {
        assert_eq!(status_notice("Dark mode", FeatureStatus::Planned, None), "\"Dark mode\" is now planned.");
        assert_eq!(
            status_notice("Dark mode", FeatureStatus::InProgress, Some("Next sprint")),
            "\"Dark mode\" is now in progress: Next sprint"
        );
    }
}
