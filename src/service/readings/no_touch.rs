//! 无感申报 (no-touch filing): a firm whose figures for a year all came from data sources is
//! graded from them alone — the §1 input built from the attested figures, submitted on the
//! regulator's word and reviewed and approved like any submission.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::{Attested, attested};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::service::accounts::{Caller, Role};
use crate::service::assessments::{self, AssessmentRequest, AssessmentView};
use crate::store::{assessments as stored, firms, readings};

/// The figures a filing cannot do without: value added, some energy, the waste generated and
/// utilised (the stock utilised and green power are 0 when no source gave them).
const NEEDED: [&str; 3] = [
    "value_added_10k_cny",
    "waste_generated_t",
    "waste_utilized_t",
];

/// The §1 input from a year's attested figures (the first source of each field), or the
/// fields still missing.
pub fn input_from(
    uscc: &str,
    year: i32,
    figures: &[Attested],
) -> Result<serde_json::Value, Vec<String>> {
    let mut first: HashMap<&str, &str> = HashMap::new();
    for a in figures {
        first.entry(a.field.as_str()).or_insert(a.quantity.as_str());
    }
    let energy: Vec<serde_json::Value> = crate::grading::energy::Carrier::ALL
        .iter()
        .filter_map(|c| {
            first
                .get(c.name())
                .map(|q| serde_json::json!({"carrier": c.name(), "quantity": q}))
        })
        .collect();
    let mut missing: Vec<String> = NEEDED
        .iter()
        .filter(|f| !first.contains_key(**f))
        .map(|f| (*f).to_owned())
        .collect();
    if energy.is_empty() {
        missing.insert(0, "energy".to_owned());
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut input = serde_json::json!({
        "uscc": uscc,
        "period": year,
        "value_added_10k_cny": first["value_added_10k_cny"],
        "energy": energy,
        "waste": {
            "generated_t": first["waste_generated_t"],
            "utilized_t": first["waste_utilized_t"],
            "stock_utilized_t": first.get("waste_stock_utilized_t").copied().unwrap_or("0"),
        },
    });
    if let Some(green) = first.get("green_power_kwh") {
        input["green_power_kwh"] = serde_json::json!(green);
    }
    Ok(input)
}

/// Files a firm's year from its attested figures alone (regulators).
pub async fn file(
    db: &Db,
    caches: &crate::service::cache::Caches,
    caller: &Caller,
    uscc: &str,
    year: i32,
) -> AppResult<AssessmentView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let figures = attested(db, uscc, year).await?;
    let input = input_from(uscc, year, &figures).map_err(|missing| {
        AppError::field_fault(
            Fault::Required,
            "readings",
            format!(
                "not every figure of {year} came from a data source: missing {}",
                missing.join(", ")
            ),
        )
    })?;
    let request: AssessmentRequest = serde_json::from_value(input).map_err(AppError::internal)?;
    assessments::submit(db, caches, caller, &request).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Incomplete {
    pub uscc: String,
    /// The fields no source delivered (or why the filing was refused).
    pub missing: Vec<String>,
}

/// What a run over every firm did.
#[derive(Default, Serialize, utoipa::ToSchema)]
pub struct NoTouchReport {
    /// Firms filed from their attested figures (each now under review).
    pub filed: Vec<AssessmentView>,
    /// Firms with some attested figures but not all, with what is missing.
    pub incomplete: Vec<Incomplete>,
    /// Firms that had already filed the year.
    pub already_filed: u32,
}

/// Files, for every registered firm with readings of `year` and no filing of it, the year from
/// its attested figures; one firm's refusal does not stop the others.
pub async fn file_all(
    db: &Db,
    caches: &crate::service::cache::Caches,
    caller: &Caller,
    year: i32,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> AppResult<NoTouchReport> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let usccs: Vec<String> = readings::Entity::find()
        .select_only()
        .column(readings::Column::Uscc)
        .distinct()
        .filter(readings::Column::Year.eq(year))
        .into_tuple()
        .all(db)
        .await?;
    let mut report = NoTouchReport::default();
    let total = usccs.len();
    for (i, uscc) in usccs.into_iter().enumerate() {
        progress(i, total);
        let Some(firm) = firms::find_by_uscc(db, &uscc).await? else {
            continue;
        };
        let filed = stored::Entity::find()
            .filter(stored::Column::FirmId.eq(firm.id))
            .filter(stored::Column::Period.eq(year))
            .filter(stored::Column::Status.ne(stored::AssessmentStatus::Rejected))
            .one(db)
            .await?;
        if filed.is_some() {
            report.already_filed += 1;
            continue;
        }
        let figures = attested(db, &uscc, year).await?;
        match input_from(&uscc, year, &figures) {
            Err(missing) => report.incomplete.push(Incomplete { uscc, missing }),
            Ok(input) => {
                let request: AssessmentRequest =
                    serde_json::from_value(input).map_err(AppError::internal)?;
                match assessments::submit(db, caches, caller, &request).await {
                    Ok(view) => report.filed.push(view),
                    Err(AppError::Validation { message, .. }) => {
                        report.incomplete.push(Incomplete {
                            uscc,
                            missing: vec![message],
                        })
                    }
                    Err(other) => return Err(other),
                }
            }
        }
    }
    progress(total, total);
    Ok(report)
}
