//! Bad input through the API: a 4xx naming the field, and nothing in the database changes.

use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, yearly_data};

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
