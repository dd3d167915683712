//! Accounts and logging in: creating accounts (with their audit event), checking passwords,
//! and issuing and resolving API tokens and page sessions.

use crate::db::Db;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::grading::Uscc;
use crate::service::credentials;
use crate::store::audit::{self, Actor, Change};
use crate::store::{accounts, firms, tokens};

pub const API_TOKEN_LIFETIME: Duration = Duration::days(30);
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

pub use crate::store::accounts::Role;

/// The authenticated caller of a request, as the handlers see it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account_id: crate::store::ids::AccountId,
    pub username: String,
    pub role: Role,
    /// The firm a firm account acts for.
    pub firm_id: Option<crate::store::ids::FirmId>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::account(self.account_id, &self.username)
    }

    /// Refuses (403) a caller of another role.
    pub fn must_be(&self, role: Role) -> AppResult<()> {
        if self.role == role {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// A new account, parsed at the boundary.
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub firm: Option<Uscc>,
    pub org: Option<String>,
    /// A data source's fields it may attest (`service::readings::parse_fields`); empty for
    /// every other role.
    pub attests: Vec<String>,
}

/// A username as it is stored and looked up: NFKC-normalised (full-width letters are letters)
/// and case folded, so that `Regulator` and `ｒｅｇｕｌａｔｏｒ` are `regulator`.
pub fn normal_username(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    username.nfkc().collect::<String>().to_lowercase()
}

pub fn check_username(username: &str) -> Result<(), String> {
    let ok_len = (3..=64).contains(&username.len());
    let ok_chars = username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err("must be 3 to 64 characters of letters, digits, '.', '_', '-' or '@'".into())
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountSummary {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub firm_uscc: Option<String>,
    pub org: Option<String>,
    /// A data source's fields it may attest (absent for every other role).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attests: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Checks a new account's fields and hashes its password (slow: call outside transactions).
pub async fn prepare_account(new: &mut NewAccount) -> AppResult<String> {
    new.username = normal_username(&new.username);
    check_username(&new.username)
        .map_err(|m| AppError::field_fault(crate::grading::Fault::Characters, "username", m))?;
    if let Some(org) = &new.org {
        super::text::line("org", org, 200)?;
    }
    credentials::check_new_password(&new.password)
        .map_err(|m| AppError::field_fault(crate::grading::Fault::Range, "password", m))?;
    if new.role == Role::Firm && new.firm.is_none() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Combination,
            "firm",
            "a firm account needs the firm's USCC",
        ));
    }
    if (new.role == Role::Source) == new.attests.is_empty() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Combination,
            "attests",
            "a data source, and only a data source, names the fields it may attest",
        ));
    }
    if let Some(bad) = new
        .attests
        .iter()
        .find(|f| !crate::service::readings::attestable(f))
    {
        return Err(AppError::field_fault(
            crate::grading::Fault::OneOf,
            "attests",
            format!("{bad:?} is not a field a source can attest"),
        ));
    }
    if new.role != Role::Firm && new.firm.is_some() {
        return Err(AppError::field_fault(
            crate::grading::Fault::NotEligible,
            "firm",
            "only firm accounts belong to a firm",
        ));
    }
    let password = new.password.clone();
    tokio::task::spawn_blocking(move || credentials::hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Inserts a prepared account and its audit event on `txn` (the caller commits).
pub async fn insert_account<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    new: NewAccount,
    password_hash: String,
) -> AppResult<AccountSummary> {
    let firm =
        match &new.firm {
            Some(uscc) => Some(firms::find_by_uscc(txn, uscc.as_str()).await?.ok_or_else(
                || {
                    AppError::field_fault(
                        crate::grading::Fault::Unknown,
                        "firm",
                        format!("no firm with USCC {uscc}"),
                    )
                },
            )?),
            None => None,
        };
    if accounts::find_by_username(txn, &new.username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            crate::error::Conflict::Exists,
            format!("username {:?} is taken", new.username),
        ));
    }
    let now = Utc::now();
    let account = accounts::ActiveModel {
        username: Set(new.username),
        password_hash: Set(password_hash),
        role: Set(new.role),
        firm_id: Set(firm.as_ref().map(|f| f.id)),
        org: Set(new.org),
        attests: Set((!new.attests.is_empty())
            .then(|| serde_json::to_string(&new.attests).unwrap_or_default())),
        contact: Set(None),
        disabled: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let summary = AccountSummary {
        attests: crate::service::readings::attests_of(&account),
        id: account.id.0,
        username: account.username,
        role: account.role,
        firm_uscc: firm.map(|f| f.uscc.to_string()),
        org: account.org,
        created_at: account.created_at,
    };
    audit::record(
        txn,
        actor,
        now,
        Change {
            action: "account.create",
            target_type: "account",
            target_id: summary.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&summary).map_err(AppError::internal)?),
        },
    )
    .await?;
    Ok(summary)
}

/// Creates an account and its audit event in one transaction.
pub async fn create_account(
    db: &Db,
    actor: &Actor,
    mut new: NewAccount,
) -> AppResult<AccountSummary> {
    let hash = prepare_account(&mut new).await?;
    let txn = crate::db::begin_write(db).await?;
    let summary = insert_account(&txn, actor, new, hash).await?;
    txn.commit().await?;
    Ok(summary)
}

pub async fn list_accounts(db: &Db) -> AppResult<Vec<AccountSummary>> {
    let all = accounts::Entity::find()
        .order_by_asc(accounts::Column::Id)
        .all(db)
        .await?;
    let firms_by_id: std::collections::HashMap<crate::store::ids::FirmId, String> =
        firms::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|f| (f.id, f.uscc.to_string()))
            .collect();
    Ok(all
        .into_iter()
        .map(|a| AccountSummary {
            attests: crate::service::readings::attests_of(&a),
            firm_uscc: a.firm_id.and_then(|id| firms_by_id.get(&id).cloned()),
            id: a.id.0,
            username: a.username,
            role: a.role,
            org: a.org,
            created_at: a.created_at,
        })
        .collect())
}

/// An account's own contact line (a person and a telephone; empty removes it), shown only to
/// the other party of its applications and service requests. Audited.
pub async fn set_contact(db: &Db, caller: &Caller, text: &str) -> AppResult<Option<String>> {
    let contact = match text.trim() {
        "" => None,
        given => Some(crate::service::text::line("contact", given, 200)?),
    };
    let account = accounts::Entity::find_by_id(caller.account_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if account.contact == contact {
        return Ok(contact);
    }
    let before = account.contact.clone();
    let shown = contact.clone();
    crate::service::write::audited(db, &caller.actor(), async |txn, _now| {
        let mut active: accounts::ActiveModel = account.into();
        active.contact = Set(contact.clone());
        active.update(txn).await?;
        let change = Change {
            action: "account.contact",
            target_type: "account",
            target_id: caller.account_id.0.to_string(),
            before: Some(serde_json::json!({ "contact": before })),
            after: Some(serde_json::json!({ "contact": contact })),
        };
        Ok(crate::service::write::Audited::one((), change))
    })
    .await?;
    Ok(shown)
}

/// The contact line an account has given.
pub async fn contact_of(db: &Db, caller: &Caller) -> AppResult<Option<String>> {
    Ok(accounts::Entity::find_by_id(caller.account_id)
        .one(db)
        .await?
        .and_then(|a| a.contact))
}

/// Checks a username and password. Unknown usernames cost as much as wrong passwords, so that
/// timing does not tell which accounts exist.
pub async fn authenticate(db: &Db, username: &str, password: &str) -> AppResult<Caller> {
    let account = accounts::find_by_username(db, username).await?;
    let phc = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let password = password.to_owned();
    // Password checks are deliberately slow: at most two at once, so that a flood of logins
    // queues here instead of taking every core from the requests that do other work.
    static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let _permit = match CHECKS.try_acquire() {
        Ok(permit) => permit,
        Err(_) => {
            use std::sync::atomic::Ordering;
            /// One place in the queue, given back however the wait ends (a client that goes
            /// away drops its future mid-wait).
            struct Waiting;
            impl Drop for Waiting {
                fn drop(&mut self) {
                    WAITING.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let place = Waiting;
            if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING_CHECKS {
                drop(place);
                return Err(AppError::TooManyRequests {
                    retry_after_secs: 1,
                });
            }
            let permit = CHECKS.acquire().await;
            drop(place);
            permit.map_err(AppError::internal)?
        }
    };
    let ok = tokio::task::spawn_blocking(move || credentials::verify_password(&password, &phc))
        .await
        .map_err(AppError::internal)?;
    match account {
        Some(a) if ok && !a.disabled => caller_of(a),
        _ => Err(AppError::BadCredentials),
    }
}

/// An argon2id hash of a random string, checked against when the username is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let random = credentials::new_token().unwrap_or_default();
        credentials::hash_password(&random).unwrap_or_default()
    })
}

fn caller_of(account: accounts::Model) -> AppResult<Caller> {
    let role = account.role;
    Ok(Caller {
        account_id: account.id,
        username: account.username,
        role,
        firm_id: account.firm_id,
    })
}

/// Issues a credential of `kind` for the caller; the token is returned once and stored hashed.
pub async fn issue_credential(db: &Db, caller: &Caller, kind: tokens::Kind) -> AppResult<String> {
    let token = credentials::new_token().map_err(AppError::internal)?;
    let now = Utc::now();
    let lifetime = match kind {
        tokens::Kind::Api => API_TOKEN_LIFETIME,
        tokens::Kind::Session => SESSION_LIFETIME,
    };
    tokens::insert(
        db,
        kind,
        caller.account_id,
        credentials::token_hash(&token),
        now,
        now + lifetime,
    )
    .await?;
    Ok(token)
}

/// The caller behind a presented token, if it is live and its account enabled.
pub async fn resolve_credential(
    db: &Db,
    kind: tokens::Kind,
    token: &str,
) -> AppResult<Option<Caller>> {
    if !token.starts_with(credentials::TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let hash = credentials::token_hash(token);
    match tokens::account_for(db, kind, &hash, Utc::now()).await? {
        Some(account) if !account.disabled => caller_of(account).map(Some),
        _ => Ok(None),
    }
}

pub async fn end_session(db: &Db, token: &str) -> AppResult<()> {
    tokens::delete_session(db, &credentials::token_hash(token)).await?;
    Ok(())
}

/// The USCC of the caller's firm (firm accounts only).
pub async fn firm_uscc(db: &Db, caller: &Caller) -> AppResult<Option<String>> {
    use sea_orm::EntityTrait;
    Ok(match caller.firm_id {
        Some(id) => firms::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|f| f.uscc.to_string()),
        None => None,
    })
}

/// Who signed in, and the device token their client keeps (the cookie that lets it past a
/// lock-out of its username next time).
pub struct SignedIn {
    pub caller: Caller,
    pub device: String,
}

/// Password checks waiting beyond this many are refused at once (429), so that a flood of
/// logins holds neither memory nor the real users' turn.
const MAX_WAITING_CHECKS: usize = 32;

/// Checks a password under the shared throttle (the API's login and the login page): the
/// attempt is reserved for the username, the client's address and its device before the (slow)
/// check, and its outcome recorded after it.
pub async fn log_in(
    db: &Db,
    username: &str,
    password: &str,
    address: Option<std::net::IpAddr>,
    device: Option<&str>,
) -> AppResult<SignedIn> {
    use super::throttle;
    if username.len() > 256 || password.len() > 1024 {
        return Err(AppError::BadCredentials);
    }
    let username = normal_username(username);
    let device = match device {
        Some(d) if d.starts_with(credentials::TOKEN_PREFIX) && d.len() <= 128 => d.to_owned(),
        _ => credentials::new_token().map_err(AppError::internal)?,
    };
    let now_ms = || Utc::now().timestamp_millis();
    let attempt = throttle::begin(db, &username, address, Some(&device), now_ms())
        .await?
        .map_err(|refused| AppError::TooManyRequests {
            retry_after_secs: refused.retry_after_secs,
        })?;
    let result = authenticate(db, &username, password).await;
    match &result {
        Ok(_) => attempt.end(db, true, now_ms()).await?,
        Err(AppError::BadCredentials) => attempt.end(db, false, now_ms()).await?,
        Err(_) => attempt.abandon(db, now_ms()).await?,
    }
    result.map(|caller| SignedIn { caller, device })
}
