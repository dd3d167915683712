//! Notices between replicas on one PostgreSQL (LISTEN/NOTIFY): which codes changed, and that
//! the key ring did. A notice sent inside a transaction is delivered when it commits, so no
//! replica hears of a change that did not happen. SQLite has one process: nothing to tell.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// Payload: the serials that changed, comma-separated.
pub const CODES: &str = "gec_codes";
/// Payload: nothing; the key ring changed on disk.
pub const KEYS: &str = "gec_keys";

async fn notify<C: ConnectionTrait>(db: &C, channel: &str, payload: String) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// Tells every replica that these codes changed (issued, superseded or revoked).
pub async fn codes_changed<C: ConnectionTrait>(db: &C, serials: &[i64]) -> Result<(), DbErr> {
    if serials.is_empty() {
        return Ok(());
    }
    let payload = serials
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    notify(db, CODES, payload).await
}

/// Tells every replica to look at the key ring now.
pub async fn keys_changed<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    notify(db, KEYS, String::new()).await
}

/// The serials of a [`CODES`] payload (anything else in it is ignored).
pub fn serials(payload: &str) -> Vec<i64> {
    payload
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}
