//! What the service answers about a code: the verdict of token.md §3, why a code does not
//! count, its status on record, and what a valid grade links to.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::code::verify::Reason;
use crate::grading::Grade;
use crate::grading::finance::{Finance, Item};
use crate::store::codes::CodeStatus;

/// The claims as the API shows them: times in RFC 3339, the score as the trace writes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimsView {
    pub uscc: String,
    pub grade: Grade,
    pub score: String,
    pub period: u32,
    pub methodology: String,
    pub iat: DateTime<Utc>,
    pub exp: DateTime<Utc>,
    pub serial: u64,
    /// The carbon-efficiency level the code states, 1 (the best) to 5 (methodology §10);
    /// absent on codes issued before it was carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carbon_level: Option<u8>,
    /// Per cent of the firm's energy (tce) whose figures data sources attested (claim 8,
    /// rounded down); absent on codes issued without sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attested_share: Option<u8>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FirmName {
    pub name: String,
}

/// A code's status as a verifier sees it: on record, or `unknown` when not on record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    Superseded,
    Revoked,
    Expired,
    Unknown,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Superseded => "superseded",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Expired => "expired",
            RecordStatus::Unknown => "unknown",
        }
    }
}

impl From<CodeStatus> for RecordStatus {
    fn from(status: CodeStatus) -> Self {
        match status {
            CodeStatus::Active => RecordStatus::Active,
            CodeStatus::Superseded => RecordStatus::Superseded,
            CodeStatus::Revoked => RecordStatus::Revoked,
            CodeStatus::Expired => RecordStatus::Expired,
        }
    }
}

/// Why a code does not count: a reason of token.md §3 (it does not verify), or its status on
/// record (it verifies but is no longer in force).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyReason {
    Malformed,
    UnknownKey,
    BadSignature,
    KeyCompromised,
    NotYetValid,
    Expired,
    Superseded,
    Revoked,
    Unknown,
}

impl VerifyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyReason::Malformed => "malformed",
            VerifyReason::UnknownKey => "unknown_key",
            VerifyReason::BadSignature => "bad_signature",
            VerifyReason::KeyCompromised => "key_compromised",
            VerifyReason::NotYetValid => "not_yet_valid",
            VerifyReason::Expired => "expired",
            VerifyReason::Superseded => "superseded",
            VerifyReason::Revoked => "revoked",
            VerifyReason::Unknown => "unknown",
        }
    }

    /// The code is authentic (its signature holds); it is only no longer in force.
    pub fn is_status(self) -> bool {
        matches!(
            self,
            VerifyReason::Superseded | VerifyReason::Revoked | VerifyReason::Expired
        )
    }
}

impl From<Reason> for VerifyReason {
    fn from(reason: Reason) -> Self {
        match reason {
            Reason::Malformed => VerifyReason::Malformed,
            Reason::UnknownKey => VerifyReason::UnknownKey,
            Reason::BadSignature => VerifyReason::BadSignature,
            Reason::KeyCompromised => VerifyReason::KeyCompromised,
            Reason::NotYetValid => VerifyReason::NotYetValid,
            Reason::Expired => VerifyReason::Expired,
        }
    }
}

impl RecordStatus {
    /// Why a code with this status does not count (`None`: active, it does).
    pub fn refusal(self) -> Option<VerifyReason> {
        match self {
            RecordStatus::Active => None,
            RecordStatus::Superseded => Some(VerifyReason::Superseded),
            RecordStatus::Revoked => Some(VerifyReason::Revoked),
            RecordStatus::Expired => Some(VerifyReason::Expired),
            RecordStatus::Unknown => Some(VerifyReason::Unknown),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    pub valid: bool,
    pub reason: Option<VerifyReason>,
    pub detail: Option<String>,
    pub status: Option<RecordStatus>,
    pub claims: Option<ClaimsView>,
    pub firm: Option<FirmName>,
    pub finance: Option<Finance>,
    pub services: Vec<Item>,
}
