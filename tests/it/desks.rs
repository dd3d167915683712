//! Issue 24: the desks as the work is done — each loop closed and each verdict true, checked
//! as the user reads the page.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_vetoed_firms_desk_promises_no_grade_before_the_veto_ends() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let veto = app
        .post(
            &format!("/api/v1/firms/{uscc}/vetoes"),
            Some(&regulator),
            json!({"kind": "environmental_credit_red", "occurred_on": "2025-06-15"}),
        )
        .await;
    assert_eq!(veto.status, StatusCode::CREATED, "{}", veto.text());
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    assert_eq!(code["grade"], "D");
    let desk = app.page_session("firm2").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(
        html.contains("因一票否决事项，2028-06-15 前本企业等级为 D"),
        "{html}"
    );
    assert!(
        !html.contains("距下一等级最近的途径（改动越小越靠前）：</p>")
            || html.contains("自否决期满之日起，距下一等级最近的途径"),
        "no lever is promised for before the veto ends"
    );
    let recommendations = app
        .get(
            &format!("/api/v1/firms/{uscc}/recommendations"),
            Some(&firm),
        )
        .await
        .json();
    assert_eq!(recommendations["vetoed_until"], "2028-06-15");

    // Without a veto, the plain sentence and no date.
    let (uscc3, firm3) = app.firm_with_user(&regulator, 3, "3670").await;
    app.issue_code(&regulator, &firm3, &uscc3).await;
    let desk3 = app.page_session("firm3").await;
    let html = app.page("/firm", Some(&desk3)).await.text();
    assert!(!html.contains("因一票否决事项"), "{html}");
}

fn list_form(csrf: &str, fields: &[(&str, &str)]) -> (Vec<u8>, String) {
    crate::helpers::multipart(csrf, fields, None)
}

#[tokio::test]
async fn the_banks_list_check_keeps_its_work_and_tells_the_truth_about_each_borrower() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;
    // A valid borrower, a revoked one, a vetoed one (D with a score above 40).
    let (valid_uscc, f1) = app.firm_with_user(&regulator, 11, "3670").await;
    app.issue_code(&regulator, &f1, &valid_uscc).await;
    let (revoked_uscc, f2) = app.firm_with_user(&regulator, 12, "3670").await;
    let revoked = app.issue_code(&regulator, &f2, &revoked_uscc).await;
    let done = app
        .post(
            &format!("/api/v1/codes/{}/revoke", revoked["serial"]),
            Some(&regulator),
            json!({"reason": "环保处罚，现场核查属实"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let (vetoed_uscc, f3) = app.firm_with_user(&regulator, 13, "3670").await;
    app.post(
        &format!("/api/v1/firms/{vetoed_uscc}/vetoes"),
        Some(&regulator),
        json!({"kind": "environmental_credit_red", "occurred_on": "2025-06-15"}),
    )
    .await;
    app.issue_code(&regulator, &f3, &vetoed_uscc).await;
    // The valid borrower typed with full-width characters, as a Chinese keyboard gives them.
    let full_width: String = valid_uscc
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
        .collect();
    let pasted = format!("{full_width}\n{revoked_uscc}\n{vetoed_uscc}\n");
    let (body, kind) = list_form(&bank.csrf, &[("format", "html"), ("codes", &pasted)]);
    let page = app
        .form_post("/bank/verify-list", &bank.cookie, body, &kind)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains(&format!(
            "<td data-label=\"统一社会信用代码\">{valid_uscc}</td>"
        )),
        "the full-width USCC is the firm's: {html}"
    );
    assert!(
        html.contains("已撤销（") && html.contains("原因：环保处罚，现场核查属实"),
        "the revoked borrower reads as revoked, with its day and reason: {html}"
    );
    assert!(!html.contains("该企业目前没有绿效码"), "{html}");
    assert!(html.contains("D（一票否决）"), "{html}");
    // The pasted lines stay in their box; watching all takes the revoked borrower too.
    assert!(html.contains(&revoked_uscc) && html.contains(&format!("{revoked_uscc}\n")));
    let watch_all = html
        .split("name=\"usccs\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("watch all")
        .to_owned();
    assert!(watch_all.contains(&revoked_uscc), "{watch_all}");
    // The downloads of the same check, without pasting again.
    let check = html
        .split("name=\"check\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the check's id")
        .to_owned();
    let (body, kind) = list_form(&bank.csrf, &[("format", "csv"), ("check", &check)]);
    let csv = app
        .form_post("/bank/verify-list", &bank.cookie, body, &kind)
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let text = csv.text();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4, "a header and the three borrowers: {text}");
    assert!(lines[2].contains("已撤销"), "{text}");
    assert!(
        csv.header("content-disposition").contains(&format!(
            "gec-verdicts-{}.csv",
            gec::service::records::today()
        )),
        "named by content and day: {}",
        csv.header("content-disposition")
    );
    // The workbook: figures are numbers, with a filter on the header and widths set.
    let (body, kind) = list_form(&bank.csrf, &[("format", "xlsx"), ("check", &check)]);
    let xlsx = app
        .form_post("/bank/verify-list", &bank.cookie, body, &kind)
        .await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert!(sheet.contains("<autoFilter"), "{sheet}");
    assert!(sheet.contains("<cols>"), "{sheet}");
    assert!(
        sheet.contains("<v>2025</v>"),
        "the year is a number: {sheet}"
    );
    // Another bank cannot use the check's id.
    app.create_account(Role::Bank, "bank2", None).await;
    let other = app.page_session("bank2").await;
    let (body, kind) = list_form(&other.csrf, &[("format", "csv"), ("check", &check)]);
    let refused = app
        .form_post("/bank/verify-list", &other.cookie, body, &kind)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("这次核验已失效"),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn after_a_revocation_the_review_page_says_so_and_offers_no_second_revocation() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 21, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let id = app.get("/api/v1/assessments", Some(&firm)).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let desk = app.page_session("reg").await;
    let path = format!("/regulator/assessments/{id}");
    let before = app.page(&path, Some(&desk)).await.text();
    assert!(
        before.contains("撤销后此码立即失效"),
        "the revocation says what will happen"
    );
    assert!(before.contains(&format!("/regulator/codes/{}/revoke", code["serial"])));
    let revoked = app
        .submit(
            &format!("/regulator/codes/{}/revoke", code["serial"]),
            &desk,
            &[
                ("reason", "现场核查发现数据不实"),
                ("back", &id.to_string()),
            ],
        )
        .await;
    assert!(revoked.status.is_redirection(), "{}", revoked.status);
    let after = app.page(&path, Some(&desk)).await.text();
    assert!(
        after.contains("已于") && after.contains("撤销，原因：现场核查发现数据不实"),
        "{after}"
    );
    assert!(
        !after.contains(&format!("/regulator/codes/{}/revoke", code["serial"])),
        "no second revocation is offered"
    );
}

#[tokio::test]
async fn an_appeal_has_a_status_the_firm_follows_and_a_decision_that_can_reinstate_its_code() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 31, "3670").await;
    let first = app.issue_code(&regulator, &firm, &uscc).await;
    // An appeal against the code in force cannot be "reinstated": it was never revoked.
    let appeal = app
        .post(
            "/api/v1/appeals",
            Some(&firm),
            json!({"note": "我们认为能耗数据口径有误"}),
        )
        .await;
    assert_eq!(appeal.status, StatusCode::CREATED, "{}", appeal.text());
    let id = appeal.json()["id"].as_i64().unwrap();
    let refused = app
        .post(
            &format!("/api/v1/appeals/{id}/close"),
            Some(&regulator),
            json!({"resolution": "恢复", "outcome": "reinstated"}),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], "outcome");
    let upheld = app
        .post(
            &format!("/api/v1/appeals/{id}/close"),
            Some(&regulator),
            json!({"resolution": "经复核，数据口径符合统计制度，维持原结论。", "outcome": "upheld"}),
        )
        .await;
    assert_eq!(upheld.status, StatusCode::OK, "{}", upheld.text());
    assert_eq!(upheld.json()["outcome"], "upheld");
    assert!(upheld.json()["new_serial"].is_null());

    // Revoked, appealed, reinstated: a new code on the same figures; the firm follows it all.
    app.post(
        &format!("/api/v1/codes/{}/revoke", first["serial"]),
        Some(&regulator),
        json!({"reason": "疑似数据造假"}),
    )
    .await;
    let appeal = app
        .post(
            "/api/v1/appeals",
            Some(&firm),
            json!({"note": "已提交电网公司出具的用电证明", "code_serial": first["serial"]}),
        )
        .await;
    assert_eq!(appeal.status, StatusCode::CREATED, "{}", appeal.text());
    let id = appeal.json()["id"].as_i64().unwrap();
    let desk = app.page_session("firm31").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(
        html.contains("我的申诉") && html.contains("处理中"),
        "{html}"
    );
    let decided = app
        .post(
            &format!("/api/v1/appeals/{id}/close"),
            Some(&regulator),
            json!({"resolution": "经核实用电证明属实，恢复绿效码。", "outcome": "reinstated"}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text());
    let decided = decided.json();
    assert_eq!(decided["outcome"], "reinstated");
    let new_serial = decided["new_serial"].as_i64().expect("a new code");
    let status = app
        .get(&format!("/api/v1/codes/{new_serial}"), None)
        .await
        .json();
    assert_eq!(status["status"], "active", "{status}");
    let firm_view = app
        .get(&format!("/api/v1/firms/{uscc}"), Some(&firm))
        .await
        .json();
    assert_eq!(firm_view["code_serial"], new_serial);
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(
        html.contains("恢复绿效码") && html.contains("经核实用电证明属实，恢复绿效码。"),
        "{html}"
    );
    assert!(html.contains(&format!("/codes/{new_serial}")), "{html}");
}

#[tokio::test]
async fn a_regulator_records_a_veto_on_the_firms_page_and_a_bad_one_changes_nothing() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, _) = app.firm_with_user(&regulator, 41, "3670").await;
    let desk = app.page_session("reg").await;
    let path = format!("/regulator/firms/{uscc}");
    let page = app.page(&path, Some(&desk)).await.text();
    assert!(
        page.contains("记录一票否决事项") && page.contains("等级限定为 D"),
        "{page}"
    );
    let refused = app
        .submit(
            &format!("{path}/vetoes"),
            &desk,
            &[
                ("kind", "environmental_credit_red"),
                ("occurred_on", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("vetoes").await,
        0,
        "a refused veto records nothing"
    );
    let recorded = app
        .submit(
            &format!("{path}/vetoes"),
            &desk,
            &[
                ("kind", "environmental_credit_red"),
                ("occurred_on", "2025-06-15"),
                ("note", "渝环罚〔2025〕12号"),
            ],
        )
        .await;
    assert!(recorded.status.is_redirection(), "{}", recorded.text());
    assert_eq!(app.count("vetoes").await, 1);
    let page = app.page(&path, Some(&desk)).await.text();
    assert!(page.contains("2025-06-15"), "{page}");
}

#[tokio::test]
async fn the_badge_the_desk_and_the_scan_page_give_the_same_china_dates() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 51, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let serial = code["serial"].as_i64().unwrap();
    let china = |seconds: i64| {
        (chrono::DateTime::from_timestamp(seconds, 0).unwrap() + chrono::Duration::hours(8))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (issued, valid) = (
        china(code["iat"].as_i64().unwrap()),
        china(code["exp"].as_i64().unwrap()),
    );
    let badge = app
        .get(&format!("/api/v1/codes/{serial}/badge.svg"), None)
        .await
        .text();
    assert!(badge.contains(&issued) && badge.contains(&valid), "{badge}");
    let path = code["url"]
        .as_str()
        .unwrap()
        .split("/C/")
        .nth(1)
        .unwrap()
        .to_owned();
    let scan = app.get(&format!("/C/{path}"), None).await.text();
    assert!(scan.contains(&issued) && scan.contains(&valid), "{scan}");
    let desk = app.page_session("firm51").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(html.contains(&valid), "{html}");
    // The desk says the figures behind its code, in the forms' words, as the scan page does.
    let standing = html
        .split("各项指标")
        .nth(1)
        .expect("the indicators of the code in force");
    for words in [
        "万元工业增加值能耗",
        "为行业基准（",
        "综合能源消费量",
        "一般工业固体废物综合利用率",
    ] {
        assert!(standing.contains(words), "{words}: {standing}");
    }
    let english = app.get(&format!("/C/{path}?lang=en"), None).await.text();
    assert!(
        english.contains("(UTC+8)") && !english.contains(" UTC<"),
        "{english}"
    );
}

/// A bank's 绿效贷 for `grade` (−20 bp, up to 5,000 × 10,000 CNY, 36 months), in force.
async fn green_loan(app: &TestApp, bank: &str, grade: &str) -> serde_json::Value {
    let year = chrono::Datelike::year(&chrono::Utc::now());
    app.post(
        "/api/v1/products",
        Some(bank),
        json!({"name": "绿效贷", "kind": "green_loan", "grades": [grade],
               "rate_step_bp": {grade: -20}, "max_amount_10k_cny": "5000",
               "term_months": 36, "valid_from": format!("{}-01-01", year - 1),
               "valid_until": format!("{}-12-31", year + 1)}),
    )
    .await
    .json()
}

/// A consent's end 90 days from now.
fn consent_until() -> String {
    (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_request_for_more_is_answered_by_the_firm_and_the_thread_is_kept() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 61, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let grade = code["grade"].as_str().unwrap().to_owned();
    let product = green_loan(&app, &bank, &grade).await;
    let until = consent_until();
    let application = app
        .post(
            "/api/v1/applications",
            Some(&firm),
            json!({"product_id": product["id"], "amount_10k_cny": "500", "purpose": "光伏改造",
                   "consent": {"scope": "grade", "expires_on": until}}),
        )
        .await
        .json();
    let id = application["id"].as_i64().unwrap();
    // Not asked for anything yet: nothing to answer.
    let early = app
        .post(
            &format!("/api/v1/applications/{id}/reply"),
            Some(&firm),
            json!({"body": "补充"}),
        )
        .await
        .problem(409);
    assert!(early["detail"].as_str().unwrap().contains("not waiting"));
    app.post(
        &format!("/api/v1/applications/{id}/decision"),
        Some(&bank),
        json!({"decision": "more_info", "reason": "请补充光伏项目备案文件编号"}),
    )
    .await;
    let desk = app.page_session("firm61").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(
        html.contains("请补充光伏项目备案文件编号")
            && html.contains(&format!("/firm/applications/{id}/reply")),
        "the firm reads the request and can answer it: {html}"
    );
    // Another firm cannot answer it.
    let (_, other) = app.firm_with_user(&regulator, 62, "3670").await;
    app.post(
        &format!("/api/v1/applications/{id}/reply"),
        Some(&other),
        json!({"body": "x"}),
    )
    .await
    .problem(404);
    // A file that is not what its name says is refused, and nothing is kept.
    let disguised = app
        .post(
            &format!("/api/v1/applications/{id}/reply"),
            Some(&firm),
            json!({"body": "见附件", "attachments": [
                {"name": "备案证明.pdf", "content_base64": "TVqQAAMAAAAEAAAA"}]}),
        )
        .await
        .problem(422);
    assert_eq!(disguised["field"], "attachments[0]");
    assert_eq!(app.count("application_files").await, 0);
    assert_eq!(app.count("application_messages").await, 0);
    // The firm answers on its desk with a PDF attached.
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let answered = app
        .submit_multipart(
            &format!("/firm/applications/{id}/reply"),
            &desk,
            &[("body", "备案编号：渝发改备〔2026〕88号")],
            Some(("files", "备案证明.pdf", "application/pdf", &pdf)),
        )
        .await;
    assert!(answered.status.is_redirection(), "{}", answered.text());
    let view = app
        .get(&format!("/api/v1/applications/{id}"), Some(&bank))
        .await
        .json();
    assert_eq!(view["status"], "submitted");
    let thread = view["thread"].as_array().unwrap();
    assert_eq!(thread.len(), 2, "{view}");
    assert_eq!(thread[0]["author"], "bank");
    assert_eq!(thread[0]["body"], "请补充光伏项目备案文件编号");
    assert_eq!(thread[1]["author"], "firm");
    assert_eq!(thread[1]["body"], "备案编号：渝发改备〔2026〕88号");
    let bank_desk = app.page_session("bank1").await;
    let page = app
        .page(&format!("/bank/applications/{id}"), Some(&bank_desk))
        .await
        .text();
    assert!(
        page.contains("往来记录") && page.contains("渝发改备〔2026〕88号"),
        "the bank reads the thread: {page}"
    );
    // The bank opens the file as it was sent; the firm sees that it did; no one else can.
    let file = &thread[1]["files"][0];
    assert_eq!(file["name"], "备案证明.pdf");
    assert_eq!(file["media_type"], "application/pdf");
    let href = format!("/applications/{id}/files/{}", file["id"]);
    assert!(page.contains(&href), "{page}");
    let opened = app.page(&href, Some(&bank_desk)).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert_eq!(opened.body, pdf);
    assert!(
        opened
            .header("content-disposition")
            .starts_with("attachment;")
    );
    let firm_page = app.page("/firm", Some(&desk)).await.text();
    assert!(firm_page.contains("查看了您的附件"), "{firm_page}");
    let api = format!("/api/v1/applications/{id}/files/{}", file["id"]);
    assert_eq!(
        app.get(&api, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&api, Some(&firm)).await.body, pdf);
    let events = app
        .get(
            "/api/v1/audit/events?action=application.reply",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_firms_audit_trail_holds_its_submissions_codes_and_applications() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 71, "3670").await;
    app.issue_code(&regulator, &firm, &uscc).await;
    app.post(
        "/api/v1/appeals",
        Some(&firm),
        json!({"note": "数据口径有误"}),
    )
    .await;
    let (other_uscc, other) = app.firm_with_user(&regulator, 72, "3670").await;
    app.issue_code(&regulator, &other, &other_uscc).await;
    let trail = app
        .get(
            &format!("/api/v1/audit/events?firm={uscc}&limit=500"),
            Some(&regulator),
        )
        .await
        .json();
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for wanted in [
        "firm.create",
        "assessment.submit",
        "assessment.approve",
        "code.issue",
        "appeal.raise",
    ] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
    assert!(
        !trail.to_string().contains(&other_uscc),
        "another firm's events are not in the trail"
    );
    let desk = app.page_session("reg").await;
    let page = app
        .page(
            &format!("/regulator/audit?target_type=firm&target_id={uscc}"),
            Some(&desk),
        )
        .await
        .text();
    assert!(page.matches("<tr").count() >= 5, "{page}");
}

#[tokio::test]
async fn a_declared_certification_waiting_for_verification_is_not_suggested_again() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 81, "3670").await;
    let declared = app
        .post(
            &format!("/api/v1/firms/{uscc}/certifications"),
            Some(&firm),
            json!({"kind": "iso_14001", "number": "CN-14001-7", "issuer": "某认证中心",
                   "valid_from": "2025-01-01", "valid_until": "2028-01-01"}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.text());
    let desk = app.page_session("firm81").await;
    let page = app
        .submit(
            "/firm/preview",
            &desk,
            &[
                ("action", "preview"),
                ("period", "2025"),
                ("value_added_10k_cny", "52000.5"),
                ("electricity_10k_kwh", "1850"),
                ("natural_gas_10k_m3", "42"),
                ("diesel_t", "35.5"),
                ("waste_generated_t", "3200"),
                ("waste_stock_utilized_t", "150"),
                ("waste_utilized_t", "3010"),
            ],
        )
        .await
        .text();
    let way_up = page
        .split("id=\"wayup-h\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the preview's way up");
    assert!(
        way_up.contains("已申报的ISO 14001 环境管理体系认证正待核验"),
        "{way_up}"
    );
    assert!(
        !way_up.contains("取得ISO 14001 环境管理体系认证"),
        "not suggested again: {way_up}"
    );
}

#[tokio::test]
async fn a_resubmission_is_reviewed_beside_the_years_approved_figures() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 31, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    // The firm files the same year again with 5 % less electricity and no diesel.
    let mut again = crate::helpers::yearly_data(&uscc);
    again["energy"] = json!([{"carrier": "electricity_kwh", "quantity": "17575000"},
                             {"carrier": "natural_gas_m3", "quantity": "420000"}]);
    let resubmitted = app.post("/api/v1/assessments", Some(&firm), again).await;
    assert_eq!(
        resubmitted.status,
        StatusCode::CREATED,
        "{}",
        resubmitted.text()
    );
    let id = resubmitted.json()["id"].as_i64().unwrap();
    let desk = app.page_session("reg").await;
    let review = app
        .page(&format!("/regulator/assessments/{id}"), Some(&desk))
        .await
        .text();
    let section = review
        .split("id=\"compare-h\"")
        .nth(1)
        .expect("the resubmission is compared with the approved filing")
        .split("</section>")
        .next()
        .unwrap()
        .to_owned();
    assert!(
        section.contains(&format!("签发了第 {} 号码", code["serial"])),
        "{section}"
    );
    let row_of = |what: &str| -> String {
        let at = section
            .find(&format!(">{what}</th>"))
            .unwrap_or_else(|| panic!("no row {what}: {section}"));
        section[at..].split("</tr>").next().unwrap().to_owned()
    };
    let electricity = row_of("电力");
    assert!(
        electricity.contains("17,575,000 千瓦时")
            && electricity.contains("18,500,000 千瓦时")
            && electricity.contains("−5.0%"),
        "{electricity}"
    );
    assert!(row_of("柴油").contains("删除"));
    assert!(row_of("综合能源消费量").contains("吨标准煤"));
    assert!(
        !section.contains(">天然气</th>"),
        "an item equal in both is left out"
    );

    // The firm's profile keeps the figures behind the code in force in view.
    let profile = app
        .page(&format!("/regulator/firms/{uscc}"), Some(&desk))
        .await
        .text();
    assert!(
        profile.contains(&format!("/regulator/assessments/{id}\""))
            && profile.contains("已批准的申报 · 现行码的依据"),
        "{profile}"
    );
    assert!(
        profile.contains("data-label=\"综合能源消费量（吨标准煤）\""),
        "the phone's cards keep the units"
    );
}

#[tokio::test]
async fn the_firm_list_finds_by_name_or_uscc_and_sorts_by_score() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let mut usccs = Vec::new();
    for n in 41..=43 {
        let (uscc, firm) = app.firm_with_user(&regulator, n, "3670").await;
        if n != 42 {
            app.issue_code(&regulator, &firm, &uscc).await;
        }
        usccs.push(uscc);
    }
    let desk = app.page_session("reg").await;
    let by_name = app
        .page(
            &format!("/regulator/firms?q={}", crate::helpers::enc("企业42")),
            Some(&desk),
        )
        .await
        .text();
    assert!(by_name.contains(&usccs[1]) && !by_name.contains(&usccs[0]));
    // The start of a USCC, typed with full-width digits, finds the firm.
    let full_width: String = usccs[2][..17]
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            other => other,
        })
        .collect();
    let by_uscc = app
        .page(
            &format!("/regulator/firms?q={}", crate::helpers::enc(&full_width)),
            Some(&desk),
        )
        .await
        .text();
    assert!(
        by_uscc.contains(&usccs[2]) && !by_uscc.contains(&usccs[1]),
        "{by_uscc}"
    );
    let none = app
        .page(
            "/regulator/firms?q=%E6%97%A0%E6%AD%A4%E4%BC%81%E4%B8%9A",
            Some(&desk),
        )
        .await
        .text();
    assert!(none.contains("没有符合条件的企业"));
    // Sorted by score, the ungraded firm comes last; pages follow the same order.
    let api = app
        .get("/api/v1/firms?sort=score&limit=2", Some(&regulator))
        .await
        .json();
    let first: Vec<&str> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["uscc"].as_str().unwrap())
        .collect();
    assert!(!first.contains(&usccs[1].as_str()), "{api}");
    let cursor = api["next_cursor"].as_str().expect("a second page");
    let rest = app
        .get(
            &format!("/api/v1/firms?sort=score&limit=2&cursor={cursor}"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(rest["items"][0]["uscc"], usccs[1].as_str());
    let refused = app.get("/api/v1/firms?sort=grade", Some(&regulator)).await;
    assert_eq!(refused.problem(422)["field"], "sort");
}

#[tokio::test]
async fn each_party_sees_the_others_contact_and_the_decision_form_is_filled_with_the_request() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let provider = app.token_for(Role::Provider, "prov1").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 71, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let grade = code["grade"].as_str().unwrap().to_owned();
    // The firm gives its contact through the API, the bank on its desk.
    let me = app
        .call(
            axum::http::Method::PUT,
            "/api/v1/me/contact",
            Some(&firm),
            Some(json!({"contact": "能源管理员 张工 138 0000 0071"})),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(me.json()["contact"], "能源管理员 张工 138 0000 0071");
    let bank_desk = app.page_session("bank1").await;
    let saved = app
        .submit(
            "/account/contact",
            &bank_desk,
            &[("contact", "信贷部 李经理 023-6000 0001")],
        )
        .await;
    assert!(
        saved
            .header("location")
            .starts_with("/bank?msg=msg_contact_saved")
    );
    // Too long: refused beside the box, nothing changed.
    let long = "电".repeat(201);
    let refused = app
        .submit("/account/contact", &bank_desk, &[("contact", &long)])
        .await;
    let shown = app
        .page(refused.header("location"), Some(&bank_desk))
        .await
        .text();
    assert!(
        shown.contains("id=\"contact-err\"")
            && shown.contains("value=\"信贷部 李经理 023-6000 0001\""),
        "{shown}"
    );
    let product = green_loan(&app, &bank, &grade).await;
    let until = consent_until();
    let id = app
        .post(
            "/api/v1/applications",
            Some(&firm),
            json!({"product_id": product["id"], "amount_10k_cny": "800", "purpose": "余热回收",
                   "consent": {"scope": "grade", "expires_on": until}}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let page = app
        .page(&format!("/bank/applications/{id}"), Some(&bank_desk))
        .await
        .text();
    assert!(page.contains("能源管理员 张工 138 0000 0071"), "{page}");
    for filled in [
        "name=\"amount_10k_cny\" inputmode=\"decimal\" maxlength=\"40\" value=\"800\"",
        "value=\"-20\"",
        "value=\"36\"",
    ] {
        assert!(
            page.contains(filled),
            "the decision form proposes {filled}: {page}"
        );
    }
    assert!(
        !page.contains("value=\"approved\" required checked")
            && !page.contains("value=\"approved\" checked"),
        "no decision is chosen for the officer"
    );
    let firm_desk = app.page_session("firm71").await;
    let desk = app.page("/firm", Some(&firm_desk)).await.text();
    assert!(
        desk.contains("银行联系人：信贷部 李经理 023-6000 0001"),
        "{desk}"
    );
    // A provider sees the contact of the firm that asks it, and nobody else's.
    let service = app
        .post(
            "/api/v1/services",
            Some(&provider),
            json!({"name": "能源审计", "category": "energy", "description": "d", "districts": [],
                   "contact": "023-1234 5678"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/services/{service}/approve"),
        Some(&regulator),
        json!({}),
    )
    .await;
    let asked = app
        .post(
            "/api/v1/service-requests",
            Some(&firm),
            json!({"service_id": service}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text());
    let prov_desk = app.page_session("prov1").await;
    let requests = app.page("/provider", Some(&prov_desk)).await.text();
    assert!(
        requests.contains("企业联系人：能源管理员 张工 138 0000 0071"),
        "{requests}"
    );
    let (_, other) = app.firm_with_user(&regulator, 72, "3670").await;
    let others = app
        .get(&format!("/api/v1/applications/{id}"), Some(&other))
        .await;
    assert_eq!(others.status, StatusCode::NOT_FOUND);
}
