//! Files a firm attaches to its answer when a bank asks for more (a filing certificate, an
//! energy audit): kept in the database (every replica sees them), each with its checked type,
//! size and SHA-256, readable by the firm and by the bank the application went to.

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
                    .table("application_files")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("application_id"))
                    .col(big_integer("message_id"))
                    .col(string_len("name", 200))
                    .col(string_len("media_type", 64))
                    .col(big_integer("size"))
                    .col(string_len("sha256", 64))
                    .col(blob("content"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("application_files_application")
                    .table("application_files")
                    .col("application_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("application_files").to_owned())
            .await
    }
}
