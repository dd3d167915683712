//! The firm's form prefilled from what data sources attested for the year (数据直连), each
//! cell saying where its figure came from.

use std::collections::HashMap;

use crate::service::readings::Attested;
use crate::web::i18n::Texts;
use crate::web::pages::data_form::{self, Input};
use crate::web::pages::views;

/// Fills the form's cells from the attested figures (when `fill`: a form opened afresh for a year
/// the firm has not filed) and answers the note of each such cell: "国网重庆市电力公司 · 2025 年
/// 12 个月合计 1,850 万千瓦时".
pub(super) fn prefill(
    t: &Texts,
    attested: &[Attested],
    inputs: &[Input],
    year: i32,
    fill: bool,
    form: &mut HashMap<String, String>,
) -> HashMap<&'static str, String> {
    let mut notes: HashMap<&'static str, String> = HashMap::new();
    for a in attested {
        let Some(input) = inputs.iter().find(|i| i.cell == a.field) else {
            continue;
        };
        if notes.contains_key(input.name) {
            continue;
        }
        let shown = data_form::in_form_unit(&a.quantity, input.shift);
        if fill {
            form.insert(input.name.to_owned(), shown.clone());
        }
        let span = if a.months == 0 {
            t.get("source_note_year").to_owned()
        } else {
            t.get("source_note_months")
                .replace("{n}", &a.months.to_string())
        };
        notes.insert(
            input.name,
            t.get("source_note")
                .replace("{source}", &a.source)
                .replace("{year}", &year.to_string())
                .replace("{span}", &span)
                .replace(
                    "{quantity}",
                    &format!("{} {}", views::grouped(&shown), t.get(input.unit_key)),
                ),
        );
    }
    notes
}

/// Each figure of a refused submission further than the tolerance from its attested one, at
/// its box: "与国网重庆市电力公司直采数据 1,850 万千瓦时相差 −5.0%，请在下方说明原因".
pub(super) async fn apart_faults(
    db: &crate::db::Db,
    t: &Texts,
    uscc: &str,
    request: &crate::service::assessments::AssessmentRequest,
) -> crate::error::AppResult<Vec<(String, String)>> {
    let year = request
        .period
        .as_ref()
        .and_then(|p| p.as_i64().or_else(|| p.as_str()?.parse().ok()))
        .and_then(|y| i32::try_from(y).ok())
        .unwrap_or_default();
    let input: serde_json::Map<String, serde_json::Value> = request
        .graded_members()
        .into_iter()
        .filter_map(|(name, v)| Some((name.to_owned(), v?.clone())))
        .collect();
    let found =
        crate::service::readings::discrepancies(db, uscc, year, &serde_json::Value::Object(input))
            .await?;
    let inputs = data_form::inputs();
    Ok(found
        .into_iter()
        .filter(|d| d.flagged)
        .filter_map(|d| {
            let input = inputs.iter().find(|i| i.cell == d.field)?;
            let shown = views::grouped(&data_form::in_form_unit(&d.attested, input.shift));
            let pct = d
                .percent
                .as_deref()
                .map_or_else(|| "—".to_owned(), |p| format!("{}%", views::signed(p)));
            Some((
                input.name.to_owned(),
                t.get("err_apart_from_source")
                    .replace("{source}", &d.source)
                    .replace("{attested}", &format!("{shown} {}", t.get(input.unit_key)))
                    .replace("{pct}", &pct),
            ))
        })
        .collect())
}
