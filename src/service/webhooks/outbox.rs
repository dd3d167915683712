//! The outbox: the deliveries a change owes the banks that follow the firm, written in the
//! change's own transaction.

use super::delivery::now_ms;
use super::registration::time;
use crate::db::Db;
use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::store::applications::{self, ApplicationStatus};
use crate::store::webhooks::{self, deliveries, expiry_notices};
use crate::store::{codes, products, watchlist};

/// The event types a bank may receive.
pub const EVENTS: [&str; 5] = [
    "code.issued",
    "code.superseded",
    "code.revoked",
    "code.expiring",
    "firm.filing_overdue",
];

/// A code is "expiring" this long before its end.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

/// The banks that follow each of these firms: those watching it, and those that approved an
/// application from it (three statements for any number of firms).
pub async fn banks_following<C: ConnectionTrait>(
    db: &C,
    firm_ids: &[crate::store::ids::FirmId],
) -> AppResult<HashMap<crate::store::ids::FirmId, BTreeSet<crate::store::ids::AccountId>>> {
    let mut banks: HashMap<crate::store::ids::FirmId, BTreeSet<crate::store::ids::AccountId>> =
        HashMap::new();
    for watch in watchlist::Entity::find()
        .filter(watchlist::Column::FirmId.is_in(crate::db::in_list(firm_ids)))
        .all(db)
        .await?
    {
        banks
            .entry(watch.firm_id)
            .or_default()
            .insert(watch.account_id);
    }
    let approved = applications::Entity::find()
        .filter(applications::Column::FirmId.is_in(crate::db::in_list(firm_ids)))
        .filter(applications::Column::Status.eq(ApplicationStatus::Approved))
        .all(db)
        .await?;
    if !approved.is_empty() {
        let bank_of: HashMap<i64, crate::store::ids::AccountId> = products::Entity::find()
            .filter(products::Column::Id.is_in(approved.iter().map(|a| a.product_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.bank_id))
            .collect();
        for application in approved {
            if let Some(bank) = bank_of.get(&application.product_id) {
                banks.entry(application.firm_id).or_default().insert(*bank);
            }
        }
    }
    Ok(banks)
}

/// Queues an event about a firm's code for every active webhook of the banks that follow the
/// firm, on the caller's transaction (so it is sent exactly when the change is committed).
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    firm_id: crate::store::ids::FirmId,
    event_type: &str,
    data: Value,
) -> AppResult<usize> {
    let banks = banks_following(txn, &[firm_id])
        .await?
        .remove(&firm_id)
        .unwrap_or_default();
    enqueue_for(txn, &banks, event_type, data).await
}

/// Queues an event for every active webhook of these banks (the firm's followers, known).
pub async fn enqueue_for<C: ConnectionTrait>(
    txn: &C,
    banks: &BTreeSet<crate::store::ids::AccountId>,
    event_type: &str,
    data: Value,
) -> AppResult<usize> {
    if banks.is_empty() {
        return Ok(0);
    }
    let hooks = webhooks::Entity::find()
        .filter(webhooks::Column::BankId.is_in(banks.iter().copied()))
        .filter(webhooks::Column::DisabledAt.is_null())
        .all(txn)
        .await?;
    let now = now_ms();
    for hook in &hooks {
        let message_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let payload = json!({
            "type": event_type,
            "timestamp": time(now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        });
        deliveries::ActiveModel {
            webhook_id: Set(hook.id),
            message_id: Set(message_id),
            event_type: Set(event_type.to_owned()),
            payload: Set(payload.to_string()),
            created_ms: Set(now),
            next_attempt_ms: Set(now),
            claimed_until_ms: Set(0),
            attempts: Set(0),
            delivered_ms: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(hooks.len())
}

/// The event data of a code.
pub fn code_data(code: &codes::Model, uscc: &str, firm_name: &str) -> Value {
    json!({
        "uscc": uscc,
        "firm": firm_name,
        "serial": code.serial,
        "grade": code.grade.as_str(),
        "score": code.score,
        "period": code.period,
        "status": code.status,
        "valid_until": time(code.exp * 1000).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "superseded_by": code.superseded_by,
        "reason": code.revoked_reason,
    })
}

/// Queues "expiring" events for active codes that end within 30 days, once per code.
pub async fn enqueue_expiring(db: &Db) -> AppResult<usize> {
    let now = Utc::now().timestamp();
    let soon = now + EXPIRING_WITHIN_DAYS * 86_400;
    let candidates = codes::Entity::find()
        .filter(codes::Column::Status.eq(codes::CodeStatus::Active))
        .filter(codes::Column::Exp.gt(now))
        .filter(codes::Column::Exp.lte(soon))
        .all(db)
        .await?;
    let mut queued = 0;
    for code in candidates {
        let txn = crate::db::begin_write(db).await?;
        if expiry_notices::Entity::find_by_id(code.serial)
            .one(&txn)
            .await?
            .is_some()
        {
            continue;
        }
        expiry_notices::ActiveModel {
            serial: Set(code.serial),
            at_ms: Set(now_ms()),
        }
        .insert(&txn)
        .await?;
        let firm = crate::store::firms::Entity::find_by_id(code.firm_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        enqueue(
            &txn,
            firm.id,
            "code.expiring",
            code_data(&code, firm.uscc.as_str(), &firm.name),
        )
        .await?;
        txn.commit().await?;
        queued += 1;
    }
    Ok(queued)
}
