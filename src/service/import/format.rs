//! The import file's format: its columns, the template, and the faults of a file, each by
//! line and column.

use std::collections::HashSet;

use serde::Serialize;

use crate::error::AppError;
use crate::grading::energy::Carrier;

pub(super) const HEAD: [&str; 7] = [
    "uscc",
    "name",
    "industry_code",
    "district",
    "period",
    "assessed_on",
    "value_added_10k_cny",
];

/// The header, in order: the firm, the year, one column per energy carrier, then waste.
pub fn columns() -> Vec<&'static str> {
    let mut columns = HEAD.to_vec();
    columns.extend(Carrier::ALL.iter().map(|c| c.name()));
    columns.extend(
        crate::service::flat::WASTE_CELLS
            .iter()
            .map(|(column, _)| *column),
    );
    columns
}

/// The template offered for download: the header and one example row.
pub fn template() -> String {
    let mut example: Vec<String> = vec![
        "91500000MA5U00000W".into(),
        "重庆示例汽车零部件有限公司".into(),
        "3670".into(),
        "渝北区".into(),
        "2025".into(),
        "2026-03-31".into(),
        "52000.5".into(),
    ];
    example.extend(Carrier::ALL.iter().map(|c| match c {
        Carrier::ElectricityKwh => "18500000".to_owned(),
        Carrier::NaturalGasM3 => "420000".to_owned(),
        Carrier::DieselT => "35.5".to_owned(),
        _ => String::new(),
    }));
    example.extend(["3200".to_owned(), "150".to_owned(), "3010".to_owned()]);
    format!("{}\r\n{}\r\n", columns().join(","), example.join(","))
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file is refused: every fault found, by line and column.
    Rows(Vec<RowError>),
    Failed(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Failed(e)
    }
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Failed(e.into())
    }
}

pub(super) fn error(line: u64, column: Option<&str>, message: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.map(str::to_owned),
        message: message.into(),
    }
}

/// Checks the header: comma-separated, every column once, no unknown column.
pub(super) fn read_header(
    record: &csv::ByteRecord,
) -> Result<Vec<Option<&'static str>>, Vec<RowError>> {
    let expected = columns();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut map = Vec::new();
    for field in record.iter() {
        let Ok(name) = std::str::from_utf8(field) else {
            return Err(vec![error(
                1,
                None,
                "the file is not UTF-8 (save it as CSV UTF-8)",
            )]);
        };
        let name = name.trim();
        match expected.iter().find(|c| **c == name) {
            Some(column) if seen.insert(*column) => map.push(Some(*column)),
            Some(column) => {
                errors.push(error(1, Some(column), "column given twice"));
                map.push(None);
            }
            None => {
                errors.push(error(1, Some(name), "unknown column"));
                map.push(None);
            }
        }
    }
    for column in &expected {
        if !seen.contains(column) {
            errors.push(error(1, Some(column), "missing column"));
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}
