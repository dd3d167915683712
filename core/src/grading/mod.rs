//! The grading methodology GEC-M 2025.1 (methodology.md), as pure functions over plain types:
//! no web, no database, no clock. One file per section of the page:
//!
//! - §1 inputs: [`input`] (and [`decimal`] for the decimals, [`uscc`] for §7)
//! - §2 energy: [`energy`]
//! - §3 solid waste: [`waste`]
//! - §4 certifications, composite score, vetoes, grade: [`composite`]
//! - §5 benchmarks: [`benchmarks`]
//! - §6 the trace and its hash: [`trace`], with [`canonical`] (RFC 8785)
//! - §8 finance and services: [`finance`]

pub mod benchmarks;
pub mod canonical;
pub mod carbon;
pub mod carbon_way_up;
pub mod composite;
pub mod decimal;
pub mod energy;
pub mod finance;
pub mod input;
pub mod trace;
pub mod uscc;
pub mod waste;
pub mod way_up;

use serde_json::Value;

pub use benchmarks::{Benchmark, BenchmarkTable};
pub use composite::Grade;
pub use decimal::Fixed;
pub use input::{Assessment, Fault, InputError};
pub use trace::Trace;
pub use uscc::Uscc;

use composite::{WEIGHT_CERTIFICATION, WEIGHT_ENERGY, WEIGHT_WASTE};

pub const METHODOLOGY: &str = "GEC-M 2025.1";

/// A computed grade: the trace and the figures callers need without re-reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graded {
    pub trace: Trace,
    pub trace_hash: String,
    pub score: Fixed,
    pub grade: Grade,
    /// `None` when the waste indicator does not apply (§3); decides §8's waste service.
    pub waste_score: Option<Fixed>,
}

impl Graded {
    /// The score in hundredths, as the code carries it (90.06 → 9006).
    pub fn score_hundredths(&self) -> u32 {
        u32::try_from(self.score.units(2)).unwrap_or(0)
    }
}

/// An input read once: the checked assessment and its grade.
#[derive(Clone, Debug)]
pub struct Checked {
    pub assessment: Assessment,
    pub graded: Graded,
}

impl Checked {
    /// The canonical §1 JSON of the checked value: what is stored is exactly what was graded.
    pub fn canonical_input(&self) -> String {
        // A checked assessment holds strings, integers and booleans only: always writable.
        canonical::to_vec(&self.assessment.to_json())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

/// Reads an assessment (§1) once and grades it against `table`.
pub fn check(input: &Value, table: &BenchmarkTable) -> Result<Checked, InputError> {
    let assessment = Assessment::from_json(input, table)?;
    let graded = grade(&assessment, table)?;
    Ok(Checked { assessment, graded })
}

/// Reads an assessment (§1) and grades it against `table`.
pub fn grade_json(input: &Value, table: &BenchmarkTable) -> Result<Graded, InputError> {
    let assessment = Assessment::from_json(input, table)?;
    grade(&assessment, table)
}

/// §2–§6 for a checked assessment. Fails only when the table lacks the firm's division.
pub fn grade(a: &Assessment, table: &BenchmarkTable) -> Result<Graded, InputError> {
    let division = a.industry_code.division();
    let bench = table.get(division).ok_or_else(|| InputError {
        field: "industry_code".into(),
        message: "division not in the benchmark table".into(),
        kind: input::Fault::Unknown,
    })?;
    let (energy_baseline, waste_baseline, waste_leading) = (
        Fixed::from(bench.energy_baseline),
        Fixed::from(bench.waste_baseline),
        Fixed::from(bench.waste_leading),
    );

    let energy = energy::assess(
        &a.energy,
        Fixed::from(a.value_added_10k_cny),
        energy_baseline,
    );
    let waste = waste::assess(&a.waste, waste_baseline, waste_leading);
    let certs = composite::certifications(&a.certifications, a.assessed_on);
    let vetoes = composite::counted_vetoes(&a.vetoes, a.assessed_on);

    let mut indicators = vec![(WEIGHT_ENERGY, energy.score)];
    if let Some(s) = waste.score {
        indicators.push((WEIGHT_WASTE, s));
    }
    indicators.push((WEIGHT_CERTIFICATION, certs.score));
    let score = composite::composite(&indicators);
    let grade = Grade::of(score, !vetoes.is_empty());

    let text = |f: Fixed| f.fixed_text();
    let trace = Trace {
        methodology: METHODOLOGY.into(),
        benchmarks: table.version.clone(),
        uscc: a.uscc.as_str().into(),
        industry_code: a.industry_code.as_str().into(),
        division: division.into(),
        period: a.period,
        assessed_on: a.assessed_on.format("%Y-%m-%d").to_string(),
        energy: trace::EnergyTrace {
            entries: energy
                .entries
                .iter()
                .map(|c| trace::EnergyEntryTrace {
                    carrier: c.carrier.name().into(),
                    quantity: c.quantity.normalised(),
                    coefficient: c.coefficient.normalised(),
                    kgce: text(c.kgce),
                })
                .collect(),
            total_tce: text(energy.total_tce),
            value_added_10k_cny: decimal::normalised(a.value_added_10k_cny),
            intensity: text(energy.intensity),
            baseline: energy_baseline.normalised(),
            ratio: text(energy.ratio),
            score: text(energy.score),
            weight: text(WEIGHT_ENERGY),
        },
        waste: trace::WasteTrace {
            applicable: waste.applicable,
            generated_t: decimal::normalised(a.waste.generated_t),
            stock_utilized_t: decimal::normalised(a.waste.stock_utilized_t),
            utilized_t: decimal::normalised(a.waste.utilized_t),
            rate: waste.rate.map(text),
            baseline: waste_baseline.normalised(),
            leading: waste_leading.normalised(),
            score: waste.score.map(text),
            weight: text(WEIGHT_WASTE),
        },
        certifications: trace::CertificationsTrace {
            counted: certs
                .counted
                .iter()
                .map(|(c, points)| trace::CountedCertification {
                    kind: c.kind.name().into(),
                    number: c.number.clone(),
                    points: *points,
                })
                .collect(),
            score: text(certs.score),
            weight: text(WEIGHT_CERTIFICATION),
        },
        vetoes: vetoes
            .iter()
            .map(|v| trace::VetoTrace {
                kind: v.kind.name().into(),
                occurred_on: v.occurred_on.format("%Y-%m-%d").to_string(),
            })
            .collect(),
        score: text(score),
        grade,
    };
    let trace_hash = trace.hash();
    Ok(Graded {
        trace,
        trace_hash,
        score,
        grade,
        waste_score: waste.score,
    })
}
