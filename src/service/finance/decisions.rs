//! The bank's decision on an application, and applications as one kind of the offer → ask →
//! decide workflow (`service::workflow`): the bank owns the product and answers.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::applications::{ApplicationView, application_views};
use super::products::{MAX_STEP_BP, amount};
use crate::db::{Db, WriteTxn};
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::service::accounts::{Caller, Role};
use crate::service::workflow::{self, Whose, Workflow};
use crate::store::applications::{self, ApplicationStatus};
use crate::store::products;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    #[serde(default)]
    pub amount_10k_cny: Option<String>,
    #[serde(default)]
    pub rate_step_bp: Option<i32>,
    #[serde(default)]
    pub term_months: Option<i32>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a bank may decide on an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Declined,
    MoreInfo,
}

impl Decision {
    /// The application's status after this decision.
    pub fn status(self) -> ApplicationStatus {
        match self {
            Decision::Approved => ApplicationStatus::Approved,
            Decision::Declined => ApplicationStatus::Declined,
            Decision::MoreInfo => ApplicationStatus::MoreInfo,
        }
    }
}

/// The bank that owns the product decides: approve (amount, rate step, term), decline or ask
/// for more (a reason). A decided application is final.
pub async fn decide(
    db: &Db,
    caller: &Caller,
    id: i64,
    d: DecisionRequest,
) -> AppResult<ApplicationView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    let decision = d.decision.status();
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
        if !(-MAX_STEP_BP..=MAX_STEP_BP).contains(&step) {
            return Err(AppError::field_fault(
                crate::grading::Fault::Range,
                "rate_step_bp",
                "at most 500 basis points either way",
            ));
        }
        let term = d
            .term_months
            .ok_or_else(|| AppError::fault("term_months", Fault::Required))?;
        if !(1..=360).contains(&term) {
            return Err(AppError::field_fault(
                crate::grading::Fault::Range,
                "term_months",
                "must be 1 to 360 months",
            ));
        }
        let reason = crate::service::text::optional_note("reason", d.reason.as_deref(), 2000)?;
        (Some(amount_text), Some(step), Some(term), reason)
    } else {
        let reason =
            crate::service::text::note("reason", d.reason.as_deref().unwrap_or_default(), 2000)?;
        (None, None, None, Some(reason))
    };
    let terms = Terms {
        amount_10k_cny: amount_text,
        rate_step_bp: step,
        term_months: term,
        reason,
    };
    workflow::answer::<Applications>(db, caller, id, decision, terms).await
}

/// What goes with a bank's decision: the terms of an approval, the reason of the others.
pub struct Terms {
    pub amount_10k_cny: Option<String>,
    pub rate_step_bp: Option<i32>,
    pub term_months: Option<i32>,
    pub reason: Option<String>,
}

/// An approval grants at most what the firm asked for and at most the product's maximum: a
/// larger sum is a new application, which the firm makes.
async fn within_bounds(txn: &WriteTxn, row: &applications::Model, approved: &str) -> AppResult<()> {
    let decimal = |text: &str| crate::grading::decimal::parse_decimal(text).ok();
    let approved = decimal(approved);
    let too_much = |bound: Option<rust_decimal::Decimal>, reason: String| match (approved, bound) {
        (Some(a), Some(b)) if a > b => Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "amount_10k_cny",
            reason,
        )),
        _ => Ok(()),
    };
    too_much(
        decimal(&row.amount_10k_cny),
        format!(
            "at most the {} (10k CNY) the firm applied for",
            row.amount_10k_cny
        ),
    )?;
    if let Some(product) = products::Entity::find_by_id(row.product_id)
        .one(txn)
        .await?
    {
        too_much(
            decimal(&product.max_amount_10k_cny),
            format!(
                "at most the product's maximum of {} (10k CNY)",
                product.max_amount_10k_cny
            ),
        )?;
    }
    Ok(())
}

/// Applications in the offer → ask → decide workflow: banks own the products.
pub struct Applications;

impl Workflow for Applications {
    type Row = applications::Model;
    type Status = ApplicationStatus;
    type Answer = Terms;
    type View = ApplicationView;

    const KIND: &'static str = "application";
    const ASKED: &'static str = "application.submit";
    const ANSWERED: &'static str = "application.decide";
    const OWNER: Role = Role::Bank;

    fn id(row: &Self::Row) -> i64 {
        row.id
    }

    fn firm_id(row: &Self::Row) -> crate::store::ids::FirmId {
        row.firm_id
    }

    fn status(row: &Self::Row) -> ApplicationStatus {
        row.status
    }

    fn status_name(status: ApplicationStatus) -> &'static str {
        status.as_str()
    }

    /// An open application (submitted, or asked for more) takes any decision; a decided one
    /// is final.
    fn may_become(from: ApplicationStatus, _to: ApplicationStatus) -> bool {
        from.is_open()
    }

    fn is_open(status: ApplicationStatus) -> bool {
        status.is_open()
    }

    async fn find<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<Self::Row>> {
        Ok(applications::Entity::find_by_id(id).one(db).await?)
    }

    async fn owner_of<C: ConnectionTrait>(
        db: &C,
        row: &Self::Row,
    ) -> AppResult<Option<crate::store::ids::AccountId>> {
        Ok(products::Entity::find_by_id(row.product_id)
            .one(db)
            .await?
            .map(|p| p.bank_id))
    }

    async fn rows<C: ConnectionTrait>(db: &C, whose: Whose) -> AppResult<Vec<Self::Row>> {
        let mut select = applications::Entity::find().order_by_desc(applications::Column::Id);
        match whose {
            Whose::All => {}
            Whose::Firm(id) => select = select.filter(applications::Column::FirmId.eq(id)),
            Whose::Owner(bank) => {
                let own: Vec<i64> = products::Entity::find()
                    .filter(products::Column::BankId.eq(bank))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|p| p.id)
                    .collect();
                select = select.filter(applications::Column::ProductId.is_in(own));
            }
        }
        Ok(select.all(db).await?)
    }

    async fn views<C: ConnectionTrait>(db: &C, rows: &[Self::Row]) -> AppResult<Vec<Self::View>> {
        application_views(db, rows).await
    }

    async fn store_answer(
        txn: &WriteTxn,
        row: Self::Row,
        next: ApplicationStatus,
        terms: &Terms,
        by: crate::store::ids::AccountId,
        now: DateTime<Utc>,
    ) -> AppResult<Self::Row> {
        if let Some(approved) = &terms.amount_10k_cny {
            within_bounds(txn, &row, approved).await?;
        }
        let mut model: applications::ActiveModel = row.into();
        model.status = Set(next);
        model.decision_amount_10k_cny = Set(terms.amount_10k_cny.clone());
        model.decision_rate_step_bp = Set(terms.rate_step_bp);
        model.decision_term_months = Set(terms.term_months);
        model.decision_reason = Set(terms.reason.clone());
        model.decided_by = Set(Some(by));
        model.decided_at = Set(Some(now));
        Ok(model.update(txn).await?)
    }

    fn asked_record(view: &Self::View) -> Value {
        json!({"uscc": view.uscc, "product": view.product_name,
               "amount_10k_cny": view.amount_10k_cny, "code_serial": view.code_serial,
               "consent_scope": view.consent.scope, "consent_expires_on": view.consent.expires_on})
    }

    fn answered_record(view: &Self::View, next: ApplicationStatus, terms: &Terms) -> Value {
        json!({"uscc": view.uscc, "status": next, "amount_10k_cny": terms.amount_10k_cny,
               "rate_step_bp": terms.rate_step_bp, "term_months": terms.term_months,
               "reason": terms.reason})
    }
}
