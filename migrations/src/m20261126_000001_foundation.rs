//! Firms, accounts, their credentials, and the append-only audit trail.

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
                    .table("firms")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("uscc"))
                    .col(string("name"))
                    .col(string("industry_code"))
                    .col(string("district"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("accounts")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("username"))
                    .col(string("password_hash"))
                    .col(string("role"))
                    .col(big_integer_null("firm_id"))
                    .col(string_null("org"))
                    .col(boolean("disabled").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_accounts_firm")
                            .from("accounts", "firm_id")
                            .to("firms", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for table in ["api_tokens", "sessions"] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(big_pk_auto("id"))
                        .col(big_integer("account_id"))
                        .col(string_uniq("token_hash"))
                        .col(timestamp_with_time_zone("created_at"))
                        .col(timestamp_with_time_zone("expires_at"))
                        .foreign_key(
                            ForeignKey::create()
                                .name(format!("fk_{table}_account"))
                                .from(table, "account_id")
                                .to("accounts", "id"),
                        )
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer_null("actor_id"))
                    .col(string("actor"))
                    .col(string("action"))
                    .col(string("target_type"))
                    .col(string("target_id"))
                    .col(text_null("before"))
                    .col(text_null("after"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_target")
                    .table("audit_events")
                    .col("target_type")
                    .col("target_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_at")
                    .table("audit_events")
                    .col("at")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_events",
            "sessions",
            "api_tokens",
            "accounts",
            "firms",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
