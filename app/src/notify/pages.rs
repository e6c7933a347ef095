//! The bell in the header (live unread count) and the notifications page.

use super::server_fns::{mark_notifications_read, my_notifications, unread_notifications, MarkNotificationsRead};
use super::{badge_text, bell_label, href, Notification};
use crate::time::When;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The bell: a link to the notifications page with the unread count, refreshed whenever the server
/// announces a notification for this user (or that some were read in another tab).
#[component]
pub fn NotificationBell() -> impl IntoView {
    let notices = crate::live::use_live().notices;
    let unread = Resource::new(move || notices.get(), |_| unread_notifications());
    let count = move || unread.get().and_then(Result::ok).unwrap_or(0);
    view! {
        <A href="/notifications" attr:class="bell" attr:aria-label=move || bell_label(count()) attr:data-testid="bell">
            <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" focusable="false">
                <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/>
            </svg>
            <Transition fallback=|| ()>
                {move || badge_text(count()).map(|text| view! { <span class="badge" data-testid="bell-count">{text}</span> })}
            </Transition>
        </A>
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! {
        <Title text="Notifications"/>
        <section class="page narrow-wide">
            <crate::layout::RequireUser>
                <NotificationList/>
            </crate::layout::RequireUser>
        </section>
    }
}

#[component]
fn NotificationList() -> impl IntoView {
    let notices = crate::live::use_live().notices;
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let items = Resource::new(move || (notices.get(), mark.version().get()), |_| my_notifications(None));
    let older = RwSignal::new(Vec::<Notification>::new());
    let loading_older = RwSignal::new(false);
    let has_unread = move || items.get().and_then(Result::ok).is_some_and(|list| list.iter().any(|n| !n.read));
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
    view! {
        <div class="page-head">
            <h1>"Notifications"</h1>
            <Show when=has_unread>
                <button type="button" class="button" data-testid="mark-all-read"
                    on:click=move |_| { mark.dispatch(MarkNotificationsRead { ids: vec![] }); }>
                    "Mark all as read"
                </button>
            </Show>
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
                    view! {
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
    let open = move |_| {
        if unread.get_untracked() {
            unread.set(false);
            leptos::task::spawn_local(async move {
                let _ = mark_notifications_read(vec![id]).await;
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
