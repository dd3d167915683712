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
    assert_eq!(operations, 113, "every operation of the API");
}

/// The document comes from the router: on every documented path, each documented method is
/// routed and every other method answers 405, and no API, log or key route is registered
/// outside `utoipa_axum::routes!` (which takes the path from the handler's description).
#[tokio::test]
async fn the_router_and_the_document_agree() {
    let app = TestApp::new().await;
    let doc: Value = app.get("/api/v1/openapi.json", None).await.json();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{uscc}", "91500000MA5U00000W")
            .replace("{id}", "1")
            .replace("{serial}", "1")
            .replace("{version}", "GEC-B%202025.1")
            .replace("{index}", "0");
        for method in ["get", "post", "put", "delete", "patch"] {
            let request = Request::builder()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&concrete)
                .body(Body::empty())
                .unwrap();
            let answer = app.send(request).await;
            if item.get(method).is_some() {
                assert_ne!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is routed but not described"
                );
            }
        }
    }
    assert!(doc["paths"]["/log/tile/{path}"]["get"].is_object());
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut stack = vec![web];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // The tiles take several path segments, which OpenAPI cannot template: routed as
            // `{*path}` and described as `{path}`.
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace(".route(\"/log/tile/{*path}\"", "");
            for prefix in ["/api/", "/log/", "/.well-known/", "/healthz"] {
                assert!(
                    !text.contains(&format!(".route(\"{prefix}")),
                    "{} routes {prefix}… outside routes!(): it would be missing from the document",
                    path.display()
                );
            }
        }
    }
}

/// The document as served is the one kept in `tests/snapshots/openapi.json`, so that any change
/// to the API shows up in review as a change to that file. After an intended change, write the
/// new document with `UPDATE_SNAPSHOTS=1 cargo test openapi_document_matches` and commit it.
#[tokio::test]
async fn the_openapi_document_matches_its_reviewed_snapshot() {
    let app = TestApp::new().await;
    let doc: Value = app.get("/api/v1/openapi.json", None).await.json();
    let served = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let kept =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::write(&kept, &served).unwrap();
        return;
    }
    let reviewed = std::fs::read_to_string(&kept).unwrap_or_default();
    if reviewed != served {
        let first = reviewed
            .lines()
            .zip(served.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(reviewed.lines().count().min(served.lines().count()));
        panic!(
            "the OpenAPI document differs from tests/snapshots/openapi.json from line {}: \
             review the change, then write it with UPDATE_SNAPSHOTS=1",
            first + 1
        );
    }
}
