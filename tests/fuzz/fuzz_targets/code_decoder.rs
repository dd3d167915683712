//! The code decoder must refuse, never panic, whatever bytes or text it is given.
#![no_main]

use std::sync::OnceLock;

use gec::code::keys::{KeySetDocument, PublishedKey};
use gec::code::{KeyStatus, TrustedKeys, cose, text, verify};
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = ed25519_dalek_key();
        let doc = KeySetDocument {
            issuer: "CQ-GEC".into(),
            keys: vec![PublishedKey::new(&key, KeyStatus::Active, chrono::DateTime::UNIX_EPOCH)],
            log: None,
        };
        TrustedKeys::from_document(&doc).unwrap()
    })
}

fn ed25519_dalek_key() -> ed25519_dalek::VerifyingKey {
    gec::code::keys::public_key_from_x("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap()
}

fuzz_target!(|data: &[u8]| {
    let _ = cose::decode(data);
    let _ = verify::verify_bytes(data, keys(), 1_800_000_000);
    let as_text = String::from_utf8_lossy(data);
    let _ = text::decode(text::code_part(&as_text));
    let _ = verify::verify(&as_text, keys(), 1_800_000_000);
});
