//! Pushed alerts to banks (Standard Webhooks): a bank registers a URL and gets a `whsec_`
//! secret once; whenever a firm it watches (its watchlist, and every firm it has approved an
//! application from) gets a new, superseded, revoked or expiring code, a delivery is written to
//! an outbox in the same transaction as the change. A worker (every replica runs one; a claim
//! keeps two from sending the same delivery) posts it signed, and retries with backoff until
//! the bank answers 2xx: nothing is lost when the service restarts.
//!
//! A webhook URL is a request made on a bank's behalf: private, loopback, link-local and other
//! special addresses are refused (server-side request forgery) unless the operator allows them.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::accounts::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::store::applications::{self, ApplicationStatus};
use crate::store::audit::{self, Change};
use crate::store::webhooks::{self, attempts, deliveries, expiry_notices};
use crate::store::{codes, products, watchlist};

/// The event types a bank may receive.
pub const EVENTS: [&str; 4] = [
    "code.issued",
    "code.superseded",
    "code.revoked",
    "code.expiring",
];

/// A code is "expiring" this long before its end.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

/// How long a worker holds a claimed delivery before another may try it.
const CLAIM_MS: i64 = 60_000;

/// At most this many deliveries a round.
const BATCH: u64 = 20;

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The wait before the next attempt after `attempts` failed ones: 5 s, 30 s, 2 min, 10 min,
/// 30 min, 1 h, 2 h, 6 h, then every 12 h.
pub fn backoff_ms(attempts: i32) -> i64 {
    const STEPS: [i64; 8] = [5, 30, 120, 600, 1_800, 3_600, 7_200, 21_600];
    let seconds = usize::try_from(attempts.max(1) - 1)
        .ok()
        .and_then(|i| STEPS.get(i).copied())
        .unwrap_or(43_200);
    seconds * 1000
}

/// An address no webhook may reach unless the operator allows it.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 224
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The URL checked: http(s), a host, no credentials; every address it resolves to public
/// unless `allow_private`.
pub async fn check_url(field: &str, url: &str, allow_private: bool) -> AppResult<String> {
    let url = super::text::line(field, url, 500)?;
    // The URL as HTTP itself reads it (the `http` crate's parser, already a dependency).
    let parsed: axum::http::Uri = url
        .parse()
        .map_err(|_| AppError::validation(field, "must be an http or https URL"))?;
    let default_port = match parsed.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Err(AppError::validation(field, "must be an http or https URL")),
    };
    let authority = parsed.authority().map(|a| a.as_str()).unwrap_or_default();
    let host = parsed.host().unwrap_or_default();
    if host.is_empty() || authority.contains('@') {
        return Err(AppError::validation(
            field,
            "must name a host, without credentials",
        ));
    }
    let port = parsed.port_u16().unwrap_or(default_port);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !allow_private {
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|_| AppError::validation(field, "the host does not resolve"))?
                .map(|a| a.ip())
                .collect(),
        };
        if addresses.is_empty() || addresses.into_iter().any(is_private) {
            return Err(AppError::validation(
                field,
                "a private, loopback or link-local address is not allowed",
            ));
        }
    }
    Ok(url)
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret after `whsec_`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_")?)
        .ok()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

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
    /// Only in the answer to its registration: keep it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn view(w: &webhooks::Model) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url.clone(),
        created_at: w.created_at,
        active: w.disabled_at.is_none(),
        secret: None,
    }
}

/// A bank registers a webhook; the answer carries its secret, once.
pub async fn register(
    db: &DatabaseConnection,
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
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let model = webhooks::ActiveModel {
        bank_id: Set(caller.account_id),
        url: Set(url),
        secret: Set(secret.clone()),
        created_at: Set(now),
        disabled_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "webhook.register",
            target_type: "webhook",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"url": model.url})),
        },
    )
    .await?;
    txn.commit().await?;
    let mut shown = view(&model);
    shown.secret = Some(secret);
    Ok(shown)
}

/// The bank's webhooks (never their secrets).
pub async fn list(db: &DatabaseConnection, caller: &Caller) -> AppResult<Vec<WebhookView>> {
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

async fn own<C: ConnectionTrait>(db: &C, caller: &Caller, id: i64) -> AppResult<webhooks::Model> {
    webhooks::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|w| w.bank_id == caller.account_id && caller.role == Role::Bank)
        .ok_or(AppError::NotFound)
}

/// The bank stops a webhook: nothing more is queued for it, and what is queued is not sent.
pub async fn disable(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<WebhookView> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let hook = own(&txn, caller, id).await?;
    if hook.disabled_at.is_some() {
        return Err(AppError::Conflict(format!(
            "webhook {id} is already stopped"
        )));
    }
    let mut model: webhooks::ActiveModel = hook.into();
    model.disabled_at = Set(Some(now));
    let updated = model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "webhook.disable",
            target_type: "webhook",
            target_id: id.to_string(),
            before: Some(json!({"active": true})),
            after: Some(json!({"active": false})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view(&updated))
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

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A webhook's deliveries, newest first, with every attempt.
pub async fn deliveries_of(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<Vec<DeliveryView>> {
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

/// The banks that follow each of these firms: those watching it, and those that approved an
/// application from it (three statements for any number of firms).
pub async fn banks_following<C: ConnectionTrait>(
    db: &C,
    firm_ids: &[i64],
) -> AppResult<HashMap<i64, BTreeSet<i64>>> {
    let mut banks: HashMap<i64, BTreeSet<i64>> = HashMap::new();
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
        let bank_of: HashMap<i64, i64> = products::Entity::find()
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
    firm_id: i64,
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
    banks: &BTreeSet<i64>,
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

/// Claims the deliveries due now (at most a batch), so that no other worker sends them while
/// this one does.
async fn claim(db: &DatabaseConnection, now: i64) -> AppResult<Vec<deliveries::Model>> {
    // A plain read first: an idle outbox costs no write transaction (SQLite has one writer).
    let due = |select: sea_orm::Select<deliveries::Entity>| {
        select
            .filter(deliveries::Column::DeliveredMs.is_null())
            .filter(deliveries::Column::NextAttemptMs.lte(now))
            .filter(deliveries::Column::ClaimedUntilMs.lte(now))
    };
    if due(deliveries::Entity::find()).one(db).await?.is_none() {
        return Ok(Vec::new());
    }
    let txn = crate::db::begin_write(db).await?;
    let mut select = due(deliveries::Entity::find())
        .order_by_asc(deliveries::Column::NextAttemptMs)
        .limit(BATCH);
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        select = select.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    let due = select.all(&txn).await?;
    if !due.is_empty() {
        deliveries::Entity::update_many()
            .col_expr(
                deliveries::Column::ClaimedUntilMs,
                sea_orm::sea_query::Expr::value(now + CLAIM_MS),
            )
            .filter(deliveries::Column::Id.is_in(due.iter().map(|d| d.id)))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(due)
}

/// What one attempt came to.
struct Outcome {
    status: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
}

/// Posts one delivery, signed (blocking: run off the async threads).
fn post(url: &str, secret: &str, d: &deliveries::Model) -> Outcome {
    let started = std::time::Instant::now();
    let done = |status: Option<i32>, error: Option<String>| Outcome {
        status,
        error,
        duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
    };
    let timestamp = Utc::now().timestamp();
    let Some(sig) = signature(secret, &d.message_id, timestamp, &d.payload) else {
        return done(None, Some("the webhook's secret is unusable".to_owned()));
    };
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build(),
    );
    match agent
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "gec-webhooks/1")
        .header("webhook-id", &d.message_id)
        .header("webhook-timestamp", &timestamp.to_string())
        .header("webhook-signature", &sig)
        .send(d.payload.as_str())
    {
        Ok(response) => done(Some(i32::from(response.status().as_u16())), None),
        Err(e) => done(None, Some(e.to_string().chars().take(300).collect())),
    }
}

/// Sends what is due: each delivery claimed, posted, and its attempt recorded; a 2xx ends it,
/// anything else schedules the next attempt. Returns how many were attempted.
pub async fn deliver_due(db: &DatabaseConnection, allow_private: bool) -> AppResult<usize> {
    let due = claim(db, now_ms()).await?;
    for d in &due {
        let hook = webhooks::Entity::find_by_id(d.webhook_id).one(db).await?;
        let Some(hook) = hook.filter(|h| h.disabled_at.is_none()) else {
            // A stopped webhook: its queue is not sent (kept, for the record).
            continue;
        };
        // The address is checked again at each attempt: a name may have moved since it was
        // registered.
        let outcome = if check_url("url", &hook.url, allow_private).await.is_err() {
            Outcome {
                status: None,
                error: Some("refused: the URL resolves to a private address".to_owned()),
                duration_ms: 0,
            }
        } else {
            let delivery = d.clone();
            tokio::task::spawn_blocking(move || post(&hook.url, &hook.secret, &delivery))
                .await
                .map_err(AppError::internal)?
        };
        let now = now_ms();
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let txn = crate::db::begin_write(db).await?;
        attempts::ActiveModel {
            delivery_id: Set(d.id),
            at_ms: Set(now),
            status: Set(outcome.status),
            error: Set(outcome.error),
            duration_ms: Set(outcome.duration_ms),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let tried = d.attempts + 1;
        let mut model: deliveries::ActiveModel = d.clone().into();
        model.attempts = Set(tried);
        model.claimed_until_ms = Set(0);
        if ok {
            model.delivered_ms = Set(Some(now));
        } else {
            model.next_attempt_ms = Set(now + backoff_ms(tried));
        }
        model.update(&txn).await?;
        txn.commit().await?;
    }
    Ok(due.len())
}

/// Queues "expiring" events for active codes that end within 30 days, once per code.
pub async fn enqueue_expiring(db: &DatabaseConnection) -> AppResult<usize> {
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
            code_data(&code, &firm.uscc, &firm.name),
        )
        .await?;
        txn.commit().await?;
        queued += 1;
    }
    Ok(queued)
}

/// The worker of one replica: expiring codes every ten minutes, due deliveries every second,
/// until shutdown.
pub async fn run_worker(
    db: DatabaseConnection,
    allow_private: bool,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut last_expiry_scan = std::time::Instant::now() - std::time::Duration::from_secs(3600);
    loop {
        if last_expiry_scan.elapsed() >= std::time::Duration::from_secs(600) {
            last_expiry_scan = std::time::Instant::now();
            if let Err(err) = enqueue_expiring(&db).await {
                tracing::warn!(%err, "queueing expiring-code events failed");
            }
        }
        let sent = match deliver_due(&db, allow_private).await {
            Ok(n) => n,
            Err(err) => {
                tracing::warn!(%err, "webhook deliveries failed this round");
                0
            }
        };
        let pause = if sent as u64 >= BATCH { 0 } else { 1000 };
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(pause)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_standard_webhooks() {
        // The Standard Webhooks reference example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "203.119.26.1", "2400:3200::1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_backoff_grows_and_levels_off() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 30_000);
        assert_eq!(backoff_ms(9), 43_200_000);
        assert_eq!(backoff_ms(100), 43_200_000);
    }
}
