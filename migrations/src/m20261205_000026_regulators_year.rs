//! The regulator's year (动态管理): what the checks against the firm's previous approved year and
//! its industry found abnormal on each submission (JSON; approved only with a check record), the
//! reporting years a regulator opens with their filing deadline, and the overdue notices sent to
//! watching banks (once per firm and year).

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
                    .table("assessments")
                    .add_column(text_null("abnormal"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("reporting_years")
                    .if_not_exists()
                    .col(integer("year").primary_key())
                    .col(date("deadline"))
                    .col(timestamp_with_time_zone("opened_at"))
                    .col(big_integer("opened_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("overdue_notices")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("firm_id"))
                    .col(integer("year"))
                    .col(timestamp_with_time_zone("sent_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("overdue_notices_firm_year")
                    .table("overdue_notices")
                    .col("firm_id")
                    .col("year")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("overdue_notices").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("reporting_years").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("assessments")
                    .drop_column("abnormal")
                    .to_owned(),
            )
            .await
    }
}
