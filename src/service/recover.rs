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

/// The tables recovery reads row by row (see [`crate::db::vacuum_analyze`]).
const RESTORED_TABLES: [&str; 5] = ["firms", "assessments", "codes", "certifications", "vetoes"];

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
    crate::db::vacuum_analyze(db, &RESTORED_TABLES).await?;
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
        let steps = steps(from, values, &mut seen);
        // The first batch is read and decided while the entries are appended.
        let ahead = ahead(db, &table, &actor, steps.first());
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

/// A chunk's entries in order as steps: issue entries in batches (a firm at most once in a
/// batch, so that each entry reads what the ones before it wrote), a revocation alone.
enum Step {
    Issues(Vec<(u64, Value)>),
    Revoke(u64, Value),
}

/// How many issue entries are restored together.
const BATCH: usize = 512;

/// What the recovery has restored so far, as far as reading it outside its transaction is
/// concerned: a batch none of whose rows it wrote reads the same there as inside.
#[derive(Default)]
struct Seen {
    /// The database's log size when the recovery began: codes from there on are its own.
    restored_from: u64,
    /// The firms of the batches formed so far.
    firms: std::collections::HashSet<String>,
    /// Codes from before the recovery that it changed (revoked).
    codes: std::collections::HashSet<i64>,
}

impl Seen {
    /// Whether the batch reads only rows the recovery has not written (its firms in no
    /// earlier batch, no code it supersedes restored or revoked by the recovery).
    fn untouched(&self, entries: &[(u64, Value)]) -> bool {
        entries.iter().all(|(_, e)| {
            !self.firms.contains(e["uscc"].as_str().unwrap_or(""))
                && e["supersedes"].as_i64().is_none_or(|s| {
                    u64::try_from(s).is_ok_and(|s| s < self.restored_from)
                        && !self.codes.contains(&s)
                })
        })
    }
}

/// The chunk's entries as steps, each batch with whether it is [`Seen::untouched`].
fn steps(from: u64, values: Vec<Value>, seen: &mut Seen) -> Vec<(Step, bool)> {
    #[derive(Default)]
    struct Forming {
        entries: Vec<(u64, Value)>,
        usccs: std::collections::HashSet<String>,
    }
    fn end(batch: &mut Forming, seen: &mut Seen, steps: &mut Vec<(Step, bool)>) {
        if !batch.entries.is_empty() {
            let untouched = seen.untouched(&batch.entries);
            seen.firms.extend(batch.usccs.drain());
            steps.push((Step::Issues(std::mem::take(&mut batch.entries)), untouched));
        }
    }
    let mut steps = Vec::new();
    let mut batch = Forming::default();
    for (offset, value) in values.into_iter().enumerate() {
        let index = from + offset as u64;
        if value["type"] == "issue" {
            let uscc = value["uscc"].as_str().unwrap_or("").to_owned();
            if batch.entries.len() >= BATCH || batch.usccs.contains(&uscc) {
                end(&mut batch, seen, &mut steps);
            }
            batch.usccs.insert(uscc);
            batch.entries.push((index, value));
        } else {
            end(&mut batch, seen, &mut steps);
            if let Some(target) = value["target"].as_i64() {
                seen.codes.insert(target);
            }
            steps.push((Step::Revoke(index, value), false));
        }
    }
    end(&mut batch, seen, &mut steps);
    steps
}

/// Restores the steps in order. While one batch is written in the transaction, the next —
/// when it reads only rows the recovery has not written — is read and decided on another
/// connection (the committed rows it reads are the ones the transaction sees): the reading,
/// regrading and decoding of a batch overlap the writing of the one before it.
async fn restore_steps(
    txn: &crate::db::WriteTxn,
    db: &Db,
    table: &std::sync::Arc<BenchmarkTable>,
    actor: &Actor,
    steps: Vec<(Step, bool)>,
    mut ahead: Option<Ahead>,
    report: &mut Recovered,
) -> AppResult<()> {
    let mut steps = steps.into_iter().peekable();
    while let Some((step, _)) = steps.next() {
        let prepared = match step {
            Step::Revoke(index, value) => {
                restore_revoke(txn, actor, index, &value, report).await?;
                None
            }
            Step::Issues(entries) => match ahead.take() {
                Some(task) => match task.await.map_err(AppError::internal)?? {
                    Some(prepared) => Some(prepared),
                    // A firm to recreate: that is written, in the transaction.
                    None => prepare(txn, Some(txn), table, actor, entries).await?,
                },
                None => prepare(txn, Some(txn), table, actor, entries).await?,
            },
        };
        ahead = self::ahead(db, table, actor, steps.peek());
        if let Some(prepared) = prepared {
            prepared.write(txn, report).await?;
        }
    }
    Ok(())
}

/// A batch being read and decided outside the transaction.
type Ahead = tokio::task::JoinHandle<AppResult<Option<Prepared>>>;

/// Starts reading and deciding `step` outside the transaction, if it is a batch that reads
/// only rows the recovery has not written.
fn ahead(
    db: &Db,
    table: &std::sync::Arc<BenchmarkTable>,
    actor: &Actor,
    step: Option<&(Step, bool)>,
) -> Option<Ahead> {
    let Some((Step::Issues(entries), true)) = step else {
        return None;
    };
    let (db, table, actor, entries) = (db.clone(), table.clone(), actor.clone(), entries.clone());
    Some(tokio::spawn(async move {
        prepare(&db, None, &table, &actor, entries).await
    }))
}

/// A batch's writes, decided, and what it adds to the report.
struct Prepared {
    /// Its writes, a statement per table.
    statements: Vec<sea_orm::Statement>,
    /// The batch's part of the report.
    report: Recovered,
}

impl Prepared {
    async fn write(self, txn: &crate::db::WriteTxn, report: &mut Recovered) -> AppResult<()> {
        use sea_orm::ConnectionTrait;
        for statement in self.statements {
            txn.execute_raw(statement).await?;
        }
        report.codes.extend(self.report.codes);
        report.firms_recreated.extend(self.report.firms_recreated);
        report.notes.extend(self.report.notes);
        Ok(())
    }
}

/// An issue entry's code, checked against the entry.
struct Restoring {
    serial: u64,
    entry: Value,
    cose_bytes: Vec<u8>,
    sha: String,
    claims: crate::code::Claims,
}

fn decoded(serial: u64, entry: Value, report: &mut Recovered) -> AppResult<Option<Restoring>> {
    let Some(code) = entry["code"].as_str() else {
        report.notes.push(format!(
            "code {serial}: its entry predates the code bytes; not restored"
        ));
        return Ok(None);
    };
    let cose_bytes = URL_SAFE_NO_PAD
        .decode(code)
        .map_err(|_| bad(format!("entry {serial}: the code is not base64url")))?;
    let sha = hex::encode(Sha256::digest(&cose_bytes));
    let claims = cose::decode(&cose_bytes)
        .map_err(|e| bad(format!("entry {serial}: the code does not decode: {e}")))?
        .claims;
    if Some(sha.as_str()) != entry["code_sha256"].as_str()
        || claims.serial != serial
        || Some(claims.sub.as_str()) != entry["uscc"].as_str()
    {
        return Err(bad(format!(
            "entry {serial}: the code is not the one the entry names"
        )));
    }
    Ok(Some(Restoring {
        serial,
        entry,
        cose_bytes,
        sha,
        claims,
    }))
}

/// Decides what a batch of issue entries restores, in order: their firms, assessments,
/// certifications, vetoes and superseded codes read once on `conn`, their writes held to be
/// made once per table. A firm missing from the database is recreated in `creating`, the
/// transaction; reading outside it (`None`), the batch is left to be decided inside it.
async fn prepare<C: sea_orm::ConnectionTrait>(
    conn: &C,
    creating: Option<&crate::db::WriteTxn>,
    table: &BenchmarkTable,
    actor: &Actor,
    entries: Vec<(u64, Value)>,
) -> AppResult<Option<Prepared>> {
    use std::collections::HashMap;
    let mut report = Recovered::default();
    let report = &mut report;
    let mut restoring = Vec::with_capacity(entries.len());
    for (serial, entry) in entries {
        restoring.extend(decoded(serial, entry, report)?);
    }
    let mut firms: HashMap<String, firms::Model> =
        firms::by_usccs(conn, restoring.iter().map(|r| r.claims.sub.clone()))
            .await?
            .into_iter()
            .map(|f| (f.uscc.to_string(), f))
            .collect();
    for r in &restoring {
        if !firms.contains_key(&r.claims.sub) {
            let Some(txn) = creating else {
                return Ok(None);
            };
            let at =
                DateTime::<Utc>::from_timestamp(r.claims.iat as i64, 0).unwrap_or_else(Utc::now);
            let firm = recreate_firm(txn, actor, &r.claims, &r.entry, at, report).await?;
            firms.insert(r.claims.sub.clone(), firm);
        }
    }
    let firm_ids: Vec<crate::store::ids::FirmId> = firms.values().map(|f| f.id).collect();
    let mut of_firm: HashMap<(crate::store::ids::FirmId, i32), Vec<Candidate>> = HashMap::new();
    for c in Candidate::of_firms(conn, &firm_ids).await? {
        of_firm.entry((c.firm_id, c.period)).or_default().push(c);
    }
    for list in of_firm.values_mut() {
        list.sort_by_key(|a| std::cmp::Reverse(a.id));
    }
    let mut certs = super::issue::group::by_firm(
        sorted_by_id(
            crate::store::rows_in::<certifications::Entity, _, _>(
                conn,
                certifications::Column::FirmId,
                firm_ids.iter().copied(),
            )
            .await?,
            |c| c.id,
        ),
        |c| c.firm_id,
    );
    let mut vets = super::issue::group::by_firm(
        sorted_by_id(
            crate::store::rows_in::<vetoes::Entity, _, _>(
                conn,
                vetoes::Column::FirmId,
                firm_ids.iter().copied(),
            )
            .await?,
            |v| v.id,
        ),
        |v| v.firm_id,
    );
    let earlier: Vec<i64> = restoring
        .iter()
        .filter_map(|r| r.entry["supersedes"].as_i64())
        .collect();
    let mut previous: HashMap<i64, codes::Model> =
        crate::store::rows_in::<codes::Entity, _, _>(conn, codes::Column::Serial, earlier)
            .await?
            .into_iter()
            .map(|c| (c.serial, c))
            .collect();
    let mut writes = super::issue::writes::Writes::default();
    let mut approvals = Vec::new();
    for r in restoring {
        let Restoring {
            serial,
            entry,
            cose_bytes,
            sha,
            claims,
        } = r;
        let firm = &firms[&claims.sub];
        let trace_hash = entry["trace_hash"].as_str().unwrap_or("");
        let period = i32::try_from(claims.period).unwrap_or(0);
        let at = DateTime::<Utc>::from_timestamp(claims.iat as i64, 0).unwrap_or_else(Utc::now);
        let of_period = of_firm.remove(&(firm.id, period)).unwrap_or_default();
        // The approval graded the submission again as of its day (China time): do the same,
        // and the assessment whose grading gives the entry's trace is the one approved.
        let approved_on = (at + chrono::Duration::hours(8)).date_naive();
        let certs = certs.remove(&firm.id).unwrap_or_default();
        let vets = vets.remove(&firm.id).unwrap_or_default();
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
                grading::check(&assemble_input(firm.into(), &data, &certs, &vets), table)
                && checked.graded.trace_hash == trace_hash
            {
                regraded = Some((candidate, Some(checked)));
                break;
            }
        }
        let Some((assessment, checked)) = regraded.or(of_period.first().map(|a| (a, None))) else {
            report.notes.push(format!(
                "code {serial}: firm {} has no {period} assessment in the database; the code is \
                 in the log but its record is not restored",
                claims.sub
            ));
            continue;
        };
        if assessment.trace_hash == trace_hash || checked.is_some() {
            let regraded = match &checked {
                Some(checked) => {
                    let graded = &checked.graded;
                    Some(Regraded {
                        input: checked.canonical_input(),
                        trace: String::from_utf8(graded.trace.canonical_bytes())
                            .map_err(AppError::internal)?,
                        trace_hash: graded.trace_hash.clone(),
                        score: graded.trace.score.clone(),
                        grade: graded.grade,
                        benchmarks: graded.trace.benchmarks.clone(),
                    })
                }
                None => None,
            };
            approvals.push(Approval {
                id: assessment.id,
                reviewed_at: at,
                serial: serial as i64,
                regraded,
            });
        } else {
            report.notes.push(format!(
                "code {serial}: no assessment of firm {} grades to the code's trace; linked to \
                 assessment {} as it is (review it)",
                claims.sub, assessment.id
            ));
        }
        let score = entry["score"].as_str().unwrap_or("").to_owned();
        writes.codes.push(codes::Model {
            serial: serial as i64,
            firm_id: firm.id,
            assessment_id: assessment.id,
            cose: cose_bytes,
            code_sha256: sha,
            iat: claims.iat as i64,
            exp: claims.exp as i64,
            status: CodeStatus::Active,
            kid: entry["kid"].as_str().unwrap_or("").to_owned(),
            grade: claims.grade.into(),
            score: score.clone(),
            period,
            superseded_by: None,
            revoked_reason: None,
            revoked_at: None,
            revoke_entry: None,
            created_at: at,
            waste_score: None,
        });
        if let Some(earlier) = entry["supersedes"].as_i64() {
            // In this batch (not written yet), or in the database.
            if let Some(old) = writes.codes.iter_mut().find(|c| c.serial == earlier) {
                old.status = CodeStatus::Superseded;
                old.superseded_by = Some(serial as i64);
            } else if let Some(mut old) = previous.remove(&earlier) {
                if old.status == CodeStatus::Active {
                    old.status = CodeStatus::Superseded;
                }
                old.superseded_by = Some(serial as i64);
                writes.superseded.push(old);
            }
        }
        writes.firms.push(firms::Model {
            current_grade: Some(claims.grade.into()),
            current_score: Some(score),
            current_serial: Some(serial as i64),
            current_period: Some(period),
            ..firm.clone()
        });
        writes.audits.push((
            actor.clone(),
            Change {
                action: "code.restore",
                target_type: "code",
                target_id: serial.to_string(),
                before: None,
                after: Some(json!({"status": CodeStatus::Active, "from_log": serial})),
            },
        ));
        report.codes.push(serial);
    }
    let backend = conn.get_database_backend();
    let mut statements = writes.statements(backend);
    statements.extend(Approval::statement(backend, approvals));
    let changes = writes.audits.drain(..).map(|(_, c)| c).collect();
    statements.extend(audit::statements(backend, actor, Utc::now(), changes));
    Ok(Some(Prepared {
        statements,
        report: std::mem::take(report),
    }))
}

/// What recovery reads of an assessment to find the one a code was issued from — not its
/// trace or carbon trace, kilobytes it would read only to write them back unchanged.
struct Candidate {
    id: i64,
    firm_id: crate::store::ids::FirmId,
    period: i32,
    input: String,
    trace_hash: String,
}

impl Candidate {
    async fn of_firms<C: sea_orm::ConnectionTrait>(
        conn: &C,
        firm_ids: &[crate::store::ids::FirmId],
    ) -> AppResult<Vec<Candidate>> {
        use assessments::Column as A;
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        if firm_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(assessments::Entity::find()
            .select_only()
            .columns([A::Id, A::FirmId, A::Period, A::Input, A::TraceHash])
            .filter(A::FirmId.is_in(crate::db::in_list(firm_ids)))
            .into_tuple::<(i64, crate::store::ids::FirmId, i32, String, String)>()
            .all(conn)
            .await?
            .into_iter()
            .map(|(id, firm_id, period, input, trace_hash)| Candidate {
                id,
                firm_id,
                period,
                input,
                trace_hash,
            })
            .collect())
    }
}

/// An assessment approved again by its code's issue entry.
struct Approval {
    id: i64,
    reviewed_at: DateTime<Utc>,
    serial: i64,
    /// Its grading as of the approval's day, when that is not the one stored.
    regraded: Option<Regraded>,
}

struct Regraded {
    input: String,
    trace: String,
    trace_hash: String,
    score: String,
    grade: grading::Grade,
    benchmarks: String,
}

impl Approval {
    /// One statement for a batch's approvals: each row's status, review time and code, and
    /// — for one graded again — its input, trace, hash, score, grade and benchmarks (the
    /// columns left as they are where a row gives none).
    fn statement(
        backend: sea_orm::DatabaseBackend,
        approvals: Vec<Approval>,
    ) -> Option<sea_orm::Statement> {
        use sea_orm::Value;
        if approvals.is_empty() {
            return None;
        }
        const KEPT: [&str; 6] = [
            "input",
            "trace",
            "trace_hash",
            "score",
            "grade",
            "benchmarks",
        ];
        let mut values: Vec<Value> = vec![AssessmentStatus::Approved.as_str().into()];
        let place = |values: &mut Vec<Value>, value: Value| {
            values.push(value);
            match backend {
                sea_orm::DatabaseBackend::Postgres => format!("${}", values.len()),
                _ => "?".to_owned(),
            }
        };
        let status = match backend {
            sea_orm::DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        let mut rows = Vec::with_capacity(approvals.len());
        for a in approvals {
            let (input, trace, hash, score, grade, benchmarks) = match a.regraded {
                Some(r) => (
                    Some(r.input),
                    Some(r.trace),
                    Some(r.trace_hash),
                    Some(r.score),
                    Some(r.grade.as_str().to_owned()),
                    Some(r.benchmarks),
                ),
                None => (None, None, None, None, None, None),
            };
            let cells = [
                place(&mut values, a.id.into()),
                place(&mut values, a.reviewed_at.into()),
                place(&mut values, a.serial.into()),
                place(&mut values, input.into()),
                place(&mut values, trace.into()),
                place(&mut values, hash.into()),
                place(&mut values, score.into()),
                place(&mut values, grade.into()),
                place(&mut values, benchmarks.into()),
            ];
            rows.push(format!("({})", cells.join(", ")));
        }
        let kept: Vec<String> = KEPT
            .iter()
            .enumerate()
            .map(|(k, column)| {
                format!(
                    "\"{column}\" = COALESCE(\"v\".\"column{}\", \"assessments\".\"{column}\")",
                    k + 4
                )
            })
            .collect();
        let sql = format!(
            "UPDATE \"assessments\" SET \"status\" = {status}, \"reviewed_at\" = \"v\".\"column2\", \
             \"code_serial\" = \"v\".\"column3\", {} FROM (VALUES {}) AS \"v\" \
             WHERE \"assessments\".\"id\" = \"v\".\"column1\"",
            kept.join(", "),
            rows.join(", ")
        );
        Some(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
    }
}

fn sorted_by_id<T>(mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    rows.sort_by_key(|r| id(r));
    rows
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
