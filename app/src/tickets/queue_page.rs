//! `/queue`: the agents' live queue. Views with live counts, filters in the address (so a view can be
//! bookmarked and the server renders it), countdowns that tick, rows that change in place and flash, keyboard
//! navigation and bulk actions.

use super::pages::{humanize, live_state, state_class};
use super::queue::{NextDeadline, Queue, QueueRow, QueueView, QUEUE_STATUSES};
use super::server_fns::{ticket_queue, BulkUpdateTickets};
use super::shortcuts::{focus, use_shortcuts, ShortcutHelp, QUEUE_KEYS};
use super::Priority;
use crate::accounts::{Level, Tier};
use crate::layout::RequireUser;
use crate::live::{use_live_version, use_now};
use crate::ui::{action_error, EmptyState, FormError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::{HashMap, HashSet};

/// The queue's resource lives here, outside `RequireUser`: the server walks a suspended closure more than once
/// while rendering, and a resource created inside it would load the queue again each time.
#[component]
pub fn QueuePage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            Filters {
                view: get("view"),
                tier: get("tier"),
                priority: get("priority"),
                level: get("level"),
                status: get("status"),
                q: get("q"),
            }
        })
    });
    let live = use_live_version();
    let bulk = ServerAction::<BulkUpdateTickets>::new();
    let queue = Resource::new(
        move || (filters.get(), live.get(), bulk.version().get()),
        |(f, ..)| {
            let opt = |v: String| (!v.is_empty()).then_some(v);
            ticket_queue(opt(f.view), opt(f.tier), opt(f.priority), opt(f.level), opt(f.status), opt(f.q))
        },
    );
    view! {
        <Title text="Queue"/>
        <section class="page wide">
            <RequireUser staff=true>
                <QueueBoard filters bulk queue/>
            </RequireUser>
        </section>
    }
}

type QueueResource = Resource<Result<Queue, crate::error::AppError>>;

/// The filters in the address bar.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    view: String,
    tier: String,
    priority: String,
    level: String,
    status: String,
    q: String,
}

impl Filters {
    /// The address of `view` with the other filters kept.
    fn href(&self, view: QueueView) -> String {
        let mut parts = vec![format!("view={}", view.as_str())];
        for (name, value) in
            [("tier", &self.tier), ("priority", &self.priority), ("level", &self.level), ("status", &self.status)]
        {
            if !value.is_empty() {
                parts.push(format!("{name}={value}"));
            }
        }
        if !self.q.is_empty() {
            parts.push(format!("q={}", encode(&self.q)));
        }
        format!("/queue?{}", parts.join("&"))
    }
}

/// Percent-encodes a query value (letters, digits and `-_.~` stay).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn QueueBoard(filters: Memo<Filters>, bulk: ServerAction<BulkUpdateTickets>, queue: QueueResource) -> impl IntoView {
    let me = expect_context::<crate::accounts::User>();
    // The rows currently shown (for the keyboard), the cursor, the selection, and rows that just changed.
    let shown = RwSignal::new(Vec::<i64>::new());
    let cursor = RwSignal::new(0_usize);
    let selected = RwSignal::new(HashSet::<i64>::new());
    let flashing = RwSignal::new(HashSet::<i64>::new());
    let seen = StoredValue::new(None::<HashMap<i64, i64>>);
    let help = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(q)) = queue.get() {
            let now: HashMap<i64, i64> = q.tickets.iter().map(|r| (r.id, r.version)).collect();
            // The first load flashes nothing; later, a new row or a new version of a row flashes briefly.
            if let Some(before) = seen.get_value() {
                let changed: HashSet<i64> =
                    now.iter().filter(|(id, v)| before.get(id) != Some(v)).map(|(id, _)| *id).collect();
                if !changed.is_empty() {
                    flashing.set(changed);
                    #[cfg(feature = "hydrate")]
                    set_timeout(move || flashing.set(HashSet::new()), std::time::Duration::from_millis(4000));
                }
            }
            seen.set_value(Some(now));
            let ids: Vec<i64> = q.tickets.iter().map(|r| r.id).collect();
            cursor.update(|c| *c = (*c).min(ids.len().saturating_sub(1)));
            selected.update(|s| s.retain(|id| ids.contains(id)));
            shown.set(ids);
        }
    });
    let navigate = use_navigate();
    let claim_one = move |id: i64| {
        bulk.dispatch(BulkUpdateTickets { ids: id.to_string(), action: "claim".into() });
    };
    use_shortcuts(move |key| {
        let ids = shown.get_untracked();
        let at = cursor.get_untracked();
        match key.as_str() {
            "j" | "k" if !ids.is_empty() => {
                let next = if key == "j" { (at + 1).min(ids.len() - 1) } else { at.saturating_sub(1) };
                cursor.set(next);
                focus(&format!("[data-row='{next}'] .queue-subject"));
            }
            "Enter" => {
                if let Some(id) = ids.get(at) {
                    navigate(&format!("/tickets/{id}"), Default::default());
                }
            }
            "x" => {
                if let Some(id) = ids.get(at).copied() {
                    selected.update(|s| {
                        if !s.remove(&id) {
                            s.insert(id);
                        }
                    });
                }
            }
            "a" => {
                if let Some(id) = ids.get(at).copied() {
                    claim_one(id);
                }
            }
            "?" => help.update(|h| *h = !*h),
            _ => {}
        }
    });
    let bulk_error = action_error(bulk);
    let bulk_status = RwSignal::new(String::new());
    view! {
        <div class="page-head">
            <h1>"Queue"</h1>
            <button type="button" class="button subtle" on:click=move |_| help.update(|h| *h = !*h)
                aria-keyshortcuts="?">"Shortcuts"</button>
        </div>
        <ShortcutHelp open=help keys=QUEUE_KEYS/>
        <FilterForm filters/>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading the queue…"</p> }>
            {move || queue.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(q) => view! { <QueueViews queue=q.clone() filters=filters.get_untracked()/> <QueueRows queue=q cursor selected flashing/> }.into_any(),
            })}
        </Transition>
        <div class="bulk-bar" hidden=move || selected.with(|s| s.is_empty()) data-testid="bulk-bar">
            <span aria-live="polite">{move || format!("{} selected", selected.with(|s| s.len()))}</span>
            <button type="button" class="button" on:click=move |_| {
                let ids = selected.get_untracked().iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                bulk.dispatch(BulkUpdateTickets { ids, action: "claim".into() });
            }>"Assign to me"</button>
            <label for="bulk-status" class="visually-hidden">"New status for the selected tickets"</label>
            <select id="bulk-status" on:change=move |ev| bulk_status.set(event_target_value(&ev))>
                <option value="">"Set status…"</option>
                {QUEUE_STATUSES.iter().chain([super::Status::Resolved].iter())
                    .map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
            </select>
            <button type="button" class="button" disabled=move || bulk_status.with(String::is_empty) on:click=move |_| {
                let ids = selected.get_untracked().iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                bulk.dispatch(BulkUpdateTickets { ids, action: format!("status:{}", bulk_status.get_untracked()) });
            }>"Apply"</button>
            <button type="button" class="button subtle" on:click=move |_| selected.set(HashSet::new())>"Clear"</button>
        </div>
        <FormError error=bulk_error/>
        {move || bulk.value().get().and_then(Result::ok).filter(|o| !o.failed.is_empty()).map(|o| view! {
            <p class="error" role="alert" data-testid="bulk-failed">
                {o.failed.iter().map(|(id, why)| format!("#{id}: {why}")).collect::<Vec<_>>().join(" · ")}
            </p>
        })}
        <p class="muted">"Signed in as " {me.name.clone()} ". Press " <kbd>"?"</kbd> " for shortcuts."</p>
    }
}

#[component]
fn FilterForm(filters: Memo<Filters>) -> impl IntoView {
    let f = move || filters.get();
    let select = move |id: &'static str, label: &'static str, options: Vec<(String, String)>, current: String| {
        view! {
            <div class="field compact">
                <label for=id>{label}</label>
                <select id=id name=id>
                    <option value="" selected=current.is_empty()>"Any"</option>
                    {options.into_iter().map(|(value, text)| {
                        let chosen = value == current;
                        view! { <option value=value selected=chosen>{text}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    view! {
        <Form method="GET" action="/queue" attr:class="queue-filters" attr:role="search" attr:aria-label="Filter the queue">
            <input type="hidden" name="view" value=move || f().view/>
            {move || {
                let f = f();
                view! {
                    {select("tier", "Tier", Tier::ALL.iter().map(|t| (t.as_str().into(), t.as_str().into())).collect(), f.tier)}
                    {select("priority", "Priority", Priority::ALL.iter().map(|p| (p.as_str().into(), p.as_str().into())).collect(), f.priority)}
                    {select("level", "Level", Level::ALL.iter().map(|l| (l.as_str().into(), l.as_str().into())).collect(), f.level)}
                    {select("status", "Status", QUEUE_STATUSES.iter().map(|s| (s.as_str().into(), s.label_for(true).into())).collect(), f.status)}
                    <div class="field compact grow">
                        <label for="queue-q">"Search"</label>
                        <input id="queue-q" name="q" type="search" value=f.q placeholder="Words or #number" maxlength="200"/>
                    </div>
                }
            }}
            <button type="submit" class="button">"Filter"</button>
            <A href="/queue" attr:class="button subtle">"Reset"</A>
        </Form>
    }
}

#[component]
fn QueueViews(queue: Queue, filters: Filters) -> impl IntoView {
    view! {
        <nav class="queue-views" aria-label="Queue views">
            {QueueView::ALL.iter().map(|v| {
                let v = *v;
                let current = v == queue.view;
                view! {
                    <A href=filters.href(v) attr:class=if current { "view-tab current" } else { "view-tab" }
                        attr:aria-current=current.then_some("page") attr:data-testid=format!("view-{}", v.as_str())>
                        {v.label()} " " <span class="count" data-testid=format!("count-{}", v.as_str())>{queue.counts.of(v)}</span>
                    </A>
                }
            }).collect_view()}
        </nav>
    }
}

#[component]
fn QueueRows(
    queue: Queue,
    cursor: RwSignal<usize>,
    selected: RwSignal<HashSet<i64>>,
    flashing: RwSignal<HashSet<i64>>,
) -> impl IntoView {
    if queue.tickets.is_empty() {
        let text = match queue.view {
            QueueView::Unassigned => "Every running ticket has an owner.",
            QueueView::Mine => "Nothing assigned to you. Claim one from Unassigned.",
            QueueView::AtRisk => "No ticket is at risk or breached.",
            QueueView::AllOpen => "No running tickets match.",
        };
        return view! { <EmptyState title="Nothing here"><p>{text}</p></EmptyState> }.into_any();
    }
    let total = queue.counts.of(queue.view);
    let shown = queue.tickets.len() as i64;
    view! {
        <ul class="queue" data-testid="queue" aria-label="Tickets by next deadline">
            {queue.tickets.into_iter().enumerate().map(|(index, row)| view! {
                <QueueItem row index cursor selected flashing/>
            }).collect_view()}
        </ul>
        {(total > shown).then(|| view! { <p class="muted">{format!("Showing the {shown} most urgent of {total}. Filter to narrow.")}</p> })}
    }
    .into_any()
}

#[component]
fn QueueItem(
    row: QueueRow,
    index: usize,
    cursor: RwSignal<usize>,
    selected: RwSignal<HashSet<i64>>,
    flashing: RwSignal<HashSet<i64>>,
) -> impl IntoView {
    let t = row;
    let id = t.id;
    let now = use_now();
    let check_id = format!("select-{id}");
    view! {
        <li class="queue-row" data-row=index data-ticket=id data-testid="queue-row"
            class:current=move || cursor.get() == index
            class:flash=move || flashing.with(|f| f.contains(&id))
            on:focusin=move |_| cursor.set(index)>
            <input type="checkbox" id=check_id.clone() class="row-select"
                prop:checked=move || selected.with(|s| s.contains(&id))
                on:change=move |_| selected.update(|s| { if !s.remove(&id) { s.insert(id); } })/>
            <label for=check_id class="visually-hidden">{format!("Select ticket {id}")}</label>
            <span class=format!("priority-chip {}", t.priority.as_str().to_lowercase())>{t.priority.as_str()}</span>
            <div class="queue-main">
                // A plain link (the router still navigates in place): 50 router links cost more to render.
                <a href=format!("/tickets/{id}") class="queue-subject">{t.subject.clone()}</a>
                <span class="muted queue-meta">
                    "#" {id} " · " {t.requester_name.clone()}
                    <span class=format!("tier-chip {}", t.tier.as_str())>{t.tier.as_str()}</span>
                    " · " {t.level.as_str()} " · " {t.status.label_for(true)}
                </span>
            </div>
            <span class="queue-assignee" data-testid="assignee">{t.assignee_name.clone().unwrap_or_else(|| "Unassigned".into())}</span>
            {t.next.map(|next| countdown(next, now))}
        </li>
    }
}

/// A compact ticking countdown for a queue row.
fn countdown(next: NextDeadline, now: RwSignal<i64>) -> impl IntoView {
    let due = next.due_epoch;
    let base = next.state;
    let label = if next.clock == "first_response" { "Reply" } else { "Resolve" };
    let state = move || live_state(base, due, now.get());
    let text = move || {
        let left = due - now.get();
        if left >= 0 {
            format!("{label} in {}", humanize(left))
        } else {
            format!("{label} overdue {}", humanize(left))
        }
    };
    let class = move || format!("countdown {}", state_class(state()));
    view! { <span class=class data-testid="row-countdown">{text}</span> }
}
