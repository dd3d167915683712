//! Sending the outbox: claims (so that two replicas never send one delivery at once), signed
//! posts, and retries with backoff.

use super::guard::check_url;
use super::outbox::enqueue_expiring;
use crate::db::Db;

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::error::{AppError, AppResult};
use crate::store::webhooks::{self, attempts, deliveries};

/// How long a worker holds a claimed delivery before another may try it.
pub(super) const CLAIM_MS: i64 = 60_000;

/// At most this many deliveries a round.
pub(super) const BATCH: u64 = 20;

pub(super) fn now_ms() -> i64 {
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

/// Claims the deliveries due now (at most a batch), so that no other worker sends them while
/// this one does.
pub(super) async fn claim(db: &Db, now: i64) -> AppResult<Vec<deliveries::Model>> {
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
pub(super) struct Outcome {
    status: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
}

/// Posts one delivery, signed (blocking: run off the async threads).
pub(super) fn post(url: &str, secret: &str, d: &deliveries::Model) -> Outcome {
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
pub async fn deliver_due(db: &Db, allow_private: bool) -> AppResult<usize> {
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

/// The worker of one replica: expiring codes every ten minutes, due deliveries every second,
/// until shutdown.
pub async fn run_worker(
    db: Db,
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
    use crate::service::webhooks::is_private;

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
