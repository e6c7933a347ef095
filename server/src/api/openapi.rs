//! The OpenAPI 3 description served at `/api/v1/openapi.json`.

use axum::Json;
use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn ticket_ref() -> Value {
    json!({ "$ref": "#/components/schemas/Ticket" })
}

fn secured() -> Value {
    json!([{ "bearer": [] }, { "session": [] }])
}

fn page_of(items: Value) -> Value {
    json!({ "type": "object", "properties": { "items": { "type": "array", "items": items }, "next_cursor": { "type": "string", "nullable": true } } })
}

/// Tickets, events, SLA and hours.
fn ticket_paths(id: &Value, limit: &Value, cursor: &Value, idempotency: &Value) -> Value {
    let q = |name: &str, description: &str| json!({ "name": name, "in": "query", "schema": { "type": "string" }, "description": description });
    json!({
        "/tickets": {
            "post": {
                "summary": "Open a ticket (customers)", "security": secured(), "parameters": [idempotency],
                "requestBody": json_body(json!({ "type": "object", "required": ["subject", "body", "priority"], "properties": {
                    "subject": { "type": "string", "maxLength": 200 }, "body": { "type": "string", "maxLength": 20000 },
                    "priority": { "type": "string", "enum": ["P1", "P2", "P3", "P4"] },
                    "category": { "type": "string", "enum": ["question", "bug", "integration", "account", "feature_request", "other"] } } })),
                "responses": { "201": ok("The ticket with its SLA clocks", ticket_ref()), "403": { "$ref": "#/components/responses/Forbidden" },
                    "413": { "$ref": "#/components/responses/TooLarge" }, "422": { "$ref": "#/components/responses/Invalid" } }
            },
            "get": {
                "summary": "Tickets: customers see their own, staff all", "security": secured(),
                "parameters": [limit, cursor, q("status", "new|open|pending_customer|on_hold|resolved|closed"), q("priority", "P1..P4"),
                    q("assignee", "a user id, me or none"), q("sla_state", "on_track|at_risk|breached|met|paused"), q("tier", "platinum|general"), q("q", "text in subject or body")],
                "responses": { "200": ok("A page of tickets", page_of(ticket_ref())), "422": { "$ref": "#/components/responses/Invalid" } }
            }
        },
        "/tickets/{id}": {
            "get": { "summary": "One ticket (owner or staff; others get 404)", "security": secured(), "parameters": [id],
                "responses": { "200": ok("The ticket", ticket_ref()), "404": { "$ref": "#/components/responses/NotFound" } } },
            "patch": {
                "summary": "Staff: status, priority, assignee. Owner: resolve, or reopen within 7 days. With `version` (or an `If-Match: \"7\"` header) the change is refused with 409 `ticket_changed` if the ticket changed since", "security": secured(),
                "parameters": [id, { "name": "If-Match", "in": "header", "schema": { "type": "string" }, "description": "The ticket's `version` the change was made against" }],
                "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "properties": {
                    "status": { "type": "string" }, "priority": { "type": "string" }, "assignee_id": { "type": "integer", "nullable": true },
                    "version": { "type": "integer" } } })),
                "responses": { "200": ok("The updated ticket", ticket_ref()), "403": { "$ref": "#/components/responses/Forbidden" },
                    "409": { "$ref": "#/components/responses/Conflict" },
                    "404": { "$ref": "#/components/responses/NotFound" }, "422": { "$ref": "#/components/responses/Invalid" } }
            }
        },
        "/tickets/{id}/messages": {
            "get": { "summary": "The conversation (customers see public messages only)", "security": secured(), "parameters": [id],
                "responses": { "200": ok("Messages", page_of(json!({ "$ref": "#/components/schemas/Message" }))) } },
            "post": { "summary": "Reply; `internal: true` (staff) is a note customers never see", "security": secured(), "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string" }, "internal": { "type": "boolean" } } })),
                "responses": { "201": ok("The message", json!({ "$ref": "#/components/schemas/Message" })), "409": { "$ref": "#/components/responses/Conflict" } } }
        },
        "/tickets/{id}/escalations": { "post": {
            "summary": "Staff: move the ticket up a level, with a reason. Agents go one level at a time (L1 → L2 → L3 → L4); managers may go further. The ticket is unassigned so the next level picks it up", "security": secured(), "parameters": [id],
            "requestBody": json_body(json!({ "type": "object", "required": ["to_level", "reason"], "properties": {
                "to_level": { "type": "string", "enum": ["L2", "L3", "L4"] }, "reason": { "type": "string" } } })),
            "responses": { "201": ok("The ticket", ticket_ref()), "403": { "$ref": "#/components/responses/Forbidden" },
                "409": { "$ref": "#/components/responses/Conflict" }, "422": { "$ref": "#/components/responses/Invalid" } }
        } },
        "/tickets/{id}/history": { "get": {
            "summary": "Staff: the timeline, oldest first: `{items: [{at, actor, kind, from, to, reason, summary}]}` (actor null: the system)", "security": secured(), "parameters": [id],
            "responses": { "200": { "description": "The ticket's changes" }, "403": { "$ref": "#/components/responses/Forbidden" }, "404": { "$ref": "#/components/responses/NotFound" } }
        } },
        "/queue": { "get": {
            "summary": "Staff: running tickets by next SLA deadline (`sla_next_due`), with the count of each view under the same filters", "security": secured(),
            "parameters": [
                { "name": "view", "in": "query", "schema": { "type": "string", "enum": ["all", "unassigned", "mine", "at_risk"] } },
                { "name": "tier", "in": "query", "schema": { "type": "string", "enum": ["platinum", "general"] } },
                { "name": "priority", "in": "query", "schema": { "type": "string", "enum": ["P1", "P2", "P3", "P4"] } },
                { "name": "level", "in": "query", "schema": { "type": "string", "enum": ["L1", "L2", "L3", "L4"] } },
                { "name": "status", "in": "query", "schema": { "type": "string", "enum": ["new", "open", "pending_customer", "on_hold"] } },
                { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "Words in subject or description, or #number" },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } }
            ],
            "responses": { "200": { "description": "`{view, counts: {unassigned, mine, at_risk, all}, tickets: [Ticket + requester_name, assignee_name]}`" },
                "403": { "$ref": "#/components/responses/Forbidden" }, "422": { "$ref": "#/components/responses/Invalid" } }
        } },
        "/events": { "get": {
            "summary": "Server-Sent Events of what you may see; resume with Last-Event-ID (header or ?last_event_id=)", "security": secured(),
            "responses": { "200": { "description": "text/event-stream: `id`, `event` (ticket.created, ticket.updated, ticket.message, ticket.escalated, ticket.survey, sla.at_risk, sla.breached, feature.created, feature.updated, feature.voted, feature.commented, booking.created, booking.cancelled, booking.rescheduled, booking.done, booking.updated, call.message, notification.created, notification.read) and JSON `data`" } }
        } },
        "/sla/policies": {
            "get": { "summary": "The SLA policy table", "security": secured(), "responses": { "200": { "description": "`{items: [Policy]}`" } } },
            "put": { "summary": "Managers: replace policy rows (one transaction)", "security": secured(),
                "responses": { "200": { "description": "The new table" }, "403": { "$ref": "#/components/responses/Forbidden" }, "422": { "$ref": "#/components/responses/Invalid" } } }
        },
        "/sla/preview": { "get": {
            "summary": "Due times for a ticket opened at `at` (default now)", "security": secured(),
            "parameters": [q("tier", "platinum|general (default: yours)"), q("priority", "P1..P4"), q("at", "RFC 3339")],
            "responses": { "200": { "description": "`{first_response_due, resolution_due}`" }, "422": { "$ref": "#/components/responses/Invalid" } }
        } },
        "/discord/interactions": { "post": {
            "summary": "Discord's Interactions endpoint (Discord calls it): Ed25519 signature over X-Signature-Timestamp + raw body with SUPPORTAL_DISCORD_PUBLIC_KEY; PING → {\"type\": 1}",
            "parameters": [
                { "name": "X-Signature-Ed25519", "in": "header", "required": true, "schema": { "type": "string" } },
                { "name": "X-Signature-Timestamp", "in": "header", "required": true, "schema": { "type": "string" } }
            ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
            "responses": {
                "200": { "description": "An interaction response (`{type, data?}`)" },
                "400": { "description": "Signed, but not an interaction" },
                "401": { "description": "Bad, missing or stale signature" },
                "409": { "description": "This interaction id was already handled (a replay)" },
                "503": { "description": "Discord is not configured" }
            }
        } },
        "/hours": { "get": { "summary": "Support and live-chat hours now, and holidays", "responses": { "200": { "description": "`{support: {open, next_change_at}, live_chat: {...}, holidays: [...]}`" } } } },
        "/hours/holidays": { "put": { "summary": "Managers: replace the holidays (YYYY-MM-DD, Eastern)", "security": secured(),
            "responses": { "200": { "description": "The sorted list" }, "422": { "$ref": "#/components/responses/Invalid" } } } },
        "/hours/weekly": {
            "get": { "summary": "Weekly support and live-chat hours (Eastern)", "responses": { "200": ok("Both weeks", json!({ "$ref": "#/components/schemas/WeeklyHours" })) } },
            "put": { "summary": "Managers: replace the weekly hours of one or both calendars; a missing or null day is closed", "security": secured(),
                "requestBody": json_body(json!({ "$ref": "#/components/schemas/WeeklyHours" })),
                "responses": { "200": ok("The stored weeks", json!({ "$ref": "#/components/schemas/WeeklyHours" })),
                    "403": { "$ref": "#/components/responses/Forbidden" }, "422": { "$ref": "#/components/responses/Invalid" } } }
        },
        "/notifications": { "get": { "summary": "Your in-portal notifications, newest first, with the unread count", "security": secured(),
            "parameters": [limit, cursor],
            "responses": { "200": ok("A page of notifications and `unread`", json!({ "type": "object", "properties": {
                "items": { "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "kind": { "type": "string" }, "text": { "type": "string" },
                    "ticket_id": { "type": "integer", "nullable": true }, "link": { "type": "string", "nullable": true },
                    "created_at": { "type": "integer", "description": "Unix seconds" }, "read": { "type": "boolean" } } } },
                "next_cursor": { "type": "string", "nullable": true }, "unread": { "type": "integer" } } })) } } },
        "/notifications/read": { "post": { "summary": "Mark your notifications read: the ids given, or all", "security": secured(),
            "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "properties": { "ids": { "type": "array", "items": { "type": "integer" }, "maxItems": 500 } } })),
            "responses": { "200": ok("`{changed, unread}`", json!({ "type": "object" })), "422": { "$ref": "#/components/responses/Invalid" } } } }
    })
}

fn feature_ref() -> Value {
    json!({ "$ref": "#/components/schemas/Feature" })
}

/// Community feature voting and the ticket → feature request step.
fn feature_paths(id: &Value, limit: &Value, cursor: &Value, idempotency: &Value) -> Value {
    let q = |name: &str, description: &str| json!({ "name": name, "in": "query", "schema": { "type": "string" }, "description": description });
    let r = |name: &str| json!({ "$ref": format!("#/components/responses/{name}") });
    json!({
        "/features": {
            "get": {
                "summary": "The board (merged requests left out). Trending: votes of the last 14 days, each weighted 1 − age/14 days",
                "security": secured(),
                "parameters": [limit, cursor, q("sort", "top (default) | trending | new"),
                    q("status", "open|under_review|planned|in_progress|shipped|declined"), q("q", "words in title or description")],
                "responses": { "200": ok("A page of requests; the cursor is an offset", page_of(feature_ref())), "422": r("Invalid") }
            },
            "post": {
                "summary": "Post a request (anyone signed in; customers' own vote is added). Limited to 10 an hour per person",
                "security": secured(), "parameters": [idempotency],
                "requestBody": json_body(json!({ "type": "object", "required": ["title", "body"], "additionalProperties": false, "properties": {
                    "title": { "type": "string", "maxLength": 120 }, "body": { "type": "string", "maxLength": 10000 } } })),
                "responses": { "201": ok("The request", feature_ref()), "422": r("Invalid"), "429": r("RateLimited") }
            }
        },
        "/features/similar": { "get": {
            "summary": "Existing requests whose titles share words with `title` (suggestions while typing)", "security": secured(),
            "parameters": [q("title", "the title being typed")],
            "responses": { "200": ok("Up to 5 requests, best first", page_of(feature_ref())) }
        } },
        "/features/{id}": {
            "get": { "summary": "One request; a merged one has `merged_into_id` (go there)", "security": secured(), "parameters": [id],
                "responses": { "200": ok("The request", feature_ref()), "404": r("NotFound") } },
            "patch": {
                "summary": "Agents: change the status with a public note (voters are notified). Same status + note posts an update",
                "security": secured(), "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["status"], "additionalProperties": false, "properties": {
                    "status": { "type": "string", "enum": ["open", "under_review", "planned", "in_progress", "shipped", "declined"] },
                    "note": { "type": "string", "maxLength": 2000 } } })),
                "responses": { "200": ok("The request", feature_ref()), "403": r("Forbidden"), "404": r("NotFound"),
                    "409": r("Conflict"), "422": r("Invalid") }
            }
        },
        "/features/{id}/vote": {
            "put": { "summary": "Customers: vote (idempotent). 409 feature_merged, feature_declined or feature_shipped", "security": secured(), "parameters": [id],
                "responses": { "200": ok("The request with your vote", feature_ref()), "403": r("Forbidden"), "404": r("NotFound"), "409": r("Conflict") } },
            "delete": { "summary": "Customers: take the vote back (idempotent)", "security": secured(), "parameters": [id],
                "responses": { "200": ok("The request", feature_ref()), "404": r("NotFound"), "409": r("Conflict") } }
        },
        "/features/{id}/comments": {
            "get": { "summary": "Comments, oldest first", "security": secured(), "parameters": [id],
                "responses": { "200": ok("Comments", page_of(json!({ "$ref": "#/components/schemas/FeatureComment" }))) } },
            "post": { "summary": "Comment (HTML is kept as text)", "security": secured(), "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string", "maxLength": 5000 } } })),
                "responses": { "201": ok("The comment", json!({ "$ref": "#/components/schemas/FeatureComment" })), "409": r("Conflict"), "422": r("Invalid") } }
        },
        "/features/{id}/merge": { "post": {
            "summary": "Managers: merge this duplicate into `into_id`; votes combine (nobody twice), comments move", "security": secured(), "parameters": [id],
            "requestBody": json_body(json!({ "type": "object", "required": ["into_id"], "properties": { "into_id": { "type": "integer" } } })),
            "responses": { "200": ok("The request kept", feature_ref()), "403": r("Forbidden"), "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid") }
        } },
        "/tickets/{id}/feature": { "post": {
            "summary": "Agents: post a public feature request for a P4 or feature-request ticket, under the agent's name, with a public title and description written for it (the ticket's own text stays private); the requester's vote is added", "security": secured(), "parameters": [id],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["title", "body"], "properties": {
                "title": { "type": "string", "maxLength": 120 }, "body": { "type": "string", "maxLength": 10000 } } } } } },
            "responses": { "201": ok("The new request", feature_ref()), "403": r("Forbidden"), "404": r("NotFound"),
                "409": r("Conflict"), "422": r("Invalid") }
        } }
    })
}

fn booking_ref() -> Value {
    json!({ "$ref": "#/components/schemas/Booking" })
}

/// Live-chat and video calls: slots, bookings, the agents' hours and time off, the portal call room.
fn booking_paths(id: &Value, limit: &Value, cursor: &Value, idempotency: &Value) -> Value {
    let q = |name: &str, description: &str| json!({ "name": name, "in": "query", "schema": { "type": "string" }, "description": description });
    let r = |name: &str| json!({ "$ref": format!("#/components/responses/{name}") });
    let week = json!({ "$ref": "#/components/schemas/Week" });
    let availability = json!({ "type": "object", "properties": {
        "agent_id": { "type": "integer" }, "weekly": week, "custom": { "type": "boolean", "description": "false: the live-chat hours" },
        "time_off": { "type": "array", "items": { "$ref": "#/components/schemas/TimeOff" } } } });
    json!({
        "/bookings/slots": { "get": {
            "summary": "Free call slots (Platinum customers and staff): on the 15-minute Eastern grid, in live-chat hours (Mon–Fri 09:00–18:00 Eastern, no holidays), at least 2 h and at most 30 days ahead, when an agent who takes calls is free",
            "security": secured(),
            "parameters": [q("from", "YYYY-MM-DD, Eastern (default today)"), q("days", "1–31 (default 7)"),
                q("duration", "30, 45 or 60 minutes (default 30)"), q("ticket_id", "one of your P1/P2 tickets: slots before its SLA deadline come first")],
            "responses": { "200": { "description": "`[{start, end}]`; with `ticket_id` of a P1/P2 ticket each slot also says `before_sla_deadline`, and the deadline comes in the `SLA-Deadline` header",
                "headers": { "SLA-Deadline": { "schema": { "type": "string", "format": "date-time" }, "description": "the deadline the call should beat (with `ticket_id`)" } },
                "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object", "required": ["start", "end"], "properties": {
                    "start": { "type": "string", "format": "date-time" }, "end": { "type": "string", "format": "date-time" },
                    "before_sla_deadline": { "type": "boolean" } } } } } } },
                "403": { "description": "`platinum_only`: General-tier customers", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "422": r("Invalid") }
        } },
        "/bookings": {
            "post": {
                "summary": "Platinum customers: book a call; an agent who takes calls is assigned (fewest calls that day, then round robin). At most 3 upcoming calls. Limited to 20 bookings and reschedules per 10 minutes",
                "security": secured(), "parameters": [idempotency],
                "requestBody": json_body(json!({ "type": "object", "required": ["start", "duration_minutes", "platform", "topic"], "properties": {
                    "start": { "type": "string", "format": "date-time" }, "duration_minutes": { "type": "integer", "enum": [30, 45, 60] },
                    "platform": { "type": "string", "enum": ["portal", "discord", "zoom"] }, "topic": { "type": "string", "maxLength": 200 },
                    "ticket_id": { "type": "integer", "nullable": true } } })),
                "responses": { "201": ok("The booking", booking_ref()),
                    "403": { "description": "`platinum_only` (General tier) or `customers_only` (staff)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                    "409": { "description": "`slot_taken`: no agent is free any more; `fields` `next.0`, `next.1`… hold the next free starts. Also `overlaps_your_call`", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                    "422": { "description": "The code names the rule: `off_grid`, `outside_hours`, `holiday`, `too_soon`, `too_far`, `too_many_calls`; `validation_failed` for fields", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                    "429": r("RateLimited") }
            },
            "get": {
                "summary": "Calls: customers their own, agents the ones they take, managers all", "security": secured(),
                "parameters": [limit, cursor, q("scope", "upcoming (default: booked, not ended, soonest first) | past (ended, cancelled or done, latest first)")],
                "responses": { "200": ok("A page of bookings; the cursor is an offset", page_of(booking_ref())), "422": r("Invalid") }
            }
        },
        "/bookings/{id}": { "get": { "summary": "One booking (its customer, its agent, managers; others get 404)", "security": secured(), "parameters": [id],
            "responses": { "200": ok("The booking", booking_ref()), "404": r("NotFound") } } },
        "/bookings/{id}/cancel": { "post": {
            "summary": "Cancel: the customer until 1 h before the start (`too_late_to_change` after), staff with a `reason`. The other side is notified",
            "security": secured(), "parameters": [id],
            "requestBody": { "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "reason": { "type": "string", "maxLength": 500 } } } } } },
            "responses": { "200": ok("The cancelled booking", booking_ref()), "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid") }
        } },
        "/bookings/{id}/reschedule": { "post": {
            "summary": "The customer moves the call (until 1 h before); the agent keeps it when free, else another is assigned",
            "security": secured(), "parameters": [id],
            "requestBody": json_body(json!({ "type": "object", "required": ["start"], "properties": {
                "start": { "type": "string", "format": "date-time" }, "duration_minutes": { "type": "integer", "enum": [30, 45, 60] } } })),
            "responses": { "200": ok("The booking", booking_ref()), "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid"), "429": r("RateLimited") }
        } },
        "/bookings/{id}/done": { "post": {
            "summary": "Staff: the call was held. On a ticket the notes become an internal note and count as the first response",
            "security": secured(), "parameters": [id],
            "requestBody": json_body(json!({ "type": "object", "required": ["notes"], "properties": { "notes": { "type": "string", "maxLength": 10000 } } })),
            "responses": { "200": ok("The booking", booking_ref()), "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid") }
        } },
        "/bookings/{id}/meeting-url": { "put": {
            "summary": "Staff: the Discord or Zoom link (http or https only); the customer is notified",
            "security": secured(), "parameters": [id],
            "requestBody": json_body(json!({ "type": "object", "required": ["meeting_url"], "properties": { "meeting_url": { "type": "string", "format": "uri" } } })),
            "responses": { "200": ok("The booking", booking_ref()), "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid") }
        } },
        "/bookings/{id}/ics": { "get": {
            "summary": "The call as an iCalendar file (one VEVENT, UTC times), `Content-Disposition: attachment; filename=call-{id}.ics`",
            "security": secured(), "parameters": [id],
            "responses": { "200": { "description": "The calendar file", "content": { "text/calendar": { "schema": { "type": "string" } } } }, "404": r("NotFound") }
        } },
        "/bookings/{id}/room": {
            "get": { "summary": "The portal call room: the booking, `open` (10 minutes before the start until its end), chat, who else is there. `?typing=true` while typing",
                "security": secured(), "parameters": [id],
                "responses": { "200": ok("The room", json!({ "type": "object", "properties": { "booking": booking_ref(), "open": { "type": "boolean" },
                    "messages": { "type": "array", "items": { "type": "object" } }, "others": { "type": "array", "items": { "type": "object" } } } })),
                    "404": r("NotFound") } },
            "post": { "summary": "Say something in the room while it is open (409 `room_closed` otherwise)", "security": secured(), "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string", "maxLength": 2000 } } })),
                "responses": { "201": { "description": "The message" }, "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid") } }
        },
        "/bookings/{id}/signal": { "post": {
            "summary": "Video in the portal room, for its participants (customer, agent, managers; 404 for others) while it is open (409 `room_closed` otherwise): an offer, answer, ICE candidate or hang-up for `to_user_id` (default: the call's other side), delivered on their event stream as `call.signal` `{booking_id, from_user_id, from_name, kind, payload}`. The payload is a JSON object of at most 32 KiB. Limited to 200 signals per 10 minutes",
            "security": secured(), "parameters": [id],
            "requestBody": json_body(json!({ "type": "object", "required": ["kind"], "properties": {
                "kind": { "type": "string", "enum": ["offer", "answer", "candidate", "bye"] },
                "to_user_id": { "type": "integer", "nullable": true },
                "payload": { "type": "object", "description": "required except for bye" } } })),
            "responses": { "202": ok("Who it went to", json!({ "type": "object", "properties": { "to_user_ids": { "type": "array", "items": { "type": "integer" } } } })),
                "404": r("NotFound"), "409": r("Conflict"), "422": r("Invalid"), "429": r("RateLimited") }
        } },
        "/bookings/{id}/ice": { "get": {
            "summary": "The ICE servers for the room's video (participants, while it is open): none unless the operator configured STUN or TURN; TURN with a credential of your own (TURN REST API: username `<unix expiry>:<user id>`, credential base64(HMAC-SHA1(secret, username))) valid until `expires_at` (at least until the call ends)",
            "security": secured(), "parameters": [id],
            "responses": { "200": ok("ICE servers", json!({ "type": "object", "required": ["ice_servers", "expires_at"], "properties": {
                "ice_servers": { "type": "array", "items": { "type": "object", "required": ["urls"], "properties": {
                    "urls": { "type": "array", "items": { "type": "string" } }, "username": { "type": "string" }, "credential": { "type": "string" } } } },
                "expires_at": { "type": "string", "format": "date-time" } } })),
                "404": r("NotFound"), "409": r("Conflict") }
        } },
        "/bookings/availability": {
            "get": { "summary": "Staff: your call hours (Eastern) and time off ahead; managers `?agent_id=` for anyone on staff",
                "security": secured(), "parameters": [q("agent_id", "managers: whose")],
                "responses": { "200": ok("Hours and time off", availability.clone()), "403": r("Forbidden"), "404": r("NotFound") } },
            "put": { "summary": "Staff: replace your weekly call hours (managers: `?agent_id=`); `null` goes back to the live-chat hours. Calls still happen only inside live-chat hours",
                "security": secured(), "parameters": [q("agent_id", "managers: whose")],
                "requestBody": json_body(json!({ "allOf": [week], "nullable": true })),
                "responses": { "200": ok("Hours and time off", availability), "403": r("Forbidden"), "422": r("Invalid") } }
        },
        "/bookings/time-off": { "post": {
            "summary": "Staff: time off for yourself (managers: any `agent_id`); no new calls are offered in it, booked ones stay",
            "security": secured(),
            "requestBody": json_body(json!({ "type": "object", "required": ["start", "end"], "properties": {
                "start": { "type": "string", "format": "date-time" }, "end": { "type": "string", "format": "date-time" },
                "reason": { "type": "string", "maxLength": 500 }, "agent_id": { "type": "integer" } } })),
            "responses": { "201": ok("The time off", json!({ "$ref": "#/components/schemas/TimeOff" })), "403": r("Forbidden"), "422": r("Invalid") }
        } }
    })
}

fn user_ref() -> Value {
    json!({ "$ref": "#/components/schemas/User" })
}

/// Satisfaction surveys, the managers' summary and the CSV export.
fn report_paths(id: &Value, idempotency: &Value) -> Value {
    let r = |name: &str| json!({ "$ref": format!("#/components/responses/{name}") });
    let date = |name: &str, description: &str| json!({ "name": name, "in": "query", "schema": { "type": "string", "format": "date" }, "description": description });
    let answer = json!({ "type": "object", "properties": {
        "rating": { "type": "string", "enum": ["good", "bad"] }, "comment": { "type": "string", "nullable": true },
        "created_at": { "type": "string", "format": "date-time" },
        "resolved_at": { "type": "string", "format": "date-time", "description": "The resolution this answers" } } });
    let compliance = json!({ "type": "object", "properties": { "met": { "type": "integer" }, "breached": { "type": "integer" },
        "compliance": { "type": "number", "nullable": true, "description": "met / (met + breached); null without outcomes" } } });
    let rate = json!({ "type": "object", "properties": { "good": { "type": "integer" }, "bad": { "type": "integer" },
        "rate": { "type": "number", "nullable": true } } });
    json!({
        "/tickets/{id}/satisfaction": {
            "post": {
                "summary": "The requester rates the current resolution once (a reopened and re-resolved ticket asks again)",
                "security": secured(), "parameters": [id, idempotency],
                "requestBody": json_body(json!({ "type": "object", "required": ["rating"], "additionalProperties": false, "properties": {
                    "rating": { "type": "string", "enum": ["good", "bad"] }, "comment": { "type": "string", "maxLength": 2000 } } })),
                "responses": { "201": ok("The answer", answer.clone()), "403": r("Forbidden"), "404": r("NotFound"),
                    "409": { "description": "`not_resolved` or `already_answered`", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                    "422": r("Invalid") }
            },
            "get": {
                "summary": "The survey as you see it: whether you may answer now, and past answers (requester and staff)",
                "security": secured(), "parameters": [id],
                "responses": { "200": ok("`{can_answer, answers}`, answers newest first", json!({ "type": "object", "properties": {
                    "can_answer": { "type": "boolean" }, "answers": { "type": "array", "items": answer } } })), "404": r("NotFound") }
            }
        },
        "/sla/summary": { "get": {
            "summary": "Managers: open tickets by priority, SLA compliance per clock, median first response, satisfaction, tickets per day, agents, today's calls. The window is the last `days` Eastern calendar days up to now",
            "security": secured(),
            "parameters": [{ "name": "days", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 365, "default": 30 } }],
            "responses": {
                "200": ok("The summary", json!({ "type": "object", "properties": {
                    "days": { "type": "integer" }, "generated_at": { "type": "string", "format": "date-time" },
                    "window_start": { "type": "string", "format": "date-time" },
                    "open_by_priority": { "type": "object", "properties": { "P1": { "type": "integer" }, "P2": { "type": "integer" }, "P3": { "type": "integer" }, "P4": { "type": "integer" } } },
                    "first_response": compliance.clone(), "resolution": compliance.clone(), "both_targets": compliance,
                    "compliance_target": { "type": "number" },
                    "median_first_response_seconds": { "type": "integer", "nullable": true },
                    "satisfaction": { "type": "object", "properties": { "good": { "type": "integer" }, "bad": { "type": "integer" },
                        "rate": { "type": "number", "nullable": true }, "target": { "type": "number" }, "sla_met": rate.clone(), "sla_breached": rate } },
                    "per_day": { "type": "array", "items": { "type": "object", "properties": {
                        "date": { "type": "string", "format": "date" }, "created": { "type": "integer" }, "resolved": { "type": "integer" } } } },
                    "agents": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "integer" }, "name": { "type": "string" }, "level": { "type": "string", "nullable": true },
                        "open_assigned": { "type": "integer" }, "resolved": { "type": "integer" }, "replies": { "type": "integer" },
                        "survey_good": { "type": "integer" }, "survey_total": { "type": "integer" } } } },
                    "calls_today": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "integer" }, "start": { "type": "string", "format": "date-time" }, "duration_minutes": { "type": "integer" },
                        "platform": { "type": "string" }, "status": { "type": "string" }, "topic": { "type": "string" },
                        "agent_id": { "type": "integer" }, "agent_name": { "type": "string" },
                        "customer_id": { "type": "integer" }, "customer_name": { "type": "string" } } } } } })),
                "403": r("Forbidden"), "422": r("Invalid")
            }
        } },
        "/tickets/export.csv": { "get": {
            "summary": "Managers: CSV of the tickets created on the Eastern days from..=to (default the last 30 days; at most 366). Cells that a spreadsheet would run as formulas start with '",
            "security": secured(),
            "parameters": [date("from", "YYYY-MM-DD, inclusive"), date("to", "YYYY-MM-DD, inclusive (default today)")],
            "responses": {
                "200": { "description": "`text/csv; charset=utf-8`, as an attachment `tickets-FROM-to-TO.csv`: id, created_at, subject, category, priority, tier, status, level, requester_email, assignee, first_response_at, first_response_sla, resolved_at, resolution_sla, satisfaction",
                    "content": { "text/csv": { "schema": { "type": "string" } } } },
                "403": r("Forbidden"), "422": r("Invalid")
            }
        } }
    })
}

fn integration_paths(id: &Value) -> Value {
    let secured = || json!([{ "bearer": [] }, { "session": [] }]);
    let webhook = || {
        json!({ "type": "object", "properties": {
        "id": { "type": "integer" }, "url": { "type": "string" }, "events": { "type": "array", "items": { "type": "string" } },
        "description": { "type": "string", "nullable": true }, "active": { "type": "boolean" },
        "consecutive_failures": { "type": "integer" }, "disabled_reason": { "type": "string", "nullable": true },
        "created_at": { "type": "integer" }, "deliveries": { "type": "integer" }, "delivered": { "type": "integer" } } })
    };
    let events = || json!({ "type": "array", "items": { "type": "string", "enum": webhook_event_kinds() } });
    let delivery = || {
        json!({ "type": "object", "properties": {
        "id": { "type": "integer" }, "event": { "type": "string" }, "event_id": { "type": "string" },
        "status": { "type": "string", "enum": ["pending", "delivered", "failed", "skipped"] }, "attempts": { "type": "integer" },
        "status_code": { "type": "integer", "nullable": true }, "latency_ms": { "type": "integer", "nullable": true },
        "error": { "type": "string", "nullable": true }, "created_at": { "type": "integer" },
        "delivered_at": { "type": "integer", "nullable": true }, "next_attempt_at": { "type": "integer", "nullable": true } } })
    };
    let log = || json!({ "type": "object", "properties": { "items": { "type": "array", "items": delivery() } } });
    let limit = || json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } });
    let forbidden = || json!({ "$ref": "#/components/responses/Forbidden" });
    let invalid = || json!({ "$ref": "#/components/responses/Invalid" });
    let not_found = || json!({ "$ref": "#/components/responses/NotFound" });
    let prefs = || {
        json!({ "type": "object", "required": ["tickets", "sla", "bookings", "features"], "properties": {
        "tickets": { "type": "boolean" }, "sla": { "type": "boolean" }, "bookings": { "type": "boolean" }, "features": { "type": "boolean" } } })
    };
    let discord = || {
        json!({ "type": "object", "properties": { "url_masked": { "type": "string", "nullable": true },
        "events": { "type": "array", "items": { "type": "string" } } } })
    };
    let test_result = || {
        json!({ "type": "object", "properties": { "ok": { "type": "boolean" },
        "status_code": { "type": "integer", "nullable": true }, "latency_ms": { "type": "integer" }, "error": { "type": "string", "nullable": true } } })
    };
    json!({
        "/webhooks": {
            "get": { "summary": "Outgoing webhooks (managers); secrets are never listed", "security": secured(),
                "responses": { "200": ok("The webhooks", json!({ "type": "object", "properties": { "items": { "type": "array", "items": webhook() } } })), "403": forbidden() } },
            "post": { "summary": "Add a webhook (managers). Deliveries are POSTed as JSON with X-Supportal-Event, X-Supportal-Delivery (de-duplicate on it: delivery is at least once) and X-Supportal-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" keyed with the secret>. Retried with exponential backoff up to 8 times; switched off after 5 failures in a row.",
                "security": secured(),
                "requestBody": json_body(json!({ "type": "object", "required": ["url", "events"], "properties": {
                    "url": { "type": "string", "description": "http:// or https://" }, "events": events(),
                    "secret": { "type": "string", "minLength": 16, "description": "Omit to have one generated" },
                    "description": { "type": "string", "maxLength": 200 } } })),
                "responses": { "201": ok("The webhook and its secret, shown this once", webhook()), "403": forbidden(), "409": { "$ref": "#/components/responses/Conflict" }, "422": invalid() } }
        },
        "/webhooks/{id}": {
            "get": { "summary": "One webhook (managers)", "parameters": [id], "security": secured(), "responses": { "200": ok("The webhook", webhook()), "404": not_found() } },
            "patch": { "summary": "Change URL, events, description, or switch on/off (managers); switching on clears the failures", "parameters": [id], "security": secured(),
                "requestBody": json_body(json!({ "type": "object", "properties": { "url": { "type": "string" }, "events": events(), "description": { "type": "string" }, "active": { "type": "boolean" } } })),
                "responses": { "200": ok("The webhook", webhook()), "404": not_found(), "422": invalid() } },
            "delete": { "summary": "Delete a webhook and its log (managers)", "parameters": [id], "security": secured(), "responses": { "204": { "description": "Deleted" }, "404": not_found() } }
        },
        "/webhooks/{id}/test": { "post": { "summary": "Queue a signed `ping` event for this webhook (managers)", "parameters": [id], "security": secured(),
            "responses": { "202": ok("Queued", json!({ "type": "object", "properties": { "delivery_id": { "type": "integer" } } })), "404": not_found(), "409": { "$ref": "#/components/responses/Conflict" } } } },
        "/webhooks/{id}/deliveries": { "get": { "summary": "The delivery log, newest first: status, attempts, status code, latency, error (managers)", "parameters": [id, limit()], "security": secured(),
            "responses": { "200": ok("Deliveries", log()), "404": not_found(), "422": invalid() } } },
        "/integrations/discord": {
            "get": { "summary": "The Discord channel (managers); the URL is masked", "security": secured(), "responses": { "200": ok("Settings", discord()), "403": forbidden() } },
            "put": { "summary": "Set the Discord webhook URL (omit: keep; empty: remove) and its events (managers)", "security": secured(),
                "requestBody": json_body(json!({ "type": "object", "required": ["events"], "properties": { "url": { "type": "string" }, "events": { "type": "array", "items": { "type": "string" } } } })),
                "responses": { "200": ok("Settings", discord()), "422": invalid() } }
        },
        "/integrations/discord/test": { "post": { "summary": "Post a test embed to Discord now (managers)", "security": secured(), "responses": { "200": ok("How it went", test_result()), "422": invalid() } } },
        "/integrations/discord/deliveries": { "get": { "summary": "The Discord delivery log (managers)", "parameters": [limit()], "security": secured(), "responses": { "200": ok("Deliveries", log()) } } },
        "/integrations/email/test": { "post": { "summary": "Send a test email to yourself now (managers)", "security": secured(),
            "responses": { "200": ok("How it went", json!({ "type": "object", "properties": { "ok": { "type": "boolean" }, "to": { "type": "string" }, "error": { "type": "string", "nullable": true } } })) } } },
        "/me/email-preferences": {
            "get": { "summary": "Which emails you get", "security": secured(), "responses": { "200": ok("Your choices", prefs()) } },
            "put": { "summary": "Choose which emails you get", "security": secured(), "requestBody": json_body(prefs()), "responses": { "200": ok("Your choices", prefs()), "422": invalid() } }
        }
    })
}

/// The event kinds a webhook may subscribe to.
pub fn webhook_event_kinds() -> Vec<&'static str> {
    app::notify::integrations::WEBHOOK_EVENTS.iter().map(|(kind, _)| *kind).collect()
}

fn article_ref() -> Value {
    json!({ "$ref": "#/components/schemas/Article" })
}

/// The knowledge base.
fn kb_paths(limit: &Value, cursor: &Value, idempotency: &Value) -> Value {
    let q = |name: &str, description: &str| json!({ "name": name, "in": "query", "schema": { "type": "string" }, "description": description });
    let r = |name: &str| json!({ "$ref": format!("#/components/responses/{name}") });
    let slug = json!({ "name": "slug", "in": "path", "required": true, "schema": { "type": "string" } });
    let input = json!({ "type": "object", "additionalProperties": false, "required": ["title", "category", "body_md"], "properties": {
        "title": { "type": "string", "minLength": 3, "maxLength": 150 },
        "slug": { "type": "string", "maxLength": 80, "description": "lowercase letters, digits, single hyphens; made from the title when absent" },
        "category": { "type": "string", "enum": ["getting-started", "feature-guides", "troubleshooting", "advanced-topics"] },
        "body_md": { "type": "string", "maxLength": 50000, "description": "Markdown; rendered and sanitised on save" },
        "published": { "type": "boolean", "default": false },
        "version": { "type": "integer", "description": "PUT: the version edited; a newer stored one answers 409 `article_changed`" } } });
    json!({
        "/articles": {
            "get": {
                "summary": "Search or list articles: anyone sees published ones; staff add `include_drafts=1`. With `q`: best match first (title matches weigh more), the last word matching as a prefix; without: most recently updated first. `title_html` and `snippet` are escaped HTML with matches in `<mark>`",
                "parameters": [limit, cursor, q("q", "words to look for"),
                    q("category", "getting-started|feature-guides|troubleshooting|advanced-topics"), q("include_drafts", "1: staff also see drafts")],
                "responses": { "200": ok("A page of articles; the cursor is an offset", page_of(json!({ "$ref": "#/components/schemas/ArticleSummary" }))), "422": r("Invalid") }
            },
            "post": {
                "summary": "Agents and managers: write an article", "security": secured(), "parameters": [idempotency],
                "requestBody": json_body(input.clone()),
                "responses": { "201": ok("The article", article_ref()), "401": r("Unauthorized"), "403": r("Forbidden"),
                    "409": r("Conflict"), "422": r("Invalid"), "413": r("TooLarge") }
            }
        },
        "/articles/{slug}": {
            "get": { "summary": "One article (drafts: staff only, 404 for others); `body_md` for staff", "parameters": [slug.clone()],
                "responses": { "200": ok("The article", article_ref()), "404": r("NotFound") } },
            "put": { "summary": "Agents and managers: change an article (its slug too)", "security": secured(), "parameters": [slug.clone()],
                "requestBody": json_body(input),
                "responses": { "200": ok("The article", article_ref()), "403": r("Forbidden"), "404": r("NotFound"),
                    "409": r("Conflict"), "422": r("Invalid") } }
        },
        "/articles/{slug}/helpful": { "post": {
            "summary": "Was this helpful? One answer per person (anonymous: per browser, by the `supportal_kb_voter` cookie set on the first answer); answering again changes it",
            "parameters": [slug],
            "requestBody": json_body(json!({ "type": "object", "required": ["helpful"], "properties": { "helpful": { "type": "boolean" } } })),
            "responses": { "200": ok("The article with its counts and `my_vote`", article_ref()), "404": r("NotFound"), "422": r("Invalid") }
        } }
    })
}

pub fn document() -> Value {
    let idempotency = json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 255 } });
    let limit = json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } });
    let cursor = json!({ "name": "cursor", "in": "query", "schema": { "type": "string" } });
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } });
    let more_paths = ticket_paths(&id, &limit, &cursor, &idempotency);
    let feature_paths = feature_paths(&id, &limit, &cursor, &idempotency);
    let booking_paths = booking_paths(&id, &limit, &cursor, &idempotency);
    let report_paths = report_paths(&id, &idempotency);
    let integration_paths = integration_paths(&id);
    let kb_paths = kb_paths(&limit, &cursor, &idempotency);
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Supportal REST API",
            "version": "1",
            "description": "Tickets with SLA clocks, calls, feature voting and a knowledge base. Authenticate with `Authorization: Bearer <token>` (create one at POST /auth/tokens) or a browser session cookie."
        },
        "servers": [{ "url": "/api/v1" }],
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "session": { "type": "apiKey", "in": "cookie", "name": "supportal_session" }
            },
            "schemas": {
                "WeeklyHours": { "type": "object", "additionalProperties": false, "properties": {
                    "support": { "$ref": "#/components/schemas/Week" }, "live_chat": { "$ref": "#/components/schemas/Week" } } },
                "Week": { "type": "object", "description": "monday … sunday; null or missing: closed",
                    "additionalProperties": { "type": "object", "nullable": true, "properties": {
                        "open": { "type": "string", "example": "09:00" }, "close": { "type": "string", "example": "18:00", "description": "24:00 closes at midnight" } } } },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": { "type": "string", "example": "validation_failed" },
                            "message": { "type": "string" },
                            "fields": { "type": "object", "additionalProperties": { "type": "string" } }
                        }
                    } }
                },
                "User": {
                    "type": "object",
                    "required": ["id", "email", "name", "role", "tier", "level", "takes_calls"],
                    "properties": {
                        "id": { "type": "integer" },
                        "email": { "type": "string", "format": "email" },
                        "name": { "type": "string" },
                        "role": { "type": "string", "enum": ["customer", "agent", "manager", "admin"] },
                        "tier": { "type": "string", "enum": ["platinum", "general"], "nullable": true },
                        "level": { "type": "string", "enum": ["L1", "L2", "L3", "L4"], "nullable": true },
                        "takes_calls": { "type": "boolean" }
                    }
                },
                "ApiToken": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "label": { "type": "string" }, "prefix": { "type": "string" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "last_used_at": { "type": "string", "format": "date-time", "nullable": true },
                        "expires_at": { "type": "string", "format": "date-time", "nullable": true }
                    }
                },
                "SlaClock": {
                    "type": "object",
                    "properties": {
                        "target_minutes": { "type": "integer" }, "due_at": { "type": "string", "format": "date-time" },
                        "due_epoch": { "type": "integer" },
                        "state": { "type": "string", "enum": ["on_track", "at_risk", "breached", "met", "paused"] },
                        "remaining_seconds": { "type": "integer" },
                        "paused_since": { "type": "string", "format": "date-time" }, "paused_reason": { "type": "string" }
                    }
                },
                "Ticket": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "subject": { "type": "string" }, "body": { "type": "string" },
                        "priority": { "type": "string" }, "category": { "type": "string" }, "status": { "type": "string" },
                        "tier": { "type": "string" }, "requester_id": { "type": "integer" }, "assignee_id": { "type": "integer", "nullable": true },
                        "level": { "type": "string" }, "created_at": { "type": "string", "format": "date-time" },
                        "updated_at": { "type": "string", "format": "date-time" },
                        "sla": { "type": "object", "properties": {
                            "first_response": { "$ref": "#/components/schemas/SlaClock" },
                            "resolution": { "$ref": "#/components/schemas/SlaClock" } } }
                    }
                },
                "Message": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "ticket_id": { "type": "integer" }, "author_id": { "type": "integer" },
                        "author_name": { "type": "string" }, "from_staff": { "type": "boolean" }, "body": { "type": "string" },
                        "internal": { "type": "boolean" }, "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "Feature": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "title": { "type": "string" }, "body": { "type": "string" },
                        "status": { "type": "string", "enum": ["open", "under_review", "planned", "in_progress", "shipped", "declined"] },
                        "author_id": { "type": "integer" }, "author_name": { "type": "string" },
                        "ticket_id": { "type": "integer", "nullable": true }, "merged_into_id": { "type": "integer", "nullable": true },
                        "votes": { "type": "integer" }, "platinum_votes": { "type": "integer" }, "voted_by_me": { "type": "boolean" },
                        "comments_count": { "type": "integer" }, "trending": { "type": "number" },
                        "created_at": { "type": "string", "format": "date-time" }, "updated_at": { "type": "string", "format": "date-time" },
                        "status_changed_at": { "type": "string", "format": "date-time" }
                    }
                },
                "ArticleSummary": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "slug": { "type": "string" }, "title": { "type": "string" },
                        "title_html": { "type": "string", "description": "Escaped HTML, matches in <mark>" },
                        "category": { "type": "string", "enum": ["getting-started", "feature-guides", "troubleshooting", "advanced-topics"] },
                        "snippet": { "type": "string", "description": "Escaped HTML excerpt, matches in <mark>" },
                        "published": { "type": "boolean" }, "updated_at": { "type": "string", "format": "date-time" },
                        "helpful_yes": { "type": "integer" }, "helpful_no": { "type": "integer" }
                    }
                },
                "Article": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "slug": { "type": "string" }, "title": { "type": "string" },
                        "category": { "type": "string" }, "body_html": { "type": "string", "description": "Rendered and sanitised Markdown" },
                        "body_md": { "type": "string", "description": "Staff only" }, "published": { "type": "boolean" },
                        "author_name": { "type": "string", "nullable": true }, "created_at": { "type": "string", "format": "date-time" },
                        "updated_at": { "type": "string", "format": "date-time" }, "helpful_yes": { "type": "integer" },
                        "helpful_no": { "type": "integer" }, "version": { "type": "integer" },
                        "my_vote": { "type": "boolean", "nullable": true, "description": "Your own answer, if any" }
                    }
                },
                "Booking": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" },
                        "start": { "type": "string", "format": "date-time" }, "end": { "type": "string", "format": "date-time" },
                        "duration_minutes": { "type": "integer", "enum": [30, 45, 60] },
                        "platform": { "type": "string", "enum": ["portal", "discord", "zoom"] }, "topic": { "type": "string" },
                        "status": { "type": "string", "enum": ["booked", "cancelled", "done"] },
                        "customer_id": { "type": "integer" }, "customer_name": { "type": "string" },
                        "agent_id": { "type": "integer" }, "agent_name": { "type": "string" },
                        "ticket_id": { "type": "integer", "nullable": true },
                        "join_url": { "type": "string", "nullable": true, "description": "The portal room's path, or the Discord/Zoom link once the agent set it" },
                        "cancel_reason": { "type": "string", "nullable": true },
                        "notes": { "type": "string", "nullable": true, "description": "The agent's notes (staff only)" },
                        "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "TimeOff": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "start": { "type": "string", "format": "date-time" },
                        "end": { "type": "string", "format": "date-time" }, "reason": { "type": "string" }
                    }
                },
                "FeatureComment": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "feature_id": { "type": "integer" }, "author_id": { "type": "integer" },
                        "author_name": { "type": "string" }, "from_staff": { "type": "boolean" }, "body": { "type": "string" },
                        "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "ProfilePatch": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "role": { "type": "string", "enum": ["customer", "agent", "manager", "admin"] },
                        "tier": { "type": "string", "enum": ["platinum", "general"], "nullable": true },
                        "level": { "type": "string", "enum": ["L1", "L2", "L3", "L4"], "nullable": true },
                        "takes_calls": { "type": "boolean" }
                    }
                }
            },
            "responses": {
                "BadRequest": error_response("Malformed JSON or query (400)"),
                "Unauthorized": error_response("Not signed in (401)"),
                "Forbidden": error_response("Not allowed (403)"),
                "NotFound": error_response("Not found (404)"),
                "Conflict": error_response("Conflict (409)"),
                "TooLarge": error_response("Body too large (413)"),
                "UnsupportedMediaType": error_response("Body is not JSON (415)"),
                "Invalid": error_response("Invalid fields (422)"),
                "RateLimited": error_response("Rate limited (429), see Retry-After")
            }
        },
        "paths": {
            "/auth/register": { "post": {
                "summary": "Create a customer account (General tier)",
                "parameters": [idempotency],
                "requestBody": json_body(json!({ "type": "object", "required": ["email", "password", "name"], "properties": {
                    "email": { "type": "string" }, "password": { "type": "string", "minLength": 10 }, "name": { "type": "string" } } })),
                "responses": { "201": ok("The new user", user_ref()),
                    "400": { "$ref": "#/components/responses/BadRequest" }, "409": { "$ref": "#/components/responses/Conflict" },
                    "415": { "$ref": "#/components/responses/UnsupportedMediaType" }, "422": { "$ref": "#/components/responses/Invalid" },
                    "429": { "$ref": "#/components/responses/RateLimited" } }
            } },
            "/auth/tokens": {
                "post": {
                    "summary": "Exchange email and password for a personal API token",
                    "parameters": [idempotency],
                    "requestBody": json_body(json!({ "type": "object", "required": ["email", "password", "label"], "properties": {
                        "email": { "type": "string" }, "password": { "type": "string" }, "label": { "type": "string", "maxLength": 60 },
                        "expires_in_days": { "type": "integer", "minimum": 1, "maximum": 365, "description": "Optional lifetime; without it the token lives until revoked" } } })),
                    "responses": { "201": ok("The token (shown once) and its user", json!({ "type": "object", "properties": {
                        "token": { "type": "string" }, "token_info": { "$ref": "#/components/schemas/ApiToken" }, "user": user_ref() } })),
                        "401": { "$ref": "#/components/responses/Unauthorized" }, "429": { "$ref": "#/components/responses/RateLimited" } }
                },
                "get": {
                    "summary": "Your live tokens", "security": [{ "bearer": [] }, { "session": [] }],
                    "responses": { "200": ok("Tokens", json!({ "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/ApiToken" } } } })),
                        "401": { "$ref": "#/components/responses/Unauthorized" } }
                }
            },
            "/auth/tokens/{id}": { "delete": {
                "summary": "Revoke one of your tokens", "parameters": [id.clone()], "security": [{ "bearer": [] }, { "session": [] }],
                "responses": { "204": { "description": "Revoked" }, "404": { "$ref": "#/components/responses/NotFound" } }
            } },
            "/auth/session": {
                "post": {
                    "summary": "Sign in with a session cookie",
                    "requestBody": json_body(json!({ "type": "object", "required": ["email", "password"], "properties": { "email": { "type": "string" }, "password": { "type": "string" } } })),
                    "responses": { "200": ok("Signed in; Set-Cookie carries the session", user_ref()), "401": { "$ref": "#/components/responses/Unauthorized" }, "429": { "$ref": "#/components/responses/RateLimited" } }
                },
                "delete": { "summary": "Sign out", "responses": { "204": { "description": "Signed out" } } }
            },
            "/auth/sessions": { "delete": {
                "summary": "Sign out everywhere: every session of the caller ends, this one too (API tokens stay)", "security": [{ "bearer": [] }, { "session": [] }],
                "responses": { "200": ok("How many sessions ended", json!({ "type": "object", "properties": { "sessions_ended": { "type": "integer" } } })),
                    "401": { "$ref": "#/components/responses/Unauthorized" } }
            } },
            "/auth/password-resets": { "post": {
                "summary": "Ask for a password-reset link by email (single use, 30 minutes). The answer is the same whether or not the address has an account",
                "requestBody": json_body(json!({ "type": "object", "required": ["email"], "properties": { "email": { "type": "string" } } })),
                "responses": { "202": ok("Asked", json!({ "type": "object", "properties": { "message": { "type": "string" } } })),
                    "422": { "$ref": "#/components/responses/Invalid" }, "429": { "$ref": "#/components/responses/RateLimited" } }
            } },
            "/auth/password-resets/confirm": { "post": {
                "summary": "Set a new password with the token from a reset link; every session of the account ends",
                "requestBody": json_body(json!({ "type": "object", "required": ["token", "new_password"], "properties": {
                    "token": { "type": "string" }, "new_password": { "type": "string", "minLength": 10, "maxLength": 128 } } })),
                "responses": { "200": ok("The account", user_ref()), "422": { "$ref": "#/components/responses/Invalid" }, "429": { "$ref": "#/components/responses/RateLimited" } }
            } },
            "/me/password": { "post": {
                "summary": "Change your password (the current one is asked again); your other sessions end, this one stays", "security": [{ "bearer": [] }, { "session": [] }],
                "requestBody": json_body(json!({ "type": "object", "required": ["current_password", "new_password"], "properties": {
                    "current_password": { "type": "string" }, "new_password": { "type": "string", "minLength": 10, "maxLength": 128 } } })),
                "responses": { "204": { "description": "Changed" }, "401": { "$ref": "#/components/responses/Unauthorized" },
                    "422": { "$ref": "#/components/responses/Invalid" }, "429": { "$ref": "#/components/responses/RateLimited" } }
            } },
            "/me": { "get": {
                "summary": "The signed-in user", "security": [{ "bearer": [] }, { "session": [] }],
                "responses": { "200": ok("You", user_ref()), "401": { "$ref": "#/components/responses/Unauthorized" } }
            } },
            "/users": {
                "get": {
                    "summary": "List users (managers)", "security": [{ "bearer": [] }, { "session": [] }],
                    "parameters": [limit, cursor, { "name": "q", "in": "query", "schema": { "type": "string" } }, { "name": "role", "in": "query", "schema": { "type": "string" } }],
                    "responses": { "200": ok("A page of users", json!({ "type": "object", "properties": {
                        "items": { "type": "array", "items": user_ref() }, "next_cursor": { "type": "string", "nullable": true } } })),
                        "401": { "$ref": "#/components/responses/Unauthorized" }, "403": { "$ref": "#/components/responses/Forbidden" } }
                },
                "post": {
                    "summary": "Create a user of any role you may grant (managers)", "security": [{ "bearer": [] }, { "session": [] }],
                    "parameters": [idempotency],
                    "requestBody": json_body(json!({ "type": "object", "required": ["email", "password", "name"], "properties": {
                        "email": { "type": "string" }, "password": { "type": "string" }, "name": { "type": "string" },
                        "role": { "type": "string" }, "tier": { "type": "string", "nullable": true }, "level": { "type": "string", "nullable": true }, "takes_calls": { "type": "boolean" } } })),
                    "responses": { "201": ok("The new user", user_ref()), "403": { "$ref": "#/components/responses/Forbidden" },
                        "409": { "$ref": "#/components/responses/Conflict" }, "422": { "$ref": "#/components/responses/Invalid" } }
                }
            },
            "/users/{id}": {
                "get": { "summary": "One user (managers)", "parameters": [id.clone()], "security": [{ "bearer": [] }, { "session": [] }],
                    "responses": { "200": ok("The user", user_ref()), "404": { "$ref": "#/components/responses/NotFound" } } },
                "patch": {
                    "summary": "Set tier, role, level or call duty (managers)", "parameters": [id], "security": [{ "bearer": [] }, { "session": [] }],
                    "requestBody": json_body(json!({ "$ref": "#/components/schemas/ProfilePatch" })),
                    "responses": { "200": ok("The updated user", user_ref()), "403": { "$ref": "#/components/responses/Forbidden" },
                        "404": { "$ref": "#/components/responses/NotFound" }, "422": { "$ref": "#/components/responses/Invalid" } }
                }
            }
        }
    });
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), more_paths) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), feature_paths) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), booking_paths) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), report_paths) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), integration_paths) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), kb_paths) {
        paths.extend(more);
    }
    doc
}

pub async fn spec() -> Json<Value> {
    Json(document())
}
