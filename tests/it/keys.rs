//! The key ring on disk: created on first use with private files, rotated, compromised.

use std::process::Command;

use gec::code::KeyStatus;
use gec::service::keys;

fn gec_keys(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gec"))
        .arg("keys")
        .args(args)
        .env("GEC_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn the_first_use_creates_a_code_key_and_a_log_key_readable_by_the_owner_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ring = keys::load_or_create(dir.path(), "gec.example/log").unwrap();
    assert_eq!(ring.keys.len(), 1);
    assert_eq!(ring.keys[0].status, KeyStatus::Active);
    assert!(ring.active.is_some());
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir.path().join("keys")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pem") {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
            assert!(
                std::fs::read_to_string(&path)
                    .unwrap()
                    .starts_with("-----BEGIN PRIVATE KEY-----")
            );
        }
    }
    let dir_mode = std::fs::metadata(dir.path().join("keys"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let doc = ring.document();
    assert_eq!(doc.issuer, "CQ-GEC");
    assert_eq!(doc.log.unwrap().origin, "gec.example/log");
    assert!(
        !serde_json::to_string(&ring.document())
            .unwrap()
            .contains("PRIVATE")
    );
    let again = keys::load_or_create(dir.path(), "ignored/log").unwrap();
    assert_eq!(again.keys, ring.keys, "a second start keeps the keys");
}

#[test]
fn gec_keys_rotate_retires_the_old_key_and_compromise_marks_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let list = gec_keys(dir.path(), &["list"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let first = keys::load(dir.path()).unwrap().keys[0].kid.clone();
    let rotated = gec_keys(dir.path(), &["rotate", "--at", "2026-06-01T00:00:00Z"]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let ring = keys::load(dir.path()).unwrap();
    assert_eq!(ring.keys.len(), 2);
    assert_eq!(ring.keys[0].status, KeyStatus::Retired);
    assert_eq!(
        ring.keys[0].not_after.unwrap().to_rfc3339(),
        "2026-06-01T00:00:00+00:00"
    );
    assert_eq!(ring.keys[1].status, KeyStatus::Active);
    assert_ne!(ring.active_kid().unwrap(), first);
    let out = gec_keys(
        dir.path(),
        &[
            "compromise",
            "--kid",
            &first,
            "--at",
            "2026-05-01T00:00:00Z",
        ],
    );
    assert!(out.status.success());
    let ring = keys::load(dir.path()).unwrap();
    assert_eq!(ring.keys[0].status, KeyStatus::Compromised);
    assert!(ring.keys[0].compromised_at.is_some());
    let listing = String::from_utf8(gec_keys(dir.path(), &["list"]).stdout).unwrap();
    assert!(
        listing.contains("compromised") && listing.contains("active"),
        "{listing}"
    );
    let unknown = gec_keys(
        dir.path(),
        &[
            "compromise",
            "--kid",
            "0000000000000000",
            "--at",
            "2026-05-01T00:00:00Z",
        ],
    );
    assert!(!unknown.status.success());
}

#[test]
fn an_operator_supplied_pem_key_can_be_rotated_in() {
    let dir = tempfile::tempdir().unwrap();
    keys::load_or_create(dir.path(), "gec.example/log").unwrap();
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let pem_path = dir.path().join("hsm-export.pem");
    std::fs::write(
        &pem_path,
        key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
    )
    .unwrap();
    let out = gec_keys(dir.path(), &["rotate", "--pem", pem_path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ring = keys::load(dir.path()).unwrap();
    assert_eq!(ring.active.unwrap().0.public(), key.verifying_key().into());
}
