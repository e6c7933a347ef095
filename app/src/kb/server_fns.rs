//! Server functions behind the knowledge-base pages; same service and rules as the REST API.
//! Reading and searching need no account (published articles only); writing is for agents and
//! managers. The read-only ones are GETs: they change nothing, so they do not spend the write budget.

use super::{Article, ArticleSummary};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::accounts::server_fns::ssr::request_headers;
    use crate::accounts::User;
    use crate::error::AppResult;
    use crate::kb::service::{voter_cookie_from, Voter};
    use crate::services::{services, Services};

    /// The services and whoever is calling (nobody, for anonymous visitors).
    pub async fn caller() -> AppResult<(Services, Option<User>)> {
        let s = services()?;
        let user = crate::accounts::server_fns::ssr::request_user(&s).await?;
        Ok((s, user))
    }

    /// Whose "was this helpful?" answer counts: the user, else this browser's voter cookie (if it has one).
    pub fn existing_voter(user: Option<&User>) -> AppResult<Option<Voter>> {
        Ok(match user {
            Some(u) => Some(Voter::user(u)),
            None => voter_cookie_from(&request_headers()?).map(|c| Voter::anonymous(&c)),
        })
    }
}

/// Articles: `q` words to look for (empty: the most recent), `category` a category slug or "" for all.
/// Staff also see drafts.
#[server(prefix = "/rpc", endpoint = "kb_list", input = GetUrl)]
pub async fn list_articles(q: String, category: String) -> Result<Vec<ArticleSummary>, AppError> {
    let (s, user) = ssr::caller().await?;
    let category = match category.trim() {
        "" | "all" => None,
        c => Some(c.parse().map_err(|m: String| AppError::invalid_field("category", m))?),
    };
    let search = super::service::Search {
        q: q.chars().take(super::QUERY_MAX).collect(),
        category,
        include_drafts: true,
        offset: 0,
        limit: 100,
    };
    super::service::list(&s.db, user.as_ref(), &search).await
}

/// Published articles matching a ticket subject being typed (at most five).
#[server(prefix = "/rpc", endpoint = "kb_suggest", input = GetUrl)]
pub async fn suggest_articles(text: String) -> Result<Vec<ArticleSummary>, AppError> {
    let s = crate::services::services()?;
    let text: String = text.chars().take(super::QUERY_MAX).collect();
    super::service::suggest(&s.db, &text).await
}

#[server(prefix = "/rpc", endpoint = "kb_article", input = GetUrl)]
pub async fn get_article(slug: String) -> Result<Article, AppError> {
    let (s, user) = ssr::caller().await?;
    let voter = ssr::existing_voter(user.as_ref())?;
    super::service::get(&s.db, user.as_ref(), voter.as_ref(), slug.trim()).await
}

/// The editor's live preview: the sanitised HTML saving would store.
#[server(prefix = "/rpc", endpoint = "kb_preview")]
pub async fn preview_article(body_md: String) -> Result<String, AppError> {
    let (_, user) = ssr::caller().await?;
    let user = user.ok_or_else(AppError::unauthorized)?;
    super::service::preview(&user, &body_md)
}

/// Creates an article (`original_slug` empty) or changes the one at `original_slug`.
/// `version` is the version the editor loaded (blank for a new article).
#[server(prefix = "/rpc", endpoint = "kb_save")]
pub async fn save_article(
    original_slug: String,
    title: String,
    slug: String,
    category: String,
    body_md: String,
    published: Option<String>,
    version: String,
) -> Result<Article, AppError> {
    let (s, user) = ssr::caller().await?;
    let user = user.ok_or_else(AppError::unauthorized)?;
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let input = super::ArticleInput {
        title,
        slug: Some(slug),
        category,
        body_md,
        published: published.is_some(),
        version: version.trim().parse().ok(),
    };
    let draft = input.validate()?;
    match original_slug.trim() {
        "" => super::service::create(&s.db, &user, draft).await,
        original => super::service::update(&s.db, &user, original, draft).await,
    }
}

/// "Was this helpful?": signed-in people answer as themselves; anonymous visitors as this browser
/// (a cookie is set on the first answer). Answering again changes the answer.
#[server(prefix = "/rpc", endpoint = "kb_vote")]
pub async fn vote_article(slug: String, helpful: bool) -> Result<Article, AppError> {
    use super::service::{new_voter_cookie, Voter};
    let (s, user) = ssr::caller().await?;
    let voter = match ssr::existing_voter(user.as_ref())? {
        Some(voter) => voter,
        None => {
            let (value, header) = new_voter_cookie(s.secure_cookies);
            crate::accounts::server_fns::ssr::set_cookie(header);
            Voter::anonymous(&value)
        }
    };
    super::service::vote(&s.db, user.as_ref(), &voter, slug.trim(), helpful).await
}
