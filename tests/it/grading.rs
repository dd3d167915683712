//! The grading engine against the shared vectors, through the library and `gec grade`, and
//! the properties any grade must have.

use std::process::Command;

use gec::grading::{self, BenchmarkTable};
use proptest::prelude::*;
use serde_json::{Value, json};

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/grading.json"
    ))
    .expect("tests/vectors/grading.json");
    serde_json::from_str(&text).expect("vectors parse")
}

fn cases() -> Vec<Value> {
    vectors()["cases"].as_array().expect("cases").clone()
}

#[test]
fn every_vector_gives_its_trace_hash_or_its_error_field() {
    let table = BenchmarkTable::default_table();
    let cases = cases();
    assert_eq!(cases.len(), 60);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let result = grading::grade_json(&case["input"], table);
        match (&case.get("error"), result) {
            (Some(expected), Err(err)) => {
                assert_eq!(err.field, expected["field"].as_str().unwrap(), "{name}");
            }
            (None, Ok(graded)) => {
                let expected = &case["expected"];
                assert_eq!(graded.trace.to_json(), expected["trace"], "{name}: trace");
                assert_eq!(
                    graded.trace_hash,
                    expected["trace_hash"].as_str().unwrap(),
                    "{name}: hash"
                );
            }
            (Some(expected), Ok(_)) => panic!("{name}: graded, expected error {expected}"),
            (None, Err(err)) => panic!("{name}: refused with {err}"),
        }
    }
}

fn gec_grade(args: &[&str], stdin: &str) -> (Value, bool) {
    let args: Vec<&str> = std::iter::once("grade")
        .chain(args.iter().copied())
        .collect();
    let (printed, status) = crate::helpers::gec_json(&args, stdin);
    (printed, status.success())
}

#[test]
fn gec_grade_prints_each_vectors_expected_output_and_exit_code() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let (printed, ok) = gec_grade(&["-"], &case["input"].to_string());
        if let Some(expected) = case.get("error") {
            assert!(!ok, "{name}: exit 1");
            assert_eq!(printed["error"]["field"], expected["field"], "{name}");
            assert!(printed["error"]["message"].is_string());
        } else {
            assert!(ok, "{name}: exit 0");
            assert_eq!(printed, case["expected"], "{name}");
        }
    }
}

#[test]
fn gec_grade_prints_the_trace_in_its_canonical_bytes() {
    let case = &cases()[7];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.json");
    std::fs::write(&path, case["input"].to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gec"))
        .arg("grade")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let trace = text
        .strip_prefix("{\"trace\":")
        .unwrap()
        .split(",\"trace_hash\"")
        .next()
        .unwrap();
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(trace.as_bytes())),
        case["expected"]["trace_hash"]
    );
}

#[test]
fn gec_grade_uses_a_loaded_benchmark_table_and_names_its_version() {
    let case = &cases()[0];
    let dir = tempfile::tempdir().unwrap();
    let table = BenchmarkTable::default_table().to_csv().replace(
        "36,汽车制造业,Manufacture of automobiles,0.08",
        "36,汽车制造业,Manufacture of automobiles,0.16",
    );
    let path = dir.path().join("benchmarks-2026.1.csv");
    std::fs::write(&path, table).unwrap();
    let (printed, ok) = gec_grade(
        &["-", "--benchmarks", path.to_str().unwrap()],
        &case["input"].to_string(),
    );
    assert!(ok, "{printed}");
    assert_eq!(printed["trace"]["benchmarks"], "GEC-B 2026.1");
    assert_eq!(printed["trace"]["energy"]["baseline"], "0.16");
    assert_eq!(printed["trace"]["energy"]["ratio"], "0.450000");
}

#[test]
fn gec_grade_reports_a_bad_table_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("benchmarks-bad.csv");
    std::fs::write(&path, "division,name_zh,name_en,energy_baseline,waste_baseline,waste_leading\n36,x,y,0.08,0.9,0.5\n").unwrap();
    let (printed, ok) = gec_grade(&["-", "--benchmarks", path.to_str().unwrap()], "{}");
    assert!(!ok);
    assert_eq!(printed["error"]["field"], "benchmarks");
    assert_eq!(
        printed["error"]["message"],
        "line 2, column waste_leading: must be greater than waste_baseline"
    );
}

#[test]
fn gec_grade_refuses_text_that_is_not_json() {
    let (printed, ok) = gec_grade(&["-"], "{not json");
    assert!(!ok);
    assert_eq!(printed["error"]["field"], "$");
}

// ---- properties ----

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CARRIERS: [&str; 12] = [
    "electricity_kwh",
    "raw_coal_t",
    "washed_coal_t",
    "coke_t",
    "crude_oil_t",
    "fuel_oil_t",
    "gasoline_t",
    "kerosene_t",
    "diesel_t",
    "lpg_t",
    "natural_gas_m3",
    "heat_gj",
];
const KINDS: [&str; 7] = [
    "national_green_factory",
    "national_green_supply_chain",
    "municipal_green_factory",
    "green_design_product",
    "iso_50001",
    "iso_14001",
    "national_green_park",
];
const VETOES: [&str; 5] = [
    "major_safety_accident",
    "major_environmental_accident",
    "environmental_credit_red",
    "environmental_credit_black",
    "dishonest_entity",
];

/// A decimal text from a mantissa and a scale (≤ 6), leading zeros and all.
fn decimal_text(mantissa: u64, scale: u32) -> String {
    let digits = format!("{:0>width$}", mantissa, width = scale as usize + 1);
    if scale == 0 {
        digits
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale as usize);
        format!("{int}.{frac}")
    }
}

/// A decimal of §1 from `min` units of its last digit up to 10¹², log-uniform (a digit count
/// first), so that small and large magnitudes are equally likely.
fn decimal_from(min: u64) -> impl Strategy<Value = String> {
    (0u32..=6, 1u32..=19)
        .prop_flat_map(move |(s, digits)| {
            let digits = digits.min(13 + s);
            let low = 10u64.pow(digits - 1).max(min) - u64::from(digits == 1 && min == 0);
            let high = (10u64.pow(digits) - 1).min(10u64.pow(12 + s));
            (low..=high, Just(s))
        })
        .prop_map(|(m, s)| decimal_text(m, s))
}

fn decimal() -> impl Strategy<Value = String> {
    decimal_from(0)
}

fn positive_decimal() -> impl Strategy<Value = String> {
    decimal_from(1)
}

fn uscc() -> impl Strategy<Value = String> {
    proptest::collection::vec(0usize..31, 17).prop_map(|idx| {
        let first: String = idx.iter().map(|&i| ALPHABET[i] as char).collect();
        gec::grading::Uscc::with_check_character(&first)
            .unwrap()
            .to_string()
    })
}

fn date() -> impl Strategy<Value = String> {
    (2000i32..2031, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn certification() -> impl Strategy<Value = Value> {
    (
        0usize..7,
        "[A-Z]{1,3}-[0-9]{1,4}",
        date(),
        date(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(k, number, a, b, verified, revoked)| {
            let (from, until) = if a <= b { (a, b) } else { (b, a) };
            json!({"kind": KINDS[k], "number": number, "valid_from": from, "valid_until": until,
                   "verified": verified, "revoked": revoked})
        })
}

fn veto() -> impl Strategy<Value = Value> {
    (0usize..5, date()).prop_map(|(k, d)| json!({"kind": VETOES[k], "occurred_on": d}))
}

/// A valid assessment of a random division of the default table.
fn assessment() -> impl Strategy<Value = Value> {
    let divisions: Vec<String> = BenchmarkTable::default_table()
        .rows
        .keys()
        .cloned()
        .collect();
    (
        uscc(),
        proptest::sample::select(divisions),
        "[0-9]{2}",
        1990u16..=2100,
        date(),
        positive_decimal(),
        proptest::sample::subsequence(CARRIERS.to_vec(), 1..=12),
        proptest::collection::vec(decimal(), 12),
        (0u64..=5_000_000, 0u64..=5_000_000, 0u64..=10_000, 0u32..=3),
        proptest::collection::vec(certification(), 0..5),
        proptest::collection::vec(veto(), 0..3),
    )
        .prop_map(|(uscc, division, class, period, assessed_on, va, carriers, quantities, waste, certs, vetoes)| {
            let (generated, stock, per_mille, scale) = waste;
            let utilized = (generated + stock) * per_mille.min(1000) / 1000;
            let energy: Vec<Value> = carriers
                .iter()
                .zip(quantities)
                .map(|(c, q)| json!({"carrier": c, "quantity": q}))
                .collect();
            json!({
                "uscc": uscc, "industry_code": format!("{division}{class}"), "period": period,
                "assessed_on": assessed_on, "value_added_10k_cny": va, "energy": energy,
                "waste": {"generated_t": decimal_text(generated, scale), "stock_utilized_t": decimal_text(stock, scale),
                          "utilized_t": decimal_text(utilized, scale)},
                "certifications": certs, "vetoes": vetoes,
            })
        })
}

fn graded(input: &Value) -> grading::Graded {
    grading::grade_json(input, BenchmarkTable::default_table())
        .unwrap_or_else(|e| panic!("{e}: {input}"))
}

fn number(text: &Value) -> rust_decimal::Decimal {
    text.as_str().unwrap().parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn valid_assessments_always_grade(input in assessment()) {
        let g = graded(&input);
        prop_assert_eq!(g.trace_hash.len(), 64);
    }

    #[test]
    fn lower_energy_intensity_never_lowers_the_energy_score(input in assessment(), per_mille in 0u64..=1000) {
        let mut lower = input.clone();
        for entry in lower["energy"].as_array_mut().unwrap() {
            let q: rust_decimal::Decimal = entry["quantity"].as_str().unwrap().parse().unwrap();
            let scaled = (q * rust_decimal::Decimal::from(per_mille) / rust_decimal::Decimal::from(1000)).round_dp(6);
            entry["quantity"] = json!(scaled.to_string());
        }
        let (high, low) = (graded(&input), graded(&lower));
        prop_assert!(number(&low.trace.to_json()["energy"]["intensity"]) <= number(&high.trace.to_json()["energy"]["intensity"]));
        prop_assert!(number(&low.trace.to_json()["energy"]["score"]) >= number(&high.trace.to_json()["energy"]["score"]));
    }

    #[test]
    fn a_higher_waste_rate_never_lowers_the_waste_score(input in assessment(), more in 0u64..=1_000_000) {
        let g = graded(&input);
        let w = &input["waste"];
        let (gen_t, stock, used) = (number(&w["generated_t"]), number(&w["stock_utilized_t"]), number(&w["utilized_t"]));
        let extra = rust_decimal::Decimal::from(more).min(gen_t + stock - used);
        let mut higher = input.clone();
        higher["waste"]["utilized_t"] = json!((used + extra).to_string());
        let h = graded(&higher);
        if let (Some(before), Some(after)) = (g.waste_score, h.waste_score) {
            prop_assert!(after >= before);
        }
    }

    #[test]
    fn adding_a_counted_certification_never_lowers_the_score(input in assessment(), kind in 0usize..7) {
        let g = graded(&input);
        let mut more = input.clone();
        let on = input["assessed_on"].as_str().unwrap();
        more["certifications"].as_array_mut().unwrap().push(json!({
            "kind": KINDS[kind], "number": "NEW-1", "valid_from": on, "valid_until": on, "verified": true}));
        let m = graded(&more);
        prop_assert!(m.score >= g.score);
        prop_assert!(number(&m.trace.to_json()["certifications"]["score"]) >= number(&g.trace.to_json()["certifications"]["score"]));
    }

    #[test]
    fn a_counted_veto_always_gives_d(input in assessment(), kind in 0usize..5) {
        let mut vetoed = input.clone();
        vetoed["vetoes"].as_array_mut().unwrap().push(json!({"kind": VETOES[kind], "occurred_on": input["assessed_on"]}));
        let g = graded(&vetoed);
        prop_assert_eq!(g.grade, grading::Grade::D);
        prop_assert_eq!(g.trace.score, graded(&input).trace.score, "the score is still computed");
    }

    #[test]
    fn the_trace_hash_is_stable_under_reordering_of_the_lists(input in assessment(), seed in any::<u64>()) {
        let mut shuffled = input.clone();
        for list in ["energy", "certifications", "vetoes"] {
            let items = shuffled[list].as_array_mut().unwrap();
            let n = items.len();
            for i in (1..n).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                items.swap(i, j);
            }
            items.reverse();
        }
        prop_assert_eq!(graded(&input).trace_hash, graded(&shuffled).trace_hash);
    }

    #[test]
    fn mutated_inputs_never_panic(input in assessment(), path in 0usize..9, replacement in json_value()) {
        let keys = ["uscc", "industry_code", "period", "assessed_on", "value_added_10k_cny", "energy", "waste", "certifications", "vetoes"];
        let mut broken = input.clone();
        broken[keys[path]] = replacement;
        let _ = grading::grade_json(&broken, BenchmarkTable::default_table());
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let _ = grading::grade_json(&value, BenchmarkTable::default_table());
    }

    #[test]
    fn arbitrary_text_never_panics_the_decimal_reader(text in "\\PC{0,40}") {
        let _ = grading::decimal::parse_decimal(&text);
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "-?[0-9]{1,20}(\\.[0-9]{0,9})?([eE][+-]?[0-9]{1,3})?"
            .prop_map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)),
        "\\PC{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("uscc".to_owned()),
                    Just("energy".to_owned()),
                    Just("carrier".to_owned()),
                    Just("quantity".to_owned()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_trace_is_written_canonically_by_its_field_order() {
    let table = BenchmarkTable::default_table();
    for case in cases().iter().filter(|c| c.get("expected").is_some()) {
        let graded = grading::grade_json(&case["input"], table).unwrap();
        assert_eq!(
            graded.trace.canonical_bytes(),
            graded.trace.canonical_bytes_checked(),
            "{}",
            case["name"]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn random_traces_are_written_canonically(input in assessment()) {
        let g = graded(&input);
        prop_assert_eq!(g.trace.canonical_bytes(), g.trace.canonical_bytes_checked());
    }
}

#[test]
fn awkward_certificate_numbers_are_escaped_as_rfc_8785_wants() {
    let mut input = cases()[0]["input"].clone();
    input["certifications"][0]["number"] = json!("a\"b\\c\u{1}\u{1f}\u{7f}/é😀\u{2028}\n\t");
    let g = graded(&input);
    assert_eq!(g.trace.canonical_bytes(), g.trace.canonical_bytes_checked());
}

fn way_up_cases() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/way_up.json"
    ))
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

#[test]
fn the_way_up_of_every_vector_is_its_expected_output() {
    let table = gec::grading::BenchmarkTable::default_table();
    for case in way_up_cases() {
        let name = case["name"].as_str().unwrap();
        let assessment = gec::grading::Assessment::from_json(&case["input"], table)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let way_up = gec::grading::way_up::way_up(&assessment, table).unwrap();
        assert_eq!(
            serde_json::to_value(&way_up).unwrap(),
            case["expected"],
            "{name}"
        );
    }
}

#[test]
fn gec_way_up_prints_each_vectors_expected_output() {
    for case in way_up_cases().iter().take(8) {
        let name = case["name"].as_str().unwrap();
        let (printed, status) =
            crate::helpers::gec_json(&["way-up", "-"], &case["input"].to_string());
        assert!(status.success(), "{name}");
        assert_eq!(printed, case["expected"], "{name}");
    }
    let (printed, status) = crate::helpers::gec_json(&["way-up", "-"], "{}");
    assert_eq!(status.code(), Some(1));
    assert!(printed["error"]["field"].is_string());
}
