//! The bank's list check: one result per non-blank input line, in input order, numbered by
//! input line. A line's first column is a code, a code URL or a USCC (which answers that firm's
//! current code); the bank's other columns are carried through to the result and downloads.

use std::collections::HashMap;

use crate::code::text;
use crate::error::{AppError, AppResult};
use crate::grading::Uscc;
use crate::service::cache::Caches;
use crate::service::codes;
use crate::service::verification::{self, VerifyReason, VerifyResult};
use crate::web::i18n::{Lang, Texts};

use super::views;

/// The verdict classes the page counts and filters by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    Revoked,
    Superseded,
    Expired,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Valid,
        Verdict::Invalid,
        Verdict::Revoked,
        Verdict::Superseded,
        Verdict::Expired,
    ];

    /// The CSS class and filter name.
    pub fn class(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Revoked => "revoked",
            Verdict::Superseded => "superseded",
            Verdict::Expired => "expired",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Verdict::Valid => "verdict_valid",
            Verdict::Invalid => "verdict_invalid",
            Verdict::Revoked => "status_revoked",
            Verdict::Superseded => "count_superseded",
            Verdict::Expired => "status_expired",
        }
    }

    fn of(r: &VerifyResult) -> Verdict {
        if r.valid {
            return Verdict::Valid;
        }
        match r.reason {
            Some(VerifyReason::Revoked) => Verdict::Revoked,
            Some(VerifyReason::Superseded) => Verdict::Superseded,
            Some(VerifyReason::Expired) => Verdict::Expired,
            _ => Verdict::Invalid,
        }
    }
}

/// One input line: where it was, its first column and the bank's other columns.
pub struct InputLine {
    pub label: String,
    pub input: String,
    pub cells: Vec<String>,
}

/// At most this many of the bank's own columns are carried through (the first ones).
pub const MAX_EXTRA_COLUMNS: usize = 20;
/// At most this many characters of a carried cell are kept.
pub const MAX_CELL_CHARS: usize = 200;
/// At most this many result rows are shown on the page; the downloads hold every row.
pub const SHOWN_ROWS: usize = 200;

/// What the bank sent: the header of its own columns (when the file had one) and the lines.
#[derive(Default)]
pub struct ListInput {
    pub extra_headers: Vec<String>,
    pub lines: Vec<InputLine>,
    /// Columns past [`MAX_EXTRA_COLUMNS`], or characters past [`MAX_CELL_CHARS`], were left out.
    pub trimmed: bool,
}

/// The bank's own cells, within the bounds; `true` when something was left out.
fn bounded(cells: &mut Vec<String>) -> bool {
    let mut cut = cells.len() > MAX_EXTRA_COLUMNS;
    cells.truncate(MAX_EXTRA_COLUMNS);
    for cell in cells.iter_mut() {
        if let Some((at, _)) = cell.char_indices().nth(MAX_CELL_CHARS) {
            cell.truncate(at);
            cell.push('…');
            cut = true;
        }
    }
    cut
}

/// The cells of one CSV line, trimmed; a line the CSV reader cannot take (a stray quote) is
/// one cell.
fn cells_of(raw: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(raw.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) if !record.is_empty() => record.iter().map(str::to_owned).collect(),
        _ => vec![raw.trim().to_owned()],
    }
}

/// Could this cell be what a line is meant to hold (a code, a URL or a USCC)?
fn looks_like_item(cell: &str) -> bool {
    cell.contains("/c/")
        || cell.contains("/C/")
        || cell.len() >= 40
        || (cell.len() == 18 && cell.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl ListInput {
    /// Reads the uploaded file and the pasted text (each a CSV; blank lines skipped). A file's
    /// first line is the bank's header when its first column cannot be a code or a USCC and more
    /// lines follow.
    pub fn read(t: &Texts, file: &str, pasted: &str) -> ListInput {
        let both = !file.trim().is_empty() && !pasted.trim().is_empty();
        let mut input = ListInput::default();
        for (source, text, key) in [(0, file, "list_line_file"), (1, pasted, "list_line_pasted")] {
            // Line by line, so that a row is numbered by the line it came from.
            let records: Vec<(usize, Vec<String>)> = text
                .lines()
                .enumerate()
                .filter(|(_, raw)| !raw.trim().is_empty())
                .map(|(i, raw)| (i + 1, cells_of(raw)))
                .collect();
            let mut records = records;
            if source == 0
                && records.len() > 1
                && !looks_like_item(records[0].1.first().map_or("", String::as_str))
            {
                let (_, header) = records.remove(0);
                input.extra_headers = header.into_iter().skip(1).collect();
                input.trimmed |= bounded(&mut input.extra_headers);
            }
            for (line, mut cells) in records {
                let first = if cells.is_empty() {
                    String::new()
                } else {
                    cells.remove(0)
                };
                input.trimmed |= bounded(&mut cells);
                let label = if both {
                    t.get(key).replace("{n}", &line.to_string())
                } else {
                    line.to_string()
                };
                input.lines.push(InputLine {
                    label,
                    input: first.trim_start_matches('\u{feff}').to_owned(),
                    cells,
                });
            }
        }
        input
    }
}

/// One line's answer. A code that is not authentic shows only the verdict and its reason.
pub struct ResultRow {
    pub label: String,
    pub input: String,
    pub cells: Vec<String>,
    pub verdict: Verdict,
    pub reason: String,
    pub firm: String,
    pub uscc: String,
    pub grade: String,
    pub score: String,
    /// The carbon-efficiency level the code states, in words (empty on older codes).
    pub carbon: String,
    /// The share of the energy data sources attested (claim 8), "80%" (empty when not stated).
    pub attested: String,
    pub period: String,
    pub valid_until: String,
    pub eligible: String,
    pub rate_step: String,
    /// The scan page of the line's code, when it is authentic.
    pub link: Option<String>,
}

impl ResultRow {
    fn refused(line: InputLine, reason: &str) -> Self {
        ResultRow {
            label: line.label,
            input: line.input,
            cells: line.cells,
            verdict: Verdict::Invalid,
            reason: reason.to_owned(),
            firm: String::new(),
            uscc: String::new(),
            grade: String::new(),
            score: String::new(),
            carbon: String::new(),
            attested: String::new(),
            period: String::new(),
            valid_until: String::new(),
            eligible: String::new(),
            rate_step: String::new(),
            link: None,
        }
    }

    /// The input as the table shows it: a long code shortened in the middle.
    pub fn short_input(&self) -> String {
        let chars: Vec<char> = self.input.chars().collect();
        if chars.len() <= 40 {
            return self.input.clone();
        }
        let head: String = chars[..20].iter().collect();
        let tail: String = chars[chars.len() - 12..].iter().collect();
        format!("{head}…{tail}")
    }
}

/// What a line holds.
enum Item {
    Code(String),
    Uscc(String),
    Refused(&'static str),
}

fn item_of(cell: &str) -> Item {
    // Full-width digits and letters (９１５…), as a Chinese keyboard types them, are the same
    // characters (NFKC), as the firm's form takes them.
    use unicode_normalization::UnicodeNormalization;
    let normal: String = cell.nfkc().collect();
    let cell = normal.trim();
    if cell.len() == 18 && cell.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return match Uscc::parse(&cell.to_ascii_uppercase()) {
            Ok(uscc) => Item::Uscc(uscc.to_string()),
            Err(_) => Item::Refused("list_bad_uscc"),
        };
    }
    if cell.contains("/c/") || cell.contains("/C/") || cell.len() >= 40 {
        return Item::Code(cell.to_owned());
    }
    Item::Refused("list_unreadable")
}

/// Checks every line: USCCs are looked up to their firm's current code, then all codes are
/// verified in one batch.
pub async fn check(
    db: &crate::db::Db,
    caches: &Caches,
    keys: &crate::code::TrustedKeys,
    lang: Lang,
    input: ListInput,
) -> AppResult<Vec<ResultRow>> {
    let t = lang.texts();
    let mut items: Vec<Item> = input.lines.iter().map(|l| item_of(&l.input)).collect();
    let usccs: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Uscc(u) => Some(u.as_str()),
            _ => None,
        })
        .collect();
    let current: HashMap<String, Option<Vec<u8>>> = if usccs.is_empty() {
        HashMap::new()
    } else {
        codes::current_by_uscc(db, &usccs).await?
    };
    for item in &mut items {
        if let Item::Uscc(uscc) = item {
            *item = match current.get(uscc.as_str()) {
                None => Item::Refused("list_unknown_firm"),
                Some(None) => Item::Refused("list_no_code"),
                Some(Some(cose)) => Item::Code(text::encode(cose)),
            };
        }
    }
    let to_verify: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Code(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let verified = verification::verify_codes(db, caches, keys, &to_verify).await?;
    // A revoked code's day and reason, as the record has them.
    let revoked_serials: Vec<i64> = verified
        .iter()
        .filter(|r| r.reason == Some(verification::VerifyReason::Revoked))
        .filter_map(|r| r.claims.as_ref().map(|c| c.serial as i64))
        .collect();
    let revocations: HashMap<i64, (String, String)> = if revoked_serials.is_empty() {
        HashMap::new()
    } else {
        crate::store::rows_in::<crate::store::codes::Entity, _, _>(
            db,
            crate::store::codes::Column::Serial,
            revoked_serials,
        )
        .await?
        .into_iter()
        .map(|c| {
            (
                c.serial,
                (
                    c.revoked_at
                        .map(|at| views::local_time(lang, at))
                        .unwrap_or_default(),
                    c.revoked_reason.unwrap_or_default(),
                ),
            )
        })
        .collect()
    };
    let mut verified = verified.into_iter();
    let name = |item: &crate::grading::finance::Item| match lang {
        Lang::Zh => item.name_zh,
        Lang::En => item.name_en,
    };
    let mut rows = Vec::with_capacity(items.len());
    for (line, item) in input.lines.into_iter().zip(items) {
        let code = match item {
            Item::Refused(key) => {
                rows.push(ResultRow::refused(line, t.get(key)));
                continue;
            }
            Item::Uscc(_) => {
                return Err(AppError::internal("a USCC left unresolved"));
            }
            Item::Code(code) => code,
        };
        let r = verified
            .next()
            .ok_or_else(|| AppError::internal("a verdict missing"))?;
        let verdict = Verdict::of(&r);
        let revoked = r
            .claims
            .as_ref()
            .filter(|_| verdict == Verdict::Revoked)
            .and_then(|c| revocations.get(&(c.serial as i64)));
        let (Some(claims), true) = (r.claims.as_ref(), verdict != Verdict::Invalid) else {
            rows.push(ResultRow::refused(line, t.get(views::reason_key(r.reason))));
            continue;
        };
        let finance = r.finance.as_ref().filter(|_| r.valid);
        rows.push(ResultRow {
            label: line.label,
            input: line.input,
            cells: line.cells,
            verdict,
            reason: match (r.valid, revoked) {
                (true, _) => String::new(),
                (false, Some((at, why))) => t
                    .get("list_revoked_detail")
                    .replace("{at}", at)
                    .replace("{reason}", why),
                (false, None) => t.get(views::reason_key(r.reason)).to_owned(),
            },
            firm: r.firm.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
            uscc: claims.uscc.clone(),
            // A D with a score that earns more is a D a veto holds (methodology §4).
            grade: if claims.grade == crate::grading::Grade::D
                && crate::grading::decimal::parse_decimal(&claims.score).is_ok_and(|s| {
                    crate::grading::Fixed::from(s) >= crate::grading::Fixed::integer(40)
                }) {
                t.get("list_grade_vetoed").to_owned()
            } else {
                claims.grade.to_string()
            },
            score: claims.score.clone(),
            carbon: claims
                .carbon_level
                .map(|level| super::carbon::label(t.lang, level))
                .unwrap_or_default(),
            attested: claims
                .attested_share
                .map(|pct| format!("{pct}%"))
                .unwrap_or_default(),
            period: claims.period.to_string(),
            valid_until: views::china_date(claims.exp.timestamp()),
            eligible: finance
                .map(|f| {
                    f.products
                        .iter()
                        .map(name)
                        .collect::<Vec<_>>()
                        .join(t.get("list_sep"))
                })
                .unwrap_or_default(),
            rate_step: finance
                .and_then(|f| f.rate_step_bp)
                .map(|bp| views::rate_step_words(t, bp))
                .unwrap_or_default(),
            link: Some(format!(
                "/c/{}",
                text::code_part(&code).to_ascii_uppercase()
            )),
        });
    }
    Ok(rows)
}

/// The counts by verdict, in [`Verdict::ALL`]'s order.
pub fn counts(rows: &[ResultRow]) -> Vec<(Verdict, usize)> {
    Verdict::ALL
        .into_iter()
        .map(|v| (v, rows.iter().filter(|r| r.verdict == v).count()))
        .collect()
}

/// Makes the bank's columns square: as many headers as the widest line has cells (a missing
/// header named by its column), and every line padded to that width.
pub fn square(t: &Texts, extra_headers: &mut Vec<String>, rows: &mut [ResultRow]) {
    let extra = rows
        .iter()
        .map(|r| r.cells.len())
        .max()
        .unwrap_or(0)
        .max(extra_headers.len());
    extra_headers.resize(extra, String::new());
    for (i, h) in extra_headers.iter_mut().enumerate() {
        if h.is_empty() {
            *h = t.get("col_extra").replace("{n}", &(i + 2).to_string());
        }
    }
    for r in rows {
        r.cells.resize(extra, String::new());
    }
}

/// The download's header and rows: one row per input line, in the page's language.
pub fn table(t: &Texts, extra_headers: &[String], rows: &[ResultRow]) -> Vec<Vec<String>> {
    let mut header: Vec<String> = vec![t.get("col_line").into(), t.get("col_input").into()];
    header.extend(extra_headers.iter().cloned());
    for key in [
        "col_verdict",
        "col_reason",
        "col_firm",
        "uscc",
        "grade",
        "score",
        "carbon_level",
        "col_attested",
        "period",
        "valid_until",
        "col_eligible",
        "col_rate",
    ] {
        header.push(t.get(key).to_owned());
    }
    let mut out = vec![header];
    for r in rows {
        let mut row = vec![r.label.clone(), r.input.clone()];
        row.extend(r.cells.iter().cloned());
        row.extend([
            t.get(r.verdict.key()).to_owned(),
            r.reason.clone(),
            r.firm.clone(),
            r.uscc.clone(),
            r.grade.clone(),
            r.score.clone(),
            r.carbon.clone(),
            r.attested.clone(),
            r.period.clone(),
            r.valid_until.clone(),
            r.eligible.clone(),
            r.rate_step.clone(),
        ]);
        out.push(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_non_blank_line_is_one_row_numbered_by_its_line() {
        let t = Lang::Zh.texts();
        let file = "code,branch\nhttps://x/c/ABC,north\n\n91500000MA5U00000W,south\nhello\n";
        let input = ListInput::read(t, file, "");
        assert_eq!(input.extra_headers, vec!["branch"]);
        let labels: Vec<&str> = input.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["2", "4", "5"]);
        assert_eq!(input.lines[1].cells, vec!["south"]);
        let pasted = ListInput::read(t, "", "91500000MA5U00000W\n\n  x  \n");
        assert!(pasted.extra_headers.is_empty());
        assert_eq!(pasted.lines.len(), 2);
        assert_eq!(pasted.lines[1].input, "x");
    }
}
