//! `firms`: the industrial firms that hold codes.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "firms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: super::ids::FirmId,
    #[sea_orm(unique)]
    pub uscc: super::columns::StoredUscc,
    pub name: String,
    pub industry_code: String,
    pub district: String,
    pub created_at: DateTimeUtc,
    /// The grade of the firm's active code, if it has one.
    pub current_grade: Option<super::columns::StoredGrade>,
    pub current_score: Option<String>,
    pub current_serial: Option<i64>,
    pub current_period: Option<i32>,
    /// When `gec log recover` recreated it from a code in the log; the regulator is to complete
    /// its name, industry and district (none for a firm registered as usual).
    pub restored_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn find_by_uscc<C: ConnectionTrait>(db: &C, uscc: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Uscc.eq(uscc)).one(db).await
}

/// The firms with these ids, by id (asked in chunks, so any number of ids is one call).
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = super::ids::FirmId>,
) -> Result<std::collections::HashMap<super::ids::FirmId, Model>, DbErr> {
    let rows = super::rows_in::<Entity, _, _>(db, Column::Id, ids).await?;
    Ok(rows.into_iter().map(|firm| (firm.id, firm)).collect())
}

/// The firms of these USCCs.
pub async fn by_usccs<C: ConnectionTrait>(
    db: &C,
    usccs: impl IntoIterator<Item = String>,
) -> Result<Vec<Model>, DbErr> {
    super::rows_in::<Entity, _, _>(db, Column::Uscc, usccs).await
}
