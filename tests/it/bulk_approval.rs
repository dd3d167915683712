//! Bulk approval (issue 31): many submissions approved in one request through the group commit,
//! each refusal for itself, the request refused whole only for a bad list.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use gec::service::accounts::Role;
use gec::store::audit::Actor;

#[tokio::test]
async fn a_bulk_approval_issues_a_code_for_each_submission_that_needs_nothing_more() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // 600 submissions: more than one group (512) and more than one read of the list.
    let ids = app.import_submissions(&regulator, 100, 600).await;
    let first = app.approve(&regulator, ids[0]).await;
    assert_eq!(first["serial"], 0);
    // With the default floor again, a firm of an industry whose baseline is twenty times its
    // intensity is found abnormal: it needs the record of a check.
    gec::service::settings::put_as(
        &app.db,
        &Actor::system("test"),
        None,
        gec::service::abnormal::AbnormalSettings::default(),
    )
    .await
    .unwrap();
    let abnormal = app.import_submissions_as_they_are(&regulator, 2001).await;

    let mut asked = ids.clone();
    asked.push(abnormal);
    asked.push(999_999);
    let answer = app
        .post(
            "/api/v1/approvals",
            Some(&regulator),
            json!({ "ids": asked }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(
        (answer["approved"].as_u64(), answer["refused"].as_u64()),
        (Some(599), Some(3))
    );
    let refusals: Vec<(i64, u64, Value)> = answer["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = &r["problem"];
            (
                r["assessment_id"].as_i64().unwrap(),
                p["status"].as_u64().unwrap(),
                p["field"].clone(),
            )
        })
        .collect();
    assert_eq!(
        refusals,
        vec![
            (ids[0], 409, Value::Null),
            (abnormal, 422, json!("check")),
            (999_999, 404, Value::Null),
        ]
    );
    // A code each, in the order asked, serials 1–599 once each; every one in the log.
    let codes = answer["codes"].as_array().unwrap();
    let asked_order: Vec<i64> = codes
        .iter()
        .map(|c| c["assessment_id"].as_i64().unwrap())
        .collect();
    assert_eq!(asked_order, ids[1..].to_vec());
    let mut serials: Vec<u64> = codes
        .iter()
        .map(|c| c["serial"].as_u64().unwrap())
        .collect();
    serials.sort_unstable();
    assert_eq!(serials, (1..600).collect::<Vec<u64>>());
    assert_eq!(app.count("codes").await, 600);
    assert_eq!(app.count("log_entries").await, 600);
    let checkpoint = app.get("/log/checkpoint", None).await.text();
    assert_eq!(checkpoint.lines().nth(1), Some("600"));
    for code in [&codes[0], &codes[598]] {
        let shown = app
            .get(&format!("/api/v1/codes/{}", code["serial"]), None)
            .await
            .json();
        assert_eq!(shown["status"], "active", "{shown}");
        assert_eq!(shown["claims"]["grade"], code["grade"], "{shown}");
        let assessment = app
            .get(
                &format!("/api/v1/assessments/{}", code["assessment_id"]),
                Some(&regulator),
            )
            .await
            .json();
        assert_eq!(assessment["status"], "approved", "{assessment}");
    }
    // Asked again: each refused for itself, nothing issued.
    let again = app
        .post(
            "/api/v1/approvals",
            Some(&regulator),
            json!({ "ids": asked }),
        )
        .await
        .json();
    assert_eq!(
        (again["approved"].as_u64(), again["refused"].as_u64()),
        (Some(0), Some(602))
    );
    assert_eq!(app.count("codes").await, 600);
}

#[tokio::test]
async fn a_bad_list_is_refused_whole_and_only_a_regulator_may_send_one() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 100, 3).await;
    let too_many: Vec<i64> = (1..=10_001).collect();
    app.refused_by_field(
        axum::http::Method::POST,
        "/api/v1/approvals",
        &regulator,
        vec![
            (json!({"ids": []}), "ids"),
            (json!({ "ids": too_many }), "ids"),
            (json!({"ids": [ids[0], ids[1], ids[0]]}), "ids[2]"),
            (json!({"ids": [ids[0], 0]}), "ids[1]"),
        ],
    )
    .await;
    assert_eq!(app.count("codes").await, 0);
    let bank = app.token_for(Role::Bank, "bank").await;
    let refused = app
        .post("/api/v1/approvals", Some(&bank), json!({ "ids": ids }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = app
        .post("/api/v1/approvals", None, json!({ "ids": ids }))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("codes").await, 0);
}
