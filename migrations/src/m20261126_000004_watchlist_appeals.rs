//! Banks' watchlists of borrowers, firms' appeals against issued grades, and the waste score
//! of each code.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The waste score decides one of the services a code links to (methodology §8).
        manager
            .alter_table(
                Table::alter()
                    .table("codes")
                    .add_column(string_null("waste_score"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("watchlist")
                    .col(big_integer("account_id"))
                    .col(big_integer("firm_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("account_id").col("firm_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_watchlist_account")
                            .from("watchlist", "account_id")
                            .to("accounts", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_watchlist_firm")
                            .from("watchlist", "firm_id")
                            .to("firms", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("appeals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("firm_id"))
                    .col(big_integer_null("code_serial"))
                    .col(text("note"))
                    .col(string("status"))
                    .col(big_integer_null("raised_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(big_integer_null("resolved_by"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(text_null("resolution"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeals_firm")
                            .from("appeals", "firm_id")
                            .to("firms", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_appeals_status")
                    .table("appeals")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["appeals", "watchlist"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("codes")
                    .drop_column("waste_score")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
