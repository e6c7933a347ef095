//! Feature request operations (server only): every change runs in one write
//! transaction together with its history row, its notifications and its event.

use super::{check_comment, check_note, most_similar, rank, status_notice, trending_score, vote_refusal};
use super::{
    Comment, Feature, FeatureDetail, FeatureFilter, FeatureStatus, HistoryEntry, NewFeature, NewFeatureInput, RankKey,
};
use super::{Roadmap, Sort, StatusChange, ROADMAP_SHIPPED_DAYS, TRENDING_WINDOW_SECS};
use crate::accounts::{Role, User};
use crate::db::{is_unique_violation, now, rfc3339, text_column as parse, Backend, Db};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event, EventBus, NewEvent};
use crate::notify::{self, NewNotification};
use crate::ratelimit::RateLimits;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

/// Most requests a list looks at before ranking (the board shows far fewer).
const LIST_CAP: i64 = 2000;

const FEATURE_SELECT: &str = "SELECT f.id, f.title, f.body, f.status, f.author_id, u.name AS author_name, \
     f.ticket_id, f.merged_into_id, f.created_at, f.updated_at, f.status_changed_at, \
     (SELECT COUNT(*) FROM feature_votes v WHERE v.feature_id = f.id) AS votes, \
     (SELECT COUNT(*) FROM feature_votes v JOIN users vu ON vu.id = v.user_id \
        WHERE v.feature_id = f.id AND vu.tier = 'platinum') AS platinum_votes, \
     (SELECT COUNT(*) FROM feature_votes v WHERE v.feature_id = f.id AND v.user_id = $1) AS voted_by_me, \
     (SELECT COUNT(*) FROM feature_comments c WHERE c.feature_id = f.id) AS comments_count \
     FROM features f JOIN users u ON u.id = f.author_id";

fn feature_from_row(row: &AnyRow) -> Result<(Feature, i64), sqlx::Error> {
    let status_changed_at: i64 = row.try_get("status_changed_at")?;
    Ok((
        Feature {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            status: parse(row, "status")?,
            author_id: row.try_get("author_id")?,
            author_name: row.try_get("author_name")?,
            ticket_id: row.try_get("ticket_id")?,
            merged_into_id: row.try_get("merged_into_id")?,
            votes: row.try_get("votes")?,
            platinum_votes: row.try_get("platinum_votes")?,
            voted_by_me: row.try_get::<i64, _>("voted_by_me")? > 0,
            comments_count: row.try_get("comments_count")?,
            trending: 0.0,
            created_at: rfc3339(row.try_get("created_at")?),
            updated_at: rfc3339(row.try_get("updated_at")?),
            status_changed_at: rfc3339(status_changed_at),
        },
        status_changed_at,
    ))
}

/// A row lock on PostgreSQL (SQLite's `BEGIN IMMEDIATE` already serialises writers).
fn lock(db: &Db, exclusive: bool) -> &'static str {
    match (db.backend, exclusive) {
        (Backend::Sqlite, _) => "",
        (Backend::Postgres, true) => " FOR UPDATE",
        (Backend::Postgres, false) => " FOR SHARE",
    }
}

/// Features seen by `viewer` matching the filters, with their trending scores, unranked.
/// `id` picks one (merged ones included); otherwise merged requests are left out.
/// Which ticket a request came from is for staff only. `viewer` is `None` for a visitor (the board is public
/// to read).
async fn load(
    db: &Db,
    viewer: Option<&User>,
    id: Option<i64>,
    filter: &FeatureFilter,
) -> AppResult<Vec<(Feature, i64)>> {
    let pattern = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
    let rows = sqlx::query(&format!(
        "{FEATURE_SELECT} WHERE ($2 = 0 OR f.id = $2) AND ($2 <> 0 OR f.merged_into_id IS NULL) \
         AND ($3 = '' OR f.status = $3) AND ($4 = '' OR lower(f.title) LIKE $4 OR lower(f.body) LIKE $4) \
         ORDER BY f.id DESC LIMIT $5"
    ))
    .bind(viewer.map_or(0, |v| v.id))
    .bind(id.unwrap_or(0))
    .bind(filter.status.map(FeatureStatus::as_str).unwrap_or(""))
    .bind(pattern.unwrap_or_default())
    .bind(LIST_CAP)
    .fetch_all(&db.pool)
    .await?;
    let mut features = rows.iter().map(feature_from_row).collect::<Result<Vec<_>, _>>()?;
    let at = now();
    let recent = recent_votes(db, at).await?;
    for (f, _) in &mut features {
        f.trending = recent.get(&f.id).map(|times| trending_score(at, times)).unwrap_or(0.0);
        if !viewer.is_some_and(|v| v.role.is_staff() || f.author_id == v.id) {
            f.ticket_id = None;
        }
    }
    Ok(features)
}

/// Vote instants of the trending window, per request.
async fn recent_votes(db: &Db, at: i64) -> Result<HashMap<i64, Vec<i64>>, sqlx::Error> {
    let rows = sqlx::query("SELECT feature_id, created_at FROM feature_votes WHERE created_at > $1")
        .bind(at - TRENDING_WINDOW_SECS)
        .fetch_all(&db.pool)
        .await?;
    let mut map: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in rows {
        map.entry(r.try_get("feature_id")?).or_default().push(r.try_get("created_at")?);
    }
    Ok(map)
}

/// One request as `user` sees it (404 when there is none).
pub async fn get(db: &Db, user: Option<&User>, id: i64) -> AppResult<Feature> {
    if id <= 0 {
        return Err(AppError::not_found());
    }
    load(db, user, Some(id), &FeatureFilter::default()).await?.pop().map(|(f, _)| f).ok_or_else(AppError::not_found)
}

/// The board: ranked by the filter's sort (top by default), `offset` and `limit` for paging.
pub async fn list(
    db: &Db,
    user: Option<&User>,
    filter: &FeatureFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<Feature>> {
    let features = load(db, user, None, filter).await?;
    Ok(ranked(features.into_iter().map(|(f, _)| f).collect(), filter.sort.unwrap_or(Sort::Top))
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .collect())
}

fn ranked(features: Vec<Feature>, sort: Sort) -> Vec<Feature> {
    let mut keys: Vec<RankKey> =
        features.iter().map(|f| RankKey { id: f.id, votes: f.votes, trending: f.trending }).collect();
    rank(&mut keys, sort);
    let mut by_id: HashMap<i64, Feature> = features.into_iter().map(|f| (f.id, f)).collect();
    keys.iter().filter_map(|k| by_id.remove(&k.id)).collect()
}

/// Existing requests whose titles look like `title`, best first.
pub async fn similar(db: &Db, user: Option<&User>, title: &str) -> AppResult<Vec<Feature>> {
    if super::tokens(title).is_empty() {
        return Ok(vec![]);
    }
    let features = load(db, user, None, &FeatureFilter::default()).await?;
    let candidates: Vec<(i64, String)> = features.iter().map(|(f, _)| (f.id, f.title.clone())).collect();
    let ids = most_similar(title, &candidates);
    let mut by_id: HashMap<i64, Feature> = features.into_iter().map(|(f, _)| (f.id, f)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

pub async fn roadmap(db: &Db, user: Option<&User>) -> AppResult<Roadmap> {
    let since = now() - ROADMAP_SHIPPED_DAYS * 86_400;
    let mut map = Roadmap::default();
    let mut shipped = Vec::new();
    for (f, changed_at) in load(db, user, None, &FeatureFilter::default()).await? {
        match f.status {
            FeatureStatus::Planned => map.planned.push(f),
            FeatureStatus::InProgress => map.in_progress.push(f),
            FeatureStatus::Shipped if changed_at >= since => shipped.push((changed_at, f)),
            _ => {}
        }
    }
    map.planned = ranked(map.planned, Sort::Top);
    map.in_progress = ranked(map.in_progress, Sort::Top);
    shipped.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    map.shipped = shipped.into_iter().map(|(_, f)| f).collect();
    Ok(map)
}

pub async fn detail(db: &Db, user: Option<&User>, id: i64) -> AppResult<FeatureDetail> {
    let feature = get(db, user, id).await?;
    let comments = comments(db, id).await?;
    let history = sqlx::query(
        "SELECT h.id, h.kind, h.from_value, h.to_value, h.note, u.name AS actor_name, h.created_at \
         FROM feature_history h LEFT JOIN users u ON u.id = h.actor_id WHERE h.feature_id = $1 ORDER BY h.id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(HistoryEntry {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            from_value: r.try_get("from_value")?,
            to_value: r.try_get("to_value")?,
            note: r.try_get("note")?,
            actor_name: r.try_get("actor_name")?,
            created_at: rfc3339(r.try_get("created_at")?),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(FeatureDetail { feature, comments, history })
}

pub async fn comments(db: &Db, id: i64) -> AppResult<Vec<Comment>> {
    sqlx::query(
        "SELECT c.id, c.feature_id, c.author_id, u.name AS author_name, u.role AS author_role, c.body, c.created_at \
         FROM feature_comments c JOIN users u ON u.id = c.author_id WHERE c.feature_id = $1 ORDER BY c.id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Comment {
            id: r.try_get("id")?,
            feature_id: r.try_get("feature_id")?,
            author_id: r.try_get("author_id")?,
            author_name: r.try_get("author_name")?,
            from_staff: r.try_get::<String, _>("author_role")? != Role::Customer.as_str(),
            body: r.try_get("body")?,
            created_at: rfc3339(r.try_get("created_at")?),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map_err(AppError::from)
}

/// Posting is limited per person ([`super::POSTS_PER_HOUR`] an hour), so the board stays readable.
pub async fn check_post_rate(limits: &RateLimits, user: &User) -> AppResult<()> {
    limits.check(crate::ratelimit::Limit::FeaturePosts, &format!("user:{}", user.id)).await
}

async fn history(
    tx: &mut Transaction<'static, Any>,
    feature_id: i64,
    actor: Option<i64>,
    kind: &str,
    change: (Option<&str>, Option<&str>),
    note: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO feature_history (feature_id, actor_id, kind, from_value, to_value, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(feature_id)
    .bind(actor)
    .bind(kind)
    .bind(change.0)
    .bind(change.1)
    .bind(note)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_feature(
    tx: &mut Transaction<'static, Any>,
    author_id: i64,
    new: &NewFeature,
    ticket_id: Option<i64>,
    at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO features (title, body, status, author_id, ticket_id, created_at, updated_at, status_changed_at) \
         VALUES ($1, $2, 'open', $3, $4, $5, $5, $5) RETURNING id",
    )
    .bind(&new.title)
    .bind(&new.body)
    .bind(author_id)
    .bind(ticket_id)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

async fn add_vote(
    tx: &mut Transaction<'static, Any>,
    feature_id: i64,
    user_id: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO feature_votes (feature_id, user_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (feature_id, user_id) DO NOTHING",
    )
    .bind(feature_id)
    .bind(user_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(added.rows_affected() == 1)
}

async fn vote_count(tx: &mut Transaction<'static, Any>, feature_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM feature_votes WHERE feature_id = $1")
        .bind(feature_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")
}

async fn voters(tx: &mut Transaction<'static, Any>, feature_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT user_id FROM feature_votes WHERE feature_id = $1 ORDER BY user_id")
        .bind(feature_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect()
}

/// A stored request's state, read (and on PostgreSQL locked) inside a transaction.
struct Current {
    title: String,
    status: FeatureStatus,
    ticket_id: Option<i64>,
    merged_into_id: Option<i64>,
}

async fn current(db: &Db, tx: &mut Transaction<'static, Any>, id: i64, exclusive: bool) -> AppResult<Option<Current>> {
    let row = sqlx::query(&format!(
        "SELECT title, status, ticket_id, merged_into_id FROM features WHERE id = $1{}",
        lock(db, exclusive)
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        None => None,
        Some(r) => Some(Current {
            title: r.try_get("title")?,
            status: parse(&r, "status")?,
            ticket_id: r.try_get("ticket_id")?,
            merged_into_id: r.try_get("merged_into_id")?,
        }),
    })
}

fn feature_event(kind: &'static str, id: i64, extra: serde_json::Value) -> NewEvent {
    let mut payload = json!({ "feature_id": id });
    if let (Some(obj), serde_json::Value::Object(more)) = (payload.as_object_mut(), extra) {
        obj.extend(more);
    }
    NewEvent::public(kind, payload)
}

async fn commit(db: &Db, tx: Transaction<'static, Any>, bus: &EventBus, events: Vec<Event>) -> AppResult<()> {
    tx.commit().await?;
    events::after_commit(db, bus, events);
    Ok(())
}

/// Someone signed in posts a request; a customer's own vote comes with it.
pub async fn create(db: &Db, bus: &EventBus, user: &User, new: NewFeature) -> AppResult<Feature> {
    let at = now();
    let mut tx = db.begin_write().await?;
    let id = insert_feature(&mut tx, user.id, &new, None, at).await?;
    history(&mut tx, id, Some(user.id), "created", (None, Some(FeatureStatus::Open.as_str())), None, at).await?;
    if user.role == Role::Customer {
        add_vote(&mut tx, id, user.id, at).await?;
    }
    let event = events::record(&mut tx, feature_event("feature.created", id, json!({ "status": "open" }))).await?;
    commit(db, tx, bus, vec![event]).await?;
    get(db, Some(user), id).await
}

/// Adds (`on`) or withdraws the caller's vote; doing either twice changes nothing.
pub async fn vote(db: &Db, bus: &EventBus, user: &User, id: i64, on: bool) -> AppResult<Feature> {
    if user.role != Role::Customer {
        return Err(AppError::new(403, "customers_only", "Votes are for customers; staff follow the counts."));
    }
    let at = now();
    let mut tx = db.begin_write().await?;
    let feature = current(db, &mut tx, id, false).await?.ok_or_else(AppError::not_found)?;
    if let Some(into) = feature.merged_into_id {
        return Err(vote_refusal(feature.status, Some(into)).unwrap_or_else(AppError::internal));
    }
    if on {
        if let Some(refusal) = vote_refusal(feature.status, None) {
            return Err(refusal);
        }
    }
    let changed = if on {
        add_vote(&mut tx, id, user.id, at).await?
    } else {
        sqlx::query("DELETE FROM feature_votes WHERE feature_id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0
    };
    if changed {
        let votes = vote_count(&mut tx, id).await?;
        let event = events::record(&mut tx, feature_event("feature.voted", id, json!({ "votes": votes }))).await?;
        commit(db, tx, bus, vec![event]).await?;
    } else {
        tx.rollback().await?;
    }
    get(db, Some(user), id).await
}

pub async fn add_comment(db: &Db, bus: &EventBus, user: &User, id: i64, body: &str) -> AppResult<Comment> {
    let body = check_comment(body).map_err(|m| AppError::invalid_field("body", m))?;
    let at = now();
    let mut tx = db.begin_write().await?;
    let feature = current(db, &mut tx, id, false).await?.ok_or_else(AppError::not_found)?;
    if let Some(into) = feature.merged_into_id {
        return Err(AppError::conflict(
            "feature_merged",
            format!("This request was merged into #{into}; comment there instead."),
        ));
    }
    let comment_id: i64 = sqlx::query(
        "INSERT INTO feature_comments (feature_id, author_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(id)
    .bind(user.id)
    .bind(&body)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    sqlx::query("UPDATE features SET updated_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
    let event =
        events::record(&mut tx, feature_event("feature.commented", id, json!({ "comment_id": comment_id }))).await?;
    commit(db, tx, bus, vec![event]).await?;
    Ok(Comment {
        id: comment_id,
        feature_id: id,
        author_id: user.id,
        author_name: user.name.clone(),
        from_staff: user.role.is_staff(),
        body,
        created_at: rfc3339(at),
    })
}

/// Agents move a request to a new status with an optional public note; every
/// voter is told. When a request that came from a ticket ships, the ticket's
/// requester is told in words about their ticket. The same status with a note
/// posts an update without notifying anyone.
pub async fn set_status(db: &Db, bus: &EventBus, user: &User, id: i64, change: &StatusChange) -> AppResult<Feature> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let note = check_note(change.note.as_deref()).map_err(|m| AppError::invalid_field("note", m))?;
    let to = change.status;
    let at = now();
    let mut tx = db.begin_write().await?;
    let feature = current(db, &mut tx, id, true).await?.ok_or_else(AppError::not_found)?;
    if let Some(into) = feature.merged_into_id {
        return Err(AppError::conflict(
            "feature_merged",
            format!("This request was merged into #{into}; change that one instead."),
        ));
    }
    let mut recorded = Vec::new();
    if feature.status == to {
        let Some(note) = note.as_deref() else {
            return Err(AppError::invalid_field(
                "status",
                format!("The request is already {}; add a note to post an update.", to.label().to_lowercase()),
            ));
        };
        history(&mut tx, id, Some(user.id), "note", (None, Some(to.as_str())), Some(note), at).await?;
        sqlx::query("UPDATE features SET updated_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
    } else {
        sqlx::query("UPDATE features SET status = $1, updated_at = $2, status_changed_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        history(
            &mut tx,
            id,
            Some(user.id),
            "status",
            (Some(feature.status.as_str()), Some(to.as_str())),
            note.as_deref(),
            at,
        )
        .await?;
        let link = Some(format!("/features/{id}"));
        let mut told = voters(&mut tx, id).await?;
        told.retain(|&v| v != user.id);
        if to == FeatureStatus::Shipped {
            if let Some(ticket_id) = feature.ticket_id {
                let requester: Option<i64> = sqlx::query("SELECT requester_id FROM tickets WHERE id = $1")
                    .bind(ticket_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get("requester_id"))
                    .transpose()?;
                if let Some(requester) = requester {
                    told.retain(|&v| v != requester);
                    let text =
                        format!("The feature you asked for in ticket #{ticket_id} has shipped: \"{}\".", feature.title);
                    let notice = NewNotification {
                        kind: "feature.status",
                        text,
                        ticket_id: Some(ticket_id),
                        link: link.clone(),
                        invite: None,
                    };
                    recorded.extend(notify::to_users(&mut tx, &[requester], &notice).await?);
                }
            }
        }
        let notice = NewNotification {
            kind: "feature.status",
            text: status_notice(&feature.title, to, note.as_deref()),
            ticket_id: None,
            link,
            invite: None,
        };
        recorded.extend(notify::to_users(&mut tx, &told, &notice).await?);
        let event = crate::notify::integrations::IntegrationEvent::new(
            "feature.status",
            format!("feature:{id}:{}:{at}", to.as_str()),
            format!("Feature request \"{}\" is now {}", feature.title, to.label().to_lowercase()),
            Some(format!("/features/{id}")),
            json!({
                "feature_id": id,
                "title": feature.title,
                "status": to.as_str(),
                "previous_status": feature.status.as_str(),
                "note": note,
            }),
        );
        notify::outbox::publish(&mut tx, &event).await?;
    }
    recorded.push(events::record(&mut tx, feature_event("feature.updated", id, json!({ "status": to }))).await?);
    commit(db, tx, bus, recorded).await?;
    get(db, Some(user), id).await
}

/// Managers merge a duplicate (`id`) into the request that stays (`into_id`):
/// votes combine with nobody counted twice, comments move, the ticket link moves
/// when the kept request has none, and the duplicate points to the kept one.
pub async fn merge(db: &Db, bus: &EventBus, user: &User, id: i64, into_id: i64) -> AppResult<Feature> {
    if !user.role.is_manager() {
        return Err(AppError::forbidden());
    }
    if id == into_id {
        return Err(AppError::invalid_field("into_id", "Choose another request to merge this one into."));
    }
    let at = now();
    let mut tx = db.begin_write().await?;
    // Lock in id order so two crossing merges cannot deadlock on PostgreSQL.
    let (first, second) = if id < into_id { (id, into_id) } else { (into_id, id) };
    let a = current(db, &mut tx, first, true).await?;
    let b = current(db, &mut tx, second, true).await?;
    let (source, target) = if id < into_id { (a, b) } else { (b, a) };
    let source = source.ok_or_else(AppError::not_found)?;
    let target =
        target.ok_or_else(|| AppError::invalid_field("into_id", format!("There is no request #{into_id}.")))?;
    if let Some(already) = source.merged_into_id {
        return Err(AppError::conflict("feature_merged", format!("This request was already merged into #{already}.")));
    }
    if let Some(already) = target.merged_into_id {
        return Err(AppError::conflict(
            "feature_merged",
            format!("Request #{into_id} was itself merged into #{already}; merge into that one."),
        ));
    }
    let moved = voters(&mut tx, id).await?;
    sqlx::query(
        "INSERT INTO feature_votes (feature_id, user_id, created_at) \
         SELECT $1, user_id, created_at FROM feature_votes WHERE feature_id = $2 \
         ON CONFLICT (feature_id, user_id) DO NOTHING",
    )
    .bind(into_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM feature_votes WHERE feature_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("UPDATE feature_comments SET feature_id = $1 WHERE feature_id = $2")
        .bind(into_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let move_ticket = target.ticket_id.is_none() && source.ticket_id.is_some();
    sqlx::query(
        "UPDATE features SET merged_into_id = $1, updated_at = $2, ticket_id = CASE WHEN $3 = 1 THEN NULL ELSE ticket_id END \
         WHERE id = $4",
    )
    .bind(into_id)
    .bind(at)
    .bind(i64::from(move_ticket))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE features SET updated_at = $1, ticket_id = COALESCE(ticket_id, $2) WHERE id = $3")
        .bind(at)
        .bind(if move_ticket { source.ticket_id } else { None })
        .bind(into_id)
        .execute(&mut *tx)
        .await?;
    let (id_text, into_text) = (id.to_string(), into_id.to_string());
    history(&mut tx, id, Some(user.id), "merged_into", (None, Some(&into_text)), Some(&target.title), at).await?;
    history(&mut tx, into_id, Some(user.id), "merged_from", (Some(&id_text), None), Some(&source.title), at).await?;
    let notice = NewNotification {
        kind: "feature.merged",
        text: format!("\"{}\" was merged into \"{}\"; your vote counts there.", source.title, target.title),
        ticket_id: None,
        link: Some(format!("/features/{into_id}")),
        invite: None,
    };
    let mut recorded = notify::to_users(&mut tx, &moved, &notice).await?;
    let votes = vote_count(&mut tx, into_id).await?;
    recorded.push(
        events::record(&mut tx, feature_event("feature.updated", id, json!({ "merged_into_id": into_id }))).await?,
    );
    recorded.push(events::record(&mut tx, feature_event("feature.voted", into_id, json!({ "votes": votes }))).await?);
    commit(db, tx, bus, recorded).await?;
    get(db, Some(user), into_id).await
}

/// Agents turn a P4 or feature-request ticket into a feature request in one
/// step: its requester becomes the author and its first voter, and the ticket
/// links to it (and records that in its history).
pub async fn from_ticket(
    db: &Db,
    bus: &EventBus,
    user: &User,
    ticket_id: i64,
    public: NewFeatureInput,
) -> AppResult<Feature> {
    if !user.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let at = now();
    let mut tx = db.begin_write().await?;
    let ticket = sqlx::query(&format!(
        "SELECT subject, body, priority, category, requester_id FROM tickets WHERE id = $1{}",
        lock(db, true)
    ))
    .bind(ticket_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(AppError::not_found)?;
    let priority: crate::sla::Priority = parse(&ticket, "priority")?;
    let category: crate::tickets::Category = parse(&ticket, "category")?;
    if !super::ticket_convertible(priority, category) {
        return Err(AppError::invalid_field(
            "ticket",
            "Only P4 tickets and feature-request tickets become feature requests.",
        ));
    }
    let existing: Option<i64> = sqlx::query("SELECT id FROM features WHERE ticket_id = $1")
        .bind(ticket_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    if let Some(existing) = existing {
        return Err(already_converted(existing));
    }
    let requester: i64 = ticket.try_get("requester_id")?;
    // The ticket is private: the public request carries only the text the agent wrote (or reviewed) for it,
    // under the agent's name; the customer's vote comes with it.
    let new = public.validate()?;
    let id = match insert_feature(&mut tx, user.id, &new, Some(ticket_id), at).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict("already_converted", "This ticket already became a feature request."))
        }
        Err(e) => return Err(e.into()),
    };
    // The public history says a support conversation led here, never which ticket.
    history(&mut tx, id, Some(user.id), "from_ticket", (None, Some(FeatureStatus::Open.as_str())), None, at).await?;
    add_vote(&mut tx, id, requester, at).await?;
    let feature_text = id.to_string();
    sqlx::query(
        "INSERT INTO ticket_history (ticket_id, actor_id, kind, from_value, to_value, reason, created_at) \
         VALUES ($1, $2, 'feature_request', NULL, $3, NULL, $4)",
    )
    .bind(ticket_id)
    .bind(user.id)
    .bind(&feature_text)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let notice = NewNotification {
        kind: "feature.created",
        text: format!("Your ticket #{ticket_id} is now a feature request others can vote on: \"{}\".", new.title),
        ticket_id: Some(ticket_id),
        link: Some(format!("/features/{id}")),
        invite: None,
    };
    let mut recorded = notify::to_users(&mut tx, &[requester], &notice).await?;
    recorded.push(events::record(&mut tx, feature_event("feature.created", id, json!({}))).await?);
    recorded.push(
        events::record(
            &mut tx,
            NewEvent::ticket(
                "ticket.updated",
                ticket_id,
                requester,
                false,
                json!({ "ticket_id": ticket_id, "feature_id": id }),
            ),
        )
        .await?,
    );
    commit(db, tx, bus, recorded).await?;
    get(db, Some(user), id).await
}

fn already_converted(existing: i64) -> AppError {
    AppError::conflict("already_converted", format!("This ticket already became feature request #{existing}."))
}

/// The request a ticket became, if any (for whoever may see the ticket).
pub async fn for_ticket(db: &Db, user: &User, ticket_id: i64) -> AppResult<Option<Feature>> {
    crate::tickets::service::visible_row(db, user, ticket_id).await?;
    let id: Option<i64> = sqlx::query("SELECT id FROM features WHERE ticket_id = $1")
        .bind(ticket_id)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    match id {
        Some(id) => Ok(Some(get(db, Some(user), id).await?)),
        None => Ok(None),
    }
}
