//! token.md §8: the status list — every code's status, 2 bits per serial, in one signed
//! COSE_Sign1, so that a verifier checks revocation offline.

use std::io::{Read, Write};

use super::alg::SigningKey;
use super::cose;
use super::keys::TrustedKeys;
use super::verify::check_key_at;
use ciborium::value::{Integer, Value as Cbor};

/// A serial's status in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListedStatus {
    /// Active, or expired (a verifier checks `exp` itself).
    Active = 0,
    Superseded = 1,
    Revoked = 2,
    /// The index of a revoke entry: no code has this serial.
    NotACode = 3,
}

impl ListedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListedStatus::Active => "active",
            ListedStatus::Superseded => "superseded",
            ListedStatus::Revoked => "revoked",
            ListedStatus::NotACode => "not_a_code",
        }
    }

    fn from_bits(bits: u8) -> ListedStatus {
        match bits & 3 {
            0 => ListedStatus::Active,
            1 => ListedStatus::Superseded,
            2 => ListedStatus::Revoked,
            _ => ListedStatus::NotACode,
        }
    }
}

/// A status list: who issued it, its version, when, and the packed statuses of serials
/// `0 … size−1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    pub issuer: String,
    pub version: u64,
    pub iat: u64,
    pub size: u64,
    /// 2 bits per serial, serial 0 in the most significant bits of the first byte.
    pub bits: Vec<u8>,
}

fn uint(value: u64) -> Cbor {
    Cbor::Integer(Integer::from(value))
}

impl StatusList {
    /// An all-active list of `size` serials.
    pub fn new(issuer: &str, version: u64, iat: u64, size: u64) -> StatusList {
        StatusList {
            issuer: issuer.to_owned(),
            version,
            iat,
            size,
            bits: vec![0; size.div_ceil(4) as usize],
        }
    }

    pub fn set(&mut self, serial: u64, status: ListedStatus) {
        if serial >= self.size {
            return;
        }
        let byte = (serial / 4) as usize;
        let shift = 6 - 2 * (serial % 4) as u8;
        self.bits[byte] = (self.bits[byte] & !(3 << shift)) | ((status as u8) << shift);
    }

    /// The status of `serial`, or `None` when the list does not cover it.
    pub fn get(&self, serial: u64) -> Option<ListedStatus> {
        if serial >= self.size {
            return None;
        }
        let shift = 6 - 2 * (serial % 4) as u8;
        Some(ListedStatus::from_bits(
            self.bits[(serial / 4) as usize] >> shift,
        ))
    }

    fn payload(&self) -> Vec<u8> {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing into a Vec cannot fail.
        let _ = zlib.write_all(&self.bits);
        let statuses = zlib.finish().unwrap_or_default();
        cose::encode(&Cbor::Map(vec![
            (uint(1), Cbor::Text(self.issuer.clone())),
            (uint(2), uint(self.version)),
            (uint(3), uint(self.iat)),
            (uint(4), uint(self.size)),
            (uint(5), Cbor::Bytes(statuses)),
        ]))
    }

    /// The signed list (`application/cose`).
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        cose::sign_payload(&self.payload(), key)
    }

    /// Reads a signed list strictly and checks its signature with a published key that was
    /// valid, and not compromised, when the list was made. The signature is checked before the
    /// statuses are inflated, so that a forged file costs no more than its own bytes; the
    /// statuses then inflate to exactly what the signed size needs, never more.
    pub fn open(bytes: &[u8], keys: &TrustedKeys) -> Result<StatusList, String> {
        let envelope = cose::open(bytes)?;
        let head = Head::read(&envelope.payload)?;
        check_key_at(&envelope.kid, head.iat, keys).map_err(|(_, why)| why)?;
        let trusted = keys.get(&envelope.kid).ok_or("unknown key")?;
        if trusted.key.algorithm() != envelope.alg
            || !trusted.key.verify(&envelope.signed, &envelope.signature)
        {
            return Err("the status list's signature does not verify".to_string());
        }
        if head.issuer != keys.issuer {
            return Err(format!(
                "the list is issued by {:?}, not {:?}",
                head.issuer, keys.issuer
            ));
        }
        head.inflate()
    }
}

/// A list's members as read, its statuses still compressed.
struct Head<'a> {
    issuer: String,
    version: u64,
    iat: u64,
    size: u64,
    compressed: &'a [u8],
}

impl<'a> Head<'a> {
    fn read(payload: &'a Cbor) -> Result<Head<'a>, String> {
        let map = payload.as_map().ok_or("the payload is not a map")?;
        let field = |label: u64| {
            map.iter()
                .find(|(k, _)| *k == uint(label))
                .map(|(_, v)| v)
                .ok_or(format!("the payload has no member {label}"))
        };
        if map.len() != 5 {
            return Err("the payload must have exactly members 1 to 5".into());
        }
        let number = |label: u64| -> Result<u64, String> {
            field(label)?
                .as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .ok_or(format!("member {label} is not an unsigned integer"))
        };
        Ok(Head {
            issuer: field(1)?
                .as_text()
                .ok_or("member 1 (issuer) is not text")?
                .to_owned(),
            version: number(2)?,
            iat: number(3)?,
            size: number(4)?,
            compressed: field(5)?
                .as_bytes()
                .ok_or("member 5 (statuses) is not a byte string")?,
        })
    }

    fn inflate(self) -> Result<StatusList, String> {
        let expected = self.size.div_ceil(4);
        let mut bits = Vec::new();
        flate2::read::ZlibDecoder::new(self.compressed)
            .take(expected + 1)
            .read_to_end(&mut bits)
            .map_err(|e| format!("the statuses are not a zlib stream: {e}"))?;
        if bits.len() as u64 != expected {
            return Err(format!(
                "the statuses hold {} bytes, not the {expected} that {} serials need",
                bits.len(),
                self.size
            ));
        }
        Ok(StatusList {
            issuer: self.issuer,
            version: self.version,
            iat: self.iat,
            size: self.size,
            bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::keys::{KeySetDocument, KeyStatus, PublishedKey};

    #[test]
    fn a_signed_list_reads_back_and_refuses_tampering() {
        let key = SigningKey::from_seed(crate::code::Algorithm::Ed25519, &[5u8; 32]);
        let mut list = StatusList::new("CQ-GEC", 7, 1_800_000_000, 10);
        list.set(1, ListedStatus::Superseded);
        list.set(2, ListedStatus::Revoked);
        list.set(3, ListedStatus::NotACode);
        list.set(9, ListedStatus::Revoked);
        assert_eq!(list.bits[0], 0b0001_1011);
        let published = PublishedKey::new(
            &key.public(),
            KeyStatus::Active,
            chrono::DateTime::UNIX_EPOCH,
        );
        let keys = TrustedKeys::from_document(&KeySetDocument {
            issuer: "CQ-GEC".into(),
            keys: vec![published],
            log: None,
        })
        .unwrap();
        let bytes = list.sign(&key);
        let read = StatusList::open(&bytes, &keys).unwrap();
        assert_eq!(read, list);
        assert_eq!(read.get(0), Some(ListedStatus::Active));
        assert_eq!(read.get(2), Some(ListedStatus::Revoked));
        assert_eq!(read.get(9), Some(ListedStatus::Revoked));
        assert_eq!(read.get(10), None);
        let mut tampered = bytes.clone();
        let at = tampered.len() - 70;
        tampered[at] ^= 1;
        assert!(StatusList::open(&tampered, &keys).is_err());
    }

    #[test]
    fn a_forged_list_is_refused_before_its_statuses_are_inflated() {
        // Issue 25, item 6: a forged 2 MB file claiming a huge size inflated 2.2 GB before its
        // signature was looked at. Statuses that could not be inflated to the claimed size
        // show which check came first.
        let key = SigningKey::from_seed(crate::code::Algorithm::Ed25519, &[5u8; 32]);
        let forger = SigningKey::from_seed(crate::code::Algorithm::Ed25519, &[6u8; 32]);
        let keys = TrustedKeys::from_document(&KeySetDocument {
            issuer: "CQ-GEC".into(),
            keys: vec![PublishedKey::new(
                &key.public(),
                KeyStatus::Active,
                chrono::DateTime::UNIX_EPOCH,
            )],
            log: None,
        })
        .unwrap();
        let mut forged = StatusList::new("CQ-GEC", 8, 1_800_000_000, 10);
        forged.size = u64::MAX / 2;
        let why = StatusList::open(&forged.sign(&forger), &keys).unwrap_err();
        assert!(!why.contains("statuses"), "{why}");
        // Signed by the issuer, the same inconsistency is found when inflating.
        let why = StatusList::open(&forged.sign(&key), &keys).unwrap_err();
        assert!(why.contains("statuses hold"), "{why}");
    }
}
