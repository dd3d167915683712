//! The schema of the service as an append-only list of migrations. A migration, once released,
//! is never edited: a change of schema is a new file. Migrations never import entities.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_foundation;
mod m20261126_000002_assessments;
mod m20261126_000003_codes_and_log;
mod m20261126_000004_watchlist_appeals;
mod m20261127_000005_login_throttle;
mod m20261127_000006_services_policies;
mod m20261127_000007_green_finance;
mod m20261127_000008_webhooks;
mod m20261127_000009_cosignatures;
mod m20261205_000010_key_algorithms;
mod m20261205_000011_webhook_health;
mod m20261205_000012_restored_firms;
mod m20261205_000013_username_index;
mod m20261205_000014_sm2_keys;
mod m20261205_000015_carbon;
mod m20261205_000016_product_carbon;
mod m20261205_000017_carbon_tables;
mod m20261205_000018_list_checks;
mod m20261205_000019_appeal_outcomes;
mod m20261205_000020_application_messages;
mod m20261205_000021_account_contact;
mod m20261205_000022_application_files;
mod m20261205_000023_readings;
mod m20261205_000024_product_attested;
mod m20261205_000025_sources_settings;
mod m20261205_000026_regulators_year;
mod m20261206_000027_incidents_ladder;
mod m20261206_000028_inline_rows;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_assessments::Migration),
            Box::new(m20261126_000003_codes_and_log::Migration),
            Box::new(m20261126_000004_watchlist_appeals::Migration),
            Box::new(m20261127_000005_login_throttle::Migration),
            Box::new(m20261127_000006_services_policies::Migration),
            Box::new(m20261127_000007_green_finance::Migration),
            Box::new(m20261127_000008_webhooks::Migration),
            Box::new(m20261127_000009_cosignatures::Migration),
            Box::new(m20261205_000010_key_algorithms::Migration),
            Box::new(m20261205_000011_webhook_health::Migration),
            Box::new(m20261205_000012_restored_firms::Migration),
            Box::new(m20261205_000013_username_index::Migration),
            Box::new(m20261205_000014_sm2_keys::Migration),
            Box::new(m20261205_000015_carbon::Migration),
            Box::new(m20261205_000016_product_carbon::Migration),
            Box::new(m20261205_000017_carbon_tables::Migration),
            Box::new(m20261205_000018_list_checks::Migration),
            Box::new(m20261205_000019_appeal_outcomes::Migration),
            Box::new(m20261205_000020_application_messages::Migration),
            Box::new(m20261205_000021_account_contact::Migration),
            Box::new(m20261205_000022_application_files::Migration),
            Box::new(m20261205_000023_readings::Migration),
            Box::new(m20261205_000024_product_attested::Migration),
            Box::new(m20261205_000025_sources_settings::Migration),
            Box::new(m20261205_000026_regulators_year::Migration),
            Box::new(m20261206_000027_incidents_ladder::Migration),
            Box::new(m20261206_000028_inline_rows::Migration),
        ]
    }
}
