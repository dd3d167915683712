//! Carbon efficiency across the firms, for regulators: for each district or industry division,
//! how many firms hold each carbon level (methodology §10) and their emissions and value added
//! summed exactly, with the group's intensity — from the assessments the codes in force stand
//! on, as recorded.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::service::accounts::{Caller, Role};
use crate::store::codes::{self, CodeStatus};
use crate::store::{assessments, firms};

/// Ids a statement at a time (well inside SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 10_000;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CarbonRow {
    /// The district, or the GB/T 4754 division.
    pub key: String,
    /// Firms holding a code in force whose assessment has a carbon level.
    pub firms: u64,
    /// Of them, how many at level 1, 2, 3, 4 and 5.
    pub levels: [u64; 5],
    /// Their CO₂ (t), summed exactly.
    pub total_tco2: String,
    /// Their value added (10,000 CNY), summed exactly.
    pub value_added_10k_cny: String,
    /// The group's CO₂ per 10,000 CNY of value added, 6 places.
    pub intensity: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CarbonOverview {
    pub by: String,
    pub rows: Vec<CarbonRow>,
    /// Firms holding a code in force whose assessment has no carbon level yet (made before
    /// §10; `gec regrade --carbon`).
    pub without_level: u64,
}

/// The members of a carbon trace the overview reads.
#[derive(Deserialize)]
struct Figures {
    total_tco2: String,
    value_added_10k_cny: String,
    level: u8,
}

fn decimal(text: &str) -> Fixed {
    parse_decimal(text).map_or(Fixed::integer(0), Fixed::from)
}

/// The overview by `district` or `division`. Who may call it: regulator.
pub async fn overview<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    by: &str,
) -> AppResult<CarbonOverview> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    if !["district", "division"].contains(&by) {
        return Err(AppError::field_fault(
            crate::grading::Fault::OneOf,
            "by",
            "must be district or division",
        ));
    }
    let graded = firms::Entity::find()
        .filter(firms::Column::CurrentSerial.is_not_null())
        .all(db)
        .await?;
    let serials: Vec<i64> = graded.iter().filter_map(|f| f.current_serial).collect();
    // The assessment each code in force stands on.
    let mut standing: HashMap<i64, i64> = HashMap::new();
    let now = chrono::Utc::now().timestamp();
    for part in serials.chunks(CHUNK) {
        let rows: Vec<(i64, i64, CodeStatus, i64)> = codes::Entity::find()
            .select_only()
            .column(codes::Column::Serial)
            .column(codes::Column::AssessmentId)
            .column(codes::Column::Status)
            .column(codes::Column::Exp)
            .filter(codes::Column::Serial.is_in(part.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        for (serial, assessment, status, exp) in rows {
            if status == CodeStatus::Active && exp > now {
                standing.insert(serial, assessment);
            }
        }
    }
    let ids: Vec<i64> = standing.values().copied().collect();
    let mut figures: HashMap<i64, Figures> = HashMap::new();
    for part in ids.chunks(CHUNK) {
        let rows: Vec<(i64, Option<String>)> = assessments::Entity::find()
            .select_only()
            .column(assessments::Column::Id)
            .column(assessments::Column::CarbonTrace)
            .filter(assessments::Column::Id.is_in(part.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, trace) in rows {
            if let Some(f) = trace.and_then(|t| serde_json::from_str::<Figures>(&t).ok()) {
                figures.insert(id, f);
            }
        }
    }
    let mut groups: BTreeMap<String, ([u64; 5], Fixed, Fixed)> = BTreeMap::new();
    let mut without_level = 0;
    for firm in &graded {
        let Some(assessment) = firm.current_serial.and_then(|s| standing.get(&s)) else {
            continue;
        };
        let Some(f) = figures
            .get(assessment)
            .filter(|f| (1..=5).contains(&f.level))
        else {
            without_level += 1;
            continue;
        };
        let key = match by {
            "district" => firm.district.clone(),
            _ => firm.industry_code.get(..2).unwrap_or_default().to_owned(),
        };
        let entry = groups
            .entry(key)
            .or_insert(([0; 5], Fixed::new(0, 4), Fixed::integer(0)));
        entry.0[usize::from(f.level - 1)] += 1;
        entry.1 = entry.1 + decimal(&f.total_tco2);
        entry.2 = entry.2 + decimal(&f.value_added_10k_cny);
    }
    Ok(CarbonOverview {
        by: by.to_owned(),
        rows: groups
            .into_iter()
            .map(|(key, (levels, co2, value_added))| CarbonRow {
                key,
                firms: levels.iter().sum(),
                levels,
                total_tco2: co2.fixed_text(),
                value_added_10k_cny: value_added.normalised(),
                intensity: if value_added.is_zero() {
                    "0.000000".to_owned()
                } else {
                    co2.div_round(value_added, 6).fixed_text()
                },
            })
            .collect(),
        without_level,
    })
}
