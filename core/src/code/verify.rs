//! token.md §3: verifying a code offline, with a verdict that says exactly why a code is not
//! valid. Status (active, superseded, revoked) needs the service and is not decided here.

use serde::Serialize;

use super::claims::Claims;
use super::cose;
use super::keys::{KeyStatus, TrustedKeys};
use super::text;

/// How far a code's `iat` may lie in the verifier's future (clock skew).
pub const CLOCK_SKEW_SECS: i64 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Malformed,
    UnknownKey,
    BadSignature,
    KeyCompromised,
    NotYetValid,
    Expired,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::UnknownKey => "unknown_key",
            Reason::BadSignature => "bad_signature",
            Reason::KeyCompromised => "key_compromised",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
        }
    }
}

/// The outcome: valid, or the first reason it is not, with the claims whenever they could be
/// read (a caller must not trust claims of an invalid code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    pub reason: Option<Reason>,
    pub detail: Option<String>,
    pub kid: Option<String>,
    pub claims: Option<Claims>,
}

impl Verdict {
    fn invalid(
        reason: Reason,
        detail: impl Into<String>,
        decoded: Option<&cose::Decoded>,
    ) -> Verdict {
        Verdict {
            valid: false,
            reason: Some(reason),
            detail: Some(detail.into()),
            kid: decoded.map(|d| hex::encode(d.kid)),
            claims: decoded.map(|d| d.claims.clone()),
        }
    }
}

/// Verifies a code (a URL, or the base32 text alone) against trusted keys at time `now`
/// (seconds since the epoch), in the steps of token.md §3.
pub fn verify(code_or_url: &str, keys: &TrustedKeys, now: i64) -> Verdict {
    let bytes = match text::decode(text::code_part(code_or_url)) {
        Ok(b) => b,
        Err(e) => return Verdict::invalid(Reason::Malformed, e, None),
    };
    verify_bytes(&bytes, keys, now)
}

/// §3 from step 2, for COSE bytes.
pub fn verify_bytes(bytes: &[u8], keys: &TrustedKeys, now: i64) -> Verdict {
    let decoded = match cose::decode(bytes) {
        Ok(d) => d,
        Err(e) => return Verdict::invalid(Reason::Malformed, e, None),
    };
    if let Err((reason, detail)) = check_key(&decoded, keys) {
        return Verdict::invalid(reason, detail, Some(&decoded));
    }
    let Some(trusted) = keys.get(&decoded.kid) else {
        return Verdict::invalid(
            Reason::UnknownKey,
            "no published key has this kid",
            Some(&decoded),
        );
    };
    // The algorithm is the key's: a header that names another is malformed (token.md §9).
    if let Err((reason, detail)) = check_algorithm(&decoded, &trusted.key) {
        return Verdict::invalid(reason, detail, Some(&decoded));
    }
    if !trusted.key.verify(&decoded.signed, &decoded.signature) {
        return Verdict::invalid(
            Reason::BadSignature,
            "the signature does not verify",
            Some(&decoded),
        );
    }
    check_time(&decoded, now)
}

/// The header's algorithm is the key's (token.md §9): one that names another is malformed.
pub fn check_algorithm(
    decoded: &cose::Decoded,
    key: &super::PublicKey,
) -> Result<(), (Reason, String)> {
    if key.algorithm() == decoded.alg {
        return Ok(());
    }
    Err((
        Reason::Malformed,
        format!(
            "the header names {} but key {} is {}",
            decoded.alg,
            hex::encode(decoded.kid),
            key.algorithm()
        ),
    ))
}

/// Step 3: a published key whose window holds `iat`, and not compromised by then.
pub fn check_key(decoded: &cose::Decoded, keys: &TrustedKeys) -> Result<(), (Reason, String)> {
    check_key_at(&decoded.kid, decoded.claims.iat, keys)
}

/// A published key `kid` whose window holds `iat`, and not compromised by then (also for the
/// status list, §8).
pub fn check_key_at(kid: &cose::Kid, iat: u64, keys: &TrustedKeys) -> Result<(), (Reason, String)> {
    let Some(trusted) = keys.get(kid) else {
        return Err((Reason::UnknownKey, "no published key has this kid".into()));
    };
    let iat = i64::try_from(iat).unwrap_or(i64::MAX);
    if iat < trusted.not_before || trusted.not_after.is_some_and(|end| iat > end) {
        return Err((
            Reason::UnknownKey,
            "the key was not valid when the code was issued".into(),
        ));
    }
    if trusted.status == KeyStatus::Compromised && trusted.compromised_at.is_none_or(|at| iat >= at)
    {
        return Err((
            Reason::KeyCompromised,
            "the key was compromised when the code was issued".into(),
        ));
    }
    Ok(())
}

/// Step 5: `iat ≤ now + 5 min` and `now ≤ exp`.
pub fn check_time(decoded: &cose::Decoded, now: i64) -> Verdict {
    let iat = i64::try_from(decoded.claims.iat).unwrap_or(i64::MAX);
    let exp = i64::try_from(decoded.claims.exp).unwrap_or(i64::MAX);
    if iat > now.saturating_add(CLOCK_SKEW_SECS) {
        return Verdict::invalid(Reason::NotYetValid, "issued in the future", Some(decoded));
    }
    if now > exp {
        return Verdict::invalid(Reason::Expired, "past its expiry", Some(decoded));
    }
    Verdict {
        valid: true,
        reason: None,
        detail: None,
        kid: Some(hex::encode(decoded.kid)),
        claims: Some(decoded.claims.clone()),
    }
}
