//! The regulator's year (issue 28): abnormal data flagged on submission and approved only with
//! the record of a check.

use axum::http::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, yearly_data};
use gec::service::accounts::Role;

/// A firm's 2024 figures approved, then its 2025 submission with `change` applied: its id.
async fn second_year(app: &TestApp, change: impl Fn(&mut serde_json::Value)) -> (i64, String) {
    let regulator = app.login("reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 71, "3670").await;
    let mut earlier = yearly_data(&uscc);
    earlier["period"] = json!(2024);
    earlier["assessed_on"] = json!("2025-03-31");
    let id = app
        .post("/api/v1/assessments", Some(&firm), earlier)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.approve(&regulator, id).await;
    let mut data = yearly_data(&uscc);
    change(&mut data);
    let submitted = app.post("/api/v1/assessments", Some(&firm), data).await;
    assert_eq!(
        submitted.status,
        StatusCode::CREATED,
        "{}",
        submitted.text()
    );
    (submitted.json()["id"].as_i64().unwrap(), uscc)
}

#[tokio::test]
async fn a_forty_per_cent_jump_is_flagged_and_approved_only_with_a_check_record() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // 40 % more of every carrier and a new one (coke): intensity +40 %, a carrier appeared.
    let (id, _) = second_year(&app, |d| {
        d["energy"] = json!([{"carrier": "electricity_kwh", "quantity": "25900000"},
                             {"carrier": "natural_gas_m3", "quantity": "588000"},
                             {"carrier": "diesel_t", "quantity": "49.7"},
                             {"carrier": "coke_t", "quantity": "1"}]);
    })
    .await;
    let view = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    let checks: Vec<&str> = view["abnormal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["intensity_change", "carrier_appeared"], "{view}");
    assert_eq!(view["abnormal"][0]["previous_period"], 2024);
    let pct: f64 = view["abnormal"][0]["percent"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(pct > 30.0 && pct < 50.0, "{pct}");
    assert_eq!(view["abnormal"][1]["carrier"], "coke_t");
    // Said on the firm's desk and in the queue.
    let firm_desk = app.page_session("firm71").await;
    let desk = app.page("/firm", Some(&firm_desk)).await.text();
    assert!(desk.contains("审核人员将核查以下异常情况"), "{desk}");
    assert!(
        desk.contains("万元工业增加值能耗较 2024 年度变化 +"),
        "{desk}"
    );
    assert!(desk.contains("新出现能源品种：焦炭"), "{desk}");
    let reg_desk = app.page_session("reg").await;
    let queue = app.page("/regulator", Some(&reg_desk)).await.text();
    assert!(queue.contains("数据异常"), "{queue}");
    let review = app
        .page(&format!("/regulator/assessments/{id}"), Some(&reg_desk))
        .await
        .text();
    assert!(review.contains("name=\"check_note\" required"), "{review}");
    // Not approvable without the record of a check; a check dated tomorrow is refused.
    let refused = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], "check");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .to_string();
    let refused = app
        .post(
            &format!("/api/v1/assessments/{id}/approve"),
            Some(&regulator),
            json!({"check": {"note": "核查", "date": tomorrow}}),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], "check.date");
    let page_refused = app
        .submit(
            &format!("/regulator/assessments/{id}/approve"),
            &reg_desk,
            &[("note", ""), ("check_note", ""), ("check_date", "")],
        )
        .await;
    assert!(!page_refused.status.is_redirection());
    assert_eq!(app.count("codes").await, 1, "only the 2024 code");
    let approved = app
        .submit(
            &format!("/regulator/assessments/{id}/approve"),
            &reg_desk,
            &[
                ("note", ""),
                ("check_note", "新增焦化工序，现场核实产能扩大属实"),
                ("check_date", "2026-03-20"),
                ("check_on_site", "on"),
            ],
        )
        .await;
    assert!(approved.status.is_redirection(), "{}", approved.text());
    assert_eq!(app.count("codes").await, 2);
    let events = app
        .get(
            "/api/v1/audit/events?action=assessment.abnormal_check",
            Some(&regulator),
        )
        .await
        .json();
    let after = &events["items"][0]["after"];
    assert_eq!(after["check"]["on_site"], true);
    assert_eq!(after["check"]["date"], "2026-03-20");
    assert_eq!(after["findings"][0]["check"], "intensity_change");
}

#[tokio::test]
async fn the_thresholds_are_the_regulators_and_a_steady_year_is_not_flagged() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    assert_eq!(
        app.get("/api/v1/settings/abnormal", Some(&regulator))
            .await
            .json(),
        json!({"intensity_change_percent": "30", "value_added_change_percent": "50",
               "intensity_floor_percent": "10"})
    );
    let refused = app
        .put(
            "/api/v1/settings/abnormal",
            Some(&regulator),
            json!({"intensity_change_percent": "-1", "value_added_change_percent": "50",
                   "intensity_floor_percent": "10"}),
        )
        .await
        .problem(422);
    assert_eq!(refused["field"], "intensity_change_percent");
    let set = app
        .put(
            "/api/v1/settings/abnormal",
            Some(&regulator),
            json!({"intensity_change_percent": "45", "value_added_change_percent": "50",
                   "intensity_floor_percent": "10"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    // 40 % more electricity under a 45 % threshold: nothing abnormal, approved as before.
    let (id, _) = second_year(&app, |d| {
        d["energy"][0]["quantity"] = json!("25900000");
    })
    .await;
    let view = app
        .get(&format!("/api/v1/assessments/{id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(view["abnormal"], json!([]), "{view}");
    app.approve(&regulator, id).await;
}

#[tokio::test]
async fn a_year_opened_lists_its_non_filers_and_tells_their_banks_once_overdue() {
    let app = TestApp::with_private_webhooks(true).await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let (filed_uscc, filed) = app.firm_with_user(&regulator, 81, "3670").await;
    let (late_uscc, _) = app.firm_with_user(&regulator, 82, "3670").await;
    app.submit_yearly(&filed, &filed_uscc).await;
    // Bad input: refused by field, nothing opened.
    app.refused_by_field(
        axum::http::Method::POST,
        "/api/v1/reporting-years",
        &regulator,
        vec![
            (json!({"year": 2030, "deadline": "2031-03-31"}), "year"),
            (json!({"year": 2025, "deadline": "2025-12-31"}), "deadline"),
            (json!({"year": 2025, "deadline": "31/03/2026"}), "deadline"),
        ],
    )
    .await;
    assert_eq!(app.count("reporting_years").await, 0);
    // The deadline passed this spring.
    let opened = app
        .post(
            "/api/v1/reporting-years",
            Some(&regulator),
            json!({"year": 2025, "deadline": "2026-03-31"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text());
    let late = app
        .get("/api/v1/reporting-years/2025/non-filers", Some(&regulator))
        .await
        .json();
    assert_eq!(late["count"], 1, "{late}");
    assert_eq!(late["items"][0]["uscc"], late_uscc.as_str());
    assert_eq!(late["by_district"][0][1], 1);
    // On the regulator's page, and in its download.
    let desk = app.page_session("reg").await;
    let page = app.page("/regulator/year", Some(&desk)).await.text();
    assert!(
        page.contains("2025 年度未报送企业（截止 2026-03-31）"),
        "{page}"
    );
    assert!(
        page.contains(&late_uscc) && !page.contains(&filed_uscc),
        "{page}"
    );
    let csv = app
        .page("/regulator/year?year=2025&format=csv", Some(&desk))
        .await
        .text();
    assert!(
        csv.contains(&late_uscc) && !csv.contains(&filed_uscc),
        "{csv}"
    );
    // The late firm's desk says it is overdue; the filed one's says nothing of it.
    let late_desk = app.page_session("firm82").await;
    let text = app.page("/firm", Some(&late_desk)).await.text();
    assert!(
        text.contains("2025 年度数据报送截止日期 2026-03-31 已过"),
        "{text}"
    );
    let filed_desk = app.page_session("firm81").await;
    assert!(
        !app.page("/firm", Some(&filed_desk))
            .await
            .text()
            .contains("报送截止日期")
    );
    // A bank watching the late firm hears once; a bank watching nobody hears nothing.
    let hook = app
        .post(
            "/api/v1/webhooks",
            Some(&bank),
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    let watched = app
        .call(
            axum::http::Method::PUT,
            &format!("/api/v1/watchlist/{late_uscc}"),
            Some(&bank),
            None,
        )
        .await;
    assert!(watched.status.is_success(), "{}", watched.text());
    let today = gec::service::records::today();
    let sent = gec::service::filing::enqueue_overdue(&app.db, today)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(
        gec::service::filing::enqueue_overdue(&app.db, today)
            .await
            .unwrap(),
        0,
        "once per firm and year"
    );
    let payload = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT payload FROM webhook_deliveries WHERE event_type = 'firm.filing_overdue'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "payload")
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["data"]["uscc"], late_uscc.as_str());
    assert_eq!(payload["data"]["deadline"], "2026-03-31");
    // Before the deadline nothing is overdue.
    let before = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    assert_eq!(
        gec::service::filing::enqueue_overdue(&app.db, before)
            .await
            .unwrap(),
        0
    );
    // Only regulators read the lists.
    let firm_token = app.login("firm82").await;
    assert_eq!(
        app.get("/api/v1/reporting-years/2025/non-filers", Some(&firm_token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn codes_ending_soon_and_codes_of_old_years_are_listed_for_follow_up() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 91, "3670").await;
    let mut old = yearly_data(&uscc);
    old["period"] = json!(2023);
    old["assessed_on"] = json!("2024-03-31");
    let id = app
        .post("/api/v1/assessments", Some(&firm), old)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let code = app.approve(&regulator, id).await;
    app.post(
        "/api/v1/reporting-years",
        Some(&regulator),
        json!({"year": 2025, "deadline": "2026-03-31"}),
    )
    .await;
    let follow = app
        .get("/api/v1/codes-to-follow-up", Some(&regulator))
        .await
        .json();
    assert_eq!(follow["open_year"], 2025);
    assert_eq!(follow["behind"][0]["serial"], code["serial"], "{follow}");
    assert_eq!(follow["behind"][0]["period"], 2023);
}

#[tokio::test]
async fn a_firms_place_in_its_division_and_district_is_a_direct_count_of_better_scores() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // Seven automobile makers (division 36) with different electricity, one electronics firm.
    let mut scores: Vec<(String, rust_decimal::Decimal)> = Vec::new();
    let mut urls = Vec::new();
    for (i, n) in (101..108).enumerate() {
        let (uscc, firm) = app.firm_with_user(&regulator, n, "3670").await;
        let mut data = yearly_data(&uscc);
        data["energy"][0]["quantity"] = json!((9_000_000 + i * 3_000_000).to_string());
        let id = app
            .post("/api/v1/assessments", Some(&firm), data)
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let code = app.approve(&regulator, id).await;
        scores.push((uscc, code["score"].as_str().unwrap().parse().unwrap()));
        urls.push(code["url"].as_str().unwrap().to_owned());
    }
    let (other, other_firm) = app.firm_with_user(&regulator, 108, "3982").await;
    app.issue_code(&regulator, &other_firm, &other).await;
    // The fourth firm: its place is one more than the firms scoring better.
    let (uscc, score) = scores[3].clone();
    let better = scores.iter().filter(|(_, s)| *s > score).count();
    let rank = better + 1;
    let top = (rank * 100).div_ceil(scores.len());
    let desk = app.page_session("firm104").await;
    let text = app.page("/firm", Some(&desk)).await.text();
    let expected = format!("在汽车制造业 7 家持码企业中位列第 {rank}，位于前 {top}%");
    assert!(text.contains(&expected), "{expected}\n{text}");
    // The regulator sees it too, with the quota band; the public scan page does not.
    let reg_desk = app.page_session("reg").await;
    let profile = app
        .page(&format!("/regulator/firms/{uscc}"), Some(&reg_desk))
        .await
        .text();
    assert!(profile.contains(&expected), "{profile}");
    let band = if rank * 100 <= 7 * 5 || rank == 1 {
        "前 5% 档"
    } else if rank * 100 <= 7 * 40 {
        "次 35% 档"
    } else {
        "其余档"
    };
    assert!(profile.contains(&format!("若按名次配额（前 5%、次 35%、其余）：{band}")));
    let scan_path = urls[3]
        .split_once("/C/")
        .map(|(_, c)| format!("/C/{c}"))
        .unwrap();
    let scan = app.page(&scan_path, None).await;
    assert_eq!(scan.status, StatusCode::OK);
    let scan = scan.text();
    assert!(
        !scan.contains("持码企业中位列"),
        "not on the public scan page"
    );
}
