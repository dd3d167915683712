//! What the service publishes for verifiers: the keys (rotation without a restart), the code
//! images (immutable, revalidated by ETag), and the log's bounds.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::code::{KeySetDocument, TrustedKeys, verify};
use gec::service::accounts::Role;

use crate::helpers::TestApp;

use crate::issuance::approve;

#[tokio::test]
async fn keys_are_published_as_a_key_set_and_a_jwks_and_rotation_takes_effect_without_a_restart() {
    let app = TestApp::new().await;
    let keys = app.get("/.well-known/gec/keys.json", None).await.json();
    assert_eq!(keys["issuer"], "CQ-GEC");
    assert_eq!(keys["keys"][0]["status"], "active");
    assert_eq!(keys["keys"][0]["kid"].as_str().unwrap().len(), 16);
    assert_eq!(keys["log"]["origin"], "127.0.0.1:8080/log");
    let jwks = app.get("/.well-known/jwks.json", None).await.json();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert_eq!(jwks["keys"][0]["kid"], keys["keys"][0]["kid"]);

    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 5, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let first = approve(&app, &regulator, id).await;

    gec::service::keys::rotate(
        app.dir.path(),
        chrono::Utc::now(),
        None,
        gec::code::Algorithm::Ed25519,
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let rotated = app.get("/.well-known/gec/keys.json", None).await.json();
    assert_eq!(rotated["keys"].as_array().unwrap().len(), 2);
    assert_eq!(rotated["keys"][0]["status"], "retired");
    let id = app.submit_yearly(&firm, &uscc).await;
    let second = approve(&app, &regulator, id).await;
    assert_eq!(second["kid"], rotated["keys"][1]["kid"]);
    let doc: KeySetDocument = serde_json::from_value(rotated).unwrap();
    let trusted = TrustedKeys::from_document(&doc).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        verify::verify(first["url"].as_str().unwrap(), &trusted, now).valid,
        "the retired key still verifies its codes"
    );
    assert!(verify::verify(second["url"].as_str().unwrap(), &trusted, now).valid);
}

#[tokio::test]
async fn code_images_are_immutable_cached_and_revalidated_by_etag() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 6, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let serial = approve(&app, &regulator, id).await["serial"]
        .as_u64()
        .unwrap();
    for (kind, content_type) in [
        ("qr.png", "image/png"),
        ("qr.svg", "image/svg+xml"),
        ("badge.svg", "image/svg+xml"),
        ("badge.png", "image/png"),
    ] {
        let first = app
            .get(&format!("/api/v1/codes/{serial}/{kind}"), None)
            .await;
        assert_eq!(first.status, StatusCode::OK, "{kind}");
        assert_eq!(first.header("content-type"), content_type);
        assert!(first.header("cache-control").contains("immutable"));
        let etag = first.header("etag").to_owned();
        assert!(etag.starts_with('"'));
        let again = app
            .get(&format!("/api/v1/codes/{serial}/{kind}"), None)
            .await;
        assert_eq!(again.body, first.body, "{kind} is rendered once");
        let request = Request::get(format!("/api/v1/codes/{serial}/{kind}"))
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::NOT_MODIFIED);
    }
    app.get("/api/v1/codes/999/qr.png", None).await.problem(404);
    app.get("/api/v1/codes/-1", None).await.problem(404);
    app.get("/api/v1/codes/abc/status", None).await.problem(404);
    let code = app
        .get(&format!("/api/v1/codes/{serial}"), None)
        .await
        .json();
    assert_eq!(code["status"], "active");
    assert_eq!(code["firm"]["uscc"], uscc.as_str());
    assert_eq!(code["claims"]["serial"], serial);
}

#[tokio::test]
async fn log_queries_outside_the_log_are_refused() {
    let app = TestApp::new().await;
    let checkpoint = app.get("/log/checkpoint", None).await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert!(checkpoint.text().starts_with("127.0.0.1:8080/log\n0\n"));
    app.get("/log/entries/0", None).await.problem(404);
    app.get("/log/proof/inclusion?index=0&size=0", None)
        .await
        .problem(422);
    app.get("/log/proof/inclusion?index=0&size=5", None)
        .await
        .problem(422);
    app.get("/log/proof/consistency?from=0&to=0", None)
        .await
        .problem(422);
    app.get("/log/proof/inclusion?index=x", None)
        .await
        .problem(400);
}
