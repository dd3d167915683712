//! The cultivation ladder (梯度培育): firms rise from the pool (培育库) to municipal green
//! factories (市级绿色工厂) and to candidates for the national list (国家级绿色工厂候选). A
//! regulator moves firms between tiers, seeing each firm's grade, the reporting years it has
//! held grade A or above in a row, and its verified certifications beside each tier's criteria;
//! the candidates for the next round are the firms meeting the criteria of the tier above
//! their own.

use std::collections::HashMap;

use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::Grade;
use crate::service::accounts::{Caller, Role};
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::codes::{self, CodeStatus};
use crate::store::ids::FirmId;
use crate::store::ladder;
use crate::store::{certifications, firms};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 培育库
    Pool,
    /// 市级绿色工厂
    Municipal,
    /// 国家级绿色工厂候选
    NationalCandidate,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Pool, Tier::Municipal, Tier::NationalCandidate];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Pool => "pool",
            Tier::Municipal => "municipal",
            Tier::NationalCandidate => "national_candidate",
        }
    }

    pub fn parse(name: &str) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tier a firm on `tier` (none: off the ladder) would rise to.
    pub fn above(tier: Option<Tier>) -> Option<Tier> {
        match tier {
            None => Some(Tier::Pool),
            Some(Tier::Pool) => Some(Tier::Municipal),
            Some(Tier::Municipal) => Some(Tier::NationalCandidate),
            Some(Tier::NationalCandidate) => None,
        }
    }

    /// What a firm must show to enter the tier.
    pub fn criteria(self) -> Criteria {
        match self {
            Tier::Pool => Criteria {
                grades: vec![Grade::APlus, Grade::A, Grade::B],
                years_at_a: 0,
                certifications: 0,
            },
            Tier::Municipal => Criteria {
                grades: vec![Grade::APlus, Grade::A],
                years_at_a: 1,
                certifications: 1,
            },
            Tier::NationalCandidate => Criteria {
                grades: vec![Grade::APlus],
                years_at_a: 2,
                certifications: 1,
            },
        }
    }
}

/// A tier's criteria: the grade of the code in force, the reporting years in a row (up to the
/// latest) approved at A or above, the verified certifications valid today.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Criteria {
    pub grades: Vec<Grade>,
    pub years_at_a: u32,
    pub certifications: usize,
}

impl Criteria {
    fn met_by(&self, f: &LadderFirm) -> bool {
        f.grade.is_some_and(|g| self.grades.contains(&g))
            && f.years_at_a >= self.years_at_a
            && f.certifications.len() >= self.certifications
    }
}

/// A firm on (or for) the ladder, with what the criteria look at.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LadderFirm {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub industry_code: String,
    pub tier: Option<Tier>,
    pub since: Option<String>,
    pub note: Option<String>,
    pub grade: Option<Grade>,
    pub score: Option<String>,
    /// Reporting years in a row, up to the firm's latest, whose code was graded A or above.
    pub years_at_a: u32,
    /// Certification kinds verified and valid today.
    pub certifications: Vec<String>,
    /// The tier above the firm's own, and whether the firm meets its criteria.
    pub next: Option<Tier>,
    pub meets_next: bool,
}

impl LadderFirm {
    /// The firm on `tier`: the tier above it, and whether the firm meets its criteria.
    fn placed(mut self, tier: Option<Tier>) -> LadderFirm {
        self.tier = tier;
        self.next = Tier::above(tier);
        self.meets_next = self.next.is_some_and(|t| t.criteria().met_by(&self));
        self
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TierSummary {
    pub tier: Tier,
    pub criteria: Criteria,
    pub firms: usize,
    /// Firms a tier below that meet this tier's criteria.
    pub candidates: usize,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Ladder {
    pub tiers: Vec<TierSummary>,
    /// Firms on the ladder, by tier (highest first), then score.
    pub firms: Vec<LadderFirm>,
    /// Firms meeting the criteria of the tier above their own (the next round's nominations).
    pub candidates: Vec<LadderFirm>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The tier to put the firm on; `null` takes it off the ladder.
    pub tier: Option<Tier>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The ladder: each tier with its criteria and counts, the firms on it, and the candidates.
pub async fn ladder(db: &Db, caller: &Caller) -> AppResult<Ladder> {
    caller.must_be(Role::Regulator)?;
    let placed: HashMap<FirmId, ladder::Model> = ladder::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.firm_id, l))
        .collect();
    // The firms the ladder concerns: those on it, and those graded B or above (candidates).
    let mut list = firms::by_ids(db, placed.keys().copied()).await?;
    for f in firms::Entity::find()
        .filter(firms::Column::CurrentSerial.is_not_null())
        .filter(
            firms::Column::CurrentGrade.is_in(
                Tier::Pool
                    .criteria()
                    .grades
                    .into_iter()
                    .map(crate::store::columns::StoredGrade),
            ),
        )
        .all(db)
        .await?
    {
        list.entry(f.id).or_insert(f);
    }
    let firms_seen: Vec<firms::Model> = list.into_values().collect();
    let mut all = described(db, &firms_seen, &placed).await?;
    all.sort_by(|a, b| {
        let rank = |t: Option<Tier>| t.map_or(0, |t| 1 + t as usize);
        rank(b.tier)
            .cmp(&rank(a.tier))
            .then_with(|| score_of(b).cmp(&score_of(a)))
            .then_with(|| a.uscc.cmp(&b.uscc))
    });
    let candidates: Vec<LadderFirm> = all.iter().filter(|f| f.meets_next).cloned().collect();
    let tiers = Tier::ALL
        .iter()
        .map(|t| TierSummary {
            tier: *t,
            criteria: t.criteria(),
            firms: all.iter().filter(|f| f.tier == Some(*t)).count(),
            candidates: candidates.iter().filter(|f| f.next == Some(*t)).count(),
        })
        .collect();
    Ok(Ladder {
        tiers,
        firms: all.into_iter().filter(|f| f.tier.is_some()).collect(),
        candidates,
    })
}

fn score_of(f: &LadderFirm) -> rust_decimal::Decimal {
    f.score
        .as_deref()
        .and_then(|s| crate::grading::decimal::parse_decimal(s).ok())
        .unwrap_or_default()
}

/// The firms with what the criteria look at.
async fn described(
    db: &Db,
    list: &[firms::Model],
    placed: &HashMap<FirmId, ladder::Model>,
) -> AppResult<Vec<LadderFirm>> {
    let ids: Vec<FirmId> = list.iter().map(|f| f.id).collect();
    // Each firm's codes, not revoked: the latest per reporting year says that year's grade.
    let mut by_year: HashMap<FirmId, HashMap<i32, (i64, Grade)>> = HashMap::new();
    for c in
        crate::store::rows_in::<codes::Entity, _, _>(db, codes::Column::FirmId, ids.clone()).await?
    {
        if c.status == CodeStatus::Revoked {
            continue;
        }
        let years = by_year.entry(c.firm_id).or_default();
        let entry = years.entry(c.period).or_insert((c.serial, c.grade.0));
        if c.serial >= entry.0 {
            *entry = (c.serial, c.grade.0);
        }
    }
    let today = crate::service::records::today();
    let mut certified: HashMap<FirmId, Vec<String>> = HashMap::new();
    for c in crate::store::rows_in::<certifications::Entity, _, _>(
        db,
        certifications::Column::FirmId,
        ids,
    )
    .await?
    {
        if c.verified && !c.revoked && c.valid_from <= today && c.valid_until >= today {
            let kinds = certified.entry(c.firm_id).or_default();
            if !kinds.contains(&c.kind) {
                kinds.push(c.kind);
            }
        }
    }
    Ok(list
        .iter()
        .map(|f| {
            let place = placed.get(&f.id);
            let tier = place.and_then(|p| Tier::parse(&p.tier));
            let years_at_a = by_year.get(&f.id).map_or(0, |years| {
                let Some(latest) = years.keys().max().copied() else {
                    return 0;
                };
                (0..)
                    .take_while(|back| {
                        years
                            .get(&(latest - back))
                            .is_some_and(|(_, g)| matches!(g, Grade::APlus | Grade::A))
                    })
                    .count() as u32
            });
            LadderFirm {
                uscc: f.uscc.to_string(),
                name: f.name.clone(),
                district: f.district.clone(),
                industry_code: f.industry_code.clone(),
                tier,
                since: place.map(|p| p.since.to_string()),
                note: place.and_then(|p| p.note.clone()),
                grade: f.current_grade.map(|g| g.0),
                score: f.current_score.clone(),
                years_at_a,
                certifications: certified.remove(&f.id).unwrap_or_default(),
                next: None,
                meets_next: false,
            }
            .placed(tier)
        })
        .collect())
}

/// Moves a firm to a tier (or off the ladder), audited with the criteria it showed.
pub async fn move_firm(
    db: &Db,
    caller: &Caller,
    uscc: &str,
    request: MoveRequest,
) -> AppResult<LadderFirm> {
    caller.must_be(Role::Regulator)?;
    let firm = firms::find_by_uscc(db, uscc)
        .await?
        .ok_or(AppError::NotFound)?;
    let note = crate::service::text::optional_note("note", request.note.as_deref(), 500)?;
    let before = ladder::Entity::find_by_id(firm.id).one(db).await?;
    let before_tier = before.as_ref().map(|b| b.tier.clone());
    let placed: HashMap<FirmId, ladder::Model> = before.into_iter().map(|b| (firm.id, b)).collect();
    let shown = described(db, std::slice::from_ref(&firm), &placed)
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let tier = request.tier;
    audited(db, &caller.actor(), async |txn, now| {
        ladder::Entity::delete_by_id(firm.id).exec(txn).await?;
        let today = crate::service::records::today();
        if let Some(tier) = tier {
            ladder::Entity::insert(ladder::ActiveModel {
                firm_id: Set(firm.id),
                tier: Set(tier.name().to_owned()),
                since: Set(today),
                note: Set(note.clone()),
                moved_by: Set(caller.account_id),
                moved_at: Set(now),
            })
            .exec(txn)
            .await?;
        }
        let after = LadderFirm {
            since: tier.map(|_| today.to_string()),
            note: note.clone(),
            ..shown.clone()
        }
        .placed(tier);
        let change = Change {
            action: "ladder.move",
            target_type: "firm",
            target_id: firm.uscc.to_string(),
            before: Some(json!({"tier": before_tier})),
            after: Some(
                json!({"uscc": firm.uscc.to_string(), "tier": tier, "note": note,
                "grade": shown.grade, "years_at_a": shown.years_at_a,
                "certifications": shown.certifications}),
            ),
        };
        Ok(Audited::one(after, change))
    })
    .await
}
