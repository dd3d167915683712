//! The firm's form prefilled from what data sources attested for the year (数据直连), each
//! cell saying where its figure came from.

use std::collections::HashMap;

use crate::service::readings::Attested;
use crate::web::i18n::Texts;
use crate::web::pages::data_form::{self, Input};
use crate::web::pages::views;

/// Fills the form's cells from the attested figures (unless the firm already filed the year)
/// and answers the note of each such cell: "国网重庆市电力公司 · 2025 年 12 个月合计 1,850 万千瓦时".
pub(super) fn prefill(
    t: &Texts,
    attested: &[Attested],
    inputs: &[Input],
    year: i32,
    filed_this_year: bool,
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
        if !filed_this_year {
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
