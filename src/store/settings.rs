//! `settings`: the regulator's settings, a key and its JSON value (see the migration).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub value: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<super::ids::AccountId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// `no_touch_runs`: a no-touch filing of every firm with attested figures, and its progress.
pub mod no_touch_runs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "no_touch_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub year: i32,
        pub started_by: crate::store::ids::AccountId,
        pub started_at: DateTimeUtc,
        pub heartbeat_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
        pub total: i32,
        pub done: i32,
        pub filed: i32,
        pub incomplete: i32,
        pub already_filed: i32,
        pub report: Option<String>,
        pub error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
