//! `/admin/integrations`: managers add outgoing webhooks (secret shown once, "send test", switch off and on,
//! delete, delivery log), set up the Discord channel and check email; and the "Email me about" form every
//! signed-in user has on `/notifications`. The server functions use the same store as the REST API
//! (`server/src/api/webhooks.rs`).

use super::integrations::{CreatedWebhook, Delivery, DiscordSettings, EmailPreferences, Webhook};
use super::integrations::{DISCORD_EVENTS, WEBHOOK_EVENTS};
use crate::error::AppError;
use crate::layout::RequireUser;
use crate::time::When;
use crate::ui::{action_error, field_error, EmptyState, Field, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

/// How many deliveries each log shows.
pub const LOG_ROWS: i64 = 20;

/// A webhook with its newest deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLog {
    pub webhook: Webhook,
    pub deliveries: Vec<Delivery>,
}

/// How a test send went: the receiver's HTTP status and the time it took, or why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub ok: bool,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// Whether the portal can send email, and as whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailStatus {
    pub configured: bool,
    pub from: Option<String>,
}

/// The outcome of "Send me a test email".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailTestResult {
    pub to: String,
    pub error: Option<String>,
}

#[server(prefix = "/rpc", endpoint = "integration_webhooks")]
pub async fn integration_webhooks() -> Result<Vec<WebhookLog>, AppError> {
    use super::integrations_store::{deliveries, list_webhooks, LogOf};
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let mut out = Vec::new();
    for webhook in list_webhooks(&s.db).await? {
        let deliveries = deliveries(&s.db, LogOf::Webhook(webhook.id), LOG_ROWS).await?;
        out.push(WebhookLog { webhook, deliveries });
    }
    Ok(out)
}

/// The "Add webhook" form: `events[]` are the ticked boxes; an empty secret means one is made.
#[server(prefix = "/rpc", endpoint = "add_webhook")]
pub async fn add_webhook(
    #[server(default)] url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] description: String,
    #[server(default)] secret: String,
) -> Result<CreatedWebhook, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let input = super::integrations_store::WebhookInput {
        url: Some(url),
        events: Some(events),
        description: Some(description),
        secret: Some(secret),
        active: None,
    };
    super::integrations_store::create_webhook(&s.db, &s.outbound, user.id, &input).await
}

/// Switches a webhook off, or back on (which also clears its failure count).
#[server(prefix = "/rpc", endpoint = "switch_webhook")]
pub async fn switch_webhook(id: i64, active: bool) -> Result<Webhook, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let input = super::integrations_store::WebhookInput { active: Some(active), ..Default::default() };
    super::integrations_store::update_webhook(&s.db, &s.outbound, id, &input).await
}

#[server(prefix = "/rpc", endpoint = "remove_webhook")]
pub async fn remove_webhook(id: i64) -> Result<(), AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    super::integrations_store::delete_webhook(&s.db, id).await
}

/// Queues a signed `ping` for the webhook; the worker sends it within a second or two and the log shows it.
#[server(prefix = "/rpc", endpoint = "test_webhook")]
pub async fn test_webhook(id: i64) -> Result<i64, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let hook = super::integrations_store::webhook(&s.db, id).await?;
    if !hook.active {
        return Err(AppError::conflict("webhook_disabled", "Switch the webhook on before sending a test."));
    }
    Ok(super::outbox::queue_test(&s.db, hook.id).await?)
}

#[server(prefix = "/rpc", endpoint = "discord_integration")]
pub async fn discord_integration() -> Result<DiscordSettings, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    super::integrations_store::discord_settings(&s.db).await
}

#[server(prefix = "/rpc", endpoint = "discord_log")]
pub async fn discord_log() -> Result<Vec<Delivery>, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    super::integrations_store::deliveries(&s.db, super::integrations_store::LogOf::Discord, LOG_ROWS).await
}

/// Saves the Discord channel: a blank `url` keeps the saved one; `remove` clears it.
#[server(prefix = "/rpc", endpoint = "save_discord_integration")]
pub async fn save_discord_integration(
    #[server(default)] url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] remove: bool,
) -> Result<DiscordSettings, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let url = if remove { Some("") } else { Some(url.trim()).filter(|u| !u.is_empty()) };
    super::integrations_store::save_discord(&s.db, &s.outbound, url, &events).await
}

/// Posts a test embed to the saved Discord URL now.
#[server(prefix = "/rpc", endpoint = "test_discord_integration")]
pub async fn test_discord_integration() -> Result<TestResult, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let outcome = super::integrations_store::test_discord(&s.db, &s.outbox).await?;
    Ok(TestResult {
        ok: outcome.error.is_none() && !outcome.skipped,
        status_code: outcome.status_code,
        latency_ms: outcome.latency_ms,
        error: outcome.error,
    })
}

#[server(prefix = "/rpc", endpoint = "email_integration")]
pub async fn email_integration() -> Result<EmailStatus, AppError> {
    let (s, _) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let from = s.outbox.smtp.as_ref().map(|smtp| smtp.from.to_string());
    Ok(EmailStatus { configured: from.is_some(), from })
}

/// Sends a test email to the calling manager now.
#[server(prefix = "/rpc", endpoint = "test_email_integration")]
pub async fn test_email_integration() -> Result<EmailTestResult, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in_manager().await?;
    let result = super::integrations_store::test_email(&s.outbox, &user.email, &user.name).await?;
    Ok(EmailTestResult { to: user.email, error: result.err() })
}

/// The signed-in user's email choices (all on until they change them).
#[server(prefix = "/rpc", endpoint = "my_email_preferences")]
pub async fn my_email_preferences() -> Result<EmailPreferences, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    super::integrations_store::email_preferences(&s.db, user.id).await
}

/// The "Email me about" form: a ticked box arrives as `on`, an unticked one not at all.
#[server(prefix = "/rpc", endpoint = "save_my_email_preferences")]
pub async fn save_my_email_preferences(
    #[server(default)] tickets: Option<String>,
    #[server(default)] sla: Option<String>,
    #[server(default)] bookings: Option<String>,
    #[server(default)] features: Option<String>,
) -> Result<EmailPreferences, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    let on = |v: &Option<String>| matches!(v.as_deref(), Some("on" | "true" | "1"));
    let prefs =
        EmailPreferences { tickets: on(&tickets), sla: on(&sla), bookings: on(&bookings), features: on(&features) };
    super::integrations_store::save_email_preferences(&s.db, user.id, prefs).await
}

/// The label of an event kind, or the kind itself.
fn event_label(kind: &str) -> String {
    WEBHOOK_EVENTS
        .iter()
        .chain(DISCORD_EVENTS)
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| label.to_string())
        .unwrap_or_else(|| if kind == super::integrations::TEST_EVENT { "Test".into() } else { kind.to_string() })
}

/// The actions of the webhook list, made once by the page.
#[derive(Clone, Copy)]
struct WebhookActions {
    add: ServerAction<AddWebhook>,
    switch: ServerAction<SwitchWebhook>,
    remove: ServerAction<RemoveWebhook>,
    test: ServerAction<TestWebhook>,
    /// The webhook whose "Delete" was pressed and awaits confirmation.
    confirming: RwSignal<Option<i64>>,
    /// The webhook the last "Send test" was for.
    tested: RwSignal<Option<i64>>,
    /// The webhook whose deletion was cancelled: its "Delete" takes the focus back.
    refocus: RwSignal<Option<i64>>,
}

/// Moves the keyboard focus to `el` unless it is already on something (a live refresh must not take it away).
fn focus_if_idle(el: &leptos::web_sys::HtmlElement) {
    #[cfg(feature = "hydrate")]
    {
        let idle = document().active_element().is_none_or(|a| a.tag_name().eq_ignore_ascii_case("body"));
        if idle {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = el;
}

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let deliveries = crate::live::use_live().deliveries;
    let actions = WebhookActions {
        add: ServerAction::new(),
        switch: ServerAction::new(),
        remove: ServerAction::new(),
        test: ServerAction::new(),
        confirming: RwSignal::new(None),
        tested: RwSignal::new(None),
        refocus: RwSignal::new(None),
    };
    // The list and every log follow each delivery attempt live, and each change made here.
    let webhooks = Resource::new(
        move || {
            (
                deliveries.get(),
                actions.add.version().get(),
                actions.switch.version().get(),
                actions.remove.version().get(),
                actions.test.version().get(),
            )
        },
        |_| integration_webhooks(),
    );

    let save_discord = ServerAction::<SaveDiscordIntegration>::new();
    let test_discord = ServerAction::<TestDiscordIntegration>::new();
    // The Discord form is reloaded after a successful save only: a refused one keeps what was typed.
    let discord_saves = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save_discord.value().get() {
            discord_saves.update(|n| *n += 1);
        }
    });
    let discord = Resource::new(move || discord_saves.get(), |_| discord_integration());
    let discord_deliveries =
        Resource::new(move || (discord_saves.get(), test_discord.version().get()), |_| discord_log());

    let email = Resource::new(|| (), |_| email_integration());
    let test_email = ServerAction::<TestEmailIntegration>::new();

    view! {
        <Title text="Integrations"/>
        <section class="page">
            <h1>"Integrations"</h1>
            <RequireUser manager=true>
                <p class="muted">
                    "Tell other systems what happens in Supportal: signed webhooks, a Discord channel and email.                      Targets and hours are on the "
                    <A href="/admin/sla">"SLA settings"</A>
                    " page."
                </p>
                <WebhooksSection webhooks actions/>
                <DiscordSection settings=discord log=discord_deliveries save=save_discord test=test_discord/>
                <EmailSection status=email test=test_email/>
            </RequireUser>
        </section>
    }
}

/// What each webhook request carries, for whoever writes the receiver.
#[component]
fn SigningHelp() -> impl IntoView {
    view! {
        <ul class="signing-help">
            <li>
                <code>"X-Supportal-Signature: t=<unix>,v1=<hex>"</code>
                " — " <code>"v1"</code> " is the hex HMAC-SHA256 of " <code>"\"<t>.<body>\""</code>
                " keyed with the secret; compare it in constant time and refuse old " <code>"t"</code> " values."
            </li>
            <li><code>"X-Supportal-Event"</code> " — the event, e.g. " <code>"ticket.created"</code> " or " <code>"ping"</code> "."</li>
            <li><code>"X-Supportal-Delivery"</code> " — the delivery's id: the same on every retry, so you can drop repeats."</li>
        </ul>
    }
}

#[component]
fn WebhooksSection(webhooks: Resource<Result<Vec<WebhookLog>, AppError>>, actions: WebhookActions) -> impl IntoView {
    let switch_error = action_error(actions.switch);
    let remove_error = action_error(actions.remove);
    let test_error = action_error(actions.test);
    view! {
        <section class="panel" aria-labelledby="webhooks-heading" data-testid="webhooks">
            <h2 id="webhooks-heading">"Outgoing webhooks"</h2>
            <p class="hint">
                "Supportal POSTs a JSON body to each URL when one of its events happens, signed with the webhook's \
                 secret. A failed delivery is tried again with growing pauses; after "
                {super::integrations::DISABLE_AFTER_FAILURES}
                " failures in a row the webhook is switched off."
            </p>
            <FormError error=switch_error/>
            <FormError error=remove_error/>
            <FormError error=test_error/>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading webhooks…"</p> }>
                {move || webhooks.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No webhooks yet">
                            <p>"Add one below to have Supportal tell another system about new tickets, SLA alerts, calls and feature news."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="webhook-list" data-testid="webhook-list">
                            {list.into_iter().map(|item| view! { <WebhookCard item actions/> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
            <AddWebhookForm add=actions.add/>
        </section>
    }
}

#[component]
fn WebhookCard(item: WebhookLog, actions: WebhookActions) -> impl IntoView {
    let WebhookLog { webhook, deliveries } = item;
    let id = webhook.id;
    let active = webhook.active;
    let heading = format!("webhook-{id}-heading");
    let events = webhook.events.iter().map(|e| event_label(e)).collect::<Vec<_>>().join(", ");
    let busy = move |pending: Memo<bool>, input: Signal<Option<i64>>| {
        Signal::derive(move || pending.get() && input.get() == Some(id))
    };
    let testing = busy(actions.test.pending(), Signal::derive(move || actions.tested.get()));
    let switching =
        busy(actions.switch.pending(), Signal::derive(move || actions.switch.input().get().map(|input| input.id)));
    let removing =
        busy(actions.remove.pending(), Signal::derive(move || actions.remove.input().get().map(|input| input.id)));
    // Busy buttons stay enabled (a disabled button would drop the keyboard focus); a second press is ignored.
    let send_test = move |_| {
        if testing.get_untracked() {
            return;
        }
        actions.tested.set(Some(id));
        actions.test.dispatch(TestWebhook { id });
    };
    let switch = move |_| {
        if !switching.get_untracked() {
            actions.switch.dispatch(SwitchWebhook { id, active: !active });
        }
    };
    let test_note = move || {
        (actions.tested.get() == Some(id)).then(|| match actions.test.value().get() {
            _ if actions.test.pending().get() => "Queuing a test…".to_string(),
            Some(Ok(_)) => "Test queued: its result appears in the log below.".to_string(),
            Some(Err(e)) => e.message,
            None => String::new(),
        })
    };
    let log_label = format!("Delivery log of {}", webhook.url);
    view! {
        <li class="webhook-card" data-testid="webhook" data-webhook-id=id>
            <div class="webhook-head">
                <h3 id=heading class="webhook-url" data-testid="webhook-url">{webhook.url.clone()}</h3>
                {if active {
                    view! { <span class="badge webhook-on" data-testid="webhook-state">"Active"</span> }.into_any()
                } else {
                    view! { <span class="badge webhook-off" data-testid="webhook-state">"Switched off"</span> }.into_any()
                }}
            </div>
            {webhook.description.clone().map(|d| view! { <p class="webhook-description">{d}</p> })}
            {(!active).then(|| webhook.disabled_reason.clone().map(|reason| view! {
                <p class="webhook-reason" data-testid="webhook-reason">{reason}</p>
            }))}
            <dl class="webhook-facts">
                <dt>"Events"</dt>
                <dd data-testid="webhook-events">{events}</dd>
                <dt>"Delivered"</dt>
                <dd data-testid="webhook-counts">{format!("{} of {}", webhook.delivered, webhook.deliveries)}</dd>
                <dt>"Failures in a row"</dt>
                <dd data-testid="webhook-failures">{webhook.consecutive_failures}</dd>
            </dl>
            <div class="actions webhook-actions">
                <button type="button" class="button small" on:click=send_test
                    disabled=!active
                    aria-busy=move || testing.get().to_string()
                    title=(!active).then_some("Switch the webhook on to send a test")>
                    "Send test"
                </button>
                <button type="button" class="button small" on:click=switch
                    aria-busy=move || switching.get().to_string()>
                    {if active { "Switch off" } else { "Switch on" }}
                </button>
                {move || if actions.confirming.get() == Some(id) {
                    // The confirmation takes the place of "Delete": the keyboard focus moves to its safe choice.
                    let cancel = NodeRef::<leptos::html::Button>::new();
                    cancel.on_load(|el| focus_if_idle(&el));
                    view! {
                        <span class="confirm-delete" role="group" aria-label="Confirm deletion">
                            <span>"Delete this webhook and its log?"</span>
                            <button type="button" class="button small danger"
                                on:click=move |_| {
                                    if !removing.get_untracked() {
                                        actions.confirming.set(None);
                                        actions.remove.dispatch(RemoveWebhook { id });
                                    }
                                }>
                                "Yes, delete"
                            </button>
                            <button type="button" class="button small" node_ref=cancel
                                on:click=move |_| {
                                    actions.refocus.set(Some(id));
                                    actions.confirming.set(None);
                                }>
                                "Cancel"
                            </button>
                        </span>
                    }.into_any()
                } else {
                    // Back from "Cancel": the focus returns to "Delete".
                    let delete = NodeRef::<leptos::html::Button>::new();
                    delete.on_load(move |el| {
                        if actions.refocus.get_untracked() == Some(id) {
                            actions.refocus.set(None);
                            focus_if_idle(&el);
                        }
                    });
                    view! {
                        <button type="button" class="button small danger" node_ref=delete
                            aria-busy=move || removing.get().to_string()
                            on:click=move |_| actions.confirming.set(Some(id))>
                            {move || if removing.get() { "Deleting…" } else { "Delete" }}
                        </button>
                    }.into_any()
                }}
            </div>
            <p class="status" role="status" data-testid="webhook-test-status">{test_note}</p>
            <h4 class="log-heading">"Delivery log"</h4>
            <DeliveryLog deliveries label=log_label/>
        </li>
    }
}

/// The newest deliveries first, as a table that scrolls sideways on its own on narrow screens.
#[component]
fn DeliveryLog(deliveries: Vec<Delivery>, label: String) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="muted empty-log" data-testid="delivery-empty">"No deliveries yet."</p> }.into_any();
    }
    let dash = || "—".to_string();
    view! {
        <div class="table-scroll delivery-scroll" tabindex="0" role="region" aria-label=label>
            <table class="delivery-log" data-testid="delivery-log">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"HTTP"</th>
                        <th scope="col">"Latency (ms)"</th>
                        <th scope="col">"Error"</th>
                        <th scope="col">"Next retry"</th>
                    </tr>
                </thead>
                <tbody>
                    {deliveries.into_iter().map(|d| view! {
                        <tr data-testid="delivery" data-status=d.status.clone()>
                            <td><When epoch=d.created_at/></td>
                            <td><span title=d.event_id.clone()>{event_label(&d.event)}</span> " " <code class="muted">{d.event.clone()}</code></td>
                            <td><span class=format!("badge delivery-{}", d.status) data-testid="delivery-status">{d.status.clone()}</span></td>
                            <td>{d.attempts}</td>
                            <td data-testid="delivery-http">{d.status_code.map(|c| c.to_string()).unwrap_or_else(dash)}</td>
                            <td data-testid="delivery-latency">{d.latency_ms.map(|ms| ms.to_string()).unwrap_or_else(dash)}</td>
                            <td class="delivery-error">{d.error.clone().unwrap_or_default()}</td>
                            <td>{match d.next_attempt_at {
                                Some(at) => view! { <When epoch=at/> }.into_any(),
                                None => dash().into_any(),
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Ticks for the events of a list; `chosen` start ticked.
#[component]
fn EventChoices(
    id: &'static str,
    events: &'static [(&'static str, &'static str)],
    chosen: Vec<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let described = error_id.clone();
    view! {
        <fieldset class="event-choices" class:has-error=move || error.get().is_some() id=id
            aria-describedby=described>
            <legend>"Events"</legend>
            <div class="event-grid">
                {events.iter().map(|(kind, label)| view! {
                    <label class="event-option">
                        <input type="checkbox" name="events[]" value=*kind checked=chosen.iter().any(|c| c == kind)/>
                        <span>{*label}</span>
                        <code class="muted">{*kind}</code>
                    </label>
                }).collect_view()}
            </div>
            <p class="field-error" id=error_id aria-live="polite">{move || error.get()}</p>
        </fieldset>
    }
}

#[component]
fn AddWebhookForm(add: ServerAction<AddWebhook>) -> impl IntoView {
    let error = action_error(add);
    let form = NodeRef::<leptos::html::Form>::new();
    let dismissed = RwSignal::new(false);
    // A webhook was added: empty the form for the next one and show its secret.
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            dismissed.set(false);
        }
    });
    view! {
        <div class="add-webhook" data-testid="add-webhook">
            <h3 id="add-webhook-heading">"Add webhook"</h3>
            <ActionForm action=add node_ref=form attr:class="stack" attr:novalidate=true attr:aria-labelledby="add-webhook-heading">
                <FormError error/>
                <Field name="url" id_prefix="webhook-" label="URL" kind="url" required=true maxlength=2000
                    autocomplete="off" hint="Where to POST the events: an http:// or https:// address."
                    error=field_error(error, "url")/>
                <EventChoices id="webhook-events" events=WEBHOOK_EVENTS chosen=vec![] error=field_error(error, "events")/>
                <Field name="description" id_prefix="webhook-" label="Description (optional)" maxlength=200
                    autocomplete="off" hint="What receives it, e.g. “CRM sync”."
                    error=field_error(error, "description")/>
                <Field name="secret" id_prefix="webhook-" label="Signing secret (optional)" maxlength=200
                    autocomplete="off" hint="Leave empty to get a strong one made for you; otherwise 16 to 200 characters without spaces."
                    error=field_error(error, "secret")/>
                <div class="actions">
                    <SubmitButton label="Add webhook" busy_label="Adding…" pending=add.pending()/>
                </div>
            </ActionForm>
            {move || add.value().get().and_then(Result::ok).filter(|_| !dismissed.get()).map(|created| view! {
                <div class="callout secret-box" role="status" data-testid="webhook-secret-box">
                    <p><strong>"Copy this secret now; it will not be shown again."</strong></p>
                    <p class="muted">"Webhook added for " <code>{created.webhook.url.clone()}</code> "."</p>
                    <code class="token" data-testid="webhook-secret">{created.secret.clone()}</code>
                    <p>"Each request carries these headers:"</p>
                    <SigningHelp/>
                    <button type="button" class="button small" on:click=move |_| dismissed.set(true)>
                        "I have copied it"
                    </button>
                </div>
            })}
        </div>
    }
}

#[component]
fn DiscordSection(
    settings: Resource<Result<DiscordSettings, AppError>>,
    log: Resource<Result<Vec<Delivery>, AppError>>,
    save: ServerAction<SaveDiscordIntegration>,
    test: ServerAction<TestDiscordIntegration>,
) -> impl IntoView {
    let error = action_error(save);
    let url_error = field_error(error, "url");
    let events_error = field_error(error, "events");
    // Saved: the typed URL is now the masked one above, and the field is blank again ("keep it").
    let url_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            if let Some(input) = url_input.get_untracked() {
                input.set_value("");
            }
        }
    });
    let saved = move || save.value().get().and_then(Result::ok).map(|_| "Saved.");
    let test_result = move || {
        if test.pending().get() {
            return Some("Sending a test message…".to_string());
        }
        test.value().get().map(|result| match result {
            Ok(r) if r.ok => match r.status_code {
                Some(code) => format!("Delivered: HTTP {code} in {} ms.", r.latency_ms),
                None => format!("Delivered in {} ms.", r.latency_ms),
            },
            Ok(r) => {
                let why = r.error.unwrap_or_else(|| "The message was not delivered.".into());
                match r.status_code {
                    Some(code) => format!("Failed: {why} (HTTP {code}, {} ms)", r.latency_ms),
                    None => format!("Failed: {why}"),
                }
            }
            Err(e) => e.field("url").map(str::to_string).unwrap_or(e.message),
        })
    };
    view! {
        <section class="panel" aria-labelledby="discord-heading" data-testid="discord">
            <h2 id="discord-heading">"Discord"</h2>
            <p class="hint">
                "Posts to one channel through a Discord channel webhook (in Discord: channel settings, Integrations, \
                 Webhooks). New tickets are posted only when they are P1."
            </p>
            <p>
                "Customers can also use Discord as a way in (slash commands, linked accounts): "
                <A href="/admin/discord">"set up Discord commands"</A> "."
            </p>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading Discord settings…"</p> }>
                {move || settings.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(current) => {
                        let saved_events = current.events.clone();
                        let has_url = current.url_masked.is_some();
                        let remove = move |_| {
                            save.dispatch(SaveDiscordIntegration {
                                url: String::new(),
                                events: saved_events.clone(),
                                remove: true,
                            });
                        };
                        view! {
                            <p data-testid="discord-current">
                                {match current.url_masked {
                                    Some(masked) => view! { "Current URL: " <code data-testid="discord-masked">{masked}</code> }.into_any(),
                                    None => view! { "No Discord webhook saved yet." }.into_any(),
                                }}
                            </p>
                            <ActionForm action=save attr:class="stack" attr:novalidate=true attr:aria-label="Discord settings">
                                <FormError error/>
                                <div class="field" class:has-error=move || url_error.get().is_some()>
                                    <label for="discord-url">{if has_url { "New webhook URL" } else { "Webhook URL" }}</label>
                                    <p class="hint" id="discord-url-hint">
                                        {if has_url { "Leave blank to keep the saved one." } else { "https://discord.com/api/webhooks/…" }}
                                    </p>
                                    <input id="discord-url" name="url" type="url" autocomplete="off" maxlength="2000" node_ref=url_input
                                        aria-invalid=move || url_error.get().is_some().to_string()
                                        aria-describedby=move || if url_error.get().is_some() { "discord-url-hint discord-url-error" } else { "discord-url-hint" }/>
                                    <p class="field-error" id="discord-url-error" aria-live="polite">{move || url_error.get()}</p>
                                </div>
                                <EventChoices id="discord-events" events=DISCORD_EVENTS chosen=current.events error=events_error/>
                                <div class="actions">
                                    <SubmitButton label="Save Discord settings" busy_label="Saving…" pending=save.pending()/>
                                    {has_url.then(|| view! {
                                        <button type="button" class="button danger" on:click=remove disabled=move || save.pending().get()>
                                            "Remove URL"
                                        </button>
                                    })}
                                    <p class="status" role="status" data-testid="discord-status">{saved}</p>
                                </div>
                            </ActionForm>
                        }.into_any()
                    }
                })}
            </Transition>
            <div class="actions">
                <button type="button" class="button" disabled=move || test.pending().get()
                    aria-busy=move || test.pending().get().to_string()
                    on:click=move |_| { test.dispatch(TestDiscordIntegration {}); }>
                    "Send test message"
                </button>
                <p class="test-result" role="status" data-testid="discord-test-result">{test_result}</p>
            </div>
            <h3>"Delivery log"</h3>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading the log…"</p> }>
                {move || log.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(deliveries) => view! { <DeliveryLog deliveries label="Discord delivery log".to_string()/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EmailSection(
    status: Resource<Result<EmailStatus, AppError>>,
    test: ServerAction<TestEmailIntegration>,
) -> impl IntoView {
    let result = move || {
        if test.pending().get() {
            return Some("Sending…".to_string());
        }
        test.value().get().map(|r| match r {
            Ok(EmailTestResult { to, error: None }) => format!("Sent to {to}. Check that inbox."),
            Ok(EmailTestResult { error: Some(why), .. }) => format!("Not sent: {why}"),
            Err(e) => e.message,
        })
    };
    view! {
        <section class="panel" aria-labelledby="email-heading" data-testid="email">
            <h2 id="email-heading">"Email"</h2>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Checking email…"</p> }>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(EmailStatus { configured: true, from }) => view! {
                        <p data-testid="smtp-state">
                            <span class="badge webhook-on">"SMTP configured"</span>
                            " Emails come from " <code>{from.unwrap_or_default()}</code> "."
                        </p>
                    }.into_any(),
                    Ok(_) => view! {
                        <p data-testid="smtp-state">
                            <span class="badge webhook-off">"SMTP not configured"</span>
                            " No email is sent until the server is started with " <code>"SMTP_URL"</code>
                            " (and " <code>"SMTP_FROM"</code> ")."
                        </p>
                    }.into_any(),
                })}
            </Transition>
            <p class="hint">"Everyone chooses which emails they get on their " <A href="/notifications">"Notifications"</A> " page."</p>
            <div class="actions">
                <button type="button" class="button" disabled=move || test.pending().get()
                    aria-busy=move || test.pending().get().to_string()
                    on:click=move |_| { test.dispatch(TestEmailIntegration {}); }>
                    "Send me a test email"
                </button>
                <p class="test-result" role="status" data-testid="email-test-result">{result}</p>
            </div>
        </section>
    }
}

/// One "Email me about" choice.
#[component]
fn PreferenceBox(name: &'static str, label: &'static str, hint: &'static str, checked: bool) -> impl IntoView {
    let id = format!("pref-{name}");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="pref-option">
            <input id=id.clone() type="checkbox" name=name value="on" checked=checked aria-describedby=hint_id.clone()/>
            <div>
                <label for=id>{label}</label>
                <p class="hint" id=hint_id>{hint}</p>
            </div>
        </div>
    }
}

/// "Email me about": the signed-in user's email choices. The page makes `prefs` and `save` outside its
/// `RequireUser` and passes them in.
#[component]
pub fn EmailPreferencesForm(
    prefs: Resource<Result<EmailPreferences, AppError>>,
    save: ServerAction<SaveMyEmailPreferences>,
) -> impl IntoView {
    let error = action_error(save);
    let saved = move || save.value().get().and_then(Result::ok).map(|_| "Saved.");
    view! {
        <section class="panel email-prefs" aria-labelledby="email-prefs-heading" data-testid="email-preferences">
            <h2 id="email-prefs-heading">"Email me about"</h2>
            <p class="hint">"The bell shows everything either way; these choose what also reaches your inbox."</p>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading your choices…"</p> }>
                {move || prefs.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(p) => view! {
                        <ActionForm action=save attr:class="stack" attr:aria-labelledby="email-prefs-heading">
                            <FormError error/>
                            <PreferenceBox name="tickets" label="Tickets" hint="Replies, status changes and escalations." checked=p.tickets/>
                            <PreferenceBox name="sla" label="SLA alerts" hint="Tickets at risk of missing a target, and breaches (they matter most to staff)." checked=p.sla/>
                            <PreferenceBox name="bookings" label="Calls" hint="Bookings and reminders, with the calendar invitation." checked=p.bookings/>
                            <PreferenceBox name="features" label="Feature requests" hint="Status changes of requests you posted or voted for." checked=p.features/>
                            <div class="actions">
                                <SubmitButton label="Save email choices" busy_label="Saving…" pending=save.pending()/>
                                <p class="status" role="status" data-testid="email-prefs-status">{saved}</p>
                            </div>
                        </ActionForm>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_labels() {
        assert_eq!(event_label("ticket.created"), "New ticket");
        assert_eq!(event_label("ticket.new_p1"), "New P1 ticket");
        assert_eq!(event_label("ping"), "Test");
        assert_eq!(event_label("something.else"), "something.else");
    }
}
