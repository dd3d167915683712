//! §9 The way up (GEC-P 2025.1): for every grade above the one a score earns, the single change
//! in the firm's data that is enough to reach it — the most energy it may use, the least waste
//! it must utilise, which one more certification would do — computed with §2–§4's exact
//! arithmetic on stated grids (every score is monotone in the quantity moved, so bisection over
//! the grid finds the bound exactly), and the date a veto stops counting.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use super::composite::{self, WEIGHT_CERTIFICATION, WEIGHT_ENERGY, WEIGHT_WASTE};
use super::decimal::Fixed;
use super::input::{Assessment, CertificationKind, InputError};
use super::{BenchmarkTable, Grade, energy, waste};

pub const WAY_UP: &str = "GEC-P 2025.1";

const TARGETS: [(Grade, i128); 4] = [
    (Grade::C, 40),
    (Grade::B, 55),
    (Grade::A, 70),
    (Grade::APlus, 85),
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WayUp {
    pub way_up: &'static str,
    pub score: String,
    pub grade: Grade,
    /// The first day on which no counted veto counts any more.
    pub vetoed_until: Option<String>,
    /// Next grade first; empty at A+.
    pub targets: Vec<Target>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Target {
    pub grade: Grade,
    pub threshold: String,
    pub energy: Option<EnergyLever>,
    pub waste: Option<WasteLever>,
    pub certifications: Vec<CertificationLever>,
}

/// Use at most `total_tce` tonnes of coal equivalent (everything else unchanged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnergyLever {
    pub total_tce: String,
    pub cut_tce: String,
    pub cut_percent: String,
}

/// Utilise at least `utilized_t` tonnes of solid waste.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WasteLever {
    pub utilized_t: String,
    pub rate: String,
}

/// One more counted certification of `kind`, and the score it gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CertificationLever {
    pub kind: String,
    pub score: String,
}

/// The largest `n` in `0..=max` with `ok(n)`, for `ok` true up to some point and false after;
/// `None` when not even `ok(0)`.
pub(crate) fn largest(max: i128, ok: impl Fn(i128) -> bool) -> Option<i128> {
    if !ok(0) {
        return None;
    }
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        if ok(mid) { lo = mid } else { hi = mid - 1 }
    }
    Some(lo)
}

/// The smallest `n` in `0..=max` with `ok(n)`, for `ok` false up to some point and true after;
/// `None` when not even `ok(max)`.
pub(crate) fn smallest(max: i128, ok: impl Fn(i128) -> bool) -> Option<i128> {
    if !ok(max) {
        return None;
    }
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

/// The first day a veto that occurred on `day` no longer counts: three years on, where
/// 29 February plus three years is 1 March (on 28 February it still counts, §4).
pub fn veto_ends(day: NaiveDate) -> Option<NaiveDate> {
    if day.month() == 2 && day.day() == 29 {
        NaiveDate::from_ymd_opt(day.year() + 3, 3, 1)
    } else {
        day.checked_add_months(Months::new(36))
    }
}

/// §9 for a checked assessment. Fails only when the table lacks the firm's division.
pub fn way_up(a: &Assessment, table: &BenchmarkTable) -> Result<WayUp, InputError> {
    let graded = super::grade(a, table)?;
    let bench = table
        .get(a.industry_code.division())
        .ok_or_else(|| InputError {
            field: "industry_code".into(),
            message: "division not in the benchmark table".into(),
            kind: super::input::Fault::Unknown,
        })?;
    let (energy_baseline, waste_baseline, waste_leading) = (
        Fixed::from(bench.energy_baseline),
        Fixed::from(bench.waste_baseline),
        Fixed::from(bench.waste_leading),
    );
    let value_added = Fixed::from(a.value_added_10k_cny);
    let current = energy::assess(&a.energy, value_added, energy_baseline);
    let waste_now = waste::assess(&a.waste, waste_baseline, waste_leading);
    let certs = composite::certifications(&a.certifications, a.assessed_on);
    let best = certs
        .counted
        .iter()
        .filter(|(c, _)| c.kind != CertificationKind::NationalGreenPark)
        .map(|&(_, p)| p)
        .max()
        .unwrap_or(0);
    let park = certs
        .counted
        .iter()
        .any(|(c, _)| c.kind == CertificationKind::NationalGreenPark);

    let score_of = |s_energy: Fixed, s_waste: Option<Fixed>, s_cert: Fixed| {
        let mut indicators = vec![(WEIGHT_ENERGY, s_energy)];
        if let Some(s) = s_waste {
            indicators.push((WEIGHT_WASTE, s));
        }
        indicators.push((WEIGHT_CERTIFICATION, s_cert));
        composite::composite(&indicators)
    };
    let energy_score_at = |tce: Fixed| {
        let intensity = tce.div_round(value_added, 6);
        energy::score(intensity.div_round(energy_baseline, 6))
    };

    let denominator = Fixed::from(a.waste.generated_t) + Fixed::from(a.waste.stock_utilized_t);
    // The most hundredths of a tonne that do not exceed the denominator.
    let max_utilized = {
        let n = denominator.units(2);
        if Fixed::new(n, 2) > denominator {
            n - 1
        } else {
            n
        }
    };
    let max_tce = current.total_tce.units(4);

    let mut kinds: Vec<CertificationKind> = CertificationKind::ALL.to_vec();
    kinds.sort_by_key(|k| k.name());

    let targets = TARGETS
        .iter()
        .filter(|(_, threshold)| Fixed::integer(*threshold) > graded.score)
        .map(|&(grade, threshold)| {
            let threshold = Fixed::integer(threshold);
            let reaches = |score: Fixed| score >= threshold;

            let energy = largest(max_tce, |n| {
                reaches(score_of(
                    energy_score_at(Fixed::new(n, 4)),
                    waste_now.score,
                    certs.score,
                ))
            })
            .map(|n| {
                let total = Fixed::new(n, 4);
                let cut = current.total_tce - total;
                EnergyLever {
                    total_tce: total.round(4).fixed_text(),
                    cut_tce: cut.round(4).fixed_text(),
                    cut_percent: (cut * Fixed::integer(100))
                        .div_round(current.total_tce, 2)
                        .fixed_text(),
                }
            });

            let waste = if waste_now.applicable {
                let rate_at = |n: i128| Fixed::new(n, 2).div_round(denominator, 6);
                smallest(max_utilized, |n| {
                    reaches(score_of(
                        current.score,
                        Some(waste::score(rate_at(n), waste_baseline, waste_leading)),
                        certs.score,
                    ))
                })
                .map(|n| WasteLever {
                    utilized_t: Fixed::new(n, 2).fixed_text(),
                    rate: rate_at(n).fixed_text(),
                })
            } else {
                None
            };

            let certifications = kinds
                .iter()
                .filter_map(|&kind| {
                    let (best, park) = if kind == CertificationKind::NationalGreenPark {
                        (best, true)
                    } else {
                        (best.max(composite::points(kind)), park)
                    };
                    let total = (best + if park { 10 } else { 0 }).min(100);
                    let score = score_of(
                        current.score,
                        waste_now.score,
                        Fixed::integer(i128::from(total)).round(2),
                    );
                    reaches(score).then(|| CertificationLever {
                        kind: kind.name().to_owned(),
                        score: score.fixed_text(),
                    })
                })
                .collect();

            Target {
                grade,
                threshold: threshold.round(2).fixed_text(),
                energy,
                waste,
                certifications,
            }
        })
        .collect();

    let vetoed_until = composite::counted_vetoes(&a.vetoes, a.assessed_on)
        .iter()
        .map(|v| v.occurred_on)
        .max()
        .and_then(veto_ends)
        .map(|d| d.format("%Y-%m-%d").to_string());

    Ok(WayUp {
        way_up: WAY_UP,
        score: graded.trace.score.clone(),
        grade: graded.grade,
        vetoed_until,
        targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_finds_the_exact_bounds() {
        assert_eq!(largest(100, |n| n <= 37), Some(37));
        assert_eq!(largest(100, |_| true), Some(100));
        assert_eq!(largest(100, |_| false), None);
        assert_eq!(smallest(100, |n| n >= 63), Some(63));
        assert_eq!(smallest(100, |_| true), Some(0));
        assert_eq!(smallest(100, |_| false), None);
    }

    #[test]
    fn a_veto_of_29_february_stops_counting_on_1_march() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(veto_ends(day(2024, 2, 29)), Some(day(2027, 3, 1)));
        assert_eq!(veto_ends(day(2025, 6, 30)), Some(day(2028, 6, 30)));
    }
}
