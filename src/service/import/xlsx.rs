//! An Excel workbook as the import's CSV: the first sheet, one CSV line per sheet row (so the
//! faults name the sheet's row numbers), each cell as the text a person typed — integers
//! without `.0`, decimals at their shortest exact text, dates as YYYY-MM-DD.
//!
//! A workbook is a zip of XML that can claim anything, so it is read within bounds that hold
//! whatever it claims: every part's real inflated size is counted before any of it is parsed
//! (a zip bomb, a shared-strings bomb and a megabyte-long run of whitespace are refused
//! there); the sheet is read as a stream of cells, never as a range sized from its declared
//! dimension (one cell at `XFD1048576` asked for 512 GiB); and the columns and rows kept are
//! bounded, the first cell past a bound named in the refusal.

use std::io::{Cursor, Read, Write};

use calamine::{DataRef, DataType, Reader, Xlsx};

use super::format::{ImportError, RowError, error};

/// Data rows one workbook may hold (besides its header); a larger file is split.
pub const MAX_ROWS: u32 = 100_000;
/// Columns a row may use: the import has about 30; the rest are someone's notes.
pub const MAX_COLUMNS: u32 = 64;
/// The most one part of the workbook may inflate to: a worksheet, and anything else (the
/// shared strings, styles, the workbook's own lists).
const MAX_SHEET_BYTES: u64 = 128 * 1024 * 1024;
const MAX_PART_BYTES: u64 = 16 * 1024 * 1024;
/// All parts together, and how many parts.
const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
const MAX_PARTS: usize = 1000;
/// The longest run of text or of one tag the XML may hold (a cell's text is at most a few
/// hundred bytes; this bounds what the XML reader buffers at once).
const MAX_RUN: usize = 1024 * 1024;

/// Is this an Excel workbook (a zip file)?
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn refuse(message: impl Into<String>) -> ImportError {
    ImportError::Rows(vec![error(1, None, message)])
}

/// Counts what a part inflates to, and the longest run between `<` and `>` or `>` and `<`.
struct Measure {
    bytes: u64,
    run: usize,
    longest: usize,
}

impl Write for Measure {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len() as u64;
        for &b in buf {
            if b == b'<' || b == b'>' {
                self.run = 0;
            } else {
                self.run += 1;
                self.longest = self.longest.max(self.run);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Inflates every part once, counting, before anything parses it: the real sizes, not the
/// sizes the zip declares.
fn check_parts(bytes: &[u8]) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| refuse(format!("not a readable Excel workbook: {e}")))?;
    if archive.len() > MAX_PARTS {
        return Err(refuse(format!(
            "the workbook has {} parts; an import workbook has a few dozen",
            archive.len()
        )));
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut part = archive
            .by_index(i)
            .map_err(|e| refuse(format!("not a readable Excel workbook: {e}")))?;
        let name = part
            .name()
            .map_err(|e| refuse(format!("not a readable Excel workbook: {e}")))?
            .into_owned();
        let limit = if name.starts_with("xl/worksheets/") {
            MAX_SHEET_BYTES
        } else {
            MAX_PART_BYTES
        };
        let too_large = || {
            refuse(format!(
                "the workbook's part {name} is larger than {} MB unpacked; split the data into \
                 several files of at most {MAX_ROWS} rows",
                limit / (1024 * 1024)
            ))
        };
        if part.size() > limit {
            return Err(too_large());
        }
        let mut measure = Measure {
            bytes: 0,
            run: 0,
            longest: 0,
        };
        std::io::copy(&mut (&mut part).take(limit + 1), &mut measure)
            .map_err(|e| refuse(format!("not a readable Excel workbook: {e}")))?;
        if measure.bytes > limit {
            return Err(too_large());
        }
        if name.ends_with(".xml") && measure.longest > MAX_RUN {
            return Err(refuse(format!(
                "the workbook's part {name} holds a run of more than 1 MB without markup; \
                 no cell of an import is that long"
            )));
        }
        total += measure.bytes;
        if total > MAX_TOTAL_BYTES {
            return Err(refuse(format!(
                "the workbook is larger than {} MB unpacked; split the data into several files",
                MAX_TOTAL_BYTES / (1024 * 1024)
            )));
        }
    }
    Ok(())
}

/// The cell's name as Excel shows it (`A1`, `XFD1048576`), from 0-based row and column.
pub fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let r = (n - 1) % 26;
        letters.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

fn cell_text(cell: &DataRef<'_>) -> Result<String, String> {
    Ok(match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                // The shortest text that reads back as the same number: what was typed.
                format!("{f}")
            }
        }
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(_) | DataRef::DateTimeIso(_) => match cell.as_date() {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => return Err("not a date".to_owned()),
        },
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(format!("the cell holds a formula error ({e})")),
    })
}

/// One CSV line (CRLF-terminated) of cells.
fn csv_line(out: &mut Vec<u8>, cells: &[String]) -> Result<(), ImportError> {
    if cells.iter().all(String::is_empty) {
        out.extend_from_slice(b"\r\n");
        return Ok(());
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer
        .write_record(cells)
        .map_err(|e| ImportError::Failed(crate::error::AppError::internal(e)))?;
    writer
        .flush()
        .map_err(|e| ImportError::Failed(crate::error::AppError::internal(e)))
}

/// The first sheet as CSV bytes, its header row first; a blank sheet row is a blank line.
/// Runs for as long as the workbook takes to read: call it off the async runtime.
pub fn to_csv(bytes: &[u8]) -> Result<Vec<u8>, ImportError> {
    check_parts(bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| refuse(format!("not a readable Excel workbook: {e}")))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| refuse("the workbook has no sheet"))?;
    let mut cells_of_sheet = book
        .worksheet_cells_reader(&first)
        .map_err(|e| refuse(format!("the first sheet cannot be read: {e}")))?;
    let mut out = Vec::new();
    let mut faults: Vec<RowError> = Vec::new();
    // The row being assembled (0-based) and its cells; rows before it are written.
    let mut row = 0u32;
    let mut cells: Vec<String> = Vec::new();
    let mut seen_any = false;
    loop {
        let next = cells_of_sheet
            .next_cell_with_formula()
            .map_err(|e| refuse(format!("the first sheet cannot be read: {e}")))?;
        let Some(cell) = next else { break };
        let (r, c) = cell.pos;
        let text = cell_text(&cell.value);
        // A cell with nothing in it (only a format) is no data, wherever it is.
        if cell.formula.is_none() && matches!(text.as_deref(), Ok("")) {
            continue;
        }
        let name = cell_name(r, c);
        if r > MAX_ROWS {
            return Err(refuse(format!(
                "the sheet has a value in {name}: a workbook takes at most {MAX_ROWS} rows \
                 under its header; split the data into several files"
            )));
        }
        if c >= MAX_COLUMNS {
            return Err(ImportError::Rows(vec![error(
                u64::from(r) + 1,
                None,
                format!(
                    "the sheet has a value in {name}, beyond the {MAX_COLUMNS} columns an import \
                     reads; remove it"
                ),
            )]));
        }
        if seen_any && (r < row || (r == row && (c as usize) < cells.len())) {
            return Err(refuse(format!(
                "the sheet's cells are out of order at {name}; save it again from Excel"
            )));
        }
        seen_any = true;
        while row < r {
            csv_line(&mut out, &cells)?;
            cells.clear();
            row += 1;
        }
        cells.resize(c as usize, String::new());
        let line = u64::from(r) + 1;
        if cell.formula.is_some() {
            faults.push(error(
                line,
                None,
                format!("cell {name} holds a formula; enter its value instead"),
            ));
            cells.push(String::new());
            continue;
        }
        match text {
            Ok(text) => cells.push(text),
            Err(message) => {
                faults.push(error(line, None, format!("cell {name}: {message}")));
                cells.push(String::new());
            }
        }
        if faults.len() >= super::MAX_ERRORS {
            break;
        }
    }
    if !seen_any {
        return Err(refuse("the file is empty"));
    }
    csv_line(&mut out, &cells)?;
    if !faults.is_empty() {
        return Err(ImportError::Rows(faults));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::cell_name;

    #[test]
    fn cells_are_named_as_excel_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(4, 25), "Z5");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
        assert_eq!(cell_name(1_048_575, 21), "V1048576");
    }
}
