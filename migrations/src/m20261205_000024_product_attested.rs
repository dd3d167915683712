//! Banks' products may require a minimum share of attested energy (claim 8, 数据直连): a bank
//! that trusts figures from the grid more than declared ones lends only above it; null: any.

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
                    .add_column(integer_null("min_attested_share"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("products")
                    .drop_column("min_attested_share")
                    .to_owned(),
            )
            .await
    }
}
