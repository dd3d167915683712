//! Keyset paging of lists: `{"items", "next_cursor"}` with `?cursor=&limit=`, the cursor being
//! the last id of the page, so a page never shifts when rows are added behind it.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Serialize;

use crate::error::{AppError, AppResult};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A whole list in one page.
    pub fn all(items: Vec<T>) -> Self {
        Page {
            items,
            next_cursor: None,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

pub fn page_limit(limit: Option<u64>) -> AppResult<u64> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "limit",
            "must be 1 to 500",
        )),
    }
}

pub fn page_cursor(cursor: Option<&str>) -> AppResult<i64> {
    match cursor {
        None | Some("") => Ok(0),
        Some(text) => text.parse::<i64>().map_err(|_| {
            AppError::field_fault(
                crate::grading::Fault::Cursor,
                "cursor",
                "not a cursor from this list",
            )
        }),
    }
}

/// One page of `select`, in ascending `id` after the cursor: the rows and the next cursor.
pub async fn keyset<E, C>(
    db: &C,
    select: Select<E>,
    id: E::Column,
    id_of: fn(&E::Model) -> i64,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let limit = page_limit(limit)?;
    let after = page_cursor(cursor)?;
    let mut rows = select
        .filter(id.gt(after))
        .order_by_asc(id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|row| id_of(row).to_string())
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
