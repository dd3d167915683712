//! Request fields several use cases check the same way — grades, GB/T 4754 divisions,
//! districts, dates — and the names organisations go by.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::{AppError, AppResult};
use crate::grading::{Fault, Grade};
use crate::store::accounts;

/// At most this many districts in one list.
const MAX_DISTRICTS: usize = 50;

/// A date `YYYY-MM-DD`.
pub fn date(field: &str, text: &str) -> AppResult<NaiveDate> {
    crate::grading::input::parse_date(text.trim())
        .ok_or_else(|| AppError::fault(field, Fault::Date))
}

/// At least one grade, each once, best first.
pub fn grades(field: &str, list: &[String]) -> AppResult<Vec<Grade>> {
    if list.is_empty() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Required,
            field,
            "name at least one grade",
        ));
    }
    let mut grades: Vec<Grade> = Vec::new();
    for (i, g) in list.iter().enumerate() {
        let grade = Grade::parse(g.trim()).ok_or_else(|| {
            AppError::field_fault(
                crate::grading::Fault::OneOf,
                format!("{field}[{i}]"),
                "must be A+, A, B, C or D",
            )
        })?;
        if !grades.contains(&grade) {
            grades.push(grade);
        }
    }
    grades.sort();
    Ok(grades)
}

/// Two-digit GB/T 4754 divisions, each once (empty: any).
pub fn divisions(field: &str, list: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let d = d.trim();
        if d.len() != 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::field_fault(
                crate::grading::Fault::Format,
                format!("{field}[{i}]"),
                "must be a two-digit GB/T 4754 division",
            ));
        }
        if !out.iter().any(|x| x == d) {
            out.push(d.to_owned());
        }
    }
    Ok(out)
}

/// Districts: each a short line, each once, at most 50 (empty: everywhere).
pub fn districts(field: &str, list: &[String]) -> AppResult<Vec<String>> {
    if list.len() > MAX_DISTRICTS {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            field,
            "at most 50 districts",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let d = super::text::line(&format!("{field}[{i}]"), d, 40)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// The names accounts go by (their organisation, else their username), by account id.
pub async fn org_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, String>> {
    Ok(accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.org.unwrap_or(a.username)))
        .collect())
}
