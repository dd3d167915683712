//! The import's plan and its second pass: what the first pass decided to write, kept deflated
//! a chunk at a time, and the writing of it in the one transaction — checking again what
//! another request may have changed since the first pass.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::MAX_ERRORS;
use super::format::{ImportError, error};
use crate::error::AppError;
use crate::grading;
use crate::service::firms::FirmRecord;
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Actor, Change};
use crate::store::firms;

/// A firm the file introduces, as it will be written (with the line that introduced it).
#[derive(Serialize, Deserialize)]
pub(super) struct PlannedFirm {
    pub(super) line: u64,
    pub(super) uscc: String,
    pub(super) name: String,
    pub(super) industry_code: String,
    pub(super) district: String,
}

/// A submission as it will be written: graded already.
#[derive(Serialize, Deserialize)]
pub(super) struct PlannedAssessment {
    pub(super) line: u64,
    pub(super) uscc: String,
    /// The firm's id when it existed before the file; 0 for a firm the file introduces.
    pub(super) firm_id: i64,
    pub(super) period: i32,
    pub(super) input: String,
    pub(super) trace: String,
    pub(super) trace_hash: String,
    pub(super) score: String,
    pub(super) grade: String,
    pub(super) methodology: String,
    pub(super) benchmarks: String,
    /// Methodology §10: the carbon trace, its hash and level (none without a baseline).
    pub(super) carbon_trace: Option<String>,
    pub(super) carbon_hash: Option<String>,
    pub(super) carbon_level: Option<i32>,
    /// Each figure's basis beside what sources attested (JSON; 数据直连).
    #[serde(default)]
    pub(super) basis: Option<String>,
    /// What the checks found abnormal (JSON).
    #[serde(default)]
    pub(super) abnormal: Option<String>,
}

/// One chunk of the plan.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct PlannedChunk {
    pub(super) firms: Vec<PlannedFirm>,
    pub(super) assessments: Vec<PlannedAssessment>,
}

impl PlannedChunk {
    /// JSON, deflated: a graded row is about 1.7 KB as text and a tenth of that packed.
    pub(super) fn pack(&self) -> Result<Vec<u8>, ImportError> {
        use std::io::Write;
        let json =
            serde_json::to_vec(self).map_err(|e| ImportError::Failed(AppError::internal(e)))?;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map_err(|e| ImportError::Failed(AppError::internal(e)))
    }

    pub(super) fn unpack(bytes: &[u8]) -> Result<PlannedChunk, ImportError> {
        use std::io::Read;
        // Inflated whole first: serde reading through the decoder byte by byte is ten times
        // slower, and this runs while the write turn is held.
        let mut json = Vec::new();
        flate2::read::DeflateDecoder::new(bytes)
            .read_to_end(&mut json)
            .map_err(|e| ImportError::Failed(AppError::internal(e)))?;
        serde_json::from_slice(&json).map_err(|e| ImportError::Failed(AppError::internal(e)))
    }
}

/// The plan, a chunk at a time, in an unnamed file of the data directory (gone when closed,
/// readable by nobody else: it holds the file's figures): what the first pass decided costs
/// the server no memory however long the file.
pub(super) struct PlanFile {
    file: std::io::BufWriter<std::fs::File>,
    /// The packed size of each chunk, in order.
    sizes: Vec<u64>,
}

impl PlanFile {
    pub(super) fn create(dir: &std::path::Path) -> Result<PlanFile, ImportError> {
        let file = crate::files::dir(dir, crate::files::Access::Private)
            .and_then(|()| tempfile::tempfile_in(dir))
            .map_err(|e| {
                ImportError::Failed(AppError::internal(format!(
                    "a scratch file in {}: {e}",
                    dir.display()
                )))
            })?;
        Ok(PlanFile {
            file: std::io::BufWriter::new(file),
            sizes: Vec::new(),
        })
    }

    pub(super) fn push(&mut self, chunk: &PlannedChunk) -> Result<(), ImportError> {
        use std::io::Write;
        let packed = chunk.pack()?;
        self.file.write_all(&packed).map_err(scratch_failed)?;
        self.sizes.push(packed.len() as u64);
        Ok(())
    }

    /// The chunks, in the order they were pushed.
    pub(super) fn chunks(
        self,
    ) -> Result<impl Iterator<Item = Result<PlannedChunk, ImportError>>, ImportError> {
        use std::io::{Read, Seek};
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| scratch_failed(e.into_error()))?;
        file.rewind().map_err(scratch_failed)?;
        let mut file = std::io::BufReader::new(file);
        Ok(self.sizes.into_iter().map(move |size| {
            let mut packed = Vec::with_capacity(size as usize);
            (&mut file)
                .take(size)
                .read_to_end(&mut packed)
                .map_err(scratch_failed)?;
            PlannedChunk::unpack(&packed)
        }))
    }
}

fn scratch_failed(e: std::io::Error) -> ImportError {
    ImportError::Failed(match e.kind() {
        std::io::ErrorKind::StorageFull => AppError::Unavailable(
            "the disk is full: the import's scratch file could not be written".into(),
        ),
        _ => AppError::internal(format!("the import's scratch file: {e}")),
    })
}

/// What the second pass has written so far.
#[derive(Default)]
pub(super) struct Written {
    pub(super) rows: u64,
    pub(super) firms_created: u64,
    pub(super) ids: Vec<i64>,
    /// The ids of the firms the file introduced, by USCC.
    pub(super) created: HashMap<String, crate::store::ids::FirmId>,
}

impl Written {
    /// Writes one chunk of the plan on `txn`: its firms, then its submissions, with their audit
    /// events. What another request changed since the first pass — a firm of the file
    /// registered, a year of the file submitted — is a fault of the rows it touches.
    pub(super) async fn write(
        &mut self,
        txn: &crate::db::WriteTxn,
        actor: &Actor,
        actor_id: Option<crate::store::ids::AccountId>,
        chunk: PlannedChunk,
    ) -> Result<(), ImportError> {
        let now = Utc::now();
        let mut faults = Vec::new();
        if !chunk.firms.is_empty() {
            let usccs: Vec<&str> = chunk.firms.iter().map(|f| f.uscc.as_str()).collect();
            let meanwhile: HashSet<String> = firms::Entity::find()
                .filter(firms::Column::Uscc.is_in(usccs))
                .all(txn)
                .await?
                .into_iter()
                .map(|f| f.uscc.to_string())
                .collect();
            for f in chunk.firms.iter().filter(|f| meanwhile.contains(&f.uscc)) {
                faults.push(error(
                    f.line,
                    Some("uscc"),
                    format!(
                        "firm {} was registered while the file was checked; import the file again",
                        f.uscc
                    ),
                ));
            }
        }
        let existing: Vec<crate::store::ids::FirmId> = chunk
            .assessments
            .iter()
            .filter(|a| a.firm_id > 0)
            .map(|a| crate::store::ids::FirmId(a.firm_id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut under_review: HashMap<(i64, i32), i64> = HashMap::new();
        for part in existing.chunks(500) {
            for a in assessments::Entity::find()
                .filter(assessments::Column::FirmId.is_in(part.to_vec()))
                .filter(assessments::Column::Status.eq(AssessmentStatus::Submitted))
                .all(txn)
                .await?
            {
                under_review.insert((a.firm_id.0, a.period), a.id);
            }
        }
        for a in &chunk.assessments {
            if let Some(id) = under_review.get(&(a.firm_id, a.period)) {
                faults.push(error(
                    a.line,
                    Some("period"),
                    format!(
                        "assessment {id} for {} {} was submitted while the file was checked",
                        a.uscc, a.period
                    ),
                ));
            }
        }
        if !faults.is_empty() {
            faults.sort_by_key(|e| e.line);
            faults.truncate(MAX_ERRORS);
            return Err(ImportError::Rows(faults));
        }
        let PlannedChunk { firms, assessments } = chunk;
        if !firms.is_empty() {
            // The plan's strings move into the statement; only the new ids come back.
            let mut planned = Vec::with_capacity(firms.len());
            let mut models = Vec::with_capacity(firms.len());
            for f in firms {
                let uscc = grading::Uscc::parse(&f.uscc)
                    .map_err(|_| AppError::internal("a planned USCC does not parse"))?;
                let model = firms::Model {
                    id: crate::store::ids::FirmId(0),
                    uscc: uscc.into(),
                    name: f.name,
                    industry_code: f.industry_code,
                    district: f.district,
                    created_at: now,
                    current_grade: None,
                    current_score: None,
                    current_serial: None,
                    current_period: None,
                    restored_at: None,
                };
                models.push(firms::ActiveModel {
                    uscc: Set(model.uscc.clone()),
                    name: Set(model.name.clone()),
                    industry_code: Set(model.industry_code.clone()),
                    district: Set(model.district.clone()),
                    created_at: Set(now),
                    ..Default::default()
                });
                planned.push(model);
            }
            let ids: HashMap<String, i64> = insert_returning(
                txn,
                firms::Entity::insert_many(models).into_query(),
                [firms::Column::Id, firms::Column::Uscc],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get("", "uscc")?, row.try_get("", "id")?)))
            .collect::<Result<_, sea_orm::DbErr>>()?;
            let mut changes = Vec::with_capacity(planned.len());
            for mut firm in planned {
                let uscc = firm.uscc.to_string();
                firm.id = crate::store::ids::FirmId(
                    *ids.get(&uscc)
                        .ok_or_else(|| AppError::internal("a planned firm was not written"))?,
                );
                changes.push(Change {
                    action: "firm.create",
                    target_type: "firm",
                    target_id: uscc.clone(),
                    before: None,
                    after: serde_json::to_value(FirmRecord::from(&firm)).ok(),
                });
                self.created.insert(uscc, firm.id);
            }
            self.firms_created += changes.len() as u64;
            audit::record_many(txn, actor, now, changes).await?;
        }
        let rows = assessments.len() as u64;
        // What each submission's audit event says, by (firm, period): known before the insert
        // but for the id.
        let mut events: HashMap<(i64, i32), serde_json::Value> = HashMap::new();
        let mut models = Vec::with_capacity(assessments.len());
        for a in assessments {
            let firm_id = match a.firm_id {
                0 => *self
                    .created
                    .get(&a.uscc)
                    .ok_or_else(|| AppError::internal("a planned firm was not written"))?,
                id => crate::store::ids::FirmId(id),
            };
            let grade = grading::Grade::parse(&a.grade)
                .ok_or_else(|| AppError::internal("a planned grade does not parse"))?;
            events.insert(
                (firm_id.0, a.period),
                json!({"uscc": a.uscc, "period": a.period, "status": AssessmentStatus::Submitted,
                       "grade": grade.as_str(), "score": a.score, "trace_hash": a.trace_hash,
                       "benchmarks": a.benchmarks, "source": "import"}),
            );
            models.push(assessments::ActiveModel {
                firm_id: Set(firm_id),
                period: Set(a.period),
                status: Set(AssessmentStatus::Submitted),
                input: Set(a.input),
                trace: Set(a.trace),
                trace_hash: Set(a.trace_hash),
                score: Set(a.score),
                grade: Set(grade.into()),
                methodology: Set(a.methodology),
                benchmarks: Set(a.benchmarks),
                submitted_by: Set(actor_id),
                submitted_at: Set(now),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                reject_reason: Set(None),
                code_serial: Set(None),
                carbon_trace: Set(a.carbon_trace),
                carbon_hash: Set(a.carbon_hash),
                carbon_level: Set(a.carbon_level),
                basis: Set(a.basis),
                abnormal: Set(a.abnormal),
                ..Default::default()
            });
        }
        let mut changes = Vec::with_capacity(models.len());
        let mut models = models.into_iter().peekable();
        while models.peek().is_some() {
            let inserted = insert_returning(
                txn,
                assessments::Entity::insert_many(models.by_ref().take(500)).into_query(),
                [
                    assessments::Column::Id,
                    assessments::Column::FirmId,
                    assessments::Column::Period,
                ],
            )
            .await?;
            for row in inserted {
                let id: i64 = row.try_get("", "id")?;
                let key: (i64, i32) = (row.try_get("", "firm_id")?, row.try_get("", "period")?);
                let mut after = events
                    .remove(&key)
                    .ok_or_else(|| AppError::internal("a written submission was not planned"))?;
                // The id first, as the event of a single submission has it.
                if let serde_json::Value::Object(fields) = &mut after {
                    let mut ordered = serde_json::Map::with_capacity(fields.len() + 1);
                    ordered.insert("id".to_owned(), id.into());
                    ordered.append(fields);
                    *fields = ordered;
                }
                self.ids.push(id);
                changes.push(Change {
                    action: "assessment.submit",
                    target_type: "assessment",
                    target_id: id.to_string(),
                    before: None,
                    after: Some(after),
                });
            }
        }
        self.rows += rows;
        audit::record_many(txn, actor, now, changes).await?;
        Ok(())
    }
}

/// Runs `insert` and returns only `columns` of the rows it wrote (not the whole rows: a
/// submission's input and trace are kilobytes each).
async fn insert_returning<const N: usize, C: sea_orm::sea_query::IntoColumnRef>(
    txn: &crate::db::WriteTxn,
    mut insert: sea_orm::sea_query::InsertStatement,
    columns: [C; N],
) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    insert.returning(sea_orm::sea_query::Query::returning().columns(columns));
    let statement = txn.get_database_backend().build(&insert);
    txn.query_all_raw(statement).await
}
