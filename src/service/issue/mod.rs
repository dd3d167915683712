//! Issuing a code, superseding the firm's previous one, recorded in the transparency log in one
//! transaction with everything it changes: the log entry and its subtrees, the new head and
//! its signed checkpoint, the code, the previous code's status, the firm's current grade, the
//! assessment, and the audit events. Appends are serialised on the log head.
//!
//! Approvals wait in this database's queue (`queue`) and are issued in groups (`group`), whose
//! writes go out a statement per table (`writes`).

mod bulk;
pub(crate) mod group;
mod queue;
pub(crate) mod writes;

pub use self::bulk::{BulkApproval, BulkIssued, BulkRefusal, MAX_IDS, approve_many};
use self::queue::Approval;
use self::queue::Issuing;
use self::queue::Queue;
use self::queue::issue_group;
use self::queue::lock;
use crate::db::Db;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::code::SigningKey;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait};
use serde::Serialize;

use crate::code::{self};
use crate::error::{AppError, AppResult};
use crate::grading::Grade;
use crate::service::accounts::Caller;
use crate::service::cache::Caches;
use crate::service::keystore::Keys;
use crate::store::{firms, tlog};
use crate::tlog::Checkpoint;

/// The signed checkpoint of `head` (one per size; the size decides the root).
pub(super) fn checkpoint_note(keys: &Keys, head: tlog::Head) -> String {
    Checkpoint {
        origin: keys.ring.log_origin.clone(),
        size: head.size,
        root: head.root,
    }
    .sign(&keys.ring.log_key)
}

/// At start: the log head exists and its size has a checkpoint, kept outside the database too
/// — unless the database is behind the checkpoint kept there (a restored backup): then nothing
/// is signed, and appends are refused until `gec log recover` (token.md §7).
pub async fn prepare_log(db: &Db, keys: &Keys) -> AppResult<()> {
    tlog::ensure_head(db).await?;
    let head = tlog::read_head(db).await?;
    if let Err(err) = keys.guard.check(head, &keys.ring) {
        tracing::error!(%err, "the log is behind its signed checkpoint");
        return Ok(());
    }
    let note = checkpoint_note(keys, head);
    tlog::store_checkpoint(db, head, &note).await?;
    keys.guard.keep(&note).await?;
    Ok(())
}

/// Commits an append, then keeps its checkpoint outside the database (only once committed: a
/// crash before the commit must not leave a kept checkpoint the database never had) and wakes
/// the task that asks the witnesses to cosign it.
pub(super) async fn commit_append(
    keys: &Keys,
    txn: crate::db::WriteTxn,
    note: &str,
) -> AppResult<()> {
    txn.commit().await?;
    if let Err(err) = keys.guard.keep(note).await {
        // The change is made; the next append or start keeps a newer checkpoint.
        tracing::error!(%err, "keeping the checkpoint outside the database failed");
    }
    keys.guard.wake();
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedCode {
    pub serial: u64,
    pub url: String,
    pub uscc: String,
    pub grade: String,
    pub score: String,
    pub period: i32,
    pub iat: u64,
    pub exp: u64,
    pub kid: String,
    pub supersedes: Option<i64>,
    pub assessment_id: i64,
    pub trace_hash: String,
}

fn active_key(keys: &Keys) -> AppResult<(&SigningKey, &code::PublishedKey)> {
    keys.ring
        .active
        .as_ref()
        .map(|(key, record)| (key, record))
        .ok_or_else(|| {
            AppError::Conflict(
                crate::error::Conflict::NoActiveKey,
                "no active signing key: rotate in a new key (gec keys rotate)".into(),
            )
        })
}

/// Approves a submitted assessment: recomputes it with the benchmarks in force on the approval
/// date (records as they are now), signs its code and records it in the log.
///
/// Approvals commit in groups: each joins this process's queue, and one task takes every
/// approval waiting and issues them in one transaction — each read and checked in turn (a
/// refusal refuses that one alone and writes nothing of it), their entries appended to the log
/// together under one signed checkpoint, kept outside the database with one flush — then the
/// approvals that came meanwhile, until none waits. The task runs on the writer thread, so a
/// caller that goes away never stops a group. A group that fails in the database is tried
/// again one approval at a time.
pub async fn approve(
    db: &Db,
    caches: &Caches,
    keys: &Arc<Keys>,
    caller: &Caller,
    id: i64,
    public_url: &str,
) -> AppResult<IssuedCode> {
    let queue = db.part::<Queue>();
    let (reply, answer) = tokio::sync::oneshot::channel();
    lock(&queue.waiting).push(Approval {
        caller: caller.clone(),
        id,
        keys: keys.clone(),
        reply,
    });
    // One task issues the queue's groups while there are any; an approval starts it only
    // when none is running (a task per approval would each wait their turn, thousands of them
    // under load, each holding its state).
    if !queue.issuing.swap(true, Ordering::SeqCst) {
        let (issuer, caches, url) = (db.clone(), caches.clone(), public_url.to_owned());
        db.spawn_on_writer(async move {
            let _unless_it_panics = Issuing(queue.clone());
            loop {
                let group = queue::take_group(&queue);
                if group.is_empty() {
                    queue.issuing.store(false, Ordering::SeqCst);
                    // An approval that came after the take and saw this task running: take it
                    // too, unless it started a task of its own.
                    if lock(&queue.waiting).is_empty() || queue.issuing.swap(true, Ordering::SeqCst)
                    {
                        return;
                    }
                    continue;
                }
                // The key ring as the newest approval of the group found it (a rotation while
                // this task runs applies from the next group on).
                let Some(keys) = group.last().map(|a| a.keys.clone()) else {
                    continue;
                };
                issue_group(&issuer, &caches, &keys, &url, group).await;
            }
        });
    }
    answer
        .await
        .unwrap_or_else(|_| Err(AppError::internal("the approval was not answered")))
}

/// Approves as [`approve`] does, unless a declared figure differs from what a data source
/// attested by more than 2 % and the regulator gave no note: then the `note` field is refused
/// naming the figures. A note given with such differences is recorded with them (audited).
/// The check reads the readings of this moment; a reading that arrives after it is for the
/// next review.
/// What the regulator wrote to approve: the note of a check of figures apart from the attested
/// ones, and the record of a check of abnormal data.
#[derive(Default)]
pub struct Checks<'a> {
    pub note: Option<&'a str>,
    pub check: Option<crate::service::abnormal::CheckRecord>,
}

pub async fn approve_checked(
    db: &Db,
    caches: &Caches,
    keys: &Arc<Keys>,
    caller: &Caller,
    id: i64,
    public_url: &str,
    checks: Checks<'_>,
) -> AppResult<IssuedCode> {
    let Checks { note, check } = checks;
    let (assessment, firm) = crate::service::assessments::visible(db, caller, id).await?;
    // Abnormal data: approved only with the regulator's record of a check.
    let abnormal = crate::service::abnormal::of(&assessment);
    let check = match check {
        Some(c) => Some(c.checked()?),
        None if !abnormal.is_empty() => {
            let checks: Vec<&str> = abnormal.iter().map(|f| f.check.as_str()).collect();
            return Err(AppError::field_fault(
                crate::grading::Fault::Required,
                "check",
                format!(
                    "the data were found abnormal ({}): approving needs the record of a check \
                     (note, date, on site or not)",
                    checks.join(", ")
                ),
            ));
        }
        None => None,
    };
    let input: serde_json::Value =
        serde_json::from_str(&assessment.input).map_err(AppError::internal)?;
    let flagged: Vec<crate::service::readings::Discrepancy> =
        crate::service::readings::discrepancies(db, firm.uscc.as_str(), assessment.period, &input)
            .await?
            .into_iter()
            .filter(|d| d.flagged)
            .collect();
    let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(crate::service::text::note("note", n, 2000)?),
        None => None,
    };
    if !flagged.is_empty() && note.is_none() {
        let fields: Vec<&str> = flagged.iter().map(|d| d.field.as_str()).collect();
        return Err(AppError::field_fault(
            crate::grading::Fault::Required,
            "note",
            format!(
                "{} differ from the attested figures by more than {} %: approving needs the \
                 regulator's note of the check",
                fields.join(", "),
                crate::service::settings::get::<crate::service::settings::ReadingSettings, _>(db)
                    .await?
                    .tolerance_percent
            ),
        ));
    }
    let issued = approve(db, caches, keys, caller, id, public_url).await?;
    // What the regulator wrote to approve, kept with what it answered (one transaction).
    let mut changes = Vec::new();
    if let Some(check) = check.filter(|_| !abnormal.is_empty()) {
        changes.push(crate::store::audit::Change {
            action: "assessment.abnormal_check",
            target_type: "assessment",
            target_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({"uscc": firm.uscc.to_string(),
                "period": assessment.period, "check": check, "findings": abnormal})),
        });
    }
    if let Some(note) = note.filter(|_| !flagged.is_empty()) {
        changes.push(crate::store::audit::Change {
            action: "assessment.discrepancy_note",
            target_type: "assessment",
            target_id: id.to_string(),
            before: None,
            after: Some(
                serde_json::json!({"uscc": firm.uscc.to_string(), "note": note,
                "differences": flagged}),
            ),
        });
    }
    if !changes.is_empty() {
        let txn = crate::db::begin_write(db).await?;
        crate::store::audit::record_many(&txn, &caller.actor(), chrono::Utc::now(), changes)
            .await?;
        txn.commit().await?;
    }
    Ok(issued)
}

/// The firm's current grade and code, kept on the firm for lists and its public summary.
pub(super) async fn set_current<C: ConnectionTrait>(
    txn: &C,
    firm: &firms::Model,
    current: Option<(Grade, &str, i64, i32)>,
) -> AppResult<()> {
    let mut model: firms::ActiveModel = firm.clone().into();
    model.current_grade = Set(current.map(|c| c.0.into()));
    model.current_score = Set(current.map(|c| c.1.to_owned()));
    model.current_serial = Set(current.map(|c| c.2));
    model.current_period = Set(current.map(|c| c.3));
    model.update(txn).await?;
    Ok(())
}
