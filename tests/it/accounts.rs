//! Accounts, logging in, tokens and role checks, through the API and the CLI.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, gec_cli};

#[tokio::test]
async fn login_with_the_right_password_returns_a_working_token() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "loan-officer", None).await;
    let response = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "loan-officer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body["role"], "bank");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("gec_") && token.len() >= 47);
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "loan-officer");
}

#[tokio::test]
async fn tokens_are_stored_only_as_sha256_hashes() {
    let app = TestApp::new().await;
    let token = app.token_for(Role::Bank, "bank1").await;
    use sea_orm::EntityTrait;
    let stored = gec::store::tokens::api_token::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].token_hash,
        gec::service::credentials::token_hash(&token)
    );
    assert!(!stored[0].token_hash.contains(&token[4..]));
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_a_401_problem() {
    let app = TestApp::new().await;
    app.create_account(Role::Regulator, "reg", None).await;
    let wrong = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "reg", "password": "nope-nope-nope"}),
        )
        .await;
    assert_eq!(wrong.problem(401)["code"], "bad_credentials");
    let unknown = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "ghost", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        unknown.problem(401)["detail"],
        wrong.json()["detail"],
        "same answer either way"
    );
}

#[tokio::test]
async fn repeated_failed_logins_for_one_username_are_slowed_down() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "target", None).await;
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/login",
                None,
                json!({"username": "target", "password": "wrong-guess"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "target", "password": PASSWORD}),
        )
        .await;
    throttled.problem(429);
    assert!(throttled.header("retry-after").parse::<u64>().unwrap() >= 1);
    // Another username is not affected.
    app.create_account(Role::Bank, "bystander", None).await;
    app.login("bystander").await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401_with_a_bearer_challenge() {
    let app = TestApp::new().await;
    let none = app.get("/api/v1/me", None).await;
    none.problem(401);
    assert_eq!(none.header("www-authenticate"), "Bearer");
    app.get("/api/v1/me", Some("gec_not-a-real-token"))
        .await
        .problem(401);
    app.get("/api/v1/me", Some("garbage")).await.problem(401);
}

#[tokio::test]
async fn a_role_that_may_not_call_an_endpoint_gets_403() {
    let app = TestApp::new().await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let problem = app.get("/api/v1/accounts", Some(&bank)).await.problem(403);
    assert_eq!(problem["code"], "forbidden");
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let listed = app.get("/api/v1/accounts", Some(&regulator)).await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<_> = listed.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].clone())
        .collect();
    assert_eq!(names, vec![json!("bank"), json!("reg")]);
    assert!(
        !listed.text().contains("argon2"),
        "hashes never leave the server"
    );
}

#[tokio::test]
async fn creating_an_account_writes_an_audit_event_and_hashes_with_argon2id() {
    let app = TestApp::new().await;
    app.create_account(Role::Regulator, "auditor", None).await;
    assert_eq!(app.count("audit_events").await, 1);
    let account = gec::store::accounts::find_by_username(&app.db, "auditor")
        .await
        .unwrap()
        .unwrap();
    assert!(account.password_hash.starts_with("$argon2id$"));
}

#[tokio::test]
async fn gec_accounts_add_creates_a_regulator_who_can_log_in() {
    let app = TestApp::new().await;
    let out = gec_cli(
        &app,
        &[
            "accounts",
            "add",
            "--role",
            "regulator",
            "--username",
            "first-reg",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = app.login("first-reg").await;
    let me = app.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me["role"], "regulator");
    let list = gec_cli(&app, &["accounts", "list"], "");
    assert!(String::from_utf8_lossy(&list.stdout).contains("first-reg"));
}

#[tokio::test]
async fn gec_accounts_add_refuses_bad_input_and_changes_nothing() {
    let app = TestApp::new().await;
    let short = gec_cli(
        &app,
        &["accounts", "add", "--role", "bank", "--username", "b1"],
        "short\n",
    );
    assert!(!short.status.success());
    let firm_without_uscc = gec_cli(
        &app,
        &["accounts", "add", "--role", "firm", "--username", "f1"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!firm_without_uscc.status.success());
    let bad_uscc = gec_cli(
        &app,
        &[
            "accounts",
            "add",
            "--role",
            "firm",
            "--username",
            "f1",
            "--firm",
            "91500000MA5U00000X",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(!bad_uscc.status.success());
    assert!(String::from_utf8_lossy(&bad_uscc.stderr).contains("check character"));
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("audit_events").await, 0);
}
