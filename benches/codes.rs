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
        carbon_level: None,
        attested_share: None,
    }
}

fn bench_codes(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let code_key = gec::code::SigningKey::from(key.clone());
    let claims = claims();
    let doc = KeySetDocument {
        issuer: "CQ-GEC".into(),
        keys: vec![PublishedKey::new(
            &key.verifying_key().into(),
            KeyStatus::Active,
            chrono::DateTime::UNIX_EPOCH,
        )],
        log: None,
    };
    let keys = TrustedKeys::from_document(&doc).unwrap();
    let cose = cose::sign(&claims, &key.clone().into());
    let url = text::url("https://gec.example.cn", &cose);
    let now = claims.iat as i64 + 60;

    c.bench_function("code: sign (claims -> COSE bytes)", |b| {
        b.iter(|| cose::sign(std::hint::black_box(&claims), &code_key))
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

/// The status list of 1,000,000 codes as a city's would be after years: 4 % superseded, 0.5 %
/// revoked (each revocation also a log entry, "not a code"), spread at random; its size, and
/// checking one code against it offline (signature, inflate, look-up).
fn bench_status_list(c: &mut Criterion) {
    use gec::code::status_list::{ListedStatus, StatusList};
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let code_key = gec::code::SigningKey::from(key.clone());
    let doc = KeySetDocument {
        issuer: "CQ-GEC".into(),
        keys: vec![PublishedKey::new(
            &key.verifying_key().into(),
            KeyStatus::Active,
            chrono::DateTime::UNIX_EPOCH,
        )],
        log: None,
    };
    let trusted = TrustedKeys::from_document(&doc).unwrap();
    let size = 1_000_000u64;
    let mut list = StatusList::new("CQ-GEC", size, 1_800_000_000, size);
    // A small deterministic generator (xorshift), so every run measures the same list.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut superseded, mut revoked) = (0, 0);
    for serial in 0..size {
        match next() % 1000 {
            0..40 => {
                list.set(serial, ListedStatus::Superseded);
                superseded += 1;
            }
            40..45 => {
                list.set(serial, ListedStatus::Revoked);
                revoked += 1;
            }
            45..50 => list.set(serial, ListedStatus::NotACode),
            _ => {}
        }
    }
    let signed = list.sign(&code_key);
    eprintln!(
        "status list of {size} serials ({superseded} superseded, {revoked} revoked): {} bytes signed",
        signed.len()
    );
    c.bench_function(
        "status list: open 1M (verify, inflate) + look up one",
        |b| {
            b.iter(|| {
                StatusList::open(std::hint::black_box(&signed), &trusted)
                    .unwrap()
                    .get(654_321)
            })
        },
    );
    let opened = StatusList::open(&signed, &trusted).unwrap();
    c.bench_function("status list: look up one in an opened list", |b| {
        b.iter(|| opened.get(std::hint::black_box(654_321)))
    });
    c.bench_function("status list: build and sign 1M", |b| {
        b.iter(|| list.sign(&code_key))
    });
}

/// SM2 over SM3 beside Ed25519 (token.md §9): one signature, one verification, 1,000 codes
/// verified together (Ed25519 in batches, SM2 one by one), and the size of the code.
fn bench_suites(c: &mut Criterion) {
    use gec::code::alg::{Signed, verify_many};
    use gec::code::{Algorithm, SigningKey as CodeKey};
    let claims = claims();
    for algorithm in Algorithm::ALL {
        let keys: Vec<CodeKey> = (0..1000u32)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..4].copy_from_slice(&(i + 1).to_be_bytes());
                CodeKey::from_seed(algorithm, &seed)
            })
            .collect();
        let key = &keys[0];
        let cose = cose::sign(&claims, key);
        let url = text::url("https://gec.example.cn", &cose);
        let qr = qr::encode(&url, Level::M).unwrap();
        println!(
            "{algorithm}: COSE {} bytes, URL {} characters, QR version {:?} ({} modules a side) at level M",
            cose.len(),
            url.len(),
            qr.version(),
            qr.width()
        );
        let decoded = cose::decode(&cose).unwrap();
        let public = key.public();
        c.bench_function(&format!("{algorithm}: sign a code's Sig_structure"), |b| {
            b.iter(|| key.sign(std::hint::black_box(&decoded.signed)))
        });
        c.bench_function(&format!("{algorithm}: verify one signature"), |b| {
            b.iter(|| {
                assert!(public.verify(std::hint::black_box(&decoded.signed), &decoded.signature))
            })
        });
        // 1,000 codes of 1,000 keys (the worst case for batching: no key repeats).
        let signed: Vec<(Vec<u8>, Vec<u8>, gec::code::PublicKey)> = keys
            .iter()
            .map(|k| {
                let d = cose::decode(&cose::sign(&claims, k)).unwrap();
                (d.signed, d.signature.to_vec(), k.public())
            })
            .collect();
        c.bench_function(&format!("{algorithm}: verify 1,000 codes together"), |b| {
            b.iter(|| {
                let items: Vec<Signed> = signed
                    .iter()
                    .map(|(message, signature, key)| Signed {
                        message,
                        signature,
                        key,
                    })
                    .collect();
                assert!(verify_many(&items).iter().all(|ok| *ok));
            })
        });
    }
}

criterion_group!(benches, bench_codes, bench_status_list, bench_suites);
criterion_main!(benches);
