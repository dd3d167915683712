//! A webhook endpoint's health: since when its deliveries have been failing (none while it
//! answers), and why it was stopped when the service stopped it (failing for five days).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("webhooks")
                    .add_column(big_integer_null("failing_since_ms"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("webhooks")
                    .add_column(string_null("disabled_reason"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["disabled_reason", "failing_since_ms"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("webhooks")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
