//! §6 The trace: every figure of the computation, written with the digits the methodology
//! prescribes, and its hash over the RFC 8785 canonical bytes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::canonical;
use super::composite::Grade;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub methodology: String,
    pub benchmarks: String,
    pub uscc: String,
    pub industry_code: String,
    pub division: String,
    pub period: u16,
    pub assessed_on: String,
    pub energy: EnergyTrace,
    pub waste: WasteTrace,
    pub certifications: CertificationsTrace,
    pub vetoes: Vec<VetoTrace>,
    pub score: String,
    pub grade: Grade,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyTrace {
    pub entries: Vec<EnergyEntryTrace>,
    pub total_tce: String,
    pub value_added_10k_cny: String,
    pub intensity: String,
    pub baseline: String,
    pub ratio: String,
    pub score: String,
    pub weight: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyEntryTrace {
    pub carrier: String,
    pub quantity: String,
    pub coefficient: String,
    pub kgce: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasteTrace {
    pub applicable: bool,
    pub generated_t: String,
    pub stock_utilized_t: String,
    pub utilized_t: String,
    pub rate: Option<String>,
    pub baseline: String,
    pub leading: String,
    pub score: Option<String>,
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

    /// The RFC 8785 bytes that the hash covers.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // A trace holds only strings, small integers, booleans and null: always canonicalisable.
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
