//! The log at scale (token.md §7, §8): tiles that rebuild the checkpoint, a witness that
//! cosigns, a restored backup that cannot fork the log, and the signed status list checked
//! offline.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gec::code::status_list::{ListedStatus, StatusList};
use gec::code::{KeySetDocument, TrustedKeys};
use gec::tlog::merkle::{self, Hash};
use gec::tlog::tiles::{self, Tile, TileKind};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, ServerGuard, TestApp, agent, csv_of, fresh_database_url, gec_cli, gec_in,
    is_postgres, row, seed_with_cli, spawn_server_with,
};

fn get(url: &str) -> (u16, Vec<u8>) {
    let mut response = agent().get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_vec().unwrap())
}

fn get_text(url: &str) -> (u16, String) {
    let (status, body) = get(url);
    (status, String::from_utf8(body).unwrap())
}

fn send(method: &str, url: &str, token: &str, body: Value) -> (u16, Value) {
    let request = match method {
        "POST" => agent().post(url),
        _ => panic!("{method}"),
    };
    let mut response = request
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `gec witness serve` on a free port: its guard, URL and verifier key.
fn start_witness(dir: &Path, log_vkey: &str) -> (ServerGuard, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_gec"))
        .args([
            "witness",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--name",
            "witness.test/w1",
        ])
        .arg("--data-dir")
        .arg(dir)
        .args(["--log", log_vkey])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = ServerGuard::new(child);
    let stdout = guard.child_mut().stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let vkey = lines.next().unwrap().unwrap();
    let vkey = vkey.strip_prefix("witness ").unwrap().to_owned();
    let url = lines.next().unwrap().unwrap();
    let url = url.strip_prefix("witness serving on ").unwrap().to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (guard, url, vkey)
}

fn login(base: &str) -> String {
    let mut response = agent()
        .post(&format!("{base}/api/v1/login"))
        .header("Content-Type", "application/json")
        .send(json!({"username": "reg", "password": PASSWORD}).to_string())
        .unwrap();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    body["token"].as_str().unwrap().to_owned()
}

fn submitted(base: &str, token: &str) -> Vec<i64> {
    let mut response = agent()
        .get(&format!(
            "{base}/api/v1/assessments?status=submitted&limit=100"
        ))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let mut ids: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

fn approve(base: &str, token: &str, id: i64) -> (u16, Value) {
    send(
        "POST",
        &format!("{base}/api/v1/assessments/{id}/approve"),
        token,
        json!({}),
    )
}

/// Every checkpoint seen, by size: a log that forks shows two roots for one size.
#[derive(Default)]
struct Seen(HashMap<u64, Vec<u8>>);

impl Seen {
    fn note(&mut self, note: &str) -> u64 {
        let lines: Vec<&str> = note.lines().collect();
        let size: u64 = lines[1].parse().unwrap();
        let root = STANDARD.decode(lines[2]).unwrap();
        if let Some(before) = self.0.get(&size) {
            assert_eq!(
                before, &root,
                "two checkpoints of size {size} with different roots"
            );
        }
        self.0.insert(size, root);
        size
    }

    fn checkpoint(&mut self, base: &str) -> (u64, String) {
        let (status, note) = get_text(&format!("{base}/log/checkpoint"));
        assert_eq!(status, 200);
        (self.note(&note), note)
    }

    /// The checkpoint once the witness has cosigned it (the witnesses are asked in the
    /// background, an approval does not wait for them).
    fn cosigned(&mut self, base: &str, witness: &gec::tlog::witness::VerifierKey) -> (u64, String) {
        for _ in 0..200 {
            let (size, note) = self.checkpoint(base);
            if !gec::tlog::witness::cosigners(&note, std::slice::from_ref(witness)).is_empty() {
                return (size, note);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the witness did not cosign within 10 s");
    }
}

/// Copies the database aside (`gec backup` on SQLite, `pg_dump` on PostgreSQL).
fn backup(dir: &Path, url: &str) -> std::path::PathBuf {
    let file = dir.join("backup.db");
    if is_postgres() {
        let out = Command::new("pg_dump")
            .args(["--format=custom", "--file"])
            .arg(&file)
            .arg(url)
            .output()
            .expect("pg_dump (postgresql-client)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        gec_in(dir, url, &["backup", file.to_str().unwrap()], "");
    }
    file
}

/// Puts the backup in place of the database (the service stopped).
fn restore(dir: &Path, url: &str, file: &Path) {
    if is_postgres() {
        let out = Command::new("pg_restore")
            .args([
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--dbname",
                url,
            ])
            .arg(file)
            .output()
            .expect("pg_restore (postgresql-client)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("gec.db{suffix}")));
        }
        std::fs::copy(file, dir.join("gec.db")).unwrap();
    }
}

fn health(base: &str) -> Value {
    serde_json::from_str(&get_text(&format!("{base}/healthz")).1).unwrap()
}

/// The issue's scenario, as an operator would run it: a backup, one more approval (a code
/// handed to the firm, a checkpoint signed and cosigned), the backup put back. The service
/// refuses to issue or revoke (503 `log_behind`, and `/healthz` says why) — from the checkpoint
/// it kept, and from the witness when that is lost too — until `gec log recover` restores the
/// missing entries from a mirror; then the firm's code verifies again, the log goes on, and no
/// two checkpoints of one size ever had different roots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_never_forks_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let data = dir.path().to_owned();
    tokio::task::spawn_blocking(move || scenario(&data, &url))
        .await
        .unwrap();
}

/// Starts the service once (making its keys) and stops it; the log's verifier key.
fn first_start(data: &Path, url: &str) -> String {
    let (server, base) = spawn_server_with(data, url, false, &[]);
    let keys: Value =
        serde_json::from_str(&get_text(&format!("{base}/.well-known/gec/keys.json")).1).unwrap();
    drop(server);
    keys["log"]["vkey"].as_str().unwrap().to_owned()
}

fn scenario(data: &Path, url: &str) {
    seed_with_cli(data, url, 7000..7006);
    let mut seen = Seen::default();

    // First start: the log key exists; a witness is set up for it.
    let log_vkey = first_start(data, url);
    let witness_dir = tempfile::tempdir().unwrap();
    let (_witness, witness_url, witness_vkey) = start_witness(witness_dir.path(), &log_vkey);
    let witness_arg = format!("{witness_vkey}={witness_url}");
    let env = [("GEC_WITNESSES", witness_arg.as_str())];

    let (mut server, base) = spawn_server_with(data, url, false, &env);
    let token = login(&base);
    let ids = submitted(&base, &token);
    assert_eq!(ids.len(), 6);
    let mut issued = Vec::new();
    for id in &ids[..4] {
        let (status, body) = approve(&base, &token, *id);
        assert_eq!(status, 201, "{body}");
        issued.push(body);
    }
    let witness_key = gec::tlog::witness::VerifierKey::parse(&witness_vkey).unwrap();
    let (size, _) = seen.cosigned(&base, &witness_key);
    assert_eq!(size, 4);

    let saved = backup(data, url);
    let (status, fifth) = approve(&base, &token, ids[4]);
    assert_eq!(status, 201, "{fifth}");
    assert_eq!(fifth["serial"], 4);
    // A firm registered after the backup gets its first code (issue 25: a restore brings
    // every code back, this one's firm included).
    let late_csv = data.join("late.csv");
    std::fs::write(&late_csv, csv_of([row(7100)])).unwrap();
    gec_in(data, url, &["import", late_csv.to_str().unwrap()], "");
    let late_id = *submitted(&base, &token)
        .iter()
        .find(|id| !ids.contains(id))
        .unwrap();
    let (status, late) = approve(&base, &token, late_id);
    assert_eq!(status, 201, "{late}");
    assert_eq!(late["serial"], 5);
    let (size, _) = seen.cosigned(&base, &witness_key);
    assert_eq!(size, 6);
    // A mirror of the log as it is now, in a folder any static host could serve.
    let mirror = data.join("mirror");
    gec_in(
        data,
        url,
        &[
            "log",
            "mirror",
            "--server",
            &base,
            "--dir",
            mirror.to_str().unwrap(),
        ],
        "",
    );
    let code_url = fifth["url"].as_str().unwrap().to_owned();
    server.kill();

    // The operator puts the backup back: four entries, though the log signed five.
    restore(data, url, &saved);
    let (mut server, base) = spawn_server_with(data, url, false, &env);
    let refused = |base: &str| {
        let token = login(base);
        let (status, body) = approve(base, &token, ids[5]);
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "log_behind");
        let (status, body) = send(
            "POST",
            &format!("{base}/api/v1/codes/0/revoke"),
            &token,
            json!({"reason": "test"}),
        );
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "log_behind");
        let health = health(base);
        assert_eq!(health["log"], "behind", "{health}");
        assert!(
            health["log_detail"]
                .as_str()
                .unwrap()
                .contains("gec log recover"),
            "{health}"
        );
    };
    refused(&base);
    // The log still shows the checkpoint it signed, never a smaller one.
    let (size, _) = seen.checkpoint(&base);
    assert_eq!(size, 6);
    server.kill();

    // The kept checkpoint is lost too (a whole machine restored): the witness remembers.
    std::fs::remove_file(data.join("log").join("checkpoint")).unwrap();
    let (mut server, base) = spawn_server_with(data, url, false, &env);
    refused(&base);
    server.kill();

    // Recovery from the mirror, checked against the signed checkpoint.
    let report: Value = serde_json::from_str(&gec_in(
        data,
        url,
        &["log", "recover", "--from", mirror.to_str().unwrap()],
        "",
    ))
    .unwrap();
    assert_eq!(report["from"], 4);
    assert_eq!(report["to"], 6);
    assert_eq!(report["codes"], json!([4, 5]));
    // The submission graded again as of the approval's day gives the code's trace: it is the
    // approved one again (not left in the queue to be approved twice). The late firm is
    // recreated from its code, for the regulator to complete.
    let late_uscc = late["uscc"].as_str().unwrap().to_owned();
    assert_eq!(report["firms_recreated"], json!([late_uscc]), "{report}");
    let notes = report["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{report}");
    assert!(
        notes[0].as_str().unwrap().contains("complete its name"),
        "{report}"
    );

    let (_server, base) = spawn_server_with(data, url, false, &env);
    assert_eq!(health(&base)["log"], "ok");
    let (status, verdict) = {
        let mut response = agent()
            .post(&format!("{base}/api/v1/verify"))
            .header("Content-Type", "application/json")
            .send(json!({"code": code_url}).to_string())
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_str::<Value>(&response.body_mut().read_to_string().unwrap()).unwrap(),
        )
    };
    assert_eq!(status, 200);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["status"], "active", "{verdict}");
    let verify_code = |code_url: &str| {
        let mut response = agent()
            .post(&format!("{base}/api/v1/verify"))
            .header("Content-Type", "application/json")
            .send(json!({"code": code_url}).to_string())
            .unwrap();
        serde_json::from_str::<Value>(&response.body_mut().read_to_string().unwrap()).unwrap()
    };
    let verdict = verify_code(late["url"].as_str().unwrap());
    assert_eq!(verdict["valid"], true, "the late firm's code: {verdict}");
    assert_eq!(verdict["status"], "active", "{verdict}");
    let token = login(&base);
    let firm: Value =
        serde_json::from_str(&get_text(&format!("{base}/api/v1/firms/{late_uscc}")).1).unwrap();
    assert_eq!(firm["to_complete"], true, "{firm}");
    assert_eq!(firm["code_serial"], 5, "{firm}");
    // The regulator completes it.
    let mut response = agent()
        .patch(&format!("{base}/api/v1/firms/{late_uscc}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(
            json!({"name": "重庆后来企业", "industry_code": "3670", "district": "渝北区"})
                .to_string(),
        )
        .unwrap();
    let completed: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(response.status().as_u16(), 200, "{completed}");
    assert_eq!(completed["to_complete"], false, "{completed}");
    assert_eq!(completed["name"], "重庆后来企业");
    assert_eq!(submitted(&base, &token), vec![ids[5]]);
    let (status, sixth) = approve(&base, &token, ids[5]);
    assert_eq!(status, 201, "{sixth}");
    assert_eq!(sixth["serial"], 6);
    // The witness cosigns the checkpoint after the recovery: consistent with the one before.
    let (size, _) = seen.cosigned(&base, &witness_key);
    assert_eq!(size, 7);
    // The log verifies with the witness's cosignature required.
    let out = gec_in(
        data,
        url,
        &[
            "log",
            "verify",
            "--server",
            &base,
            "--witness",
            &witness_vkey,
            "--min-cosignatures",
            "1",
        ],
        "",
    );
    let verdict: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verdict["ok"], true, "{verdict}");
    // The mirror follows the recovered log (its previous checkpoint rebuilt from the new
    // tiles), and every checkpoint seen rebuilds from the service's tiles: one root per size.
    let mirrored = gec_in(
        data,
        url,
        &[
            "log",
            "mirror",
            "--server",
            &base,
            "--dir",
            mirror.to_str().unwrap(),
        ],
        "",
    );
    assert!(mirrored.contains("\"ok\":true"), "{mirrored}");
    for (size, root) in &seen.0 {
        let rebuilt = tiles::root_from_tiles(*size, |t| {
            let (status, bytes) = get(&format!("{base}/log/tile/{}", t.path()));
            (status == 200)
                .then(|| tiles::parse_hash_tile(&bytes))
                .flatten()
        })
        .unwrap();
        assert_eq!(rebuilt.to_vec(), *root, "size {size}");
    }
}

async fn tile_hashes(app: &TestApp, tile: &Tile) -> Vec<Hash> {
    let response = app.get(&format!("/log/tile/{}", tile.path()), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", tile.path());
    tiles::parse_hash_tile(&response.body).unwrap()
}

/// Tiles: the checkpoint's root rebuilt from hash tiles alone, bundles hashing to level 0,
/// full tiles immutable, partial ones short-lived, nothing served beyond the log.
#[tokio::test]
async fn the_tiles_rebuild_the_checkpoint() {
    let app = TestApp::new().await;
    app.create_account(gec::service::accounts::Role::Regulator, "reg", None)
        .await;
    let reg = app.login("reg").await;
    // 300 real approvals would take long in a debug build: the log gets 297 more entries
    // appended as the service appends them, with a checkpoint signed over them.
    for n in 0..3 {
        let (uscc, firm) = app.firm_with_user(&reg, 7100 + n, "3670").await;
        app.issue_code(&reg, &firm, &uscc).await;
    }
    let keys = app.state.keys.current();
    let txn = gec::db::begin_write(&app.db).await.unwrap();
    let mut head = gec::store::tlog::lock_head(&txn).await.unwrap();
    let extra: Vec<(String, String)> = (head.size..300)
        .map(|i| {
            (
                "revoke".to_owned(),
                format!("{{\"serial\":{i},\"type\":\"revoke\"}}"),
            )
        })
        .collect();
    head = gec::store::tlog::append_many(&txn, head, &extra)
        .await
        .unwrap();
    let note = gec::tlog::Checkpoint {
        origin: keys.ring.log_origin.clone(),
        size: head.size,
        root: head.root,
    }
    .sign(&keys.ring.log_key);
    gec::store::tlog::store_checkpoint(&txn, head, &note)
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let checkpoint = app.get("/log/checkpoint", None).await.text();
    assert!(checkpoint.starts_with(&format!("{}\n300\n", keys.ring.log_origin)));
    let mut fetched = HashMap::new();
    for tile in tiles::tiles_of(300) {
        if let TileKind::Hashes(_) = tile.kind {
            fetched.insert(tile, tile_hashes(&app, &tile).await);
        }
    }
    let root = tiles::root_from_tiles(300, |t| fetched.get(t).cloned()).unwrap();
    assert_eq!(root, head.root);

    let full = app.get("/log/tile/0/000", None).await;
    assert_eq!(
        full.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(full.header("content-type"), "application/octet-stream");
    assert_eq!(full.body.len(), 256 * 32);
    let partial = app.get("/log/tile/0/001.p/44", None).await;
    assert_eq!(partial.status, StatusCode::OK);
    assert_eq!(partial.header("cache-control"), "public, max-age=10");
    // Entries hash to the level-0 tile; the first three are the codes' issue entries.
    let bundle = app.get("/log/tile/entries/000", None).await;
    let entries = tiles::unbundle(&bundle.body).unwrap();
    assert_eq!(entries.len(), 256);
    let leaves: Vec<Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
    assert_eq!(leaves, tiles::parse_hash_tile(&full.body).unwrap());
    let first: Value = serde_json::from_slice(&entries[0]).unwrap();
    assert_eq!(first["type"], "issue");
    assert!(
        first["code"].as_str().unwrap().len() > 100,
        "issue entries carry the code"
    );
    // Beyond the log, or not a tile path: not found.
    for path in [
        "0/001",
        "0/001.p/45",
        "1/000",
        "entries/002",
        "0/1",
        "9/x000/001",
        "entries",
    ] {
        let response = app.get(&format!("/log/tile/{path}"), None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
    }
}

fn trusted(app: &TestApp) -> (TrustedKeys, KeySetDocument) {
    let document = app.state.keys.current().document.clone();
    (TrustedKeys::from_document(&document).unwrap(), document)
}

/// The status list: each serial's status, a revoke entry's index "not a code", the version the
/// log's size; `gec verify --status` checks a code offline and refuses an older list after a
/// newer one.
#[tokio::test]
async fn the_status_list_checks_codes_offline() {
    let app = TestApp::new().await;
    app.create_account(gec::service::accounts::Role::Regulator, "reg", None)
        .await;
    let reg = app.login("reg").await;
    let (uscc1, f1) = app.firm_with_user(&reg, 7201, "3670").await;
    let (uscc2, f2) = app.firm_with_user(&reg, 7202, "3670").await;
    let first = app.issue_code(&reg, &f1, &uscc1).await; // 0, superseded by 1
    let second = app.issue_code(&reg, &f1, &uscc1).await; // 1
    let other = app.issue_code(&reg, &f2, &uscc2).await; // 2
    let (trusted, document) = trusted(&app);
    let older = app.get("/.well-known/gec/status", None).await;
    assert_eq!(older.status, StatusCode::OK);
    assert_eq!(older.header("content-type"), "application/cose");
    let response = app
        .post(
            "/api/v1/codes/2/revoke",
            Some(&reg),
            json!({"reason": "数据造假"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let newer = app.get("/.well-known/gec/status", None).await;
    let list = StatusList::open(&newer.body, &trusted).unwrap();
    assert_eq!(list.version, 4);
    assert_eq!(list.size, 4);
    assert_eq!(list.get(0), Some(ListedStatus::Superseded));
    assert_eq!(list.get(1), Some(ListedStatus::Active));
    assert_eq!(list.get(2), Some(ListedStatus::Revoked));
    assert_eq!(list.get(3), Some(ListedStatus::NotACode));
    assert_eq!(StatusList::open(&older.body, &trusted).unwrap().version, 3);

    let files = tempfile::tempdir().unwrap();
    let keys_file = files.path().join("keys.json");
    std::fs::write(&keys_file, serde_json::to_vec(&document).unwrap()).unwrap();
    let (older_file, newer_file) = (files.path().join("old.cose"), files.path().join("new.cose"));
    std::fs::write(&older_file, &older.body).unwrap();
    std::fs::write(&newer_file, &newer.body).unwrap();
    let state = files.path().join("seen.json");
    let verify_with = |code: &Value, list: &Path, extra: &[&str]| {
        let mut args = vec![
            "verify",
            code["url"].as_str().unwrap(),
            "--keys",
            keys_file.to_str().unwrap(),
            "--status",
            list.to_str().unwrap(),
            "--status-state",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = gec_cli(&app, &args, "");
        let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.success(), verdict)
    };
    let verify = |code: &Value, list: &Path| verify_with(code, list, &[]);
    // Before the revocation was known: valid.
    let (ok, verdict) = verify(&other, &older_file);
    assert!(ok, "{verdict}");
    assert_eq!(verdict["status"], "active");
    let (ok, verdict) = verify(&other, &newer_file);
    assert!(!ok);
    assert_eq!(verdict["reason"], "revoked", "{verdict}");
    let (ok, verdict) = verify(&first, &newer_file);
    assert!(!ok);
    assert_eq!(verdict["reason"], "superseded", "{verdict}");
    let (ok, verdict) = verify(&second, &newer_file);
    assert!(ok, "{verdict}");
    assert_eq!(verdict["status_list_version"], 4);
    // The older list after the newer one: refused (a rolled-back list could hide a revocation).
    let (ok, verdict) = verify(&other, &older_file);
    assert!(!ok);
    assert_eq!(verdict["reason"], "status_unknown", "{verdict}");
    assert!(
        verdict["detail"].as_str().unwrap().contains("older"),
        "{verdict}"
    );
    // Issue 25, item 6: --max-age. A fresh list says "active"; the same list two days on
    // does not, while a revocation in it is still final.
    let (ok, verdict) = verify_with(&second, &newer_file, &["--max-age", "1d"]);
    assert!(ok, "{verdict}");
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let (ok, verdict) = verify_with(&second, &newer_file, &["--max-age", "1d", "--at", &later]);
    assert!(!ok);
    assert_eq!(verdict["reason"], "status_unknown", "{verdict}");
    assert!(
        verdict["detail"].as_str().unwrap().contains("--max-age"),
        "{verdict}"
    );
    let (ok, verdict) = verify_with(&other, &newer_file, &["--max-age", "1d", "--at", &later]);
    assert!(!ok);
    assert_eq!(verdict["reason"], "revoked", "{verdict}");
    let out = gec_cli(
        &app,
        &["verify", "x", "--keys", "k", "--max-age", "a week"],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("36h"));

    // The bank desk offers the list and the keys, with a line on how to use them: the scanner
    // page, which keeps them on the phone (issue 24: no command line on a person's page).
    app.create_account(gec::service::accounts::Role::Bank, "bank", None)
        .await;
    let session = app.page_session("bank").await;
    let desk = app.page("/bank", Some(&session)).await.text();
    assert!(desk.contains("href=\"/.well-known/gec/status\""), "{desk}");
    assert!(desk.contains("离线核验状态清单") && desk.contains("href=\"/verify\""));
    assert!(!desk.contains("gec verify"), "no command line on the desk");
}

/// The witness keeps to c2sp.org/tlog-witness: an unknown log 404, a bad signature 403, a
/// wrong old size 409 with its own size, a proof that does not hold 422 — and it never cosigns
/// a checkpoint inconsistent with the last one it cosigned, also after a restart.
#[test]
fn the_witness_cosigns_only_consistent_checkpoints() {
    use ed25519_dalek::SigningKey;
    use gec::tlog::Checkpoint;
    use gec::tlog::witness::{VerifierKey, cosigners, request_body};
    let log = SigningKey::from_bytes(&[21u8; 32]);
    let origin = "gec.test/log";
    let log_vkey = VerifierKey::of_log(origin, &log.verifying_key()).encode();
    let dir = tempfile::tempdir().unwrap();
    let (mut guard, url, vkey) = start_witness(dir.path(), &log_vkey);
    let witness = VerifierKey::parse(&vkey).unwrap();
    assert_eq!(get_text(&format!("{url}/")).1.trim(), vkey);

    let tree = |entries: &[&str]| {
        let mut t = merkle::MemoryTree::default();
        for e in entries {
            t.append(merkle::leaf_hash(e.as_bytes()));
        }
        t
    };
    let honest = tree(&["a", "b", "c", "d", "e"]);
    let forked = tree(&["a", "X", "c", "d", "e"]);
    let note = |t: &merkle::MemoryTree, size: u64, key: &SigningKey| {
        Checkpoint {
            origin: origin.into(),
            size,
            root: t.root(size),
        }
        .sign(key)
    };
    let post = |url: &str, body: String| {
        let mut response = agent()
            .post(&format!("{url}/add-checkpoint"))
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            content_type,
            response.body_mut().read_to_string().unwrap(),
        )
    };
    let proof = |t: &merkle::MemoryTree, old: u64, new: u64| {
        merkle::consistency_plan(old, new)
            .resolve(&t.nodes)
            .unwrap()
    };

    // Unknown log, and a known origin signed by another key.
    let stranger = SigningKey::from_bytes(&[22u8; 32]);
    let other = Checkpoint {
        origin: "other/log".into(),
        size: 3,
        root: honest.root(3),
    }
    .sign(&stranger);
    assert_eq!(post(&url, request_body(0, &[], &other)).0, 404);
    assert_eq!(
        post(&url, request_body(0, &[], &note(&honest, 3, &stranger))).0,
        403
    );
    // The first checkpoint, from old size 0.
    let three = note(&honest, 3, &log);
    let (status, _, lines) = post(&url, request_body(0, &[], &three));
    assert_eq!(status, 200, "{lines}");
    assert_eq!(
        cosigners(&format!("{three}{lines}"), std::slice::from_ref(&witness)).len(),
        1
    );
    // A client that does not know the witness's size learns it.
    let (status, content_type, body) = post(&url, request_body(0, &[], &note(&honest, 5, &log)));
    assert_eq!(
        (status, content_type.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "3\n")
    );
    // A fork: size 5 of another tree, with a proof from 3 of that tree — refused.
    let (status, _, _) = post(
        &url,
        request_body(3, &proof(&forked, 3, 5), &note(&forked, 5, &log)),
    );
    assert_eq!(status, 422);
    // Old size above the checkpoint's: a bad request.
    assert_eq!(post(&url, request_body(4, &[], &three)).0, 400);
    // After a restart, the witness still holds 3 and cosigns the honest 5 only.
    guard.kill();
    let (_guard, url, _) = start_witness(dir.path(), &log_vkey);
    let (status, _, body) = post(&url, request_body(0, &[], &three));
    assert_eq!((status, body.as_str()), (409, "3\n"));
    let five = note(&honest, 5, &log);
    let (status, _, lines) = post(&url, request_body(3, &proof(&honest, 3, 5), &five));
    assert_eq!(status, 200, "{lines}");
    assert_eq!(
        cosigners(&format!("{five}{lines}"), std::slice::from_ref(&witness)).len(),
        1
    );
    // The same size with another root: a conflict, not a cosignature.
    let (status, _, body) = post(&url, request_body(5, &[], &note(&forked, 5, &log)));
    assert_eq!((status, body.as_str()), (409, "5\n"));
    // Never a smaller tree after a larger one.
    assert_eq!(post(&url, request_body(5, &[], &three)).0, 400);
}

/// Issue 25, faults survived: a witness that is down and one that never answers do not stop
/// issuance; the checkpoint carries the cosignatures it got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuance_goes_on_with_a_witness_down_and_one_that_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let data = dir.path().to_owned();
    tokio::task::spawn_blocking(move || witnesses_at_fault(&data, &url))
        .await
        .unwrap();
}

fn witnesses_at_fault(data: &Path, url: &str) {
    seed_with_cli(data, url, 7400..7403);
    let log_vkey = first_start(data, url);
    let (dir_a, dir_b, dir_c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (_a, url_a, vkey_a) = start_witness(dir_a.path(), &log_vkey);
    // B is down (its process gone, its port closed); C takes the connection and never answers.
    let (b, url_b, vkey_b) = start_witness(dir_b.path(), &log_vkey);
    drop(b);
    let (c, _, vkey_c) = start_witness(dir_c.path(), &log_vkey);
    drop(c);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url_c = format!("http://{}", silent.local_addr().unwrap());
    let witnesses = format!("{vkey_a}={url_a},{vkey_b}={url_b},{vkey_c}={url_c}");
    let (_server, base) = spawn_server_with(data, url, false, &[("GEC_WITNESSES", &witnesses)]);
    let token = login(&base);
    let ids = submitted(&base, &token);
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let (status, body) = approve(&base, &token, *id);
        assert_eq!(status, 201, "issuance goes on: {body}");
    }
    let mut seen = Seen::default();
    let key = |v: &str| gec::tlog::witness::VerifierKey::parse(v).unwrap();
    let (size, note) = seen.cosigned(&base, &key(&vkey_a));
    assert_eq!(size, 3, "{note}");
    for absent in [&vkey_b, &vkey_c] {
        assert!(
            gec::tlog::witness::cosigners(&note, &[key(absent)]).is_empty(),
            "{note}"
        );
    }
    assert_eq!(health(&base)["status"], "ok");
    drop(silent);
}

/// Recovery restores what the missing entries record in order, however they fall into its
/// batches: a code superseded by a later missing one of the same firm, a code from before the
/// backup superseded by a missing one, and a revocation of a code from before the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_restores_supersessions_and_revocations_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let data = dir.path().to_owned();
    tokio::task::spawn_blocking(move || chains(&data, &url))
        .await
        .unwrap();
}

fn chains(data: &Path, url: &str) {
    seed_with_cli(data, url, 7200..7204);
    first_start(data, url);
    let (mut server, base) = spawn_server_with(data, url, false, &[]);
    let token = login(&base);
    let ids = submitted(&base, &token);
    for id in &ids[..3] {
        assert_eq!(approve(&base, &token, *id).0, 201);
    }
    let saved = backup(data, url);
    // Missing from the backup: 3 (firm 7203), then 7200 and 7203 filed again — 4 supersedes
    // 0, 5 supersedes 3 — and 6 revokes 1.
    assert_eq!(approve(&base, &token, ids[3]).1["serial"], 3);
    let again = data.join("again.csv");
    std::fs::write(&again, csv_of([row(7200), row(7203)])).unwrap();
    gec_in(data, url, &["import", again.to_str().unwrap()], "");
    let refiled = submitted(&base, &token);
    assert_eq!(refiled.len(), 2);
    let (_, fourth) = approve(&base, &token, refiled[0]);
    assert_eq!(
        (fourth["serial"].as_u64(), fourth["supersedes"].as_u64()),
        (Some(4), Some(0))
    );
    let (_, fifth) = approve(&base, &token, refiled[1]);
    assert_eq!(
        (fifth["serial"].as_u64(), fifth["supersedes"].as_u64()),
        (Some(5), Some(3))
    );
    let (status, body) = send(
        "POST",
        &format!("{base}/api/v1/codes/1/revoke"),
        &token,
        json!({"reason": "test"}),
    );
    assert_eq!(status, 200, "{body}");
    let before: Vec<Value> = (0..6).map(|s| code_facts(&base, s)).collect();
    let mirror = data.join("mirror");
    let dir_arg = mirror.to_str().unwrap();
    gec_in(
        data,
        url,
        &["log", "mirror", "--server", &base, "--dir", dir_arg],
        "",
    );
    server.kill();

    restore(data, url, &saved);
    let report: Value = serde_json::from_str(&gec_in(
        data,
        url,
        &["log", "recover", "--from", dir_arg],
        "",
    ))
    .unwrap();
    assert_eq!(
        (report["from"].as_u64(), report["to"].as_u64()),
        (Some(3), Some(7))
    );
    assert_eq!(report["codes"], json!([3, 4, 5]), "{report}");
    assert_eq!(report["revoked"], json!([1]), "{report}");
    let (_server, base) = spawn_server_with(data, url, false, &[]);
    let after: Vec<Value> = (0..6).map(|s| code_facts(&base, s)).collect();
    assert_eq!(after, before);
    assert_eq!(
        after
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "superseded",
            "revoked",
            "active",
            "superseded",
            "active",
            "active"
        ]
    );
    let token = login(&base);
    assert_eq!(
        submitted(&base, &token),
        Vec::<i64>::new(),
        "nothing is left to approve twice"
    );
}

/// A code's public facts: status, what superseded it, grade, firm.
fn code_facts(base: &str, serial: u64) -> Value {
    let (status, text) = get_text(&format!("{base}/api/v1/codes/{serial}"));
    assert_eq!(status, 200, "{text}");
    let code: Value = serde_json::from_str(&text).unwrap();
    json!({"status": code["status"], "superseded_by": code["superseded_by"],
           "grade": code["grade"], "uscc": code["uscc"]})
}
