//! The service's foundation: health, errors as problem documents, middleware, migrations,
//! graceful shutdown.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, fresh_database_url};

#[tokio::test]
async fn healthz_answers_ok_when_the_database_answers() {
    let app = TestApp::new().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({"status": "ok", "database": "ok", "log": "ok"})
    );
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = TestApp::new().await;
    let response = app.get("/", None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(response.header("x-content-type-options"), "nosniff");
    assert_eq!(response.header("referrer-policy"), "no-referrer");
    assert_eq!(response.header("x-request-id").len(), 36);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::new().await;
    let request = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"username\": "))
        .unwrap();
    let problem = app.send(request).await.problem(400);
    assert_eq!(problem["code"], "bad_request");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_422_naming_the_field() {
    let app = TestApp::new().await;
    let response = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": 7, "password": "x"}),
        )
        .await;
    let problem = response.problem(422);
    assert_eq!(problem["field"], "username");
}

#[tokio::test]
async fn a_missing_or_unknown_field_is_a_422() {
    let app = TestApp::new().await;
    let missing = app
        .post("/api/v1/login", None, json!({"username": "a"}))
        .await
        .problem(422);
    assert_eq!(missing["field"], "password");
    let unknown = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "a", "password": "b", "role": "x"}),
        )
        .await;
    unknown.problem(422);
}

#[tokio::test]
async fn a_body_without_json_content_type_is_a_415() {
    let app = TestApp::new().await;
    let request = Request::post("/api/v1/login")
        .body(Body::from("{}"))
        .unwrap();
    app.send(request).await.problem(415);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = TestApp::new().await;
    let big = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let request = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    app.send(request).await.problem(413);
}

#[tokio::test]
async fn unknown_api_paths_and_methods_are_problems() {
    let app = TestApp::new().await;
    app.get("/api/v1/no-such-thing", None).await.problem(404);
    let response = app.call(Method::DELETE, "/api/v1/login", None, None).await;
    response.problem(405);
    assert_eq!(response.header("allow"), "POST");
}

async fn boom() -> &'static str {
    panic!("deliberate")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_service_lives_on() {
    let routes = axum::Router::new()
        .route("/api/v1/boom", axum::routing::get(boom))
        .route("/api/v1/fine", axum::routing::get(|| async { "fine" }));
    let app = TestApp::new().await;
    let router = gec::web::middleware::wrap(routes, false).with_state(app.state.clone());
    use tower::ServiceExt;
    let boom = router
        .clone()
        .oneshot(Request::get("/api/v1/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        boom.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let fine = router
        .oneshot(Request::get("/api/v1/fine").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_on_the_operator_listener_only() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    app.get("/healthz", None).await;
    assert_eq!(
        app.get("/metrics", None).await.status,
        StatusCode::NOT_FOUND,
        "not on the public listener"
    );
    let operator = gec::web::operator_router(app.state.clone());
    let response = operator
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("db_pool_connections"), "{text}");
}

#[tokio::test]
async fn migrations_create_every_table_and_running_them_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let first = gec::db::connect(&url).await.expect("first migration");
    first.close().await.unwrap();
    let again = gec::db::connect(&url)
        .await
        .expect("second start migrates nothing");
    use sea_orm::ConnectionTrait;
    for table in [
        "firms",
        "accounts",
        "api_tokens",
        "sessions",
        "audit_events",
    ] {
        again
            .execute_unprepared(&format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}

#[tokio::test]
async fn serve_stops_gracefully_and_finishes_the_request_in_flight() {
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gec::serve(listener, app.state.clone(), async move {
        let _ = stopped.await;
    }));
    // Open a connection and send a request, then ask the server to stop before reading.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let result = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(
        matches!(result, Ok(Ok(Ok(())))),
        "server did not stop cleanly"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}

#[test]
fn the_binary_exits_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut guard = crate::helpers::ServerGuard::new(
        Command::new(env!("CARGO_BIN_EXE_gec"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = guard.child_mut();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    let url = loop {
        let line = lines.next().expect("server printed its URL").unwrap();
        if let Some(url) = line.strip_prefix("gec serving on ") {
            break url.to_owned();
        }
    };
    assert!(url.starts_with("http://127.0.0.1:"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "exit status {exit:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        dir.path().join("gec.db").exists(),
        "created its SQLite database"
    );
}

#[tokio::test]
async fn gec_backup_writes_a_consistent_copy_that_opens_as_a_database() {
    let app = TestApp::new().await;
    if crate::helpers::is_postgres() {
        return; // PostgreSQL is backed up with pg_dump; `gec backup` refuses and says so.
    }
    app.token_for(gec::service::accounts::Role::Bank, "bank")
        .await;
    let target = app.dir.path().join("backup.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gec"))
        .arg("backup")
        .arg(&target)
        .env("DATABASE_URL", &app.database_url)
        .env("GEC_DATA_DIR", app.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = gec::db::connect(&format!("sqlite://{}?mode=rw", target.display()))
        .await
        .unwrap();
    use sea_orm::EntityTrait;
    let accounts = gec::store::accounts::Entity::find()
        .all(&copy)
        .await
        .unwrap();
    assert_eq!(accounts.len(), 1);
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_gec"))
        .arg("backup")
        .arg(&target)
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
}
