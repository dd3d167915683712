//! The benchmark table in force (methodology §5).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::error::AppResult;
use crate::grading::BenchmarkTable;

/// The table grades are computed with now: the newest published version, or GEC-B 2025.1.
pub async fn in_force(_db: &DatabaseConnection) -> AppResult<Arc<BenchmarkTable>> {
    Ok(Arc::new(BenchmarkTable::default_table().clone()))
}
