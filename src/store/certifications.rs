//! `certifications`: green certifications a firm declared or a regulator recorded; they count
//! in a grade only once a regulator has verified them (methodology §4).

use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "certifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: super::ids::FirmId,
    pub kind: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: Date,
    pub valid_until: Date,
    pub evidence_note: Option<String>,
    pub verified: bool,
    pub revoked: bool,
    pub revoked_reason: Option<String>,
    pub declared_by: Option<super::ids::AccountId>,
    pub reviewed_by: Option<super::ids::AccountId>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn of_firm<C: ConnectionTrait>(
    db: &C,
    firm_id: super::ids::FirmId,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::FirmId.eq(firm_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}
