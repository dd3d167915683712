//! Green-finance products: published and withdrawn by their bank, in force on a day, and the
//! ones a firm's code qualifies for.

use crate::db::Db;
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::grading::{Fault, Grade};
use crate::service::accounts::{Caller, Role};
use crate::service::fields;
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::codes::{self, CodeStatus};
use crate::store::firms;
use crate::store::products::{self, ProductKind};

/// The largest rate step a product may state, either way (5 percentage points).
pub(super) const MAX_STEP_BP: i32 = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: String,
    pub kind: ProductKind,
    pub grades: Vec<Grade>,
    /// The rate step for each listed grade, in basis points (`{"A+": -30, "A": -20}`).
    pub rate_step_bp: BTreeMap<String, i32>,
    pub max_amount_10k_cny: String,
    pub term_months: i32,
    #[serde(default)]
    pub divisions: Vec<String>,
    #[serde(default)]
    pub districts: Vec<String>,
    /// The carbon-efficiency levels taken (methodology §10, 1 the best), e.g. `[1, 2]` for a
    /// 碳效贷; empty: any level, and codes that state none.
    #[serde(default)]
    pub carbon_levels: Vec<u8>,
    /// The least share of the firm's energy (tce) its code must state as attested by data
    /// sources (claim 8), per cent 1–100; absent: any.
    #[serde(default)]
    pub min_attested_share: Option<u8>,
    #[serde(deserialize_with = "fields::de_date")]
    pub valid_from: NaiveDate,
    #[serde(deserialize_with = "fields::de_date")]
    pub valid_until: NaiveDate,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub id: i64,
    /// The bank's organisation.
    pub bank: String,
    pub name: String,
    pub kind: ProductKind,
    pub grades: Vec<Grade>,
    pub rate_step_bp: BTreeMap<String, i32>,
    pub max_amount_10k_cny: String,
    pub term_months: i32,
    pub divisions: Vec<String>,
    pub districts: Vec<String>,
    /// The carbon-efficiency levels taken; empty: any.
    pub carbon_levels: Vec<u8>,
    /// The least attested share of energy taken (claim 8), per cent; absent: any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_attested_share: Option<u8>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub description: String,
    pub withdrawn: bool,
}

impl ProductView {
    /// In force on `day`: between its dates and not withdrawn.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        !self.withdrawn && self.valid_from <= day && day <= self.valid_until
    }

    /// Takes a firm of this grade, carbon level (as its code states it), division and
    /// district.
    pub fn takes(&self, firm: &Standing) -> bool {
        self.refuses(firm).is_none()
    }

    /// Why the product does not take the firm, as the field to name and the reason: a carbon
    /// level it does not take is `carbon_level`, anything else `product_id` (the product
    /// chosen); `None` when it takes the firm.
    pub fn refuses(&self, firm: &Standing) -> Option<(&'static str, String)> {
        if !self.grades.contains(&firm.grade) {
            return Some((
                "product_id",
                format!("the product does not take grade {}", firm.grade),
            ));
        }
        if !self.carbon_levels.is_empty()
            && !firm
                .carbon_level
                .is_some_and(|l| self.carbon_levels.contains(&l))
        {
            let levels: Vec<String> = self.carbon_levels.iter().map(u8::to_string).collect();
            return Some((
                "carbon_level",
                match firm.carbon_level {
                    Some(level) => format!(
                        "the product takes carbon-efficiency levels {} only; the firm's code states level {level}",
                        levels.join(", ")
                    ),
                    None => format!(
                        "the product takes carbon-efficiency levels {} only; the firm's code states none (it is issued again with its next approval)",
                        levels.join(", ")
                    ),
                },
            ));
        }
        if let Some(min) = self.min_attested_share
            && firm.attested_share.is_none_or(|s| s < min)
        {
            return Some((
                "attested_share",
                match firm.attested_share {
                    Some(share) => format!(
                        "the product takes firms whose code states at least {min} % of the energy as attested by data sources; the firm's states {share} %"
                    ),
                    None => format!(
                        "the product takes firms whose code states at least {min} % of the energy as attested by data sources; the firm's states none"
                    ),
                },
            ));
        }
        if !(self.divisions.is_empty() || self.divisions.contains(&firm.division)) {
            return Some((
                "product_id",
                "the product does not take the firm's industry".into(),
            ));
        }
        if !(self.districts.is_empty() || self.districts.contains(&firm.district)) {
            return Some((
                "product_id",
                "the product does not take the firm's district".into(),
            ));
        }
        None
    }

    pub fn step_for(&self, grade: Grade) -> Option<i32> {
        self.rate_step_bp.get(grade.as_str()).copied()
    }
}

/// What a product looks at: the grade and carbon level a firm's code states, its division
/// and district.
pub struct Standing {
    pub grade: Grade,
    pub carbon_level: Option<u8>,
    /// The attested share of energy the code states (claim 8).
    pub attested_share: Option<u8>,
    pub division: String,
    pub district: String,
}

impl Standing {
    /// The standing of a firm holding `code`: the grade and carbon level the code states.
    pub fn of(code: &codes::Model, firm: &firms::Model) -> Standing {
        let claims = crate::code::cose::decode(&code.cose).ok().map(|d| d.claims);
        Standing {
            grade: code.grade.0,
            carbon_level: claims.as_ref().and_then(|c| c.carbon_level),
            attested_share: claims.as_ref().and_then(|c| c.attested_share),
            division: firm.industry_code.get(..2).unwrap_or_default().to_owned(),
            district: firm.district.clone(),
        }
    }
}

/// A product a firm qualifies for, with the rate step for its grade.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProductOffer {
    #[serde(flatten)]
    pub product: ProductView,
    pub grade: Grade,
    pub rate_step_bp_for_grade: Option<i32>,
}

pub(super) fn product_view(
    p: &products::Model,
    banks: &HashMap<crate::store::ids::AccountId, String>,
) -> ProductView {
    let list = |t: &str| -> Vec<String> { serde_json::from_str(t).unwrap_or_default() };
    ProductView {
        id: p.id,
        bank: banks.get(&p.bank_id).cloned().unwrap_or_default(),
        name: p.name.clone(),
        kind: p.kind,
        grades: list(&p.grades)
            .iter()
            .filter_map(|g| Grade::parse(g))
            .collect(),
        rate_step_bp: serde_json::from_str(&p.rate_steps).unwrap_or_default(),
        max_amount_10k_cny: p.max_amount_10k_cny.clone(),
        term_months: p.term_months,
        divisions: list(&p.divisions),
        districts: list(&p.districts),
        carbon_levels: serde_json::from_str(&p.carbon_levels).unwrap_or_default(),
        min_attested_share: p.min_attested_share.and_then(|n| u8::try_from(n).ok()),
        valid_from: p.valid_from,
        valid_until: p.valid_until,
        description: p.description.clone(),
        withdrawn: p.withdrawn_at.is_some(),
    }
}

pub(super) async fn product_views<C: ConnectionTrait>(
    db: &C,
    list: &[products::Model],
) -> AppResult<Vec<ProductView>> {
    let banks = fields::org_names(db, list.iter().map(|p| p.bank_id)).await?;
    Ok(list.iter().map(|p| product_view(p, &banks)).collect())
}

/// A positive amount in 10,000 CNY, normalised.
pub(super) fn amount(field: &str, text: &str) -> AppResult<String> {
    let d = parse_decimal(text.trim()).map_err(|e| AppError::fault(field, Fault::Decimal(e)))?;
    if d.is_zero() {
        return Err(AppError::fault(field, Fault::Positive));
    }
    Ok(crate::grading::decimal::normalised(d))
}

pub(super) fn fixed(text: &str) -> Option<Fixed> {
    parse_decimal(text).ok().map(Fixed::from)
}

/// A product's fields once checked.
pub struct CheckedProduct {
    name: String,
    grades: Vec<Grade>,
    max_amount: String,
    divisions: Vec<String>,
    districts: Vec<String>,
    carbon_levels: Vec<u8>,
    description: String,
}

/// Keeps a check's value, or its fault among the others.
fn kept<T>(faults: &mut Vec<AppError>, checked: AppResult<T>) -> Option<T> {
    checked.map_err(|e| faults.push(e)).ok()
}

/// Checks every field of a new product and answers with **all** its faults at once (a page
/// shows each beside its field; the API answers with the first).
pub fn check_product(new: &NewProduct) -> Result<CheckedProduct, Vec<AppError>> {
    let mut faults = Vec::new();
    let name = kept(
        &mut faults,
        crate::service::text::line("name", &new.name, 200),
    );
    let grades = kept(&mut faults, fields::grades("grades", &new.grades));
    for (g, bp) in &new.rate_step_bp {
        let field = format!("rate_step_bp.{g}");
        let fault = match Grade::parse(g) {
            None => Some(AppError::field_fault(Fault::OneOf, &field, "not a grade")),
            Some(grade) if !new.grades.contains(&grade) => Some(AppError::field_fault(
                Fault::NotEligible,
                &field,
                "a grade the product does not take",
            )),
            Some(_) if !(-MAX_STEP_BP..=MAX_STEP_BP).contains(bp) => Some(AppError::field_fault(
                Fault::Range,
                &field,
                "at most 500 basis points either way",
            )),
            Some(_) => None,
        };
        faults.extend(fault);
    }
    if let Some(g) = new
        .grades
        .iter()
        .find(|g| !new.rate_step_bp.contains_key(g.as_str()))
    {
        faults.push(AppError::field_fault(
            Fault::Combination,
            format!("rate_step_bp.{}", g.as_str()),
            "every grade the product takes needs its rate step",
        ));
    }
    let max_amount = kept(
        &mut faults,
        amount("max_amount_10k_cny", &new.max_amount_10k_cny),
    );
    if !(1..=360).contains(&new.term_months) {
        faults.push(AppError::field_fault(
            Fault::Range,
            "term_months",
            "must be 1 to 360 months",
        ));
    }
    let divisions = kept(&mut faults, fields::divisions("divisions", &new.divisions));
    let districts = kept(&mut faults, fields::districts("districts", &new.districts));
    let mut carbon_levels = new.carbon_levels.clone();
    if let Some(bad) = carbon_levels.iter().find(|l| !(1..=5).contains(*l)) {
        faults.push(AppError::field_fault(
            Fault::Range,
            "carbon_levels",
            format!("{bad} is not a carbon-efficiency level (1 to 5)"),
        ));
    }
    carbon_levels.sort_unstable();
    carbon_levels.dedup();
    if new
        .min_attested_share
        .is_some_and(|m| !(1..=100).contains(&m))
    {
        faults.push(AppError::field_fault(
            Fault::Range,
            "min_attested_share",
            "a share of 1 to 100 per cent",
        ));
    }
    if new.valid_until < new.valid_from {
        faults.push(AppError::fault("valid_until", Fault::DateOrder));
    }
    let description = kept(
        &mut faults,
        crate::service::text::optional_note("description", Some(&new.description), 4000),
    );
    match (name, grades, max_amount, divisions, districts, description) {
        (Some(name), Some(grades), Some(max_amount), Some(divisions), Some(districts), Some(d))
            if faults.is_empty() =>
        {
            Ok(CheckedProduct {
                name,
                grades,
                max_amount,
                divisions,
                districts,
                carbon_levels,
                description: d.unwrap_or_default(),
            })
        }
        _ => Err(faults),
    }
}

/// A bank publishes a product.
pub async fn publish(db: &Db, caller: &Caller, new: NewProduct) -> AppResult<ProductView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    let CheckedProduct {
        name,
        grades,
        max_amount,
        divisions,
        districts,
        carbon_levels,
        description,
    } = check_product(&new).map_err(|mut faults| faults.remove(0))?;
    let kind = new.kind;
    let (valid_from, valid_until) = (new.valid_from, new.valid_until);
    let grade_names: Vec<&str> = grades.iter().map(|g| g.as_str()).collect();
    audited(db, &caller.actor(), async |txn, now| {
        let model = products::ActiveModel {
            bank_id: Set(caller.account_id),
            name: Set(name),
            kind: Set(kind),
            grades: Set(json_text(&grade_names)),
            rate_steps: Set(json_text(&new.rate_step_bp)),
            max_amount_10k_cny: Set(max_amount),
            term_months: Set(new.term_months),
            divisions: Set(json_text(&divisions)),
            districts: Set(json_text(&districts)),
            carbon_levels: Set(json_text(&carbon_levels)),
            min_attested_share: Set(new.min_attested_share.map(i32::from)),
            valid_from: Set(valid_from),
            valid_until: Set(valid_until),
            description: Set(description),
            withdrawn_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let shown = product_views(txn, std::slice::from_ref(&model))
            .await?
            .remove(0);
        let change = Change {
            action: "product.publish",
            target_type: "product",
            target_id: model.id.to_string(),
            before: None,
            after: Some(
                json!({"name": shown.name, "kind": kind.as_str(), "grades": grade_names,
                           "carbon_levels": shown.carbon_levels,
                           "rate_step_bp": shown.rate_step_bp, "valid_until": valid_until}),
            ),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// JSON text of a list or map of plain values (which always serialise).
pub(super) fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The bank ends one of its products early.
pub async fn withdraw(db: &Db, caller: &Caller, id: i64) -> AppResult<ProductView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    audited(db, &caller.actor(), async |txn, now| {
        let product = products::Entity::find_by_id(id)
            .one(txn)
            .await?
            .filter(|p| p.bank_id == caller.account_id)
            .ok_or(AppError::NotFound)?;
        if product.withdrawn_at.is_some() {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                format!("product {id} is already withdrawn"),
            ));
        }
        let mut model: products::ActiveModel = product.into();
        model.withdrawn_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: "product.withdraw",
            target_type: "product",
            target_id: id.to_string(),
            before: Some(json!({"withdrawn": false})),
            after: Some(json!({"withdrawn": true, "name": updated.name})),
        };
        let shown = product_views(txn, std::slice::from_ref(&updated))
            .await?
            .remove(0);
        Ok(Audited::one(shown, change))
    })
    .await
}

/// The products in force on `day`.
pub async fn in_force<C: ConnectionTrait>(db: &C, day: NaiveDate) -> AppResult<Vec<ProductView>> {
    let list = products::Entity::find()
        .filter(products::Column::WithdrawnAt.is_null())
        .filter(products::Column::ValidFrom.lte(day))
        .filter(products::Column::ValidUntil.gte(day))
        .order_by_asc(products::Column::Id)
        .all(db)
        .await?;
    product_views(db, &list).await
}

/// A bank's own products, newest first.
pub async fn of_bank<C: ConnectionTrait>(db: &C, caller: &Caller) -> AppResult<Vec<ProductView>> {
    let list = products::Entity::find()
        .filter(products::Column::BankId.eq(caller.account_id))
        .order_by_desc(products::Column::Id)
        .all(db)
        .await?;
    product_views(db, &list).await
}

/// The products in force today that take a firm of this standing.
pub async fn offers_for<C: ConnectionTrait>(
    db: &C,
    firm: &Standing,
) -> AppResult<Vec<ProductOffer>> {
    Ok(in_force(db, crate::service::records::today())
        .await?
        .into_iter()
        .filter(|p| p.takes(firm))
        .map(|p| ProductOffer {
            rate_step_bp_for_grade: p.step_for(firm.grade),
            grade: firm.grade,
            product: p,
        })
        .collect())
}

/// The firm's code in force now (active and unexpired), if any.
pub async fn code_in_force<C: ConnectionTrait>(
    db: &C,
    firm: &firms::Model,
) -> AppResult<Option<codes::Model>> {
    let Some(serial) = firm.current_serial else {
        return Ok(None);
    };
    Ok(codes::Entity::find_by_id(serial)
        .one(db)
        .await?
        .filter(|c| c.status == CodeStatus::Active && c.exp > Utc::now().timestamp()))
}

/// The products a firm qualifies for today (the firm itself, regulators).
pub async fn products_for_firm(
    db: &Db,
    caller: &Caller,
    uscc: &str,
) -> AppResult<Vec<ProductOffer>> {
    let firm = crate::service::services::readable_firm(db, caller, uscc).await?;
    match code_in_force(db, &firm).await? {
        Some(code) => offers_for(db, &Standing::of(&code, &firm)).await,
        None => Ok(Vec::new()),
    }
}
