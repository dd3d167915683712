//! The regulator's overview (动态管理) by district and by industry division: the firms holding a
//! code per grade, their mean energy intensity against the division's baseline (from the trace
//! of the assessment behind each code), and the trend of grades over the reporting years.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::db::Db;
use crate::error::AppResult;
use crate::grading::Grade;
use crate::grading::decimal::parse_decimal;
use crate::service::accounts::{Caller, Role};
use crate::store::assessments;
use crate::store::codes::{self, CodeStatus};
use crate::store::columns::StoredGrade;
use crate::store::firms;
use crate::store::ids::FirmId;

/// Firms per grade, A+ to D.
pub type GradeCounts = [u64; 5];

fn slot(grade: Grade) -> usize {
    Grade::ALL.iter().position(|g| *g == grade).unwrap_or(4)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GroupRow {
    /// The district, or the two-digit division.
    pub key: String,
    pub firms: u64,
    /// Firms per grade, A+, A, B, C, D.
    #[schema(value_type = Vec<u64>)]
    pub grades: GradeCounts,
    /// The mean of each firm's energy intensity ÷ its division's baseline (methodology §2's
    /// `ratio`), 4 decimals; 1 is the baseline.
    pub mean_ratio: Option<String>,
    /// For a division: the mean energy intensity (tce per 10,000 CNY), 6 decimals, and the
    /// baseline.
    pub mean_intensity: Option<String>,
    pub baseline: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct YearRow {
    pub period: i32,
    pub firms: u64,
    #[schema(value_type = Vec<u64>)]
    pub grades: GradeCounts,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub by_division: Vec<GroupRow>,
    pub by_district: Vec<GroupRow>,
    /// Per reporting year, each firm counted once with the grade of its latest code for the
    /// year (revoked codes left out); only the district or division asked, if any.
    pub trend: Vec<YearRow>,
}

#[derive(Default)]
struct Sums {
    firms: u64,
    grades: GradeCounts,
    ratio: Decimal,
    intensity: Decimal,
    traced: u64,
    baseline: Option<String>,
}

impl Sums {
    fn row(self, key: String, division: bool) -> GroupRow {
        let mean = |sum: Decimal, places: u32| {
            (self.traced > 0).then(|| {
                (sum / Decimal::from(self.traced))
                    .round_dp(places)
                    .to_string()
            })
        };
        GroupRow {
            key,
            firms: self.firms,
            grades: self.grades,
            mean_ratio: mean(self.ratio, 4),
            mean_intensity: if division {
                mean(self.intensity, 6)
            } else {
                None
            },
            baseline: if division { self.baseline } else { None },
        }
    }
}

/// The overview; the trend only for `district` or `division` when given.
pub async fn overview(
    db: &Db,
    caller: &Caller,
    district: Option<&str>,
    division: Option<&str>,
) -> AppResult<Overview> {
    caller.must_be(Role::Regulator)?;
    let mut by_division: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_district: BTreeMap<String, Sums> = BTreeMap::new();
    let mut where_is: HashMap<FirmId, (String, String)> = HashMap::new();
    let mut after = 0i64;
    loop {
        let page = firms::Entity::find()
            .filter(firms::Column::Id.gt(after))
            .order_by_asc(firms::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id.0;
        let serials: Vec<i64> = page.iter().filter_map(|f| f.current_serial).collect();
        let assessment_of: HashMap<i64, i64> = codes::Entity::find()
            .select_only()
            .column(codes::Column::Serial)
            .column(codes::Column::AssessmentId)
            .filter(codes::Column::Serial.is_in(serials))
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let traces: HashMap<i64, String> = assessments::Entity::find()
            .select_only()
            .column(assessments::Column::Id)
            .column(assessments::Column::Trace)
            .filter(assessments::Column::Id.is_in(assessment_of.values().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for firm in &page {
            let division: String = firm.industry_code.chars().take(2).collect();
            where_is.insert(firm.id, (firm.district.clone(), division.clone()));
            let (Some(serial), Some(StoredGrade(grade))) =
                (firm.current_serial, firm.current_grade)
            else {
                continue;
            };
            let energy = assessment_of
                .get(&serial)
                .and_then(|id| traces.get(id))
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .map(|t| t["energy"].clone());
            let figure = |name: &str| {
                energy
                    .as_ref()
                    .and_then(|e| e[name].as_str())
                    .and_then(|s| parse_decimal(s).ok())
            };
            let (ratio, intensity) = (figure("ratio"), figure("intensity"));
            let baseline = energy
                .as_ref()
                .and_then(|e| e["baseline"].as_str())
                .map(str::to_owned);
            for sums in [
                by_division.entry(division.clone()).or_default(),
                by_district.entry(firm.district.clone()).or_default(),
            ] {
                sums.firms += 1;
                sums.grades[slot(grade)] += 1;
                if let (Some(r), Some(i)) = (ratio, intensity) {
                    sums.ratio += r;
                    sums.intensity += i;
                    sums.traced += 1;
                }
                if sums.baseline.is_none() {
                    sums.baseline.clone_from(&baseline);
                }
            }
        }
    }
    // The trend: each firm's latest code of each year, not revoked.
    let mut latest: HashMap<(FirmId, i32), (i64, Grade)> = HashMap::new();
    let mut after = -1i64;
    loop {
        let rows: Vec<(i64, FirmId, i32, StoredGrade, CodeStatus)> = codes::Entity::find()
            .select_only()
            .column(codes::Column::Serial)
            .column(codes::Column::FirmId)
            .column(codes::Column::Period)
            .column(codes::Column::Grade)
            .column(codes::Column::Status)
            .filter(codes::Column::Serial.gt(after))
            .order_by_asc(codes::Column::Serial)
            .limit(5000)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (serial, firm_id, period, grade, status) in rows {
            if status == CodeStatus::Revoked {
                continue;
            }
            let Some((d, v)) = where_is.get(&firm_id) else {
                continue;
            };
            if district.is_some_and(|x| x != d) || division.is_some_and(|x| x != v) {
                continue;
            }
            let entry = latest.entry((firm_id, period)).or_insert((serial, grade.0));
            if serial >= entry.0 {
                *entry = (serial, grade.0);
            }
        }
    }
    let mut trend: BTreeMap<i32, YearRow> = BTreeMap::new();
    for ((_, period), (_, grade)) in latest {
        let row = trend.entry(period).or_insert(YearRow {
            period,
            firms: 0,
            grades: [0; 5],
        });
        row.firms += 1;
        row.grades[slot(grade)] += 1;
    }
    Ok(Overview {
        by_division: by_division
            .into_iter()
            .map(|(k, s)| s.row(k, true))
            .collect(),
        by_district: by_district
            .into_iter()
            .map(|(k, s)| s.row(k, false))
            .collect(),
        trend: trend.into_values().collect(),
    })
}
