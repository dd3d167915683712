//! Issuing, superseding and revoking codes: everything a verifier relies on, checked with the
//! published keys and the public log only — and concurrent approvals on one log.

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gec::code::{KeySetDocument, TrustedKeys, cose, text, verify};
use gec::service::accounts::Role;
use gec::tlog::{Checkpoint, merkle};
use serde_json::{Value, json};

use crate::helpers::{TestApp, yearly_data};

struct Published {
    keys: KeySetDocument,
    log_key: ed25519_dalek::VerifyingKey,
    log_name: String,
}

async fn published(app: &TestApp) -> Published {
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
async fn checkpoint(app: &TestApp, p: &Published) -> Checkpoint {
    let note = app.get("/log/checkpoint", None).await.text();
    Checkpoint::verify(&note, &p.log_name, &p.log_key).expect("checkpoint signature")
}

async fn approve(app: &TestApp, regulator: &str, id: i64) -> Value {
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

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

async fn assert_included(app: &TestApp, serial: u64, cp: &Checkpoint) {
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

#[tokio::test]
async fn two_hundred_concurrent_approvals_make_a_gap_free_log_with_a_consistent_checkpoint() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 1000, 200).await;
    let mut tasks = Vec::new();
    for id in ids {
        let router = app.router.clone();
        let token = regulator.clone();
        tasks.push(tokio::spawn(async move {
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
        }));
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
    // Every size the log passed through has one checkpoint, consistent with the last.
    assert_eq!(app.count("checkpoints").await, 201);
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

#[tokio::test]
async fn recompute_matches_the_stored_trace_and_names_what_differs_when_not() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let result = app
        .post(
            &format!("/api/v1/assessments/{id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(result["match"], true, "{result}");
    assert_eq!(result["stored_hash"], result["recomputed_hash"]);
    approve(&app, &regulator, id).await;
    let result = app
        .post(
            &format!("/api/v1/assessments/{id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(result["match"], true, "after approval: {result}");

    // Someone alters the stored input behind the service's back.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE assessments SET input = REPLACE(input, '\"value_added_10k_cny\":\"52000.50\"', '\"value_added_10k_cny\":\"62000.50\"') WHERE id = {id}"
        ))
        .await
        .unwrap();
    let result = app
        .post(
            &format!("/api/v1/assessments/{id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(result["match"], false, "{result}");
    assert_ne!(result["stored_hash"], result["recomputed_hash"]);
    let differences = result["differences"].as_array().unwrap();
    assert!(
        differences.contains(&json!({"path": "energy.value_added_10k_cny", "stored": "52000.5", "recomputed": "62000.5"})),
        "{differences:?}"
    );
    assert!(differences.iter().any(|d| d["path"] == "energy.intensity"));
    app.post(
        &format!("/api/v1/assessments/{id}/recompute"),
        Some(&firm),
        json!({}),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn a_new_benchmark_version_is_used_for_new_grades_and_old_grades_still_recompute() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 4, "3670").await;
    let old_id = app.submit_yearly(&firm, &uscc).await;
    approve(&app, &regulator, old_id).await;

    let csv = gec::grading::BenchmarkTable::default_table()
        .to_csv()
        .replace(
            "36,汽车制造业,Manufacture of automobiles,0.08",
            "36,汽车制造业,Manufacture of automobiles,0.05",
        );
    let publish = |version: &str, body: String| {
        Request::post(format!("/api/v1/benchmarks?version={version}"))
            .header(header::AUTHORIZATION, format!("Bearer {regulator}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap()
    };
    let published = app.send(publish("GEC-B%202026.1", csv.clone())).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    assert_eq!(published.json()["in_force"], true);
    app.send(publish("GEC-B%202026.1", csv)).await.problem(409);
    let bad = app.send(publish("GEC-B%202026.2", "division,name_zh,name_en,energy_baseline,waste_baseline,waste_leading\n36,x,y,0.08,0.9,0.5\n".into())).await;
    assert_eq!(bad.problem(422)["errors"][0]["line"], 2);

    let listed = app.get("/api/v1/benchmarks", None).await.json();
    assert_eq!(listed["in_force"], "GEC-B 2026.1");
    let read = app
        .get("/api/v1/benchmarks/GEC-B%202025.1", None)
        .await
        .json();
    assert_eq!(read["in_force"], false);
    assert_eq!(read["rows"].as_array().unwrap().len(), 41);

    let new_id = app.submit_yearly(&firm, &uscc).await;
    let issued = approve(&app, &regulator, new_id).await;
    let stored = app
        .get(&format!("/api/v1/assessments/{new_id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(stored["benchmarks"], "GEC-B 2026.1");
    assert_eq!(stored["trace"]["energy"]["baseline"], "0.05");
    assert_eq!(issued["supersedes"].as_i64(), Some(0));
    let old = app
        .post(
            &format!("/api/v1/assessments/{old_id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(old["match"], true);
    assert_eq!(old["benchmarks"], "GEC-B 2025.1");
}

#[tokio::test]
async fn keys_are_published_as_a_key_set_and_a_jwks_and_rotation_takes_effect_without_a_restart() {
    let app = TestApp::new().await;
    let keys = app.get("/.well-known/gec/keys.json", None).await.json();
    assert_eq!(keys["issuer"], "CQ-GEC");
    assert_eq!(keys["keys"][0]["status"], "active");
    assert_eq!(keys["keys"][0]["kid"].as_str().unwrap().len(), 16);
    assert_eq!(keys["log"]["origin"], "127.0.0.1:8080/log");
    let jwks = app.get("/.well-known/jwks.json", None).await.json();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert_eq!(jwks["keys"][0]["kid"], keys["keys"][0]["kid"]);

    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 5, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let first = approve(&app, &regulator, id).await;

    gec::service::keys::rotate(app.dir.path(), chrono::Utc::now(), None).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let rotated = app.get("/.well-known/gec/keys.json", None).await.json();
    assert_eq!(rotated["keys"].as_array().unwrap().len(), 2);
    assert_eq!(rotated["keys"][0]["status"], "retired");
    let id = app.submit_yearly(&firm, &uscc).await;
    let second = approve(&app, &regulator, id).await;
    assert_eq!(second["kid"], rotated["keys"][1]["kid"]);
    let doc: KeySetDocument = serde_json::from_value(rotated).unwrap();
    let trusted = TrustedKeys::from_document(&doc).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        verify::verify(first["url"].as_str().unwrap(), &trusted, now).valid,
        "the retired key still verifies its codes"
    );
    assert!(verify::verify(second["url"].as_str().unwrap(), &trusted, now).valid);
}

#[tokio::test]
async fn code_images_are_immutable_cached_and_revalidated_by_etag() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 6, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let serial = approve(&app, &regulator, id).await["serial"]
        .as_u64()
        .unwrap();
    for (kind, content_type) in [
        ("qr.png", "image/png"),
        ("qr.svg", "image/svg+xml"),
        ("badge.svg", "image/svg+xml"),
        ("badge.png", "image/png"),
    ] {
        let first = app
            .get(&format!("/api/v1/codes/{serial}/{kind}"), None)
            .await;
        assert_eq!(first.status, StatusCode::OK, "{kind}");
        assert_eq!(first.header("content-type"), content_type);
        assert!(first.header("cache-control").contains("immutable"));
        let etag = first.header("etag").to_owned();
        assert!(etag.starts_with('"'));
        let again = app
            .get(&format!("/api/v1/codes/{serial}/{kind}"), None)
            .await;
        assert_eq!(again.body, first.body, "{kind} is rendered once");
        let request = Request::get(format!("/api/v1/codes/{serial}/{kind}"))
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::NOT_MODIFIED);
    }
    app.get("/api/v1/codes/999/qr.png", None).await.problem(404);
    app.get("/api/v1/codes/-1", None).await.problem(404);
    app.get("/api/v1/codes/abc/status", None).await.problem(404);
    let code = app
        .get(&format!("/api/v1/codes/{serial}"), None)
        .await
        .json();
    assert_eq!(code["status"], "active");
    assert_eq!(code["firm"]["uscc"], uscc.as_str());
    assert_eq!(code["claims"]["serial"], serial);
}

#[tokio::test]
async fn log_queries_outside_the_log_are_refused() {
    let app = TestApp::new().await;
    let checkpoint = app.get("/log/checkpoint", None).await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert!(checkpoint.text().starts_with("127.0.0.1:8080/log\n0\n"));
    app.get("/log/entries/0", None).await.problem(404);
    app.get("/log/proof/inclusion?index=0&size=0", None)
        .await
        .problem(422);
    app.get("/log/proof/inclusion?index=0&size=5", None)
        .await
        .problem(422);
    app.get("/log/proof/consistency?from=0&to=0", None)
        .await
        .problem(422);
    app.get("/log/proof/inclusion?index=x", None)
        .await
        .problem(400);
}

#[tokio::test]
async fn gec_verify_and_gec_log_verify_check_a_running_service() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 7, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let issued = approve(&app, &regulator, id).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(gec::serve(listener, app.state.clone(), async move {
        let _ = stopped.await;
    }));
    let url = issued["url"].as_str().unwrap().to_owned();
    let state = app.dir.path().join("witness.json");
    let (server2, url2, state2) = (server.clone(), url.clone(), state.clone());
    let dir = app.dir.path().to_owned();
    let run = move |args: Vec<String>| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_gec"))
                .args(&args)
                .env("GEC_DATA_DIR", dir)
                .env_remove("DATABASE_URL")
                .output()
                .unwrap()
        })
    };
    let out = run(vec![
        "verify".into(),
        url2.clone(),
        "--server".into(),
        server2.clone(),
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["status"], "active");
    let witness = |state: &std::path::Path| {
        vec![
            "log".into(),
            "verify".into(),
            "--server".into(),
            server2.clone(),
            "--state".into(),
            state.display().to_string(),
        ]
    };
    let out = run(witness(&state2)).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // More entries later: the witness checks consistency with what it saw.
    let serial = issued["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial}/revoke"),
        Some(&regulator),
        json!({"reason": "test"}),
    )
    .await;
    let out = run(witness(&state2)).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["previous_size"],
        1
    );
    let out = run(vec![
        "verify".into(),
        url2,
        "--server".into(),
        server2.clone(),
    ])
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["reason"],
        "revoked"
    );

    // A witness that remembers a different root for the same size reports a fork.
    let mut remembered: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    remembered["root"] = json!(STANDARD.encode([7u8; 32]));
    std::fs::write(&state, remembered.to_string()).unwrap();
    let out = run(witness(&state)).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("forked"));
    stop.send(()).unwrap();
    handle.await.unwrap().unwrap();
    let _ = crate::helpers::gec_cli(&app, &["accounts", "list"], "");
}

#[tokio::test]
async fn gec_regrade_reports_changed_grades_and_submits_them_with_apply() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 8, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let issued = approve(&app, &regulator, id).await;
    assert_ne!(issued["grade"], "D");
    // A veto recorded after issuance: the current grade would now be D.
    app.post(
        &format!("/api/v1/firms/{uscc}/vetoes"),
        Some(&regulator),
        json!({"kind": "dishonest_entity", "occurred_on": "2026-01-05"}),
    )
    .await;
    let out = crate::helpers::gec_cli(&app, &["regrade"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["firms"], 1);
    assert_eq!(report["changed"][0]["recomputed"], "D");
    assert_eq!(report["changed"][0]["submission"], Value::Null);
    assert_eq!(
        app.get("/api/v1/assessments?status=submitted", Some(&regulator))
            .await
            .json()["items"],
        json!([])
    );
    let out = crate::helpers::gec_cli(&app, &["regrade", "--apply"], "");
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let submission = report["changed"][0]["submission"].as_i64().unwrap();
    let queued = app
        .get(
            &format!("/api/v1/assessments/{submission}"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(queued["status"], "submitted");
    assert_eq!(queued["grade"], "D");
    let again = crate::helpers::gec_cli(&app, &["regrade", "--apply"], "");
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(
        report["changed"][0]["note"]
            .as_str()
            .unwrap()
            .contains("already under review")
    );
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
