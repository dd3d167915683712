//! The key ring as a running service holds it: loaded from the data directory, published, and
//! reloaded when `gec keys rotate|compromise` rewrites `keyring.json` — so rotation and
//! compromise take effect without a restart (within a second), on every replica that shares
//! the key folder. Each (re)load records the public halves in `signing_keys`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use sea_orm::DatabaseConnection;

use super::keys::{self, KeyRing};
use crate::code::{KeySetDocument, TrustedKeys};
use crate::store::keys as key_rows;

/// One loaded generation of the key ring, with what is derived from it once.
pub struct Keys {
    pub ring: KeyRing,
    pub document: KeySetDocument,
    pub trusted: TrustedKeys,
}

pub struct KeyStore {
    data_dir: PathBuf,
    current: RwLock<(Arc<Keys>, Option<SystemTime>)>,
    last_check: Mutex<Instant>,
}

const CHECK_EVERY: Duration = Duration::from_secs(1);

fn modified(data_dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(data_dir.join("keys").join("keyring.json"))
        .and_then(|m| m.modified())
        .ok()
}

fn derive(ring: KeyRing) -> Arc<Keys> {
    let document = ring.document();
    let trusted = ring.trusted();
    Arc::new(Keys {
        ring,
        document,
        trusted,
    })
}

impl KeyStore {
    /// Opens (creating on first start) the key ring of `data_dir`.
    pub fn open(data_dir: &Path, log_origin: &str) -> anyhow::Result<KeyStore> {
        let ring = keys::load_or_create(data_dir, log_origin)?;
        Ok(KeyStore {
            data_dir: data_dir.to_owned(),
            current: RwLock::new((derive(ring), modified(data_dir))),
            last_check: Mutex::new(Instant::now()),
        })
    }

    /// The keys in force, reloaded if the file changed since the last look (at most one look
    /// a second). A file that fails to load leaves the previous keys in force, and says so.
    pub fn current(&self) -> Arc<Keys> {
        let due = {
            let mut last = self.last_check.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() >= CHECK_EVERY {
                *last = Instant::now();
                true
            } else {
                false
            }
        };
        if due {
            let stamp = modified(&self.data_dir);
            let changed = self.current.read().map(|c| c.1 != stamp).unwrap_or(false);
            if changed {
                match keys::load(&self.data_dir) {
                    Ok(ring) => {
                        tracing::info!("key ring changed on disk: reloaded");
                        if let Ok(mut current) = self.current.write() {
                            *current = (derive(ring), stamp);
                        }
                    }
                    Err(err) => {
                        tracing::error!(%err, "key ring changed but does not load; keeping the previous keys")
                    }
                }
            }
        }
        self.current
            .read()
            .map(|c| c.0.clone())
            .unwrap_or_else(|p| p.into_inner().0.clone())
    }

    /// Records the public halves in `signing_keys`.
    pub async fn record(&self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        let keys = self.current();
        for key in &keys.document.keys {
            key_rows::upsert(
                db,
                key_rows::Model {
                    kid: key.kid.clone(),
                    purpose: "code".into(),
                    public_x: key.x.clone(),
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
                    public_x: log.x.clone(),
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
