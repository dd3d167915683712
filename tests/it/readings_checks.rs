//! 数据直连: a declared figure beside an attested one (issue 27) — the tolerance and the
//! figures required from their source (the regulator's settings), the firm's reason, the
//! regulator's note, and a product's minimum attested share.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;
use crate::readings::{deliver_json, source};

#[tokio::test]
async fn a_declared_figure_five_per_cent_below_the_grids_needs_the_regulators_note() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let (firm_uscc, firm) = app.firm_with_user(&regulator, 11, "3670").await;
    // The grid attests 18,500,000 kWh for 2025; the firm declares 5 % less.
    deliver_json(
        &app,
        &grid,
        json!([{"uscc": firm_uscc, "period": "2025", "field": "electricity_kwh",
                                    "quantity": "18500000", "reference": "DB-11"}]),
    )
    .await;
    let mut data = crate::helpers::yearly_data(&firm_uscc);
    data["energy"][0]["quantity"] = json!("17575000");
    // Declared more than 2 % apart: the firm must say why; without it nothing is stored.
    let refused = app
        .post("/api/v1/assessments", Some(&firm), data.clone())
        .await
        .problem(422);
    assert_eq!(refused["field"], "discrepancy_reason");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("electricity_kwh -5.0 % from 国网重庆市电力公司"),
        "{detail}"
    );
    assert_eq!(app.count("assessments").await, 0);
    // On the firm's form: the fault beside the electricity box, the reason asked for.
    let firm_desk = app.page_session("firm11").await;
    let form = app
        .submit(
            "/firm/submit",
            &firm_desk,
            &[
                ("period", "2025"),
                ("value_added_10k_cny", "52000.5"),
                ("electricity_10k_kwh", "1757.5"),
                ("waste_generated_t", "3200"),
                ("waste_utilized_t", "3010"),
                ("waste_stock_utilized_t", "0"),
            ],
        )
        .await;
    assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = form.text();
    assert!(
        text.contains("与国网重庆市电力公司直采数据 1,850 万千瓦时相差 −5.0%"),
        "{text}"
    );
    assert!(text.contains("name=\"discrepancy_reason\""), "{text}");
    assert_eq!(app.count("assessments").await, 0);
    data["discrepancy_reason"] = json!("自备光伏发电 92.5 万千瓦时未经电网计量");
    let submitted = app.post("/api/v1/assessments", Some(&firm), data).await;
    assert_eq!(
        submitted.status,
        StatusCode::CREATED,
        "{}",
        submitted.text()
    );
    let submitted = submitted.json();
    assert_eq!(submitted["basis"][0]["basis"], "apart", "{submitted}");
    assert_eq!(submitted["basis"][0]["attested"], "18500000");
    assert_eq!(submitted["basis"][0]["references"][0], "DB-11");
    assert!(
        submitted["input"].get("discrepancy_reason").is_none(),
        "the reason is not part of §1's input"
    );
    let id = submitted["id"].as_i64().unwrap();
    let desk = app.page_session("reg").await;
    let review = app
        .page(&format!("/regulator/assessments/{id}"), Some(&desk))
        .await
        .text();
    assert!(
        review.contains("电力：申报 1,757.5 / 国网重庆市电力公司 1,850 万千瓦时，差 −5.0%")
            && review.contains("name=\"note\" required")
            && review.contains("自备光伏发电 92.5 万千瓦时未经电网计量"),
        "the review shows the difference and the firm's reason: {review}"
    );
    let queue = app.page("/regulator", Some(&desk)).await.text();
    assert!(
        queue.contains("电力与直连数据不符"),
        "the queue flags it: {queue}"
    );
    // Not approvable without the note: nothing issued.
    let refused = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], "note");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("electricity_kwh")
    );
    assert_eq!(app.count("codes").await, 0);
    let page_refused = app
        .submit(
            &format!("/regulator/assessments/{id}/approve"),
            &desk,
            &[("note", "")],
        )
        .await;
    assert!(!page_refused.status.is_redirection());
    assert_eq!(app.count("codes").await, 0);
    // With the note it is approved, and the note is kept with the difference.
    let approved = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({"note": "企业自备光伏发电 92.5 万千瓦时未计入电网购电，现场核实属实"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text());
    let events = app
        .get(
            "/api/v1/audit/events?action=assessment.discrepancy_note",
            Some(&regulator),
        )
        .await
        .json();
    let event = &events["items"][0];
    assert_eq!(event["after"]["differences"][0]["field"], "electricity_kwh");
    assert_eq!(event["after"]["differences"][0]["percent"], "-5.0");
}

#[tokio::test]
async fn the_regulators_settings_decide_the_tolerance_and_the_figures_that_must_come_from_sources()
{
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let (firm_uscc, firm) = app.firm_with_user(&regulator, 12, "3670").await;
    deliver_json(
        &app,
        &grid,
        json!([{"uscc": firm_uscc, "period": "2025", "field": "electricity_kwh",
                "quantity": "18500000", "reference": "DB-12"}]),
    )
    .await;
    let defaults = app.get("/api/v1/settings/readings", Some(&regulator)).await;
    assert_eq!(
        defaults.json(),
        json!({"tolerance_percent": "2", "source_required": []})
    );
    // Bad settings: refused by field, nothing changed.
    app.refused_by_field(
        axum::http::Method::PUT,
        "/api/v1/settings/readings",
        &regulator,
        vec![
            (
                json!({"tolerance_percent": "50.5", "source_required": []}),
                "tolerance_percent",
            ),
            (
                json!({"tolerance_percent": "2.25", "source_required": []}),
                "tolerance_percent",
            ),
            (
                json!({"tolerance_percent": "2", "source_required": ["electricity_kwh", "coal"]}),
                "source_required[1]",
            ),
        ],
    )
    .await;
    assert_eq!(app.count("settings").await, 0);
    // A tolerance of 6 %: 5 % less is within it, no reason needed.
    let set = app
        .put(
            "/api/v1/settings/readings",
            Some(&regulator),
            json!({"tolerance_percent": "6", "source_required": []}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    let mut data = crate::helpers::yearly_data(&firm_uscc);
    data["energy"][0]["quantity"] = json!("17575000");
    let preview = app
        .post("/api/v1/assessments", Some(&firm), data.clone())
        .await;
    assert_eq!(preview.status, StatusCode::CREATED, "{}", preview.text());
    assert_eq!(preview.json()["basis"][0]["basis"], "within_tolerance");
    let id = preview.json()["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/assessments/{id}/reject"),
        Some(&regulator),
        json!({"reason": "请改用电网数据"}),
    )
    .await;
    // Electricity required from the grid: a declared figure other than the grid's is refused
    // at its box; the grid's own figure passes.
    app.put(
        "/api/v1/settings/readings",
        Some(&regulator),
        json!({"tolerance_percent": "6", "source_required": ["electricity_kwh"]}),
    )
    .await;
    let refused = app
        .post("/api/v1/assessments", Some(&firm), data.clone())
        .await
        .problem(422);
    assert_eq!(refused["field"], "energy[0].quantity");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("国网重庆市电力公司")
    );
    data["energy"][0]["quantity"] = json!("18500000");
    let accepted = app.post("/api/v1/assessments", Some(&firm), data).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text());
    assert_eq!(accepted.json()["basis"][0]["basis"], "attested");
    // Each change audited with before and after; a firm may neither read nor change them.
    let events = app
        .get(
            "/api/v1/audit/events?action=settings.update",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get("/api/v1/settings/readings", Some(&firm))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.put(
            "/api/v1/settings/readings",
            Some(&firm),
            json!({"tolerance_percent": "50", "source_required": []})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_product_may_require_a_share_of_attested_energy() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let (attested_uscc, attested_firm) = app.firm_with_user(&regulator, 41, "3670").await;
    let (plain_uscc, plain_firm) = app.firm_with_user(&regulator, 42, "3670").await;
    deliver_json(
        &app,
        &grid,
        json!([{"uscc": attested_uscc, "period": "2025", "field": "electricity_kwh",
                                    "quantity": "18500000", "reference": "DB-41"}]),
    )
    .await;
    let code = app
        .issue_code(&regulator, &attested_firm, &attested_uscc)
        .await;
    app.issue_code(&regulator, &plain_firm, &plain_uscc).await;
    let grade = code["grade"].as_str().unwrap().to_owned();
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let mut product = json!({"name": "直连贷", "kind": "green_loan", "grades": [grade],
        "rate_step_bp": {grade.clone(): -30}, "max_amount_10k_cny": "2000", "term_months": 36,
        "min_attested_share": 150,
        "valid_from": format!("{}-01-01", year - 1), "valid_until": format!("{}-12-31", year + 1)});
    let refused = app
        .post("/api/v1/products", Some(&bank), product.clone())
        .await
        .problem(422);
    assert_eq!(refused["field"], "min_attested_share");
    product["min_attested_share"] = json!(75);
    let made = app.post("/api/v1/products", Some(&bank), product).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let id = made.json()["id"].clone();
    let until = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let body = json!({"product_id": id, "amount_10k_cny": "100", "purpose": "节能改造",
                      "consent": {"scope": "grade", "expires_on": until}});
    // 80 % attested: taken. None stated: refused by its own field, nothing stored.
    let taken = app
        .post("/api/v1/applications", Some(&attested_firm), body.clone())
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.text());
    let refused = app
        .post("/api/v1/applications", Some(&plain_firm), body)
        .await
        .problem(422);
    assert_eq!(refused["field"], "attested_share");
    assert_eq!(app.count("applications").await, 1);
}
