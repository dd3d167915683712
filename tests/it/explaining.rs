//! Issue 12: the scan page explains the grade — the legend, the indicators against the
//! industry in words, a veto that caps the grade, what a bank should do, and nothing to rely on
//! when the code is revoked, superseded or expired.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;

fn scan_path(code: &serde_json::Value) -> String {
    let url = code["url"].as_str().expect("a url");
    let (_, c) = url.split_once("/C/").expect("a code url");
    format!("/C/{c}")
}

#[tokio::test]
async fn the_scan_page_explains_the_grade_against_the_industry() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let html = app.page(&scan_path(&code), None).await.text();
    // The legend of all five grades with their score bands.
    for words in ["等级说明", "深绿", "浅绿", "85 分及以上", "40 分以下"] {
        assert!(html.contains(words), "{words} missing:\n{html}");
    }
    // The indicators in the words of the statistics forms, against the industry.
    assert!(html.contains("万元工业增加值能耗"), "{html}");
    assert!(html.contains("吨标准煤/万元"), "{html}");
    assert!(html.contains("行业：汽车制造业"), "{html}");
    assert!(html.contains("一般工业固体废物综合利用率 89.85%"), "{html}");
    // What a bank should do, and the rate step in words.
    assert!(html.contains("统一社会信用代码与借款人一致"), "{html}");
    assert!(!html.contains(" bp<"), "no bare basis points: {html}");
    let english = app
        .page(&format!("{}?lang=en", scan_path(&code)), None)
        .await
        .text();
    assert!(english.contains("Manufacture of automobiles"), "{english}");
    assert!(english.contains("The five grades"));
}

#[tokio::test]
async fn a_veto_that_caps_the_grade_is_named_at_the_top_with_the_day_it_stops_counting() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let veto = app
        .post(
            &format!("/api/v1/firms/{uscc}/vetoes"),
            Some(&regulator),
            json!({"kind": "environmental_credit_red", "occurred_on": "2024-06-15"}),
        )
        .await;
    assert_eq!(veto.status, StatusCode::CREATED, "{}", veto.text());
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    assert_eq!(code["grade"], "D");
    let html = app.page(&scan_path(&code), None).await.text();
    let veto_at = html.find("等级限定为 D 级").expect("the veto is named");
    let name_at = html.find("<h1>").expect("a heading");
    assert!(veto_at < name_at, "the veto comes before the grade");
    assert!(html.contains("环境信用红牌（2024-06-15）"), "{html}");
    assert!(html.contains("自 2027-06-15 起不再计入"), "{html}");
}

#[tokio::test]
async fn a_revoked_superseded_or_expired_code_lists_no_finance_and_points_to_the_current_one() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let first = app.issue_code(&regulator, &firm, &uscc).await;
    let active = app.page(&scan_path(&first), None).await.text();
    assert!(active.contains("可获得的绿色金融"), "{active}");

    let second = app.issue_code(&regulator, &firm, &uscc).await;
    let old = app.page(&scan_path(&first), None).await.text();
    assert!(old.contains("已被新码取代") && old.contains("不得作为融资依据"), "{old}");
    assert!(old.contains("该企业现行绿效码"), "{old}");
    assert!(!old.contains("可获得的绿色金融"), "no finance on a superseded code");
    assert!(!old.contains("可获得的服务"), "no services on a superseded code");

    let serial = second["serial"].as_u64().unwrap();
    let revoked = app
        .post(
            &format!("/api/v1/codes/{serial}/revoke"),
            Some(&regulator),
            json!({"reason": "核查发现能耗数据不实"}),
        )
        .await;
    assert!(revoked.status.is_success(), "{}", revoked.text());
    let html = app.page(&scan_path(&second), None).await.text();
    assert!(html.contains("已撤销，不得作为融资依据"), "{html}");
    assert!(html.contains("核查发现能耗数据不实"), "{html}");
    assert!(html.contains("banner bad"), "a red banner");
    assert!(!html.contains("可获得的绿色金融"), "no finance on a revoked code");
    assert!(!html.contains("可获得的服务"), "no services on a revoked code");
}

#[tokio::test]
async fn a_forged_code_shows_no_reason_code_or_developer_text() {
    let app = TestApp::new().await;
    let page = app.page("/c/NOT-A-CODE", None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let html = page.text();
    assert!(html.contains("此码无效"));
    assert!(!html.contains("malformed") && !html.contains("原因代码"), "{html}");
}
