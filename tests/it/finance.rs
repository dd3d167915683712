//! Issue 14 (in part): banks' products, firms' applications with consent, every read of
//! consented data shown to the firm, decisions, and the regulators' figures.

use axum::http::{Method, StatusCode};
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn product(grades: Value, steps: Value) -> Value {
    let year = chrono::Datelike::year(&chrono::Utc::now());
    json!({"name": "绿效贷", "kind": "green_loan", "grades": grades, "rate_step_bp": steps,
           "max_amount_10k_cny": "5000", "term_months": 36,
           "valid_from": format!("{}-01-01", year - 1), "valid_until": format!("{}-12-31", year + 1),
           "description": "面向绿效码 A 级以上企业"})
}

fn consent(scope: &str) -> Value {
    let until = (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    json!({"scope": scope, "expires_on": until})
}

#[tokio::test]
async fn a_firm_applies_with_consent_the_bank_reads_and_decides_and_the_firm_sees_every_read() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let other_bank = app.token_for(Role::Bank, "bank2").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let grade = code["grade"].as_str().unwrap().to_owned();

    // Products: checked at the boundary; listed to anyone while in force.
    let bad = app
        .post(
            "/api/v1/products",
            Some(&bank),
            product(json!([grade]), json!({})),
        )
        .await
        .problem(422);
    assert_eq!(bad["field"], format!("rate_step_bp.{grade}"));
    app.post(
        "/api/v1/products",
        Some(&firm),
        product(json!([grade]), json!({grade.clone(): -20})),
    )
    .await
    .problem(403);
    let p = app
        .post(
            "/api/v1/products",
            Some(&bank),
            product(json!([grade]), json!({grade.clone(): -20})),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text());
    let pid = p.json()["id"].as_i64().unwrap();
    let other_grade = if grade == "A+" { "D" } else { "A+" };
    let q = app
        .post(
            "/api/v1/products",
            Some(&bank),
            product(json!([other_grade]), json!({other_grade: -30})),
        )
        .await
        .json();
    assert_eq!(
        app.get("/api/v1/products", None).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let offers = app
        .get(&format!("/api/v1/firms/{uscc}/products"), Some(&firm))
        .await
        .json();
    assert_eq!(offers["items"].as_array().unwrap().len(), 1, "{offers}");
    assert_eq!(offers["items"][0]["rate_step_bp_for_grade"], -20);

    // Applying: a product that does not take the grade, or too much, is refused by field.
    let refused = app
        .post("/api/v1/applications", Some(&firm), json!({"product_id": q["id"], "amount_10k_cny": "100", "purpose": "技改", "consent": consent("trace")}))
        .await
        .problem(422);
    assert_eq!(refused["field"], "product_id");
    let refused = app
        .post("/api/v1/applications", Some(&firm), json!({"product_id": pid, "amount_10k_cny": "9000", "purpose": "技改", "consent": consent("trace")}))
        .await
        .problem(422);
    assert_eq!(refused["field"], "amount_10k_cny");
    let refused = app
        .post("/api/v1/applications", Some(&firm), json!({"product_id": pid, "amount_10k_cny": "100", "purpose": "技改", "consent": {"scope": "all", "expires_on": "2030-01-01"}}))
        .await
        .problem(422);
    assert_eq!(refused["field"], "consent.scope");
    assert_eq!(app.count("applications").await, 0);
    let applied = app
        .post("/api/v1/applications", Some(&firm), json!({"product_id": pid, "amount_10k_cny": "1,000".replace(',', ""), "purpose": "电机系统节能改造", "consent": consent("trace")}))
        .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.text());
    let aid = applied.json()["id"].as_i64().unwrap();
    assert_eq!(applied.json()["code_serial"], code["serial"]);

    // The bank reads it with the code verified and, under a trace consent, the figures.
    let read = app
        .get(&format!("/api/v1/applications/{aid}"), Some(&bank))
        .await
        .json();
    assert_eq!(read["verification"]["valid"], true, "{read}");
    assert!(
        read["trace"]["energy"].is_object() && read["input"].is_object(),
        "{read}"
    );
    app.get(&format!("/api/v1/applications/{aid}"), Some(&other_bank))
        .await
        .problem(404);
    assert!(
        app.get("/api/v1/applications", Some(&other_bank))
            .await
            .json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The firm withdraws its consent: the bank's reads carry no figures any more.
    let withdrawn = app
        .call(
            Method::DELETE,
            &format!("/api/v1/applications/{aid}/consent"),
            Some(&firm),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    let read = app
        .get(&format!("/api/v1/applications/{aid}"), Some(&bank))
        .await
        .json();
    assert!(
        read.get("trace").is_none() && read.get("input").is_none(),
        "{read}"
    );
    assert_eq!(read["consent"]["in_force"], false);
    let accesses = app
        .get(&format!("/api/v1/applications/{aid}/accesses"), Some(&firm))
        .await
        .json();
    let what: Vec<&str> = accesses["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["what"].as_str().unwrap())
        .collect();
    assert_eq!(what, ["application_trace", "application"], "{accesses}");

    // The bank decides; a decided application is final.
    let no_terms = app
        .post(
            &format!("/api/v1/applications/{aid}/decision"),
            Some(&bank),
            json!({"decision": "approved"}),
        )
        .await
        .problem(422);
    assert_eq!(no_terms["field"], "amount_10k_cny");
    app.post(
        &format!("/api/v1/applications/{aid}/decision"),
        Some(&other_bank),
        json!({"decision": "declined", "reason": "x"}),
    )
    .await
    .problem(404);
    // Bounds (issue 25, item 5): the extreme integer is out of range, not its own absolute
    // value; an approval is at most what was asked for and at most the product's maximum.
    for (terms, field) in [
        (
            json!({"rate_step_bp": i32::MIN, "amount_10k_cny": "800"}),
            "rate_step_bp",
        ),
        (
            json!({"rate_step_bp": 501, "amount_10k_cny": "800"}),
            "rate_step_bp",
        ),
        (
            json!({"rate_step_bp": -20, "amount_10k_cny": "1000000000000"}),
            "amount_10k_cny",
        ),
        (
            json!({"rate_step_bp": -20, "amount_10k_cny": "1000.01"}),
            "amount_10k_cny",
        ),
    ] {
        let mut body = json!({"decision": "approved", "term_months": 36});
        body.as_object_mut()
            .unwrap()
            .extend(terms.as_object().unwrap().clone());
        let refused = app
            .post(
                &format!("/api/v1/applications/{aid}/decision"),
                Some(&bank),
                body,
            )
            .await
            .problem(422);
        assert_eq!(refused["field"], field, "{refused}");
    }
    let refused = app
        .post(
            "/api/v1/products",
            Some(&bank),
            product(json!([grade]), json!({grade.clone(): i32::MIN})),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], format!("rate_step_bp.{grade}"));
    let decided = app
        .post(&format!("/api/v1/applications/{aid}/decision"), Some(&bank),
              json!({"decision": "approved", "amount_10k_cny": "800", "rate_step_bp": -20, "term_months": 36}))
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text());
    app.post(
        &format!("/api/v1/applications/{aid}/decision"),
        Some(&bank),
        json!({"decision": "declined", "reason": "x"}),
    )
    .await
    .problem(409);
    let mine = app.get("/api/v1/applications", Some(&firm)).await.json();
    assert_eq!(mine["items"][0]["decision"]["decision"], "approved");
    assert_eq!(mine["items"][0]["decision"]["amount_10k_cny"], "800");

    // The regulators' figures.
    let year = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(8)));
    let summary = app
        .get(
            &format!("/api/v1/finance/summary?by=grade&period={year}"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(summary["rows"][0]["key"], grade.as_str(), "{summary}");
    assert_eq!(summary["rows"][0]["applications"], 1);
    assert_eq!(summary["rows"][0]["approved"], 1);
    assert_eq!(summary["rows"][0]["amount_10k_cny"], "800");
    assert_eq!(summary["rows"][0]["avg_rate_step_bp"], "-20.0");
    let by_bank = app
        .get(
            &format!("/api/v1/finance/summary?by=bank&period={year}"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(by_bank["rows"][0]["key"], "bank1");
    app.get(
        &format!("/api/v1/finance/summary?by=colour&period={year}"),
        Some(&regulator),
    )
    .await
    .problem(422);
    app.get(
        &format!("/api/v1/finance/summary?by=grade&period={year}"),
        Some(&bank),
    )
    .await
    .problem(403);
    // Every step is an audit event.
    let audit = app
        .get(
            "/api/v1/audit/events?target_type=application",
            Some(&regulator),
        )
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
        [
            "application.submit",
            "application.consent_withdraw",
            "application.decide"
        ]
    );
}

#[tokio::test]
async fn a_firm_without_a_code_in_force_cannot_apply_and_a_withdrawn_product_is_gone() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let (_, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let pid = app
        .post(
            "/api/v1/products",
            Some(&bank),
            product(
                json!(["A+", "A", "B", "C", "D"]),
                json!({"A+": -30, "A": -20, "B": -10, "C": 0, "D": 10}),
            ),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let refused = app
        .post("/api/v1/applications", Some(&firm), json!({"product_id": pid, "amount_10k_cny": "100", "purpose": "技改", "consent": consent("grade")}))
        .await
        .problem(422);
    assert_eq!(refused["field"], "code");
    let other_bank = app.token_for(Role::Bank, "bank2").await;
    app.post(
        &format!("/api/v1/products/{pid}/withdraw"),
        Some(&other_bank),
        json!({}),
    )
    .await
    .problem(404);
    let gone = app
        .post(
            &format!("/api/v1/products/{pid}/withdraw"),
            Some(&bank),
            json!({}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK);
    assert!(
        app.get("/api/v1/products", None).await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_desks_apply_decide_and_show_every_read_and_the_figures() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm_token) = app.firm_with_user(&regulator, 3, "3670").await;
    let code = app.issue_code(&regulator, &firm_token, &uscc).await;
    let grade = code["grade"].as_str().unwrap().to_owned();
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let step_field = match grade.as_str() {
        "A+" => "step_aplus",
        "A" => "step_a",
        "B" => "step_b",
        "C" => "step_c",
        _ => "step_d",
    };
    let published = app
        .submit(
            "/bank/products",
            &bank,
            &[
                ("name", "绿效贷"),
                ("kind", "green_loan"),
                (step_field, "-25"),
                ("max_amount_10k_cny", "3,000"),
                ("term_months", "24"),
                ("districts", ""),
                ("valid_from", &format!("{}-01-01", year - 1)),
                ("valid_until", &format!("{}-12-31", year + 1)),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.text()
    );
    assert!(
        published
            .header("location")
            .contains("msg_product_published")
    );
    // A refused form comes back with what was typed and every fault beside its box, at once.
    let (bad_box, bad_grade) = if step_field == "step_d" {
        ("step_c", "C")
    } else {
        ("step_d", "D")
    };
    let refused = app
        .submit(
            "/bank/products",
            &bank,
            &[
                ("name", "转型贷 2026"),
                ("kind", "transition_loan"),
                (step_field, "-25"),
                (bad_box, "九十"),
                ("max_amount_10k_cny", "0"),
                ("term_months", "400"),
                ("districts", "渝中区"),
                ("valid_from", "2026-01-01"),
                ("valid_until", "2026-12-31"),
                ("description", "仅限技改"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    let shown = refused.text();
    let beside = |id: &str| -> String {
        let at = shown
            .find(&format!("id=\"{id}-err\""))
            .unwrap_or_else(|| panic!("no fault beside {id}: {shown}"));
        shown[at..].split("</span>").next().unwrap().to_owned()
    };
    assert!(beside("pr-max").contains("必须大于 0"), "{shown}");
    assert!(beside("pr-term").contains("1 至 360"), "{shown}");
    assert!(
        shown.contains(&format!(
            "{bad_grade} 级的利率调整须为 −500 至 500 之间的整数"
        )),
        "the grade whose rate step is wrong is named: {shown}"
    );
    assert!(shown.contains("有 3 处填写需要修改"), "{shown}");
    for typed in [
        "value=\"转型贷 2026\"",
        "value=\"九十\"",
        "value=\"-25\"",
        "value=\"400\"",
        "value=\"渝中区\"",
        "value=\"2026-12-31\"",
        ">仅限技改</textarea>",
        "value=\"transition_loan\" selected",
    ] {
        assert!(shown.contains(typed), "the form keeps {typed}");
    }
    assert_eq!(
        app.count("products").await,
        1,
        "a refused form stores nothing"
    );
    let crafted = app
        .page("/bank?err=%3Cb%3Ehello&field=x", Some(&bank))
        .await
        .text();
    assert!(
        !crafted.contains("hello"),
        "a crafted link shows only the tables' words"
    );

    // The firm sees the product, with the rate step in words, and applies with consent.
    let firm = app.page_session("firm3").await;
    let desk = app.page("/firm", Some(&firm)).await.text();
    assert!(
        desk.contains("绿效贷") && desk.contains("下浮 25 个基点"),
        "{desk}"
    );
    assert!(
        desk.contains("仅提供绿效等级和绿效码"),
        "consent in plain words"
    );
    let pid = app.get("/api/v1/products", None).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let until = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let applied = app
        .submit(
            "/firm/applications",
            &firm,
            &[
                ("product_id", &pid),
                ("amount_10k_cny", "1,200"),
                ("purpose", "余热回收改造"),
                ("scope", "trace"),
                ("expires_on", &until),
            ],
        )
        .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER);
    assert!(
        applied.header("location").contains("msg_applied"),
        "{}",
        applied.header("location")
    );

    // The bank's inbox and the application page (a recorded read, with the figures).
    let inbox = app.page("/bank", Some(&bank)).await.text();
    assert!(
        inbox.contains("测试企业3") && inbox.contains("/bank/applications/"),
        "{inbox}"
    );
    let aid = app
        .get("/api/v1/applications", Some(&firm_token))
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let page = app
        .page(&format!("/bank/applications/{aid}"), Some(&bank))
        .await
        .text();
    assert!(
        page.contains("万元工业增加值能耗") && page.contains("签名核验通过"),
        "{page}"
    );
    assert!(
        !page.contains("value=\"approved\" checked"),
        "the decision is not pre-selected"
    );
    let decided = app
        .submit(
            &format!("/bank/applications/{aid}/decision"),
            &bank,
            &[
                ("decision", "approved"),
                ("amount_10k_cny", "1,000"),
                ("rate_step_bp", "-25"),
                ("term_months", "24"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.text());
    assert!(decided.header("location").contains("msg_decided"));

    // The firm sees the decision and every read.
    let desk = app.page("/firm", Some(&firm)).await.text();
    assert!(desk.contains("批准 1,000 万元"), "{desk}");
    assert!(desk.contains("查看了申请和填报数据"), "{desk}");
    let withdrawn = app
        .submit(&format!("/firm/applications/{aid}/consent"), &firm, &[])
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    let page = app
        .page(&format!("/bank/applications/{aid}"), Some(&bank))
        .await
        .text();
    assert!(
        !page.contains("万元工业增加值能耗") && page.contains("企业未授权查看填报数据"),
        "{page}"
    );

    // The regulator's figures, with a chart and downloads.
    let reg = app.page_session("reg").await;
    let period = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(8)));
    let figures = app
        .page(
            &format!("/regulator/finance?by=bank&period={period}"),
            Some(&reg),
        )
        .await
        .text();
    assert!(
        figures.contains("bank1") && figures.contains("<svg class=\"chart\""),
        "{figures}"
    );
    let csv = app
        .page(
            &format!("/regulator/finance?by=grade&period={period}&format=csv"),
            Some(&reg),
        )
        .await
        .text();
    assert!(
        csv.contains("绿效等级,申请笔数,获批笔数,获批金额（万元）,平均利率调整（基点）"),
        "{csv}"
    );
    assert!(csv.contains(&format!("{grade},1,1,1000,-25.0")), "{csv}");
    // The chart says what it shows, in which unit, and paints a grade in its own colour.
    let by_grade = app
        .page(
            &format!("/regulator/finance?by=grade&period={period}"),
            Some(&reg),
        )
        .await
        .text();
    assert!(
        by_grade.contains(&format!(
            "<figcaption>{period} 年获批绿色金融金额（万元），按绿效等级</figcaption>"
        )),
        "{by_grade}"
    );
    let colour =
        gec::code::badge::grade_colours(gec::grading::Grade::parse(grade.as_str()).unwrap()).0;
    assert!(
        by_grade.contains(&format!("height=\"16\" fill=\"{colour}\"")),
        "{by_grade}"
    );
    // The scan page lists the product publicly.
    let url = code["url"].as_str().unwrap();
    let (_, c) = url.split_once("/C/").unwrap();
    let scan = app.page(&format!("/C/{c}"), None).await.text();
    assert!(scan.contains("bank1 · 绿效贷"), "{scan}");
}

#[tokio::test]
async fn kinds_and_dates_are_read_at_the_boundary_into_their_types_and_refused_by_field() {
    let app = TestApp::new().await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let mut unknown_kind = product(json!(["A"]), json!({"A": -20}));
    unknown_kind["kind"] = json!("mortgage");
    let refused = app
        .post("/api/v1/products", Some(&bank), unknown_kind)
        .await
        .problem(422);
    assert_eq!(refused["field"], "kind");
    assert!(
        refused["detail"].as_str().unwrap().contains("green_loan"),
        "the refusal names the kinds a product takes: {refused}"
    );

    // §1's strict date everywhere: a day that does not exist, a date without its zeros.
    for bad in ["2026-02-30", "2026-2-1", "2026/01/01"] {
        let mut body = product(json!(["A"]), json!({"A": -20}));
        body["valid_from"] = json!(bad);
        let refused = app
            .post("/api/v1/products", Some(&bank), body)
            .await
            .problem(422);
        assert_eq!(refused["field"], "valid_from", "{bad}: {refused}");
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("must be a date YYYY-MM-DD"),
            "{bad}: {refused}"
        );
    }
    let mut unknown_grade = product(json!(["E"]), json!({}));
    unknown_grade["grades"] = json!(["A", "E"]);
    let refused = app
        .post("/api/v1/products", Some(&bank), unknown_grade)
        .await
        .problem(422);
    assert_eq!(refused["field"], "grades[1]");
    assert_eq!(app.count("products").await, 0, "nothing refused is stored");
}
