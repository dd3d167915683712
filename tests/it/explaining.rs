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
    assert!(
        old.contains("已被新码取代") && old.contains("不得作为融资依据"),
        "{old}"
    );
    assert!(old.contains("该企业现行绿效码"), "{old}");
    assert!(
        !old.contains("可获得的绿色金融"),
        "no finance on a superseded code"
    );
    assert!(
        !old.contains("可获得的服务"),
        "no services on a superseded code"
    );

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
    assert!(
        !html.contains("可获得的绿色金融"),
        "no finance on a revoked code"
    );
    assert!(
        !html.contains("可获得的服务"),
        "no services on a revoked code"
    );
}

#[tokio::test]
async fn a_forged_code_shows_no_reason_code_or_developer_text() {
    let app = TestApp::new().await;
    let page = app.page("/c/NOT-A-CODE", None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let html = page.text();
    assert!(html.contains("此码无效"));
    assert!(
        !html.contains("malformed") && !html.contains("原因代码"),
        "{html}"
    );
}

/// A multipart body: the CSRF token, the format, a file and pasted text.
fn list_form(csrf: &str, format: &str, file: &str, pasted: &str) -> (Vec<u8>, String) {
    let b = "GecBoundary7";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\n{format}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"codes\"\r\n\r\n{pasted}\r\n--{b}--\r\n"
    );
    (
        body.into_bytes(),
        format!("multipart/form-data; boundary={b}"),
    )
}

fn forged(url: &str) -> String {
    // The same code with one signature byte changed: it decodes, but its signature fails.
    let (head, code) = url.split_once("/C/").unwrap();
    let mut bytes = gec::code::text::decode(code).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    format!("{head}/C/{}", gec::code::text::encode(&bytes))
}

#[tokio::test]
async fn the_list_check_answers_every_line_in_order_and_shows_nothing_from_a_forged_code() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc_a, firm_a) = app.firm_with_user(&regulator, 11, "3670").await;
    let (uscc_b, firm_b) = app.firm_with_user(&regulator, 12, "3670").await;
    let (uscc_c, _) = app.firm_with_user(&regulator, 13, "3670").await;
    let old_a = app.issue_code(&regulator, &firm_a, &uscc_a).await;
    let a = app.issue_code(&regulator, &firm_a, &uscc_a).await;
    let b = app.issue_code(&regulator, &firm_b, &uscc_b).await;
    let serial_b = b["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial_b}/revoke"),
        Some(&regulator),
        json!({"reason": "数据不实"}),
    )
    .await;
    let url = |c: &serde_json::Value| c["url"].as_str().unwrap().to_owned();
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;

    // The bank's own columns: borrower number and branch. Line 4 is blank.
    let file = format!(
        "码或信用代码,借款人编号,支行\n{},B-001,渝北支行\n{},B-002,江北支行\n\n{},B-003,两江支行\n{},B-004,渝中支行\n{},B-005,南岸支行\n{},B-006,北碚支行\n",
        url(&a),
        uscc_a,
        forged(&url(&a)),
        url(&old_a),
        url(&b),
        uscc_c
    );
    let (body, content_type) = list_form(&bank.csrf, "html", &file, "");
    let page = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    let rows: Vec<&str> = html.split("<tr class=\"v-").skip(1).collect();
    assert_eq!(rows.len(), 6, "one row per non-blank line: {html}");
    let expect = [
        ("valid", "2", "B-001"),
        ("valid", "3", "B-002"),
        ("invalid", "5", "B-003"),
        ("superseded", "6", "B-004"),
        ("revoked", "7", "B-005"),
        ("invalid", "8", "B-006"),
    ];
    for (row, (verdict, line, borrower)) in rows.iter().zip(expect) {
        assert!(row.starts_with(verdict), "{verdict}: {row}");
        assert!(row.contains(&format!(">{line}</td>")), "line {line}: {row}");
        assert!(row.contains(borrower), "{borrower} carried: {row}");
    }
    // The forged line: the verdict and its reason only.
    assert!(
        !rows[2].contains("测试企业11") && !rows[2].contains(&uscc_a),
        "{}",
        rows[2]
    );
    assert!(
        !rows[2].contains(a["score"].as_str().unwrap()),
        "{}",
        rows[2]
    );
    assert!(
        rows[2].contains("签名核验失败"),
        "the reason in Chinese: {}",
        rows[2]
    );
    // A USCC answers the firm's current code; a firm without one says so.
    assert!(rows[1].contains("测试企业11"), "{}", rows[1]);
    assert!(rows[5].contains("该企业目前没有绿效码"), "{}", rows[5]);
    // The bank's column headers, the counts and the filter.
    assert!(html.contains(">借款人编号</th>") && html.contains(">支行</th>"));
    assert!(html.contains("有效 <strong>2</strong>"), "{html}");
    assert!(html.contains("无效 <strong>2</strong>"));
    assert!(html.contains("已撤销 <strong>1</strong>"));
    assert!(html.contains("已替换 <strong>1</strong>"));
    assert!(html.contains("id=\"vf-revoked\""));
    // Watch every valid row's firm in one action.
    assert!(html.contains("/bank/watch-many"));

    // The downloads: Chinese headers, one row per input line, eligibility and rate step.
    let (body, content_type) = list_form(&bank.csrf, "csv", &file, "");
    let csv = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await
        .text();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 7, "{csv}");
    assert_eq!(
        lines[0],
        "行号,输入内容,借款人编号,支行,核验结论,原因,企业名称,统一社会信用代码,等级,综合得分,碳效等级,直连数据占比,评价年度,有效期至,可申请的绿色金融,参考利率调整"
    );
    assert!(
        lines[0].ends_with("可申请的绿色金融,参考利率调整"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("2,") && lines[1].contains("B-001,渝北支行,有效"));
    assert!(
        lines[3].starts_with("5,") && !lines[3].contains(&uscc_a),
        "{}",
        lines[3]
    );
    let (body, content_type) = list_form(&bank.csrf, "xlsx", &file, "");
    let xlsx = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await;
    assert_eq!(
        xlsx.header("content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    for words in [
        "行号",
        "核验结论",
        "借款人编号",
        "渝北支行",
        "可申请的绿色金融",
        "测试企业11",
    ] {
        assert!(strings.contains(words), "{words} in the workbook");
    }

    // Pasted lines are numbered too; the watch-all form adds the valid rows' firms.
    let pasted = format!("{}\n\n{}\n", url(&a), uscc_a);
    let (body, content_type) = list_form(&bank.csrf, "html", "", &pasted);
    let html = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await
        .text();
    assert_eq!(html.matches("<tr class=\"v-valid").count(), 2, "{html}");
    let added = app
        .submit("/bank/watch-many", &bank, &[("usccs", &uscc_a)])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert!(
        app.page("/bank", Some(&bank))
            .await
            .text()
            .contains("测试企业11")
    );
}

#[tokio::test]
async fn a_watchlist_file_is_imported_whole_or_not_at_all() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc_a, _) = app.firm_with_user(&regulator, 21, "3670").await;
    let (uscc_b, _) = app.firm_with_user(&regulator, 22, "3670").await;
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;
    let import = |file: String| {
        let b = "GecBoundary9";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"w.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{b}--\r\n",
            bank.csrf
        );
        (
            body.into_bytes(),
            format!("multipart/form-data; boundary={b}"),
        )
    };
    let before = app.count("watchlist").await;
    let (body, ct) = import(format!(
        "统一社会信用代码\n{uscc_a}\n91500000MA5U00000X\n{}\n",
        crate::helpers::uscc(99)
    ));
    let refused = app
        .form_post("/bank/watch-import", &bank.cookie, body, &ct)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(
        html.contains("未导入任何企业") && html.contains("第 3 行"),
        "{html}"
    );
    assert_eq!(app.count("watchlist").await, before, "nothing added");
    let (body, ct) = import(format!("统一社会信用代码\n{uscc_a}\n{uscc_b}\n"));
    let done = app
        .form_post("/bank/watch-import", &bank.cookie, body, &ct)
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(app.count("watchlist").await, before + 2);
}

/// Issue 17: an anonymous visitor's scan page is rendered once and kept, gzipped once; what a
/// phone gets is the same page either way, and a signed-in visitor's page is their own.
#[tokio::test]
async fn the_kept_scan_page_is_the_page_gzipped_or_not_and_never_a_signed_in_one() {
    use axum::body::Body;
    use axum::http::Request;
    use std::io::Read;
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 4, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let path = scan_path(&code);
    let plain = app.page(&path, None).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("content-type"), "text/html; charset=utf-8");
    let gzipped = app
        .send(
            Request::get(&path)
                .header("Accept-Encoding", "gzip, br;q=0")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gzipped.header("content-encoding"), "gzip");
    assert_eq!(gzipped.header("vary"), "accept-encoding");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(gzipped.body.as_slice())
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(
        unzipped,
        plain.text(),
        "gzipped once, not twice, and the same page"
    );
    let refused = app
        .send(
            Request::get(&path)
                .header("Accept-Encoding", "gzip;q=0")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(refused.headers.get("content-encoding").is_none());
    assert_eq!(refused.text(), plain.text());
    // The firm signed in sees its own chrome, not the kept anonymous page.
    let session = app.page_session("firm4").await;
    let own = app.page(&path, Some(&session)).await.text();
    assert!(own.contains("firm4"), "{own}");
    assert!(!plain.text().contains("firm4"));
}

#[tokio::test]
async fn a_wide_long_list_is_bounded_on_the_page_and_whole_in_the_download() {
    // Issue 25, item 9: 999 rows × 1,800 columns (3.9 MB) became 52 MB of HTML and 500 MB of
    // memory. The page keeps the first 20 extra columns and shows the first 200 rows.
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;
    let extra = vec!["x"; 1800].join(",");
    let mut file = String::new();
    for n in 0..999 {
        file.push_str(&format!("91500000MA5U{n:06},{extra}\n"));
    }
    assert!(file.len() > 3_500_000);
    let (body, content_type) = list_form(&bank.csrf, "html", &file, "");
    let page = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_eq!(html.split("<tr class=\"v-").count() - 1, 200, "rows shown");
    assert!(html.contains("(999)"), "the total is said");
    assert!(html.contains("本页显示前 200 行，共 999 行"));
    assert!(html.contains("只保留前 20 列"));
    assert!(html.len() < 2_000_000, "{} bytes of HTML", html.len());
    let (body, content_type) = list_form(&bank.csrf, "csv", &file, "");
    let csv = app
        .form_post("/bank/verify-list", &bank.cookie, body, &content_type)
        .await
        .text();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 1000, "every row downloads");
    // The line, the input, the bank's 20 columns and the service's 12 (the carbon level's and
    // the attested share's among them).
    assert_eq!(lines[0].split(',').count(), 2 + 20 + 12, "{}", lines[0]);
}
