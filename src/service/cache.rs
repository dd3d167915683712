//! What a running service keeps of the database so that hot reads need no round trip: the
//! facts verification needs of each code (for a moment), and benchmark tables by version
//! (a published version never changes). One `Caches` per service, held in its state; a CLI run
//! makes its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::grading::BenchmarkTable;
use crate::store::codes::CodeStatus;

#[derive(Clone, Default)]
pub struct Caches {
    pub codes: Arc<CodeCache>,
    pub benchmarks: Arc<BenchmarkCache>,
}

/// What verification needs of a code's record.
#[derive(Clone, Debug)]
pub struct CodeFacts {
    pub status: CodeStatus,
    pub iat: i64,
    pub exp: i64,
    pub kid: String,
    pub firm_name: Option<String>,
    pub waste_score: Option<String>,
}

/// How long a code's facts are trusted: approving and revoking forget the codes they change,
/// so this process answers a change at once; other replicas within this.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
const CODES_MAX: usize = 100_000;

/// Code facts by (kid, serial): a serial is unique in one log, and the kid tells logs apart.
#[derive(Default)]
pub struct CodeCache {
    entries: Mutex<HashMap<(String, i64), (Instant, CodeFacts)>>,
}

impl CodeCache {
    /// The fresh facts of the wanted codes by serial, and the serials still to be read.
    pub fn fresh(&self, wanted: &[(String, i64)]) -> (HashMap<i64, CodeFacts>, Vec<i64>) {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for key in wanted {
            match entries.get(key) {
                Some((at, facts)) if at.elapsed() < FRESH_FOR => {
                    found.insert(key.1, facts.clone());
                }
                _ => missing.push(key.1),
            }
        }
        (found, missing)
    }

    /// Keeps facts just read (by serial).
    pub fn put(&self, read: impl IntoIterator<Item = (i64, CodeFacts)>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > CODES_MAX {
            entries.clear();
        }
        for (serial, facts) in read {
            entries.insert((facts.kid.clone(), serial), (now, facts));
        }
    }

    /// Drops what is kept of these codes (after they were issued, superseded or revoked).
    pub fn forget(&self, serials: &[i64]) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(_, serial), _| !serials.contains(serial));
    }
}

/// Benchmark tables already read, by version.
#[derive(Default)]
pub struct BenchmarkCache {
    tables: Mutex<HashMap<String, Arc<BenchmarkTable>>>,
}

impl BenchmarkCache {
    pub fn get(&self, version: &str) -> Option<Arc<BenchmarkTable>> {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(version)
            .cloned()
    }

    pub fn put(&self, table: Arc<BenchmarkTable>) {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(table.version.clone(), table);
    }
}
