//! What a running service keeps of the database so that hot reads need no round trip: the
//! facts verification needs of each code (for a moment), and benchmark tables by version
//! (a published version never changes). One `Caches` per service, held in its state; a CLI run
//! makes its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::grading::BenchmarkTable;
use crate::store::codes::CodeStatus;

#[derive(Clone, Default)]
pub struct Caches {
    pub codes: Arc<CodeCache>,
    pub benchmarks: Arc<BenchmarkCache>,
    /// Carbon tables (methodology §10) by their three versions (versions never change).
    pub carbon: Arc<CarbonCache>,
    pub status_list: Arc<super::status_list::StatusListCache>,
    pub tiles: Arc<super::log::TileCache>,
}

impl Caches {
    /// Caches whose code facts are trusted for `fresh_for` (see [`FRESH_FOR`]).
    pub fn with_code_ttl(fresh_for: Duration) -> Self {
        Caches {
            codes: Arc::new(CodeCache::new(fresh_for)),
            benchmarks: Arc::default(),
            carbon: Arc::default(),
            status_list: Arc::default(),
            tiles: Arc::default(),
        }
    }
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

/// How long a code's facts are trusted by default. Approving and revoking forget the codes they
/// change here at once, and on PostgreSQL tell every other replica (LISTEN/NOTIFY), which
/// forget them too; this bound only matters if a notice is lost.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
const CODES_MAX: usize = 100_000;

/// A scan page as an anonymous visitor sees it, rendered once (and gzipped once).
#[derive(Clone)]
pub struct CachedPage {
    pub html: axum::body::Bytes,
    pub gzip: axum::body::Bytes,
}

/// What a kept scan page is for: the code's text, the language, and the key ring it was
/// verified with (a key change makes every page old).
type PageKey = (String, &'static str, usize);
/// A kept page: when it was rendered, the codes it shows, and the page.
type KeptPage = (Instant, Vec<i64>, CachedPage);
/// Who is rendering which page (code text and language).
type RenderLocks = HashMap<(String, &'static str), Arc<tokio::sync::Mutex<()>>>;
const PAGES_MAX: usize = 20_000;

/// Code facts by (kid, serial): a serial is unique in one log, and the kid tells logs apart.
/// Also the scan pages of those codes, under the same freshness rules.
pub struct CodeCache {
    entries: Mutex<HashMap<(String, i64), (Instant, CodeFacts)>>,
    /// Each page with the codes it shows: its own, and the firm's current one it points to.
    pages: std::sync::RwLock<HashMap<PageKey, KeptPage>>,
    /// One render per page at a time: when a kept page goes, the requests that missed it wait
    /// for one of them to render it instead of all reading the database at once.
    rendering: Mutex<RenderLocks>,
    fresh_for: Duration,
    /// False while this replica may be missing other replicas' notices (its notification
    /// connection is down): then nothing kept is used.
    trusted: AtomicBool,
}

impl Default for CodeCache {
    fn default() -> Self {
        CodeCache::new(FRESH_FOR)
    }
}

impl CodeCache {
    pub fn new(fresh_for: Duration) -> Self {
        CodeCache {
            entries: Mutex::default(),
            pages: std::sync::RwLock::default(),
            rendering: Mutex::default(),
            fresh_for,
            trusted: AtomicBool::new(true),
        }
    }

    /// Stops using what is kept (and drops it) until [`CodeCache::trust`].
    pub fn distrust(&self) {
        self.trusted.store(false, Ordering::SeqCst);
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.pages
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub fn trust(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.pages
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.trusted.store(true, Ordering::SeqCst);
    }

    /// The scan page kept for this code text, language and key ring, and whether it is fresh
    /// (younger than the code facts' time). An older one is given too, not fresh: the caller
    /// serves it only while another request is rendering the page again. A page forgotten for
    /// a change is never given.
    pub fn page(&self, code: &str, lang: &'static str, keys: usize) -> Option<(CachedPage, bool)> {
        if !self.is_trusted() {
            return None;
        }
        let pages = self.pages.read().unwrap_or_else(|p| p.into_inner());
        let (at, _, page) = pages.get(&(code.to_owned(), lang, keys))?;
        Some((page.clone(), at.elapsed() < self.fresh_for))
    }

    /// The lock that lets one request at a time render this page (see `rendering`).
    pub fn render_lock(&self, code: &str, lang: &'static str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() >= PAGES_MAX {
            // Whoever holds a dropped lock still holds it; at worst a page renders twice.
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry((code.to_owned(), lang)).or_default().clone()
    }

    /// Keeps a scan page just rendered, with the codes it shows (its own, the current one).
    pub fn put_page(
        &self,
        code: &str,
        lang: &'static str,
        keys: usize,
        shows: Vec<i64>,
        page: CachedPage,
    ) {
        if !self.is_trusted() {
            return;
        }
        let mut pages = self.pages.write().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= PAGES_MAX {
            let fresh_for = self.fresh_for;
            pages.retain(|_, (at, _, _)| at.elapsed() < fresh_for);
            if pages.len() >= PAGES_MAX {
                pages.clear();
            }
        }
        pages.insert((code.to_owned(), lang, keys), (Instant::now(), shows, page));
    }

    pub fn is_trusted(&self) -> bool {
        self.trusted.load(Ordering::SeqCst)
    }

    /// The fresh facts of the wanted codes by serial, and the serials still to be read.
    pub fn fresh(&self, wanted: &[(String, i64)]) -> (HashMap<i64, CodeFacts>, Vec<i64>) {
        if !self.is_trusted() {
            return (HashMap::new(), wanted.iter().map(|k| k.1).collect());
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for key in wanted {
            match entries.get(key) {
                Some((at, facts)) if at.elapsed() < self.fresh_for => {
                    found.insert(key.1, facts.clone());
                }
                _ => missing.push(key.1),
            }
        }
        (found, missing)
    }

    /// Keeps facts just read (by serial).
    pub fn put(&self, read: impl IntoIterator<Item = (i64, CodeFacts)>) {
        if !self.is_trusted() {
            return;
        }
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
        drop(entries);
        // A page goes when a code it shows changes: its own, or the current code it points to
        // (a new code is issued with the code it supersedes, so every older page of the firm,
        // which points to that one, goes too).
        let mut pages = self.pages.write().unwrap_or_else(|p| p.into_inner());
        pages.retain(|_, (_, shows, _)| !shows.iter().any(|s| serials.contains(s)));
    }
}

/// Carbon tables already read, by their three versions.
#[derive(Default)]
pub struct CarbonCache {
    tables: Mutex<HashMap<String, Arc<crate::grading::carbon::CarbonTables>>>,
}

impl CarbonCache {
    pub fn get(&self, key: &str) -> Option<Arc<crate::grading::carbon::CarbonTables>> {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: String, tables: Arc<crate::grading::carbon::CarbonTables>) {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, tables);
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
