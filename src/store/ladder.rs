//! `ladder` and `awards`: each firm's tier on the cultivation ladder (梯度培育), and the awards
//! made to firms under support policies (政策兑现); see the migration.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ladder")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub firm_id: super::ids::FirmId,
    /// `pool`, `municipal` or `national_candidate`.
    pub tier: String,
    pub since: Date,
    pub note: Option<String>,
    pub moved_by: super::ids::AccountId,
    pub moved_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod awards {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "awards")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub policy_id: i64,
        pub firm_id: crate::store::ids::FirmId,
        pub amount_10k_cny: String,
        pub awarded_on: Date,
        pub document_no: String,
        pub paid_on: Option<Date>,
        pub recorded_by: crate::store::ids::AccountId,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
