//! The carbon tables of methodology §10 as published versions: GEC-CF 2025.1, GEC-GF 2023 and
//! GEC-CB 2025.1 are the first; a regulator publishes a newer version of one kind (confirmed
//! fuel factors, next year's grid factors, the province's own carbon baselines); carbon is
//! computed with the newest of each kind, every carbon trace names the three versions it used,
//! and every version stays readable so that any carbon trace can be computed again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};
use serde::Serialize;

use super::cache::Caches;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::carbon::{self, CarbonTables};
use crate::service::write::{Audited, audited};
use crate::store::audit::{Actor, Change};
use crate::store::carbon_tables as table;

/// The three kinds, in the order of a carbon trace's versions.
pub const KINDS: [&str; 3] = ["fuel", "grid", "benchmark"];

fn default_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "fuel" => (carbon::FUEL_FACTORS, carbon::FUEL_CSV),
        "grid" => (carbon::GRID_FACTORS, carbon::GRID_CSV),
        _ => (carbon::CARBON_BENCHMARKS, carbon::BENCHMARK_CSV),
    }
}

/// Records the compiled-in versions as the first published ones, where a kind has none yet.
pub async fn seed_default(db: &Db) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    for kind in KINDS {
        let (version, csv) = default_of(kind);
        if table::Entity::find_by_id((kind.to_owned(), version.to_owned()))
            .one(&txn)
            .await?
            .is_none()
        {
            table::Entity::insert(table::ActiveModel {
                kind: Set(kind.to_owned()),
                version: Set(version.to_owned()),
                source_csv: Set(csv.to_owned()),
                published_by: Set(None),
                published_at: Set(DateTime::UNIX_EPOCH),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// The tables of three named versions, or `None` when one of them is not on record.
pub async fn by_versions<C: ConnectionTrait>(
    db: &C,
    caches: &Caches,
    versions: [&str; 3],
) -> AppResult<Option<Arc<CarbonTables>>> {
    let key = versions.join("\n");
    if let Some(tables) = caches.carbon.get(&key) {
        return Ok(Some(tables));
    }
    let mut texts = Vec::with_capacity(3);
    for (kind, version) in KINDS.iter().zip(versions) {
        match table::Entity::find_by_id(((*kind).to_owned(), version.to_owned()))
            .one(db)
            .await?
        {
            Some(row) => texts.push(row.source_csv),
            // The compiled-in versions, also where they are not recorded yet.
            None if default_of(kind).0 == version => texts.push(default_of(kind).1.to_owned()),
            None => return Ok(None),
        }
    }
    let tables = CarbonTables::from_csv(&texts[0], &texts[1], &texts[2])
        .map_err(|e| AppError::internal(format!("stored carbon tables: {e}")))?
        .named(versions[0], versions[1], versions[2]);
    let tables = Arc::new(tables);
    caches.carbon.put(key, tables.clone());
    Ok(Some(tables))
}

/// The newest published version of each kind.
async fn newest<C: ConnectionTrait>(db: &C) -> AppResult<[String; 3]> {
    let rows: Vec<(String, String)> = table::Entity::find()
        .select_only()
        .column(table::Column::Kind)
        .column(table::Column::Version)
        .order_by_desc(table::Column::PublishedAt)
        .order_by_desc(table::Column::Version)
        .into_tuple()
        .all(db)
        .await?;
    Ok(KINDS.map(|kind| {
        rows.iter()
            .find(|(k, _)| k == kind)
            .map_or_else(|| default_of(kind).0.to_owned(), |(_, v)| v.clone())
    }))
}

/// The tables carbon is computed with now: the newest published version of each kind (the
/// compiled-in ones before any is recorded).
pub async fn in_force<C: ConnectionTrait>(db: &C, caches: &Caches) -> AppResult<Arc<CarbonTables>> {
    let [fuel, grid, benchmark] = newest(db).await?;
    match by_versions(db, caches, [&fuel, &grid, &benchmark]).await? {
        Some(tables) => Ok(tables),
        None => Ok(Arc::new(CarbonTables::default_tables().clone())),
    }
}

/// The tables a stored carbon trace names (its `fuel_factors`, `grid_factors` and
/// `carbon_benchmarks`), or `None` when one is not on record.
pub async fn of_trace<C: ConnectionTrait>(
    db: &C,
    caches: &Caches,
    trace: &serde_json::Value,
) -> AppResult<Option<Arc<CarbonTables>>> {
    let name = |member: &str| trace[member].as_str().unwrap_or_default().to_owned();
    let (fuel, grid, benchmark) = (
        name("fuel_factors"),
        name("grid_factors"),
        name("carbon_benchmarks"),
    );
    by_versions(db, caches, [&fuel, &grid, &benchmark]).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CarbonTableVersion {
    /// `fuel`, `grid` or `benchmark`.
    pub kind: String,
    pub version: String,
    pub published_at: DateTime<Utc>,
    pub in_force: bool,
}

/// Every published version, oldest first, each marked when it is in force.
pub async fn list(db: &Db) -> AppResult<Vec<CarbonTableVersion>> {
    let in_force = newest(db).await?;
    let rows: Vec<(String, String, DateTime<Utc>)> = table::Entity::find()
        .select_only()
        .column(table::Column::Kind)
        .column(table::Column::Version)
        .column(table::Column::PublishedAt)
        .order_by_asc(table::Column::PublishedAt)
        .order_by_asc(table::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, version, published_at)| CarbonTableVersion {
            in_force: KINDS
                .iter()
                .position(|k| *k == kind)
                .is_some_and(|i| in_force[i] == version),
            kind,
            version,
            published_at,
        })
        .collect())
}

/// One version's CSV text, as published.
pub async fn csv(db: &Db, kind: &str, version: &str) -> AppResult<String> {
    Ok(
        table::Entity::find_by_id((kind.to_owned(), version.to_owned()))
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?
            .source_csv,
    )
}

/// Publishes a new version of one kind from CSV (the columns of the compiled-in table),
/// checked with the other two kinds in force; never replaces a version.
pub async fn publish(
    db: &Db,
    actor: &Actor,
    actor_id: Option<crate::store::ids::AccountId>,
    kind: &str,
    version: &str,
    body: &[u8],
) -> AppResult<CarbonTableVersion> {
    let Some(index) = KINDS.iter().position(|k| *k == kind) else {
        return Err(AppError::field_fault(
            crate::grading::Fault::OneOf,
            "kind",
            "must be fuel, grid or benchmark",
        ));
    };
    let version = crate::service::benchmarks::version_name(version)?;
    let text = std::str::from_utf8(body)
        .map_err(|_| {
            AppError::field_fault(
                crate::grading::Fault::Characters,
                "body",
                "the table is not UTF-8 (save it as CSV UTF-8)",
            )
        })?
        .trim_start_matches('\u{feff}')
        .to_owned();
    // Checked as it will be used: with the other two kinds in force.
    let current = newest(db).await?;
    let mut texts = Vec::with_capacity(3);
    for (i, k) in KINDS.iter().enumerate() {
        if i == index {
            texts.push(text.clone());
        } else {
            texts.push(
                csv(db, k, &current[i])
                    .await
                    .unwrap_or_else(|_| default_of(k).1.to_owned()),
            );
        }
    }
    CarbonTables::from_csv(&texts[0], &texts[1], &texts[2]).map_err(|message| {
        AppError::field_fault(crate::grading::Fault::Unknown, "body", message)
    })?;
    let kind_owned = kind.to_owned();
    let published_at = audited(db, actor, async |txn, now| {
        if table::Entity::find_by_id((kind_owned.clone(), version.clone()))
            .one(txn)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(
                crate::error::Conflict::Exists,
                format!("{kind_owned} table version {version} is already published"),
            ));
        }
        table::Entity::insert(table::ActiveModel {
            kind: Set(kind_owned.clone()),
            version: Set(version.clone()),
            source_csv: Set(text.clone()),
            published_by: Set(actor_id),
            published_at: Set(now),
        })
        .exec_without_returning(txn)
        .await?;
        let change = Change {
            action: "carbon_tables.publish",
            target_type: "carbon_table",
            target_id: format!("{kind_owned}/{version}"),
            before: None,
            after: Some(serde_json::json!({"kind": kind_owned, "version": version})),
        };
        Ok(Audited::one(now, change))
    })
    .await?;
    Ok(CarbonTableVersion {
        kind: kind.to_owned(),
        version,
        published_at,
        in_force: true,
    })
}
