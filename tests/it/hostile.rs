//! Hostile input: deep JSON, oversized bodies, floods of failed logins, slow-loris clients.
//! The service answers each with a 4xx (or closes the connection) and stays up.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = TestApp::new().await;
    for path in ["/api/v1/verify", "/api/v1/login"] {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(deep))
            .unwrap();
        let response = app.send(request).await;
        assert!(
            response.status.is_client_error(),
            "{path}: {}",
            response.status
        );
        assert_eq!(response.header("content-type"), "application/problem+json");
    }
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let mut nested = json!(1);
    for _ in 0..120 {
        nested = json!({"a": nested});
    }
    let response = app
        .post(
            "/api/v1/assessments/preview",
            Some(&regulator),
            json!({"uscc": nested}),
        )
        .await;
    assert!(response.status.is_client_error());
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_huge_body_is_refused_before_it_is_read_whole() {
    let app = TestApp::new().await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let codes: Vec<String> = (0..20_000).map(|i| format!("CODE{i:060}")).collect();
    app.post("/api/v1/verify/bulk", Some(&bank), json!({"codes": codes}))
        .await
        .problem(413);
}

#[tokio::test]
async fn ten_thousand_failed_logins_are_slowed_and_do_no_harm() {
    let app = TestApp::new().await;
    app.create_account(Role::Regulator, "target", None).await;
    let mut statuses = std::collections::HashMap::new();
    for i in 0..10_000 {
        let username = if i % 50 == 0 {
            format!("ghost{i}")
        } else {
            "target".to_owned()
        };
        let response = app
            .post(
                "/api/v1/login",
                None,
                json!({"username": username, "password": format!("guess-{i}")}),
            )
            .await;
        *statuses.entry(response.status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(
        statuses
            .keys()
            .copied()
            .filter(|s| ![401, 429].contains(s))
            .count(),
        0,
        "{statuses:?}"
    );
    assert!(
        statuses[&429] > 9_000,
        "guesses at one account are throttled: {statuses:?}"
    );
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    // Others can still log in.
    app.create_account(Role::Bank, "bystander", None).await;
    let ok = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "bystander", "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn a_slow_loris_client_is_cut_off_and_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gec::serve(listener, app.state.clone(), async move {
        let _ = stopped.await;
    }));
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Meanwhile another client is served at once.
    let mut other = tokio::net::TcpStream::connect(addr).await.unwrap();
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"));
    // The slow one never finishes its headers and is closed within the header timeout.
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(
        gec::HEADER_READ_TIMEOUT + Duration::from_secs(5),
        slow.read_to_end(&mut buf),
    )
    .await;
    assert!(closed.is_ok(), "the slow client was not cut off");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
