//! Issuing a code, superseding the firm's previous one, recorded in the transparency log in one
//! transaction with everything it changes: the log entry and its subtrees, the new head and
//! its signed checkpoint, the code, the previous code's status, the firm's current grade, the
//! assessment, and the audit events. Appends are serialised on the log head.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::accounts::Caller;
use super::assessments::{assemble_input, visible};
use super::cache::Caches;
use super::keystore::Keys;
use crate::code::{self, Claims, cose, text};
use crate::error::{AppError, AppResult};
use crate::grading::{self, Grade};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Change};
use crate::store::codes::{self, CodeStatus};
use crate::store::{certifications, firms, tlog, vetoes};
use crate::tlog::{Checkpoint, Entry, IssueEntry};

/// The signed checkpoint of `head` (one per size; the size decides the root).
pub(super) fn checkpoint_note(keys: &Keys, head: tlog::Head) -> String {
    Checkpoint {
        origin: keys.ring.log_origin.clone(),
        size: head.size,
        root: head.root,
    }
    .sign(&keys.ring.log_key)
}

/// At start: the log head exists and its size has a checkpoint.
/// At start: the log head exists and its size has a checkpoint, kept outside the database too
/// — unless the database is behind the checkpoint kept there (a restored backup): then nothing
/// is signed, and appends are refused until `gec log recover` (token.md §7).
pub async fn prepare_log(db: &DatabaseConnection, keys: &Keys) -> AppResult<()> {
    tlog::ensure_head(db).await?;
    let head = tlog::read_head(db).await?;
    if let Err(err) = keys.guard.check(head, &keys.ring) {
        tracing::error!(%err, "the log is behind its signed checkpoint");
        return Ok(());
    }
    let note = checkpoint_note(keys, head);
    tlog::store_checkpoint(db, head, &note).await?;
    keys.guard.keep(&note)?;
    Ok(())
}

/// Commits an append, then keeps its checkpoint outside the database (only once committed: a
/// crash before the commit must not leave a kept checkpoint the database never had) and wakes
/// the task that asks the witnesses to cosign it.
pub(super) async fn commit_append(
    keys: &Keys,
    txn: sea_orm::DatabaseTransaction,
    note: &str,
) -> AppResult<()> {
    txn.commit().await?;
    if let Err(err) = keys.guard.keep(note) {
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
                "no active signing key: rotate in a new key (gec keys rotate)".into(),
            )
        })
}

/// Approves a submitted assessment: recomputes it with the benchmarks in force on the approval
/// date (records as they are now), signs its code and records it in the log.
pub async fn approve(
    db: &DatabaseConnection,
    caches: &Caches,
    keys: &Keys,
    caller: &Caller,
    id: i64,
    public_url: &str,
) -> AppResult<IssuedCode> {
    let (signing_key, key_record) = active_key(keys)?;
    let table = super::benchmarks::in_force(db, caches).await?;
    let txn = crate::db::begin_write(db).await?;
    let head = tlog::lock_head(&txn).await?;
    keys.guard.check(head, &keys.ring)?;
    let (assessment, firm) = visible(&txn, caller, id).await?;
    if assessment.status != AssessmentStatus::Submitted {
        return Err(AppError::Conflict(format!(
            "assessment {id} is {}, not submitted",
            assessment.status.as_str()
        )));
    }
    let now = Utc::now();
    let today = super::records::today();

    // The stored input, brought to the approval date with the records as they are now.
    let stored: Value = serde_json::from_str(&assessment.input).map_err(AppError::internal)?;
    let mut data = stored.as_object().cloned().unwrap_or_default();
    data.insert("assessed_on".into(), Value::String(today.to_string()));
    let certs = certifications::of_firm(&txn, firm.id).await?;
    let vets = vetoes::of_firm(&txn, firm.id).await?;
    let checked = grading::check(&assemble_input(&firm, &data, &certs, &vets), &table)?;
    let graded = &checked.graded;

    let serial = head.size;
    let iat = now.timestamp() as u64;
    let key_end = key_record.not_after.map(|t| t.timestamp().max(0) as u64);
    let claims = Claims::issue(&keys.ring.issuer, graded, serial, iat, key_end);
    let exp = claims.exp;
    let cose_bytes = cose::sign(&claims, signing_key);
    let code_sha256 = hex::encode(Sha256::digest(&cose_bytes));
    let previous = codes::active_of(&txn, firm.id).await?;
    let entry = Entry::Issue(IssueEntry {
        serial,
        uscc: firm.uscc.clone(),
        grade: graded.grade,
        score: graded.trace.score.clone(),
        period: graded.trace.period,
        methodology: graded.trace.methodology.clone(),
        benchmarks: graded.trace.benchmarks.clone(),
        trace_hash: graded.trace_hash.clone(),
        iat,
        exp,
        kid: key_record.kid.clone(),
        code_sha256: code_sha256.clone(),
        supersedes: previous.as_ref().map(|p| p.serial),
        code: Some(URL_SAFE_NO_PAD.encode(&cose_bytes)),
    });
    let (_, note) =
        tlog::append_signed(&txn, head, &entry, |new| checkpoint_note(keys, new)).await?;

    let issued = codes::ActiveModel {
        serial: Set(serial as i64),
        firm_id: Set(firm.id),
        assessment_id: Set(assessment.id),
        cose: Set(cose_bytes.clone()),
        code_sha256: Set(code_sha256),
        iat: Set(iat as i64),
        exp: Set(exp as i64),
        status: Set(CodeStatus::Active),
        kid: Set(key_record.kid.clone()),
        grade: Set(graded.grade),
        score: Set(graded.trace.score.clone()),
        period: Set(i32::from(graded.trace.period)),
        superseded_by: Set(None),
        revoked_reason: Set(None),
        revoked_at: Set(None),
        revoke_entry: Set(None),
        created_at: Set(now),
        waste_score: Set(graded.waste_score.map(|s| s.fixed_text())),
    }
    .insert(&txn)
    .await?;
    let actor = caller.actor();
    // The banks that follow the firm are told, in this transaction (the outbox).
    super::webhooks::enqueue(
        &txn,
        firm.id,
        "code.issued",
        super::webhooks::code_data(&issued, &firm.uscc, &firm.name),
    )
    .await?;
    if let Some(previous) = &previous {
        let mut old: codes::ActiveModel = previous.clone().into();
        old.status = Set(CodeStatus::Superseded);
        old.superseded_by = Set(Some(serial as i64));
        let old = old.update(&txn).await?;
        super::webhooks::enqueue(
            &txn,
            firm.id,
            "code.superseded",
            super::webhooks::code_data(&old, &firm.uscc, &firm.name),
        )
        .await?;
        audit::record(
            &txn,
            &actor,
            now,
            Change {
                action: "code.supersede",
                target_type: "code",
                target_id: previous.serial.to_string(),
                before: Some(json!({"status": CodeStatus::Active})),
                after: Some(json!({"status": CodeStatus::Superseded, "superseded_by": serial})),
            },
        )
        .await?;
    }
    set_current(
        &txn,
        &firm,
        Some((
            graded.grade,
            &graded.trace.score,
            serial as i64,
            i32::from(graded.trace.period),
        )),
    )
    .await?;

    let before = json!({"status": assessment.status, "trace_hash": assessment.trace_hash, "grade": assessment.grade});
    let mut model: assessments::ActiveModel = assessment.clone().into();
    model.status = Set(AssessmentStatus::Approved);
    model.input = Set(checked.canonical_input());
    model.trace =
        Set(String::from_utf8(graded.trace.canonical_bytes()).map_err(AppError::internal)?);
    model.trace_hash = Set(graded.trace_hash.clone());
    model.score = Set(graded.trace.score.clone());
    model.grade = Set(graded.grade);
    model.benchmarks = Set(graded.trace.benchmarks.clone());
    model.reviewed_by = Set(Some(caller.account_id));
    model.reviewed_at = Set(Some(now));
    model.code_serial = Set(Some(serial as i64));
    model.update(&txn).await?;
    audit::record(
        &txn,
        &actor,
        now,
        Change {
            action: "assessment.approve",
            target_type: "assessment",
            target_id: id.to_string(),
            before: Some(before),
            after: Some(json!({"status": AssessmentStatus::Approved, "trace_hash": graded.trace_hash, "grade": graded.grade.as_str(), "code_serial": serial})),
        },
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        now,
        Change {
            action: "code.issue",
            target_type: "code",
            target_id: serial.to_string(),
            before: None,
            after: Some(entry.to_json()),
        },
    )
    .await?;
    let changed: Vec<i64> = std::iter::once(serial as i64)
        .chain(previous.as_ref().map(|p| p.serial))
        .collect();
    crate::store::notify::codes_changed(&txn, &changed).await?;
    commit_append(keys, txn, &note).await?;
    caches.codes.forget(&changed);
    Ok(IssuedCode {
        serial,
        url: text::url(public_url, &cose_bytes),
        uscc: firm.uscc,
        grade: graded.grade.as_str().into(),
        score: graded.trace.score.clone(),
        period: i32::from(graded.trace.period),
        iat,
        exp,
        kid: key_record.kid.clone(),
        supersedes: previous.map(|p| p.serial),
        assessment_id: id,
        trace_hash: graded.trace_hash.clone(),
    })
}

/// The firm's current grade and code, kept on the firm for lists and its public summary.
pub(super) async fn set_current<C: ConnectionTrait>(
    txn: &C,
    firm: &firms::Model,
    current: Option<(Grade, &str, i64, i32)>,
) -> AppResult<()> {
    let mut model: firms::ActiveModel = firm.clone().into();
    model.current_grade = Set(current.map(|c| c.0));
    model.current_score = Set(current.map(|c| c.1.to_owned()));
    model.current_serial = Set(current.map(|c| c.2));
    model.current_period = Set(current.map(|c| c.3));
    model.update(txn).await?;
    Ok(())
}
