//! What regulators and firms record about a firm besides its yearly data: certifications
//! (declared by the firm, counting once verified) and vetoes (recorded by regulators), and how
//! both enter methodology §1's input.

mod certifications;
mod vetoes;

pub use certifications::*;
pub use vetoes::*;

use chrono::{NaiveDate, Utc};

use crate::error::AppResult;
use crate::store::{certifications as cert_rows, vetoes as veto_rows};

pub(super) use crate::service::text::line as text_field;

pub(super) fn optional_note(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    crate::service::text::optional_note(field, value, 2000)
}

/// Today's date in China (UTC+8), the date a grade is computed for unless another is given.
pub fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The certifications and vetoes on record, written as methodology §1 lists them.
pub fn input_lists(
    certs: &[cert_rows::Model],
    vetoes: &[veto_rows::Model],
) -> (serde_json::Value, serde_json::Value) {
    let certs = certs
        .iter()
        .map(|c| {
            serde_json::json!({
                "kind": c.kind, "number": c.number,
                "valid_from": c.valid_from.to_string(), "valid_until": c.valid_until.to_string(),
                "verified": c.verified, "revoked": c.revoked,
            })
        })
        .collect();
    let vetoes = vetoes
        .iter()
        .map(|v| {
            let mut veto =
                serde_json::json!({"kind": v.kind, "occurred_on": v.occurred_on.to_string()});
            if let Some(note) = &v.note {
                veto["note"] = serde_json::Value::String(note.clone());
            }
            veto
        })
        .collect();
    (
        serde_json::Value::Array(certs),
        serde_json::Value::Array(vetoes),
    )
}
