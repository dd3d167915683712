//! The carbon tables of methodology §10 — fuel factors, grid factors, carbon benchmarks — as
//! published versions, like the benchmark table's: a regulator publishes a new version of one
//! kind, carbon is computed with the newest of each kind, and every version stays readable so
//! that a carbon trace, which names the three versions it used, can be computed again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("carbon_tables")
                    .if_not_exists()
                    .col(string_len("kind", 16))
                    .col(string_len("version", 40))
                    .col(text("source_csv"))
                    .col(big_integer_null("published_by"))
                    .col(timestamp_with_time_zone("published_at"))
                    .primary_key(Index::create().col("kind").col("version"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("carbon_tables").to_owned())
            .await
    }
}
