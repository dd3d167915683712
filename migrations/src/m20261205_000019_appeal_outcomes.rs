//! An appeal's decision: its outcome (upheld, reinstated, regraded) beside the reasons, and the
//! code issued when the decision gives the firm a new one — so that the firm can follow it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [string_null("outcome"), big_integer_null("new_serial")] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table("appeals")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["new_serial", "outcome"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("appeals")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
