//! Incidents from outside and the cultivation ladder: a veto's issuing authority and document
//! number (one veto per firm, kind, date and document, so that a repeated incident list records
//! nothing twice), the reason a regrade gives the code it supersedes, each firm's tier on the
//! cultivation ladder (梯度培育), and the awards made under support policies (政策兑现).

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
                    .table("vetoes")
                    .add_column(text_null("authority"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("vetoes")
                    .add_column(text_null("document_no"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("vetoes_firm_kind_date_document")
                    .table("vetoes")
                    .col("firm_id")
                    .col("kind")
                    .col("occurred_on")
                    .col("document_no")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("assessments")
                    .add_column(text_null("regrade_reason"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ladder")
                    .if_not_exists()
                    .col(big_integer("firm_id").primary_key())
                    .col(string("tier"))
                    .col(date("since"))
                    .col(text_null("note"))
                    .col(big_integer("moved_by"))
                    .col(timestamp_with_time_zone("moved_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("awards")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("policy_id"))
                    .col(big_integer("firm_id"))
                    .col(string("amount_10k_cny"))
                    .col(date("awarded_on"))
                    .col(string("document_no"))
                    .col(date_null("paid_on"))
                    .col(big_integer("recorded_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("awards_policy_firm")
                    .table("awards")
                    .col("policy_id")
                    .col("firm_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("awards_firm")
                    .table("awards")
                    .col("firm_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("awards").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("ladder").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("assessments")
                    .drop_column("regrade_reason")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("vetoes_firm_kind_date_document")
                    .table("vetoes")
                    .to_owned(),
            )
            .await?;
        for column in ["document_no", "authority"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("vetoes")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
