//! `assessments`: a firm's data for a year as submitted (the exact input of methodology §1),
//! its trace and grade, and where it stands in review.

use sea_orm::entity::prelude::*;
use serde::Serialize;

pub const SUBMITTED: &str = "submitted";
pub const REJECTED: &str = "rejected";
pub const APPROVED: &str = "approved";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub period: i32,
    pub status: String,
    /// The canonical JSON of methodology §1's input.
    pub input: String,
    /// The canonical JSON of the trace (its SHA-256 is `trace_hash`).
    pub trace: String,
    pub trace_hash: String,
    pub score: String,
    pub grade: String,
    pub methodology: String,
    pub benchmarks: String,
    pub submitted_by: Option<i64>,
    pub submitted_at: DateTimeUtc,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reject_reason: Option<String>,
    pub code_serial: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The submission of this firm and period that is under review, if any.
pub async fn submitted_for<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    period: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::FirmId.eq(firm_id))
        .filter(Column::Period.eq(period))
        .filter(Column::Status.eq(SUBMITTED))
        .one(db)
        .await
}
