//! Firms and what is recorded about them: the regulator's filtered list, vetoes and
//! certification reviews.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::{TestApp, uscc, yearly_data};

#[tokio::test]
async fn regulators_filter_firms_by_division_and_district_and_page_through_them() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    for n in 0..5 {
        let industry = if n % 2 == 0 { "3670" } else { "2614" };
        let response = app
            .post("/api/v1/firms", Some(&regulator),
                  json!({"uscc": uscc(100 + n), "name": format!("企业{n}"), "industry_code": industry, "district": if n < 3 { "渝北区" } else { "长寿区" }}))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    }
    let cars = app
        .get("/api/v1/firms?division=36", Some(&regulator))
        .await
        .json();
    assert_eq!(cars["items"].as_array().unwrap().len(), 3);
    let district = app
        .get(
            "/api/v1/firms?district=%E9%95%BF%E5%AF%BF%E5%8C%BA",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(district["items"].as_array().unwrap().len(), 2);
    let page1 = app
        .get("/api/v1/firms?limit=2", Some(&regulator))
        .await
        .json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = app
        .get(
            &format!("/api/v1/firms?limit=2&cursor={cursor}"),
            Some(&regulator),
        )
        .await
        .json();
    assert_ne!(page1["items"][0]["uscc"], page2["items"][0]["uscc"]);
    let none = app
        .get("/api/v1/firms?grade=none", Some(&regulator))
        .await
        .json();
    assert_eq!(none["items"].as_array().unwrap().len(), 5);
    app.get("/api/v1/firms?grade=Z", Some(&regulator))
        .await
        .problem(422);
    app.get("/api/v1/firms?limit=100000", Some(&regulator))
        .await
        .problem(422);
}

#[tokio::test]
async fn a_veto_recorded_by_a_regulator_makes_the_next_grade_d() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 30, "3670").await;
    let veto = app
        .post(&format!("/api/v1/firms/{uscc}/vetoes"), Some(&regulator),
              json!({"kind": "major_environmental_accident", "occurred_on": "2025-09-01", "note": "渝环罚〔2025〕12号"}))
        .await;
    assert_eq!(veto.status, StatusCode::CREATED, "{}", veto.text());
    let preview = app
        .post(
            "/api/v1/assessments/preview",
            Some(&firm),
            yearly_data(&uscc),
        )
        .await
        .json();
    assert_eq!(preview["grade"], "D");
    assert_eq!(
        preview["trace"]["vetoes"][0]["kind"],
        "major_environmental_accident"
    );
    let listed = app
        .get(&format!("/api/v1/firms/{uscc}/vetoes"), Some(&firm))
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn revoking_a_certification_needs_a_reason_and_is_final() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, _) = app.firm_with_user(&regulator, 40, "3670").await;
    let cert = app
        .post(&format!("/api/v1/firms/{uscc}/certifications"), Some(&regulator),
              json!({"kind": "iso_14001", "number": "R-1", "issuer": "I", "valid_from": "2024-01-01", "valid_until": "2027-01-01"}))
        .await
        .json();
    let id = cert["id"].as_i64().unwrap();
    let path = format!("/api/v1/certifications/{id}/verify");
    app.post(&path, Some(&regulator), json!({"revoked": true}))
        .await
        .problem(422);
    app.post(
        &path,
        Some(&regulator),
        json!({"verified": true, "revoked": true, "reason": "x"}),
    )
    .await
    .problem(422);
    let revoked = app
        .post(
            &path,
            Some(&regulator),
            json!({"revoked": true, "reason": "证书已被发证机构撤销"}),
        )
        .await;
    assert_eq!(revoked.json()["status"], "revoked");
    app.post(&path, Some(&regulator), json!({"verified": true}))
        .await
        .problem(409);
    let queue = app
        .get("/api/v1/certifications?status=revoked", Some(&regulator))
        .await
        .json();
    assert_eq!(queue["items"][0]["revoked_reason"], "证书已被发证机构撤销");
}
