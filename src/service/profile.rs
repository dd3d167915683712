//! A firm as a regulator audits it: every year's figures, grade and code, its records, and the
//! changes from one year to the next (a change over 30 % is flagged, on the profile and in the
//! review queue).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::{AppError, AppResult};
use crate::grading::Trace;
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::{certifications, codes, firms, vetoes};

/// A change is flagged above this share of the year before (30 %).
pub const LARGE_CHANGE_PERCENT: i128 = 30;

/// The figures of one submission that a year-on-year comparison looks at.
#[derive(Clone, Debug)]
pub struct Figures {
    pub total_tce: String,
    pub value_added: String,
    pub intensity: String,
    pub waste_rate: Option<String>,
}

impl Figures {
    pub fn of(trace: &Trace) -> Self {
        Figures {
            total_tce: trace.energy.total_tce.clone(),
            value_added: trace.energy.value_added_10k_cny.clone(),
            intensity: trace.energy.intensity.clone(),
            waste_rate: trace.waste.rate.clone(),
        }
    }
}

/// One figure's change from the year before, in per cent (1 decimal), and whether it is large.
#[derive(Clone, Debug)]
pub struct Change {
    pub figure: &'static str,
    pub percent: String,
    pub large: bool,
}

/// `(now − before) ÷ before` in per cent, rounded to one decimal; `None` when `before` is 0.
pub fn percent_change(before: &str, now: &str) -> Option<(Fixed, bool)> {
    let before = Fixed::from(parse_decimal(before).ok()?);
    let now = Fixed::from(parse_decimal(now).ok()?);
    if before.is_zero() {
        return None;
    }
    let pct = (now - before).div_round(before, 6) * Fixed::integer(100);
    let limit = Fixed::integer(LARGE_CHANGE_PERCENT);
    let large = pct > limit || pct < Fixed::integer(0) - limit;
    Some((pct.round(1), large))
}

/// The changes of the energy figures from `before` to `now`.
pub fn changes(before: &Figures, now: &Figures) -> Vec<Change> {
    [
        ("total_tce", &before.total_tce, &now.total_tce),
        ("value_added", &before.value_added, &now.value_added),
        ("intensity", &before.intensity, &now.intensity),
    ]
    .into_iter()
    .filter_map(|(figure, b, n)| {
        percent_change(b, n).map(|(pct, large)| Change {
            figure,
            percent: pct.fixed_text(),
            large,
        })
    })
    .collect()
}

/// One year on the profile: the newest submission of that year (and how many there were), or
/// the approved one below it.
pub struct Year {
    pub assessment: assessments::Model,
    /// The year's approved submission shown under a newer one that is not approved.
    pub approved_behind: bool,
    pub figures: Option<Figures>,
    pub submissions: usize,
    pub changes: Vec<Change>,
}

pub struct Profile {
    pub firm: firms::Model,
    /// Newest year first.
    pub years: Vec<Year>,
    pub codes: Vec<codes::Model>,
    pub certifications: Vec<certifications::Model>,
    pub vetoes: Vec<vetoes::Model>,
}

fn figures_of(a: &assessments::Model) -> Option<Figures> {
    serde_json::from_str::<Trace>(&a.trace)
        .ok()
        .map(|t| Figures::of(&t))
}

/// The firm's profile, by USCC.
pub async fn profile<C: ConnectionTrait>(db: &C, uscc: &str) -> AppResult<Profile> {
    let firm = firms::find_by_uscc(db, uscc)
        .await?
        .ok_or(AppError::NotFound)?;
    let all = assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm.id))
        .order_by_desc(assessments::Column::Period)
        .order_by_desc(assessments::Column::Id)
        .all(db)
        .await?;
    let mut count: HashMap<i32, usize> = HashMap::new();
    for a in &all {
        *count.entry(a.period).or_default() += 1;
    }
    // Each year's newest submission; and when that is not the approved one, the approved one
    // too — the figures behind the year's code stay in view while a resubmission is reviewed.
    let mut years: Vec<Year> = Vec::new();
    for a in &all {
        if years.iter().any(|y| y.assessment.period == a.period) {
            continue;
        }
        let newest_approved = a.status == AssessmentStatus::Approved;
        years.push(Year {
            figures: figures_of(a),
            submissions: count.get(&a.period).copied().unwrap_or(1),
            changes: Vec::new(),
            assessment: a.clone(),
            approved_behind: false,
        });
        if !newest_approved
            && let Some(approved) = all
                .iter()
                .find(|b| b.period == a.period && b.status == AssessmentStatus::Approved)
        {
            years.push(Year {
                figures: figures_of(approved),
                submissions: 0,
                changes: Vec::new(),
                assessment: approved.clone(),
                approved_behind: true,
            });
        }
    }
    // A year is compared with the year before's approved figures (its newest when none was).
    let before_of = |period: i32| -> Option<Figures> {
        let of_year: Vec<&Year> = years
            .iter()
            .filter(|y| y.assessment.period == period)
            .collect();
        of_year
            .iter()
            .find(|y| y.assessment.status == AssessmentStatus::Approved)
            .or(of_year.first())
            .and_then(|y| y.figures.clone())
    };
    let previous: Vec<Option<Figures>> = years
        .iter()
        .map(|y| before_of(y.assessment.period - 1))
        .collect();
    for (year, before) in years.iter_mut().zip(previous) {
        if let (Some(before), Some(now)) = (before, year.figures.as_ref()) {
            year.changes = changes(&before, now);
        }
    }
    let codes = codes::Entity::find()
        .filter(codes::Column::FirmId.eq(firm.id))
        .order_by_desc(codes::Column::Serial)
        .all(db)
        .await?;
    let certifications = certifications::of_firm(db, firm.id).await?;
    let vetoes = vetoes::of_firm(db, firm.id).await?;
    Ok(Profile {
        firm,
        years,
        codes,
        certifications,
        vetoes,
    })
}

/// The approved assessment of a firm's year other than `except` (the newest, which the code in
/// force was issued for when one is): what a resubmission is reviewed against.
pub async fn approved_of_year<C: ConnectionTrait>(
    db: &C,
    firm_id: crate::store::ids::FirmId,
    period: i32,
    except: i64,
) -> AppResult<Option<assessments::Model>> {
    Ok(assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm_id))
        .filter(assessments::Column::Period.eq(period))
        .filter(assessments::Column::Status.eq(AssessmentStatus::Approved))
        .filter(assessments::Column::Id.ne(except))
        .order_by_desc(assessments::Column::Id)
        .one(db)
        .await?)
}

/// What the review queue flags about a submission under review.
#[derive(Default)]
pub struct QueueFlags {
    /// The year already has an approved grade: this is a resubmission.
    pub resubmission: bool,
    /// Figures that moved more than 30 % from the year before's approved submission.
    pub large_changes: Vec<Change>,
}

/// The flags of the given submissions, from the same firms' approved submissions.
pub async fn queue_flags<C: ConnectionTrait>(
    db: &C,
    pending: &[assessments::Model],
) -> AppResult<HashMap<i64, QueueFlags>> {
    let firm_ids: Vec<crate::store::ids::FirmId> = pending.iter().map(|a| a.firm_id).collect();
    let approved = assessments::Entity::find()
        .filter(assessments::Column::FirmId.is_in(firm_ids))
        .filter(assessments::Column::Status.eq(AssessmentStatus::Approved))
        .order_by_desc(assessments::Column::Id)
        .all(db)
        .await?;
    let mut by_year: HashMap<(crate::store::ids::FirmId, i32), &assessments::Model> =
        HashMap::new();
    for a in &approved {
        by_year.entry((a.firm_id, a.period)).or_insert(a);
    }
    Ok(pending
        .iter()
        .map(|a| {
            let large_changes = match (
                by_year
                    .get(&(a.firm_id, a.period - 1))
                    .and_then(|p| figures_of(p)),
                figures_of(a),
            ) {
                (Some(before), Some(now)) => changes(&before, &now)
                    .into_iter()
                    .filter(|c| c.large)
                    .collect(),
                _ => Vec::new(),
            };
            (
                a.id,
                QueueFlags {
                    resubmission: by_year.contains_key(&(a.firm_id, a.period)),
                    large_changes,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(tce: &str, va: &str, intensity: &str) -> Figures {
        Figures {
            total_tce: tce.into(),
            value_added: va.into(),
            intensity: intensity.into(),
            waste_rate: None,
        }
    }

    #[test]
    fn changes_over_thirty_per_cent_are_flagged_and_thirty_is_not() {
        let c = changes(
            &figures("100", "1000", "0.1"),
            &figures("130", "600", "0.216667"),
        );
        assert_eq!(c[0].percent, "30.0");
        assert!(!c[0].large, "exactly 30 % is not over 30 %");
        assert_eq!(c[1].percent, "-40.0");
        assert!(c[1].large);
        assert_eq!(c[2].percent, "116.7");
        assert!(c[2].large);
        assert!(
            changes(&figures("0", "1", "0"), &figures("5", "1", "1"))
                .iter()
                .all(|c| c.figure == "value_added")
        );
    }
}
