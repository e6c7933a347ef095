//! Satisfaction surveys: once a ticket is resolved its requester answers "How did we do?" with Good or Bad and
//! an optional comment. One answer per resolution: a ticket reopened and resolved again is asked again.
//!
//! The rules are plain functions here ([`check_answer`], [`may_answer`]); storage is in the `ssr` half
//! ([`state`], [`answer`]); the panel and the `/tickets/:id/survey` page are at the bottom.

use super::Status;
use crate::error::{AppError, AppResult, FieldErrors};
use serde::{Deserialize, Serialize};

crate::text_enum!(Rating {
    Good => "good",
    Bad => "bad",
});

impl Rating {
    pub fn label(self) -> &'static str {
        match self {
            Rating::Good => "Good",
            Rating::Bad => "Bad",
        }
    }
}

/// A comment has at most this many characters.
pub const COMMENT_MAX: usize = 2000;

/// One answer, as the requester and staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    pub rating: Rating,
    pub comment: Option<String>,
    /// When it was answered (RFC 3339).
    pub created_at: String,
    /// The resolution it answers (RFC 3339).
    pub resolved_at: String,
}

/// What the viewer of a ticket may do and see about its survey.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyState {
    /// The viewer is the requester and the current resolution has no answer yet.
    pub can_answer: bool,
    /// Past answers, newest first; for the requester and staff only (empty for anyone else).
    pub answers: Vec<SurveyAnswer>,
}

/// Checks a rating (`good` or `bad`) and an optional comment (trimmed; blank is none), naming each bad field.
pub fn check_answer(rating: &str, comment: Option<&str>) -> AppResult<(Rating, Option<String>)> {
    let mut errors = FieldErrors::default();
    let rating = rating.trim().parse::<Rating>().map_err(|_| errors.add("rating", "Choose Good or Bad.")).ok();
    let comment = match comment.map(str::trim).filter(|c| !c.is_empty()) {
        None => Some(None),
        Some(c) if c.chars().count() > COMMENT_MAX => {
            errors.add("comment", format!("A comment has at most {COMMENT_MAX} characters."));
            None
        }
        Some(c) => Some(Some(c.to_string())),
    };
    errors.into_result()?;
    match (rating, comment) {
        (Some(rating), Some(comment)) => Ok((rating, comment)),
        _ => Err(AppError::internal()),
    }
}

/// Why a survey cannot be answered now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Someone other than the requester (a customer: 404, like any other customer's ticket; staff: 403).
    NotRequester,
    /// The ticket is not resolved or closed (409 `not_resolved`).
    NotResolved,
    /// This resolution already has an answer (409 `already_answered`).
    AlreadyAnswered,
}

impl Refusal {
    pub fn error(self, staff: bool) -> AppError {
        match self {
            Refusal::NotRequester if staff => {
                AppError::new(403, "requester_only", "Only the customer who opened the ticket answers its survey.")
            }
            Refusal::NotRequester => AppError::not_found(),
            Refusal::NotResolved => {
                AppError::conflict("not_resolved", "This ticket is not resolved yet; we will ask once it is.")
            }
            Refusal::AlreadyAnswered => {
                AppError::conflict("already_answered", "You have already told us how we did with this ticket.")
            }
        }
    }
}

/// Whether the requester may answer now: only the requester, only while the ticket is resolved or closed (with
/// the instant it was resolved), and once per resolution (`answered` lists the `resolved_at` of past answers).
/// Returns the `resolved_at` the answer belongs to.
pub fn may_answer(
    is_requester: bool,
    status: Status,
    resolved_at: Option<i64>,
    answered: &[i64],
) -> Result<i64, Refusal> {
    if !is_requester {
        return Err(Refusal::NotRequester);
    }
    let resolved_at = match (status.is_done(), resolved_at) {
        (true, Some(at)) => at,
        _ => return Err(Refusal::NotResolved),
    };
    if answered.contains(&resolved_at) {
        return Err(Refusal::AlreadyAnswered);
    }
    Ok(resolved_at)
}

/// "Thanks — you rated this Good".
pub fn thanks(rating: Rating) -> String {
    format!("Thanks — you rated this {}", rating.label())
}

/// "Customer rated: Bad — 'Took too long'".
pub fn staff_line(answer: &SurveyAnswer) -> String {
    match &answer.comment {
        Some(c) => format!("Customer rated: {} — '{c}'", answer.rating.label()),
        None => format!("Customer rated: {}", answer.rating.label()),
    }
}

#[cfg(feature = "ssr")]
pub use self::store::{answer, state};

#[cfg(feature = "ssr")]
mod store {
    use super::{check_answer, may_answer, Rating, Refusal, SurveyAnswer, SurveyState};
    use crate::accounts::User;
    use crate::db::{is_unique_violation, now, rfc3339, text_column, Db};
    use crate::error::{AppError, AppResult};
    use crate::events::{self, EventBus};
    use crate::notify;
    use crate::tickets::service::{commit, history, load_row_tx, ticket_event, TicketRow};
    use sqlx::{Any, Executor, Row};

    async fn answers<'e, E: Executor<'e, Database = Any>>(db: E, ticket_id: i64) -> AppResult<Vec<SurveyAnswer>> {
        let rows = sqlx::query(
            "SELECT rating, comment, created_at, resolved_at FROM ticket_surveys WHERE ticket_id = $1 \
             ORDER BY resolved_at DESC",
        )
        .bind(ticket_id)
        .fetch_all(db)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SurveyAnswer {
                    rating: text_column(r, "rating")?,
                    comment: r.try_get("comment")?,
                    created_at: rfc3339(r.try_get("created_at")?),
                    resolved_at: rfc3339(r.try_get("resolved_at")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(AppError::from)
    }

    async fn answered<'e, E: Executor<'e, Database = Any>>(db: E, ticket_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT resolved_at FROM ticket_surveys WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_all(db)
            .await
    }

    /// The survey of ticket `row` as `user` sees it. Past answers go to the requester and staff only.
    pub async fn state(db: &Db, user: &User, row: &TicketRow) -> AppResult<SurveyState> {
        let is_requester = row.requester_id == user.id;
        if !is_requester && !user.role.is_staff() {
            return Ok(SurveyState::default());
        }
        let answers = answers(&db.pool, row.id).await?;
        let done: Vec<i64> = answered(&db.pool, row.id).await?;
        let can_answer = may_answer(is_requester, row.status, row.resolved_at, &done).is_ok();
        Ok(SurveyState { can_answer, answers })
    }

    /// The requester answers the survey of the current resolution of ticket `ticket_id`. In one write
    /// transaction: the answer, a `survey` history row, a `ticket.survey` event and, for a Bad rating, a
    /// notification to the assignee.
    pub async fn answer(
        db: &Db,
        bus: &EventBus,
        user: &User,
        ticket_id: i64,
        rating: &str,
        comment: Option<&str>,
    ) -> AppResult<SurveyAnswer> {
        let (rating, comment) = check_answer(rating, comment)?;
        let at = now();
        let mut tx = crate::tickets::service::begin_ticket_write(db).await?;
        let row = match load_row_tx(&mut tx, ticket_id).await? {
            Some(row) if user.role.is_staff() || row.requester_id == user.id => row,
            _ => return Err(AppError::not_found()),
        };
        let done = answered(&mut *tx, ticket_id).await?;
        let resolved_at = may_answer(row.requester_id == user.id, row.status, row.resolved_at, &done)
            .map_err(|refusal| refusal.error(user.role.is_staff()))?;
        let inserted = sqlx::query(
            "INSERT INTO ticket_surveys (ticket_id, resolved_at, rating, comment, requester_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ticket_id)
        .bind(resolved_at)
        .bind(rating.as_str())
        .bind(comment.as_deref())
        .bind(user.id)
        .bind(at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // A concurrent answer to the same resolution won (PostgreSQL; SQLite writers queue).
            Err(e) if is_unique_violation(&e) => return Err(Refusal::AlreadyAnswered.error(false)),
            Err(e) => return Err(e.into()),
        }
        history(&mut tx, ticket_id, Some(user.id), "survey", (None, Some(rating.as_str())), comment.as_deref()).await?;
        let mut recorded = Vec::new();
        if let (Rating::Bad, Some(assignee)) = (rating, row.assignee_id.filter(|a| *a != user.id)) {
            let notice = notify::NewNotification {
                kind: "ticket.survey",
                text: format!("#{} {}: the customer rated the resolution Bad", row.id, row.subject),
                ticket_id: Some(row.id),
                link: Some(format!("/tickets/{}", row.id)),
                invite: None,
            };
            recorded.extend(notify::to_users(&mut tx, &[assignee], &notice).await?);
        }
        let payload = serde_json::json!({ "rating": rating, "resolved_at": rfc3339(resolved_at) });
        recorded.push(events::record(&mut tx, ticket_event("ticket.survey", &row, false, payload)).await?);
        commit(db, tx, bus, recorded).await?;
        Ok(SurveyAnswer { rating, comment, created_at: rfc3339(at), resolved_at: rfc3339(resolved_at) })
    }
}

// ---- server functions -------------------------------------------------------------------------------------

use leptos::prelude::*;

/// What the survey page needs, in one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyPageData {
    pub ticket_id: i64,
    pub subject: String,
    pub status: Status,
    pub is_requester: bool,
    pub state: SurveyState,
}

#[server(prefix = "/rpc", endpoint = "answer_survey")]
pub async fn answer_survey(
    id: i64,
    #[server(default)] rating: String,
    #[server(default)] comment: Option<String>,
) -> Result<SurveyAnswer, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    answer(&s.db, &s.events, &user, id, &rating, comment.as_deref()).await
}

/// The survey of one ticket as the caller sees it (for pages that show a [`SurveyPanel`]).
#[server(prefix = "/rpc", endpoint = "ticket_survey")]
pub async fn ticket_survey(id: i64) -> Result<SurveyState, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    let row = super::service::visible_row(&s.db, &user, id).await?;
    state(&s.db, &user, &row).await
}

#[server(prefix = "/rpc", endpoint = "survey_page")]
pub async fn load_survey_page(id: i64) -> Result<SurveyPageData, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    let row = super::service::visible_row(&s.db, &user, id).await?;
    let state = state(&s.db, &user, &row).await?;
    Ok(SurveyPageData {
        ticket_id: row.id,
        subject: row.subject,
        status: row.status,
        is_requester: row.requester_id == user.id,
        state,
    })
}

// ---- components ---------------------------------------------------------------------------------------------

/// The survey on a ticket: for the requester, "How did we do?" with Good / Bad and an optional comment while the
/// current resolution has no answer, then their rating; for staff, the customer's past answers ("Customer rated:
/// Bad — '…'"). Renders nothing when there is nothing to ask or show (an unresolved ticket, another viewer).
/// It fetches nothing: the page passes `state` from its own resource, and the panel owns only its
/// `ServerAction`. `preselect` ticks Good or Bad in advance (the survey link's `?rating=`).
#[component]
pub fn SurveyPanel(
    ticket_id: i64,
    state: SurveyState,
    #[prop(default = None)] preselect: Option<Rating>,
) -> impl IntoView {
    let staff = use_context::<crate::accounts::User>().is_some_and(|u| u.role.is_staff());
    let action = ServerAction::<AnswerSurvey>::new();
    let error = crate::ui::action_error(action);
    let rating_error = crate::ui::field_error(error, "rating");
    let comment_error = crate::ui::field_error(error, "comment");
    let answered = move || action.value().get().and_then(Result::ok);
    let chosen = RwSignal::new(preselect);
    let SurveyState { can_answer, answers } = state;
    let latest = answers.first().cloned();
    if staff && answers.is_empty() {
        return ().into_any();
    }
    if staff {
        return view! {
            <section class="panel survey-panel" data-testid="survey-panel" aria-labelledby=format!("survey-{ticket_id}")>
                <h2 id=format!("survey-{ticket_id}")>"Customer satisfaction"</h2>
                <ul class="survey-answers">
                    {answers.into_iter().map(|a| view! {
                        <li class=format!("survey-answer rating-{}", a.rating.as_str())>
                            <span data-testid="survey-answer">{staff_line(&a)}</span>
                            " "<span class="muted">"(" <crate::time::When rfc3339=a.created_at.clone()/> ")"</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
        .into_any();
    }
    if !can_answer {
        return match latest {
            Some(a) => view! {
                <section class="panel survey-panel" data-testid="survey-panel">
                    <p class="survey-thanks" data-testid="survey-thanks">{format!("You rated this {}", a.rating.label())}</p>
                </section>
            }
            .into_any(),
            None => ().into_any(),
        };
    }
    let option = move |rating: Rating| {
        let id = format!("survey-{ticket_id}-{}", rating.as_str());
        view! {
            <div class=format!("survey-choice rating-{}", rating.as_str())>
                <input type="radio" id=id.clone() name="rating" value=rating.as_str()
                    checked=move || chosen.get() == Some(rating)
                    on:change=move |_| chosen.set(Some(rating))/>
                <label for=id>
                    <span aria-hidden="true" class="survey-icon">{if rating == Rating::Good { "👍" } else { "👎" }}</span>
                    {rating.label()}
                </label>
            </div>
        }
    };
    view! {
        <section class="panel survey-panel" data-testid="survey-panel">
            <Show when=move || answered().is_none() fallback=move || view! {
                <p class="survey-thanks" role="status" data-testid="survey-thanks">
                    {answered().map(|a| thanks(a.rating))}
                </p>
            }>
                <ActionForm action=action attr:class="stack survey-form" attr:novalidate=true>
                    <crate::ui::FormError error/>
                    <input type="hidden" name="id" value=ticket_id/>
                    <fieldset class="field survey-choices" aria-describedby=format!("survey-{ticket_id}-rating-error")>
                        <legend id=format!("survey-q-{ticket_id}")>"How did we do?"</legend>
                        <div class="survey-options">
                            {option(Rating::Good)}
                            {option(Rating::Bad)}
                        </div>
                        <p class="field-error" id=format!("survey-{ticket_id}-rating-error") aria-live="polite">{move || rating_error.get()}</p>
                    </fieldset>
                    <div class="field" class:has-error=move || comment_error.get().is_some()>
                        <label for=format!("survey-{ticket_id}-comment")>"Anything you would like to add? (optional)"</label>
                        <textarea id=format!("survey-{ticket_id}-comment") name="comment" rows="3" maxlength=COMMENT_MAX
                            aria-invalid=move || comment_error.get().is_some().to_string()
                            aria-describedby=format!("survey-{ticket_id}-comment-error")></textarea>
                        <p class="field-error" id=format!("survey-{ticket_id}-comment-error") aria-live="polite">{move || comment_error.get()}</p>
                    </div>
                    <crate::ui::SubmitButton label="Send" busy_label="Sending…" pending=action.pending()/>
                </ActionForm>
            </Show>
        </section>
    }
    .into_any()
}

/// `/tickets/:id/survey`: the page a "your ticket is resolved" notification links to; `?rating=good|bad`
/// ticks the answer in advance.
#[component]
pub fn SurveyPage() -> impl IntoView {
    view! {
        <leptos_meta::Title text="How did we do?"/>
        <section class="page narrow-wide">
            <crate::layout::RequireUser>
                <SurveyPageBody/>
            </crate::layout::RequireUser>
        </section>
    }
}

#[component]
fn SurveyPageBody() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let query = leptos_router::hooks::use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let preselect = move || query.with(|q| q.get("rating").and_then(|r| r.parse::<Rating>().ok()));
    let live = crate::live::use_live_version();
    let page = Resource::new(move || (id(), live.get()), |(id, _)| load_survey_page(id));
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Loading…"</p> }>
            {move || page.get().map(|result| match result {
                Err(e) if e.status == 404 => view! { <crate::layout::NotFound/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(data) => {
                    let href = format!("/tickets/{}", data.ticket_id);
                    let waiting = data.is_requester && !data.state.can_answer && data.state.answers.is_empty();
                    view! {
                        <p><leptos_router::components::A href=href.clone()>"← Back to the ticket"</leptos_router::components::A></p>
                        <h1>"Ticket #" {data.ticket_id} ": " {data.subject.clone()}</h1>
                        {waiting.then(|| view! {
                            <p class="callout info" data-testid="survey-not-yet">
                                "This ticket is " {data.status.label().to_lowercase()} ". We will ask how we did once it is resolved."
                            </p>
                        })}
                        <SurveyPanel ticket_id=data.ticket_id state=data.state.clone() preselect=preselect()/>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_and_comment_are_checked_field_by_field() {
        assert_eq!(check_answer("good", None).unwrap(), (Rating::Good, None));
        assert_eq!(check_answer(" bad ", Some("  slow  ")).unwrap(), (Rating::Bad, Some("slow".into())));
        // A blank comment is no comment.
        assert_eq!(check_answer("good", Some("   ")).unwrap(), (Rating::Good, None));
        let e = check_answer("meh", None).unwrap_err();
        assert_eq!((e.status, e.field("rating").is_some()), (422, true));
        let e = check_answer("", None).unwrap_err();
        assert!(e.field("rating").is_some());
        // Exactly 2000 characters (multi-byte ones count once) pass; 2001 do not.
        assert!(check_answer("good", Some(&"é".repeat(COMMENT_MAX))).is_ok());
        let e = check_answer("Good", Some(&"x".repeat(COMMENT_MAX + 1))).unwrap_err();
        assert!(e.field("comment").is_some() && e.field("rating").is_some(), "both fields named: {e:?}");
    }

    #[test]
    fn who_answers_when() {
        use Status::*;
        // (requester?, status, resolved_at, resolutions answered, expected)
        type Case<'a> = (bool, Status, Option<i64>, &'a [i64], Result<i64, Refusal>);
        let cases: &[Case] = &[
            (true, Resolved, Some(100), &[], Ok(100)),
            (true, Closed, Some(100), &[], Ok(100)),
            (true, Resolved, Some(100), &[100], Err(Refusal::AlreadyAnswered)),
            // reopened and resolved again: a new resolution, a new question
            (true, Resolved, Some(200), &[100], Ok(200)),
            (true, Open, None, &[100], Err(Refusal::NotResolved)),
            (true, New, None, &[], Err(Refusal::NotResolved)),
            (true, PendingCustomer, None, &[], Err(Refusal::NotResolved)),
            // closed without a resolution instant cannot say which resolution it answers
            (true, Closed, None, &[], Err(Refusal::NotResolved)),
            (false, Resolved, Some(100), &[], Err(Refusal::NotRequester)),
        ];
        for (requester, status, resolved, answered, expected) in cases {
            assert_eq!(may_answer(*requester, *status, *resolved, answered), *expected, "{status} {resolved:?}");
        }
        assert_eq!(Refusal::NotRequester.error(false).status, 404);
        assert_eq!(Refusal::NotRequester.error(true).status, 403);
        assert_eq!(Refusal::NotResolved.error(false).code, "not_resolved");
        assert_eq!(Refusal::AlreadyAnswered.error(false).code, "already_answered");
    }

    #[test]
    fn texts() {
        assert_eq!(thanks(Rating::Good), "Thanks — you rated this Good");
        let a = SurveyAnswer {
            rating: Rating::Bad,
            comment: Some("Too slow".into()),
            created_at: String::new(),
            resolved_at: String::new(),
        };
        assert_eq!(staff_line(&a), "Customer rated: Bad — 'Too slow'");
        assert_eq!(staff_line(&SurveyAnswer { comment: None, ..a }), "Customer rated: Bad");
    }
}
