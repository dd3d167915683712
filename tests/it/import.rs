//! CSV import, through the API and `gec import`: all or nothing, faults by line and column.

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::grading::{self, BenchmarkTable};
use gec::service::accounts::Role;
use serde_json::Value;

use crate::helpers::{HEADER, TestApp, TestResponse, csv_of, row, uscc};

async fn post_csv(app: &TestApp, token: &str, body: Vec<u8>) -> TestResponse {
    let request = Request::post("/api/v1/import")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn a_good_file_of_1000_rows_creates_1000_submissions_graded_as_gec_grade_grades_them() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // With a BOM, as Excel writes it.
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(csv_of((0..1000).map(row)).into_bytes());
    let response = post_csv(&app, &regulator, body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let report = response.json();
    assert_eq!(report["rows"], 1000);
    assert_eq!(report["firms_created"], 1000);
    assert_eq!(report["assessment_ids"].as_array().unwrap().len(), 1000);
    assert_eq!(app.count("assessments").await, 1000);
    assert_eq!(app.count("firms").await, 1000);
    assert_eq!(
        app.count("audit_events").await,
        1 + 2000 + 1,
        "account + firm and submission events + the import"
    );

    let table = BenchmarkTable::default_table();
    let mut cursor = String::new();
    let mut seen = 0;
    loop {
        let page = app
            .get(
                &format!("/api/v1/assessments?status=submitted&limit=500&cursor={cursor}"),
                Some(&regulator),
            )
            .await
            .json();
        for item in page["items"].as_array().unwrap() {
            let regraded = grading::grade_json(&item["input"], table).unwrap();
            assert_eq!(regraded.trace.to_json(), item["trace"]);
            assert_eq!(regraded.trace_hash, item["trace_hash"].as_str().unwrap());
            seen += 1;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 1000);
    // And the CLI agrees on a few of them.
    let first = app
        .get(
            &format!("/api/v1/assessments/{}", report["assessment_ids"][7]),
            Some(&regulator),
        )
        .await
        .json();
    // Its audit events say what was written, ids included.
    let id = report["assessment_ids"][7].as_i64().unwrap();
    let events = app
        .get(
            &format!("/api/v1/audit/events?target_type=assessment&target_id={id}"),
            Some(&regulator),
        )
        .await
        .json();
    let after = &events["items"][0]["after"];
    assert_eq!(events["items"][0]["action"], "assessment.submit");
    assert_eq!(after["id"], id);
    assert_eq!(after["uscc"], first["uscc"]);
    assert_eq!(after["grade"], first["grade"]);
    assert_eq!(after["trace_hash"], first["trace_hash"]);
    assert_eq!(after["source"], "import");
    let uscc = first["uscc"].as_str().unwrap();
    let firm = app
        .get(
            &format!("/api/v1/audit/events?target_type=firm&target_id={uscc}"),
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(firm["items"][0]["action"], "firm.create");
    assert_eq!(firm["items"][0]["after"]["uscc"], uscc);
    assert!(firm["items"][0]["after"]["id"].as_i64().unwrap() > 0);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(&input, first["input"].to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gec"))
        .arg("grade")
        .arg(&input)
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["trace_hash"], first["trace_hash"]);
}

#[tokio::test]
async fn a_fault_in_the_last_chunk_leaves_nothing_of_the_chunks_before_it() {
    // The file is checked 1,000 rows at a time; on PostgreSQL each checked chunk is written
    // at once, in the import's transaction, while the next is checked. A fault on the last line
    // of 2,501 rows comes after two chunks were written: the whole file is still refused, and
    // not one of its rows is stored.
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let before = app.counts().await;
    let mut rows: Vec<String> = (0..2501).map(row).collect();
    rows[2500] = rows[2500].replacen(",2025,", ",20x5,", 1);
    let errors = refused_file(&app, &regulator, csv_of(rows).into_bytes()).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(has(&errors, 2502, Some("period")), "{errors:?}");
    assert_eq!(app.counts().await, before, "nothing of the file is stored");

    // The same rows without the fault: every one, in the file's order.
    let response = post_csv(&app, &regulator, csv_of((0..2501).map(row)).into_bytes()).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let report = response.json();
    assert_eq!(report["rows"], 2501);
    let ids: Vec<i64> = report["assessment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2501);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in the file's order");
    assert_eq!(app.count("assessments").await, 2501);
    assert_eq!(app.count("firms").await, 2501);
}

async fn refused_file(app: &TestApp, token: &str, body: Vec<u8>) -> Vec<Value> {
    let before = app.counts().await;
    let response = post_csv(app, token, body).await;
    let problem = response.problem(422);
    assert_eq!(app.counts().await, before, "a refused file changes nothing");
    problem["errors"].as_array().cloned().unwrap_or_default()
}

fn has(errors: &[Value], line: u64, column: Option<&str>) -> bool {
    errors
        .iter()
        .any(|e| e["line"] == line && e["column"].as_str() == column)
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_fault_by_line_and_column() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let mut rows: Vec<String> = (0..20).map(row).collect();
    rows[2] = rows[2].replacen(&uscc(2), "91500000MA0000002X", 1); // line 4: bad USCC
    rows[5] = rows[5].replacen(",2025,", ",20x5,", 1); // line 7: bad period
    rows[10] = rows[10].replacen(",3982,", ",9999,", 1); // line 12: unknown division (firm 10 is 3982)
    let mut fields: Vec<&str> = rows[12].split(',').collect();
    fields[7] = "-1"; // line 14: negative electricity
    rows[12] = fields.join(",");
    rows.push(row(3)); // line 22: the same firm and period as line 5
    let errors = refused_file(&app, &regulator, csv_of(rows).into_bytes()).await;
    assert!(has(&errors, 4, Some("uscc")), "{errors:?}");
    assert!(has(&errors, 7, Some("period")), "{errors:?}");
    assert!(has(&errors, 12, Some("industry_code")), "{errors:?}");
    assert!(has(&errors, 14, Some("electricity_kwh")), "{errors:?}");
    assert!(has(&errors, 22, Some("period")), "{errors:?}");
    assert_eq!(errors.len(), 5, "{errors:?}");
}

#[tokio::test]
async fn malformed_files_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let missing = csv_of([row(1)]).replacen(",heat_gj", "", 1);
    let errors = refused_file(&app, &regulator, missing.into_bytes()).await;
    assert!(has(&errors, 1, Some("heat_gj")), "{errors:?}");
    let semicolons = csv_of([row(1)]).replace(',', ";");
    let errors = refused_file(&app, &regulator, semicolons.into_bytes()).await;
    assert!(
        errors[0]["message"].as_str().unwrap().contains("delimiter"),
        "{errors:?}"
    );
    let mut latin1 = csv_of([row(1), row(2)]).into_bytes();
    let at = latin1.iter().rposition(|b| *b == b'2').unwrap();
    latin1[at] = 0xE9;
    let errors = refused_file(&app, &regulator, latin1).await;
    assert!(
        errors[0]["message"].as_str().unwrap().contains("UTF-8"),
        "{errors:?}"
    );
    assert_eq!(errors[0]["line"], 3);
    let errors = refused_file(&app, &regulator, format!("{HEADER}\r\n").into_bytes()).await;
    assert!(errors[0]["message"].as_str().unwrap().contains("no rows"));
    let unknown = csv_of([row(1)]).replacen("heat_gj", "heat_kwh", 1);
    let errors = refused_file(&app, &regulator, unknown.into_bytes()).await;
    assert!(
        has(&errors, 1, Some("heat_kwh")) && has(&errors, 1, Some("heat_gj")),
        "{errors:?}"
    );
    let short = format!("{HEADER}\r\n{},x\r\n", uscc(1));
    let errors = refused_file(&app, &regulator, short.into_bytes()).await;
    assert!(
        errors[0]["message"].as_str().unwrap().contains("fields"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn only_regulators_import_and_the_body_must_be_csv() {
    let app = TestApp::new().await;
    let bank = app.token_for(Role::Bank, "bank").await;
    post_csv(&app, &bank, csv_of([row(1)]).into_bytes())
        .await
        .problem(403);
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let request = Request::post("/api/v1/import")
        .header(header::AUTHORIZATION, format!("Bearer {regulator}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    app.send(request).await.problem(415);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_saying_how_to_split_it() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let mut body = csv_of([row(1)]).into_bytes();
    body.resize(64 * 1024 * 1024 + 1, b'\n');
    let problem = post_csv(&app, &regulator, body).await.problem(413);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("64 MB") && detail.contains("100000 rows") && detail.contains("split"),
        "{detail}"
    );
    assert_eq!(app.count("firms").await, 0);
}

#[tokio::test]
async fn a_csv_file_takes_at_most_100000_rows_like_a_workbook() {
    // Found before anything is graded: the 100,001st row is named and nothing is stored.
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let body = csv_of((0..100_001).map(row)).into_bytes();
    let errors = refused_file(&app, &regulator, body).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 100_002);
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("at most 100000 rows") && message.contains("split"),
        "{message}"
    );
    assert_eq!(app.count("firms").await, 0);
}

#[tokio::test]
async fn the_plan_between_the_passes_leaves_no_file_behind() {
    // The first pass keeps its plan in an unnamed file of the data directory: after an
    // import, stored or refused, the directory holds what it held before.
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(&app.state.config.data_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.contains("-wal") && !n.contains("-shm") && !n.contains("-journal"))
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let answer = post_csv(&app, &regulator, csv_of((0..1500).map(row)).into_bytes()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let mut faulty = csv_of((2000..3500).map(row));
    faulty.push_str("bad,row\r\n");
    refused_file(&app, &regulator, faulty.into_bytes()).await;
    assert_eq!(listing(), before);
    assert_eq!(app.count("assessments").await, 1500);
}

#[tokio::test]
async fn the_template_has_the_header_and_an_example_that_imports() {
    let app = TestApp::new().await;
    let template = app.get("/api/v1/import/template.csv", None).await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(template.header("content-type").starts_with("text/csv"));
    let text = template.text();
    assert!(
        text.trim_start_matches('\u{feff}').starts_with(HEADER),
        "{text}"
    );
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let response = post_csv(&app, &regulator, template.body.clone()).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
}

#[tokio::test]
async fn gec_import_imports_a_file_and_refuses_a_bad_one() {
    let app = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, csv_of((0..50).map(row))).unwrap();
    let run = |path: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_gec"))
            .arg("import")
            .arg(path)
            .env("DATABASE_URL", &app.database_url)
            .env("GEC_DATA_DIR", app.dir.path())
            .output()
            .unwrap()
    };
    let out = run(&good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("100% read"),
        "plain progress lines off a terminal"
    );
    assert_eq!(app.count("assessments").await, 50);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        csv_of([row(60), row(61).replacen(",2025,", ",1800,", 1)]),
    )
    .unwrap();
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3, column period"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.count("assessments").await, 50);
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook of the import's rows, written as Excel writes numbers: the amounts and years as
/// numbers, the rest as text; a blank row in the middle.
fn workbook(rows: &[String]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let mut r = 0u32;
    for (i, line) in std::iter::once(HEADER.to_owned())
        .chain(rows.iter().cloned())
        .enumerate()
    {
        if i == 2 {
            r += 1; // a blank row
        }
        for (c, cell) in line.split(',').enumerate() {
            let c = c as u16;
            match cell.parse::<f64>() {
                Ok(number) if i > 0 && !cell.is_empty() && c != 0 => {
                    sheet.write_number(r, c, number).unwrap();
                }
                _ if !cell.is_empty() => {
                    sheet.write_string(r, c, cell).unwrap();
                }
                _ => {}
            }
        }
        r += 1;
    }
    book.save_to_buffer().unwrap()
}

async fn post_xlsx(app: &TestApp, token: &str, body: Vec<u8>) -> TestResponse {
    let request = Request::post("/api/v1/import")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, XLSX)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn an_excel_workbook_imports_like_the_csv_and_its_faults_name_the_sheet_rows() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let rows: Vec<String> = (0..5).map(row).collect();
    let good = post_xlsx(&app, &regulator, workbook(&rows)).await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.text());
    assert_eq!(good.json()["rows"], 5);
    // The same data through CSV grades the same: the stored input is identical.
    let stored: Value = app
        .get("/api/v1/assessments?limit=1", Some(&regulator))
        .await
        .json();
    assert!(stored["items"][0]["score"].is_string());

    // A bad year on the third data row: sheet row 5 (the header, a row, a blank row, a row).
    let mut bad: Vec<String> = (10..14).map(row).collect();
    bad[2] = bad[2].replacen(",2025,", ",1800,", 1);
    let before = app.count("assessments").await;
    let refused = post_xlsx(&app, &regulator, workbook(&bad)).await;
    let problem = refused.problem(422);
    assert_eq!(problem["errors"][0]["line"], 5, "{problem}");
    assert_eq!(problem["errors"][0]["column"], "period", "{problem}");
    assert_eq!(app.count("assessments").await, before, "nothing stored");
    let garbage = post_xlsx(&app, &regulator, b"PK\x03\x04not a workbook".to_vec()).await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_excel_template_has_chinese_headings_with_units_and_imports_as_it_is() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let template = app.get("/api/v1/import/template.xlsx", None).await;
    assert_eq!(template.header("content-type"), XLSX);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(template.body.clone())).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    for heading in [
        "统一社会信用代码",
        "工业增加值（万元）",
        "电力消费量（千瓦时）",
        "天然气消费量（立方米）",
        "一般工业固体废物综合利用量（吨）",
    ] {
        assert!(strings.contains(heading), "{heading}");
    }
    let imported = post_xlsx(&app, &regulator, template.body.clone()).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text());
    // `gec import` takes the workbook too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.xlsx");
    std::fs::write(&path, workbook(&(20..23).map(row).collect::<Vec<_>>())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gec"))
        .arg("import")
        .arg(&path)
        .env("DATABASE_URL", &app.database_url)
        .env("GEC_DATA_DIR", app.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_file_is_read_checked_and_graded_without_holding_the_write_turn() {
    // Issue 25, item 1: an import held the one write turn (SQLite) for as long as it read,
    // checked and graded the file, and a login waited behind it. Now the whole file is read and
    // graded — and a faulty one refused — while another writer holds the turn; only the
    // writing waits for it.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let app = TestApp::new().await;
    let actor = gec::store::audit::Actor::system("test");
    let held = gec::db::begin_write(&app.db).await.unwrap();

    let mut faulty = crate::helpers::csv_of((0..300).map(crate::helpers::row));
    faulty.push_str("91500000MA0000000X,坏行,3670,渝北区,2025,2026-03-31,abc,1,,,,,,,,,,,,1,,\r\n");
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        gec::service::import::import_csv(
            &app.db,
            &app.state.caches,
            &actor,
            None,
            &app.state.config.data_dir,
            faulty.as_bytes(),
            &mut |_| {},
        ),
    )
    .await
    .expect("a faulty file is refused without waiting for the write turn");
    assert!(matches!(
        answer,
        Err(gec::service::import::ImportError::Rows(_))
    ));

    let good = crate::helpers::csv_of((0..300).map(crate::helpers::row));
    let read = Arc::new(AtomicU64::new(0));
    let (db, state, seen) = (app.db.clone(), app.state.clone(), read.clone());
    let length = good.len() as u64;
    let import = tokio::spawn(async move {
        gec::service::import::import_csv(
            &db,
            &state.caches,
            &gec::store::audit::Actor::system("test"),
            None,
            &state.config.data_dir,
            good.as_bytes(),
            &mut |bytes| seen.store(bytes, Ordering::SeqCst),
        )
        .await
    });
    for _ in 0..2400 {
        if read.load(Ordering::SeqCst) >= length {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        read.load(Ordering::SeqCst),
        length,
        "every row read and graded while another writer holds the turn"
    );
    held.rollback().await.unwrap();
    let report = import.await.unwrap().unwrap();
    assert_eq!(report.rows, 300);
    assert_eq!(app.count("assessments").await, 300);
}

#[tokio::test]
async fn what_changed_while_the_file_was_checked_is_a_fault_and_nothing_is_written() {
    // The second pass checks again what another request may have changed since the first: a
    // firm of the file registered meanwhile refuses the file, and nothing of it is stored.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    if crate::helpers::is_postgres() {
        // The write turn that orders the two is SQLite's; PostgreSQL does not make the import
        // wait for the test's transaction, so the interleaving cannot be set up there.
        return;
    }
    let app = TestApp::new().await;
    let held = gec::db::begin_write(&app.db).await.unwrap();
    let file = crate::helpers::csv_of((800..810).map(crate::helpers::row));
    let read = Arc::new(AtomicU64::new(0));
    let (state, seen, length) = (app.state.clone(), read.clone(), file.len() as u64);
    let import = tokio::spawn(async move {
        gec::service::import::import_csv(
            &state.db,
            &state.caches,
            &gec::store::audit::Actor::system("test"),
            None,
            &state.config.data_dir,
            file.as_bytes(),
            &mut |bytes| seen.store(bytes, Ordering::SeqCst),
        )
        .await
    });
    while read.load(Ordering::SeqCst) < length {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Checked and waiting for the turn: meanwhile another request registers line 5's firm.
    let before = app.counts().await;
    gec::service::firms::insert_firm(
        &held,
        &gec::store::audit::Actor::system("meanwhile"),
        gec::service::firms::NewFirm {
            uscc: gec::grading::Uscc::parse(&crate::helpers::uscc(803)).unwrap(),
            name: "重庆同时登记公司".into(),
            industry_code: "3670".into(),
            district: "渝北区".into(),
        },
    )
    .await
    .unwrap();
    held.commit().await.unwrap();
    let refused = import.await.unwrap();
    let Err(gec::service::import::ImportError::Rows(faults)) = refused else {
        panic!("the file is refused");
    };
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].line, 5);
    assert!(
        faults[0]
            .message
            .contains("registered while the file was checked")
    );
    let after = app.counts().await;
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(_, a)| a.0.clone())
        .collect();
    assert_eq!(
        changed,
        ["firms", "audit_events"],
        "only the other request's firm"
    );
}
