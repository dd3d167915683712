//! A bank's watchlist of borrowers and the feed of their codes' changes: issue, supersession
//! and revocation events, each named by the log entry that recorded it (the feed's cursor).

use crate::db::Db;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::Serialize;

use super::accounts::Caller;
use crate::error::{AppError, AppResult};
use crate::grading::Grade;
use crate::grading::Uscc;
use crate::store::{codes, firms, watchlist};

async fn firm_of(db: &Db, uscc: &Uscc) -> AppResult<firms::Model> {
    firms::find_by_uscc(db, uscc.as_str())
        .await?
        .ok_or(AppError::NotFound)
}

/// Adds a firm to the caller's watchlist (idempotent); `true` when it was not there.
pub async fn watch(db: &Db, caller: &Caller, uscc: &Uscc) -> AppResult<bool> {
    let firm = firm_of(db, uscc).await?;
    let inserted = watchlist::Entity::insert(watchlist::ActiveModel {
        account_id: Set(caller.account_id),
        firm_id: Set(firm.id),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([watchlist::Column::AccountId, watchlist::Column::FirmId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted > 0)
}

/// Adds many firms to the caller's watchlist at once, all or nothing: the positions (into
/// `usccs`) of those that name no firm are the error, and then nothing is added. Returns how
/// many were not watched before.
pub async fn watch_many(
    db: &Db,
    caller: &Caller,
    usccs: &[Uscc],
) -> AppResult<Result<u64, Vec<usize>>> {
    let wanted: Vec<&str> = usccs.iter().map(Uscc::as_str).collect();
    let found: std::collections::HashMap<Uscc, crate::store::ids::FirmId> = firms::Entity::find()
        .filter(firms::Column::Uscc.is_in(wanted))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.uscc.0, f.id))
        .collect();
    let missing: Vec<usize> = usccs
        .iter()
        .enumerate()
        .filter(|(_, u)| !found.contains_key(*u))
        .map(|(i, _)| i)
        .collect();
    if !missing.is_empty() {
        return Ok(Err(missing));
    }
    let mut ids: Vec<crate::store::ids::FirmId> = found.into_values().collect();
    ids.sort_unstable();
    let now = Utc::now();
    let txn = db.begin().await?;
    let mut added = 0;
    for chunk in ids.chunks(500) {
        added +=
            watchlist::Entity::insert_many(chunk.iter().map(|&firm_id| watchlist::ActiveModel {
                account_id: Set(caller.account_id),
                firm_id: Set(firm_id),
                created_at: Set(now),
            }))
            .on_conflict(
                OnConflict::columns([watchlist::Column::AccountId, watchlist::Column::FirmId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Ok(added))
}

pub async fn unwatch(db: &Db, caller: &Caller, uscc: &Uscc) -> AppResult<()> {
    let firm = firm_of(db, uscc).await?;
    let deleted = watchlist::Entity::delete_many()
        .filter(watchlist::Column::AccountId.eq(caller.account_id))
        .filter(watchlist::Column::FirmId.eq(firm.id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WatchedFirm {
    pub uscc: String,
    pub name: String,
    pub grade: Option<Grade>,
    pub score: Option<String>,
    pub code_serial: Option<i64>,
    pub since: DateTime<Utc>,
}

pub async fn list(db: &Db, caller: &Caller) -> AppResult<Vec<WatchedFirm>> {
    let rows = watchlist::Entity::find()
        .filter(watchlist::Column::AccountId.eq(caller.account_id))
        .order_by_asc(watchlist::Column::CreatedAt)
        .all(db)
        .await?;
    let ids: Vec<crate::store::ids::FirmId> = rows.iter().map(|r| r.firm_id).collect();
    let firms = firms::by_ids(db, ids).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            firms.get(&r.firm_id).map(|f| WatchedFirm {
                uscc: f.uscc.to_string(),
                name: f.name.clone(),
                grade: f.current_grade.map(Grade::from),
                score: f.current_score.clone(),
                code_serial: f.current_serial,
                since: r.created_at,
            })
        })
        .collect())
}

/// What happened to a watched firm's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Issued,
    Superseded,
    Revoked,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeEvent {
    pub uscc: String,
    pub name: String,
    pub event: ChangeKind,
    pub serial: i64,
    pub grade: Grade,
    pub score: String,
    pub period: i32,
    pub at: DateTime<Utc>,
    /// The log entry that records the change.
    pub log_index: i64,
    pub superseded_by: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeFeed {
    pub items: Vec<ChangeEvent>,
    pub next_cursor: Option<String>,
}

/// The changes of the watched firms' codes since a time (and after a cursor), oldest first.
pub async fn changes(
    db: &Db,
    caller: &Caller,
    since: Option<DateTime<Utc>>,
    cursor: Option<&str>,
    limit: u64,
) -> AppResult<ChangeFeed> {
    let after: Option<(i64, u8)> = match cursor {
        None | Some("") => None,
        Some(text) => {
            let (index, order) = text.split_once('.').unwrap_or((text, "9"));
            Some((
                index.parse().map_err(|_| {
                    AppError::field_fault(
                        crate::grading::Fault::Cursor,
                        "cursor",
                        "not a cursor from this feed",
                    )
                })?,
                order.parse().map_err(|_| {
                    AppError::field_fault(
                        crate::grading::Fault::Cursor,
                        "cursor",
                        "not a cursor from this feed",
                    )
                })?,
            ))
        }
    };
    let watched: Vec<crate::store::ids::FirmId> = watchlist::Entity::find()
        .filter(watchlist::Column::AccountId.eq(caller.account_id))
        .all(db)
        .await?
        .into_iter()
        .map(|w| w.firm_id)
        .collect();
    if watched.is_empty() {
        return Ok(ChangeFeed {
            items: vec![],
            next_cursor: None,
        });
    }
    let firms = firms::by_ids(db, watched.clone()).await?;
    let all = codes::Entity::find()
        .filter(codes::Column::FirmId.is_in(watched))
        .all(db)
        .await?;
    let issued_at: std::collections::HashMap<i64, DateTime<Utc>> =
        all.iter().map(|c| (c.serial, c.created_at)).collect();
    // (log index, order within the entry, event): a supersession shares its entry with the
    // issue that caused it and comes right after it.
    let mut events: Vec<(i64, u8, ChangeEvent)> = Vec::new();
    for code in &all {
        let Some(firm) = firms.get(&code.firm_id) else {
            continue;
        };
        let event = |event: ChangeKind, at: DateTime<Utc>, log_index: i64| ChangeEvent {
            uscc: firm.uscc.to_string(),
            name: firm.name.clone(),
            event,
            serial: code.serial,
            grade: code.grade.0,
            score: code.score.clone(),
            period: code.period,
            at,
            log_index,
            superseded_by: code.superseded_by,
            reason: code.revoked_reason.clone(),
        };
        events.push((
            code.serial,
            0,
            event(ChangeKind::Issued, code.created_at, code.serial),
        ));
        if let Some(newer) = code.superseded_by {
            let at = issued_at.get(&newer).copied().unwrap_or(code.created_at);
            events.push((newer, 1, event(ChangeKind::Superseded, at, newer)));
        }
        if let (Some(index), Some(at)) = (code.revoke_entry, code.revoked_at) {
            events.push((index, 0, event(ChangeKind::Revoked, at, index)));
        }
    }
    events.sort_by_key(|(index, order, _)| (*index, *order));
    let selected: Vec<(i64, u8, ChangeEvent)> = events
        .into_iter()
        .filter(|(index, order, e)| {
            after.is_none_or(|(ai, ao)| (*index, *order) > (ai, ao))
                && since.is_none_or(|s| e.at >= s)
        })
        .take(limit as usize + 1)
        .collect();
    let more = selected.len() as u64 > limit;
    let items: Vec<(i64, u8, ChangeEvent)> = selected.into_iter().take(limit as usize).collect();
    let next_cursor = if more {
        items.last().map(|(i, o, _)| format!("{i}.{o}"))
    } else {
        None
    };
    Ok(ChangeFeed {
        items: items.into_iter().map(|(_, _, e)| e).collect(),
        next_cursor,
    })
}
