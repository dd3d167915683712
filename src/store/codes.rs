//! `codes`: every code issued, with its COSE bytes and where it stands (active, superseded,
//! revoked; expiry is read from `exp`). A code's serial is the index of its issue entry.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use super::columns::StoredGrade;

/// Where a code stands. `Expired` is never stored: it is an active code past its `exp`, as a
/// verifier sees it ([`Model::status_at`]).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum CodeStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "superseded")]
    Superseded,
    #[sea_orm(string_value = "revoked")]
    Revoked,
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl CodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Active => "active",
            CodeStatus::Superseded => "superseded",
            CodeStatus::Revoked => "revoked",
            CodeStatus::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub serial: i64,
    pub firm_id: super::ids::FirmId,
    pub assessment_id: i64,
    pub cose: Vec<u8>,
    pub code_sha256: String,
    pub iat: i64,
    pub exp: i64,
    pub status: CodeStatus,
    pub kid: String,
    pub grade: StoredGrade,
    pub score: String,
    pub period: i32,
    pub superseded_by: Option<i64>,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoke_entry: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The waste indicator's score (`None` when it did not apply).
    pub waste_score: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The status as a verifier sees it at `now`: an active code past `exp` is expired.
    pub fn status_at(&self, now: i64) -> CodeStatus {
        if self.status == CodeStatus::Active && now > self.exp {
            CodeStatus::Expired
        } else {
            self.status
        }
    }
}

/// The firm's active code, if any.
pub async fn active_of<C: ConnectionTrait>(
    db: &C,
    firm_id: super::ids::FirmId,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::FirmId.eq(firm_id))
        .filter(Column::Status.eq(CodeStatus::Active))
        .one(db)
        .await
}

/// The codes of these serials.
pub async fn by_serials<C: ConnectionTrait>(
    db: &C,
    serials: impl IntoIterator<Item = i64>,
) -> Result<Vec<Model>, DbErr> {
    super::rows_in::<Entity, _, _>(db, Column::Serial, serials).await
}
