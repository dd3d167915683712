//! Faults survived (issue 25): a full disk under SQLite refuses changes with a plain 503 while
//! reads and scans go on, corrupts nothing, and takes changes again once space is back.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, agent, is_postgres, seed_with_cli, spawn_server_with};

/// A request's status, its body as JSON (null when it is not JSON) and its Retry-After.
fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value, String) {
    let agent = agent();
    let mut response = match (method, body) {
        ("GET", _) => {
            let mut request = agent.get(url);
            if let Some(t) = token {
                request = request.header("Authorization", &format!("Bearer {t}"));
            }
            request.call().unwrap()
        }
        (_, body) => {
            let mut request = agent.post(url).header("Content-Type", "application/json");
            if let Some(t) = token {
                request = request.header("Authorization", &format!("Bearer {t}"));
            }
            request.send(body.unwrap_or(json!({})).to_string()).unwrap()
        }
    };
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        retry,
    )
}

/// A command run as root: directly when the tests run as root, else through `sudo -n`.
fn as_root(program: &str) -> std::process::Command {
    if id("-u") == "0" {
        std::process::Command::new(program)
    } else {
        let mut command = std::process::Command::new("sudo");
        command.args(["-n", program]);
        command
    }
}

fn id(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Signs the regulator in; its token and the ids of the `expected` submissions waiting.
fn sign_in_with_queue(base: &str, expected: usize) -> (String, Vec<i64>) {
    let (status, login, _) = call(
        "POST",
        &format!("{base}/api/v1/login"),
        None,
        Some(json!({"username": "reg", "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_owned();
    let (_, queue, _) = call(
        "GET",
        &format!("{base}/api/v1/assessments?status=submitted&limit=100"),
        Some(&token),
        None,
    );
    let ids: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), expected, "{queue}");
    (token, ids)
}

fn approve_at(base: &str, token: &str, id: i64) -> (u16, Value, String) {
    call(
        "POST",
        &format!("{base}/api/v1/assessments/{id}/approve"),
        Some(token),
        None,
    )
}

/// A small tmpfs owned by the tests' user, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let options = format!("size={size},uid={},gid={},mode=0700", id("-u"), id("-g"));
        let out = as_root("mount")
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(at)
            .output()
            .expect("mount (util-linux)");
        assert!(
            out.status.success(),
            "mounting a small tmpfs needs root or password-less sudo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(at.to_owned())
    }

    /// Fills the disk to its last byte; the filler's path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = as_root("umount").arg("-l").arg(&self.0).output();
    }
}

#[test]
#[ignore = "needs root or password-less sudo to mount a small tmpfs (util-linux mount)"]
fn a_full_disk_refuses_changes_plainly_serves_reads_and_recovers_intact() {
    if is_postgres() {
        // The SQLite deployment's fault: PostgreSQL's own disk is the server's business.
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&root.path().join("disk"), "24m");
    let data = disk.0.clone();
    let url = format!("sqlite://{}?mode=rwc", data.join("gec.db").display());
    seed_with_cli(&data, &url, 7300..7303);
    let (_server, base) = spawn_server_with(&data, &url, false, &[]);
    let (token, ids) = sign_in_with_queue(&base, 3);
    let approve = |id: i64| approve_at(&base, &token, id);
    let (status, first, _) = approve(ids[0]);
    assert_eq!(status, 201, "{first}");
    let code_url = first["url"].as_str().unwrap().to_owned();
    let uscc = first["uscc"].as_str().unwrap().to_owned();

    // The disk fills up.
    let filler = disk.fill();
    let (status, refused, retry) = approve(ids[1]);
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["code"], "unavailable", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("disk is full"),
        "{refused}"
    );
    assert!(!retry.is_empty(), "a time to retry is given");
    let (status, refused, _) = call(
        "POST",
        &format!("{base}/api/v1/firms"),
        Some(&token),
        Some(
            json!({"uscc": crate::helpers::uscc(7310), "name": "重庆满盘公司",
                    "industry_code": "3670", "district": "渝北区"}),
        ),
    );
    assert_eq!(status, 503, "{refused}");
    // Reads and scans go on.
    let (status, firm, _) = call("GET", &format!("{base}/api/v1/firms/{uscc}"), None, None);
    assert_eq!(status, 200, "{firm}");
    let (status, verdict, _) = call(
        "POST",
        &format!("{base}/api/v1/verify"),
        None,
        Some(json!({"code": code_url})),
    );
    assert_eq!(status, 200);
    assert_eq!(verdict["valid"], true, "{verdict}");
    let path = &code_url[code_url.find("/c/").or(code_url.find("/C/")).unwrap()..];
    let (status, _, _) = call("GET", &format!("{base}{path}"), None, None);
    assert_eq!(status, 200, "the scan page");

    // Space comes back: changes are taken again, and nothing was lost or half-written.
    std::fs::remove_file(filler).unwrap();
    let (status, second, _) = approve(ids[1]);
    assert_eq!(status, 201, "{second}");
    assert_eq!(
        second["serial"], 1,
        "the refused approval left no gap in the log"
    );
    let (status, third, _) = approve(ids[2]);
    assert_eq!(status, 201, "{third}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(["log", "verify", "--server", &base])
        .env("GEC_DATA_DIR", root.path().join("witness-state"))
        .output()
        .unwrap();
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(verdict["ok"], true, "{verdict}");
    drop(_server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let integrity = rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0).unwrap()
    });
    assert_eq!(integrity, "ok");
}

/// The PostgreSQL server binaries (`initdb`, `pg_ctl`) of the newest installed version.
fn pg_bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries (Debian: postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("PostgreSQL server binaries (Debian: postgresql)")
}

/// A throw-away PostgreSQL cluster of this test's own, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    /// Runs a server binary as the `postgres` user when the tests run as root (it refuses
    /// root), else as the tests' user.
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let path = self.bin.join(program);
        let mut command = if id("-u") == "0" {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            std::process::Command::new(&path)
        };
        command
            .args(args)
            .output()
            .expect("run a PostgreSQL binary")
    }

    fn start_new() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        if id("-u") == "0" {
            std::process::Command::new("chown")
                .args(["postgres"])
                .arg(dir.path())
                .output()
                .unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            bin: pg_bindir(),
            dir,
            port,
        };
        let data = cluster.data();
        let out = cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let out = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian: postgresql) to run a cluster of its own"]
async fn postgres_restarted_under_load_fails_fast_then_every_acknowledged_approval_has_its_code() {
    tokio::task::spawn_blocking(postgres_restart).await.unwrap();
}

fn postgres_restart() {
    let cluster = Cluster::start_new();
    let url = cluster.url();
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    seed_with_cli(data, &url, 7500..7510);
    let (_server, base) = spawn_server_with(data, &url, false, &[]);
    let (token, ids) = sign_in_with_queue(&base, 10);
    let approve = |id: i64| approve_at(&base, &token, id);
    let mut acknowledged: Vec<Value> = Vec::new();
    for id in &ids[..4] {
        let (status, body, _) = approve(*id);
        assert_eq!(status, 201, "{body}");
        acknowledged.push(body);
    }

    // The server goes down: requests are answered, with 503 and the reason, not left hanging
    // and not 500.
    cluster.stop();
    for id in &ids[4..6] {
        let (status, body, retry) = approve(*id);
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "unavailable", "{body}");
        assert!(!retry.is_empty());
    }
    let (status, body, _) = call("GET", &format!("{base}/api/v1/firms"), Some(&token), None);
    assert_eq!(status, 503, "{body}");

    // It comes back: the pool reconnects, no request fails, and every approval acknowledged
    // before, during or after has its code, with no gap in the log.
    cluster.start();
    for id in &ids[4..] {
        let (status, body, _) = approve(*id);
        assert_eq!(status, 201, "after the restart: {body}");
        acknowledged.push(body);
    }
    for issued in &acknowledged {
        let (status, verdict, _) = call(
            "POST",
            &format!("{base}/api/v1/verify"),
            None,
            Some(json!({"code": issued["url"]})),
        );
        assert_eq!(status, 200);
        assert_eq!(verdict["valid"], true, "{verdict}");
    }
    let serials: Vec<i64> = acknowledged
        .iter()
        .map(|a| a["serial"].as_i64().unwrap())
        .collect();
    assert_eq!(serials, (0..10).collect::<Vec<_>>(), "no gap, no double");
}
