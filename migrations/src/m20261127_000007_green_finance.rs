//! 绿色金融: banks' products, firms' applications with consent, and every read of consented
//! data. Lists and the per-grade rate steps are stored as JSON text.

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
                    .table("products")
                    .col(big_pk_auto("id"))
                    .col(big_integer("bank_id"))
                    .col(string("name"))
                    .col(string("kind"))
                    .col(text("grades"))
                    .col(text("rate_steps"))
                    .col(string("max_amount_10k_cny"))
                    .col(integer("term_months"))
                    .col(text("divisions"))
                    .col(text("districts"))
                    .col(date("valid_from"))
                    .col(date("valid_until"))
                    .col(text("description"))
                    .col(timestamp_with_time_zone_null("withdrawn_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("products", "bank_id")
                            .to("accounts", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("applications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("product_id"))
                    .col(big_integer("firm_id"))
                    .col(big_integer("code_serial"))
                    .col(string("amount_10k_cny"))
                    .col(text("purpose"))
                    .col(string("consent_scope"))
                    .col(date("consent_expires_on"))
                    .col(timestamp_with_time_zone_null("consent_withdrawn_at"))
                    .col(string("status"))
                    .col(string_null("decision_amount_10k_cny"))
                    .col(integer_null("decision_rate_step_bp"))
                    .col(integer_null("decision_term_months"))
                    .col(text_null("decision_reason"))
                    .col(big_integer_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("applications", "product_id")
                            .to("products", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("applications", "firm_id")
                            .to("firms", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_applications_product", "product_id"),
            ("ix_applications_firm", "firm_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("applications")
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("application_accesses")
                    .col(big_pk_auto("id"))
                    .col(big_integer("application_id"))
                    .col(big_integer_null("account_id"))
                    .col(string("actor"))
                    .col(string("what"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("application_accesses", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_application_accesses_application")
                    .table("application_accesses")
                    .col("application_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["application_accesses", "applications", "products"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
