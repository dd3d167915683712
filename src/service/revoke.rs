//! Revoking a code (active or superseded) with a reason: a revoke entry in the log, in one
//! transaction with the code's status, the firm's current grade and the audit event.

use crate::db::Db;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::Caller;
use super::cache::Caches;
use super::issue::{checkpoint_note, set_current};
use super::keystore::Keys;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Change};
use crate::store::codes::{self, CodeStatus};
use crate::store::{firms, tlog};
use crate::tlog::{Entry, RevokeEntry};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedCode {
    pub serial: i64,
    pub status: CodeStatus,
    pub reason: String,
    pub log_index: u64,
}

/// Revokes a code (active or superseded) with a reason: a revoke entry in the log.
pub async fn revoke(
    db: &Db,
    caches: &Caches,
    keys: &Keys,
    caller: &Caller,
    serial: i64,
    request: RevokeRequest,
) -> AppResult<RevokedCode> {
    let reason = crate::service::text::note("reason", &request.reason, 1000)?;
    let txn = crate::db::begin_write(db).await?;
    let head = tlog::lock_head(&txn).await?;
    keys.guard.check(head, &keys.ring)?;
    let code = codes::Entity::find_by_id(serial)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if code.status == CodeStatus::Revoked {
        return Err(AppError::Conflict(
            crate::error::Conflict::AlreadyDone,
            format!("code {serial} is already revoked"),
        ));
    }
    let now = Utc::now();
    let entry = Entry::Revoke(RevokeEntry {
        serial: head.size,
        target: serial,
        reason: reason.clone(),
        at: now.timestamp(),
    });
    let (_, note) =
        tlog::append_signed(&txn, head, &entry, |new| checkpoint_note(keys, new)).await?;
    let was = code.status;
    let firm_id = code.firm_id;
    let mut model: codes::ActiveModel = code.into();
    model.status = Set(CodeStatus::Revoked);
    model.revoked_reason = Set(Some(reason.clone()));
    model.revoked_at = Set(Some(now));
    model.revoke_entry = Set(Some(head.size as i64));
    let revoked = model.update(&txn).await?;
    if let Some(firm) = firms::Entity::find_by_id(revoked.firm_id).one(&txn).await? {
        super::webhooks::enqueue(
            &txn,
            firm.id,
            "code.revoked",
            super::webhooks::code_data(&revoked, firm.uscc.as_str(), &firm.name),
        )
        .await?;
    }
    if was == CodeStatus::Active {
        let firm = firms::Entity::find_by_id(firm_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        set_current(&txn, &firm, None).await?;
    }
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "code.revoke",
            target_type: "code",
            target_id: serial.to_string(),
            before: Some(json!({"status": was})),
            after: Some(entry.to_json()),
        },
    )
    .await?;
    crate::store::notify::codes_changed(&txn, &[serial]).await?;
    super::issue::commit_append(keys, txn, &note).await?;
    caches.codes.forget(&[serial]);
    Ok(RevokedCode {
        serial,
        status: CodeStatus::Revoked,
        reason,
        log_index: head.size,
    })
}
