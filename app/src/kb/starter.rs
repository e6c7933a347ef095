//! The starter articles a new portal (and the demo) begins with: how this portal
//! works, in the support plan's four categories. Seeded by slug, so running the
//! seed again adds only what is missing and never overwrites an edited article.

use super::Category;

pub struct StarterArticle {
    pub slug: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub published: bool,
    pub body_md: &'static str,
}

pub const ARTICLES: &[StarterArticle] = &[
    StarterArticle {
        slug: "getting-started-for-new-customers",
        title: "Getting started for new customers",
        category: Category::GettingStarted,
        published: true,
        body_md: r#"Welcome to the support portal. This page walks you through your first visit.

## Your account and your tier

Create an account on the **Create account** page with your email, your name and a passphrase of at least 10 characters. New accounts are on the **General** tier; your support manager moves Platinum customers to the **Platinum** tier. Your tier is shown beside your name in the header, and it decides how fast we promise to answer (see [How SLA clocks work](/kb/how-sla-clocks-work)).

## Before you open a ticket

Search this knowledge base first: many questions have a short answer here. While you type a ticket subject, the portal also suggests matching articles beside the form.

## Opening a ticket

1. Go to **My tickets** and choose **Open a ticket**.
2. Write a one-line subject and pick a category.
3. Choose the priority that fits:
   - **P1 Critical**: the service is completely down, data is lost or corrupted, or there is a security issue.
   - **P2 High**: a major feature is broken, performance problems, or API failures.
   - **P3 Medium**: a minor feature issue, a configuration problem, or a user-experience issue.
   - **P4 Low**: a feature request, a documentation update, or a general question.
4. Before you send, the form shows when the first reply and the resolution are due for your tier and that priority.
5. Describe what happened, what you expected, and any error text.

## Following your tickets

Each ticket shows two clocks, **First response** and **Resolution**, with a live countdown and a state: on track, at risk, breached, met or paused. When we ask you a question the resolution clock pauses until you answer. The bell in the header counts your unread notifications: replies, tickets waiting on you, resolved tickets.

When a ticket is resolved you can resolve it yourself, reopen it within 7 days if the problem comes back, and tell us in one click whether we helped.

## More you can do

- **Calls**: Platinum customers book a live chat or video call ([how](/kb/book-a-live-chat-or-video-call)).
- **Features**: suggest features and vote on what you need most ([how](/kb/voting-on-features-and-the-roadmap)).
- **API**: automate with personal API tokens ([how](/kb/using-the-rest-api-with-personal-tokens)).
"#,
    },
    StarterArticle {
        slug: "how-sla-clocks-work",
        title: "How SLA clocks work",
        category: Category::GettingStarted,
        published: true,
        body_md: r#"Every ticket carries two service-level clocks: one for the **first response** and one for the **resolution**. Their targets depend on your tier and the ticket's priority.

## Default targets

| Tier | Priority | First response | Resolution | Counted |
|---|---|---|---|---|
| Platinum | P1 | 1 h | 4 h | around the clock |
| Platinum | P2 | 4 h | 24 h | around the clock |
| Platinum | P3 | 24 h | 72 h | support hours |
| Platinum | P4 | 48 h | 1 week | support hours |
| General | P1 | 24 h | 72 h | support hours |
| General | P2 | 24 h | 72 h | support hours |
| General | P3 | 24 h | 1 week | support hours |
| General | P4 | 48 h | 1 week | support hours |

Managers can change every number; the ticket form always shows the targets in force before you send.

## Support hours

Support hours are in **Eastern time (America/New_York)**, daylight saving included: Monday to Friday 09:00–18:00 and Saturday 10:00–16:00; closed on Sundays and on listed holidays. A target counted in support hours only uses open minutes. For example, a 24-hour Platinum P3 ticket opened on Friday at 17:00 is due on Tuesday at 17:00: 1 hour on Friday, 6 on Saturday, 9 on Monday and 8 on Tuesday. The footer of every page says whether support is open now and when that changes.

## When the clocks stop and pause

- The **first response** clock stops at the first public reply from an agent.
- The **resolution** clock stops when the ticket is resolved.
- While a ticket is **waiting on you** (pending customer), the resolution clock pauses and resumes when you reply. The ticket page says why and since when it is paused.
- If you reopen a resolved ticket, the resolution clock resumes where it stopped.

## The states

- **On track**: plenty of time left.
- **At risk**: 75 % of the target is used (managers can change the share). Staff are told, and an at-risk P1 or P2 ticket with no agent reply is escalated one level automatically.
- **Breached**: the target passed. A breach stays a breach.
- **Met**: the clock stopped in time.
- **Paused**: waiting on you.

Our aim is that 95 % of tickets meet both targets.
"#,
    },
    StarterArticle {
        slug: "book-a-live-chat-or-video-call",
        title: "Book a live-chat or video call",
        category: Category::FeatureGuides,
        published: true,
        body_md: r#"**Platinum customers** can book a call with an agent who takes calls. (General customers see the page but cannot book; ask your account manager about Platinum.)

## Booking

1. Open **Calls** and choose **Book a call**, or use **Book a call about this ticket** on a ticket.
2. Pick a length: **30, 45 or 60 minutes**.
3. Pick a platform: **Discord**, **Zoom**, or the portal's own **call room** (a live chat in your browser).
4. Pick a free start time and add a short topic.

## Which times are offered

- Calls happen in **live-chat hours**: Monday to Friday, 09:00–18:00 **Eastern time**, never on holidays.
- Start times are on a **15-minute grid** (:00, :15, :30, :45 Eastern).
- A call starts **at least 2 hours** and **at most 30 days** ahead.
- A time is offered while at least one agent who takes calls is free; booking assigns one. Each call is followed by a 10-minute buffer for the agent.
- Every time is shown in your own time zone with the Eastern time beside it.
- You can hold up to 3 upcoming calls. If someone takes a time just before you, you are told at once and offered the next free times.

## After booking

- You get a confirmation, and you can download the call as an **.ics** calendar file for Outlook, Google Calendar or Apple Calendar.
- We remind you a day before and 15 minutes before.
- For Discord or Zoom, your agent adds the meeting link to the call page.
- The portal call room opens 10 minutes before the start.

## Cancelling or rescheduling

You can cancel or reschedule **until 1 hour before** the start, from the call's page. After that, reply on your ticket or contact your agent. If your agent has to cancel, you are told why.
"#,
    },
    StarterArticle {
        slug: "voting-on-features-and-the-roadmap",
        title: "Voting on features and the roadmap",
        category: Category::FeatureGuides,
        published: true,
        body_md: r#"Tell us what to build next on the **Features** board.

## Suggesting a feature

Choose **Suggest a feature**, write a one-line title and a description. While you type the title, the portal shows existing requests with the same words: if one fits, vote for it instead of posting a duplicate. Your own vote comes with your post. You can post up to 10 requests an hour.

## Voting

- One vote per person per request. Press **Vote** again to take it back.
- Platinum votes are shown beside the total.
- Requests that were **declined** or have **shipped** no longer take votes.
- When a duplicate is merged into another request, votes are combined and nobody is counted twice; the old page leads to the request kept.

## Sorting

- **Top**: most votes.
- **Trending**: only votes from the last 14 days count, and newer votes count more (a vote from today counts twice as much as one from a week ago).
- **New**: newest first.

You can also filter by status and search titles and descriptions.

## Statuses and notifications

Requests move through **open**, **under review**, **planned**, **in progress**, **shipped** and **declined**. Our team posts a public note with each change, and everyone who voted gets a notification. The **Roadmap** shows what is planned, in progress and shipped in the last 90 days.

If you opened a P4 ticket asking for a feature, an agent can turn it into a feature request in one step: you become its author and first voter.
"#,
    },
    StarterArticle {
        slug: "troubleshooting-notifications-and-webhooks",
        title: "Troubleshooting notifications and webhooks",
        category: Category::Troubleshooting,
        published: true,
        body_md: r#"## In-portal notifications

The **bell** in the header shows how many notifications you have not read, and updates live. Open it, or go to the **Notifications** page (`/notifications`), to read them and mark them read.

If the count does not change while a page is open, reload the page: live updates use a long-lived connection that some proxies and VPNs cut.

## Email

Choose which notifications also reach you by email under the email preferences on the **Notifications** page. If nothing arrives, check your spam folder and that your account's email address is right.

## Outgoing webhooks

Managers add webhooks on the **Integrations** page (`/admin/integrations`): a URL, the events to send, and a secret. Every delivery is a `POST` with a JSON body and these headers:

- `X-Supportal-Event`: the event's name.
- `X-Supportal-Delivery`: a unique id for the event. Delivery is **at least once**, so the same event can arrive more than once: use this id to ignore repeats.
- `X-Supportal-Signature`: `t=<unix seconds>,v1=<signature>`, where the signature is the hex HMAC-SHA256 of `<t>.<raw body>` keyed with the webhook's secret.

### Checking the signature

1. Split the header at the comma; read `t` and `v1`.
2. Compute HMAC-SHA256 over the timestamp, a dot, and the **raw** request body, exactly as received (before parsing the JSON), with your secret.
3. Compare your hex result with `v1` in constant time.
4. Reject deliveries whose `t` is far from your clock (for example more than 5 minutes) to stop replays.

The most common mistake is signing a re-serialised JSON body instead of the raw bytes.

### Retries and automatic disabling

- Your endpoint must answer with a **2xx** status **within 10 seconds** (the portal's default). Anything else counts as a failure, including a redirect: redirects are not followed.
- Failed deliveries are retried with exponential backoff, **up to 8 attempts**.
- After **5 failed deliveries in a row** the webhook is **disabled automatically**, and managers are notified. Fix the endpoint, then switch it on again on the Integrations page.

### The delivery log

The Integrations page lists each webhook's deliveries with the status code, latency, error and number of attempts, and updates live. Use **Send test** to send a signed `ping` event; its result appears in the log within seconds.

Typical causes of failure: a self-signed or expired TLS certificate, a firewall that blocks us, slow work done before answering (answer 2xx first, then process the event), or a wrong secret.
"#,
    },
    StarterArticle {
        slug: "troubleshooting-sign-in-problems",
        title: "Troubleshooting sign-in problems",
        category: Category::Troubleshooting,
        published: true,
        body_md: r#"## "Too many attempts"

To protect accounts, sign-in attempts are limited per address and email (5 every 15 minutes by default). The message says how many seconds to wait. Someone trying your email elsewhere cannot lock you out from your own network.

## The email or passphrase is not accepted

- Emails are not case-sensitive; extra spaces are ignored.
- Passphrases are case-sensitive and at least 10 characters.
- The error does not say which of the two is wrong, on purpose.

## I am signed out unexpectedly

Sessions last 14 days. Signing in again starts a new session and ends the old one on that browser. Private browsing windows forget the session when closed.

## A form says the request came from another site

For your safety, forms only work when sent from the portal's own address. Open the portal directly (not through a saved copy of a page or a translation proxy) and try again.

## The page looks unstyled or buttons do nothing

The portal needs JavaScript and WebAssembly for live features. Reload the page; if it persists, try another browser or turn off extensions that block scripts for this site.
"#,
    },
    StarterArticle {
        slug: "exporting-tickets-and-metrics-csv",
        title: "Exporting tickets and metrics (CSV)",
        category: Category::AdvancedTopics,
        published: true,
        body_md: r#"Managers see the portal's numbers on the **Metrics** page (`/admin/metrics`): open tickets by priority, SLA compliance over 7 and 30 days, the median first response, satisfaction against the 95 % target, tickets per day, the agents' table and today's calls.

## Exporting tickets

At the bottom of the Metrics page, **Export tickets** downloads a CSV file of the tickets opened between two dates (Eastern time, both days included, at most 366 days). The same file is available from the API:

```
GET /api/v1/tickets/export.csv?from=2026-11-01&to=2026-11-30
Authorization: Bearer <your token>
```

Columns: id, created_at, subject, category, priority, tier, status, level, requester_email, assignee, first_response_at, first_response_sla, resolved_at, resolution_sla, satisfaction.

## Opening the file safely

Cells that start with `=`, `+`, `-` or `@` are escaped with a leading apostrophe, so a ticket subject can never run as a formula in Excel, LibreOffice or Google Sheets. The file is UTF-8; if accented letters look wrong in Excel, import it with **Data → From Text/CSV** and choose UTF-8.

Only managers can export; others get "not allowed".
"#,
    },
    StarterArticle {
        slug: "using-the-rest-api-with-personal-tokens",
        title: "Using the REST API with personal tokens",
        category: Category::AdvancedTopics,
        published: true,
        body_md: r#"Everything you do in the portal you can also do through the REST API under `/api/v1`. The full description is at `/api/v1/openapi.json` (OpenAPI 3).

## Creating a token

On your **Account** page, under **Personal API tokens**, give the token a label (what will use it) and create it. Copy it at once: it is shown only once. Tokens start with `sp_`, act as you with your role, and can be revoked on the same page. You can also exchange your email and passphrase for a token:

```
curl -s -X POST https://portal.example.com/api/v1/auth/tokens \
  -H 'content-type: application/json' \
  -d '{"email":"you@example.com","password":"…","label":"ci script"}'
```

## Calling the API

```
curl -s https://portal.example.com/api/v1/tickets \
  -H "Authorization: Bearer sp_…"
```

- JSON in and out; instants are RFC 3339 in UTC.
- Lists take `?limit=` (default 50, at most 200) and `?cursor=`, and answer `{"items": [...], "next_cursor": ...}`.
- Send an `Idempotency-Key` header when creating things: a retry with the same key and body returns the first answer instead of creating twice.
- Errors look like `{"error": {"code": "...", "message": "...", "fields": {...}}}`: 401 not signed in, 403 not allowed, 404 not found, 409 conflict, 422 invalid fields, 429 too many requests (wait for `Retry-After` seconds).
- `GET /api/v1/events` streams live changes you may see as Server-Sent Events; reconnect with `Last-Event-ID` to miss nothing.

## Limits

State-changing requests are limited per token (120 a minute by default). Keep tokens secret: store them in your CI's secret store, never in code.
"#,
    },
    StarterArticle {
        slug: "security-best-practices",
        title: "Security best practices",
        category: Category::AdvancedTopics,
        published: true,
        body_md: r#"A few habits keep your account and your integrations safe.

## Your account

- Use a long, unique passphrase (at least 10 characters; longer is better) and a password manager.
- Sign out on shared computers. Sessions end after 14 days anyway.
- Report anything suspicious as a **P1** ticket: security issues are critical.

## API tokens

- Create one token per script or system, with a label that says which, so you can revoke just that one.
- Tokens act with your role: a manager's token can do what a manager can. Use an account with the smallest role that does the job.
- Revoke tokens you no longer use on the Account page.

## Webhooks

- Always check the `X-Supportal-Signature` header with your webhook secret before trusting a delivery, and reject old timestamps (see [Troubleshooting notifications and webhooks](/kb/troubleshooting-notifications-and-webhooks)).
- Use HTTPS endpoints only.
- Treat `X-Supportal-Delivery` as the event's id and ignore repeats.

## What the portal does for you

Passphrases are stored with argon2id; session and API token secrets are stored only as hashes; forms only accept requests from the portal's own address; sign-in, sign-up and changes are rate limited; articles and messages are shown as text or sanitised HTML; CSV exports escape formula cells.
"#,
    },
    StarterArticle {
        slug: "video-and-screen-sharing-in-the-call-room",
        title: "Video and screen sharing in the portal call room",
        category: Category::FeatureGuides,
        published: false,
        body_md: r#"**Draft: publish when video ships.**

The portal's own call room is a live text chat today: it opens 10 minutes before a booked call, shows who is here and who is typing, and closes at the end. Video and screen sharing in the room are planned.

Until then, book the call on **Zoom** or **Discord** when you need to share your screen; your agent adds the link to the call page.
"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_articles_are_valid_and_cover_every_category() {
        let mut slugs = std::collections::HashSet::new();
        for a in ARTICLES {
            let draft = crate::kb::ArticleInput {
                title: a.title.into(),
                slug: Some(a.slug.into()),
                category: a.category.as_str().into(),
                body_md: a.body_md.into(),
                published: a.published,
                version: None,
            }
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e:?}", a.slug));
            assert_eq!(draft.slug, a.slug);
            assert!(slugs.insert(a.slug), "duplicate {}", a.slug);
        }
        assert!(ARTICLES.iter().filter(|a| a.published).count() >= 8);
        for c in Category::ALL {
            assert!(ARTICLES.iter().any(|a| a.published && a.category == *c), "{c}");
        }
        // Links between articles point at articles that exist.
        for a in ARTICLES {
            for link in a.body_md.split("](/kb/").skip(1) {
                let slug = link.split(')').next().unwrap_or_default();
                assert!(ARTICLES.iter().any(|b| b.slug == slug), "{} links to missing {slug}", a.slug);
            }
        }
    }
}
