//! Typed ids where a mix-up is possible: a firm's id and an account's id are both integers, and
//! a caller carries one of each. As their own types, passing one where the other belongs does
//! not compile. Each is stored as its integer (sea-orm `DeriveValueType`) and reads as one in
//! JSON.

use sea_orm::DeriveValueType;
use serde::{Deserialize, Serialize};

/// The id of a firm (`firms.id`, and every `firm_id`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    DeriveValueType,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct FirmId(pub i64);

impl std::fmt::Display for FirmId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of an account (`accounts.id`, the owner of a product, service or webhook, and every
/// `…_by` that names who did something).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    DeriveValueType,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct AccountId(pub i64);

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
