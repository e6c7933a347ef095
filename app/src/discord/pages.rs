//! `/discord/link?token=…`: a customer confirms that the Discord account that asked with `/link` is theirs.
//! `/admin/discord`: what managers paste into Discord's developer portal, the settings state, "register
//! commands" and the channel → category mapping.

use super::server_fns::{
    DiscordConfirmLink, DiscordRegisterCommands, DiscordSaveChannel, DiscordSetReplies, DiscordUnlink,
};
use crate::layout::{use_auth, RequireUser};
use crate::tickets::Category;
use crate::ui::{action_error, FormError, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// `/signin?next=…` for a path with a query (the token must survive signing in).
fn sign_in_href(token: &str) -> String {
    let next = format!("/discord/link?token={token}");
    let encoded: String = next
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("/signin?next={encoded}")
}

#[component]
pub fn DiscordLinkPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token")).unwrap_or_default();
    let auth = use_auth();
    view! {
        <Title text="Link your Discord account"/>
        <section class="page narrow" data-testid="discord-link">
            <h1>"Link your Discord account"</h1>
            {move || match auth.user.get() {
                Ok(Some(_)) => view! { <LinkConfirm token=token()/> }.into_any(),
                Ok(None) => view! {
                    <div class="stack" data-testid="discord-link-signed-out">
                        <p>"Sign in to the Supportal account you want to use from Discord, then confirm here."</p>
                        <p>
                            <a class="button" href=sign_in_href(&token())>"Sign in to link"</a>
                        </p>
                        <p>"No account yet? " <A href="/register">"Sign up"</A>
                            ", then use " <code>"/link"</code> " in Discord again."</p>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="callout error" role="alert">{e.message}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn LinkConfirm(token: String) -> impl IntoView {
    let offer = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        super::server_fns::discord_link_offer,
    );
    let confirm = ServerAction::<DiscordConfirmLink>::new();
    let error = action_error(confirm);
    let token = StoredValue::new(token);
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Checking the link…"</p> }>
            {move || offer.get().map(|result| match (result, confirm.value().get()) {
                (_, Some(Ok(name))) => view! {
                    <div class="callout success" role="status" data-testid="discord-linked">
                        <p>"Done: the Discord account " <strong>{name}</strong> " is linked to your account."</p>
                        <p>"Go back to Discord and use " <code>"/ticket"</code> ", " <code>"/status"</code>
                            " or " <code>"/book"</code> ". Agent replies to tickets you open there come to you on Discord too."</p>
                    </div>
                }.into_any(),
                (Ok(offer), _) if offer.already_linked_as.is_some() => view! {
                    <div class="callout warning" role="alert" data-testid="discord-already-linked">
                        <p>"Your account is already linked to the Discord account "
                            <strong>{offer.already_linked_as.clone().unwrap_or_default()}</strong>
                            ". One Discord account links to one Supportal account."</p>
                        <p>"To link " <strong>{offer.discord_name.clone()}</strong>
                            " instead, unlink the other one on your " <A href="/account">"account page"</A> " first."</p>
                    </div>
                }.into_any(),
                (Ok(offer), _) => view! {
                    <div class="stack">
                        <p>"The Discord account " <strong data-testid="discord-name">{offer.discord_name.clone()}</strong>
                            " asked to be linked to your Supportal account. Once linked, it can open tickets, "
                            "see their SLA clocks and book calls as you, with your plan."</p>
                        <p class="hint">"Only confirm if you used " <code>"/link"</code> " in Discord yourself just now."</p>
                        <ActionForm action=confirm attr:class="stack">
                            <FormError error/>
                            <input type="hidden" name="token" value=token.get_value()/>
                            <SubmitButton label="Link this Discord account" busy_label="Linking…" pending=confirm.pending()/>
                        </ActionForm>
                        <p><A href="/">"Not me: cancel"</A></p>
                    </div>
                }.into_any(),
                (Err(e), _) => view! {
                    <div class="callout warning" role="alert" data-testid="discord-link-expired">
                        <p>{e.message}</p>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub fn DiscordAdminPage() -> impl IntoView {
    view! {
        <Title text="Discord"/>
        <RequireUser manager=true>
            <DiscordAdmin/>
        </RequireUser>
    }
}

#[component]
fn DiscordAdmin() -> impl IntoView {
    let register = ServerAction::<DiscordRegisterCommands>::new();
    let save = ServerAction::<DiscordSaveChannel>::new();
    let state = Resource::new(move || save.version().get(), |_| super::server_fns::load_discord_state());
    let register_error = action_error(register);
    let save_error = action_error(save);
    let yes_no = |b: bool| if b { "set" } else { "not set" };
    view! {
        <section class="page" data-testid="discord-admin">
            <h1>"Discord"</h1>
            <p>"Customers use slash commands in your support server: "
                <code>"/link"</code> ", " <code>"/ticket"</code> ", " <code>"/status"</code> ", "
                <code>"/hours"</code> ", " <code>"/book"</code> ", " <code>"/feature"</code>
                ", and staff turn a post into a ticket from its menu. Notifications to a channel are set up on "
                <A href="/admin/integrations">"Integrations"</A> "."</p>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading…"</p> }>
                {move || state.get().map(|result| match result {
                    Err(e) => view! { <p class="callout error" role="alert">{e.message}</p> }.into_any(),
                    Ok(s) => {
                        let channels = s.channels.clone();
                        view! {
                            <section class="panel" aria-labelledby="discord-setup">
                                <h2 id="discord-setup">"Set up in Discord's developer portal"</h2>
                                <p>"Paste this as the " <strong>"Interactions Endpoint URL"</strong> " of your application:"</p>
                                <p><code data-testid="discord-interactions-url">{s.interactions_url.clone()}</code></p>
                                <dl class="facts">
                                    <dt>"Public key (SUPPORTAL_DISCORD_PUBLIC_KEY)"</dt><dd data-testid="discord-public-key">{yes_no(s.public_key_set)}</dd>
                                    <dt>"Application id (SUPPORTAL_DISCORD_APPLICATION_ID)"</dt><dd>{s.application_id.clone().unwrap_or_else(|| "not set".into())}</dd>
                                    <dt>"Bot token (SUPPORTAL_DISCORD_BOT_TOKEN)"</dt><dd>{yes_no(s.bot_token_set)}</dd>
                                    <dt>"Discord API"</dt><dd>{s.api_base.clone()}</dd>
                                    <dt>"Linked accounts"</dt><dd data-testid="discord-linked-count">{s.linked_accounts}</dd>
                                    <dt>"Tickets from Discord"</dt><dd>{s.tickets_from_discord}</dd>
                                </dl>
                                <ActionForm action=register attr:class="inline-form">
                                    <SubmitButton label="Register commands" busy_label="Registering…" pending=register.pending()/>
                                </ActionForm>
                                <FormError error=register_error/>
                                {move || register.value().get().and_then(Result::ok).map(|n| view! {
                                    <p class="callout success" role="status" data-testid="discord-registered">
                                        {format!("Discord now has {n} commands.")}
                                    </p>
                                })}
                            </section>
                            <section class="panel" aria-labelledby="discord-channels">
                                <h2 id="discord-channels">"Channels and ticket categories"</h2>
                                <p class="hint">"A ticket opened with /ticket in a channel gets that channel's category. "
                                    "The tier always comes from the customer's account."</p>
                                <table>
                                    <thead><tr><th scope="col">"Channel"</th><th scope="col">"Category"</th></tr></thead>
                                    <tbody>
                                        {channels.into_iter().map(|m| view! {
                                            <tr>
                                                <td>"#" {m.channel.clone()}</td>
                                                <td>{m.category.replace('_', " ")} {m.custom.then_some(" (yours)")}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <ActionForm action=save attr:class="stack">
                                    <FormError error=save_error/>
                                    <label for="discord-channel">"Channel name"</label>
                                    <input id="discord-channel" name="channel" required=true placeholder="bug-reports"/>
                                    <label for="discord-category">"Category"</label>
                                    <select id="discord-category" name="category">
                                        <option value="">"The plan's default"</option>
                                        {Category::ALL.iter().map(|c| view! {
                                            <option value=c.as_str()>{c.label()}</option>
                                        }).collect_view()}
                                    </select>
                                    <SubmitButton label="Save mapping" busy_label="Saving…" pending=save.pending()/>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

/// "via Discord" beside a ticket that came in through Discord (with its channel, and the post it was opened
/// from when staff made it from one).
#[component]
pub fn ViaDiscord(ticket_id: i64) -> impl IntoView {
    let origin = Resource::new(move || ticket_id, super::server_fns::discord_origin);
    view! {
        <Transition fallback=|| ()>
            {move || origin.get().and_then(Result::ok).flatten().map(|o| {
                let channel = o.channel_name.clone().map(|c| format!(" #{c}")).unwrap_or_default();
                let how = if o.source == "message" { "from a post" } else { "with /ticket" };
                view! {
                    <span class="via-chip" data-testid="ticket-via">
                        "via Discord" {channel} " (" {how} ")"
                        {o.message_url.clone().map(|url| view! {
                            " " <a href=url rel="noopener noreferrer" target="_blank">"open the post"</a>
                        })}
                    </span>
                }
            })}
        </Transition>
    }
}

/// On the account page: the linked Discord account, whether agent replies go there, and unlinking.
#[component]
pub fn DiscordAccount() -> impl IntoView {
    let replies = ServerAction::<DiscordSetReplies>::new();
    let unlink = ServerAction::<DiscordUnlink>::new();
    let link = Resource::new(
        move || (replies.version().get(), unlink.version().get()),
        |_| super::server_fns::discord_account(),
    );
    let error = action_error(replies);
    view! {
        <section aria-labelledby="discord-account-heading" class="panel" data-testid="discord-account">
            <h2 id="discord-account-heading">"Discord"</h2>
            <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading…"</p> }>
                {move || link.get().map(|result| match result {
                    Ok(Some(link)) => view! {
                        <p>"Linked to the Discord account " <strong>{link.discord_name.clone()}</strong> "."</p>
                        <ActionForm action=replies attr:class="stack">
                            <FormError error/>
                            <label class="event-option">
                                <input type="checkbox" name="replies" value="on" checked=link.replies/>
                                " Send agent replies to tickets I open on Discord to me there too"
                            </label>
                            <SubmitButton label="Save" busy_label="Saving…" pending=replies.pending()/>
                        </ActionForm>
                        <ActionForm action=unlink attr:class="inline-form">
                            <button type="submit" class="button">"Unlink Discord"</button>
                        </ActionForm>
                    }.into_any(),
                    Ok(None) => view! {
                        <p>"Not linked. In the support server on Discord, use " <code>"/link"</code>
                            " and open the link it gives you to open tickets, see their SLA clocks and book calls from Discord."</p>
                    }.into_any(),
                    Err(e) => view! { <p class="callout error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
