//! C2SP checkpoints (c2sp.org/tlog-checkpoint) as signed notes (c2sp.org/signed-note):
//! `<origin>\n<size>\n<base64 root>\n`, a blank line, and `— <name> <base64(key hash ‖ sig)>\n`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

const SIGNATURE_TYPE_ED25519: u8 = 0x01;
const DASH: &str = "\u{2014} ";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointError(pub String);

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckpointError {}

fn fail<T>(message: impl Into<String>) -> Result<T, CheckpointError> {
    Err(CheckpointError(message.into()))
}

/// The first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([SIGNATURE_TYPE_ED25519]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl Checkpoint {
    /// The signed text: origin, size and root, each on its own line.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// The signed note, with one signature by `key` under the origin as key name.
    pub fn sign(&self, key: &SigningKey) -> String {
        let body = self.body();
        let signature = key.sign(body.as_bytes());
        let mut blob = key_hash(&self.origin, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{body}\n{DASH}{} {}\n", self.origin, STANDARD.encode(blob))
    }

    /// Parses a signed note and checks the signature of `name`'s `key` on it.
    pub fn verify(
        note: &str,
        name: &str,
        key: &VerifyingKey,
    ) -> Result<Checkpoint, CheckpointError> {
        let Some((body, signatures)) = note.split_once("\n\n") else {
            return fail("no blank line between the text and the signatures");
        };
        let body = format!("{body}\n");
        let lines: Vec<&str> = body.lines().collect();
        if lines.len() < 3 {
            return fail("a checkpoint needs origin, size and root");
        }
        let origin = lines[0];
        if origin.is_empty() {
            return fail("empty origin");
        }
        let size: u64 = lines[1]
            .parse()
            .ok()
            .filter(|_| lines[1] == "0" || !lines[1].starts_with('0'))
            .ok_or_else(|| CheckpointError("size is not a decimal number".into()))?;
        let root: Hash = STANDARD
            .decode(lines[2])
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CheckpointError("root is not 32 bytes of base64".into()))?;
        if !signatures.ends_with('\n') {
            return fail("signatures must end with a newline");
        }
        let expected_hash = key_hash(name, key);
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(DASH) else {
                return fail("a signature line must start with an em dash");
            };
            let Some((line_name, blob)) = rest.split_once(' ') else {
                return fail("a signature line needs a name and a signature");
            };
            let Ok(blob) = STANDARD.decode(blob) else {
                return fail("signature is not base64");
            };
            if line_name != name || blob.len() != 4 + 64 || blob[..4] != expected_hash {
                continue;
            }
            let signature =
                Signature::from_slice(&blob[4..]).map_err(|e| CheckpointError(e.to_string()))?;
            return match key.verify_strict(body.as_bytes(), &signature) {
                Ok(()) => Ok(Checkpoint {
                    origin: origin.to_owned(),
                    size,
                    root,
                }),
                Err(_) => fail("the signature does not verify"),
            };
        }
        fail(format!("no signature by {name} with this key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_a_tampered_one_does_not() {
        let cp = Checkpoint {
            origin: "gec.example/log".into(),
            size: 12,
            root: [9u8; 32],
        };
        let note = cp.sign(&key());
        assert!(note.starts_with("gec.example/log\n12\n"));
        assert!(note.contains("\n\n\u{2014} gec.example/log "));
        let vk = key().verifying_key();
        assert_eq!(
            Checkpoint::verify(&note, "gec.example/log", &vk).unwrap(),
            cp
        );
        let tampered = note.replacen("\n12\n", "\n13\n", 1);
        assert!(Checkpoint::verify(&tampered, "gec.example/log", &vk).is_err());
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(Checkpoint::verify(&note, "gec.example/log", &other).is_err());
        assert!(Checkpoint::verify(&note, "another/log", &vk).is_err());
    }
}
