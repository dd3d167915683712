//! The test harness: the real router on a fresh database, driven with `oneshot`.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use gec::db::Db;
use gec::service::accounts::{self, NewAccount, Role};
use gec::store::audit::Actor;
use gec::{AppState, Config};
use http_body_util::BodyExt;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

pub const PASSWORD: &str = "test-password-123";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: Db,
    pub database_url: String,
    pub dir: TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an RFC 9457 problem document with this status, and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(self.header("content-type"), "application/problem+json");
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert!(problem["title"].is_string() && problem["detail"].is_string());
        problem
    }
}

/// A fresh database URL: a new PostgreSQL database when `TEST_DATABASE_URL` is set, else a
/// SQLite file in `dir`.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("gec_test_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (base, query) = match admin_url.split_once('?') {
                Some((b, q)) => (b, format!("?{q}")),
                None => (admin_url.as_str(), String::new()),
            };
            let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
            format!("{prefix}/{name}{query}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("gec.db").display()),
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_private_webhooks(false).await
    }

    /// A service whose webhooks may target this machine (the tests' receivers).
    pub async fn with_private_webhooks(allow: bool) -> Self {
        Self::open(allow, gec::code::Algorithm::DEFAULT).await
    }

    /// A new deployment whose first code key is of `algorithm` (`--signing-alg`).
    pub async fn with_signing_alg(algorithm: gec::code::Algorithm) -> Self {
        Self::open(false, algorithm).await
    }

    async fn open(allow: bool, signing_alg: gec::code::Algorithm) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = fresh_database_url(dir.path()).await;
        let db = gec::db::connect(&database_url)
            .await
            .expect("connect and migrate");
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            database_url: database_url.clone(),
            public_url: "http://127.0.0.1:8080".into(),
            demo: false,
            metrics_bind: None,
            trusted_proxies: Vec::new(),
            code_cache_ttl: gec::service::cache::FRESH_FOR,
            webhook_allow_private: allow,
            witnesses: Vec::new(),
            signing_alg,
            scanner_max_age_secs: 86_400,
        };
        let state = AppState::open(db.clone(), config)
            .await
            .expect("open the key ring and the log");
        TestApp {
            router: gec::router(state.clone()),
            state,
            db,
            database_url,
            dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// A request with an optional bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// Approves assessment `id` (201 asserted): the issued code.
    pub async fn approve(&self, regulator: &str, id: i64) -> Value {
        let approved = self
            .post(
                &format!("/api/v1/assessments/{id}/approve"),
                Some(regulator),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text());
        approved.json()
    }

    /// Each body sent to `path` is refused (422), the problem naming its field.
    pub async fn refused_by_field(
        &self,
        method: Method,
        path: &str,
        token: &str,
        cases: Vec<(Value, &str)>,
    ) {
        for (body, field) in cases {
            let refused = self
                .call(method.clone(), path, Some(token), Some(body.clone()))
                .await
                .problem(422);
            assert_eq!(refused["field"], field, "{body}");
        }
    }

    pub async fn create_account(&self, role: Role, username: &str, firm: Option<&str>) {
        let firm = firm.map(|f| gec::grading::Uscc::parse(f).expect("test USCC"));
        accounts::create_account(
            &self.db,
            &Actor::system("test"),
            NewAccount {
                username: username.into(),
                password: PASSWORD.into(),
                role,
                firm,
                org: None,
                attests: Vec::new(),
            },
        )
        .await
        .expect("create account");
    }

    pub async fn login(&self, username: &str) -> String {
        let response = self
            .post(
                "/api/v1/login",
                None,
                serde_json::json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()["token"].as_str().expect("token").to_owned()
    }

    /// An account of `role` with a token.
    pub async fn token_for(&self, role: Role, username: &str) -> String {
        self.create_account(role, username, None).await;
        self.login(username).await
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("n")
    }
}

/// A valid USCC numbered `n`.
pub fn uscc(n: u32) -> String {
    gec::grading::Uscc::with_check_character(&format!("91500000MA{n:07}"))
        .unwrap()
        .to_string()
}

/// Yearly data a firm would send (methodology §1 without the records the service attaches).
pub fn yearly_data(uscc: &str) -> Value {
    serde_json::json!({
        "uscc": uscc, "period": 2025, "assessed_on": "2026-03-31", "value_added_10k_cny": "52000.50",
        "energy": [{"carrier": "electricity_kwh", "quantity": "18500000"},
                   {"carrier": "natural_gas_m3", "quantity": "420000"},
                   {"carrier": "diesel_t", "quantity": "35.5"}],
        "waste": {"generated_t": "3200", "stock_utilized_t": "150", "utilized_t": "3010"}
    })
}

impl TestApp {
    /// A firm (created by a regulator through the API) with its own user; returns its token.
    pub async fn firm_with_user(
        &self,
        regulator: &str,
        n: u32,
        industry_code: &str,
    ) -> (String, String) {
        let uscc = uscc(n);
        let username = format!("firm{n}");
        let response = self
            .post(
                "/api/v1/firms",
                Some(regulator),
                serde_json::json!({"uscc": uscc, "name": format!("测试企业{n}"), "industry_code": industry_code,
                                   "district": "渝北区", "username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        (uscc, self.login(&username).await)
    }

    /// Row counts of every table a request could change.
    pub async fn counts(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in [
            "firms",
            "accounts",
            "certifications",
            "vetoes",
            "assessments",
            "audit_events",
            "services",
            "service_requests",
            "policies",
            "applications",
            "application_messages",
            "application_files",
        ] {
            out.push((table.to_owned(), self.count(table).await));
        }
        out
    }
}

// ---- CSV rows for imports ----

pub const HEADER: &str = "uscc,name,industry_code,district,period,assessed_on,value_added_10k_cny,electricity_kwh,raw_coal_t,washed_coal_t,coke_t,crude_oil_t,fuel_oil_t,gasoline_t,kerosene_t,diesel_t,lpg_t,natural_gas_m3,heat_gj,waste_generated_t,waste_stock_utilized_t,waste_utilized_t";

/// A row for firm `n`, with energy and waste that vary with `n`.
pub fn row(n: u32) -> String {
    let industry = ["3670", "2614", "3982", "1310"][n as usize % 4];
    format!(
        "{},企业{n},{industry},{},2025,2026-03-31,{}.5,{},,,,,,,,{},,{},,{},{},{}",
        uscc(n),
        ["渝北区", "长寿区", "璧山区"][n as usize % 3],
        1000 + n * 37,
        1_000_000 + n * 7919,
        if n.is_multiple_of(5) {
            "12.25".to_owned()
        } else {
            String::new()
        },
        40_000 + n * 13,
        150 + n % 300,
        n % 50,
        (150 + n % 300) * (n % 10) / 10,
    )
}

pub fn csv_of(rows: impl IntoIterator<Item = String>) -> String {
    let mut text = format!("{HEADER}\r\n");
    for r in rows {
        text.push_str(&r);
        text.push_str("\r\n");
    }
    text
}

impl TestApp {
    /// Imports `n` firms with a 2025 submission each (numbered from `first`); their ids.
    pub async fn import_submissions(&self, regulator: &str, first: u32, n: u32) -> Vec<i64> {
        no_intensity_floor(&self.db).await;
        let request = Request::post("/api/v1/import")
            .header(header::AUTHORIZATION, format!("Bearer {regulator}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(csv_of((first..first + n).map(row))))
            .unwrap();
        let response = self.send(request).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["assessment_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    }
}

impl TestApp {
    /// Imports firm `n` with a 2025 submission, the abnormal-data settings as they are; its id.
    pub async fn import_submissions_as_they_are(&self, regulator: &str, n: u32) -> i64 {
        let request = Request::post("/api/v1/import")
            .header(header::AUTHORIZATION, format!("Bearer {regulator}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(csv_of([row(n)])))
            .unwrap();
        let response = self.send(request).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["assessment_ids"][0].as_i64().unwrap()
    }
}

/// A signed-in page session: the cookie header to send and the session's CSRF token.
pub struct PageSession {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    /// Posts the login form as a browser would (after opening it, for its CSRF cookie), with
    /// `next` as the page to go to afterwards.
    pub async fn sign_in_form(&self, username: &str, next: &str) -> TestResponse {
        let form = self.get("/login", None).await;
        let pre = form
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.strip_prefix("gec_csrf=")
                    .map(|r| r.split(';').next().unwrap_or("").to_owned())
            })
            .expect("pre-session cookie");
        let body = format!(
            "username={username}&password={PASSWORD}&csrf={pre}&next={}",
            enc(next)
        );
        self.form_post(
            "/login",
            &format!("gec_csrf={pre}"),
            body.into_bytes(),
            "application/x-www-form-urlencoded",
        )
        .await
    }

    pub async fn page_session(&self, username: &str) -> PageSession {
        let response = self.sign_in_form(username, "").await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "{}",
            response.text()
        );
        let session = response
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.strip_prefix("gec_session=")
                    .map(|r| r.split(';').next().unwrap_or("").to_owned())
            })
            .expect("session cookie");
        PageSession {
            csrf: gec::web::csrf::session_token(&session),
            cookie: format!("gec_session={session}"),
        }
    }

    pub async fn form_post(
        &self,
        path: &str,
        cookie: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> TestResponse {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    pub async fn page(&self, path: &str, session: Option<&PageSession>) -> TestResponse {
        let mut builder = Request::get(path);
        if let Some(s) = session {
            builder = builder.header(header::COOKIE, &s.cookie);
        }
        self.send(builder.body(Body::empty()).unwrap()).await
    }

    /// Posts a urlencoded form with the session's CSRF token added.
    pub async fn submit(
        &self,
        path: &str,
        session: &PageSession,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let mut pairs: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        pairs.push(("csrf".into(), session.csrf.clone()));
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.form_post(
            path,
            &session.cookie,
            body.into_bytes(),
            "application/x-www-form-urlencoded",
        )
        .await
    }
}

/// Percent-encodes a form value.
pub fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An HTTP client for a served binary: every status is an answer (not an error), and no
/// request waits more than a minute.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build(),
    )
}

pub fn is_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A `gec` server process that is killed (SIGKILL) and reaped when the guard is dropped, so a
/// test that fails or panics never leaves a server running after the suite.
pub struct ServerGuard {
    child: Option<std::process::Child>,
}

impl ServerGuard {
    pub fn new(child: std::process::Child) -> Self {
        ServerGuard { child: Some(child) }
    }

    /// Kills the server now (SIGKILL, as a crash would) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn child_mut(&mut self) -> &mut std::process::Child {
        self.child.as_mut().expect("the server is still running")
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the `gec` binary on a free port with `dir` as its data directory; returns the guard
/// that ends it and its base URL. What it prints afterwards is drained, so it never writes to a
/// closed pipe.
pub fn spawn_server(
    dir: &std::path::Path,
    database_url: &str,
    demo: bool,
) -> (ServerGuard, String) {
    spawn_server_with(dir, database_url, demo, &[])
}

/// [`spawn_server`] with more environment variables.
pub fn spawn_server_with(
    dir: &std::path::Path,
    database_url: &str,
    demo: bool,
    env: &[(&str, &str)],
) -> (ServerGuard, String) {
    use std::io::BufRead;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gec"));
    command.args(["serve", "--bind", "127.0.0.1:0"]);
    if demo {
        command.arg("--demo");
    }
    command.envs(env.iter().copied());
    // Errors and panics (a stack overflow included) reach the test run's own output, so that a
    // server that dies under a test says why.
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "gec=error");
    }
    let child = command
        .env("GEC_DATA_DIR", dir)
        .env("DATABASE_URL", database_url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start gec");
    let mut guard = ServerGuard::new(child);
    let stdout = guard.child_mut().stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the server prints its URL")
            .expect("a line");
        if let Some(url) = line.strip_prefix("gec serving on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (guard, base)
}

/// Runs `gec ARGS` with this data directory and database and `stdin` as its input; panics
/// unless it succeeds; what it printed.
/// A database as an operator starts one: a regulator `reg` (added with `gec accounts add`) and
/// the firms `numbers` with a 2025 submission each (`gec import`).
pub fn seed_with_cli(dir: &std::path::Path, url: &str, numbers: std::ops::Range<u32>) {
    gec_in(
        dir,
        url,
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
    let csv = dir.join(format!("firms-{}.csv", numbers.start));
    std::fs::write(&csv, csv_of(numbers.map(row))).unwrap();
    no_intensity_floor_at(url);
    gec_in(dir, url, &["import", csv.to_str().unwrap()], "");
}

/// The fixture rows ([`row`]) are synthetic firms that use far less energy than their
/// industry's baseline (a chemicals firm at a few per cent of it), which the regulator's default
/// abnormal-data floor (a tenth) flags, so that every approval would need a check record. The
/// tests that issue codes for them are about issuance and the log: they set the floor to 0 first,
/// as a district's regulator may (the thresholds' own tests are in `year.rs`).
pub async fn no_intensity_floor(db: &Db) {
    gec::service::settings::put_as(
        db,
        &Actor::system("test"),
        None,
        gec::service::abnormal::AbnormalSettings {
            intensity_floor_percent: "0".to_owned(),
            ..Default::default()
        },
    )
    .await
    .expect("the floor set to 0");
}

/// [`no_intensity_floor`] on the database at `url` (from outside a runtime).
pub fn no_intensity_floor_at(url: &str) {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = gec::db::connect(&url).await.expect("the database");
            no_intensity_floor(&db).await;
        })
    })
    .join()
    .unwrap();
}

pub fn gec_in(dir: &std::path::Path, url: &str, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(args)
        .env("GEC_DATA_DIR", dir)
        .env("DATABASE_URL", url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gec");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("gec output");
    assert!(
        out.status.success(),
        "gec {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `gec ARGS` on the app's database and data directory, with `stdin` as its input.
pub fn gec_cli(app: &TestApp, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("GEC_DATA_DIR", app.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gec");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("gec output")
}

impl TestApp {
    /// A firm's 2025 data ([`yearly_data`]) submitted: the assessment's id.
    pub async fn submit_yearly(&self, firm: &str, uscc: &str) -> i64 {
        let response = self
            .post("/api/v1/assessments", Some(firm), yearly_data(uscc))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["id"].as_i64().expect("an id")
    }

    /// The carbon-efficiency level the preview gives a firm's 2025 data (methodology §10).
    pub async fn preview_carbon_level(&self, firm: &str, uscc: &str) -> u8 {
        let preview = self
            .post("/api/v1/assessments/preview", Some(firm), yearly_data(uscc))
            .await
            .json();
        preview["carbon"]["level"]
            .as_u64()
            .and_then(|l| u8::try_from(l).ok())
            .expect("a carbon level")
    }

    /// A firm's 2025 data submitted and approved: the issued code's answer.
    pub async fn issue_code(&self, regulator: &str, firm: &str, uscc: &str) -> Value {
        let id = self
            .post("/api/v1/assessments", Some(firm), yearly_data(uscc))
            .await
            .json()["id"]
            .as_i64()
            .expect("submitted");
        let response = self
            .post(
                &format!("/api/v1/assessments/{id}/approve"),
                Some(regulator),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }
}

/// Runs `gec ARGS` (no database) with `stdin` as its input: what it printed, as JSON, and
/// how it exited.
pub fn gec_json(args: &[&str], stdin: &str) -> (Value, std::process::ExitStatus) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gec");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("gec output");
    let printed = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (printed, out.status)
}

/// A multipart form as a browser sends it: the CSRF token, the text fields, and a file
/// `(field, file name, content type, bytes)` if any; the body and its content type.
pub fn multipart(
    csrf: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &str, &[u8])>,
) -> (Vec<u8>, String) {
    let b = "GecTestBoundary";
    let mut body =
        format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .into_bytes();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, filename, kind, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={b}"))
}

impl TestApp {
    /// Posts a multipart form (see [`multipart`]) with the session's cookie and token.
    pub async fn submit_multipart(
        &self,
        path: &str,
        session: &PageSession,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &str, &[u8])>,
    ) -> TestResponse {
        let (body, kind) = multipart(&session.csrf, fields, file);
        self.form_post(path, &session.cookie, body, &kind).await
    }
}
