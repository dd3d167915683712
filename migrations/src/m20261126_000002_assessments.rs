//! Certifications, vetoes and assessments (submissions and their grades).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn firm_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_firm"))
        .from(table, "firm_id")
        .to("firms", "id")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The firm's current grade, kept with the firm so that lists filter on it cheaply.
        for column in [string_null("current_grade"), string_null("current_score")] {
            manager
                .alter_table(Table::alter().table("firms").add_column(column).to_owned())
                .await?;
        }
        for column in [
            big_integer_null("current_serial"),
            integer_null("current_period"),
        ] {
            manager
                .alter_table(Table::alter().table("firms").add_column(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("certifications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("firm_id"))
                    .col(string("kind"))
                    .col(string("number"))
                    .col(string("issuer"))
                    .col(date("valid_from"))
                    .col(date("valid_until"))
                    .col(text_null("evidence_note"))
                    .col(boolean("verified"))
                    .col(boolean("revoked"))
                    .col(text_null("revoked_reason"))
                    .col(big_integer_null("declared_by"))
                    .col(big_integer_null("reviewed_by"))
                    .col(timestamp_with_time_zone_null("reviewed_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut firm_fk("certifications"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_certifications_firm")
                    .table("certifications")
                    .col("firm_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("vetoes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("firm_id"))
                    .col(string("kind"))
                    .col(date("occurred_on"))
                    .col(text_null("note"))
                    .col(big_integer_null("recorded_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut firm_fk("vetoes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_vetoes_firm")
                    .table("vetoes")
                    .col("firm_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("assessments")
                    .col(big_pk_auto("id"))
                    .col(big_integer("firm_id"))
                    .col(integer("period"))
                    .col(string("status"))
                    .col(text("input"))
                    .col(text("trace"))
                    .col(string("trace_hash"))
                    .col(string("score"))
                    .col(string("grade"))
                    .col(string("methodology"))
                    .col(string("benchmarks"))
                    .col(big_integer_null("submitted_by"))
                    .col(timestamp_with_time_zone("submitted_at"))
                    .col(big_integer_null("reviewed_by"))
                    .col(timestamp_with_time_zone_null("reviewed_at"))
                    .col(text_null("reject_reason"))
                    .col(big_integer_null("code_serial"))
                    .foreign_key(&mut firm_fk("assessments"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_assessments_firm_period")
                    .table("assessments")
                    .col("firm_id")
                    .col("period")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_assessments_status")
                    .table("assessments")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        // One submission under review per firm and period, enforced by the database too.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_assessments_one_submitted ON assessments (firm_id, period) \
                 WHERE status = 'submitted'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["assessments", "vetoes", "certifications"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            "current_grade",
            "current_score",
            "current_serial",
            "current_period",
        ] {
            manager
                .alter_table(Table::alter().table("firms").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
