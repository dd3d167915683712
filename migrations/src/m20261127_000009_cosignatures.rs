//! Witnesses' cosignatures on the log's checkpoints (token.md §7): one line per checkpoint size
//! and witness, served after the log's own signature at `/log/checkpoint`.

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
                    .table("checkpoint_cosignatures")
                    .col(big_integer("size"))
                    .col(string("witness"))
                    .col(text("line"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("size").col("witness"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("checkpoint_cosignatures").to_owned())
            .await
    }
}
