//! `appeals`: a firm's objection to an issued grade, a note for the regulators' queue.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An appeal waits in the regulators' queue until one closes it with a resolution.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum AppealStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// What a regulator decided: the grade stands, the revoked code is reinstated (a new code on the
/// same figures), or the firm is graded again on its figures and records as they are now.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum AppealOutcome {
    #[default]
    #[sea_orm(string_value = "upheld")]
    Upheld,
    #[sea_orm(string_value = "reinstated")]
    Reinstated,
    #[sea_orm(string_value = "regraded")]
    Regraded,
}

impl AppealOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "upheld",
            AppealOutcome::Reinstated => "reinstated",
            AppealOutcome::Regraded => "regraded",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: super::ids::FirmId,
    pub code_serial: Option<i64>,
    pub note: String,
    pub status: AppealStatus,
    pub raised_by: Option<super::ids::AccountId>,
    pub created_at: DateTimeUtc,
    pub resolved_by: Option<super::ids::AccountId>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
    pub outcome: Option<AppealOutcome>,
    /// The code the decision issued (reinstated or regraded).
    pub new_serial: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The appeals of these ids.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<Model>, DbErr> {
    super::rows_in::<Entity, _, _>(db, Column::Id, ids).await
}
