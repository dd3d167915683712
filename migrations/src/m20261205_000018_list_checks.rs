//! A bank's list check kept for a day, so that its results, filters and downloads work on the
//! same check (the officer does not paste or upload the list again to get the file).

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
                    .table("list_checks")
                    .if_not_exists()
                    .col(string_len("id", 32).primary_key())
                    .col(big_integer("bank_id"))
                    .col(text("file_text"))
                    .col(text("pasted_text"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("list_checks_created_at")
                    .table("list_checks")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("list_checks").to_owned())
            .await
    }
}
