//! Firms, certifications, vetoes and submissions through the API: the review flow, access
//! between firms, bad input that changes nothing, and the audit trail.

use std::io::Write;
use std::process::{Command, Stdio};

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, uscc, yearly_data};

fn gec_grade(input: &Value) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gec"))
        .args(["grade", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_submission_goes_from_firm_to_the_regulators_queue_and_regrades_to_the_same_trace() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;

    // The firm declares a certification: it does not count yet.
    let cert = app
        .post(
            &format!("/api/v1/firms/{uscc}/certifications"),
            Some(&firm),
            json!({"kind": "national_green_factory", "number": "GF-1", "issuer": "工信部",
                   "valid_from": "2024-01-01", "valid_until": "2027-12-31", "evidence_note": "名单截图"}),
        )
        .await;
    assert_eq!(cert.status, StatusCode::CREATED, "{}", cert.text());
    assert_eq!(cert.json()["status"], "declared");
    let cert_id = cert.json()["id"].as_i64().unwrap();

    // Preview stores nothing.
    let before = app.counts().await;
    let preview = app
        .post(
            "/api/v1/assessments/preview",
            Some(&firm),
            yearly_data(&uscc),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert_eq!(
        preview.json()["trace"]["certifications"]["counted"],
        json!([])
    );
    assert!(preview.json()["finance"]["products"].is_array());
    assert_eq!(app.counts().await, before);

    let submitted = app
        .post("/api/v1/assessments", Some(&firm), yearly_data(&uscc))
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::CREATED,
        "{}",
        submitted.text()
    );
    let body = submitted.json();
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["grade"], preview.json()["grade"]);
    let id = body["id"].as_i64().unwrap();

    // The regulator verifies the certification and finds the submission in the queue.
    let verified = app
        .post(
            &format!("/api/v1/certifications/{cert_id}/verify"),
            Some(&regulator),
            json!({"verified": true}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text());
    assert_eq!(verified.json()["status"], "verified");
    let queue = app
        .get("/api/v1/assessments?status=submitted", Some(&regulator))
        .await
        .json();
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["id"], id);

    // The stored input is §1's, with the records as they were; `gec grade` gives the stored trace.
    let stored = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(stored["input"]["industry_code"], "3670");
    assert_eq!(stored["input"]["certifications"][0]["verified"], false);
    let regraded = gec_grade(&stored["input"]);
    assert_eq!(regraded["trace"], stored["trace"]);
    assert_eq!(regraded["trace_hash"], stored["trace_hash"]);

    // Every step left an audit event.
    let events = app
        .get("/api/v1/audit/events?limit=500", Some(&regulator))
        .await
        .json();
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "firm.create",
        "account.create",
        "certification.declare",
        "assessment.submit",
        "certification.verify",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let by_target = app
        .get(
            &format!("/api/v1/audit/events?target_type=certification&target_id={cert_id}"),
            Some(&regulator),
        )
        .await
        .json();
    let items = by_target["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["before"]["verified"], false);
    assert_eq!(items[1]["after"]["verified"], true);
}

#[tokio::test]
async fn a_verified_certification_counts_in_the_next_submission() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let cert = app
        .post(&format!("/api/v1/firms/{uscc}/certifications"), Some(&regulator),
              json!({"kind": "iso_50001", "number": "E-1", "issuer": "CQC", "valid_from": "2024-01-01", "valid_until": "2027-01-01"}))
        .await;
    assert_eq!(
        cert.json()["status"],
        "verified",
        "a regulator's entry is verified at once"
    );
    let preview = app
        .post(
            "/api/v1/assessments/preview",
            Some(&firm),
            yearly_data(&uscc),
        )
        .await
        .json();
    assert_eq!(preview["trace"]["certifications"]["score"], "40.00");
}

#[tokio::test]
async fn a_second_submission_for_the_same_period_is_a_409_naming_the_first() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let first = app
        .post("/api/v1/assessments", Some(&firm), yearly_data(&uscc))
        .await
        .json();
    let before = app.counts().await;
    let second = app
        .post("/api/v1/assessments", Some(&firm), yearly_data(&uscc))
        .await;
    let problem = second.problem(409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("assessment {}", first["id"])),
        "{problem}"
    );
    assert_eq!(app.counts().await, before);
    // Once rejected, the firm may submit again.
    let id = first["id"].as_i64().unwrap();
    let rejected = app
        .post(
            &format!("/api/v1/assessments/{id}/reject"),
            Some(&regulator),
            json!({"reason": "增加值口径有误"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "rejected");
    app.post(
        &format!("/api/v1/assessments/{id}/reject"),
        Some(&regulator),
        json!({"reason": "again"}),
    )
    .await
    .problem(409);
    assert_eq!(
        app.post("/api/v1/assessments", Some(&firm), yearly_data(&uscc))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_firm_sees_and_changes_only_its_own_data() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc_a, firm_a) = app.firm_with_user(&regulator, 10, "3670").await;
    let (uscc_b, firm_b) = app.firm_with_user(&regulator, 11, "3982").await;
    let b_assessment = app
        .post("/api/v1/assessments", Some(&firm_b), yearly_data(&uscc_b))
        .await
        .json();
    let b_id = b_assessment["id"].as_i64().unwrap();
    let before = app.counts().await;

    app.get(&format!("/api/v1/assessments/{b_id}"), Some(&firm_a))
        .await
        .problem(404);
    app.post("/api/v1/assessments", Some(&firm_a), yearly_data(&uscc_b))
        .await
        .problem(404);
    app.post(
        "/api/v1/assessments/preview",
        Some(&firm_a),
        yearly_data(&uscc_b),
    )
    .await
    .problem(404);
    app.get(
        &format!("/api/v1/firms/{uscc_b}/certifications"),
        Some(&firm_a),
    )
    .await
    .problem(404);
    app.post(&format!("/api/v1/firms/{uscc_b}/certifications"), Some(&firm_a),
             json!({"kind": "iso_14001", "number": "X", "issuer": "Y", "valid_from": "2024-01-01", "valid_until": "2025-01-01"}))
        .await
        .problem(404);
    let listed = app.get("/api/v1/assessments", Some(&firm_a)).await.json();
    assert_eq!(listed["items"], json!([]), "firm A lists none of B's");
    let listed_b = app
        .get(&format!("/api/v1/assessments?uscc={uscc_b}"), Some(&firm_a))
        .await
        .json();
    assert_eq!(listed_b["items"], json!([]));
    // Regulator-only actions are refused to firms.
    app.post(
        &format!("/api/v1/assessments/{b_id}/reject"),
        Some(&firm_b),
        json!({"reason": "x"}),
    )
    .await
    .problem(403);
    app.post(
        &format!("/api/v1/firms/{uscc_a}/vetoes"),
        Some(&firm_a),
        json!({"kind": "dishonest_entity", "occurred_on": "2025-01-01"}),
    )
    .await
    .problem(403);
    app.get("/api/v1/firms", Some(&firm_a)).await.problem(403);
    assert_eq!(app.counts().await, before);

    // A bank reads public summaries only.
    let bank = app.token_for(Role::Bank, "bank").await;
    let summary = app
        .get(&format!("/api/v1/firms/{uscc_a}"), Some(&bank))
        .await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(summary.json()["name"], "测试企业10");
    assert_eq!(summary.json()["division_name_zh"], "汽车制造业");
    assert!(summary.json().get("input").is_none());
    app.get("/api/v1/assessments", Some(&bank))
        .await
        .problem(403);
    app.get(&format!("/api/v1/assessments/{b_id}"), Some(&bank))
        .await
        .problem(403);
    // And so does anyone.
    assert_eq!(
        app.get(&format!("/api/v1/firms/{uscc_a}"), None)
            .await
            .status,
        StatusCode::OK
    );
    app.get("/api/v1/firms/91500000MA5U00000X", None)
        .await
        .problem(404);
}

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

/// A bad request is a 4xx naming the field, and the database is unchanged.
async fn refused(app: &TestApp, path: &str, token: &str, body: Value, field: &str) {
    let before = app.counts().await;
    let response = app.post(path, Some(token), body.clone()).await;
    let problem = response.problem(422);
    assert_eq!(problem["field"], field, "{body}: {problem}");
    assert_eq!(app.counts().await, before, "{body} changed the database");
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 20, "3670").await;

    let firm_body = |uscc: &str, industry: &str| json!({"uscc": uscc, "name": "X", "industry_code": industry, "district": "渝中区"});
    refused(
        &app,
        "/api/v1/firms",
        &regulator,
        firm_body("91500000MA5U00000X", "3670"),
        "uscc",
    )
    .await;
    refused(
        &app,
        "/api/v1/firms",
        &regulator,
        firm_body(&crate::helpers::uscc(21), "9999"),
        "industry_code",
    )
    .await;
    refused(
        &app,
        "/api/v1/firms",
        &regulator,
        firm_body(&crate::helpers::uscc(21), "367"),
        "industry_code",
    )
    .await;
    refused(&app, "/api/v1/firms", &regulator, json!({"uscc": crate::helpers::uscc(21), "name": "X", "industry_code": "3670", "district": "渝中区", "username": "someone"}), "password").await;
    refused(&app, "/api/v1/firms", &regulator, json!({"uscc": crate::helpers::uscc(21), "name": "X", "industry_code": "3670", "district": "渝中区", "username": "someone", "password": "short"}), "password").await;
    let dup = app
        .post("/api/v1/firms", Some(&regulator), firm_body(&uscc, "3670"))
        .await;
    dup.problem(409);

    let data = |patch: &dyn Fn(&mut Value)| {
        let mut d = yearly_data(&uscc);
        patch(&mut d);
        d
    };
    let path = "/api/v1/assessments";
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["energy"][0]["quantity"] = json!("-5")),
        "energy[0].quantity",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["energy"][1]["quantity"] = json!("1.1234567")),
        "energy[1].quantity",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["energy"][1]["carrier"] = json!("electricity_kwh")),
        "energy[1].carrier",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["energy"][0]["carrier"] = json!("firewood_t")),
        "energy[0].carrier",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["waste"]["utilized_t"] = json!("99999")),
        "waste.utilized_t",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["value_added_10k_cny"] = json!("1e5")),
        "value_added_10k_cny",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["period"] = json!("2025")),
        "period",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["assessed_on"] = json!("2026-02-30")),
        "assessed_on",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["certifications"] = json!([])),
        "certifications",
    )
    .await;
    refused(
        &app,
        path,
        &firm,
        data(&|d| d["colour"] = json!("green")),
        "colour",
    )
    .await;
    refused(
        &app,
        "/api/v1/assessments/preview",
        &firm,
        data(&|d| d["energy"] = json!([])),
        "energy",
    )
    .await;

    let cert_path = format!("/api/v1/firms/{uscc}/certifications");
    let cert = |kind: &str, from: &str, until: &str| json!({"kind": kind, "number": "N-1", "issuer": "I", "valid_from": from, "valid_until": until});
    refused(
        &app,
        &cert_path,
        &firm,
        cert("gold_star", "2024-01-01", "2025-01-01"),
        "kind",
    )
    .await;
    refused(
        &app,
        &cert_path,
        &firm,
        cert("iso_14001", "2025-01-01", "2024-01-01"),
        "valid_until",
    )
    .await;
    refused(
        &app,
        &cert_path,
        &firm,
        cert("iso_14001", "2024-13-01", "2025-01-01"),
        "valid_from",
    )
    .await;
    refused(&app, &cert_path, &firm, json!({"kind": "iso_14001", "number": "  ", "issuer": "I", "valid_from": "2024-01-01", "valid_until": "2025-01-01"}), "number").await;

    let veto_path = format!("/api/v1/firms/{uscc}/vetoes");
    refused(
        &app,
        &veto_path,
        &regulator,
        json!({"kind": "littering", "occurred_on": "2025-01-01"}),
        "kind",
    )
    .await;
    refused(
        &app,
        &veto_path,
        &regulator,
        json!({"kind": "dishonest_entity", "occurred_on": "2025/01/01"}),
        "occurred_on",
    )
    .await;
    refused(
        &app,
        &veto_path,
        &regulator,
        json!({"kind": "dishonest_entity", "occurred_on": "2999-01-01"}),
        "occurred_on",
    )
    .await;

    let before = app.counts().await;
    app.post(
        "/api/v1/certifications/999999/verify",
        Some(&regulator),
        json!({"verified": true}),
    )
    .await
    .problem(404);
    app.post(
        "/api/v1/assessments/999999/reject",
        Some(&regulator),
        json!({"reason": "x"}),
    )
    .await
    .problem(404);
    assert_eq!(app.counts().await, before);
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
