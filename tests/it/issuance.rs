//! Issuing, superseding and revoking codes: everything a verifier relies on, checked with the
//! published keys and the public log only — and concurrent approvals on one log.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gec::code::{KeySetDocument, TrustedKeys, cose, text, verify};
use gec::service::accounts::Role;
use gec::tlog::{Checkpoint, merkle};
use serde_json::{Value, json};

use crate::helpers::{TestApp, yearly_data};

pub(crate) struct Published {
    pub keys: KeySetDocument,
    pub log_key: ed25519_dalek::VerifyingKey,
    pub log_name: String,
}

pub(crate) async fn published(app: &TestApp) -> Published {
    let keys: KeySetDocument =
        serde_json::from_slice(&app.get("/.well-known/gec/keys.json", None).await.body).unwrap();
    let log = keys.log.clone().unwrap();
    let log_key = gec::code::keys::public_key_from_x(&log.x).unwrap();
    Published {
        keys,
        log_key,
        log_name: log.key_name,
    }
}

/// The latest checkpoint, its signature checked with the published log key.
pub(crate) async fn checkpoint(app: &TestApp, p: &Published) -> Checkpoint {
    let note = app.get("/log/checkpoint", None).await.text();
    Checkpoint::verify(&note, &p.log_name, &p.log_key).expect("checkpoint signature")
}

pub(crate) async fn approve(app: &TestApp, regulator: &str, id: i64) -> Value {
    let response = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(regulator),
            json!({}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    response.json()
}

pub(crate) fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

pub(crate) async fn assert_included(app: &TestApp, serial: u64, cp: &Checkpoint) {
    let entry = app.get(&format!("/log/entries/{serial}"), None).await;
    assert_eq!(entry.header("content-type"), "application/json");
    let leaf = merkle::leaf_hash(&entry.body);
    let proof = app
        .get(
            &format!("/log/proof/inclusion?index={serial}&size={}", cp.size),
            None,
        )
        .await
        .json();
    assert_eq!(b64(&proof["leaf_hash"]), leaf.to_vec());
    let hashes: Vec<Vec<u8>> = proof["proof"].as_array().unwrap().iter().map(b64).collect();
    merkle::verify_inclusion(serial, cp.size, &leaf, &hashes, &cp.root).expect("inclusion proof");
}

#[tokio::test]
async fn an_issued_code_is_provable_with_public_material_alone_through_supersession_and_revocation()
{
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let submitted = app
        .post("/api/v1/assessments", Some(&firm), yearly_data(&uscc))
        .await
        .json();
    let id = submitted["id"].as_i64().unwrap();
    let issued = approve(&app, &regulator, id).await;
    let serial = issued["serial"].as_u64().unwrap();
    let url = issued["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("HTTP://127.0.0.1:8080/C/"));
    assert_eq!(issued["uscc"], uscc.as_str());

    // The PNG decodes to the URL.
    let png = app
        .get(&format!("/api/v1/codes/{serial}/qr.png"), None)
        .await;
    assert_eq!(png.header("content-type"), "image/png");
    assert_eq!(crate::scanning::decode_qr(&png.body), url);

    // It verifies offline with the published keys.
    let p = published(&app).await;
    let trusted = TrustedKeys::from_document(&p.keys).unwrap();
    let now = chrono::Utc::now().timestamp();
    let verdict = verify::verify(&url, &trusted, now);
    assert!(verdict.valid, "{verdict:?}");
    let cose_bytes = text::decode(text::code_part(&url)).unwrap();

    // The code's trace bytes are the first 16 bytes of the stored trace hash.
    let stored = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(stored["status"], "approved");
    assert_eq!(stored["code_serial"], serial);
    let claims = verdict.claims.unwrap();
    assert_eq!(
        hex::encode(claims.trace),
        &stored["trace_hash"].as_str().unwrap()[..32]
    );
    assert_eq!(claims.serial, serial);

    // Its issue entry is in the log, under a checkpoint signed by the published log key.
    let cp1 = checkpoint(&app, &p).await;
    assert_eq!(cp1.size, serial + 1);
    assert_included(&app, serial, &cp1).await;
    let entry: Value =
        serde_json::from_slice(&app.get(&format!("/log/entries/{serial}"), None).await.body)
            .unwrap();
    assert_eq!(entry["type"], "issue");
    assert_eq!(
        entry["code_sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&cose_bytes))
    );
    assert_eq!(entry["trace_hash"], stored["trace_hash"]);
    assert_eq!(entry["supersedes"], Value::Null);

    // Another approval for the firm supersedes it; the new checkpoint extends the old one.
    let again = app
        .post("/api/v1/assessments", Some(&firm), yearly_data(&uscc))
        .await
        .json();
    let second = approve(&app, &regulator, again["id"].as_i64().unwrap()).await;
    assert_eq!(second["supersedes"], serial);
    let status = app
        .get(&format!("/api/v1/codes/{serial}/status"), None)
        .await
        .json();
    assert_eq!(status, json!({"serial": serial, "status": "superseded"}));
    let cp2 = checkpoint(&app, &p).await;
    assert!(cp2.size > cp1.size);
    let proof = app
        .get(
            &format!("/log/proof/consistency?from={}&to={}", cp1.size, cp2.size),
            None,
        )
        .await
        .json();
    let hashes: Vec<Vec<u8>> = proof["proof"].as_array().unwrap().iter().map(b64).collect();
    merkle::verify_consistency(cp1.size, cp2.size, &cp1.root, &cp2.root, &hashes)
        .expect("consistency proof");
    assert_included(&app, second["serial"].as_u64().unwrap(), &cp2).await;
    let summary = app.get(&format!("/api/v1/firms/{uscc}"), None).await.json();
    assert_eq!(summary["code_serial"], second["serial"]);

    // A revocation is a log entry too, and the code reads revoked.
    let second_serial = second["serial"].as_u64().unwrap();
    let revoked = app
        .post(
            &format!("/api/v1/codes/{second_serial}/revoke"),
            Some(&regulator),
            json!({"reason": "数据造假"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    let status = app
        .get(&format!("/api/v1/codes/{second_serial}/status"), None)
        .await
        .json();
    assert_eq!(status["status"], "revoked");
    let cp3 = checkpoint(&app, &p).await;
    let revoke_index = revoked.json()["log_index"].as_u64().unwrap();
    assert_included(&app, revoke_index, &cp3).await;
    let entry: Value = serde_json::from_slice(
        &app.get(&format!("/log/entries/{revoke_index}"), None)
            .await
            .body,
    )
    .unwrap();
    assert_eq!(
        entry,
        json!({"type": "revoke", "serial": revoke_index, "target": second_serial, "reason": "数据造假", "at": entry["at"]})
    );
    app.post(
        &format!("/api/v1/codes/{second_serial}/revoke"),
        Some(&regulator),
        json!({"reason": "again"}),
    )
    .await
    .problem(409);
    let summary = app.get(&format!("/api/v1/firms/{uscc}"), None).await.json();
    assert_eq!(
        summary["grade"],
        Value::Null,
        "no active code after the revocation"
    );

    // Every step is in the audit trail.
    let events = app
        .get(
            "/api/v1/audit/events?target_type=code&limit=100",
            Some(&regulator),
        )
        .await
        .json();
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["code.issue", "code.supersede", "code.issue", "code.revoke"]
    );
}

#[tokio::test]
async fn approving_twice_issues_one_code() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    approve(&app, &regulator, id).await;
    let before = app.counts().await;
    app.post(
        &format!("/api/v1/assessments/{id}/approve"),
        Some(&regulator),
        json!({}),
    )
    .await
    .problem(409);
    assert_eq!(app.counts().await, before);
    assert_eq!(app.count("codes").await, 1);
    assert_eq!(app.count("log_entries").await, 1);
    app.post(
        &format!("/api/v1/assessments/{id}/approve"),
        Some(&firm),
        json!({}),
    )
    .await
    .problem(403);
}

/// One approval through the router, to be spawned with many others at once: status and body.
async fn approve_at_once(
    router: axum::Router,
    token: String,
    id: i64,
) -> (StatusCode, axum::body::Bytes) {
    use tower::ServiceExt;
    let request = Request::post(format!("/api/v1/assessments/{id}/approve"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, body)
}

#[tokio::test]
async fn two_hundred_concurrent_approvals_make_a_gap_free_log_with_a_consistent_checkpoint() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 1000, 200).await;
    let mut tasks = Vec::new();
    for id in ids {
        let router = app.router.clone();
        let token = regulator.clone();
        tasks.push(tokio::spawn(approve_at_once(router, token, id)));
    }
    let mut serials = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&body)
        );
        serials.push(
            serde_json::from_slice::<Value>(&body).unwrap()["serial"]
                .as_u64()
                .unwrap(),
        );
    }
    serials.sort_unstable();
    assert_eq!(
        serials,
        (0..200).collect::<Vec<u64>>(),
        "one serial each, no gap, no repeat"
    );
    assert_eq!(app.count("codes").await, 200);
    assert_eq!(app.count("log_entries").await, 200);

    // The checkpoint's root is the root of exactly these 200 entries, in order.
    let p = published(&app).await;
    let cp = checkpoint(&app, &p).await;
    assert_eq!(cp.size, 200);
    let mut leaves = Vec::new();
    for i in 0..200 {
        let entry = app.get(&format!("/log/entries/{i}"), None).await;
        let value: Value = serde_json::from_slice(&entry.body).unwrap();
        assert_eq!(value["serial"], i);
        leaves.push(merkle::leaf_hash(&entry.body));
    }
    assert_eq!(merkle::root_from_leaves(&leaves), cp.root);
    // Approvals that wait together are issued together (one transaction, one checkpoint):
    // every size the log passed through has one signed checkpoint, whose root is the root of
    // exactly its first entries — the empty log's, and a larger one per group up to 200.
    use sea_orm::ConnectionTrait;
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT size, root FROM checkpoints ORDER BY size",
        ))
        .await
        .unwrap();
    let sizes: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get("", "size").unwrap())
        .collect();
    assert_eq!(sizes.first(), Some(&0));
    assert_eq!(sizes.last(), Some(&200));
    assert!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "one checkpoint per size: {sizes:?}"
    );
    for (row, size) in rows.iter().zip(&sizes) {
        let root: String = row.try_get("", "root").unwrap();
        let leaves = &leaves[..*size as usize];
        let expected = if leaves.is_empty() {
            merkle::empty_root()
        } else {
            merkle::root_from_leaves(leaves)
        };
        assert_eq!(root, hex::encode(expected), "the checkpoint of size {size}");
    }
    // Consistency proofs hold from any size to the last (whether or not it was signed).
    for old in [1u64, 7, 64, 199] {
        let proof = app
            .get(&format!("/log/proof/consistency?from={old}&to=200"), None)
            .await
            .json();
        let hashes: Vec<Vec<u8>> = proof["proof"].as_array().unwrap().iter().map(b64).collect();
        merkle::verify_consistency(
            old,
            200,
            &merkle::root_from_leaves(&leaves[..old as usize]),
            &cp.root,
            &hashes,
        )
        .unwrap();
    }
}

/// The issued code as a phone and another COSE library see it: zbar scans the served PNG, and
/// pycose verifies the code with the key published at `/.well-known/gec/keys.json`.
#[tokio::test]
#[ignore = "needs zbarimg (Debian: zbar-tools) and python3 with pycose (PyPI: pycose, cbor2<6)"]
async fn an_issued_code_scans_with_zbar_and_verifies_with_pycose() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let serial = issued["serial"].as_u64().unwrap();
    let url = issued["url"].as_str().unwrap().to_owned();

    let png = app
        .get(&format!("/api/v1/codes/{serial}/qr.png"), None)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qr.png");
    std::fs::write(&path, &png.body).unwrap();
    assert_eq!(crate::scanning::zbarimg(&path), url);

    let p = published(&app).await;
    let cose_bytes = text::decode(text::code_part(&url)).unwrap();
    let kid = hex::encode(cose::decode(&cose_bytes).unwrap().kid);
    let key = p.keys.keys.iter().find(|k| k.kid == kid).unwrap();
    let public: [u8; 32] = URL_SAFE_NO_PAD.decode(&key.x).unwrap().try_into().unwrap();
    assert!(
        crate::interop::pycose_verifies(&cose_bytes, &public),
        "pycose verifies the issued code"
    );
}

/// Approvals that wait together are issued together, yet each answers for itself: a refusal
/// (an assessment approved twice, one that does not exist) refuses that approval alone, and
/// two approvals of one firm in the same group see each other (the second supersedes the
/// first).
#[tokio::test]
async fn approvals_issued_together_each_answer_for_themselves() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 2000, 30).await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2100, "3670").await;
    let first = app.submit_yearly(&firm, &uscc).await;
    let mut earlier_year = yearly_data(&uscc);
    earlier_year["period"] = json!(2024);
    let second = app
        .post("/api/v1/assessments", Some(&firm), earlier_year)
        .await
        .json()["id"]
        .as_i64()
        .expect("submitted");
    let mut asked: Vec<i64> = ids.clone();
    asked.extend(&ids[..5]); // each of these asked twice
    asked.extend([first, second, 999_999]);
    let mut tasks = Vec::new();
    for id in asked.clone() {
        let router = app.router.clone();
        let token = regulator.clone();
        tasks.push(tokio::spawn(async move {
            let (status, body) = approve_at_once(router, token, id).await;
            (id, status, serde_json::from_slice::<Value>(&body).unwrap())
        }));
    }
    let mut issued = std::collections::HashMap::new();
    let mut refused = Vec::new();
    for task in tasks {
        let (id, status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => {
                assert!(
                    issued.insert(id, body).is_none(),
                    "assessment {id} issued twice"
                );
            }
            StatusCode::CONFLICT | StatusCode::NOT_FOUND => refused.push((id, status)),
            other => panic!("assessment {id}: {other} {body}"),
        }
    }
    // Every distinct existing assessment issued once; each repeat and the missing one refused.
    assert_eq!(issued.len(), 32);
    refused.sort_unstable();
    let mut expected: Vec<(i64, StatusCode)> = ids[..5]
        .iter()
        .map(|id| (*id, StatusCode::CONFLICT))
        .collect();
    expected.push((999_999, StatusCode::NOT_FOUND));
    expected.sort_unstable();
    assert_eq!(refused, expected);
    let mut serials: Vec<u64> = issued
        .values()
        .map(|v| v["serial"].as_u64().unwrap())
        .collect();
    serials.sort_unstable();
    assert_eq!(serials, (0..32).collect::<Vec<u64>>());
    assert_eq!(app.count("log_entries").await, 32);
    assert_eq!(app.count("codes").await, 32);
    // The firm's two approvals: the later supersedes the earlier, which is superseded.
    let (a, b) = (&issued[&first], &issued[&second]);
    let (earlier, later) = if a["serial"].as_u64() < b["serial"].as_u64() {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(later["supersedes"], earlier["serial"]);
    let status = app
        .get(&format!("/api/v1/codes/{}/status", earlier["serial"]), None)
        .await
        .json();
    assert_eq!(status["status"], "superseded", "{status}");
    let status = app
        .get(&format!("/api/v1/codes/{}/status", later["serial"]), None)
        .await
        .json();
    assert_eq!(status["status"], "active", "{status}");
}
