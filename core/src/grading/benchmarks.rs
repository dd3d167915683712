//! §5 Benchmarks: per GB/T 4754 division, the energy baseline and the waste baseline and
//! leading rates. GEC-B 2025.1 is compiled in; a regulator's newer table is loaded from CSV of
//! the same columns and validated line by line.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::decimal::{Fixed, normalised, parse_decimal};

pub const DEFAULT_VERSION: &str = "GEC-B 2025.1";
const DEFAULT_CSV: &str = include_str!("benchmarks-2025.1.csv");
const COLUMNS: [&str; 6] = [
    "division",
    "name_zh",
    "name_en",
    "energy_baseline",
    "waste_baseline",
    "waste_leading",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Benchmark {
    pub division: String,
    pub name_zh: String,
    pub name_en: String,
    #[schema(value_type = String)]
    pub energy_baseline: Decimal,
    #[schema(value_type = String)]
    pub waste_baseline: Decimal,
    #[schema(value_type = String)]
    pub waste_leading: Decimal,
}

/// One published version of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BenchmarkTable {
    pub version: String,
    pub rows: BTreeMap<String, Benchmark>,
}

/// A fault in a table file: the 1-based line (the header is line 1) and the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl BenchmarkTable {
    /// GEC-B 2025.1, the table compiled into the binary.
    pub fn default_table() -> &'static BenchmarkTable {
        static TABLE: std::sync::OnceLock<BenchmarkTable> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            BenchmarkTable::from_csv(DEFAULT_VERSION, DEFAULT_CSV.as_bytes())
                .unwrap_or_else(|errors| panic!("the compiled-in table is invalid: {errors:?}"))
        })
    }

    pub fn get(&self, division: &str) -> Option<&Benchmark> {
        self.rows.get(division)
    }

    /// Reads and validates a table: every fault is reported, each with its line and column.
    pub fn from_csv(version: &str, bytes: &[u8]) -> Result<BenchmarkTable, Vec<TableError>> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut errors = Vec::new();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let headers = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect::<Vec<_>>(),
            Err(err) => {
                return Err(vec![TableError {
                    line: 1,
                    column: None,
                    message: err.to_string(),
                }]);
            }
        };
        if headers != COLUMNS {
            return Err(vec![TableError {
                line: 1,
                column: None,
                message: format!("the header must be exactly {}", COLUMNS.join(",")),
            }]);
        }
        let mut rows = BTreeMap::new();
        let mut lines = crate::csvpos::LineCounter::new(bytes);
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(err) => {
                    let line = err.position().map_or(0, |p| lines.line_at(p.byte()));
                    errors.push(TableError {
                        line,
                        column: None,
                        message: err.to_string(),
                    });
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
            if record.len() != COLUMNS.len() {
                errors.push(TableError {
                    line,
                    column: None,
                    message: format!("expected {} fields, found {}", COLUMNS.len(), record.len()),
                });
                continue;
            }
            let fault = |column: &str, message: String| TableError {
                line,
                column: Some(column.to_owned()),
                message,
            };
            let division = record[0].to_owned();
            if division.len() != 2 || !division.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(fault("division", "must be 2 digits".into()));
            }
            for (i, column) in ["name_zh", "name_en"].iter().enumerate() {
                if record[1 + i].trim().is_empty() {
                    errors.push(fault(column, "must not be empty".into()));
                }
            }
            let mut numbers = [Decimal::ZERO; 3];
            for (i, column) in COLUMNS[3..].iter().enumerate() {
                match parse_decimal(&record[3 + i]) {
                    Ok(value) => numbers[i] = value,
                    Err(err) => errors.push(fault(column, err.message().into())),
                }
            }
            let [energy, baseline, leading] = numbers.map(Fixed::from);
            let (zero, one) = (Fixed::integer(0), Fixed::integer(1));
            if energy.is_zero() {
                errors.push(fault("energy_baseline", "must be greater than 0".into()));
            }
            if baseline.is_zero() {
                errors.push(fault("waste_baseline", "must be greater than 0".into()));
            }
            for (column, rate) in [("waste_baseline", baseline), ("waste_leading", leading)] {
                if rate < zero || rate > one {
                    errors.push(fault(column, "must be a rate in [0, 1]".into()));
                }
            }
            if baseline >= leading {
                errors.push(fault(
                    "waste_leading",
                    "must be greater than waste_baseline".into(),
                ));
            }
            let row = Benchmark {
                division: division.clone(),
                name_zh: record[1].trim().to_owned(),
                name_en: record[2].trim().to_owned(),
                energy_baseline: numbers[0],
                waste_baseline: numbers[1],
                waste_leading: numbers[2],
            };
            if rows.insert(division.clone(), row).is_some() {
                errors.push(fault(
                    "division",
                    format!("division {division} appears twice"),
                ));
            }
        }
        if rows.is_empty() && errors.is_empty() {
            errors.push(TableError {
                line: 2,
                column: None,
                message: "the table has no rows".into(),
            });
        }
        if errors.is_empty() {
            Ok(BenchmarkTable {
                version: version.to_owned(),
                rows,
            })
        } else {
            Err(errors)
        }
    }

    /// The table written back as CSV, constants normalised (for publishing and download).
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(COLUMNS);
        for row in self.rows.values() {
            let _ = writer.write_record([
                row.division.as_str(),
                &row.name_zh,
                &row.name_en,
                &normalised(row.energy_baseline),
                &normalised(row.waste_baseline),
                &normalised(row.waste_leading),
            ]);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_table_is_valid_and_complete() {
        let table = BenchmarkTable::default_table();
        assert_eq!(table.version, "GEC-B 2025.1");
        assert_eq!(table.rows.len(), 41);
        let cars = table.get("36").unwrap();
        assert_eq!(normalised(cars.energy_baseline), "0.08");
        assert_eq!(normalised(cars.waste_leading), "0.98");
    }

    #[test]
    fn a_bad_table_is_refused_with_every_fault_by_line_and_column() {
        let csv = "division,name_zh,name_en,energy_baseline,waste_baseline,waste_leading\n\
                   36,汽车,Cars,0.08,0.85,0.98\n\
                   36,汽车,Cars,0.08,0.85,0.98\n\
                   37,x,y,0,0.9,0.8\n\
                   3a,x,y,-1,1.5,abc\n";
        let errors = BenchmarkTable::from_csv("T", csv.as_bytes()).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            text.contains(&"line 3, column division: division 36 appears twice".to_owned()),
            "{text:?}"
        );
        assert!(
            text.contains(&"line 4, column energy_baseline: must be greater than 0".to_owned()),
            "{text:?}"
        );
        assert!(
            text.contains(
                &"line 4, column waste_leading: must be greater than waste_baseline".to_owned()
            ),
            "{text:?}"
        );
        assert!(
            text.contains(&"line 5, column division: must be 2 digits".to_owned()),
            "{text:?}"
        );
        assert!(
            text.contains(&"line 5, column energy_baseline: must not be negative".to_owned()),
            "{text:?}"
        );
        assert!(
            text.contains(&"line 5, column waste_baseline: must be a rate in [0, 1]".to_owned()),
            "{text:?}"
        );
        assert!(
            text.contains(
                &"line 5, column waste_leading: must be a plain decimal number".to_owned()
            ),
            "{text:?}"
        );
    }

    #[test]
    fn a_table_round_trips_through_csv() {
        let table = BenchmarkTable::default_table();
        let again = BenchmarkTable::from_csv(&table.version, table.to_csv().as_bytes()).unwrap();
        assert_eq!(&again, table);
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let errors = BenchmarkTable::from_csv("T", b"division;name\n36;x\n").unwrap_err();
        assert_eq!(errors[0].line, 1);
    }
}
