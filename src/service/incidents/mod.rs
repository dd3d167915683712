//! Incidents from outside (外部事件): lists of serious incidents that other authorities publish
//! — 信用中国's dishonest entities, an environmental bureau's credit ratings and penalty
//! decisions, a safety accident's investigation — each row a USCC, a veto kind (methodology §4),
//! the date, the issuing authority and the document's number.
//!
//! A list is first run dry: which registered firms it touches, which of their active codes would
//! be regraded and to what. Committed, its new vetoes are recorded with their source and each
//! touched firm whose grade the vetoes change gets a regrade: a submission with the reason,
//! approved through the group commit, so that its code supersedes the old one in one log append
//! per firm and the banks following it are told (`code.superseded` with the reason). A list with
//! a bad row changes nothing; a list committed again records nothing twice and regrades only a
//! firm whose code still does not carry its vetoes (so that a commit cut short is finished by
//! the next).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::service::accounts::{Caller, Role};
use crate::service::cache::Caches;
use crate::service::keystore::Keys;
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Change};
use crate::store::ids::FirmId;
use crate::store::{certifications, codes, firms, vetoes};

/// The most rows one list takes.
pub const MAX_ROWS: usize = 20_000;

/// Approvals waiting in the group commit at once.
const IN_FLIGHT: usize = 256;

mod rows;

use rows::{Incident, check_rows};
pub use rows::{csv_rows, json_rows, read_list, template};

type Key = (FirmId, String, NaiveDate, String);

/// One incident as the list gives it (every member text, so that each fault is named by row).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRow {
    /// The firm's unified social credit code.
    pub uscc: String,
    /// A veto kind of methodology §4 (`dishonest_entity`, `environmental_credit_black`, …) or
    /// its Chinese name (失信主体, 环境信用黑牌, …).
    pub kind: String,
    /// When it happened or was decided, `YYYY-MM-DD`.
    pub occurred_on: String,
    /// Who issued the document (信用中国, 重庆市生态环境局 …).
    pub authority: String,
    /// The document's number (a penalty decision's, a list entry's).
    pub document_no: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentList {
    pub rows: Vec<IncidentRow>,
    /// `false` (the default): a dry run, nothing changes.
    #[serde(default)]
    pub commit: bool,
}

/// What a list does (dry run) or did (commit).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentReport {
    pub committed: bool,
    pub rows: usize,
    /// Rows naming a firm not registered here: nothing to do.
    pub not_registered: usize,
    /// Rows already recorded (by an earlier list): recorded once.
    pub already_recorded: usize,
    /// Vetoes recorded now (dry run: that would be).
    pub new_vetoes: usize,
    /// Firms whose codes were (dry run: would be) regraded.
    pub regraded: usize,
    /// Every registered firm the list names, in the list's order.
    pub firms: Vec<AffectedFirm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The active code is superseded by the regraded one.
    Regraded,
    /// Dry run: it would be.
    WouldRegrade,
    /// The vetoes leave the grade as it is (already capped, or out of their window).
    Unchanged,
    /// No active code: the vetoes count when the firm is next graded.
    NoCode,
    /// The firm's current data cannot be graded now (`note` says why); the vetoes are recorded.
    CannotGrade,
    /// The regrade was refused (`note` says why); the vetoes are recorded, and committing the
    /// list again tries again.
    Failed,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffectedFirm {
    pub uscc: String,
    pub name: String,
    pub district: String,
    /// The list's rows for this firm.
    pub incidents: usize,
    /// Of them, not recorded before.
    pub new_incidents: usize,
    pub serial: Option<i64>,
    pub grade: Option<String>,
    pub new_grade: Option<String>,
    pub new_serial: Option<u64>,
    pub outcome: Outcome,
    pub note: Option<String>,
}

/// Where the service signs what a commit regrades.
pub struct Signing<'a> {
    pub caches: &'a Caches,
    pub keys: &'a Arc<Keys>,
    pub public_url: &'a str,
}

/// Runs a list: a dry run unless `commit`. `json_rows`: the rows came as JSON (faults named
/// `rows[i].column`), else from a file (by line and column).
pub async fn run(
    db: &Db,
    signing: &Signing<'_>,
    caller: &Caller,
    rows: &[(u64, IncidentRow)],
    json_rows: bool,
    commit: bool,
) -> AppResult<IncidentReport> {
    caller.must_be(Role::Regulator)?;
    let incidents = check_rows(rows, json_rows)?;
    if commit && signing.keys.ring.active.is_none() {
        // Checked before anything is written: the regrades could not be signed.
        return Err(AppError::Conflict(
            crate::error::Conflict::NoActiveKey,
            "no active signing key: rotate in a new key (gec keys rotate)".into(),
        ));
    }
    let mut plan = Plan::read(db, signing.caches, &incidents).await?;
    let mut report = plan.report(rows.len(), commit);
    if !commit {
        return Ok(report);
    }
    let submissions = plan.record(db, caller).await?;
    // Each regrade approved through the group commit, many waiting at once.
    let mut approvals = tokio::task::JoinSet::new();
    let mut outcomes: HashMap<usize, AppResult<u64>> = HashMap::new();
    for (position, id) in submissions {
        if approvals.len() >= IN_FLIGHT
            && let Some(done) = approvals.join_next().await
        {
            let (at, outcome) = done.map_err(AppError::internal)?;
            outcomes.insert(at, outcome);
        }
        let (db, caches, keys) = (db.clone(), signing.caches.clone(), signing.keys.clone());
        let (caller, url) = (caller.clone(), signing.public_url.to_owned());
        approvals.spawn(async move {
            let issued = crate::service::issue::approve(&db, &caches, &keys, &caller, id, &url)
                .await
                .map(|code| code.serial);
            (position, issued)
        });
    }
    while let Some(done) = approvals.join_next().await {
        let (at, outcome) = done.map_err(AppError::internal)?;
        outcomes.insert(at, outcome);
    }
    report.regraded = 0;
    for (at, outcome) in outcomes {
        let firm = &mut report.firms[at];
        match outcome {
            Ok(serial) => {
                firm.outcome = Outcome::Regraded;
                firm.new_serial = Some(serial);
                report.regraded += 1;
            }
            Err(err) => {
                firm.outcome = Outcome::Failed;
                firm.note = Some(err.to_string());
            }
        }
    }
    Ok(report)
}

/// What a list means for the firms it names, read once.
struct Plan {
    rows_not_registered: usize,
    rows_recorded: usize,
    /// New vetoes, by firm.
    new: Vec<(FirmId, Incident)>,
    firms: Vec<Touched>,
}

struct Touched {
    firm: firms::Model,
    incidents: usize,
    new_incidents: usize,
    code: Option<codes::Model>,
    /// The firm's code's grade recomputed with its vetoes (those on record and the new ones).
    regraded: Option<Result<crate::grading::Grade, String>>,
    /// Where the grade changes: the regrade's submission (from the code's assessment's input
    /// and basis), its submitter and time set when recorded.
    submission: Option<assessments::ActiveModel>,
    reasons: Vec<String>,
}

impl Touched {
    fn changes(&self) -> bool {
        match (&self.code, &self.regraded) {
            (Some(code), Some(Ok(grade))) => *grade != code.grade.0,
            _ => false,
        }
    }
}

impl Plan {
    async fn read(db: &Db, caches: &Caches, incidents: &[Incident]) -> AppResult<Plan> {
        let usccs: Vec<String> = incidents.iter().map(|i| i.uscc.clone()).collect();
        let found: HashMap<String, firms::Model> =
            crate::store::rows_in::<firms::Entity, _, _>(db, firms::Column::Uscc, usccs)
                .await?
                .into_iter()
                .map(|f| (f.uscc.to_string(), f))
                .collect();
        let firm_ids: Vec<FirmId> = found.values().map(|f| f.id).collect();
        let mut on_record: HashMap<FirmId, Vec<vetoes::Model>> = HashMap::new();
        for v in crate::store::rows_in::<vetoes::Entity, _, _>(
            db,
            vetoes::Column::FirmId,
            firm_ids.clone(),
        )
        .await?
        {
            on_record.entry(v.firm_id).or_default().push(v);
        }
        let recorded: HashSet<Key> = on_record
            .values()
            .flatten()
            .filter_map(|v| {
                Some((
                    v.firm_id,
                    v.kind.clone(),
                    v.occurred_on,
                    v.document_no.clone()?,
                ))
            })
            .collect();
        let mut plan = Plan {
            rows_not_registered: 0,
            rows_recorded: 0,
            new: Vec::new(),
            firms: Vec::new(),
        };
        let mut position: HashMap<FirmId, usize> = HashMap::new();
        let today = crate::service::records::today();
        for incident in incidents {
            let Some(firm) = found.get(&incident.uscc) else {
                plan.rows_not_registered += 1;
                continue;
            };
            let at = *position.entry(firm.id).or_insert_with(|| {
                plan.firms.push(Touched {
                    firm: firm.clone(),
                    incidents: 0,
                    new_incidents: 0,
                    code: None,
                    regraded: None,
                    submission: None,
                    reasons: Vec::new(),
                });
                plan.firms.len() - 1
            });
            let touched = &mut plan.firms[at];
            touched.incidents += 1;
            touched.reasons.push(reason(incident));
            let key = (
                firm.id,
                incident.kind.name().to_owned(),
                incident.occurred_on,
                incident.document_no.clone(),
            );
            if recorded.contains(&key) {
                plan.rows_recorded += 1;
            } else {
                touched.new_incidents += 1;
                on_record.entry(firm.id).or_default().push(vetoes::Model {
                    id: 0,
                    firm_id: firm.id,
                    kind: incident.kind.name().to_owned(),
                    occurred_on: incident.occurred_on,
                    note: None,
                    authority: Some(incident.authority.clone()),
                    document_no: Some(incident.document_no.clone()),
                    recorded_by: None,
                    created_at: Utc::now(),
                });
                plan.new.push((firm.id, incident.clone()));
            }
        }
        // The touched firms' active codes, recomputed with every veto.
        let serials: Vec<i64> = plan
            .firms
            .iter()
            .filter_map(|t| t.firm.current_serial)
            .collect();
        let mut code_of: HashMap<FirmId, codes::Model> =
            crate::store::rows_in::<codes::Entity, _, _>(db, codes::Column::Serial, serials)
                .await?
                .into_iter()
                .filter(|c| c.status == codes::CodeStatus::Active)
                .map(|c| (c.firm_id, c))
                .collect();
        let mut assessment_of: HashMap<i64, assessments::Model> =
            assessments::by_ids(db, code_of.values().map(|c| c.assessment_id))
                .await?
                .into_iter()
                .map(|a| (a.id, a))
                .collect();
        let mut certs: HashMap<FirmId, Vec<certifications::Model>> = HashMap::new();
        for c in crate::store::rows_in::<certifications::Entity, _, _>(
            db,
            certifications::Column::FirmId,
            firm_ids,
        )
        .await?
        {
            certs.entry(c.firm_id).or_default().push(c);
        }
        let table = crate::service::benchmarks::in_force(db, caches).await?;
        let carbon_tables = crate::service::carbon_tables::in_force(db, caches).await?;
        let today = today.to_string();
        for touched in &mut plan.firms {
            let id = touched.firm.id;
            let Some(code) = code_of.remove(&id) else {
                continue;
            };
            let Some(assessment) = assessment_of.remove(&code.assessment_id) else {
                continue;
            };
            let mut vets = on_record.remove(&id).unwrap_or_default();
            vets.sort_by_key(|v| (v.occurred_on, v.id));
            let checked = crate::service::regrade::recompute(
                &touched.firm,
                &assessment.input,
                certs.get(&id).map_or(&[], Vec::as_slice),
                &vets,
                &table,
                &today,
            )?;
            touched.regraded = Some(
                checked
                    .as_ref()
                    .map(|c| c.graded.grade)
                    .map_err(|e| e.to_string()),
            );
            touched.code = Some(code);
            if let Some(checked) = checked.ok().filter(|_| touched.changes()) {
                let mut row = assessments::submission(
                    id,
                    checked.canonical_input(),
                    assessments::carbon_of(&checked.assessment, &carbon_tables),
                    &checked.graded,
                    None,
                    Utc::now(),
                );
                row.basis = sea_orm::ActiveValue::Set(assessment.basis.clone());
                row.regrade_reason = sea_orm::ActiveValue::Set(Some(touched.reasons.join("; ")));
                touched.submission = Some(row);
            }
        }
        Ok(plan)
    }

    fn report(&self, rows: usize, commit: bool) -> IncidentReport {
        let firms: Vec<AffectedFirm> = self
            .firms
            .iter()
            .map(|t| {
                let outcome = match (&t.code, &t.regraded) {
                    (None, _) | (_, None) => Outcome::NoCode,
                    (_, Some(Err(_))) => Outcome::CannotGrade,
                    _ if t.changes() && commit => Outcome::Regraded,
                    _ if t.changes() => Outcome::WouldRegrade,
                    _ => Outcome::Unchanged,
                };
                AffectedFirm {
                    uscc: t.firm.uscc.to_string(),
                    name: t.firm.name.clone(),
                    district: t.firm.district.clone(),
                    incidents: t.incidents,
                    new_incidents: t.new_incidents,
                    serial: t.code.as_ref().map(|c| c.serial),
                    grade: t.code.as_ref().map(|c| c.grade.as_str().to_owned()),
                    new_grade: match &t.regraded {
                        Some(Ok(grade)) => Some(grade.as_str().to_owned()),
                        _ => None,
                    },
                    new_serial: None,
                    outcome,
                    note: match &t.regraded {
                        Some(Err(why)) => Some(why.clone()),
                        _ => None,
                    },
                }
            })
            .collect();
        IncidentReport {
            committed: commit,
            rows,
            not_registered: self.rows_not_registered,
            already_recorded: self.rows_recorded,
            new_vetoes: self.new.len(),
            regraded: firms
                .iter()
                .filter(|f| matches!(f.outcome, Outcome::Regraded | Outcome::WouldRegrade))
                .count(),
            firms,
        }
    }

    /// Records the new vetoes and the regrades' submissions in one transaction, audited; the
    /// submissions to approve, by their firm's place in the report.
    async fn record(&mut self, db: &Db, caller: &Caller) -> AppResult<Vec<(usize, i64)>> {
        let now = Utc::now();
        let txn = crate::db::begin_write(db).await?;
        let mut changes = Vec::new();
        for part in self.new.chunks(500) {
            let inserted = vetoes::Entity::insert_many(part.iter().map(|(firm_id, i)| {
                use sea_orm::ActiveValue::Set;
                vetoes::ActiveModel {
                    firm_id: Set(*firm_id),
                    kind: Set(i.kind.name().to_owned()),
                    occurred_on: Set(i.occurred_on),
                    note: Set(None),
                    authority: Set(Some(i.authority.clone())),
                    document_no: Set(Some(i.document_no.clone())),
                    recorded_by: Set(Some(caller.account_id)),
                    created_at: Set(now),
                    ..Default::default()
                }
            }))
            .exec_with_returning(&txn)
            .await?;
            for (v, (_, i)) in inserted.iter().zip(part) {
                changes.push(Change {
                    action: "veto.record",
                    target_type: "veto",
                    target_id: v.id.to_string(),
                    before: None,
                    after: Some(json!({"id": v.id, "uscc": i.uscc, "kind": v.kind,
                        "occurred_on": v.occurred_on.to_string(), "authority": i.authority,
                        "document_no": i.document_no, "source": "incident_list"})),
                });
            }
        }
        let mut rows = Vec::new();
        for (at, touched) in self.firms.iter_mut().enumerate() {
            if let Some(mut row) = touched.submission.take() {
                row.submitted_by = sea_orm::ActiveValue::Set(Some(caller.account_id));
                row.submitted_at = sea_orm::ActiveValue::Set(now);
                rows.push((at, row));
            }
        }
        let mut submissions = Vec::with_capacity(rows.len());
        for part in rows.chunks(500) {
            let inserted =
                assessments::Entity::insert_many(part.iter().map(|(_, row)| row.clone()))
                    .exec_with_returning(&txn)
                    .await?;
            for ((at, _), a) in part.iter().zip(inserted) {
                let touched = &self.firms[*at];
                changes.push(Change {
                    action: "assessment.submit",
                    target_type: "assessment",
                    target_id: a.id.to_string(),
                    before: None,
                    after: Some(json!({"id": a.id, "uscc": touched.firm.uscc.to_string(),
                        "period": a.period, "grade": a.grade, "score": a.score,
                        "trace_hash": a.trace_hash, "source": "incident_list",
                        "reason": a.regrade_reason})),
                });
                debug_assert_eq!(a.status, AssessmentStatus::Submitted);
                submissions.push((*at, a.id));
            }
        }
        for part in changes.chunks(1000) {
            audit::record_many(&txn, &caller.actor(), now, part.to_vec()).await?;
        }
        txn.commit().await?;
        Ok(submissions)
    }
}

/// Why a firm is regraded, for the banks and the audit trail (the API's own words).
fn reason(i: &Incident) -> String {
    format!(
        "veto {} on {} ({}, document {})",
        i.kind.name(),
        i.occurred_on,
        i.authority,
        i.document_no
    )
}
