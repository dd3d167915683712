//! Signing and verifying codes, against raw Ed25519 on a message of the same size, and QR
//! rendering. Run: `cargo bench --bench codes`.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use gec::code::keys::{KeySetDocument, PublishedKey};
use gec::code::qr::{self, Level};
use gec::code::{Claims, KeyStatus, TrustedKeys, cose, text, verify};
use gec::grading::Grade;

fn claims() -> Claims {
    Claims {
        iss: "CQ-GEC".into(),
        sub: "91500000MA5U00000W".into(),
        exp: 1_809_129_600,
        iat: 1_774_915_200,
        grade: Grade::APlus,
        score: 9006,
        period: 2025,
        methodology: "GEC-M 2025.1".into(),
        trace: [7u8; 16],
        serial: 12_345,
    }
}

fn bench_codes(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let claims = claims();
    let doc = KeySetDocument {
        issuer: "CQ-GEC".into(),
        keys: vec![PublishedKey::new(
            &key.verifying_key(),
            KeyStatus::Active,
            chrono::DateTime::UNIX_EPOCH,
        )],
        log: None,
    };
    let keys = TrustedKeys::from_document(&doc).unwrap();
    let cose = cose::sign(&claims, &key);
    let url = text::url("https://gec.example.cn", &cose);
    let now = claims.iat as i64 + 60;

    c.bench_function("code: sign (claims -> COSE bytes)", |b| {
        b.iter(|| cose::sign(std::hint::black_box(&claims), &key))
    });
    c.bench_function(
        "code: verify URL (base32 + COSE + Ed25519 verify_strict)",
        |b| {
            b.iter(|| {
                let v = verify::verify(std::hint::black_box(&url), &keys, now);
                assert!(v.valid);
            })
        },
    );
    // The raw rate: verify_strict on a Sig_structure of the same size, key already parsed.
    let decoded = cose::decode(&cose).unwrap();
    let message = decoded.signed.clone();
    let signature = key.sign(&message);
    let public = key.verifying_key();
    c.bench_function(
        "raw: ed25519-dalek verify_strict (same message size)",
        |b| {
            b.iter(|| {
                public
                    .verify_strict(std::hint::black_box(&message), &signature)
                    .unwrap()
            })
        },
    );
    c.bench_function("qr: encode URL at level M + PNG", |b| {
        b.iter(|| {
            qr::png(
                &qr::encode(std::hint::black_box(&url), Level::M).unwrap(),
                qr::PNG_MODULE_PX,
            )
            .unwrap()
        })
    });
    c.bench_function("qr: encode URL at level M + SVG", |b| {
        b.iter(|| qr::svg(&qr::encode(std::hint::black_box(&url), Level::M).unwrap()))
    });
}

criterion_group!(benches, bench_codes);
criterion_main!(benches);
