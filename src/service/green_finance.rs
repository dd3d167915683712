//! 绿色金融: banks publish products; a firm applies with its consent to share its figures; the
//! bank that owns the product reads the application (every read of consented data recorded for
//! the firm to see) and decides; regulators see what the code did for finance.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::accounts::{Caller, Role};
use super::fields;
use crate::error::{AppError, AppResult};
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::grading::{Fault, Grade};
use crate::store::applications::{self, ApplicationStatus, ConsentScope, accesses};
use crate::store::audit::{self, Change};
use crate::store::codes::{self, CodeStatus};
use crate::store::products::{self, ProductKind};
use crate::store::{assessments, firms};

/// The largest rate step a product may state, either way (5 percentage points).
const MAX_STEP_BP: i32 = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: String,
    /// `green_loan`, `transition_loan`, `retrofit_loan`, `green_bond`, `credit_line`, `other`.
    pub kind: String,
    pub grades: Vec<String>,
    /// The rate step for each listed grade, in basis points (`{"A+": -30, "A": -20}`).
    pub rate_step_bp: BTreeMap<String, i32>,
    pub max_amount_10k_cny: String,
    pub term_months: i32,
    #[serde(default)]
    pub divisions: Vec<String>,
    #[serde(default)]
    pub districts: Vec<String>,
    pub valid_from: String,
    pub valid_until: String,
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

    /// Takes a firm of this grade, division and district.
    pub fn takes(&self, grade: Grade, division: &str, district: &str) -> bool {
        self.grades.contains(&grade)
            && (self.divisions.is_empty() || self.divisions.iter().any(|d| d == division))
            && (self.districts.is_empty() || self.districts.iter().any(|d| d == district))
    }

    pub fn step_for(&self, grade: Grade) -> Option<i32> {
        self.rate_step_bp.get(grade.as_str()).copied()
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

fn product_view(p: &products::Model, banks: &HashMap<i64, String>) -> ProductView {
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
        valid_from: p.valid_from,
        valid_until: p.valid_until,
        description: p.description.clone(),
        withdrawn: p.withdrawn_at.is_some(),
    }
}

async fn product_views<C: ConnectionTrait>(
    db: &C,
    list: &[products::Model],
) -> AppResult<Vec<ProductView>> {
    let banks = fields::org_names(db, list.iter().map(|p| p.bank_id)).await?;
    Ok(list.iter().map(|p| product_view(p, &banks)).collect())
}

/// A positive amount in 10,000 CNY, normalised.
fn amount(field: &str, text: &str) -> AppResult<String> {
    let d = parse_decimal(text.trim()).map_err(|e| AppError::fault(field, Fault::Decimal(e)))?;
    if d.is_zero() {
        return Err(AppError::fault(field, Fault::Positive));
    }
    Ok(crate::grading::decimal::normalised(d))
}

fn fixed(text: &str) -> Option<Fixed> {
    parse_decimal(text).ok().map(Fixed::from)
}

/// A bank publishes a product.
pub async fn publish(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewProduct,
) -> AppResult<ProductView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    let name = super::text::line("name", &new.name, 200)?;
    let kind = ProductKind::parse(new.kind.trim()).ok_or_else(|| {
        AppError::validation(
            "kind",
            "must be green_loan, transition_loan, retrofit_loan, green_bond, credit_line or other",
        )
    })?;
    let grades = fields::grades("grades", &new.grades)?;
    for (g, bp) in &new.rate_step_bp {
        let field = format!("rate_step_bp.{g}");
        let grade = Grade::parse(g).ok_or_else(|| AppError::validation(&field, "not a grade"))?;
        if !grades.contains(&grade) {
            return Err(AppError::validation(
                field,
                "a grade the product does not take",
            ));
        }
        if bp.abs() > MAX_STEP_BP {
            return Err(AppError::validation(
                field,
                "at most 500 basis points either way",
            ));
        }
    }
    if let Some(g) = grades
        .iter()
        .find(|g| !new.rate_step_bp.contains_key(g.as_str()))
    {
        return Err(AppError::validation(
            format!("rate_step_bp.{}", g.as_str()),
            "every grade the product takes needs its rate step",
        ));
    }
    let max_amount = amount("max_amount_10k_cny", &new.max_amount_10k_cny)?;
    if !(1..=360).contains(&new.term_months) {
        return Err(AppError::validation(
            "term_months",
            "must be 1 to 360 months",
        ));
    }
    let divisions = fields::divisions("divisions", &new.divisions)?;
    let districts = fields::districts("districts", &new.districts)?;
    let valid_from = fields::date("valid_from", &new.valid_from)?;
    let valid_until = fields::date("valid_until", &new.valid_until)?;
    if valid_until < valid_from {
        return Err(AppError::fault("valid_until", Fault::DateOrder));
    }
    let description = super::text::optional_note("description", Some(&new.description), 4000)?
        .unwrap_or_default();
    let grade_names: Vec<&str> = grades.iter().map(|g| g.as_str()).collect();
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
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
        valid_from: Set(valid_from),
        valid_until: Set(valid_until),
        description: Set(description),
        withdrawn_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let shown = product_views(&txn, std::slice::from_ref(&model))
        .await?
        .remove(0);
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "product.publish",
            target_type: "product",
            target_id: model.id.to_string(),
            before: None,
            after: Some(
                json!({"name": shown.name, "kind": kind.as_str(), "grades": grade_names,
                               "rate_step_bp": shown.rate_step_bp, "valid_until": valid_until}),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// JSON text of a list or map of plain values (which always serialise).
fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The bank ends one of its products early.
pub async fn withdraw(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<ProductView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let product = products::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|p| p.bank_id == caller.account_id)
        .ok_or(AppError::NotFound)?;
    if product.withdrawn_at.is_some() {
        return Err(AppError::Conflict(format!(
            "product {id} is already withdrawn"
        )));
    }
    let mut model: products::ActiveModel = product.into();
    model.withdrawn_at = Set(Some(now));
    let updated = model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "product.withdraw",
            target_type: "product",
            target_id: id.to_string(),
            before: Some(json!({"withdrawn": false})),
            after: Some(json!({"withdrawn": true, "name": updated.name})),
        },
    )
    .await?;
    let shown = product_views(&txn, std::slice::from_ref(&updated))
        .await?
        .remove(0);
    txn.commit().await?;
    Ok(shown)
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

/// The products in force today that take a firm of this grade, division and district.
pub async fn offers_for<C: ConnectionTrait>(
    db: &C,
    grade: Grade,
    division: &str,
    district: &str,
) -> AppResult<Vec<ProductOffer>> {
    Ok(in_force(db, super::records::today())
        .await?
        .into_iter()
        .filter(|p| p.takes(grade, division, district))
        .map(|p| ProductOffer {
            rate_step_bp_for_grade: p.step_for(grade),
            grade,
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
    db: &DatabaseConnection,
    caller: &Caller,
    uscc: &str,
) -> AppResult<Vec<ProductOffer>> {
    let firm = super::green_services::readable_firm(db, caller, uscc).await?;
    match code_in_force(db, &firm).await? {
        Some(code) => {
            offers_for(
                db,
                code.grade,
                firm.industry_code.get(..2).unwrap_or_default(),
                &firm.district,
            )
            .await
        }
        None => Ok(Vec::new()),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `grade` (the grade and the code only) or `trace` (the figures and trace too).
    pub scope: String,
    /// The last day the bank may read; at most two years ahead.
    pub expires_on: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub product_id: i64,
    pub amount_10k_cny: String,
    pub purpose: String,
    pub consent: ConsentRequest,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub scope: ConsentScope,
    pub expires_on: NaiveDate,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub in_force: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub decision: ApplicationStatus,
    pub amount_10k_cny: Option<String>,
    pub rate_step_bp: Option<i32>,
    pub term_months: Option<i32>,
    pub reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    pub product_id: i64,
    pub product_name: String,
    pub bank: String,
    pub uscc: String,
    pub firm_name: String,
    pub code_serial: i64,
    pub grade: Grade,
    pub amount_10k_cny: String,
    pub purpose: String,
    pub consent: ConsentView,
    pub status: ApplicationStatus,
    pub decision: Option<DecisionView>,
    pub created_at: DateTime<Utc>,
    /// The attached code verified now (one application's read only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<super::verification::VerifyResult>,
    /// The assessment's input and trace, while a `trace` consent is in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub trace: Option<Value>,
}

async fn application_views<C: ConnectionTrait>(
    db: &C,
    list: &[applications::Model],
) -> AppResult<Vec<ApplicationView>> {
    let products: HashMap<i64, products::Model> = products::Entity::find()
        .filter(products::Column::Id.is_in(list.iter().map(|a| a.product_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let banks = fields::org_names(db, products.values().map(|p| p.bank_id)).await?;
    let firms = firms::by_ids(db, list.iter().map(|a| a.firm_id)).await?;
    let grades: HashMap<i64, Grade> = codes::Entity::find()
        .filter(codes::Column::Serial.is_in(list.iter().map(|a| a.code_serial)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.serial, c.grade))
        .collect();
    let today = super::records::today();
    Ok(list
        .iter()
        .map(|a| {
            let product = products.get(&a.product_id);
            let firm = firms.get(&a.firm_id);
            ApplicationView {
                id: a.id,
                product_id: a.product_id,
                product_name: product.map(|p| p.name.clone()).unwrap_or_default(),
                bank: product
                    .and_then(|p| banks.get(&p.bank_id).cloned())
                    .unwrap_or_default(),
                uscc: firm.map(|f| f.uscc.clone()).unwrap_or_default(),
                firm_name: firm.map(|f| f.name.clone()).unwrap_or_default(),
                code_serial: a.code_serial,
                grade: grades.get(&a.code_serial).copied().unwrap_or(Grade::D),
                amount_10k_cny: a.amount_10k_cny.clone(),
                purpose: a.purpose.clone(),
                consent: ConsentView {
                    scope: a.consent_scope,
                    expires_on: a.consent_expires_on,
                    withdrawn_at: a.consent_withdrawn_at,
                    in_force: a.consent_in_force(today),
                },
                status: a.status,
                decision: (!a.status.is_open() || a.status == ApplicationStatus::MoreInfo).then(
                    || DecisionView {
                        decision: a.status,
                        amount_10k_cny: a.decision_amount_10k_cny.clone(),
                        rate_step_bp: a.decision_rate_step_bp,
                        term_months: a.decision_term_months,
                        reason: a.decision_reason.clone(),
                        decided_at: a.decided_at,
                    },
                ),
                created_at: a.created_at,
                verification: None,
                input: None,
                trace: None,
            }
        })
        .collect())
}

/// A firm applies for a product with its code in force attached and its consent.
pub async fn apply(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewApplication,
) -> AppResult<ApplicationView> {
    let firm_id = match (caller.role, caller.firm_id) {
        (Role::Firm, Some(id)) => id,
        _ => return Err(AppError::Forbidden),
    };
    let amount_text = amount("amount_10k_cny", &new.amount_10k_cny)?;
    let purpose = super::text::note("purpose", &new.purpose, 2000)?;
    let scope = match new.consent.scope.trim() {
        "grade" => ConsentScope::Grade,
        "trace" => ConsentScope::Trace,
        _ => {
            return Err(AppError::validation(
                "consent.scope",
                "must be grade or trace",
            ));
        }
    };
    let today = super::records::today();
    let expires_on = fields::date("consent.expires_on", &new.consent.expires_on)?;
    if expires_on < today {
        return Err(AppError::validation(
            "consent.expires_on",
            "must not be in the past",
        ));
    }
    if expires_on > today + chrono::Duration::days(731) {
        return Err(AppError::validation(
            "consent.expires_on",
            "at most two years ahead",
        ));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let firm = firms::Entity::find_by_id(firm_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let product = products::Entity::find_by_id(new.product_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::validation("product_id", "no such product"))?;
    let view = product_views(&txn, std::slice::from_ref(&product))
        .await?
        .remove(0);
    if !view.in_force(today) {
        return Err(AppError::validation(
            "product_id",
            "the product is not in force",
        ));
    }
    let code = code_in_force(&txn, &firm)
        .await?
        .ok_or_else(|| AppError::validation("code", "the firm holds no code in force"))?;
    if !view.takes(
        code.grade,
        firm.industry_code.get(..2).unwrap_or_default(),
        &firm.district,
    ) {
        return Err(AppError::validation(
            "product_id",
            "the product does not take the firm's grade, industry or district",
        ));
    }
    if let (Some(asked), Some(max)) = (fixed(&amount_text), fixed(&view.max_amount_10k_cny))
        && asked > max
    {
        return Err(AppError::validation(
            "amount_10k_cny",
            "more than the product's maximum amount",
        ));
    }
    let model = applications::ActiveModel {
        product_id: Set(product.id),
        firm_id: Set(firm.id),
        code_serial: Set(code.serial),
        amount_10k_cny: Set(amount_text),
        purpose: Set(purpose),
        consent_scope: Set(scope),
        consent_expires_on: Set(expires_on),
        consent_withdrawn_at: Set(None),
        status: Set(ApplicationStatus::Submitted),
        created_by: Set(Some(caller.account_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let shown = application_views(&txn, std::slice::from_ref(&model))
        .await?
        .remove(0);
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "application.submit",
            target_type: "application",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"uscc": firm.uscc, "product": shown.product_name,
                               "amount_10k_cny": shown.amount_10k_cny, "code_serial": code.serial,
                               "consent_scope": scope, "consent_expires_on": expires_on})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// The application a caller may see: the firm its own, the bank those to its products, a
/// regulator any. Anyone else: as if it did not exist.
async fn visible<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<applications::Model> {
    let application = applications::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let allowed = match caller.role {
        Role::Regulator => true,
        Role::Firm => caller.firm_id == Some(application.firm_id),
        Role::Bank => products::Entity::find_by_id(application.product_id)
            .one(db)
            .await?
            .is_some_and(|p| p.bank_id == caller.account_id),
        Role::Provider => false,
    };
    if allowed {
        Ok(application)
    } else {
        Err(AppError::NotFound)
    }
}

/// The applications a caller sees, newest first.
pub async fn list<C: ConnectionTrait>(db: &C, caller: &Caller) -> AppResult<Vec<ApplicationView>> {
    let mut select = applications::Entity::find().order_by_desc(applications::Column::Id);
    match (caller.role, caller.firm_id) {
        (Role::Regulator, _) => {}
        (Role::Firm, Some(id)) => select = select.filter(applications::Column::FirmId.eq(id)),
        (Role::Bank, _) => {
            let own: Vec<i64> = products::Entity::find()
                .filter(products::Column::BankId.eq(caller.account_id))
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            select = select.filter(applications::Column::ProductId.is_in(own));
        }
        _ => return Err(AppError::Forbidden),
    }
    let list = select.all(db).await?;
    application_views(db, &list).await
}

/// One application with its code verified now; the bank's read is recorded for the firm, and
/// carries the figures only while a `trace` consent is in force.
pub async fn show(
    db: &DatabaseConnection,
    caches: &super::cache::Caches,
    keys: &crate::code::TrustedKeys,
    caller: &Caller,
    id: i64,
) -> AppResult<ApplicationView> {
    let application = visible(db, caller, id).await?;
    let mut view = application_views(db, std::slice::from_ref(&application))
        .await?
        .remove(0);
    let code = codes::Entity::find_by_id(application.code_serial)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let verified = super::verification::verify_codes(
        db,
        caches,
        keys,
        &[crate::code::text::encode(&code.cose)],
    )
    .await?;
    view.verification = verified.into_iter().next();
    let today = super::records::today();
    let figures =
        application.consent_in_force(today) && application.consent_scope == ConsentScope::Trace;
    let reads_figures = figures || caller.role == Role::Firm;
    if reads_figures {
        let assessment = assessments::Entity::find_by_id(code.assessment_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        view.input = serde_json::from_str(&assessment.input).ok();
        view.trace = serde_json::from_str(&assessment.trace).ok();
    }
    if caller.role == Role::Bank {
        let txn = crate::db::begin_write(db).await?;
        accesses::ActiveModel {
            application_id: Set(id),
            account_id: Set(Some(caller.account_id)),
            actor: Set(caller.username.clone()),
            what: Set(if figures {
                "application_trace"
            } else {
                "application"
            }
            .to_owned()),
            at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
    }
    Ok(view)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccessView {
    /// The bank's organisation.
    pub who: String,
    pub at: DateTime<Utc>,
    /// `application` (the grade and the code) or `application_trace` (with the figures).
    pub what: String,
}

/// Every read of the application's consented data (the firm, its bank, regulators).
pub async fn access_log(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<Vec<AccessView>> {
    visible(db, caller, id).await?;
    Ok(accesses_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// The reads of these applications (already shown to be visible to the caller, e.g. from
/// [`list`]), in one query, by application.
pub async fn accesses_of<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<AccessView>>> {
    let rows = accesses::Entity::find()
        .filter(accesses::Column::ApplicationId.is_in(ids.iter().copied()))
        .order_by_asc(accesses::Column::Id)
        .all(db)
        .await?;
    let names = fields::org_names(db, rows.iter().filter_map(|r| r.account_id)).await?;
    let mut out: HashMap<i64, Vec<AccessView>> = HashMap::new();
    for r in rows {
        out.entry(r.application_id).or_default().push(AccessView {
            who: r
                .account_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or(r.actor),
            at: r.at,
            what: r.what,
        });
    }
    Ok(out)
}

/// The firm withdraws its consent: from now on the bank's reads carry no figures.
pub async fn withdraw_consent(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<ApplicationView> {
    if caller.role != Role::Firm {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let application = visible(&txn, caller, id).await?;
    if application.consent_withdrawn_at.is_some() {
        return Err(AppError::Conflict(format!(
            "the consent of application {id} is already withdrawn"
        )));
    }
    let mut model: applications::ActiveModel = application.into();
    model.consent_withdrawn_at = Set(Some(now));
    let updated = model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "application.consent_withdraw",
            target_type: "application",
            target_id: id.to_string(),
            before: Some(json!({"consent_withdrawn": false})),
            after: Some(json!({"consent_withdrawn": true})),
        },
    )
    .await?;
    let shown = application_views(&txn, std::slice::from_ref(&updated))
        .await?
        .remove(0);
    txn.commit().await?;
    Ok(shown)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approved`, `declined` or `more_info`.
    pub decision: String,
    #[serde(default)]
    pub amount_10k_cny: Option<String>,
    #[serde(default)]
    pub rate_step_bp: Option<i32>,
    #[serde(default)]
    pub term_months: Option<i32>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The bank that owns the product decides: approve (amount, rate step, term), decline or ask
/// for more (a reason). A decided application is final.
pub async fn decide(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    d: DecisionRequest,
) -> AppResult<ApplicationView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    let decision = match d.decision.trim() {
        "approved" => ApplicationStatus::Approved,
        "declined" => ApplicationStatus::Declined,
        "more_info" => ApplicationStatus::MoreInfo,
        _ => {
            return Err(AppError::validation(
                "decision",
                "must be approved, declined or more_info",
            ));
        }
    };
    let (amount_text, step, term, reason) = if decision == ApplicationStatus::Approved {
        let amount_text = amount(
            "amount_10k_cny",
            d.amount_10k_cny
                .as_deref()
                .ok_or_else(|| AppError::fault("amount_10k_cny", Fault::Required))?,
        )?;
        let step = d
            .rate_step_bp
            .ok_or_else(|| AppError::fault("rate_step_bp", Fault::Required))?;
        if step.abs() > MAX_STEP_BP {
            return Err(AppError::validation(
                "rate_step_bp",
                "at most 500 basis points either way",
            ));
        }
        let term = d
            .term_months
            .ok_or_else(|| AppError::fault("term_months", Fault::Required))?;
        if !(1..=360).contains(&term) {
            return Err(AppError::validation(
                "term_months",
                "must be 1 to 360 months",
            ));
        }
        let reason = super::text::optional_note("reason", d.reason.as_deref(), 2000)?;
        (Some(amount_text), Some(step), Some(term), reason)
    } else {
        let reason = super::text::note("reason", d.reason.as_deref().unwrap_or_default(), 2000)?;
        (None, None, None, Some(reason))
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let application = visible(&txn, caller, id).await?;
    if !application.status.is_open() {
        return Err(AppError::Conflict(format!(
            "application {id} is already {}",
            application.status.as_str()
        )));
    }
    let before = application.status;
    let mut model: applications::ActiveModel = application.into();
    model.status = Set(decision);
    model.decision_amount_10k_cny = Set(amount_text.clone());
    model.decision_rate_step_bp = Set(step);
    model.decision_term_months = Set(term);
    model.decision_reason = Set(reason.clone());
    model.decided_by = Set(Some(caller.account_id));
    model.decided_at = Set(Some(now));
    let updated = model.update(&txn).await?;
    let shown = application_views(&txn, std::slice::from_ref(&updated))
        .await?
        .remove(0);
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "application.decide",
            target_type: "application",
            target_id: id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(
                json!({"uscc": shown.uscc, "status": decision, "amount_10k_cny": amount_text,
                               "rate_step_bp": step, "term_months": term, "reason": reason}),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    pub key: String,
    pub applications: u64,
    pub approved: u64,
    /// The approved amounts, summed exactly.
    pub amount_10k_cny: String,
    /// The mean rate step of the approvals, to one decimal; absent without approvals.
    pub avg_rate_step_bp: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub by: String,
    pub period: i32,
    pub rows: Vec<SummaryRow>,
}

/// What the code did for green finance in a year (applications made in it, China time),
/// grouped by the attached code's grade, the firm's district or division, or the bank.
pub async fn summary(
    db: &DatabaseConnection,
    caller: &Caller,
    by: &str,
    period: i32,
) -> AppResult<Summary> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    if !["grade", "district", "division", "bank"].contains(&by) {
        return Err(AppError::validation(
            "by",
            "must be grade, district, division or bank",
        ));
    }
    if !(1990..=2100).contains(&period) {
        return Err(AppError::fault("period", Fault::Year));
    }
    let start = NaiveDate::from_ymd_opt(period, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| AppError::fault("period", Fault::Year))?
        .and_utc()
        - chrono::Duration::hours(8);
    let end = start
        + chrono::Duration::days(if NaiveDate::from_ymd_opt(period, 2, 29).is_some() {
            366
        } else {
            365
        });
    let list = applications::Entity::find()
        .filter(applications::Column::CreatedAt.gte(start))
        .filter(applications::Column::CreatedAt.lt(end))
        .all(db)
        .await?;
    let views = application_views(db, &list).await?;
    let firms = firms::by_ids(db, list.iter().map(|a| a.firm_id)).await?;
    let mut groups: BTreeMap<String, (u64, u64, Fixed, i64, u64)> = BTreeMap::new();
    for (a, v) in list.iter().zip(&views) {
        let firm = firms.get(&a.firm_id);
        let key = match by {
            "grade" => v.grade.as_str().to_owned(),
            "district" => firm.map(|f| f.district.clone()).unwrap_or_default(),
            "division" => firm
                .and_then(|f| f.industry_code.get(..2).map(str::to_owned))
                .unwrap_or_default(),
            _ => v.bank.clone(),
        };
        let entry = groups.entry(key).or_insert((0, 0, Fixed::integer(0), 0, 0));
        entry.0 += 1;
        if a.status == ApplicationStatus::Approved {
            entry.1 += 1;
            if let Some(amount) = a.decision_amount_10k_cny.as_deref().and_then(fixed) {
                entry.2 = entry.2 + amount;
            }
            if let Some(step) = a.decision_rate_step_bp {
                entry.3 += i64::from(step);
                entry.4 += 1;
            }
        }
    }
    Ok(Summary {
        by: by.to_owned(),
        period,
        rows: groups
            .into_iter()
            .map(|(key, (n, approved, amount, steps, counted))| SummaryRow {
                key,
                applications: n,
                approved,
                amount_10k_cny: amount.normalised(),
                avg_rate_step_bp: (counted > 0).then(|| {
                    Fixed::integer(i128::from(steps))
                        .div_round(Fixed::integer(i128::from(counted)), 1)
                        .fixed_text()
                }),
            })
            .collect(),
    })
}
