//! What an attacker tried (issue 15's findings), each held: forged codes say nothing, `next`
//! cannot leave the site, downloads carry no formulas, signed-in answers are not cached,
//! bidirectional controls are refused, API tokens can be revoked, the database file is private.

use axum::http::{Method, StatusCode};
use gec::code::text;
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

/// A code whose signature no longer holds, though its claims are those of a real code.
fn forged(url: &str) -> String {
    let mut bytes = text::decode(text::code_part(url)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    format!("HTTP://127.0.0.1:8080/C/{}", text::encode(&bytes))
}

#[tokio::test]
async fn a_forged_code_yields_its_verdict_and_reason_only() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let url = issued["url"].as_str().unwrap();
    let fake = forged(url);

    let one = app
        .post("/api/v1/verify", None, json!({"code": fake}))
        .await
        .json();
    assert_eq!(one["valid"], false);
    assert_eq!(one["reason"], "bad_signature");
    for member in ["claims", "status", "firm", "finance"] {
        assert_eq!(one[member], Value::Null, "{member}: {one}");
    }
    let bulk = app
        .post(
            "/api/v1/verify/bulk",
            Some(&bank),
            json!({"codes": [url, fake]}),
        )
        .await
        .json();
    assert_eq!(bulk["results"][0]["valid"], true);
    assert_eq!(bulk["results"][0]["status"], "active");
    assert_eq!(bulk["results"][1]["claims"], Value::Null);
    assert_eq!(bulk["results"][1]["status"], Value::Null);

    app.create_account(Role::Bank, "officer", None).await;
    let desk = app.page_session("officer").await;
    let page = app
        .submit("/bank/verify", &desk, &[("code", &fake)])
        .await
        .text();
    assert!(page.contains("无效"), "{page}");
    assert!(
        !page.contains("测试企业1") && !page.contains(&uscc) && !page.contains("<td>有效</td>"),
        "a forged code shows no firm, USCC or status: {page}"
    );
}

#[tokio::test]
async fn after_login_next_never_leaves_the_site() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "officer", None).await;
    for (next, expected) in [
        ("/\t/evil.example/", "/bank"),
        ("/\n/evil.example/", "/bank"),
        ("//evil.example/", "/bank"),
        ("/\\evil.example", "/bank"),
        ("/bank\u{1}", "/bank"),
        ("/银行", "/bank"),
        ("https://evil.example/", "/bank"),
        ("/regulator/audit?x=1", "/regulator/audit?x=1"),
    ] {
        let signed_in = app.sign_in_form("officer", next).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(signed_in.header("location"), expected, "{next:?}");
        assert_eq!(signed_in.header("cache-control"), "no-store");
    }
}

#[tokio::test]
async fn a_downloaded_list_writes_formulas_as_text() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "officer", None).await;
    let desk = app.page_session("officer").await;
    let boundary = "XyZ";
    let file = "=1+2/C/AAAA\n@SUM(1+1)/C/x\n-3+4/C/y\n";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\ncsv\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"codes.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n",
        desk.csrf
    );
    let csv = app
        .form_post(
            "/bank/verify-list",
            &desk.cookie,
            body.into_bytes(),
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let text = csv.text();
    let cells: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(cells.len(), 3, "{text}");
    for cell in cells {
        let cell = cell.trim_start_matches('"');
        assert!(
            cell.starts_with('\''),
            "a formula is written as text: {text}"
        );
    }
}

#[tokio::test]
async fn signed_in_answers_are_not_cached_and_public_images_are() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let login = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "reg", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.header("cache-control"), "no-store");
    assert_eq!(
        app.get("/api/v1/me", Some(&regulator))
            .await
            .header("cache-control"),
        "no-store"
    );
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let session = app.page_session(&format!("firm{}", 2)).await;
    let desk = app.page("/firm", Some(&session)).await;
    assert_eq!(desk.status, StatusCode::OK);
    assert_eq!(desk.header("cache-control"), "no-store");
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let png = app
        .get(&format!("/api/v1/codes/{}/qr.png", issued["serial"]), None)
        .await;
    assert!(png.header("cache-control").starts_with("public"));
    assert_eq!(
        app.get("/", None).await.header("strict-transport-security"),
        "",
        "no HSTS over plain http"
    );
}

#[tokio::test]
async fn bidirectional_controls_are_refused_with_their_field_and_change_nothing() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let before = app.counts().await;
    let refused = |response: crate::helpers::TestResponse, field: &str| {
        let problem = response.problem(422);
        assert_eq!(problem["field"], field, "{problem}");
    };
    refused(
        app.post(
            "/api/v1/firms",
            Some(&regulator),
            json!({"uscc": crate::helpers::uscc(4), "name": "重庆\u{202E}司公", "industry_code": "3670", "district": "渝北区"}),
        )
        .await,
        "name",
    );
    refused(
        app.post(
            &format!("/api/v1/firms/{uscc}/vetoes"),
            Some(&regulator),
            json!({"kind": "major_safety_accident", "occurred_on": "2026-01-02", "note": "a\u{2066}b"}),
        )
        .await,
        "note",
    );
    let id = app.submit_yearly(&firm, &uscc).await;
    let before_reject = app.counts().await;
    refused(
        app.post(
            &format!("/api/v1/assessments/{id}/reject"),
            Some(&regulator),
            json!({"reason": "数据\u{202B}有误"}),
        )
        .await,
        "reason",
    );
    assert_eq!(app.counts().await, before_reject);
    assert_ne!(before, before_reject, "the submission itself was stored");
}

#[tokio::test]
async fn api_tokens_are_listed_and_revoked_by_their_owner_only() {
    let app = TestApp::new().await;
    let first = app.token_for(Role::Bank, "bank").await;
    let second = app.login("bank").await;
    let other = app.token_for(Role::Bank, "other").await;
    let list = app.get("/api/v1/tokens", Some(&first)).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        !list.to_string().contains(&second),
        "a token's value is never shown again"
    );
    let second_id = items[1]["id"].as_i64().unwrap();
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{second_id}"),
            Some(&other),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND,
        "another account's token"
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&second)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{second_id}"),
            Some(&first),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&second)).await.status,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops working at once"
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&first)).await.status,
        StatusCode::OK
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if crate::helpers::is_postgres() {
        return;
    }
    let app = TestApp::new().await;
    app.token_for(Role::Bank, "bank").await;
    for name in ["gec.db", "gec.db-wal"] {
        let path = app.dir.path().join(name);
        if path.exists() {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is {mode:o}");
        }
    }
}

#[tokio::test]
async fn an_https_deployment_answers_with_hsts() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let routes = axum::Router::new().route("/", axum::routing::get(|| async { "home" }));
    let router = gec::web::middleware::wrap(routes, true).with_state(app.state.clone());
    let response = router
        .oneshot(
            axum::http::Request::get("/")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn page_sessions_are_listed_beside_api_tokens_and_revoked_by_their_owner() {
    // Issue 25, item 10: a signed-in browser is a credential too; its owner sees and ends it.
    let app = TestApp::new().await;
    let token = app.token_for(Role::Bank, "bank").await;
    let browser = app.page_session("bank").await;
    assert_eq!(
        app.page("/bank", Some(&browser)).await.status,
        StatusCode::OK
    );
    let list = app.get("/api/v1/tokens", Some(&token)).await.json();
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["api", "session"], "{list}");
    let session_id = list["items"][1]["id"].as_i64().unwrap();
    let other = app.token_for(Role::Bank, "other").await;
    let path = format!("/api/v1/tokens/{session_id}?kind=session");
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let after = app.page("/bank", Some(&browser)).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the browser is signed out"
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/tokens/{session_id}?kind=everything"),
        Some(&token),
        None,
    )
    .await
    .problem(400);
}
