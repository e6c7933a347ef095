//! Knowledge base pages: search (`/kb`), one article (`/kb/:slug`) with "was this helpful?", the
//! editor with a live preview (`/kb/new`, `/kb/:slug/edit`), and the suggestions shown beside the
//! new-ticket form.
//!
//! Article bodies, highlighted titles and snippets arrive as HTML the server rendered, sanitised and
//! escaped (see `render` and `mark_html`); they are the only things set with `inner_html`.

use super::server_fns::{get_article, list_articles, preview_article, suggest_articles, vote_article, SaveArticle};
use super::{helpful_summary, search_href, Article, ArticleSummary, Category, SUGGEST_MIN_CHARS};
use crate::error::AppError;
use crate::layout::{use_auth, RequireUser};
use crate::time::When;
use crate::ui::{action_error, field_error, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;
use std::time::Duration;

/// Copies `value` into `target` once typing has paused for `delay`.
fn debounce<T: Send + Sync + 'static>(generation: RwSignal<u64>, target: RwSignal<T>, value: T, delay: Duration) {
    generation.update(|g| *g += 1);
    let mine = generation.get_untracked();
    set_timeout(
        move || {
            if generation.get_untracked() == mine {
                target.set(value);
            }
        },
        delay,
    );
}

fn category_chip(category: Category) -> impl IntoView {
    view! {
        <a class="status-chip kb-category" href=search_href("", category.as_str())>{category.label()}</a>
    }
}

// ---- search ----

#[component]
pub fn KbPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q").unwrap_or_default()));
    let category = Memo::new(move |_| query.with(|m| m.get("category").unwrap_or_default()));
    let results = Resource::new(move || (q.get(), category.get()), |(q, c)| list_articles(q, c));
    let auth = use_auth();
    let navigate = use_navigate();
    let typed = RwSignal::new(q.get_untracked());
    let chosen = RwSignal::new(category.get_untracked());
    let typing = RwSignal::new(0u64);
    let settled = RwSignal::new(q.get_untracked());
    // Typing pauses and category changes update the address (replacing it), which reloads the results.
    let go = move |replace: bool| {
        let href = search_href(&typed.get_untracked(), &chosen.get_untracked());
        navigate(&href, NavigateOptions { replace, scroll: false, ..Default::default() });
    };
    let go_typed = go.clone();
    Effect::new(move |previous: Option<String>| {
        let now = settled.get();
        if previous.is_some_and(|p| p != now) {
            go_typed(true);
        }
        now
    });
    let go_submit = go.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        typing.update(|g| *g += 1);
        go_submit(false);
    };
    view! {
        <Title text="Knowledge base"/>
        <section class="page kb-page">
            <div class="page-head">
                <h1>"Knowledge base"</h1>
                <Transition fallback=|| ()>
                    {move || auth.current().filter(|u| u.role.is_staff()).map(|_| view! {
                        <A href="/kb/new" attr:class="button primary">"New article"</A>
                    })}
                </Transition>
            </div>
            <p class="muted">"Answers to common questions about tickets, SLA clocks, calls, feature voting and integrations."</p>
            <form class="kb-search" role="search" aria-label="Knowledge base" method="get" action="/kb" on:submit=on_submit>
                <div class="field">
                    <label for="kb-q">"Search articles"</label>
                    <input id="kb-q" name="q" type="search" maxlength="200" autocomplete="off"
                        placeholder="For example: webhook signature"
                        value=q.get_untracked()
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            typed.set(value.clone());
                            debounce(typing, settled, value, Duration::from_millis(300));
                        }/>
                </div>
                <div class="field">
                    <label for="kb-category">"Category"</label>
                    <select id="kb-category" name="category" on:change=move |ev| {
                        chosen.set(event_target_value(&ev));
                        go(true);
                    }>
                        <option value="" selected=category.get_untracked().is_empty()>"All categories"</option>
                        {Category::ALL.iter().map(|c| view! {
                            <option value=c.as_str() selected=category.get_untracked() == c.as_str()>{c.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button">"Search"</button>
            </form>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading articles…"</p> }>
                {move || results.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) => view! { <KbResults list=list q=q.get_untracked()/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn KbResults(list: Vec<ArticleSummary>, q: String) -> impl IntoView {
    let count = match list.len() {
        1 => "1 article".to_string(),
        n => format!("{n} articles"),
    };
    let status = if q.trim().is_empty() { count } else { format!("{count} match “{}”", q.trim()) };
    if list.is_empty() {
        let what = if q.trim().is_empty() {
            "No articles yet".to_string()
        } else {
            format!("No articles match “{}”", q.trim())
        };
        return view! {
            <div class="empty-state" data-testid="kb-empty" role="status">
                <p class="empty-title">{what}</p>
                <p>"Try other words or another category, or " <A href="/tickets/new">"open a ticket"</A> " and we will help."</p>
            </div>
        }
        .into_any();
    }
    let results = if q.trim().is_empty() {
        // Browsing: one section per category, in the support plan's order.
        Category::ALL
            .iter()
            .filter_map(|c| {
                let items: Vec<ArticleSummary> = list.iter().filter(|a| a.category == *c).cloned().collect();
                (!items.is_empty()).then(|| {
                    view! {
                        <section class="kb-group" aria-label=c.label()>
                            <h2>{c.label()}</h2>
                            <ul class="kb-results">
                                {items.into_iter().map(|a| view! { <KbResult article=a show_category=false/> }).collect_view()}
                            </ul>
                        </section>
                    }
                })
            })
            .collect_view()
            .into_any()
    } else {
        view! {
            <ul class="kb-results" data-testid="kb-results">
                {list.into_iter().map(|a| view! { <KbResult article=a show_category=true/> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <p class="kb-count muted" role="status" data-testid="kb-count">{status}</p>
        {results}
    }
    .into_any()
}

#[component]
fn KbResult(article: ArticleSummary, show_category: bool) -> impl IntoView {
    view! {
        <li class="kb-result" data-testid="kb-result">
            <a class="kb-result-title" href=format!("/kb/{}", article.slug) inner_html=article.title_html.clone()></a>
            <p class="kb-snippet" inner_html=article.snippet.clone()></p>
            <p class="kb-meta">
                {show_category.then(|| category_chip(article.category))}
                {(!article.published).then(|| view! { <span class="status-chip kb-draft">"Draft"</span> })}
                <span class="muted">"Updated " <When rfc3339=article.updated_at.clone()/></span>
            </p>
        </li>
    }
}

// ---- one article ----

#[component]
pub fn ArticlePage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let article = Resource::new(move || slug.get(), get_article);
    view! {
        <section class="page kb-page">
            <p><A href="/kb">"← Knowledge base"</A></p>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading the article…"</p> }>
                {move || article.get().map(|result| match result {
                    Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(a) => view! { <ArticleView article=a/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ArticleView(article: Article) -> impl IntoView {
    // Only staff receive the Markdown source.
    let staff = article.body_md.is_some();
    let edit = format!("/kb/{}/edit", article.slug);
    view! {
        <Title text=article.title.clone()/>
        <article class="kb-article" data-testid="kb-article">
            <h1 data-testid="kb-title">{article.title.clone()}</h1>
            <p class="kb-meta">
                {category_chip(article.category)}
                {(!article.published).then(|| view! { <span class="status-chip kb-draft">"Draft"</span> })}
                <span class="muted">"Updated " <When rfc3339=article.updated_at.clone()/></span>
                {staff.then(|| view! { <A href=edit attr:class="button">"Edit"</A> })}
            </p>
            <div class="kb-body" data-testid="kb-body" inner_html=article.body_html.clone()></div>
            <Helpful article=article.clone() staff/>
        </article>
    }
}

/// "Was this helpful? Yes / No": one answer per person (or browser), which they can change.
#[component]
fn Helpful(article: Article, staff: bool) -> impl IntoView {
    let slug = StoredValue::new(article.slug.clone());
    let mine = RwSignal::new(article.my_vote);
    let counts = RwSignal::new((article.helpful_yes, article.helpful_no));
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let answer = move |helpful: bool| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match vote_article(slug.get_value(), helpful).await {
                Ok(a) => {
                    mine.set(a.my_vote);
                    counts.set((a.helpful_yes, a.helpful_no));
                }
                Err(e) => error.set(Some(e.message)),
            }
            pending.set(false);
        });
    };
    let button = move |helpful: bool, label: &'static str| {
        view! {
            <button type="button" class="button" data-testid=format!("helpful-{}", label.to_lowercase())
                aria-pressed=move || (mine.get() == Some(helpful)).to_string()
                aria-busy=move || pending.get().to_string()
                on:click=move |_| answer(helpful)>
                {label}
            </button>
        }
    };
    view! {
        <section class="kb-helpful panel" aria-labelledby="kb-helpful-heading" data-testid="kb-helpful">
            <h2 id="kb-helpful-heading">"Was this helpful?"</h2>
            <div class="kb-helpful-buttons">
                {button(true, "Yes")}
                {button(false, "No")}
            </div>
            <div role="status" data-testid="helpful-thanks">
                {move || match mine.get() {
                    Some(true) => view! { <p>"Thanks for your feedback! Glad it helped."</p> }.into_any(),
                    Some(false) => view! {
                        <p>"Thanks for your feedback. If you still need help, " <A href="/tickets/new">"open a ticket"</A> "."</p>
                    }.into_any(),
                    None => ().into_any(),
                }}
            </div>
            <p class="error" role="alert">{move || error.get()}</p>
            {staff.then(|| view! {
                <p class="muted" data-testid="helpful-counts">
                    {move || { let (yes, no) = counts.get(); helpful_summary(yes, no) }}
                </p>
            })}
        </section>
    }
}

// ---- the editor ----

/// The editor's preview: `None` until the body is edited (the saved HTML shows until then).
type Preview = Resource<Result<Option<String>, AppError>>;

fn preview_resource(typed: RwSignal<Option<String>>) -> Preview {
    Resource::new(
        move || typed.get(),
        |body| async move {
            match body {
                None => Ok(None),
                Some(body) => preview_article(body).await.map(Some),
            }
        },
    )
}

/// After a save, go to the article.
fn go_to_saved(save: ServerAction<SaveArticle>) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(a)) = save.value().get() {
            navigate(&format!("/kb/{}", a.slug), Default::default());
        }
    });
}

#[component]
pub fn NewArticlePage() -> impl IntoView {
    let save = ServerAction::<SaveArticle>::new();
    let typed = RwSignal::new(None::<String>);
    let preview = preview_resource(typed);
    go_to_saved(save);
    view! {
        <Title text="New article"/>
        <section class="page kb-page">
            <p><A href="/kb">"← Knowledge base"</A></p>
            <h1>"New article"</h1>
            <RequireUser staff=true>
                <ArticleEditor initial=None save typed preview/>
            </RequireUser>
        </section>
    }
}

#[component]
pub fn EditArticlePage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let article = Resource::new(move || slug.get(), get_article);
    let save = ServerAction::<SaveArticle>::new();
    let typed = RwSignal::new(None::<String>);
    let preview = preview_resource(typed);
    go_to_saved(save);
    view! {
        <Title text="Edit article"/>
        <section class="page kb-page">
            <p><A href=move || format!("/kb/{}", slug.get())>"← Back to the article"</A></p>
            <h1>"Edit article"</h1>
            <RequireUser staff=true>
                <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading the article…"</p> }>
                    {move || article.get().map(|result| match result {
                        Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                        Ok(a) => view! { <ArticleEditor initial=Some(a) save typed preview/> }.into_any(),
                    })}
                </Transition>
            </RequireUser>
        </section>
    }
}

#[component]
fn ArticleEditor(
    initial: Option<Article>,
    save: ServerAction<SaveArticle>,
    typed: RwSignal<Option<String>>,
    preview: Preview,
) -> impl IntoView {
    let error = action_error(save);
    let title_error = field_error(error, "title");
    let slug_error = field_error(error, "slug");
    let category_error = field_error(error, "category");
    let body_error = field_error(error, "body_md");
    let typing = RwSignal::new(0u64);
    let original_slug = initial.as_ref().map(|a| a.slug.clone()).unwrap_or_default();
    let version = initial.as_ref().map(|a| a.version.to_string()).unwrap_or_default();
    let title = initial.as_ref().map(|a| a.title.clone()).unwrap_or_default();
    let slug = original_slug.clone();
    let category = initial.as_ref().map(|a| a.category);
    let body_md = initial.as_ref().and_then(|a| a.body_md.clone()).unwrap_or_default();
    let published = initial.as_ref().is_some_and(|a| a.published);
    let saved_html = StoredValue::new(initial.as_ref().map(|a| a.body_html.clone()).unwrap_or_default());
    let invalid = |s: Signal<Option<String>>| move || s.get().is_some().to_string();
    view! {
        <div class="kb-editor">
            <ActionForm action=save attr:class="stack kb-editor-form" attr:novalidate=true>
                <FormError error/>
                <input type="hidden" name="original_slug" value=original_slug/>
                <input type="hidden" name="version" value=version/>
                <div class="field" class:has-error=move || title_error.get().is_some()>
                    <label for="kb-title">"Title"<span class="required" aria-hidden="true">" *"</span></label>
                    <input id="kb-title" name="title" type="text" maxlength="150" required=true value=title
                        aria-invalid=invalid(title_error) aria-describedby="kb-title-error"/>
                    <p class="field-error" id="kb-title-error" aria-live="polite">{move || title_error.get()}</p>
                </div>
                <div class="field" class:has-error=move || slug_error.get().is_some()>
                    <label for="kb-slug">"Address"</label>
                    <p class="hint" id="kb-slug-hint">"The end of the article's address, /kb/…: lowercase letters, digits and hyphens. Leave blank to make one from the title."</p>
                    <input id="kb-slug" name="slug" type="text" maxlength="80" value=slug autocomplete="off"
                        aria-invalid=invalid(slug_error) aria-describedby="kb-slug-hint kb-slug-error"/>
                    <p class="field-error" id="kb-slug-error" aria-live="polite">{move || slug_error.get()}</p>
                </div>
                <div class="field" class:has-error=move || category_error.get().is_some()>
                    <label for="kb-category-edit">"Category"</label>
                    <select id="kb-category-edit" name="category" aria-describedby="kb-category-error">
                        {Category::ALL.iter().map(|c| view! {
                            <option value=c.as_str() selected=category == Some(*c)>{c.label()}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error" id="kb-category-error" aria-live="polite">{move || category_error.get()}</p>
                </div>
                <div class="field" class:has-error=move || body_error.get().is_some()>
                    <label for="kb-body">"Article"<span class="required" aria-hidden="true">" *"</span></label>
                    <p class="hint" id="kb-body-hint">"Markdown: # headings, **bold**, lists, [links](https://…), `code`, tables. HTML is filtered."</p>
                    <textarea id="kb-body" name="body_md" rows="18" maxlength="50000" required=true
                        aria-invalid=invalid(body_error) aria-describedby="kb-body-hint kb-body-error"
                        on:input=move |ev| debounce(typing, typed, Some(event_target_value(&ev)), Duration::from_millis(300))>
                        {body_md}
                    </textarea>
                    <p class="field-error" id="kb-body-error" aria-live="polite">{move || body_error.get()}</p>
                </div>
                <div class="field checkbox">
                    <input id="kb-published" name="published" type="checkbox" checked=published/>
                    <label for="kb-published">"Published: customers and visitors can read it"</label>
                </div>
                <SubmitButton label="Save article" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
            <section class="kb-preview panel" aria-labelledby="kb-preview-heading" data-testid="kb-preview">
                <h2 id="kb-preview-heading">"Preview"</h2>
                <Transition fallback=|| view! { <p class="loading">"Rendering…"</p> }>
                    {move || preview.get().map(|result| match result {
                        Ok(Some(html)) => view! { <div class="kb-body" data-testid="kb-preview-body" inner_html=html></div> }.into_any(),
                        Ok(None) if saved_html.with_value(String::is_empty) => view! {
                            <p class="muted">"Start writing: the preview shows the article as readers will see it."</p>
                        }.into_any(),
                        Ok(None) => view! { <div class="kb-body" data-testid="kb-preview-body" inner_html=saved_html.get_value()></div> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    })}
                </Transition>
            </section>
        </div>
    }
}

// ---- suggestions beside the new-ticket form ----

/// The ticket subject being typed, settled after a pause. Create it in the page component (outside
/// `RequireUser`) with its [`SubjectWatch::suggestions`] resource, and hand both down.
#[derive(Clone, Copy)]
pub struct SubjectWatch {
    generation: RwSignal<u64>,
    settled: RwSignal<String>,
}

impl Default for SubjectWatch {
    fn default() -> Self {
        Self::new()
    }
}

impl SubjectWatch {
    pub fn new() -> Self {
        SubjectWatch { generation: RwSignal::new(0), settled: RwSignal::new(String::new()) }
    }

    /// Call on every keystroke in the subject field.
    pub fn typed(&self, value: String) {
        debounce(self.generation, self.settled, value, Duration::from_millis(250));
    }

    /// Published articles matching the settled subject (none below three characters).
    pub fn suggestions(&self) -> Resource<Result<Vec<ArticleSummary>, AppError>> {
        let settled = self.settled;
        Resource::new(
            move || settled.get().trim().to_string(),
            |text| async move {
                if text.chars().count() < SUGGEST_MIN_CHARS {
                    Ok(vec![])
                } else {
                    suggest_articles(text).await
                }
            },
        )
    }
}

/// Up to five articles that may answer the ticket being written; they open in a new tab, so
/// nothing typed is lost.
#[component]
pub fn KbSuggestions(
    watch: SubjectWatch,
    suggestions: Resource<Result<Vec<ArticleSummary>, AppError>>,
) -> impl IntoView {
    let long_enough = move || watch.settled.with(|s| s.trim().chars().count() >= SUGGEST_MIN_CHARS);
    view! {
        <aside class="kb-suggestions panel" aria-labelledby="kb-suggestions-heading" data-testid="kb-suggestions">
            <h2 id="kb-suggestions-heading">"Answers that may help"</h2>
            <div aria-live="polite">
                <Transition fallback=|| view! { <p class="loading">"Looking for articles…"</p> }>
                    {move || suggestions.get().map(|result| match result {
                        Ok(list) if !list.is_empty() => view! {
                            <ul class="kb-suggestion-list" data-testid="kb-suggestion-list">
                                {list.into_iter().map(|a| view! {
                                    <li>
                                        <a href=format!("/kb/{}", a.slug) target="_blank" rel="noopener">
                                            <span inner_html=a.title_html.clone()></span>
                                            <span class="visually-hidden">" (opens in a new tab)"</span>
                                        </a>
                                        <span class="muted kb-suggestion-category">{a.category.label()}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Ok(_) if long_enough() => view! {
                            <p class="muted" data-testid="kb-suggestions-none">"No matching articles. Tell us about it in the form."</p>
                        }.into_any(),
                        Ok(_) => view! {
                            <p class="muted">"Type a subject to see knowledge base articles about it. "
                                <A href="/kb">"Browse the knowledge base"</A></p>
                        }.into_any(),
                        Err(_) => view! { <p class="muted">"Suggestions are not available right now."</p> }.into_any(),
                    })}
                </Transition>
            </div>
        </aside>
    }
}
