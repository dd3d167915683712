//! 数据直连, continued: the regulator's settings (a key and its JSON value: how far a declared
//! figure may stray from an attested one, which figures must come from a source), each figure's
//! basis and the firm's reason on an assessment, and the runs of no-touch filing for every firm
//! (their progress kept in the database, so that every replica shows it).

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
                    .table("settings")
                    .if_not_exists()
                    .col(string_len("key", 64).primary_key())
                    .col(text("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(big_integer_null("updated_by"))
                    .to_owned(),
            )
            .await?;
        // Each figure's basis: declared, or attested by which source and references (JSON).
        manager
            .alter_table(
                Table::alter()
                    .table("assessments")
                    .add_column(text_null("basis"))
                    .to_owned(),
            )
            .await?;
        // The firm's reason for declaring a figure apart from an attested one.
        manager
            .alter_table(
                Table::alter()
                    .table("assessments")
                    .add_column(text_null("declared_reason"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("no_touch_runs")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(integer("year"))
                    .col(big_integer("started_by"))
                    .col(timestamp_with_time_zone("started_at"))
                    // Moved on by the replica doing the run; a run whose heartbeat stops was
                    // interrupted.
                    .col(timestamp_with_time_zone("heartbeat_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .col(integer("total"))
                    .col(integer("done"))
                    .col(integer("filed"))
                    .col(integer("incomplete"))
                    .col(integer("already_filed"))
                    // The firms not filed and why (JSON), once finished.
                    .col(text_null("report"))
                    .col(text_null("error"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("no_touch_runs").to_owned())
            .await?;
        for column in ["declared_reason", "basis"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("assessments")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("settings").to_owned())
            .await
    }
}
