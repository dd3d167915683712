//! The key ring as a running service holds it: loaded from the data directory, published, and
//! reloaded when `gec keys rotate|compromise` rewrites `keyring.json` — so rotation and
//! compromise take effect without a restart (within a second), on every replica that shares
//! the key folder. A background task watches the file (off the request path: a request only
//! reads the keys in memory), and each reload records the public halves in `signing_keys`.

use crate::db::Db;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use super::keys::{self, KeyRing};
use super::log_guard::{LogGuard, WitnessConfig};
use crate::code::{KeySetDocument, TrustedKeys};
use crate::store::keys as key_rows;

/// One loaded generation of the key ring, with what is derived from it once.
pub struct Keys {
    pub ring: Arc<KeyRing>,
    pub document: KeySetDocument,
    pub trusted: TrustedKeys,
    /// What keeps the log this ring signs from forking (shared by every generation).
    pub guard: Arc<LogGuard>,
}

pub struct KeyStore {
    data_dir: PathBuf,
    guard: Arc<LogGuard>,
    current: RwLock<(Arc<Keys>, Option<SystemTime>)>,
}

const CHECK_EVERY: Duration = Duration::from_millis(500);

fn ring_file(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("keyring.json")
}

fn modified(data_dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(ring_file(data_dir))
        .and_then(|m| m.modified())
        .ok()
}

fn derive(ring: KeyRing, guard: &Arc<LogGuard>) -> Arc<Keys> {
    let document = ring.document();
    let trusted = ring.trusted();
    Arc::new(Keys {
        ring: Arc::new(ring),
        document,
        trusted,
        guard: guard.clone(),
    })
}

impl KeyStore {
    /// Opens (creating on first start) the key ring of `data_dir`.
    pub fn open(
        data_dir: &Path,
        log_origin: &str,
        witnesses: Vec<WitnessConfig>,
        signing_alg: crate::code::Algorithm,
    ) -> anyhow::Result<KeyStore> {
        let ring = keys::load_or_create_with(data_dir, log_origin, signing_alg)?;
        if let Some((key, _)) = &ring.active
            && key.algorithm() != signing_alg
        {
            tracing::info!(
                "the key ring's active key is {}, not {signing_alg}: --signing-alg chooses the \
                 first key of a new deployment; `gec keys rotate --alg {signing_alg}` changes it",
                key.algorithm()
            );
        }
        let guard = Arc::new(LogGuard::new(data_dir, witnesses));
        Ok(KeyStore {
            data_dir: data_dir.to_owned(),
            current: RwLock::new((derive(ring, &guard), modified(data_dir))),
            guard,
        })
    }

    pub fn guard(&self) -> &Arc<LogGuard> {
        &self.guard
    }

    /// The keys in force: a read of what is in memory, never a file system call.
    pub fn current(&self) -> Arc<Keys> {
        self.current
            .read()
            .map(|c| c.0.clone())
            .unwrap_or_else(|p| p.into_inner().0.clone())
    }

    /// Watches `keyring.json` from a background task for as long as the store lives (see
    /// [`KeyStore::refresh`]).
    pub fn watch(self: &Arc<Self>, db: Db) {
        let store: Weak<KeyStore> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(CHECK_EVERY);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(store) = store.upgrade() else { return };
                if store.refresh(&db).await {
                    // Other replicas sharing the key folder look now rather than at their tick.
                    if let Err(err) = crate::store::notify::keys_changed(&db).await {
                        tracing::warn!(%err, "telling the other replicas of the key change failed");
                    }
                }
            }
        });
    }

    /// Loads `keyring.json` if it changed (on the blocking pool), puts it in force and records
    /// its public halves; `true` when it changed. A file that fails to load leaves the previous
    /// keys in force, and says so.
    pub async fn refresh(&self, db: &Db) -> bool {
        let stamp = tokio::fs::metadata(ring_file(&self.data_dir))
            .await
            .and_then(|m| m.modified())
            .ok();
        let changed = self.current.read().map(|c| c.1 != stamp).unwrap_or(false);
        if !changed {
            return false;
        }
        let dir = self.data_dir.clone();
        match tokio::task::spawn_blocking(move || keys::load(&dir)).await {
            Ok(Ok(ring)) => {
                tracing::info!("key ring changed on disk: reloaded");
                if let Ok(mut current) = self.current.write() {
                    *current = (derive(ring, &self.guard), stamp);
                }
                if let Err(err) = self.record(db).await {
                    tracing::warn!(%err, "recording the reloaded keys in the database failed");
                }
                true
            }
            Ok(Err(err)) => {
                tracing::error!(%err, "key ring changed but does not load; keeping the previous keys");
                // Do not retry the same broken file every tick: wait for the next change.
                if let Ok(mut current) = self.current.write() {
                    current.1 = stamp;
                }
                false
            }
            Err(err) => {
                tracing::error!(%err, "loading the key ring panicked");
                false
            }
        }
    }

    /// Records the public halves in `signing_keys`.
    pub async fn record(&self, db: &Db) -> Result<(), sea_orm::DbErr> {
        let keys = self.current();
        for key in &keys.document.keys {
            let algorithm = key.algorithm().map_err(sea_orm::DbErr::Custom)?;
            key_rows::upsert(
                db,
                key_rows::Model {
                    kid: key.kid.clone(),
                    purpose: "code".into(),
                    algorithm: algorithm.into(),
                    public_x: key.x.clone(),
                    public_y: key.y.clone(),
                    status: key.status.as_str().into(),
                    not_before: key.not_before,
                    not_after: key.not_after,
                    compromised_at: key.compromised_at,
                },
            )
            .await?;
        }
        if let Some(log) = &keys.document.log {
            let public =
                crate::code::keys::public_key_from_x(&log.x).map_err(sea_orm::DbErr::Custom)?;
            key_rows::upsert(
                db,
                key_rows::Model {
                    kid: hex::encode(crate::code::kid_of(public.as_bytes())),
                    purpose: "log".into(),
                    algorithm: crate::code::Algorithm::Ed25519.into(),
                    public_x: log.x.clone(),
                    public_y: None,
                    status: "active".into(),
                    not_before: chrono::DateTime::UNIX_EPOCH,
                    not_after: None,
                    compromised_at: None,
                },
            )
            .await?;
        }
        Ok(())
    }
}
