//! The carbon way up (GEC-CP 2025.1): for every carbon level better than the one an
//! assessment has (§10.3), the single change in its energy figures that is enough to reach
//! it, everything else unchanged — the most grid electricity it may buy, the least green power
//! it must buy of the same electricity, the most of one fuel (or of purchased heat) it may
//! use. Exact like §9: every figure is recomputed with §10's arithmetic on a stated grid
//! (whole kWh for electricity, 0.0001 of a unit for fuels and heat), and since the ratio K is
//! monotone in each quantity moved, bisection over the grid finds the bound exactly.
//! The rules are written down in `docs/carbon-way-up.md`; vectors in
//! `tests/vectors/carbon_way_up.json`.

use serde::Serialize;

use super::carbon::{CarbonTables, Setting, level_of};
use super::decimal::Fixed;
use super::energy::Carrier;
use super::input::Assessment;
use super::way_up::{largest, smallest};

pub const CARBON_WAY_UP: &str = "GEC-CP 2025.1";

/// The largest ratio K of levels 1–4 (§10.3).
const MAX_RATIO: [(u8, Fixed); 4] = [
    (1, Fixed::new(6, 1)),
    (2, Fixed::new(8, 1)),
    (3, Fixed::new(12, 1)),
    (4, Fixed::new(20, 1)),
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CarbonWayUp {
    pub carbon_way_up: &'static str,
    /// The level now (1 is the best).
    pub level: u8,
    /// The ratio K now, 6 places.
    pub ratio: String,
    /// The next better level first; empty at level 1.
    pub targets: Vec<CarbonTarget>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CarbonTarget {
    pub level: u8,
    /// The largest ratio K of the level.
    pub max_ratio: String,
    /// Buy at most this much electricity from the grid (the green power unchanged).
    pub grid_electricity: Option<GridLever>,
    /// Of the same electricity, buy at least this much as green power.
    pub green_power: Option<GreenLever>,
    /// Use at most this much of one fuel or of purchased heat, by carrier (bytewise).
    pub carriers: Vec<CarrierLever>,
}

/// Buy at most `grid_kwh` kWh from the grid, a whole number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GridLever {
    pub grid_kwh: String,
    pub cut_kwh: String,
    pub cut_percent: String,
}

/// Buy at least `green_power_kwh` kWh, a whole number, of the same electricity as green power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GreenLever {
    pub green_power_kwh: String,
    pub more_kwh: String,
    pub green_share: String,
}

/// Use at most `quantity` (4 places) of `carrier`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CarrierLever {
    pub carrier: String,
    pub quantity: String,
    pub cut: String,
    pub cut_percent: String,
}

fn percent(part: Fixed, whole: Fixed) -> String {
    (part * Fixed::integer(100))
        .div_round(whole, 2)
        .fixed_text()
}

/// The carbon way up of a checked assessment; `None` when the tables have no carbon baseline
/// for its division (as [`super::carbon::compute`]).
pub fn carbon_way_up(a: &Assessment, tables: &CarbonTables) -> Option<CarbonWayUp> {
    let setting = Setting::of(a, tables)?;
    let value_added = Fixed::from(a.value_added_10k_cny);
    let green = a.green_power_kwh.map_or(Fixed::integer(0), Fixed::from);
    let mut entries = Vec::with_capacity(a.energy.len());
    for entry in &a.energy {
        let quantity = Fixed::from(entry.quantity);
        let co2 = setting.co2(tables, entry.carrier, quantity, green)?;
        entries.push((entry.carrier, quantity, co2));
    }
    let total: Fixed = entries
        .iter()
        .fold(Fixed::new(0, 4), |sum, &(_, _, co2)| sum + co2);
    let ratio = setting.ratio(total, value_added);
    let level = level_of(ratio);
    // Everything but the entry of `carrier`, and that entry.
    let others = |carrier: Carrier| {
        total
            - entries
                .iter()
                .find(|e| e.0 == carrier)
                .map_or(Fixed::new(0, 4), |e| e.2)
    };
    let within = |rest: Fixed, co2: Option<Fixed>, cut: Fixed| {
        co2.is_some_and(|co2| setting.ratio(rest + co2, value_added) <= cut)
    };

    let electricity = entries
        .iter()
        .find(|e| e.0 == Carrier::ElectricityKwh)
        .map(|e| e.1);
    let mut fuels: Vec<(Carrier, Fixed)> = entries
        .iter()
        .filter(|e| e.0 != Carrier::ElectricityKwh)
        .map(|e| (e.0, e.1))
        .collect();
    fuels.sort_by(|x, y| x.0.name().as_bytes().cmp(y.0.name().as_bytes()));

    let targets = MAX_RATIO
        .iter()
        .rev()
        .filter(|(l, _)| *l < level)
        .map(|&(target, cut)| {
            let (grid_electricity, green_power) = match electricity {
                None => (None, None),
                Some(quantity) => {
                    let rest = others(Carrier::ElectricityKwh);
                    let co2_at =
                        |q: Fixed, g: Fixed| setting.co2(tables, Carrier::ElectricityKwh, q, g);
                    let grid_now = quantity - green;
                    // G whole kWh from the grid: the electricity is green + G.
                    let grid = largest(grid_now.floor_units(0), |g| {
                        within(rest, co2_at(green + Fixed::integer(g), green), cut)
                    })
                    .map(|g| {
                        let cut_kwh = grid_now - Fixed::integer(g);
                        GridLever {
                            grid_kwh: g.to_string(),
                            cut_kwh: cut_kwh.normalised(),
                            cut_percent: percent(cut_kwh, grid_now),
                        }
                    });
                    // P whole kWh green, from the green power now up to the whole quantity.
                    let from = green.ceil_units(0);
                    let to = quantity.floor_units(0);
                    let green_lever = (to >= from)
                        .then(|| {
                            smallest(to - from, |p| {
                                within(rest, co2_at(quantity, Fixed::integer(from + p)), cut)
                            })
                        })
                        .flatten()
                        .map(|p| {
                            let p = Fixed::integer(from + p);
                            GreenLever {
                                green_power_kwh: p.normalised(),
                                more_kwh: (p - green).normalised(),
                                green_share: p.div_round(quantity, 4).fixed_text(),
                            }
                        });
                    (grid, green_lever)
                }
            };
            let carriers = fuels
                .iter()
                .filter_map(|&(carrier, quantity)| {
                    let rest = others(carrier);
                    let f = largest(quantity.floor_units(4), |n| {
                        within(
                            rest,
                            setting.co2(tables, carrier, Fixed::new(n, 4), green),
                            cut,
                        )
                    })?;
                    let f = Fixed::new(f, 4);
                    let cut_q = quantity - f;
                    Some(CarrierLever {
                        carrier: carrier.name().to_owned(),
                        quantity: f.fixed_text(),
                        cut: cut_q.normalised(),
                        cut_percent: percent(cut_q, quantity),
                    })
                })
                .collect();
            CarbonTarget {
                level: target,
                max_ratio: cut.normalised(),
                grid_electricity,
                green_power,
                carriers,
            }
        })
        .collect();
    Some(CarbonWayUp {
        carbon_way_up: CARBON_WAY_UP,
        level,
        ratio: ratio.fixed_text(),
        targets,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::grading::BenchmarkTable;
    use crate::grading::carbon::carbon_json;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../../tests/vectors/carbon_way_up.json")).unwrap()
    }

    fn way_up_of(input: &Value) -> Value {
        let a = Assessment::from_json(input, BenchmarkTable::default_table()).unwrap();
        serde_json::to_value(carbon_way_up(&a, CarbonTables::default_tables()).unwrap()).unwrap()
    }

    /// The level §10 gives the input with `change` applied, computed by the trace's own path.
    fn level_with(input: &Value, change: impl FnOnce(&mut Value)) -> u8 {
        let mut input = input.clone();
        change(&mut input);
        carbon_json(
            &input,
            BenchmarkTable::default_table(),
            CarbonTables::default_tables(),
        )
        .unwrap()
        .level
    }

    fn set_quantity(input: &mut Value, carrier: &str, quantity: String) {
        for entry in input["energy"].as_array_mut().unwrap() {
            if entry["carrier"] == carrier {
                entry["quantity"] = json!(quantity);
            }
        }
    }

    fn quantity(input: &Value, carrier: &str) -> Option<Fixed> {
        input["energy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["carrier"] == carrier)
            .map(|e| {
                let text = match &e["quantity"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Fixed::from(crate::grading::decimal::parse_decimal(&text).unwrap())
            })
    }

    fn fixed(text: &str) -> Fixed {
        Fixed::from(crate::grading::decimal::parse_decimal(text).unwrap())
    }

    #[test]
    fn every_carbon_way_up_vector_is_reproduced() {
        for case in vectors()["cases"].as_array().unwrap() {
            assert_eq!(
                way_up_of(&case["input"]),
                case["expected"],
                "{}",
                case["name"]
            );
        }
    }

    /// Each bound reaches its level, one grid step past it does not, and a lever left out
    /// cannot reach the level even at its far end — all by §10's own computation.
    #[test]
    fn every_bound_is_exact_on_its_grid() {
        for case in vectors()["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let input = &case["input"];
            let got = way_up_of(input);
            let green_now = input
                .get("green_power_kwh")
                .map_or(Fixed::integer(0), |g| fixed(g.as_str().unwrap()));
            let electricity = quantity(input, "electricity_kwh");
            for target in got["targets"].as_array().unwrap() {
                let level = target["level"].as_u64().unwrap() as u8;
                let reaches = |change: &dyn Fn(&mut Value)| level_with(input, change) <= level;
                match (&target["grid_electricity"], electricity) {
                    (Value::Null, Some(_)) => {
                        assert!(
                            !reaches(&|i| set_quantity(
                                i,
                                "electricity_kwh",
                                green_now.normalised()
                            )),
                            "{name}: no grid electricity at all would reach {level}"
                        );
                    }
                    (lever, Some(q)) if !lever.is_null() => {
                        let g = fixed(lever["grid_kwh"].as_str().unwrap());
                        assert!(
                            reaches(&|i| set_quantity(
                                i,
                                "electricity_kwh",
                                (green_now + g).normalised()
                            )),
                            "{name}: grid bound"
                        );
                        let next = g + Fixed::integer(1);
                        if next <= q - green_now {
                            assert!(
                                !reaches(&|i| set_quantity(
                                    i,
                                    "electricity_kwh",
                                    (green_now + next).normalised()
                                )),
                                "{name}: grid bound + 1 kWh"
                            );
                        }
                    }
                    _ => {}
                }
                match (&target["green_power"], electricity) {
                    (Value::Null, Some(q)) => {
                        let all = Fixed::integer(q.floor_units(0));
                        if all >= green_now {
                            assert!(
                                !reaches(&|i| i["green_power_kwh"] = json!(all.normalised())),
                                "{name}: all green would reach {level}"
                            );
                        }
                    }
                    (lever, Some(_)) if !lever.is_null() => {
                        let p = fixed(lever["green_power_kwh"].as_str().unwrap());
                        assert!(
                            reaches(&|i| i["green_power_kwh"] = json!(p.normalised())),
                            "{name}: green bound"
                        );
                        let less = p - Fixed::integer(1);
                        if less >= green_now {
                            assert!(
                                !reaches(&|i| i["green_power_kwh"] = json!(less.normalised())),
                                "{name}: green bound − 1 kWh"
                            );
                        }
                    }
                    _ => {}
                }
                let listed: Vec<&str> = target["carriers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["carrier"].as_str().unwrap())
                    .collect();
                let mut sorted = listed.clone();
                sorted.sort();
                assert_eq!(listed, sorted, "{name}: carriers sorted");
                for entry in input["energy"].as_array().unwrap() {
                    let carrier = entry["carrier"].as_str().unwrap();
                    if carrier == "electricity_kwh" {
                        continue;
                    }
                    let q = quantity(input, carrier).unwrap();
                    match target["carriers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|c| c["carrier"] == carrier)
                    {
                        None => assert!(
                            !reaches(&|i| set_quantity(i, carrier, "0".into())),
                            "{name}: none of {carrier} would reach {level}"
                        ),
                        Some(lever) => {
                            let f = fixed(lever["quantity"].as_str().unwrap());
                            assert!(
                                reaches(&|i| set_quantity(i, carrier, f.normalised())),
                                "{name}: {carrier} bound"
                            );
                            let next = f + Fixed::new(1, 4);
                            if next <= q {
                                assert!(
                                    !reaches(&|i| set_quantity(i, carrier, next.normalised())),
                                    "{name}: {carrier} bound + 0.0001"
                                );
                            }
                        }
                    }
                }
            }
            // The targets are every better level, the next first.
            let level = got["level"].as_u64().unwrap();
            let levels: Vec<u64> = got["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["level"].as_u64().unwrap())
                .collect();
            assert_eq!(levels, (1..level).rev().collect::<Vec<_>>(), "{name}");
        }
    }
}
