//! Issue 13: 绿色服务 — providers publish services that regulators approve or suspend, firms are
//! recommended the services that match their way up and request them, providers answer; 惠企政策
//! matched without applying; and the diagnosis report as PDF.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, gec_cli};

async fn provider(app: &TestApp, username: &str) -> String {
    let out = gec_cli(
        app,
        &[
            "accounts",
            "add",
            "--role",
            "provider",
            "--username",
            username,
            "--org",
            &format!("{username} 节能服务公司"),
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.login(username).await
}

async fn publish(app: &TestApp, token: &str, name: &str, category: &str, districts: Value) -> i64 {
    let response = app
        .post(
            "/api/v1/services",
            Some(token),
            json!({"name": name, "category": category, "description": "服务说明",
                   "districts": districts, "contact": "023-1234 5678"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    assert_eq!(response.json()["status"], "pending");
    response.json()["id"].as_i64().unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_service_is_listed_only_while_a_regulator_approves_it() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let energy = provider(&app, "prov1").await;
    let (_, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let id = publish(&app, &energy, "能源审计", "energy", json!([])).await;
    assert!(ids(&app.get("/api/v1/services", None).await.json()).is_empty());

    // Only providers publish; bad input names its field and stores nothing.
    let before = app.counts().await;
    app.post(
        "/api/v1/services",
        Some(&firm),
        json!({"name": "x", "category": "energy", "description": "d", "contact": "c"}),
    )
    .await
    .problem(403);
    let bad = app
        .post(
            "/api/v1/services",
            Some(&energy),
            json!({"name": "x", "category": "magic", "description": "d", "contact": "c"}),
        )
        .await
        .problem(422);
    assert_eq!(bad["field"], "category");
    let bad = app
        .post("/api/v1/services", Some(&energy), json!({"name": "x", "category": "energy", "description": "d", "contact": "c", "districts": ["渝北区\u{202e}"]}))
        .await
        .problem(422);
    assert_eq!(bad["field"], "districts[0]");
    assert_eq!(app.counts().await, before);

    app.post(
        &format!("/api/v1/services/{id}/approve"),
        Some(&energy),
        json!({}),
    )
    .await
    .problem(403);
    let approved = app
        .post(
            &format!("/api/v1/services/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());
    let listed = app.get("/api/v1/services", None).await.json();
    assert_eq!(ids(&listed), [id]);
    assert_eq!(listed["items"][0]["provider"], "prov1 节能服务公司");
    app.post(
        &format!("/api/v1/services/{id}/approve"),
        Some(&regulator),
        json!({}),
    )
    .await
    .problem(409);
    app.post(
        &format!("/api/v1/services/{id}/suspend"),
        Some(&regulator),
        json!({}),
    )
    .await;
    assert!(ids(&app.get("/api/v1/services", None).await.json()).is_empty());
    let audit = app
        .get("/api/v1/audit/events?target_type=service", Some(&regulator))
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["service.publish", "service.approve", "service.suspend"]
    );
}

#[tokio::test]
async fn a_firm_is_recommended_services_for_its_way_up_in_its_district_and_requests_one() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let prov = provider(&app, "prov1").await;
    let other = provider(&app, "prov2").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    app.issue_code(&regulator, &firm, &uscc).await;
    let mut listed = Vec::new();
    for (name, category, districts) in [
        ("能源审计", "energy", json!([])),
        ("合同能源管理", "energy", json!(["璧山区"])),
        ("固废利用", "waste", json!(["渝北区"])),
        ("绿色工厂辅导", "certification", json!([])),
        ("碳核算", "carbon", json!([])),
        ("绿色贷款对接", "finance", json!([])),
    ] {
        let id = publish(&app, &prov, name, category, districts).await;
        app.post(
            &format!("/api/v1/services/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await;
        listed.push((name, category, id));
    }
    let recs = app
        .get(
            &format!("/api/v1/firms/{uscc}/recommendations"),
            Some(&firm),
        )
        .await;
    assert_eq!(recs.status, StatusCode::OK, "{}", recs.text());
    let recs = recs.json();
    let levers: Vec<&str> = recs["levers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    assert!(!levers.is_empty(), "{recs}");
    let services: Vec<(&str, &str)> = recs["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["lever"].as_str().unwrap()))
        .collect();
    let names: Vec<&str> = services.iter().map(|s| s.0).collect();
    assert!(
        !names.contains(&"合同能源管理"),
        "another district's service: {names:?}"
    );
    assert!(
        !names.contains(&"绿色贷款对接"),
        "finance is no lever: {names:?}"
    );
    // The services follow the levers' order, the smallest change first.
    let order: Vec<usize> = services
        .iter()
        .map(|(_, lever)| levers.iter().position(|l| l == lever).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "{services:?} by {levers:?}"
    );
    assert_eq!(services[0].1, levers[0]);
    // Another firm's recommendations are not for this firm; banks have none.
    let (_, firm3) = app.firm_with_user(&regulator, 3, "3670").await;
    app.get(
        &format!("/api/v1/firms/{uscc}/recommendations"),
        Some(&firm3),
    )
    .await
    .problem(404);
    let bank = app.token_for(Role::Bank, "bank1").await;
    app.get(
        &format!("/api/v1/firms/{uscc}/recommendations"),
        Some(&bank),
    )
    .await
    .problem(403);

    // The firm requests a service; the provider answers.
    let audit_id = listed[0].2;
    let request = app
        .post(
            "/api/v1/service-requests",
            Some(&firm),
            json!({"service_id": audit_id, "note": "希望下月开展能源审计"}),
        )
        .await;
    assert_eq!(request.status, StatusCode::CREATED, "{}", request.text());
    let rid = request.json()["id"].as_i64().unwrap();
    app.post(
        "/api/v1/service-requests",
        Some(&firm),
        json!({"service_id": audit_id}),
    )
    .await
    .problem(409);
    let unknown = app
        .post(
            "/api/v1/service-requests",
            Some(&firm),
            json!({"service_id": 999}),
        )
        .await
        .problem(422);
    assert_eq!(unknown["field"], "service_id");
    let inbox = app
        .get("/api/v1/service-requests", Some(&prov))
        .await
        .json();
    assert_eq!(ids(&inbox), [rid]);
    assert_eq!(inbox["items"][0]["firm_name"], "测试企业2");
    assert!(
        ids(&app
            .get("/api/v1/service-requests", Some(&other))
            .await
            .json())
        .is_empty()
    );
    let answer = |token: &str, status: &str| {
        let token = token.to_owned();
        let status = status.to_owned();
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/service-requests/{rid}/answer"),
                Some(&token),
                json!({"status": status, "note": "已安排工程师"}),
            )
            .await
        }
    };
    answer(&other, "accepted").await.problem(404);
    answer(&prov, "done").await.problem(409);
    answer(&prov, "maybe").await.problem(422);
    assert_eq!(answer(&prov, "accepted").await.status, StatusCode::OK);
    assert_eq!(answer(&prov, "done").await.status, StatusCode::OK);
    answer(&prov, "declined").await.problem(409);
    let mine = app
        .get("/api/v1/service-requests", Some(&firm))
        .await
        .json();
    assert_eq!(mine["items"][0]["status"], "done");
    assert_eq!(mine["items"][0]["answer"], "已安排工程师");

    // The firm's desk shows the recommendations, the lever in words and the request's state.
    let desk = app.page_session("firm2").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(
        html.contains("能源审计") && html.contains("已完成"),
        "{html}"
    );
    assert!(html.contains("即可达到"), "the levers in words: {html}");
    let audit = app
        .get(
            "/api/v1/audit/events?target_type=service_request",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn policies_match_firms_by_grade_district_and_certification_without_applying() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 4, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let grade = code["grade"].as_str().unwrap().to_owned();
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let policy = |title: &str, grades: Value, districts: Value, cert: Value| {
        json!({"title": title, "issuer": "市经信委", "grades": grades, "districts": districts,
               "requires_certification": cert, "benefit": "奖励", "amount_10k_cny": "50",
               "valid_from": format!("{}-01-01", year - 1), "valid_until": format!("{}-12-31", year + 1)})
    };
    let bad = app
        .post(
            "/api/v1/policies",
            Some(&regulator),
            policy("x", json!(["A++"]), json!([]), Value::Null),
        )
        .await
        .problem(422);
    assert_eq!(bad["field"], "grades[0]");
    let mut backwards = policy("x", json!(["A"]), json!([]), Value::Null);
    backwards["valid_until"] = json!(format!("{}-01-01", year - 2));
    assert_eq!(
        app.post("/api/v1/policies", Some(&regulator), backwards)
            .await
            .problem(422)["field"],
        "valid_until"
    );
    app.post(
        "/api/v1/policies",
        Some(&firm),
        policy("x", json!(["A"]), json!([]), Value::Null),
    )
    .await
    .problem(403);
    for (title, grades, districts, cert) in [
        ("对本等级的奖励", json!([grade]), json!([]), Value::Null),
        (
            "本区专项",
            json!(["A+", "A", "B", "C", "D"]),
            json!(["渝北区"]),
            Value::Null,
        ),
        (
            "他区专项",
            json!(["A+", "A", "B", "C", "D"]),
            json!(["璧山区"]),
            Value::Null,
        ),
        (
            "须持证",
            json!(["A+", "A", "B", "C", "D"]),
            json!([]),
            json!("iso_50001"),
        ),
    ] {
        let r = app
            .post(
                "/api/v1/policies",
                Some(&regulator),
                policy(title, grades, districts, cert),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let mine = app
        .get(&format!("/api/v1/firms/{uscc}/policies"), Some(&firm))
        .await
        .json();
    let mut titles: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["对本等级的奖励", "本区专项"]);
    assert_eq!(
        app.get("/api/v1/policies", None).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // A regulator sees who qualifies, and downloads the list.
    let all = app.get("/api/v1/policies", None).await.json();
    let id = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "本区专项")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let firms = app
        .get(&format!("/api/v1/policies/{id}/firms"), Some(&regulator))
        .await
        .json();
    assert_eq!(firms["items"][0]["uscc"], uscc.as_str());
    let desk = app.page_session("reg").await;
    let page = app.page("/regulator/policies", Some(&desk)).await.text();
    assert!(
        page.contains("本区专项") && page.contains("firms.xlsx"),
        "{page}"
    );
    // The card names who qualifies, each linked to the firm's page.
    let card = page
        .split("本区专项")
        .nth(1)
        .unwrap()
        .split("</li></ul>")
        .next()
        .unwrap();
    assert!(
        card.contains("查看符合条件的企业")
            && card.contains(&format!(
                "<a href=\"/regulator/firms/{uscc}\">测试企业4</a>"
            )),
        "{card}"
    );
    let csv = app
        .page(&format!("/regulator/policies/{id}/firms.csv"), Some(&desk))
        .await
        .text();
    assert!(csv.contains(&uscc) && csv.contains("企业名称"), "{csv}");
    // The firm's desk lists its policies.
    let firm_desk = app.page_session("firm4").await;
    assert!(
        app.page("/firm", Some(&firm_desk))
            .await
            .text()
            .contains("本区专项")
    );
    // Revoked, the code no longer qualifies the firm for anything.
    let serial = code["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial}/revoke"),
        Some(&regulator),
        json!({"reason": "数据不实"}),
    )
    .await;
    let after = app
        .get(&format!("/api/v1/firms/{uscc}/policies"), Some(&firm))
        .await
        .json();
    assert!(after["items"].as_array().unwrap().is_empty(), "{after}");
}

#[tokio::test]
async fn the_diagnosis_report_is_a_pdf_for_the_firm_and_regulators_only() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 5, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let id = app.get("/api/v1/assessments", Some(&firm)).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/assessments/{id}/report.pdf");
    let pdf = app.get(&path, Some(&firm)).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    assert_eq!(pdf.header("content-type"), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf.body);
    assert!(text.contains("/ToUnicode"), "the text can be extracted");
    assert!(text.contains("/FontFile2"), "the font is embedded");
    assert_eq!(
        app.get(&path, Some(&regulator)).await.status,
        StatusCode::OK
    );
    let (_, other) = app.firm_with_user(&regulator, 6, "3670").await;
    app.get(&path, Some(&other)).await.problem(404);
    let bank = app.token_for(Role::Bank, "bank1").await;
    app.get(&path, Some(&bank)).await.problem(403);
    // The desks link to it.
    let desk = app.page_session("firm5").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    let link = format!("/firm/assessments/{id}/report.pdf");
    assert!(html.contains(&link), "{html}");
    let page_pdf = app.page(&link, Some(&desk)).await;
    assert!(page_pdf.body.starts_with(b"%PDF-"));
    let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    let _ = std::fs::create_dir_all(&keep);
    let _ = std::fs::write(keep.join("report.pdf"), &pdf.body);
    let _ = code;
}

#[tokio::test]
#[ignore = "needs pdftotext (Debian: poppler-utils)"]
async fn pdftotext_reads_the_firms_name_and_grade_from_the_report() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 7, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let id = app.get("/api/v1/assessments", Some(&firm)).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let pdf = app
        .get(&format!("/api/v1/assessments/{id}/report.pdf"), Some(&firm))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, &pdf.body).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (apt-get install poppler-utils; .ci/run installs it)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("测试企业7"), "{text}");
    assert!(
        text.contains("绿效诊断报告") && text.contains(&uscc),
        "{text}"
    );
    assert!(text.contains(code["grade"].as_str().unwrap()), "{text}");
    assert!(text.contains("万元工业增加值能耗"), "{text}");
    // The carbon level beside the grade, with the figures behind it (methodology §10).
    assert!(
        text.contains("碳效等级 二级 · 浅绿") && text.contains("为行业基准的"),
        "{text}"
    );
    assert!(text.contains("外购电力（扣除绿电）"), "{text}");
}

#[tokio::test]
async fn a_provider_works_from_its_desk() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    provider(&app, "prov1").await;
    let (_, firm) = app.firm_with_user(&regulator, 8, "3670").await;
    let desk = app.page_session("prov1").await;
    let page = app.page("/provider", Some(&desk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("服务机构工作台"));
    let published = app
        .submit(
            "/provider/services",
            &desk,
            &[
                ("name", "节能诊断"),
                ("category", "energy"),
                ("description", "上门诊断"),
                ("districts", "渝北区、璧山区"),
                ("contact", "023-0000"),
            ],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.text()
    );
    let refused = app
        .submit(
            "/provider/services",
            &desk,
            &[
                ("name", ""),
                ("category", "energy"),
                ("description", "d"),
                ("contact", "c"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("名称"), "{}", refused.text());
    let list = app
        .get("/api/v1/service-requests", Some(&app.login("prov1").await))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    // The regulator approves from the desk; the firm requests; the provider answers there.
    let reg_desk = app.page_session("reg").await;
    let services = app
        .page("/regulator/services", Some(&reg_desk))
        .await
        .text();
    assert!(
        services.contains("节能诊断") && services.contains("待审核"),
        "{services}"
    );
    let id = app.get("/api/v1/services", None).await;
    assert!(ids(&id.json()).is_empty());
    let sid = services
        .split("/regulator/services/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    app.submit(
        &format!("/regulator/services/{sid}/approve"),
        &reg_desk,
        &[],
    )
    .await;
    let sid: i64 = sid.parse().unwrap();
    let r = app
        .post(
            "/api/v1/service-requests",
            Some(&firm),
            json!({"service_id": sid}),
        )
        .await;
    let rid = r.json()["id"].as_i64().unwrap();
    let inbox = app.page("/provider", Some(&desk)).await.text();
    assert!(inbox.contains("测试企业8"));
    // The answer menu starts on "choose", never on an answer (issue 24: accepting, then the
    // next note declined it by default).
    assert!(
        inbox.contains(
            "name=\"status\" required><option value=\"\" selected disabled>请选择</option>"
        ),
        "{inbox}"
    );
    let answered = app
        .submit(
            &format!("/provider/requests/{rid}/answer"),
            &desk,
            &[("status", "accepted"), ("note", "明天联系")],
        )
        .await;
    assert_eq!(
        answered.status,
        StatusCode::SEE_OTHER,
        "{}",
        answered.text()
    );
    let english = app.page("/provider?lang=en", Some(&desk)).await.text();
    assert!(
        english.contains("Provider desk") && english.contains("Accepted"),
        "{english}"
    );
}

#[tokio::test]
#[ignore = "needs pdftotext (Debian: poppler-utils)"]
async fn a_long_name_without_spaces_stays_on_the_report_page() {
    // Issue 25, item 10: a 200-character name without spaces ran off the PDF.
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let uscc = crate::helpers::uscc(32);
    let name = "重庆".to_owned() + &"W".repeat(198);
    let made = app
        .post(
            "/api/v1/firms",
            Some(&regulator),
            json!({"uscc": uscc, "name": name, "industry_code": "3670", "district": "渝北区",
                   "username": "longname", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let firm = app.login("longname").await;
    app.issue_code(&regulator, &firm, &uscc).await;
    let id = app.get("/api/v1/assessments", Some(&firm)).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let pdf = app
        .get(&format!("/api/v1/assessments/{id}/report.pdf"), Some(&firm))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, &pdf.body).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-bbox", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (apt-get install poppler-utils; .ci/run installs it)");
    assert!(out.status.success());
    let html = String::from_utf8_lossy(&out.stdout);
    let page_width: f64 = html
        .split("<page width=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let mut words = 0;
    for word in html.split("<word ").skip(1) {
        let x_max: f64 = word
            .split("xMax=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            x_max <= page_width,
            "a word ends at {x_max} on a {page_width} page: {word}"
        );
        words += 1;
    }
    assert!(html.contains("重庆WWW"), "the name is on the page");
    assert!(words > 20);
}
