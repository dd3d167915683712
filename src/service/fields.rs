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

/// A date `YYYY-MM-DD` typed into a form.
pub fn date(field: &str, text: &str) -> AppResult<NaiveDate> {
    crate::grading::input::parse_date(text.trim())
        .ok_or_else(|| AppError::fault(field, Fault::Date))
}

/// A request body's date `YYYY-MM-DD` (serde's `deserialize_with`): §1's strict form, the
/// same as a form's, refused in the words of `Fault::Date`.
pub fn de_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    use serde::Deserialize;
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    crate::grading::input::parse_date(text.trim())
        .ok_or_else(|| serde::de::Error::custom(Fault::Date.message()))
}

/// A form's text as one of a request enum's values — read as the JSON string serde reads
/// for the API, so a form and the API take the same words — or the field's fault.
pub fn one_of<T: serde::de::DeserializeOwned>(field: &str, text: &str) -> AppResult<T> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned()))
        .map_err(|_| AppError::fault(field, Fault::OneOf))
}

/// At least one grade, each once, best first.
pub fn grades(field: &str, list: &[Grade]) -> AppResult<Vec<Grade>> {
    if list.is_empty() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Required,
            field,
            "name at least one grade",
        ));
    }
    let mut grades = list.to_vec();
    grades.sort();
    grades.dedup();
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

/// The contact lines accounts have given (a person and a telephone), by account id.
pub async fn contacts<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = crate::store::ids::AccountId>,
) -> AppResult<HashMap<crate::store::ids::AccountId, String>> {
    Ok(accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| a.contact.map(|c| (a.id, c)))
        .collect())
}

/// The names accounts go by (their organisation, else their username), by account id.
pub async fn org_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = crate::store::ids::AccountId>,
) -> AppResult<HashMap<crate::store::ids::AccountId, String>> {
    Ok(accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.org.unwrap_or(a.username)))
        .collect())
}
