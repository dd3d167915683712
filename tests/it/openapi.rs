//! The OpenAPI document describes every API endpoint the router has, and nothing else.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_every_path_in_it_is_routed() {
    let app = TestApp::new().await;
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status, StatusCode::OK);
    let doc = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                operation["responses"]["500"]["content"]["application/problem+json"].is_object(),
                "{method} {path}"
            );
            let concrete = path
                .replace("{uscc}", "91500000MA5U00000W")
                .replace("{id}", "1")
                .replace("{serial}", "1")
                .replace("{version}", "GEC-B%202025.1")
                .replace("{index}", "0");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let request = Request::builder()
                .method(method.clone())
                .uri(&concrete)
                .body(Body::empty())
                .unwrap();
            let answer = app.send(request).await;
            let routed = !(answer.status == StatusCode::NOT_FOUND
                && answer.text().contains("no such resource"))
                && answer.status != StatusCode::METHOD_NOT_ALLOWED;
            assert!(
                routed,
                "{method} {path} is described but not routed ({})",
                answer.status
            );
        }
    }
    assert_eq!(
        operations, 49,
        "as many operations as routes listed in every_api_route_is_described"
    );
}

#[tokio::test]
async fn every_api_route_is_described() {
    let app = TestApp::new().await;
    let doc: Value = app.get("/api/v1/openapi.json", None).await.json();
    let routes = [
        ("get", "/healthz"),
        ("post", "/api/v1/login"),
        ("get", "/api/v1/me"),
        ("get", "/api/v1/accounts"),
        ("post", "/api/v1/firms"),
        ("get", "/api/v1/firms"),
        ("get", "/api/v1/firms/{uscc}"),
        ("post", "/api/v1/firms/{uscc}/certifications"),
        ("get", "/api/v1/firms/{uscc}/certifications"),
        ("post", "/api/v1/firms/{uscc}/vetoes"),
        ("get", "/api/v1/firms/{uscc}/vetoes"),
        ("get", "/api/v1/certifications"),
        ("post", "/api/v1/certifications/{id}/verify"),
        ("post", "/api/v1/assessments/preview"),
        ("post", "/api/v1/assessments"),
        ("get", "/api/v1/assessments"),
        ("get", "/api/v1/assessments/{id}"),
        ("post", "/api/v1/assessments/{id}/reject"),
        ("post", "/api/v1/assessments/{id}/approve"),
        ("post", "/api/v1/assessments/{id}/recompute"),
        ("post", "/api/v1/import"),
        ("get", "/api/v1/import/template.csv"),
        ("get", "/api/v1/audit/events"),
        ("get", "/api/v1/codes/{serial}"),
        ("get", "/api/v1/codes/{serial}/status"),
        ("get", "/api/v1/codes/{serial}/qr.png"),
        ("get", "/api/v1/codes/{serial}/qr.svg"),
        ("get", "/api/v1/codes/{serial}/badge.png"),
        ("get", "/api/v1/codes/{serial}/badge.svg"),
        ("post", "/api/v1/codes/{serial}/revoke"),
        ("post", "/api/v1/benchmarks"),
        ("get", "/api/v1/benchmarks"),
        ("get", "/api/v1/benchmarks/{version}"),
        ("post", "/api/v1/verify"),
        ("post", "/api/v1/verify/bulk"),
        ("get", "/api/v1/watchlist"),
        ("put", "/api/v1/watchlist/{uscc}"),
        ("delete", "/api/v1/watchlist/{uscc}"),
        ("get", "/api/v1/watchlist/changes"),
        ("post", "/api/v1/appeals"),
        ("get", "/api/v1/appeals"),
        ("post", "/api/v1/appeals/{id}/close"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/.well-known/gec/keys.json"),
        ("get", "/.well-known/jwks.json"),
        ("get", "/log/checkpoint"),
        ("get", "/log/entries/{index}"),
        ("get", "/log/proof/inclusion"),
        ("get", "/log/proof/consistency"),
    ];
    for (method, path) in routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not described"
        );
    }
}
