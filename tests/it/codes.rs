//! Codes: the token vectors byte for byte, strict decoding, verification verdicts, `gec
//! verify`, `gec qr` read back by a real scanner, the badge, and interop with pycose.

use std::process::Command;

use chrono::{TimeZone, Utc};
use ed25519_dalek::SigningKey;
use gec::code::keys::{KeySetDocument, PublishedKey};
use gec::code::qr::{self, Level};
use gec::code::{Claims, KeyStatus, Reason, TrustedKeys, cose, text, verify};
use gec::grading::Grade;
use proptest::prelude::*;
use serde_json::Value;

fn token_vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/token.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vector_key(v: &Value) -> SigningKey {
    let secret: [u8; 32] = hex::decode(v["key"]["secret_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&secret)
}

fn claims_of(c: &Value) -> Claims {
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
    }
}

/// A key set publishing `key` as active from the epoch.
fn keyset(key: &SigningKey) -> KeySetDocument {
    let not_before = Utc.timestamp_opt(0, 0).unwrap();
    KeySetDocument {
        issuer: "CQ-GEC".into(),
        keys: vec![PublishedKey::new(
            &key.verifying_key(),
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
        let cose = cose::sign(&claims, &key);
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

fn trusted(key: &SigningKey) -> TrustedKeys {
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
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoding_then_decoding_gives_the_same_claims(claims in claims_strategy(), secret in any::<[u8; 32]>()) {
        let key = SigningKey::from_bytes(&secret);
        let cose = cose::sign(&claims, &key);
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

fn gec(args: &[&str]) -> std::process::Output {
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

/// Reads every QR symbol in an image with zbar, a real decoder (Debian's zbar-tools).
pub fn zbarimg(path: &std::path::Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .expect(
            "zbarimg is needed for this test: apt-get install zbar-tools (.ci/run installs it)",
        );
    assert!(
        out.status.success(),
        "zbarimg found no code in {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

#[test]
fn gec_qr_pngs_scan_back_to_the_same_url() {
    let v = token_vectors();
    let dir = tempfile::tempdir().unwrap();
    for case in v["cases"].as_array().unwrap() {
        let url = case["url"].as_str().unwrap();
        for level in ["M", "Q"] {
            let path = dir.path().join(format!("qr-{level}.png"));
            let out = gec(&[
                "qr",
                url,
                "--format",
                "png",
                "--level",
                level,
                "-o",
                path.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(zbarimg(&path), url);
        }
        let svg = dir.path().join("qr.svg");
        assert!(
            gec(&["qr", url, "--format", "svg", "-o", svg.to_str().unwrap()])
                .status
                .success()
        );
        assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    }
}

#[test]
fn a_code_url_is_one_alphanumeric_segment() {
    let v = token_vectors();
    let url = v["cases"][0]["url"].as_str().unwrap();
    assert!(qr::is_alphanumeric(url));
    let code = qr::encode(url, Level::M).unwrap();
    // One alphanumeric segment of 309 characters fits version 10 at M; byte mode would need 13.
    assert_eq!(code.version(), qrcode::Version::Normal(10));
}

fn fonts() -> std::sync::Arc<resvg::usvg::fontdb::Database> {
    let mut db = resvg::usvg::fontdb::Database::new();
    db.load_system_fonts();
    std::sync::Arc::new(db)
}

#[test]
fn the_badge_carries_the_firm_grade_and_a_scannable_qr_at_level_q() {
    use gec::code::badge::{self, BadgeData};
    let url = token_vectors()["cases"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = BadgeData {
        firm_name: "重庆两江新能源汽车零部件有限公司",
        uscc: "91500112MA5U2A1B3G",
        grade: Grade::APlus,
        score_text: "90.06",
        period: 2025,
        issued_on: "2026-03-31",
        valid_until: "2027-05-01",
        serial: 0,
        url: &url,
    };
    let svg = badge::svg(&data).unwrap();
    assert!(
        svg.contains("重庆两江新能源汽车零部件有限公司")
            && svg.contains(">A+<")
            && svg.contains("深绿")
    );
    let fonts = fonts();
    assert!(
        fonts.faces().any(|f| f
            .families
            .iter()
            .any(|(name, _)| name.contains("WenQuanYi") || name.contains("CJK"))),
        "a CJK font is needed for the PNG badge: apt-get install fonts-wqy-microhei (.ci/run installs it)"
    );
    let png = badge::png(&data, fonts, 2.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("badge.png");
    std::fs::write(&path, &png).unwrap();
    let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    let _ = std::fs::create_dir_all(&keep);
    let _ = std::fs::write(keep.join("badge.png"), &png);
    assert_eq!(zbarimg(&path), url, "the badge's QR scans to the URL");
    let image = image::load_from_memory(&png).unwrap();
    assert_eq!((image.width(), image.height()), (1200, 1800));
}

// ---- interop ----

fn python_interop(args: &[&str]) -> std::process::Output {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/pycose_interop.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    if String::from_utf8_lossy(&out.stderr).contains("ModuleNotFoundError") {
        panic!(
            "pycose is needed for this test: pip install pycose 'cbor2<6' (.ci/run installs it)"
        );
    }
    out
}

#[test]
fn pycose_verifies_codes_made_by_the_service() {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let claims = claims_of(&token_vectors()["cases"][1]["claims"]);
    let cose = cose::sign(&claims, &key);
    let out = python_interop(&[
        "verify",
        &hex::encode(&cose),
        &hex::encode(key.verifying_key().as_bytes()),
    ]);
    assert!(
        out.status.success(),
        "{} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bad = cose.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let out = python_interop(&[
        "verify",
        &hex::encode(&bad),
        &hex::encode(key.verifying_key().as_bytes()),
    ]);
    assert!(!out.status.success(), "pycose must refuse a tampered code");
}

#[test]
fn the_service_verifies_a_code_made_by_pycose() {
    let key = SigningKey::from_bytes(&[43u8; 32]);
    let claims = claims_of(&token_vectors()["cases"][0]["claims"]);
    let mut payload = Vec::new();
    ciborium::into_writer(&claims.to_cbor(), &mut payload).unwrap();
    let out = python_interop(&["make", &hex::encode(key.to_bytes()), &hex::encode(&payload)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cose = hex::decode(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(
        cose,
        cose::sign(&claims, &key),
        "pycose makes the same bytes"
    );
    let verdict = verify::verify_bytes(&cose, &trusted(&key), claims.iat as i64);
    assert!(verdict.valid, "{verdict:?}");
}
