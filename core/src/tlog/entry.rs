//! token.md §5: the log's entries, typed, and their bytes — RFC 8785 canonical JSON, so that
//! anyone can recompute an entry's leaf hash from what it states.

use serde::Serialize;

use crate::grading::Grade;
use crate::grading::canonical;

/// A code was issued: what it states, and the code's own SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssueEntry {
    pub serial: u64,
    pub uscc: String,
    pub grade: Grade,
    pub score: String,
    pub period: u16,
    pub methodology: String,
    pub benchmarks: String,
    pub trace_hash: String,
    pub iat: u64,
    pub exp: u64,
    pub kid: String,
    pub code_sha256: String,
    /// The firm's code this one replaces, if any.
    pub supersedes: Option<i64>,
    /// The code itself, base64url of its COSE bytes (token.md §7; absent from entries written
    /// before it was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A code was revoked, with the regulator's reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevokeEntry {
    pub serial: u64,
    pub target: i64,
    pub reason: String,
    /// Seconds since the epoch.
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Entry {
    Issue(IssueEntry),
    Revoke(RevokeEntry),
}

impl Entry {
    /// `issue` or `revoke`, as the `type` member says.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Issue(_) => "issue",
            Entry::Revoke(_) => "revoke",
        }
    }

    /// The entry as a JSON value (its members as the bytes have them).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The entry's bytes in the log: its canonical JSON.
    pub fn canonical_text(&self) -> String {
        canonical::to_vec(&self.to_json())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}
