//! View models shared by pages: a trace as a readable breakdown, and names in the page's
//! language for carriers, certification kinds, vetoes and statuses.

use serde_json::Value;

use super::charts;
use crate::web::i18n::{Lang, Texts};

pub struct Breakdown {
    pub grade: String,
    pub grade_class: String,
    pub grade_name: String,
    pub score: String,
    pub chart: String,
    /// (carrier, quantity, unit, coefficient, kgce)
    pub energy_rows: Vec<(String, String, String, String, String)>,
    pub total_tce: String,
    pub value_added: String,
    pub intensity: String,
    pub energy_baseline: String,
    pub ratio: String,
    pub energy_score: String,
    pub waste_applicable: bool,
    pub waste_rate: String,
    pub waste_baseline: String,
    pub waste_leading: String,
    pub waste_score: String,
    pub cert_score: String,
    /// (kind, number, points)
    pub cert_rows: Vec<(String, String, String)>,
    /// (kind, date)
    pub vetoes: Vec<(String, String)>,
    pub methodology: String,
    pub benchmarks: String,
    pub trace_hash: String,
}

/// The CSS class of a grade (`A+` is not a class name).
pub fn grade_class(grade: &str) -> String {
    grade.replace('+', "plus").to_lowercase()
}

fn s(v: &Value) -> String {
    v.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

pub fn breakdown(trace: &Value, trace_hash: &str, t: &Texts) -> Breakdown {
    let grade = s(&trace["grade"]);
    let energy = &trace["energy"];
    let waste = &trace["waste"];
    let certs = &trace["certifications"];
    let applicable = waste["applicable"].as_bool().unwrap_or(false);
    Breakdown {
        grade_class: grade_class(&grade),
        grade_name: t.grade_name(&grade).to_owned(),
        score: s(&trace["score"]),
        chart: charts::indicators(
            t,
            energy["score"].as_str(),
            if applicable {
                waste["score"].as_str()
            } else {
                None
            },
            certs["score"].as_str(),
            trace["score"].as_str(),
        ),
        energy_rows: energy["entries"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        let carrier = s(&r["carrier"]);
                        let unit = crate::grading::energy::Carrier::parse(&carrier)
                            .map_or("", |c| c.unit())
                            .to_owned();
                        (
                            carrier_name(t, &carrier),
                            s(&r["quantity"]),
                            unit,
                            s(&r["coefficient"]),
                            s(&r["kgce"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        total_tce: s(&energy["total_tce"]),
        value_added: s(&energy["value_added_10k_cny"]),
        intensity: s(&energy["intensity"]),
        energy_baseline: s(&energy["baseline"]),
        ratio: s(&energy["ratio"]),
        energy_score: s(&energy["score"]),
        waste_applicable: applicable,
        waste_rate: s(&waste["rate"]),
        waste_baseline: s(&waste["baseline"]),
        waste_leading: s(&waste["leading"]),
        waste_score: s(&waste["score"]),
        cert_score: s(&certs["score"]),
        cert_rows: certs["counted"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        (
                            kind_name(t, &s(&r["kind"])),
                            s(&r["number"]),
                            s(&r["points"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        vetoes: trace["vetoes"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| (veto_name(t, &s(&r["kind"])), s(&r["occurred_on"])))
                    .collect()
            })
            .unwrap_or_default(),
        methodology: s(&trace["methodology"]),
        benchmarks: s(&trace["benchmarks"]),
        trace_hash: trace_hash.to_owned(),
        grade,
    }
}

pub fn carrier_name(t: &Texts, carrier: &str) -> String {
    keyed(t, "carrier_", carrier)
}

/// The text of `prefix + name`, or the name itself when the texts do not have it.
fn keyed(t: &Texts, prefix: &str, name: &str) -> String {
    let key = format!("{prefix}{name}");
    if t.has(&key) {
        t.get(&key).to_owned()
    } else {
        name.to_owned()
    }
}

pub fn kind_name(t: &Texts, kind: &str) -> String {
    keyed(t, "cert_", kind)
}

pub fn veto_name(t: &Texts, kind: &str) -> String {
    keyed(t, "veto_", kind)
}

/// The text key of a status word (`status_active`, …).
pub fn status_key(status: &str) -> &'static str {
    match status {
        "active" => "status_active",
        "superseded" => "status_superseded",
        "revoked" => "status_revoked",
        "expired" => "status_expired",
        "submitted" => "status_submitted",
        "approved" => "status_approved",
        "rejected" => "status_rejected",
        "declared" => "status_declared",
        "verified" => "status_verified",
        _ => "status_unknown",
    }
}

/// A time as people read it in China (UTC+8), or in UTC for English pages.
pub fn local_time(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    match lang {
        Lang::Zh => (at + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Lang::En => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}
