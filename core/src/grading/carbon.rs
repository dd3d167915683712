//! §10 Carbon efficiency (GEC-C 2025.1): CO₂ per 10,000 CNY of value added against the
//! division's carbon baseline, in five levels, with its own trace and hash. A separate
//! indicator: nothing here enters §4's score or a GEC-M trace.
//!
//! Emissions as GB/T 32150-2015 counts them for a firm without process emissions: the fuels of
//! §2 burned (national default factors, GEC-CF), purchased electricity at the 2023 grid factor
//! of the firm's province (GEC-GF, read from the USCC) less green power, and purchased heat.
//! Every figure is exact and rounded once, where §10 says.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::decimal::{Fixed, parse_decimal};
use super::energy::Carrier;
use super::input::Assessment;

pub const INDICATOR: &str = "GEC-C 2025.1";
pub const FUEL_FACTORS: &str = "GEC-CF 2025.1";
pub const GRID_FACTORS: &str = "GEC-GF 2023";
pub const CARBON_BENCHMARKS: &str = "GEC-CB 2025.1";
/// The compiled-in tables' CSV text (the first versions a service records).
pub const FUEL_CSV: &str = include_str!("carbon-factors-2025.1.csv");
pub const GRID_CSV: &str = include_str!("grid-factors-2023.csv");
pub const BENCHMARK_CSV: &str = include_str!("carbon-benchmarks-2025.1.csv");

/// Purchased heat, tCO₂ per GJ.
const HEAT_FACTOR: Fixed = Fixed::new(11, 2);
/// The level's upper bounds on the ratio K (levels 1–4; above the last is level 5).
const CUTS: [Fixed; 4] = [
    Fixed::new(6, 1),
    Fixed::new(8, 1),
    Fixed::new(12, 1),
    Fixed::new(20, 1),
];

/// A fuel's default factors.
#[derive(Clone, Copy, Debug)]
struct FuelFactors {
    ncv: Fixed,
    carbon_content: Fixed,
    oxidation: Fixed,
}

/// A province's grid factor, as the table names it.
#[derive(Clone, Debug)]
struct GridRow {
    name_zh: String,
    basis: String,
    factor: Fixed,
}

/// The three tables one carbon computation reads, with their versions.
#[derive(Clone, Debug)]
pub struct CarbonTables {
    pub fuel_version: String,
    pub grid_version: String,
    pub benchmark_version: String,
    fuels: BTreeMap<&'static str, FuelFactors>,
    grid: BTreeMap<String, GridRow>,
    baselines: BTreeMap<String, Fixed>,
}

/// The rows of a table: its header's columns by name, each line's cells (RFC 4180 quoting).
fn rows(csv_text: &str) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|record| {
            let record = record.map_err(|e| e.to_string())?;
            Ok(header
                .iter()
                .zip(record.iter())
                .map(|(h, c)| (h.clone(), c.trim().to_owned()))
                .collect())
        })
        .collect()
}

fn constant(text: &str) -> Result<Fixed, String> {
    parse_decimal(text)
        .map(Fixed::from)
        .map_err(|e| format!("{text:?}: {}", e.message()))
}

impl CarbonTables {
    /// GEC-CF 2025.1, GEC-GF 2023 and GEC-CB 2025.1, compiled in.
    pub fn default_tables() -> &'static CarbonTables {
        static TABLES: std::sync::OnceLock<CarbonTables> = std::sync::OnceLock::new();
        TABLES.get_or_init(|| {
            CarbonTables::from_csv(FUEL_CSV, GRID_CSV, BENCHMARK_CSV)
                .expect("the compiled-in carbon tables are valid")
        })
    }

    /// The tables from CSV text of the compiled-in tables' columns (the default versions'
    /// names; a regulator's own versions get theirs with [`CarbonTables::named`]).
    pub fn from_csv(fuels: &str, grid: &str, benchmarks: &str) -> Result<CarbonTables, String> {
        let mut fuel_rows = BTreeMap::new();
        for row in rows(fuels)? {
            let carrier = row.get("carrier").map(String::as_str).unwrap_or_default();
            let carrier = Carrier::parse(carrier)
                .filter(|c| !matches!(c, Carrier::ElectricityKwh | Carrier::HeatGj))
                .ok_or_else(|| format!("fuel factors: {carrier:?} is not a fuel of §2"))?;
            let get = |name: &str| constant(row.get(name).map_or("", String::as_str));
            fuel_rows.insert(
                carrier.name(),
                FuelFactors {
                    ncv: get("ncv_gj_per_unit")?,
                    carbon_content: get("carbon_tc_per_gj")?,
                    oxidation: get("oxidation")?,
                },
            );
        }
        let fuels_missing: Vec<&str> = Carrier::ALL
            .iter()
            .filter(|c| !matches!(c, Carrier::ElectricityKwh | Carrier::HeatGj))
            .map(|c| c.name())
            .filter(|name| !fuel_rows.contains_key(name))
            .collect();
        if !fuels_missing.is_empty() {
            return Err(format!(
                "fuel factors: no row for {}",
                fuels_missing.join(", ")
            ));
        }
        let mut grid_rows = BTreeMap::new();
        for row in rows(grid)? {
            let code = row.get("code").cloned().unwrap_or_default();
            if code != "*" && (code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                return Err(format!(
                    "grid factors: {code:?} is not a two-character province code (or * for the national average)"
                ));
            }
            grid_rows.insert(
                code,
                GridRow {
                    name_zh: row.get("name_zh").cloned().unwrap_or_default(),
                    basis: row.get("basis").cloned().unwrap_or_default(),
                    factor: constant(row.get("factor").map_or("", String::as_str))?,
                },
            );
        }
        if !grid_rows.contains_key("*") {
            return Err("grid factors: no row * for the national average".to_owned());
        }
        let mut baselines = BTreeMap::new();
        for row in rows(benchmarks)? {
            let division = row.get("division").cloned().unwrap_or_default();
            if division.len() != 2 || !division.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "carbon benchmarks: {division:?} is not a GB/T 4754 division (two digits)"
                ));
            }
            let baseline = constant(row.get("carbon_baseline").map_or("", String::as_str))?;
            if baseline.is_zero() {
                return Err(format!(
                    "carbon benchmarks: division {division} has baseline 0"
                ));
            }
            baselines.insert(division, baseline);
        }
        Ok(CarbonTables {
            fuel_version: FUEL_FACTORS.into(),
            grid_version: GRID_FACTORS.into(),
            benchmark_version: CARBON_BENCHMARKS.into(),
            fuels: fuel_rows,
            grid: grid_rows,
            baselines,
        })
    }

    /// The same tables under the versions' names a regulator published them as (every carbon
    /// trace names the versions it used, §10.5).
    pub fn named(mut self, fuel: &str, grid: &str, benchmark: &str) -> CarbonTables {
        self.fuel_version = fuel.to_owned();
        self.grid_version = grid.to_owned();
        self.benchmark_version = benchmark.to_owned();
        self
    }

    /// The division's carbon baseline, if the table has the division.
    pub fn baseline(&self, division: &str) -> Option<Fixed> {
        self.baselines.get(division).copied()
    }
}

/// A carbon computation: the trace (§10.5) in its canonical bytes, and its hash.
#[derive(Clone, Debug)]
pub struct Carbon {
    bytes: Vec<u8>,
    pub level: u8,
    pub trace_hash: String,
}

impl Carbon {
    /// The trace's canonical bytes (RFC 8785): what the hash is of.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The trace as a JSON value.
    pub fn trace(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// The level of a ratio K (§10.3): 1 (K ≤ 0.6, the best) to 5 (K > 2.0).
pub fn level_of(ratio: Fixed) -> u8 {
    CUTS.iter()
        .position(|cut| ratio <= *cut)
        .map_or(5, |i| i as u8 + 1)
}

/// Where a firm stands for §10: its province's grid factor and its division's baseline.
pub(crate) struct Setting {
    pub division: String,
    pub province_code: String,
    pub province_name: String,
    pub basis: String,
    pub grid_factor: Fixed,
    pub baseline: Fixed,
}

impl Setting {
    /// `None` when the tables have no carbon baseline for the assessment's division.
    pub(crate) fn of(a: &Assessment, tables: &CarbonTables) -> Option<Setting> {
        let division = a.industry_code.division().to_owned();
        let baseline = tables.baseline(&division)?;
        let province_code: String = a
            .uscc
            .as_str()
            .to_uppercase()
            .chars()
            .skip(2)
            .take(2)
            .collect();
        // A code not in the table (10, 71, letters …) takes the national average, row `*`.
        let row = tables
            .grid
            .get(&province_code)
            .filter(|_| province_code != "*")
            .or_else(|| tables.grid.get("*"))?;
        let (province_name, basis, grid_factor) =
            (row.name_zh.clone(), row.basis.clone(), row.factor);
        Some(Setting {
            division,
            province_code,
            province_name,
            basis,
            grid_factor,
            baseline,
        })
    }

    /// The CO₂ (t, 4 places) of one energy entry (§10.2); `green` counts for electricity only.
    pub(crate) fn co2(
        &self,
        tables: &CarbonTables,
        carrier: Carrier,
        quantity: Fixed,
        green: Fixed,
    ) -> Option<Fixed> {
        Some(match carrier {
            Carrier::ElectricityKwh => {
                ((quantity - green) * self.grid_factor).div_round(Fixed::integer(1000), 4)
            }
            Carrier::HeatGj => (quantity * HEAT_FACTOR).round(4),
            fuel => {
                let f = tables.fuels.get(fuel.name())?;
                (quantity * f.ncv * f.carbon_content * f.oxidation * Fixed::integer(44))
                    .div_round(Fixed::integer(12), 4)
            }
        })
    }

    /// The ratio K (§10.3) of a total.
    pub(crate) fn ratio(&self, total: Fixed, value_added: Fixed) -> Fixed {
        total
            .round(4)
            .div_round(value_added, 6)
            .div_round(self.baseline, 6)
    }
}

/// §10 for a checked assessment. `None` when the tables have no carbon baseline for its
/// division.
pub fn compute(a: &Assessment, tables: &CarbonTables) -> Option<Carbon> {
    let setting = Setting::of(a, tables)?;
    let uscc = a.uscc.as_str().to_uppercase();

    use super::canonical::{Member, array, object};
    let text = |s: &str| Member::Str(s.to_owned());
    let mut combustion: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut electricity = Member::Null;
    let mut heat = Member::Null;
    let mut total = Fixed::new(0, 4);
    let green = a.green_power_kwh.map_or(Fixed::integer(0), Fixed::from);
    for entry in &a.energy {
        let quantity = Fixed::from(entry.quantity);
        let co2 = setting.co2(tables, entry.carrier, quantity, green)?;
        total = total + co2;
        match entry.carrier {
            Carrier::ElectricityKwh => {
                let share = if quantity.is_zero() {
                    Member::Null
                } else {
                    Member::Str(green.div_round(quantity, 4).fixed_text())
                };
                electricity = Member::Raw(object(vec![
                    ("quantity", Member::Str(quantity.normalised())),
                    ("green_power_kwh", Member::Str(green.normalised())),
                    ("grid_kwh", Member::Str((quantity - green).normalised())),
                    ("co2_t", Member::Str(co2.fixed_text())),
                    ("green_share", share),
                ]));
            }
            Carrier::HeatGj => {
                heat = Member::Raw(object(vec![
                    ("quantity", Member::Str(quantity.normalised())),
                    ("factor", Member::Str(HEAT_FACTOR.normalised())),
                    ("co2_t", Member::Str(co2.fixed_text())),
                ]));
            }
            fuel => {
                let f = tables.fuels.get(fuel.name())?;
                combustion.push((
                    fuel.name(),
                    object(vec![
                        ("carrier", text(fuel.name())),
                        ("quantity", Member::Str(quantity.normalised())),
                        ("ncv", Member::Str(f.ncv.normalised())),
                        ("carbon_content", Member::Str(f.carbon_content.normalised())),
                        ("oxidation", Member::Str(f.oxidation.normalised())),
                        ("co2_t", Member::Str(co2.fixed_text())),
                    ]),
                ));
            }
        }
    }
    combustion.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let value_added = Fixed::from(a.value_added_10k_cny);
    let total = total.round(4);
    let intensity = total.div_round(value_added, 6);
    let ratio = intensity.div_round(setting.baseline, 6);
    let level = level_of(ratio);
    let Setting {
        division,
        province_code,
        province_name,
        basis,
        grid_factor,
        baseline,
    } = setting;
    let province = object(vec![
        ("code", Member::Str(province_code)),
        ("name", Member::Str(province_name)),
        ("basis", Member::Str(basis)),
        ("grid_factor", Member::Str(grid_factor.normalised())),
    ]);
    let bytes = object(vec![
        ("indicator", text(INDICATOR)),
        ("fuel_factors", text(&tables.fuel_version)),
        ("grid_factors", text(&tables.grid_version)),
        ("carbon_benchmarks", text(&tables.benchmark_version)),
        ("uscc", Member::Str(uscc)),
        ("industry_code", text(a.industry_code.as_str())),
        ("division", Member::Str(division)),
        ("period", Member::Int(i64::from(a.period))),
        (
            "assessed_on",
            Member::Str(a.assessed_on.format("%Y-%m-%d").to_string()),
        ),
        ("province", Member::Raw(province)),
        (
            "combustion",
            Member::Raw(array(combustion.into_iter().map(|(_, v)| v).collect())),
        ),
        ("electricity", electricity),
        ("heat", heat),
        ("total_tco2", Member::Str(total.fixed_text())),
        ("value_added_10k_cny", Member::Str(value_added.normalised())),
        ("intensity", Member::Str(intensity.fixed_text())),
        ("baseline", Member::Str(baseline.normalised())),
        ("ratio", Member::Str(ratio.fixed_text())),
        ("level", Member::Int(i64::from(level))),
    ]);
    Some(Carbon {
        trace_hash: hex::encode(Sha256::digest(&bytes)),
        bytes,
        level,
    })
}

/// §10 from §1 JSON: the input checked as §1 and §10.1 check it, then computed.
pub fn carbon_json(
    input: &Value,
    table: &super::BenchmarkTable,
    tables: &CarbonTables,
) -> Result<Carbon, super::InputError> {
    let assessment = Assessment::from_json(input, table)?;
    compute(&assessment, tables).ok_or_else(|| {
        super::InputError::new(
            "industry_code",
            super::Fault::Unknown,
            "division not in the carbon benchmark table",
        )
    })
}

/// The level's words (§10.3): Chinese and English.
pub fn level_label(level: u8) -> (&'static str, &'static str) {
    match level {
        1 => ("一级 · 深绿", "Level 1 · dark green"),
        2 => ("二级 · 浅绿", "Level 2 · light green"),
        3 => ("三级 · 黄", "Level 3 · yellow"),
        4 => ("四级 · 橙", "Level 4 · orange"),
        _ => ("五级 · 红", "Level 5 · red"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../../tests/vectors/carbon.json")).unwrap()
    }

    #[test]
    fn every_public_carbon_vector_is_reproduced_with_its_hash() {
        let v = vectors();
        let table = super::super::BenchmarkTable::default_table();
        let tables = CarbonTables::default_tables();
        let mut failures = Vec::new();
        for case in v["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let got = carbon_json(&case["input"], table, tables);
            match (&case["expected"]["error"], got) {
                (Value::Null, Ok(carbon)) => {
                    if carbon.trace() != case["expected"] {
                        failures.push(format!("{name}: trace {}", carbon.trace()));
                    }
                    // The bytes are RFC 8785's of the trace, as the generic writer makes them.
                    let generic = crate::grading::canonical::to_vec(&carbon.trace()).unwrap();
                    if carbon.canonical_bytes() != generic {
                        failures.push(format!("{name}: bytes not canonical"));
                    }
                    if carbon.trace_hash != case["trace_hash"].as_str().unwrap() {
                        failures.push(format!("{name}: hash {}", carbon.trace_hash));
                    }
                }
                (Value::Null, Err(e)) => failures.push(format!("{name}: refused {e:?}")),
                (error, Ok(_)) => failures.push(format!("{name}: accepted, expected {error}")),
                (error, Err(e)) => {
                    if error["field"] != e.field.as_str() {
                        failures.push(format!("{name}: field {} not {}", e.field, error["field"]));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn the_levels_cut_where_section_10_3_says() {
        let k = |text: &str| Fixed::from(parse_decimal(text).unwrap());
        assert_eq!(level_of(k("0.6")), 1);
        assert_eq!(level_of(k("0.600001")), 2);
        assert_eq!(level_of(k("2.0")), 4);
        assert_eq!(level_of(k("2.000001")), 5);
        assert_eq!(level_of(k("0")), 1);
    }
}
