//! Awards under support policies (政策兑现): a regulator records an award to a firm that
//! qualifies for a policy with an amount (the amount, the date, the document's number), then
//! marks it paid; the firm sees its awards; the finance figures sum the grants paid.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::Db;
use crate::error::{AppError, AppResult, Conflict};
use crate::grading::Fault;
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::service::accounts::{Caller, Role};
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::ladder::awards;
use crate::store::{firms, policies};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    pub uscc: String,
    /// 万元, at most the policy's amount.
    pub amount_10k_cny: String,
    #[serde(deserialize_with = "crate::service::fields::de_date")]
    pub awarded_on: NaiveDate,
    /// The award decision's document number.
    pub document_no: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaidRequest {
    #[serde(deserialize_with = "crate::service::fields::de_date")]
    pub paid_on: NaiveDate,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AwardView {
    pub id: i64,
    pub policy_id: i64,
    pub policy_title: String,
    pub uscc: String,
    pub firm_name: String,
    pub district: String,
    pub amount_10k_cny: String,
    pub awarded_on: String,
    pub document_no: String,
    /// When the grant was paid; `null` while it is not.
    pub paid_on: Option<String>,
}

fn view(a: &awards::Model, policy: &policies::Model, firm: &firms::Model) -> AwardView {
    AwardView {
        id: a.id,
        policy_id: a.policy_id,
        policy_title: policy.title.clone(),
        uscc: firm.uscc.to_string(),
        firm_name: firm.name.clone(),
        district: firm.district.clone(),
        amount_10k_cny: a.amount_10k_cny.clone(),
        awarded_on: a.awarded_on.to_string(),
        document_no: a.document_no.clone(),
        paid_on: a.paid_on.map(|d| d.to_string()),
    }
}

/// Records an award under policy `policy_id` to a firm that qualifies for it today.
pub async fn record(
    db: &Db,
    caller: &Caller,
    policy_id: i64,
    request: AwardRequest,
) -> AppResult<AwardView> {
    caller.must_be(Role::Regulator)?;
    let policy = policies::Entity::find_by_id(policy_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(limit) = policy
        .amount_10k_cny
        .as_deref()
        .and_then(|a| parse_decimal(a).ok())
    else {
        return Err(AppError::field_fault(
            Fault::NotEligible,
            "policy",
            "the policy has no amount: only a policy with an amount gets awards",
        ));
    };
    let uscc = crate::grading::Uscc::parse(request.uscc.trim())
        .map_err(|why| AppError::field_fault(Fault::Uscc, "uscc", why))?;
    let amount = parse_decimal(request.amount_10k_cny.trim())
        .map_err(|e| AppError::fault("amount_10k_cny", Fault::Decimal(e)))?;
    if amount <= rust_decimal::Decimal::ZERO || amount > limit {
        return Err(AppError::field_fault(
            Fault::Range,
            "amount_10k_cny",
            format!(
                "must be above 0 and at most the policy's {} (10,000 CNY)",
                crate::grading::decimal::normalised(limit)
            ),
        ));
    }
    let today = crate::service::records::today();
    if request.awarded_on > today {
        return Err(AppError::field_fault(
            Fault::Range,
            "awarded_on",
            "must not be in the future",
        ));
    }
    let document_no = crate::service::text::line("document_no", &request.document_no, 100)?;
    let firm = firms::find_by_uscc(db, uscc.as_str())
        .await?
        .ok_or_else(|| {
            AppError::field_fault(
                Fault::Unknown,
                "uscc",
                "no firm with this USCC is registered",
            )
        })?;
    let qualifying = crate::service::policies::for_firm(db, caller, uscc.as_str()).await?;
    if !qualifying.iter().any(|p| p.id == policy.id) {
        return Err(AppError::field_fault(
            Fault::NotEligible,
            "uscc",
            "the firm does not qualify for this policy today (its grade, division, district or \
             certification)",
        ));
    }
    if awards::Entity::find()
        .filter(awards::Column::PolicyId.eq(policy.id))
        .filter(awards::Column::FirmId.eq(firm.id))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            Conflict::Exists,
            "the firm has an award under this policy already",
        ));
    }
    let amount = crate::grading::decimal::normalised(amount);
    audited(db, &caller.actor(), async |txn, now| {
        let award = awards::ActiveModel {
            policy_id: Set(policy.id),
            firm_id: Set(firm.id),
            amount_10k_cny: Set(amount.clone()),
            awarded_on: Set(request.awarded_on),
            document_no: Set(document_no.clone()),
            paid_on: Set(None),
            recorded_by: Set(caller.account_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let shown = view(&award, &policy, &firm);
        let change = Change {
            action: "award.record",
            target_type: "award",
            target_id: award.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&shown).map_err(AppError::internal)?),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// Marks an award paid.
pub async fn mark_paid(
    db: &Db,
    caller: &Caller,
    id: i64,
    request: PaidRequest,
) -> AppResult<AwardView> {
    caller.must_be(Role::Regulator)?;
    let award = awards::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if award.paid_on.is_some() {
        return Err(AppError::conflict(
            Conflict::AlreadyDone,
            "the award is marked paid already",
        ));
    }
    if request.paid_on > crate::service::records::today() || request.paid_on < award.awarded_on {
        return Err(AppError::field_fault(
            Fault::Range,
            "paid_on",
            "must lie between the award's date and today",
        ));
    }
    let policy = policies::Entity::find_by_id(award.policy_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let firm = firms::Entity::find_by_id(award.firm_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    audited(db, &caller.actor(), async |txn, _now| {
        let updated = awards::Entity::update_many()
            .col_expr(awards::Column::PaidOn, request.paid_on.into())
            .filter(awards::Column::Id.eq(id))
            .filter(awards::Column::PaidOn.is_null())
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(AppError::conflict(
                Conflict::AlreadyDone,
                "the award is marked paid already",
            ));
        }
        let paid = awards::Model {
            paid_on: Some(request.paid_on),
            ..award.clone()
        };
        let shown = view(&paid, &policy, &firm);
        let change = Change {
            action: "award.pay",
            target_type: "award",
            target_id: id.to_string(),
            before: Some(json!({"paid_on": null})),
            after: Some(
                json!({"uscc": firm.uscc.to_string(), "paid_on": request.paid_on.to_string(),
                "amount_10k_cny": award.amount_10k_cny}),
            ),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// Awards, newest first: every award for a regulator, the firm's own for a firm.
pub async fn list(db: &Db, caller: &Caller) -> AppResult<Vec<AwardView>> {
    let mut select = awards::Entity::find().order_by_desc(awards::Column::Id);
    match caller.role {
        Role::Regulator => {}
        Role::Firm => {
            let firm_id = caller.firm_id.ok_or(AppError::Forbidden)?;
            select = select.filter(awards::Column::FirmId.eq(firm_id));
        }
        _ => return Err(AppError::Forbidden),
    }
    let rows = select.all(db).await?;
    let firms = firms::by_ids(db, rows.iter().map(|a| a.firm_id)).await?;
    let policies: std::collections::HashMap<i64, policies::Model> =
        crate::store::rows_in::<policies::Entity, _, _>(
            db,
            policies::Column::Id,
            rows.iter().map(|a| a.policy_id),
        )
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|a| Some(view(a, policies.get(&a.policy_id)?, firms.get(&a.firm_id)?)))
        .collect())
}

/// The grants paid in `year` (by the day paid), summed by the firm's district, division or
/// current grade.
pub async fn paid_by(db: &Db, by: &str, year: i32) -> AppResult<BTreeMap<String, Fixed>> {
    let (Some(start), Some(end)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(AppError::fault("period", Fault::Year));
    };
    let rows = awards::Entity::find()
        .filter(awards::Column::PaidOn.gte(start))
        .filter(awards::Column::PaidOn.lte(end))
        .all(db)
        .await?;
    let firms = firms::by_ids(db, rows.iter().map(|a| a.firm_id)).await?;
    let mut sums: BTreeMap<String, Fixed> = BTreeMap::new();
    for a in &rows {
        let Some(firm) = firms.get(&a.firm_id) else {
            continue;
        };
        let key = match by {
            "district" => firm.district.clone(),
            "division" => firm.industry_code.get(..2).unwrap_or_default().to_owned(),
            "grade" => firm
                .current_grade
                .map(|g| g.0.as_str().to_owned())
                .unwrap_or_default(),
            _ => continue,
        };
        let amount = parse_decimal(&a.amount_10k_cny)
            .map(Fixed::from)
            .unwrap_or(Fixed::integer(0));
        let sum = sums.entry(key).or_insert(Fixed::integer(0));
        *sum = *sum + amount;
    }
    Ok(sums)
}
