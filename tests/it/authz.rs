//! The authorisation matrix: every API endpoint × every kind of caller — anonymous, a firm on
//! its own data, a firm on another firm's data, a bank, a regulator — and the status each gets.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gec::service::accounts::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, yearly_data};

enum Payload {
    Empty,
    Json(Value),
    Csv(&'static str),
}

/// The resources a column's caller acts on: firm A's for "own", firm B's for everyone else.
struct Resources {
    uscc: String,
    assessment: i64,
    second: i64,
    cert: i64,
}

fn fill(template: &str, r: &Resources, shared: &Shared) -> String {
    template
        .replace("{uscc}", &r.uscc)
        .replace("{assessment}", &r.assessment.to_string())
        .replace("{second}", &r.second.to_string())
        .replace("{cert}", &r.cert.to_string())
        .replace("{serial}", &shared.serial.to_string())
        .replace("{appeal}", &shared.appeal.to_string())
}

struct Shared {
    serial: u64,
    appeal: i64,
}

#[tokio::test]
async fn every_endpoint_answers_each_caller_as_its_role_allows() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank").await;
    let (uscc_a, firm_a) = app.firm_with_user(&regulator, 1, "3670").await;
    let (uscc_b, firm_b) = app.firm_with_user(&regulator, 2, "3670").await;
    let (uscc_c, firm_c) = app.firm_with_user(&regulator, 3, "3670").await;
    let submit = |token: String, uscc: String, period: u32| {
        let app = &app;
        async move {
            let mut data = yearly_data(&uscc);
            data["period"] = json!(period);
            let r = app.post("/api/v1/assessments", Some(&token), data).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            r.json()["id"].as_i64().unwrap()
        }
    };
    let cert = |token: String, uscc: String| {
        let app = &app;
        async move {
            let body = json!({"kind": "iso_14001", "number": "X", "issuer": "Y", "valid_from": "2024-01-01", "valid_until": "2028-01-01"});
            app.post(
                &format!("/api/v1/firms/{uscc}/certifications"),
                Some(&token),
                body,
            )
            .await
            .json()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let a = Resources {
        assessment: submit(firm_a.clone(), uscc_a.clone(), 2025).await,
        second: submit(firm_a.clone(), uscc_a.clone(), 2024).await,
        cert: cert(firm_a.clone(), uscc_a.clone()).await,
        uscc: uscc_a,
    };
    let b = Resources {
        assessment: submit(firm_b.clone(), uscc_b.clone(), 2025).await,
        second: submit(firm_b.clone(), uscc_b.clone(), 2024).await,
        cert: cert(firm_b.clone(), uscc_b.clone()).await,
        uscc: uscc_b,
    };
    let c_id = submit(firm_c.clone(), uscc_c.clone(), 2025).await;
    let issued = app
        .post(
            &format!("/api/v1/assessments/{c_id}/approve"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    let appeal = app
        .post("/api/v1/appeals", Some(&firm_c), json!({"note": "复核"}))
        .await
        .json();
    let shared = Shared {
        serial: issued["serial"].as_u64().unwrap(),
        appeal: appeal["id"].as_i64().unwrap(),
    };
    let code_url = issued["url"].as_str().unwrap().to_owned();

    let cert_body = json!({"kind": "iso_50001", "number": "M", "issuer": "N", "valid_from": "2024-01-01", "valid_until": "2028-01-01"});
    let veto_body = json!({"kind": "dishonest_entity", "occurred_on": "2025-01-01"});
    let preview = |uscc_placeholder: &str| {
        let mut d = yearly_data(uscc_placeholder);
        d["period"] = json!(2023);
        d
    };
    use Payload::{Csv, Empty, Json};
    // (method, path, body, [anonymous, firm on own, firm on another's, bank, regulator])
    let matrix: Vec<(&str, &str, Payload, [u16; 5])> = vec![
        ("GET", "/healthz", Empty, [200, 200, 200, 200, 200]),
        ("GET", "/api/v1/me", Empty, [401, 200, 200, 200, 200]),
        (
            "PUT",
            "/api/v1/me/contact",
            Json(json!({"contact": "张工 138 0000 0000"})),
            [401, 200, 200, 200, 200],
        ),
        ("GET", "/api/v1/accounts", Empty, [401, 403, 403, 403, 200]),
        (
            "POST",
            "/api/v1/firms",
            Json(json!({"uscc": "bad", "name": "x", "industry_code": "3670", "district": "y"})),
            [401, 403, 403, 403, 422],
        ),
        ("GET", "/api/v1/firms", Empty, [401, 403, 403, 403, 200]),
        (
            "GET",
            "/api/v1/firms/{uscc}",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/firms/{uscc}/certifications",
            Json(cert_body.clone()),
            [401, 201, 404, 403, 201],
        ),
        (
            "GET",
            "/api/v1/firms/{uscc}/certifications",
            Empty,
            [401, 200, 404, 403, 200],
        ),
        (
            "POST",
            "/api/v1/firms/{uscc}/vetoes",
            Json(veto_body.clone()),
            [401, 403, 403, 403, 201],
        ),
        (
            "GET",
            "/api/v1/firms/{uscc}/vetoes",
            Empty,
            [401, 200, 404, 403, 200],
        ),
        (
            "GET",
            "/api/v1/certifications",
            Empty,
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/certifications/{cert}/verify",
            Json(json!({"verified": true})),
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/assessments/preview",
            Json(preview("{uscc}")),
            [401, 200, 404, 403, 200],
        ),
        (
            "POST",
            "/api/v1/assessments",
            Json(preview("{uscc}")),
            [401, 201, 404, 403, 201],
        ),
        (
            "GET",
            "/api/v1/assessments",
            Empty,
            [401, 200, 200, 403, 200],
        ),
        (
            "GET",
            "/api/v1/assessments/{assessment}",
            Empty,
            [401, 200, 404, 403, 200],
        ),
        (
            "POST",
            "/api/v1/assessments/{assessment}/recompute",
            Empty,
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/assessments/{assessment}/reject",
            Json(json!({"reason": "r"})),
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/assessments/{second}/approve",
            Empty,
            [401, 403, 403, 403, 201],
        ),
        (
            "POST",
            "/api/v1/approvals",
            Json(json!({"ids": [999_999]})),
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/import",
            Csv("uscc\n"),
            [401, 403, 403, 403, 422],
        ),
        (
            "GET",
            "/api/v1/import/template.csv",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/audit/events",
            Empty,
            [401, 403, 403, 403, 200],
        ),
        (
            "GET",
            "/api/v1/codes/{serial}",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/codes/{serial}/status",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/codes/{serial}/qr.svg",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/codes/{serial}/badge.svg",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/benchmarks?version=X",
            Csv("division\n"),
            [401, 403, 403, 403, 422],
        ),
        (
            "GET",
            "/api/v1/benchmarks",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/benchmarks/GEC-B%202025.1",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/carbon-tables/grid?version=X",
            Csv("code\n"),
            [401, 403, 403, 403, 422],
        ),
        (
            "GET",
            "/api/v1/carbon-tables",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/carbon-tables/grid/GEC-GF%202023",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/carbon/overview?by=district",
            Empty,
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/verify",
            Json(json!({"code": code_url})),
            [200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/verify/bulk",
            Json(json!({"codes": [code_url]})),
            [401, 403, 403, 200, 403],
        ),
        (
            "PUT",
            "/api/v1/watchlist/{uscc}",
            Empty,
            [401, 403, 403, 201, 403],
        ),
        ("GET", "/api/v1/watchlist", Empty, [401, 403, 403, 200, 403]),
        (
            "GET",
            "/api/v1/watchlist/changes",
            Empty,
            [401, 403, 403, 200, 403],
        ),
        (
            "DELETE",
            "/api/v1/watchlist/{uscc}",
            Empty,
            [401, 403, 403, 204, 403],
        ),
        (
            "POST",
            "/api/v1/appeals",
            Json(json!({"note": "n"})),
            [401, 422, 422, 403, 403],
        ),
        ("GET", "/api/v1/appeals", Empty, [401, 200, 200, 403, 200]),
        (
            "POST",
            "/api/v1/appeals/{appeal}/close",
            Json(json!({"resolution": "done"})),
            [401, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/codes/{serial}/revoke",
            Json(json!({"reason": "r"})),
            [401, 403, 403, 403, 200],
        ),
        (
            "GET",
            "/api/v1/openapi.json",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/.well-known/gec/keys.json",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/.well-known/jwks.json",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        ("GET", "/log/checkpoint", Empty, [200, 200, 200, 200, 200]),
        ("GET", "/log/entries/0", Empty, [200, 200, 200, 200, 200]),
        (
            "GET",
            "/log/proof/inclusion?index=0",
            Empty,
            [200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/log/proof/consistency?from=1",
            Empty,
            [200, 200, 200, 200, 200],
        ),
    ];
    let callers: [(&str, Option<&str>, &Resources); 5] = [
        ("anonymous", None, &b),
        ("firm on its own", Some(&firm_a), &a),
        ("firm on another's", Some(&firm_a), &b),
        ("bank", Some(&bank), &b),
        ("regulator", Some(&regulator), &b),
    ];
    let mut failures = Vec::new();
    for (method, template, payload, expected) in &matrix {
        for (column, (who, token, resources)) in callers.iter().enumerate() {
            let path = fill(template, resources, &shared);
            let mut builder = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&path);
            if let Some(token) = token {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let body = match payload {
                Empty => Body::empty(),
                Json(value) => {
                    builder = builder.header(header::CONTENT_TYPE, "application/json");
                    Body::from(fill(&value.to_string(), resources, &shared))
                }
                Csv(text) => {
                    builder = builder.header(header::CONTENT_TYPE, "text/csv");
                    Body::from(*text)
                }
            };
            let response = app.send(builder.body(body).unwrap()).await;
            if response.status.as_u16() != expected[column] {
                failures.push(format!(
                    "{method} {template} as {who}: {} (expected {}) {}",
                    response.status.as_u16(),
                    expected[column],
                    response.text()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
