//! `carbon_tables`: every published version of the three carbon tables of methodology §10
//! (`fuel`, `grid`, `benchmark`), kept so that every carbon trace stays reproducible.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carbon_tables")]
pub struct Model {
    /// `fuel` (GEC-CF), `grid` (GEC-GF) or `benchmark` (GEC-CB).
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: String,
    pub source_csv: String,
    pub published_by: Option<crate::store::ids::AccountId>,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
