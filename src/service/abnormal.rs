//! Abnormal data (动态管理): a submission checked against the firm's previous approved year and
//! its industry — energy intensity or value added changing by more than the regulator's
//! thresholds, an energy carrier appearing or vanishing, an intensity below a share of the
//! industry's baseline. A flagged submission says why on the firm's desk and in the queue, and is
//! approved only with the regulator's record of a check. (Waste utilised above generated plus
//! stock never reaches here: methodology §1 refuses it at input.)

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::grading::Trace;
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::service::settings::Setting;
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::ids::FirmId;

/// The regulator's thresholds, per cent (at most one decimal place).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbnormalSettings {
    /// Energy intensity (tce per 10,000 CNY) changing by more than this from the previous
    /// approved year (default "30").
    pub intensity_change_percent: String,
    /// Value added changing by more than this (default "50").
    pub value_added_change_percent: String,
    /// Energy intensity below this share of the industry's baseline (default "10": a tenth).
    pub intensity_floor_percent: String,
}

impl Default for AbnormalSettings {
    fn default() -> Self {
        AbnormalSettings {
            intensity_change_percent: "30".to_owned(),
            value_added_change_percent: "50".to_owned(),
            intensity_floor_percent: "10".to_owned(),
        }
    }
}

impl Setting for AbnormalSettings {
    const KEY: &'static str = "abnormal";

    fn check(&mut self) -> AppResult<()> {
        for (field, value, max) in [
            (
                "intensity_change_percent",
                &mut self.intensity_change_percent,
                1000,
            ),
            (
                "value_added_change_percent",
                &mut self.value_added_change_percent,
                1000,
            ),
            (
                "intensity_floor_percent",
                &mut self.intensity_floor_percent,
                100,
            ),
        ] {
            let parsed = parse_decimal(value.trim())
                .ok()
                .filter(|d| d.scale() <= 1 && *d <= rust_decimal::Decimal::from(max))
                .ok_or_else(|| {
                    AppError::field_fault(
                        Fault::Range,
                        field,
                        format!(
                            "must be a per cent from 0 to {max} with at most one decimal place"
                        ),
                    )
                })?;
            *value = crate::grading::decimal::normalised(parsed);
        }
        Ok(())
    }
}

fn percent(text: &str, default: i128) -> Fixed {
    parse_decimal(text)
        .map(Fixed::from)
        .unwrap_or(Fixed::integer(default))
}

/// One thing found abnormal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    /// `intensity_change`, `value_added_change`, `carrier_appeared`, `carrier_vanished` or
    /// `intensity_floor`.
    pub check: String,
    /// The carrier, for the carrier checks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub carrier: Option<String>,
    /// The figure before (the previous approved year's, or the industry's baseline) and now.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub now: Option<String>,
    /// The change (or the share of the baseline), per cent to one decimal.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub percent: Option<String>,
    /// The reporting year compared with.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous_period: Option<i32>,
}

/// Every check on a trace, against the previous approved year's trace when there is one.
pub fn findings(trace: &Trace, previous: Option<&Trace>, s: &AbnormalSettings) -> Vec<Finding> {
    let zero = Fixed::integer(0);
    let hundred = Fixed::integer(100);
    let fixed = |t: &str| parse_decimal(t).map(Fixed::from).unwrap_or(zero);
    let change = |before: Fixed, now: Fixed| -> Option<Fixed> {
        (!before.is_zero()).then(|| (now - before).div_round(before, 6) * hundred)
    };
    let mut out = Vec::new();
    if let Some(prev) = previous {
        let prev_period = Some(i32::from(prev.period));
        for (check, before, now, limit) in [
            (
                "intensity_change",
                &prev.energy.intensity,
                &trace.energy.intensity,
                percent(&s.intensity_change_percent, 30),
            ),
            (
                "value_added_change",
                &prev.energy.value_added_10k_cny,
                &trace.energy.value_added_10k_cny,
                percent(&s.value_added_change_percent, 50),
            ),
        ] {
            if let Some(pct) = change(fixed(before), fixed(now))
                && (pct > limit || pct < zero - limit)
            {
                out.push(Finding {
                    check: check.to_owned(),
                    carrier: None,
                    before: Some(before.clone()),
                    now: Some(now.clone()),
                    percent: Some(pct.round(1).fixed_text()),
                    previous_period: prev_period,
                });
            }
        }
        let used = |t: &Trace| -> Vec<String> {
            t.energy
                .entries
                .iter()
                .filter(|e| !fixed(&e.quantity).is_zero())
                .map(|e| e.carrier.clone())
                .collect()
        };
        let (then, now) = (used(prev), used(trace));
        for c in now.iter().filter(|c| !then.contains(c)) {
            out.push(Finding {
                check: "carrier_appeared".to_owned(),
                carrier: Some(c.clone()),
                before: None,
                now: None,
                percent: None,
                previous_period: prev_period,
            });
        }
        for c in then.iter().filter(|c| !now.contains(c)) {
            out.push(Finding {
                check: "carrier_vanished".to_owned(),
                carrier: Some(c.clone()),
                before: None,
                now: None,
                percent: None,
                previous_period: prev_period,
            });
        }
    }
    let baseline = fixed(&trace.energy.baseline);
    let intensity = fixed(&trace.energy.intensity);
    if !baseline.is_zero() {
        let share = intensity.div_round(baseline, 6) * hundred;
        if share < percent(&s.intensity_floor_percent, 10) {
            out.push(Finding {
                check: "intensity_floor".to_owned(),
                carrier: None,
                before: Some(trace.energy.baseline.clone()),
                now: Some(trace.energy.intensity.clone()),
                percent: Some(share.round(1).fixed_text()),
                previous_period: None,
            });
        }
    }
    out
}

/// The newest approved assessment's trace of each firm for a year before `year`.
pub async fn previous_traces<C: ConnectionTrait>(
    db: &C,
    firms: &[FirmId],
    year: i32,
) -> AppResult<HashMap<FirmId, Trace>> {
    let mut out: HashMap<FirmId, (i32, Trace)> = HashMap::new();
    for part in firms.chunks(500) {
        for a in assessments::Entity::find()
            .filter(assessments::Column::FirmId.is_in(part.to_vec()))
            .filter(assessments::Column::Status.eq(AssessmentStatus::Approved))
            .filter(assessments::Column::Period.lt(year))
            .order_by_asc(assessments::Column::Id)
            .all(db)
            .await?
        {
            if out.get(&a.firm_id).is_some_and(|(p, _)| *p > a.period) {
                continue;
            }
            if let Ok(trace) = serde_json::from_str::<Trace>(&a.trace) {
                out.insert(a.firm_id, (a.period, trace));
            }
        }
    }
    Ok(out.into_iter().map(|(k, (_, t))| (k, t)).collect())
}

/// The findings of one submission, with the settings in force.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    firm: FirmId,
    trace: &Trace,
) -> AppResult<Vec<Finding>> {
    let settings = crate::service::settings::get::<AbnormalSettings, _>(db).await?;
    let previous = previous_traces(db, &[firm], i32::from(trace.period)).await?;
    Ok(findings(trace, previous.get(&firm), &settings))
}

/// The findings kept on an assessment.
pub fn of(a: &assessments::Model) -> Vec<Finding> {
    a.abnormal
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// The regulator's record of a check of abnormal data: what was checked, when, and whether on
/// site.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRecord {
    pub note: String,
    /// YYYY-MM-DD, not after today.
    pub date: String,
    #[serde(default)]
    pub on_site: bool,
}

impl CheckRecord {
    /// Checked at the boundary: a note of 1 to 2,000 characters, a date not in the future.
    pub fn checked(mut self) -> AppResult<CheckRecord> {
        self.note = crate::service::text::note("check.note", &self.note, 2000)?;
        let date = chrono::NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::fault("check.date", Fault::Date))?;
        if date > crate::service::records::today() {
            return Err(AppError::field_fault(
                Fault::Range,
                "check.date",
                "must not be after today",
            ));
        }
        self.date = date.to_string();
        Ok(self)
    }
}
