//! CSV import of many firms' yearly data at once (a district's whole list): all or nothing.
//! Every bad row is reported by line and column and nothing is stored; otherwise unknown firms
//! are created and every row becomes a submission, with audit events, in one transaction.
//!
//! In two passes, so that the transaction — which holds SQLite's one write turn, and with it
//! every other writer, a login's session included — lasts only as long as the writing: the
//! first pass reads, checks and grades every row without writing, and keeps what is to be
//! written as a plan, a chunk at a time, compressed (bounded memory whatever the file's size);
//! a file with a fault ends there, having never taken the write turn. The second pass writes
//! the plan in one transaction, checking again what another request may have changed meanwhile
//! (a firm registered, a year submitted): `plan.rs`. This file is the first pass. On
//! PostgreSQL, whose writers do not wait for one another, the second pass writes each chunk
//! as soon as the first has checked it, in a transaction rolled back at a fault: `sink.rs`.

mod format;
mod plan;
mod sink;
pub mod xlsx;

use crate::db::Db;
pub use format::{ImportError, RowError, columns, template, template_xlsx};
use format::{beyond_the_row_limit, error, read_header};
use plan::{PlannedAssessment, PlannedChunk, PlannedFirm};
use sink::Sink;

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;

use crate::error::AppError;
use crate::grading::{self, BenchmarkTable};
use crate::service::assessments::{FirmKey, assemble_input};
use crate::service::firms::parse_new_firm;
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Actor, Change};
use crate::store::firms;

/// Rows validated and written at a time: bounds memory whatever the file's size.
const CHUNK: usize = 1000;
/// Errors listed at most (the first ones, in line order).
const MAX_ERRORS: usize = 1000;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub rows: u64,
    pub firms_created: u64,
    pub assessment_ids: Vec<i64>,
}

struct Row {
    line: u64,
    cells: HashMap<&'static str, String>,
}

/// Imports a CSV file. `progress` is told how many bytes of the file have been read.
pub async fn import_csv(
    db: &Db,
    caches: &crate::service::cache::Caches,
    actor: &Actor,
    actor_id: Option<crate::store::ids::AccountId>,
    scratch: &std::path::Path,
    bytes: &[u8],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportReport, ImportError> {
    let started = std::time::Instant::now();
    // An Excel workbook is read as the CSV of its first sheet (rows keep their numbers).
    // Reading a workbook is CPU-bound for as long as it takes: off the async runtime, so that
    // other requests are served meanwhile.
    let converted;
    let bytes = if xlsx::is_xlsx(bytes) {
        let owned = bytes.to_vec();
        converted = tokio::task::spawn_blocking(move || xlsx::to_csv(&owned))
            .await
            .map_err(|e| ImportError::Failed(crate::error::AppError::internal(e)))??;
        converted.as_slice()
    } else {
        bytes
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    if !first_line.contains(&b',') && (first_line.contains(&b';') || first_line.contains(&b'\t')) {
        return Err(ImportError::Rows(vec![error(
            1,
            None,
            "the delimiter must be a comma (,)",
        )]));
    }
    if let Some(fault) = beyond_the_row_limit(bytes) {
        return Err(ImportError::Rows(vec![fault]));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(ImportError::Rows(vec![error(1, None, e.to_string())])),
        None => return Err(ImportError::Rows(vec![error(1, None, "the file is empty")])),
    };
    let map = read_header(&header).map_err(ImportError::Rows)?;
    let table = crate::service::benchmarks::in_force(db, caches).await?;
    let carbon = crate::service::carbon_tables::in_force(db, caches).await?;
    let mut state = ImportState::default();
    let mut sink = Sink::open(db, scratch, actor, actor_id).await?;
    let mut lines = crate::csvpos::LineCounter::new(bytes);
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        let next = records.next();
        let done = next.is_none();
        if let Some(record) = next {
            match record {
                Ok(record) => {
                    let byte = record.position().map_or(0, |p| p.byte());
                    let line = lines.line_at(byte);
                    progress(byte);
                    if record.len() != map.len() {
                        state.fail(error(
                            line,
                            None,
                            format!("expected {} fields, found {}", map.len(), record.len()),
                        ));
                        continue;
                    }
                    let mut cells = HashMap::new();
                    let mut bad_utf8 = false;
                    for (field, column) in record.iter().zip(&map) {
                        match (std::str::from_utf8(field), column) {
                            (Ok(text), Some(column)) => {
                                cells.insert(*column, text.to_owned());
                            }
                            (Err(_), column) => {
                                state.fail(error(
                                    line,
                                    *column,
                                    "not valid UTF-8 (save the file as CSV UTF-8)",
                                ));
                                bad_utf8 = true;
                            }
                            _ => {}
                        }
                    }
                    if !bad_utf8 {
                        chunk.push(Row { line, cells });
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                    let message = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => {
                            "not valid UTF-8 (save the file as CSV UTF-8)".to_owned()
                        }
                        _ => e.to_string(),
                    };
                    state.fail(error(line, None, message));
                }
            }
        }
        if (chunk.len() >= CHUNK || (done && !chunk.is_empty()))
            && let Some(planned) = state
                .plan(db, &table, &carbon, std::mem::take(&mut chunk))
                .await?
        {
            sink.push(planned).await?;
        }
        if done {
            break;
        }
    }
    progress(bytes.len() as u64);
    if state.rows == 0 && state.errors.is_empty() {
        state.fail(error(2, None, "the file has no rows"));
    }
    if !state.errors.is_empty() {
        state.errors.sort_by_key(|e| e.line);
        state.errors.truncate(MAX_ERRORS);
        sink.abandon().await?;
        return Err(ImportError::Rows(state.errors));
    }
    drop(state);
    let checked = started.elapsed();
    let writing = std::time::Instant::now();
    let (txn, written) = sink.finish(db, actor, actor_id).await?;
    let report = ImportReport {
        rows: written.rows,
        firms_created: written.firms_created,
        assessment_ids: written.ids,
    };
    audit::record(
        &txn,
        actor,
        Utc::now(),
        Change {
            action: "import.csv",
            target_type: "import",
            target_id: format!(
                "{}-{}",
                report.assessment_ids.first().unwrap_or(&0),
                report.assessment_ids.last().unwrap_or(&0)
            ),
            before: None,
            after: Some(json!({"rows": report.rows, "firms_created": report.firms_created})),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        rows = report.rows,
        firms_created = report.firms_created,
        checked_ms = checked.as_millis() as u64,
        written_ms = writing.elapsed().as_millis() as u64,
        "import stored"
    );
    Ok(report)
}

/// A row whose firm is known or staged: the row, its USCC, the firm's id (0 when staged) and
/// division.
type Staged<'a> = (&'a Row, grading::Uscc, crate::store::ids::FirmId, String);

/// A firm as the first pass knows it.
struct KnownFirm {
    id: crate::store::ids::FirmId,
    industry_code: String,
}

#[derive(Default)]
struct ImportState {
    errors: Vec<RowError>,
    rows: u64,
    /// Firms of this file, by USCC: created by it (id 0) or found in the database. Only what
    /// the checks need, so that a file of 100,000 firms stays small.
    firms: HashMap<String, KnownFirm>,
    /// (USCC, period) pairs met so far, with their line.
    seen: HashMap<(String, i64), u64>,
}

impl ImportState {
    fn fail(&mut self, e: RowError) {
        if self.errors.len() < MAX_ERRORS * 2 {
            self.errors.push(e);
        }
    }

    /// Reads, checks and grades a chunk without writing; its plan while the file has no fault.
    async fn plan(
        &mut self,
        db: &Db,
        table: &BenchmarkTable,
        carbon: &crate::grading::carbon::CarbonTables,
        rows: Vec<Row>,
    ) -> Result<Option<PlannedChunk>, ImportError> {
        self.rows += rows.len() as u64;
        // The records of the firms this chunk names, in a few queries.
        let usccs: Vec<String> = rows
            .iter()
            .filter_map(|r| {
                r.cells
                    .get("uscc")
                    .and_then(|u| grading::Uscc::parse(u.trim()).ok())
            })
            .map(|u| u.to_string())
            .filter(|u| !self.firms.contains_key(u))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for part in usccs.chunks(500) {
            for firm in firms::Entity::find()
                .filter(firms::Column::Uscc.is_in(part.to_vec()))
                .all(db)
                .await?
            {
                self.firms.insert(
                    firm.uscc.to_string(),
                    KnownFirm {
                        id: firm.id,
                        industry_code: firm.industry_code,
                    },
                );
            }
        }
        let ids: Vec<crate::store::ids::FirmId> = rows
            .iter()
            .filter_map(|r| {
                r.cells
                    .get("uscc")
                    .and_then(|u| grading::Uscc::parse(u.trim()).ok())
            })
            .filter_map(|u| self.firms.get(u.as_str()).map(|f| f.id))
            .filter(|id| id.0 > 0)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let (certs, vets) = crate::store::certifications_and_vetoes(db, &ids).await?;
        let mut under_review: HashMap<(crate::store::ids::FirmId, i32), i64> = HashMap::new();
        for part in ids.chunks(500) {
            for a in assessments::Entity::find()
                .filter(assessments::Column::FirmId.is_in(part.to_vec()))
                .filter(assessments::Column::Status.eq(AssessmentStatus::Submitted))
                .all(db)
                .await?
            {
                under_review.insert((a.firm_id, a.period), a.id);
            }
        }
        // 数据直连: what sources attested for these firms, to record each figure's basis.
        let mut attested_rows: HashMap<String, Vec<crate::store::readings::Model>> = HashMap::new();
        let named: Vec<String> = rows
            .iter()
            .filter_map(|r| r.cells.get("uscc").map(|u| u.trim().to_ascii_uppercase()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for part in named.chunks(500) {
            for r in crate::store::readings::Entity::find()
                .filter(crate::store::readings::Column::Uscc.is_in(part.to_vec()))
                .all(db)
                .await?
            {
                attested_rows.entry(r.uscc.clone()).or_default().push(r);
            }
        }
        for list in attested_rows.values_mut() {
            list.sort_by_key(|r| r.id);
        }
        let source_names = crate::service::fields::org_names(
            db,
            attested_rows.values().flatten().map(|r| r.source_id),
        )
        .await?;
        let tolerance =
            crate::service::settings::get::<crate::service::settings::ReadingSettings, _>(db)
                .await?
                .tolerance();
        let thresholds =
            crate::service::settings::get::<crate::service::abnormal::AbnormalSettings, _>(db)
                .await?;
        let years: HashSet<i32> = rows
            .iter()
            .filter_map(|r| r.cells.get("period").and_then(|p| p.trim().parse().ok()))
            .collect();
        let mut previous: HashMap<i32, HashMap<crate::store::ids::FirmId, crate::grading::Trace>> =
            HashMap::new();
        for y in years {
            previous.insert(
                y,
                crate::service::abnormal::previous_traces(db, &ids, y).await?,
            );
        }

        // Three steps: each row's firm found or staged (in order: a file's later rows find a
        // firm staged by an earlier one), every row graded (on every core: grading is most of
        // a chunk's time and each row's is its own), then each row's faults and plan in order.
        let mut planned = PlannedChunk::default();
        let mut staged: Vec<Result<Staged, RowError>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let cell = |c: &str| {
                row.cells
                    .get(c)
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default()
            };
            let uscc_text = cell("uscc");
            let Ok(uscc) = grading::Uscc::parse(&uscc_text) else {
                staged.push(Err(error(
                    row.line,
                    Some("uscc"),
                    "not a valid unified social credit code",
                )));
                continue;
            };
            let (firm_id, industry_code) = match self.firms.get(uscc.as_str()) {
                Some(existing) => {
                    if existing.industry_code != cell("industry_code") {
                        staged.push(Err(error(
                            row.line,
                            Some("industry_code"),
                            format!(
                                "differs from the firm's record ({})",
                                existing.industry_code
                            ),
                        )));
                        continue;
                    }
                    (existing.id, existing.industry_code.clone())
                }
                None => match parse_new_firm(
                    uscc.as_str(),
                    &cell("name"),
                    &cell("industry_code"),
                    &cell("district"),
                    table,
                ) {
                    Ok(new) => {
                        // Staged: id 0 until written; the file's later rows find it here.
                        self.firms.insert(
                            uscc.to_string(),
                            KnownFirm {
                                id: crate::store::ids::FirmId(0),
                                industry_code: new.industry_code.clone(),
                            },
                        );
                        planned.firms.push(PlannedFirm {
                            line: row.line,
                            uscc: uscc.to_string(),
                            name: new.name.trim().to_owned(),
                            industry_code: new.industry_code.clone(),
                            district: new.district.trim().to_owned(),
                        });
                        (crate::store::ids::FirmId(0), new.industry_code)
                    }
                    Err(AppError::Validation { field, message, .. }) => {
                        staged.push(Err(error(row.line, Some(&field), message)));
                        continue;
                    }
                    Err(other) => return Err(other.into()),
                },
            };
            staged.push(Ok((row, uscc, firm_id, industry_code)));
        }
        let no_certs = Vec::new();
        let no_vetoes = Vec::new();
        let graded = in_parallel(&staged, |staged| {
            let (row, uscc, firm_id, industry_code) = match staged {
                Ok(s) => s,
                Err(fault) => return Err(fault.clone()),
            };
            let cell = |c: &str| {
                row.cells
                    .get(c)
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default()
            };
            let (data, carriers) = crate::service::flat::from_cells(|c| cell(c));
            let input = assemble_input(
                FirmKey {
                    uscc: uscc.as_str(),
                    industry_code,
                },
                &data,
                certs.get(firm_id).unwrap_or(&no_certs),
                vets.get(firm_id).unwrap_or(&no_vetoes),
            );
            let checked = match grading::check(&input, table) {
                Ok(c) => c,
                Err(e) => {
                    let column = crate::service::flat::cell_of(&e.field, &carriers);
                    let message = if e.field == "energy" {
                        "at least one energy column must be filled".to_owned()
                    } else {
                        e.message
                    };
                    return Err(error(row.line, column, message));
                }
            };
            let period = i64::from(checked.graded.trace.period);
            let graded = &checked.graded;
            let (carbon_trace, carbon_hash, carbon_level) =
                assessments::carbon_of(&checked.assessment, carbon);
            let of_year: Vec<crate::store::readings::Model> = attested_rows
                .get(uscc.as_str())
                .into_iter()
                .flatten()
                .filter(|r| i64::from(r.year) == period)
                .cloned()
                .collect();
            let abnormal = crate::service::abnormal::findings(
                &graded.trace,
                previous.get(&(period as i32)).and_then(|p| p.get(firm_id)),
                &thresholds,
            );
            let basis = crate::service::readings::basis_of(
                &checked.assessment.to_json(),
                &crate::service::readings::summarise(&of_year, &source_names),
                tolerance,
            );
            Ok(PlannedAssessment {
                line: row.line,
                uscc: uscc.to_string(),
                firm_id: firm_id.0,
                period: i32::from(graded.trace.period),
                input: checked.canonical_input(),
                trace: String::from_utf8_lossy(&graded.trace.canonical_bytes()).into_owned(),
                trace_hash: graded.trace_hash.clone(),
                score: graded.trace.score.clone(),
                grade: graded.grade.as_str().to_owned(),
                methodology: graded.trace.methodology.clone(),
                benchmarks: graded.trace.benchmarks.clone(),
                carbon_trace,
                carbon_hash,
                carbon_level,
                basis: serde_json::to_string(&basis).ok(),
                abnormal: serde_json::to_string(&abnormal).ok(),
            })
        });
        for (staged, graded) in staged.iter().zip(graded) {
            let assessment = match graded {
                Ok(a) => a,
                Err(fault) => {
                    self.fail(fault);
                    continue;
                }
            };
            let Ok((row, uscc, firm_id, _)) = staged else {
                continue;
            };
            let period = i64::from(assessment.period);
            if let Some(first) = self.seen.insert((uscc.to_string(), period), row.line) {
                self.fail(error(
                    row.line,
                    Some("period"),
                    format!("{uscc} {period} is already on line {first}"),
                ));
                continue;
            }
            if let Some(id) = under_review
                .get(&(*firm_id, period as i32))
                .filter(|_| firm_id.0 > 0)
            {
                self.fail(error(
                    row.line,
                    Some("period"),
                    format!("assessment {id} for {uscc} {period} is already under review"),
                ));
                continue;
            }
            planned.assessments.push(assessment);
        }
        Ok(self.errors.is_empty().then_some(planned))
    }
}

/// `f` of each item, in order, the items shared among the machine's cores (at most four).
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if threads < 2 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Failed(e) => e,
            ImportError::Rows(rows) => AppError::Invalid {
                detail: format!(
                    "the file was refused and nothing was stored: {} fault(s), the first: {}",
                    rows.len(),
                    rows.first().map(ToString::to_string).unwrap_or_default()
                ),
                errors: rows
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect(),
            },
        }
    }
}
