//! The banks' API: one code, a thousand codes, and the watchlist's change feed.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn anyone_verifies_a_code_and_learns_its_status_firm_and_finance() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let url = issued["url"].as_str().unwrap();
    let result = app.post("/api/v1/verify", None, json!({"code": url})).await;
    assert_eq!(result.status, StatusCode::OK);
    let r = result.json();
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["status"], "active");
    assert_eq!(r["claims"]["uscc"], uscc.as_str());
    assert_eq!(r["claims"]["grade"], issued["grade"]);
    assert_eq!(r["claims"]["score"], issued["score"]);
    assert_eq!(r["firm"]["name"], "测试企业1");
    assert!(r["finance"]["version"].is_string());
    assert_eq!(
        r["services"].as_array().unwrap().last().unwrap()["code"],
        "one_stop_platform"
    );
    // The bare base32 text, in lower case, is the same code.
    let bare = url.rsplit("/C/").next().unwrap().to_lowercase();
    assert_eq!(
        app.post("/api/v1/verify", None, json!({"code": bare}))
            .await
            .json()["valid"],
        true
    );

    // Bad codes are 200 with valid: false and the reason.
    let mut tampered = url.to_owned();
    tampered.pop();
    tampered.push(if url.ends_with('A') { 'B' } else { 'A' });
    let bad = app
        .post("/api/v1/verify", None, json!({"code": tampered}))
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert_eq!(bad.json()["valid"], false);
    let garbage = app
        .post("/api/v1/verify", None, json!({"code": "not a code"}))
        .await
        .json();
    assert_eq!(garbage["reason"], "malformed");
    // A malformed request is a problem.
    app.post("/api/v1/verify", None, json!({"codes": url}))
        .await
        .problem(422);

    // After supersession the old code is no longer valid, and says why.
    app.issue_code(&regulator, &firm, &uscc).await;
    let old = app
        .post("/api/v1/verify", None, json!({"code": url}))
        .await
        .json();
    assert_eq!(old["valid"], false);
    assert_eq!(old["reason"], "superseded");
    assert_eq!(old["status"], "superseded");
}

#[tokio::test]
async fn a_bank_verifies_a_thousand_codes_in_one_call_in_order() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let ids = app.import_submissions(&regulator, 2000, 10).await;
    let mut urls = Vec::new();
    for id in ids {
        let issued = app
            .post(
                &format!("/api/v1/assessments/{id}/approve"),
                Some(&regulator),
                json!({}),
            )
            .await
            .json();
        urls.push(issued["url"].as_str().unwrap().to_owned());
    }
    // A thousand codes: the ten real ones over and over, with a bad one every 97th.
    let codes: Vec<String> = (0..1000)
        .map(|i| {
            if i % 97 == 5 {
                "AAAA".to_owned()
            } else {
                urls[i % 10].clone()
            }
        })
        .collect();
    let response = app
        .post("/api/v1/verify/bulk", Some(&bank), json!({"codes": codes}))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let results = response.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1000);
    for (i, r) in results.iter().enumerate() {
        if i % 97 == 5 {
            assert_eq!(r["valid"], false);
            assert_eq!(r["reason"], "malformed");
        } else {
            assert_eq!(r["valid"], true, "{i}: {r}");
            assert_eq!(
                r["claims"]["serial"].as_u64().unwrap(),
                (i % 10) as u64,
                "results keep the order"
            );
        }
    }
    let too_many: Vec<String> = (0..1001).map(|_| urls[0].clone()).collect();
    app.post(
        "/api/v1/verify/bulk",
        Some(&bank),
        json!({"codes": too_many}),
    )
    .await
    .problem(413);
    app.post("/api/v1/verify/bulk", None, json!({"codes": []}))
        .await
        .problem(401);
    app.post(
        "/api/v1/verify/bulk",
        Some(&regulator),
        json!({"codes": []}),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn a_watchlist_feeds_issue_supersession_and_revocation_of_watched_firms_only() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let (watched, firm_a) = app.firm_with_user(&regulator, 10, "3670").await;
    let (other, firm_b) = app.firm_with_user(&regulator, 11, "3670").await;
    assert_eq!(
        app.call(
            axum::http::Method::PUT,
            &format!("/api/v1/watchlist/{watched}"),
            Some(&bank),
            None
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.call(
            axum::http::Method::PUT,
            &format!("/api/v1/watchlist/{watched}"),
            Some(&bank),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    app.call(
        axum::http::Method::PUT,
        "/api/v1/watchlist/91500000MA5U00000X",
        Some(&bank),
        None,
    )
    .await
    .problem(404);
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    let first = app.issue_code(&regulator, &firm_a, &watched).await;
    app.issue_code(&regulator, &firm_b, &other).await;
    let second = app.issue_code(&regulator, &firm_a, &watched).await;
    let serial = second["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial}/revoke"),
        Some(&regulator),
        json!({"reason": "核查不实"}),
    )
    .await;

    let since = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let feed = app
        .get(
            &format!("/api/v1/watchlist/changes?since={since}"),
            Some(&bank),
        )
        .await
        .json();
    let events: Vec<(String, u64)> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["serial"].as_u64().unwrap(),
            )
        })
        .collect();
    let first_serial = first["serial"].as_u64().unwrap();
    assert_eq!(
        events,
        [
            ("issued".to_owned(), first_serial),
            ("issued".to_owned(), serial),
            ("superseded".to_owned(), first_serial),
            ("revoked".to_owned(), serial)
        ]
    );
    assert!(
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["uscc"] == watched.as_str())
    );
    // Paging with the cursor gives the same events.
    let page = app
        .get(
            &format!("/api/v1/watchlist/changes?since={since}&limit=2"),
            Some(&bank),
        )
        .await
        .json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/watchlist/changes?cursor={cursor}"),
            Some(&bank),
        )
        .await
        .json();
    assert_eq!(
        page["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(),
        4
    );
    let future = app
        .get(
            "/api/v1/watchlist/changes?since=2999-01-01T00:00:00Z",
            Some(&bank),
        )
        .await
        .json();
    assert_eq!(future["items"], json!([]));
    app.get("/api/v1/watchlist/changes?since=yesterday", Some(&bank))
        .await
        .problem(400);

    let list = app.get("/api/v1/watchlist", Some(&bank)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.call(
            axum::http::Method::DELETE,
            &format!("/api/v1/watchlist/{watched}"),
            Some(&bank),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    app.call(
        axum::http::Method::DELETE,
        &format!("/api/v1/watchlist/{watched}"),
        Some(&bank),
        None,
    )
    .await
    .problem(404);
    app.get("/api/v1/watchlist", Some(&firm_a))
        .await
        .problem(403);
}

#[tokio::test]
async fn a_firm_appeals_and_a_regulator_closes_the_appeal() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 20, "3670").await;
    app.post("/api/v1/appeals", Some(&firm), json!({"note": "尚未发码"}))
        .await
        .problem(422);
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let appeal = app
        .post(
            "/api/v1/appeals",
            Some(&firm),
            json!({"note": "天然气用量按 2025 年核定值应为 380000 立方米"}),
        )
        .await;
    assert_eq!(appeal.status, StatusCode::CREATED, "{}", appeal.text());
    assert_eq!(appeal.json()["code_serial"], issued["serial"]);
    let id = appeal.json()["id"].as_i64().unwrap();
    let queue = app
        .get("/api/v1/appeals?status=open", Some(&regulator))
        .await
        .json();
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    app.post(
        &format!("/api/v1/appeals/{id}/close"),
        Some(&firm),
        json!({"resolution": "x"}),
    )
    .await
    .problem(403);
    let closed = app
        .post(
            &format!("/api/v1/appeals/{id}/close"),
            Some(&regulator),
            json!({"resolution": "已复核，维持原等级"}),
        )
        .await;
    assert_eq!(closed.json()["status"], "closed");
    let events = app
        .get("/api/v1/audit/events?target_type=appeal", Some(&regulator))
        .await
        .json();
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
}
