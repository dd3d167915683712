//! One's own credentials — API tokens and signed-in page sessions — listed (never their
//! value, which is shown once) and revoked.

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::accounts::Caller;
use crate::error::{AppError, AppResult};
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::tokens;

/// Which kind of credential: an API token, or a browser's page session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Api,
    Session,
}

impl CredentialKind {
    fn stored(self) -> tokens::Kind {
        match self {
            CredentialKind::Api => tokens::Kind::Api,
            CredentialKind::Session => tokens::Kind::Session,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    /// `api` for a bearer token, `session` for a signed-in browser.
    pub kind: CredentialKind,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The caller's live API tokens, then its live page sessions.
pub async fn list(db: &Db, caller: &Caller) -> AppResult<Vec<TokenView>> {
    let mut views = Vec::new();
    for kind in [CredentialKind::Api, CredentialKind::Session] {
        let live = tokens::live_of(db, kind.stored(), caller.account_id, Utc::now()).await?;
        views.extend(live.into_iter().map(|t| TokenView {
            id: t.id,
            kind,
            created_at: t.created_at,
            expires_at: t.expires_at,
        }));
    }
    Ok(views)
}

/// Revokes one of the caller's credentials (another account's is "not found"), with its audit
/// event; it stops working at once (a revoked session signs its browser out).
pub async fn revoke(db: &Db, caller: &Caller, kind: CredentialKind, id: i64) -> AppResult<()> {
    audited(db, &caller.actor(), async |txn, _| {
        if !tokens::delete_of(txn, kind.stored(), caller.account_id, id).await? {
            return Err(AppError::NotFound);
        }
        let change = Change {
            action: "token.revoke",
            target_type: match kind {
                CredentialKind::Api => "api_token",
                CredentialKind::Session => "session",
            },
            target_id: id.to_string(),
            before: None,
            after: None,
        };
        Ok(Audited::one((), change))
    })
    .await
}
