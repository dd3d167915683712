//! The signature algorithms a code key may have (token.md §1, §4, §9): the one seam through
//! which codes and the status list are signed and verified, so that a second algorithm is a
//! new variant here, not a change in every caller. Ed25519 is the default, and an Ed25519
//! code is byte for byte what it was before the seam; SM2 over SM3 (token.md §9) is the
//! second. (The log keeps Ed25519 signed notes, whatever the code keys are: token.md §9.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use sm3::Digest as _;

use super::cose::Kid;

/// The user ID of GM/T 0009 that SM2 signatures hash into Z (token.md §9).
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// Signatures checked one by one (SM2) are shared among the cores when each gets this many.
const SINGLES_PER_THREAD: usize = 32;

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
    /// SM2 (GB/T 32918.2) over SM3 (GB/T 32905), the private-use COSE algorithm −70001
    /// ("SM2-SM3", token.md §9).
    Sm2,
}

impl Algorithm {
    /// What a key ring makes when no algorithm is asked for.
    pub const DEFAULT: Algorithm = Algorithm::Ed25519;

    /// Every algorithm, in a fixed order.
    pub const ALL: [Algorithm; 2] = [Algorithm::Ed25519, Algorithm::Sm2];

    /// The name in key rings, the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Sm2 => "sm2",
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
            Algorithm::Sm2 => -70001,
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
            Algorithm::Sm2 => ("EC", "SM2", "SM2-SM3"),
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
    Sm2(sm2::dsa::SigningKey),
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
    /// A key of `algorithm` from 32 random bytes (the caller brings the randomness). An SM2
    /// secret must lie in [1, n − 2]: the rare seed outside it (about one in 2³²) is hashed with
    /// SM3 until one is inside.
    pub fn from_seed(algorithm: Algorithm, seed: &[u8; 32]) -> SigningKey {
        match algorithm {
            Algorithm::Ed25519 => SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)),
            Algorithm::Sm2 => {
                let mut candidate = *seed;
                loop {
                    if let Ok(key) = SigningKey::sm2_from_secret(&candidate) {
                        return key;
                    }
                    candidate = sm3::Sm3::digest(candidate).into();
                }
            }
        }
    }

    /// The SM2 key of a 32-byte big-endian secret, with the default user ID.
    pub fn sm2_from_secret(secret: &[u8]) -> Result<SigningKey, String> {
        let key = sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_ID, secret)
            .map_err(|_| "not an SM2 secret (it must lie in [1, n − 2])".to_owned())?;
        // d = n − 1 has no (1 + d)⁻¹: GB/T 32918.1 keeps it out of the key space.
        let last = sm2::NonZeroScalar::new(-sm2::Scalar::ONE);
        if bool::from(last.is_some())
            && key.as_nonzero_scalar().to_bytes() == last.unwrap().to_bytes()
        {
            return Err("not an SM2 secret (it must lie in [1, n − 2])".to_owned());
        }
        Ok(SigningKey::Sm2(key))
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Ed25519(_) => Algorithm::Ed25519,
            SigningKey::Sm2(_) => Algorithm::Sm2,
        }
    }

    pub fn public(&self) -> PublicKey {
        match self {
            SigningKey::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
            SigningKey::Sm2(key) => PublicKey::Sm2(key.verifying_key().clone()),
        }
    }

    /// The signature over `message`, as COSE writes it (64 bytes: Ed25519's, or SM2's `r ‖ s`).
    /// SM2's nonce is derived from the key and the message (RFC 6979 with SM3), so that no
    /// signature depends on a random source at signing time.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
            SigningKey::Sm2(key) => {
                let signature: sm2::dsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }

    /// The key as PKCS#8 PEM (Ed25519: RFC 8410; SM2: the EC key with the SM2 curve's OID).
    pub fn to_pkcs8_pem(&self) -> Result<String, String> {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        match self {
            SigningKey::Ed25519(key) => key
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map(|pem| pem.to_string())
                .map_err(|e| format!("encoding PKCS#8: {e}")),
            SigningKey::Sm2(key) => {
                let secret = sm2::SecretKey::from(key.as_nonzero_scalar());
                secret
                    .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                    .map(|pem| pem.to_string())
                    .map_err(|e| format!("encoding PKCS#8: {e}"))
            }
        }
    }

    /// A key of `algorithm` from PKCS#8 PEM.
    pub fn from_pkcs8_pem(algorithm: Algorithm, pem: &str) -> Result<SigningKey, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        match algorithm {
            Algorithm::Ed25519 => ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                .map(SigningKey::Ed25519)
                .map_err(|e| format!("not an Ed25519 PKCS#8 PEM key: {e}")),
            Algorithm::Sm2 => {
                let secret = sm2::SecretKey::from_pkcs8_pem(pem)
                    .map_err(|e| format!("not an SM2 PKCS#8 PEM key: {e}"))?;
                SigningKey::sm2_from_secret(&secret.to_bytes())
            }
        }
    }
}

impl From<ed25519_dalek::SigningKey> for SigningKey {
    fn from(key: ed25519_dalek::SigningKey) -> Self {
        SigningKey::Ed25519(key)
    }
}

/// A public code key.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(sm2::dsa::VerifyingKey),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PublicKey::Ed25519(a), PublicKey::Ed25519(b)) => a == b,
            (PublicKey::Sm2(a), PublicKey::Sm2(b)) => a.as_affine() == b.as_affine(),
            _ => false,
        }
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// The key id: for Ed25519 the first 8 bytes of SHA-256 of the raw 32-byte key (§4); for
    /// SM2 the first 8 bytes of SM3 of the 65-byte uncompressed point (§9).
    pub fn kid(&self) -> Kid {
        match self {
            PublicKey::Ed25519(key) => super::cose::kid_of(key.as_bytes()),
            PublicKey::Sm2(key) => {
                let digest = sm3::Sm3::digest(key.to_sec1_point(false).as_bytes());
                let mut kid = [0u8; 8];
                kid.copy_from_slice(&digest[..8]);
                kid
            }
        }
    }

    /// The JWK's `x` (base64url, no padding).
    pub fn x(&self) -> String {
        match self {
            PublicKey::Ed25519(key) => URL_SAFE_NO_PAD.encode(key.as_bytes()),
            PublicKey::Sm2(key) => {
                URL_SAFE_NO_PAD.encode(&key.to_sec1_point(false).as_bytes()[1..33])
            }
        }
    }

    /// The JWK's `y` (base64url, no padding): SM2 keys only.
    pub fn y(&self) -> Option<String> {
        match self {
            PublicKey::Ed25519(_) => None,
            PublicKey::Sm2(key) => {
                Some(URL_SAFE_NO_PAD.encode(&key.to_sec1_point(false).as_bytes()[33..65]))
            }
        }
    }

    /// The key of `algorithm` whose JWK `x` (and, for SM2, `y`) are given.
    pub fn from_jwk_coordinates(
        algorithm: Algorithm,
        x: &str,
        y: Option<&str>,
    ) -> Result<PublicKey, String> {
        match algorithm {
            Algorithm::Ed25519 => super::keys::public_key_from_x(x).map(PublicKey::Ed25519),
            Algorithm::Sm2 => {
                let coordinate = |name: &str, text: &str| -> Result<Vec<u8>, String> {
                    let bytes = URL_SAFE_NO_PAD
                        .decode(text)
                        .map_err(|e| format!("{name} is not base64url: {e}"))?;
                    if bytes.len() != 32 {
                        return Err(format!("{name} must be 32 bytes, not {}", bytes.len()));
                    }
                    Ok(bytes)
                };
                let y = y.ok_or_else(|| "an SM2 key needs y".to_owned())?;
                let mut point = vec![0x04];
                point.extend(coordinate("x", x)?);
                point.extend(coordinate("y", y)?);
                PublicKey::sm2_from_point(&point)
            }
        }
    }

    /// The SM2 key of a 65-byte uncompressed point (`04 ‖ x ‖ y`), with the default user ID.
    pub fn sm2_from_point(point: &[u8]) -> Result<PublicKey, String> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err("an SM2 key is a 65-byte uncompressed point".to_owned());
        }
        sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_ID, point)
            .map(PublicKey::Sm2)
            .map_err(|_| "not a point of the SM2 curve".to_owned())
    }

    /// Whether `signature` is this key's over `message` (Ed25519: strictly, RFC 8032 §5.1.7
    /// with the small-order checks of `verify_strict`; SM2: GB/T 32918.2 §7 with r, s in
    /// [1, n − 1]).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(key) => {
                let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                    return false;
                };
                let signature = ed25519_dalek::Signature::from_bytes(&bytes);
                key.verify_strict(message, &signature).is_ok()
            }
            PublicKey::Sm2(key) => {
                use sm2::dsa::signature::Verifier as _;
                if signature.len() != 64 {
                    return false;
                }
                let Ok(signature) = sm2::dsa::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify(message, &signature).is_ok()
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
    // Algorithms without batch verification (SM2: 0.18 ms a signature) are checked one by one,
    // on every core when there are many.
    let mut ok = vec![false; items.len()];
    let singles: Vec<usize> = (0..items.len())
        .filter(|&i| !batched(items[i].key.algorithm()))
        .collect();
    let check = |part: &[usize]| -> Vec<(usize, bool)> {
        part.iter()
            .map(|&i| (i, items[i].key.verify(items[i].message, items[i].signature)))
            .collect()
    };
    // The number of cores is read (cgroup files, an affinity call) only when it can matter.
    let threads = match singles.len() / SINGLES_PER_THREAD {
        0 | 1 => 1,
        most => std::thread::available_parallelism().map_or(1, |n| n.get().min(most)),
    };
    let verdicts: Vec<(usize, bool)> = if threads == 1 {
        check(&singles)
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = singles
                .chunks(singles.len().div_ceil(threads))
                .map(|part| scope.spawn(move || check(part)))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        })
    };
    for (i, verdict) in verdicts {
        ok[i] = verdict;
    }
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
        // SM2 has no batch verification: one by one.
        Algorithm::Sm2 => false,
    }
}

/// Whether every Ed25519 signature of `items` verifies, checked as one batch.
fn ed25519_batch<'a>(items: impl Iterator<Item = &'a Signed<'a>>) -> bool {
    let mut messages = Vec::new();
    let mut signatures = Vec::new();
    let mut keys = Vec::new();
    for item in items {
        let PublicKey::Ed25519(key) = item.key else {
            return false;
        };
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

    /// Each key signs its own 10-byte message; the signatures at `(index, byte)` get that
    /// byte flipped; the verdicts of [`verify_many`] on them all.
    fn verify_signed_by(keys: &[SigningKey], flips: &[(usize, usize)]) -> Vec<bool> {
        let publics: Vec<PublicKey> = keys.iter().map(SigningKey::public).collect();
        let messages: Vec<Vec<u8>> = (0..keys.len()).map(|i| vec![i as u8; 10]).collect();
        let mut signatures: Vec<Vec<u8>> =
            keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
        for &(i, byte) in flips {
            signatures[i][byte] ^= 1;
        }
        let items: Vec<Signed> = (0..keys.len())
            .map(|i| Signed {
                message: &messages[i],
                signature: &signatures[i],
                key: &publics[i],
            })
            .collect();
        verify_many(&items)
    }

    /// `tests/vectors/sm2.json`: the GM/T 0003.5 example key and codes signed with it by an
    /// independent implementation.
    fn sm2_vectors() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../tests/vectors/sm2.json")).unwrap()
    }

    #[test]
    fn the_sm2_example_key_has_the_vectors_point_kid_and_jwk() {
        let v = sm2_vectors();
        assert_eq!(v["alg"], Algorithm::Sm2.cose_id());
        assert_eq!(v["default_id"], SM2_DEFAULT_ID);
        let secret = hex::decode(v["key"]["secret_hex"].as_str().unwrap()).unwrap();
        let key = SigningKey::sm2_from_secret(&secret).unwrap();
        let public = key.public();
        let point = hex::decode(v["key"]["public_xy_hex"].as_str().unwrap()).unwrap();
        assert_eq!(
            PublicKey::sm2_from_point(&[&[4u8][..], &point].concat()).unwrap(),
            public
        );
        assert_eq!(hex::encode(public.kid()), v["key"]["kid_hex"]);
        let jwk = &v["key"]["jwk"];
        assert_eq!(public.x(), jwk["x"]);
        assert_eq!(public.y().unwrap(), jwk["y"]);
        let (kty, crv, alg) = Algorithm::Sm2.jwk();
        assert_eq!(
            (kty, crv, alg),
            (
                jwk["kty"].as_str().unwrap(),
                jwk["crv"].as_str().unwrap(),
                jwk["alg"].as_str().unwrap()
            )
        );
        let back = PublicKey::from_jwk_coordinates(
            Algorithm::Sm2,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str(),
        )
        .unwrap();
        assert_eq!(back, public);
        // And through PKCS#8 PEM, as the key ring keeps it.
        let pem = key.to_pkcs8_pem().unwrap();
        assert_eq!(
            SigningKey::from_pkcs8_pem(Algorithm::Sm2, &pem)
                .unwrap()
                .public(),
            public
        );
        assert!(SigningKey::from_pkcs8_pem(Algorithm::Ed25519, &pem).is_err());
    }

    #[test]
    fn sm2_signatures_verify_and_tampering_does_not() {
        let key = SigningKey::from_seed(Algorithm::Sm2, &[7u8; 32]);
        let public = key.public();
        let signature = key.sign(b"Sig_structure bytes");
        assert_eq!(signature.len(), 64);
        assert!(public.verify(b"Sig_structure bytes", &signature));
        assert!(!public.verify(b"Sig_structure bytez", &signature));
        let mut flipped = signature.clone();
        flipped[63] ^= 1;
        assert!(!public.verify(b"Sig_structure bytes", &flipped));
        assert!(!public.verify(b"Sig_structure bytes", &signature[..63]));
        assert!(!public.verify(b"Sig_structure bytes", &[0u8; 64]));
        // Another key's signature, and an Ed25519 key's, do not pass for this one.
        let other = SigningKey::from_seed(Algorithm::Sm2, &[8u8; 32]);
        assert!(!public.verify(b"Sig_structure bytes", &other.sign(b"Sig_structure bytes")));
        let ed = SigningKey::from_seed(Algorithm::Ed25519, &[7u8; 32]);
        assert!(!public.verify(b"Sig_structure bytes", &ed.sign(b"Sig_structure bytes")));
        assert_ne!(public, ed.public());
        // Not reusable points: off the curve, or the wrong size.
        let mut bad = vec![4u8];
        bad.extend([1u8; 64]);
        assert!(PublicKey::sm2_from_point(&bad).is_err());
        assert!(PublicKey::sm2_from_point(&bad[..64]).is_err());
        // 0 and n are not secrets.
        assert!(SigningKey::sm2_from_secret(&[0u8; 32]).is_err());
        assert!(SigningKey::sm2_from_secret(&[0xFFu8; 32]).is_err());
    }

    #[test]
    fn mixed_algorithms_are_checked_together_each_its_own_way() {
        let keys: Vec<SigningKey> = (0..10u8)
            .map(|i| SigningKey::from_seed(Algorithm::ALL[i as usize % 2], &[i + 1; 32]))
            .collect();
        // Index 3 is an SM2 signature, 4 an Ed25519 one.
        let ok = verify_signed_by(&keys, &[(3, 5), (4, 5)]);
        let bad: Vec<usize> = (0..10).filter(|&i| !ok[i]).collect();
        assert_eq!(bad, vec![3, 4]);
    }

    #[test]
    fn many_signatures_are_checked_together_and_a_bad_one_is_found() {
        let keys: Vec<SigningKey> = (0..70u8)
            .map(|i| SigningKey::from_seed(Algorithm::Ed25519, &[i; 32]))
            .collect();
        let ok = verify_signed_by(&keys, &[(65, 0)]);
        assert_eq!(ok.iter().filter(|v| !**v).count(), 1);
        assert!(!ok[65]);
    }
}
