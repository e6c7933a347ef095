//! Call pages: booking (a week grid on desktop, a day list on phones), "My calls" / the agents' call lists,
//! one call (confirmation, join, .ics, reschedule, cancel; staff: link, done with notes, cancel with reason)
//! and the portal's call room.

use super::calls::{Booking, BookingStatus, Platform, Room, RoomMessage, SlotOffer};
use super::server_fns::{
    booking_start, call_room, call_slots, get_call, my_calls, BookCall, BookingSetup, CancelCall, CompleteCall,
    RescheduleCall, SayInRoom, SetCallLink,
};
use super::server_fns::{my_call_availability, AddMyTimeOff, RemoveMyTimeOff};
use super::{eastern, Slot};
use crate::accounts::User;
use crate::layout::RequireUser;
use crate::live::{use_live_version, use_now};
use crate::time::{viewer_clock, When};
use crate::ui::{action_error, field_error, EmptyState, FormError, SubmitButton};
use jiff::civil::Date;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

fn epoch(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().map(|t| t.as_second()).unwrap_or_default()
}

fn status_chip(b: &Booking, now: i64) -> (&'static str, &'static str) {
    match b.status {
        BookingStatus::Cancelled => ("status-chip call-cancelled", "Cancelled"),
        BookingStatus::Done => ("status-chip call-done", "Done"),
        BookingStatus::Booked if epoch(&b.end) <= now => ("status-chip call-done", "Ended"),
        BookingStatus::Booked if epoch(&b.start) <= now => ("status-chip call-live", "In progress"),
        BookingStatus::Booked => ("status-chip call-booked", "Booked"),
    }
}

/// "09:00 ET", and after hydration the viewer's own time first: "15:00 CET · 09:00 ET".
fn slot_label(start: i64, hydrated: bool) -> String {
    let et = jiff::Timestamp::from_second(start)
        .map(|t| t.to_zoned(eastern().clone()).strftime("%H:%M ET").to_string())
        .unwrap_or_default();
    match hydrated.then(|| viewer_clock(start)).flatten() {
        Some(local) => format!("{local} · {et}"),
        None => et,
    }
}

fn day_heading(day: Date) -> String {
    day.strftime("%a %b %-d").to_string()
}

fn eastern_day(t: jiff::Timestamp) -> Date {
    t.to_zoned(eastern().clone()).date()
}

/// True once the page runs in the browser (set by an Effect, so the first render matches the server's).
fn use_hydrated() -> RwSignal<bool> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    hydrated
}

#[component]
fn CallCard(booking: Booking) -> impl IntoView {
    let viewer = expect_context::<User>();
    let now = use_now();
    let staff = viewer.role.is_staff();
    let b = booking.clone();
    let who = if staff { format!("with {}", b.customer_name) } else { format!("with {}", b.agent_name) };
    let chip = {
        let b = b.clone();
        move || status_chip(&b, now.get())
    };
    let chip2 = chip.clone();
    view! {
        <li class="call-card" data-testid="call-card">
            <div class="call-card-main">
                <p class="call-when"><When rfc3339=b.start.clone()/></p>
                <p><A href=format!("/calls/{}", b.id)><strong>{b.topic.clone()}</strong></A></p>
                <p class="muted">
                    {format!("{} min · {} · {who}", b.duration_minutes, b.platform.label())}
                    {b.ticket_id.map(|t| view! { " · " <A href=format!("/tickets/{t}")>"ticket #" {t}</A> })}
                </p>
            </div>
            <span class=move || chip().0 data-testid="call-status">{move || chip2().1}</span>
        </li>
    }
}

#[component]
fn CallList(calls: Vec<Booking>, testid: &'static str) -> impl IntoView {
    view! {
        <ul class="call-list" data-testid=testid>
            {calls.into_iter().map(|b| view! { <CallCard booking=b/> }).collect_view()}
        </ul>
    }
}

/// What the Platinum plan offers, shown to everyone else instead of the booking form.
#[component]
fn PlatinumOffer() -> impl IntoView {
    view! {
        <div class="callout info" data-testid="platinum-offer">
            <h2>"Calls come with the Platinum plan"</h2>
            <p>"Platinum customers book 30, 45 or 60-minute live chats and video calls with screen sharing, on Discord, Zoom or the portal's own call room, Monday to Friday 09:00–18:00 Eastern."</p>
            <p>"On your plan, " <A href="/tickets/new">"open a ticket"</A> " and we answer within your plan's response times. Ask us about upgrading on the ticket."</p>
        </div>
    }
}

#[component]
pub fn CallsPage() -> impl IntoView {
    view! {
        <Title text="Calls"/>
        <section class="page">
            <RequireUser>
                <CallsOverviewView/>
            </RequireUser>
        </section>
    }
}

#[component]
fn CallsOverviewView() -> impl IntoView {
    let viewer = expect_context::<User>();
    let staff = viewer.role.is_staff();
    let platinum = viewer.tier == Some(crate::accounts::Tier::Platinum);
    let live = use_live_version();
    let overview = Resource::new(move || live.get(), |_| my_calls());
    view! {
        <div class="page-head">
            <h1>{if staff { "Calls" } else { "My calls" }}</h1>
            {(!staff && platinum).then(|| view! { <A href="/calls/book" attr:class="button primary">"Book a call"</A> })}
        </div>
        {(!staff && !platinum).then(|| view! { <PlatinumOffer/> })}
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading calls…"</p> }>
            {move || overview.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(o) => view! {
                    {staff.then(|| {
                        let today = o.today.clone();
                        view! {
                            <h2>"Today's calls"</h2>
                            {if today.is_empty() {
                                view! { <EmptyState title="No calls today.">
                                    <p>"Calls customers book with you appear here, live."</p>
                                </EmptyState> }.into_any()
                            } else {
                                view! { <CallList calls=today testid="today-calls"/> }.into_any()
                            }}
                        }
                    })}
                    <h2>"Upcoming"</h2>
                    {if o.upcoming.is_empty() {
                        view! { <EmptyState title="No upcoming calls.">
                            {if staff {
                                view! { <p>"When a customer books a call with you it appears here."</p> }.into_any()
                            } else if platinum {
                                view! { <p>"Book a call to talk to an engineer, live." </p> }.into_any()
                            } else {
                                view! { <p>"Calls are part of the Platinum plan."</p> }.into_any()
                            }}
                        </EmptyState> }.into_any()
                    } else {
                        view! { <CallList calls=o.upcoming.clone() testid="upcoming-calls"/> }.into_any()
                    }}
                    <h2>"Past and cancelled"</h2>
                    {if o.past.is_empty() {
                        view! { <p class="muted">"None yet."</p> }.into_any()
                    } else {
                        view! { <CallList calls=o.past.clone() testid="past-calls"/> }.into_any()
                    }}
                }.into_any(),
            })}
        </Transition>
        {(staff && viewer.takes_calls).then(|| view! { <CallAvailability/> })}
    }
}

/// An agent's own call hours (within the live-chat hours) and days off, on their calls page.
#[component]
fn CallAvailability() -> impl IntoView {
    let add = ServerAction::<AddMyTimeOff>::new();
    let remove = ServerAction::<RemoveMyTimeOff>::new();
    let add_error = action_error(add);
    let availability = Resource::new(move || (add.version().get(), remove.version().get()), |_| my_call_availability());
    view! {
        <h2>"Your call hours and time off"</h2>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading your hours…"</p> }>
            {move || availability.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(a) => view! {
                    <crate::settings::WeekEditor
                        calendar="my_calls"
                        title="When you take calls"
                        save_label="Save my call hours"
                        hint="Eastern time. Customers are offered these hours only where they fall inside live-chat hours."
                        week=a.weekly.clone()
                    />
                    <section class="panel" aria-labelledby="time-off-heading">
                        <h3 id="time-off-heading">"Time off"</h3>
                        {if a.time_off.is_empty() {
                            view! { <p class="muted" data-testid="no-time-off">"No time off ahead."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="call-list" data-testid="time-off">
                                    {a.time_off.clone().into_iter().map(|t| view! {
                                        <li class="call-card">
                                            <span><When rfc3339=t.start.clone()/> " – " <When rfc3339=t.end.clone()/> " " {t.reason.clone()}</span>
                                            <ActionForm action=remove attr:class="inline-form">
                                                <input type="hidden" name="id" value=t.id/>
                                                <button type="submit" class="button">"Remove"</button>
                                            </ActionForm>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <ActionForm action=add attr:class="stack" attr:novalidate=true>
                            <div class="field" class:has-error=move || field_error(add_error, "from").get().is_some()>
                                <label for="off-from">"First day off"</label>
                                <input id="off-from" name="from" type="date" aria-describedby="off-from-error"/>
                                <p class="field-error" id="off-from-error" aria-live="polite">{move || field_error(add_error, "from").get()}</p>
                            </div>
                            <div class="field" class:has-error=move || field_error(add_error, "to").get().is_some()>
                                <label for="off-to">"Last day off"</label>
                                <input id="off-to" name="to" type="date" aria-describedby="off-to-error"/>
                                <p class="field-error" id="off-to-error" aria-live="polite">{move || field_error(add_error, "to").get()}</p>
                            </div>
                            <div class="field">
                                <label for="off-reason">"Reason (optional)"</label>
                                <input id="off-reason" name="reason" type="text" maxlength="500"/>
                            </div>
                            <FormError error=Signal::derive(move || add_error.get().filter(|e| e.fields.is_empty()))/>
                            <SubmitButton label="Add time off" busy_label="Adding…" pending=add.pending()/>
                        </ActionForm>
                    </section>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub fn BookCallPage() -> impl IntoView {
    view! {
        <Title text="Book a call"/>
        <section class="page">
            <RequireUser>
                <BookingForm/>
            </RequireUser>
        </section>
    }
}

/// The week of slots: its days in a row, then the chosen day's times. Picking a slot sets `chosen`.
#[component]
fn SlotPicker(
    today: Date,
    duration: RwSignal<i64>,
    #[prop(into)] ticket: Signal<Option<i64>>,
    chosen: RwSignal<Option<Slot>>,
) -> impl IntoView {
    let week_start = RwSignal::new(today);
    let live = use_live_version();
    let hydrated = use_hydrated();
    // Fetched in the browser only, into a plain signal: the picker sits inside the page's own Transition, where a
    // nested resource would not hydrate. Server and browser both first render "Finding free times…".
    let offer = RwSignal::new(None::<Result<SlotOffer, crate::error::AppError>>);
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let (from, minutes, ticket) = (week_start.get(), duration.get(), ticket.get());
        live.track();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        leptos::task::spawn_local(async move {
            let result = call_slots(from.to_string(), minutes, ticket).await;
            // A newer request (another week or length) wins over a slower older one.
            if generation.get_value() == mine {
                offer.set(Some(result));
            }
        });
    });
    // A slot that is no longer offered (taken, or the duration changed) is dropped.
    Effect::new(move |_| {
        if let Some(Ok(o)) = offer.get() {
            if let Some(c) = chosen.get_untracked() {
                if !o.slots.contains(&c) {
                    chosen.set(None);
                }
            }
        }
    });
    let horizon = today.checked_add(jiff::Span::new().days(30)).unwrap_or(today);
    let step = move |days: i64| {
        week_start.update(|d| {
            if let Ok(next) = d.checked_add(jiff::Span::new().days(days)) {
                *d = next.clamp(today, horizon);
            }
        });
    };
    view! {
        <div class="week-nav">
            <button type="button" class="button" disabled=move || { week_start.get() <= today } on:click=move |_| step(-7)>"← Earlier"</button>
            <p class="week-label" aria-live="polite" data-testid="week-label">
                {move || {
                    let from = week_start.get();
                    let to = from.checked_add(jiff::Span::new().days(6)).unwrap_or(from);
                    format!("{} – {}", day_heading(from), day_heading(to))
                }}
            </p>
            <button type="button" class="button" disabled=move || { week_start.get() >= horizon } on:click=move |_| step(7)>"Later →"</button>
        </div>
        <p class="hint">"Times are shown in Eastern time (ET); once the page has loaded, your own time comes first."</p>
        {move || match offer.get() {
            None => view! { <p class="loading" aria-live="polite">"Finding free times…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(o)) => view! { <SlotWeek offer=o from=week_start.get_untracked() chosen=chosen hydrated=hydrated/> }.into_any(),
        }}
    }
}

/// The week's days as a row of buttons (how many free times each has), and the chosen day's times below:
/// a short page on phones and desktops alike. One Tab stop for the days (the chosen one): the arrow keys,
/// Home and End move between the days with times, and Tab goes on to that day's times.
#[component]
fn SlotWeek(offer: SlotOffer, from: Date, chosen: RwSignal<Option<Slot>>, hydrated: RwSignal<bool>) -> impl IntoView {
    let deadline = offer.sla_deadline.as_deref().map(epoch);
    let within = move |s: &Slot| deadline.is_some_and(|d| s.start.as_second() < d);
    let suggested: Vec<Slot> = offer.slots.iter().filter(|s| within(s)).take(3).copied().collect();
    let days: Vec<(Date, Vec<Slot>)> = (0..7)
        .filter_map(|i| from.checked_add(jiff::Span::new().days(i)).ok())
        .map(|day| (day, offer.slots.iter().filter(|s| eastern_day(s.start) == day).copied().collect()))
        .collect();
    let has_times = |d: Date| days.iter().any(|(x, slots)| *x == d && !slots.is_empty());
    let first = days.iter().find(|(_, slots)| !slots.is_empty()).map(|(d, _)| *d).unwrap_or(from);
    // The chosen slot's day when it is in this week, else the first day with times.
    let shown =
        RwSignal::new(chosen.get_untracked().map(|s| eastern_day(s.start)).filter(|d| has_times(*d)).unwrap_or(first));
    let with_times: Vec<Date> = days.iter().filter(|(_, slots)| !slots.is_empty()).map(|(d, _)| *d).collect();
    let by_day = StoredValue::new(days.clone());
    let button = move |s: Slot, testid: &'static str| {
        let start = s.start.as_second();
        view! {
            <button type="button" class="slot" data-testid=testid data-start=s.start.to_string()
                class:within-sla=within(&s)
                aria-pressed=move || (chosen.get() == Some(s)).to_string()
                on:click=move |_| chosen.set(Some(s))>
                {move || slot_label(start, hydrated.get())}
            </button>
        }
    };
    // Left/Right (and Home/End) move to the neighbouring day with times, selecting it.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let current = shown.get_untracked();
        let at = with_times.iter().position(|d| *d == current);
        let next = match (ev.key().as_str(), at) {
            ("ArrowRight", Some(i)) => with_times.get(i + 1),
            ("ArrowLeft", Some(i)) if i > 0 => with_times.get(i - 1),
            ("Home", _) => with_times.first(),
            ("End", _) => with_times.last(),
            _ => None,
        };
        if let Some(next) = next.copied() {
            ev.prevent_default();
            shown.set(next);
            #[cfg(feature = "hydrate")]
            if let Some(el) = leptos::prelude::document()
                .query_selector(&format!("[data-testid=slot-day][data-day=\"{next}\"]"))
                .ok()
                .flatten()
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = el.focus();
            }
        }
    };
    let empty = offer.slots.is_empty();
    view! {
        {deadline.map(|d| view! {
            <div class="callout warning" data-testid="sla-suggestions">
                <p>"Your ticket's response is due " <When epoch=d/> ". The earliest times before then:"</p>
                {if suggested.is_empty() {
                    view! { <p>"None this week is early enough; choose the earliest you can make."</p> }.into_any()
                } else {
                    view! { <div class="slot-row">{suggested.iter().map(|s| button(*s, "suggested-slot")).collect_view()}</div> }.into_any()
                }}
            </div>
        })}
        {empty.then(|| view! {
            <EmptyState title="No free times this week.">
                <p>"Try the next week, a shorter call, or open a ticket."</p>
            </EmptyState>
        })}
        <div class="day-picker" role="group" aria-label="Days" data-testid="slot-week" on:keydown=on_key>
            {days.iter().map(|(day, slots)| {
                let (day, count) = (*day, slots.len());
                // The visible text is the start of the accessible name ("Tue 8, 25 free times"), so speech
                // input and screen readers agree with what is on the button.
                let count_view = if count == 0 {
                    view! { <span aria-hidden="true">"–"</span><span class="visually-hidden">"no free times"</span> }
                        .into_any()
                } else {
                    view! { {count} <span class="visually-hidden">" free times"</span> }.into_any()
                };
                view! {
                    <button type="button" class="day" data-testid="slot-day" data-day=day.to_string()
                        disabled=count == 0
                        aria-pressed=move || (shown.get() == day).to_string()
                        tabindex=move || if shown.get() == day { "0" } else { "-1" }
                        on:click=move |_| shown.set(day)>
                        <span class="day-name">{day.strftime("%a").to_string()}</span>
                        " "
                        <span class="day-date">{day.strftime("%-d").to_string()}</span>
                        <span class="visually-hidden">", "</span>
                        <span class="day-count">{count_view}</span>
                    </button>
                }
            }).collect_view()}
        </div>
        <p class="day-times-heading" id="day-times-heading" aria-live="polite" data-testid="day-times-heading">
            {move || format!("Free times on {}", day_heading(shown.get()))}
        </p>
        <div class="slot-times" role="group" aria-labelledby="day-times-heading" data-testid="day-times">
            {move || {
                let day = shown.get();
                let slots = by_day.with_value(|d| d.iter().find(|(x, _)| *x == day).map(|(_, s)| s.clone()).unwrap_or_default());
                if slots.is_empty() {
                    view! { <p class="muted">"No free times on this day."</p> }.into_any()
                } else {
                    slots.into_iter().map(|s| button(s, "slot")).collect_view().into_any()
                }
            }}
        </div>
    }
}

fn chosen_text(slot: Option<Slot>, minutes: i64, hydrated: bool) -> String {
    match slot {
        Some(s) => {
            let start = s.start.as_second();
            let day = day_heading(eastern_day(s.start));
            format!("{day}, {} — {minutes} minutes", slot_label(start, hydrated))
        }
        None => "No time chosen yet: pick one above.".to_string(),
    }
}

#[component]
fn BookingForm() -> impl IntoView {
    let start = Resource::new(|| (), |_| booking_start());
    view! {
        <h1>"Book a call"</h1>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading…"</p> }>
            {move || start.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(s) if !s.may_book => view! { <PlatinumOffer/> }.into_any(),
                Ok(s) => view! { <BookingFields start=s/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn BookingFields(start: BookingSetup) -> impl IntoView {
    let query = use_query_map();
    let preset_ticket = query.with_untracked(|q| q.get("ticket").and_then(|v| v.parse::<i64>().ok()));
    let today = start.today.parse::<Date>().unwrap_or_default();
    let duration = RwSignal::new(30_i64);
    let ticket = RwSignal::new(preset_ticket.filter(|t| start.open_tickets.iter().any(|o| o.id == *t)));
    let chosen = RwSignal::new(None::<Slot>);
    let hydrated = use_hydrated();
    let book = ServerAction::<BookCall>::new();
    let error = action_error(book);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(b)) = book.value().get() {
            navigate(&format!("/calls/{}?booked=1", b.id), Default::default());
        }
    });
    let full = start.upcoming >= super::MAX_UPCOMING_CALLS;
    view! {
        {full.then(|| view! {
            <p class="callout warning" role="status">"You already hold 3 upcoming calls, the most at a time. Cancel one in " <A href="/calls">"My calls"</A> " to book another."</p>
        })}
        <ActionForm action=book attr:class="stack booking-form" attr:novalidate=true>
            <fieldset class="choice-row segmented">
                <legend>"Length"</legend>
                {[30_i64, 45, 60].into_iter().map(|m| view! {
                    <label class="choice">
                        <input type="radio" name="duration_minutes" value=m checked=m == 30
                            on:change=move |_| duration.set(m)/>
                        {format!("{m} minutes")}
                    </label>
                }).collect_view()}
            </fieldset>
            <p class="field-error" aria-live="polite">{move || field_error(error, "duration_minutes").get()}</p>
            <fieldset class="choice-row segmented">
                <legend>"Where"</legend>
                {[Platform::Portal, Platform::Zoom, Platform::Discord].into_iter().map(|p| view! {
                    <label class="choice">
                        <input type="radio" name="platform" value=p.as_str() checked=p == Platform::Portal/>
                        {p.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            <p class="field-error" aria-live="polite">{move || field_error(error, "platform").get()}</p>
            <div class="field" class:has-error=move || field_error(error, "topic").get().is_some()>
                <label for="call-topic">"What would you like to talk about?"</label>
                <input id="call-topic" name="topic" type="text" maxlength="200" required=true
                    aria-describedby="call-topic-error"
                    aria-invalid=move || field_error(error, "topic").get().is_some().to_string()/>
                <p class="field-error" id="call-topic-error" aria-live="polite">{move || field_error(error, "topic").get()}</p>
            </div>
            <div class="field">
                <label for="call-ticket">"About one of your tickets (optional)"</label>
                <select id="call-ticket" name="ticket_id" on:change=move |ev| ticket.set(event_target_value(&ev).parse().ok())>
                    <option value="">"No ticket"</option>
                    {start.open_tickets.iter().map(|t| view! {
                        <option value=t.id selected=Some(t.id) == preset_ticket>{format!("#{} [{}] {}", t.id, t.priority, t.subject)}</option>
                    }).collect_view()}
                </select>
                <p class="field-error" aria-live="polite">{move || field_error(error, "ticket_id").get()}</p>
            </div>
            <fieldset class="slot-picker">
                <legend>"When"</legend>
                <SlotPicker today=today duration=duration ticket=ticket chosen=chosen/>
            </fieldset>
            <input type="hidden" name="start" value=move || chosen.get().map(|s| s.start.to_string()).unwrap_or_default()/>
            <p class="chosen-slot" aria-live="polite" data-testid="chosen-slot">{move || chosen_text(chosen.get(), duration.get(), hydrated.get())}</p>
            <p class="field-error" aria-live="polite" data-testid="start-error">{move || field_error(error, "start").get()}</p>
            <FormError error=Signal::derive(move || error.get().filter(|e| !e.fields.contains_key("start")))/>
            <SubmitButton label="Book this call" busy_label="Booking…" pending=book.pending()/>
        </ActionForm>
    }
}

#[component]
pub fn CallPage() -> impl IntoView {
    view! {
        <Title text="Call"/>
        <section class="page">
            <RequireUser>
                <CallDetail/>
            </RequireUser>
        </section>
    }
}

#[component]
fn CallDetail() -> impl IntoView {
    let viewer = expect_context::<User>();
    let staff = viewer.role.is_staff();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let just_booked = move || query.with(|q| q.get("booked").is_some());
    let live = use_live_version();
    let now = use_now();
    let cancel = ServerAction::<CancelCall>::new();
    let complete = ServerAction::<CompleteCall>::new();
    let link = ServerAction::<SetCallLink>::new();
    let reschedule = ServerAction::<RescheduleCall>::new();
    let call = Resource::new(
        move || {
            (
                id(),
                live.get(),
                cancel.version().get(),
                complete.version().get(),
                link.version().get(),
                reschedule.version().get(),
            )
        },
        |(id, ..)| get_call(id),
    );
    let (cancel_error, complete_error, link_error, reschedule_error) =
        (action_error(cancel), action_error(complete), action_error(link), action_error(reschedule));
    let moving = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = reschedule.value().get() {
            moving.set(false);
        }
    });
    view! {
        <p><A href="/calls">"← All calls"</A></p>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading the call…"</p> }>
            {move || call.get().map(|result| match result {
                Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(b) => {
                    let bid = b.id;
                    let start = epoch(&b.start);
                    let booked = b.status == BookingStatus::Booked;
                    let customer_may_change = !staff && booked && now.get_untracked() < start - super::CANCEL_NOTICE_MINUTES * 60;
                    let chip = status_chip(&b, now.get_untracked());
                    let today = eastern_day(jiff::Timestamp::from_second(now.get_untracked()).unwrap_or_default());
                    let duration = RwSignal::new(i64::from(b.duration_minutes));
                    let chosen = RwSignal::new(None::<Slot>);
                    let ticket = b.ticket_id;
                    let link_missing = b.join_url.is_none();
                    let link_value = b.join_url.clone().unwrap_or_default();
                    view! {
                        <Title text=b.topic.clone()/>
                        {(just_booked() && booked).then(|| view! {
                            <p class="callout success" role="status" data-testid="booking-confirmed">
                                "Your call is booked. We've put it in your notifications; add it to your calendar below."
                            </p>
                        })}
                        <div class="page-head">
                            <h1 data-testid="call-topic">{b.topic.clone()}</h1>
                            <span class=chip.0 data-testid="call-status">{chip.1}</span>
                        </div>
                        <dl class="call-facts">
                            <dt>"When"</dt><dd data-testid="call-when"><When rfc3339=b.start.clone()/></dd>
                            <dt>"Length"</dt><dd>{format!("{} minutes", b.duration_minutes)}</dd>
                            <dt>"Where"</dt><dd>{b.platform.label()}</dd>
                            <dt>{if staff { "Customer" } else { "Engineer" }}</dt>
                            <dd>{if staff { b.customer_name.clone() } else { b.agent_name.clone() }}</dd>
                            {b.ticket_id.map(|t| view! { <dt>"Ticket"</dt><dd><A href=format!("/tickets/{t}")>"#" {t}</A></dd> })}
                            {b.cancel_reason.clone().map(|r| view! { <dt>"Cancelled because"</dt><dd data-testid="cancel-reason">{r}</dd> })}
                            {b.notes.clone().map(|n| view! { <dt>"Notes"</dt><dd class="message-body" data-testid="call-notes">{n}</dd> })}
                        </dl>
                        {booked.then(|| view! {
                            <div class="actions">
                                {match (b.platform, b.join_url.clone()) {
                                    (Platform::Portal, Some(url)) => view! { <A href=url attr:class="button primary" attr:data-testid="join-call">"Open the call room"</A> }.into_any(),
                                    (_, Some(url)) => view! { <a href=url class="button primary" rel="noopener noreferrer" target="_blank" data-testid="join-call">{format!("Join on {}", b.platform.label())}</a> }.into_any(),
                                    (_, None) => view! { <p class="muted" data-testid="link-pending">"The engineer will add the meeting link before the call."</p> }.into_any(),
                                }}
                                <a class="button" href=format!("/api/v1/bookings/{bid}/ics") download=format!("call-{bid}.ics") data-testid="ics-link">"Add to calendar (.ics)"</a>
                            </div>
                        })}
                        {customer_may_change.then(|| view! {
                            <div class="panel">
                                <button type="button" class="button" aria-expanded=move || moving.get().to_string()
                                    aria-controls="reschedule-panel" data-testid="reschedule-toggle"
                                    on:click=move |_| moving.update(|m| *m = !*m)>"Reschedule"</button>
                                <div id="reschedule-panel" hidden=move || !moving.get()>
                                    <ActionForm action=reschedule attr:class="stack" attr:novalidate=true>
                                        <input type="hidden" name="id" value=bid/>
                                        <input type="hidden" name="duration_minutes" value=move || duration.get()/>
                                        <input type="hidden" name="start" value=move || chosen.get().map(|s| s.start.to_string()).unwrap_or_default()/>
                                        {move || moving.get().then(|| view! { <SlotPicker today=today duration=duration ticket=Signal::derive(move || ticket) chosen=chosen/> })}
                                        <p class="field-error" aria-live="polite">{move || field_error(reschedule_error, "start").get()}</p>
                                        <FormError error=Signal::derive(move || reschedule_error.get().filter(|e| !e.fields.contains_key("start")))/>
                                        <SubmitButton label="Move the call here" busy_label="Moving…" pending=reschedule.pending()/>
                                    </ActionForm>
                                </div>
                            </div>
                            <details class="panel">
                                <summary>"Cancel the call"</summary>
                                <ActionForm action=cancel attr:class="stack">
                                    <input type="hidden" name="id" value=bid/>
                                    <div class="field">
                                        <label for="cancel-reason">"Reason (optional)"</label>
                                        <input id="cancel-reason" name="reason" type="text" maxlength="500"/>
                                    </div>
                                    <FormError error=cancel_error/>
                                    <SubmitButton label="Cancel the call" busy_label="Cancelling…" pending=cancel.pending()/>
                                </ActionForm>
                            </details>
                        })}
                        {(!staff && booked && !customer_may_change).then(|| view! {
                            <p class="muted">"Calls can be changed or cancelled until 1 hour before they start."</p>
                        })}
                        {(staff && booked).then(|| view! {
                            {(b.platform != Platform::Portal).then(|| view! {
                                <details class="panel staff-panel" open=link_missing>
                                    <summary>{format!("{} link", b.platform.label())}</summary>
                                    <ActionForm action=link attr:class="stack" attr:novalidate=true>
                                        <input type="hidden" name="id" value=bid/>
                                        <div class="field" class:has-error=move || field_error(link_error, "meeting_url").get().is_some()>
                                            <label for="meeting-url">"Meeting link"</label>
                                            <input id="meeting-url" name="meeting_url" type="url" value=link_value.clone() aria-describedby="meeting-url-error"/>
                                            <p class="field-error" id="meeting-url-error" aria-live="polite">{move || field_error(link_error, "meeting_url").get()}</p>
                                        </div>
                                        <FormError error=link_error/>
                                        <SubmitButton label="Save the link" busy_label="Saving…" pending=link.pending()/>
                                    </ActionForm>
                                </details>
                            })}
                            <details class="panel staff-panel">
                                <summary>"Mark done"</summary>
                                <ActionForm action=complete attr:class="stack" attr:novalidate=true>
                                    <input type="hidden" name="id" value=bid/>
                                    <div class="field" class:has-error=move || field_error(complete_error, "notes").get().is_some()>
                                        <label for="call-notes">"Notes"</label>
                                        <p class="hint" id="call-notes-hint">{if ticket.is_some() { "They join the ticket as an internal note; the call counts as its first response." } else { "Kept with the call, for staff." }}</p>
                                        <textarea id="call-notes" name="notes" rows="4" maxlength="10000" aria-describedby="call-notes-hint call-notes-error"></textarea>
                                        <p class="field-error" id="call-notes-error" aria-live="polite">{move || field_error(complete_error, "notes").get()}</p>
                                    </div>
                                    <FormError error=Signal::derive(move || complete_error.get().filter(|e| !e.fields.contains_key("notes")))/>
                                    <SubmitButton label="Mark done" busy_label="Saving…" pending=complete.pending()/>
                                </ActionForm>
                            </details>
                            <details class="panel staff-panel">
                                <summary>"Cancel the call"</summary>
                                <ActionForm action=cancel attr:class="stack" attr:novalidate=true>
                                    <input type="hidden" name="id" value=bid/>
                                    <div class="field" class:has-error=move || field_error(cancel_error, "reason").get().is_some()>
                                        <label for="staff-cancel-reason">"Reason (the customer is told)"</label>
                                        <input id="staff-cancel-reason" name="reason" type="text" maxlength="500" aria-describedby="staff-cancel-error"/>
                                        <p class="field-error" id="staff-cancel-error" aria-live="polite">{move || field_error(cancel_error, "reason").get()}</p>
                                    </div>
                                    <FormError error=Signal::derive(move || cancel_error.get().filter(|e| !e.fields.contains_key("reason")))/>
                                    <SubmitButton label="Cancel the call" busy_label="Cancelling…" pending=cancel.pending()/>
                                </ActionForm>
                            </details>
                        })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
pub fn CallRoomPage() -> impl IntoView {
    view! {
        <Title text="Call room"/>
        <section class="page wide room-page">
            <RequireUser>
                <CallRoom/>
            </RequireUser>
        </section>
    }
}

/// How often the room asks who is here (and new lines, should an event be missed).
#[cfg(feature = "hydrate")]
const ROOM_POLL_MS: u64 = 2000;
/// Typing stops counting after this long without a key.
#[cfg(feature = "hydrate")]
const TYPING_FOR_MS: f64 = 4000.0;

#[component]
fn CallRoom() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let live = use_live_version();
    let tick = RwSignal::new(0_u64);
    let typing = RwSignal::new(false);
    let say = ServerAction::<SayInRoom>::new();
    let say_error = action_error(say);
    let room = Resource::new(
        move || (id(), tick.get(), live.get(), say.version().get()),
        move |(id, ..)| call_room(id, typing.get_untracked()),
    );
    #[cfg(feature = "hydrate")]
    {
        let last_key = StoredValue::new(0.0_f64);
        Effect::new(move |_| {
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    if typing.get_untracked() && js_sys::Date::now() - last_key.get_value() > TYPING_FOR_MS {
                        typing.set(false);
                    }
                    tick.update(|t| *t += 1);
                },
                std::time::Duration::from_millis(ROOM_POLL_MS),
            ) {
                on_cleanup(move || handle.clear());
            }
        });
        provide_context(last_key);
    }
    let on_input = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(last_key) = use_context::<StoredValue<f64>>() {
            last_key.set_value(js_sys::Date::now());
        }
        if !typing.get_untracked() {
            typing.set(true);
            tick.update(|t| *t += 1);
        }
    };
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(el)) = (say.value().get(), input.get()) {
            el.set_value("");
            typing.set(false);
        }
    });
    // The compose box and the video stay outside the refreshed part, so a poll never disturbs what is being
    // typed or the call under way.
    let open = RwSignal::new(false);
    let typing_text = RwSignal::new(String::new());
    let others = RwSignal::new(Vec::<crate::presence::Presence>::new());
    Effect::new(move |_| {
        if let Some(Ok(r)) = room.get() {
            // Set only on a change: the video below is rebuilt whenever `open` notifies.
            if open.get_untracked() != r.open {
                open.set(r.open);
            }
            if others.get_untracked() != r.others {
                others.set(r.others.clone());
            }
            let names: Vec<String> = r.others.iter().filter(|p| p.typing).map(|p| p.name.clone()).collect();
            typing_text.set(match names.as_slice() {
                [] => String::new(),
                [one] => format!("{one} is typing…"),
                many => format!("{} are typing…", many.join(", ")),
            });
        }
    });
    let auth = crate::layout::use_auth();
    let me = Memo::new(move |_| auth.current().map(|u| u.id).unwrap_or(0));
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Opening the call room…"</p> }>
            {move || room.get().map(|result| match result {
                Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(r) => view! { <RoomView room=r/> }.into_any(),
            })}
        </Transition>
        <div class="room-layout" hidden=move || !open.get()>
        <div class="room-video">
            {move || (open.get() && me.get() > 0).then(|| view! { <super::room_media::VideoCall booking_id=id() me=me.get_untracked() others=others/> })}
        </div>
        <div class="room-chat">
        <h2 class="room-chat-heading">"Chat"</h2>
        <Transition fallback=|| ()>
            {move || room.get().and_then(|r| r.ok()).map(|r| view! { <RoomLog messages=r.messages/> })}
        </Transition>
        <div class="room-compose" hidden=move || !open.get()>
            <p class="typing" aria-live="polite" data-testid="room-typing">{move || typing_text.get()}</p>
            <ActionForm action=say attr:class="stack room-form" attr:novalidate=true>
                <input type="hidden" name="id" value=id/>
                <div class="field" class:has-error=move || field_error(say_error, "body").get().is_some()>
                    <label for="room-message">"Message"</label>
                    <input id="room-message" name="body" type="text" maxlength="2000" autocomplete="off"
                        node_ref=input on:input=on_input aria-describedby="room-message-error"/>
                    <p class="field-error" id="room-message-error" aria-live="polite">{move || field_error(say_error, "body").get()}</p>
                </div>
                <FormError error=Signal::derive(move || say_error.get().filter(|e| !e.fields.contains_key("body")))/>
                <SubmitButton label="Send" busy_label="Sending…" pending=say.pending()/>
            </ActionForm>
        </div>
        </div>
        </div>
    }
}

#[component]
fn RoomView(room: Room) -> impl IntoView {
    let b = room.booking.clone();
    let here: Vec<String> = room.others.iter().map(|p| p.name.clone()).collect();
    let presence =
        if here.is_empty() { "Nobody else is here yet.".to_string() } else { format!("Here now: {}", here.join(", ")) };
    view! {
        <Title text=format!("Call room: {}", b.topic)/>
        <p><A href=format!("/calls/{}", b.id)>"← The call"</A></p>
        <h1>{b.topic.clone()}</h1>
        <p class="muted"><When rfc3339=b.start.clone()/> {format!(" · {} minutes · {} and {}", b.duration_minutes, b.customer_name, b.agent_name)}</p>
        {if room.open {
            view! { <p class="presence" role="status" data-testid="room-presence">{presence}</p> }.into_any()
        } else {
            view! {
                <p class="callout info" role="status" data-testid="room-closed">
                    "The room opens 10 minutes before the call and closes at its end: then you can see, hear and chat with each other and share your screen."
                </p>
            }.into_any()
        }}
        {(!room.open).then(|| view! { <RoomLog messages=room.messages.clone()/> })}
    }
}

/// The room's chat lines (beside the video while the room is open, below it on phones).
#[component]
fn RoomLog(messages: Vec<RoomMessage>) -> impl IntoView {
    if messages.is_empty() {
        view! { <p class="muted" data-testid="room-empty">"No messages yet."</p> }.into_any()
    } else {
        view! {
            <ol class="conversation room-log" data-testid="room-log">
                {messages.iter().map(|m| view! {
                    <li class="message">
                        <p class="message-head"><strong>{m.author_name.clone()}</strong> " " <span class="muted"><When rfc3339=m.created_at.clone()/></span></p>
                        <p class="message-body">{m.body.clone()}</p>
                    </li>
                }).collect_view()}
            </ol>
        }.into_any()
    }
}
