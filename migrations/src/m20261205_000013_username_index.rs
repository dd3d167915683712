//! A login finds its account by the lower case of the username (accounts made before usernames
//! were case folded keep their spelling): an index on that expression, the same SQL on SQLite
//! and PostgreSQL, so that the lookup no longer scans the accounts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_accounts_username_lower ON accounts (lower(username))",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_accounts_username_lower")
            .await?;
        Ok(())
    }
}
