//! Codes, the transparency log (entries, stored subtree hashes, head, checkpoints), the public
//! halves of signing keys, and published benchmark tables.

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
                    .table("log_entries")
                    .col(big_integer("idx").primary_key())
                    .col(string("kind"))
                    .col(text("bytes"))
                    .col(string("leaf_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("log_nodes")
                    .col(small_integer("level"))
                    .col(big_integer("idx"))
                    .col(string("hash"))
                    .primary_key(Index::create().col("level").col("idx"))
                    .to_owned(),
            )
            .await?;
        // One row: the log's size and root. Appends lock it, so they are serialised.
        manager
            .create_table(
                Table::create()
                    .table("log_head")
                    .col(integer("id").primary_key())
                    .col(big_integer("size"))
                    .col(string("root"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("checkpoints")
                    .col(big_integer("size").primary_key())
                    .col(string("root"))
                    .col(text("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("codes")
                    .col(big_integer("serial").primary_key())
                    .col(big_integer("firm_id"))
                    .col(big_integer("assessment_id"))
                    .col(blob("cose"))
                    .col(string("code_sha256"))
                    .col(big_integer("iat"))
                    .col(big_integer("exp"))
                    .col(string("status"))
                    .col(string("kid"))
                    .col(string("grade"))
                    .col(string("score"))
                    .col(integer("period"))
                    .col(big_integer_null("superseded_by"))
                    .col(text_null("revoked_reason"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(big_integer_null("revoke_entry"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_codes_firm")
                            .from("codes", "firm_id")
                            .to("firms", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_codes_assessment")
                            .from("codes", "assessment_id")
                            .to("assessments", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_codes_firm_status")
                    .table("codes")
                    .col("firm_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("signing_keys")
                    .col(string("kid").primary_key())
                    .col(string("purpose"))
                    .col(string("public_x"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("not_before"))
                    .col(timestamp_with_time_zone_null("not_after"))
                    .col(timestamp_with_time_zone_null("compromised_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benchmark_sets")
                    .col(string("version").primary_key())
                    .col(text("source_csv"))
                    .col(big_integer_null("published_by"))
                    .col(timestamp_with_time_zone("published_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benchmarks")
                    .col(string("version"))
                    .col(string("division"))
                    .col(string("name_zh"))
                    .col(string("name_en"))
                    .col(string("energy_baseline"))
                    .col(string("waste_baseline"))
                    .col(string("waste_leading"))
                    .primary_key(Index::create().col("version").col("division"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_benchmarks_set")
                            .from("benchmarks", "version")
                            .to("benchmark_sets", "version"),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "benchmarks",
            "benchmark_sets",
            "signing_keys",
            "codes",
            "checkpoints",
            "log_head",
            "log_nodes",
            "log_entries",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
