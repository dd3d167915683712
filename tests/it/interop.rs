//! Other COSE implementations read and make our codes: Google's `coset` in every run, and pycose
//! (Python) where it is installed.

use std::process::Command;

use coset::cwt::{ClaimName, ClaimsSet, ClaimsSetBuilder, Timestamp};
use coset::iana;
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use ed25519_dalek::{Signer, SigningKey, Verifier};
use gec::code::{Claims, cose, verify};
use sha2::Digest;

use crate::codes::{claims_of, token_vectors, trusted, vector_key};

/// The kid as token.md §1 defines it, computed here without the service's code.
fn kid(key: &SigningKey) -> Vec<u8> {
    sha2::Sha256::digest(key.verifying_key().as_bytes())[..8].to_vec()
}

/// The claims set of token.md §1 built with coset's own types.
fn coset_claims(claims: &Claims) -> ClaimsSet {
    use ciborium::Value;
    let gec = Value::Map(vec![
        (Value::from(1), Value::from(claims.grade.as_str())),
        (Value::from(2), Value::from(claims.score)),
        (Value::from(3), Value::from(claims.period)),
        (Value::from(4), Value::from(claims.methodology.as_str())),
        (Value::from(5), Value::Bytes(claims.trace.to_vec())),
        (Value::from(6), Value::from(claims.serial)),
    ]);
    ClaimsSetBuilder::new()
        .issuer(claims.iss.clone())
        .subject(claims.sub.clone())
        .expiration_time(Timestamp::WholeSeconds(claims.exp as i64))
        .issued_at(Timestamp::WholeSeconds(claims.iat as i64))
        .private_claim(-70000, gec)
        .build()
}

#[test]
fn coset_reads_the_vector_codes_and_checks_their_signatures() {
    let v = token_vectors();
    let key = vector_key(&v);
    for case in v["cases"].as_array().unwrap() {
        let bytes = hex::decode(case["cose_hex"].as_str().unwrap()).unwrap();
        let sign1 = CoseSign1::from_tagged_slice(&bytes).expect("a tagged COSE_Sign1");
        assert_eq!(
            sign1.protected.header.alg,
            Some(coset::RegisteredLabelWithPrivate::Assigned(
                iana::Algorithm::EdDSA
            ))
        );
        assert_eq!(sign1.protected.header.key_id, kid(&key));
        assert!(sign1.unprotected.is_empty());
        sign1
            .verify_signature(b"", |signature, data| {
                let signature = ed25519_dalek::Signature::from_slice(signature)?;
                key.verifying_key().verify(data, &signature)
            })
            .expect("the signature verifies under coset's Sig_structure");

        let claims = ClaimsSet::from_slice(sign1.payload.as_deref().unwrap()).unwrap();
        let expected = &case["claims"];
        assert_eq!(claims.issuer.as_deref(), expected["iss"].as_str());
        assert_eq!(claims.subject.as_deref(), expected["sub"].as_str());
        assert_eq!(
            claims.issued_at,
            Some(Timestamp::WholeSeconds(expected["iat"].as_i64().unwrap()))
        );
        assert_eq!(
            claims.expiration_time,
            Some(Timestamp::WholeSeconds(expected["exp"].as_i64().unwrap()))
        );
        let (name, _) = &claims.rest[0];
        assert_eq!(*name, ClaimName::PrivateUse(-70000));
    }
}

#[test]
fn a_code_built_with_coset_is_the_services_code_byte_for_byte_and_verifies() {
    let v = token_vectors();
    for (i, case) in v["cases"].as_array().unwrap().iter().enumerate() {
        let key = SigningKey::from_bytes(&[i as u8 + 7; 32]);
        let claims = claims_of(&case["claims"]);
        let payload = coset_claims(&claims).to_vec().unwrap();
        let made = CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::EdDSA)
                    .key_id(kid(&key))
                    .build(),
            )
            .payload(payload)
            .create_signature(b"", |data| key.sign(data).to_bytes().to_vec())
            .build()
            .to_tagged_vec()
            .unwrap();
        assert_eq!(
            made,
            cose::sign(&claims, &key.clone().into()),
            "case {i}: the same bytes"
        );
        let verdict = verify::verify_bytes(&made, &trusted(&key), claims.iat as i64);
        assert!(verdict.valid, "{verdict:?}");
    }
}

fn python_interop(args: &[&str]) -> std::process::Output {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/pycose_interop.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed for this test (.ci/run installs it)");
    if String::from_utf8_lossy(&out.stderr).contains("ModuleNotFoundError") {
        panic!(
            "pycose is needed for this test: pip install pycose 'cbor2<6' (.ci/run installs it)"
        );
    }
    out
}

/// pycose verifies `cose` with the raw public key `public`.
pub fn pycose_verifies(cose: &[u8], public: &[u8; 32]) -> bool {
    let out = python_interop(&["verify", &hex::encode(cose), &hex::encode(public)]);
    out.status.success()
}

#[test]
#[ignore = "needs python3 with pycose (PyPI: pycose, cbor2<6)"]
fn pycose_verifies_codes_made_by_the_service() {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let claims = claims_of(&token_vectors()["cases"][1]["claims"]);
    let cose = cose::sign(&claims, &key.clone().into());
    assert!(pycose_verifies(&cose, key.verifying_key().as_bytes()));
    let mut bad = cose.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(
        !pycose_verifies(&bad, key.verifying_key().as_bytes()),
        "pycose must refuse a tampered code"
    );
}

#[test]
#[ignore = "needs python3 with pycose (PyPI: pycose, cbor2<6)"]
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
        cose::sign(&claims, &key.clone().into()),
        "pycose makes the same bytes"
    );
    let verdict = verify::verify_bytes(&cose, &trusted(&key), claims.iat as i64);
    assert!(verdict.valid, "{verdict:?}");
}

#[tokio::test]
async fn coset_reads_the_carbon_level_of_an_issued_code_as_claim_7() {
    // token.md §1: the grade claim's key 7 is the carbon-efficiency level (methodology §10),
    // here from the same figures the preview's carbon trace used.
    use crate::helpers::TestApp;
    use gec::service::accounts::Role;
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 7, "3670").await;
    let level = app.preview_carbon_level(&firm, &uscc).await;
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let url = issued["url"].as_str().unwrap();
    let bytes = gec::code::text::decode(gec::code::text::code_part(url)).unwrap();
    let sign1 = CoseSign1::from_tagged_slice(&bytes).expect("a tagged COSE_Sign1");
    let claims = ClaimsSet::from_slice(sign1.payload.as_deref().unwrap()).unwrap();
    let (name, gec) = &claims.rest[0];
    assert_eq!(*name, ClaimName::PrivateUse(-70000));
    let members = gec.as_map().expect("the grade claim is a map");
    let seven = members
        .iter()
        .find(|(k, _)| k.as_integer() == Some(7.into()))
        .map(|(_, v)| v.as_integer().map(i128::from))
        .expect("key 7 is there");
    assert_eq!(seven, Some(i128::from(level)));
    // And the service's own reading of it, through verification.
    let verified = app
        .post("/api/v1/verify", None, serde_json::json!({"code": url}))
        .await
        .json();
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["claims"]["carbon_level"], level);
}
