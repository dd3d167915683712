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

use std::collections::HashMap;

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

/// Rows grouped by their firm.
pub type ByFirm<T> = HashMap<ids::FirmId, Vec<T>>;

/// The certifications and vetoes of the firms `firms`, each grouped by firm in the order of
/// their ids: what a grade is assembled with beside the figures.
pub async fn certifications_and_vetoes<C: ConnectionTrait>(
    db: &C,
    firms: &[ids::FirmId],
) -> Result<(ByFirm<certifications::Model>, ByFirm<vetoes::Model>), DbErr> {
    let certs =
        by_firm::<certifications::Entity, _>(db, certifications::Column::FirmId, firms, |c| {
            (c.firm_id, c.id)
        })
        .await?;
    let vets =
        by_firm::<vetoes::Entity, _>(db, vetoes::Column::FirmId, firms, |v| (v.firm_id, v.id))
            .await?;
    Ok((certs, vets))
}

/// The rows of `E` (certifications, vetoes) of the firms `firms`, grouped by firm, each
/// firm's in the order of their ids (`key` gives a row's firm and id). Read 512 firms to a
/// statement, the list lengthened by [`crate::db::in_list`] so that a few statement shapes
/// serve every batch.
async fn by_firm<E, C>(
    db: &C,
    column: E::Column,
    firms: &[ids::FirmId],
    key: impl Fn(&E::Model) -> (ids::FirmId, i64),
) -> Result<ByFirm<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut firms = firms.to_vec();
    firms.sort_unstable();
    firms.dedup();
    let mut grouped: ByFirm<E::Model> = HashMap::new();
    for part in firms.chunks(512) {
        for row in E::find()
            .filter(column.is_in(crate::db::in_list(part)))
            .all(db)
            .await?
        {
            grouped.entry(key(&row).0).or_default().push(row);
        }
    }
    for rows in grouped.values_mut() {
        rows.sort_by_key(|r| key(r).1);
    }
    Ok(grouped)
}
