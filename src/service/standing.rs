//! Where a firm stands (动态管理): its place by score among the firms holding a code, in its
//! industry division (GB/T 4754, the first two digits) and in its district — "位于汽车制造业前
//! 12 %" — and the band MIIT-style quotas would put it in (the top 5 %, the next 35 %, the rest),
//! beside the methodology's grade without changing it. Shown to the firm itself and regulators,
//! never on the public scan page.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use crate::error::AppResult;
use crate::grading::decimal::parse_decimal;
use crate::store::firms;

/// The band quotas would give: the top 5 %, the next 35 %, the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaBand {
    Top5,
    Next35,
    Rest,
}

/// A place among `count` firms: 1 is the best score; firms with equal scores share a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Place {
    pub rank: u64,
    pub count: u64,
    /// rank ÷ count, per cent, rounded up: "前 12 %".
    pub top_percent: u64,
}

impl Place {
    /// The place of `score` among `scores` (which hold it).
    pub fn among(score: rust_decimal::Decimal, scores: &[rust_decimal::Decimal]) -> Place {
        let count = scores.len().max(1) as u64;
        let rank = 1 + scores.iter().filter(|s| **s > score).count() as u64;
        Place {
            rank,
            count,
            top_percent: (rank * 100).div_ceil(count),
        }
    }

    /// The quota band of this place.
    pub fn band(self) -> QuotaBand {
        if self.rank * 100 <= self.count * 5 || self.rank == 1 {
            QuotaBand::Top5
        } else if self.rank * 100 <= self.count * 40 {
            QuotaBand::Next35
        } else {
            QuotaBand::Rest
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub division: String,
    pub in_division: Place,
    pub district: String,
    pub in_district: Place,
    /// The band by the division place.
    pub quota_band: QuotaBand,
}

/// The scores of the firms holding a code that match `filter`.
async fn scores<C: ConnectionTrait>(
    db: &C,
    filter: sea_orm::Condition,
) -> AppResult<Vec<rust_decimal::Decimal>> {
    let texts: Vec<Option<String>> = firms::Entity::find()
        .select_only()
        .column(firms::Column::CurrentScore)
        .filter(firms::Column::CurrentSerial.is_not_null())
        .filter(filter)
        .into_tuple()
        .all(db)
        .await?;
    Ok(texts
        .into_iter()
        .flatten()
        .filter_map(|t| parse_decimal(&t).ok())
        .collect())
}

/// Where a firm holding a code stands; `None` without a code.
pub async fn of_firm<C: ConnectionTrait>(
    db: &C,
    firm: &firms::Model,
) -> AppResult<Option<Standing>> {
    let (Some(_), Some(score)) = (
        firm.current_serial,
        firm.current_score
            .as_deref()
            .and_then(|s| parse_decimal(s).ok()),
    ) else {
        return Ok(None);
    };
    let division: String = firm.industry_code.chars().take(2).collect();
    let in_division = scores(
        db,
        sea_orm::Condition::all().add(firms::Column::IndustryCode.starts_with(&division)),
    )
    .await?;
    let in_district = scores(
        db,
        sea_orm::Condition::all().add(firms::Column::District.eq(firm.district.clone())),
    )
    .await?;
    let in_division = Place::among(score, &in_division);
    Ok(Some(Standing {
        quota_band: in_division.band(),
        division,
        in_division,
        district: firm.district.clone(),
        in_district: Place::among(score, &in_district),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn a_place_counts_the_better_scores_and_rounds_the_share_up() {
        let scores: Vec<Decimal> = [90, 85, 85, 70, 60, 50, 40, 30, 20, 10]
            .into_iter()
            .map(Decimal::from)
            .collect();
        let best = Place::among(Decimal::from(90), &scores);
        assert_eq!(
            (best.rank, best.top_percent, best.band()),
            (1, 10, QuotaBand::Top5)
        );
        let tied = Place::among(Decimal::from(85), &scores);
        assert_eq!(
            (tied.rank, tied.top_percent, tied.band()),
            (2, 20, QuotaBand::Next35)
        );
        let fourth = Place::among(Decimal::from(70), &scores);
        assert_eq!((fourth.rank, fourth.band()), (4, QuotaBand::Next35));
        let fifth = Place::among(Decimal::from(60), &scores);
        assert_eq!((fifth.rank, fifth.band()), (5, QuotaBand::Rest));
        let last = Place::among(Decimal::from(10), &scores);
        assert_eq!((last.rank, last.top_percent), (10, 100));
    }
}
