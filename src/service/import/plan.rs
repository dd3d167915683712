//! The import's plan and its second pass: what the first pass decided to write, kept deflated
//! a chunk at a time, and the writing of it in the one transaction — checking again what
//! another request may have changed since the first pass.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
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
        if !chunk.firms.is_empty() {
            let mut models = Vec::with_capacity(chunk.firms.len());
            for f in &chunk.firms {
                let uscc = grading::Uscc::parse(&f.uscc)
                    .map_err(|_| AppError::internal("a planned USCC does not parse"))?;
                models.push(firms::ActiveModel {
                    uscc: Set(uscc.into()),
                    name: Set(f.name.clone()),
                    industry_code: Set(f.industry_code.clone()),
                    district: Set(f.district.clone()),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            let created = firms::Entity::insert_many(models)
                .exec_with_returning(txn)
                .await?;
            self.firms_created += created.len() as u64;
            let changes = created
                .iter()
                .map(|f| Change {
                    action: "firm.create",
                    target_type: "firm",
                    target_id: f.uscc.to_string(),
                    before: None,
                    after: serde_json::to_value(FirmRecord::from(f)).ok(),
                })
                .collect();
            audit::record_many(txn, actor, now, changes).await?;
            for firm in created {
                self.created.insert(firm.uscc.to_string(), firm.id);
            }
        }
        let mut models = Vec::with_capacity(chunk.assessments.len());
        for a in &chunk.assessments {
            let firm_id = match a.firm_id {
                0 => *self
                    .created
                    .get(&a.uscc)
                    .ok_or_else(|| AppError::internal("a planned firm was not written"))?,
                id => crate::store::ids::FirmId(id),
            };
            let grade = grading::Grade::parse(&a.grade)
                .ok_or_else(|| AppError::internal("a planned grade does not parse"))?;
            models.push(assessments::ActiveModel {
                firm_id: Set(firm_id),
                period: Set(a.period),
                status: Set(AssessmentStatus::Submitted),
                input: Set(a.input.clone()),
                trace: Set(a.trace.clone()),
                trace_hash: Set(a.trace_hash.clone()),
                score: Set(a.score.clone()),
                grade: Set(grade.into()),
                methodology: Set(a.methodology.clone()),
                benchmarks: Set(a.benchmarks.clone()),
                submitted_by: Set(actor_id),
                submitted_at: Set(now),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                reject_reason: Set(None),
                code_serial: Set(None),
                ..Default::default()
            });
        }
        let usccs: HashMap<i64, &str> = chunk
            .assessments
            .iter()
            .map(|a| {
                let id = if a.firm_id == 0 {
                    self.created.get(&a.uscc).map_or(0, |id| id.0)
                } else {
                    a.firm_id
                };
                (id, a.uscc.as_str())
            })
            .collect();
        let mut changes = Vec::with_capacity(models.len());
        for part in models.chunks(500) {
            let inserted = assessments::Entity::insert_many(part.to_vec())
                .exec_with_returning(txn)
                .await?;
            for a in inserted {
                self.ids.push(a.id);
                let uscc = usccs.get(&a.firm_id.0).copied().unwrap_or_default();
                changes.push(Change {
                    action: "assessment.submit",
                    target_type: "assessment",
                    target_id: a.id.to_string(),
                    before: None,
                    after: Some(json!({"id": a.id, "uscc": uscc, "period": a.period, "status": a.status,
                                       "grade": a.grade, "score": a.score, "trace_hash": a.trace_hash,
                                       "benchmarks": a.benchmarks, "source": "import"})),
                });
            }
        }
        self.rows += chunk.assessments.len() as u64;
        audit::record_many(txn, actor, now, changes).await?;
        Ok(())
    }
}
