//! Green services (published by providers, listed once a regulator approves them), firms'
//! requests for them, and the regulators' support policies (惠企政策). Lists of grades,
//! divisions and districts are stored as JSON arrays of strings.

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
                    .table("services")
                    .col(big_pk_auto("id"))
                    .col(big_integer("provider_id"))
                    .col(string("name"))
                    .col(string("category"))
                    .col(text("description"))
                    .col(text("districts"))
                    .col(string("contact"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(big_integer_null("reviewed_by"))
                    .col(timestamp_with_time_zone_null("reviewed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("services", "provider_id")
                            .to("accounts", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_services_status")
                    .table("services")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_requests")
                    .col(big_pk_auto("id"))
                    .col(big_integer("service_id"))
                    .col(big_integer("firm_id"))
                    .col(text("note"))
                    .col(string("status"))
                    .col(text_null("answer"))
                    .col(big_integer_null("requested_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("service_requests", "service_id")
                            .to("services", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("service_requests", "firm_id")
                            .to("firms", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_service_requests_service", "service_id"),
            ("ix_service_requests_firm", "firm_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("service_requests")
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("policies")
                    .col(big_pk_auto("id"))
                    .col(string("title"))
                    .col(string("issuer"))
                    .col(text("grades"))
                    .col(text("divisions"))
                    .col(text("districts"))
                    .col(string_null("requires_certification"))
                    .col(text("benefit"))
                    .col(string_null("amount_10k_cny"))
                    .col(date("valid_from"))
                    .col(date("valid_until"))
                    .col(string_null("url"))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_policies_valid_until")
                    .table("policies")
                    .col("valid_until")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["service_requests", "services", "policies"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
