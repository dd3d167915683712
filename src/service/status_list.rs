//! The signed status list (token.md §8) as the service publishes it: built from the codes and
//! the log's revoke entries, its version the log's size (every change to a status is a log
//! entry, and the log never shrinks), signed with the active code key, and kept in memory
//! until the log grows.

use crate::db::Db;
use std::sync::{Arc, RwLock};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};

use super::keystore::Keys;
use crate::code::status_list::{ListedStatus, StatusList};
use crate::error::{AppError, AppResult};
use crate::store::codes::{self, CodeStatus};
use crate::store::tlog;

/// The latest signed list, by the log size it covers.
#[derive(Default)]
pub struct StatusListCache {
    current: RwLock<Option<(u64, Arc<Vec<u8>>)>>,
    building: tokio::sync::Mutex<()>,
}

impl StatusListCache {
    fn get(&self, size: u64) -> Option<Arc<Vec<u8>>> {
        self.current.read().ok().and_then(|c| {
            c.as_ref()
                .filter(|(s, _)| *s == size)
                .map(|(_, b)| b.clone())
        })
    }
}

/// The signed list for the log as it is now: `(version, COSE bytes)`. One read of the log's
/// head when nothing changed; a rebuild (one pass over the codes) when it did.
pub async fn signed(
    db: &Db,
    keys: &Keys,
    cache: &StatusListCache,
) -> AppResult<(u64, Arc<Vec<u8>>)> {
    if let Some(why) = keys.guard.behind() {
        // A restored database would publish a lower version than one already published.
        return Err(AppError::LogBehind(why));
    }
    let size = tlog::read_head(db).await?.size;
    if let Some(bytes) = cache.get(size) {
        return Ok((size, bytes));
    }
    let _one_builder = cache.building.lock().await;
    if let Some(bytes) = cache.get(size) {
        return Ok((size, bytes));
    }
    let (size, list) = build(db, &keys.ring.issuer).await?;
    let (key, _) = keys.ring.active.as_ref().ok_or_else(|| {
        AppError::Conflict(
            crate::error::Conflict::NoActiveKey,
            "no active signing key: rotate in a new key (gec keys rotate)".into(),
        )
    })?;
    let bytes = Arc::new(list.sign(key));
    if let Ok(mut current) = cache.current.write()
        && current.as_ref().is_none_or(|(s, _)| *s < size)
    {
        *current = Some((size, bytes.clone()));
    }
    Ok((size, bytes))
}

/// Every serial's status as the log of this moment has it (one snapshot).
pub async fn build(db: &Db, issuer: &str) -> AppResult<(u64, StatusList)> {
    let txn = db.begin().await?;
    let size = tlog::read_head(&txn).await?.size;
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let mut list = StatusList::new(issuer, size, now, size);
    // A code is revoked once, so the revoke entries are the revoked codes' `revoke_entry`.
    let changed: Vec<(i64, CodeStatus, Option<i64>)> = codes::Entity::find()
        .select_only()
        .column(codes::Column::Serial)
        .column(codes::Column::Status)
        .column(codes::Column::RevokeEntry)
        .filter(codes::Column::Status.ne(CodeStatus::Active))
        .filter(codes::Column::Serial.lt(size as i64))
        .into_tuple()
        .all(&txn)
        .await?;
    for (serial, status, revoke_entry) in changed {
        if let Some(index) = revoke_entry.filter(|i| (*i as u64) < size) {
            list.set(index as u64, ListedStatus::NotACode);
        }
        let listed = match status {
            CodeStatus::Superseded => ListedStatus::Superseded,
            CodeStatus::Revoked => ListedStatus::Revoked,
            CodeStatus::Active | CodeStatus::Expired => ListedStatus::Active,
        };
        list.set(serial as u64, listed);
    }
    txn.commit().await?;
    Ok((size, list))
}
