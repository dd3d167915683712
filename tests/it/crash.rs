//! Crash safety: approvals in a burst, the server killed with SIGKILL in the middle, restarted.
//! Every approval the client saw succeed has its code, the log has no gap or double, each firm
//! has at most one active code, and the log after the crash extends the log before it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gec::tlog::merkle;
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::helpers::{PASSWORD, agent, csv_of, fresh_database_url, gec_in, row};

fn start(dir: &std::path::Path, url: &str) -> (crate::helpers::ServerGuard, String) {
    crate::helpers::spawn_server(dir, url, false)
}

fn get_json(url: &str, token: Option<&str>) -> Value {
    let mut request = agent().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let text = request.call().unwrap().body_mut().read_to_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

fn checkpoint(base: &str) -> (u64, Vec<u8>) {
    let note = agent()
        .get(&format!("{base}/log/checkpoint"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let lines: Vec<&str> = note.lines().collect();
    (
        lines[1].parse().unwrap(),
        STANDARD.decode(lines[2]).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_survive_a_sigkill_in_the_middle_of_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let data_dir = dir.path().to_owned();
    let csv = dir.path().join("firms.csv");
    std::fs::write(&csv, csv_of((5000..5400).map(row))).unwrap();
    let (url2, data_dir2) = (url.clone(), data_dir.clone());
    tokio::task::spawn_blocking(move || {
        gec_in(
            &data_dir2,
            &url2,
            &[
                "accounts",
                "add",
                "--role",
                "regulator",
                "--username",
                "reg",
            ],
            &format!("{PASSWORD}\n"),
        );
        crate::helpers::no_intensity_floor_at(&url2);
        gec_in(&data_dir2, &url2, &["import", csv.to_str().unwrap()], "");
    })
    .await
    .unwrap();

    let checks_url = url.clone();
    let (seen, before_crash, after_crash) = tokio::task::spawn_blocking(move || {
        let (mut server, base) = start(&data_dir, &url);
        let login: Value = serde_json::from_str(
            &agent()
                .post(&format!("{base}/api/v1/login"))
                .header("Content-Type", "application/json")
                .send(serde_json::json!({"username": "reg", "password": PASSWORD}).to_string())
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        let token = login["token"].as_str().unwrap().to_owned();
        let queue = get_json(
            &format!("{base}/api/v1/assessments?status=submitted&limit=500"),
            Some(&token),
        );
        let ids: Vec<i64> = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 400);
        let seen: Arc<Mutex<Vec<(i64, u64)>>> = Arc::default();
        let mut workers = Vec::new();
        for part in ids.chunks(50) {
            let (part, seen, base, token) =
                (part.to_vec(), seen.clone(), base.clone(), token.clone());
            workers.push(std::thread::spawn(move || {
                for id in part {
                    let response = agent()
                        .post(&format!("{base}/api/v1/assessments/{id}/approve"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .send_empty();
                    match response {
                        Ok(mut r) if r.status() == 201 => {
                            let body: Value =
                                serde_json::from_str(&r.body_mut().read_to_string().unwrap())
                                    .unwrap();
                            seen.lock()
                                .unwrap()
                                .push((id, body["serial"].as_u64().unwrap()));
                        }
                        Ok(r) => panic!("approval {id} answered {}", r.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        while seen.lock().unwrap().len() < 60 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let before_crash = checkpoint(&base);
        server.kill(); // SIGKILL
        for worker in workers {
            worker.join().unwrap();
        }
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.len() < 400,
            "the crash came in the middle of the burst"
        );

        let (mut server, base) = start(&data_dir, &url);
        let after_crash = checkpoint(&base);
        let proof = get_json(
            &format!(
                "{base}/log/proof/consistency?from={}&to={}",
                before_crash.0, after_crash.0
            ),
            None,
        );
        let hashes: Vec<Vec<u8>> = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| STANDARD.decode(h.as_str().unwrap()).unwrap())
            .collect();
        merkle::verify_consistency(
            before_crash.0,
            after_crash.0,
            &before_crash.1,
            &after_crash.1,
            &hashes,
        )
        .expect("the log after the crash extends the log before it");
        for (id, serial) in &seen {
            let code = get_json(&format!("{base}/api/v1/codes/{serial}"), None);
            assert_eq!(
                code["serial"].as_u64(),
                Some(*serial),
                "approval {id} has its code"
            );
        }
        server.kill();
        (seen, before_crash, after_crash)
    })
    .await
    .unwrap();
    assert!(after_crash.0 >= before_crash.0);

    // The database itself: a gap-free log, one code per entry, at most one active code a firm.
    let db = gec::db::connect(&checks_url).await.unwrap();
    let head = gec::store::tlog::read_head(&db).await.unwrap();
    let entries = gec::store::tlog::entry::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let indices: HashSet<i64> = entries.iter().map(|e| e.idx).collect();
    assert_eq!(entries.len() as u64, head.size, "one entry per index");
    assert_eq!(
        indices,
        (0..head.size as i64).collect::<HashSet<_>>(),
        "no gap"
    );
    let leaves: Vec<merkle::Hash> = {
        let mut sorted = entries.clone();
        sorted.sort_by_key(|e| e.idx);
        sorted
            .iter()
            .map(|e| merkle::leaf_hash(e.bytes.as_bytes()))
            .collect()
    };
    assert_eq!(
        merkle::root_from_leaves(&leaves),
        head.root,
        "the head's root is the root of the entries"
    );
    let codes = gec::store::codes::Entity::find().all(&db).await.unwrap();
    assert_eq!(
        codes.len() as u64,
        head.size,
        "every issue entry has its code"
    );
    let mut active: HashMap<i64, u32> = HashMap::new();
    for code in codes
        .iter()
        .filter(|c| c.status == gec::store::codes::CodeStatus::Active)
    {
        *active.entry(code.firm_id.0).or_default() += 1;
    }
    assert!(active.values().all(|n| *n == 1));
    for (_, serial) in &seen {
        assert!(codes.iter().any(|c| c.serial as u64 == *serial));
    }
    db.close().await.unwrap();
}
