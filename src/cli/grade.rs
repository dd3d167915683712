//! `gec grade INPUT.json [--benchmarks FILE.csv]`: the methodology at the command line, with
//! the output format of the grading vectors.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::grading::{self, BenchmarkTable, canonical};

#[derive(clap::Args)]
pub struct GradeArgs {
    /// The assessment (methodology §1) as JSON; `-` reads standard input.
    input: PathBuf,
    /// A benchmark table (CSV, the columns of benchmarks-2025.1.csv) instead of GEC-B 2025.1.
    #[arg(long)]
    benchmarks: Option<PathBuf>,
    /// The version name of that table; by default `GEC-B X` from a file named `benchmarks-X.csv`.
    #[arg(long, requires = "benchmarks")]
    benchmarks_version: Option<String>,
}

/// Prints `{"trace", "trace_hash"}` (exit 0) or `{"error": {"field", "message"}}` (exit 1).
pub fn run(args: &GradeArgs) -> ExitCode {
    print_outcome(grade(args))
}

/// Prints the way-up object (exit 0) or `{"error": {"field", "message"}}` (exit 1).
pub fn run_way_up(args: &GradeArgs) -> ExitCode {
    let result = with_input(args, |value, table| {
        let assessment =
            grading::Assessment::from_json(value, table).map_err(|e| (e.field, e.message))?;
        let way_up =
            grading::way_up::way_up(&assessment, table).map_err(|e| (e.field, e.message))?;
        serde_json::to_string(&way_up).map_err(|e| ("$".to_owned(), e.to_string()))
    });
    print_outcome(result)
}

/// Prints the output (exit 0) or `{"error": {"field", "message"}}` (exit 1).
fn print_outcome(result: Result<String, (String, String)>) -> ExitCode {
    let (output, code) = match result {
        Ok(text) => (text, ExitCode::SUCCESS),
        Err((field, message)) => (
            json!({"error": {"field": field, "message": message}}).to_string(),
            ExitCode::FAILURE,
        ),
    };
    println!("{output}");
    code
}

/// `gec carbon`: prints `{"trace", "trace_hash"}` of methodology §10 (exit 0) or
/// `{"error": {"field", "message"}}` (exit 1), with the compiled-in carbon tables.
pub fn run_carbon(args: &GradeArgs) -> ExitCode {
    let result = with_input(args, |value, table| {
        let carbon = grading::carbon::carbon_json(
            value,
            table,
            grading::carbon::CarbonTables::default_tables(),
        )
        .map_err(|e| (e.field, e.message))?;
        let trace = String::from_utf8(carbon.canonical_bytes()).unwrap_or_default();
        Ok(format!(
            "{{\"trace\":{trace},\"trace_hash\":\"{}\"}}",
            carbon.trace_hash
        ))
    });
    print_outcome(result)
}

/// `gec carbon-way-up`: prints the carbon way up (GEC-CP 2025.1, docs/carbon-way-up.md) of
/// an assessment (exit 0) or `{"error": {"field", "message"}}` (exit 1).
pub fn run_carbon_way_up(args: &GradeArgs) -> ExitCode {
    let result = with_input(args, |value, table| {
        let assessment =
            grading::Assessment::from_json(value, table).map_err(|e| (e.field, e.message))?;
        let way_up = grading::carbon_way_up::carbon_way_up(
            &assessment,
            grading::carbon::CarbonTables::default_tables(),
        )
        .ok_or_else(|| {
            (
                "industry_code".to_owned(),
                "division not in the carbon benchmark table".to_owned(),
            )
        })?;
        serde_json::to_string(&way_up).map_err(|e| ("$".to_owned(), e.to_string()))
    });
    print_outcome(result)
}

/// Reads the table and the input as `gec grade` does, and applies `f` to them.
fn with_input(
    args: &GradeArgs,
    f: impl FnOnce(&Value, &BenchmarkTable) -> Result<String, (String, String)>,
) -> Result<String, (String, String)> {
    let table_owned;
    let table = match &args.benchmarks {
        Some(path) => {
            table_owned = load_table(path, args.benchmarks_version.as_deref())?;
            &table_owned
        }
        None => BenchmarkTable::default_table(),
    };
    let text = read_input(&args.input).map_err(|m| ("$".to_owned(), m))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| ("$".to_owned(), format!("not valid JSON: {e}")))?;
    f(&value, table)
}

fn grade(args: &GradeArgs) -> Result<String, (String, String)> {
    with_input(args, |value, table| {
        let graded = grading::grade_json(value, table).map_err(|e| (e.field, e.message))?;
        let trace = String::from_utf8(graded.trace.canonical_bytes()).unwrap_or_default();
        let hash = canonical::to_vec(&json!(graded.trace_hash)).unwrap_or_default();
        Ok(format!(
            "{{\"trace\":{trace},\"trace_hash\":{}}}",
            String::from_utf8_lossy(&hash)
        ))
    })
}

fn read_input(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading standard input: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
    }
}

/// Loads a table file; its version is given, or read from a name like `benchmarks-2026.1.csv`.
pub fn load_table(path: &Path, version: Option<&str>) -> Result<BenchmarkTable, (String, String)> {
    let fault = |m: String| ("benchmarks".to_owned(), m);
    let version = match version {
        Some(v) => v.to_owned(),
        None => path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_prefix("benchmarks-"))
            .map(|v| format!("GEC-B {v}"))
            .ok_or_else(|| fault("name the table's version with --benchmarks-version".into()))?,
    };
    let bytes =
        std::fs::read(path).map_err(|e| fault(format!("reading {}: {e}", path.display())))?;
    BenchmarkTable::from_csv(&version, &bytes).map_err(|errors| {
        fault(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}
