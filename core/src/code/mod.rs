//! The code format GEC1 (token.md §1–§4) as pure functions: CWT claims in a COSE_Sign1 signed
//! with the code key's algorithm (Ed25519 by default; `alg` is the seam), its strict base32 URL, key sets and offline verification, and the QR images
//! and printable badge. No I/O: key files and the database live in the shell.

pub mod alg;
pub mod badge;
pub mod claims;
pub mod cose;
pub mod keys;
pub mod qr;
pub mod serial;
pub mod status_list;
pub mod text;
pub mod verify;

pub use alg::{Algorithm, PublicKey, SigningKey};
pub use claims::Claims;
pub use cose::{Kid, kid_of};
pub use keys::{KeySetDocument, KeyStatus, PublishedKey, TrustedKeys};
pub use serial::Serial;
pub use verify::{Reason, Verdict};

/// A yearly grade plus a month of grace (token.md §1).
pub const VALIDITY_SECS: u64 = 396 * 24 * 3600;

/// `exp = iat + 396 days`, never later than the signing key's `not_after`.
pub fn expiry(iat: u64, key_not_after: Option<u64>) -> u64 {
    let exp = iat + VALIDITY_SECS;
    key_not_after.map_or(exp, |end| exp.min(end))
}
