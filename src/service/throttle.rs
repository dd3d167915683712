//! Slows down password guessing, for every replica at once: the state lives in the database,
//! one row per username and one per client address, and each attempt is *reserved* before its
//! password is checked — in the same statement that reads the row — so that concurrent guesses
//! past the free ones are refused unchecked, whatever replica they reach.
//!
//! A key (a username or an address) allows an attempt while its failures and the attempts in
//! flight are fewer than [`FREE_FAILURES`]; past that, one attempt at a time, once its wait is
//! over (1 s, doubling per failure up to 5 min). A username locked out by someone else's guesses
//! stays locked for every client but those that have signed in as that user before (a device
//! cookie, or the address they signed in from), each of which has a lane of its own: guesses
//! from however many fresh addresses cannot keep the owner out, nor reach the password.

use std::net::IpAddr;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};

/// Failures a key may have before it must wait.
pub const FREE_FAILURES: i64 = 5;
const MAX_WAIT_MS: i64 = 300_000;
/// A row untouched this long is forgotten (its failures no longer count).
const FORGET_MS: i64 = 3_600_000;
/// An attempt in flight this long was lost (its process died mid-check): it no longer blocks.
const LOST_MS: i64 = 30_000;

/// The throttle's key of a username (case folded).
pub fn user_key(username: &str) -> String {
    format!("u:{}", username.to_lowercase())
}

/// The throttle's key of a client address: one IPv4 address, or one IPv6 /64 (what one
/// subscriber holds). An IPv4-mapped address (`::ffff:a.b.c.d`, what an IPv6 listener sees of
/// an IPv4 client) is that IPv4 address.
pub fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("a:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("a:{v4}"),
            None => {
                let s = v6.segments();
                format!("a:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    // Written with `?`; PostgreSQL numbers its parameters.
    let sql = match backend {
        DatabaseBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Reserves an attempt on `key` if it allows one now; `false` leaves the row untouched.
async fn reserve<C: ConnectionTrait>(db: &C, key: &str, now_ms: i64) -> Result<bool, DbErr> {
    let allowed = "((CASE WHEN t.last_ms < ? THEN 0 ELSE t.failures END) \
           + (CASE WHEN t.last_ms < ? THEN 0 ELSE t.in_flight END) < ? \
          OR ((t.in_flight = 0 OR t.last_ms < ?) AND t.not_before_ms <= ?))";
    let sql = format!(
        "INSERT INTO login_throttle AS t (key, failures, in_flight, not_before_ms, last_ms) \
         VALUES (?, 0, 1, 0, ?) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN t.last_ms < ? THEN 0 ELSE t.failures END, \
           in_flight = (CASE WHEN t.last_ms < ? THEN 0 ELSE t.in_flight END) + 1, \
           last_ms = ? \
         WHERE {allowed} \
         RETURNING in_flight"
    );
    let forgotten = now_ms - FORGET_MS;
    let lost = now_ms - LOST_MS;
    let mut values: Vec<Value> = vec![
        key.into(),
        now_ms.into(),
        forgotten.into(),
        lost.into(),
        now_ms.into(),
    ];
    values.extend([
        forgotten.into(),
        lost.into(),
        FREE_FAILURES.into(),
        lost.into(),
        now_ms.into(),
    ]);
    let row = db
        .query_one_raw(statement(db.get_database_backend(), &sql, values))
        .await?;
    Ok(row.is_some())
}

/// Ends a reserved attempt on `key` (`release`) and counts a failure (setting the key's wait),
/// or clears the key (`clear`).
async fn finish<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now_ms: i64,
    failed: bool,
    clear: bool,
) -> Result<(), DbErr> {
    record(db, key, now_ms, failed, clear, true).await
}

async fn record<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now_ms: i64,
    failed: bool,
    clear: bool,
    release: bool,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    if clear {
        db.execute_raw(statement(
            backend,
            "DELETE FROM login_throttle WHERE key = ?",
            vec![key.into()],
        ))
        .await?;
        return Ok(());
    }
    let added = i64::from(failed);
    let released = i64::from(release);
    let row = db
        .query_one_raw(statement(
            backend,
            "UPDATE login_throttle SET failures = failures + ?, \
               in_flight = CASE WHEN in_flight >= ? THEN in_flight - ? ELSE 0 END, last_ms = ? \
             WHERE key = ? RETURNING failures",
            vec![
                added.into(),
                released.into(),
                released.into(),
                now_ms.into(),
                key.into(),
            ],
        ))
        .await?;
    let failures: i64 = match row {
        Some(row) => row.try_get_by_index::<i32>(0).map(i64::from)?,
        None => return Ok(()),
    };
    if failed && failures >= FREE_FAILURES {
        let wait = (1000i64 << (failures - FREE_FAILURES).min(16)).min(MAX_WAIT_MS);
        db.execute_raw(statement(
            backend,
            "UPDATE login_throttle SET not_before_ms = ? WHERE key = ?",
            vec![(now_ms + wait).into(), key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The seconds to wait before a key allows an attempt again (at least 1).
async fn wait_secs<C: ConnectionTrait>(db: &C, key: &str, now_ms: i64) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(statement(
            db.get_database_backend(),
            "SELECT not_before_ms FROM login_throttle WHERE key = ?",
            vec![key.into()],
        ))
        .await?;
    let not_before = match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => now_ms,
    };
    Ok(((not_before - now_ms).max(0) as u64).div_ceil(1000).max(1))
}

/// What an attempt holds while its password is checked.
pub struct Attempt {
    username: String,
    address: Option<String>,
    /// The lane of a known client (its own key), taken because the username was locked out.
    lane: Option<String>,
    /// What this client proves next time, if the password is right: its device token and its
    /// address, each as a `k:` key.
    proofs: Vec<String>,
}

/// Why an attempt may not be made now.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_secs: u64,
}

/// The key that remembers that a client (its device token, or its address key) signed in as
/// `username`: a hash, so that the table holds no device token.
fn known_key(username: &str, client: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{}\n{client}", user_key(username)).as_bytes());
    format!("k:{}", hex::encode(digest))
}

/// How long a client that signed in is remembered as known.
const REMEMBER_MS: i64 = 90 * 24 * 3_600_000;

/// Reserves an attempt for `username` from `address` (unknown when the service cannot tell
/// one client from another) and `device` (the device token the client holds, if any), or says
/// how long to wait.
///
/// A username locked out by failures is locked for everyone, except a client that has signed
/// in as that user before — the device it was given a token on, or the address it signed in
/// from (OWASP's device cookies): such a client gets a lane of its own, throttled on its own.
/// Guesses from fresh addresses therefore neither reach the password nor keep its owner out.
pub async fn begin<C: ConnectionTrait>(
    db: &C,
    username: &str,
    address: Option<IpAddr>,
    device: Option<&str>,
    now_ms: i64,
) -> Result<Result<Attempt, Refused>, DbErr> {
    let address = address.map(address_key);
    let mut proofs = Vec::new();
    if let Some(token) = device {
        proofs.push(known_key(username, &format!("d:{token}")));
    }
    if let Some(key) = &address {
        proofs.push(known_key(username, key));
    }
    if let Some(key) = &address
        && !reserve(db, key, now_ms).await?
    {
        let retry_after_secs = wait_secs(db, key, now_ms).await?;
        return Ok(Err(Refused { retry_after_secs }));
    }
    let user = user_key(username);
    if reserve(db, &user, now_ms).await? {
        return Ok(Ok(Attempt {
            username: username.to_owned(),
            address,
            lane: None,
            proofs,
        }));
    }
    for proof in &proofs {
        let lane = format!("o:{}", &proof[2..]);
        if known(db, proof, now_ms).await? && reserve(db, &lane, now_ms).await? {
            return Ok(Ok(Attempt {
                username: username.to_owned(),
                address,
                lane: Some(lane),
                proofs,
            }));
        }
    }
    if let Some(key) = &address {
        finish(db, key, now_ms, false, false).await?;
    }
    let retry_after_secs = wait_secs(db, &user, now_ms).await?;
    Ok(Err(Refused { retry_after_secs }))
}

/// A client remembered as having signed in (within [`REMEMBER_MS`]).
async fn known<C: ConnectionTrait>(db: &C, key: &str, now_ms: i64) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(statement(
            db.get_database_backend(),
            "SELECT last_ms FROM login_throttle WHERE key = ?",
            vec![key.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)? >= now_ms - REMEMBER_MS,
        None => false,
    })
}

/// Remembers a client that signed in.
async fn remember<C: ConnectionTrait>(db: &C, key: &str, now_ms: i64) -> Result<(), DbErr> {
    db.execute_raw(statement(
        db.get_database_backend(),
        "INSERT INTO login_throttle (key, failures, in_flight, not_before_ms, last_ms) \
         VALUES (?, 0, 0, 0, ?) ON CONFLICT (key) DO UPDATE SET last_ms = ?",
        vec![key.into(), now_ms.into(), now_ms.into()],
    ))
    .await?;
    Ok(())
}

impl Attempt {
    /// Records how the check ended: a failure counts against the username, the address and the
    /// lane taken; a success clears the username's record (not the address's: logging in to
    /// one's own account must not wash an address that guesses at others) and remembers the
    /// client's device and address as known for this user.
    pub async fn end<C: ConnectionTrait>(
        self,
        db: &C,
        succeeded: bool,
        now_ms: i64,
    ) -> Result<(), DbErr> {
        let failed = !succeeded;
        let user = user_key(&self.username);
        match &self.lane {
            Some(lane) => {
                finish(db, lane, now_ms, failed, succeeded).await?;
                // The lane held no attempt on the username: count, do not release.
                record(db, &user, now_ms, failed, succeeded, false).await?;
            }
            None => finish(db, &user, now_ms, failed, succeeded).await?,
        }
        if let Some(key) = &self.address {
            finish(db, key, now_ms, failed, false).await?;
        }
        if succeeded {
            for proof in &self.proofs {
                remember(db, proof, now_ms).await?;
            }
        }
        Ok(())
    }

    /// Ends the attempt without counting it (the check itself failed, not the password).
    pub async fn abandon<C: ConnectionTrait>(self, db: &C, now_ms: i64) -> Result<(), DbErr> {
        let lane = self.lane.unwrap_or_else(|| user_key(&self.username));
        finish(db, &lane, now_ms, false, false).await?;
        if let Some(key) = &self.address {
            finish(db, key, now_ms, false, false).await?;
        }
        Ok(())
    }
}

/// Forgets rows untouched for a day (a flood of made-up usernames leaves rows behind), and
/// known clients not seen for [`REMEMBER_MS`].
pub async fn prune<C: ConnectionTrait>(db: &C, now_ms: i64) -> Result<u64, DbErr> {
    let result = db
        .execute_raw(statement(
            db.get_database_backend(),
            "DELETE FROM login_throttle WHERE (key NOT LIKE 'k:%' AND last_ms < ?) \
             OR last_ms < ?",
            vec![
                (now_ms - 24 * FORGET_MS).into(),
                (now_ms - REMEMBER_MS).into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected())
}
