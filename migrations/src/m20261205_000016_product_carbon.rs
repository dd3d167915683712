//! Banks' products may require a carbon-efficiency level (methodology §10) beside grades, as
//! 碳效贷 takes levels 1–2 only: a JSON array of the levels taken, `[]` for any.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("products")
                    .add_column(text("carbon_levels").default("[]"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("products")
                    .drop_column("carbon_levels")
                    .to_owned(),
            )
            .await
    }
}
