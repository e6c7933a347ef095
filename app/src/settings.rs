//! `/admin/sla`: managers edit the SLA policy table and the holiday list. The server functions here apply the
//! same rules and helpers (`crate::sla_store`) as `PUT /api/v1/sla/policies` and `PUT /api/v1/hours/holidays`.

use crate::error::AppError;
use crate::layout::RequireUser;
use crate::sla::{CalendarKind, Policy};
use crate::ui::{FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

/// One row of the policy form as the browser sends it (`policies[0][first_response_minutes]=60`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyForm {
    pub tier: String,
    pub priority: String,
    pub first_response_minutes: String,
    pub resolution_minutes: String,
    pub calendar: String,
    /// Present ("on") when the checkbox is ticked.
    #[serde(default)]
    pub pause_on_hold: Option<String>,
}

#[cfg(feature = "ssr")]
impl PolicyForm {
    /// The typed row, or the field errors of its unreadable columns.
    fn parse(&self, errors: &mut crate::error::FieldErrors) -> Option<Policy> {
        let (tier, priority) = match (self.tier.parse(), self.priority.parse()) {
            (Ok(t), Ok(p)) => (t, p),
            _ => {
                errors.add("policies", format!("Unknown policy row {} {}.", self.tier, self.priority));
                return None;
            }
        };
        let field = |column: &str| crate::sla_store::policy_field(tier, priority, column);
        let minutes = |raw: &str, column: &str, errors: &mut crate::error::FieldErrors| {
            let parsed = raw.trim().parse::<i64>().ok();
            if parsed.is_none() {
                errors.add(&field(column), "Enter a whole number of minutes.");
            }
            parsed
        };
        let first_response_minutes = minutes(&self.first_response_minutes, "first_response_minutes", errors);
        let resolution_minutes = minutes(&self.resolution_minutes, "resolution_minutes", errors);
        let calendar = self.calendar.parse::<CalendarKind>();
        if let Err(message) = &calendar {
            errors.add(&field("calendar"), message.clone());
        }
        Some(Policy {
            tier,
            priority,
            first_response_minutes: first_response_minutes?,
            resolution_minutes: resolution_minutes?,
            calendar: calendar.ok()?,
            pause_on_hold: matches!(self.pause_on_hold.as_deref(), Some("on" | "true" | "1")),
        })
    }
}

#[server(prefix = "/rpc", endpoint = "sla_policies")]
pub async fn sla_policies() -> Result<Vec<Policy>, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    Ok(crate::sla_store::load_policies(&s.db).await?)
}

#[server(prefix = "/rpc", endpoint = "save_sla_policies")]
pub async fn save_sla_policies(policies: Vec<PolicyForm>) -> Result<Vec<Policy>, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let mut errors = crate::error::FieldErrors::default();
    let rows: Vec<Policy> = policies.iter().filter_map(|row| row.parse(&mut errors)).collect();
    errors.into_result()?;
    crate::sla_store::save_policies(&s.db, &rows).await
}

#[server(prefix = "/rpc", endpoint = "sla_holidays")]
pub async fn sla_holidays() -> Result<Vec<String>, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    Ok(crate::sla_store::load_holidays(&s.db).await?.iter().map(ToString::to_string).collect())
}

/// `holidays` is the textarea: one YYYY-MM-DD per line; blank lines are ignored.
#[server(prefix = "/rpc", endpoint = "save_sla_holidays")]
pub async fn save_sla_holidays(holidays: String) -> Result<Vec<String>, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let lines: Vec<(usize, &str)> =
        holidays.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty()).collect();
    let texts: Vec<&str> = lines.iter().map(|(_, l)| *l).collect();
    let days = crate::sla_store::parse_holidays(&texts).map_err(|e| {
        // Name the textarea's line rather than the list index.
        let first = lines
            .iter()
            .enumerate()
            .find_map(|(index, (line, _))| e.field(&crate::sla_store::holiday_field(index)).map(|m| (line, m)));
        match first {
            Some((line, message)) => AppError::invalid_field("holidays", format!("Line {line}: {message}")),
            None => AppError::invalid_field("holidays", e.message.clone()),
        }
    })?;
    let stored = crate::sla_store::replace_holidays(&s.db, &days).await?;
    Ok(stored.iter().map(ToString::to_string).collect())
}

/// One day of the weekly-hours form: `days[monday][open]=09:00`, `days[monday][close]=18:00`,
/// `days[monday][is_open]=on` (absent when the day is closed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayForm {
    #[serde(default)]
    pub open: String,
    #[serde(default)]
    pub close: String,
    #[serde(default)]
    pub is_open: Option<String>,
}

/// Both calendars' weekly hours as text (`support`, `live_chat`).
#[server(prefix = "/rpc", endpoint = "weekly_calendars")]
pub async fn weekly_calendars() -> Result<(crate::sla::WeekText, crate::sla::WeekText), AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let weekly = crate::sla_store::load_weekly(&s.db).await?;
    Ok((crate::sla::WeekText::from_hours(&weekly.support), crate::sla::WeekText::from_hours(&weekly.live_chat)))
}

/// Replaces one calendar's week: `support` or `live_chat` (managers), or `my_calls`, the caller's own call hours
/// (staff who take calls).
#[server(prefix = "/rpc", endpoint = "save_weekly_hours")]
pub async fn save_weekly_hours(
    calendar: String,
    #[server(default)] days: std::collections::BTreeMap<String, DayForm>,
) -> Result<crate::sla::WeekText, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    let allowed = if calendar == "my_calls" { user.role.is_staff() } else { user.role.is_manager() };
    if !allowed {
        return Err(AppError::forbidden());
    }
    let mut week = crate::sla::WeekText::default();
    for (name, form) in &days {
        if form.is_open.is_none() {
            continue;
        }
        let text = Some(crate::sla::DayText { open: form.open.clone(), close: form.close.clone() });
        match name.as_str() {
            "monday" => week.monday = text,
            "tuesday" => week.tuesday = text,
            "wednesday" => week.wednesday = text,
            "thursday" => week.thursday = text,
            "friday" => week.friday = text,
            "saturday" => week.saturday = text,
            "sunday" => week.sunday = text,
            other => return Err(AppError::invalid_field("days", format!("Unknown day {other:?}."))),
        }
    }
    if calendar == "my_calls" {
        let hours = week.parse("my_calls").map_err(|errors| {
            let mut fields = crate::error::FieldErrors::default();
            for (field, message) in errors {
                fields.add(&field, message);
            }
            AppError::invalid(fields)
        })?;
        crate::booking::service::save_hours(&s.db, &user, user.id, Some(&hours)).await?;
        return Ok(crate::sla::WeekText::from_hours(&hours));
    }
    let text = match calendar.as_str() {
        "support" => crate::sla_store::WeeklyText { support: Some(week), live_chat: None },
        "live_chat" => crate::sla_store::WeeklyText { support: None, live_chat: Some(week) },
        _ => return Err(AppError::invalid_field("calendar", "Choose support or live_chat.")),
    };
    let weekly = crate::sla_store::save_weekly(&s.db, &text).await?;
    let hours = if calendar == "support" { weekly.support } else { weekly.live_chat };
    Ok(crate::sla::WeekText::from_hours(&hours))
}

#[component]
pub fn SlaSettingsPage() -> impl IntoView {
    view! {
        <Title text="SLA settings"/>
        <section class="page">
            <div class="page-head">
                <h1>"SLA policies, hours and holidays"</h1>
                <div class="actions">
                    <A href="/admin/integrations" attr:class="button">"Integrations"</A>
                </div>
            </div>
            <RequireUser manager=true>
                <PolicyEditor/>
                <WeeklyHoursEditors/>
                <HolidayEditor/>
            </RequireUser>
        </section>
    }
}

/// The message for `field` from the action's last error.
fn error_for(error: Signal<Option<AppError>>, field: String) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.fields.get(&field).cloned()))
}

/// The whole-form message (field messages are shown beside their fields).
#[component]
fn ErrorSummary(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <div class="form-error" role="alert" aria-live="assertive">
            {move || error.get().map(|e| view! { <p>{e.message}</p> })}
        </div>
    }
}

#[component]
fn PolicyEditor() -> impl IntoView {
    let save = ServerAction::<SaveSlaPolicies>::new();
    let policies = Resource::new(|| (), |_| sla_policies());
    let error = crate::ui::action_error(save);
    let saved = move || save.value().get().and_then(Result::ok).map(|_| "Saved.");
    view! {
        <section class="panel" aria-labelledby="sla-policies-heading">
            <h2 id="sla-policies-heading">"Policies"</h2>
            <p class="hint">"Targets are minutes of the row's calendar: around the clock (24x7) or support hours only."</p>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading policies…"</p> }>
                {move || policies.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(rows) => view! {
                        <ActionForm action=save attr:class="stack" attr:novalidate=true>
                            <ErrorSummary error/>
                            <div class="table-scroll">
                                <table>
                                    <caption class="muted">"One row per tier and priority"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Tier and priority"</th>
                                            <th scope="col">"First response (min)"</th>
                                            <th scope="col">"Resolution (min)"</th>
                                            <th scope="col">"Calendar"</th>
                                            <th scope="col">"Pause while on hold"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows.into_iter().enumerate().map(|(index, policy)| view! { <PolicyRow index policy error/> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <div class="actions">
                                <SubmitButton label="Save policies" busy_label="Saving…" pending=save.pending()/>
                                <p class="status" role="status" data-testid="sla-policies-status">{saved}</p>
                            </div>
                        </ActionForm>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// A labelled number input for one target, with its error beside it.
#[component]
fn MinutesInput(name: String, id: String, label: String, value: i64, error: Signal<Option<String>>) -> impl IntoView {
    let error_id = format!("{id}-error");
    let described = {
        let error_id = error_id.clone();
        move || error.get().is_some().then(|| error_id.clone())
    };
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <input
                id=id
                name=name
                type="number"
                inputmode="numeric"
                min="1"
                max=crate::sla::MAX_TARGET_MINUTES.to_string()
                step="1"
                required=true
                value=value.to_string()
                aria-label=label
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
            />
            <p class="field-error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

#[component]
fn PolicyRow(index: usize, policy: Policy, error: Signal<Option<AppError>>) -> impl IntoView {
    let (tier, priority) = (policy.tier.as_str(), policy.priority.as_str());
    let name = move |column: &str| format!("policies[{index}][{column}]");
    let id = move |column: &str| format!("sla-{tier}-{priority}-{column}");
    let field = move |column: &str| error_for(error, format!("{tier}.{priority}.{column}"));
    let calendar_error = field("calendar");
    view! {
        <tr data-testid=format!("policy-{tier}-{priority}")>
            <th scope="row">
                {format!("{tier} {priority}")}
                <input type="hidden" name=name("tier") value=tier/>
                <input type="hidden" name=name("priority") value=priority/>
            </th>
            <td>
                <MinutesInput
                    name=name("first_response_minutes")
                    id=id("first_response_minutes")
                    label=format!("{tier} {priority} first response minutes")
                    value=policy.first_response_minutes
                    error=field("first_response_minutes")
                />
            </td>
            <td>
                <MinutesInput
                    name=name("resolution_minutes")
                    id=id("resolution_minutes")
                    label=format!("{tier} {priority} resolution minutes")
                    value=policy.resolution_minutes
                    error=field("resolution_minutes")
                />
            </td>
            <td>
                <div class="field" class:has-error=move || calendar_error.get().is_some()>
                    <select id=id("calendar") name=name("calendar") aria-label=format!("{tier} {priority} calendar")>
                        <option value="24x7" selected=policy.calendar == CalendarKind::AlwaysOn>"24x7"</option>
                        <option value="support_hours" selected=policy.calendar == CalendarKind::SupportHours>"Support hours"</option>
                    </select>
                    <p class="field-error" aria-live="polite">{move || calendar_error.get()}</p>
                </div>
            </td>
            <td>
                <div class="field checkbox">
                    <input
                        id=id("pause_on_hold")
                        type="checkbox"
                        name=name("pause_on_hold")
                        value="on"
                        checked=policy.pause_on_hold
                        aria-label=format!("{tier} {priority} pause while on hold")
                    />
                </div>
            </td>
        </tr>
    }
}

#[component]
fn HolidayEditor() -> impl IntoView {
    let save = ServerAction::<SaveSlaHolidays>::new();
    // Reload the (sorted, de-duplicated) list after each successful save only: a refused one keeps the text.
    let saves = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saves.update(|n| *n += 1);
        }
    });
    let holidays = Resource::new(move || saves.get(), |_| sla_holidays());
    let error = crate::ui::action_error(save);
    let holidays_error = error_for(error, "holidays".to_string());
    let saved = move || save.value().get().and_then(Result::ok).map(|_| "Saved.");
    view! {
        <section class="panel" aria-labelledby="sla-holidays-heading">
            <h2 id="sla-holidays-heading">"Holidays"</h2>
            <p class="hint">"Support hours and live chat are closed on these days (America/New_York)."</p>
            <ActionForm action=save attr:class="stack" attr:novalidate=true>
                <FormError error/>
                <div class="field" class:has-error=move || holidays_error.get().is_some()>
                    <label for="sla-holidays">"Holidays, one YYYY-MM-DD per line"</label>
                    <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading holidays…"</p> }>
                        {move || holidays.get().map(|result| {
                            let text = result.map(|days| days.join("\n")).unwrap_or_default();
                            view! {
                                <textarea
                                    id="sla-holidays"
                                    name="holidays"
                                    rows="6"
                                    aria-invalid=move || holidays_error.get().is_some().to_string()
                                    aria-describedby=move || holidays_error.get().is_some().then_some("sla-holidays-error")
                                >{text}</textarea>
                            }
                        })}
                    </Transition>
                    <p class="field-error" id="sla-holidays-error" aria-live="polite">{move || holidays_error.get()}</p>
                </div>
                <div class="actions">
                    <SubmitButton label="Save holidays" busy_label="Saving…" pending=save.pending()/>
                    <p class="status" role="status" data-testid="sla-holidays-status">{saved}</p>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn WeeklyHoursEditors() -> impl IntoView {
    let calendars = Resource::new(|| (), |_| weekly_calendars());
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading weekly hours…"</p> }>
            {move || calendars.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok((support, live_chat)) => view! {
                    <WeekEditor
                        calendar="support"
                        title="Support hours"
                        save_label="Save support hours"
                        hint="Business-hours SLA clocks count these hours (America/New_York). Leave a day unticked to close it."
                        week=support
                    />
                    <WeekEditor
                        calendar="live_chat"
                        title="Live-chat hours"
                        save_label="Save live-chat hours"
                        hint="Calls can be booked in these hours (America/New_York)."
                        week=live_chat
                    />
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub(crate) fn WeekEditor(
    calendar: &'static str,
    title: &'static str,
    save_label: &'static str,
    hint: &'static str,
    week: crate::sla::WeekText,
) -> impl IntoView {
    let save = ServerAction::<SaveWeeklyHours>::new();
    let error = crate::ui::action_error(save);
    let saved = move || save.value().get().and_then(Result::ok).map(|_| "Saved.");
    let heading = format!("weekly-{calendar}-heading");
    view! {
        <section class="panel" aria-labelledby=heading.clone() data-testid=format!("weekly-{calendar}")>
            <h2 id=heading.clone()>{title}</h2>
            <p class="hint">{hint}</p>
            <ActionForm action=save attr:class="stack" attr:novalidate=true>
                <ErrorSummary error/>
                <input type="hidden" name="calendar" value=calendar/>
                <div class="table-scroll">
                    <table class="week-table">
                        <thead>
                            <tr>
                                <th scope="col">"Day"</th>
                                <th scope="col">"Open"</th>
                                <th scope="col">"Opens"</th>
                                <th scope="col">"Closes"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {crate::sla::WEEKDAYS.iter().map(|(name, day)| {
                                let text = week.day(*day).cloned();
                                view! { <DayRow calendar name text error/> }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="actions">
                    <SubmitButton label=save_label busy_label="Saving…" pending=save.pending()/>
                    <p class="status" role="status" data-testid=format!("weekly-{calendar}-status")>{saved}</p>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn DayRow(
    calendar: &'static str,
    name: &'static str,
    text: Option<crate::sla::DayText>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let label = {
        let mut chars = name.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    let is_open = RwSignal::new(text.is_some());
    let (open, close) = text.map(|t| (t.open, t.close)).unwrap_or_else(|| ("09:00".into(), "18:00".into()));
    let id = move |part: &str| format!("{calendar}-{name}-{part}");
    let open_error = error_for(error, format!("{calendar}.{name}.open"));
    let close_error = error_for(error, format!("{calendar}.{name}.close"));
    let time_input = move |part: &'static str, value: String, err: Signal<Option<String>>, label: String| {
        let error_id = id(&format!("{part}-error"));
        view! {
            <div class="field" class:has-error=move || err.get().is_some()>
                <input
                    id=id(part)
                    type="time"
                    name=format!("days[{name}][{part}]")
                    value=value
                    step="900"
                    aria-label=label
                    disabled=move || !is_open.get()
                    aria-invalid=move || err.get().is_some().to_string()
                    aria-describedby=error_id.clone()
                />
                <p class="field-error" id=error_id aria-live="polite">{move || err.get()}</p>
            </div>
        }
    };
    view! {
        <tr>
            <th scope="row">{label.clone()}</th>
            <td>
                <input
                    id=id("is_open")
                    type="checkbox"
                    name=format!("days[{name}][is_open]")
                    value="on"
                    prop:checked=move || is_open.get()
                    on:change=move |ev| is_open.set(event_target_checked(&ev))
                    aria-label=format!("{label} open")
                />
            </td>
            <td>{time_input("open", open, open_error, format!("{label} opens"))}</td>
            <td>{time_input("close", close, close_error, format!("{label} closes"))}</td>
        </tr>
    }
}
