//! Issue 12: the firm's form in the units of the statistics forms, every fault at once, landing
//! on the result, starting from the last figures, completed years only; the desk's word on a
//! verified certification and on a revoked code.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;

const FORM: [(&str, &str); 7] = [
    ("period", "2025"),
    ("value_added_10k_cny", "５２,０００.５０"),
    ("electricity_10k_kwh", "1,850"),
    ("natural_gas_10k_m3", "42"),
    ("diesel_t", "35.5"),
    ("waste_generated_t", "3,200"),
    ("waste_utilized_t", "3010"),
];

#[tokio::test]
async fn the_form_takes_the_statistics_units_and_converts_them_exactly() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (_, firm_token) = app.firm_with_user(&regulator, 1, "3670").await;
    let firm = app.page_session("firm1").await;
    let desk = app.page("/firm", Some(&firm)).await.text();
    for words in ["万千瓦时", "万立方米", "吨", "吉焦", "万元"] {
        assert!(desk.contains(words), "{words}");
    }
    assert!(
        !desk.contains("name=\"assessed_on\""),
        "the service sets the date"
    );
    assert!(
        desk.contains("action=\"/firm/preview#result\""),
        "lands on the result"
    );
    let preview = app.submit("/firm/preview", &firm, &FORM).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert!(preview.text().contains("id=\"result\""));

    let submitted = app.submit("/firm/submit", &firm, &FORM).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.text()
    );
    let list = app
        .get("/api/v1/assessments", Some(&firm_token))
        .await
        .json();
    let id = list["items"][0]["id"].as_i64().unwrap();
    let stored = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&firm_token))
        .await
        .json();
    let input = &stored["input"];
    let quantity = |carrier: &str| {
        input["energy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["carrier"] == carrier)
            .map(|e| e["quantity"].as_str().unwrap().to_owned())
    };
    assert_eq!(quantity("electricity_kwh").as_deref(), Some("18500000"));
    assert_eq!(quantity("natural_gas_m3").as_deref(), Some("420000"));
    assert_eq!(input["value_added_10k_cny"], "52000.50");
    assert_eq!(input["waste"]["generated_t"], "3200");
    assert_eq!(
        input["waste"]["stock_utilized_t"], "0",
        "a blank amount is 0"
    );

    // The form starts again from these figures, in the form's units.
    let desk = app.page("/firm", Some(&firm)).await.text();
    assert!(desk.contains("value=\"1850\""), "{desk}");
    assert!(desk.contains("value=\"42\""));
}

#[tokio::test]
async fn every_fault_shows_at_once_linked_from_a_summary_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    app.firm_with_user(&regulator, 2, "3670").await;
    let firm = app.page_session("firm2").await;
    let mut bad = FORM.to_vec();
    bad[1] = ("value_added_10k_cny", "");
    bad[2] = ("electricity_10k_kwh", "12,34");
    bad[4] = ("diesel_t", "-3");
    bad[5] = ("waste_generated_t", "三千");
    let refused = app.submit("/firm/submit", &firm, &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(
        html.contains("class=\"error-summary\" id=\"result\""),
        "{html}"
    );
    for input in [
        "value_added_10k_cny",
        "electricity_10k_kwh",
        "diesel_t",
        "waste_generated_t",
    ] {
        assert!(
            html.contains(&format!("href=\"#f-{input}\"")),
            "{input}: {html}"
        );
    }
    assert_eq!(html.matches("aria-invalid=\"true\"").count(), 4);
    assert!(html.contains("千位分隔符的位置不对") && html.contains("不能为负数"));
    assert!(
        html.contains("value=\"三千\""),
        "the firm's figures are kept"
    );
    assert_eq!(app.count("assessments").await, 0);

    // A year not yet over is refused, on the page and in the API.
    let mut open = FORM.to_vec();
    open[0] = ("period", "2026");
    let page = app.submit("/firm/submit", &firm, &open).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("只能填报已结束的统计年度"));
    let token = app.login("firm2").await;
    let mut data = crate::helpers::yearly_data(&crate::helpers::uscc(2));
    data["period"] = json!(2026);
    data["assessed_on"] = json!("2026-11-01");
    let problem = app
        .post("/api/v1/assessments", Some(&token), data)
        .await
        .problem(422);
    assert_eq!(problem["field"], "period", "{problem}");
    assert_eq!(app.count("assessments").await, 0);

    // A second submission for a year under review: in words, not the service's message.
    app.submit("/firm/submit", &firm, &FORM).await;
    let again = app.submit("/firm/submit", &firm, &FORM).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = again.text();
    assert!(html.contains("该年度已有一份数据正在审核"), "{html}");
    assert!(!html.contains("already under review"));
}

#[tokio::test]
async fn after_a_rejection_the_form_keeps_the_figures() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, token) = app.firm_with_user(&regulator, 3, "3670").await;
    let id = app.submit_yearly(&token, &uscc).await;
    let rejected = app
        .post(
            &format!("/api/v1/assessments/{id}/reject"),
            Some(&regulator),
            json!({"reason": "电力数据与电网记录不符"}),
        )
        .await;
    assert!(rejected.status.is_success(), "{}", rejected.text());
    let firm = app.page_session("firm3").await;
    let desk = app.page("/firm", Some(&firm)).await.text();
    // yearly_data: 18,500,000 kWh = 1,850 万千瓦时; 420,000 m³ = 42 万立方米.
    assert!(
        desk.contains("value=\"1850\"") && desk.contains("value=\"42\""),
        "{desk}"
    );
    assert!(desk.contains("电力数据与电网记录不符"));
}

#[tokio::test]
async fn the_desk_says_when_a_verified_certification_may_raise_the_grade_and_when_a_code_is_revoked()
 {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, token) = app.firm_with_user(&regulator, 4, "3670").await;
    let code = app.issue_code(&regulator, &token, &uscc).await;
    let cert = app
        .post(
            &format!("/api/v1/firms/{uscc}/certifications"),
            Some(&token),
            json!({"kind": "municipal_green_factory", "number": "G-1", "issuer": "市经信委",
                   "valid_from": "2024-01-01", "valid_until": "2028-01-01"}),
        )
        .await;
    assert_eq!(cert.status, StatusCode::CREATED, "{}", cert.text());
    let id = cert.json()["id"].as_i64().unwrap();
    let firm = app.page_session("firm4").await;
    assert!(
        !app.page("/firm", Some(&firm))
            .await
            .text()
            .contains("等级可能提高")
    );
    app.post(
        &format!("/api/v1/certifications/{id}/verify"),
        Some(&regulator),
        json!({"verified": true}),
    )
    .await;
    let desk = app.page("/firm", Some(&firm)).await.text();
    assert!(
        desk.contains("市级绿色工厂") && desk.contains("等级可能提高"),
        "{desk}"
    );
    assert!(desk.contains("href=\"#data-h\""));

    let serial = code["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial}/revoke"),
        Some(&regulator),
        json!({"reason": "现场核查发现能耗数据不实"}),
    )
    .await;
    let desk = app.page("/firm", Some(&firm)).await.text();
    assert!(desk.contains("您的绿效码已被撤销"), "{desk}");
    assert!(desk.contains("现场核查发现能耗数据不实"));
    assert!(!desk.contains("尚未签发绿效码"), "{desk}");
    let appeal = app
        .submit(
            "/firm/appeal",
            &firm,
            &[
                ("note", "数据已复核无误"),
                ("code_serial", &serial.to_string()),
            ],
        )
        .await;
    assert_eq!(appeal.status, StatusCode::SEE_OTHER);
    let appeals = app.get("/api/v1/appeals", Some(&regulator)).await.json();
    assert_eq!(appeals["items"][0]["code_serial"], serial, "{appeals}");
}
