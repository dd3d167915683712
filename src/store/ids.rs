//! Typed ids where a mix-up is possible: a firm's id and an account's id are both integers, and
//! a caller carries one of each. As their own types, passing one where the other belongs does
//! not compile. Each is stored as its integer (sea-orm `DeriveValueType`) and reads as one in
//! JSON.

use sea_orm::DeriveValueType;
use serde::{Deserialize, Serialize};

/// An integer id of its own type.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
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
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// The id of a firm (`firms.id`, and every `firm_id`).
    FirmId
);

typed_id!(
    /// The id of an account (`accounts.id`, the owner of a product, service or webhook, and
    /// every `…_by` that names who did something).
    AccountId
);
