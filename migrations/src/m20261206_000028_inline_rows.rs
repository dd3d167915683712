//! PostgreSQL: an assessment row (its input, trace and carbon trace: about 2.2 KB) is kept
//! whole in its table. Above PostgreSQL's default threshold of about 2 KB every row written
//! was offered to compression (which JSON of figures and hashes barely repays) and then had
//! its largest column moved to the TOAST table: each insert or update wrote two tables and two
//! indexes, and each read fetched from both. Rows up to half a page now stay inline, as they
//! are; larger ones are still compressed and moved out. Firms' pages keep a tenth free so that
//! setting a firm's current code updates its row in place (its indexed columns do not change).
//! SQLite has neither setting and is unchanged.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE assessments SET (toast_tuple_target = 4080)")
            .await?;
        db.execute_unprepared("ALTER TABLE firms SET (fillfactor = 90)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE assessments RESET (toast_tuple_target)")
            .await?;
        db.execute_unprepared("ALTER TABLE firms RESET (fillfactor)")
            .await?;
        Ok(())
    }
}
