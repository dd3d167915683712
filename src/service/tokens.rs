//! One's own API tokens: listed (never their value, which is shown once) and revoked.

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::accounts::Caller;
use crate::error::{AppError, AppResult};
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::tokens;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The caller's live API tokens.
pub async fn list(db: &Db, caller: &Caller) -> AppResult<Vec<TokenView>> {
    Ok(tokens::api_tokens_of(db, caller.account_id, Utc::now())
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            created_at: t.created_at,
            expires_at: t.expires_at,
        })
        .collect())
}

/// Revokes one of the caller's API tokens (another account's is "not found"), with its audit
/// event; the token stops working at once.
pub async fn revoke(db: &Db, caller: &Caller, id: i64) -> AppResult<()> {
    audited(db, &caller.actor(), async |txn, _| {
        if !tokens::delete_api_token(txn, caller.account_id, id).await? {
            return Err(AppError::NotFound);
        }
        let change = Change {
            action: "token.revoke",
            target_type: "api_token",
            target_id: id.to_string(),
            before: None,
            after: None,
        };
        Ok(Audited::one((), change))
    })
    .await
}
