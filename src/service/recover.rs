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
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
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
use crate::store::{certifications, firms, tlog, vetoes};
use crate::tlog::Checkpoint;

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

/// Appends `entries` (the bytes of entries `size…checkpoint size−1` of the copy) after the
/// database's log, if they rebuild the signed checkpoint `note` and agree with `kept` (the
/// checkpoint kept in the data directory), and restores their records.
pub async fn recover(
    db: &Db,
    ring: &KeyRing,
    kept: Option<&Checkpoint>,
    note: &str,
    entries: &[Vec<u8>],
) -> AppResult<Recovered> {
    let signed = Checkpoint::verify(note, &ring.log_origin, &ring.log_key.verifying_key())
        .map_err(|e| bad(format!("the copy's checkpoint: {e}")))?;
    // A database the service never served has no log head yet.
    tlog::ensure_head(db).await?;
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
    if entries.len() as u64 != signed.size - head.size {
        return Err(bad(format!(
            "{} entries given for the {} missing",
            entries.len(),
            signed.size - head.size
        )));
    }
    let mut typed = Vec::with_capacity(entries.len());
    for (offset, bytes) in entries.iter().enumerate() {
        let index = head.size + offset as u64;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| bad(format!("entry {index} is not UTF-8")))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|_| bad(format!("entry {index} is not JSON")))?;
        let kind = value["type"].as_str().unwrap_or("").to_owned();
        if !matches!(kind.as_str(), "issue" | "revoke") || value["serial"].as_u64() != Some(index) {
            return Err(bad(format!("entry {index} is not an entry of this log")));
        }
        typed.push((kind, text));
    }
    let new_head = tlog::append_many(&txn, head, &typed).await?;
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
    let mut report = Recovered {
        from: head.size,
        to: new_head.size,
        ..Recovered::default()
    };
    let actor = Actor::system("recover");
    let table = super::benchmarks::in_force(db, &super::cache::Caches::default()).await?;
    for (offset, (kind, text)) in typed.iter().enumerate() {
        let index = head.size + offset as u64;
        let value: Value = serde_json::from_str(text).map_err(AppError::internal)?;
        if kind == "issue" {
            restore_issue(&txn, &table, &actor, index, &value, &mut report).await?;
        } else {
            restore_revoke(&txn, &actor, index, &value, &mut report).await?;
        }
    }
    txn.commit().await?;
    Ok(report)
}

async fn restore_issue(
    txn: &crate::db::WriteTxn,
    table: &BenchmarkTable,
    actor: &Actor,
    serial: u64,
    entry: &Value,
    report: &mut Recovered,
) -> AppResult<()> {
    let Some(code) = entry["code"].as_str() else {
        report.notes.push(format!(
            "code {serial}: its entry predates the code bytes; not restored"
        ));
        return Ok(());
    };
    let cose_bytes = URL_SAFE_NO_PAD
        .decode(code)
        .map_err(|_| bad(format!("entry {serial}: the code is not base64url")))?;
    let sha = hex::encode(Sha256::digest(&cose_bytes));
    let claims = cose::decode(&cose_bytes)
        .map_err(|e| bad(format!("entry {serial}: the code does not decode: {e}")))?
        .claims;
    if Some(sha.as_str()) != entry["code_sha256"].as_str() || claims.serial != serial {
        return Err(bad(format!(
            "entry {serial}: the code is not the one the entry names"
        )));
    }
    let trace_hash = entry["trace_hash"].as_str().unwrap_or("");
    let period = i32::try_from(claims.period).unwrap_or(0);
    let at = DateTime::<Utc>::from_timestamp(claims.iat as i64, 0).unwrap_or_else(Utc::now);
    let firm = match firms::find_by_uscc(txn, &claims.sub).await? {
        Some(firm) => firm,
        None => recreate_firm(txn, actor, &claims, entry, at, report).await?,
    };
    let of_period = assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm.id))
        .filter(assessments::Column::Period.eq(period))
        .order_by_desc(assessments::Column::Id)
        .all(txn)
        .await?;
    // The approval graded the submission again as of its day (China time): do the same, and the
    // assessment whose grading gives the entry's trace is the one that was approved.
    let approved_on = (at + chrono::Duration::hours(8)).date_naive();
    let certs = certifications::of_firm(txn, firm.id).await?;
    let vets = vetoes::of_firm(txn, firm.id).await?;
    let mut regraded = None;
    for candidate in &of_period {
        if candidate.trace_hash == trace_hash {
            regraded = Some((candidate, None));
            break;
        }
        let Ok(stored) = serde_json::from_str::<Value>(&candidate.input) else {
            continue;
        };
        let mut data = stored.as_object().cloned().unwrap_or_default();
        data.insert("assessed_on".into(), Value::String(approved_on.to_string()));
        if let Ok(checked) =
            grading::check(&assemble_input((&firm).into(), &data, &certs, &vets), table)
            && checked.graded.trace_hash == trace_hash
        {
            regraded = Some((candidate, Some(checked)));
            break;
        }
    }
    let Some((assessment, checked)) = regraded.or(of_period.first().map(|a| (a, None))) else {
        report.notes.push(format!(
            "code {serial}: firm {} has no {period} assessment in the database; the code is in \
             the log but its record is not restored",
            claims.sub
        ));
        return Ok(());
    };
    if assessment.trace_hash == trace_hash || checked.is_some() {
        let mut model: assessments::ActiveModel = assessment.clone().into();
        if let Some(checked) = &checked {
            let graded = &checked.graded;
            model.input = Set(checked.canonical_input());
            model.trace =
                Set(String::from_utf8(graded.trace.canonical_bytes())
                    .map_err(AppError::internal)?);
            model.trace_hash = Set(graded.trace_hash.clone());
            model.score = Set(graded.trace.score.clone());
            model.grade = Set(graded.grade.into());
            model.benchmarks = Set(graded.trace.benchmarks.clone());
        }
        model.status = Set(AssessmentStatus::Approved);
        model.reviewed_at = Set(Some(at));
        model.code_serial = Set(Some(serial as i64));
        model.update(txn).await?;
    } else {
        report.notes.push(format!(
            "code {serial}: no assessment of firm {} grades to the code's trace; linked to \
             assessment {} as it is (review it)",
            claims.sub, assessment.id
        ));
    }
    let previous = entry["supersedes"].as_i64();
    codes::ActiveModel {
        serial: Set(serial as i64),
        firm_id: Set(firm.id),
        assessment_id: Set(assessment.id),
        cose: Set(cose_bytes),
        code_sha256: Set(sha),
        iat: Set(claims.iat as i64),
        exp: Set(claims.exp as i64),
        status: Set(CodeStatus::Active),
        kid: Set(entry["kid"].as_str().unwrap_or("").to_owned()),
        grade: Set(claims.grade.into()),
        score: Set(entry["score"].as_str().unwrap_or("").to_owned()),
        period: Set(period),
        superseded_by: Set(None),
        revoked_reason: Set(None),
        revoked_at: Set(None),
        revoke_entry: Set(None),
        created_at: Set(at),
        waste_score: Set(None),
    }
    .insert(txn)
    .await?;
    if let Some(previous) = previous
        && let Some(old) = codes::Entity::find_by_id(previous).one(txn).await?
    {
        let mut model: codes::ActiveModel = old.clone().into();
        if old.status == CodeStatus::Active {
            model.status = Set(CodeStatus::Superseded);
        }
        model.superseded_by = Set(Some(serial as i64));
        model.update(txn).await?;
    }
    let score = entry["score"].as_str().unwrap_or("");
    set_current(
        txn,
        &firm,
        Some((claims.grade, score, serial as i64, period)),
    )
    .await?;
    audit::record(
        txn,
        actor,
        Utc::now(),
        Change {
            action: "code.restore",
            target_type: "code",
            target_id: serial.to_string(),
            before: None,
            after: Some(json!({"status": CodeStatus::Active, "from_log": serial})),
        },
    )
    .await?;
    report.codes.push(serial);
    Ok(())
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
