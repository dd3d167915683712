//! `watchlist`: the firms (borrowers) a bank account follows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "watchlist")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: super::ids::AccountId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub firm_id: super::ids::FirmId,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
