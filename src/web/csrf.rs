//! CSRF protection for forms. A signed-in session's forms carry a token derived from the
//! session secret (so nothing extra is stored); the login form, which has no session yet,
//! uses a double-submit cookie.

use sha2::{Digest, Sha256};

pub const PRE_SESSION_COOKIE: &str = "gec_csrf";

/// The token a session's forms must carry: SHA-256 of a label and the session secret.
pub fn session_token(session: &str) -> String {
    hex::encode(Sha256::digest(format!("gec-csrf\n{session}").as_bytes()))
}

/// Compares in constant time, so the token cannot be guessed a byte at a time.
pub fn matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
