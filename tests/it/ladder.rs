//! The cultivation ladder and policy awards (issue 28): candidates as the criteria say, firms
//! moved between tiers (audited), an award recorded to a qualifying firm, paid, seen by the
//! firm and summed in the finance figures.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, uscc};
use gec::service::accounts::Role;

#[tokio::test]
async fn the_ladder_lists_candidates_by_its_criteria_and_a_regulator_moves_firms() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 501, 12).await;
    let mut grades = std::collections::HashMap::new();
    for id in &ids {
        let code = app.approve(&regulator, *id).await;
        grades.insert(
            code["uscc"].as_str().unwrap().to_owned(),
            code["grade"].as_str().unwrap().to_owned(),
        );
    }
    // Nobody is on the ladder: the candidates for the pool are exactly the firms graded B or
    // above (no firm has a certification, so none meets a higher tier's criteria).
    let ladder = app.get("/api/v1/ladder", Some(&regulator)).await.json();
    let mut candidates: Vec<String> = ladder["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["next"], "pool", "{f}");
            assert_eq!(f["tier"], Value::Null, "{f}");
            f["uscc"].as_str().unwrap().to_owned()
        })
        .collect();
    candidates.sort();
    let mut expected: Vec<String> = grades
        .iter()
        .filter(|(_, g)| ["A+", "A", "B"].contains(&g.as_str()))
        .map(|(u, _)| u.clone())
        .collect();
    expected.sort();
    assert_eq!(candidates, expected);
    assert_eq!(ladder["tiers"][0]["tier"], "pool");
    assert_eq!(ladder["tiers"][0]["candidates"], expected.len());
    assert_eq!(ladder["tiers"][2]["criteria"]["years_at_a"], 2);

    // Moved into the pool, the firm leaves the pool's candidates and is listed on its tier.
    let first = expected.first().cloned().unwrap_or_else(|| uscc(501));
    let moved = app
        .put(
            &format!("/api/v1/ladder/{first}"),
            Some(&regulator),
            json!({"tier": "pool", "note": "区县推荐"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["tier"], "pool");
    assert_eq!(moved.json()["next"], "municipal");
    let ladder = app.get("/api/v1/ladder", Some(&regulator)).await.json();
    assert_eq!(ladder["tiers"][0]["firms"], 1);
    assert_eq!(ladder["firms"][0]["uscc"], first.as_str());
    assert_eq!(ladder["firms"][0]["note"], "区县推荐");
    let audit = app
        .get("/api/v1/audit/events?action=ladder.move", Some(&regulator))
        .await
        .json();
    assert_eq!(audit["items"][0]["after"]["tier"], "pool", "{audit}");
    // Off the ladder again.
    let off = app
        .put(
            &format!("/api/v1/ladder/{first}"),
            Some(&regulator),
            json!({"tier": null}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text());
    assert_eq!(app.count("ladder").await, 0);

    // Bad input is refused by field and changes nothing; only regulators move firms.
    app.refused_by_field(
        Method::PUT,
        &format!("/api/v1/ladder/{first}"),
        &regulator,
        vec![
            (json!({"tier": "provincial"}), "tier"),
            (json!({"tier": "pool", "note": "x".repeat(501)}), "note"),
        ],
    )
    .await;
    assert_eq!(
        app.put(
            &format!("/api/v1/ladder/{}", uscc(999)),
            Some(&regulator),
            json!({"tier": "pool"}),
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let (_, firm) = app.firm_with_user(&regulator, 598, "3670").await;
    assert_eq!(
        app.get("/api/v1/ladder", Some(&firm)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.count("ladder").await, 0);

    // The page lists the candidates and downloads them.
    let session = app.page_session("reg").await;
    let page = app.page("/regulator/ladder", Some(&session)).await.text();
    assert!(page.contains("下一轮推荐名单"), "{page}");
    assert!(page.contains("调入培育库"), "{page}");
    let csv = app
        .page("/regulator/ladder?format=csv", Some(&session))
        .await
        .text();
    assert_eq!(csv.lines().count(), 1 + expected.len(), "{csv}");
    // Moved on the page.
    let moved = app
        .submit(
            &format!("/regulator/ladder/{first}"),
            &session,
            &[("tier", "pool"), ("note", "")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text());
    assert_eq!(app.count("ladder").await, 1);
}

#[tokio::test]
async fn an_award_to_a_qualifying_firm_is_recorded_paid_seen_by_the_firm_and_summed() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (u, firm) = app.firm_with_user(&regulator, 611, "3670").await;
    let code = app.issue_code(&regulator, &firm, &u).await;
    let grade = code["grade"].as_str().unwrap().to_owned();
    let (other, other_firm) = app.firm_with_user(&regulator, 612, "3670").await;
    let year = chrono::Datelike::year(&gec::service::records::today());
    let policy = |grades: Value, amount: Value| {
        json!({"title": "绿色工厂奖励", "issuer": "市经信委", "grades": grades,
               "benefit": "一次性奖励", "amount_10k_cny": amount,
               "valid_from": format!("{}-01-01", year - 1), "valid_until": format!("{}-12-31", year + 1)})
    };
    let with_amount = app
        .post(
            "/api/v1/policies",
            Some(&regulator),
            policy(json!([grade]), json!("50")),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let without = app
        .post(
            "/api/v1/policies",
            Some(&regulator),
            policy(json!([grade]), Value::Null),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let today = gec::service::records::today().to_string();
    let award = |uscc: &str, amount: &str| {
        json!({"uscc": uscc, "amount_10k_cny": amount, "awarded_on": today,
               "document_no": "渝经信发〔2026〕18号"})
    };
    let path = format!("/api/v1/policies/{with_amount}/awards");
    // Refused by field, nothing recorded: over the policy's amount, a firm that does not
    // qualify (no code), a policy without an amount, a date to come.
    app.refused_by_field(
        Method::POST,
        &path,
        &regulator,
        vec![
            (award(&u, "60"), "amount_10k_cny"),
            (award(&u, "0"), "amount_10k_cny"),
            (award(&other, "30"), "uscc"),
            (award("915000", "30"), "uscc"),
            (
                json!({"uscc": u, "amount_10k_cny": "30", "awarded_on": "2999-01-01",
                       "document_no": "x"}),
                "awarded_on",
            ),
            (
                json!({"uscc": u, "amount_10k_cny": "30", "awarded_on": today,
                    "document_no": " "}),
                "document_no",
            ),
        ],
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/policies/{without}/awards"),
            Some(&regulator),
            award(&u, "30")
        )
        .await
        .problem(422)["field"],
        "policy"
    );
    assert_eq!(app.count("awards").await, 0);
    let recorded = app.post(&path, Some(&regulator), award(&u, "30")).await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.text());
    let id = recorded.json()["id"].as_i64().unwrap();
    assert_eq!(recorded.json()["paid_on"], Value::Null);
    // Once per firm and policy.
    app.post(&path, Some(&regulator), award(&u, "10"))
        .await
        .problem(409);
    // Paid, once.
    let paid = app
        .post(
            &format!("/api/v1/awards/{id}/paid"),
            Some(&regulator),
            json!({"paid_on": today}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text());
    assert_eq!(paid.json()["paid_on"], today.as_str());
    app.post(
        &format!("/api/v1/awards/{id}/paid"),
        Some(&regulator),
        json!({"paid_on": today}),
    )
    .await
    .problem(409);
    // The firm sees its award (API and desk); another firm sees none; a bank may not look.
    let mine = app.get("/api/v1/awards", Some(&firm)).await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["amount_10k_cny"], "30");
    assert_eq!(
        app.get("/api/v1/awards", Some(&other_firm))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let bank = app.token_for(Role::Bank, "bank").await;
    assert_eq!(
        app.get("/api/v1/awards", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
    let desk = app.page_session("firm611").await;
    let text = app.page("/firm", Some(&desk)).await.text();
    assert!(text.contains("我获得的政策奖补"), "{text}");
    assert!(text.contains("绿色工厂奖励"), "{text}");
    assert!(text.contains(&format!("已于 {today} 拨付")), "{text}");
    // The finance figures sum the grants paid by district and year.
    let summary = app
        .get(
            &format!("/api/v1/finance/summary?by=district&period={year}"),
            Some(&regulator),
        )
        .await
        .json();
    let row = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "渝北区")
        .cloned()
        .unwrap_or_default();
    assert_eq!(row["grants_paid_10k_cny"], "30", "{summary}");
    assert_eq!(
        app.get(
            &format!("/api/v1/finance/summary?by=district&period={}", year - 1),
            Some(&regulator),
        )
        .await
        .json()["rows"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn the_overview_counts_grades_by_district_and_division_and_its_means_match_the_traces() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let ids = app.import_submissions(&regulator, 701, 9).await;
    let mut codes = Vec::new();
    for id in &ids {
        codes.push((*id, app.approve(&regulator, *id).await));
    }
    let overview = app.get("/api/v1/overview", Some(&regulator)).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.text());
    let overview = overview.json();
    // By district: the firms and their grades, and the mean of their ratios to the baseline
    // (each from its code's trace), computed here directly.
    let mut expected: std::collections::BTreeMap<String, (u64, Vec<f64>)> = Default::default();
    for (id, code) in &codes {
        let firm = app
            .get(
                &format!("/api/v1/firms/{}", code["uscc"].as_str().unwrap()),
                Some(&regulator),
            )
            .await
            .json();
        let assessment = app
            .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
            .await
            .json();
        let ratio: f64 = assessment["trace"]["energy"]["ratio"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let entry = expected
            .entry(firm["district"].as_str().unwrap().to_owned())
            .or_default();
        entry.0 += 1;
        entry.1.push(ratio);
    }
    let rows = overview["by_district"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for row in rows {
        let (n, ratios) = &expected[row["key"].as_str().unwrap()];
        assert_eq!(row["firms"], *n);
        let grades: u64 = row["grades"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_u64().unwrap())
            .sum();
        assert_eq!(grades, *n);
        let mean: f64 = row["mean_ratio"].as_str().unwrap().parse().unwrap();
        let direct = ratios.iter().sum::<f64>() / ratios.len() as f64;
        assert!((mean - direct).abs() < 0.00006, "{mean} vs {direct}");
    }
    // The trend: one reporting year, every firm once.
    assert_eq!(overview["trend"][0]["period"], 2025);
    assert_eq!(overview["trend"][0]["firms"], 9);
    let one = app
        .get("/api/v1/overview?district=渝北区", Some(&regulator))
        .await
        .json();
    assert_eq!(
        one["trend"][0]["firms"],
        expected.get("渝北区").map_or(0, |e| e.0)
    );
    // The page draws the map, and each chart's figures download.
    let session = app.page_session("reg").await;
    let page = app.page("/regulator/charts", Some(&session)).await.text();
    assert!(page.contains("区县地图"), "{page}");
    assert!(page.contains("渝北区：持码企业"), "{page}");
    assert!(page.contains("基准 100%"), "{page}");
    let csv = app
        .page(
            "/regulator/charts?figures=district&format=csv",
            Some(&session),
        )
        .await
        .text();
    assert_eq!(csv.lines().count(), 1 + expected.len(), "{csv}");
    let (_, firm) = app.firm_with_user(&regulator, 799, "3670").await;
    assert_eq!(
        app.get("/api/v1/overview", Some(&firm)).await.status,
        StatusCode::FORBIDDEN
    );
}
