//! A bank's webhooks: registered (the secret shown once), listed, stopped, and their deliveries
//! with every attempt.

use super::guard::check_url;
use crate::db::Db;

use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Conflict;
use crate::error::{AppError, AppResult};
use crate::service::accounts::{Caller, Role};
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::webhooks::{self, attempts, deliveries};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub active: bool,
    /// Since when its deliveries have been failing (none while the endpoint answers).
    pub failing_since: Option<DateTime<Utc>>,
    /// Why the service stopped it: its deliveries failed for five days. Register it again once
    /// the endpoint answers.
    pub stopped_reason: Option<String>,
    /// Only in the answer to its registration: keep it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub(super) fn view(w: &webhooks::Model) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url.clone(),
        created_at: w.created_at,
        active: w.disabled_at.is_none(),
        failing_since: w
            .failing_since_ms
            .and_then(DateTime::<Utc>::from_timestamp_millis),
        stopped_reason: w.disabled_reason.clone(),
        secret: None,
    }
}

/// Active webhooks a bank may have at once.
pub const MAX_ACTIVE_PER_BANK: u64 = 10;

/// A bank registers a webhook; the answer carries its secret, once.
pub async fn register(
    db: &Db,
    caller: &Caller,
    new: NewWebhook,
    allow_private: bool,
) -> AppResult<WebhookView> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    let url = check_url("url", &new.url, allow_private).await?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
    audited(db, &caller.actor(), async |txn, now| {
        let active = webhooks::Entity::find()
            .filter(webhooks::Column::BankId.eq(caller.account_id))
            .filter(webhooks::Column::DisabledAt.is_null())
            .count(txn)
            .await?;
        if active >= MAX_ACTIVE_PER_BANK {
            return Err(AppError::conflict(
                Conflict::Limit,
                format!("a bank has at most {MAX_ACTIVE_PER_BANK} active webhooks; stop one first"),
            ));
        }
        let model = webhooks::ActiveModel {
            bank_id: Set(caller.account_id),
            url: Set(url),
            secret: Set(secret.clone()),
            created_at: Set(now),
            disabled_at: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let change = Change {
            action: "webhook.register",
            target_type: "webhook",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"url": model.url})),
        };
        let mut shown = view(&model);
        shown.secret = Some(secret);
        Ok(Audited::one(shown, change))
    })
    .await
}

/// The bank's webhooks (never their secrets).
pub async fn list(db: &Db, caller: &Caller) -> AppResult<Vec<WebhookView>> {
    if caller.role != Role::Bank {
        return Err(AppError::Forbidden);
    }
    Ok(webhooks::Entity::find()
        .filter(webhooks::Column::BankId.eq(caller.account_id))
        .order_by_asc(webhooks::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(view)
        .collect())
}

pub(super) async fn own<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<webhooks::Model> {
    webhooks::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|w| w.bank_id == caller.account_id && caller.role == Role::Bank)
        .ok_or(AppError::NotFound)
}

/// The bank stops a webhook: nothing more is queued for it, and what is queued is not sent.
pub async fn disable(db: &Db, caller: &Caller, id: i64) -> AppResult<WebhookView> {
    audited(db, &caller.actor(), async |txn, now| {
        let hook = own(txn, caller, id).await?;
        if hook.disabled_at.is_some() {
            return Err(AppError::conflict(
                Conflict::AlreadyDone,
                format!("webhook {id} is already stopped"),
            ));
        }
        let mut model: webhooks::ActiveModel = hook.into();
        model.disabled_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: "webhook.disable",
            target_type: "webhook",
            target_id: id.to_string(),
            before: Some(json!({"active": true})),
            after: Some(json!({"active": false})),
        };
        Ok(Audited::one(view(&updated), change))
    })
    .await
}

/// What a "retry now" did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Retried {
    /// The webhook's undelivered deliveries, all due now (they go out in order).
    pub queued: u64,
}

/// The bank says its endpoint is back: the webhook's undelivered deliveries are due now instead
/// of at their backoff (up to 12 h after a day of failures), and go out in order.
pub async fn retry_now(db: &Db, caller: &Caller, id: i64) -> AppResult<Retried> {
    audited(db, &caller.actor(), async |txn, _| {
        let hook = own(txn, caller, id).await?;
        if hook.disabled_at.is_some() {
            return Err(AppError::conflict(
                Conflict::AlreadyDone,
                format!("webhook {id} is stopped; register it again"),
            ));
        }
        let now = super::delivery::now_ms();
        deliveries::Entity::update_many()
            .col_expr(
                deliveries::Column::NextAttemptMs,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(deliveries::Column::WebhookId.eq(id))
            .filter(deliveries::Column::DeliveredMs.is_null())
            .filter(deliveries::Column::NextAttemptMs.gt(now))
            .exec(txn)
            .await?;
        let queued = deliveries::Entity::find()
            .filter(deliveries::Column::WebhookId.eq(id))
            .filter(deliveries::Column::DeliveredMs.is_null())
            .count(txn)
            .await?;
        let change = Change {
            action: "webhook.retry",
            target_type: "webhook",
            target_id: id.to_string(),
            before: None,
            after: Some(json!({"queued": queued})),
        };
        Ok(Audited::one(Retried { queued }, change))
    })
    .await
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub at: DateTime<Utc>,
    /// The HTTP status answered, if any.
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<AttemptView>,
}

pub(super) fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A webhook's deliveries, newest first, with every attempt.
pub async fn deliveries_of(db: &Db, caller: &Caller, id: i64) -> AppResult<Vec<DeliveryView>> {
    own(db, caller, id).await?;
    let list = deliveries::Entity::find()
        .filter(deliveries::Column::WebhookId.eq(id))
        .order_by_desc(deliveries::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let tries = attempts::Entity::find()
        .filter(attempts::Column::DeliveryId.is_in(list.iter().map(|d| d.id)))
        .order_by_asc(attempts::Column::Id)
        .all(db)
        .await?;
    Ok(list
        .into_iter()
        .map(|d| DeliveryView {
            attempts: tries
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .map(|a| AttemptView {
                    at: time(a.at_ms),
                    status: a.status,
                    error: a.error.clone(),
                    duration_ms: a.duration_ms,
                })
                .collect(),
            payload: serde_json::from_str(&d.payload).unwrap_or(Value::Null),
            created_at: time(d.created_ms),
            delivered_at: d.delivered_ms.map(time),
            next_attempt_at: d.delivered_ms.is_none().then(|| time(d.next_attempt_ms)),
            id: d.id,
            message_id: d.message_id,
            event_type: d.event_type,
        })
        .collect())
}
