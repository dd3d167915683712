//! Issue 14 (in part): pushed alerts to banks — Standard Webhooks signatures, an outbox written
//! with the change, retries until a 2xx, attempts visible to the bank, nothing lost across a
//! restart, and no requests to private addresses unless the operator allows them.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode};
use gec::service::accounts::Role;
use gec::service::webhooks;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answer: Arc<AtomicU16>,
}

/// A bank's endpoint on this machine: records what it gets, answers the status it is told.
async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    r.answer.store(500, Ordering::SeqCst);
    let shared = r.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let shared = shared.clone();
            async move {
                shared.seen.lock().unwrap().push((headers, body));
                StatusCode::from_u16(shared.answer.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

#[tokio::test]
async fn private_loopback_and_link_local_targets_are_refused_by_default() {
    let app = TestApp::new().await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let before = app.count("webhooks").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
    ] {
        let refused = app
            .post("/api/v1/webhooks", Some(&bank), json!({"url": url}))
            .await
            .problem(422);
        assert_eq!(refused["field"], "url", "{url}");
    }
    let firm = {
        let regulator = app.token_for(Role::Regulator, "reg").await;
        app.firm_with_user(&regulator, 1, "3670").await.1
    };
    app.post(
        "/api/v1/webhooks",
        Some(&firm),
        json!({"url": "https://bank.example.cn/hook"}),
    )
    .await
    .problem(403);
    assert_eq!(app.count("webhooks").await, before);
}

#[tokio::test]
async fn a_watched_firms_code_events_reach_the_bank_signed_retried_and_after_a_restart() {
    let app = TestApp::with_private_webhooks(true).await;
    let (receiver, url) = receiver().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 2, "3670").await;
    let hook = app
        .post("/api/v1/webhooks", Some(&bank), json!({"url": url}))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    let hook = hook.json();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = hook["id"].as_i64().unwrap();
    let listed = app.get("/api/v1/webhooks", Some(&bank)).await.json();
    assert!(
        listed["items"][0].get("secret").is_none(),
        "the secret is shown once"
    );
    let watched = app
        .call(
            Method::PUT,
            &format!("/api/v1/watchlist/{uscc}"),
            Some(&bank),
            None,
        )
        .await;
    assert!(watched.status.is_success(), "{}", watched.text());

    // Issuing the code queues the event with the change; the first attempt gets a 500.
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    assert_eq!(app.count("webhook_deliveries").await, 1);
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    let deliveries = app
        .get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&bank))
        .await
        .json();
    let d = &deliveries["items"][0];
    assert_eq!(d["event_type"], "code.issued");
    assert_eq!(d["attempts"][0]["status"], 500, "{deliveries}");
    assert!(d["delivered_at"].is_null() && !d["next_attempt_at"].is_null());
    // Not due yet: nothing is sent again until the backoff has passed.
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 0);

    // "Restart": a second service on the same database finds the delivery and sends it.
    let restarted = gec::db::connect(&app.database_url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &restarted,
        "UPDATE webhook_deliveries SET next_attempt_ms = 0",
    )
    .await
    .unwrap();
    receiver.answer.store(204, Ordering::SeqCst);
    assert_eq!(webhooks::deliver_due(&restarted, true).await.unwrap(), 1);
    let deliveries = app
        .get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&bank))
        .await
        .json();
    assert!(
        !deliveries["items"][0]["delivered_at"].is_null(),
        "{deliveries}"
    );
    assert_eq!(
        deliveries["items"][0]["attempts"].as_array().unwrap().len(),
        2
    );

    // Each request is signed as Standard Webhooks describes.
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let (headers, body) = &seen[1];
    let header = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        header("webhook-signature"),
        webhooks::signature(&secret, &header("webhook-id"), timestamp, body).unwrap()
    );
    assert_eq!(
        header("webhook-id"),
        seen[0].0.get("webhook-id").unwrap().to_str().unwrap(),
        "one id across retries"
    );
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["type"], "code.issued");
    assert_eq!(payload["data"]["uscc"], uscc.as_str());
    assert_eq!(payload["data"]["serial"], code["serial"]);

    // A revocation is an event too; a stopped webhook gets nothing more.
    let serial = code["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial}/revoke"),
        Some(&regulator),
        json!({"reason": "数据不实"}),
    )
    .await;
    webhooks::deliver_due(&app.db, true).await.unwrap();
    let last: Value =
        serde_json::from_str(&receiver.seen.lock().unwrap().last().unwrap().1).unwrap();
    assert_eq!(last["type"], "code.revoked");
    assert_eq!(last["data"]["reason"], "数据不实");
    let stopped = app
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            Some(&bank),
            None,
        )
        .await;
    assert_eq!(stopped.status, StatusCode::OK);
    let before = receiver.seen.lock().unwrap().len();
    app.issue_code(&regulator, &firm, &uscc).await;
    webhooks::deliver_due(&app.db, true).await.unwrap();
    assert_eq!(receiver.seen.lock().unwrap().len(), before);
    // Another bank cannot read this bank's deliveries.
    let other = app.token_for(Role::Bank, "bank2").await;
    app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&other))
        .await
        .problem(404);
}

#[tokio::test]
async fn the_bank_desk_registers_a_webhook_shows_its_secret_once_and_refuses_private_targets() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "bank1", None).await;
    let desk = app.page_session("bank1").await;
    let refused = app
        .submit(
            "/bank/webhooks",
            &desk,
            &[("url", "http://127.0.0.1:9/hook")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let shown = app
        .page(refused.header("location"), Some(&desk))
        .await
        .text();
    assert!(
        shown.contains("接收地址") && !shown.contains("whsec_"),
        "{shown}"
    );
    assert_eq!(app.count("webhooks").await, 0);
    let added = app
        .submit(
            "/bank/webhooks",
            &desk,
            &[("url", "https://203.0.113.9/hook")],
        )
        .await;
    // 203.0.113.0/24 is a documentation range: refused too.
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let public = app
        .submit("/bank/webhooks", &desk, &[("url", "https://8.8.8.8/hook")])
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let html = public.text();
    assert!(
        html.contains("只显示这一次") && html.contains("whsec_"),
        "{html}"
    );
    let again = app.page("/bank", Some(&desk)).await.text();
    assert!(again.contains("https://8.8.8.8/hook") && !again.contains("whsec_"));
}
