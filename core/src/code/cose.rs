//! token.md §1 and §3 step 2: the code as a tagged COSE_Sign1 (RFC 9052) signed with the code
//! key's algorithm (Ed25519 by default, `alg`), written in deterministic CBOR and read back
//! strictly: one text form per code.

use ciborium::value::{Integer, Value as Cbor};
use sha2::{Digest, Sha256};

use super::alg::{Algorithm, SigningKey};
use super::claims::Claims;

pub const COSE_SIGN1_TAG: u64 = 18;
const HEADER_ALG: i64 = 1;
const HEADER_KID: i64 = 4;

/// A key id: 8 bytes of a digest of the public key (token.md §4, §9).
pub type Kid = [u8; 8];

/// The kid of a raw 32-byte Ed25519 public key: the first 8 bytes of its SHA-256.
pub fn kid_of(public_key: &[u8; 32]) -> Kid {
    let digest = Sha256::digest(public_key);
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

pub fn encode(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Writing into a Vec cannot fail.
    let _ = ciborium::into_writer(value, &mut out);
    out
}

fn protected_header(alg: Algorithm, kid: &Kid) -> Vec<u8> {
    encode(&Cbor::Map(vec![
        (
            Cbor::Integer(HEADER_ALG.into()),
            Cbor::Integer(alg.cose_id().into()),
        ),
        (Cbor::Integer(HEADER_KID.into()), Cbor::Bytes(kid.to_vec())),
    ]))
}

/// The bytes a code key signs: `["Signature1", protected, h'', payload]`.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    encode(&Cbor::Array(vec![
        Cbor::Text("Signature1".into()),
        Cbor::Bytes(protected.to_vec()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
    ]))
}

/// Signs the claims: the COSE bytes of the code. Deterministic for a key and claims.
pub fn sign(claims: &Claims, key: &SigningKey) -> Vec<u8> {
    sign_payload(&encode(&claims.to_cbor()), key)
}

/// A tagged COSE_Sign1 over `payload` (deterministic CBOR bytes) with the protected header
/// `{1: alg, 4: kid}` and an empty unprotected header: the codes and the status list (§8).
pub fn sign_payload(payload: &[u8], key: &SigningKey) -> Vec<u8> {
    let protected = protected_header(key.algorithm(), &key.public().kid());
    let signature = key.sign(&sig_structure(&protected, payload));
    encode(&Cbor::Tag(
        COSE_SIGN1_TAG,
        Box::new(Cbor::Array(vec![
            Cbor::Bytes(protected),
            Cbor::Map(Vec::new()),
            Cbor::Bytes(payload.to_vec()),
            Cbor::Bytes(signature),
        ])),
    ))
}

/// A COSE_Sign1 taken apart, its payload one deterministic CBOR item, not yet verified.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The algorithm the protected header names.
    pub alg: Algorithm,
    pub kid: Kid,
    pub payload: Cbor,
    pub signed: Vec<u8>,
    pub signature: [u8; 64],
}

/// A code taken apart, not yet verified.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The algorithm the protected header names (a verifier checks it is the key's).
    pub alg: Algorithm,
    pub kid: Kid,
    pub claims: Claims,
    /// The signed bytes (the Sig_structure), ready for verification.
    pub signed: Vec<u8>,
    pub signature: [u8; 64],
}

/// Reads COSE bytes strictly (token.md §3 step 2): tag 18, an array of 4, nothing after it,
/// protected header exactly `{1: alg, 4: kid(8)}` with an algorithm of ours, unprotected header
/// empty, a 64-byte signature, claims exactly as §1 — and every part in its one deterministic encoding.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let envelope = open(bytes)?;
    Ok(Decoded {
        alg: envelope.alg,
        kid: envelope.kid,
        claims: Claims::from_cbor(&envelope.payload)?,
        signed: envelope.signed,
        signature: envelope.signature,
    })
}

/// Reads a COSE_Sign1 strictly (tag 18, an array of 4, nothing after it, protected header
/// exactly `{1: alg, 4: kid(8)}` with an algorithm of ours, empty unprotected header, a 64-byte signature, each part in
/// its deterministic encoding), leaving the payload's meaning to the caller.
pub fn open(bytes: &[u8]) -> Result<Envelope, String> {
    let value = decode_exact(bytes)?;
    let Cbor::Tag(tag, inner) = value else {
        return Err("not a tagged COSE_Sign1".into());
    };
    if tag != COSE_SIGN1_TAG {
        return Err(format!("tag {tag} is not COSE_Sign1 (18)"));
    }
    let Cbor::Array(parts) = *inner else {
        return Err("COSE_Sign1 is not an array".into());
    };
    let [protected, unprotected, payload, signature]: [Cbor; 4] = parts
        .try_into()
        .map_err(|_| "COSE_Sign1 is not an array of 4")?;
    let protected = protected
        .into_bytes()
        .map_err(|_| "protected header is not a byte string")?;
    let headers = decode_exact(&protected)?;
    let (alg, kid) = protected_alg_kid(&headers)?;
    if unprotected.as_map().is_none_or(|m| !m.is_empty()) {
        return Err("unprotected header is not empty".into());
    }
    let payload = payload
        .into_bytes()
        .map_err(|_| "payload is not a byte string")?;
    let value = decode_exact(&payload)?;
    let signature = signature
        .into_bytes()
        .map_err(|_| "signature is not a byte string")?;
    let signature: [u8; 64] = signature
        .as_slice()
        .try_into()
        .map_err(|_| "signature is not 64 bytes")?;
    Ok(Envelope {
        alg,
        kid,
        payload: value,
        signed: sig_structure(&protected, &payload),
        signature,
    })
}

fn protected_alg_kid(headers: &Cbor) -> Result<(Algorithm, Kid), String> {
    let map = headers.as_map().ok_or("protected header is not a map")?;
    let alg = Cbor::Integer(Integer::from(HEADER_ALG));
    let kid_label = Cbor::Integer(Integer::from(HEADER_KID));
    match map.as_slice() {
        [(k1, v1), (k2, v2)] if *k1 == alg && *k2 == kid_label => {
            let alg = v1
                .as_integer()
                .and_then(|id| i64::try_from(id).ok())
                .and_then(Algorithm::from_cose_id)
                .ok_or_else(|| format!("algorithm {}", algorithm_words()))?;
            let kid = v2
                .as_bytes()
                .and_then(|b| b.as_slice().try_into().ok())
                .ok_or_else(|| "kid is not 8 bytes".to_owned())?;
            Ok((alg, kid))
        }
        _ => Err("protected header is not exactly {1: alg, 4: kid}".into()),
    }
}

/// The algorithms a code may name, for the refusal: `EdDSA (-8)`.
fn algorithm_words() -> String {
    let names: Vec<String> = Algorithm::ALL
        .iter()
        .map(|a| format!("{} ({})", a.jwk().2, a.cose_id()))
        .collect();
    format!("is not {}", names.join(" or "))
}

/// One CBOR item that fills `bytes` exactly and is written in its deterministic encoding
/// (so indefinite lengths, non-shortest integers and unsorted maps are refused).
fn decode_exact(bytes: &[u8]) -> Result<Cbor, String> {
    let mut cursor = std::io::Cursor::new(bytes);
    let value: Cbor = ciborium::from_reader(&mut cursor).map_err(|e| format!("not CBOR: {e}"))?;
    if cursor.position() as usize != bytes.len() {
        return Err("bytes after the CBOR item".into());
    }
    if encode(&value) != bytes || !deterministic_maps(&value) {
        return Err("not in deterministic CBOR encoding".into());
    }
    Ok(value)
}

/// Map keys sorted by their encoded bytes, at every depth (RFC 8949 §4.2.1).
fn deterministic_maps(value: &Cbor) -> bool {
    match value {
        Cbor::Map(entries) => {
            let keys: Vec<Vec<u8>> = entries.iter().map(|(k, _)| encode(k)).collect();
            keys.windows(2).all(|w| w[0] < w[1])
                && entries
                    .iter()
                    .all(|(k, v)| deterministic_maps(k) && deterministic_maps(v))
        }
        Cbor::Array(items) => items.iter().all(deterministic_maps),
        Cbor::Tag(_, inner) => deterministic_maps(inner),
        _ => true,
    }
}
