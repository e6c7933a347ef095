//! `/tickets/:id`: one ticket. Customers follow their SLA clocks and the public conversation; staff get the
//! workspace: internal notes, claim and assign, status and priority, escalation with a reason, the timeline, a
//! side panel on the customer, who else is on the ticket, and keyboard shortcuts.
//!
//! One resource loads the whole page. The forms sit outside its `Transition`, so a live refresh (another agent's
//! note, a status change) never wipes what is being typed; they read the ticket from signals the resource fills.

use super::pages::ClockView;
use super::server_fns::{ticket_workspace, EscalateTicket, ReplyTicket, SetTicketStatus, UpdateTicket};
use super::shortcuts::{focus, use_shortcuts, ShortcutHelp, TICKET_KEYS};
use super::workspace::{presence_text, Agent, Presence, StaffPanel, Workspace};
use super::{level_above, Priority, Status, Ticket};
use crate::accounts::{Level, Tier, User};
use crate::layout::RequireUser;
use crate::live::use_live_version;
use crate::time::When;
use crate::ui::{action_error, field_error, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// The page's actions and its one resource live here, outside `RequireUser`: the server walks a suspended closure
/// more than once while rendering, and a resource created inside it would load the ticket again each time.
#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0)));
    let live = use_live_version();
    let actions = Actions {
        reply: ServerAction::new(),
        set_status: ServerAction::new(),
        update: ServerAction::new(),
        escalate: ServerAction::new(),
        convert: ServerAction::new(),
    };
    let workspace = Resource::new(
        move || {
            (
                id.get(),
                live.get(),
                actions.reply.version().get(),
                actions.set_status.version().get(),
                actions.update.version().get(),
                actions.escalate.version().get(),
                actions.convert.version().get(),
            )
        },
        |(id, ..)| ticket_workspace(id),
    );
    view! {
        <section class="page wide">
            <RequireUser>
                <TicketWorkspace id actions workspace/>
            </RequireUser>
        </section>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    reply: ServerAction<ReplyTicket>,
    set_status: ServerAction<SetTicketStatus>,
    update: ServerAction<UpdateTicket>,
    escalate: ServerAction<EscalateTicket>,
    convert: ServerAction<crate::features::server_fns::TicketToFeature>,
}

/// How often an open ticket page tells the server "still here" (and hears who else is).
#[cfg(feature = "hydrate")]
const PRESENCE_EVERY_MS: u64 = 3000;
/// The reply box counts as "being typed in" for this long after the last key.
#[cfg(feature = "hydrate")]
const TYPING_FOR_MS: f64 = 5000.0;

#[component]
fn TicketWorkspace(
    id: Memo<i64>,
    actions: Actions,
    workspace: Resource<Result<Workspace, crate::error::AppError>>,
) -> impl IntoView {
    let viewer = expect_context::<User>();
    let staff = viewer.role.is_staff();
    let Actions { reply, set_status, update, escalate, convert } = actions;
    // What the forms outside the Transition need, filled once the resource has loaded.
    let current = RwSignal::new(None::<Ticket>);
    let agents = RwSignal::new(Vec::<Agent>::new());
    Effect::new(move |_| {
        if let Some(Ok(w)) = workspace.get() {
            agents.set(w.staff.as_ref().map(|p| p.agents.clone()).unwrap_or_default());
            current.set(Some(w.ticket));
        }
    });
    let internal = RwSignal::new(false);
    let help = RwSignal::new(false);
    let others = RwSignal::new(Vec::<Presence>::new());
    let typing = RwSignal::new(false);
    let last_key = StoredValue::new(0.0_f64);
    if staff {
        watch_presence(id, typing, last_key, others);
    }
    let me = viewer.id;
    use_shortcuts(move |key| match key.as_str() {
        "r" => {
            internal.set(false);
            focus("#reply-body");
        }
        "n" if staff => {
            internal.set(true);
            focus("#reply-body");
        }
        "a" if staff => {
            if let Some(t) = current.get_untracked().filter(|t| t.assignee_id != Some(me)) {
                update.dispatch(UpdateTicket {
                    id: t.id,
                    version: t.version,
                    status: None,
                    priority: None,
                    assignee: Some("me".into()),
                });
            }
        }
        "e" if staff => focus("#escalate-reason"),
        "?" => help.update(|h| *h = !*h),
        _ => {}
    });

    view! {
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading ticket…"</p> }>
            {move || workspace.get().map(|result| match result {
                Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(w) => view! { <TicketHeader w staff/> }.into_any(),
            })}
        </Transition>
        <p class="presence" aria-live="polite" data-testid="presence" hidden=move || others.with(Vec::is_empty)>
            {move || others.with(|o| presence_text(o))}
        </p>
        <ShortcutHelp open=help keys=TICKET_KEYS/>
        <div class="workspace" class:with-side=staff>
            <div class="ws-main">
                <Transition fallback=|| ()>
                    {move || workspace.get().and_then(Result::ok).map(|w| view! {
                        <Conversation w=w.clone() staff convert/>
                    })}
                </Transition>
                <Compose current reply internal typing last_key staff/>
                {(!staff).then(|| view! { <CustomerActions current set_status/> })}
            </div>
            {staff.then(|| view! {
                <aside class="ws-side" aria-label="Ticket details">
                    <StaffActions current agents update escalate me/>
                    <Transition fallback=|| ()>
                        {move || workspace.get().and_then(Result::ok).and_then(|w| w.staff).map(|p| view! { <SidePanel panel=p/> })}
                    </Transition>
                </aside>
            })}
        </div>
        <p class="muted shortcut-hint">"Press " <kbd>"?"</kbd> " for keyboard shortcuts."</p>
    }
}

/// Heartbeats while the page is open: says who is here (and typing), hears who else is.
fn watch_presence(id: Memo<i64>, typing: RwSignal<bool>, last_key: StoredValue<f64>, others: RwSignal<Vec<Presence>>) {
    #[cfg(feature = "hydrate")]
    {
        use super::server_fns::ticket_presence;
        let beat = move || {
            let (id, typing) = (id.get_untracked(), typing.get_untracked());
            leptos::task::spawn_local(async move {
                if let Ok(list) = ticket_presence(id, typing, false).await {
                    others.try_set(list);
                }
            });
        };
        // At once on arrival and whenever typing starts or stops, then every few seconds.
        Effect::new(move |_| {
            let _ = (id.get(), typing.get());
            beat();
        });
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if typing.get_untracked() && js_sys::Date::now() - last_key.get_value() > TYPING_FOR_MS {
                    typing.set(false);
                } else {
                    beat();
                }
            },
            std::time::Duration::from_millis(PRESENCE_EVERY_MS),
        ) {
            on_cleanup(move || {
                handle.clear();
                let id = id.get_untracked();
                leptos::task::spawn_local(async move {
                    let _ = ticket_presence(id, false, true).await;
                });
            });
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, typing, last_key, others);
}

#[component]
fn TicketHeader(w: Workspace, staff: bool) -> impl IntoView {
    let t = w.ticket;
    let assignee = w.staff.as_ref().map(|p| p.assignee_name.clone().unwrap_or_else(|| "Unassigned".into()));
    view! {
        <Title text=t.subject.clone()/>
        <p>{if staff { view! { <A href="/queue">"← Queue"</A> } } else { view! { <A href="/tickets">"← All tickets"</A> } }}</p>
        <h1 data-testid="ticket-subject">{t.subject.clone()}</h1>
        <p class="ticket-meta">
            <span class=format!("priority-chip {}", t.priority.as_str().to_lowercase()) data-testid="ticket-priority">{t.priority.as_str()}</span>
            <span data-testid="ticket-status">{t.status.label_for(staff)}</span>
            {staff.then(|| view! { <span class="level-chip" data-testid="ticket-level">{t.level.as_str()}</span> })}
            {assignee.map(|a| view! { <span data-testid="ticket-assignee">{a}</span> })}
            <span class="muted">"#" {t.id} " · opened " <When rfc3339=t.created_at.clone()/></span>
            <crate::discord::pages::ViaDiscord ticket_id=t.id/>
        </p>
        <div class="clocks panel">
            <ClockView label="First response" clock=t.sla.first_response.clone() staff/>
            <ClockView label="Resolution" clock=t.sla.resolution.clone() staff/>
        </div>
    }
}

#[component]
fn Conversation(
    w: Workspace,
    staff: bool,
    convert: ServerAction<crate::features::server_fns::TicketToFeature>,
) -> impl IntoView {
    let t = w.ticket;
    let id = t.id;
    let books_calls = !staff && t.tier == Tier::Platinum && !t.status.is_done();
    view! {
        {books_calls.then(|| view! {
            <p><A href=format!("/calls/book?ticket={id}") attr:class="button" attr:data-testid="book-call-for-ticket">"Book a call about this ticket"</A></p>
        })}
        <crate::features::pages::TicketFeature ticket_id=id staff linked=w.feature convert
            convertible=crate::features::ticket_convertible(t.priority, t.category)
            draft=(t.subject.clone(), t.body.clone())/>
        <super::survey::SurveyPanel ticket_id=id state=w.survey/>
        <h2>"Conversation"</h2>
        <ol class="conversation" data-testid="conversation">
            <li class="message from-customer">
                <p class="message-head"><strong>{if staff { "The customer wrote" } else { "You wrote" }}</strong></p>
                <p class="message-body">{t.body.clone()}</p>
            </li>
            {w.messages.into_iter().map(|m| view! {
                <li class="message" class:from-staff=m.from_staff class:internal=m.internal
                    data-testid=if m.internal { "internal-note" } else { "message" }>
                    <p class="message-head">
                        <strong>{m.author_name.clone()}</strong>
                        {m.internal.then_some(view! { <span class="note-chip">"Internal note · staff only"</span> })}
                        {(m.from_staff && !m.internal).then_some(view! { <span class="role-chip">"Support"</span> })}
                        <span class="muted"><When rfc3339=m.created_at.clone()/></span>
                    </p>
                    <p class="message-body">{m.body.clone()}</p>
                </li>
            }).collect_view()}
        </ol>
    }
}

/// The reply box: public reply or (staff) internal note.
#[component]
fn Compose(
    current: RwSignal<Option<Ticket>>,
    reply: ServerAction<ReplyTicket>,
    internal: RwSignal<bool>,
    typing: RwSignal<bool>,
    last_key: StoredValue<f64>,
    staff: bool,
) -> impl IntoView {
    let error = action_error(reply);
    let body_error = field_error(error, "body");
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(el)) = (reply.value().get(), textarea.get()) {
            el.set_value("");
            typing.set(false);
        }
    });
    let open = move || current.with(|t| t.as_ref().is_some_and(|t| t.status != Status::Closed));
    let on_input = move |_| {
        #[cfg(feature = "hydrate")]
        last_key.set_value(js_sys::Date::now());
        #[cfg(not(feature = "hydrate"))]
        let _ = last_key;
        if !typing.get_untracked() {
            typing.set(true);
        }
    };
    view! {
        <div class="compose" class:internal=move || internal.get() hidden=move || !open() data-testid="compose">
            {staff.then(|| view! {
                <div class="compose-kind" role="radiogroup" aria-label="Kind of message">
                    <label><input type="radio" name="compose-kind" prop:checked=move || !internal.get()
                        on:change=move |_| internal.set(false)/>" Public reply"</label>
                    <label><input type="radio" name="compose-kind" prop:checked=move || internal.get()
                        on:change=move |_| internal.set(true)/>" Internal note"</label>
                </div>
            })}
            <ActionForm action=reply attr:class="stack reply-form" attr:novalidate=true>
                <input type="hidden" name="id" prop:value=move || current.with(|t| t.as_ref().map_or(0, |t| t.id))/>
                <input type="hidden" name="internal" prop:value=move || internal.get().to_string()/>
                <div class="field" class:has-error=move || body_error.get().is_some()>
                    <label for="reply-body">{move || if internal.get() { "Internal note (only staff see it)" } else { "Reply" }}</label>
                    <textarea id="reply-body" name="body" rows="4" maxlength="20000" node_ref=textarea
                        aria-describedby="reply-error" on:input=on_input aria-keyshortcuts="r"></textarea>
                    <p class="field-error" id="reply-error" aria-live="polite">{move || body_error.get()}</p>
                </div>
                <FormError error/>
                <SubmitButton label="Send" busy_label="Sending…" pending=reply.pending()/>
            </ActionForm>
        </div>
    }
}

#[component]
fn CustomerActions(current: RwSignal<Option<Ticket>>, set_status: ServerAction<SetTicketStatus>) -> impl IntoView {
    let error = action_error(set_status);
    let status = move || current.with(|t| t.as_ref().map(|t| t.status));
    view! {
        <div class="actions" hidden=move || status().is_none()>
            <ActionForm action=set_status attr:class="inline-form">
                <input type="hidden" name="id" prop:value=move || current.with(|t| t.as_ref().map_or(0, |t| t.id))/>
                <input type="hidden" name="status" prop:value=move || if status() == Some(Status::Resolved) { "open" } else { "resolved" }/>
                <button type="submit" class="button" hidden=move || status().is_some_and(|s| s == Status::Closed)>
                    {move || if status() == Some(Status::Resolved) { "Reopen" } else { "Mark resolved" }}
                </button>
            </ActionForm>
        </div>
        <FormError error/>
    }
}

/// Claim, assign, status, priority and escalation, each sent with the version on screen (409 if stale).
#[component]
fn StaffActions(
    current: RwSignal<Option<Ticket>>,
    agents: RwSignal<Vec<Agent>>,
    update: ServerAction<UpdateTicket>,
    escalate: ServerAction<EscalateTicket>,
    me: i64,
) -> impl IntoView {
    let viewer = expect_context::<User>();
    let manager = viewer.role.is_manager();
    let update_error = action_error(update);
    let escalate_error = action_error(escalate);
    let ticket_id = move || current.with(|t| t.as_ref().map_or(0, |t| t.id));
    let version = move || current.with(|t| t.as_ref().map_or(0, |t| t.version));
    let mine = move || current.with(|t| t.as_ref().is_some_and(|t| t.assignee_id == Some(me)));
    let level = move || current.with(|t| t.as_ref().map(|t| t.level));
    let status = move || current.with(|t| t.as_ref().map(|t| t.status));
    let priority = move || current.with(|t| t.as_ref().map(|t| t.priority));
    let assignee = move || current.with(|t| t.as_ref().and_then(|t| t.assignee_id));
    // Agents go one level up; managers may go further.
    let targets = move || -> Vec<Level> {
        let Some(from) = level() else { return Vec::new() };
        match (manager, level_above(from)) {
            (_, None) => Vec::new(),
            (false, Some(next)) => vec![next],
            (true, Some(_)) => Level::ALL.iter().copied().filter(|l| *l > from).collect(),
        }
    };
    let escalate_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (escalate.value().get(), escalate_form.get()) {
            form.reset();
        }
    });
    view! {
        <section class="panel staff-actions" hidden=move || current.with(Option::is_none) aria-label="Work the ticket">
            <h2>"Work it"</h2>
            <ActionForm action=update attr:class="inline-form">
                <input type="hidden" name="id" prop:value=ticket_id/>
                <input type="hidden" name="version" prop:value=version/>
                <input type="hidden" name="assignee" value="me"/>
                <button type="submit" class="button primary" hidden=mine data-testid="claim" aria-keyshortcuts="a">"Assign to me"</button>
            </ActionForm>
            <p class="muted" hidden=move || !mine()>"Assigned to you."</p>
            <ActionForm action=update attr:class="stack">
                <input type="hidden" name="id" prop:value=ticket_id/>
                <input type="hidden" name="version" prop:value=version/>
                <div class="field compact">
                    <label for="ws-assignee">"Assignee"</label>
                    <select id="ws-assignee" name="assignee">
                        <option value="none" selected=move || assignee().is_none()>"Unassigned"</option>
                        {move || agents.get().into_iter().map(|a| {
                            let aid = a.id;
                            view! { <option value=aid.to_string() selected=move || assignee() == Some(aid)>
                                {format!("{} ({})", a.name, a.level.map_or("—", Level::as_str))}
                            </option> }
                        }).collect_view()}
                    </select>
                    <p class="field-error" aria-live="polite">{move || field_error(update_error, "assignee").get().or_else(|| field_error(update_error, "assignee_id").get())}</p>
                </div>
                <div class="field compact">
                    <label for="ws-status">"Status"</label>
                    <select id="ws-status" name="status">
                        {Status::ALL.iter().map(|s| {
                            let s = *s;
                            view! { <option value=s.as_str() selected=move || status() == Some(s)>{s.label_for(true)}</option> }
                        }).collect_view()}
                    </select>
                    <p class="field-error" aria-live="polite">{move || field_error(update_error, "status").get()}</p>
                </div>
                <div class="field compact">
                    <label for="ws-priority">"Priority"</label>
                    <select id="ws-priority" name="priority">
                        {Priority::ALL.iter().map(|p| {
                            let p = *p;
                            view! { <option value=p.as_str() selected=move || priority() == Some(p)>{p.as_str()}</option> }
                        }).collect_view()}
                    </select>
                    <p class="muted">"Changing the priority recomputes the SLA targets."</p>
                </div>
                <FormError error=update_error/>
                <SubmitButton label="Save changes" busy_label="Saving…" pending=update.pending()/>
            </ActionForm>
            <h3>"Escalate"</h3>
            <p class="muted" hidden=move || !targets().is_empty()>"Already at the top level (L4)."</p>
            <ActionForm action=escalate node_ref=escalate_form attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="id" prop:value=ticket_id/>
                <div class="field compact" hidden=move || targets().is_empty()>
                    <label for="escalate-level">"To level"</label>
                    <select id="escalate-level" name="to_level">
                        {move || targets().into_iter().map(|l| view! { <option value=l.as_str()>{l.as_str()}</option> }).collect_view()}
                    </select>
                    <p class="field-error" aria-live="polite">{move || field_error(escalate_error, "to_level").get()}</p>
                </div>
                <div class="field" hidden=move || targets().is_empty() class:has-error=move || field_error(escalate_error, "reason").get().is_some()>
                    <label for="escalate-reason">"Why"<span class="required" aria-hidden="true">" *"</span></label>
                    <textarea id="escalate-reason" name="reason" rows="2" maxlength="2000" required=true
                        aria-describedby="escalate-reason-error" aria-keyshortcuts="e"></textarea>
                    <p class="field-error" id="escalate-reason-error" aria-live="polite">{move || field_error(escalate_error, "reason").get()}</p>
                </div>
                <FormError error=escalate_error/>
                <div hidden=move || targets().is_empty()>
                    <SubmitButton label="Escalate" busy_label="Escalating…" pending=escalate.pending()/>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn SidePanel(panel: StaffPanel) -> impl IntoView {
    let r = panel.requester;
    view! {
        <section class="panel" aria-labelledby="customer-title" data-testid="customer-panel">
            <h2 id="customer-title">"Customer"</h2>
            <p><strong>{r.name.clone()}</strong>
                {r.tier.map(|t| view! { " " <span class=format!("tier-chip {}", t.as_str()) data-testid="customer-tier">{t.as_str()}</span> })}
            </p>
            <p class="muted break">{r.email.clone()}</p>
            <h3>"Other tickets"</h3>
            {if panel.other_tickets.is_empty() {
                view! { <p class="muted">"No other tickets."</p> }.into_any()
            } else {
                view! { <ul class="plain-list">
                    {panel.other_tickets.into_iter().map(|o| view! {
                        <li><A href=format!("/tickets/{}", o.id)>{format!("#{} {}", o.id, o.subject)}</A>
                            <span class="muted">{format!(" · {} · {}", o.priority.as_str(), o.status.label_for(true))}</span></li>
                    }).collect_view()}
                </ul> }.into_any()
            }}
            <h3>"Upcoming calls"</h3>
            {if panel.upcoming_calls.is_empty() {
                view! { <p class="muted">"No calls booked."</p> }.into_any()
            } else {
                view! { <ul class="plain-list" data-testid="upcoming-calls">
                    {panel.upcoming_calls.into_iter().map(|c| view! {
                        <li><A href=format!("/calls/{}", c.id)><When epoch=c.start_epoch/></A>
                            <span class="muted">{format!(" · {} min with {} · {}", c.duration_minutes, c.agent_name, c.topic)}</span></li>
                    }).collect_view()}
                </ul> }.into_any()
            }}
        </section>
        <section class="panel" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            <ol class="timeline" data-testid="timeline">
                {panel.timeline.into_iter().rev().map(|e| view! {
                    <li class=format!("timeline-{}", e.kind)>
                        <span class="timeline-what">{e.summary.clone()}</span>
                        <span class="muted">{e.actor.clone().unwrap_or_else(|| "System".into())} " · " <When rfc3339=e.at.clone()/></span>
                        {e.reason.clone().map(|why| view! { <span class="timeline-why">"“" {why} "”"</span> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}
