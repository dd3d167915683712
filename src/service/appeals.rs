//! Appeals: a firm objects to an issued grade with a note; it lands in the regulators' queue
//! and in the audit trail, and a regulator closes it with a resolution.

use crate::db::Db;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::service::write::{Audited, audited};
use crate::store::appeals::{self, AppealOutcome, AppealStatus};
use crate::store::audit::Change;
use crate::store::{codes, firms};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    pub note: String,
    #[serde(default)]
    pub code_serial: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub id: i64,
    pub uscc: String,
    pub firm_name: String,
    pub code_serial: Option<i64>,
    pub note: String,
    pub status: AppealStatus,
    pub created_at: chrono::DateTime<Utc>,
    pub resolution: Option<String>,
    pub outcome: Option<AppealOutcome>,
    pub resolved_at: Option<chrono::DateTime<Utc>>,
    /// The code the decision issued (reinstated or regraded).
    pub new_serial: Option<i64>,
}

fn view(a: &appeals::Model, firm: &firms::Model) -> AppealView {
    AppealView {
        id: a.id,
        uscc: firm.uscc.to_string(),
        firm_name: firm.name.clone(),
        code_serial: a.code_serial,
        note: a.note.clone(),
        status: a.status,
        created_at: a.created_at,
        resolution: a.resolution.clone(),
        outcome: a.outcome,
        resolved_at: a.resolved_at,
        new_serial: a.new_serial,
    }
}

fn note_text(field: &str, text: &str) -> AppResult<String> {
    super::text::note(field, text, 2000)
}

/// A firm appeals against one of its codes (its current one when none is named).
pub async fn raise(db: &Db, caller: &Caller, request: AppealRequest) -> AppResult<AppealView> {
    let note = note_text("note", &request.note)?;
    let firm_id = caller.firm_id.ok_or(AppError::Forbidden)?;
    let firm = firms::Entity::find_by_id(firm_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let serial = match request.code_serial {
        Some(serial) => {
            let code = codes::Entity::find_by_id(serial).one(db).await?;
            match code {
                Some(c) if c.firm_id == firm.id => Some(serial),
                _ => {
                    return Err(AppError::field_fault(
                        crate::grading::Fault::Unknown,
                        "code_serial",
                        "not one of this firm's codes",
                    ));
                }
            }
        }
        None => firm.current_serial,
    };
    if serial.is_none() {
        return Err(AppError::field_fault(
            crate::grading::Fault::NotEligible,
            "code_serial",
            "the firm has no issued code to appeal against",
        ));
    }
    audited(db, &caller.actor(), async |txn, now| {
        let appeal = appeals::ActiveModel {
            firm_id: Set(firm.id),
            code_serial: Set(serial),
            note: Set(note),
            status: Set(AppealStatus::Open),
            raised_by: Set(Some(caller.account_id)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let change = Change {
            action: "appeal.raise",
            target_type: "appeal",
            target_id: appeal.id.to_string(),
            before: None,
            after: Some(json!({"uscc": firm.uscc, "code_serial": serial, "note": appeal.note})),
        };
        Ok(Audited::one(view(&appeal, &firm), change))
    })
    .await
}

/// Open appeals for a regulator; a firm's own appeals for a firm.
pub async fn list(db: &Db, caller: &Caller, only_open: bool) -> AppResult<Vec<AppealView>> {
    let mut select = appeals::Entity::find().order_by_asc(appeals::Column::Id);
    if only_open {
        select = select.filter(appeals::Column::Status.eq(AppealStatus::Open));
    }
    match caller.role {
        Role::Firm => {
            select = select.filter(
                appeals::Column::FirmId.eq(caller.firm_id.unwrap_or(crate::store::ids::FirmId(-1))),
            )
        }
        Role::Regulator => {}
        Role::Bank | Role::Provider | Role::Source => return Err(AppError::Forbidden),
    }
    let rows = select.all(db).await?;
    let ids: Vec<crate::store::ids::FirmId> = rows.iter().map(|a| a.firm_id).collect();
    let firms = firms::by_ids(db, ids).await?;
    Ok(rows
        .iter()
        .filter_map(|a| firms.get(&a.firm_id).map(|f| view(a, f)))
        .collect())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The reasons, which the firm reads.
    pub resolution: String,
    /// `upheld` (the default: the grade or revocation stands), `reinstated` (a revoked code's
    /// firm gets a new code on the same figures) or `regraded` (the firm is graded again on its
    /// figures and records as they are now, a new code issued).
    #[serde(default)]
    pub outcome: AppealOutcome,
}

/// What issuing needs, for a decision that issues a code.
pub struct Issuer<'a> {
    pub caches: &'a super::cache::Caches,
    pub keys: &'a std::sync::Arc<super::keystore::Keys>,
    pub public_url: &'a str,
}

/// A regulator decides an appeal: the outcome and its reasons. Reinstated and regraded issue a
/// new code first — the appealed code's figures submitted again and approved as of today, with
/// the records as they are now — and the decision names it; upheld changes no code.
pub async fn close(
    db: &Db,
    issuer: &Issuer<'_>,
    caller: &Caller,
    id: i64,
    request: CloseRequest,
) -> AppResult<AppealView> {
    let resolution = note_text("resolution", &request.resolution)?;
    let appeal = appeals::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if appeal.status != AppealStatus::Open {
        return Err(AppError::Conflict(
            crate::error::Conflict::AlreadyDone,
            format!("appeal {id} is already closed"),
        ));
    }
    let new_serial = match request.outcome {
        AppealOutcome::Upheld => None,
        outcome => Some(issue_again(db, issuer, caller, &appeal, outcome).await?),
    };
    audited(db, &caller.actor(), async |txn, now| {
        let appeal = appeals::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if appeal.status != AppealStatus::Open {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                format!("appeal {id} is already closed"),
            ));
        }
        let firm = firms::Entity::find_by_id(appeal.firm_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut model: appeals::ActiveModel = appeal.into();
        model.status = Set(AppealStatus::Closed);
        model.resolution = Set(Some(resolution.clone()));
        model.outcome = Set(Some(request.outcome));
        model.new_serial = Set(new_serial);
        model.resolved_by = Set(Some(caller.account_id));
        model.resolved_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: "appeal.close",
            target_type: "appeal",
            target_id: id.to_string(),
            before: Some(json!({"status": AppealStatus::Open})),
            after: Some(
                json!({"status": AppealStatus::Closed, "outcome": request.outcome,
                               "resolution": resolution, "new_serial": new_serial}),
            ),
        };
        Ok(Audited::one(view(&updated, &firm), change))
    })
    .await
}

/// The appealed code's figures submitted again and approved: the new code's serial.
async fn issue_again(
    db: &Db,
    issuer: &Issuer<'_>,
    caller: &Caller,
    appeal: &appeals::Model,
    outcome: AppealOutcome,
) -> AppResult<i64> {
    let field = || {
        AppError::field_fault(
            crate::grading::Fault::NotEligible,
            "outcome",
            "the appeal names no code whose figures could be graded again",
        )
    };
    let code = match appeal.code_serial {
        Some(serial) => codes::Entity::find_by_id(serial).one(db).await?,
        None => None,
    }
    .ok_or_else(field)?;
    if outcome == AppealOutcome::Reinstated && code.status != codes::CodeStatus::Revoked {
        return Err(AppError::field_fault(
            crate::grading::Fault::NotEligible,
            "outcome",
            "only a revoked code is reinstated; regrade the firm instead",
        ));
    }
    let assessment = crate::store::assessments::Entity::find_by_id(code.assessment_id)
        .one(db)
        .await?
        .ok_or_else(field)?;
    let stored: serde_json::Value =
        serde_json::from_str(&assessment.input).map_err(AppError::internal)?;
    // The firm's own figures, as a submission carries them; the service attaches its records.
    let mut data = serde_json::Map::new();
    for member in [
        "uscc",
        "period",
        "value_added_10k_cny",
        "energy",
        "waste",
        "green_power_kwh",
    ] {
        if let Some(value) = stored.get(member) {
            data.insert(member.into(), value.clone());
        }
    }
    let request = super::assessments::AssessmentRequest::from_json(serde_json::Value::Object(data));
    let submitted = super::assessments::submit(db, issuer.caches, caller, &request).await?;
    let issued = super::issue::approve(
        db,
        issuer.caches,
        issuer.keys,
        caller,
        submitted.id,
        issuer.public_url,
    )
    .await?;
    i64::try_from(issued.serial).map_err(AppError::internal)
}
