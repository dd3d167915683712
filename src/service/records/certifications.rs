//! Certifications: declared by a firm (they count once a regulator verifies them), or recorded
//! verified by a regulator; reviewed, and listed.

use crate::db::Db;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::grading::input::CertificationKind;
use crate::service::accounts::{Caller, Role};
use crate::store::audit::Change;
use crate::store::{certifications, firms};

use super::{optional_note, text_field};
use crate::service::write::{Audited, audited};
use chrono::NaiveDate;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationRequest {
    pub kind: CertificationKind,
    pub number: String,
    pub issuer: String,
    #[serde(deserialize_with = "crate::service::fields::de_date")]
    pub valid_from: NaiveDate,
    #[serde(deserialize_with = "crate::service::fields::de_date")]
    pub valid_until: NaiveDate,
    #[serde(default)]
    pub evidence_note: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CertificationView {
    pub id: i64,
    pub uscc: String,
    pub kind: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: String,
    pub evidence_note: Option<String>,
    pub verified: bool,
    pub revoked: bool,
    pub revoked_reason: Option<String>,
    pub status: &'static str,
}

impl CertificationView {
    pub fn of(c: &certifications::Model, uscc: &str) -> Self {
        CertificationView {
            id: c.id,
            uscc: uscc.to_owned(),
            kind: c.kind.clone(),
            number: c.number.clone(),
            issuer: c.issuer.clone(),
            valid_from: c.valid_from.to_string(),
            valid_until: c.valid_until.to_string(),
            evidence_note: c.evidence_note.clone(),
            verified: c.verified,
            revoked: c.revoked,
            revoked_reason: c.revoked_reason.clone(),
            status: if c.revoked {
                "revoked"
            } else if c.verified {
                "verified"
            } else {
                "declared"
            },
        }
    }
}

/// A firm declares a certification (it counts once verified); a regulator's entry, as from the
/// official green-factory lists, is verified at once.
pub async fn add_certification(
    db: &Db,
    caller: &Caller,
    firm: &firms::Model,
    request: CertificationRequest,
) -> AppResult<CertificationView> {
    let kind = request.kind;
    let number = text_field("number", &request.number, 100)?;
    let issuer = text_field("issuer", &request.issuer, 200)?;
    let (valid_from, valid_until) = (request.valid_from, request.valid_until);
    if valid_until < valid_from {
        return Err(AppError::fault(
            "valid_until",
            crate::grading::Fault::DateOrder,
        ));
    }
    let evidence_note = optional_note("evidence_note", request.evidence_note.as_deref())?;
    let by_regulator = caller.role == Role::Regulator;
    audited(db, &caller.actor(), async |txn, now| {
        let model = certifications::ActiveModel {
            firm_id: Set(firm.id),
            kind: Set(kind.name().to_owned()),
            number: Set(number),
            issuer: Set(issuer),
            valid_from: Set(valid_from),
            valid_until: Set(valid_until),
            evidence_note: Set(evidence_note),
            verified: Set(by_regulator),
            revoked: Set(false),
            revoked_reason: Set(None),
            declared_by: Set(Some(caller.account_id)),
            reviewed_by: Set(by_regulator.then_some(caller.account_id)),
            reviewed_at: Set(by_regulator.then_some(now)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let view = CertificationView::of(&model, firm.uscc.as_str());
        let change = Change {
            action: if by_regulator {
                "certification.record"
            } else {
                "certification.declare"
            },
            target_type: "certification",
            target_id: model.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&view).map_err(AppError::internal)?),
        };
        Ok(Audited::one(view, change))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[serde(default)]
    pub verified: Option<bool>,
    #[serde(default)]
    pub revoked: Option<bool>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A regulator verifies a declared certification, or revokes one (with a reason).
pub async fn review_certification(
    db: &Db,
    caller: &Caller,
    id: i64,
    request: ReviewRequest,
) -> AppResult<CertificationView> {
    let revoke = match (request.verified, request.revoked) {
        (Some(true), None | Some(false)) => false,
        (None | Some(false), Some(true)) => true,
        _ => {
            return Err(AppError::field_fault(
                crate::grading::Fault::Combination,
                "verified",
                "give either \"verified\": true or \"revoked\": true",
            ));
        }
    };
    let reason = if revoke {
        Some(text_field(
            "reason",
            request.reason.as_deref().unwrap_or(""),
            1000,
        )?)
    } else {
        None
    };
    audited(db, &caller.actor(), async |txn, now| {
        let current = certifications::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let firm = firms::Entity::find_by_id(current.firm_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if current.revoked {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                "the certification is revoked".into(),
            ));
        }
        if !revoke && current.verified {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                "the certification is already verified".into(),
            ));
        }
        let before = CertificationView::of(&current, firm.uscc.as_str());
        let mut model: certifications::ActiveModel = current.into();
        if revoke {
            model.revoked = Set(true);
            model.revoked_reason = Set(reason);
        } else {
            model.verified = Set(true);
        }
        model.reviewed_by = Set(Some(caller.account_id));
        model.reviewed_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let after = CertificationView::of(&updated, firm.uscc.as_str());
        let change = Change {
            action: if revoke {
                "certification.revoke"
            } else {
                "certification.verify"
            },
            target_type: "certification",
            target_id: id.to_string(),
            before: Some(serde_json::to_value(&before).map_err(AppError::internal)?),
            after: Some(serde_json::to_value(&after).map_err(AppError::internal)?),
        };
        Ok(Audited::one(after, change))
    })
    .await
}

/// Certifications by status (`declared` awaits verification), oldest first, a page at a time:
/// the regulator's queue in the API and on the desk.
pub async fn list_certifications(
    db: &crate::db::Db,
    status: Option<&str>,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> AppResult<crate::service::paging::Page<CertificationView>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let select = certifications::Entity::find();
    let select = match status {
        None => select,
        Some("declared") => select
            .filter(certifications::Column::Verified.eq(false))
            .filter(certifications::Column::Revoked.eq(false)),
        Some("verified") => select
            .filter(certifications::Column::Verified.eq(true))
            .filter(certifications::Column::Revoked.eq(false)),
        Some("revoked") => select.filter(certifications::Column::Revoked.eq(true)),
        Some(_) => {
            return Err(AppError::field_fault(
                crate::grading::Fault::OneOf,
                "status",
                "must be declared, verified or revoked",
            ));
        }
    };
    let page = crate::service::paging::keyset(
        db,
        select,
        certifications::Column::Id,
        |c| c.id,
        cursor,
        limit,
    )
    .await?;
    let firms = crate::store::firms::by_ids(db, page.items.iter().map(|c| c.firm_id)).await?;
    Ok(page
        .map(|c| CertificationView::of(&c, firms.get(&c.firm_id).map_or("", |f| f.uscc.as_str()))))
}

/// A firm's certifications, as its desk and the API list them.
pub async fn certifications_of(
    db: &crate::db::Db,
    firm: &firms::Model,
) -> AppResult<Vec<CertificationView>> {
    Ok(certifications::of_firm(db, firm.id)
        .await?
        .iter()
        .map(|c| CertificationView::of(c, firm.uscc.as_str()))
        .collect())
}
