//! The firm's yearly data form, in the units of the statistics forms firms already fill
//! (能源购进、消费与库存, 205-1 表): electricity in 万千瓦时 and natural gas in 万立方米, the
//! rest in 吨 or 吉焦. Amounts may carry thousands separators and full-width digits; a blank
//! amount is 0. Each input is checked on its own first, so that every fault shows at once; the
//! service's check of the whole follows.

use std::collections::HashMap;

use serde_json::Value;

use crate::grading::Fault;
use crate::grading::decimal::{DecimalError, Fixed, parse_decimal};
use crate::grading::energy::Carrier;
use crate::service::assessments::AssessmentRequest;
use crate::service::flat;

use super::views;
use crate::web::i18n::Texts;

/// One input of the form: its name, the §1 cell it fills, and the power of ten between the
/// form's unit and the methodology's (4: 万 × 10,000).
pub struct Input {
    pub name: &'static str,
    pub cell: &'static str,
    pub shift: u32,
    pub unit_key: &'static str,
}

/// The amount inputs, in the order of the form: value added, one per carrier, then waste.
pub fn inputs() -> Vec<Input> {
    let mut inputs = vec![Input {
        name: "value_added_10k_cny",
        cell: "value_added_10k_cny",
        shift: 0,
        unit_key: "unit_10k_cny",
    }];
    for carrier in Carrier::ALL {
        let (name, shift, unit_key) = match carrier {
            Carrier::ElectricityKwh => ("electricity_10k_kwh", 4, "unit_10k_kwh"),
            Carrier::NaturalGasM3 => ("natural_gas_10k_m3", 4, "unit_10k_m3"),
            Carrier::HeatGj => (carrier.name(), 0, "unit_gj"),
            _ => (carrier.name(), 0, "unit_t"),
        };
        inputs.push(Input {
            name,
            cell: carrier.name(),
            shift,
            unit_key,
        });
        // Of the electricity, green power (methodology §10.1), in the same unit.
        if carrier == Carrier::ElectricityKwh {
            inputs.push(Input {
                name: "green_power_10k_kwh",
                cell: "green_power_kwh",
                shift: 4,
                unit_key: "unit_10k_kwh",
            });
        }
    }
    for (cell, _) in flat::WASTE_CELLS {
        inputs.push(Input {
            name: cell,
            cell,
            shift: 0,
            unit_key: "unit_t",
        });
    }
    inputs
}

/// The label of an input, in the words of the statistics forms.
pub fn label(t: &Texts, input: &Input) -> String {
    match input.cell {
        "value_added_10k_cny" => t.get("value_added").to_owned(),
        "waste_generated_t" => t.get("waste_generated").to_owned(),
        "waste_stock_utilized_t" => t.get("waste_stock_utilized").to_owned(),
        "waste_utilized_t" => t.get("waste_utilized").to_owned(),
        "green_power_kwh" => t.get("green_power").to_owned(),
        carrier => views::carrier_name(t, carrier),
    }
}

/// An amount as typed, made plain: full-width digits, point and comma read as ASCII, spaces
/// dropped, and thousands separators removed where they group by three. `Err` when the
/// separators are misplaced (`12,34`).
pub fn plain_amount(typed: &str) -> Result<String, ()> {
    let ascii: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' | '。' => '.',
            '，' => ',',
            '－' => '-',
            other => other,
        })
        .collect();
    if !ascii.contains(',') {
        return Ok(ascii);
    }
    let (int, frac) = ascii
        .split_once('.')
        .map_or((ascii.as_str(), None), |(i, f)| (i, Some(f)));
    let groups: Vec<&str> = int.trim_start_matches('-').split(',').collect();
    let grouped = groups.iter().enumerate().all(|(i, g)| {
        g.bytes().all(|b| b.is_ascii_digit())
            && if i == 0 {
                (1..=3).contains(&g.len())
            } else {
                g.len() == 3
            }
    });
    if !grouped || frac.is_some_and(|f| f.contains(',')) {
        return Err(());
    }
    Ok(ascii.replace(',', ""))
}

/// `text × 10^shift`, exactly, written normalised; text that is not a decimal is returned as it
/// is (the check names it).
fn shifted(text: &str, shift: u32) -> String {
    if shift == 0 {
        return text.to_owned();
    }
    match parse_decimal(text) {
        Ok(d) => (Fixed::from(d) * Fixed::integer(10i128.pow(shift))).normalised(),
        Err(_) => text.to_owned(),
    }
}

/// What the form sent, read: the §1 cells, and the faults found input by input (name, message).
pub struct ReadForm {
    pub cells: HashMap<String, String>,
    pub faults: Vec<(String, String)>,
}

fn decimal_key(e: DecimalError) -> &'static str {
    match e {
        DecimalError::NotPlain => "err_decimal",
        DecimalError::Negative => "err_negative",
        DecimalError::TooPrecise => "err_precision",
        DecimalError::TooLarge => "err_too_large",
    }
}

/// Reads the form: every input checked on its own, every fault kept.
pub fn read(t: &Texts, form: &HashMap<String, String>, years: &[i32]) -> ReadForm {
    let mut cells = HashMap::new();
    let mut faults = Vec::new();
    let period = form.get("period").map_or("", |p| p.trim());
    if !years.iter().any(|y| y.to_string() == period) {
        faults.push(("period".to_owned(), t.get("err_year_open").to_owned()));
    }
    cells.insert("period".to_owned(), period.to_owned());
    let mut any_energy = false;
    for input in inputs() {
        let typed = form.get(input.name).map_or("", |v| v.trim());
        let plain = match plain_amount(typed) {
            Ok(p) => p,
            Err(()) => {
                faults.push((input.name.to_owned(), t.get("err_grouping").to_owned()));
                continue;
            }
        };
        let is_carrier = Carrier::parse(input.cell).is_some();
        if plain.is_empty() {
            if input.cell == "value_added_10k_cny" {
                faults.push((input.name.to_owned(), t.get("err_required").to_owned()));
            } else if !is_carrier && input.cell != "green_power_kwh" {
                // A blank waste amount is 0; a blank carrier is a carrier not used; blank
                // green power is none.
                cells.insert(input.cell.to_owned(), "0".to_owned());
            }
            continue;
        }
        let value = shifted(&plain, input.shift);
        match parse_decimal(&plain).and_then(|_| parse_decimal(&value)) {
            Err(e) => faults.push((input.name.to_owned(), t.get(decimal_key(e)).to_owned())),
            Ok(d) if input.cell == "value_added_10k_cny" && d.is_zero() => {
                faults.push((input.name.to_owned(), t.get("err_positive").to_owned()));
            }
            Ok(_) => any_energy |= is_carrier,
        }
        cells.insert(input.cell.to_owned(), value);
    }
    if !any_energy && !faults.iter().any(|(f, _)| f != "period") {
        faults.push((
            "electricity_10k_kwh".to_owned(),
            t.get("err_energy_required").to_owned(),
        ));
    }
    ReadForm { cells, faults }
}

/// The §1 members from the cells (energy only for the carriers filled in), and the carriers
/// in the order of `energy`.
pub fn request(cells: &HashMap<String, String>) -> (AssessmentRequest, Vec<&'static str>) {
    let (data, carriers) = flat::from_cells(|k| cells.get(k).cloned().unwrap_or_default());
    (AssessmentRequest::from_json(Value::Object(data)), carriers)
}

/// The form input a §1 cell came from.
pub fn input_of(cell: &str) -> &'static str {
    inputs()
        .into_iter()
        .find(|i| i.cell == cell)
        .map_or("period", |i| i.name)
}

/// A quantity in the methodology's unit, in the form's (`shift` 4: kWh → 万千瓦时), exact.
pub fn in_form_unit(value: &str, shift: u32) -> String {
    if shift == 0 {
        return value.to_owned();
    }
    match parse_decimal(value) {
        Ok(d) => Fixed::from(d)
            .div_round(Fixed::integer(10i128.pow(shift)), d.scale() + shift)
            .normalised(),
        Err(_) => value.to_owned(),
    }
}

/// The form filled from a stored §1 input (last year's figures, or a rejected submission's),
/// in the form's units.
pub fn from_input(input: &Value) -> HashMap<String, String> {
    let mut form = HashMap::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let unshift = |value: String, shift: u32| -> String { in_form_unit(&value, shift) };
    let all = inputs();
    let find = |cell: &str| all.iter().find(|i| i.cell == cell);
    if let Some(v) = input.get("value_added_10k_cny") {
        form.insert("value_added_10k_cny".to_owned(), text(v));
    }
    for entry in input
        .get("energy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let carrier = entry.get("carrier").map(text).unwrap_or_default();
        if let Some(i) = find(&carrier) {
            let quantity = entry.get("quantity").map(text).unwrap_or_default();
            form.insert(i.name.to_owned(), unshift(quantity, i.shift));
        }
    }
    if let (Some(v), Some(i)) = (input.get("green_power_kwh"), find("green_power_kwh")) {
        form.insert(i.name.to_owned(), unshift(text(v), i.shift));
    }
    if let Some(waste) = input.get("waste") {
        for (cell, member) in flat::WASTE_CELLS {
            if let Some(v) = waste.get(member) {
                form.insert(cell.to_owned(), text(v));
            }
        }
    }
    form
}

/// The reporting years a firm may submit on `today`: the five completed years before it.
pub fn completed_years(today: chrono::NaiveDate) -> Vec<i32> {
    let this = chrono::Datelike::year(&today);
    (this - 5..this).rev().collect()
}

/// A field fault of the service (after every input passed on its own), mapped to its input.
pub fn service_fault(field: &str, carriers: &[&'static str]) -> Option<&'static str> {
    flat::cell_of(field, carriers).map(input_of)
}

/// The text key of a fault kind's words.
pub fn fault_key(kind: Fault) -> &'static str {
    match kind {
        Fault::Decimal(e) => decimal_key(e),
        Fault::Positive => "err_positive",
        Fault::Year => "err_year",
        Fault::YearOpen => "err_year_open",
        Fault::Date => "err_date",
        Fault::WasteBound => "err_waste_bound",
        Fault::EnergyRequired => "err_energy_required",
        Fault::Required => "err_required",
        Fault::DateOrder => "err_date_order",
        Fault::Format => "err_format",
        Fault::OneOf => "err_one_of",
        Fault::Uscc => "err_uscc",
        Fault::Range => "err_range",
        Fault::Unknown => "err_unknown",
        Fault::NotEligible => "err_not_eligible",
        Fault::Address => "err_address",
        Fault::Characters => "err_characters",
        Fault::Combination => "err_combination",
        Fault::Cursor => "err_cursor",
        Fault::NotAccepted => "err_not_accepted",
        Fault::NotAttested => "err_not_attested",
    }
}

/// The words of a fault kind.
pub fn fault_message(t: &Texts, kind: Fault) -> String {
    t.get(fault_key(kind)).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_kind_has_words_of_its_own_in_both_languages() {
        use crate::grading::decimal::DecimalError;
        use crate::web::i18n::Lang;
        let kinds = [
            Fault::Decimal(DecimalError::NotPlain),
            Fault::Required,
            Fault::Date,
            Fault::Year,
            Fault::Positive,
            Fault::EnergyRequired,
            Fault::WasteBound,
            Fault::DateOrder,
            Fault::YearOpen,
            Fault::Format,
            Fault::OneOf,
            Fault::Uscc,
            Fault::Range,
            Fault::Unknown,
            Fault::NotEligible,
            Fault::Address,
            Fault::Characters,
            Fault::Combination,
            Fault::Cursor,
            Fault::NotAccepted,
        ];
        let mut keys: Vec<&str> = kinds.iter().map(|k| fault_key(*k)).collect();
        for key in &keys {
            assert_ne!(*key, "err_invalid");
            for lang in [Lang::Zh, Lang::En] {
                assert!(lang.texts().has(key), "{key} in {lang:?}");
            }
        }
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), kinds.len(), "two kinds share their words");
    }

    #[test]
    fn amounts_are_read_exactly_with_separators_and_full_width_digits() {
        assert_eq!(plain_amount("1,234,567.89").unwrap(), "1234567.89");
        assert_eq!(plain_amount("１，８５０．５").unwrap(), "1850.5");
        assert_eq!(plain_amount(" 42 ").unwrap(), "42");
        assert!(plain_amount("12,34").is_err());
        assert!(plain_amount("1,2345").is_err());
        assert_eq!(shifted("1850.1234", 4), "18501234");
        assert_eq!(shifted("0.00005", 4), "0.5");
    }

    #[test]
    fn stored_figures_come_back_in_the_form_units() {
        let input = serde_json::json!({
            "value_added_10k_cny": "52000.50",
            "energy": [{"carrier": "electricity_kwh", "quantity": "18500000"},
                       {"carrier": "natural_gas_m3", "quantity": "420005"}],
            "waste": {"generated_t": "3200", "stock_utilized_t": "0", "utilized_t": "3010"}
        });
        let form = from_input(&input);
        assert_eq!(form["electricity_10k_kwh"], "1850");
        assert_eq!(form["natural_gas_10k_m3"], "42.0005");
        assert_eq!(form["value_added_10k_cny"], "52000.50");
        assert_eq!(form["waste_utilized_t"], "3010");
    }

    #[test]
    fn every_fault_is_found_at_once() {
        let t = crate::web::i18n::Lang::Zh.texts();
        let form: HashMap<String, String> = [
            ("period", "2025"),
            ("value_added_10k_cny", ""),
            ("electricity_10k_kwh", "12,34"),
            ("diesel_t", "-3"),
            ("waste_generated_t", "abc"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let read = read(t, &form, &[2025]);
        let names: Vec<&str> = read.faults.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "value_added_10k_cny",
                "electricity_10k_kwh",
                "diesel_t",
                "waste_generated_t"
            ]
        );
    }
}
