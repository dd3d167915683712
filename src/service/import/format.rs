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

/// Columns a file may leave out (files made before them still import): green power
/// (methodology §10.1), absent meaning 0.
pub(super) const OPTIONAL: [&str; 1] = ["green_power_kwh"];

/// The header, in order: the firm, the year, one column per energy carrier, waste, then the
/// optional columns.
pub fn columns() -> Vec<&'static str> {
    let mut columns = HEAD.to_vec();
    columns.extend(Carrier::ALL.iter().map(|c| c.name()));
    columns.extend(
        crate::service::flat::WASTE_CELLS
            .iter()
            .map(|(column, _)| *column),
    );
    columns.extend(OPTIONAL);
    columns
}

/// A column's heading in Chinese, with its unit (the XLSX template's header; the import takes
/// either this or the column's name).
pub fn label_zh(column: &str) -> String {
    let fixed = match column {
        "uscc" => "统一社会信用代码",
        "name" => "企业名称",
        "industry_code" => "行业代码（GB/T 4754 四位）",
        "district" => "区县",
        "period" => "统计年度",
        "assessed_on" => "评价日期（YYYY-MM-DD）",
        "value_added_10k_cny" => "工业增加值（万元）",
        "waste_generated_t" => "一般工业固体废物产生量（吨）",
        "waste_stock_utilized_t" => "综合利用往年贮存量（吨）",
        "waste_utilized_t" => "一般工业固体废物综合利用量（吨）",
        "green_power_kwh" => "其中：绿电（千瓦时）",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_owned();
    }
    // The carriers as the energy statistics form names them.
    let name = match Carrier::parse(column) {
        Some(Carrier::ElectricityKwh) => "电力",
        Some(Carrier::RawCoalT) => "原煤",
        Some(Carrier::WashedCoalT) => "洗精煤",
        Some(Carrier::CokeT) => "焦炭",
        Some(Carrier::CrudeOilT) => "原油",
        Some(Carrier::FuelOilT) => "燃料油",
        Some(Carrier::GasolineT) => "汽油",
        Some(Carrier::KeroseneT) => "煤油",
        Some(Carrier::DieselT) => "柴油",
        Some(Carrier::LpgT) => "液化石油气",
        Some(Carrier::NaturalGasM3) => "天然气",
        Some(Carrier::HeatGj) => "热力",
        None => column,
    };
    let unit = match Carrier::parse(column) {
        Some(Carrier::ElectricityKwh) => "千瓦时",
        Some(Carrier::NaturalGasM3) => "立方米",
        Some(Carrier::HeatGj) => "吉焦",
        _ => "吨",
    };
    format!("{name}消费量（{unit}）")
}

/// The column a heading names: the column's own name, or its Chinese heading.
pub fn column_of(heading: &str) -> Option<&'static str> {
    let heading = heading.trim();
    columns()
        .into_iter()
        .find(|c| *c == heading || label_zh(c) == heading)
}

/// The template as an Excel workbook: Chinese headings with units, one example row.
pub fn template_xlsx() -> Result<Vec<u8>, AppError> {
    let example = template();
    let row: Vec<String> = example
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect();
    let header: Vec<String> = columns().iter().map(|c| label_zh(c)).collect();
    crate::service::flat::xlsx_bytes("导入模板", &[header, row])
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
    example.push("3000000".to_owned());
    format!("{}\r\n{}\r\n", columns().join(","), example.join(","))
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl RowError {
    /// Faults of rows that came as a JSON array `list` (counted from 0): each named
    /// `list[i].column`.
    pub fn json_rows(faults: &mut [RowError], list: &str) {
        for f in faults {
            f.column = Some(format!(
                "{list}[{}].{}",
                f.line,
                f.column.clone().unwrap_or_default()
            ));
        }
    }
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
        match column_of(name) {
            Some(column) if seen.insert(column) => map.push(Some(column)),
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
        if !seen.contains(column) && !OPTIONAL.contains(column) {
            errors.push(error(1, Some(column), "missing column"));
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// The first data row beyond [`super::xlsx::MAX_ROWS`], as a fault, if the file has one: the same
/// bound as a workbook's, found before anything is read (a fast count of the records), so
/// that a file too long is refused at once and the import's memory and write stay bounded.
pub(super) fn beyond_the_row_limit(bytes: &[u8]) -> Option<RowError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    // The header, then MAX_ROWS data rows.
    for _ in 0..=super::xlsx::MAX_ROWS {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            // The end, or a fault that the reading proper will report.
            Ok(false) | Err(_) => return None,
        }
    }
    match reader.read_byte_record(&mut record) {
        Ok(true) => {
            let byte = record.position().map_or(0, |p| p.byte());
            let line = crate::csvpos::LineCounter::new(bytes).line_at(byte);
            Some(error(
                line,
                None,
                format!(
                    "a file takes at most {} rows under its header; split the list into several \
                     files",
                    super::xlsx::MAX_ROWS
                ),
            ))
        }
        _ => None,
    }
}
