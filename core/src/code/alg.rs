//! The signature algorithms a code key may have (token.md §1, §4, §9): the one seam through
//! which codes and the status list are signed and verified, so that a second algorithm is a
//! new variant here, not a change in every caller. Ed25519 is the default, and an Ed25519
//! code is byte for byte what it was before the seam. (The log keeps Ed25519 signed notes,
//! whatever the code keys are: token.md §9.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};

use super::cose::Kid;

/// How many Ed25519 signatures are checked in one batch.
const ED25519_BATCH: usize = 64;

/// A code key's signature algorithm.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// EdDSA over Ed25519 (RFC 8032), COSE algorithm −8.
    Ed25519,
}

impl Algorithm {
    /// What a key ring makes when no algorithm is asked for.
    pub const DEFAULT: Algorithm = Algorithm::Ed25519;

    /// Every algorithm, in a fixed order.
    pub const ALL: [Algorithm; 1] = [Algorithm::Ed25519];

    /// The name in key rings, the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// Reads a name of [`Algorithm::as_str`].
    pub fn parse(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The COSE algorithm number in the protected header.
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::Ed25519 => -8,
        }
    }

    /// The algorithm of a COSE algorithm number, if it is one of ours.
    pub fn from_cose_id(id: i64) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.cose_id() == id)
    }

    /// The JWK fields `kty`, `crv` and `alg` of a key of this algorithm.
    pub fn jwk(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Algorithm::Ed25519 => ("OKP", "Ed25519", "EdDSA"),
        }
    }

    /// The algorithm of a JWK's `kty`, `crv` and `alg`.
    pub fn from_jwk(kty: &str, crv: &str, alg: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.jwk() == (kty, crv, alg))
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A private code key.
#[derive(Clone)]
pub enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        write!(
            f,
            "SigningKey({}, {})",
            self.algorithm(),
            hex::encode(self.public().kid())
        )
    }
}

impl SigningKey {
    /// A key of `algorithm` from 32 random bytes (the caller brings the randomness).
    pub fn from_seed(algorithm: Algorithm, seed: &[u8; 32]) -> SigningKey {
        match algorithm {
            Algorithm::Ed25519 => SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    pub fn public(&self) -> PublicKey {
        match self {
            SigningKey::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
        }
    }

    /// The signature over `message`, as COSE writes it (64 bytes).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        }
    }
}

impl From<ed25519_dalek::SigningKey> for SigningKey {
    fn from(key: ed25519_dalek::SigningKey) -> Self {
        SigningKey::Ed25519(key)
    }
}

/// A public code key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// The key id: for Ed25519 the first 8 bytes of SHA-256 of the raw 32-byte key (§4).
    pub fn kid(&self) -> Kid {
        match self {
            PublicKey::Ed25519(key) => super::cose::kid_of(key.as_bytes()),
        }
    }

    /// The JWK's `x` (base64url, no padding).
    pub fn x(&self) -> String {
        match self {
            PublicKey::Ed25519(key) => URL_SAFE_NO_PAD.encode(key.as_bytes()),
        }
    }

    /// The key of `algorithm` whose JWK `x` is given.
    pub fn from_x(algorithm: Algorithm, x: &str) -> Result<PublicKey, String> {
        match algorithm {
            Algorithm::Ed25519 => super::keys::public_key_from_x(x).map(PublicKey::Ed25519),
        }
    }

    /// Whether `signature` is this key's over `message` (Ed25519: strictly, RFC 8032 §5.1.7
    /// with the small-order checks of `verify_strict`).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(key) => {
                let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                    return false;
                };
                let signature = ed25519_dalek::Signature::from_bytes(&bytes);
                key.verify_strict(message, &signature).is_ok()
            }
        }
    }
}

impl From<ed25519_dalek::VerifyingKey> for PublicKey {
    fn from(key: ed25519_dalek::VerifyingKey) -> Self {
        PublicKey::Ed25519(key)
    }
}

/// One signature to check: the signed bytes, the signature and the key.
pub struct Signed<'a> {
    pub message: &'a [u8],
    pub signature: &'a [u8],
    pub key: &'a PublicKey,
}

/// Checks many signatures, each algorithm's together: Ed25519 in batches (a batch that passes
/// proves every signature in it; one that fails is checked one by one to find the bad ones).
/// The answers are in the order asked, with exactly [`PublicKey::verify`]'s verdicts. (The
/// only signatures an Ed25519 batch accepts and `verify_strict` refuses have a small-order R,
/// which only the key's holder can make: they prove nothing a forger could use.)
pub fn verify_many(items: &[Signed<'_>]) -> Vec<bool> {
    // Algorithms without batch verification are checked one by one.
    let mut ok: Vec<bool> = items
        .iter()
        .map(|item| !batched(item.key.algorithm()) && item.key.verify(item.message, item.signature))
        .collect();
    let ed25519: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(items[i].key, PublicKey::Ed25519(_)))
        .collect();
    for chunk in ed25519.chunks(ED25519_BATCH) {
        let batch_ok = chunk.len() > 1 && ed25519_batch(chunk.iter().map(|&i| &items[i]));
        for &i in chunk {
            let item = &items[i];
            ok[i] = batch_ok || item.key.verify(item.message, item.signature);
        }
    }
    ok
}

/// Whether signatures of `algorithm` are checked in batches by [`verify_many`].
fn batched(algorithm: Algorithm) -> bool {
    match algorithm {
        Algorithm::Ed25519 => true,
    }
}

/// Whether every Ed25519 signature of `items` verifies, checked as one batch.
fn ed25519_batch<'a>(items: impl Iterator<Item = &'a Signed<'a>>) -> bool {
    let mut messages = Vec::new();
    let mut signatures = Vec::new();
    let mut keys = Vec::new();
    for item in items {
        let PublicKey::Ed25519(key) = item.key;
        let Ok(bytes) = <[u8; 64]>::try_from(item.signature) else {
            return false;
        };
        messages.push(item.message);
        signatures.push(ed25519_dalek::Signature::from_bytes(&bytes));
        keys.push(*key);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_reads_back_from_its_names_and_numbers() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::parse(alg.as_str()), Some(alg));
            assert_eq!(Algorithm::from_cose_id(alg.cose_id()), Some(alg));
            let (kty, crv, name) = alg.jwk();
            assert_eq!(Algorithm::from_jwk(kty, crv, name), Some(alg));
        }
        assert_eq!(Algorithm::DEFAULT.cose_id(), -8);
        assert_eq!(Algorithm::from_cose_id(-7), None);
    }

    #[test]
    fn many_signatures_are_checked_together_and_a_bad_one_is_found() {
        let keys: Vec<SigningKey> = (0..70u8)
            .map(|i| SigningKey::from_seed(Algorithm::Ed25519, &[i; 32]))
            .collect();
        let publics: Vec<PublicKey> = keys.iter().map(SigningKey::public).collect();
        let messages: Vec<Vec<u8>> = (0..70u8).map(|i| vec![i; 10]).collect();
        let mut signatures: Vec<Vec<u8>> =
            keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
        signatures[65][0] ^= 1;
        let items: Vec<Signed> = (0..70)
            .map(|i| Signed {
                message: &messages[i],
                signature: &signatures[i],
                key: &publics[i],
            })
            .collect();
        let ok = verify_many(&items);
        assert_eq!(ok.iter().filter(|v| !**v).count(), 1);
        assert!(!ok[65]);
    }
}
