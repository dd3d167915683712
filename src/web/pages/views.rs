//! View models shared by pages: a trace as a readable breakdown, and names in the page's
//! language for carriers, certification kinds, vetoes and statuses.

use crate::grading::decimal::Fixed;
use crate::grading::way_up::WayUp;
use crate::grading::{Grade, Trace};
use crate::service::verification::VerifyReason;

use super::charts;
pub use super::numbers::grouped;
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
                let unit = unit_of(t, &r.carrier).to_owned();
                (
                    carrier_name(t, &r.carrier),
                    form_quantity(t, &r.carrier, &r.quantity),
                    unit,
                    r.coefficient.clone(),
                    number(&r.kgce, 2),
                )
            })
            .collect(),
        total_tce: energy.total_tce.clone(),
        value_added: energy.value_added_10k_cny.clone(),
        intensity: energy.intensity.clone(),
        energy_baseline: energy.baseline.clone(),
        // As a percentage with every digit of the trace (the indicator lines round it to one
        // decimal), so the two read as one figure.
        ratio: format!("{}%", exact_percent(&energy.ratio)),
        energy_score: energy.score.clone(),
        waste_applicable: waste.applicable,
        // Percentages with the trace's exact digits (× 100 is exact).
        waste_rate: waste.rate.as_deref().map(exact_percent).unwrap_or_default(),
        waste_baseline: exact_percent(&waste.baseline),
        waste_leading: exact_percent(&waste.leading),
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

/// A quantity as the statistics form states it — electricity in 万千瓦时 and natural gas in
/// 万立方米, as the firm typed them — followed by the methodology's unit the coefficient is
/// per ("950 万千瓦时 = 9,500,000"); other carriers in their own unit, grouped.
pub fn form_quantity(t: &Texts, carrier: &str, quantity: &str) -> String {
    use crate::grading::energy::Carrier;
    let ten_thousands = match Carrier::parse(carrier) {
        Some(Carrier::ElectricityKwh) => Some("unit_10k_kwh"),
        Some(Carrier::NaturalGasM3) => Some("unit_10k_m3"),
        _ => None,
    };
    match (
        ten_thousands,
        crate::grading::decimal::parse_decimal(quantity),
    ) {
        (Some(key), Ok(d)) => {
            let mut tens = d;
            match tens.set_scale(d.scale() + 4) {
                Ok(()) => format!(
                    "{} {} = {}",
                    grouped(&crate::grading::decimal::normalised(tens)),
                    t.get(key),
                    grouped(quantity)
                ),
                Err(_) => grouped(quantity),
            }
        }
        _ => grouped(quantity),
    }
}

/// The unit a carrier's quantity is in (methodology §2), in the page's words.
pub fn unit_of(t: &Texts, carrier: &str) -> &'static str {
    use crate::grading::energy::Carrier;
    match Carrier::parse(carrier) {
        Some(Carrier::ElectricityKwh) => t.get("unit_kwh"),
        Some(Carrier::NaturalGasM3) => t.get("unit_m3"),
        Some(Carrier::HeatGj) => t.get("unit_gj"),
        Some(_) => t.get("unit_t"),
        None => "",
    }
}

/// A fraction as a percentage with every digit kept (`0.898507` → `89.8507`).
pub fn exact_percent(fraction: &str) -> String {
    crate::grading::decimal::parse_decimal(fraction)
        .map(|d| (Fixed::from(d) * Fixed::integer(100)).normalised())
        .unwrap_or_else(|_| fraction.to_owned())
}

/// The name of a request field in the page's language (`reason` → 原因).
pub fn field_label(t: &Texts, field: &str) -> String {
    let key = format!("field_{}", field.replace(['.', '[', ']'], "_"));
    if t.has(&key) {
        t.get(&key).to_owned()
    } else {
        t.get("field_other").to_owned()
    }
}

/// The name of a trace field (`energy.total_tce` → 综合能源消费量), or the path itself.
pub fn trace_field_name(t: &Texts, path: &str) -> String {
    if let Some(rest) = path.strip_prefix("carbon.") {
        let last = rest.rsplit('.').next().unwrap_or(rest);
        let what = match last {
            "total_tco2" => t.get("carbon_total").to_owned(),
            "co2_t" => t.get("carbon_co2").to_owned(),
            "level" => t.get("carbon_level").to_owned(),
            _ => trace_field_name(t, rest),
        };
        return format!("{} · {what}", t.get("carbon_title"));
    }
    let last = path.rsplit('.').next().unwrap_or(path);
    let key = match last {
        "total_tce" | "intensity" | "value_added_10k_cny" | "ratio" | "baseline" | "leading" => {
            if last == "value_added_10k_cny" {
                "value_added"
            } else {
                last
            }
        }
        "rate" => "waste_rate",
        "score" if path.starts_with("energy") => "energy_score",
        "score" if path.starts_with("waste") => "waste_score",
        "score" if path.starts_with("certifications") => "cert_score",
        "score" => "score",
        "grade" => "grade",
        _ => return path.to_owned(),
    };
    t.get(key).to_owned()
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
    way_up_lines_pending(t, way_up, &[])
}

/// The way up for a firm whose certifications of the `pending` kinds are declared and wait for
/// a regulator's verification: those are not suggested again, but named as waiting.
pub fn way_up_lines_pending(t: &Texts, way_up: &WayUp, pending: &[String]) -> Vec<String> {
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
                        .replace("{rate}", &exact_percent(&w.rate))
                        .replace("{t}", &w.utilized_t),
                );
            }
            for c in target
                .certifications
                .iter()
                .filter(|c| !pending.contains(&c.kind))
            {
                // The park is a place, not a certificate (methodology §4: "located in").
                let key = if c.kind == "national_green_park" {
                    "wayup_park"
                } else {
                    "wayup_cert"
                };
                ways.push(t.get(key).replace("{kind}", &kind_name(t, &c.kind)));
            }
            // Under a veto, no line promises a grade before the veto ends (§9 vetoed_until).
            let head = match &way_up.vetoed_until {
                Some(date) => t
                    .get("wayup_to_after_veto")
                    .replace("{grade}", target.grade.as_str())
                    .replace("{date}", date),
                None => t.get("wayup_to").replace("{grade}", target.grade.as_str()),
            };
            if ways.is_empty() {
                format!("{head}{}", t.get("wayup_none"))
            } else {
                format!("{head}{}", ways.join(t.get("wayup_or")))
            }
        })
        .collect();
    for kind in pending {
        let helps = way_up
            .targets
            .iter()
            .any(|target| target.certifications.iter().any(|c| &c.kind == kind));
        if helps {
            lines.push(
                t.get("wayup_cert_pending")
                    .replace("{kind}", &kind_name(t, kind)),
            );
        }
    }
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
    let china = at + chrono::Duration::hours(8);
    match lang {
        Lang::Zh => china.format("%Y-%m-%d %H:%M").to_string(),
        Lang::En => china.format("%Y-%m-%d %H:%M (UTC+8)").to_string(),
    }
}

/// The day, in China time (Asia/Shanghai, UTC+8 all year), of a moment in seconds since the
/// epoch: the date a person reads on a badge, a desk, a report or a download.
pub fn china_date(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|at| {
            (at + chrono::Duration::hours(8))
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}

/// A decimal text rounded (half away from zero) to `places`, grouped by thousands; text that is
/// not a decimal is returned as it is.
pub fn number(text: &str, places: u32) -> String {
    match crate::grading::decimal::parse_decimal(text) {
        Ok(d) => grouped(&Fixed::from(d).round(places).fixed_text()),
        Err(_) => text.to_owned(),
    }
}

/// A fraction (`0.6021`) as a percentage with `places` decimals (`60.21`), no `%` sign.
pub fn percent(fraction: &str, places: u32) -> String {
    match crate::grading::decimal::parse_decimal(fraction) {
        Ok(d) => (Fixed::from(d) * Fixed::integer(100))
            .round(places)
            .fixed_text(),
        Err(_) => fraction.to_owned(),
    }
}

/// A rate step in words: "参考：较同类贷款利率下浮 30 个基点".
pub fn rate_step_words(t: &Texts, bp: i32) -> String {
    match bp.cmp(&0) {
        std::cmp::Ordering::Less => t
            .get("rate_down")
            .replace("{bp}", &bp.unsigned_abs().to_string()),
        std::cmp::Ordering::Greater => t.get("rate_up").replace("{bp}", &bp.to_string()),
        std::cmp::Ordering::Equal => t.get("rate_flat").to_owned(),
    }
}

/// One grade of the legend: the grade, its CSS class, colour name and score band.
pub struct LegendRow {
    pub grade: &'static str,
    pub class: &'static str,
    pub name: &'static str,
    pub band: &'static str,
}

/// The five grades with their colours and score bands (methodology §4).
pub fn legend(t: &Texts) -> Vec<LegendRow> {
    Grade::ALL
        .into_iter()
        .map(|g| LegendRow {
            grade: g.as_str(),
            class: grade_class(g),
            name: t.grade_name(g.as_str()),
            band: t.get(match g {
                Grade::APlus => "band_aplus",
                Grade::A => "band_a",
                Grade::B => "band_b",
                Grade::C => "band_c",
                Grade::D => "band_d",
            }),
        })
        .collect()
}

/// The indicators of a trace in plain words, against the industry (`industry` is its name).
pub fn indicator_lines(t: &Texts, trace: &Trace, industry: &str) -> Vec<String> {
    let energy = &trace.energy;
    let mut lines = vec![
        t.get("ind_energy")
            .replace("{intensity}", &number(&energy.intensity, 4))
            // One decimal: a ratio of 0.997 is "99.7 %", never the "100 %" that reads as equal.
            .replace("{pct}", &percent(&energy.ratio, 1))
            .replace("{baseline}", &number(&energy.baseline, 4))
            .replace("{industry}", industry),
        t.get("ind_energy_total")
            .replace("{tce}", &number(&energy.total_tce, 2))
            .replace("{va}", &number(&energy.value_added_10k_cny, 2)),
    ];
    let waste = &trace.waste;
    lines.push(match (&waste.rate, waste.applicable) {
        (Some(rate), true) => t
            .get("ind_waste")
            .replace("{rate}", &percent(rate, 2))
            .replace("{baseline}", &percent(&waste.baseline, 0))
            .replace("{leading}", &percent(&waste.leading, 0)),
        _ => t.get("ind_waste_na").to_owned(),
    });
    let counted: Vec<String> = trace
        .certifications
        .counted
        .iter()
        .map(|c| kind_name(t, &c.kind))
        .collect();
    lines.push(if counted.is_empty() {
        t.get("ind_certs_none").to_owned()
    } else {
        t.get("ind_certs")
            .replace("{list}", &counted.join(t.get("list_sep")))
    });
    lines
}

/// Why a grade is capped at D: the counted vetoes in words, and the first day none counts.
pub fn veto_note(t: &Texts, trace: &Trace) -> Option<String> {
    let last = trace.vetoes.iter().map(|v| v.occurred_on.as_str()).max()?;
    let kinds: Vec<String> = trace
        .vetoes
        .iter()
        .map(|v| {
            t.get("veto_item")
                .replace("{kind}", &veto_name(t, &v.kind))
                .replace("{date}", &v.occurred_on)
        })
        .collect();
    let until = crate::grading::input::parse_date(last)
        .and_then(crate::grading::way_up::veto_ends)
        .map(|d| d.to_string())
        .unwrap_or_default();
    Some(
        t.get("veto_banner")
            .replace("{vetoes}", &kinds.join(t.get("list_sep")))
            .replace("{until}", &until),
    )
}

/// Chongqing's districts and counties (and its new areas) by their names in English; a name
/// not listed (another province's, a firm's own wording) is shown as it was given.
pub(crate) const DISTRICTS_EN: &[(&str, &str)] = &[
    ("渝中区", "Yuzhong District"),
    ("大渡口区", "Dadukou District"),
    ("江北区", "Jiangbei District"),
    ("沙坪坝区", "Shapingba District"),
    ("九龙坡区", "Jiulongpo District"),
    ("南岸区", "Nan'an District"),
    ("北碚区", "Beibei District"),
    ("渝北区", "Yubei District"),
    ("巴南区", "Banan District"),
    ("万州区", "Wanzhou District"),
    ("涪陵区", "Fuling District"),
    ("黔江区", "Qianjiang District"),
    ("长寿区", "Changshou District"),
    ("江津区", "Jiangjin District"),
    ("合川区", "Hechuan District"),
    ("永川区", "Yongchuan District"),
    ("南川区", "Nanchuan District"),
    ("綦江区", "Qijiang District"),
    ("大足区", "Dazu District"),
    ("璧山区", "Bishan District"),
    ("铜梁区", "Tongliang District"),
    ("潼南区", "Tongnan District"),
    ("荣昌区", "Rongchang District"),
    ("开州区", "Kaizhou District"),
    ("梁平区", "Liangping District"),
    ("武隆区", "Wulong District"),
    ("城口县", "Chengkou County"),
    ("丰都县", "Fengdu County"),
    ("垫江县", "Dianjiang County"),
    ("忠县", "Zhong County"),
    ("云阳县", "Yunyang County"),
    ("奉节县", "Fengjie County"),
    ("巫山县", "Wushan County"),
    ("巫溪县", "Wuxi County"),
    ("石柱土家族自治县", "Shizhu Tujia Autonomous County"),
    (
        "秀山土家族苗族自治县",
        "Xiushan Tujia and Miao Autonomous County",
    ),
    (
        "酉阳土家族苗族自治县",
        "Youyang Tujia and Miao Autonomous County",
    ),
    (
        "彭水苗族土家族自治县",
        "Pengshui Miao and Tujia Autonomous County",
    ),
    ("两江新区", "Liangjiang New Area"),
    ("重庆高新区", "Chongqing High-tech Zone"),
    ("万盛经开区", "Wansheng Economic Development Zone"),
];

/// A district's name in the page's language (the stored name is Chinese).
pub fn district_name(lang: Lang, name: &str) -> String {
    match lang {
        Lang::Zh => name.to_owned(),
        Lang::En => DISTRICTS_EN
            .iter()
            .find(|(zh, _)| *zh == name.trim())
            .map_or_else(|| name.to_owned(), |(_, en)| (*en).to_owned()),
    }
}

/// `12.5` → `+12.5`; a negative keeps its sign (a true minus).
pub fn signed(text: &str) -> String {
    if text.starts_with('-') || text == "0.0" {
        text.replace('-', "−")
    } else {
        format!("+{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electricity_and_gas_are_shown_in_the_forms_units_beside_the_methodologys() {
        let t = crate::web::i18n::Lang::Zh.texts();
        assert_eq!(
            super::form_quantity(t, "electricity_kwh", "9500000"),
            "950 万千瓦时 = 9,500,000"
        );
        assert_eq!(
            super::form_quantity(t, "natural_gas_m3", "123456.7"),
            "12.34567 万立方米 = 123,456.7"
        );
        assert_eq!(super::form_quantity(t, "diesel_t", "35.5"), "35.5");
    }

    #[test]
    fn numbers_are_grouped_and_rounded_exactly() {
        assert_eq!(grouped("1234567.891"), "1,234,567.891");
        assert_eq!(grouped("-1000"), "-1,000");
        assert_eq!(grouped("999"), "999");
        assert_eq!(number("72000.0000", 2), "72,000.00");
        assert_eq!(number("0.0725", 3), "0.073");
        assert_eq!(percent("0.600750", 2), "60.08");
        assert_eq!(percent("1.0588", 0), "106");
    }
}
