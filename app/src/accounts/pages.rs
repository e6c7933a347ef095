//! Account pages: sign in, register, the account page with API tokens, and the
//! managers' user list.

use super::server_fns::{CreateToken, CreateUser, RevokeToken, UpdateUser};
use super::{Level, Role, Tier, User};
use crate::layout::{use_auth, RequireUser};
use crate::ui::{action_error, described_by, field_error, EmptyState, Field, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Where to go after signing in: a local path from `?next=`, else home.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\')).unwrap_or_else(|| "/".to_string())
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let error = action_error(auth.sign_in);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = auth.sign_in.value().get() {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            navigate(&next, Default::default());
        }
    });
    let show_password = RwSignal::new(false);
    view! {
        <Title text="Sign in"/>
        <section class="page narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=auth.sign_in attr:class="stack" attr:novalidate=true>
                <FormError error/>
                <Field name="email" label="Email" kind="email" autocomplete="email" required=true error=field_error(error, "email")/>
                <PasswordField show=show_password autocomplete="current-password" error=field_error(error, "password")/>
                <SubmitButton label="Sign in" busy_label="Signing in…" pending=auth.sign_in.pending()/>
            </ActionForm>
            <p><A href="/forgot-password">"Forgot your password?"</A></p>
            <p>"New here? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}

/// A password input with a show/hide button; `name` is also its id.
#[component]
pub(super) fn PasswordField(
    show: RwSignal<bool>,
    autocomplete: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(default = "password")] name: &'static str,
    #[prop(default = "Password")] label: &'static str,
) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described = described_by(name, hint.is_some(), error);
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=name>{label}<span class="required" aria-hidden="true">" *"</span></label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <div class="password-row">
                <input
                    id=name
                    name=name
                    type=move || if show.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    required=true
                    maxlength="128"
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=described
                />
                <button
                    type="button"
                    class="button small"
                    data-testid=format!("toggle-{name}")
                    aria-pressed=move || show.get().to_string()
                    on:click=move |_| show.update(|s| *s = !*s)
                >
                    {move || if show.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            <p class="field-error" id=error_id.clone() aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let error = action_error(auth.register);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = auth.register.value().get() {
            navigate("/", Default::default());
        }
    });
    let show_password = RwSignal::new(false);
    view! {
        <Title text="Create an account"/>
        <section class="page narrow">
            <h1>"Create an account"</h1>
            <p>"New accounts start on the General plan; your account manager can upgrade you to Platinum."</p>
            <ActionForm action=auth.register attr:class="stack" attr:novalidate=true>
                <FormError error/>
                <Field name="name" label="Your name" autocomplete="name" required=true maxlength=100 error=field_error(error, "name")/>
                <Field name="email" label="Email" kind="email" autocomplete="email" required=true error=field_error(error, "email")/>
                <PasswordField
                    show=show_password
                    autocomplete="new-password"
                    hint="At least 10 characters. A few unrelated words make a strong one."
                    error=field_error(error, "password")
                />
                <SubmitButton label="Create account" busy_label="Creating account…" pending=auth.register.pending()/>
            </ActionForm>
            <p>"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account"/>
        <section class="page">
            <h1>"Your account"</h1>
            <RequireUser>
                <Profile/>
                <super::security_pages::AccountSecurity/>
                <crate::discord::pages::DiscordAccount/>
                <Tokens/>
            </RequireUser>
        </section>
    }
}

#[component]
fn Profile() -> impl IntoView {
    let user = expect_context::<User>();
    let plan = match (user.role, user.tier) {
        (Role::Customer, Some(tier)) => format!("Customer, {tier} plan"),
        (role, _) => match user.level {
            Some(level) => format!("{role}, level {level}{}", if user.takes_calls { ", takes calls" } else { "" }),
            None => role.to_string(),
        },
    };
    view! {
        <dl class="profile">
            <dt>"Name"</dt><dd>{user.name.clone()}</dd>
            <dt>"Email"</dt><dd>{user.email.clone()}</dd>
            <dt>"Role"</dt><dd data-testid="profile-role">{plan}</dd>
        </dl>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens =
        Resource::new(move || (create.version().get(), revoke.version().get()), |_| super::server_fns::list_tokens());
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    view! {
        <section aria-labelledby="tokens-heading" class="panel">
            <h2 id="tokens-heading">"Personal API tokens"</h2>
            <p class="hint">"Use a token as " <code>"Authorization: Bearer …"</code> " with the REST API under /api/v1. It acts as you, with your role."</p>
            <ActionForm action=create attr:class="inline-fields" attr:novalidate=true>
                <Field name="label" label="Label" hint="What will use this token, e.g. “CI script”." required=true maxlength=60 error=field_error(error, "label")/>
                <div class="field" class:has-error=move || field_error(error, "expires_in_days").get().is_some()>
                    <label for="expires_in_days">"Expires"</label>
                    <select id="expires_in_days" name="expires_in_days" aria-describedby="expires_in_days-error">
                        <option value="">"Never (until revoked)"</option>
                        <option value="7">"In 7 days"</option>
                        <option value="30" selected=true>"In 30 days"</option>
                        <option value="90">"In 90 days"</option>
                        <option value="365">"In a year"</option>
                    </select>
                    <p class="field-error" id="expires_in_days-error" aria-live="polite">{move || field_error(error, "expires_in_days").get()}</p>
                </div>
                <SubmitButton label="Create token" busy_label="Creating…" pending=create.pending()/>
            </ActionForm>
            <FormError error/>
            {move || create.value().get().and_then(Result::ok).map(|new| view! {
                <div class="callout success" role="status" data-testid="new-token">
                    <p><strong>"Copy your new token now. "</strong>"It will not be shown again."</p>
                    <code class="token">{new.token}</code>
                </div>
            })}
            <FormError error=revoke_error/>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading tokens…"</p> }>
                {move || tokens.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No tokens yet">
                            <p>"Create one above to call the API from a script or another tool."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="token-list" data-testid="token-list">
                            {list.into_iter().map(|t| view! {
                                <li>
                                    <span class="token-label">{t.label}</span>
                                    <code>{format!("{}…", t.prefix)}</code>
                                    <span class="muted">"created " {t.created_at}</span>
                                    <span class="muted">{t.last_used_at.map(|u| format!("last used {u}")).unwrap_or_else(|| "never used".into())}</span>
                                    <span class="muted" data-testid="token-expiry">{t.expires_at.map(|e| format!("expires {e}")).unwrap_or_else(|| "does not expire".into())}</span>
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="id" value=t.id/>
                                        <button type="submit" class="button small danger">"Revoke"</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users"/>
        <section class="page">
            <h1>"Users and roles"</h1>
            <RequireUser manager=true>
                <UserAdmin/>
            </RequireUser>
        </section>
    }
}

#[component]
fn UserAdmin() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let query = RwSignal::new(String::new());
    let users = Resource::new(move || (query.get(), create.version().get()), |(q, _)| super::server_fns::list_users(q));
    let error = action_error(create);
    view! {
        <details class="panel">
            <summary>"Add a user"</summary>
            <ActionForm action=create attr:class="stack" attr:novalidate=true>
                <FormError error/>
                <Field id_prefix="new-" name="name" label="Name" required=true maxlength=100 error=field_error(error, "name")/>
                <Field id_prefix="new-" name="email" label="Email" kind="email" required=true error=field_error(error, "email")/>
                <Field id_prefix="new-" name="password" label="Initial password" kind="password" autocomplete="new-password" hint="At least 10 characters; ask them to change it." required=true error=field_error(error, "password")/>
                <ProfileFields id_prefix="new-".to_string() role=Role::Agent tier=None level=Some(Level::L1) takes_calls=false error/>
                <SubmitButton label="Add user" busy_label="Adding…" pending=create.pending()/>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|u| view! {
                <p class="callout success" role="status">{format!("Added {} ({}).", u.name, u.email)}</p>
            })}
        </details>
        <div class="field search">
            <label for="user-search">"Search users"</label>
            <input id="user-search" type="search" placeholder="Name or email"
                on:input=move |ev| query.set(event_target_value(&ev))/>
        </div>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading users…"</p> }>
            {move || users.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState title="No users match"><p>"Try another name or email."</p></EmptyState>
                }.into_any(),
                Ok(list) => view! {
                    <ul class="user-list" data-testid="user-list">
                        {list.into_iter().map(|u| view! { <UserRow user=u/> }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn UserRow(user: User) -> impl IntoView {
    let update = ServerAction::<UpdateUser>::new();
    let error = action_error(update);
    let prefix = format!("u{}-", user.id);
    let saved = move || update.value().get().and_then(Result::ok);
    view! {
        <li class="user-row" data-testid=format!("user-{}", user.email)>
            <div class="user-ident">
                <strong>{user.name.clone()}</strong>
                <span class="muted">{user.email.clone()}</span>
            </div>
            <ActionForm action=update attr:class="inline-fields">
                <input type="hidden" name="id" value=user.id/>
                <ProfileFields id_prefix=prefix role=user.role tier=user.tier level=user.level takes_calls=user.takes_calls error/>
                <SubmitButton label="Save" busy_label="Saving…" pending=update.pending()/>
                <p class="status" role="status">{move || saved().map(|_| "Saved.")}</p>
            </ActionForm>
            <FormError error/>
        </li>
    }
}

/// Role, tier, level and call duty, showing only the fields that fit the role.
#[component]
fn ProfileFields(
    id_prefix: String,
    role: Role,
    tier: Option<Tier>,
    level: Option<Level>,
    takes_calls: bool,
    #[prop(into)] error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let role_now = RwSignal::new(role);
    let id = move |field: &str| format!("{id_prefix}{field}");
    let (role_id, tier_id, level_id, calls_id) = (id("role"), id("tier"), id("level"), id("calls"));
    let role_error = field_error(error, "role");
    let tier_error = field_error(error, "tier");
    let level_error = field_error(error, "level");
    let calls_error = field_error(error, "takes_calls");
    view! {
        <div class="field">
            <label for=role_id.clone()>"Role"</label>
            <select id=role_id name="role" on:change=move |ev| {
                if let Ok(r) = event_target_value(&ev).parse() { role_now.set(r) }
            }>
                {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == role>{r.as_str()}</option> }).collect_view()}
            </select>
            <p class="field-error" aria-live="polite">{move || role_error.get()}</p>
        </div>
        {move || (role_now.get() == Role::Customer).then(|| view! {
            <div class="field">
                <label for=tier_id.clone()>"Tier"</label>
                <select id=tier_id.clone() name="tier">
                    {Tier::ALL.iter().map(|t| view! { <option value=t.as_str() selected=Some(*t) == tier.or(Some(Tier::General))>{t.as_str()}</option> }).collect_view()}
                </select>
                <p class="field-error" aria-live="polite">{move || tier_error.get()}</p>
            </div>
        })}
        {move || (role_now.get() == Role::Agent).then(|| view! {
            <div class="field">
                <label for=level_id.clone()>"Level"</label>
                <select id=level_id.clone() name="level">
                    {Level::AGENT.iter().map(|l| view! { <option value=l.as_str() selected=Some(*l) == level.or(Some(Level::L1))>{l.as_str()}</option> }).collect_view()}
                </select>
                <p class="field-error" aria-live="polite">{move || level_error.get()}</p>
            </div>
        })}
        {move || matches!(role_now.get(), Role::Agent | Role::Manager).then(|| view! {
            <div class="field checkbox">
                <input type="checkbox" id=calls_id.clone() name="takes_calls" value="on" checked=takes_calls/>
                <label for=calls_id.clone()>"Takes calls"</label>
                <p class="field-error" aria-live="polite">{move || calls_error.get()}</p>
            </div>
        })}
    }
}
