//! A resubmission beside the year's approved filing: what differs, item by item, in the
//! statistics forms' words and units.

use crate::grading::Trace;
use crate::service::profile::percent_change;
use crate::web::i18n::Texts;
use crate::web::pages::views::{carrier_name, grouped, kind_name, number, percent, unit_of};

/// One item that differs: what, this filing, the approved one, the change in words.
pub struct CompareRow {
    pub what: String,
    pub now: String,
    pub approved: String,
    pub change: String,
}

/// The items of `now` that differ from `approved`, in the order of the form.
pub fn rows(t: &Texts, now: &Trace, approved: &Trace) -> Vec<CompareRow> {
    let mut out = Vec::new();
    let mut item = |what: String, n: Option<String>, a: Option<String>, change: String| {
        if n != a {
            let dash = || "—".to_owned();
            out.push(CompareRow {
                what,
                now: n.unwrap_or_else(dash),
                approved: a.unwrap_or_else(dash),
                change,
            });
        }
    };
    let change = |a: &str, n: &str| {
        percent_change(a, n)
            .map(|(pct, _)| format!("{}%", crate::web::pages::views::signed(&pct.fixed_text())))
            .unwrap_or_default()
    };
    let grade = |tr: &Trace| format!("{} {}", tr.grade.as_str(), tr.score);
    item(
        t.get("compare_grade").to_owned(),
        Some(grade(now)),
        Some(grade(approved)),
        String::new(),
    );
    // Each energy carrier, in the firm's own unit.
    let mut carriers: Vec<&str> = now
        .energy
        .entries
        .iter()
        .map(|e| e.carrier.as_str())
        .collect();
    for e in &approved.energy.entries {
        if !carriers.contains(&e.carrier.as_str()) {
            carriers.push(&e.carrier);
        }
    }
    for carrier in carriers {
        let quantity = |tr: &Trace| {
            tr.energy
                .entries
                .iter()
                .find(|e| e.carrier == carrier)
                .map(|e| e.quantity.clone())
        };
        let (n, a) = (quantity(now), quantity(approved));
        let words = match (&n, &a) {
            (Some(n), Some(a)) => change(a, n),
            (Some(_), None) => t.get("compare_added").to_owned(),
            _ => t.get("compare_removed").to_owned(),
        };
        let unit = unit_of(t, carrier);
        let shown = |q: Option<String>| q.map(|q| format!("{} {unit}", grouped(&q)));
        item(carrier_name(t, carrier), shown(n), shown(a), words);
    }
    let (ne, ae) = (&now.energy, &approved.energy);
    for (key, unit, n, a, places) in [
        ("total_tce", "unit_tce", &ne.total_tce, &ae.total_tce, 2),
        (
            "value_added",
            "unit_10k_cny",
            &ne.value_added_10k_cny,
            &ae.value_added_10k_cny,
            2,
        ),
        (
            "intensity",
            "unit_intensity",
            &ne.intensity,
            &ae.intensity,
            4,
        ),
    ] {
        let unit = t.get(unit);
        item(
            t.get(key).to_owned(),
            Some(format!("{} {unit}", number(n, places))),
            Some(format!("{} {unit}", number(a, places))),
            change(a, n),
        );
    }
    let (nw, aw) = (&now.waste, &approved.waste);
    for (key, n, a) in [
        ("waste_generated", &nw.generated_t, &aw.generated_t),
        ("waste_utilized", &nw.utilized_t, &aw.utilized_t),
    ] {
        let unit = t.get("unit_t");
        item(
            t.get(key).to_owned(),
            Some(format!("{} {unit}", number(n, 2))),
            Some(format!("{} {unit}", number(a, 2))),
            change(a, n),
        );
    }
    let rate = |r: &Option<String>| r.as_deref().map(|r| format!("{}%", percent(r, 2)));
    item(
        t.get("waste_rate").to_owned(),
        rate(&nw.rate),
        rate(&aw.rate),
        String::new(),
    );
    let certs = |tr: &Trace| {
        let names: Vec<String> = tr
            .certifications
            .counted
            .iter()
            .map(|c| kind_name(t, &c.kind))
            .collect();
        Some(if names.is_empty() {
            t.get("compare_none").to_owned()
        } else {
            names.join("、")
        })
    };
    item(
        t.get("compare_certs").to_owned(),
        certs(now),
        certs(approved),
        String::new(),
    );
    out
}

/// An attested figure beside the declared one: "电力：申报 3,038.71 / 国网重庆市电力公司
/// 3,120 万千瓦时，差 −2.6%" (electricity and gas in the form's units).
pub fn discrepancy_words(t: &Texts, d: &crate::service::readings::Discrepancy) -> String {
    use crate::web::pages::data_form;
    let input = data_form::inputs().into_iter().find(|i| i.cell == d.field);
    let (shift, unit) = input
        .as_ref()
        .map_or((0, ""), |i| (i.shift, t.get(i.unit_key)));
    let shown = |q: &str| grouped(&data_form::in_form_unit(q, shift));
    let label = input
        .as_ref()
        .map_or_else(|| d.field.clone(), |i| data_form::label(t, i));
    t.get("attested_words")
        .replace("{what}", &label)
        .replace(
            "{declared}",
            &d.declared.as_deref().map_or_else(|| "0".to_owned(), shown),
        )
        .replace("{source}", &d.source)
        .replace("{attested}", &shown(&d.attested))
        .replace("{unit}", unit)
        .replace(
            "{pct}",
            &d.percent.as_deref().map_or_else(
                || "—".to_owned(),
                |p| format!("{}%", crate::web::pages::views::signed(p)),
            ),
        )
}
