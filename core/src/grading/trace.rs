//! §6 The trace: every figure of the computation, written with the digits the methodology
//! prescribes, and its hash over the RFC 8785 canonical bytes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::canonical;
use super::composite::Grade;

// Every struct below declares its fields in the canonical order of RFC 8785 (keys sorted; all
// keys are ASCII, so bytewise), so that serde_json writes the canonical bytes directly: its
// strings are escaped as RFC 8785 wants and a trace holds no non-integer number. A test checks
// these bytes against the general canonicaliser on every vector and on random inputs.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub assessed_on: String,
    pub benchmarks: String,
    pub certifications: CertificationsTrace,
    pub division: String,
    pub energy: EnergyTrace,
    pub grade: Grade,
    pub industry_code: String,
    pub methodology: String,
    pub period: u16,
    pub score: String,
    pub uscc: String,
    pub vetoes: Vec<VetoTrace>,
    pub waste: WasteTrace,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyTrace {
    pub baseline: String,
    pub entries: Vec<EnergyEntryTrace>,
    pub intensity: String,
    pub ratio: String,
    pub score: String,
    pub total_tce: String,
    pub value_added_10k_cny: String,
    pub weight: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyEntryTrace {
    pub carrier: String,
    pub coefficient: String,
    pub kgce: String,
    pub quantity: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasteTrace {
    pub applicable: bool,
    pub baseline: String,
    pub generated_t: String,
    pub leading: String,
    pub rate: Option<String>,
    pub score: Option<String>,
    pub stock_utilized_t: String,
    pub utilized_t: String,
    pub weight: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificationsTrace {
    pub counted: Vec<CountedCertification>,
    pub score: String,
    pub weight: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedCertification {
    pub kind: String,
    pub number: String,
    pub points: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VetoTrace {
    pub kind: String,
    pub occurred_on: String,
}

impl Trace {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The RFC 8785 bytes that the hash covers (see the note on field order above).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The same bytes through the general canonicaliser (slower; for checking).
    pub fn canonical_bytes_checked(&self) -> Vec<u8> {
        canonical::to_vec(&self.to_json()).unwrap_or_default()
    }

    /// The binary SHA-256 of the canonical bytes (its first 16 bytes go into the code).
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }

    /// The trace hash: lowercase hex of [`Trace::digest`].
    pub fn hash(&self) -> String {
        hex::encode(self.digest())
    }
}
