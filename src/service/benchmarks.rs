//! Benchmark tables (methodology §5): GEC-B 2025.1 as the first version, regulators publish
//! newer ones, grades are computed with the newest and record its version, and every version
//! stays readable so that old grades can be recomputed.

use crate::db::Db;
use crate::service::write::{Audited, audited};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::cache::Caches;
use crate::error::{AppError, AppResult};
use crate::grading::benchmarks::DEFAULT_VERSION;
use crate::grading::decimal::{normalised, parse_decimal};
use crate::grading::{Benchmark, BenchmarkTable};
use crate::store::audit::{Actor, Change};
use crate::store::benchmarks::{row, set};

/// Records GEC-B 2025.1 as the first published version, if no version is recorded yet.
pub async fn seed_default(db: &Db) -> AppResult<()> {
    if set::Entity::find_by_id(DEFAULT_VERSION)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let table = BenchmarkTable::default_table();
    let txn = crate::db::begin_write(db).await?;
    if set::Entity::find_by_id(DEFAULT_VERSION)
        .one(&txn)
        .await?
        .is_none()
    {
        insert_table(&txn, table, None, DateTime::UNIX_EPOCH).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn insert_table<C: ConnectionTrait>(
    txn: &C,
    table: &BenchmarkTable,
    by: Option<crate::store::ids::AccountId>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    set::Entity::insert(set::ActiveModel {
        version: Set(table.version.clone()),
        source_csv: Set(table.to_csv()),
        published_by: Set(by),
        published_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    row::Entity::insert_many(table.rows.values().map(|b| row::ActiveModel {
        version: Set(table.version.clone()),
        division: Set(b.division.clone()),
        name_zh: Set(b.name_zh.clone()),
        name_en: Set(b.name_en.clone()),
        energy_baseline: Set(normalised(b.energy_baseline)),
        waste_baseline: Set(normalised(b.waste_baseline)),
        waste_leading: Set(normalised(b.waste_leading)),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// A published version, or `None`.
pub async fn by_version<C: ConnectionTrait>(
    db: &C,
    caches: &Caches,
    version: &str,
) -> AppResult<Option<Arc<BenchmarkTable>>> {
    if let Some(table) = caches.benchmarks.get(version) {
        return Ok(Some(table));
    }
    if set::Entity::find_by_id(version).one(db).await?.is_none() {
        return Ok(None);
    }
    let rows = row::Entity::find()
        .filter(row::Column::Version.eq(version))
        .all(db)
        .await?;
    let parse = |t: &str| {
        parse_decimal(t)
            .map_err(|e| AppError::internal(format!("stored benchmark {t:?}: {}", e.message())))
    };
    let mut table = BenchmarkTable {
        version: version.to_owned(),
        rows: Default::default(),
    };
    for r in rows {
        table.rows.insert(
            r.division.clone(),
            Benchmark {
                energy_baseline: parse(&r.energy_baseline)?,
                waste_baseline: parse(&r.waste_baseline)?,
                waste_leading: parse(&r.waste_leading)?,
                division: r.division,
                name_zh: r.name_zh,
                name_en: r.name_en,
            },
        );
    }
    let table = Arc::new(table);
    caches.benchmarks.put(table.clone());
    Ok(Some(table))
}

/// The table grades are computed with now: the newest published version.
pub async fn in_force<C: ConnectionTrait>(
    db: &C,
    caches: &Caches,
) -> AppResult<Arc<BenchmarkTable>> {
    let newest = set::Entity::find()
        .order_by_desc(set::Column::PublishedAt)
        .order_by_desc(set::Column::Version)
        .one(db)
        .await?;
    match newest {
        Some(s) => by_version(db, caches, &s.version)
            .await?
            .ok_or_else(|| AppError::internal("benchmark set vanished")),
        None => Ok(Arc::new(BenchmarkTable::default_table().clone())),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BenchmarkSetView {
    pub version: String,
    pub published_at: DateTime<Utc>,
    pub in_force: bool,
    pub rows: Vec<Benchmark>,
}

pub async fn view(db: &Db, caches: &Caches, version: &str) -> AppResult<BenchmarkSetView> {
    let record = set::Entity::find_by_id(version)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let table = by_version(db, caches, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = in_force(db, caches).await?;
    Ok(BenchmarkSetView {
        version: record.version,
        published_at: record.published_at,
        in_force: current.version == version,
        rows: table.rows.values().cloned().collect(),
    })
}

pub async fn list(db: &Db) -> AppResult<Vec<(String, DateTime<Utc>)>> {
    Ok(set::Entity::find()
        .order_by_asc(set::Column::PublishedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.version, s.published_at))
        .collect())
}

/// A table version's name as given (trimmed): 1 to 40 letters, digits, spaces, '.', '-', '_'.
pub fn version_name(version: &str) -> AppResult<String> {
    let version = version.trim();
    if version.is_empty()
        || version.len() > 40
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " .-_".contains(c))
    {
        return Err(AppError::field_fault(
            crate::grading::Fault::Characters,
            "version",
            "must be 1 to 40 letters, digits, spaces, '.', '-' or '_'",
        ));
    }
    Ok(version.to_owned())
}

/// Publishes a new version from CSV: validated line by line, never replacing a version.
pub async fn publish(
    db: &Db,
    caches: &Caches,
    actor: &Actor,
    actor_id: Option<crate::store::ids::AccountId>,
    version: &str,
    csv: &[u8],
) -> AppResult<BenchmarkSetView> {
    let version = version_name(version)?;
    let version = version.as_str();
    let table = BenchmarkTable::from_csv(version, csv).map_err(|errors| AppError::Invalid {
        detail: format!(
            "the table was refused: {} fault(s), the first: {}",
            errors.len(),
            errors.first().map(ToString::to_string).unwrap_or_default()
        ),
        errors: errors
            .iter()
            .map(|e| serde_json::json!({"line": e.line, "column": e.column, "message": e.message}))
            .collect(),
    })?;
    audited(db, actor, async |txn, now| {
        if set::Entity::find_by_id(version).one(txn).await?.is_some() {
            return Err(AppError::Conflict(
                crate::error::Conflict::Exists,
                format!("version {version} is already published"),
            ));
        }
        insert_table(txn, &table, actor_id, now).await?;
        let change = Change {
            action: "benchmarks.publish",
            target_type: "benchmark_set",
            target_id: version.to_owned(),
            before: None,
            after: Some(serde_json::json!({"version": version, "divisions": table.rows.len()})),
        };
        Ok(Audited::one((), change))
    })
    .await?;
    view(db, caches, version).await
}
