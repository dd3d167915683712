//! 数据直连: the fields a data source may attest (on its account), the readings it delivers
//! (a year's or a month's figure of one field for one USCC, with the source's own reference),
//! and each batch with the signed receipt the source got. Readings name the firm by its USCC,
//! so that those for firms not yet registered are kept and count once the firm registers.

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
                    .table("accounts")
                    .add_column(text_null("attests"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("reading_batches")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("source_id"))
                    .col(string_len("sha256", 64))
                    .col(string_len("format", 8))
                    .col(integer("rows"))
                    .col(integer("created"))
                    .col(integer("corrected"))
                    .col(integer("unchanged"))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(blob("receipt"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("readings")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("source_id"))
                    .col(string_len("uscc", 18))
                    .col(integer("year"))
                    // 1–12 for a month's reading, 0 for the year's.
                    .col(integer("month"))
                    .col(string_len("field", 40))
                    .col(string_len("quantity", 40))
                    .col(string_len("reference", 100))
                    .col(big_integer("batch_id"))
                    .col(text_null("correction_reason"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("readings_key")
                    .table("readings")
                    .col("source_id")
                    .col("uscc")
                    .col("year")
                    .col("month")
                    .col("field")
                    .col("reference")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("readings_firm_year")
                    .table("readings")
                    .col("uscc")
                    .col("year")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("readings").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("reading_batches").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("accounts")
                    .drop_column("attests")
                    .to_owned(),
            )
            .await
    }
}
