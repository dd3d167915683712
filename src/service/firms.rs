//! Firms: creating one (with its audit event).

use chrono::Utc;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ConnectionTrait;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::grading::Uscc;
use crate::store::audit::{self, Actor, Change};
use crate::store::firms;

/// A new firm, parsed at the boundary.
pub struct NewFirm {
    pub uscc: Uscc,
    pub name: String,
    pub industry_code: String,
    pub district: String,
}

#[derive(Debug, Serialize)]
pub struct FirmRecord {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub industry_code: String,
    pub district: String,
}

impl From<&firms::Model> for FirmRecord {
    fn from(f: &firms::Model) -> Self {
        FirmRecord {
            id: f.id,
            uscc: f.uscc.clone(),
            name: f.name.clone(),
            industry_code: f.industry_code.clone(),
            district: f.district.clone(),
        }
    }
}

pub fn check_name(field: &str, name: &str) -> AppResult<()> {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > 200 || name.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            "must be 1 to 200 characters, no control characters",
        ));
    }
    Ok(())
}

/// Inserts the firm and its audit event on `txn` (the caller commits).
pub async fn insert_firm<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    new: NewFirm,
) -> AppResult<firms::Model> {
    check_name("name", &new.name)?;
    check_name("district", &new.district)?;
    if new.industry_code.len() != 4 || !new.industry_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::validation(
            "industry_code",
            "must be exactly 4 digits",
        ));
    }
    if firms::find_by_uscc(txn, new.uscc.as_str()).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "a firm with USCC {} exists",
            new.uscc
        )));
    }
    let now = Utc::now();
    let firm = firms::ActiveModel {
        uscc: Set(new.uscc.as_str().to_owned()),
        name: Set(new.name.trim().to_owned()),
        industry_code: Set(new.industry_code),
        district: Set(new.district.trim().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        actor,
        now,
        Change {
            action: "firm.create",
            target_type: "firm",
            target_id: firm.uscc.clone(),
            before: None,
            after: Some(serde_json::to_value(FirmRecord::from(&firm)).map_err(AppError::internal)?),
        },
    )
    .await?;
    Ok(firm)
}
