//! Showing instants: Eastern time (the support plan's zone) everywhere, and the
//! viewer's own time beside it once the browser knows its zone.

use leptos::prelude::*;

/// "Tue Dec 8, 17:00 ET".
pub fn eastern_label(epoch: i64) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| t.to_zoned(crate::sla::eastern().clone()).strftime("%a %b %-d, %H:%M ET").to_string())
        .unwrap_or_default()
}

/// "18:00 ET" when `epoch` falls on the same Eastern day as `now`, else "Mon 09:00 ET".
pub fn eastern_short(epoch: i64, now: i64) -> String {
    let zone = crate::sla::eastern().clone();
    match (jiff::Timestamp::from_second(epoch), jiff::Timestamp::from_second(now)) {
        (Ok(at), Ok(now)) => {
            let (at, now) = (at.to_zoned(zone.clone()), now.to_zoned(zone));
            if at.date() == now.date() {
                at.strftime("%H:%M ET").to_string()
            } else {
                at.strftime("%A %H:%M ET").to_string()
            }
        }
        _ => String::new(),
    }
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// `epoch` formatted in the viewer's own zone with these `Intl.DateTimeFormat` options, when that zone is not
/// Eastern.
#[cfg(feature = "hydrate")]
fn local_format(epoch: i64, options: &[(&str, &str)]) -> Option<String> {
    use wasm_bindgen::JsValue;
    let resolved = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
    let zone = js_sys::Reflect::get(&resolved, &JsValue::from_str("timeZone")).ok()?.as_string()?;
    if zone == "America/New_York" {
        return None;
    }
    let format = js_sys::Object::new();
    for (key, value) in options {
        let _ = js_sys::Reflect::set(&format, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    let date = js_sys::Date::new(&JsValue::from_f64(epoch as f64 * 1000.0));
    let locale = web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_else(|| "en-US".into());
    Some(String::from(date.to_locale_string(&locale, &format)))
}

/// The viewer's local rendering of `epoch`, when their zone is not Eastern.
#[cfg(feature = "hydrate")]
fn local_label(epoch: i64) -> Option<String> {
    local_format(epoch, &[("weekday", "short"), ("hour", "2-digit"), ("minute", "2-digit"), ("timeZoneName", "short")])
}

/// The viewer's own clock time for `epoch` ("15:00 CET"): in the browser, when their zone is not Eastern.
/// Always `None` on the server, so call it only after hydration (e.g. behind a signal an Effect sets).
pub fn viewer_clock(epoch: i64) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        local_format(epoch, &[("hour", "2-digit"), ("minute", "2-digit"), ("timeZoneName", "short")])
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = epoch;
        None
    }
}

/// An instant as `<time>`: Eastern time, plus the viewer's own time after hydration.
#[component]
pub fn When(#[prop(optional)] epoch: Option<i64>, #[prop(optional, into)] rfc3339: Option<String>) -> impl IntoView {
    let epoch = epoch.or_else(|| rfc3339.as_deref().and_then(parse_rfc3339)).unwrap_or_default();
    let iso = jiff::Timestamp::from_second(epoch).map(|t| t.to_string()).unwrap_or_default();
    let local = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| local.set(local_label(epoch)));
    view! {
        <time datetime=iso>
            {eastern_label(epoch)}
            {move || local.get().map(|l| view! { <span class="local-time">" (" {l} " your time)"</span> })}
        </time>
    }
}

/// " (Sat 15:00 CET your time)" after hydration when the viewer is not on Eastern time; nothing otherwise.
#[component]
pub fn YourTime(epoch: i64) -> impl IntoView {
    let local = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| local.set(local_label(epoch)));
    #[cfg(not(feature = "hydrate"))]
    let _ = epoch;
    move || {
        local.get().map(|l| view! { <span class="local-time" data-testid="your-time">" (" {l} " your time)"</span> })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eastern_labels_follow_daylight_saving() {
        // 2026-07-01 21:00 UTC is 17:00 EDT; 2026-12-01 22:00 UTC is 17:00 EST.
        assert_eq!(eastern_label(1_782_939_600), "Wed Jul 1, 17:00 ET");
        assert_eq!(eastern_label(1_796_162_400), "Tue Dec 1, 17:00 ET");
    }

    #[test]
    fn short_labels_name_the_day_only_when_it_differs() {
        // Fri 2026-12-04 17:00 ET → closes 18:00 the same day; opens Sat 10:00.
        let fri_5pm = 1_796_421_600;
        assert_eq!(eastern_short(fri_5pm + 3600, fri_5pm), "18:00 ET");
        assert_eq!(eastern_short(fri_5pm + 17 * 3600, fri_5pm), "Saturday 10:00 ET");
    }
}
