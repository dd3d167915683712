//! Submissions through the API: the review flow, one under review per period, and access
//! between firms.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, yearly_data};

fn gec_grade(input: &Value) -> Value {
    let (printed, status) = crate::helpers::gec_json(&["grade", "-"], &input.to_string());
    assert!(status.success(), "{printed}");
    printed
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
async fn the_preview_and_one_assessment_carry_the_way_up_and_lists_do_not() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 30, "3670").await;
    let preview = app
        .post(
            "/api/v1/assessments/preview",
            Some(&firm),
            yearly_data(&uscc),
        )
        .await
        .json();
    let way_up = &preview["way_up"];
    assert_eq!(way_up["way_up"], "GEC-P 2025.1");
    assert_eq!(way_up["score"], preview["score"]);
    let table = gec::grading::BenchmarkTable::default_table();
    let assessment = gec::grading::Assessment::from_json(&preview["input"], table).unwrap();
    let expected = gec::grading::way_up::way_up(&assessment, table).unwrap();
    assert_eq!(*way_up, serde_json::to_value(&expected).unwrap());

    let id = app.submit_yearly(&firm, &uscc).await;
    let one = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&firm))
        .await
        .json();
    assert_eq!(one["way_up"], *way_up, "the stored input's way up");
    let list = app.get("/api/v1/assessments", Some(&firm)).await.json();
    assert!(list["items"][0].get("way_up").is_none());
}
