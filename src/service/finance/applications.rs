//! Applications for a product: the firm's consent to share its figures, the bank's reads of them
//! (each recorded for the firm to see), the consent withdrawn, and the bank's decision.

use super::products::Standing;
use super::products::amount;
use super::products::code_in_force;
use super::products::fixed;
use super::products::product_views;
use crate::db::Db;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::decisions::Applications;
use crate::error::{AppError, AppResult};
use crate::grading::Grade;
use crate::service::accounts::{Caller, Role};
use crate::service::fields;
use crate::service::workflow;
use crate::service::write::{Audited, audited};
use crate::store::applications::{self, ApplicationStatus, ConsentScope, accesses};
use crate::store::audit::Change;
use crate::store::codes::{self};
use crate::store::products::{self};
use crate::store::{assessments, firms};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `grade` (the grade and the code only) or `trace` (the figures and trace too).
    pub scope: ConsentScope,
    /// The last day the bank may read; at most two years ahead.
    #[serde(deserialize_with = "fields::de_date")]
    pub expires_on: NaiveDate,
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
    /// The bank's contact line, for the firm; the applying account's, for the bank (each
    /// only when given).
    pub bank_contact: Option<String>,
    pub firm_contact: Option<String>,
    /// The attached code verified now (one application's read only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::service::verification::VerifyResult>,
    /// The assessment's input and trace, while a `trace` consent is in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub trace: Option<Value>,
    /// The bank's requests for more and the firm's answers, oldest first (the request waiting
    /// for an answer last).
    pub thread: Vec<MessageView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    /// `bank` or `firm`.
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
    /// The files that came with it (the firm's answers).
    pub files: Vec<super::attachments::FileView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub body: String,
    /// Files for the bank (at most 5; PDF, PNG or JPEG; 4 MB each, 10 MB together).
    #[serde(default)]
    pub attachments: Vec<super::attachments::AttachmentJson>,
}

/// An answer as the service takes it: the words, and the files as they arrived.
pub struct Reply {
    pub body: String,
    pub attachments: Vec<super::attachments::Attachment>,
}

impl ReplyRequest {
    /// The answer with its files decoded (each fault by its field).
    pub fn decoded(self) -> AppResult<Reply> {
        Ok(Reply {
            body: self.body,
            attachments: self
                .attachments
                .into_iter()
                .enumerate()
                .map(|(i, a)| a.decode(i))
                .collect::<AppResult<_>>()?,
        })
    }
}

/// The firm answers its bank's request for more: the request and the answer join the thread,
/// and the application goes back to the bank as submitted.
pub async fn reply(
    db: &Db,
    caller: &Caller,
    id: i64,
    request: Reply,
) -> AppResult<ApplicationView> {
    use crate::store::applications::messages;
    if caller.role != Role::Firm {
        return Err(AppError::Forbidden);
    }
    let body = crate::service::text::note("body", &request.body, 4000)?;
    let mut files = Some(super::attachments::check(request.attachments)?);
    let attached: Vec<String> = files
        .iter()
        .flatten()
        .map(super::attachments::Checked::name)
        .map(str::to_owned)
        .collect();
    let firm_id = caller.firm_id.ok_or(AppError::Forbidden)?;
    let updated = audited(db, &caller.actor(), async |txn, now| {
        let a = applications::Entity::find_by_id(id)
            .one(txn)
            .await?
            .filter(|a| a.firm_id == firm_id)
            .ok_or(AppError::NotFound)?;
        if a.status != ApplicationStatus::MoreInfo {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                format!("application {id} is not waiting for an answer"),
            ));
        }
        for (author, text, at) in [
            (
                "bank",
                a.decision_reason.clone().unwrap_or_default(),
                a.decided_at.unwrap_or(now),
            ),
            ("firm", body.clone(), now),
        ] {
            let message = messages::ActiveModel {
                application_id: Set(a.id),
                author: Set(author.to_owned()),
                body: Set(text),
                created_at: Set(at),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            if author == "firm"
                && let Some(files) = files.take()
            {
                super::attachments::keep(txn, a.id, message.id, files).await?;
            }
        }
        let mut model: applications::ActiveModel = a.into();
        model.status = Set(ApplicationStatus::Submitted);
        model.decision_reason = Set(None);
        model.decided_by = Set(None);
        model.decided_at = Set(None);
        let updated = model.update(txn).await?;
        let change = Change {
            action: "application.reply",
            target_type: "application",
            target_id: id.to_string(),
            before: Some(json!({"status": ApplicationStatus::MoreInfo})),
            after: Some(
                json!({"status": ApplicationStatus::Submitted, "reply": body,
                               "files": attached}),
            ),
        };
        Ok(Audited::one(updated, change))
    })
    .await?;
    Ok(application_views(db, std::slice::from_ref(&updated))
        .await?
        .remove(0))
}

pub(super) async fn application_views<C: ConnectionTrait>(
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
    let contacts = fields::contacts(
        db,
        products
            .values()
            .map(|p| p.bank_id)
            .chain(list.iter().filter_map(|a| a.created_by)),
    )
    .await?;
    let firms = firms::by_ids(db, list.iter().map(|a| a.firm_id)).await?;
    let grades: HashMap<i64, Grade> = codes::Entity::find()
        .filter(codes::Column::Serial.is_in(list.iter().map(|a| a.code_serial)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.serial, c.grade.0))
        .collect();
    let today = crate::service::records::today();
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    let mut files = super::attachments::of_messages(db, &ids).await?;
    let mut threads: HashMap<i64, Vec<MessageView>> = HashMap::new();
    for m in crate::store::rows_in::<crate::store::applications::messages::Entity, _, _>(
        db,
        crate::store::applications::messages::Column::ApplicationId,
        list.iter().map(|a| a.id),
    )
    .await?
    {
        threads
            .entry(m.application_id)
            .or_default()
            .push(MessageView {
                files: files.remove(&m.id).unwrap_or_default(),
                author: m.author,
                body: m.body,
                at: m.created_at,
            });
    }
    for thread in threads.values_mut() {
        thread.sort_by_key(|m| m.at);
    }
    Ok(list
        .iter()
        .map(|a| {
            let product = products.get(&a.product_id);
            let mut thread = threads.remove(&a.id).unwrap_or_default();
            // The request waiting for an answer.
            if a.status == ApplicationStatus::MoreInfo
                && let (Some(reason), Some(at)) = (&a.decision_reason, a.decided_at)
            {
                thread.push(MessageView {
                    author: "bank".into(),
                    body: reason.clone(),
                    at,
                    files: Vec::new(),
                });
            }
            let firm = firms.get(&a.firm_id);
            ApplicationView {
                id: a.id,
                product_id: a.product_id,
                product_name: product.map(|p| p.name.clone()).unwrap_or_default(),
                bank: product
                    .and_then(|p| banks.get(&p.bank_id).cloned())
                    .unwrap_or_default(),
                uscc: firm.map(|f| f.uscc.to_string()).unwrap_or_default(),
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
                bank_contact: product.and_then(|p| contacts.get(&p.bank_id).cloned()),
                firm_contact: a.created_by.and_then(|id| contacts.get(&id).cloned()),
                verification: None,
                input: None,
                trace: None,
                thread,
            }
        })
        .collect())
}

/// A firm applies for a product with its code in force attached and its consent.
pub async fn apply(db: &Db, caller: &Caller, new: NewApplication) -> AppResult<ApplicationView> {
    if caller.role != Role::Firm {
        return Err(AppError::Forbidden);
    }
    let amount_text = amount("amount_10k_cny", &new.amount_10k_cny)?;
    let purpose = crate::service::text::note("purpose", &new.purpose, 2000)?;
    let scope = new.consent.scope;
    let today = crate::service::records::today();
    let expires_on = new.consent.expires_on;
    if expires_on < today {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "consent.expires_on",
            "must not be in the past",
        ));
    }
    if expires_on > today + chrono::Duration::days(731) {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "consent.expires_on",
            "at most two years ahead",
        ));
    }
    workflow::ask::<Applications>(db, caller, async |txn, firm_id, now| {
        let firm = firms::Entity::find_by_id(firm_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let product = products::Entity::find_by_id(new.product_id)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::field_fault(
                    crate::grading::Fault::Unknown,
                    "product_id",
                    "no such product",
                )
            })?;
        let view = product_views(txn, std::slice::from_ref(&product))
            .await?
            .remove(0);
        if !view.in_force(today) {
            return Err(AppError::field_fault(
                crate::grading::Fault::NotEligible,
                "product_id",
                "the product is not in force",
            ));
        }
        let code = code_in_force(txn, &firm).await?.ok_or_else(|| {
            AppError::field_fault(
                crate::grading::Fault::NotEligible,
                "code",
                "the firm holds no code in force",
            )
        })?;
        if let Some((field, why)) = view.refuses(&Standing::of(&code, &firm)) {
            return Err(AppError::field_fault(
                crate::grading::Fault::NotEligible,
                field,
                why,
            ));
        }
        if let (Some(asked), Some(max)) = (fixed(&amount_text), fixed(&view.max_amount_10k_cny))
            && asked > max
        {
            return Err(AppError::field_fault(
                crate::grading::Fault::NotEligible,
                "amount_10k_cny",
                "more than the product's maximum amount",
            ));
        }
        Ok(applications::ActiveModel {
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
        .insert(txn)
        .await?)
    })
    .await
}

/// The application a caller may see: the firm its own, the bank those to its products, a
/// regulator any. Anyone else: as if it did not exist.
pub(super) async fn visible<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<applications::Model> {
    workflow::visible::<Applications, _>(db, caller, id).await
}

/// The applications a caller sees, newest first.
pub async fn list<C: ConnectionTrait>(db: &C, caller: &Caller) -> AppResult<Vec<ApplicationView>> {
    workflow::list::<Applications, _>(db, caller).await
}

/// One application with its code verified now; the bank's read is recorded for the firm, and
/// carries the figures only while a `trace` consent is in force.
pub async fn show(
    db: &Db,
    caches: &crate::service::cache::Caches,
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
    let verified = crate::service::verification::verify_codes(
        db,
        caches,
        keys,
        &[crate::code::text::encode(&code.cose)],
    )
    .await?;
    view.verification = verified.into_iter().next();
    let today = crate::service::records::today();
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
pub async fn access_log(db: &Db, caller: &Caller, id: i64) -> AppResult<Vec<AccessView>> {
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
pub async fn withdraw_consent(db: &Db, caller: &Caller, id: i64) -> AppResult<ApplicationView> {
    if caller.role != Role::Firm {
        return Err(AppError::Forbidden);
    }
    audited(db, &caller.actor(), async |txn, now| {
        let application = visible(txn, caller, id).await?;
        if application.consent_withdrawn_at.is_some() {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                format!("the consent of application {id} is already withdrawn"),
            ));
        }
        let mut model: applications::ActiveModel = application.into();
        model.consent_withdrawn_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: "application.consent_withdraw",
            target_type: "application",
            target_id: id.to_string(),
            before: Some(json!({"consent_withdrawn": false})),
            after: Some(json!({"consent_withdrawn": true})),
        };
        let shown = application_views(txn, std::slice::from_ref(&updated))
            .await?
            .remove(0);
        Ok(Audited::one(shown, change))
    })
    .await
}
