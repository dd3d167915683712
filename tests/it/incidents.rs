//! Incidents from outside (issue 28): a list refused whole for its bad rows, run dry, committed
//! — regrading exactly the firms it touches — and committed again without changing anything.

use axum::http::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, uscc};
use gec::service::accounts::Role;

/// Registered firms with codes that the list names (the first twice), numbered as imported.
const LISTED: [u32; 6] = [301, 302, 305, 308, 311, 317];

fn incident(uscc: &str, kind: &str, date: &str, document: &str) -> Value {
    json!({"uscc": uscc, "kind": kind, "occurred_on": date,
           "authority": "信用中国（重庆）", "document_no": document})
}

/// 500 rows: the six listed firms (seven rows), one registered firm without a code, and 492
/// firms not registered here.
fn list() -> Vec<Value> {
    let mut rows = vec![
        incident(
            &uscc(301),
            "dishonest_entity",
            "2026-05-20",
            "（2026）渝失信第0001号",
        ),
        incident(
            &uscc(301),
            "环境信用黑牌",
            "2026-06-02",
            "渝环信〔2026〕12号",
        ),
    ];
    for n in &LISTED[1..] {
        rows.push(incident(
            &uscc(*n),
            "environmental_credit_black",
            "2026-06-02",
            &format!("渝环信〔2026〕{n}号"),
        ));
    }
    rows.push(incident(
        &uscc(399),
        "major_safety_accident",
        "2026-04-11",
        "渝应急罚〔2026〕7号",
    ));
    for n in 0..492 {
        rows.push(incident(
            &uscc(900_000 + n),
            "dishonest_entity",
            "2026-01-15",
            &format!("（2026）渝失信第{n:04}号"),
        ));
    }
    assert_eq!(rows.len(), 500);
    rows
}

async fn state(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in [
        "vetoes",
        "codes",
        "assessments",
        "log_entries",
        "webhook_deliveries",
        "audit_events",
    ] {
        counts.push((table, app.count(table).await));
    }
    counts
}

#[tokio::test]
async fn an_incident_list_regrades_exactly_the_firms_it_touches() {
    let app = TestApp::with_private_webhooks(true).await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // Twenty firms with codes, one firm without, and a bank following two listed firms.
    let ids = app.import_submissions(&regulator, 301, 20).await;
    for id in &ids {
        app.approve(&regulator, *id).await;
    }
    app.firm_with_user(&regulator, 399, "3670").await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let hook = app
        .post(
            "/api/v1/webhooks",
            Some(&bank),
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    for n in [301, 304] {
        let watched = app
            .call(
                axum::http::Method::PUT,
                &format!("/api/v1/watchlist/{}", uscc(n)),
                Some(&bank),
                None,
            )
            .await;
        assert!(watched.status.is_success(), "{}", watched.text());
    }
    let grades_before = grades(&app, 301..321).await;
    let before = state(&app).await;

    // Three bad rows: the list is refused whole, each fault named, nothing changes.
    let mut bad = list();
    bad[10]["uscc"] = json!("91500000MA00");
    bad[200]["kind"] = json!("late_filing");
    bad[499]["occurred_on"] = json!("2999-01-01");
    for commit in [false, true] {
        let refused = app
            .post(
                "/api/v1/incidents",
                Some(&regulator),
                json!({"rows": bad, "commit": commit}),
            )
            .await
            .problem(422);
        let fields: Vec<&str> = refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["column"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["rows[10].uscc", "rows[200].kind", "rows[499].occurred_on"],
            "{refused}"
        );
    }
    assert_eq!(state(&app).await, before);

    // The dry run: which firms, which codes, to what — and still nothing changes.
    let dry = app
        .post(
            "/api/v1/incidents",
            Some(&regulator),
            json!({"rows": list()}),
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text());
    let dry = dry.json();
    assert_eq!(dry["committed"], false);
    assert_eq!(dry["rows"], 500);
    assert_eq!(dry["not_registered"], 492);
    assert_eq!(dry["new_vetoes"], 8);
    let touched: Vec<String> = dry["firms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["uscc"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> = LISTED.iter().map(|n| uscc(*n)).collect();
    expected.push(uscc(399));
    assert_eq!(touched, expected);
    let would: Vec<String> = dry["firms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "would_regrade")
        .map(|f| f["uscc"].as_str().unwrap().to_owned())
        .collect();
    let changing: Vec<String> = LISTED
        .iter()
        .filter(|n| grades_before[&uscc(**n)] != "D")
        .map(|n| uscc(*n))
        .collect();
    assert!(!changing.is_empty());
    assert_eq!(would, changing);
    for f in dry["firms"].as_array().unwrap() {
        if f["uscc"] == uscc(399).as_str() {
            assert_eq!(f["outcome"], "no_code");
        } else {
            assert_eq!(f["new_grade"], "D", "{f}");
        }
    }
    assert_eq!(dry["firms"][0]["incidents"], 2);
    assert_eq!(state(&app).await, before);

    // The commit, as a CSV file: every listed firm with a grade above D regraded to D, its old
    // code superseded with the reason; every other firm untouched.
    let csv = csv_list(&list());
    let committed = app
        .send(
            axum::http::Request::post("/api/v1/incidents?commit=true")
                .header("authorization", format!("Bearer {regulator}"))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(csv.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(committed.status, StatusCode::OK, "{}", committed.text());
    let committed = committed.json();
    assert_eq!(committed["committed"], true);
    assert_eq!(committed["regraded"], changing.len());
    let after = grades(&app, 301..321).await;
    for n in 301..321 {
        let u = uscc(n);
        if LISTED.contains(&n) {
            assert_eq!(after[&u], "D", "{u}");
        } else {
            assert_eq!(after[&u], grades_before[&u], "{u} is not on the list");
        }
    }
    assert_eq!(app.count("vetoes").await, 8);
    for f in committed["firms"].as_array().unwrap() {
        if changing.contains(&f["uscc"].as_str().unwrap().to_owned()) {
            assert_eq!(f["outcome"], "regraded", "{f}");
            let old = app
                .get(&format!("/api/v1/codes/{}", f["serial"]), Some(&regulator))
                .await
                .json();
            assert_eq!(old["status"], "superseded", "{old}");
            assert_eq!(old["superseded_by"], f["new_serial"], "{old}");
        }
    }
    // One log entry per regraded firm.
    assert_eq!(
        app.count("log_entries").await,
        ids.len() as i64 + changing.len() as i64
    );
    // The bank following firm 301 hears why; the one following an unlisted firm hears nothing.
    let notices = superseded_notices(&app).await;
    assert_eq!(notices.len(), usize::from(changing.contains(&uscc(301))));
    if let Some(n) = notices.first() {
        assert_eq!(n["data"]["uscc"], uscc(301).as_str());
        let reason = n["data"]["reason"].as_str().unwrap();
        assert!(
            reason.contains("dishonest_entity on 2026-05-20"),
            "{reason}"
        );
        assert!(reason.contains("（2026）渝失信第0001号"), "{reason}");
    }
    // The firm is told on its desk, with the route to appeal.
    let desk = app.page_session("firm399").await;
    let text = app.page("/firm", Some(&desk)).await.text();
    assert!(text.contains("渝应急罚〔2026〕7号"), "{text}");
    assert!(text.contains("重大安全事故"), "{text}");
    assert!(text.contains("提出申诉"), "{text}");

    // Committed again: nothing changes.
    let settled = state(&app).await;
    let again = app
        .post(
            "/api/v1/incidents",
            Some(&regulator),
            json!({"rows": list(), "commit": true}),
        )
        .await
        .json();
    assert_eq!(again["new_vetoes"], 0, "{again}");
    assert_eq!(again["already_recorded"], 8);
    assert_eq!(again["regraded"], 0);
    assert_eq!(state(&app).await, settled);

    // Only regulators run lists.
    let firm = app.login("firm399").await;
    assert_eq!(
        app.post("/api/v1/incidents", Some(&firm), json!({"rows": list()}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

fn csv_list(rows: &[Value]) -> String {
    let mut text = String::from("统一社会信用代码,事件类型,发生日期,发布机关,文书编号\r\n");
    for r in rows {
        text.push_str(&format!(
            "{},{},{},{},{}\r\n",
            r["uscc"].as_str().unwrap(),
            r["kind"].as_str().unwrap(),
            r["occurred_on"].as_str().unwrap(),
            r["authority"].as_str().unwrap(),
            r["document_no"].as_str().unwrap()
        ));
    }
    text
}

/// Each firm's current grade, by USCC.
async fn grades(
    app: &TestApp,
    numbers: std::ops::Range<u32>,
) -> std::collections::HashMap<String, String> {
    let mut grades = std::collections::HashMap::new();
    for n in numbers {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT current_grade FROM firms WHERE uscc = '{}'", uscc(n)),
            ))
            .await
            .unwrap()
            .unwrap();
        grades.insert(
            uscc(n),
            row.try_get::<Option<String>>("", "current_grade")
                .unwrap()
                .unwrap_or_default(),
        );
    }
    grades
}

async fn superseded_notices(app: &TestApp) -> Vec<Value> {
    app.db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT payload FROM webhook_deliveries WHERE event_type = 'code.superseded'",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.try_get::<String>("", "payload").unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_regulator_uploads_a_list_sees_what_it_would_do_and_commits_it_on_the_page() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (u, firm) = app.firm_with_user(&regulator, 421, "3670").await;
    let code = app.issue_code(&regulator, &firm, &u).await;
    assert_ne!(code["grade"], "D");
    let session = app.page_session("reg").await;
    let form = app.page("/regulator/incidents", Some(&session)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("上传外部通报清单"));

    // A bad row: refused in the page's words, by row and column, nothing recorded.
    let bad = "统一社会信用代码,事件类型,发生日期,发布机关,文书编号\r\n\
               915000,失信主体,2026-05-20,信用中国,（2026）1号\r\n";
    let refused = app
        .submit_multipart(
            "/regulator/incidents",
            &session,
            &[],
            Some(("file", "list.csv", "text/csv", bad.as_bytes())),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text();
    assert!(text.contains("清单未被接受，未做任何更改"), "{text}");
    assert!(text.contains("统一社会信用代码无效"), "{text}");
    assert_eq!(app.count("vetoes").await, 0);

    // The dry run of an Excel workbook (its date a date cell, as Excel keeps it) names the firm
    // and the grade it would get; nothing is recorded yet.
    let list = excel_list(&u);
    let dry = app
        .submit_multipart(
            "/regulator/incidents",
            &session,
            &[],
            Some((
                "file",
                "list.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &list,
            )),
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK);
    let text = dry.text();
    assert!(text.contains("试算结果（尚未生效）"), "{text}");
    assert!(text.contains("将重新评级"), "{text}");
    assert!(text.contains("确认后将重新评级 1 张绿效码"), "{text}");
    assert_eq!(app.count("vetoes").await, 0);
    // The confirmation carries the checked rows.
    let carried = text
        .split("name=\"rows\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the rows carried to the commit")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let done = app
        .submit(
            "/regulator/incidents/commit",
            &session,
            &[("rows", carried.as_str())],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let text = done.text();
    assert!(text.contains("已重新评级 1 张绿效码"), "{text}");
    assert!(text.contains("已重新评级（新码 #"), "{text}");
    assert_eq!(app.count("vetoes").await, 1);
    let now = app
        .get(&format!("/api/v1/firms/{u}"), Some(&regulator))
        .await
        .json();
    assert_eq!(now["grade"], "D", "{now}");
}

/// A one-row list as an Excel workbook, its date a date cell.
fn excel_list(uscc: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, heading) in [
        "统一社会信用代码",
        "事件类型",
        "发生日期",
        "发布机关",
        "文书编号",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *heading).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::parse_from_str("2026-05-20").unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_string(1, 0, uscc).unwrap();
    sheet.write_string(1, 1, "失信主体").unwrap();
    sheet
        .write_datetime_with_format(1, 2, date, &format)
        .unwrap();
    sheet.write_string(1, 3, "信用中国（重庆）").unwrap();
    sheet.write_string(1, 4, "（2026）渝失信第0421号").unwrap();
    book.save_to_buffer().unwrap()
}
