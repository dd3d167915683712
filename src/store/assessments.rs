//! `assessments`: a firm's data for a year as submitted (the exact input of methodology §1),
//! its trace and grade, and where it stands in review.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use super::columns::StoredGrade;

/// Where a submission stands in review.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum AssessmentStatus {
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "approved")]
    Approved,
}

impl AssessmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentStatus::Submitted => "submitted",
            AssessmentStatus::Rejected => "rejected",
            AssessmentStatus::Approved => "approved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "submitted" => Some(AssessmentStatus::Submitted),
            "rejected" => Some(AssessmentStatus::Rejected),
            "approved" => Some(AssessmentStatus::Approved),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: super::ids::FirmId,
    pub period: i32,
    pub status: AssessmentStatus,
    /// The canonical JSON of methodology §1's input.
    pub input: String,
    /// The canonical JSON of the trace (its SHA-256 is `trace_hash`).
    pub trace: String,
    pub trace_hash: String,
    pub score: String,
    pub grade: StoredGrade,
    pub methodology: String,
    pub benchmarks: String,
    pub submitted_by: Option<super::ids::AccountId>,
    pub submitted_at: DateTimeUtc,
    pub reviewed_by: Option<super::ids::AccountId>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reject_reason: Option<String>,
    pub code_serial: Option<i64>,
    /// The canonical JSON of the carbon trace (methodology §10.5); none for assessments made
    /// before it was kept, or of a division without a carbon baseline.
    pub carbon_trace: Option<String>,
    pub carbon_hash: Option<String>,
    /// 1 (the best) to 5.
    pub carbon_level: Option<i32>,
    /// Each figure's basis (数据直连): declared, or attested by which source (JSON of
    /// `service::readings::Basis`); none before sources were kept.
    pub basis: Option<String>,
    /// The firm's reason for declaring a figure apart from an attested one.
    pub declared_reason: Option<String>,
    /// Why the service regraded the firm (an incident list's veto): told to the banks with the
    /// code this assessment's code supersedes.
    pub regrade_reason: Option<String>,
    /// What the checks against the previous approved year and the industry found abnormal
    /// (JSON of `service::abnormal::Finding`s); none or `[]` when nothing.
    pub abnormal: Option<String>,
}

/// The carbon columns of an assessment: its carbon trace's canonical JSON, hash and level.
pub type CarbonColumns = (Option<String>, Option<String>, Option<i32>);

/// The carbon columns of an assessment (methodology §10), from its checked input and the
/// carbon tables in force.
pub fn carbon_of(
    assessment: &crate::grading::Assessment,
    tables: &crate::grading::carbon::CarbonTables,
) -> CarbonColumns {
    columns_of(crate::grading::carbon::compute(assessment, tables))
}

/// The carbon columns of a computation (none for a division without a carbon baseline).
pub fn columns_of(carbon: Option<crate::grading::carbon::Carbon>) -> CarbonColumns {
    match carbon {
        Some(c) => (
            Some(String::from_utf8_lossy(&c.canonical_bytes()).into_owned()),
            Some(c.trace_hash),
            Some(i32::from(c.level)),
        ),
        None => (None, None, None),
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::firms::Entity",
        from = "Column::FirmId",
        to = "super::firms::Column::Id"
    )]
    Firm,
}

impl Related<super::firms::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Firm.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// The submission of this firm and period that is under review, if any.
pub async fn submitted_for<C: ConnectionTrait>(
    db: &C,
    firm_id: super::ids::FirmId,
    period: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::FirmId.eq(firm_id))
        .filter(Column::Period.eq(period))
        .filter(Column::Status.eq(AssessmentStatus::Submitted))
        .one(db)
        .await
}

/// The row of a new submission under review: the one place an assessment row is built (the
/// API, the pages, the CSV import and `gec regrade --apply` all submit through it).
pub fn submission(
    firm_id: super::ids::FirmId,
    checked_input: String,
    carbon: CarbonColumns,
    graded: &crate::grading::Graded,
    submitted_by: Option<crate::store::ids::AccountId>,
    at: DateTimeUtc,
) -> ActiveModel {
    use sea_orm::ActiveValue::Set;
    let trace = &graded.trace;
    let (carbon_trace, carbon_hash, carbon_level) = carbon;
    ActiveModel {
        firm_id: Set(firm_id),
        period: Set(i32::from(trace.period)),
        status: Set(AssessmentStatus::Submitted),
        input: Set(checked_input),
        trace: Set(String::from_utf8_lossy(&trace.canonical_bytes()).into_owned()),
        trace_hash: Set(graded.trace_hash.clone()),
        score: Set(trace.score.clone()),
        grade: Set(graded.grade.into()),
        methodology: Set(trace.methodology.clone()),
        benchmarks: Set(trace.benchmarks.clone()),
        submitted_by: Set(submitted_by),
        submitted_at: Set(at),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        reject_reason: Set(None),
        code_serial: Set(None),
        carbon_trace: Set(carbon_trace),
        carbon_hash: Set(carbon_hash),
        carbon_level: Set(carbon_level),
        ..Default::default()
    }
}

/// The assessments of these ids.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<Model>, DbErr> {
    super::rows_in::<Entity, _, _>(db, Column::Id, ids).await
}

/// The assessments of these ids, each with its firm, in one statement.
pub async fn with_firms<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<(Model, Option<super::firms::Model>)>, DbErr> {
    Entity::find()
        .filter(Column::Id.is_in(crate::db::in_list(ids)))
        .find_also_related(super::firms::Entity)
        .all(db)
        .await
}
