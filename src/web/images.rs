//! Rendered images of codes (QR PNG/SVG, badge PNG/SVG): immutable per serial, so each is
//! rendered once, kept in a bounded in-memory cache, and served with a strong ETag and long
//! cache headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use resvg::usvg::fontdb;

/// Which image of a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    QrPng,
    QrSvg,
    BadgePng,
    BadgeSvg,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::QrPng | Kind::BadgePng => "image/png",
            Kind::QrSvg | Kind::BadgeSvg => "image/svg+xml",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::QrPng => "qr.png",
            Kind::QrSvg => "qr.svg",
            Kind::BadgePng => "badge.png",
            Kind::BadgeSvg => "badge.svg",
        }
    }
}

/// At most this many images are kept; past it the cache starts afresh (simple and bounded).
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct ImageCache {
    entries: Mutex<HashMap<(i64, Kind), Bytes>>,
}

impl ImageCache {
    pub fn get(&self, serial: i64, kind: Kind) -> Option<Bytes> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(serial, kind))
            .cloned()
    }

    pub fn put(&self, serial: i64, kind: Kind, bytes: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((serial, kind), bytes);
    }
}

/// WenQuanYi Micro Hei (Apache-2.0; `src/fonts/`), compiled in: a badge never lacks its text.
const EMBEDDED_CJK: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");

/// The embedded CJK font alone (what a machine with no fonts installed renders with).
pub fn embedded_fonts() -> fontdb::Database {
    let mut db = fontdb::Database::new();
    db.load_font_data(EMBEDDED_CJK.to_vec());
    db
}

/// The embedded CJK font and the system's fonts, loaded once (badge PNGs need a CJK font for
/// the firm's name; the badge asks for the system's CJK fonts first, then the embedded one).
pub fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = embedded_fonts();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}
