//! A bank's list check kept for a day, so that its results' downloads work on the same check.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::accounts::Caller;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::store::list_checks;

/// How long a list check is kept for its downloads.
const KEPT_HOURS: i64 = 24;

/// Keeps a check's input for a day (older checks go); its random id.
pub async fn keep(
    db: &Db,
    caller: &Caller,
    file_text: String,
    pasted_text: String,
) -> AppResult<String> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(AppError::internal)?;
    let id = hex::encode(id);
    let now = chrono::Utc::now();
    let txn = crate::db::begin_write(db).await?;
    list_checks::Entity::delete_many()
        .filter(list_checks::Column::CreatedAt.lt(now - chrono::Duration::hours(KEPT_HOURS)))
        .exec(&txn)
        .await?;
    list_checks::Entity::insert(list_checks::ActiveModel {
        id: Set(id.clone()),
        bank_id: Set(caller.account_id),
        file_text: Set(file_text),
        pasted_text: Set(pasted_text),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// A check this bank made within the day, or `None`.
pub async fn kept(db: &Db, caller: &Caller, id: &str) -> AppResult<Option<list_checks::Model>> {
    let found = list_checks::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?;
    Ok(found.filter(|c| {
        c.bank_id == caller.account_id
            && c.created_at > chrono::Utc::now() - chrono::Duration::hours(KEPT_HOURS)
    }))
}
