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
        // Issue 25, item 8: IPv4 in IPv6 clothing, and 192.0.0.0/24.
        "http://[::127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://192.0.0.1/hook",
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
    // The refusal is beside the webhook form (not in the products' section), the address kept.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let shown = refused.text();
    let beside = shown
        .split("id=\"hook-url-err\"")
        .nth(1)
        .expect("the fault is beside the address box");
    assert!(
        beside.split("</span>").next().unwrap().contains("接收地址")
            && shown.contains("value=\"http://127.0.0.1:9/hook\"")
            && !shown.contains("whsec_"),
        "{shown}"
    );
    let products_section = shown
        .split("id=\"products-h\"")
        .nth(1)
        .unwrap()
        .split("id=\"watch-h\"")
        .next()
        .unwrap();
    assert!(!products_section.contains("接收地址"));
    assert_eq!(app.count("webhooks").await, 0);
    let added = app
        .submit(
            "/bank/webhooks",
            &desk,
            &[("url", "https://203.0.113.9/hook")],
        )
        .await;
    // 203.0.113.0/24 is a documentation range: refused too.
    assert_eq!(added.status, StatusCode::UNPROCESSABLE_ENTITY);
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

/// Issue 25, item 2: counts the attempts made at the deliveries of these webhooks.
async fn attempts_at(app: &TestApp, hooks: &[i64]) -> i64 {
    use sea_orm::ConnectionTrait;
    let list = hooks
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d \
                 ON a.delivery_id = d.id WHERE d.webhook_id IN ({list})"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn register(app: &TestApp, bank: &str, url: &str) -> i64 {
    let hook = app
        .post("/api/v1/webhooks", Some(bank), json!({"url": url}))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    hook.json()["id"].as_i64().unwrap()
}

async fn watch(app: &TestApp, bank: &str, uscc: &str) {
    let watched = app
        .call(
            Method::PUT,
            &format!("/api/v1/watchlist/{uscc}"),
            Some(bank),
            None,
        )
        .await;
    assert!(watched.status.is_success(), "{}", watched.text());
}

#[tokio::test]
async fn one_banks_dead_endpoints_do_not_hold_up_another_banks_delivery() {
    let app = TestApp::with_private_webhooks(true).await;
    // An endpoint that takes the connection and never answers.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    let (healthy, healthy_url) = receiver().await;
    healthy.answer.store(204, Ordering::SeqCst);
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let slow_bank = app.token_for(Role::Bank, "bank1").await;
    let good_bank = app.token_for(Role::Bank, "bank2").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let mut dead_hooks = Vec::new();
    for _ in 0..5 {
        dead_hooks.push(register(&app, &slow_bank, &dead_url).await);
    }
    register(&app, &good_bank, &healthy_url).await;
    watch(&app, &slow_bank, uscc.as_str()).await;
    watch(&app, &good_bank, uscc.as_str()).await;
    app.issue_code(&regulator, &firm, &uscc).await;
    assert_eq!(app.count("webhook_deliveries").await, 6);

    let db = app.db.clone();
    let round = tokio::spawn(async move { webhooks::deliver_due(&db, true).await });
    for _ in 0..600 {
        if !healthy.seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        healthy.seen.lock().unwrap().len(),
        1,
        "the healthy bank got its event"
    );
    assert_eq!(
        attempts_at(&app, &dead_hooks).await,
        0,
        "the healthy delivery did not wait for the dead endpoints' attempts to end"
    );
    assert_eq!(round.await.unwrap().unwrap(), 6);
    assert_eq!(attempts_at(&app, &dead_hooks).await, 5);
    drop(dead);
}

#[tokio::test]
async fn an_endpoints_deliveries_go_in_order_and_five_days_of_failures_stop_it() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::with_private_webhooks(true).await;
    let (receiver, url) = receiver().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let bank = app.token_for(Role::Bank, "bank1").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 4, "3670").await;
    let id = register(&app, &bank, &url).await;
    watch(&app, &bank, uscc.as_str()).await;
    let code = app.issue_code(&regulator, &firm, &uscc).await;
    let serial = code["serial"].as_u64().unwrap();
    app.post(
        &format!("/api/v1/codes/{serial}/revoke"),
        Some(&regulator),
        json!({"reason": "数据不实"}),
    )
    .await;
    assert_eq!(app.count("webhook_deliveries").await, 2);
    let due_now = async || {
        app.db
            .execute_unprepared("UPDATE webhook_deliveries SET next_attempt_ms = 0")
            .await
            .unwrap();
    };
    // The first fails; the second waits behind it, however often the worker looks.
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    due_now().await;
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    let kinds = |r: &Receiver| -> Vec<String> {
        r.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| {
                serde_json::from_str::<Value>(body).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(kinds(&receiver), ["code.issued", "code.issued"]);
    let listed = app.get("/api/v1/webhooks", Some(&bank)).await.json();
    assert!(!listed["items"][0]["failing_since"].is_null(), "{listed}");
    // The endpoint answers again and the bank says so ("retry now", instead of waiting out the
    // backoff): the queue drains in order, and it is healthy again.
    receiver.answer.store(204, Ordering::SeqCst);
    let other = app.token_for(Role::Bank, "bank2").await;
    app.post(
        &format!("/api/v1/webhooks/{id}/retry"),
        Some(&other),
        json!({}),
    )
    .await
    .problem(404);
    let retried = app
        .post(
            &format!("/api/v1/webhooks/{id}/retry"),
            Some(&bank),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text());
    assert_eq!(retried.json()["queued"], 2);
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    assert_eq!(
        kinds(&receiver),
        ["code.issued", "code.issued", "code.issued", "code.revoked"]
    );
    let listed = app.get("/api/v1/webhooks", Some(&bank)).await.json();
    assert!(listed["items"][0]["failing_since"].is_null(), "{listed}");

    // Failing for five days without a success stops it, and the bank's desk says why.
    receiver.answer.store(503, Ordering::SeqCst);
    app.issue_code(&regulator, &firm, &uscc).await;
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    let five_days_ago = chrono::Utc::now().timestamp_millis() - 5 * 86_400_000 - 1000;
    app.db
        .execute_unprepared(&format!(
            "UPDATE webhooks SET failing_since_ms = {five_days_ago}"
        ))
        .await
        .unwrap();
    due_now().await;
    assert_eq!(webhooks::deliver_due(&app.db, true).await.unwrap(), 1);
    let listed = app.get("/api/v1/webhooks", Some(&bank)).await.json();
    assert_eq!(listed["items"][0]["active"], false, "{listed}");
    assert!(listed["items"][0]["stopped_reason"].is_string(), "{listed}");
    due_now().await;
    assert_eq!(
        webhooks::deliver_due(&app.db, true).await.unwrap(),
        0,
        "a stopped hook is not tried"
    );
    app.post(
        &format!("/api/v1/webhooks/{id}/retry"),
        Some(&bank),
        json!({}),
    )
    .await
    .problem(409);
    let desk = app.page_session("bank1").await;
    let page = app.page("/bank", Some(&desk)).await.text();
    assert!(
        page.contains("连续 5 天推送失败，系统已停止推送"),
        "the desk says why"
    );
    let audit = app
        .get(
            "/api/v1/audit/events?action=webhook.disable",
            Some(&regulator),
        )
        .await
        .json();
    assert_eq!(audit["items"][0]["actor"], "webhooks", "{audit}");
    assert!(
        audit["items"][0]["actor_id"].is_null(),
        "the service stopped it: {audit}"
    );

    // At most ten active webhooks a bank (the stopped one does not count).
    for _ in 0..10 {
        register(&app, &bank, &url).await;
    }
    let refused = app
        .post("/api/v1/webhooks", Some(&bank), json!({"url": url}))
        .await
        .problem(409);
    assert!(
        refused["detail"].as_str().unwrap().contains("at most 10"),
        "{refused}"
    );
}
