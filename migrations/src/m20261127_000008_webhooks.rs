//! Pushed alerts to banks: their webhooks, an outbox of deliveries written in the same
//! transaction as the change that caused them, every attempt, and which codes have had their
//! "expiring" notice. Times of the outbox are milliseconds since the epoch (plain integers on
//! both databases).

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
                    .table("webhooks")
                    .col(big_pk_auto("id"))
                    .col(big_integer("bank_id"))
                    .col(string("url"))
                    .col(string("secret"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("disabled_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhooks", "bank_id")
                            .to("accounts", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("webhook_id"))
                    .col(string("message_id"))
                    .col(string("event_type"))
                    .col(text("payload"))
                    .col(big_integer("created_ms"))
                    .col(big_integer("next_attempt_ms"))
                    .col(big_integer("claimed_until_ms"))
                    .col(integer("attempts"))
                    .col(big_integer_null("delivered_ms"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhook_deliveries", "webhook_id")
                            .to("webhooks", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table("webhook_deliveries")
                    .col("delivered_ms")
                    .col("next_attempt_ms")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_attempts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("delivery_id"))
                    .col(big_integer("at_ms"))
                    .col(integer_null("status"))
                    .col(text_null("error"))
                    .col(integer("duration_ms"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhook_attempts", "delivery_id")
                            .to("webhook_deliveries", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_delivery")
                    .table("webhook_attempts")
                    .col("delivery_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("expiry_notices")
                    .col(big_integer("serial").primary_key())
                    .col(big_integer("at_ms"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_attempts",
            "webhook_deliveries",
            "webhooks",
            "expiry_notices",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
