//! Keeping several replicas on one PostgreSQL in step: each listens for the others' notices
//! (`store::notify`) and forgets the codes they changed, or looks at the key ring at once. A
//! replica whose notice connection is down cannot know what it missed: it stops using its
//! code cache (every verification reads the database) until it listens again.

use crate::db::Db;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseBackend;

use super::cache::Caches;
use super::keystore::KeyStore;
use crate::store::notify;

/// Starts listening when the database is PostgreSQL (SQLite has one process).
pub fn listen(db: &Db, caches: Caches, keys: Arc<KeyStore>) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    // Until the listener is up, a notice could be missed: trust nothing kept.
    caches.codes.distrust();
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            match listen_once(&db, &caches, &keys).await {
                Ok(()) => tracing::warn!("the notice connection closed; listening again"),
                Err(err) => tracing::warn!(%err, "the notice connection failed; listening again"),
            }
            caches.codes.distrust();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
}

async fn listen_once(db: &Db, caches: &Caches, keys: &KeyStore) -> Result<(), sqlx::Error> {
    let mut listener =
        sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await?;
    listener.eager_reconnect(false);
    listener.listen_all([notify::CODES, notify::KEYS]).await?;
    // Listening: from here on, no change is missed.
    caches.codes.trust();
    while let Some(notice) = listener.try_recv().await? {
        match notice.channel() {
            notify::CODES => caches.codes.forget(&notify::serials(notice.payload())),
            notify::KEYS => {
                keys.refresh(db).await;
            }
            _ => {}
        }
    }
    Ok(())
}
