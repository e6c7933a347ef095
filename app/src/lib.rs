//! Supportal: the Leptos app (components, routes, server functions) and the
//! domain rules shared by the server and the browser.

#![recursion_limit = "256"]

mod text_enum;

pub mod accounts;
pub mod booking;
pub mod discord;
pub mod error;
pub mod features;
pub mod home;
pub mod kb;
pub mod layout;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod presence;
pub mod settings;
pub mod sla;
pub mod tickets;
pub mod time;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod client_address;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod outbound;
#[cfg(feature = "ssr")]
pub mod ratelimit;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod sla_store;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (rendered on the server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="description" content="Supportal: tickets, SLA clocks, calls and feature voting for your support plan."/>
                // `/pkg/supportal.<content hash>.css` (hash-files in Cargo.toml), cached for a year.
                <HashedStylesheet options=options.clone()/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Scripts run only with this response's nonce; WASM may compile; nothing frames us.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string()).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let (Some(options), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&policy))
    {
        options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    layout::provide_auth();
    live::provide_live();
    let main = NodeRef::<leptos::html::Main>::new();
    // The router would treat "#main" as a navigation; move focus ourselves.
    let skip_to_main = move |ev: leptos::ev::MouseEvent| {
        if let Some(main) = main.get() {
            ev.prevent_default();
            let _ = main.focus();
        }
    };
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Supportal".to_string() } else { format!("{page} · Supportal") }/>
        <Router>
            <a class="skip-link" href="#main" on:click=skip_to_main>"Skip to content"</a>
            <layout::Header/>
            <main id="main" tabindex="-1" node_ref=main>
                <Routes fallback=layout::NotFound>
                    <Route path=path!("/") view=home::HomePage/>
                    <Route path=path!("/signin") view=accounts::pages::SignInPage/>
                    <Route path=path!("/register") view=accounts::pages::RegisterPage/>
                    <Route path=path!("/forgot-password") view=accounts::security_pages::ForgotPasswordPage/>
                    <Route path=path!("/reset-password") view=accounts::security_pages::ResetPasswordPage/>
                    <Route path=path!("/account") view=accounts::pages::AccountPage/>
                    <Route path=path!("/admin/users") view=accounts::pages::UsersPage/>
                    <Route path=path!("/admin/sla") view=settings::SlaSettingsPage/>
                    <Route path=path!("/admin/metrics") view=metrics::pages::MetricsPage/>
                    <Route path=path!("/admin/integrations") view=notify::integrations_page::IntegrationsPage/>
                    <Route path=path!("/admin/discord") view=discord::pages::DiscordAdminPage/>
                    <Route path=path!("/discord/link") view=discord::pages::DiscordLinkPage/>
                    <Route path=path!("/notifications") view=notify::pages::NotificationsPage/>
                    <Route path=path!("/queue") view=tickets::queue_page::QueuePage/>
                    <Route path=path!("/tickets") view=tickets::pages::TicketsPage/>
                    <Route path=path!("/tickets/new") view=tickets::pages::NewTicketPage/>
                    <Route path=path!("/tickets/:id") view=tickets::ticket_page::TicketPage/>
                    <Route path=path!("/tickets/:id/survey") view=tickets::survey::SurveyPage/>
                    <Route path=path!("/features") view=features::pages::FeaturesPage/>
                    <Route path=path!("/features/new") view=features::pages::NewFeaturePage/>
                    <Route path=path!("/features/:id") view=features::pages::FeaturePage ssr=leptos_router::SsrMode::Async/>
                    <Route path=path!("/roadmap") view=features::pages::RoadmapPage/>
                    <Route path=path!("/calls") view=booking::pages::CallsPage/>
                    <Route path=path!("/calls/book") view=booking::pages::BookCallPage/>
                    <Route path=path!("/calls/:id") view=booking::pages::CallPage/>
                    <Route path=path!("/calls/:id/room") view=booking::pages::CallRoomPage/>
                    <Route path=path!("/kb") view=kb::pages::KbPage/>
                    <Route path=path!("/kb/new") view=kb::pages::NewArticlePage/>
                    // Async: the whole page waits for the article, so a missing one answers 404.
                    <Route path=path!("/kb/:slug") view=kb::pages::ArticlePage ssr=leptos_router::SsrMode::Async/>
                    <Route path=path!("/kb/:slug/edit") view=kb::pages::EditArticlePage/>
                </Routes>
            </main>
            <layout::Footer/>
        </Router>
    }
}
