//! The offer → ask → decide workflow, written once. An owner offers something (a bank its
//! green-finance products, a provider its green services); a firm asks for it (an
//! application, a service request); the owner answers, moving the ask along the transitions
//! its kind allows. Who may see an ask, which asks each caller lists, the refusal of a move
//! the kind does not allow, and the audit of each step are the same for every kind; a kind
//! says only what it stores ([`Workflow`]). A new kind of applicant is a new impl, not a copy.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::accounts::{Caller, Role};
use super::write::{Audited, audited};
use crate::db::{Db, WriteTxn};
use crate::error::{AppError, AppResult, Conflict};
use crate::store::audit::Change;

/// Whose asks a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose {
    /// Every ask (a regulator).
    All,
    /// The asks of this firm.
    Firm(crate::store::ids::FirmId),
    /// The asks to the offers this account owns.
    Owner(crate::store::ids::AccountId),
}

/// One kind of ask: its row, its statuses, and how it reads and is stored.
pub trait Workflow {
    /// What a firm's ask is stored as.
    type Row: Clone + Send + Sync;
    /// Where an ask stands.
    type Status: Copy + Eq + serde::Serialize + Send + Sync + 'static;
    /// What the owner's answer carries besides the new status (terms, a note).
    type Answer: Send + Sync;
    /// How an ask reads in the API and on pages.
    type View: Send;

    /// The audit target type, also the word for an ask in conflict messages.
    const KIND: &'static str;
    /// The audit actions of a firm's ask and of the owner's answer.
    const ASKED: &'static str;
    const ANSWERED: &'static str;
    /// The role that owns the offers and answers the asks.
    const OWNER: Role;

    fn id(row: &Self::Row) -> i64;
    fn firm_id(row: &Self::Row) -> crate::store::ids::FirmId;
    fn status(row: &Self::Row) -> Self::Status;
    fn status_name(status: Self::Status) -> &'static str;
    /// Whether an ask may move from `from` to `to`.
    fn may_become(from: Self::Status, to: Self::Status) -> bool;
    /// Whether an ask in `status` can still move at all.
    fn is_open(status: Self::Status) -> bool;

    fn find<C: sea_orm::ConnectionTrait>(
        db: &C,
        id: i64,
    ) -> impl Future<Output = AppResult<Option<Self::Row>>> + Send;
    /// The account that owns the offer `row` asks for (`None`: the offer is gone).
    fn owner_of<C: sea_orm::ConnectionTrait>(
        db: &C,
        row: &Self::Row,
    ) -> impl Future<Output = AppResult<Option<crate::store::ids::AccountId>>> + Send;
    /// The asks of `whose`, newest first.
    fn rows<C: sea_orm::ConnectionTrait>(
        db: &C,
        whose: Whose,
    ) -> impl Future<Output = AppResult<Vec<Self::Row>>> + Send;
    fn views<C: sea_orm::ConnectionTrait>(
        db: &C,
        rows: &[Self::Row],
    ) -> impl Future<Output = AppResult<Vec<Self::View>>> + Send;
    /// Stores the owner's answer: the new status, what goes with it, who and when.
    fn store_answer(
        txn: &WriteTxn,
        row: Self::Row,
        next: Self::Status,
        answer: &Self::Answer,
        by: crate::store::ids::AccountId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = AppResult<Self::Row>> + Send;
    /// What the audit trail records of a new ask and of an answer.
    fn asked_record(view: &Self::View) -> Value;
    fn answered_record(view: &Self::View, next: Self::Status, answer: &Self::Answer) -> Value;
}

/// Whose asks `caller` sees: a regulator all, a firm its own, the owner role those to its
/// offers; anyone else none.
pub fn whose<W: Workflow>(caller: &Caller) -> AppResult<Whose> {
    match (caller.role, caller.firm_id) {
        (Role::Regulator, _) => Ok(Whose::All),
        (Role::Firm, Some(id)) => Ok(Whose::Firm(id)),
        (role, _) if role == W::OWNER => Ok(Whose::Owner(caller.account_id)),
        _ => Err(AppError::Forbidden),
    }
}

/// The ask `id` if `caller` may see it; anyone else: as if it did not exist.
pub async fn visible<W: Workflow, C: sea_orm::ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<W::Row> {
    let row = W::find(db, id).await?.ok_or(AppError::NotFound)?;
    let allowed = match whose::<W>(caller) {
        Ok(Whose::All) => true,
        Ok(Whose::Firm(firm)) => W::firm_id(&row) == firm,
        Ok(Whose::Owner(owner)) => W::owner_of(db, &row).await? == Some(owner),
        Err(_) => false,
    };
    if allowed {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// The asks `caller` sees, newest first.
pub async fn list<W: Workflow, C: sea_orm::ConnectionTrait>(
    db: &C,
    caller: &Caller,
) -> AppResult<Vec<W::View>> {
    let rows = W::rows(db, whose::<W>(caller)?).await?;
    W::views(db, &rows).await
}

/// A firm asks: `create` checks and inserts the row (given the firm, the transaction and the
/// instant); the new ask is audited as `W::ASKED`.
pub async fn ask<W: Workflow>(
    db: &Db,
    caller: &Caller,
    create: impl AsyncFnOnce(&WriteTxn, crate::store::ids::FirmId, DateTime<Utc>) -> AppResult<W::Row>,
) -> AppResult<W::View> {
    let firm_id = match (caller.role, caller.firm_id) {
        (Role::Firm, Some(id)) => id,
        _ => return Err(AppError::Forbidden),
    };
    audited(db, &caller.actor(), async |txn, now| {
        let row = create(txn, firm_id, now).await?;
        let shown = one_view::<W>(txn, &row).await?;
        let change = Change {
            action: W::ASKED,
            target_type: W::KIND,
            target_id: W::id(&row).to_string(),
            before: None,
            after: Some(W::asked_record(&shown)),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// The owner answers ask `id`, moving it to `next` with `answer`: only the owner of its offer
/// (anyone else: not found), only along a move its kind allows (else a conflict: already
/// done when the ask is closed, not allowed now when it is open); audited as `W::ANSWERED`.
pub async fn answer<W: Workflow>(
    db: &Db,
    caller: &Caller,
    id: i64,
    next: W::Status,
    answer: W::Answer,
) -> AppResult<W::View> {
    if caller.role != W::OWNER {
        return Err(AppError::Forbidden);
    }
    audited(db, &caller.actor(), async |txn, now| {
        let row = visible::<W, _>(txn, caller, id).await?;
        let before = W::status(&row);
        if !W::may_become(before, next) {
            let kind = if W::is_open(before) {
                Conflict::NotAllowedNow
            } else {
                Conflict::AlreadyDone
            };
            return Err(AppError::Conflict(
                kind,
                format!(
                    "{} {id} is {}; it cannot become {}",
                    W::KIND,
                    W::status_name(before),
                    W::status_name(next)
                ),
            ));
        }
        let updated = W::store_answer(txn, row, next, &answer, caller.account_id, now).await?;
        let shown = one_view::<W>(txn, &updated).await?;
        let change = Change {
            action: W::ANSWERED,
            target_type: W::KIND,
            target_id: id.to_string(),
            before: Some(serde_json::json!({ "status": before })),
            after: Some(W::answered_record(&shown, next, &answer)),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// One ask as it reads.
pub async fn one_view<W: Workflow>(txn: &WriteTxn, row: &W::Row) -> AppResult<W::View> {
    W::views(txn, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}
