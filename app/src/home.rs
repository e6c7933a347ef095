//! The home page: what the support plan promises, and where to go next by role.

use crate::accounts::{Role, Tier, User};
use crate::layout::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// First-response targets from the support plan, per tier, P1..P4.
const RESPONSE_TARGETS: [(&str, [&str; 4]); 2] = [
    ("Platinum", ["1 hour", "4 hours", "24 hours", "48 hours"]),
    ("General", ["24 hours", "24 hours", "24 hours", "48 hours"]),
];

const PRIORITIES: [(&str, &str); 4] = [
    ("P1 Critical", "Service completely down, data loss or corruption, security issue"),
    ("P2 High", "Major feature broken, performance problem, API failures"),
    ("P3 Medium", "Minor feature issue, configuration problem, user-experience issue"),
    ("P4 Low", "Feature request, documentation update, general question"),
];

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text=""/>
        <section class="page">
            {move || match auth.current() {
                Some(user) => view! { <Welcome user/> }.into_any(),
                None => view! { <Intro/> }.into_any(),
            }}
            <PlanTable/>
        </section>
    }
}

#[component]
fn Intro() -> impl IntoView {
    view! {
        <div class="hero">
            <h1>"Support that keeps its promises"</h1>
            <p class="lead">
                "Open tickets, watch their response clocks in business hours, book a call with an engineer and vote on what we build next."
            </p>
            <p class="actions">
                <A href="/signin" attr:class="button primary">"Sign in"</A>
                <A href="/register" attr:class="button">"Create an account"</A>
            </p>
        </div>
    }
}

#[component]
fn Welcome(user: User) -> impl IntoView {
    let role_line = match (user.role, user.tier) {
        (Role::Customer, Some(Tier::Platinum)) => {
            "Your Platinum plan: priority response, video calls with screen sharing and a dedicated channel."
        }
        (Role::Customer, _) => "Your General plan: email and ticket support in business hours.",
        (Role::Agent, _) => "You are on the support team.",
        (Role::Manager, _) => "You manage the support team: users, levels and call duty.",
        (Role::Admin, _) => "You administer this portal.",
    };
    let cards = match user.role {
        Role::Customer if user.tier == Some(Tier::Platinum) => vec![
            ("/tickets/new", "Open a ticket", "See when we will answer before you send it."),
            ("/tickets", "My tickets", "Follow the response clocks and the conversation live."),
            ("/calls/book", "Book a call", "Live chat or video with screen sharing, with an engineer."),
            ("/calls", "My calls", "Join, reschedule or cancel, and add them to your calendar."),
            ("/features", "Feature requests", "Vote on what we build next and follow the roadmap."),
            ("/account", "Your account", "Your details and personal API tokens."),
        ],
        Role::Customer => vec![
            ("/tickets/new", "Open a ticket", "See when we will answer before you send it."),
            ("/tickets", "My tickets", "Follow the response clocks and the conversation live."),
            ("/features", "Feature requests", "Vote on what we build next and follow the roadmap."),
            ("/account", "Your account", "Your details and personal API tokens."),
        ],
        Role::Agent => vec![
            ("/tickets", "Tickets", "Every ticket with its SLA clocks, updated live."),
            ("/calls", "Calls", "Today's calls and what is booked with you, live."),
            ("/features", "Feature requests", "Move requests through their statuses; voters are told."),
            ("/account", "Your account", "Your details and personal API tokens."),
        ],
        Role::Manager | Role::Admin => vec![
            ("/tickets", "Tickets", "Every ticket with its SLA clocks, updated live."),
            ("/calls", "Calls", "Every booked call, today's first."),
            ("/features", "Feature requests", "Statuses, duplicates to merge, and the roadmap."),
            ("/admin/users", "Users and roles", "Add agents, set levels, tiers and who takes calls."),
            ("/admin/sla", "SLA policy and holidays", "Targets per tier and priority; days support is closed."),
            ("/account", "Your account", "Personal API tokens for integrations."),
        ],
    };
    view! {
        <div class="hero">
            <h1 data-testid="welcome">"Hello, " {user.first_name().to_string()}</h1>
            <p class="lead">{role_line}</p>
        </div>
        <ul class="cards">
            {cards.into_iter().map(|(href, title, text)| view! {
                <li class="card"><A href=href><h2>{title}</h2><p>{text}</p></A></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn PlanTable() -> impl IntoView {
    view! {
        <section class="plan" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"First response targets"</h2>
            <p class="hint">"Platinum P1 and P2 run around the clock; the others count support hours (Mon–Fri 09:00–18:00, Sat 10:00–16:00 Eastern)."</p>
            <div class="table-scroll">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Priority"</th>
                            {RESPONSE_TARGETS.iter().map(|(tier, _)| view! { <th scope="col">{*tier}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {PRIORITIES.iter().enumerate().map(|(i, (name, meaning))| view! {
                            <tr>
                                <th scope="row"><span class="priority">{*name}</span><span class="meaning">{*meaning}</span></th>
                                {RESPONSE_TARGETS.iter().map(|(_, targets)| view! { <td>{targets[i]}</td> }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
