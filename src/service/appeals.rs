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
use crate::store::appeals::{self, AppealStatus};
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
        Role::Bank | Role::Provider => return Err(AppError::Forbidden),
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
    pub resolution: String,
}

pub async fn close(
    db: &Db,
    caller: &Caller,
    id: i64,
    request: CloseRequest,
) -> AppResult<AppealView> {
    let resolution = note_text("resolution", &request.resolution)?;
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
        model.resolved_by = Set(Some(caller.account_id));
        model.resolved_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: "appeal.close",
            target_type: "appeal",
            target_id: id.to_string(),
            before: Some(json!({"status": AppealStatus::Open})),
            after: Some(json!({"status": AppealStatus::Closed, "resolution": resolution})),
        };
        Ok(Audited::one(view(&updated, &firm), change))
    })
    .await
}
