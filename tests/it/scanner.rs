//! The scanner page (`/verify`, issue 30) in a real headless Chromium: the JavaScript verifier
//! agrees with the Rust one on the token vectors and on forged, expired, unknown-key,
//! compromised-key, superseded and revoked cases; a fake camera fed with a video of real codes
//! is read, online and offline; a revocation reaches the device when its list refreshes; a
//! forged code is refused without any request to the server.

use std::process::Command;

use base64::Engine;
use gec::code::status_list::{ListedStatus, StatusList};
use gec::code::{Claims, SigningKey, TrustedKeys, cose, text};
use serde_json::{Value, json};

use crate::helpers::fresh_database_url;

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/token.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A key-set document (token.md §4) of one Ed25519 key.
fn key_set(key: &SigningKey, status: &str, compromised_at: Option<&str>) -> Value {
    let public = key.public();
    json!({"issuer": "CQ-GEC", "keys": [{
        "kid": hex::encode(public.kid()), "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
        "x": public.x(), "status": status, "not_before": "2020-01-01T00:00:00Z",
        "not_after": null, "compromised_at": compromised_at}]})
}

/// What the Rust verifier says of `text` with these keys and this list at `now`, in the
/// scanner's words (valid, forged, expired, not_yet_valid, superseded, revoked, unknown_status).
fn rust_verdict(text: &str, keys: &Value, list: &[u8], now: i64) -> &'static str {
    let doc = serde_json::from_value(keys.clone()).unwrap();
    let trusted = TrustedKeys::from_document(&doc).unwrap();
    let verdict = gec::code::verify::verify(text, &trusted, now);
    match verdict.reason {
        Some(gec::code::Reason::Expired) => return "expired",
        Some(gec::code::Reason::NotYetValid) => return "not_yet_valid",
        Some(_) => return "forged",
        None => {}
    }
    let list = StatusList::open(list, &trusted).expect("the list opens");
    let serial = verdict.claims.expect("claims").serial;
    match list.get(serial) {
        None => "unknown_status",
        Some(ListedStatus::Active) => "valid",
        Some(ListedStatus::Superseded) => "superseded",
        Some(ListedStatus::Revoked) => "revoked",
        Some(_) => "forged",
    }
}

/// The agreement cases: the token vectors as issued, then each way a code can fail.
fn agreement_cases() -> Vec<Value> {
    let v = token_vectors();
    let secret: [u8; 32] = hex::decode(v["key"]["secret_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = SigningKey::from_seed(gec::code::Algorithm::Ed25519, &secret);
    let other = SigningKey::from_seed(gec::code::Algorithm::Ed25519, &[7u8; 32]);
    let keys = key_set(&key, "active", None);
    // A list covering serials 0–3: 0 active, 1 superseded, 2 revoked, 3 active.
    let list_at = |version: u64, iat: u64, statuses: &[ListedStatus]| {
        let mut list = StatusList::new("CQ-GEC", version, iat, statuses.len() as u64);
        for (serial, status) in statuses.iter().enumerate() {
            list.set(serial as u64, *status);
        }
        list.sign(&key)
    };
    use ListedStatus::{Active, Revoked, Superseded};
    let list = list_at(9, 1_780_000_100, &[Active, Superseded, Revoked, Active]);
    let mut cases = Vec::new();
    let mut push = |name: &str, text: String, keys: &Value, list: &[u8], now: i64| {
        let expected = rust_verdict(&text, keys, list, now);
        cases.push(json!({"name": name, "text": text, "keys": keys,
                          "list": b64url(list), "now": now, "expected": expected}));
    };
    let now = 1_790_000_000;
    for (i, case) in v["cases"].as_array().unwrap().iter().enumerate() {
        let url = case["url"].as_str().unwrap().to_owned();
        push(
            &format!("vector {i} as issued"),
            url.clone(),
            &keys,
            &list,
            now,
        );
        push(
            &format!("vector {i}, lower case"),
            url.to_lowercase(),
            &keys,
            &list,
            now,
        );
        push(
            &format!("vector {i}, expired"),
            url.clone(),
            &keys,
            &list,
            1_900_000_000,
        );
        push(
            &format!("vector {i}, before its iat"),
            url.clone(),
            &keys,
            &list,
            1_700_000_000,
        );
        let cose_bytes = hex::decode(case["cose_hex"].as_str().unwrap()).unwrap();
        // One byte changed: in the signature, in the payload, in the protected header.
        for (what, at) in [
            ("signature", cose_bytes.len() - 1),
            ("payload", 40),
            ("header", 5),
        ] {
            let mut forged = cose_bytes.clone();
            forged[at] ^= 0x01;
            push(
                &format!("vector {i}, one byte of the {what} changed"),
                text::encode(&forged),
                &keys,
                &list,
                now,
            );
        }
        push(
            &format!("vector {i}, truncated"),
            text::encode(&cose_bytes[..cose_bytes.len() - 3]),
            &keys,
            &list,
            now,
        );
        let claims: Claims = cose::decode(&cose_bytes).unwrap().claims;
        push(
            &format!("vector {i}, signed by a key not in the set"),
            text::encode(&cose::sign(&claims, &other)),
            &keys,
            &list,
            now,
        );
        push(
            &format!("vector {i}, its key compromised before it was issued"),
            url.clone(),
            &key_set(&key, "compromised", Some("2025-01-01T00:00:00Z")),
            &list_at(9, 1_700_000_000, &[Active, Active, Active, Active]),
            now,
        );
        for (serial, status) in [
            (1u64, "superseded"),
            (2, "revoked"),
            (3, "active"),
            (7, "beyond the list"),
        ] {
            let mut moved = claims.clone();
            moved.serial = serial;
            push(
                &format!("vector {i} as serial {serial} ({status})"),
                text::encode(&cose::sign(&moved, &key)),
                &keys,
                &list,
                now,
            );
        }
    }
    push("not base32", "HTTP://X/C/2KCE!".into(), &keys, &list, now);
    push(
        "trailing bits",
        "HTTP://X/C/2KCE3IQB".into(),
        &keys,
        &list,
        now,
    );
    push("empty", "HTTP://X/C/".into(), &keys, &list, now);
    cases
}

/// A YUV4MPEG2 video (Chromium's fake camera reads it), 640×480 at 10 frames a second: `codes`
/// in turn, each QR for 3 s, white quiet zone on a grey room.
fn qr_video(codes: &[String], path: &std::path::Path) {
    use std::io::Write;
    let (w, h) = (640usize, 480usize);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg").unwrap();
    for code in codes {
        let qr = gec::code::qr::encode(code, gec::code::qr::Level::M).unwrap();
        let modules = qr.width();
        let unit = (h - 40) / (modules + 8);
        let side = unit * (modules + 8);
        let (x0, y0) = ((w - side) / 2, (h - side) / 2);
        let mut luma = vec![120u8; w * h];
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / unit) as isize - 4, (y / unit) as isize - 4);
                let dark = mx >= 0
                    && my >= 0
                    && (mx as usize) < modules
                    && (my as usize) < modules
                    && qr[(mx as usize, my as usize)] == qrcode::Color::Dark;
                luma[(y0 + y) * w + x0 + x] = if dark { 16 } else { 235 };
            }
        }
        let chroma = vec![128u8; (w / 2) * (h / 2)];
        for _ in 0..30 {
            out.write_all(b"FRAME\n").unwrap();
            out.write_all(&luma).unwrap();
            out.write_all(&chroma).unwrap();
            out.write_all(&chroma).unwrap();
        }
    }
    out.flush().unwrap();
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian: chromium, chromium-driver) and Selenium (PyPI: selenium)"]
async fn the_scanner_verifies_on_the_phone_online_and_offline_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (mut server, base) = crate::helpers::spawn_server(dir.path(), &database_url, true);
    let cases = dir.path().join("cases.json");
    std::fs::write(&cases, serde_json::to_vec(&agreement_cases()).unwrap()).unwrap();
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/artifacts/scanner");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/scanner.py");
    let video = dir.path().join("codes.y4m");
    let codes_file = dir.path().join("codes.json");
    // The demo's codes in force, read as any scanner would (the public verification API), and
    // the video of the first two.
    let python = tokio::task::spawn_blocking({
        let base = base.clone();
        let codes_file = codes_file.clone();
        move || {
            Command::new("python3")
                .args([script, "codes", &base, codes_file.to_str().unwrap()])
                .output()
        }
    })
    .await
    .unwrap()
    .expect("python3");
    assert!(
        python.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&python.stdout),
        String::from_utf8_lossy(&python.stderr)
    );
    let codes: Vec<String> = serde_json::from_slice(&std::fs::read(&codes_file).unwrap()).unwrap();
    assert!(codes.len() >= 3, "the demo has codes in force: {codes:?}");
    qr_video(&codes[..2], &video);
    let result = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([
                script,
                "run",
                &base,
                out,
                cases.to_str().unwrap(),
                video.to_str().unwrap(),
                codes_file.to_str().unwrap(),
            ])
            .output()
    })
    .await
    .unwrap()
    .expect("python3");
    server.kill();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        !stderr.contains("No module named 'selenium'"),
        "Selenium is needed: pip install selenium, and apt-get install chromium chromium-driver (.ci/run installs them)"
    );
    assert!(result.status.success(), "{stdout}\n{stderr}");
    println!("{stdout}");
    assert!(stdout.contains("scanner: all passed"), "{stdout}");
}

#[test]
fn every_agreement_case_has_a_verdict_of_the_rust_verifier() {
    // Runs without a browser: the cases themselves are sound (each kind of failure appears).
    let cases = agreement_cases();
    let verdicts: std::collections::BTreeSet<&str> = cases
        .iter()
        .map(|c| c["expected"].as_str().unwrap())
        .collect();
    for needed in [
        "valid",
        "forged",
        "expired",
        "not_yet_valid",
        "superseded",
        "revoked",
        "unknown_status",
    ] {
        assert!(
            verdicts.contains(needed),
            "no case is {needed}: {verdicts:?}"
        );
    }
}
