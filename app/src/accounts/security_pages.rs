//! Account safety pages: change the password and sign out everywhere (on the account page), ask for a reset
//! link, and choose a new password with one.

use super::pages::PasswordField;
use super::server_fns::{ChangePassword, RequestPasswordReset, ResetPassword, SignOutEverywhere};
use crate::layout::use_auth;
use crate::ui::{action_error, field_error, Field, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

/// On the account page: a new password (the current one asked again), and signing out every browser.
#[component]
pub fn AccountSecurity() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let error = action_error(change);
    let everywhere_error = action_error(everywhere);
    let show_current = RwSignal::new(false);
    let show_new = RwSignal::new(false);
    let auth = use_auth();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = everywhere.value().get() {
            auth.user.set(Ok(None));
            navigate("/signin", Default::default());
        }
    });
    // A fresh form after a change, so the old values do not linger in the inputs.
    let form_key = move || change.version().get();
    view! {
        <section aria-labelledby="security-heading" class="panel" data-testid="account-security">
            <h2 id="security-heading">"Password and sign-ins"</h2>
            {move || change.value().get().and_then(Result::ok).map(|_| view! {
                <p class="callout success" role="status" data-testid="password-changed">
                    "Your password was changed. Every other browser was signed out; we emailed you about it."
                </p>
            })}
            {move || {
                let _ = form_key();
                view! {
                    <ActionForm action=change attr:class="stack" attr:novalidate=true attr:data-testid="change-password">
                        <FormError error/>
                        <PasswordField
                            show=show_current
                            name="current_password"
                            label="Current password"
                            autocomplete="current-password"
                            error=field_error(error, "current_password")
                        />
                        <PasswordField
                            show=show_new
                            name="new_password"
                            label="New password"
                            autocomplete="new-password"
                            hint="At least 10 characters. A few unrelated words make a strong one."
                            error=field_error(error, "new_password")
                        />
                        <SubmitButton label="Change password" busy_label="Changing…" pending=change.pending()/>
                    </ActionForm>
                }
            }}
            <h3>"Signed in elsewhere?"</h3>
            <p class="hint" id="everywhere-hint">
                "Sign out every browser and phone that is signed in to your account, this one too. "
                "API tokens keep working; revoke them below."
            </p>
            <ActionForm action=everywhere attr:class="inline-form">
                <button type="submit" class="button danger" data-testid="sign-out-everywhere"
                    aria-describedby="everywhere-hint" disabled=move || everywhere.pending().get()>
                    {move || if everywhere.pending().get() { "Signing out…" } else { "Sign out everywhere" }}
                </button>
            </ActionForm>
            <FormError error=everywhere_error/>
        </section>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let error = action_error(request);
    view! {
        <Title text="Forgot your password"/>
        <section class="page narrow">
            <h1>"Forgot your password?"</h1>
            {move || match request.value().get() {
                Some(Ok(message)) => view! {
                    <div class="callout success" role="status" data-testid="reset-requested">
                        <p>{message}</p>
                        <p>"Check your inbox (and the spam folder). " <A href="/signin">"Back to sign in"</A></p>
                    </div>
                }.into_any(),
                _ => view! {
                    <p>"Enter the email address of your account, and we will send you a link to choose a new password."</p>
                    <ActionForm action=request attr:class="stack" attr:novalidate=true>
                        <FormError error/>
                        <Field name="email" label="Email" kind="email" autocomplete="email" required=true error=field_error(error, "email")/>
                        <SubmitButton label="Send the link" busy_label="Sending…" pending=request.pending()/>
                    </ActionForm>
                    <p><A href="/signin">"Back to sign in"</A></p>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token")).unwrap_or_default();
    let usable = Resource::new(token, super::server_fns::reset_link_usable);
    let reset = ServerAction::<ResetPassword>::new();
    let error = action_error(reset);
    let show = RwSignal::new(false);
    let auth = use_auth();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(user)) = reset.value().get() {
            auth.user.set(Ok(Some(user)));
            navigate("/account", Default::default());
        }
    });
    view! {
        <Title text="Choose a new password"/>
        <section class="page narrow">
            <h1>"Choose a new password"</h1>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Checking the link…"</p> }>
                {move || usable.get().map(|result| match result {
                    Ok(true) => view! {
                        <ActionForm action=reset attr:class="stack" attr:novalidate=true>
                            <FormError error/>
                            <input type="hidden" name="token" value=token/>
                            {move || field_error(error, "token").get().map(|message| view! { <ExpiredLink message/> })}
                            <PasswordField
                                show
                                name="new_password"
                                label="New password"
                                autocomplete="new-password"
                                hint="At least 10 characters. Every browser signed in to your account will be signed out."
                                error=field_error(error, "new_password")
                            />
                            <SubmitButton label="Save and sign in" busy_label="Saving…" pending=reset.pending()/>
                        </ActionForm>
                    }.into_any(),
                    Ok(false) => view! {
                        <ExpiredLink message="This link has expired or was already used. Links work once, for 30 minutes."/>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// A reset link that can no longer be used, and the way to a new one.
#[component]
fn ExpiredLink(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="callout warning" role="alert" data-testid="reset-link-expired">
            <p>{message}</p>
            <p><A href="/forgot-password">"Ask for a new link"</A></p>
        </div>
    }
}
