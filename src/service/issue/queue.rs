//! The approvals waiting for this database, and the one task that issues them in groups: one
//! transaction, one log append and one checkpoint for every approval that waited.

use super::IssuedCode;
use super::group::issue_all;
use crate::db::Db;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{AppError, AppResult};
use crate::service::accounts::Caller;
use crate::service::cache::Caches;
use crate::service::keystore::Keys;

/// One approval waiting in the queue.
pub(super) struct Approval {
    pub(super) caller: Caller,
    pub(super) id: i64,
    pub(super) keys: Arc<Keys>,
    pub(super) reply: tokio::sync::oneshot::Sender<AppResult<IssuedCode>>,
}

/// Should the issuing task panic, the next approval starts another.
pub(super) struct Issuing(pub(super) Arc<Queue>);

impl Drop for Issuing {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.issuing.store(false, Ordering::SeqCst);
        }
    }
}

/// A process's approvals for one database: those waiting, and whether a task is issuing them.
#[derive(Default)]
pub(super) struct Queue {
    pub(super) waiting: Mutex<Vec<Approval>>,
    pub(super) issuing: AtomicBool,
}

/// The most approvals one group issues: its writes go out a statement per table, and a
/// statement's values stay within both databases' bounds (SQLite's 32,766; an assessment row
/// has two dozen columns), and a bulk approval's thousands waiting are issued in several groups.
pub(super) const MAX_GROUP: usize = 512;

/// The approvals waiting, oldest first, at most [`MAX_GROUP`] of them.
pub(super) fn take_group(queue: &Queue) -> Vec<Approval> {
    let mut waiting = lock(&queue.waiting);
    if waiting.len() <= MAX_GROUP {
        return std::mem::take(&mut *waiting);
    }
    let rest = waiting.split_off(MAX_GROUP);
    std::mem::replace(&mut *waiting, rest)
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Issues a group and answers each approval in it.
pub(super) async fn issue_group(
    db: &Db,
    caches: &Caches,
    keys: &Keys,
    public_url: &str,
    group: Vec<Approval>,
) {
    if group.is_empty() {
        return;
    }
    let asked: Vec<(&Caller, i64)> = group.iter().map(|a| (&a.caller, a.id)).collect();
    match issue_all(db, caches, keys, public_url, &asked).await {
        Ok(outcomes) => {
            for (approval, outcome) in group.into_iter().zip(outcomes) {
                let _ = approval.reply.send(outcome);
            }
        }
        Err(err) if group.len() == 1 => {
            if let Some(approval) = group.into_iter().next() {
                let _ = approval.reply.send(Err(err));
            }
        }
        Err(err) => {
            tracing::warn!(%err, size = group.len(), "a group of approvals failed; one at a time");
            for approval in group {
                let one = [(&approval.caller, approval.id)];
                let outcome = match issue_all(db, caches, keys, public_url, &one).await {
                    Ok(mut outcomes) => outcomes.pop().unwrap_or_else(|| {
                        Err(AppError::internal("the approval was not answered"))
                    }),
                    Err(err) => Err(err),
                };
                let _ = approval.reply.send(outcome);
            }
        }
    }
}
