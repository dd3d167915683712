//! An Excel workbook as the import's CSV: the first sheet, one CSV line per sheet row (so the
//! faults name the sheet's row numbers), each cell as the text a person typed — integers
//! without `.0`, decimals at their shortest exact text, dates as YYYY-MM-DD.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx};

use super::format::{ImportError, error};

/// Is this an Excel workbook (a zip file)?
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                // The shortest text that reads back as the same number: what was typed.
                format!("{f}")
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) => match cell.as_date() {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => return Err("not a date".to_owned()),
        },
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("the cell holds a formula error ({e})")),
    })
}

/// One CSV line (CRLF-terminated) of cells.
fn csv_line(cells: &[String]) -> Result<Vec<u8>, ImportError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(cells)
        .map_err(|e| ImportError::Failed(crate::error::AppError::internal(e)))?;
    writer
        .into_inner()
        .map_err(|e| ImportError::Failed(crate::error::AppError::internal(e.to_string())))
}

/// The first sheet as CSV bytes, its header row first; a blank sheet row is a blank line.
pub fn to_csv(bytes: &[u8]) -> Result<Vec<u8>, ImportError> {
    let refuse = |message: String| ImportError::Rows(vec![error(1, None, message)]);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| refuse(format!("not a readable Excel workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| refuse("the workbook has no sheet".to_owned()))?
        .map_err(|e| refuse(format!("the first sheet cannot be read: {e}")))?;
    let Some((first_row, first_col)) = range.start() else {
        return Err(refuse("the file is empty".to_owned()));
    };
    let mut out = Vec::new();
    // Rows above the range are empty: keep the numbering.
    for _ in 0..first_row {
        out.extend_from_slice(b"\r\n");
    }
    let mut faults = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let line = u64::from(first_row) + i as u64 + 1;
        let mut cells: Vec<String> = (0..first_col).map(|_| String::new()).collect();
        for cell in row {
            match cell_text(cell) {
                Ok(text) => cells.push(text),
                Err(message) => {
                    faults.push(error(line, None, message));
                    cells.push(String::new());
                }
            }
        }
        if cells.iter().all(String::is_empty) {
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend(csv_line(&cells)?);
        }
    }
    if !faults.is_empty() {
        return Err(ImportError::Rows(faults));
    }
    Ok(out)
}
