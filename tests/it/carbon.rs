//! Carbon efficiency (methodology §10): the public vectors through `gec carbon` and through the
//! API's preview, beside a grade that does not change.

use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/carbon.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn gec_carbon_prints_each_vectors_expected_output_and_exit_code() {
    let v = vectors();
    for case in v["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (printed, status) =
            crate::helpers::gec_json(&["carbon", "-"], &case["input"].to_string());
        match case["expected"].get("error") {
            Some(error) => {
                assert!(!status.success(), "{name}: exit 1");
                assert_eq!(printed["error"]["field"], error["field"], "{name}");
            }
            None => {
                assert!(status.success(), "{name}: exit 0");
                assert_eq!(printed["trace"], case["expected"], "{name}");
                assert_eq!(printed["trace_hash"], case["trace_hash"], "{name}");
            }
        }
    }
}

#[tokio::test]
async fn the_preview_gives_each_vectors_carbon_trace_beside_an_unchanged_grade() {
    // Through the API the firm's industry, certifications and vetoes come from its records, so
    // the cases that set those in their input (the fault-order cases) stay with the core.
    // A firm's industry is its record's: the vectors that use one USCC with several industries
    // get a service each.
    let v = vectors();
    let mut services: std::collections::HashMap<(String, String), (TestApp, String)> =
        std::collections::HashMap::new();
    let mut checked = 0;
    for case in v["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let from_records = ["certifications", "vetoes"]
            .iter()
            .any(|m| input[m].as_array().is_some_and(|l| !l.is_empty()));
        let error = case["expected"].get("error");
        if from_records || error.is_some_and(|e| e["field"] != "green_power_kwh") {
            continue;
        }
        let uscc = input["uscc"].as_str().unwrap().to_uppercase();
        let industry = input["industry_code"].as_str().unwrap().to_owned();
        let key = (uscc.clone(), industry);
        if !services.contains_key(&key) {
            let app = TestApp::new().await;
            let regulator = app.token_for(Role::Regulator, "reg").await;
            let created = app
                .post(
                    "/api/v1/firms",
                    Some(&regulator),
                    json!({"uscc": uscc, "name": "碳效企业",
                           "industry_code": input["industry_code"], "district": "渝北区"}),
                )
                .await;
            assert_eq!(created.status.as_u16(), 201, "{name}: {}", created.text());
            services.insert(key.clone(), (app, regulator));
        }
        let (app, regulator) = &services[&key];
        let mut body = json!({"uscc": uscc});
        for member in [
            "period",
            "assessed_on",
            "value_added_10k_cny",
            "energy",
            "waste",
            "green_power_kwh",
        ] {
            if let Some(value) = input.get(member) {
                body[member] = value.clone();
            }
        }
        let answer = app
            .post("/api/v1/assessments/preview", Some(regulator), body)
            .await;
        match error {
            Some(error) => {
                let problem = answer.problem(422);
                assert_eq!(problem["field"], error["field"], "{name}: {problem}");
            }
            None => {
                assert_eq!(answer.status.as_u16(), 200, "{name}: {}", answer.text());
                let preview = answer.json();
                assert_eq!(preview["carbon"]["trace"], case["expected"], "{name}");
                assert_eq!(
                    preview["carbon"]["trace_hash"], case["trace_hash"],
                    "{name}"
                );
                assert_eq!(
                    preview["carbon"]["level"], case["expected"]["level"],
                    "{name}"
                );
                // The grade is GEC-M's, whatever the green power: the same input without it
                // grades to the same trace hash.
                let graded = gec::grading::grade_json(
                    &preview["input"],
                    gec::grading::BenchmarkTable::default_table(),
                )
                .unwrap();
                assert_eq!(preview["trace_hash"], graded.trace_hash.as_str(), "{name}");
                let mut without = preview["input"].clone();
                without.as_object_mut().unwrap().remove("green_power_kwh");
                let plain = gec::grading::grade_json(
                    &without,
                    gec::grading::BenchmarkTable::default_table(),
                )
                .unwrap();
                assert_eq!(plain.trace_hash, graded.trace_hash, "{name}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 40, "{checked} cases through the API");
}

#[tokio::test]
async fn the_scan_page_shows_the_codes_carbon_level_beside_the_grade_in_both_languages() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let level = app.preview_carbon_level(&firm, &uscc).await;
    let (zh, en) = gec::grading::carbon::level_label(level);
    let issued = app.issue_code(&regulator, &firm, &uscc).await;
    let path = issued["url"]
        .as_str()
        .unwrap()
        .split("/C/")
        .nth(1)
        .unwrap()
        .to_owned();
    let page = app.get(&format!("/C/{path}"), None).await.text();
    assert!(page.contains(&format!("碳效等级 {zh}")), "{page}");
    let page = app.get(&format!("/C/{path}?lang=en"), None).await.text();
    assert!(
        page.contains(&format!("Carbon efficiency {en}")),
        "the English page"
    );
}

/// The carbon answer of §10 for a stored assessment's own input, computed here by the core.
fn carbon_of_input(input: &Value) -> gec::grading::carbon::Carbon {
    gec::grading::carbon::carbon_json(
        input,
        gec::grading::BenchmarkTable::default_table(),
        gec::grading::carbon::CarbonTables::default_tables(),
    )
    .unwrap()
}

#[tokio::test]
async fn every_assessment_keeps_its_carbon_trace_submitted_imported_and_approved() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 5, "3670").await;
    let mut data = crate::helpers::yearly_data(&uscc);
    data["green_power_kwh"] = json!("1000");
    let submitted = app.post("/api/v1/assessments", Some(&firm), data).await;
    assert_eq!(submitted.status.as_u16(), 201, "{}", submitted.text());
    let id = submitted.json()["id"].as_i64().unwrap();
    let view = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(
        view["input"]["green_power_kwh"], "1000",
        "the stored input keeps green power"
    );
    let expected = carbon_of_input(&view["input"]);
    assert_eq!(view["carbon"]["trace"], expected.trace());
    assert_eq!(view["carbon"]["trace_hash"], expected.trace_hash.as_str());
    assert_eq!(view["carbon"]["level"], expected.level);
    assert_eq!(
        view["carbon"]["trace"]["electricity"]["green_power_kwh"],
        "1000"
    );

    // Approved: graded again as of the approval day, and the carbon trace with it.
    let approved = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await;
    assert_eq!(approved.status.as_u16(), 201, "{}", approved.text());
    let view = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    let expected = carbon_of_input(&view["input"]);
    assert_eq!(
        view["carbon"]["trace"]["assessed_on"],
        view["input"]["assessed_on"]
    );
    assert_eq!(view["carbon"]["trace_hash"], expected.trace_hash.as_str());

    // Imported rows keep theirs too.
    let ids = app.import_submissions(&regulator, 100, 3).await;
    for id in ids {
        let view = app
            .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
            .await
            .json();
        let expected = carbon_of_input(&view["input"]);
        assert_eq!(
            view["carbon"]["trace_hash"],
            expected.trace_hash.as_str(),
            "{view}"
        );
    }
}

#[tokio::test]
async fn gec_regrade_carbon_fills_in_what_older_assessments_lack_and_changes_no_grade() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 200, 5).await;
    let before: Vec<Value> = {
        let mut views = Vec::new();
        for id in &ids {
            views.push(
                app.get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
                    .await
                    .json(),
            );
        }
        views
    };
    // As a database migrated from before §10 holds them.
    app.db
        .execute_unprepared(
            "UPDATE assessments SET carbon_trace = NULL, carbon_hash = NULL, carbon_level = NULL",
        )
        .await
        .unwrap();
    let out = crate::helpers::gec_cli(&app, &["regrade", "--carbon"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report,
        json!({"assessments": 5, "computed": 5, "skipped": 0})
    );
    for (id, was) in ids.iter().zip(&before) {
        let now = app
            .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
            .await
            .json();
        assert_eq!(
            now["carbon"], was["carbon"],
            "the same carbon trace as at submission"
        );
        for same in ["trace_hash", "grade", "score", "status", "input"] {
            assert_eq!(now[same], was[same], "{same} unchanged");
        }
    }
    let again = crate::helpers::gec_cli(&app, &["regrade", "--carbon"], "");
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["assessments"], 0, "nothing left to do");
}

fn way_up_vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/carbon_way_up.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn gec_carbon_way_up_prints_each_of_its_vectors() {
    for case in way_up_vectors()["cases"].as_array().unwrap() {
        let (printed, status) =
            crate::helpers::gec_json(&["carbon-way-up", "-"], &case["input"].to_string());
        assert!(status.success(), "{}", case["name"]);
        assert_eq!(printed, case["expected"], "{}", case["name"]);
    }
}

/// A firm's yearly data on grid electricity alone: `kwh` of it on `value_added` (10,000 CNY).
fn electricity_only(uscc: &str, kwh: &str, value_added: &str) -> Value {
    json!({"uscc": uscc, "period": 2025, "assessed_on": "2026-03-31",
           "value_added_10k_cny": value_added,
           "energy": [{"carrier": "electricity_kwh", "quantity": kwh}],
           "waste": {"generated_t": "0", "stock_utilized_t": "0", "utilized_t": "0"}})
}

/// Submits `data` for the firm and approves it: the code's answer.
async fn approved(app: &TestApp, regulator: &str, firm: &str, data: Value) -> Value {
    let submitted = app.post("/api/v1/assessments", Some(firm), data).await;
    assert_eq!(submitted.status.as_u16(), 201, "{}", submitted.text());
    let id = submitted.json()["id"].as_i64().unwrap();
    let issued = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(regulator),
            json!({}),
        )
        .await;
    assert_eq!(issued.status.as_u16(), 201, "{}", issued.text());
    let mut answer = issued.json();
    answer["assessment_id"] = json!(id);
    answer
}

#[tokio::test]
async fn the_carbon_way_up_comes_with_the_preview_and_the_assessment_as_the_core_gives_it() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 7, "3670").await;
    // The vector "the ratio just past 0.8", for this firm.
    let case = way_up_vectors()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap()
                .starts_with("the ratio just past 0.8")
        })
        .unwrap()
        .clone();
    let data = electricity_only(&uscc, "1376110", "3000");
    let preview = app
        .post("/api/v1/assessments/preview", Some(&firm), data.clone())
        .await
        .json();
    assert_eq!(preview["carbon"]["level"], 3);
    // The USCC differs from the vector's, but both are 重庆 (province 50): the same figures.
    assert_eq!(preview["carbon"]["way_up"], case["expected"], "{preview}");
    let submitted = app
        .post("/api/v1/assessments", Some(&firm), data)
        .await
        .json();
    let view = app
        .get(
            &format!("/api/v1/assessments/{}", submitted["id"]),
            Some(&firm),
        )
        .await
        .json();
    assert_eq!(view["carbon"]["way_up"], case["expected"]);
    assert_eq!(
        view["carbon"]["way_up"]["targets"][0]["grid_electricity"]["grid_kwh"],
        "1376100"
    );
    // Lists do not carry it.
    let list = app
        .get("/api/v1/assessments", Some(&regulator))
        .await
        .json();
    assert!(list["items"][0]["carbon"].get("way_up").is_none(), "{list}");
}

#[tokio::test]
async fn the_scan_page_says_the_intensity_and_its_share_of_the_baseline_in_both_languages() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 8, "3670").await;
    // 1,376,100 kWh at 0.5581 on 3,000: intensity 0.256000, ratio 0.8 — level 2, 80 %.
    let code = approved(
        &app,
        &regulator,
        &firm,
        electricity_only(&uscc, "1376100", "3000"),
    )
    .await;
    let path = code["url"]
        .as_str()
        .unwrap()
        .split("/C/")
        .nth(1)
        .unwrap()
        .to_owned();
    let page = app.get(&format!("/C/{path}"), None).await.text();
    assert!(page.contains("碳效等级 二级 · 浅绿"), "{page}");
    assert!(
        page.contains("每万元工业增加值碳排放 0.26 吨二氧化碳，为行业基准的 80%"),
        "{page}"
    );
    let page = app.get(&format!("/C/{path}?lang=en"), None).await.text();
    assert!(
        page.contains(
            "0.26 t CO₂ per 10,000 CNY of industrial value added, 80% of the industry baseline"
        ),
        "{page}"
    );
}

#[tokio::test]
async fn a_product_for_carbon_levels_1_and_2_refuses_a_level_4_firm_naming_the_carbon_level() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let product = |levels: Value| {
        json!({"name": "碳效贷", "kind": "green_loan", "grades": ["A+", "A", "B", "C", "D"],
               "rate_step_bp": {"A+": -40, "A": -30, "B": -20, "C": -10, "D": 0},
               "carbon_levels": levels,
               "max_amount_10k_cny": "3000", "term_months": 36,
               "valid_from": format!("{}-01-01", year - 1),
               "valid_until": format!("{}-12-31", year + 1)})
    };
    let bad = app
        .post("/api/v1/products", Some(&bank), product(json!([1, 6])))
        .await
        .problem(422);
    assert_eq!(bad["field"], "carbon_levels");
    assert_eq!(app.count("products").await, 0);
    let published = app
        .post("/api/v1/products", Some(&bank), product(json!([2, 1, 2])))
        .await;
    assert_eq!(published.status.as_u16(), 201, "{}", published.text());
    assert_eq!(published.json()["carbon_levels"], json!([1, 2]));
    let pid = published.json()["id"].clone();

    // Level 4: 895,897 kWh on 1,000 — 500.0001 t, intensity 0.500000, ratio 1.5625.
    let (uscc4, firm4) = app.firm_with_user(&regulator, 11, "3670").await;
    approved(
        &app,
        &regulator,
        &firm4,
        electricity_only(&uscc4, "895897", "1000"),
    )
    .await;
    let until = (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    let application = json!({"product_id": pid, "amount_10k_cny": "100", "purpose": "光伏改造",
                             "consent": {"scope": "grade", "expires_on": until}});
    let refused = app
        .post("/api/v1/applications", Some(&firm4), application.clone())
        .await
        .problem(422);
    assert_eq!(refused["field"], "carbon_level", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("level 4"),
        "{refused}"
    );
    assert_eq!(app.count("applications").await, 0);
    let offers = app
        .get(&format!("/api/v1/firms/{uscc4}/products"), Some(&firm4))
        .await
        .json();
    assert_eq!(offers["items"], json!([]), "not offered to level 4");

    // Level 2 (the usual yearly data) is taken.
    let (uscc2, firm2) = app.firm_with_user(&regulator, 12, "3670").await;
    assert_eq!(app.preview_carbon_level(&firm2, &uscc2).await, 2);
    app.issue_code(&regulator, &firm2, &uscc2).await;
    let offers = app
        .get(&format!("/api/v1/firms/{uscc2}/products"), Some(&firm2))
        .await
        .json();
    assert_eq!(offers["items"].as_array().unwrap().len(), 1, "{offers}");
    let taken = app
        .post("/api/v1/applications", Some(&firm2), application)
        .await;
    assert_eq!(taken.status.as_u16(), 201, "{}", taken.text());
}

/// Sends `csv` to `path` as text/csv with the token.
async fn post_csv(
    app: &TestApp,
    path: &str,
    token: &str,
    csv: &str,
) -> crate::helpers::TestResponse {
    use axum::body::Body;
    use axum::http::{Request, header};
    app.send(
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(csv.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_regulator_publishes_a_grid_factor_version_and_new_carbon_traces_name_it() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 21, "3670").await;
    let listed = app.get("/api/v1/carbon-tables", None).await.json();
    let in_force: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["in_force"] == true)
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(in_force, ["GEC-CB 2025.1", "GEC-CF 2025.1", "GEC-GF 2023"]);
    let before = app.submit_yearly(&firm, &uscc).await;

    let grid = app
        .get("/api/v1/carbon-tables/grid/GEC-GF%202023", None)
        .await
        .text();
    assert!(
        grid.contains("50,重庆,Chongqing,西南,0.5581,province"),
        "{grid}"
    );
    // A table without the national row, or not a CSV of the columns, changes nothing.
    let without_national: String = grid
        .lines()
        .filter(|l| !l.starts_with('*'))
        .map(|l| format!("{l}\n"))
        .collect();
    let refused = post_csv(
        &app,
        "/api/v1/carbon-tables/grid?version=GEC-GF%202024",
        &regulator,
        &without_national,
    )
    .await
    .problem(422);
    assert_eq!(refused["field"], "body", "{refused}");
    let refused = post_csv(
        &app,
        "/api/v1/carbon-tables/fuel?version=GEC-CF%202026",
        &regulator,
        "carrier,ncv_gj_per_unit,carbon_tc_per_gj,oxidation\nraw_coal_t,20.908,0.02637,0.94\n",
    )
    .await
    .problem(422);
    assert!(
        refused["detail"].as_str().unwrap().contains("no row for"),
        "{refused}"
    );
    let refused = post_csv(
        &app,
        "/api/v1/carbon-tables/water?version=X",
        &regulator,
        &grid,
    )
    .await
    .problem(422);
    assert_eq!(refused["field"], "kind");
    let firm_tries = post_csv(
        &app,
        "/api/v1/carbon-tables/grid?version=GEC-GF%202024",
        &firm,
        &grid,
    )
    .await;
    assert_eq!(firm_tries.status.as_u16(), 403);
    assert_eq!(
        app.get("/api/v1/carbon-tables", None).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "nothing was stored"
    );

    // 重庆 at 0.5 in the new version.
    let new_grid = grid.replace(
        "50,重庆,Chongqing,西南,0.5581,province",
        "50,重庆,Chongqing,西南,0.5,province",
    );
    let published = post_csv(
        &app,
        "/api/v1/carbon-tables/grid?version=GEC-GF%202024",
        &regulator,
        &new_grid,
    )
    .await;
    assert_eq!(published.status.as_u16(), 201, "{}", published.text());
    let again = post_csv(
        &app,
        "/api/v1/carbon-tables/grid?version=GEC-GF%202024",
        &regulator,
        &new_grid,
    )
    .await
    .problem(409);
    assert!(again["detail"].as_str().unwrap().contains("already"));
    let preview = app
        .post(
            "/api/v1/assessments/preview",
            Some(&firm),
            crate::helpers::yearly_data(&uscc),
        )
        .await
        .json();
    assert_eq!(preview["carbon"]["trace"]["grid_factors"], "GEC-GF 2024");
    assert_eq!(preview["carbon"]["trace"]["fuel_factors"], "GEC-CF 2025.1");
    assert_eq!(preview["carbon"]["trace"]["province"]["grid_factor"], "0.5");
    // Checked against the core with the same tables.
    let tables = gec::grading::carbon::CarbonTables::from_csv(
        gec::grading::carbon::FUEL_CSV,
        &new_grid,
        gec::grading::carbon::BENCHMARK_CSV,
    )
    .unwrap()
    .named("GEC-CF 2025.1", "GEC-GF 2024", "GEC-CB 2025.1");
    let core = gec::grading::carbon::carbon_json(
        &preview["input"],
        gec::grading::BenchmarkTable::default_table(),
        &tables,
    )
    .unwrap();
    assert_eq!(preview["carbon"]["trace_hash"], core.trace_hash.as_str());

    // The assessment made before is computed again with the versions its trace names.
    let recomputed = app
        .post(
            &format!("/api/v1/assessments/{before}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(recomputed["carbon"]["match"], true, "{recomputed}");
    let view = app
        .get(&format!("/api/v1/assessments/{before}"), Some(&regulator))
        .await
        .json();
    assert_eq!(view["carbon"]["trace"]["grid_factors"], "GEC-GF 2023");
    assert!(view["carbon"]["way_up"].is_object(), "{view}");
    let audit = app
        .get(
            "/api/v1/audit/events?action=carbon_tables.publish",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test]
async fn the_carbon_overview_sums_the_codes_in_force_by_district_and_industry() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (u1, f1) = app.firm_with_user(&regulator, 31, "3670").await;
    let (u2, f2) = app.firm_with_user(&regulator, 32, "3670").await;
    // Level 2 (0.8 exactly) and level 4.
    approved(
        &app,
        &regulator,
        &f1,
        electricity_only(&u1, "1376100", "3000"),
    )
    .await;
    approved(
        &app,
        &regulator,
        &f2,
        electricity_only(&u2, "895897", "1000"),
    )
    .await;
    let overview = app
        .get("/api/v1/carbon/overview?by=division", Some(&regulator))
        .await
        .json();
    let row = &overview["rows"][0];
    assert_eq!(row["key"], "36");
    assert_eq!(row["firms"], 2);
    assert_eq!(row["levels"], json!([0, 1, 0, 1, 0]));
    // 768.0014 + 500.0001 t on 4,000.
    assert_eq!(row["total_tco2"], "1268.0015");
    assert_eq!(row["value_added_10k_cny"], "4000");
    assert_eq!(row["intensity"], "0.317000");
    let by_district = app
        .get("/api/v1/carbon/overview?by=district", Some(&regulator))
        .await
        .json();
    assert_eq!(by_district["rows"][0]["key"], "渝北区");
    let bad = app
        .get("/api/v1/carbon/overview?by=bank", Some(&regulator))
        .await
        .problem(422);
    assert_eq!(bad["field"], "by");
}

#[tokio::test]
async fn green_power_arrives_by_import_column_and_by_the_firms_form() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // The import's optional column: a file with it and one without both import.
    let with_green = format!(
        "{},green_power_kwh\r\n{},250000\r\n",
        crate::helpers::HEADER,
        crate::helpers::row(41)
    );
    let imported = post_csv(&app, "/api/v1/import", &regulator, &with_green).await;
    assert_eq!(imported.status.as_u16(), 201, "{}", imported.text());
    let id = imported.json()["assessment_ids"][0].as_i64().unwrap();
    let view = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(view["input"]["green_power_kwh"], "250000");
    assert_eq!(
        view["carbon"]["trace"]["electricity"]["green_power_kwh"],
        "250000"
    );
    // Green power above the electricity is refused by its column.
    let too_much = format!(
        "{},green_power_kwh\r\n{},99999999999\r\n",
        crate::helpers::HEADER,
        crate::helpers::row(42)
    );
    let refused = post_csv(&app, "/api/v1/import", &regulator, &too_much)
        .await
        .problem(422);
    assert!(refused.to_string().contains("green_power_kwh"), "{refused}");

    // The firm's form: 万千瓦时, like electricity.
    app.firm_with_user(&regulator, 43, "3670").await;
    let session = app.page_session("firm43").await;
    let page = app
        .submit(
            "/firm/preview",
            &session,
            &[
                ("action", "preview"),
                ("period", "2025"),
                ("value_added_10k_cny", "3000"),
                ("electricity_10k_kwh", "137.61"),
                ("green_power_10k_kwh", "30"),
                ("waste_generated_t", "0"),
                ("waste_utilized_t", "0"),
            ],
        )
        .await
        .text();
    assert!(
        page.contains("绿电 300,000 千瓦时，占用电量 21.80%"),
        "{page}"
    );
    assert!(page.contains("排放来源"), "{page}");
    // More green power than electricity: refused at its own input.
    let page = app
        .submit(
            "/firm/preview",
            &session,
            &[
                ("action", "preview"),
                ("period", "2025"),
                ("value_added_10k_cny", "3000"),
                ("electricity_10k_kwh", "137.61"),
                ("green_power_10k_kwh", "200"),
                ("waste_generated_t", "0"),
                ("waste_utilized_t", "0"),
            ],
        )
        .await
        .text();
    assert!(page.contains("href=\"#f-green_power_10k_kwh\""), "{page}");
}
