//! View models shared by pages: a trace as a readable breakdown, and names in the page's
//! language for carriers, certification kinds, vetoes and statuses.

use crate::grading::decimal::Fixed;
use crate::grading::way_up::WayUp;
use crate::grading::{Grade, Trace};
use crate::service::verification::VerifyReason;

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
pub fn grade_class(grade: Grade) -> &'static str {
    match grade {
        Grade::APlus => "aplus",
        Grade::A => "a",
        Grade::B => "b",
        Grade::C => "c",
        Grade::D => "d",
    }
}

/// The breakdown of a trace, from its typed fields.
pub fn breakdown(trace: &Trace, trace_hash: &str, t: &Texts) -> Breakdown {
    let (energy, waste, certs) = (&trace.energy, &trace.waste, &trace.certifications);
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".to_owned());
    Breakdown {
        grade_class: grade_class(trace.grade).to_owned(),
        grade_name: t.grade_name(trace.grade.as_str()).to_owned(),
        score: trace.score.clone(),
        chart: charts::indicators(
            t,
            Some(&energy.score),
            if waste.applicable {
                waste.score.as_deref()
            } else {
                None
            },
            Some(&certs.score),
            Some(&trace.score),
        ),
        energy_rows: energy
            .entries
            .iter()
            .map(|r| {
                let unit = crate::grading::energy::Carrier::parse(&r.carrier)
                    .map_or("", |c| c.unit())
                    .to_owned();
                (
                    carrier_name(t, &r.carrier),
                    r.quantity.clone(),
                    unit,
                    r.coefficient.clone(),
                    r.kgce.clone(),
                )
            })
            .collect(),
        total_tce: energy.total_tce.clone(),
        value_added: energy.value_added_10k_cny.clone(),
        intensity: energy.intensity.clone(),
        energy_baseline: energy.baseline.clone(),
        ratio: energy.ratio.clone(),
        energy_score: energy.score.clone(),
        waste_applicable: waste.applicable,
        waste_rate: or_dash(&waste.rate),
        waste_baseline: waste.baseline.clone(),
        waste_leading: waste.leading.clone(),
        waste_score: or_dash(&waste.score),
        cert_score: certs.score.clone(),
        cert_rows: certs
            .counted
            .iter()
            .map(|r| {
                (
                    kind_name(t, &r.kind),
                    r.number.clone(),
                    r.points.to_string(),
                )
            })
            .collect(),
        vetoes: trace
            .vetoes
            .iter()
            .map(|r| (veto_name(t, &r.kind), r.occurred_on.clone()))
            .collect(),
        methodology: trace.methodology.clone(),
        benchmarks: trace.benchmarks.clone(),
        trace_hash: trace_hash.to_owned(),
        grade: trace.grade.as_str().to_owned(),
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

/// The way up (methodology §9) in the page's words, one line a target grade, then the veto.
pub fn way_up_lines(t: &Texts, way_up: &WayUp) -> Vec<String> {
    let percent = |fraction: &str| {
        crate::grading::decimal::parse_decimal(fraction)
            .map(|d| (Fixed::from(d) * Fixed::integer(100)).normalised())
            .unwrap_or_else(|_| fraction.to_owned())
    };
    let mut lines: Vec<String> = way_up
        .targets
        .iter()
        .map(|target| {
            let mut ways = Vec::new();
            if let Some(e) = &target.energy {
                ways.push(
                    t.get("wayup_energy")
                        .replace("{tce}", &e.total_tce)
                        .replace("{pct}", &e.cut_percent),
                );
            }
            if let Some(w) = &target.waste {
                ways.push(
                    t.get("wayup_waste")
                        .replace("{rate}", &percent(&w.rate))
                        .replace("{t}", &w.utilized_t),
                );
            }
            for c in &target.certifications {
                ways.push(
                    t.get("wayup_cert")
                        .replace("{kind}", &kind_name(t, &c.kind)),
                );
            }
            let head = t.get("wayup_to").replace("{grade}", target.grade.as_str());
            if ways.is_empty() {
                format!("{head}{}", t.get("wayup_none"))
            } else {
                format!("{head}{}", ways.join(t.get("wayup_or")))
            }
        })
        .collect();
    if let Some(date) = &way_up.vetoed_until {
        lines.push(t.get("wayup_vetoed").replace("{date}", date));
    }
    lines
}

/// The text key of why a code does not count.
pub fn reason_key(reason: Option<VerifyReason>) -> &'static str {
    match reason {
        Some(VerifyReason::Malformed) => "invalid_malformed",
        Some(VerifyReason::UnknownKey) => "invalid_unknown_key",
        Some(VerifyReason::BadSignature) => "invalid_bad_signature",
        Some(VerifyReason::KeyCompromised) => "invalid_key_compromised",
        Some(VerifyReason::NotYetValid) => "invalid_not_yet_valid",
        Some(VerifyReason::Expired) => "status_expired",
        Some(VerifyReason::Superseded) => "status_superseded",
        Some(VerifyReason::Revoked) => "status_revoked",
        Some(VerifyReason::Unknown) | None => "invalid_unknown",
    }
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
