//! Witnesses (token.md §7): verifier keys (c2sp.org/signed-note), Ed25519 cosignatures
//! (c2sp.org/tlog-cosignature, `cosignature/v1`) and the body of an `add-checkpoint` request
//! (c2sp.org/tlog-witness).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::checkpoint::{Checkpoint, key_hash};
use super::merkle::Hash;

/// Signature type of a log's Ed25519 signature on a checkpoint.
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of an Ed25519 `cosignature/v1`.
pub const TYPE_COSIGNATURE: u8 = 0x04;
const DASH: &str = "\u{2014} ";

/// A verifier key: `<name>+<hex key id>+<base64(type ‖ key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub kind: u8,
    pub key: VerifyingKey,
}

fn key_id(name: &str, kind: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([kind]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

impl VerifierKey {
    pub fn id(&self) -> [u8; 4] {
        key_id(&self.name, self.kind, &self.key)
    }

    pub fn encode(&self) -> String {
        let mut blob = vec![self.kind];
        blob.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id()),
            STANDARD.encode(blob)
        )
    }

    /// Parses a verifier key, checking that its key id matches its name and key.
    pub fn parse(text: &str) -> Result<VerifierKey, String> {
        // A name has no '+', the key id is hex; base64 may hold '+'.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(blob)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("{text:?} is not name+keyid+key"));
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
            return Err(format!("{name:?} is not a key name"));
        }
        let blob = STANDARD
            .decode(blob)
            .map_err(|_| "the key is not base64".to_string())?;
        if blob.len() != 33 {
            return Err("an Ed25519 verifier key has a type byte and 32 bytes".into());
        }
        let kind = blob[0];
        if kind != TYPE_ED25519 && kind != TYPE_COSIGNATURE {
            return Err(format!("signature type {kind:#04x} is not supported"));
        }
        let bytes: [u8; 32] = blob[1..].try_into().map_err(|_| "key length")?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| e.to_string())?;
        let parsed = VerifierKey {
            name: name.to_owned(),
            kind,
            key,
        };
        if hex::encode(parsed.id()) != id {
            return Err("the key id does not match the name and key".into());
        }
        Ok(parsed)
    }

    /// The verifier key of a log's checkpoint key.
    pub fn of_log(origin: &str, key: &VerifyingKey) -> VerifierKey {
        debug_assert_eq!(key_hash(origin, key), key_id(origin, TYPE_ED25519, key));
        VerifierKey {
            name: origin.to_owned(),
            kind: TYPE_ED25519,
            key: *key,
        }
    }
}

/// The checkpoint's note text: everything before the blank line, with its final newline.
pub fn note_body(note: &str) -> Option<&str> {
    note.find("\n\n").map(|at| &note[..=at])
}

fn cosigned_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// A witness's cosignature line on a checkpoint body, at `timestamp` (POSIX seconds).
pub fn cosign(body: &str, name: &str, key: &SigningKey, timestamp: u64) -> String {
    let signature = key.sign(cosigned_message(body, timestamp).as_bytes());
    let mut blob = key_id(name, TYPE_COSIGNATURE, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&timestamp.to_be_bytes());
    blob.extend_from_slice(&signature.to_bytes());
    format!("{DASH}{name} {}\n", STANDARD.encode(blob))
}

/// The witnesses among `trusted` that cosigned the note (each at most once), with the time
/// each says it cosigned.
pub fn cosigners(note: &str, trusted: &[VerifierKey]) -> Vec<(String, u64)> {
    let Some(body) = note_body(note) else {
        return Vec::new();
    };
    let signatures = &note[body.len() + 1..];
    let mut found: Vec<(String, u64)> = Vec::new();
    for line in signatures.lines() {
        let Some((name, blob)) = line.strip_prefix(DASH).and_then(|l| l.split_once(' ')) else {
            continue;
        };
        let Ok(blob) = STANDARD.decode(blob) else {
            continue;
        };
        if blob.len() != 4 + 8 + 64 {
            continue;
        }
        for witness in trusted {
            if witness.kind != TYPE_COSIGNATURE
                || witness.name != name
                || blob[..4] != witness.id()
                || found.iter().any(|(n, _)| *n == witness.encode())
            {
                continue;
            }
            let timestamp = u64::from_be_bytes(blob[4..12].try_into().unwrap_or([0; 8]));
            let Ok(signature) = Signature::from_slice(&blob[12..]) else {
                continue;
            };
            if witness
                .key
                .verify_strict(cosigned_message(body, timestamp).as_bytes(), &signature)
                .is_ok()
            {
                found.push((witness.encode(), timestamp));
            }
        }
    }
    found
}

/// The signature lines of a note that are not the log's own (its cosignatures).
pub fn other_signature_lines(note: &str, log_name: &str) -> Vec<String> {
    let Some(body) = note_body(note) else {
        return Vec::new();
    };
    note[body.len() + 1..]
        .lines()
        .filter(|l| {
            l.strip_prefix(DASH)
                .and_then(|l| l.split_once(' '))
                .is_some_and(|(name, _)| name != log_name)
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// An `add-checkpoint` request body: the old size, the consistency proof, a blank line and
/// the signed checkpoint.
pub fn request_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old}\n");
    for hash in proof {
        out.push_str(&STANDARD.encode(hash));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

/// A parsed `add-checkpoint` request.
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Hash>,
    pub note: String,
}

pub fn parse_request(body: &str) -> Result<AddCheckpoint, String> {
    let (head, note) = body
        .split_once("\n\n")
        .ok_or("no blank line before the checkpoint")?;
    let mut lines = head.split('\n');
    let old_text = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or("the first line must be `old <size>`")?;
    if old_text.is_empty() || (old_text.len() > 1 && old_text.starts_with('0')) {
        return Err("the old size is not a decimal number".into());
    }
    let old: u64 = old_text
        .parse()
        .map_err(|_| "the old size is not a decimal number")?;
    let mut proof = Vec::new();
    for line in lines {
        let hash: Hash = STANDARD
            .decode(line)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("a proof line is not a base64 hash")?;
        proof.push(hash);
    }
    if proof.len() > 63 {
        return Err("more than 63 proof lines".into());
    }
    Ok(AddCheckpoint {
        old,
        proof,
        note: note.to_owned(),
    })
}

/// The checkpoint in a note, verified with the log's key.
pub fn verify_log(note: &str, log: &VerifierKey) -> Result<Checkpoint, String> {
    Checkpoint::verify(note, &log.name, &log.key).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_keys_round_trip_and_cosignatures_verify() {
        let witness = SigningKey::from_bytes(&[3u8; 32]);
        let vkey = VerifierKey {
            name: "witness.example/w1".into(),
            kind: TYPE_COSIGNATURE,
            key: witness.verifying_key(),
        };
        let text = vkey.encode();
        assert_eq!(VerifierKey::parse(&text).unwrap(), vkey);
        // Keys whose base64 holds '+' (most do, one time in 16 per character).
        for seed in 0..40u8 {
            let key = VerifierKey {
                name: "w".into(),
                kind: TYPE_COSIGNATURE,
                key: SigningKey::from_bytes(&[seed; 32]).verifying_key(),
            };
            assert_eq!(VerifierKey::parse(&key.encode()).unwrap(), key);
        }
        assert!(VerifierKey::parse(&text.replacen("witness", "wetness", 1)).is_err());

        let log = SigningKey::from_bytes(&[4u8; 32]);
        let note = Checkpoint {
            origin: "gec.example/log".into(),
            size: 5,
            root: [1; 32],
        }
        .sign(&log);
        let body = note_body(&note).unwrap();
        assert!(body.ends_with("\n") && !body.ends_with("\n\n"));
        let cosigned = format!(
            "{note}{}",
            cosign(body, &vkey.name, &witness, 1_700_000_000)
        );
        assert_eq!(
            cosigners(&cosigned, std::slice::from_ref(&vkey)),
            vec![(text.clone(), 1_700_000_000)]
        );
        assert!(cosigners(&note, std::slice::from_ref(&vkey)).is_empty());
        // The log's own signature still verifies with the cosignature after it.
        let log_vkey = VerifierKey::of_log("gec.example/log", &log.verifying_key());
        assert_eq!(verify_log(&cosigned, &log_vkey).unwrap().size, 5);
        assert_eq!(other_signature_lines(&cosigned, "gec.example/log").len(), 1);
        // Tampered size: the cosignature no longer verifies.
        let tampered = cosigned.replacen("\n5\n", "\n6\n", 1);
        assert!(cosigners(&tampered, std::slice::from_ref(&vkey)).is_empty());
    }

    #[test]
    fn add_checkpoint_bodies_round_trip() {
        let body = request_body(3, &[[7; 32], [8; 32]], "o\n5\nroot\n\n\u{2014} o sig\n");
        let parsed = parse_request(&body).unwrap();
        assert_eq!(parsed.old, 3);
        assert_eq!(parsed.proof, vec![[7; 32], [8; 32]]);
        assert!(parsed.note.starts_with("o\n5\n"));
        assert!(parse_request("old 03\n\nx").is_err());
        assert!(parse_request("new 3\n\nx").is_err());
        assert!(parse_request("old 3\nnot base64\n\nx").is_err());
    }
}
