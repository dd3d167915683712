//! The database tables as sea-orm entities, and the queries on them, one file per table group.

pub mod accounts;
pub mod appeals;
pub mod applications;
pub mod assessments;
pub mod audit;
pub mod benchmarks;
pub mod carbon_tables;
pub mod certifications;
pub mod codes;
pub mod columns;
pub mod firms;
pub mod ids;
pub mod keys;
pub mod ladder;
pub mod list_checks;
pub mod notify;
pub mod policies;
pub mod products;
pub mod readings;
pub mod service_requests;
pub mod services;
pub mod settings;
pub mod tlog;
pub mod tokens;
pub mod vetoes;
pub mod watchlist;
pub mod webhooks;
pub mod year;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// The rows of `E` whose `column` is one of `keys` (each asked once), read 500 keys to a
/// statement: a bound on its parameters that both databases take.
pub async fn rows_in<E, C, K>(
    db: &C,
    column: E::Column,
    keys: impl IntoIterator<Item = K>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Into<sea_orm::Value> + Ord + Clone,
{
    let mut keys: Vec<K> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut rows = Vec::with_capacity(keys.len());
    for part in keys.chunks(500) {
        rows.extend(
            E::find()
                .filter(column.is_in(part.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}
