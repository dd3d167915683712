//! One way to write: a change that is loaded, checked, set and audited in one transaction goes
//! through [`audited`]. The work loads and checks on the transaction, sets what it changes and
//! says what changed; the audit events are recorded with it, at the same instant, and the whole
//! commits or nothing does (an error from the work, or from the database, rolls it all back).

use chrono::{DateTime, Utc};

use crate::db::{Db, WriteTxn, begin_write};
use crate::error::AppResult;
use crate::store::audit::{self, Actor, Change};

/// What a write returns and the changes it made, for the audit trail.
pub struct Audited<T> {
    value: T,
    changes: Vec<Change<'static>>,
}

impl<T> Audited<T> {
    /// `value`, after one change.
    pub fn one(value: T, change: Change<'static>) -> Self {
        Audited {
            value,
            changes: vec![change],
        }
    }

    /// `value`, after these changes (none, when the write turned out to change nothing).
    pub fn many(value: T, changes: Vec<Change<'static>>) -> Self {
        Audited { value, changes }
    }
}

/// Runs `work` in a write transaction (given the transaction and the instant of the write),
/// records the changes it returns as `actor`'s audit events, and commits.
pub async fn audited<T>(
    db: &Db,
    actor: &Actor,
    work: impl AsyncFnOnce(&WriteTxn, DateTime<Utc>) -> AppResult<Audited<T>>,
) -> AppResult<T> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let Audited { value, changes } = work(&txn, now).await?;
    audit::record_many(&txn, actor, now, changes).await?;
    txn.commit().await?;
    Ok(value)
}
