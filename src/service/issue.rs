//! Issuing a code, superseding the firm's previous one, recorded in the transparency log in one
//! transaction with everything it changes: the log entry and its subtrees, the new head and
//! its signed checkpoint, the code, the previous code's status, the firm's current grade, the
//! assessment, and the audit events. Appends are serialised on the log head.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::Utc;
use ed25519_dalek::SigningKey;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, TryIntoModel};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::accounts::Caller;
use super::assessments::{assemble_input, may_see, visible};
use super::cache::Caches;
use super::keystore::Keys;
use crate::code::{self, Claims, cose, text};
use crate::error::{AppError, AppResult};
use crate::grading::{self, Grade};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Actor, Change};
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
    db: &DatabaseConnection,
    caches: &Caches,
    keys: &Arc<Keys>,
    caller: &Caller,
    id: i64,
    public_url: &str,
) -> AppResult<IssuedCode> {
    let queue = queue_of(db);
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
        let (db, caches, url) = (db.clone(), caches.clone(), public_url.to_owned());
        crate::db::spawn_on_writer(async move {
            let _unless_it_panics = Issuing(queue.clone());
            loop {
                let group = std::mem::take(&mut *lock(&queue.waiting));
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
                issue_group(&db, &caches, &keys, &url, group).await;
            }
        });
    }
    answer
        .await
        .unwrap_or_else(|_| Err(AppError::internal("the approval was not answered")))
}

/// One approval waiting in the queue.
struct Approval {
    caller: Caller,
    id: i64,
    keys: Arc<Keys>,
    reply: tokio::sync::oneshot::Sender<AppResult<IssuedCode>>,
}

/// Should the issuing task panic, the next approval starts another.
struct Issuing(Arc<Queue>);

impl Drop for Issuing {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.issuing.store(false, Ordering::SeqCst);
        }
    }
}

/// A process's approvals for one database: those waiting, and whether a task is issuing them.
#[derive(Default)]
struct Queue {
    waiting: Mutex<Vec<Approval>>,
    issuing: AtomicBool,
}

fn queue_of(db: &DatabaseConnection) -> Arc<Queue> {
    static QUEUES: LazyLock<Mutex<HashMap<String, Arc<Queue>>>> = LazyLock::new(Default::default);
    lock(&QUEUES)
        .entry(crate::db::identity(db))
        .or_default()
        .clone()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Issues a group and answers each approval in it.
async fn issue_group(
    db: &DatabaseConnection,
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

/// Issues the approvals asked in one transaction; each gets its outcome. An error that is not
/// one approval's own (the database, the log, the keys) fails the whole group.
async fn issue_all(
    db: &DatabaseConnection,
    caches: &Caches,
    keys: &Keys,
    public_url: &str,
    asked: &[(&Caller, i64)],
) -> AppResult<Vec<AppResult<IssuedCode>>> {
    let (signing_key, key_record) = active_key(keys)?;
    let table = super::benchmarks::in_force(db, caches).await?;
    let txn = crate::db::begin_write(&crate::db::for_writer(db)).await?;
    let head = tlog::lock_head(&txn).await?;
    keys.guard.check(head, &keys.ring)?;
    let signer = Signer {
        keys,
        signing_key,
        key_record,
        public_url,
        table: &table,
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
            Err(err @ (AppError::Internal(_) | AppError::LogBehind(_))) => return Err(err),
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
struct Signer<'a> {
    keys: &'a Keys,
    signing_key: &'a SigningKey,
    key_record: &'a code::PublishedKey,
    public_url: &'a str,
    /// The benchmarks in force on the approval date.
    table: &'a grading::BenchmarkTable,
    now: chrono::DateTime<Utc>,
}

/// What one approval reads before it writes.
struct Found {
    assessment: assessments::Model,
    firm: firms::Model,
    certs: Vec<certifications::Model>,
    vetoes: Vec<vetoes::Model>,
    /// The firm's active code, which the new one supersedes.
    previous: Option<codes::Model>,
    /// The banks told of the firm's codes.
    followers: BTreeSet<i64>,
}

impl Found {
    /// One approval's reads, one statement each.
    async fn read(txn: &crate::db::WriteTxn, caller: &Caller, id: i64) -> AppResult<Found> {
        let (assessment, firm) = visible(txn, caller, id).await?;
        Ok(Found {
            certs: certifications::of_firm(txn, firm.id).await?,
            vetoes: vetoes::of_firm(txn, firm.id).await?,
            previous: codes::active_of(txn, firm.id).await?,
            followers: super::webhooks::banks_following(txn, &[firm.id])
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
struct Known {
    found: HashMap<i64, Found>,
    written_firms: HashSet<i64>,
}

impl Known {
    async fn read(txn: &crate::db::WriteTxn, ids: &[i64]) -> AppResult<Known> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        // Each assessment with its firm, in one statement.
        let (assessments, firms): (Vec<_>, Vec<_>) = assessments::Entity::find()
            .filter(assessments::Column::Id.is_in(crate::db::in_list(ids)))
            .find_also_related(firms::Entity)
            .all(txn)
            .await?
            .into_iter()
            .unzip();
        let mut firms: HashMap<i64, firms::Model> =
            firms.into_iter().flatten().map(|f| (f.id, f)).collect();
        let firm_ids: Vec<i64> = firms
            .keys()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut certs = by_firm(
            certifications::Entity::find()
                .filter(certifications::Column::FirmId.is_in(crate::db::in_list(&firm_ids)))
                .order_by_asc(certifications::Column::Id)
                .all(txn)
                .await?,
            |c| c.firm_id,
        );
        let mut vets = by_firm(
            vetoes::Entity::find()
                .filter(vetoes::Column::FirmId.is_in(crate::db::in_list(&firm_ids)))
                .order_by_asc(vetoes::Column::Id)
                .all(txn)
                .await?,
            |v| v.firm_id,
        );
        let mut active: HashMap<i64, codes::Model> = codes::Entity::find()
            .filter(codes::Column::FirmId.is_in(crate::db::in_list(&firm_ids)))
            .filter(codes::Column::Status.eq(CodeStatus::Active))
            .all(txn)
            .await?
            .into_iter()
            .map(|c| (c.firm_id, c))
            .collect();
        let mut followers = super::webhooks::banks_following(txn, &firm_ids).await?;
        let mut found = HashMap::new();
        let mut firms_seen = HashSet::new();
        for assessment in assessments {
            let firm_id = assessment.firm_id;
            // A firm's records go to its first approval in the group; the others read again.
            let Some(firm) = firms.remove(&firm_id) else {
                continue;
            };
            firms_seen.insert(firm_id);
            found.insert(
                assessment.id,
                Found {
                    firm,
                    certs: certs.remove(&firm_id).unwrap_or_default(),
                    vetoes: vets.remove(&firm_id).unwrap_or_default(),
                    previous: active.remove(&firm_id),
                    followers: followers.remove(&firm_id).unwrap_or_default(),
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
    fn written(&mut self, firm_id: i64) {
        self.written_firms.insert(firm_id);
    }
}

/// Rows grouped by their firm, in their order.
fn by_firm<T>(rows: Vec<T>, firm_of: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(firm_of(&row)).or_default().push(row);
    }
    grouped
}

/// One approval of a group, as serial `serial`: its checks first (a refusal writes nothing),
/// then its code, the previous code superseded, the firm's current grade, the assessment and
/// the audit events. Returns the log entry to append.
async fn issue_one(
    txn: &crate::db::WriteTxn,
    signer: &Signer<'_>,
    caller: &Caller,
    id: i64,
    found: Option<Found>,
    serial: u64,
    writes: &mut Writes,
) -> AppResult<(IssuedCode, Entry, i64)> {
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
    } = found;
    if assessment.status != AssessmentStatus::Submitted {
        return Err(AppError::Conflict(format!(
            "assessment {id} is {}, not submitted",
            assessment.status.as_str()
        )));
    }
    let now = signer.now;
    let today = super::records::today();

    // The stored input, brought to the approval date with the records as they are now.
    let stored: Value = serde_json::from_str(&assessment.input).map_err(AppError::internal)?;
    let mut data = stored.as_object().cloned().unwrap_or_default();
    data.insert("assessed_on".into(), Value::String(today.to_string()));
    let checked = grading::check(&assemble_input(&firm, &data, &certs, &vets), signer.table)?;
    let graded = &checked.graded;

    let key_record = signer.key_record;
    let iat = now.timestamp() as u64;
    let key_end = key_record.not_after.map(|t| t.timestamp().max(0) as u64);
    let claims = Claims::issue(&signer.keys.ring.issuer, graded, serial, iat, key_end);
    let exp = claims.exp;
    let cose_bytes = cose::sign(&claims, signer.signing_key);
    let code_sha256 = hex::encode(Sha256::digest(&cose_bytes));
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
    };
    let issued: codes::Model = issued.clone().try_into_model()?;
    writes.codes.push(issued.clone());
    let actor = caller.actor();
    // The banks that follow the firm are told, in this transaction (the outbox).
    super::webhooks::enqueue_for(
        txn,
        &followers,
        "code.issued",
        super::webhooks::code_data(&issued, &firm.uscc, &firm.name),
    )
    .await?;
    if let Some(previous) = &previous {
        let old = codes::Model {
            status: CodeStatus::Superseded,
            superseded_by: Some(serial as i64),
            ..previous.clone()
        };
        writes.superseded.push(old.clone());
        super::webhooks::enqueue_for(
            txn,
            &followers,
            "code.superseded",
            super::webhooks::code_data(&old, &firm.uscc, &firm.name),
        )
        .await?;
        writes.audits.push((
            actor.clone(),
            Change {
                action: "code.supersede",
                target_type: "code",
                target_id: previous.serial.to_string(),
                before: Some(json!({"status": CodeStatus::Active})),
                after: Some(json!({"status": CodeStatus::Superseded, "superseded_by": serial})),
            },
        ));
    }
    writes.firms.push(firms::Model {
        current_grade: Some(graded.grade),
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
        grade: graded.grade,
        benchmarks: graded.trace.benchmarks.clone(),
        reviewed_by: Some(caller.account_id),
        reviewed_at: Some(now),
        code_serial: Some(serial as i64),
        ..assessment.clone()
    });
    writes.audits.push((actor.clone(), Change {
            action: "assessment.approve",
            target_type: "assessment",
            target_id: id.to_string(),
            before: Some(before),
            after: Some(json!({"status": AssessmentStatus::Approved, "trace_hash": graded.trace_hash, "grade": graded.grade.as_str(), "code_serial": serial})),
        }));
    writes.audits.push((
        actor.clone(),
        Change {
            action: "code.issue",
            target_type: "code",
            target_id: serial.to_string(),
            before: None,
            after: Some(entry.to_json()),
        },
    ));
    let issued = IssuedCode {
        serial,
        url: text::url(signer.public_url, &cose_bytes),
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
    };
    Ok((issued, entry, firm.id))
}

/// What a group's approvals write, held until the group (or an approval that must read again
/// after them) needs it: a statement per table, not per approval. Rows are whole models; the
/// updates are written as inserts that update the columns an approval changes when the row
/// exists (as it always does here), which both databases take in one statement.
#[derive(Default)]
struct Writes {
    codes: Vec<codes::Model>,
    superseded: Vec<codes::Model>,
    firms: Vec<firms::Model>,
    assessments: Vec<assessments::Model>,
    /// Written last, with the log: the audit trail's own order.
    audits: Vec<(Actor, Change<'static>)>,
}

impl Writes {
    async fn flush(&mut self, txn: &crate::db::WriteTxn) -> AppResult<()> {
        use assessments::Column as A;
        use codes::Column as C;
        use firms::Column as F;
        insert_rows::<codes::Entity>(txn, &mut self.codes, None).await?;
        let superseded = [C::Status, C::SupersededBy];
        insert_rows::<codes::Entity>(txn, &mut self.superseded, Some((C::Serial, &superseded)))
            .await?;
        let current = [
            F::CurrentGrade,
            F::CurrentScore,
            F::CurrentSerial,
            F::CurrentPeriod,
        ];
        insert_rows::<firms::Entity>(txn, &mut self.firms, Some((F::Id, &current))).await?;
        let approved = [
            A::Status,
            A::Input,
            A::Trace,
            A::TraceHash,
            A::Score,
            A::Grade,
            A::Benchmarks,
            A::ReviewedBy,
            A::ReviewedAt,
            A::CodeSerial,
        ];
        insert_rows::<assessments::Entity>(txn, &mut self.assessments, Some((A::Id, &approved)))
            .await
    }
}

/// Inserts `rows` (taking them) in one statement; with `(key, columns)`, a row whose key
/// exists has those columns updated instead.
async fn insert_rows<E: sea_orm::EntityTrait>(
    txn: &crate::db::WriteTxn,
    rows: &mut Vec<E::Model>,
    updating: Option<(E::Column, &[E::Column])>,
) -> AppResult<()>
where
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    use sea_orm::IntoActiveModel;
    use sea_orm::sea_query::OnConflict;
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = E::insert_many(
        rows.drain(..)
            .map(|row| row.into_active_model().reset_all()),
    );
    if let Some((key, columns)) = updating {
        insert = insert.on_conflict(
            OnConflict::column(key)
                .update_columns(columns.iter().copied())
                .to_owned(),
        );
    }
    insert.exec_without_returning(txn).await?;
    Ok(())
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
