//! Issue 27: 数据直连 — data sources deliver attested readings, all or nothing, with signed
//! receipts; a replay changes nothing, a correction needs its reason, a source attests only
//! its own fields and reads only its own receipts.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::{self, NewAccount, Role};
use gec::store::audit::Actor;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse, uscc};

pub(crate) async fn source(app: &TestApp, username: &str, org: &str, fields: &[&str]) -> String {
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

pub(crate) async fn deliver(app: &TestApp, token: &str, kind: &str, body: Vec<u8>) -> TestResponse {
    let request = Request::post("/api/v1/readings")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Delivers readings as JSON (`rows`: the `readings` array), asserting they are taken.
pub(crate) async fn deliver_json(app: &TestApp, token: &str, rows: Value) {
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
