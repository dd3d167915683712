//! Reading an incident list: a CSV file's header and cells (an Excel workbook read as CSV first),
//! JSON rows, and each row checked by its column — every fault named, by line and column.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{IncidentList, IncidentRow, MAX_ROWS};
use crate::error::{AppError, AppResult};
use crate::grading::Uscc;
use crate::grading::input::VetoKind;
use crate::service::import::{ImportError, RowError};

/// A checked row.
#[derive(Clone)]
pub(super) struct Incident {
    pub(super) uscc: String,
    pub(super) kind: VetoKind,
    pub(super) occurred_on: NaiveDate,
    pub(super) authority: String,
    pub(super) document_no: String,
}

/// The columns of a list file, by their names or Chinese headings.
const COLUMNS: [(&str, &[&str]); 5] = [
    ("uscc", &["统一社会信用代码"]),
    ("kind", &["事件类型", "类型"]),
    ("occurred_on", &["发生日期", "日期"]),
    ("authority", &["发布机关", "发布单位"]),
    ("document_no", &["文书编号", "文号"]),
];

fn row_error(line: u64, column: Option<&str>, message: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.map(str::to_owned),
        message: message.into(),
    }
}

/// The rows of a CSV list (header: the columns' names or Chinese headings), by file line.
pub fn csv_rows(bytes: &[u8]) -> Result<Vec<(u64, IncidentRow)>, ImportError> {
    let refuse = |line, column: Option<&str>, message: String| {
        ImportError::Rows(vec![row_error(line, column, message)])
    };
    let text = std::str::from_utf8(bytes).map_err(|_| {
        refuse(
            1,
            None,
            "the file is not UTF-8 (save it as CSV UTF-8)".into(),
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| refuse(1, None, e.to_string()))?
        .clone();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (i, heading) in headers.iter().enumerate() {
        let heading = heading.trim();
        let Some((name, _)) = COLUMNS
            .iter()
            .find(|(name, words)| *name == heading || words.contains(&heading))
        else {
            return Err(refuse(
                1,
                Some(heading),
                "an unknown column: the columns are uscc, kind, occurred_on, authority and \
                 document_no"
                    .into(),
            ));
        };
        if at.insert(name, i).is_some() {
            return Err(refuse(1, Some(name), "column given twice".into()));
        }
    }
    if let Some((missing, _)) = COLUMNS.iter().find(|(name, _)| !at.contains_key(name)) {
        return Err(refuse(
            1,
            Some(missing),
            "a column the file needs is missing".into(),
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| refuse(line, None, e.to_string()))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(refuse(
                line,
                None,
                format!("a list takes at most {MAX_ROWS} rows: send the rest in another"),
            ));
        }
        let cell = |name: &str| record.get(at[name]).unwrap_or_default().to_owned();
        rows.push((
            line,
            IncidentRow {
                uscc: cell("uscc"),
                kind: cell("kind"),
                occurred_on: cell("occurred_on"),
                authority: cell("authority"),
                document_no: cell("document_no"),
            },
        ));
    }
    Ok(rows)
}

/// A veto kind by its name or its Chinese name.
fn kind_of(text: &str) -> Option<VetoKind> {
    const ZH: [(&str, VetoKind); 5] = [
        ("重大安全事故", VetoKind::MajorSafetyAccident),
        ("重大环境事故", VetoKind::MajorEnvironmentalAccident),
        ("环境信用红牌", VetoKind::EnvironmentalCreditRed),
        ("环境信用黑牌", VetoKind::EnvironmentalCreditBlack),
        ("失信主体", VetoKind::DishonestEntity),
    ];
    let text = text.trim();
    VetoKind::parse(text).or_else(|| ZH.iter().find(|(w, _)| *w == text).map(|(_, k)| *k))
}

fn check_row(line: u64, row: &IncidentRow, faults: &mut Vec<RowError>) -> Option<Incident> {
    let before = faults.len();
    let uscc = Uscc::parse(row.uscc.trim())
        .map_err(|why| faults.push(row_error(line, Some("uscc"), why)))
        .ok();
    let kind = kind_of(&row.kind);
    if kind.is_none() {
        let names: Vec<&str> = VetoKind::ALL.iter().map(|k| k.name()).collect();
        faults.push(row_error(
            line,
            Some("kind"),
            format!(
                "not a veto kind of methodology §4: one of {}",
                names.join(", ")
            ),
        ));
    }
    let occurred_on = match NaiveDate::parse_from_str(row.occurred_on.trim(), "%Y-%m-%d") {
        Ok(d) if d > crate::service::records::today() => {
            faults.push(row_error(
                line,
                Some("occurred_on"),
                "must not be in the future",
            ));
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            faults.push(row_error(
                line,
                Some("occurred_on"),
                "a date written YYYY-MM-DD",
            ));
            None
        }
    };
    let mut text = |column: &str, value: &str, max: usize| {
        let value = value.trim();
        if value.is_empty() {
            faults.push(row_error(line, Some(column), "required"));
        } else if value.chars().count() > max || value.chars().any(char::is_control) {
            faults.push(row_error(
                line,
                Some(column),
                format!("at most {max} characters on one line"),
            ));
        }
        value.to_owned()
    };
    let authority = text("authority", &row.authority, 200);
    let document_no = text("document_no", &row.document_no, 100);
    if faults.len() > before {
        return None;
    }
    Some(Incident {
        uscc: uscc?.as_str().to_owned(),
        kind: kind?,
        occurred_on: occurred_on?,
        authority,
        document_no,
    })
}

/// Every row checked; all faults by row and column (JSON rows as `rows[i].column`).
pub(super) fn check_rows(rows: &[(u64, IncidentRow)], json_rows: bool) -> AppResult<Vec<Incident>> {
    if rows.is_empty() {
        return Err(AppError::fault("rows", crate::grading::Fault::Required));
    }
    if rows.len() > MAX_ROWS {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "rows",
            format!("a list takes at most {MAX_ROWS} rows: send the rest in another"),
        ));
    }
    let mut faults = Vec::new();
    let mut checked = Vec::with_capacity(rows.len());
    let mut seen: HashMap<(String, VetoKind, NaiveDate, String), u64> = HashMap::new();
    for (line, row) in rows {
        if let Some(incident) = check_row(*line, row, &mut faults) {
            let key = (
                incident.uscc.clone(),
                incident.kind,
                incident.occurred_on,
                incident.document_no.clone(),
            );
            if let Some(first) = seen.insert(key, *line) {
                faults.push(row_error(
                    *line,
                    Some("document_no"),
                    format!("the same incident as row {first}"),
                ));
            }
            checked.push(incident);
        }
        if faults.len() >= 1000 {
            break;
        }
    }
    if faults.is_empty() {
        return Ok(checked);
    }
    if json_rows {
        RowError::json_rows(&mut faults, "rows");
    }
    Err(ImportError::Rows(faults).into())
}

/// The rows of a JSON list, by position.
pub fn json_rows(list: Vec<IncidentRow>) -> Vec<(u64, IncidentRow)> {
    list.into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64, r))
        .collect()
}

/// A list as it arrived: `format` is `json` (`{"rows": [...], "commit": …}`), `csv` or `xlsx`
/// (a file, whose commit is asked apart). Returns the rows, whether they came as JSON, and the
/// JSON's `commit`.
pub async fn read_list(
    format: &str,
    body: &[u8],
) -> AppResult<(Vec<(u64, IncidentRow)>, bool, bool)> {
    match format {
        "json" => {
            let list: IncidentList = serde_json::from_slice(body)
                .map_err(|e| AppError::BadRequest(format!("the JSON body: {e}")))?;
            Ok((json_rows(list.rows), true, list.commit))
        }
        "csv" => Ok((csv_rows(body)?, false, false)),
        "xlsx" => {
            let bytes = body.to_vec();
            let csv =
                tokio::task::spawn_blocking(move || crate::service::import::xlsx::to_csv(&bytes))
                    .await
                    .map_err(AppError::internal)??;
            Ok((csv_rows(&csv)?, false, false))
        }
        other => Err(AppError::UnsupportedMediaType(format!(
            "{other}: send application/json, text/csv or an Excel workbook"
        ))),
    }
}

/// The template of a list file: the columns' Chinese headings and an example row.
pub fn template() -> String {
    let headings: Vec<&str> = COLUMNS.iter().map(|(_, words)| words[0]).collect();
    format!(
        "\u{feff}{}\r\n91500000000000000X,失信主体,2026-05-20,信用中国,（2026）渝失信字第0001号\r\n",
        headings.join(",")
    )
}
