//! Keyboard shortcuts of the queue and the ticket workspace: one key each, ignored while typing in a field or
//! with a modifier held, and a `?` panel that lists them.

use leptos::prelude::*;

/// (key, what it does) for the help panel.
pub const QUEUE_KEYS: &[(&str, &str)] = &[
    ("j / k", "Next / previous ticket"),
    ("Enter", "Open the ticket"),
    ("x", "Select or unselect the ticket"),
    ("a", "Assign the ticket to me"),
    ("?", "Show or hide these shortcuts"),
];

pub const TICKET_KEYS: &[(&str, &str)] = &[
    ("r", "Write a public reply"),
    ("n", "Write an internal note"),
    ("a", "Assign to me"),
    ("e", "Escalate"),
    ("?", "Show or hide these shortcuts"),
];

/// Calls `on_key` with the key of each plain key press outside form fields (browser only).
pub fn use_shortcuts(on_key: impl Fn(String) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
                return;
            }
            let tag = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .map(|el| (el.tag_name(), el.get_attribute("contenteditable").is_some()));
            let in_field = tag
                .as_ref()
                .is_some_and(|(tag, editable)| *editable || matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            let key = ev.key();
            // Enter on a link or button does what it says; ours only acts on the page itself.
            if key == "Enter" && tag.as_ref().is_some_and(|(tag, _)| matches!(tag.as_str(), "A" | "BUTTON" | "SUMMARY"))
            {
                return;
            }
            if in_field {
                // Escape leaves the field, so shortcuts work again.
                if key == "Escape" {
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
                        let _ = el.blur();
                    }
                }
                return;
            }
            if matches!(key.as_str(), "j" | "k" | "r" | "n" | "a" | "e" | "x" | "?") {
                ev.prevent_default();
            }
            on_key(key);
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on_key;
}

/// Focuses the first element matching `selector` (browser only).
pub fn focus(selector: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

#[component]
pub fn ShortcutHelp(open: RwSignal<bool>, keys: &'static [(&'static str, &'static str)]) -> impl IntoView {
    view! {
        <div class="shortcut-help" role="dialog" aria-modal="false" aria-labelledby="shortcut-title"
            hidden=move || !open.get() data-testid="shortcut-help">
            <h2 id="shortcut-title">"Keyboard shortcuts"</h2>
            <dl>
                {keys.iter().map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> }).collect_view()}
            </dl>
            <button type="button" class="button" on:click=move |_| open.set(false)>"Close"</button>
        </div>
    }
}
