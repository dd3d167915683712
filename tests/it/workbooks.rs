//! Issue 25, item 1: a workbook is read within bounds that hold whatever it claims. Each of
//! these files took the server down or grew it by hundreds of megabytes before; each is now
//! refused with the cell or part named, nothing is stored, and the server goes on serving.

use std::io::{Read, Write};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::Role;
use serde_json::Value;

use crate::helpers::{HEADER, TestApp, TestResponse, row};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The import's header and `rows` data rows, with `extra` written into the same sheet.
fn workbook(rows: u32, extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in std::iter::once(HEADER.to_owned())
        .chain((0..rows).map(row))
        .enumerate()
    {
        for (c, cell) in line.split(',').enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    extra(sheet);
    book.save_to_buffer().unwrap()
}

/// The same workbook with one part replaced.
fn with_part(book: &[u8], name: &str, content: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let part_name = part.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).unwrap();
        out.start_file(part_name.as_str(), options).unwrap();
        if part_name == name {
            out.write_all(content).unwrap();
        } else {
            out.write_all(&bytes).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

fn part(book: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

async fn post(app: &TestApp, token: &str, body: Vec<u8>) -> TestResponse {
    let request = Request::post("/api/v1/import")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, XLSX)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Posts a workbook that must be refused; returns the first fault's message after checking
/// that nothing was stored and that the server still answers.
async fn refused(app: &TestApp, token: &str, body: Vec<u8>) -> (Value, String) {
    let before = app.count("assessments").await;
    let response = post(app, token, body).await;
    let problem = response.problem(422);
    let first = problem["errors"][0].clone();
    let message = first["message"].as_str().unwrap_or_default().to_owned();
    assert_eq!(app.count("assessments").await, before, "nothing stored");
    assert_eq!(
        app.get("/healthz", None).await.status,
        StatusCode::OK,
        "the server still serves"
    );
    (first, message)
}

#[tokio::test]
async fn a_value_in_the_last_cell_of_the_sheet_is_refused_by_name_not_allocated() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    // One extra cell at XFD1048576 once asked for 512 GiB and aborted the process; one at
    // V1048576 for 905 MB.
    for (r, c, name) in [
        (1_048_575, 16_383, "XFD1048576"),
        (1_048_575, 21, "V1048576"),
    ] {
        let book = workbook(3, |sheet| {
            sheet.write_string(r, c, "x").unwrap();
        });
        let (_, message) = refused(&app, &regulator, book).await;
        assert!(message.contains(name), "{name}: {message}");
        assert!(message.contains("100000 rows"), "{message}");
    }
    // A cell far to the right of a data row is named with its row.
    let book = workbook(3, |sheet| {
        sheet.write_string(2, 77, "备注").unwrap();
    });
    let (first, message) = refused(&app, &regulator, book).await;
    assert_eq!(first["line"], 3, "{first}");
    assert!(message.contains("BZ3"), "{message}");
    // A cell that only carries a format, however far away, is no data: the file imports.
    let book = workbook(3, |sheet| {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        sheet.write_blank(1_048_575, 16_383, &bold).unwrap();
    });
    let imported = post(&app, &regulator, book).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text());
    assert_eq!(imported.json()["rows"], 3);
}

#[tokio::test]
async fn parts_that_unpack_past_their_bounds_are_refused_before_they_are_parsed() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let book = workbook(2, |_| {});

    // A shared-strings bomb: 20 MB of tiny strings, a few kilobytes packed.
    let strings = part(&book, "xl/sharedStrings.xml");
    let (head, tail) = strings.split_at(strings.find("<si>").unwrap());
    let bomb = format!("{head}{}{tail}", "<si><t>x</t></si>".repeat(1_250_000));
    let packed = with_part(&book, "xl/sharedStrings.xml", bomb.as_bytes());
    assert!(packed.len() < 200_000, "{}", packed.len());
    let (_, message) = refused(&app, &regulator, packed).await;
    assert!(
        message.contains("xl/sharedStrings.xml") && message.contains("16 MB"),
        "{message}"
    );

    // Two megabytes of whitespace inside the sheet's XML.
    let sheet = part(&book, "xl/worksheets/sheet1.xml");
    let at = sheet.find("<sheetData>").unwrap();
    let padded = format!("{}{}{}", &sheet[..at], " ".repeat(2 << 20), &sheet[at..]);
    let (_, message) = refused(
        &app,
        &regulator,
        with_part(&book, "xl/worksheets/sheet1.xml", padded.as_bytes()),
    )
    .await;
    assert!(message.contains("1 MB"), "{message}");

    // A sheet that unpacks past 128 MB.
    let huge = format!(
        "{}{}{}",
        &sheet[..at],
        "<!-- -->".repeat(17 << 20),
        &sheet[at..]
    );
    let (_, message) = refused(
        &app,
        &regulator,
        with_part(&book, "xl/worksheets/sheet1.xml", huge.as_bytes()),
    )
    .await;
    assert!(
        message.contains("xl/worksheets/sheet1.xml") && message.contains("128 MB"),
        "{message}"
    );
}

#[tokio::test]
async fn a_formula_is_refused_with_its_cell_named_instead_of_importing_its_cached_value() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let book = workbook(2, |sheet| {
        sheet
            .write_formula(2, 6, rust_xlsxwriter::Formula::new("=2000+1000"))
            .unwrap();
    });
    let (first, message) = refused(&app, &regulator, book).await;
    assert_eq!(first["line"], 3, "{first}");
    assert!(
        message.contains("G3") && message.contains("formula"),
        "{message}"
    );
}
