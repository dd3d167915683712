//! The carbon-efficiency level (methodology §10) in the pages' words: the level, the sentence
//! a scanner reads, the emissions by source, the green-power share and the way to each better
//! level (GEC-CP 2025.1) — all from a stored carbon trace, never recomputed for display.

use serde_json::Value;

use super::numbers::grouped;
use super::views::{carrier_name, number, percent, unit_of};
use crate::grading::carbon::level_label;
use crate::grading::carbon_way_up::CarbonWayUp;
use crate::web::i18n::{Lang, Texts};

/// One source of emissions: its name, the quantity with its unit, the CO₂ and its share.
pub struct SourceRow {
    pub name: String,
    pub quantity: String,
    pub co2_t: String,
    pub share: String,
}

/// What a page shows of a carbon trace.
pub struct CarbonSummary {
    pub level: u8,
    /// "二级 · 浅绿".
    pub label: String,
    /// "每万元工业增加值碳排放 0.62 吨二氧化碳，为行业基准的 78%".
    pub sentence: String,
    pub sources: Vec<SourceRow>,
    /// Total CO₂, t, grouped (4 places as the trace has it).
    pub total: String,
    /// "绿电占用电量 16.22%", when there is electricity.
    pub green_share: Option<String>,
    /// The versions of the tables used, as the trace names them.
    pub versions: String,
    pub way_up: Vec<String>,
}

/// The level in words.
pub fn label(lang: Lang, level: u8) -> String {
    let (zh, en) = level_label(level);
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// The sentence of a trace: intensity (2 places) and the ratio as a whole percentage.
pub fn sentence(t: &Texts, trace: &Value) -> Option<String> {
    let intensity = trace["intensity"].as_str()?;
    let ratio = trace["ratio"].as_str()?;
    Some(
        t.get("carbon_sentence")
            .replace("{intensity}", &number(intensity, 2))
            .replace("{pct}", &percent(ratio, 0)),
    )
}

fn share_of(co2: &str, total: &str) -> String {
    use crate::grading::decimal::{Fixed, parse_decimal};
    match (parse_decimal(co2), parse_decimal(total)) {
        (Ok(c), Ok(t)) if !t.is_zero() => format!(
            "{}%",
            (Fixed::from(c) * Fixed::integer(100))
                .div_round(Fixed::from(t), 1)
                .fixed_text()
        ),
        _ => "—".to_owned(),
    }
}

/// The summary of a stored carbon trace, with the way up when it is known.
pub fn summary(t: &Texts, trace: &Value, way_up: Option<&CarbonWayUp>) -> Option<CarbonSummary> {
    let level = u8::try_from(trace["level"].as_u64()?).ok()?;
    let total = trace["total_tco2"].as_str()?.to_owned();
    let mut sources = Vec::new();
    let row = |name: String, quantity: &Value, unit: &str, co2: &Value| SourceRow {
        name,
        quantity: format!("{} {unit}", grouped(quantity.as_str().unwrap_or_default())),
        co2_t: number(co2.as_str().unwrap_or_default(), 4),
        share: share_of(co2.as_str().unwrap_or_default(), &total),
    };
    let mut green_share = None;
    if let Value::Object(e) = &trace["electricity"] {
        sources.push(row(
            t.get("carbon_src_electricity").to_owned(),
            &e["grid_kwh"],
            t.get("unit_kwh"),
            &e["co2_t"],
        ));
        let none = e["green_power_kwh"].as_str().is_none_or(|g| g == "0");
        green_share = e["green_share"].as_str().map(|share| {
            if none {
                return t.get("carbon_no_green").to_owned();
            }
            t.get("carbon_green_share")
                .replace("{pct}", &percent(share, 2))
                .replace(
                    "{kwh}",
                    &number(e["green_power_kwh"].as_str().unwrap_or("0"), 0),
                )
        });
    }
    if let Value::Object(h) = &trace["heat"] {
        sources.push(row(
            t.get("carbon_src_heat").to_owned(),
            &h["quantity"],
            t.get("unit_gj"),
            &h["co2_t"],
        ));
    }
    for fuel in trace["combustion"].as_array().into_iter().flatten() {
        let carrier = fuel["carrier"].as_str().unwrap_or_default();
        sources.push(row(
            carrier_name(t, carrier),
            &fuel["quantity"],
            unit_of(t, carrier),
            &fuel["co2_t"],
        ));
    }
    Some(CarbonSummary {
        level,
        label: label(t.lang, level),
        sentence: sentence(t, trace)?,
        sources,
        total: number(&total, 4),
        green_share,
        versions: [
            "indicator",
            "fuel_factors",
            "grid_factors",
            "carbon_benchmarks",
        ]
        .iter()
        .filter_map(|k| trace[*k].as_str())
        .collect::<Vec<_>>()
        .join(" · "),
        way_up: way_up.map(|w| way_up_lines(t, w)).unwrap_or_default(),
    })
}

/// The carbon way up in the page's words, one line a target level.
pub fn way_up_lines(t: &Texts, way_up: &CarbonWayUp) -> Vec<String> {
    way_up
        .targets
        .iter()
        .map(|target| {
            let mut ways = Vec::new();
            if let Some(g) = &target.grid_electricity {
                ways.push(
                    t.get("cwu_grid")
                        .replace("{kwh}", &number(&g.grid_kwh, 0))
                        .replace("{cut}", &number(&g.cut_kwh, 0))
                        .replace("{pct}", &g.cut_percent),
                );
            }
            if let Some(g) = &target.green_power {
                ways.push(
                    t.get("cwu_green")
                        .replace("{kwh}", &number(&g.more_kwh, 0))
                        .replace("{pct}", &percent(&g.green_share, 2)),
                );
            }
            for c in &target.carriers {
                ways.push(
                    t.get("cwu_carrier")
                        .replace("{carrier}", &carrier_name(t, &c.carrier))
                        .replace("{q}", &number(&c.quantity, 4))
                        .replace("{unit}", unit_of(t, &c.carrier))
                        .replace("{pct}", &c.cut_percent),
                );
            }
            let head = t
                .get("cwu_to")
                .replace("{level}", &label(t.lang, target.level));
            if ways.is_empty() {
                format!("{head}{}", t.get("wayup_none"))
            } else {
                format!("{head}{}", ways.join(t.get("wayup_or")))
            }
        })
        .collect()
}
