//! Ticket pages: open a ticket (with the SLA promise shown up front) and the list of tickets, with live SLA
//! countdowns. One ticket's page is in `ticket_page`.

use super::server_fns::CreateTicket;
use super::{priority_meaning, Category, Priority, SlaClock, SlaState, Ticket};
use crate::layout::RequireUser;
use crate::live::{use_live_version, use_now};
use crate::time::When;
use crate::ui::{action_error, field_error, EmptyState, Field, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

fn state_label(state: SlaState) -> &'static str {
    match state {
        SlaState::OnTrack => "On track",
        SlaState::AtRisk => "At risk",
        SlaState::Breached => "Breached",
        SlaState::Met => "Met",
        SlaState::Paused => "Paused",
    }
}

pub(super) fn state_class(state: SlaState) -> &'static str {
    match state {
        SlaState::OnTrack => "badge on-track",
        SlaState::AtRisk => "badge at-risk",
        SlaState::Breached => "badge breached",
        SlaState::Met => "badge met",
        SlaState::Paused => "badge paused",
    }
}

/// "2 h 05 min", "3 d 4 h", "45 s".
pub fn humanize(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {:02} s", s % 60)
    } else {
        format!("{s} s")
    }
}

/// A clock's state as the browser shows it: the server decides states; the browser only notices a running
/// clock's deadline passing.
pub(super) fn live_state(state: SlaState, due: i64, now: i64) -> SlaState {
    if matches!(state, SlaState::OnTrack | SlaState::AtRisk) && now >= due {
        SlaState::Breached
    } else {
        state
    }
}

/// A clock's badge and its live countdown to the due time.
#[component]
pub fn ClockView(
    label: &'static str,
    clock: SlaClock,
    /// Staff read "waiting on the customer's reply" where the customer reads "waiting on your reply".
    #[prop(default = false)]
    staff: bool,
) -> impl IntoView {
    let now = use_now();
    let due = clock.due_epoch;
    let running = matches!(clock.state, SlaState::OnTrack | SlaState::AtRisk);
    let state = move || live_state(clock.state, due, now.get());
    let countdown = move || {
        let left = due - now.get();
        match state() {
            SlaState::OnTrack | SlaState::AtRisk => format!("due in {}", humanize(left)),
            SlaState::Breached if running => format!("overdue by {}", humanize(left)),
            _ => String::new(),
        }
    };
    let paused = clock
        .paused_since
        .clone()
        .map(|since| (super::pause_reason_label(clock.paused_reason.as_deref(), staff), since));
    view! {
        <div class="clock" data-testid=format!("clock-{}", label.to_lowercase().replace(' ', "-"))>
            <span class="clock-label">{label}</span>
            <span class=move || state_class(state())>{move || state_label(state())}</span>
            <span class="countdown" aria-live="off">{countdown}</span>
            {paused.map(|(why, since)| view! { <span class="muted">{why} " since " <When rfc3339=since/></span> })}
            {(!matches!(clock.state, SlaState::Paused)).then(|| view! {
                <span class="muted">"target " <When epoch=due/></span>
            })}
        </div>
    }
}

#[component]
pub fn TicketsPage() -> impl IntoView {
    view! {
        <Title text="Tickets"/>
        <section class="page">
            <RequireUser>
                <TicketList/>
            </RequireUser>
        </section>
    }
}

#[component]
fn TicketList() -> impl IntoView {
    let user = expect_context::<crate::accounts::User>();
    let live = use_live_version();
    let tickets = Resource::new(move || live.get(), |_| super::server_fns::list_tickets());
    let customer = !user.role.is_staff();
    view! {
        <div class="page-head">
            <h1>{if customer { "My tickets" } else { "Tickets" }}</h1>
            {customer.then(|| view! { <A href="/tickets/new" attr:class="button primary">"Open a ticket"</A> })}
        </div>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading tickets…"</p> }>
            {move || tickets.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState title="No tickets yet">
                        <p>"When something needs our help, open a ticket and watch the response clock here."</p>
                    </EmptyState>
                }.into_any(),
                Ok(list) => view! {
                    <ul class="ticket-list" data-testid="ticket-list">
                        {list.into_iter().map(|t| view! { <TicketRow ticket=t staff=!customer/> }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn TicketRow(ticket: Ticket, #[prop(default = false)] staff: bool) -> impl IntoView {
    let href = format!("/tickets/{}", ticket.id);
    view! {
        <li class="ticket-row">
            <div class="ticket-title">
                <span class=format!("priority-chip {}", ticket.priority.as_str().to_lowercase())>{ticket.priority.as_str()}</span>
                <A href=href>{ticket.subject.clone()}</A>
                <span class="muted">"#" {ticket.id} " · " {ticket.status.label_for(staff)}</span>
            </div>
            <div class="clocks">
                <ClockView label="First response" clock=ticket.sla.first_response.clone() staff/>
                <ClockView label="Resolution" clock=ticket.sla.resolution.clone() staff/>
            </div>
        </li>
    }
}

#[component]
pub fn NewTicketPage() -> impl IntoView {
    // Knowledge base suggestions for the subject being typed: created here, outside RequireUser,
    // and shown in their own component, so the form never re-renders while they load.
    let watch = crate::kb::pages::SubjectWatch::new();
    let suggestions = watch.suggestions();
    view! {
        <Title text="Open a ticket"/>
        <section class="page narrow-wide with-suggestions">
            <h1>"Open a ticket"</h1>
            <RequireUser>
                <div class="ticket-form-with-suggestions">
                    <NewTicketForm watch/>
                    <crate::kb::pages::KbSuggestions watch suggestions/>
                </div>
            </RequireUser>
        </section>
    }
}

#[component]
fn NewTicketForm(watch: crate::kb::pages::SubjectWatch) -> impl IntoView {
    let create = ServerAction::<CreateTicket>::new();
    let error = action_error(create);
    let priority = RwSignal::new(Priority::P3);
    let preview = Resource::new(move || priority.get(), |p| super::server_fns::sla_preview(p.as_str().to_string()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(ticket)) = create.value().get() {
            navigate(&format!("/tickets/{}", ticket.id), Default::default());
        }
    });
    let priority_error = field_error(error, "priority");
    let category_error = field_error(error, "category");
    let body_error = field_error(error, "body");
    view! {
        <ActionForm action=create attr:class="stack" attr:novalidate=true>
            <FormError error/>
            // A double click or a resent form carries the same id: the server opens one ticket for it.
            <input type="hidden" name="request_id" value=crate::ui::new_request_id()/>
            <div on:input=move |ev| watch.typed(event_target_value(&ev))>
                <Field name="subject" label="Subject" required=true maxlength=200 hint="One line: what is wrong or what you need." error=field_error(error, "subject")/>
            </div>
            <div class="field">
                <label for="category">"Category"</label>
                <select id="category" name="category">
                    {Category::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                </select>
                <p class="field-error" aria-live="polite">{move || category_error.get()}</p>
            </div>
            <fieldset class="field priorities">
                <legend>"Priority"</legend>
                {Priority::ALL.iter().map(|p| {
                    let p = *p;
                    let id = format!("priority-{}", p.as_str());
                    view! {
                        <div class="priority-option">
                            <input type="radio" id=id.clone() name="priority" value=p.as_str()
                                checked=move || priority.get() == p
                                on:change=move |_| priority.set(p)/>
                            <label for=id>
                                <strong>{p.as_str()}</strong>
                                <span class="meaning">{priority_meaning(p)}</span>
                            </label>
                        </div>
                    }
                }).collect_view()}
                <p class="field-error" aria-live="polite">{move || priority_error.get()}</p>
            </fieldset>
            <div class="callout info" data-testid="sla-preview" aria-live="polite">
                <Transition fallback=|| view! { <span>"Working out when we will answer…"</span> }>
                    {move || preview.get().map(|r| match r {
                        Ok(p) => view! {
                            <p>"First reply expected by " <strong><When epoch=p.first_response_epoch/></strong></p>
                            <p>"Resolution by " <strong><When epoch=p.resolution_epoch/></strong></p>
                            <p class="muted">{if p.calendar == "24x7" { "Counted around the clock." } else { "Counted in support hours only (Eastern time; see the hours at the foot of the page)." }}</p>
                        }.into_any(),
                        Err(e) => view! { <p>{e.message}</p> }.into_any(),
                    })}
                </Transition>
            </div>
            <div class="field" class:has-error=move || body_error.get().is_some()>
                <label for="body">"Description"<span class="required" aria-hidden="true">" *"</span></label>
                <textarea id="body" name="body" rows="8" maxlength="20000" required=true
                    aria-invalid=move || body_error.get().is_some().to_string()
                    aria-describedby="body-error"></textarea>
                <p class="field-error" id="body-error" aria-live="polite">{move || body_error.get()}</p>
            </div>
            <SubmitButton label="Open ticket" busy_label="Opening…" pending=create.pending()/>
        </ActionForm>
    }
}
