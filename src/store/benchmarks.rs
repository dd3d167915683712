//! `benchmark_sets` and `benchmarks`: every published version of the benchmark table, kept so
//! that old grades stay reproducible.

pub mod set {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "benchmark_sets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: String,
        pub source_csv: String,
        pub published_by: Option<crate::store::ids::AccountId>,
        pub published_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "benchmarks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub division: String,
        pub name_zh: String,
        pub name_en: String,
        pub energy_baseline: String,
        pub waste_baseline: String,
        pub waste_leading: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
