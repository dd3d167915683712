//! `readings` and `reading_batches`: what data sources delivered (see the migration).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "readings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: super::ids::AccountId,
    pub uscc: String,
    pub year: i32,
    /// 1–12 for a month, 0 for the whole year.
    pub month: i32,
    pub field: String,
    pub quantity: String,
    pub reference: String,
    pub batch_id: i64,
    pub correction_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod batches {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reading_batches")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub source_id: crate::store::ids::AccountId,
        pub sha256: String,
        pub format: String,
        pub rows: i32,
        pub created: i32,
        pub corrected: i32,
        pub unchanged: i32,
        pub received_at: DateTimeUtc,
        /// The signed receipt (COSE_Sign1) the source was given.
        pub receipt: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
