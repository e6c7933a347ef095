//! The app shell: header with role-based navigation, footer, 404, and the
//! signed-in user shared by every page.

use crate::accounts::server_fns::{Register, SignIn, SignOut};
use crate::accounts::{Role, User};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// The signed-in user and the actions that change who that is.
#[derive(Clone, Copy)]
pub struct Auth {
    /// Known from the first render: the server looks the session up once per request and hands the answer to
    /// the browser inside the page, so nothing waits for it (no suspense, no second request on load) and what
    /// a page creates under [`RequireUser`] is created once. Signing in, registering or out replaces it.
    pub user: RwSignal<Result<Option<User>, AppError>>,
    pub sign_in: ServerAction<SignIn>,
    pub register: ServerAction<Register>,
    pub sign_out: ServerAction<SignOut>,
}

impl Auth {
    /// The signed-in user, or `None`.
    pub fn current(&self) -> Option<User> {
        self.user.get().ok().flatten()
    }
}

pub fn provide_auth() {
    let sign_in = ServerAction::<SignIn>::new();
    let register = ServerAction::<Register>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let known = leptos::server::SharedValue::new(rendered_user).into_inner();
    let user = RwSignal::new(known);
    Effect::new(move |_| {
        if let Some(Ok(u)) = sign_in.value().get() {
            user.set(Ok(Some(u)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(u)) = register.value().get() {
            user.set(Ok(Some(u)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            user.set(Ok(None));
        }
    });
    provide_context(Auth { user, sign_in, register, sign_out });
}

/// On the server: who sent the request being rendered. In the browser this runs only for a page that was not
/// server-rendered (the value comes with the page otherwise), where nobody is known yet.
fn rendered_user() -> Result<Option<User>, AppError> {
    #[cfg(feature = "ssr")]
    {
        crate::accounts::server_fns::ssr::rendered_user()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Ok(None)
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

struct NavLink {
    href: &'static str,
    label: &'static str,
}

fn nav_links(user: Option<&User>) -> Vec<NavLink> {
    let link = |href, label| NavLink { href, label };
    match user.map(|u| u.role) {
        None => vec![
            link("/", "Home"),
            link("/features", "Features"),
            link("/kb", "Help"),
            link("/signin", "Sign in"),
            link("/register", "Create account"),
        ],
        Some(Role::Customer) => vec![
            link("/", "Home"),
            link("/tickets", "My tickets"),
            link("/calls", "Calls"),
            link("/features", "Features"),
            link("/roadmap", "Roadmap"),
            link("/kb", "Help"),
            link("/account", "Account"),
        ],
        Some(Role::Agent) => vec![
            link("/", "Home"),
            link("/queue", "Queue"),
            link("/tickets", "Tickets"),
            link("/calls", "Calls"),
            link("/features", "Features"),
            link("/roadmap", "Roadmap"),
            link("/kb", "Help"),
            link("/account", "Account"),
        ],
        Some(Role::Manager | Role::Admin) => vec![
            link("/", "Home"),
            link("/queue", "Queue"),
            link("/tickets", "Tickets"),
            link("/calls", "Calls"),
            link("/features", "Features"),
            link("/roadmap", "Roadmap"),
            link("/kb", "Help"),
            link("/admin/users", "Users"),
            link("/admin/sla", "SLA"),
            link("/admin/metrics", "Metrics"),
            link("/admin/integrations", "Integrations"),
            link("/account", "Account"),
        ],
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let menu_open = RwSignal::new(false);
    // Close the phone menu after navigating.
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = auth.sign_out.value().get() {
            navigate("/", Default::default());
        }
    });

    view! {
        <header class="site-header">
            <div class="header-inner">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"S"</span>
                    <span>"Supportal"</span>
                </A>
                // The bell stays outside the phone menu: the unread count is always in view.
                {move || auth.current().map(|_| view! { <crate::notify::pages::NotificationBell/> })}
                <button
                    type="button"
                    class="menu-toggle"
                    aria-controls="primary-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <span aria-hidden="true">"☰"</span>
                    <span>"Menu"</span>
                </button>
                // Choosing a link (or signing out) closes the phone menu.
                <nav id="primary-nav" aria-label="Main" class:open=move || menu_open.get() on:click=move |_| menu_open.set(false)>
                    {move || {
                        let user = auth.current();
                        let links = nav_links(user.as_ref());
                        view! {
                            <ul class="nav-links">
                                {links
                                    .into_iter()
                                    .map(|l| view! { <li><A href=l.href>{l.label}</A></li> })
                                    .collect_view()}
                            </ul>
                            {user.map(|u| view! { <UserBadge user=u/> })}
                        }
                    }}
                </nav>
            </div>
        </header>
    }
}

#[component]
fn UserBadge(user: User) -> impl IntoView {
    let auth = use_auth();
    let detail = match (user.role, user.tier, user.level) {
        (Role::Customer, Some(tier), _) => format!("{tier} customer"),
        (role, _, Some(level)) => format!("{role} · {level}"),
        (role, _, _) => role.to_string(),
    };
    view! {
        <div class="user-badge">
            <span class="user-name" data-testid="user-name">{user.name.clone()}</span>
            <span class="role-chip" data-testid="user-role">{detail}</span>
            <ActionForm action=auth.sign_out attr:class="inline-form">
                <button type="submit" class="button-link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

/// "Support open now — closes 18:00 ET" / "Support closed — opens Monday 09:00 ET", kept current.
#[component]
pub fn SupportHours() -> impl IntoView {
    let now = crate::live::use_now();
    let generation = RwSignal::new(0u32);
    let hours = Resource::new(move || generation.get(), |_| crate::tickets::server_fns::support_hours());
    // Ask again once the announced change has happened.
    Effect::new(move |_| {
        if let Some(Ok((_, Some(next)))) = hours.get() {
            if now.get() >= next {
                generation.update(|g| *g += 1);
            }
        }
    });
    view! {
        <p class="support-hours" data-testid="support-hours" aria-live="polite">
            <Transition fallback=|| "Support hours…">
                {move || hours.get().map(|r| match r {
                    Ok((open, next)) => {
                        let state = if open { "Support open now" } else { "Support closed" };
                        let change = if open { " — closes " } else { " — opens " };
                        view! {
                            {state}
                            {next.map(|n| view! {
                                {change}
                                {crate::time::eastern_short(n, now.get_untracked())}
                                // Its own line, kept empty until the browser knows the viewer's zone: the
                                // footer has its final height from the first paint (no layout shift).
                                <span class="your-time-slot"><crate::time::YourTime epoch=n/></span>
                            })}
                        }.into_any()
                    }
                    Err(_) => ().into_any(),
                })}
            </Transition>
        </p>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <SupportHours/>
            <p>"Supportal · support that keeps its promises"</p>
        </footer>
    }
}

/// Sets the response status during server rendering (404, 403…).
pub fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(options), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(_code))
    {
        options.set_status(status);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Page not found"/>
        <section class="page narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><A href="/">"Go to the home page"</A></p>
        </section>
    }
}

/// Shown instead of a page that needs a different role.
#[component]
pub fn Forbidden(#[prop(default = "managers")] for_whom: &'static str) -> impl IntoView {
    set_status(403);
    view! {
        <section class="page narrow" data-testid="forbidden">
            <h1>"Not available to you"</h1>
            <p>"This page is for " {for_whom} ". If you need access, ask your support manager."</p>
            <p><A href="/">"Go to the home page"</A></p>
        </section>
    }
}

/// Shown instead of a page that needs a signed-in user.
#[component]
pub fn SignInRequired() -> impl IntoView {
    set_status(401);
    let location = use_location();
    let next = move || format!("/signin?next={}", location.pathname.get());
    view! {
        <section class="page narrow" data-testid="signin-required">
            <h1>"Sign in to continue"</h1>
            <p>"You need to be signed in to see this page."</p>
            <p><A href=next attr:class="button">"Sign in"</A></p>
        </section>
    }
}

/// Renders `children` for anyone: signed in, the user is in the context as under [`RequireUser`]; a visitor
/// sees the public part (pages read `use_context::<User>()`).
#[component]
pub fn AnyVisitor(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let children = StoredValue::new(children);
    move || match auth.user.get() {
        Err(e) => view! { <p class="page error" role="alert">{e.message}</p> }.into_any(),
        Ok(user) => {
            if let Some(user) = user {
                provide_context(user);
            }
            children.with_value(|c| c()).into_any()
        }
    }
}

/// Renders `children` for the signed-in user, or the right refusal. The user is known when the page renders
/// (see [`Auth::user`]), so `children` runs once per sign-in state: resources a page creates inside load once.
#[component]
pub fn RequireUser(
    #[prop(default = false)] manager: bool,
    /// Agents and managers only.
    #[prop(default = false)]
    staff: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let children = StoredValue::new(children);
    move || match auth.user.get() {
        Ok(Some(user)) if (!manager || user.role.is_manager()) && (!staff || user.role.is_staff()) => {
            provide_context(user);
            children.with_value(|c| c()).into_any()
        }
        Ok(Some(_)) if staff => view! { <Forbidden for_whom="support staff"/> }.into_any(),
        Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
        Ok(None) => view! { <SignInRequired/> }.into_any(),
        Err(e) => view! { <p class="page error" role="alert">{e.message}</p> }.into_any(),
    }
}
