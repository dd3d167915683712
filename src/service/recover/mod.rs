//! `gec log recover` (token.md §7): after an old backup was restored, the log entries the
//! database lacks are taken from any copy of the log (the service's tiles or a static mirror),
//! checked against the checkpoint the log signed, appended, and each restored entry restores
//! what it records — the code (issue entries carry its bytes), the code it superseded, a
//! revocation — so that every code handed out before the restore verifies again with its true
//! status. All of it in one transaction: a copy that does not match changes nothing.

use crate::db::Db;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::assessments::assemble_input;
use super::issue::set_current;
use super::keys::KeyRing;
use crate::code::cose;
use crate::error::{AppError, AppResult};
use crate::grading::{self, BenchmarkTable};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Actor, Change};
use crate::store::codes::{self, CodeStatus};
use crate::store::{firms, tlog};
use crate::tlog::Checkpoint;

mod batch;
mod steps;

use steps::{Seen, ahead, restore_steps, steps};

#[derive(Debug, Default, Serialize)]
pub struct Recovered {
    /// The database's log size before, and after.
    pub from: u64,
    pub to: u64,
    /// Codes whose records were restored from their issue entries.
    pub codes: Vec<u64>,
    /// Codes whose revocation was restored.
    pub revoked: Vec<i64>,
    /// Firms registered after the backup, recreated from their codes (the USCC is all a code
    /// proves): the regulator completes their name, industry and district.
    pub firms_recreated: Vec<String>,
    /// What could not be restored, in words.
    pub notes: Vec<String>,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::BadRequest(message.into())
}

/// How many entries are fetched, appended and restored at a time (a multiple of a tile's 256
/// entries): what recovery holds in memory, whatever the number missing.
pub const CHUNK: u64 = 8192;

/// Appends entries `size…checkpoint size−1` of a copy of the log after the database's log, if
/// they rebuild the signed checkpoint `note` and agree with `kept` (the checkpoint kept in the
/// data directory), and restores their records. `fetch(from, to)` gives the bytes of entries
/// `from…to−1` of the copy; they are asked [`CHUNK`] at a time, each chunk appended and
/// restored before the next is asked, all in one transaction.
pub async fn recover<F, Fut>(
    db: &Db,
    ring: &KeyRing,
    kept: Option<&Checkpoint>,
    note: &str,
    mut fetch: F,
) -> AppResult<Recovered>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<Vec<u8>>>>,
{
    let signed = Checkpoint::verify(note, &ring.log_origin, &ring.log_key.verifying_key())
        .map_err(|e| bad(format!("the copy's checkpoint: {e}")))?;
    // A database the service never served has no log head yet.
    tlog::ensure_head(db).await?;
    crate::db::vacuum_analyze(db, &crate::db::GRADED_TABLES).await?;
    let txn = crate::db::begin_write(db).await?;
    let head = tlog::lock_head(&txn).await?;
    if signed.size < head.size {
        return Err(bad(format!(
            "the copy has {} entries, the database {}: nothing to recover from it",
            signed.size, head.size
        )));
    }
    if let Some(kept) = kept
        && kept.size > signed.size
    {
        return Err(bad(format!(
            "the copy's checkpoint ({}) is older than the one the log signed last ({})",
            signed.size, kept.size
        )));
    }
    let mut report = Recovered {
        from: head.size,
        to: signed.size,
        ..Recovered::default()
    };
    let actor = Actor::system("recover");
    let table = super::benchmarks::in_force(db, &super::cache::Caches::default()).await?;
    let mut seen = Seen {
        restored_from: head.size,
        ..Seen::default()
    };
    let mut new_head = head;
    while new_head.size < signed.size {
        let (from, to) = (new_head.size, (new_head.size + CHUNK).min(signed.size));
        let entries = fetch(from, to).await?;
        if entries.len() as u64 != to - from {
            return Err(bad(format!(
                "{} entries given for the {} asked ({from}…{})",
                entries.len(),
                to - from,
                to - 1
            )));
        }
        let mut typed = Vec::with_capacity(entries.len());
        let mut values = Vec::with_capacity(entries.len());
        for (offset, bytes) in entries.into_iter().enumerate() {
            let index = from + offset as u64;
            let text =
                String::from_utf8(bytes).map_err(|_| bad(format!("entry {index} is not UTF-8")))?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|_| bad(format!("entry {index} is not JSON")))?;
            let kind = value["type"].as_str().unwrap_or("").to_owned();
            if !matches!(kind.as_str(), "issue" | "revoke")
                || value["serial"].as_u64() != Some(index)
            {
                return Err(bad(format!("entry {index} is not an entry of this log")));
            }
            typed.push((kind, text));
            values.push(value);
        }
        let mut steps = steps(from, values, &mut seen);
        // The first batch is read and decided while the entries are appended.
        let ahead = ahead(db, &table, &actor, steps.first_mut());
        new_head = tlog::append_many(&txn, new_head, &typed).await?;
        drop(typed);
        restore_steps(&txn, db, &table, &actor, steps, ahead, &mut report).await?;
    }
    if new_head.root != signed.root {
        return Err(bad(
            "the copy's entries do not rebuild the signed checkpoint's root: not this log's",
        ));
    }
    if let Some(kept) = kept
        && kept.size > 0
        && tlog::root_at(&txn, kept.size).await? != kept.root
    {
        return Err(bad(
            "the recovered log does not match the checkpoint kept in the data directory",
        ));
    }
    tlog::store_checkpoint(&txn, new_head, &signed.sign(&ring.log_key)).await?;
    txn.commit().await?;
    Ok(report)
}

/// A firm registered after the backup: recreated from what its code and log entry prove — its
/// USCC (standing in for its name until the regulator completes it), and an approved record of
/// the assessment the code states (grade, score, period, methodology, benchmarks and trace
/// hash; the figures themselves were never in the log) — marked `restored_at`.
async fn recreate_firm(
    txn: &crate::db::WriteTxn,
    actor: &Actor,
    claims: &crate::code::Claims,
    entry: &Value,
    at: DateTime<Utc>,
    report: &mut Recovered,
) -> AppResult<firms::Model> {
    let uscc = crate::grading::Uscc::parse(&claims.sub).map_err(|_| {
        bad(format!(
            "code {}: {} is not a USCC",
            claims.serial, claims.sub
        ))
    })?;
    let now = Utc::now();
    let firm = firms::ActiveModel {
        uscc: Set(uscc.clone().into()),
        name: Set(uscc.to_string()),
        industry_code: Set(String::new()),
        district: Set(String::new()),
        created_at: Set(at),
        restored_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let text = |key: &str| entry[key].as_str().unwrap_or("").to_owned();
    let assessment = assessments::ActiveModel {
        firm_id: Set(firm.id),
        period: Set(i32::try_from(claims.period).unwrap_or(0)),
        status: Set(AssessmentStatus::Approved),
        input: Set("{}".to_owned()),
        trace: Set(String::new()),
        trace_hash: Set(text("trace_hash")),
        score: Set(text("score")),
        grade: Set(claims.grade.into()),
        methodology: Set(text("methodology")),
        benchmarks: Set(text("benchmarks")),
        submitted_by: Set(None),
        submitted_at: Set(at),
        reviewed_by: Set(None),
        reviewed_at: Set(Some(at)),
        reject_reason: Set(None),
        code_serial: Set(Some(claims.serial as i64)),
        // The code proves its carbon level (claim 7); the figures behind it are not restored.
        carbon_level: Set(claims.carbon_level.map(i32::from)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        actor,
        now,
        Change {
            action: "firm.restore",
            target_type: "firm",
            target_id: uscc.to_string(),
            before: None,
            after: Some(
                json!({"from_log": claims.serial, "assessment": assessment.id,
                               "to_complete": ["name", "industry_code", "district"]}),
            ),
        },
    )
    .await?;
    report.firms_recreated.push(uscc.to_string());
    report.notes.push(format!(
        "firm {uscc} was registered after the backup: recreated from code {} (its USCC, and \
         the assessment the code states); complete its name, industry and district",
        claims.serial
    ));
    Ok(firm)
}

async fn restore_revoke(
    txn: &crate::db::WriteTxn,
    actor: &Actor,
    index: u64,
    entry: &Value,
    report: &mut Recovered,
) -> AppResult<()> {
    let target = entry["target"].as_i64().unwrap_or(-1);
    let Some(code) = codes::Entity::find_by_id(target).one(txn).await? else {
        report.notes.push(format!(
            "revocation {index}: code {target} is not in the database; not restored"
        ));
        return Ok(());
    };
    let was = code.status;
    let firm_id = code.firm_id;
    let mut model: codes::ActiveModel = code.into();
    model.status = Set(CodeStatus::Revoked);
    model.revoked_reason = Set(entry["reason"].as_str().map(str::to_owned));
    model.revoked_at = Set(entry["at"]
        .as_i64()
        .and_then(|at| DateTime::<Utc>::from_timestamp(at, 0)));
    model.revoke_entry = Set(Some(index as i64));
    model.update(txn).await?;
    if was == CodeStatus::Active
        && let Some(firm) = firms::Entity::find_by_id(firm_id).one(txn).await?
        && firm.current_serial == Some(target)
    {
        set_current(txn, &firm, None).await?;
    }
    audit::record(
        txn,
        actor,
        Utc::now(),
        Change {
            action: "code.restore",
            target_type: "code",
            target_id: target.to_string(),
            before: Some(json!({"status": was})),
            after: Some(json!({"status": CodeStatus::Revoked, "from_log": index})),
        },
    )
    .await?;
    report.revoked.push(target);
    Ok(())
}
