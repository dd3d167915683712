//! The thread of a green-finance application: when a bank asks for more, the firm answers, and
//! every request and answer is kept in order, for both to read.

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
                    .table("application_messages")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("application_id"))
                    .col(string_len("author", 8))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("application_messages_application")
                    .table("application_messages")
                    .col("application_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("application_messages").to_owned())
            .await
    }
}
