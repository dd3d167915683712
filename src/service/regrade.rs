//! Dynamic management: recompute every firm's current grade with the benchmarks in force, on
//! today's date, with the certifications and vetoes on record now, and report the grades that
//! would change — optionally submitting the new grades for review.

use crate::db::Db;
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{Value, json};

use super::assessments::assemble_input;
use crate::error::{AppError, AppResult};
use crate::grading;
use crate::grading::Grade;
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Actor, Change};
use crate::store::{certifications, codes, firms, vetoes};

const PAGE: u64 = 1000;

#[derive(Debug, Serialize)]
pub struct GradeChange {
    pub uscc: String,
    pub serial: i64,
    pub current: Grade,
    /// `None` when the firm cannot be graded now (`note` says why).
    pub recomputed: Option<Grade>,
    pub current_score: String,
    pub recomputed_score: String,
    /// The submission created with `--apply` (or why none was).
    pub submission: Option<i64>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RegradeReport {
    pub firms: u64,
    pub benchmarks: String,
    pub changed: Vec<GradeChange>,
}

/// Recomputes the current grade of every firm holding an active code. With `apply`, each
/// changed grade becomes a submission for review (unless one is under review already).
pub async fn regrade(
    db: &Db,
    caches: &super::cache::Caches,
    actor: &Actor,
    apply: bool,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> AppResult<RegradeReport> {
    use sea_orm::PaginatorTrait;
    let table = super::benchmarks::in_force(db, caches).await?;
    let carbon = super::carbon_tables::in_force(db, caches).await?;
    crate::db::vacuum_analyze(db, &crate::db::GRADED_TABLES).await?;
    let total = firms::Entity::find()
        .filter(firms::Column::CurrentSerial.is_not_null())
        .count(db)
        .await?;
    let today = super::records::today().to_string();
    let mut report = RegradeReport {
        firms: 0,
        benchmarks: table.version.clone(),
        changed: Vec::new(),
    };
    // The next page is read while this one is graded: the database and the grading each
    // have a core.
    let mut next = tokio::spawn(Page::read(db.clone(), 0));
    loop {
        let page = next.await.map_err(AppError::internal)??;
        let Some(last) = page.firms.last() else { break };
        next = tokio::spawn(Page::read(db.clone(), last.id.0));
        let Page {
            firms: page,
            codes: code_rows,
            inputs,
            certs,
            vets,
            under_review,
        } = page;

        let mut new_rows = Vec::new();
        let mut page_changes = Vec::new();
        for firm in &page {
            report.firms += 1;
            let Some(code) = code_rows.get(&firm.id) else {
                continue;
            };
            let Some(input) = inputs.get(&code.assessment_id) else {
                continue;
            };
            let checked = match recompute(
                firm,
                input,
                certs.get(&firm.id).map_or(&[], Vec::as_slice),
                vets.get(&firm.id).map_or(&[], Vec::as_slice),
                &table,
                &today,
            )? {
                Ok(c) => c,
                Err(e) => {
                    page_changes.push(GradeChange {
                        uscc: firm.uscc.to_string(),
                        serial: code.serial,
                        current: code.grade,
                        recomputed: None,
                        current_score: code.score.clone(),
                        recomputed_score: String::new(),
                        submission: None,
                        note: Some(format!("cannot be graded now: {e}")),
                    });
                    continue;
                }
            };
            let graded = &checked.graded;
            if graded.grade == code.grade {
                continue;
            }
            let mut change = GradeChange {
                uscc: firm.uscc.to_string(),
                serial: code.serial,
                current: code.grade,
                recomputed: Some(graded.grade),
                current_score: code.score.clone(),
                recomputed_score: graded.trace.score.clone(),
                submission: None,
                note: None,
            };
            if apply {
                if under_review.contains(&(firm.id, i32::from(graded.trace.period))) {
                    change.note =
                        Some("a submission for this period is already under review".into());
                } else {
                    new_rows.push((
                        page_changes.len(),
                        firm.uscc.clone(),
                        assessments::submission(
                            firm.id,
                            checked.canonical_input(),
                            assessments::carbon_of(&checked.assessment, &carbon),
                            graded,
                            actor.id,
                            Utc::now(),
                        ),
                    ));
                }
            }
            page_changes.push(change);
        }
        if !new_rows.is_empty() {
            let txn = crate::db::begin_write(db).await?;
            let now = Utc::now();
            let inserted =
                assessments::Entity::insert_many(new_rows.iter().map(|(_, _, m)| m.clone()))
                    .exec_with_returning(&txn)
                    .await?;
            let mut events = Vec::new();
            for ((position, uscc, _), a) in new_rows.iter().zip(&inserted) {
                page_changes[*position].submission = Some(a.id);
                events.push(Change {
                    action: "assessment.submit",
                    target_type: "assessment",
                    target_id: a.id.to_string(),
                    before: None,
                    after: Some(json!({"id": a.id, "uscc": uscc, "period": a.period, "grade": a.grade,
                                       "score": a.score, "trace_hash": a.trace_hash, "source": "regrade"})),
                });
            }
            audit::record_many(&txn, actor, now, events).await?;
            txn.commit().await?;
        }
        report.changed.extend(page_changes);
        progress(report.firms, total);
    }
    progress(report.firms, total);
    Ok(report)
}

/// What a code says of its firm's grade, as the regrade compares it.
struct CodeRow {
    serial: i64,
    assessment_id: i64,
    grade: Grade,
    score: String,
}

/// A page of firms holding a code, with what regrading them reads: only the columns it needs
/// (an assessment's trace is kilobytes that the regrade would read and drop).
struct Page {
    firms: Vec<firms::Model>,
    codes: HashMap<crate::store::ids::FirmId, CodeRow>,
    /// The stored input of each assessment behind a code, by id.
    inputs: HashMap<i64, String>,
    certs: crate::store::ByFirm<certifications::Model>,
    vets: crate::store::ByFirm<vetoes::Model>,
    /// Firm-years with a submission under review.
    under_review: HashSet<(crate::store::ids::FirmId, i32)>,
}

impl Page {
    /// The page of firms after firm id `after` (empty at the end).
    async fn read(db: Db, after: i64) -> AppResult<Page> {
        let firms = firms::Entity::find()
            .filter(firms::Column::CurrentSerial.is_not_null())
            .filter(firms::Column::Id.gt(after))
            .order_by_asc(firms::Column::Id)
            .limit(PAGE)
            .all(&db)
            .await?;
        let firm_ids: Vec<crate::store::ids::FirmId> = firms.iter().map(|f| f.id).collect();
        let serials: Vec<i64> = firms.iter().filter_map(|f| f.current_serial).collect();
        let mut codes = HashMap::with_capacity(serials.len());
        if !serials.is_empty() {
            for (serial, firm_id, assessment_id, grade, score) in codes::Entity::find()
                .select_only()
                .columns([
                    codes::Column::Serial,
                    codes::Column::FirmId,
                    codes::Column::AssessmentId,
                    codes::Column::Grade,
                    codes::Column::Score,
                ])
                .filter(codes::Column::Serial.is_in(serials))
                .into_tuple::<(
                    i64,
                    crate::store::ids::FirmId,
                    i64,
                    crate::store::columns::StoredGrade,
                    String,
                )>()
                .all(&db)
                .await?
            {
                codes.insert(
                    firm_id,
                    CodeRow {
                        serial,
                        assessment_id,
                        grade: grade.0,
                        score,
                    },
                );
            }
        }
        let assessment_ids: Vec<i64> = codes.values().map(|c| c.assessment_id).collect();
        let inputs: HashMap<i64, String> = if assessment_ids.is_empty() {
            HashMap::new()
        } else {
            assessments::Entity::find()
                .select_only()
                .columns([assessments::Column::Id, assessments::Column::Input])
                .filter(assessments::Column::Id.is_in(assessment_ids))
                .into_tuple::<(i64, String)>()
                .all(&db)
                .await?
                .into_iter()
                .collect()
        };
        let (certs, vets) = crate::store::certifications_and_vetoes(&db, &firm_ids).await?;
        let mut under_review = HashSet::new();
        if !firm_ids.is_empty() {
            under_review = assessments::Entity::find()
                .select_only()
                .columns([assessments::Column::FirmId, assessments::Column::Period])
                .filter(assessments::Column::FirmId.is_in(firm_ids))
                .filter(assessments::Column::Status.eq(AssessmentStatus::Submitted))
                .into_tuple::<(crate::store::ids::FirmId, i32)>()
                .all(&db)
                .await?
                .into_iter()
                .collect();
        }
        Ok(Page {
            firms,
            codes,
            inputs,
            certs,
            vets,
            under_review,
        })
    }
}

/// A firm's current grade recomputed on `today` from the input of the assessment behind its
/// code (`input`, as stored), with the certifications and vetoes given (those on record, or
/// with some about to be): the outer error is the service's own, the inner one says why the
/// firm cannot be graded now.
pub(crate) fn recompute(
    firm: &firms::Model,
    input: &str,
    certs: &[certifications::Model],
    vets: &[vetoes::Model],
    table: &grading::BenchmarkTable,
    today: &str,
) -> AppResult<Result<grading::Checked, grading::InputError>> {
    let stored: Value = serde_json::from_str(input).map_err(AppError::internal)?;
    let mut data = stored.as_object().cloned().unwrap_or_default();
    data.insert("assessed_on".into(), Value::String(today.to_owned()));
    let input = assemble_input(firm.into(), &data, certs, vets);
    Ok(grading::check(&input, table))
}

/// What `gec regrade --carbon` did.
#[derive(Debug, Default, Serialize)]
pub struct CarbonBackfill {
    /// Assessments that had no carbon trace.
    pub assessments: u64,
    /// Of those, the ones that have one now.
    pub computed: u64,
    /// The ones whose stored input could not be read again, or whose division has no carbon
    /// baseline: left without one.
    pub skipped: u64,
}

/// Computes the carbon level (methodology §10) of every stored assessment that lacks one, from
/// its stored input as it was graded (its own `assessed_on`), in chunks of 1,000 rows a write
/// transaction. No grade, trace or code changes: codes get claim 7 when they are next issued.
pub async fn carbon_backfill(
    db: &Db,
    caches: &super::cache::Caches,
    actor: &Actor,
) -> AppResult<CarbonBackfill> {
    let mut report = CarbonBackfill::default();
    let carbon = super::carbon_tables::in_force(db, caches).await?;
    let mut after = 0i64;
    loop {
        let rows = assessments::Entity::find()
            .filter(assessments::Column::CarbonTrace.is_null())
            .filter(assessments::Column::Id.gt(after))
            .order_by_asc(assessments::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut computed = Vec::with_capacity(rows.len());
        for a in &rows {
            report.assessments += 1;
            let table = super::benchmarks::by_version(db, caches, &a.benchmarks).await?;
            let table = table
                .as_deref()
                .unwrap_or_else(|| grading::BenchmarkTable::default_table());
            let input: Option<Value> = serde_json::from_str(&a.input).ok();
            let carbon = input
                .and_then(|i| grading::Assessment::from_json(&i, table).ok())
                .map(|checked| assessments::carbon_of(&checked, &carbon));
            match carbon {
                Some((Some(trace), Some(hash), Some(level))) => {
                    computed.push((a.id, trace, hash, level))
                }
                _ => report.skipped += 1,
            }
        }
        let txn = crate::db::begin_write(db).await?;
        for (id, trace, hash, level) in computed {
            let updated = assessments::Entity::update_many()
                .col_expr(assessments::Column::CarbonTrace, trace.into())
                .col_expr(assessments::Column::CarbonHash, hash.into())
                .col_expr(assessments::Column::CarbonLevel, level.into())
                .filter(assessments::Column::Id.eq(id))
                .filter(assessments::Column::CarbonTrace.is_null())
                .exec(&txn)
                .await?;
            report.computed += updated.rows_affected;
        }
        txn.commit().await?;
    }
    let txn = crate::db::begin_write(db).await?;
    audit::record(
        &txn,
        actor,
        Utc::now(),
        Change {
            action: "assessment.carbon_backfill",
            target_type: "assessment",
            target_id: "*".into(),
            before: None,
            after: serde_json::to_value(&report).ok(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(report)
}
