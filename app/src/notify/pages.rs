//! The bell in the header (live unread count) and the notifications page.

use super::integrations_page::{my_email_preferences, EmailPreferencesForm, SaveMyEmailPreferences};
use super::server_fns::{mark_notifications_read, my_notifications, MarkNotificationsRead};
use super::{badge_text, bell_label, href, Notification};
use crate::time::When;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The bell: a link to the notifications page with the unread count. The server renders it without a count
/// (so hydration finds exactly what it rendered); the browser fetches the count once hydrated and again
/// whenever the server announces a notification for this user, or that some were read in another tab.
#[component]
pub fn NotificationBell() -> impl IntoView {
    let unread = RwSignal::new(0i64);
    #[cfg(feature = "hydrate")]
    {
        let notices = crate::live::use_live().notices;
        Effect::new(move |_| {
            notices.track();
            leptos::task::spawn_local(async move {
                if let Ok(count) = super::server_fns::unread_notifications().await {
                    unread.set(count);
                }
            });
        });
    }
    view! {
        <A href="/notifications" attr:class="bell" attr:data-testid="bell">
            <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" focusable="false">
                <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/>
            </svg>
            // The link's name comes from this text, so what is read out matches what is shown.
            <span class="visually-hidden" data-testid="bell-label">{move || bell_label(unread.get())}</span>
            <span class="badge" aria-hidden="true" data-testid="bell-count" class:empty=move || unread.get() <= 0>
                {move || badge_text(unread.get()).unwrap_or_default()}
            </span>
        </A>
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    // Made here, outside RequireUser, so the server and the browser render the same form.
    let prefs = Resource::new(|| (), |_| my_email_preferences());
    let save = ServerAction::<SaveMyEmailPreferences>::new();
    view! {
        <Title text="Notifications"/>
        <section class="page narrow-wide">
            <crate::layout::RequireUser>
                <NotificationList/>
                <EmailPreferencesForm prefs save/>
            </crate::layout::RequireUser>
        </section>
    }
}

#[component]
fn NotificationList() -> impl IntoView {
    let notices = crate::live::use_live().notices;
    let mark = ServerAction::<MarkNotificationsRead>::new();
    // This tab's own marking updates the bell at once, even if the stream's event is not here yet.
    Effect::new(move |previous: Option<usize>| {
        let version = mark.version().get();
        if previous.is_some_and(|p| p != version) {
            notices.update(|n| *n += 1);
        }
        version
    });
    let items = Resource::new(move || notices.get(), |_| my_notifications(None));
    let older = RwSignal::new(Vec::<Notification>::new());
    let loading_older = RwSignal::new(false);
    let load_older = move |_| {
        let last = older
            .with_untracked(|o| o.last().map(|n| n.id))
            .or_else(|| items.get_untracked().and_then(Result::ok).and_then(|list| list.last().map(|n| n.id)));
        loading_older.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(more) = my_notifications(last).await {
                older.update(|o| o.extend(more));
            }
            loading_older.set(false);
        });
    };
    // The resource is read only inside the Transition: read outside it, the server would render it empty and
    // the browser full, and hydration would fail.
    view! {
        <div class="page-head">
            <h1>"Notifications"</h1>
        </div>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading notifications…"</p> }>
            {move || items.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <div class="empty-state" data-testid="notifications-empty">
                        <p>"Nothing yet. We will tell you here when an agent answers, an SLA clock needs attention, or something you follow changes."</p>
                    </div>
                }.into_any(),
                Ok(list) => {
                    let full_page = list.len() as i64 == super::server_fns::PAGE_SIZE;
                    let has_unread = list.iter().any(|n| !n.read);
                    view! {
                        {has_unread.then(|| view! {
                            <p class="actions">
                                <button type="button" class="button" data-testid="mark-all-read"
                                    on:click=move |_| { mark.dispatch(MarkNotificationsRead { ids: vec![] }); }>
                                    "Mark all as read"
                                </button>
                            </p>
                        })}
                        <ul class="notification-list" data-testid="notification-list">
                            {list.into_iter().map(|n| view! { <NotificationRow n=n/> }).collect_view()}
                            {move || older.get().into_iter().map(|n| view! { <NotificationRow n=n/> }).collect_view()}
                        </ul>
                        {full_page.then(|| view! {
                            <button type="button" class="button" on:click=load_older disabled=move || loading_older.get()>
                                {move || if loading_older.get() { "Loading…" } else { "Show older" }}
                            </button>
                        })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn NotificationRow(n: Notification) -> impl IntoView {
    let id = n.id;
    let unread = RwSignal::new(!n.read);
    // Opening a notification marks it read; the list refreshes through the live event.
    let notices = crate::live::use_live().notices;
    let open = move |_| {
        if unread.get_untracked() {
            unread.set(false);
            leptos::task::spawn_local(async move {
                if mark_notifications_read(vec![id]).await.is_ok() {
                    notices.update(|n| *n += 1);
                }
            });
        }
    };
    let text = n.text.clone();
    let target = href(n.link.as_deref(), n.ticket_id);
    view! {
        <li class="notification" class:unread=move || unread.get() data-testid="notification">
            {move || unread.get().then(|| view! { <span class="unread-dot" aria-label="Unread" role="img"></span> })}
            <div class="notification-body">
                {match target {
                    Some(target) => view! { <A href=target on:click=open>{text}</A> }.into_any(),
                    None => view! { <span>{text}</span> }.into_any(),
                }}
                <span class="muted"><When epoch=n.created_at/></span>
            </div>
        </li>
    }
}
