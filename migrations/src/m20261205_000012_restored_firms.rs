//! A firm recreated by `gec log recover` from a code in the log (its record was not in the
//! restored backup): only its USCC is proven, so the regulator completes its name, industry and
//! district; until then `restored_at` says when it was recreated.

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
                    .table("firms")
                    .add_column(timestamp_with_time_zone_null("restored_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("firms")
                    .drop_column("restored_at")
                    .to_owned(),
            )
            .await
    }
}
