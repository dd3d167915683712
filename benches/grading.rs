//! Grading one assessment (methodology §1–§6, including the trace hash): the target is
//! ≥ 100,000 per second on one core. Run: `cargo bench --bench grading`.

use criterion::{Criterion, criterion_group, criterion_main};
use gec::grading::{self, BenchmarkTable};
use serde_json::Value;

fn typical_input() -> Value {
    serde_json::json!({
        "uscc": "91500000MA5U00000W", "industry_code": "3670", "period": 2025, "assessed_on": "2026-03-31",
        "value_added_10k_cny": "52000.50",
        "energy": [
            {"carrier": "electricity_kwh", "quantity": "18500000"},
            {"carrier": "natural_gas_m3", "quantity": "420000"},
            {"carrier": "diesel_t", "quantity": "35.5"}
        ],
        "waste": {"generated_t": "3200", "stock_utilized_t": "150", "utilized_t": "3010"},
        "certifications": [
            {"kind": "national_green_factory", "number": "GF-2023-0187", "valid_from": "2023-12-01", "valid_until": "2026-11-30", "verified": true, "revoked": false},
            {"kind": "national_green_park", "number": "GP-2022-011", "valid_from": "2022-01-01", "valid_until": "2027-12-31", "verified": true, "revoked": false}
        ],
        "vetoes": []
    })
}

fn bench_grading(c: &mut Criterion) {
    let table = BenchmarkTable::default_table();
    let input = typical_input();
    let assessment = grading::Assessment::from_json(&input, table).expect("valid");
    c.bench_function("grade: parse JSON value + compute + trace hash", |b| {
        b.iter(|| grading::grade_json(std::hint::black_box(&input), table).expect("grades"))
    });
    c.bench_function("grade: compute + trace hash (parsed input)", |b| {
        b.iter(|| grading::grade(std::hint::black_box(&assessment), table).expect("grades"))
    });
    let text = input.to_string();
    c.bench_function("grade: from JSON text", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_str(std::hint::black_box(&text)).expect("json");
            grading::grade_json(&value, table).expect("grades")
        })
    });
}

/// The carbon-efficiency level (§10, with its trace hash) of the same input with green power:
/// the target is ≥ 100,000 per second on one core, like grading.
fn bench_carbon(c: &mut Criterion) {
    use grading::carbon::{CarbonTables, carbon_json, compute};
    let table = BenchmarkTable::default_table();
    let tables = CarbonTables::default_tables();
    let mut input = typical_input();
    input["green_power_kwh"] = "3000000".into();
    let assessment = grading::Assessment::from_json(&input, table).expect("valid");
    c.bench_function("carbon: parse JSON value + compute + trace hash", |b| {
        b.iter(|| carbon_json(std::hint::black_box(&input), table, tables).expect("computes"))
    });
    c.bench_function("carbon: compute + trace hash (parsed input)", |b| {
        b.iter(|| compute(std::hint::black_box(&assessment), tables).expect("computes"))
    });
}

/// The carbon way up (GEC-CP 2025.1) of a level-5 firm with electricity, gas and diesel: four
/// targets, each lever found by bisection over its grid.
fn bench_carbon_way_up(c: &mut Criterion) {
    use grading::carbon::CarbonTables;
    use grading::carbon_way_up::carbon_way_up;
    let table = BenchmarkTable::default_table();
    let input = serde_json::json!({
        "uscc": "91500000MA5U00000W", "industry_code": "3670", "period": 2025,
        "assessed_on": "2026-03-31", "value_added_10k_cny": "2000",
        "energy": [{"carrier": "electricity_kwh", "quantity": "2500000"},
                   {"carrier": "natural_gas_m3", "quantity": "150000"},
                   {"carrier": "diesel_t", "quantity": "40"}],
        "waste": {"generated_t": "0", "stock_utilized_t": "0", "utilized_t": "0"},
        "certifications": [], "vetoes": [], "green_power_kwh": "200000"});
    let assessment = grading::Assessment::from_json(&input, table).expect("valid");
    let tables = CarbonTables::default_tables();
    c.bench_function(
        "carbon way up: level 5, three carriers (parsed input)",
        |b| b.iter(|| carbon_way_up(std::hint::black_box(&assessment), tables).expect("computes")),
    );
}

criterion_group!(benches, bench_grading, bench_carbon, bench_carbon_way_up);
criterion_main!(benches);
