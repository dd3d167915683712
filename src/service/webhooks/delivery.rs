//! Sending the outbox, one endpoint independent of another: each webhook's deliveries go in
//! order, one at a time (only the oldest undelivered one of a webhook is ever claimed), while
//! different endpoints are tried side by side, at most [`PARALLEL`] at once — a dead endpoint
//! holds up its own queue and nobody else's. A claim is exclusive across replicas for longer
//! than an attempt can take ([`CLAIM_MS`] against [`ATTEMPT_TIMEOUT`]). An endpoint failing for
//! [`GIVE_UP_AFTER_MS`] is stopped, and the bank sees why on its desk.

use super::guard::{PinnedResolver, checked};
use super::outbox::enqueue_expiring;
use crate::db::Db;

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::{AppError, AppResult};
use crate::store::webhooks::{self, attempts, deliveries};

/// The longest one attempt may take: the post's whole exchange.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The longest the name of an endpoint may take to resolve before an attempt.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a claimed delivery is a worker's alone: well past resolving, posting and
/// recording, so that no other replica sends it while this one still may.
pub(super) const CLAIM_MS: i64 = 60_000;

/// At most this many deliveries a round of [`deliver_due`].
pub(super) const BATCH: u64 = 20;

/// At most this many endpoints tried at once by one replica's worker.
pub const PARALLEL: usize = 8;

/// An endpoint whose deliveries have failed this long, without one success, is stopped.
pub const GIVE_UP_AFTER_MS: i64 = 5 * 24 * 3_600_000;

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

/// Claims up to `limit` deliveries due now — each the oldest undelivered one of an active
/// webhook, and none of a webhook whose head another worker holds — so that no other worker
/// sends them while this one does.
pub(super) async fn claim(db: &Db, now: i64, limit: u64) -> AppResult<Vec<deliveries::Model>> {
    let heads = Query::select()
        .expr(sea_orm::sea_query::Func::min(Expr::col(
            deliveries::Column::Id,
        )))
        .from(deliveries::Entity)
        .and_where(deliveries::Column::DeliveredMs.is_null())
        .group_by_col(deliveries::Column::WebhookId)
        .to_owned();
    let active = Query::select()
        .column(webhooks::Column::Id)
        .from(webhooks::Entity)
        .and_where(webhooks::Column::DisabledAt.is_null())
        .to_owned();
    // A plain read first: an idle outbox costs no write transaction (SQLite has one writer).
    let due = deliveries::Entity::find()
        .filter(deliveries::Column::Id.in_subquery(heads))
        .filter(deliveries::Column::WebhookId.in_subquery(active))
        .filter(deliveries::Column::NextAttemptMs.lte(now))
        .filter(deliveries::Column::ClaimedUntilMs.lte(now))
        .order_by_asc(deliveries::Column::NextAttemptMs)
        .limit(limit)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // Each taken only if still free: another replica may have claimed it since the read.
    let txn = crate::db::begin_write(db).await?;
    let mut claimed = Vec::new();
    for d in due {
        let taken = deliveries::Entity::update_many()
            .col_expr(
                deliveries::Column::ClaimedUntilMs,
                Expr::value(now + CLAIM_MS),
            )
            .filter(deliveries::Column::Id.eq(d.id))
            .filter(deliveries::Column::ClaimedUntilMs.lte(now))
            .filter(deliveries::Column::DeliveredMs.is_null())
            .exec(&txn)
            .await?;
        if taken.rows_affected == 1 {
            claimed.push(d);
        }
    }
    txn.commit().await?;
    Ok(claimed)
}

/// What one attempt came to.
pub(super) struct Outcome {
    status: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
}

impl Outcome {
    fn refused(error: String) -> Outcome {
        Outcome {
            status: None,
            error: Some(error),
            duration_ms: 0,
        }
    }
}

/// Posts one delivery, signed, to the addresses checked for it (blocking: run off the async
/// threads).
pub(super) fn post(
    url: &str,
    addresses: Vec<std::net::SocketAddr>,
    secret: &str,
    d: &deliveries::Model,
) -> Outcome {
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
    let agent = ureq::Agent::with_parts(
        ureq::Agent::config_builder()
            .timeout_global(Some(ATTEMPT_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .build(),
        ureq::unversioned::transport::DefaultConnector::new(),
        PinnedResolver(addresses),
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

/// One claimed delivery: its endpoint checked again (a name may have moved since it was
/// registered) and posted to the very addresses checked, its attempt recorded, and the
/// endpoint's health kept.
async fn attempt(db: &Db, d: deliveries::Model, allow_private: bool) -> AppResult<()> {
    let Some(hook) = webhooks::Entity::find_by_id(d.webhook_id).one(db).await? else {
        return Ok(());
    };
    if hook.disabled_at.is_some() {
        // Stopped since the claim: its queue is kept, for the record, and not sent.
        return Ok(());
    }
    let resolved = tokio::time::timeout(RESOLVE_TIMEOUT, checked("url", &hook.url, allow_private));
    let outcome = match resolved.await {
        Err(_) => Outcome::refused("the host did not resolve in time".to_owned()),
        Ok(Err(_)) => Outcome::refused(
            "refused: the URL does not resolve, or resolves to a private address".to_owned(),
        ),
        Ok(Ok((url, addresses))) => {
            let (secret, delivery) = (hook.secret.clone(), d.clone());
            tokio::task::spawn_blocking(move || post(&url, addresses, &secret, &delivery))
                .await
                .map_err(AppError::internal)?
        }
    };
    record(db, &d, outcome).await
}

/// Records an attempt, schedules the next one or ends the delivery, and keeps the endpoint's
/// health: the first failure starts its failing time, a success ends it, and five days of
/// failing stop the webhook.
async fn record(db: &Db, d: &deliveries::Model, outcome: Outcome) -> AppResult<()> {
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
    if let Some(hook) = webhooks::Entity::find_by_id(d.webhook_id).one(&txn).await? {
        let since = hook.failing_since_ms;
        let mut health: webhooks::ActiveModel = hook.clone().into();
        let changed = match (ok, since) {
            (true, Some(_)) => {
                health.failing_since_ms = Set(None);
                true
            }
            (false, None) => {
                health.failing_since_ms = Set(Some(now));
                true
            }
            (false, Some(since))
                if now - since >= GIVE_UP_AFTER_MS && hook.disabled_at.is_none() =>
            {
                health.disabled_at = Set(Some(Utc::now()));
                health.disabled_reason = Set(Some(format!(
                    "deliveries failed for {} days without a success",
                    (now - since) / 86_400_000
                )));
                crate::store::audit::record(
                    &txn,
                    &crate::store::audit::Actor::system("webhooks"),
                    Utc::now(),
                    crate::store::audit::Change {
                        action: "webhook.disable",
                        target_type: "webhook",
                        target_id: hook.id.to_string(),
                        before: Some(serde_json::json!({"active": true})),
                        after: Some(serde_json::json!({"active": false,
                            "reason": "failing for five days"})),
                    },
                )
                .await?;
                true
            }
            _ => false,
        };
        if changed {
            health.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Sends what is due now, endpoints side by side: each delivery claimed, posted, and its
/// attempt recorded. Returns how many were attempted.
pub async fn deliver_due(db: &Db, allow_private: bool) -> AppResult<usize> {
    let due = claim(db, now_ms(), BATCH).await?;
    let count = due.len();
    let mut running = tokio::task::JoinSet::new();
    for d in due {
        let db = db.clone();
        running.spawn(async move { attempt(&db, d, allow_private).await });
    }
    while let Some(done) = running.join_next().await {
        done.map_err(AppError::internal)??;
    }
    Ok(count)
}

/// The worker of one replica: expiring codes every ten minutes; due deliveries taken as
/// endpoints come free, at most [`PARALLEL`] in flight, a slow one never holding the others
/// up — until shutdown. Attempts in flight then are abandoned unrecorded: their claims lapse
/// and they are tried again, so a receiver may get one message twice (at least once, as
/// Standard Webhooks has it; the `webhook-id` is the same, for the receiver to drop the copy).
pub async fn run_worker(
    db: Db,
    allow_private: bool,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut last_expiry_scan = std::time::Instant::now() - std::time::Duration::from_secs(3600);
    let mut running: tokio::task::JoinSet<AppResult<()>> = tokio::task::JoinSet::new();
    loop {
        if last_expiry_scan.elapsed() >= std::time::Duration::from_secs(600) {
            last_expiry_scan = std::time::Instant::now();
            if let Err(err) = enqueue_expiring(&db).await {
                tracing::warn!(%err, "queueing expiring-code events failed");
            }
            let today = crate::service::records::today();
            if let Err(err) = crate::service::filing::enqueue_overdue(&db, today).await {
                tracing::warn!(%err, "queueing filing-overdue events failed");
            }
        }
        while let Some(done) = running.try_join_next() {
            if let Ok(Err(err)) = done {
                tracing::warn!(%err, "a webhook delivery could not be recorded");
            }
        }
        let free = PARALLEL.saturating_sub(running.len());
        if free > 0 {
            match claim(&db, now_ms(), free as u64).await {
                Ok(due) => {
                    for d in due {
                        let db = db.clone();
                        running.spawn(async move { attempt(&db, d, allow_private).await });
                    }
                }
                Err(err) => tracing::warn!(%err, "claiming webhook deliveries failed"),
            }
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
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
            // Issue 25, item 8: IPv4 carried in IPv6, and 192.0.0.0/24.
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "192.0.0.1",
            "2001::1",
            "2001:db8::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "203.119.26.1",
            "2400:3200::1",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
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
