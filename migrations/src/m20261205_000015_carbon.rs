//! The carbon-efficiency level beside every grade (methodology §10): each assessment keeps its
//! carbon trace (canonical JSON), the trace's hash and the level, computed from the same figures
//! as its grade. Assessments made before this have none until `gec regrade --carbon`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        for column in [
            text_null("carbon_trace"),
            string_null("carbon_hash"),
            integer_null("carbon_level"),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table("assessments")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["carbon_level", "carbon_hash", "carbon_trace"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("assessments")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
