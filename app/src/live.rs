//! Live state shared by every page: a clock that ticks each second in the
//! browser, and a version number bumped whenever the server announces a change
//! over SSE (`/api/v1/events`), which pages use to refetch in place.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Live {
    /// Unix seconds, ticking every second once hydrated.
    pub now: RwSignal<i64>,
    /// Bumped on every ticket, SLA or feature event the signed-in user may see.
    pub version: RwSignal<u64>,
    /// Bumped when the user's notifications change (the bell listens to this only).
    pub notices: RwSignal<u64>,
    /// Bumped after each outgoing-webhook delivery attempt (staff only; the integrations page listens).
    pub deliveries: RwSignal<u64>,
}

/// Event kinds the pages react to.
pub const EVENT_KINDS: &[&str] = &[
    "ticket.created",
    "ticket.updated",
    "ticket.message",
    "ticket.escalated",
    "ticket.survey",
    "sla.at_risk",
    "sla.breached",
    "feature.created",
    "feature.updated",
    "feature.voted",
    "feature.commented",
    "booking.created",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.done",
    "booking.updated",
    "call.message",
    // The server could not replay everything missed, or the user's rights changed: reload what is shown.
    "stream.reset",
    "auth.changed",
];

/// Event kinds about the user's own notifications.
pub const NOTICE_KINDS: &[&str] = &["notification.created", "notification.read"];

/// Event kinds about outgoing deliveries: kept apart so a busy webhook does not refetch every page.
pub const DELIVERY_KINDS: &[&str] = &["webhook.delivery"];

fn current_seconds() -> i64 {
    #[cfg(feature = "ssr")]
    {
        jiff::Timestamp::now().as_second()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        0
    }
}

pub fn provide_live() {
    let live = Live {
        now: RwSignal::new(current_seconds()),
        version: RwSignal::new(0),
        notices: RwSignal::new(0),
        deliveries: RwSignal::new(0),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    {
        let auth = crate::layout::use_auth();
        Effect::new(move |_| {
            if let Ok(handle) =
                set_interval_with_handle(move || live.now.set(current_seconds()), std::time::Duration::from_secs(1))
            {
                on_cleanup(move || handle.clear());
            }
        });
        // One stream per signed-in user; the browser resumes it with Last-Event-ID.
        let stream: StoredValue<Option<web_sys::EventSource>, LocalStorage> = StoredValue::new_local(None);
        Effect::new(move |_| {
            let signed_in = auth.current().is_some();
            stream.update_value(|s| {
                if let Some(old) = s.take() {
                    old.close();
                }
                if signed_in {
                    *s = open_stream(live);
                }
            });
        });
    }
}

#[cfg(feature = "hydrate")]
fn open_stream(live: Live) -> Option<web_sys::EventSource> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let source = web_sys::EventSource::new("/api/v1/events").ok()?;
    for (kinds, counter) in
        [(EVENT_KINDS, live.version), (NOTICE_KINDS, live.notices), (DELIVERY_KINDS, live.deliveries)]
    {
        let on_event = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
            counter.update(|v| *v += 1);
        });
        for kind in kinds {
            let _ = source.add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref());
        }
        // The listener lives as long as the page: the stream is closed, not the closure freed.
        on_event.forget();
    }
    // Video-call signals carry data the call room needs (an offer, a candidate), not just "something changed".
    let on_signal = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        if let (Some(data), Some(handler)) = (event.data().as_string(), SIGNAL_HANDLER.with(|h| h.borrow().clone())) {
            handler(data);
        }
    });
    let _ = source.add_event_listener_with_callback(SIGNAL_KIND, on_signal.as_ref().unchecked_ref());
    on_signal.forget();
    Some(source)
}

/// The event kind of a video-call signal (see `booking::signal`).
#[cfg(feature = "hydrate")]
const SIGNAL_KIND: &str = "call.signal";

/// Who receives `call.signal` events' data.
#[cfg(feature = "hydrate")]
pub type SignalHandler = std::rc::Rc<dyn Fn(String)>;

#[cfg(feature = "hydrate")]
thread_local! {
    static SIGNAL_HANDLER: std::cell::RefCell<Option<SignalHandler>> = const { std::cell::RefCell::new(None) };
}

/// Hands every `call.signal` event's data (the event as JSON) to `handler` (the call room's video), or to
/// nobody with `None`. One page holds one call at a time.
#[cfg(feature = "hydrate")]
pub fn on_call_signal(handler: Option<SignalHandler>) {
    SIGNAL_HANDLER.with(|h| *h.borrow_mut() = handler);
}

pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(|| Live {
        now: RwSignal::new(current_seconds()),
        version: RwSignal::new(0),
        notices: RwSignal::new(0),
        deliveries: RwSignal::new(0),
    })
}

pub fn use_now() -> RwSignal<i64> {
    use_live().now
}

pub fn use_live_version() -> RwSignal<u64> {
    use_live().version
}
