//! The SM suite (token.md §9): the vectors of an independent SM2 implementation through the
//! core, the API and `gec verify`; a deployment that signs with SM2 from its first key, checked
//! by OpenSSL; rotation from Ed25519 to SM2 and back with every code still verifying; forged SM2
//! codes refused wherever forged Ed25519 codes are.

use std::process::Command;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use gec::code::keys::{KeySetDocument, PublishedKey};
use gec::code::{Algorithm, KeyStatus, PublicKey, SigningKey, TrustedKeys, cose, text, verify};
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/sm2.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vector_key(v: &Value) -> SigningKey {
    SigningKey::sm2_from_secret(&hex::decode(v["key"]["secret_hex"].as_str().unwrap()).unwrap())
        .unwrap()
}

/// The vectors' reason, in the verdict's words.
fn reason(case: &Value) -> String {
    case["reason"].as_str().unwrap().replace(' ', "_")
}

/// A key set publishing the vector key (from its JWK) as active from the epoch.
fn vector_keyset(v: &Value) -> KeySetDocument {
    let jwk = &v["key"]["jwk"];
    let public = PublicKey::from_jwk_coordinates(
        Algorithm::Sm2,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str(),
    )
    .unwrap();
    KeySetDocument {
        issuer: "CQ-GEC".into(),
        keys: vec![PublishedKey::new(
            &public,
            KeyStatus::Active,
            Utc.timestamp_opt(0, 0).unwrap(),
        )],
        log: None,
    }
}

/// The COSE bytes of a code's URL.
fn cose_of(url: &str) -> Vec<u8> {
    text::decode(text::code_part(url)).unwrap()
}

/// `gec verify URL` offline, against a saved key set and status list, with `dir` as its data
/// directory (where it keeps the highest list version seen).
fn verify_offline(
    dir: &std::path::Path,
    url: &str,
    keys: &std::path::Path,
    status: &std::path::Path,
) -> std::process::Output {
    gec(&[
        "--data-dir",
        dir.to_str().unwrap(),
        "verify",
        url,
        "--keys",
        keys.to_str().unwrap(),
        "--status",
        status.to_str().unwrap(),
    ])
}

fn gec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_vectors_verify_or_are_refused_as_they_say_in_the_core_and_gec_verify() {
    let v = vectors();
    let doc = vector_keyset(&v);
    assert_eq!(doc.keys[0].kid, v["key"]["kid_hex"]);
    let keys = TrustedKeys::from_document(&doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("keys.json");
    std::fs::write(&keys_path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let keys_arg = keys_path.to_str().unwrap();
    for case in v["cases"].as_array().unwrap() {
        let at = case["verify_at"].as_i64().unwrap();
        let cose = hex::decode(case["cose_hex"].as_str().unwrap()).unwrap();
        let verdict = verify::verify_bytes(&cose, &keys, at);
        assert!(verdict.valid, "{verdict:?}");
        let url = case["url"].as_str().unwrap();
        assert_eq!(cose_of(url), cose);
        assert!(verify::verify(url, &keys, at).valid);
        let at_text = Utc.timestamp_opt(at, 0).unwrap().to_rfc3339();
        let out = gec(&["verify", url, "--keys", keys_arg, "--at", &at_text]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(printed["valid"], true);
        assert_eq!(
            hex::encode(cose::encode(&cose::decode(&cose).unwrap().claims.to_cbor())),
            case["claims_payload_hex"]
        );
    }
    for case in v["reject"].as_array().unwrap() {
        let at = case["verify_at"].as_i64().unwrap();
        let cose = hex::decode(case["cose_hex"].as_str().unwrap()).unwrap();
        let verdict = verify::verify_bytes(&cose, &keys, at);
        assert!(!verdict.valid, "{}", case["name"]);
        assert_eq!(
            verdict.reason.map(|r| r.as_str().to_owned()),
            Some(reason(case)),
            "{}",
            case["name"]
        );
        let at_text = Utc.timestamp_opt(at, 0).unwrap().to_rfc3339();
        let out = gec(&[
            "verify",
            &text::encode(&cose),
            "--keys",
            keys_arg,
            "--at",
            &at_text,
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", case["name"]);
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(printed["reason"], reason(case), "{}", case["name"]);
    }
}

/// Puts the vector key into `app`'s key ring, active from 2020 (before the vectors' `iat`),
/// as an operator would with `gec keys rotate --pem`.
async fn rotate_in_vector_key(app: &TestApp, v: &Value) {
    let pem = app.dir.path().join("sm2-vector.pem");
    std::fs::write(&pem, vector_key(v).to_pkcs8_pem().unwrap()).unwrap();
    let out = gec(&[
        "--data-dir",
        app.dir.path().to_str().unwrap(),
        "keys",
        "rotate",
        "--alg",
        "sm2",
        "--pem",
        pem.to_str().unwrap(),
        "--at",
        "2020-01-01T00:00:00Z",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&pem).unwrap();
    assert!(app.state.keys.refresh(&app.db).await);
}

#[tokio::test]
async fn the_vectors_verify_or_are_refused_as_they_say_through_the_api() {
    let v = vectors();
    let app = TestApp::new().await;
    rotate_in_vector_key(&app, &v).await;
    let published = app.get("/.well-known/gec/keys.json", None).await.json();
    let sm2 = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == v["key"]["kid_hex"])
        .expect("the SM2 key is published")
        .clone();
    for field in ["kty", "crv", "alg", "x", "y"] {
        assert_eq!(sm2[field], v["key"]["jwk"][field], "{field}");
    }
    let jwks = app.get("/.well-known/jwks.json", None).await.json();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == v["key"]["kid_hex"]
                && k["y"] == v["key"]["jwk"]["y"]
                && k["crv"] == "SM2")
    );
    // The vectors' codes pass the signature and key checks; this service did not issue them
    // (its log has no such serial), so it calls them "unknown", with their claims.
    for case in v["cases"].as_array().unwrap() {
        let answer = app
            .post("/api/v1/verify", None, json!({"code": case["url"]}))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let r = answer.json();
        assert_eq!(r["reason"], "unknown", "{r}");
        let claims = cose::decode(&cose_of(case["url"].as_str().unwrap()))
            .unwrap()
            .claims;
        assert_eq!(r["claims"]["uscc"], claims.sub, "{r}");
        assert_eq!(r["claims"]["serial"], claims.serial, "{r}");
    }
    let mut codes = Vec::new();
    for case in v["reject"].as_array().unwrap() {
        let code = text::encode(&hex::decode(case["cose_hex"].as_str().unwrap()).unwrap());
        let r = app
            .post("/api/v1/verify", None, json!({"code": code}))
            .await
            .json();
        assert_eq!(r["valid"], false, "{}", case["name"]);
        assert_eq!(r["reason"], reason(case), "{}", case["name"]);
        codes.push(code);
    }
    let bank = app.token_for(Role::Bank, "bank").await;
    let bulk = app
        .post("/api/v1/verify/bulk", Some(&bank), json!({"codes": codes}))
        .await
        .json();
    for (result, case) in bulk["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v["reject"].as_array().unwrap())
    {
        assert_eq!(result["valid"], false);
        assert_eq!(result["reason"], reason(case), "{}", case["name"]);
    }
}

#[tokio::test]
async fn a_deployment_started_with_sm2_issues_sm2_codes_that_verify_everywhere() {
    let app = TestApp::with_signing_alg(Algorithm::Sm2).await;
    let published = app.get("/.well-known/gec/keys.json", None).await.json();
    let key = &published["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("EC"), Some("SM2"), Some("SM2-SM3"))
    );
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let mut urls = Vec::new();
    for n in 1..=3 {
        let (uscc, firm) = app.firm_with_user(&regulator, n, "3670").await;
        urls.push(
            app.issue_code(&regulator, &firm, &uscc).await["url"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for url in &urls {
        let decoded = cose::decode(&cose_of(url)).unwrap();
        assert_eq!(decoded.alg, Algorithm::Sm2);
        assert_eq!(hex::encode(decoded.kid), key["kid"].as_str().unwrap());
        let r = app
            .post("/api/v1/verify", None, json!({"code": url}))
            .await
            .json();
        assert_eq!(r["valid"], true, "{r}");
        assert_eq!(r["status"], "active");
    }
    // Offline with the published key set and the signed status list.
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("keys.json");
    std::fs::write(&keys_path, published.to_string()).unwrap();
    let status = app.get("/.well-known/gec/status", None).await;
    assert_eq!(status.status, StatusCode::OK);
    let status_path = dir.path().join("status");
    std::fs::write(&status_path, &status.body).unwrap();
    let out = verify_offline(dir.path(), &urls[0], &keys_path, &status_path);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["valid"], true);
    assert_eq!(printed["status"], "active", "{printed}");

    // A bank's list of 70 SM2 codes (checked one by one, shared among the cores) with a
    // forgery among them: each verdict in its place.
    let bank = app.token_for(Role::Bank, "bank").await;
    let mut list: Vec<String> = (0..70).map(|i| urls[i % 3].clone()).collect();
    let mut forged_bytes = cose_of(&urls[1]);
    let last = forged_bytes.len() - 1;
    forged_bytes[last] ^= 1;
    list[50] = text::encode(&forged_bytes);
    let bulk = app
        .post("/api/v1/verify/bulk", Some(&bank), json!({"codes": list}))
        .await
        .json();
    let results = bulk["results"].as_array().unwrap();
    assert_eq!(results.len(), 70);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["valid"], i != 50, "{i}: {r}");
    }
    assert_eq!(results[50]["reason"], "bad_signature");

    // A forged SM2 code: the claims changed, or signed by another SM2 key under this kid.
    let bytes = cose_of(&urls[0]);
    let mut tampered = bytes.clone();
    let at = tampered.len() - 70;
    tampered[at] ^= 1;
    let forger = SigningKey::from_seed(Algorithm::Sm2, &[9u8; 32]);
    let decoded = cose::decode(&bytes).unwrap();
    let mut forged = bytes[..bytes.len() - 64].to_vec();
    forged.extend(forger.sign(&decoded.signed));
    for bad in [tampered, forged] {
        let r = app
            .post("/api/v1/verify", None, json!({"code": text::encode(&bad)}))
            .await
            .json();
        assert_eq!(r["valid"], false, "{r}");
        assert!(
            ["bad_signature", "malformed"].contains(&r["reason"].as_str().unwrap()),
            "{r}"
        );
        let out = gec(&[
            "verify",
            &text::encode(&bad),
            "--keys",
            keys_path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        let page = app.get(&format!("/C/{}", text::encode(&bad)), None).await;
        assert!(
            page.text().contains("无法确认此绿效码"),
            "the scan page refuses a forgery"
        );
    }
}

#[tokio::test]
async fn rotating_from_ed25519_to_sm2_and_back_keeps_every_code_verifying() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let mut urls = Vec::new();
    let issue = async |n: u32| {
        let (uscc, firm) = app.firm_with_user(&regulator, n, "3670").await;
        app.issue_code(&regulator, &firm, &uscc).await["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    urls.push(issue(1).await);
    for (alg, n) in [("sm2", 2), ("ed25519", 3), ("sm2", 4)] {
        // Rotation times are whole seconds: the next key starts a second later than the last.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let out = gec(&[
            "--data-dir",
            app.dir.path().to_str().unwrap(),
            "keys",
            "rotate",
            "--alg",
            alg,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(app.state.keys.refresh(&app.db).await);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        urls.push(issue(n).await);
    }
    let algs: Vec<Algorithm> = urls
        .iter()
        .map(|u| cose::decode(&cose_of(u)).unwrap().alg)
        .collect();
    assert_eq!(
        algs,
        [
            Algorithm::Ed25519,
            Algorithm::Sm2,
            Algorithm::Ed25519,
            Algorithm::Sm2
        ]
    );
    let published = app.get("/.well-known/gec/keys.json", None).await.json();
    assert_eq!(published["keys"].as_array().unwrap().len(), 4);
    for url in &urls {
        let r = app
            .post("/api/v1/verify", None, json!({"code": url}))
            .await
            .json();
        assert_eq!(r["valid"], true, "{url}: {r}");
    }
    let bank = app.token_for(Role::Bank, "bank").await;
    let bulk = app
        .post("/api/v1/verify/bulk", Some(&bank), json!({"codes": urls}))
        .await
        .json();
    assert!(
        bulk["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["valid"] == true),
        "{bulk}"
    );
    // And the status list, signed by the SM2 key now in force, verifies offline.
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("keys.json");
    std::fs::write(&keys_path, published.to_string()).unwrap();
    let status_path = dir.path().join("status");
    std::fs::write(
        &status_path,
        &app.get("/.well-known/gec/status", None).await.body,
    )
    .unwrap();
    for url in &urls {
        let out = verify_offline(dir.path(), url, &keys_path, &status_path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn gec_keys_init_makes_a_ring_of_the_algorithm_asked_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = gec(&["--data-dir", data, "keys", "init", "--alg", "sm2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["crv"], "SM2");
    assert!(record["y"].is_string());
    let again = gec(&["--data-dir", data, "keys", "init", "--alg", "ed25519"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has a key ring"));
    let unknown = gec(&[
        "--data-dir",
        dir.path().join("other").to_str().unwrap(),
        "keys",
        "init",
        "--alg",
        "rsa",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("one of ed25519, sm2"));
    // The secret is PKCS#8 that OpenSSL reads as an SM2 key, readable by the owner alone.
    let kid = record["kid"].as_str().unwrap();
    let secret = std::fs::read_dir(dir.path().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(kid))
        .expect("the secret file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let key =
        SigningKey::from_pkcs8_pem(Algorithm::Sm2, &std::fs::read_to_string(&secret).unwrap())
            .unwrap();
    assert_eq!(hex::encode(key.public().kid()), kid);
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` of a COSE `r ‖ s`, as OpenSSL reads signatures.
fn der_signature(raw: &[u8; 64]) -> Vec<u8> {
    let integer = |bytes: &[u8]| {
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        let mut value = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            vec![0]
        } else {
            vec![]
        };
        value.extend(trimmed);
        let mut out = vec![0x02, value.len() as u8];
        out.extend(value);
        out
    };
    let mut body = integer(&raw[..32]);
    body.extend(integer(&raw[32..]));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[tokio::test]
#[ignore = "needs openssl with SM2 (Debian package openssl)"]
async fn openssl_accepts_the_signatures_of_an_sm2_deployment() {
    // An independent SM2 implementation checks what the service signed: OpenSSL, with SM3 and
    // the GM/T 0009 default user ID, over the code's Sig_structure.
    let app = TestApp::with_signing_alg(Algorithm::Sm2).await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let url = app.issue_code(&regulator, &firm, &uscc).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let decoded = cose::decode(&cose_of(&url)).unwrap();
    let published = app.get("/.well-known/gec/keys.json", None).await.json();
    let key = &published["keys"][0];
    let public = PublicKey::from_jwk_coordinates(
        Algorithm::Sm2,
        key["x"].as_str().unwrap(),
        key["y"].as_str(),
    )
    .unwrap();
    let PublicKey::Sm2(_) = &public else {
        panic!("an SM2 key")
    };
    // SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve, then the uncompressed point.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut spki = hex::decode("3059301306072a8648ce3d020106082a811ccf5501822d034200").unwrap();
    spki.push(4);
    spki.extend(b64.decode(key["x"].as_str().unwrap()).unwrap());
    spki.extend(b64.decode(key["y"].as_str().unwrap()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (pub_path, msg_path, sig_path) = (
        dir.path().join("pub.der"),
        dir.path().join("msg"),
        dir.path().join("sig.der"),
    );
    std::fs::write(&pub_path, &spki).unwrap();
    std::fs::write(&msg_path, &decoded.signed).unwrap();
    let check = |signature: &[u8; 64]| {
        std::fs::write(&sig_path, der_signature(signature)).unwrap();
        Command::new("openssl")
            .args(["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"])
            .arg(&pub_path)
            .args([
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
                "-in",
            ])
            .arg(&msg_path)
            .arg("-sigfile")
            .arg(&sig_path)
            .output()
            .expect("run openssl")
    };
    let out = check(&decoded.signature);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));
    let mut flipped = decoded.signature;
    flipped[40] ^= 1;
    assert!(
        !check(&flipped).status.success(),
        "OpenSSL refuses a flipped signature"
    );
}
