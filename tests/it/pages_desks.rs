//! The firm's, the bank's and the regulator's pages, and the public scan page, driven as a
//! browser would drive them: forms with CSRF tokens, redirects, and what each role may open.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::{TestApp, enc};

#[tokio::test]
async fn the_scan_page_shows_a_valid_code_and_plainly_refuses_a_bad_one() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let path = code["url"]
        .as_str()
        .unwrap()
        .split_once("/C/")
        .map(|(_, c)| format!("/C/{c}"))
        .unwrap();
    let page = app.page(&path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("测试企业1") && html.contains(&uscc) && html.contains("签名核验通过"),
        "{html}"
    );
    assert!(html.contains(&format!(">{}<", code["grade"].as_str().unwrap())));
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains(&format!("/log/proof/inclusion?index={}", code["serial"])));
    let lower = app.page(&path.to_lowercase(), None).await;
    assert_eq!(lower.status, StatusCode::OK, "lower case reads as upper");
    let english = app.page(&format!("{path}?lang=en"), None).await.text();
    assert!(english.contains("Signature verified"));

    let mut tampered = path.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let bad = app.page(&tampered, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("此码无效"));
    assert!(
        !bad.text().contains("测试企业1"),
        "an invalid code shows no firm or grade"
    );
    assert_eq!(
        app.page("/c/NOT-A-CODE", None).await.status,
        StatusCode::BAD_REQUEST
    );

    // Superseded: a warning and a link to the current code.
    app.issue_code(&regulator, &firm, &uscc).await;
    let old = app.page(&path, None).await.text();
    assert!(
        old.contains("已被新码取代") && old.contains("查看现行绿效码"),
        "{old}"
    );

    // The home page's box finds the code.
    let found = app
        .page(
            &format!("/verify?code={}", enc(code["url"].as_str().unwrap())),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert!(found.header("location").starts_with("/c/"));
    assert_eq!(
        app.page("/verify?code=hello", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_firm_previews_submits_declares_and_appeals_through_its_page() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, _) = app.firm_with_user(&regulator, 2, "3670").await;
    let firm = app.page_session("firm2").await;
    let desk = app.page("/firm", Some(&firm)).await;
    assert_eq!(desk.status, StatusCode::OK);
    assert!(desk.text().contains("填报年度数据") && desk.text().contains(&uscc));

    let data = [
        ("period", "2025"),
        ("value_added_10k_cny", "52000.50"),
        ("electricity_10k_kwh", "1,850"),
        ("natural_gas_10k_m3", "４２"),
        ("waste_generated_t", "3200"),
        ("waste_stock_utilized_t", "150"),
        ("waste_utilized_t", "3010"),
    ];
    let preview = app.submit("/firm/preview", &firm, &data).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert!(preview.text().contains("等级预览") && preview.text().contains("能效得分"));
    assert_eq!(
        app.count("assessments").await,
        0,
        "a preview stores nothing"
    );

    let mut bad = data.to_vec();
    bad[2] = ("electricity_10k_kwh", "-5");
    let refused = app.submit("/firm/submit", &firm, &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("不能为负数") && refused.text().contains("aria-invalid=\"true\"")
    );
    assert_eq!(app.count("assessments").await, 0);

    let submitted = app.submit("/firm/submit", &firm, &data).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    assert_eq!(submitted.header("location"), "/firm?msg=msg_submitted");
    assert!(
        app.page("/firm?msg=msg_submitted", Some(&firm))
            .await
            .text()
            .contains("已提交")
    );
    assert_eq!(app.count("assessments").await, 1);

    let declared = app
        .submit(
            "/firm/certifications",
            &firm,
            &[
                ("kind", "iso_50001"),
                ("number", "E-7"),
                ("issuer", "CQC"),
                ("valid_from", "2024-01-01"),
                ("valid_until", "2027-01-01"),
                ("evidence_note", ""),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("certifications").await, 1);

    // No code yet: the appeal is refused; once issued, it goes to the regulators' queue.
    let queued = app
        .get("/api/v1/assessments?status=submitted", Some(&regulator))
        .await
        .json();
    let id = queued["items"][0]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/assessments/{id}/approve"),
        Some(&regulator),
        json!({}),
    )
    .await;
    let appeal = app
        .submit("/firm/appeal", &firm, &[("note", "废料数据有误")])
        .await;
    assert_eq!(appeal.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("appeals").await, 1);
    let desk = app.page("/firm", Some(&firm)).await.text();
    assert!(
        desk.contains("/qr.svg") && desk.contains("badge.png"),
        "the code and its downloads"
    );

    // Without the CSRF token, nothing happens.
    let forged = app
        .form_post(
            "/firm/submit",
            &firm.cookie,
            b"period=2025".to_vec(),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_desk_opens_only_for_its_role() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;
    assert_eq!(app.page("/bank", Some(&bank)).await.status, StatusCode::OK);
    assert_eq!(
        app.page("/firm", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page("/regulator", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
    let anonymous = app.page("/regulator/audit", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.header("location"), "/login?next=/regulator/audit");
}

#[tokio::test]
async fn a_bank_verifies_one_code_a_list_and_keeps_a_watchlist_on_its_page() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let url = code["url"].as_str().unwrap();
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;

    let one = app.submit("/bank/verify", &bank, &[("code", url)]).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(
        one.text().contains("测试企业3")
            && one
                .text()
                .contains("<strong class=\"verdict\">有效</strong>"),
        "{}",
        one.text()
    );

    let multipart = |format: &str| {
        let boundary = "XyZ";
        let file = format!("code\n{url}\nnot-a-code\n{url}\n");
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\n{format}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"codes.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"codes\"\r\n\r\n\r\n--{boundary}--\r\n",
            bank.csrf
        );
        (
            body.into_bytes(),
            format!("multipart/form-data; boundary={boundary}"),
        )
    };
    let (body, content_type) = multipart("html");
    let list = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert!(
        list.text().contains("(3)"),
        "the header line aside, one row per line"
    );
    let (body, content_type) = multipart("csv");
    let csv = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await;
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let text = csv.text();
    assert_eq!(
        text.trim_start_matches('\u{feff}').lines().count(),
        4,
        "{text}"
    );
    assert!(text.contains(&uscc) && text.contains(",有效,"), "{text}");

    let added = app.submit("/bank/watch", &bank, &[("uscc", &uscc)]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let desk = app.page("/bank", Some(&bank)).await.text();
    assert!(desk.contains("签发新码"), "the change feed shows the issue");
    let unknown = app
        .submit("/bank/watch", &bank, &[("uscc", "91500000MA5U00000W")])
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.submit("/bank/unwatch", &bank, &[("uscc", &uscc)])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_regulator_reviews_verifies_revokes_and_audits_through_the_desk() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 4, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let cert = app
        .post(&format!("/api/v1/firms/{uscc}/certifications"), Some(&firm), json!({"kind": "iso_14001", "number": "N", "issuer": "I", "valid_from": "2024-01-01", "valid_until": "2028-01-01"}))
        .await
        .json();
    let desk = app.page_session("reg").await;
    let queue = app.page("/regulator", Some(&desk)).await.text();
    assert!(queue.contains(&format!("/regulator/assessments/{id}")));
    let detail = app
        .page(&format!("/regulator/assessments/{id}"), Some(&desk))
        .await
        .text();
    assert!(detail.contains("能效得分") && detail.contains("审核通过并签发绿效码"));

    let recompute = app
        .submit(
            &format!("/regulator/assessments/{id}/recompute"),
            &desk,
            &[],
        )
        .await;
    assert!(recompute.text().contains("重新计算结果与存档一致"));
    let approved = app
        .submit(&format!("/regulator/assessments/{id}/approve"), &desk, &[])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("codes").await, 1);
    let again = app
        .submit(&format!("/regulator/assessments/{id}/approve"), &desk, &[])
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "approving twice is shown, not done"
    );

    let cert_id = cert["id"].to_string();
    let verified = app
        .submit(
            &format!("/regulator/certifications/{cert_id}"),
            &desk,
            &[("decision", "verify")],
        )
        .await;
    assert_eq!(verified.status, StatusCode::SEE_OTHER);
    let serial =
        app.get(&format!("/api/v1/firms/{uscc}"), None).await.json()["code_serial"].to_string();
    let revoked = app
        .submit(
            &format!("/regulator/codes/{serial}/revoke"),
            &desk,
            &[("reason", "抽查不合格"), ("back", &id.to_string())],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/v1/codes/{serial}/status"), None)
            .await
            .json()["status"],
        "revoked"
    );

    for page in [
        "/regulator/firms?division=36",
        "/regulator/certifications",
        "/regulator/appeals",
        "/regulator/charts",
        "/regulator/audit?target_type=code",
        "/regulator?lang=en",
    ] {
        let response = app.page(page, Some(&desk)).await;
        assert_eq!(response.status, StatusCode::OK, "{page}");
    }
    let audit = app
        .page("/regulator/audit?target_type=code", Some(&desk))
        .await
        .text();
    assert!(audit.contains("撤销了测试企业4的绿效码"), "{audit}");
    assert!(!audit.contains(">code.revoke"), "no developer words");
    let firms = app
        .page("/regulator/firms?division=36", Some(&desk))
        .await
        .text();
    assert!(firms.contains(&uscc));
}

#[tokio::test]
async fn the_way_up_is_in_words_on_the_firm_desk_and_the_review_page_but_never_on_the_scan_page() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm_token) = app.firm_with_user(&regulator, 40, "3670").await;
    let firm = app.page_session("firm40").await;
    // Methodology §9's vector "energy ratio exactly 0.8 scores 80": 48.00, grade C.
    let data = [
        ("period", "2025"),
        ("value_added_10k_cny", "1012.5"),
        ("washed_coal_t", "72"),
        ("waste_generated_t", "0"),
        ("waste_stock_utilized_t", "0"),
        ("waste_utilized_t", "0"),
    ];
    let line = "距 B 级：综合能源消费量降至 55.3599 吨标准煤（−14.57%），或取得绿色设计产品认证";
    let preview = app.submit("/firm/preview", &firm, &data).await.text();
    assert!(
        preview.contains("如何提升等级") && preview.contains(line),
        "{preview}"
    );

    let body = json!({"uscc": uscc, "period": 2025, "value_added_10k_cny": "1012.5",
        "energy": [{"carrier": "washed_coal_t", "quantity": "72"}],
        "waste": {"generated_t": "0", "stock_utilized_t": "0", "utilized_t": "0"}});
    let id = app
        .post("/api/v1/assessments", Some(&firm_token), body)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.create_account(Role::Regulator, "officer", None).await;
    let desk = app.page_session("officer").await;
    let review = app
        .page(&format!("/regulator/assessments/{id}"), Some(&desk))
        .await
        .text();
    assert!(review.contains(line), "{review}");

    let issued = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    let path = issued["url"]
        .as_str()
        .unwrap()
        .split_once("/C/")
        .map(|(_, c)| format!("/C/{c}"))
        .unwrap();
    let scan = app.page(&path, None).await.text();
    assert!(
        scan.contains("测试企业40") && !scan.contains("如何提升等级") && !scan.contains("距 B 级")
    );
}
