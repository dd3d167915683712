//! The filing cycle (动态管理): a regulator opens a reporting year with its filing deadline; the
//! firms that have not filed it are listed (with their current code's grade and expiry, counted
//! by district); after the deadline, each banks following a firm that has not filed get
//! `firm.filing_overdue` once; codes that end within 30 days, and codes whose reporting year is
//! more than a year behind the open year, are listed for follow-up.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::service::accounts::{Caller, Role};
use crate::service::write::{Audited, audited};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::Change;
use crate::store::year::{self, overdue_notices};
use crate::store::{codes, firms};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenYear {
    /// The reporting year (a completed year).
    pub year: i32,
    /// The filing deadline, YYYY-MM-DD, after the year ends.
    pub deadline: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReportingYear {
    pub year: i32,
    pub deadline: NaiveDate,
    pub opened_at: chrono::DateTime<Utc>,
}

impl From<year::Model> for ReportingYear {
    fn from(m: year::Model) -> Self {
        ReportingYear {
            year: m.year,
            deadline: m.deadline,
            opened_at: m.opened_at,
        }
    }
}

/// Opens a reporting year (or moves its deadline), audited. Regulators.
pub async fn open(db: &Db, caller: &Caller, request: OpenYear) -> AppResult<ReportingYear> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let this_year = chrono::Datelike::year(&crate::service::records::today());
    if !(2000..this_year).contains(&request.year) {
        return Err(AppError::field_fault(
            Fault::YearOpen,
            "year",
            "must be a completed reporting year",
        ));
    }
    let deadline = NaiveDate::parse_from_str(request.deadline.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::fault("deadline", Fault::Date))?;
    if chrono::Datelike::year(&deadline) <= request.year {
        return Err(AppError::field_fault(
            Fault::DateOrder,
            "deadline",
            format!("must fall after the reporting year {} ends", request.year),
        ));
    }
    audited(db, &caller.actor(), async |txn, now| {
        let before = year::Entity::find_by_id(request.year).one(txn).await?;
        let row = year::ActiveModel {
            year: Set(request.year),
            deadline: Set(deadline),
            opened_at: Set(before.as_ref().map_or(now, |b| b.opened_at)),
            opened_by: Set(caller.account_id),
        };
        let saved = if before.is_some() {
            row.update(txn).await?
        } else {
            row.insert(txn).await?
        };
        let change = Change {
            action: "reporting_year.open",
            target_type: "reporting_year",
            target_id: request.year.to_string(),
            before: before.map(|b| serde_json::json!({"deadline": b.deadline.to_string()})),
            after: Some(
                serde_json::json!({"period": request.year, "deadline": deadline.to_string()}),
            ),
        };
        Ok(Audited::one(ReportingYear::from(saved), change))
    })
    .await
}

/// Every reporting year opened, newest first.
pub async fn years<C: ConnectionTrait>(db: &C) -> AppResult<Vec<ReportingYear>> {
    Ok(year::Entity::find()
        .order_by_desc(year::Column::Year)
        .all(db)
        .await?
        .into_iter()
        .map(ReportingYear::from)
        .collect())
}

/// A firm that has not filed a year: its current code's grade and end, if it holds one.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NonFiler {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub grade: Option<String>,
    pub code_serial: Option<i64>,
    pub code_valid_until: Option<chrono::DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NonFilers {
    pub year: i32,
    pub deadline: Option<NaiveDate>,
    pub count: usize,
    /// (district, firms not filed), by district.
    pub by_district: Vec<(String, usize)>,
    pub items: Vec<NonFiler>,
}

/// The firms with no filing of `year` under review or approved (a rejected one does not count).
async fn non_filer_firms<C: ConnectionTrait>(db: &C, year: i32) -> AppResult<Vec<firms::Model>> {
    let filed = Query::select()
        .column(assessments::Column::FirmId)
        .from(assessments::Entity)
        .and_where(assessments::Column::Period.eq(year))
        .and_where(assessments::Column::Status.ne(AssessmentStatus::Rejected))
        .to_owned();
    Ok(firms::Entity::find()
        .filter(firms::Column::Id.not_in_subquery(filed))
        .order_by_asc(firms::Column::District)
        .order_by_asc(firms::Column::Uscc)
        .all(db)
        .await?)
}

/// The firms that have not filed `year` (regulators).
pub async fn non_filers(db: &Db, caller: &Caller, year: i32) -> AppResult<NonFilers> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let deadline = year::Entity::find_by_id(year)
        .one(db)
        .await?
        .map(|y| y.deadline);
    let firms = non_filer_firms(db, year).await?;
    let serials: Vec<i64> = firms.iter().filter_map(|f| f.current_serial).collect();
    let ends: HashMap<i64, i64> =
        crate::store::rows_in::<codes::Entity, _, _>(db, codes::Column::Serial, serials)
            .await?
            .into_iter()
            .map(|c| (c.serial, c.exp))
            .collect();
    let mut by_district: BTreeMap<String, usize> = BTreeMap::new();
    let items: Vec<NonFiler> = firms
        .into_iter()
        .map(|f| {
            *by_district.entry(f.district.clone()).or_default() += 1;
            NonFiler {
                uscc: f.uscc.to_string(),
                name: f.name,
                district: f.district,
                grade: f.current_grade.map(|g| g.0.as_str().to_owned()),
                code_serial: f.current_serial,
                code_valid_until: f
                    .current_serial
                    .and_then(|s| ends.get(&s))
                    .and_then(|exp| chrono::DateTime::from_timestamp(*exp, 0)),
            }
        })
        .collect();
    Ok(NonFilers {
        year,
        deadline,
        count: items.len(),
        by_district: by_district.into_iter().collect(),
        items,
    })
}

/// A code to follow up: ending soon, or for a year long past.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub uscc: String,
    pub name: String,
    pub serial: i64,
    pub grade: String,
    pub period: i32,
    pub valid_until: chrono::DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUps {
    /// Active codes that end within 30 days.
    pub expiring: Vec<FollowUp>,
    /// Active codes whose reporting year is more than a year behind the newest open year.
    pub behind: Vec<FollowUp>,
    /// The newest open reporting year.
    pub open_year: Option<i32>,
}

/// The codes to follow up (regulators).
pub async fn follow_ups(db: &Db, caller: &Caller) -> AppResult<FollowUps> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now().timestamp();
    let soon = now + crate::service::webhooks::EXPIRING_WITHIN_DAYS * 86_400;
    let open_year = years(db).await?.first().map(|y| y.year);
    let active = || {
        codes::Entity::find()
            .filter(codes::Column::Status.eq(codes::CodeStatus::Active))
            .filter(codes::Column::Exp.gt(now))
    };
    let expiring = active()
        .filter(codes::Column::Exp.lte(soon))
        .order_by_asc(codes::Column::Exp)
        .all(db)
        .await?;
    let behind = match open_year {
        Some(y) => {
            active()
                .filter(codes::Column::Period.lt(y - 1))
                .order_by_asc(codes::Column::Period)
                .all(db)
                .await?
        }
        None => Vec::new(),
    };
    let ids: Vec<crate::store::ids::FirmId> =
        expiring.iter().chain(&behind).map(|c| c.firm_id).collect();
    let firms = firms::by_ids(db, ids).await?;
    let view = |c: codes::Model| {
        firms.get(&c.firm_id).map(|f| FollowUp {
            uscc: f.uscc.to_string(),
            name: f.name.clone(),
            serial: c.serial,
            grade: c.grade.0.as_str().to_owned(),
            period: c.period,
            valid_until: chrono::DateTime::from_timestamp(c.exp, 0).unwrap_or_default(),
        })
    };
    Ok(FollowUps {
        expiring: expiring.into_iter().filter_map(view).collect(),
        behind: behind.into_iter().filter_map(view).collect(),
        open_year,
    })
}

/// What a firm's desk says of the open year: its deadline, and whether the firm filed.
#[derive(Clone, Debug, Serialize)]
pub struct Deadline {
    pub year: i32,
    pub deadline: NaiveDate,
    /// Days left (negative: overdue).
    pub days_left: i64,
    pub filed: bool,
}

/// The newest open year's deadline as it stands for a firm.
pub async fn deadline_for<C: ConnectionTrait>(
    db: &C,
    firm: crate::store::ids::FirmId,
) -> AppResult<Option<Deadline>> {
    let Some(open) = year::Entity::find()
        .order_by_desc(year::Column::Year)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let filed = assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm))
        .filter(assessments::Column::Period.eq(open.year))
        .filter(assessments::Column::Status.ne(AssessmentStatus::Rejected))
        .one(db)
        .await?
        .is_some();
    Ok(Some(Deadline {
        year: open.year,
        deadline: open.deadline,
        days_left: (open.deadline - crate::service::records::today()).num_days(),
        filed,
    }))
}

/// After each open year's deadline, queues `firm.filing_overdue` for the banks following each
/// firm that has not filed it, once per firm and year. Answers how many firms were notified.
pub async fn enqueue_overdue(db: &Db, today: NaiveDate) -> AppResult<usize> {
    let mut notified = 0;
    for open in years(db).await?.into_iter().filter(|y| y.deadline < today) {
        let late = non_filer_firms(db, open.year).await?;
        let done: std::collections::HashSet<crate::store::ids::FirmId> =
            overdue_notices::Entity::find()
                .filter(overdue_notices::Column::Year.eq(open.year))
                .all(db)
                .await?
                .into_iter()
                .map(|n| n.firm_id)
                .collect();
        let late: Vec<firms::Model> = late.into_iter().filter(|f| !done.contains(&f.id)).collect();
        for part in late.chunks(500) {
            let ids: Vec<crate::store::ids::FirmId> = part.iter().map(|f| f.id).collect();
            let followers = crate::service::webhooks::banks_following(db, &ids).await?;
            let txn = crate::db::begin_write(db).await?;
            for firm in part {
                let Some(banks) = followers.get(&firm.id) else {
                    continue;
                };
                overdue_notices::ActiveModel {
                    firm_id: Set(firm.id),
                    year: Set(open.year),
                    sent_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                crate::service::webhooks::enqueue_for(
                    &txn,
                    banks,
                    "firm.filing_overdue",
                    serde_json::json!({"uscc": firm.uscc.to_string(), "firm": firm.name,
                        "period": open.year, "deadline": open.deadline.to_string(),
                        "grade": firm.current_grade.map(|g| g.0.as_str().to_owned())}),
                )
                .await?;
                notified += 1;
            }
            txn.commit().await?;
        }
    }
    Ok(notified)
}
