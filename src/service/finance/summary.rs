//! What the code did for green finance, for regulators: applications and amounts by grade,
//! industry or district.

use super::applications::application_views;
use super::products::fixed;
use crate::db::Db;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::grading::decimal::Fixed;
use crate::service::accounts::{Caller, Role};
use crate::store::applications::{self, ApplicationStatus};
use crate::store::firms;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    pub key: String,
    pub applications: u64,
    pub approved: u64,
    /// The approved amounts, summed exactly.
    pub amount_10k_cny: String,
    /// The mean rate step of the approvals, to one decimal; absent without approvals.
    pub avg_rate_step_bp: Option<String>,
    /// Grants paid in the year under support policies (政策兑现), by the firm's district,
    /// division or current grade (none by bank).
    pub grants_paid_10k_cny: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub by: String,
    pub period: i32,
    pub rows: Vec<SummaryRow>,
}

/// What the code did for green finance in a year (applications made in it, China time),
/// grouped by the attached code's grade, the firm's district or division, or the bank.
pub async fn summary(db: &Db, caller: &Caller, by: &str, period: i32) -> AppResult<Summary> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    if !["grade", "district", "division", "bank"].contains(&by) {
        return Err(AppError::field_fault(
            crate::grading::Fault::OneOf,
            "by",
            "must be grade, district, division or bank",
        ));
    }
    if !(1990..=2100).contains(&period) {
        return Err(AppError::fault("period", Fault::Year));
    }
    let start = NaiveDate::from_ymd_opt(period, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| AppError::fault("period", Fault::Year))?
        .and_utc()
        - chrono::Duration::hours(8);
    let end = start
        + chrono::Duration::days(if NaiveDate::from_ymd_opt(period, 2, 29).is_some() {
            366
        } else {
            365
        });
    let list = applications::Entity::find()
        .filter(applications::Column::CreatedAt.gte(start))
        .filter(applications::Column::CreatedAt.lt(end))
        .all(db)
        .await?;
    let views = application_views(db, &list).await?;
    let firms = firms::by_ids(db, list.iter().map(|a| a.firm_id)).await?;
    let mut groups: BTreeMap<String, (u64, u64, Fixed, i64, u64)> = BTreeMap::new();
    for (a, v) in list.iter().zip(&views) {
        let firm = firms.get(&a.firm_id);
        let key = match by {
            "grade" => v.grade.as_str().to_owned(),
            "district" => firm.map(|f| f.district.clone()).unwrap_or_default(),
            "division" => firm
                .and_then(|f| f.industry_code.get(..2).map(str::to_owned))
                .unwrap_or_default(),
            _ => v.bank.clone(),
        };
        let entry = groups.entry(key).or_insert((0, 0, Fixed::integer(0), 0, 0));
        entry.0 += 1;
        if a.status == ApplicationStatus::Approved {
            entry.1 += 1;
            if let Some(amount) = a.decision_amount_10k_cny.as_deref().and_then(fixed) {
                entry.2 = entry.2 + amount;
            }
            if let Some(step) = a.decision_rate_step_bp {
                entry.3 += i64::from(step);
                entry.4 += 1;
            }
        }
    }
    let grants = crate::service::awards::paid_by(db, by, period).await?;
    for key in grants.keys() {
        groups
            .entry(key.clone())
            .or_insert((0, 0, Fixed::integer(0), 0, 0));
    }
    Ok(Summary {
        by: by.to_owned(),
        period,
        rows: groups
            .into_iter()
            .map(|(key, (n, approved, amount, steps, counted))| SummaryRow {
                grants_paid_10k_cny: grants
                    .get(&key)
                    .copied()
                    .unwrap_or(Fixed::integer(0))
                    .normalised(),
                key,
                applications: n,
                approved,
                amount_10k_cny: amount.normalised(),
                avg_rate_step_bp: (counted > 0).then(|| {
                    Fixed::integer(i128::from(steps))
                        .div_round(Fixed::integer(i128::from(counted)), 1)
                        .fixed_text()
                }),
            })
            .collect(),
    })
}
