//! Issue 12: the regulator's desk — a firm's profile with year-on-year changes, the audit
//! trail in sentences with before/after tables, a queue that flags resubmissions and large
//! changes, and no raw JSON or API links on the pages.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::{TestApp, yearly_data};

#[tokio::test]
async fn a_firms_profile_shows_every_year_with_large_changes_flagged_and_the_queue_flags_them() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 5, "3670").await;
    // 2024: approved. 2025: energy up by half — a large change.
    let mut y2024 = yearly_data(&uscc);
    y2024["period"] = json!(2024);
    y2024["assessed_on"] = json!("2025-03-31");
    let id = app
        .post("/api/v1/assessments", Some(&firm), y2024)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let approved = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text());
    let mut y2025 = yearly_data(&uscc);
    y2025["energy"][0]["quantity"] = json!("30000000");
    let second = app
        .post("/api/v1/assessments", Some(&firm), y2025.clone())
        .await
        .json()["id"]
        .as_i64()
        .unwrap();

    let desk = app.page_session("reg").await;
    let queue = app.page("/regulator", Some(&desk)).await.text();
    assert!(
        queue.contains(&format!("/regulator/firms/{uscc}")),
        "the firm links to its profile"
    );
    assert!(
        queue.contains("综合能源消费量 +"),
        "a large change is flagged: {queue}"
    );
    assert!(!queue.contains("重新提交：该年度已有核定等级"));

    let profile = app
        .page(&format!("/regulator/firms/{uscc}"), Some(&desk))
        .await;
    assert_eq!(profile.status, StatusCode::OK);
    let html = profile.text();
    assert!(
        html.contains("测试企业5") && html.contains("汽车制造业"),
        "{html}"
    );
    assert!(html.contains(&format!("/regulator/assessments/{second}")));
    assert!(html.contains(&format!("/regulator/assessments/{id}")));
    assert!(html.contains("class=\"flag\""), "{html}");
    assert!(html.contains("吨标准煤"));
    assert!(!html.contains("/api/v1/codes/"), "code links open pages");

    // Approve 2025 (its jump is abnormal data: approved with the record of a check), then
    // resubmit 2025: the queue says it is a resubmission.
    let approved = app
        .post(
            &format!("/api/v1/assessments/{second}/approve"),
            Some(&regulator),
            json!({"check": {"note": "产量翻番，现场核实", "date": "2026-03-01", "on_site": true}}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text());
    app.post("/api/v1/assessments", Some(&firm), y2025).await;
    let queue = app.page("/regulator", Some(&desk)).await.text();
    assert!(queue.contains("重新提交：该年度已有核定等级"), "{queue}");
    assert_eq!(
        app.page("/regulator/firms/91500000MA5U00000W", Some(&desk))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_audit_trail_reads_as_sentences_with_before_and_after_and_choice_filters() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 6, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    app.post(
        &format!("/api/v1/assessments/{id}/reject"),
        Some(&regulator),
        json!({"reason": "增加值与统计局数据不符"}),
    )
    .await;
    let again = app.submit_yearly(&firm, &uscc).await;
    app.post(
        &format!("/api/v1/assessments/{again}/approve"),
        Some(&regulator),
        json!({}),
    )
    .await;
    let desk = app.page_session("reg").await;
    let audit = app.page("/regulator/audit", Some(&desk)).await.text();
    assert!(audit.contains("测试企业6提交了 2025 年度数据"), "{audit}");
    assert!(
        audit.contains("审核通过了测试企业6 2025 年度数据"),
        "{audit}"
    );
    assert!(
        audit.contains("为测试企业6签发了 2025 年度绿效码"),
        "{audit}"
    );
    assert!(audit.contains("退回了测试企业6 2025 年度数据"), "{audit}");
    assert!(audit.contains("增加值与统计局数据不符"));
    assert!(audit.contains("变更前") && audit.contains("变更后"));
    assert!(
        audit.contains("<select id=\"target_type\""),
        "choices, not free text"
    );
    assert!(audit.contains("<select id=\"action\""));
    assert!(!audit.contains("{\""), "no raw JSON: {audit}");
    assert!(!audit.contains(">assessment.reject"));
    let only = app
        .page("/regulator/audit?action=assessment.reject", Some(&desk))
        .await
        .text();
    assert!(
        only.contains("退回了") && !only.contains("提交了 2025"),
        "{only}"
    );
    let english = app
        .page("/regulator/audit?lang=en", Some(&desk))
        .await
        .text();
    assert!(
        english.contains("rejected 测试企业6&#39;s 2025 data"),
        "{english}"
    );
}

#[tokio::test]
async fn error_pages_speak_the_visitors_language_and_never_the_frameworks() {
    let app = TestApp::new().await;
    app.token_for(Role::Regulator, "reg").await;
    let desk = app.page_session("reg").await;
    // A path that does not parse: a page, not "Cannot parse `abc` to a `i64`".
    let bad = app.page("/regulator/assessments/abc", Some(&desk)).await;
    assert!(bad.status.is_client_error());
    let html = bad.text();
    assert!(
        bad.header("content-type").starts_with("text/html"),
        "{html}"
    );
    assert!(
        html.contains("出错了") && !html.contains("Cannot parse"),
        "{html}"
    );
    let english = app
        .page("/regulator/assessments/abc?lang=en", Some(&desk))
        .await
        .text();
    assert!(
        english.contains("Something went wrong") && !english.contains("出错了"),
        "{english}"
    );
    let missing = app.page("/no/such/page?lang=en", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("There is no such page"));
    let missing = app.page("/regulator/assessments/999999", Some(&desk)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("页面不存在"));
    // The API keeps its problem documents.
    let api = app.get("/api/v1/codes/abc", None).await;
    assert!(
        api.header("content-type")
            .starts_with("application/problem+json")
    );
}

#[tokio::test]
async fn a_firm_recreated_from_the_log_is_completed_on_its_page() {
    // Issue 25: a restore recreates a firm from its code with only its USCC; the regulator's
    // page says so and completes it.
    use sea_orm::ConnectionTrait;
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, _) = app.firm_with_user(&regulator, 31, "3670").await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE firms SET name = '{uscc}', industry_code = '', district = '', \
             restored_at = created_at WHERE uscc = '{uscc}'"
        ))
        .await
        .unwrap();
    let desk = app.page_session("reg").await;
    let path = format!("/regulator/firms/{uscc}");
    let page = app.page(&path, Some(&desk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("请补全企业名称、所属行业和区县"));
    let refused = app
        .submit(
            &path,
            &desk,
            &[
                ("name", "重庆某公司"),
                ("industry_code", "99"),
                ("district", "渝北区"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("class=\"error\""),
        "{}",
        refused.text()
    );
    let saved = app
        .submit(
            &path,
            &desk,
            &[
                ("name", "重庆某公司"),
                ("industry_code", "3670"),
                ("district", "渝北区"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let page = app.page(saved.header("location"), Some(&desk)).await.text();
    assert!(!page.contains("请补全企业名称"), "completed");
    assert!(page.contains("企业信息已保存") && page.contains("重庆某公司"));
    let firm = app.get(&format!("/api/v1/firms/{uscc}"), None).await.json();
    assert_eq!(firm["to_complete"], false);
    // Only a regulator may correct a firm's record.
    let bank = app.token_for(Role::Bank, "bank").await;
    app.call(
        axum::http::Method::PATCH,
        &format!("/api/v1/firms/{uscc}"),
        Some(&bank),
        Some(json!({"name": "x"})),
    )
    .await
    .problem(403);
}
