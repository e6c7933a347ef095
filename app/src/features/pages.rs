//! Feature voting pages: the board (top, trending, new; filter; search), posting
//! with similar-request suggestions, one request with votes, comments and its
//! status history, the roadmap, and the feature link on a ticket.

use super::server_fns::{
    get_feature, get_roadmap, list_features, similar_features, vote_feature, CommentFeature, CreateFeature,
    MergeFeature, SetFeatureStatus, TicketToFeature,
};
use super::{Feature, FeatureStatus, HistoryEntry, Sort};
use crate::accounts::{Role, User};
use crate::layout::{AnyVisitor, RequireUser};
use crate::live::use_live_version;
use crate::time::When;
use crate::ui::{action_error, field_error, EmptyState, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::time::Duration;

fn status_class(status: FeatureStatus) -> String {
    format!("status-chip fs-{}", status.as_str().replace('_', "-"))
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Copies `value` into `target` once it has stayed the same for `delay` (typing pauses).
fn debounce(generation: RwSignal<u64>, target: RwSignal<String>, value: String, delay: Duration) {
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

/// The vote control: updates at once, then confirms with the server, and rolls
/// back with the server's reason if it refuses. Staff and settled requests show
/// the count only.
#[component]
pub fn VoteButton(feature: Feature, #[prop(default = false)] announce: bool) -> impl IntoView {
    let viewer = use_context::<User>();
    let customer = viewer.is_some_and(|u| u.role == Role::Customer);
    let id = feature.id;
    let voted = RwSignal::new(feature.voted_by_me);
    let votes = RwSignal::new(feature.votes);
    let pending = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let can_vote =
        customer && feature.merged_into_id.is_none() && (feature.status.accepts_votes() || feature.voted_by_me);
    let toggle = move |_| {
        if pending.get_untracked() {
            return;
        }
        let (was_voted, was_votes) = (voted.get_untracked(), votes.get_untracked());
        let on = !was_voted;
        voted.set(on);
        votes.set(was_votes + if on { 1 } else { -1 });
        message.set(None);
        pending.set(true);
        leptos::task::spawn_local(async move {
            match vote_feature(id, on).await {
                Ok(f) => {
                    voted.set(f.voted_by_me);
                    votes.set(f.votes);
                }
                Err(e) => {
                    voted.set(was_voted);
                    votes.set(was_votes);
                    message.set(Some(e.message));
                }
            }
            pending.set(false);
        });
    };
    let title = feature.title.clone();
    view! {
        <div class="vote-box" data-testid="vote-box">
            {if can_vote {
                view! {
                    <button type="button" class="vote-button" data-testid="vote-button"
                        aria-pressed=move || voted.get().to_string()
                        aria-busy=move || pending.get().to_string()
                        on:click=toggle>
                        <span class="vote-arrow" aria-hidden="true">"▲"</span>
                        <span>{move || if voted.get() { "Voted" } else { "Vote" }}</span>
                        <span class="visually-hidden">" for " {title.clone()}</span>
                    </button>
                }.into_any()
            } else {
                view! { <span class="vote-arrow static" aria-hidden="true">"▲"</span> }.into_any()
            }}
            <span class="vote-count" data-testid="vote-count" aria-live=if announce { "polite" } else { "off" }>
                {move || votes.get()}
            </span>
            <span class="vote-caption">{move || if votes.get() == 1 { "vote" } else { "votes" }}</span>
            <p class="vote-error" role="alert" data-testid="vote-error">{move || message.get()}</p>
        </div>
    }
}

#[component]
pub fn FeaturesPage() -> impl IntoView {
    view! {
        <Title text="Feature requests"/>
        <Meta name="description" content="Vote for the features you need most and see what is planned, in progress and shipped."/>
        <Meta property="og:title" content="Feature requests"/>
        <section class="page">
            <AnyVisitor>
                <FeatureBoard/>
            </AnyVisitor>
        </section>
    }
}

#[component]
fn FeatureBoard() -> impl IntoView {
    let signed_in = use_context::<User>().is_some();
    let live = use_live_version();
    let sort = RwSignal::new(Sort::Top.as_str().to_string());
    let status = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let typing = RwSignal::new(0u64);
    let features = Resource::new(
        move || (live.get(), sort.get(), status.get(), q.get()),
        |(_, sort, status, q)| list_features(sort, status, q),
    );
    view! {
        <div class="page-head">
            <h1>"Feature requests"</h1>
            <div class="actions">
                <A href="/roadmap" attr:class="button">"Roadmap"</A>
                {if signed_in {
                    view! { <A href="/features/new" attr:class="button primary">"Suggest a feature"</A> }.into_any()
                } else {
                    view! {
                        <A href="/signin?next=%2Ffeatures%2Fnew" attr:class="button primary" attr:data-testid="signin-to-suggest">
                            "Sign in to suggest a feature"
                        </A>
                    }.into_any()
                }}
            </div>
        </div>
        <p class="muted">"Vote for what you need most: one vote per person, and you can take it back. Platinum votes are shown beside the total."</p>
        <div class="board-controls" role="search" aria-label="Feature requests">
            <div class="field">
                <label for="feature-q">"Search"</label>
                <input id="feature-q" type="search" placeholder="Words in the title or description" maxlength="200"
                    on:input=move |ev| debounce(typing, q, event_target_value(&ev), Duration::from_millis(250))/>
            </div>
            <div class="field">
                <label for="feature-sort">"Sort by"</label>
                <select id="feature-sort" on:change=move |ev| sort.set(event_target_value(&ev))>
                    {Sort::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="feature-status">"Status"</label>
                <select id="feature-status" on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="">"All statuses"</option>
                    {FeatureStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
        </div>
        <p class="hint">{move || (sort.get() == "trending").then_some("Trending counts the votes of the last 14 days; the newer a vote, the more it counts.")}</p>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading feature requests…"</p> }>
            {move || features.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState title="No feature requests match">
                        <p>"Try other words or another status, or suggest the feature yourself."</p>
                    </EmptyState>
                }.into_any(),
                Ok(list) => view! {
                    <ul class="feature-list" data-testid="feature-list">
                        {list.into_iter().map(|f| view! { <FeatureCard feature=f/> }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn FeatureCard(feature: Feature) -> impl IntoView {
    let href = format!("/features/{}", feature.id);
    view! {
        <li class="feature-card" data-testid="feature-card" data-feature-id=feature.id>
            <VoteButton feature=feature.clone()/>
            <div class="feature-card-main">
                <A href=href attr:class="feature-title">{feature.title.clone()}</A>
                <p class="feature-card-meta">
                    <span class=status_class(feature.status) data-testid="feature-status">{feature.status.label()}</span>
                    <span>{plural(feature.comments_count, "comment", "comments")}</span>
                    {(feature.platinum_votes > 0).then(|| view! {
                        <span class="platinum-votes">{plural(feature.platinum_votes, "Platinum vote", "Platinum votes")}</span>
                    })}
                    <span class="muted">"#" {feature.id}</span>
                </p>
            </div>
        </li>
    }
}

#[component]
pub fn NewFeaturePage() -> impl IntoView {
    view! {
        <Title text="Suggest a feature"/>
        <section class="page narrow-wide">
            <p><A href="/features">"← All feature requests"</A></p>
            <h1>"Suggest a feature"</h1>
            <RequireUser>
                <NewFeatureForm/>
            </RequireUser>
        </section>
    }
}

#[component]
fn NewFeatureForm() -> impl IntoView {
    let create = ServerAction::<CreateFeature>::new();
    let error = action_error(create);
    let title_error = field_error(error, "title");
    let body_error = field_error(error, "body");
    let typing = RwSignal::new(0u64);
    let typed = RwSignal::new(String::new());
    let similar = Resource::new(
        move || typed.get(),
        |title| async move {
            if title.trim().chars().count() < 3 {
                Ok(vec![])
            } else {
                similar_features(title).await
            }
        },
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(feature)) = create.value().get() {
            navigate(&format!("/features/{}", feature.id), Default::default());
        }
    });
    view! {
        <ActionForm action=create attr:class="stack" attr:novalidate=true>
            <FormError error/>
            <div class="field" class:has-error=move || title_error.get().is_some()>
                <label for="title">"Title"<span class="required" aria-hidden="true">" *"</span></label>
                <p class="hint" id="title-hint">"One line: what would you like to be able to do?"</p>
                <input id="title" name="title" type="text" maxlength="120" required=true autocomplete="off"
                    aria-invalid=move || title_error.get().is_some().to_string()
                    aria-describedby="title-hint title-error similar-features"
                    on:input=move |ev| debounce(typing, typed, event_target_value(&ev), Duration::from_millis(300))/>
                <p class="field-error" id="title-error" aria-live="polite">{move || title_error.get()}</p>
            </div>
            <div id="similar-features" class="similar" data-testid="similar-features" aria-live="polite">
                <Transition fallback=|| ()>
                    {move || similar.get().and_then(Result::ok).filter(|list| !list.is_empty()).map(|list| view! {
                        <div class="callout info">
                            <p><strong>"Similar requests exist."</strong> " Vote for one of these instead of posting a duplicate:"</p>
                            <ul class="similar-list">
                                {list.into_iter().map(|f| view! {
                                    <li>
                                        <A href=format!("/features/{}", f.id)>{f.title.clone()}</A>
                                        <span class="muted">" · " {f.status.label()} " · " {plural(f.votes, "vote", "votes")}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </div>
                    })}
                </Transition>
            </div>
            <div class="field" class:has-error=move || body_error.get().is_some()>
                <label for="body">"Description"<span class="required" aria-hidden="true">" *"</span></label>
                <textarea id="body" name="body" rows="6" maxlength="10000" required=true
                    aria-invalid=move || body_error.get().is_some().to_string()
                    aria-describedby="body-error"></textarea>
                <p class="field-error" id="body-error" aria-live="polite">{move || body_error.get()}</p>
            </div>
            <SubmitButton label="Post request" busy_label="Posting…" pending=create.pending()/>
        </ActionForm>
    }
}

#[component]
pub fn FeaturePage() -> impl IntoView {
    view! {
        <section class="page">
            <AnyVisitor>
                <FeatureDetailView/>
            </AnyVisitor>
        </section>
    }
}

fn history_text(h: &HistoryEntry) -> String {
    let status = |v: &Option<String>| {
        v.as_deref().and_then(|s| s.parse::<FeatureStatus>().ok()).map(|s| s.label()).unwrap_or("?").to_string()
    };
    let who = h.actor_name.clone().unwrap_or_else(|| "Supportal".into());
    match h.kind.as_str() {
        "created" => "Posted".to_string(),
        "from_ticket" => format!("{who} posted this request from a support conversation"),
        "status" => format!("{who} changed the status from {} to {}", status(&h.from_value), status(&h.to_value)),
        "note" => format!("{who} posted an update"),
        "merged_into" => format!("{who} merged this request into #{}", h.to_value.clone().unwrap_or_default()),
        "merged_from" => format!("{who} merged #{} into this request", h.from_value.clone().unwrap_or_default()),
        other => other.to_string(),
    }
}

#[component]
fn FeatureDetailView() -> impl IntoView {
    let viewer = use_context::<User>();
    let signed_in = viewer.is_some();
    let staff = viewer.as_ref().is_some_and(|v| v.role.is_staff());
    let manager = viewer.as_ref().is_some_and(|v| v.role.is_manager());
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let merged_from = move || query.with(|q| q.get("merged_from").and_then(|v| v.parse::<i64>().ok()));
    let live = use_live_version();
    let comment = ServerAction::<CommentFeature>::new();
    let set_status = ServerAction::<SetFeatureStatus>::new();
    let merge = ServerAction::<MergeFeature>::new();
    let detail = Resource::new(
        move || (id(), live.get(), comment.version().get(), set_status.version().get()),
        |(id, ..)| get_feature(id),
    );
    let comment_error = action_error(comment);
    let status_error = action_error(set_status);
    let merge_error = action_error(merge);
    let navigate = use_navigate();
    // After a merge, and on opening a merged request: go to the request kept. (An Effect, not `<Redirect>`
    // inside the Transition, which left the old page on screen.)
    let go_to_kept = navigate.clone();
    Effect::new(move |_| {
        if let Some(Ok(kept)) = merge.value().get() {
            let from = params.with_untracked(|p| p.get("id").unwrap_or_default());
            merge.value().set(None);
            navigate(&format!("/features/{}?merged_from={from}", kept.id), Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            if let Some(into) = d.feature.merged_into_id {
                let options = leptos_router::NavigateOptions { replace: true, ..Default::default() };
                go_to_kept(&format!("/features/{into}?merged_from={}", d.feature.id), options);
            }
        }
    });
    // Clear the comment box after a comment is posted.
    let comment_box = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(el)) = (comment.value().get(), comment_box.get()) {
            el.set_value("");
        }
    });
    // Managers pick the request to keep from the others.
    let others = Resource::new(
        move || (manager, live.get()),
        |(manager, _)| async move {
            if manager {
                list_features("new".into(), String::new(), String::new()).await
            } else {
                Ok(vec![])
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading feature request…"</p> }>
            {move || detail.get().map(|result| match result {
                Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(d) if d.feature.merged_into_id.is_some() => {
                    let into = d.feature.merged_into_id.unwrap_or_default();
                    let path = format!("/features/{into}?merged_from={}", d.feature.id);
                    view! {
                        <Title text=d.feature.title.clone()/>
                        <p class="callout info" role="status">
                            "This request was merged into " <A href=path.clone()>"request #" {into}</A> "."
                        </p>
                    }.into_any()
                }
                Ok(d) => {
                    let f = d.feature.clone();
                    let fid = f.id;
                    let merge_targets = move || others.get().and_then(Result::ok).unwrap_or_default()
                        .into_iter().filter(|o| o.id != fid).collect::<Vec<_>>();
                    let summary: String = f.body.chars().take(160).collect();
                    let signin = format!("/signin?next=%2Ffeatures%2F{fid}");
                    view! {
                        <Title text=f.title.clone()/>
                        <Meta name="description" content=summary.clone()/>
                        <Meta property="og:title" content=f.title.clone()/>
                        <Meta property="og:description" content=summary/>
                        <p><A href="/features">"← All feature requests"</A></p>
                        {(!signed_in).then(|| view! {
                            <p class="callout info" data-testid="signin-to-vote">
                                <A href=signin.clone()>"Sign in"</A> " to vote for this request or comment on it."
                            </p>
                        })}
                        {merged_from().map(|from| view! {
                            <p class="callout info" role="status" data-testid="merged-banner">
                                "Request #" {from} " was merged into this one; its votes and comments are here now."
                            </p>
                        })}
                        <div class="feature-head">
                            <VoteButton feature=f.clone() announce=true/>
                            <div class="feature-head-main">
                                <h1 data-testid="feature-title">{f.title.clone()}</h1>
                                <p class="feature-card-meta">
                                    <span class=status_class(f.status) data-testid="feature-status">{f.status.label()}</span>
                                    <span class="platinum-votes" data-testid="platinum-votes">{plural(f.platinum_votes, "Platinum vote", "Platinum votes")}</span>
                                    <span class="muted">"#" {f.id} " · by " {f.author_name.clone()} " · " <When rfc3339=f.created_at.clone()/></span>
                                    {f.ticket_id.filter(|_| staff).map(|t| view! {
                                        <A href=format!("/tickets/{t}")>"From ticket #" {t}</A>
                                    })}
                                </p>
                            </div>
                        </div>
                        <p class="feature-body" data-testid="feature-body">{f.body.clone()}</p>
                        {staff.then(|| view! {
                            <details class="panel staff-panel" open=true>
                                <summary>"Change the status"</summary>
                                <ActionForm action=set_status attr:class="stack">
                                    <input type="hidden" name="id" value=fid/>
                                    <div class="field">
                                        <label for="feature-new-status">"Status"</label>
                                        <select id="feature-new-status" name="status">
                                            {FeatureStatus::ALL.iter().map(|s| view! {
                                                <option value=s.as_str() selected=*s == f.status>{s.label()}</option>
                                            }).collect_view()}
                                        </select>
                                    </div>
                                    <div class="field" class:has-error=move || field_error(status_error, "note").get().is_some()>
                                        <label for="feature-note">"Public note"</label>
                                        <p class="hint" id="feature-note-hint">"Everyone sees it in the history; voters are told about a new status."</p>
                                        <textarea id="feature-note" name="note" rows="3" maxlength="2000" aria-describedby="feature-note-hint feature-note-error"></textarea>
                                        <p class="field-error" id="feature-note-error" aria-live="polite">{move || field_error(status_error, "note").get().or_else(|| field_error(status_error, "status").get())}</p>
                                    </div>
                                    <FormError error=status_error/>
                                    <SubmitButton label="Update status" busy_label="Updating…" pending=set_status.pending()/>
                                </ActionForm>
                            </details>
                        })}
                        {manager.then(|| view! {
                            <details class="panel staff-panel">
                                <summary>"Merge this duplicate into another request"</summary>
                                <ActionForm action=merge attr:class="stack">
                                    <input type="hidden" name="id" value=fid/>
                                    <div class="field">
                                        <label for="merge-into">"Request to keep"</label>
                                        <select id="merge-into" name="into_id" data-testid="merge-into">
                                            <option value="">"Choose…"</option>
                                            {move || merge_targets().into_iter().map(|o| view! {
                                                <option value=o.id>{format!("#{} {} ({} votes)", o.id, o.title, o.votes)}</option>
                                            }).collect_view()}
                                        </select>
                                        <p class="field-error" aria-live="polite">{move || field_error(merge_error, "into_id").get()}</p>
                                    </div>
                                    <p class="hint">"Votes combine (nobody is counted twice), comments move, and this page will lead to the one kept."</p>
                                    <FormError error=merge_error/>
                                    <SubmitButton label="Merge" busy_label="Merging…" pending=merge.pending()/>
                                </ActionForm>
                            </details>
                        })}
                        <h2>"Status history"</h2>
                        <ol class="feature-history" data-testid="feature-history">
                            {d.history.iter().map(|h| view! {
                                <li>
                                    <p><strong>{history_text(h)}</strong> " " <span class="muted"><When rfc3339=h.created_at.clone()/></span></p>
                                    {h.note.clone().filter(|_| h.kind != "merged_into" && h.kind != "merged_from").map(|n| view! { <p class="history-note">{n}</p> })}
                                </li>
                            }).collect_view()}
                        </ol>
                        <h2>"Comments"</h2>
                        {if d.comments.is_empty() {
                            view! { <p class="muted" data-testid="no-comments">"No comments yet."</p> }.into_any()
                        } else {
                            view! {
                                <ol class="conversation" data-testid="feature-comments">
                                    {d.comments.into_iter().map(|c| view! {
                                        <li class="message" class:from-staff=c.from_staff>
                                            <p class="message-head">
                                                <strong>{c.author_name.clone()}</strong>
                                                {c.from_staff.then_some(view! { <span class="role-chip">"Support"</span> })}
                                                <span class="muted"><When rfc3339=c.created_at.clone()/></span>
                                            </p>
                                            <p class="message-body">{c.body.clone()}</p>
                                        </li>
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }}
                        {signed_in.then(|| view! {
                        <ActionForm action=comment attr:class="stack reply-form" attr:novalidate=true>
                            <input type="hidden" name="id" value=fid/>
                            <div class="field" class:has-error=move || field_error(comment_error, "body").get().is_some()>
                                <label for="comment-body">"Add a comment"</label>
                                <textarea id="comment-body" name="body" rows="3" maxlength="5000" node_ref=comment_box aria-describedby="comment-error"></textarea>
                                <p class="field-error" id="comment-error" aria-live="polite">{move || field_error(comment_error, "body").get()}</p>
                            </div>
                            <FormError error=comment_error/>
                            <SubmitButton label="Post comment" busy_label="Posting…" pending=comment.pending()/>
                        </ActionForm>
                        })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
pub fn RoadmapPage() -> impl IntoView {
    view! {
        <Title text="Roadmap"/>
        <Meta name="description" content="What we plan, what we are building, and what shipped in the last 90 days."/>
        <Meta property="og:title" content="Roadmap"/>
        <section class="page">
            <AnyVisitor>
                <RoadmapView/>
            </AnyVisitor>
        </section>
    }
}

#[component]
fn RoadmapColumn(title: &'static str, testid: &'static str, items: Vec<Feature>, empty: &'static str) -> impl IntoView {
    view! {
        <section class="roadmap-column" data-testid=testid aria-label=title>
            <h2>{title} " " <span class="muted">"(" {items.len()} ")"</span></h2>
            {if items.is_empty() {
                view! { <p class="muted">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="roadmap-list">
                        {items.into_iter().map(|f| view! {
                            <li class="roadmap-item">
                                <A href=format!("/features/{}", f.id)>{f.title.clone()}</A>
                                <span class="muted">
                                    {plural(f.votes, "vote", "votes")}
                                    {(f.platinum_votes > 0).then(|| format!(" · {} Platinum", f.platinum_votes))}
                                </span>
                                {(f.status == FeatureStatus::Shipped).then(|| view! {
                                    <span class="muted">"Shipped " <When rfc3339=f.status_changed_at.clone()/></span>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RoadmapView() -> impl IntoView {
    let live = use_live_version();
    let map = Resource::new(move || live.get(), |_| get_roadmap());
    view! {
        <div class="page-head">
            <h1>"Roadmap"</h1>
            <A href="/features" attr:class="button">"All feature requests"</A>
        </div>
        <p class="muted">"What we plan, what we are building, and what shipped in the last 90 days. Vote on the board to move things up."</p>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading the roadmap…"</p> }>
            {move || map.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(m) => view! {
                    <div class="roadmap">
                        <RoadmapColumn title="Planned" testid="roadmap-planned" items=m.planned empty="Nothing planned yet."/>
                        <RoadmapColumn title="In progress" testid="roadmap-in-progress" items=m.in_progress empty="Nothing in progress right now."/>
                        <RoadmapColumn title="Recently shipped" testid="roadmap-shipped" items=m.shipped empty="Nothing shipped in the last 90 days."/>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

/// On a ticket page: the feature request it became, or (for staff, on a P4 or
/// feature-request ticket) the button that makes one.
#[component]
pub fn TicketFeature(
    ticket_id: i64,
    convertible: bool,
    staff: bool,
    linked: Option<Feature>,
    convert: ServerAction<TicketToFeature>,
    /// The ticket's subject and description: a starting point the agent edits, since the post is public.
    draft: (String, String),
) -> impl IntoView {
    let error = action_error(convert);
    let title_error = field_error(error, "title");
    let body_error = field_error(error, "body");
    let pending = convert.pending();
    match linked {
        Some(f) => view! {
            <p class="callout info ticket-feature" data-testid="ticket-feature">
                "Feature request: " <A href=format!("/features/{}", f.id)>{f.title.clone()}</A>
                " · " {f.status.label()} " · " {plural(f.votes, "vote", "votes")}
            </p>
        }
        .into_any(),
        None if staff && convertible => view! {
            <details class="ticket-feature disclosure" data-testid="make-feature-panel">
                <summary class="button" data-testid="make-feature">"Turn into a feature request"</summary>
                <ActionForm action=convert attr:class="stack" attr:novalidate=true>
                    <p class="callout warning" id="public-feature-hint">
                        "This posts a public request everyone can read and vote on, under your name. "
                        "The ticket stays private: rewrite the text below and remove names, logs, "
                        "addresses and anything else about this customer."
                    </p>
                    <FormError error/>
                    <input type="hidden" name="ticket_id" value=ticket_id/>
                    <div class="field" class:has-error=move || title_error.get().is_some()>
                        <label for="public-title">"Public title"<span class="required" aria-hidden="true">" *"</span></label>
                        <input id="public-title" name="title" type="text" maxlength="120" required=true autocomplete="off"
                            value=draft.0
                            aria-invalid=move || title_error.get().is_some().to_string()
                            aria-describedby="public-feature-hint public-title-error"/>
                        <p class="field-error" id="public-title-error" aria-live="polite">{move || title_error.get()}</p>
                    </div>
                    <div class="field" class:has-error=move || body_error.get().is_some()>
                        <label for="public-body">"Public description"<span class="required" aria-hidden="true">" *"</span></label>
                        <textarea id="public-body" name="body" rows="6" maxlength="10000" required=true
                            aria-invalid=move || body_error.get().is_some().to_string()
                            aria-describedby="public-feature-hint public-body-error">{draft.1}</textarea>
                        <p class="field-error" id="public-body-error" aria-live="polite">{move || body_error.get()}</p>
                    </div>
                    <SubmitButton label="Post the public request" busy_label="Posting…" pending/>
                </ActionForm>
            </details>
        }
        .into_any(),
        None => ().into_any(),
    }
}
