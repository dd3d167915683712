//! Issue 27: 数据直连 — data sources deliver attested readings, all or nothing, with signed
//! receipts; a replay changes nothing, a correction needs its reason, a source attests only
//! its own fields and reads only its own receipts.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::{self, NewAccount, Role};
use gec::store::audit::Actor;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse, uscc};

async fn source(app: &TestApp, username: &str, org: &str, fields: &[&str]) -> String {
    accounts::create_account(
        &app.db,
        &Actor::system("test"),
        NewAccount {
            username: username.into(),
            password: PASSWORD.into(),
            role: Role::Source,
            firm: None,
            org: Some(org.into()),
            attests: fields.iter().map(|f| (*f).to_owned()).collect(),
        },
    )
    .await
    .expect("a data source");
    app.login(username).await
}

async fn deliver(app: &TestApp, token: &str, kind: &str, body: Vec<u8>) -> TestResponse {
    let request = Request::post("/api/v1/readings")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Delivers readings as JSON (`rows`: the `readings` array), asserting they are taken.
async fn deliver_json(app: &TestApp, token: &str, rows: Value) {
    let body = json!({ "readings": rows }).to_string().into_bytes();
    let answer = deliver(app, token, "application/json", body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
}

/// A year of monthly electricity readings (kWh) for each firm.
fn monthly_csv(firms: &[(String, u64)]) -> Vec<u8> {
    let mut out = String::from("uscc,period,field,quantity,reference\r\n");
    for (uscc, monthly) in firms {
        for m in 1..=12 {
            out.push_str(&format!(
                "{uscc},2025-{m:02},electricity_kwh,{monthly},DB-{}\r\n",
                &uscc[10..17]
            ));
        }
    }
    out.into_bytes()
}

/// The receipt's signature checks with the published key set and its payload is the receipt.
async fn check_receipt(app: &TestApp, answer: &Value) {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(answer["signed"].as_str().unwrap())
        .unwrap();
    let envelope = gec::code::cose::open(&bytes).expect("a COSE_Sign1");
    let doc = app.get("/.well-known/gec/keys.json", None).await.json();
    let keys =
        gec::code::TrustedKeys::from_document(&serde_json::from_value(doc).unwrap()).unwrap();
    let key = keys.get(&envelope.kid).expect("a published key");
    assert!(key.key.verify(&envelope.signed, &envelope.signature));
    let ciborium::Value::Text(payload) = envelope.payload else {
        panic!("the payload is the receipt's JSON as a CBOR text string")
    };
    let signed: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        signed, answer["receipt"],
        "the signature covers the receipt"
    );
}

#[tokio::test]
async fn a_grid_delivers_a_year_of_monthly_readings_and_gets_a_signed_receipt() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let (registered, firm) = app.firm_with_user(&regulator, 1, "3670").await;
    let unregistered = uscc(2);
    let csv = monthly_csv(&[
        (registered.clone(), 1_500_000),
        (unregistered.clone(), 80_000),
    ]);
    let answer = deliver(&app, &grid, "text/csv", csv.clone()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let receipt = answer.json();
    assert_eq!(receipt["receipt"]["rows"], 24);
    assert_eq!(receipt["receipt"]["created"], 24);
    assert_eq!(receipt["receipt"]["source"], "国网重庆市电力公司");
    assert_eq!(
        receipt["receipt"]["sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&csv))
    );
    assert!(
        receipt["receipt"]["received_at"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    check_receipt(&app, &receipt).await;

    // The firm reads what the grid attested for its year: twelve months summed.
    let attested = app
        .get(
            &format!("/api/v1/firms/{registered}/readings?year=2025"),
            Some(&firm),
        )
        .await
        .json();
    assert_eq!(attested[0]["field"], "electricity_kwh");
    assert_eq!(attested[0]["quantity"], "18000000");
    assert_eq!(attested[0]["months"], 12);
    assert_eq!(attested[0]["source"], "国网重庆市电力公司");

    // Delivered again: nothing changes, and the receipt says so.
    let again = deliver(&app, &grid, "text/csv", csv.clone()).await.json();
    assert_eq!(again["receipt"]["created"], 0);
    assert_eq!(again["receipt"]["unchanged"], 24);
    assert_eq!(app.count("readings").await, 24);

    // A different quantity under the same key needs a reason: refused by row and column…
    let changed = format!(
        "uscc,period,field,quantity,reference\r\n{registered},2025-03,electricity_kwh,1400000,DB-{}\r\n",
        &registered[10..17]
    );
    let refused = deliver(&app, &grid, "text/csv", changed.clone().into_bytes())
        .await
        .problem(422);
    assert_eq!(refused["errors"][0]["line"], 2);
    assert_eq!(refused["errors"][0]["column"], "quantity");
    // … and with its reason it is a correction, audited.
    let corrected = format!(
        "uscc,period,field,quantity,reference,reason\r\n{registered},2025-03,electricity_kwh,1400000,DB-{},抄表数据复核更正\r\n",
        &registered[10..17]
    );
    let done = deliver(&app, &grid, "text/csv", corrected.into_bytes())
        .await
        .json();
    assert_eq!(done["receipt"]["corrected"], 1, "{done}");
    let events = app
        .get(
            "/api/v1/audit/events?action=reading.correct",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(events["items"][0]["after"]["reason"], "抄表数据复核更正");
    let attested = app
        .get(
            &format!("/api/v1/firms/{registered}/readings?year=2025"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(attested[0]["quantity"], "17900000");

    // A field the grid may not attest: 403, nothing stored.
    let gas = format!(
        "uscc,period,field,quantity,reference\r\n{registered},2025,natural_gas_m3,5000,Q-1\r\n"
    );
    let before = app.count("readings").await;
    let forbidden = deliver(&app, &grid, "text/csv", gas.into_bytes())
        .await
        .problem(403);
    assert!(
        forbidden["detail"]
            .as_str()
            .unwrap()
            .contains("natural_gas_m3")
    );
    assert_eq!(app.count("readings").await, before);

    // A batch with a bad row stores nothing, and says every fault.
    let bad = format!(
        "uscc,period,field,quantity,reference\r\n{registered},2025-04,electricity_kwh,12.5,X-1\r\n\
         915000000000000000,2025-13,electricity_kwh,-3,X-2\r\n"
    );
    let refused = deliver(&app, &grid, "text/csv", bad.into_bytes())
        .await
        .problem(422);
    let columns: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["uscc", "period", "quantity"], "{refused}");
    assert_eq!(app.count("readings").await, before);

    // JSON too, its faults named by the reading's index.
    let json_bad = json!({"readings": [{"uscc": registered, "period": "2025", "field": "electricity_kwh",
                                        "quantity": "x", "reference": "Y-1"}]});
    let refused = deliver(
        &app,
        &grid,
        "application/json",
        json_bad.to_string().into_bytes(),
    )
    .await
    .problem(422);
    assert_eq!(refused["errors"][0]["column"], "readings[0].quantity");

    // The source reads its own receipts and nothing else.
    let receipts = app
        .get("/api/v1/readings/receipts", Some(&grid))
        .await
        .json();
    assert_eq!(receipts.as_array().unwrap().len(), 3);
    assert_eq!(
        app.get(
            &format!("/api/v1/firms/{registered}/readings?year=2025"),
            Some(&grid)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/assessments", Some(&grid)).await.status,
        StatusCode::FORBIDDEN
    );
    let other = source(&app, "gas", "重庆燃气集团", &["natural_gas_m3"]).await;
    let theirs = app
        .get("/api/v1/readings/receipts", Some(&other))
        .await
        .json();
    assert!(
        theirs.as_array().unwrap().is_empty(),
        "a source sees only its own receipts"
    );
    // Readings for a firm not yet registered are kept.
    assert_eq!(
        app.count("readings").await,
        24,
        "the unregistered firm's twelve months stay"
    );
    let _ = unregistered;
}

#[tokio::test]
async fn a_statistics_bureau_delivers_an_excel_workbook() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bureau = source(
        &app,
        "stats",
        "重庆市统计局",
        &["value_added_10k_cny", "waste_generated_t"],
    )
    .await;
    let (firm_uscc, _) = app.firm_with_user(&regulator, 5, "3670").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["uscc", "period", "field", "quantity", "reference"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (field, quantity)) in [
        ("value_added_10k_cny", 52000.5),
        ("waste_generated_t", 3200.0),
    ]
    .iter()
    .enumerate()
    {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &firm_uscc).unwrap();
        sheet.write_string(r, 1, "2025").unwrap();
        sheet.write_string(r, 2, *field).unwrap();
        sheet.write_number(r, 3, *quantity).unwrap();
        sheet.write_string(r, 4, "205-1/2025").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let answer = deliver(
        &app,
        &bureau,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.json()["receipt"]["created"], 2);
    let attested = app
        .get(
            &format!("/api/v1/firms/{firm_uscc}/readings?year=2025"),
            Some(&regulator),
        )
        .await
        .json();
    let fields: Vec<&str> = attested
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["value_added_10k_cny", "waste_generated_t"]);
    assert_eq!(attested[0]["quantity"], "52000.5");
    assert_eq!(attested[0]["months"], 0, "a yearly reading");
}

#[tokio::test]
async fn the_firms_form_says_where_an_attested_figure_came_from_and_a_source_has_its_desk() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let (firm_uscc, _) = app.firm_with_user(&regulator, 9, "3670").await;
    // The last completed year, the one the firm's form opens on.
    let year = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(8))) - 1;
    let mut csv = String::from("uscc,period,field,quantity,reference\r\n");
    for m in 1..=12 {
        csv.push_str(&format!(
            "{firm_uscc},{year}-{m:02},electricity_kwh,2600000,DB-9\r\n"
        ));
    }
    let done = deliver(&app, &grid, "text/csv", csv.into_bytes()).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text());
    let desk = app.page_session("firm9").await;
    let html = app.page("/firm", Some(&desk)).await.text();
    assert!(
        html.contains("value=\"3120\"")
            && html.contains(&format!(
                "国网重庆市电力公司 · {year} 年 12 个月合计 3,120 万千瓦时"
            )),
        "the form is prefilled from the grid's readings, saying so: {html}"
    );
    // The source signs in to its own desk, delivers a file there and sees its receipts.
    let page = app.page_session("grid").await;
    let own = app.page("/source", Some(&page)).await.text();
    assert!(
        own.contains("电力（千瓦时）") && own.contains("新增 12"),
        "{own}"
    );
    let file = format!(
        "uscc,period,field,quantity,reference\r\n{firm_uscc},{year},natural_gas_m3,1,Q\r\n"
    );
    let refused = app
        .submit_multipart(
            "/source/readings",
            &page,
            &[],
            Some(("file", "r.csv", "text/csv", file.as_bytes())),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("本单位无权报送此数据项"));
    assert_eq!(app.count("readings").await, 12);
    // Other roles never reach the desk.
    let bank = {
        app.create_account(Role::Bank, "bank1", None).await;
        app.page_session("bank1").await
    };
    assert_eq!(
        app.page("/source", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn gec_accounts_add_names_the_fields_a_source_may_attest() {
    use crate::helpers::gec_cli;
    let app = TestApp::new().await;
    let add = |username: &str, fields: Option<&str>, role: &str| {
        let mut args = vec![
            "accounts",
            "add",
            "--role",
            role,
            "--username",
            username,
            "--org",
            "重庆燃气集团",
        ];
        if let Some(f) = fields {
            args.extend(["--fields", f]);
        }
        gec_cli(&app, &args, &format!("{}\n", crate::helpers::PASSWORD))
    };
    let made = add("gas", Some("natural_gas_m3, heat_gj"), "source");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = app.login("gas").await;
    let body = json!({"readings": [{"uscc": uscc(3), "period": "2025", "field": "heat_gj",
                                    "quantity": "1200.5", "reference": "RQ-7"}]});
    let answer = deliver(
        &app,
        &token,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    // A field no source attests, a source without fields, fields for another role: refused.
    let unknown = add("gas2", Some("natural_gas_m3,coal"), "source");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("\"coal\""));
    assert!(!add("gas3", None, "source").status.success());
    assert!(
        !add("bank9", Some("electricity_kwh"), "bank")
            .status
            .success()
    );
    assert_eq!(app.count("accounts").await, 1);
}

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
async fn the_code_states_the_share_of_energy_the_sources_attested() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let (attested_uscc, attested_firm) = app.firm_with_user(&regulator, 21, "3670").await;
    let (plain_uscc, plain_firm) = app.firm_with_user(&regulator, 22, "3670").await;
    // The grid attests the electricity the firm declares (1 % apart: within the tolerance).
    deliver_json(
        &app,
        &grid,
        json!([{"uscc": attested_uscc, "period": "2025", "field": "electricity_kwh",
                                    "quantity": "18685000", "reference": "DB-21"}]),
    )
    .await;
    let code = app
        .issue_code(&regulator, &attested_firm, &attested_uscc)
        .await;
    let plain = app.issue_code(&regulator, &plain_firm, &plain_uscc).await;
    // Electricity is 2,273,650 of 2,835,383.05 kgce: 80.19 %, rounded down.
    let claims = app
        .post("/api/v1/verify", None, json!({"code": code["url"]}))
        .await
        .json()["claims"]
        .clone();
    assert_eq!(claims["attested_share"], 80, "{claims}");
    let audit_desk = app.page_session("reg").await;
    let trail = app
        .page("/regulator/audit?action=code.issue", Some(&audit_desk))
        .await
        .text();
    assert!(
        trail.contains("能耗数据 80% 来自电网、燃气公司等数据源单位直连报送"),
        "the audit trail says the share: {trail}"
    );
    let without = app
        .post("/api/v1/verify", None, json!({"code": plain["url"]}))
        .await
        .json()["claims"]
        .clone();
    assert!(
        without.get("attested_share").is_none(),
        "no sources, no claim 8: {without}"
    );
    let url = code["url"].as_str().unwrap();
    let (_, c) = url.split_once("/C/").unwrap();
    let scan = app.page(&format!("/C/{c}"), None).await.text();
    assert!(scan.contains("能耗数据 80% 来自"), "{scan}");
    // The bank's list check says it in its own column.
    app.create_account(Role::Bank, "bank1", None).await;
    let bank = app.page_session("bank1").await;
    let list = app
        .submit_multipart(
            "/bank/verify-list",
            &bank,
            &[("format", "html"), ("codes", url)],
            None,
        )
        .await
        .text();
    assert!(
        list.contains("<td data-label=\"直连数据占比\">80%</td>"),
        "{list}"
    );
}

#[tokio::test]
async fn a_no_touch_filing_grades_a_firm_that_typed_nothing() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let stats = source(
        &app,
        "stats",
        "重庆市统计局",
        &[
            "value_added_10k_cny",
            "waste_generated_t",
            "waste_utilized_t",
        ],
    )
    .await;
    let (complete, _) = app.firm_with_user(&regulator, 31, "3670").await;
    let (also_complete, _) = app.firm_with_user(&regulator, 32, "3670").await;
    let (partial, _) = app.firm_with_user(&regulator, 33, "3670").await;
    let mut grid_rows = String::from("uscc,period,field,quantity,reference\r\n");
    let mut stat_rows = grid_rows.clone();
    for u in [&complete, &also_complete, &partial] {
        grid_rows.push_str(&format!(
            "{u},2025,electricity_kwh,18500000,DB-{}\r\n",
            &u[10..17]
        ));
        stat_rows.push_str(&format!("{u},2025,value_added_10k_cny,52000.5,205-1\r\n"));
        if *u != partial {
            stat_rows.push_str(&format!("{u},2025,waste_generated_t,3200,205-1\r\n"));
            stat_rows.push_str(&format!("{u},2025,waste_utilized_t,3010,205-1\r\n"));
        }
    }
    deliver(&app, &grid, "text/csv", grid_rows.into_bytes()).await;
    deliver(&app, &stats, "text/csv", stat_rows.into_bytes()).await;
    // One firm, filed from its attested figures alone, reviewed and approved as usual.
    let filed = app
        .post(
            &format!("/api/v1/firms/{complete}/no-touch-filing"),
            Some(&regulator),
            json!({"year": 2025}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text());
    let id = filed.json()["id"].as_i64().unwrap();
    let approved = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text());
    let claims = app
        .post(
            "/api/v1/verify",
            None,
            json!({"code": approved.json()["url"]}),
        )
        .await
        .json()["claims"]
        .clone();
    assert_eq!(
        claims["attested_share"], 100,
        "every tce came from the grid: {claims}"
    );
    // Not every figure attested: refused, naming what is missing, nothing filed.
    let refused = app
        .post(
            &format!("/api/v1/firms/{partial}/no-touch-filing"),
            Some(&regulator),
            json!({"year": 2025}),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], "readings");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("waste_generated_t")
    );
    // Every firm at once, in the background: the complete one filed, the partial one listed,
    // the filed one left; followed until it finishes.
    let started = app
        .post(
            "/api/v1/no-touch-filings",
            Some(&regulator),
            json!({"year": 2025}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text());
    let run = started.json()["id"].as_i64().unwrap();
    let report = wait_for_run(&app, &regulator, run).await;
    assert_eq!(report["state"], "finished", "{report}");
    assert_eq!(report["filed"], 1, "{report}");
    assert_eq!(report["total"], 3);
    assert_eq!(report["done"], 3);
    assert_eq!(report["not_filed"][0]["uscc"], partial.as_str());
    assert_eq!(report["already_filed"], 1);
    let filed_now = app
        .get(
            &format!("/api/v1/assessments?uscc={also_complete}&status=submitted"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(filed_now["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        filed_now["items"][0]["basis"][0]["basis"], "attested",
        "each figure's basis is kept: {filed_now}"
    );
    // On the regulator's page too, saying why not.
    let desk = app.page_session("reg").await;
    let page = app
        .submit(&format!("/regulator/firms/{partial}/no-touch"), &desk, &[])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("尚有数据未由数据源单位报送"));
    let firm_token = app.login("firm31").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/firms/{complete}/no-touch-filing"),
            Some(&firm_token),
            json!({"year": 2025})
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

#[tokio::test]
async fn a_year_of_monthly_readings_for_a_thousand_firms_arrives_as_csv_and_as_a_workbook() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let gas = source(&app, "gas", "重庆燃气集团", &["natural_gas_m3"]).await;
    let (registered, firm) = app.firm_with_user(&regulator, 500, "3670").await;
    // The grid's CSV: 1,000 firms × 12 months.
    let mut csv = String::from("uscc,period,field,quantity,reference\r\n");
    for n in 1..=1000 {
        let u = uscc(n);
        for m in 1..=12 {
            csv.push_str(&format!(
                "{u},2025-{m:02},electricity_kwh,{},DB-{n}\r\n",
                100_000 + n
            ));
        }
    }
    let answer = deliver(&app, &grid, "text/csv", csv.into_bytes()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.json()["receipt"]["created"], 12_000);
    // The gas company's workbook: the same 1,000 firms × 12 months.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["uscc", "period", "field", "quantity", "reference"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let mut r = 1u32;
    for n in 1..=1000 {
        let u = uscc(n);
        for m in 1..=12 {
            sheet.write_string(r, 0, &u).unwrap();
            sheet.write_string(r, 1, format!("2025-{m:02}")).unwrap();
            sheet.write_string(r, 2, "natural_gas_m3").unwrap();
            sheet.write_number(r, 3, 3_000.0 + f64::from(n)).unwrap();
            sheet.write_string(r, 4, format!("RQ-{n}")).unwrap();
            r += 1;
        }
    }
    let answer = deliver(
        &app,
        &gas,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        book.save_to_buffer().unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.json()["receipt"]["created"], 12_000);
    assert_eq!(app.count("readings").await, 24_000);
    // Firm 500 reads both sources' twelve months, summed.
    let attested = app
        .get(
            &format!("/api/v1/firms/{registered}/readings?year=2025"),
            Some(&firm),
        )
        .await
        .json();
    assert_eq!(attested[0]["quantity"], (12 * 100_500).to_string());
    assert_eq!(attested[1]["field"], "natural_gas_m3");
    assert_eq!(attested[1]["quantity"], (12 * 3_500).to_string());
    assert_eq!(attested[1]["source"], "重庆燃气集团");
}

/// Follows a no-touch run until it is no longer running.
async fn wait_for_run(app: &TestApp, regulator: &str, run: i64) -> serde_json::Value {
    for _ in 0..600 {
        let view = app
            .get(&format!("/api/v1/no-touch-filings/{run}"), Some(regulator))
            .await
            .json();
        if view["state"] != "running" {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no-touch run {run} did not finish in 30 s");
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
    for (body, field) in [
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
    ] {
        let refused = app
            .put("/api/v1/settings/readings", Some(&regulator), body)
            .await
            .problem(422);
        assert_eq!(refused["field"], field);
    }
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
async fn a_regulator_adds_a_source_sets_the_checks_and_files_every_firm_on_the_page() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let desk = app.page_session("reg").await;
    let page = app.page("/regulator/sources", Some(&desk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("尚无数据源单位"));
    // Adding a source: every fault said, nothing made.
    let refused = app
        .submit(
            "/regulator/sources",
            &desk,
            &[("org", "国网重庆市电力公司"), ("username", "grid")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("value=\"国网重庆市电力公司\""),
        "typed values kept"
    );
    assert_eq!(app.count("accounts").await, 1);
    let made = app
        .submit(
            "/regulator/sources",
            &desk,
            &[
                ("org", "国网重庆市电力公司"),
                ("username", "grid"),
                ("attest_electricity_kwh", "on"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK);
    let text = made.text();
    let password = text
        .split("初始密码：<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the first password, shown once")
        .to_owned();
    let login = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "grid", "password": password}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let grid = login.json()["token"].as_str().unwrap().to_owned();
    let again = app.page("/regulator/sources", Some(&desk)).await.text();
    assert!(!again.contains(&password), "shown only once");
    assert!(
        again.contains("<td data-label=\"可报送的数据项\">电力</td>"),
        "{again}"
    );
    let events = app
        .get(
            "/api/v1/audit/events?action=account.create",
            Some(&regulator),
        )
        .await
        .text();
    assert!(
        !events.contains(&password),
        "the password is never in the trail"
    );
    // The settings: a bad tolerance refused beside its box, a good one saved.
    let bad = app
        .submit(
            "/regulator/sources/settings",
            &desk,
            &[("tolerance_percent", "五")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("id=\"e-tolerance\""));
    let saved = app
        .submit(
            "/regulator/sources/settings",
            &desk,
            &[("tolerance_percent", "3%"), ("req_electricity_kwh", "on")],
        )
        .await;
    assert!(saved.status.is_redirection());
    assert_eq!(
        app.get("/api/v1/settings/readings", Some(&regulator))
            .await
            .json(),
        json!({"tolerance_percent": "3", "source_required": ["electricity_kwh"]})
    );
    // No-touch filing of every firm from the page, its progress shown until done.
    let stats = source(
        &app,
        "stats",
        "重庆市统计局",
        &[
            "value_added_10k_cny",
            "waste_generated_t",
            "waste_utilized_t",
        ],
    )
    .await;
    let (firm_uscc, _) = app.firm_with_user(&regulator, 51, "3670").await;
    deliver(
        &app,
        &grid,
        "text/csv",
        format!("uscc,period,field,quantity,reference\r\n{firm_uscc},2025,electricity_kwh,18500000,DB-51\r\n")
            .into_bytes(),
    )
    .await;
    deliver(
        &app,
        &stats,
        "text/csv",
        format!(
            "uscc,period,field,quantity,reference\r\n{firm_uscc},2025,value_added_10k_cny,52000.5,205-1\r\n\
             {firm_uscc},2025,waste_generated_t,3200,205-1\r\n{firm_uscc},2025,waste_utilized_t,3010,205-1\r\n"
        )
        .into_bytes(),
    )
    .await;
    let bad_year = app
        .submit("/regulator/no-touch", &desk, &[("year", "3000")])
        .await;
    assert_eq!(bad_year.status, StatusCode::UNPROCESSABLE_ENTITY);
    let started = app
        .submit("/regulator/no-touch", &desk, &[("year", "2025")])
        .await;
    assert!(started.status.is_redirection());
    let run = app
        .get(
            "/api/v1/audit/events?action=no_touch.start",
            Some(&regulator),
        )
        .await
        .json()["items"][0]["target_id"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    assert_eq!(wait_for_run(&app, &regulator, run).await["filed"], 1);
    let shown = app.page("/regulator/sources", Some(&desk)).await.text();
    assert!(
        shown.contains("已核对 1 / 1 家：已生成申报 1 家"),
        "{shown}"
    );
    assert!(
        !shown.contains("http-equiv=\"refresh\""),
        "no refresh once done"
    );
    // Only regulators.
    let firm_desk = app.page_session("firm51").await;
    assert!(
        !app.page("/regulator/sources", Some(&firm_desk))
            .await
            .status
            .is_success()
    );
}

#[tokio::test]
async fn an_import_records_each_figures_basis_beside_what_sources_attested() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    // Rows 61 and 62 declare 1,000,000 + n × 7,919 kWh; the grid attests 61's exactly and 10 %
    // more for 62.
    let exact = 1_000_000 + 61 * 7919;
    let more = (1_000_000 + 62 * 7919) * 11 / 10;
    deliver_json(
        &app,
        &grid,
        json!([
            {"uscc": crate::helpers::uscc(61), "period": "2025", "field": "electricity_kwh",
             "quantity": exact.to_string(), "reference": "DB-61"},
            {"uscc": crate::helpers::uscc(62), "period": "2025", "field": "electricity_kwh",
             "quantity": more.to_string(), "reference": "DB-62"}
        ]),
    )
    .await;
    let csv = format!(
        "{}\r\n{}\r\n{}\r\n{}\r\n",
        crate::helpers::HEADER,
        crate::helpers::row(61),
        crate::helpers::row(62),
        crate::helpers::row(63)
    );
    let imported = app
        .send(
            Request::post("/api/v1/import")
                .header(header::AUTHORIZATION, format!("Bearer {regulator}"))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_eq!(imported.status.as_u16(), 201, "{}", imported.text());
    let ids: Vec<i64> = imported.json()["assessment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let basis = |view: &serde_json::Value, field: &str| {
        view["basis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["field"] == field)
            .cloned()
            .unwrap_or_default()
    };
    let mut views = Vec::new();
    for id in &ids {
        views.push(
            app.get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
                .await
                .json(),
        );
    }
    assert_eq!(basis(&views[0], "electricity_kwh")["basis"], "attested");
    assert_eq!(
        basis(&views[0], "electricity_kwh")["references"][0],
        "DB-61"
    );
    assert_eq!(basis(&views[1], "electricity_kwh")["basis"], "apart");
    assert_eq!(basis(&views[1], "electricity_kwh")["percent"], "-9.1");
    assert_eq!(basis(&views[2], "electricity_kwh")["basis"], "declared");
    assert_eq!(basis(&views[2], "value_added_10k_cny")["basis"], "declared");
}
