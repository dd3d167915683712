//! Issuing a group of approvals in one transaction: the group's reads made once, each approval
//! checked and signed, a refusal refusing that approval alone.

use super::checkpoint_note;
use super::commit_append;
use super::writes::Writes;
use super::{IssuedCode, active_key};
use crate::db::Db;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::{BTreeSet, HashMap, HashSet};

use crate::code::SigningKey;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::TryIntoModel;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::code::{self, Claims, cose, text};
use crate::error::{AppError, AppResult};
use crate::grading::{self};
use crate::service::accounts::Caller;
use crate::service::assessments::{assemble_input, may_see, visible};
use crate::service::cache::Caches;
use crate::service::keystore::Keys;
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Change};
use crate::store::codes::{self, CodeStatus};
use crate::store::{certifications, firms, tlog, vetoes};
use crate::tlog::{Entry, IssueEntry};

/// Issues the approvals asked in one transaction; each gets its outcome. An error that is not
/// one approval's own (the database, the log, the keys) fails the whole group.
pub(super) async fn issue_all(
    db: &Db,
    caches: &Caches,
    keys: &Keys,
    public_url: &str,
    asked: &[(&Caller, i64)],
) -> AppResult<Vec<AppResult<IssuedCode>>> {
    let (signing_key, key_record) = active_key(keys)?;
    let table = crate::service::benchmarks::in_force(db, caches).await?;
    let carbon = crate::service::carbon_tables::in_force(db, caches).await?;
    let txn = crate::db::begin_write(&db.for_writer()).await?;
    let head = tlog::lock_head(&txn).await?;
    keys.guard.check(head, &keys.ring)?;
    let tolerance =
        crate::service::settings::get::<crate::service::settings::ReadingSettings, _>(&txn)
            .await?
            .tolerance();
    let signer = Signer {
        tolerance,
        keys,
        signing_key,
        key_record,
        public_url,
        table: &table,
        carbon: &carbon,
        now: Utc::now(),
    };
    let ids: Vec<i64> = asked.iter().map(|(_, id)| *id).collect();
    let mut known = Known::read(&txn, &ids).await?;
    let mut outcomes = Vec::with_capacity(asked.len());
    let mut entries = Vec::new();
    let mut changed = Vec::new();
    let mut writes = Writes::default();
    for &(caller, id) in asked {
        let serial = head.size + entries.len() as u64;
        let found = known.take(id);
        if found.is_none() {
            // It reads again, after what the group has written so far.
            writes.flush(&txn).await?;
        }
        match issue_one(&txn, &signer, caller, id, found, serial, &mut writes).await {
            Ok((issued, entry, firm_id)) => {
                known.written(firm_id);
                changed.push(issued.serial as i64);
                changed.extend(issued.supersedes);
                entries.push((entry.kind().to_owned(), entry.canonical_text()));
                outcomes.push(Ok(issued));
            }
            Err(
                err @ (AppError::Internal(_) | AppError::LogBehind(_) | AppError::Unavailable(_)),
            ) => {
                return Err(err);
            }
            Err(refused) => outcomes.push(Err(refused)),
        }
    }
    if entries.is_empty() {
        txn.rollback().await?;
        return Ok(outcomes);
    }
    writes.flush(&txn).await?;
    // The group's audit events, in order, one statement per run of one actor's.
    let audits = writes.audits;
    for run in audits.chunk_by(|a, b| a.0.id == b.0.id) {
        let at = signer.now;
        let changes = run.iter().map(|(_, change)| change.clone()).collect();
        audit::record_many(&txn, &run[0].0, at, changes).await?;
    }
    let new_head = tlog::append_many(&txn, head, &entries).await?;
    let note = checkpoint_note(keys, new_head);
    tlog::store_checkpoint(&txn, new_head, &note).await?;
    crate::store::notify::codes_changed(&txn, &changed).await?;
    commit_append(keys, txn, &note).await?;
    caches.codes.forget(&changed);
    Ok(outcomes)
}

/// What every approval of a group is graded and signed with.
pub(super) struct Signer<'a> {
    keys: &'a Keys,
    signing_key: &'a SigningKey,
    key_record: &'a code::PublishedKey,
    public_url: &'a str,
    /// The benchmarks in force on the approval date.
    table: &'a grading::BenchmarkTable,
    /// The carbon tables in force on the approval date (methodology §10).
    carbon: &'a grading::carbon::CarbonTables,
    /// The regulator's tolerance for declared figures beside attested ones (claim 8).
    tolerance: crate::grading::decimal::Fixed,
    now: chrono::DateTime<Utc>,
}

/// What one approval reads before it writes.
pub(super) struct Found {
    assessment: assessments::Model,
    firm: firms::Model,
    certs: Vec<certifications::Model>,
    vetoes: Vec<vetoes::Model>,
    /// The firm's active code, which the new one supersedes.
    previous: Option<codes::Model>,
    /// The banks told of the firm's codes.
    followers: BTreeSet<crate::store::ids::AccountId>,
    /// What data sources attested for the assessment's year (claim 8).
    attested: Vec<crate::service::readings::Attested>,
}

impl Found {
    /// One approval's reads, one statement each.
    async fn read(txn: &crate::db::WriteTxn, caller: &Caller, id: i64) -> AppResult<Found> {
        let (assessment, firm) = visible(txn, caller, id).await?;
        Ok(Found {
            attested: crate::service::readings::attested(
                txn,
                firm.uscc.as_str(),
                assessment.period,
            )
            .await?,
            certs: certifications::of_firm(txn, firm.id).await?,
            vetoes: vetoes::of_firm(txn, firm.id).await?,
            previous: codes::active_of(txn, firm.id).await?,
            followers: crate::service::webhooks::banks_following(txn, &[firm.id])
                .await?
                .remove(&firm.id)
                .unwrap_or_default(),
            assessment,
            firm,
        })
    }
}

/// A group's reads, made once for all its approvals (a statement per table, not per
/// approval). An approval whose firm an earlier one of the group has written to reads again
/// (`take` gives nothing for it): two approvals of one firm in a group see each other.
pub(super) struct Known {
    found: HashMap<i64, Found>,
    written_firms: HashSet<crate::store::ids::FirmId>,
}

impl Known {
    async fn read(txn: &crate::db::WriteTxn, ids: &[i64]) -> AppResult<Known> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let (assessments, firms): (Vec<_>, Vec<_>) =
            assessments::with_firms(txn, ids).await?.into_iter().unzip();
        let mut firms: HashMap<crate::store::ids::FirmId, firms::Model> =
            firms.into_iter().flatten().map(|f| (f.id, f)).collect();
        let firm_ids: Vec<crate::store::ids::FirmId> = firms
            .keys()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (mut certs, mut vets) = crate::store::certifications_and_vetoes(txn, &firm_ids).await?;
        let mut active: HashMap<crate::store::ids::FirmId, codes::Model> = codes::Entity::find()
            .filter(codes::Column::FirmId.is_in(crate::db::in_list(&firm_ids)))
            .filter(codes::Column::Status.eq(CodeStatus::Active))
            .all(txn)
            .await?
            .into_iter()
            .map(|c| (c.firm_id, c))
            .collect();
        let mut followers = crate::service::webhooks::banks_following(txn, &firm_ids).await?;
        let wanted: Vec<(String, i32)> = assessments
            .iter()
            .filter_map(|a| Some((firms.get(&a.firm_id)?.uscc.to_string(), a.period)))
            .collect();
        let mut attested = crate::service::readings::attested_many(txn, &wanted).await?;
        let mut found = HashMap::new();
        let mut firms_seen = HashSet::new();
        for assessment in assessments {
            let firm_id = assessment.firm_id;
            // A firm's records go to its first approval in the group; the others read again.
            let Some(firm) = firms.remove(&firm_id) else {
                continue;
            };
            firms_seen.insert(firm_id);
            let attested = attested
                .remove(&(firm.uscc.to_string(), assessment.period))
                .unwrap_or_default();
            found.insert(
                assessment.id,
                Found {
                    firm,
                    certs: certs.remove(&firm_id).unwrap_or_default(),
                    vetoes: vets.remove(&firm_id).unwrap_or_default(),
                    previous: active.remove(&firm_id),
                    followers: followers.remove(&firm_id).unwrap_or_default(),
                    attested,
                    assessment,
                },
            );
        }
        Ok(Known {
            found,
            written_firms: HashSet::new(),
        })
    }

    /// Approval `id`'s reads, unless an earlier approval of the group wrote to its firm or
    /// asked for the same assessment.
    fn take(&mut self, id: i64) -> Option<Found> {
        let found = self.found.remove(&id)?;
        (!self.written_firms.contains(&found.firm.id)).then_some(found)
    }

    /// An approval of the group wrote to `firm_id`.
    fn written(&mut self, firm_id: crate::store::ids::FirmId) {
        self.written_firms.insert(firm_id);
    }
}

/// One approval of a group, as serial `serial`: its checks first (a refusal writes nothing),
/// then its code, the previous code superseded, the firm's current grade, the assessment and
/// the audit events. Returns the log entry to append.
pub(super) async fn issue_one(
    txn: &crate::db::WriteTxn,
    signer: &Signer<'_>,
    caller: &Caller,
    id: i64,
    found: Option<Found>,
    serial: u64,
    writes: &mut Writes,
) -> AppResult<(IssuedCode, Entry, crate::store::ids::FirmId)> {
    let found = match found {
        Some(found) => {
            may_see(caller, &found.assessment)?;
            found
        }
        None => Found::read(txn, caller, id).await?,
    };
    let Found {
        assessment,
        firm,
        certs,
        vetoes: vets,
        previous,
        followers,
        attested,
    } = found;
    if assessment.status != AssessmentStatus::Submitted {
        return Err(AppError::Conflict(
            crate::error::Conflict::AlreadyDone,
            format!(
                "assessment {id} is {}, not submitted",
                assessment.status.as_str()
            ),
        ));
    }
    let now = signer.now;
    let today = crate::service::records::today();

    // The stored input, brought to the approval date with the records as they are now.
    let stored: Value = serde_json::from_str(&assessment.input).map_err(AppError::internal)?;
    let mut data = stored.as_object().cloned().unwrap_or_default();
    data.insert("assessed_on".into(), Value::String(today.to_string()));
    let checked = grading::check(
        &assemble_input((&firm).into(), &data, &certs, &vets),
        signer.table,
    )?;
    let graded = &checked.graded;

    let key_record = signer.key_record;
    let iat = now.timestamp() as u64;
    let key_end = key_record.not_after.map(|t| t.timestamp().max(0) as u64);
    // The carbon-efficiency level beside the grade (claim 7; methodology §10), from the same
    // figures; a division without a carbon baseline leaves the claim out.
    let (carbon_trace, carbon_hash, carbon_level) =
        assessments::carbon_of(&checked.assessment, signer.carbon);
    let mut claims = Claims::issue(&signer.keys.ring.issuer, graded, serial, iat, key_end)
        .with_carbon_level(carbon_level.and_then(|l| u8::try_from(l).ok()));
    // The share of the energy whose figures data sources attested (claim 8; 数据直连), left
    // out when no source delivered anything for the firm's year.
    claims.attested_share =
        crate::service::readings::attested_share(&graded.trace, &attested, signer.tolerance);
    let exp = claims.exp;
    let cose_bytes = cose::sign(&claims, signer.signing_key);
    let code_sha256 = hex::encode(Sha256::digest(&cose_bytes));
    let entry = Entry::Issue(IssueEntry {
        serial,
        uscc: firm.uscc.to_string(),
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
        grade: Set(graded.grade.into()),
        score: Set(graded.trace.score.clone()),
        period: Set(i32::from(graded.trace.period)),
        superseded_by: Set(None),
        revoked_reason: Set(None),
        revoked_at: Set(None),
        revoke_entry: Set(None),
        created_at: Set(now),
        waste_score: Set(graded.waste_score.map(|s| s.fixed_text())),
    };
    let issued: codes::Model = issued.clone().try_into_model()?;
    writes.codes.push(issued.clone());
    let actor = caller.actor();
    // The banks that follow the firm are told, in this transaction (the outbox).
    crate::service::webhooks::enqueue_for(
        txn,
        &followers,
        "code.issued",
        crate::service::webhooks::code_data(&issued, firm.uscc.as_str(), &firm.name),
    )
    .await?;
    if let Some(previous) = &previous {
        let old = codes::Model {
            status: CodeStatus::Superseded,
            superseded_by: Some(serial as i64),
            ..previous.clone()
        };
        writes.superseded.push(old.clone());
        // A regrade says why (an incident list's veto); else the new code's serial says it.
        let mut data = crate::service::webhooks::code_data(&old, firm.uscc.as_str(), &firm.name);
        if let Some(reason) = &assessment.regrade_reason {
            data["reason"] = json!(reason);
        }
        crate::service::webhooks::enqueue_for(txn, &followers, "code.superseded", data).await?;
        writes.audits.push((
            actor.clone(),
            Change {
                action: "code.supersede",
                target_type: "code",
                target_id: previous.serial.to_string(),
                before: Some(json!({"status": CodeStatus::Active})),
                after: Some(
                    json!({"status": CodeStatus::Superseded, "superseded_by": serial,
                    "reason": assessment.regrade_reason}),
                ),
            },
        ));
    }
    writes.firms.push(firms::Model {
        current_grade: Some(graded.grade.into()),
        current_score: Some(graded.trace.score.clone()),
        current_serial: Some(serial as i64),
        current_period: Some(i32::from(graded.trace.period)),
        ..firm.clone()
    });

    let before = json!({"status": assessment.status, "trace_hash": assessment.trace_hash, "grade": assessment.grade});
    writes.assessments.push(assessments::Model {
        status: AssessmentStatus::Approved,
        input: checked.canonical_input(),
        trace: String::from_utf8(graded.trace.canonical_bytes()).map_err(AppError::internal)?,
        trace_hash: graded.trace_hash.clone(),
        score: graded.trace.score.clone(),
        grade: graded.grade.into(),
        benchmarks: graded.trace.benchmarks.clone(),
        reviewed_by: Some(caller.account_id),
        reviewed_at: Some(now),
        code_serial: Some(serial as i64),
        carbon_trace,
        carbon_hash,
        carbon_level,
        ..assessment.clone()
    });
    writes.audits.push((actor.clone(), Change {
            action: "assessment.approve",
            target_type: "assessment",
            target_id: id.to_string(),
            before: Some(before),
            after: Some(json!({"status": AssessmentStatus::Approved, "uscc": firm.uscc.to_string(), "trace_hash": graded.trace_hash, "grade": graded.grade.as_str(), "code_serial": serial})),
        }));
    let mut after = entry.to_json();
    if let Some(share) = claims.attested_share {
        after["attested_share"] = serde_json::json!(share);
    }
    writes.audits.push((
        actor.clone(),
        Change {
            action: "code.issue",
            target_type: "code",
            target_id: serial.to_string(),
            before: None,
            after: Some(after),
        },
    ));
    let issued = IssuedCode {
        serial,
        url: text::url(signer.public_url, &cose_bytes),
        uscc: firm.uscc.to_string(),
        grade: graded.grade.as_str().into(),
        score: graded.trace.score.clone(),
        period: i32::from(graded.trace.period),
        iat,
        exp,
        kid: key_record.kid.clone(),
        supersedes: previous.map(|p| p.serial),
        assessment_id: id,
        trace_hash: graded.trace_hash.clone(),
    };
    Ok((issued, entry, firm.id))
}
