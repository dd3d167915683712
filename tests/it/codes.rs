//! Codes: the token vectors byte for byte, strict decoding, verification verdicts and `gec
//! verify`. Scanning the images is in `scanning`, other COSE implementations in `interop`.

use std::process::Command;

use chrono::{TimeZone, Utc};
use ed25519_dalek::SigningKey;
use gec::code::keys::{KeySetDocument, PublishedKey};
use gec::code::{Claims, KeyStatus, Reason, TrustedKeys, cose, text, verify};
use gec::grading::Grade;
use proptest::prelude::*;
use serde_json::Value;

pub(crate) fn token_vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/token.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn vector_key(v: &Value) -> SigningKey {
    let secret: [u8; 32] = hex::decode(v["key"]["secret_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&secret)
}

pub(crate) fn claims_of(c: &Value) -> Claims {
    Claims {
        iss: c["iss"].as_str().unwrap().into(),
        sub: c["sub"].as_str().unwrap().into(),
        exp: c["exp"].as_u64().unwrap(),
        iat: c["iat"].as_u64().unwrap(),
        grade: Grade::parse(c["grade"].as_str().unwrap()).unwrap(),
        score: c["score"].as_u64().unwrap() as u32,
        period: c["period"].as_u64().unwrap() as u32,
        methodology: c["methodology"].as_str().unwrap().into(),
        trace: hex::decode(c["trace16_hex"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        serial: c["serial"].as_u64().unwrap(),
        carbon_level: None,
        attested_share: None,
    }
}

/// A key set publishing `key` as active from the epoch.
pub(crate) fn keyset(key: &SigningKey) -> KeySetDocument {
    let not_before = Utc.timestamp_opt(0, 0).unwrap();
    KeySetDocument {
        issuer: "CQ-GEC".into(),
        keys: vec![PublishedKey::new(
            &key.verifying_key().into(),
            KeyStatus::Active,
            not_before,
        )],
        log: None,
    }
}

#[test]
fn the_token_vectors_are_reproduced_byte_for_byte() {
    let v = token_vectors();
    let key = vector_key(&v);
    assert_eq!(
        hex::encode(gec::code::kid_of(key.verifying_key().as_bytes())),
        v["key"]["kid_hex"]
    );
    assert_eq!(
        hex::encode(key.verifying_key().as_bytes()),
        v["key"]["public_hex"]
    );
    for case in v["cases"].as_array().unwrap() {
        let claims = claims_of(&case["claims"]);
        let cose = cose::sign(&claims, &key.clone().into());
        assert_eq!(hex::encode(&cose), case["cose_hex"]);
        let mut payload = Vec::new();
        ciborium::into_writer(&claims.to_cbor(), &mut payload).unwrap();
        assert_eq!(hex::encode(&payload), case["payload_hex"]);
        assert_eq!(text::encode(&cose), case["base32"]);
        let url = text::url(case["base_url"].as_str().unwrap(), &cose);
        assert_eq!(url, case["url"]);
        assert_eq!(url.len() as u64, case["url_chars"].as_u64().unwrap());
        assert_eq!(cose::decode(&cose).unwrap().claims, claims);
    }
}

pub(crate) fn trusted(key: &SigningKey) -> TrustedKeys {
    TrustedKeys::from_document(&keyset(key)).unwrap()
}

#[test]
fn vector_codes_verify_within_their_validity_and_say_why_not_outside() {
    let v = token_vectors();
    let key = vector_key(&v);
    let keys = trusted(&key);
    for case in v["cases"].as_array().unwrap() {
        let url = case["url"].as_str().unwrap();
        let (iat, exp) = (
            case["claims"]["iat"].as_i64().unwrap(),
            case["claims"]["exp"].as_i64().unwrap(),
        );
        let ok = verify::verify(url, &keys, iat + 3600);
        assert!(ok.valid, "{ok:?}");
        assert_eq!(
            ok.claims.unwrap().sub,
            case["claims"]["sub"].as_str().unwrap()
        );
        assert!(
            verify::verify(&url.to_lowercase(), &keys, iat).valid,
            "lower case reads as upper"
        );
        assert!(
            verify::verify(url, &keys, exp).valid,
            "valid through exp itself"
        );
        assert_eq!(
            verify::verify(url, &keys, exp + 1).reason,
            Some(Reason::Expired)
        );
        assert!(
            verify::verify(url, &keys, iat - 300).valid,
            "5 minutes of clock skew"
        );
        assert_eq!(
            verify::verify(url, &keys, iat - 301).reason,
            Some(Reason::NotYetValid)
        );
        let stranger = trusted(&SigningKey::from_bytes(&[1u8; 32]));
        assert_eq!(
            verify::verify(url, &stranger, iat).reason,
            Some(Reason::UnknownKey)
        );
    }
}

#[test]
fn key_windows_and_compromise_decide_which_codes_still_verify() {
    let v = token_vectors();
    let key = vector_key(&v);
    let case = &v["cases"][0];
    let url = case["url"].as_str().unwrap();
    let iat = case["claims"]["iat"].as_i64().unwrap();
    let at = |t: i64| Utc.timestamp_opt(t, 0).unwrap();
    let mut doc = keyset(&key);
    doc.keys[0].compromised_at = Some(at(iat + 1));
    doc.keys[0].status = KeyStatus::Compromised;
    assert!(
        verify::verify(url, &TrustedKeys::from_document(&doc).unwrap(), iat).valid,
        "signed before the compromise"
    );
    doc.keys[0].compromised_at = Some(at(iat));
    assert_eq!(
        verify::verify(url, &TrustedKeys::from_document(&doc).unwrap(), iat).reason,
        Some(Reason::KeyCompromised)
    );
    let mut doc = keyset(&key);
    doc.keys[0].status = KeyStatus::Retired;
    doc.keys[0].not_after = Some(at(iat));
    assert!(
        verify::verify(url, &TrustedKeys::from_document(&doc).unwrap(), iat).valid,
        "retired keys still verify"
    );
    doc.keys[0].not_after = Some(at(iat - 1));
    assert_eq!(
        verify::verify(url, &TrustedKeys::from_document(&doc).unwrap(), iat).reason,
        Some(Reason::UnknownKey)
    );
}

#[test]
fn tampering_with_any_byte_of_a_code_is_refused() {
    let v = token_vectors();
    let key = vector_key(&v);
    let keys = trusted(&key);
    let cose = hex::decode(v["cases"][0]["cose_hex"].as_str().unwrap()).unwrap();
    let iat = v["cases"][0]["claims"]["iat"].as_i64().unwrap();
    for i in 0..cose.len() {
        for flip in [0x01u8, 0x80] {
            let mut bad = cose.clone();
            bad[i] ^= flip;
            let verdict = verify::verify_bytes(&bad, &keys, iat);
            assert!(!verdict.valid, "byte {i} ^ {flip:#x} was accepted");
            assert!(
                matches!(
                    verdict.reason,
                    Some(Reason::Malformed | Reason::BadSignature | Reason::UnknownKey)
                ),
                "byte {i}: {verdict:?}"
            );
        }
    }
    let mut longer = cose.clone();
    longer.push(0);
    assert_eq!(
        verify::verify_bytes(&longer, &keys, iat).reason,
        Some(Reason::Malformed),
        "trailing bytes"
    );
    assert_eq!(
        verify::verify_bytes(&cose[..cose.len() - 1], &keys, iat).reason,
        Some(Reason::Malformed)
    );
}

fn reencode(value: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

#[test]
fn structural_faults_are_malformed() {
    let v = token_vectors();
    let key = vector_key(&v);
    let keys = trusted(&key);
    let cose = hex::decode(v["cases"][0]["cose_hex"].as_str().unwrap()).unwrap();
    let iat = v["cases"][0]["claims"]["iat"].as_i64().unwrap();
    let value: ciborium::Value = ciborium::from_reader(cose.as_slice()).unwrap();
    let ciborium::Value::Tag(_, inner) = value.clone() else {
        panic!()
    };
    let ciborium::Value::Array(parts) = *inner else {
        panic!()
    };
    let with = |parts: Vec<ciborium::Value>, tag: u64| {
        reencode(&ciborium::Value::Tag(
            tag,
            Box::new(ciborium::Value::Array(parts)),
        ))
    };
    let header = |entries: Vec<(i64, ciborium::Value)>| {
        ciborium::Value::Bytes(reencode(&ciborium::Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (ciborium::Value::Integer(k.into()), v))
                .collect(),
        )))
    };
    let kid = ciborium::Value::Bytes(hex::decode("21fe31dfa154a261").unwrap());
    let malformed = [
        ("wrong tag", with(parts.clone(), 17)),
        ("untagged", reencode(&ciborium::Value::Array(parts.clone()))),
        ("array of 3", with(parts[..3].to_vec(), 18)),
        (
            "wrong algorithm",
            with(
                [
                    vec![header(vec![
                        (1, ciborium::Value::Integer((-7).into())),
                        (4, kid.clone()),
                    ])],
                    parts[1..].to_vec(),
                ]
                .concat(),
                18,
            ),
        ),
        (
            "missing kid",
            with(
                [
                    vec![header(vec![(1, ciborium::Value::Integer((-8).into()))])],
                    parts[1..].to_vec(),
                ]
                .concat(),
                18,
            ),
        ),
        (
            "short kid",
            with(
                [
                    vec![header(vec![
                        (1, ciborium::Value::Integer((-8).into())),
                        (4, ciborium::Value::Bytes(vec![1, 2, 3])),
                    ])],
                    parts[1..].to_vec(),
                ]
                .concat(),
                18,
            ),
        ),
        (
            "critical header",
            with(
                [
                    vec![header(vec![
                        (1, ciborium::Value::Integer((-8).into())),
                        (
                            2,
                            ciborium::Value::Array(vec![ciborium::Value::Integer(99.into())]),
                        ),
                        (4, kid.clone()),
                    ])],
                    parts[1..].to_vec(),
                ]
                .concat(),
                18,
            ),
        ),
        (
            "unprotected header",
            with(
                vec![
                    parts[0].clone(),
                    ciborium::Value::Map(vec![(ciborium::Value::Integer(4.into()), kid.clone())]),
                    parts[2].clone(),
                    parts[3].clone(),
                ],
                18,
            ),
        ),
    ];
    for (name, bytes) in malformed {
        assert_eq!(
            verify::verify_bytes(&bytes, &keys, iat).reason,
            Some(Reason::Malformed),
            "{name}"
        );
    }
    let text = text::encode(&cose);
    for (name, bad) in [
        ("padding", format!("{text}=")),
        ("alphabet", format!("{}1", &text[..text.len() - 1])),
        ("length", format!("{text}A")),
    ] {
        assert_eq!(
            verify::verify(&bad, &keys, iat).reason,
            Some(Reason::Malformed),
            "{name}"
        );
    }
}

fn claims_strategy() -> impl Strategy<Value = Claims> {
    (
        "[A-Z-]{1,12}",
        "[0-9A-Z]{18}",
        any::<u32>(),
        any::<u32>(),
        0usize..5,
        0u32..=10_000,
        1990u32..2101,
        "[ -~]{0,20}",
        any::<[u8; 16]>(),
        any::<u64>(),
    )
        .prop_map(
            |(iss, sub, iat, span, g, score, period, methodology, trace, serial)| Claims {
                iss,
                sub,
                iat: u64::from(iat),
                exp: u64::from(iat) + u64::from(span),
                grade: Grade::ALL[g],
                score,
                period,
                methodology,
                trace,
                serial,
                carbon_level: None,
                attested_share: None,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoding_then_decoding_gives_the_same_claims(claims in claims_strategy(), secret in any::<[u8; 32]>()) {
        let key = SigningKey::from_bytes(&secret);
        let cose = cose::sign(&claims, &key.clone().into());
        let back = text::decode(&text::encode(&cose)).unwrap();
        prop_assert_eq!(&back, &cose);
        let decoded = cose::decode(&back).unwrap();
        prop_assert_eq!(decoded.claims, claims);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let keys = TrustedKeys::default();
        let verdict = verify::verify_bytes(&bytes, &keys, 0);
        prop_assert!(!verdict.valid);
    }

    #[test]
    fn arbitrary_text_never_panics_verification(text in "\\PC{0,400}") {
        let verdict = verify::verify(&text, &TrustedKeys::default(), 0);
        prop_assert!(!verdict.valid);
    }
}

// ---- the CLI ----

pub(crate) fn gec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn gec_verify_accepts_the_vectors_and_refuses_tampered_expired_and_unknown_key_codes() {
    let v = token_vectors();
    let key = vector_key(&v);
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("keys.json");
    std::fs::write(&keys_path, serde_json::to_vec(&keyset(&key)).unwrap()).unwrap();
    let other_path = dir.path().join("other.json");
    std::fs::write(
        &other_path,
        serde_json::to_vec(&keyset(&SigningKey::from_bytes(&[2u8; 32]))).unwrap(),
    )
    .unwrap();
    let keys_arg = keys_path.to_str().unwrap();
    for case in v["cases"].as_array().unwrap() {
        let url = case["url"].as_str().unwrap();
        let iat = Utc
            .timestamp_opt(case["claims"]["iat"].as_i64().unwrap() + 60, 0)
            .unwrap()
            .to_rfc3339();
        let ok = gec(&["verify", url, "--keys", keys_arg, "--at", &iat]);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stdout)
        );
        let printed: Value = serde_json::from_slice(&ok.stdout).unwrap();
        assert_eq!(printed["valid"], true);
        assert_eq!(printed["claims"]["serial"], case["claims"]["serial"]);

        let mut tampered = url.to_owned();
        let i = tampered.len() - 20;
        let c = if &tampered[i..=i] == "A" { "B" } else { "A" };
        tampered.replace_range(i..=i, c);
        let out = gec(&["verify", &tampered, "--keys", keys_arg, "--at", &iat]);
        assert_eq!(out.status.code(), Some(1));
        let reason: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            ["bad_signature", "malformed"].contains(&reason["reason"].as_str().unwrap()),
            "{reason}"
        );

        let expired = gec(&[
            "verify",
            url,
            "--keys",
            keys_arg,
            "--at",
            "2099-01-01T00:00:00Z",
        ]);
        assert_eq!(expired.status.code(), Some(1));
        assert_eq!(
            serde_json::from_slice::<Value>(&expired.stdout).unwrap()["reason"],
            "expired"
        );

        let unknown = gec(&[
            "verify",
            url,
            "--keys",
            other_path.to_str().unwrap(),
            "--at",
            &iat,
        ]);
        assert_eq!(unknown.status.code(), Some(1));
        assert_eq!(
            serde_json::from_slice::<Value>(&unknown.stdout).unwrap()["reason"],
            "unknown_key"
        );
    }
}
