//! The login throttle, shared through the database: attempts are reserved before their check,
//! so concurrent guesses past the free ones are refused unchecked; an address that guesses is
//! throttled as well as the usernames it guesses at; and a locked-out user still signs in from
//! an address that has not failed.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::Role;
use gec::service::throttle::{self, FREE_FAILURES};
use sea_orm::ConnectionTrait;

use crate::helpers::{PASSWORD, TestApp, TestResponse};

async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> TestResponse {
    login_with(app, address, None, username, password).await
}

/// A login from `address`, sending the device cookie `device` if any.
async fn login_with(
    app: &TestApp,
    address: &str,
    device: Option<&str>,
    username: &str,
    password: &str,
) -> TestResponse {
    let mut request = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::COOKIE,
            device
                .map(|d| format!("gec_device={d}"))
                .unwrap_or_default(),
        )
        .body(Body::from(
            serde_json::json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap();
    let peer: SocketAddr = format!("{address}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send(request).await
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn concurrent_attempts_past_the_free_ones_are_refused_before_any_check() {
    let app = TestApp::new().await;
    let begun =
        futures_join((0..20).map(|_| throttle::begin(&app.db, "alice", None, None, now_ms())))
            .await;
    let held: Vec<_> = begun
        .into_iter()
        .map(|r| r.unwrap())
        .filter_map(Result::ok)
        .collect();
    assert_eq!(
        held.len() as i64,
        FREE_FAILURES,
        "only the free attempts are let through"
    );
    for attempt in held {
        attempt.end(&app.db, false, now_ms()).await.unwrap();
    }
    let refused = throttle::begin(&app.db, "ALICE", None, None, now_ms())
        .await
        .unwrap()
        .err()
        .expect("locked out after the free failures");
    assert!(refused.retry_after_secs >= 1);

    // Once the wait is over, one attempt at a time, however many arrive together.
    app.db
        .execute_unprepared("UPDATE login_throttle SET not_before_ms = 0")
        .await
        .unwrap();
    let begun =
        futures_join((0..10).map(|_| throttle::begin(&app.db, "alice", None, None, now_ms())))
            .await;
    let let_through = begun.into_iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(let_through, 1);
}

/// Runs the futures concurrently on this task and collects their outputs in order.
async fn futures_join<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot
                && let std::task::Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *output = Some(value);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[tokio::test]
async fn a_burst_of_guesses_checks_at_most_the_free_ones_and_the_owner_still_signs_in() {
    let app = TestApp::new().await;
    app.create_account(Role::Regulator, "chen", None).await;
    // The owner signed in before, from home: the answer gave the client a device cookie.
    let before = login_from(&app, "198.51.100.20", "chen", PASSWORD).await;
    assert_eq!(before.status, StatusCode::OK);
    let cookie = before.header("set-cookie");
    assert!(
        cookie.starts_with("gec_device=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let device = cookie["gec_device=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let answers =
        futures_join((0..30).map(|_| login_from(&app, "203.0.113.5", "chen", "wrong-password-1")))
            .await;
    let checked = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked as i64 <= FREE_FAILURES,
        "{checked} guesses were checked"
    );
    assert_eq!(checked + refused, 30);
    assert!(!answers.iter().any(|r| r.status == StatusCode::OK));

    let from_attacker = login_from(&app, "203.0.113.5", "chen", PASSWORD).await;
    assert_eq!(from_attacker.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!from_attacker.header("retry-after").is_empty());

    // Issue 25, item 4: fresh addresses share the user's lock-out. A hundred guesses from a
    // hundred addresses are none of them checked, and the right password from a stranger's
    // fresh address is refused too.
    for n in 0..100 {
        let guess = login_from(
            &app,
            &format!("192.0.2.{}", n + 1),
            "chen",
            "wrong-password-2",
        )
        .await;
        assert_eq!(
            guess.status,
            StatusCode::TOO_MANY_REQUESTS,
            "guess {n} was checked"
        );
    }
    let stranger = login_from(&app, "192.0.2.200", "chen", PASSWORD).await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS);
    let forged = login_with(&app, "192.0.2.203", Some("gec_madeup"), "chen", PASSWORD).await;
    assert_eq!(
        forged.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a made-up device is no proof"
    );

    // The owner's device gets in from anywhere; so does the address the owner signed in from.
    let on_the_road = login_with(&app, "192.0.2.201", Some(&device), "chen", PASSWORD).await;
    assert_eq!(
        on_the_road.status,
        StatusCode::OK,
        "the owner's device gets in: {}",
        on_the_road.text()
    );
    let again =
        futures_join((0..10).map(|_| login_from(&app, "203.0.113.6", "chen", "wrong-password-3")))
            .await;
    assert!(again.iter().all(|r| r.status != StatusCode::OK));
    assert_eq!(
        login_from(&app, "192.0.2.202", "chen", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let from_home = login_from(&app, "198.51.100.20", "chen", PASSWORD).await;
    assert_eq!(from_home.status, StatusCode::OK, "{}", from_home.text());
}

#[tokio::test]
async fn an_address_that_guesses_at_many_usernames_is_throttled_itself() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "teller", None).await;
    for n in 0..FREE_FAILURES {
        let guess = login_from(&app, "192.0.2.44", &format!("nobody{n}"), "guess-password").await;
        assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    }
    let next = login_from(&app, "192.0.2.44", "teller", PASSWORD).await;
    assert_eq!(
        next.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        next.text()
    );
    let elsewhere = login_from(&app, "192.0.2.45", "teller", PASSWORD).await;
    assert_eq!(elsewhere.status, StatusCode::OK);
    let v6_a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
    let v6_b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
    assert_eq!(
        throttle::address_key(v6_a),
        throttle::address_key(v6_b),
        "one IPv6 /64 is one subscriber"
    );
    // Behind an IPv6 listener an IPv4 client arrives as ::ffff:a.b.c.d: it is that IPv4
    // address, not one /64 shared by every IPv4 client (issue 25, item 3).
    let mapped = |text: &str| throttle::address_key(text.parse::<IpAddr>().unwrap());
    assert_eq!(mapped("::ffff:192.0.2.44"), mapped("192.0.2.44"));
    assert_ne!(mapped("::ffff:192.0.2.44"), mapped("::ffff:192.0.2.45"));
}

#[tokio::test]
async fn usernames_are_one_whatever_their_case_or_width() {
    // Issue 25, item 10: `Regulator` beside `regulator` were two accounts sharing one
    // throttle key. A username is NFKC-normalised and case folded on the way in.
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "Wang.Teller", None).await;
    let again = gec::service::accounts::create_account(
        &app.db,
        &gec::store::audit::Actor::system("test"),
        gec::service::accounts::NewAccount {
            username: "wang.teller".into(),
            password: PASSWORD.into(),
            role: Role::Bank,
            firm: None,
            org: None,
            attests: Vec::new(),
        },
    )
    .await;
    assert!(again.is_err(), "the same name in another case is taken");
    for spelling in ["wang.teller", "WANG.TELLER", "ｗａｎｇ．ｔｅｌｌｅｒ"] {
        let answer = login_from(&app, "192.0.2.60", spelling, PASSWORD).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{spelling}: {}",
            answer.text()
        );
    }
}
