//! The offline tools against a running service: `gec verify`, `gec log verify` (a witness)
//! and `gec regrade`.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

use crate::issuance::approve;

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

#[cfg(unix)]
#[test]
fn the_data_directory_is_its_owners_alone_whatever_the_umask() {
    // Issue 25, item 7: under `umask 000` the folders were 0777 and the keyring 0666.
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let gec = env!("CARGO_BIN_EXE_gec");
    let script = format!("umask 000 && '{gec}' keys list && '{gec}' accounts list");
    let out = Command::new("sh")
        .args(["-c", &script])
        .env("GEC_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("keys")), 0o700);
    for file in ["keys/keyring.json", "keys/log.pem", "gec.db"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    // The kept checkpoint is written the same way.
    let checkpoint = data.join("log").join("checkpoint");
    gec::service::log_guard::write_anchor(&checkpoint, "note\n").unwrap();
    assert_eq!(mode(&checkpoint), 0o600);
    assert_eq!(mode(&data.join("log")), 0o700);
}
