//! `vetoes`: events a regulator recorded that cap a firm's grade at D (methodology §4).

use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "vetoes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: super::ids::FirmId,
    pub kind: String,
    pub occurred_on: Date,
    pub note: Option<String>,
    /// Who issued the document an incident list names (信用中国, an environmental bureau…).
    pub authority: Option<String>,
    /// The document's number (a penalty decision, a list entry).
    pub document_no: Option<String>,
    pub recorded_by: Option<super::ids::AccountId>,
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
