//! The HTTP shell: state, the router of every feature, and the middleware around them.

pub mod api;
pub mod auth;
pub mod csrf;
pub mod extract;
pub mod fast;
pub mod i18n;
pub mod images;
pub mod log;
pub mod metrics;
pub mod middleware;
pub mod page_error;
pub mod pages;
pub mod report;

use std::sync::Arc;

use crate::db::Db;
use axum::Router;

use crate::config::Config;
use crate::service::cache::Caches;
use crate::service::keystore::KeyStore;

/// Cheap handles shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub keys: Arc<KeyStore>,
    pub images: Arc<images::ImageCache>,
    pub caches: Caches,
}

impl AppState {
    /// Opens the key ring (creating it on first start), records the keys and the default
    /// benchmark table, and makes sure the log has a head and a checkpoint.
    pub async fn open(db: Db, config: Config) -> anyhow::Result<Self> {
        let origin = crate::config::log_origin_for(&config.public_url);
        let caches = Caches::with_code_ttl(config.code_cache_ttl);
        let keys = Arc::new(KeyStore::open(
            &config.data_dir,
            &origin,
            config.witnesses.clone(),
            config.signing_alg,
        )?);
        keys.record(&db).await?;
        keys.watch(db.clone());
        crate::service::replicas::listen(&db, caches.clone(), keys.clone());
        prune_throttle(db.clone());
        crate::service::benchmarks::seed_default(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::service::carbon_tables::seed_default(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // Witnesses first: one that holds more than the database makes it behind.
        keys.guard().cosign_latest(&db, &keys.current().ring).await;
        crate::service::issue::prepare_log(&db, &keys.current())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        keys.guard().cosign_latest(&db, &keys.current().ring).await;
        let ring = Arc::downgrade(&keys);
        keys.guard().watch(db.clone(), move || {
            ring.upgrade().map(|k| k.current().ring.clone())
        });
        Ok(AppState {
            db,
            config: Arc::new(config),
            keys,
            images: Arc::new(images::ImageCache::default()),
            caches,
        })
    }
}

/// Forgets the login throttle's stale rows once an hour (harmless on every replica at once).
fn prune_throttle(db: Db) {
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            let now = chrono::Utc::now().timestamp_millis();
            if let Err(err) = crate::service::throttle::prune(&db, now).await {
                tracing::warn!(%err, "pruning the login throttle failed");
            }
        }
    });
}

/// The whole application: every feature's routes, wrapped in the middleware stack.
pub fn router(state: AppState) -> Router {
    // Install the metrics recorder before the first request is counted.
    metrics::handle();
    let routes = Router::new()
        .merge(Router::from(api::openapi::routes()))
        .merge(log::tiles())
        .merge(pages::router());
    let https = state.config.secure_cookies();
    middleware::wrap(routes, https).with_state(state)
}

/// The operator's listener: Prometheus `/metrics`, apart from the public one so
/// that nothing a visitor reaches exposes the service's internals.
pub fn operator_router(state: AppState) -> Router {
    metrics::handle();
    metrics::router().with_state(state)
}
