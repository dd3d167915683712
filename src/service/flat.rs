//! Yearly data as flat named cells — a CSV file's columns, a web form's inputs — turned into
//! the members of methodology §1, and a §1 field path turned back into the cell it came from.
//! The cells are named as §2's carriers and `waste_generated_t`, `waste_stock_utilized_t`,
//! `waste_utilized_t`; an empty carrier cell means the carrier is not used.

use serde_json::{Map, Value, json};

use crate::grading::energy::Carrier;

/// The waste cells and the §1 waste members they fill.
pub const WASTE_CELLS: [(&str, &str); 3] = [
    ("waste_generated_t", "generated_t"),
    ("waste_stock_utilized_t", "stock_utilized_t"),
    ("waste_utilized_t", "utilized_t"),
];

/// The §1 members from the cells, and the carriers used, in the order of `energy`.
pub fn from_cells(cell: impl Fn(&str) -> String) -> (Map<String, Value>, Vec<&'static str>) {
    let mut data = Map::new();
    let period = cell("period");
    // A year written as digits is a JSON integer; anything else stays text and is refused by §1.
    let year =
        !period.is_empty() && period.len() <= 4 && period.bytes().all(|b| b.is_ascii_digit());
    data.insert(
        "period".into(),
        if year {
            json!(period.parse::<u64>().unwrap_or(0))
        } else {
            Value::String(period)
        },
    );
    let assessed_on = cell("assessed_on");
    if !assessed_on.is_empty() {
        data.insert("assessed_on".into(), Value::String(assessed_on));
    }
    data.insert(
        "value_added_10k_cny".into(),
        Value::String(cell("value_added_10k_cny")),
    );
    let mut carriers = Vec::new();
    let mut energy = Vec::new();
    for carrier in Carrier::ALL {
        let quantity = cell(carrier.name());
        if !quantity.is_empty() {
            carriers.push(carrier.name());
            energy.push(json!({"carrier": carrier.name(), "quantity": quantity}));
        }
    }
    data.insert("energy".into(), Value::Array(energy));
    let waste: Map<String, Value> = WASTE_CELLS
        .iter()
        .map(|(name, member)| ((*member).to_owned(), Value::String(cell(name))))
        .collect();
    data.insert("waste".into(), Value::Object(waste));
    // Green power (methodology §10.1): an empty cell is an absent member, that is 0.
    let green = cell("green_power_kwh");
    if !green.is_empty() {
        data.insert("green_power_kwh".into(), Value::String(green));
    }
    (data, carriers)
}

/// The cell a §1 field path came from (`energy[1].quantity` → the second carrier used).
pub fn cell_of(field: &str, carriers: &[&'static str]) -> Option<&'static str> {
    if let Some(rest) = field.strip_prefix("energy[") {
        let i: usize = rest.split(']').next()?.parse().ok()?;
        return carriers.get(i).copied();
    }
    if let Some(member) = field.strip_prefix("waste.") {
        return WASTE_CELLS
            .iter()
            .find(|(_, m)| *m == member)
            .map(|(name, _)| *name);
    }
    [
        "uscc",
        "industry_code",
        "period",
        "assessed_on",
        "value_added_10k_cny",
        "green_power_kwh",
    ]
    .into_iter()
    .find(|name| *name == field)
}

/// A cell as a spreadsheet must read it: text, never a formula (OWASP CSV injection). A cell
/// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, which
/// spreadsheets show as text and do not display.
pub fn spreadsheet_text(cell: String) -> String {
    // A plain negative number (`-25.0`) is a number, not a formula: kept as it is.
    let negative_number = cell.strip_prefix('-').is_some_and(|rest| {
        !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && rest.bytes().filter(|b| *b == b'.').count() <= 1
            && !rest.starts_with('.')
            && !rest.ends_with('.')
    });
    if !negative_number && cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Rows as CSV for spreadsheets: UTF-8 with a byte-order mark (so they read the Chinese), every
/// cell text, never a formula.
pub fn csv_bytes(rows: &[Vec<String>]) -> crate::error::AppResult<Vec<u8>> {
    use crate::error::AppError;
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    for row in rows {
        writer
            .write_record(row.iter().cloned().map(spreadsheet_text))
            .map_err(|e| AppError::internal(e.to_string()))?;
    }
    writer
        .into_inner()
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Rows as an Excel workbook of one sheet: the first row bold and frozen, every cell text.
pub fn xlsx_bytes(sheet_name: &str, rows: &[Vec<String>]) -> crate::error::AppResult<Vec<u8>> {
    use crate::error::AppError;
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let mut widths: Vec<usize> = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(AppError::internal)?;
        for (c, cell) in row.iter().enumerate() {
            let wide = display_width(cell);
            match widths.get_mut(c) {
                Some(w) => *w = (*w).max(wide),
                None => widths.push(wide),
            }
            let c = u16::try_from(c).map_err(AppError::internal)?;
            if r == 0 {
                sheet
                    .write_string_with_format(r, c, cell, &bold)
                    .map_err(fail)?;
            } else if let Some(n) = spreadsheet_number(cell) {
                // A figure is a number a spreadsheet sums and sorts, not text.
                sheet.write_number(r, c, n).map_err(fail)?;
            } else {
                sheet.write_string(r, c, cell).map_err(fail)?;
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        let c = u16::try_from(c).map_err(AppError::internal)?;
        sheet
            .set_column_width(c, (*w).clamp(6, 60) as f64 + 2.0)
            .map_err(fail)?;
    }
    if let (Some(last_row), Some(last_col)) =
        (rows.len().checked_sub(1), widths.len().checked_sub(1))
    {
        let last_row = u32::try_from(last_row).map_err(AppError::internal)?;
        let last_col = u16::try_from(last_col).map_err(AppError::internal)?;
        sheet.autofilter(0, 0, last_row, last_col).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// A cell's width in a spreadsheet's columns: a CJK character takes two.
fn display_width(cell: &str) -> usize {
    cell.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

/// A cell that is a plain figure (`1234.5`, `-20`, `0.75`), as a number; not a code that
/// happens to be digits (a leading zero, as a GB/T 4754 division `06`, or more than 15 digits,
/// which a spreadsheet's double would not keep).
fn spreadsheet_number(cell: &str) -> Option<f64> {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
        && !(digits.contains('.') && frac.is_empty())
        && int.len() + frac.len() <= 15;
    if plain { cell.parse().ok() } else { None }
}

#[cfg(test)]
mod spreadsheet_tests {
    use super::spreadsheet_text;

    #[test]
    fn formulas_become_text_and_plain_cells_stay() {
        assert_eq!(
            spreadsheet_text("-25.0".into()),
            "-25.0",
            "a negative number"
        );
        for formula in [
            "=1+1", "+cmd", "-2+3", "-1.", "-.5", "-", "@SUM(A1)", "\tx", "\rx",
        ] {
            assert_eq!(spreadsheet_text(formula.into()), format!("'{formula}"));
        }
        for plain in [
            "91500112MA5U2A1B3G",
            "重庆两江",
            "90.06",
            "",
            "HTTP://X/C/ABC",
        ] {
            assert_eq!(spreadsheet_text(plain.into()), plain);
        }
    }
}

#[cfg(test)]
mod number_tests {
    use super::spreadsheet_number;

    #[test]
    fn figures_are_numbers_and_codes_stay_text() {
        assert_eq!(spreadsheet_number("1234.5"), Some(1234.5));
        assert_eq!(spreadsheet_number("-20"), Some(-20.0));
        assert_eq!(spreadsheet_number("0.75"), Some(0.75));
        assert_eq!(spreadsheet_number("2025"), Some(2025.0));
        for text in [
            "06",
            "91500000MA5U00000W",
            "1.",
            ".5",
            "",
            "1,000",
            "A+",
            "1234567890123456",
            "1e5",
        ] {
            assert_eq!(spreadsheet_number(text), None, "{text}");
        }
    }
}
