//! 数据直连, the regulator's side (issue 27): no-touch filing of one firm and of every firm in
//! the background, the sources page, and imports' figure bases.

use axum::http::StatusCode;
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;
use crate::readings::{deliver, deliver_json, source};

/// The statistics bureau's account: value added, waste generated and utilised.
async fn statistics_bureau(app: &TestApp) -> String {
    source(
        app,
        "stats",
        "重庆市统计局",
        &[
            "value_added_10k_cny",
            "waste_generated_t",
            "waste_utilized_t",
        ],
    )
    .await
}

#[tokio::test]
async fn a_no_touch_filing_grades_a_firm_that_typed_nothing() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let grid = source(&app, "grid", "国网重庆市电力公司", &["electricity_kwh"]).await;
    let stats = statistics_bureau(&app).await;
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
    let approved = app.approve(&regulator, id).await;
    let claims = app
        .post("/api/v1/verify", None, json!({"code": approved["url"]}))
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
    let stats = statistics_bureau(&app).await;
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
