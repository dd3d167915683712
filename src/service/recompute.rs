//! Recomputing an assessment from its stored input with the versions it recorded: the audit
//! of any grade, with the differences field by field.

use crate::db::Db;
use serde::Serialize;
use serde_json::Value;

use super::accounts::Caller;
use super::assessments::visible;
use super::cache::Caches;
use crate::error::{AppError, AppResult};
use crate::grading::{self};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Difference {
    pub path: String,
    #[schema(value_type = Object)]
    pub stored: Value,
    #[schema(value_type = Object)]
    pub recomputed: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recomputed {
    pub id: i64,
    pub benchmarks: String,
    pub stored_hash: String,
    pub recomputed_hash: String,
    #[serde(rename = "match")]
    pub matches: bool,
    pub differences: Vec<Difference>,
    /// The carbon trace (methodology §10) recomputed the same way, when one was kept.
    pub carbon: Option<CarbonRecomputed>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CarbonRecomputed {
    pub stored_hash: String,
    pub recomputed_hash: String,
    #[serde(rename = "match")]
    pub matches: bool,
    pub differences: Vec<Difference>,
}

/// Recomputes an assessment from its stored input with the versions it recorded.
pub async fn recompute(
    db: &Db,
    caches: &Caches,
    caller: &Caller,
    id: i64,
) -> AppResult<Recomputed> {
    let (assessment, _) = visible(db, caller, id).await?;
    let table = super::benchmarks::by_version(db, caches, &assessment.benchmarks)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                crate::error::Conflict::NotReproducible,
                format!(
                    "benchmark version {} is not on record",
                    assessment.benchmarks
                ),
            )
        })?;
    if assessment.methodology != grading::METHODOLOGY {
        return Err(AppError::Conflict(
            crate::error::Conflict::NotReproducible,
            format!(
                "methodology {} is not implemented here",
                assessment.methodology
            ),
        ));
    }
    let input: Value = serde_json::from_str(&assessment.input).map_err(AppError::internal)?;
    let graded = grading::grade_json(&input, &table).map_err(AppError::from)?;
    let stored: Value = serde_json::from_str(&assessment.trace).map_err(AppError::internal)?;
    let mut differences = Vec::new();
    diff("", &stored, &graded.trace.to_json(), &mut differences);
    let carbon = match (&assessment.carbon_trace, &assessment.carbon_hash) {
        (Some(trace), Some(hash)) => {
            let stored: Value = serde_json::from_str(trace).map_err(AppError::internal)?;
            // With the carbon tables the stored trace names.
            let tables = super::carbon_tables::of_trace(db, caches, &stored)
                .await?
                .ok_or_else(|| {
                    AppError::Conflict(
                        crate::error::Conflict::NotReproducible,
                        "a carbon table version the trace names is not on record".to_owned(),
                    )
                })?;
            let again =
                grading::carbon::carbon_json(&input, &table, &tables).map_err(AppError::from)?;
            let mut differences = Vec::new();
            diff("carbon", &stored, &again.trace(), &mut differences);
            Some(CarbonRecomputed {
                matches: &again.trace_hash == hash,
                stored_hash: hash.clone(),
                recomputed_hash: again.trace_hash,
                differences,
            })
        }
        _ => None,
    };
    Ok(Recomputed {
        carbon,
        id,
        benchmarks: assessment.benchmarks,
        matches: graded.trace_hash == assessment.trace_hash,
        stored_hash: assessment.trace_hash,
        recomputed_hash: graded.trace_hash,
        differences,
    })
}

/// The paths at which two JSON documents differ (leaves only).
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<Difference>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff(
                    &p,
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), l, r, out);
            }
        }
        _ if a != b => out.push(Difference {
            path: path.to_owned(),
            stored: a.clone(),
            recomputed: b.clone(),
        }),
        _ => {}
    }
}
