//! The login throttle, shared by every replica: one row per username (`u:…`) and per client
//! address (`a:…`), each read and updated in one statement. Times are milliseconds since the
//! epoch, so that both databases compare them as plain integers.

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
                    .table("login_throttle")
                    .col(string("key").primary_key())
                    .col(integer("failures"))
                    .col(integer("in_flight"))
                    .col(big_integer("not_before_ms"))
                    .col(big_integer("last_ms"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_login_throttle_last")
                    .table("login_throttle")
                    .col("last_ms")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("login_throttle").to_owned())
            .await
    }
}
