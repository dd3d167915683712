//! Which services a firm is recommended: the levers of its way up (methodology §9), ranked by the
//! smallest change first, matched with the approved services of its district.

use super::catalogue::ServiceView;
use super::catalogue::list_approved;
use crate::db::Db;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::grading::way_up::WayUp;
use crate::service::accounts::{Caller, Role};
use crate::service::cache::Caches;
use crate::store::services::Category;
use crate::store::{assessments, codes, firms};

/// One lever of a firm's way up, as a service category can help with it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Lever {
    pub category: Category,
    /// The grade the lever reaches alone.
    pub grade: crate::grading::Grade,
    /// How big the change is, in per cent (energy: the cut; waste: percentage points more
    /// utilised; a certification counts as 15).
    pub effort: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Recommended {
    #[serde(flatten)]
    pub service: ServiceView,
    /// The lever it helps with.
    pub lever: Category,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Recommendations {
    pub uscc: String,
    pub district: String,
    /// The levers of the way up to the next grade, the smallest change first.
    pub levers: Vec<Lever>,
    /// While a counted veto holds the grade at D (methodology §4), the first day it no longer
    /// counts (§9's `vetoed_until`): the levers reach their grades from that day on, not before.
    pub vetoed_until: Option<String>,
    /// Approved services in the firm's district for those levers, the most helpful first.
    pub services: Vec<Recommended>,
}

/// A certification's effort in the ranking: about that of a 15 % change (a decision of this
/// service; the way up itself is exact).
pub(super) const CERTIFICATION_EFFORT: i128 = 15;

/// The levers of the way up to the next grade that any single change reaches, the smallest
/// change first. `rate` is the firm's waste utilisation rate now (a fraction), if applicable.
pub fn levers(way_up: &WayUp, rate: Option<&str>) -> Vec<Lever> {
    let Some(next) = way_up.targets.first() else {
        return Vec::new();
    };
    let number = |t: &str| parse_decimal(t).ok().map(Fixed::from);
    let mut out: Vec<(Fixed, Lever)> = Vec::new();
    if let Some(e) = &next.energy
        && let Some(cut) = number(&e.cut_percent)
    {
        out.push((
            cut,
            Lever {
                category: Category::Energy,
                grade: next.grade,
                effort: cut.round(2).fixed_text(),
            },
        ));
    }
    if let Some(w) = &next.waste
        && let (Some(target), Some(now)) = (number(&w.rate), rate.and_then(number))
    {
        let points = (target - now) * Fixed::integer(100);
        out.push((
            points,
            Lever {
                category: Category::Waste,
                grade: next.grade,
                effort: points.round(2).fixed_text(),
            },
        ));
    }
    if !next.certifications.is_empty() {
        out.push((
            Fixed::integer(CERTIFICATION_EFFORT),
            Lever {
                category: Category::Certification,
                grade: next.grade,
                effort: Fixed::integer(CERTIFICATION_EFFORT).round(2).fixed_text(),
            },
        ));
    }
    out.sort_by_key(|(effort, _)| *effort);
    out.into_iter().map(|(_, l)| l).collect()
}

/// The lever a service category helps with (carbon accounting helps the energy lever).
pub(super) fn lever_of(category: Category) -> Option<Category> {
    match category {
        Category::Energy | Category::Carbon => Some(Category::Energy),
        Category::Waste => Some(Category::Waste),
        Category::Certification => Some(Category::Certification),
        Category::Finance | Category::Other => None,
    }
}

/// Orders approved services for a firm: those whose category helps with a lever, the lever
/// with the smallest change first; within a lever the direct category before carbon, then the
/// oldest listing first.
pub fn rank(levers: &[Lever], district: &str, approved: Vec<ServiceView>) -> Vec<Recommended> {
    let mut ranked: Vec<(usize, bool, i64, Recommended)> = approved
        .into_iter()
        .filter(|s| s.districts.is_empty() || s.districts.iter().any(|d| d == district))
        .filter_map(|s| {
            let lever = lever_of(s.category)?;
            let position = levers.iter().position(|l| l.category == lever)?;
            Some((
                position,
                s.category == Category::Carbon,
                s.id,
                Recommended { service: s, lever },
            ))
        })
        .collect();
    ranked.sort_by_key(|(position, carbon, id, _)| (*position, *carbon, *id));
    ranked.into_iter().map(|(_, _, _, r)| r).collect()
}

/// The firm a caller may read: the firm itself, or any firm for a regulator.
pub async fn readable_firm<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    uscc: &str,
) -> AppResult<firms::Model> {
    let firm = firms::find_by_uscc(db, uscc)
        .await?
        .ok_or(AppError::NotFound)?;
    match caller.role {
        Role::Regulator => Ok(firm),
        Role::Firm if caller.firm_id == Some(firm.id) => Ok(firm),
        // Another firm's recommendations are not its business: as if there were none.
        Role::Firm => Err(AppError::NotFound),
        _ => Err(AppError::Forbidden),
    }
}

/// The assessment a firm's grade stands on: its current code's, else its newest approved one.
pub async fn graded_assessment<C: ConnectionTrait>(
    db: &C,
    firm: &firms::Model,
) -> AppResult<Option<assessments::Model>> {
    if let Some(serial) = firm.current_serial
        && let Some(code) = codes::Entity::find_by_id(serial).one(db).await?
    {
        return Ok(assessments::Entity::find_by_id(code.assessment_id)
            .one(db)
            .await?);
    }
    Ok(assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm.id))
        .filter(assessments::Column::Status.eq(assessments::AssessmentStatus::Approved))
        .order_by_desc(assessments::Column::Id)
        .one(db)
        .await?)
}

/// The services recommended to a firm: approved, in its district, matching its way up.
pub async fn recommendations(
    db: &Db,
    caches: &Caches,
    caller: &Caller,
    uscc: &str,
) -> AppResult<Recommendations> {
    let firm = readable_firm(db, caller, uscc).await?;
    let today = crate::service::records::today().to_string();
    let (levers, vetoed_until) = match graded_assessment(db, &firm).await? {
        Some(a) => {
            let rate = serde_json::from_str::<crate::grading::Trace>(&a.trace)
                .ok()
                .and_then(|t| t.waste.rate);
            match crate::service::assessments::way_up_of(db, caches, &a).await? {
                Some(way_up) => (
                    levers(&way_up, rate.as_deref()),
                    way_up.vetoed_until.clone().filter(|d| *d > today),
                ),
                None => (Vec::new(), None),
            }
        }
        None => (Vec::new(), None),
    };
    let approved = list_approved(db, None, Some(&firm.district)).await?;
    Ok(Recommendations {
        services: rank(&levers, &firm.district, approved),
        uscc: firm.uscc.to_string(),
        district: firm.district,
        levers,
        vetoed_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grading::Grade;
    use crate::grading::way_up::{CertificationLever, EnergyLever, Target, WasteLever};
    use crate::store::services::ServiceStatus;
    use chrono::Utc;

    fn service(id: i64, category: Category, districts: &[&str]) -> ServiceView {
        ServiceView {
            id,
            provider: "P".into(),
            name: format!("s{id}"),
            category,
            description: String::new(),
            districts: districts.iter().map(|d| (*d).to_owned()).collect(),
            contact: String::new(),
            status: ServiceStatus::Approved,
            created_at: Utc::now(),
        }
    }

    fn way_up(cut: &str, rate: &str) -> WayUp {
        WayUp {
            way_up: "GEC-P 2025.1",
            score: "50.00".into(),
            grade: Grade::C,
            vetoed_until: None,
            targets: vec![Target {
                grade: Grade::B,
                threshold: "55".into(),
                energy: Some(EnergyLever {
                    total_tce: "1".into(),
                    cut_tce: "1".into(),
                    cut_percent: cut.into(),
                }),
                waste: Some(WasteLever {
                    utilized_t: "1".into(),
                    rate: rate.into(),
                }),
                certifications: vec![CertificationLever {
                    kind: "iso_50001".into(),
                    score: "62.00".into(),
                }],
            }],
        }
    }

    #[test]
    fn the_smallest_change_comes_first_and_only_matching_services_in_the_district() {
        // Energy: a 14 % cut; waste: 30 points more; a certification: 15.
        let l = levers(&way_up("14.00", "0.90"), Some("0.60"));
        let order: Vec<Category> = l.iter().map(|l| l.category).collect();
        assert_eq!(
            order,
            [Category::Energy, Category::Certification, Category::Waste]
        );
        assert_eq!(l[2].effort, "30.00");
        let approved = vec![
            service(1, Category::Waste, &[]),
            service(2, Category::Carbon, &[]),
            service(3, Category::Finance, &[]),
            service(4, Category::Energy, &["渝北区"]),
            service(5, Category::Energy, &["璧山区"]),
            service(6, Category::Certification, &[]),
        ];
        let ranked: Vec<i64> = rank(&l, "渝北区", approved)
            .iter()
            .map(|r| r.service.id)
            .collect();
        assert_eq!(ranked, [4, 2, 6, 1]);
        // A firm that needs a 40 % cut is better served by waste first.
        let l = levers(&way_up("40.00", "0.70"), Some("0.60"));
        assert_eq!(l[0].category, Category::Waste);
    }
}
