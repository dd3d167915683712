//! Reading a batch's rows: a CSV body's header and cells, and each row checked by its column.

use chrono::{Datelike, Utc};

use super::{MAX_ROWS, ReadingRow, all_fields, attestable};
use crate::grading::Uscc;
use crate::grading::decimal::parse_decimal;
use crate::service::import::{ImportError, RowError};

/// A checked row, ready to store.
pub(super) struct Checked {
    pub(super) uscc: String,
    pub(super) year: i32,
    pub(super) month: i32,
    pub(super) field: String,
    pub(super) quantity: String,
    pub(super) reference: String,
    pub(super) reason: Option<String>,
}

pub(super) type Key = (String, i32, i32, String, String);

impl Checked {
    pub(super) fn key(&self) -> Key {
        (
            self.uscc.clone(),
            self.year,
            self.month,
            self.field.clone(),
            self.reference.clone(),
        )
    }
}

/// The rows of a CSV body (header `uscc,period,field,quantity,reference[,reason]`).
pub(super) fn csv_rows(bytes: &[u8]) -> Result<Vec<(u64, ReadingRow)>, ImportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ImportError::Rows(vec![row_error(1, None, "the file is not UTF-8 text")]))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Rows(vec![row_error(1, None, e.to_string())]))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let known = ["uscc", "period", "field", "quantity", "reference", "reason"];
    if let Some(bad) = headers.iter().find(|h| !known.contains(&h.as_str())) {
        return Err(ImportError::Rows(vec![row_error(
            1,
            Some(bad),
            "an unknown column: the columns are uscc, period, field, quantity, reference and an optional reason",
        )]));
    }
    for needed in &known[..5] {
        if !headers.iter().any(|h| h == needed) {
            return Err(ImportError::Rows(vec![row_error(
                1,
                Some(needed),
                "a column the file needs is missing",
            )]));
        }
    }
    let at = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record =
            record.map_err(|e| ImportError::Rows(vec![row_error(line, None, e.to_string())]))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |name: &str| {
            at(name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        rows.push((
            line,
            ReadingRow {
                uscc: cell("uscc"),
                period: cell("period"),
                field: cell("field"),
                quantity: cell("quantity"),
                reference: cell("reference"),
                reason: Some(cell("reason")).filter(|r| !r.trim().is_empty()),
            },
        ));
        if rows.len() > MAX_ROWS {
            return Err(ImportError::Rows(vec![row_error(
                line,
                None,
                format!("a batch takes at most {MAX_ROWS} readings: deliver the rest in another"),
            )]));
        }
    }
    Ok(rows)
}

pub(super) fn row_error(line: u64, column: Option<&str>, message: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.map(str::to_owned),
        message: message.into(),
    }
}

/// Checks one row; its faults by column.
pub(super) fn check_row(line: u64, row: ReadingRow, faults: &mut Vec<RowError>) -> Option<Checked> {
    use unicode_normalization::UnicodeNormalization;
    let before = faults.len();
    let uscc = match Uscc::parse(&row.uscc.trim().nfkc().collect::<String>()) {
        Ok(u) => Some(u.to_string()),
        Err(_) => {
            faults.push(row_error(
                line,
                Some("uscc"),
                "not a valid unified social credit code",
            ));
            None
        }
    };
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let period = row.period.trim().nfkc().collect::<String>();
    let (year, month) = match period.split_once('-') {
        None => (period.parse::<i32>().ok(), Some(0)),
        Some((y, m)) if m.len() == 2 => (y.parse::<i32>().ok(), m.parse::<i32>().ok()),
        Some(_) => (None, None),
    };
    let period_ok = match (year, month) {
        (Some(y), Some(m)) => {
            (2000..=today.year()).contains(&y)
                && (0..=12).contains(&m)
                && (y < today.year() || m <= today.month() as i32)
        }
        _ => false,
    };
    if !period_ok {
        faults.push(row_error(
            line,
            Some("period"),
            "a year (2025) or a month (2025-03) from 2000, not in the future",
        ));
    }
    let field = row.field.trim().to_owned();
    if !attestable(&field) {
        faults.push(row_error(
            line,
            Some("field"),
            format!(
                "not a field a source attests: one of {}",
                all_fields().join(", ")
            ),
        ));
    }
    let quantity = match parse_decimal(row.quantity.trim().replace(',', "").as_str()) {
        Ok(d) => Some(crate::grading::decimal::normalised(d)),
        Err(e) => {
            faults.push(row_error(line, Some("quantity"), e.message()));
            None
        }
    };
    let reference = row.reference.trim().to_owned();
    if reference.is_empty()
        || reference.chars().count() > 100
        || reference.chars().any(char::is_control)
    {
        faults.push(row_error(
            line,
            Some("reference"),
            "the source's reference: 1 to 100 characters on one line",
        ));
    }
    let reason = match row.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) if text.chars().count() <= 500 && !text.chars().any(char::is_control) => {
            Some(text.to_owned())
        }
        Some(_) => {
            faults.push(row_error(
                line,
                Some("reason"),
                "at most 500 characters on one line",
            ));
            None
        }
    };
    if faults.len() > before {
        return None;
    }
    Some(Checked {
        uscc: uscc?,
        year: year?,
        month: month?,
        field,
        quantity: quantity?,
        reference,
        reason,
    })
}
