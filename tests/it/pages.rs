//! Pages: the login and logout forms with their CSRF protection and the language switch.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::Role;

use crate::helpers::{PASSWORD, TestApp, TestResponse};

fn cookie_value(response: &TestResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
}

fn hidden_csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

async fn post_form(app: &TestApp, path: &str, cookies: &str, form: &str) -> TestResponse {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookies)
        .body(Body::from(form.to_owned()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_home_page_is_chinese_first_with_an_english_switch() {
    let app = TestApp::new().await;
    let zh = app.get("/", None).await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.text().contains("lang=\"zh-CN\"") && zh.text().contains("绿效码"));
    let en = app.get("/?lang=en", None).await;
    assert!(en.text().contains("lang=\"en\"") && en.text().contains("Green Efficiency Code"));
    assert_eq!(cookie_value(&en, "gec_lang").as_deref(), Some("en"));
}

#[tokio::test]
async fn signing_in_through_the_form_sets_a_hardened_session_cookie() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "officer", None).await;
    let form = app.get("/login", None).await;
    assert_eq!(form.status, StatusCode::OK);
    let pre = cookie_value(&form, "gec_csrf").expect("pre-session cookie");
    let csrf = hidden_csrf(&form.text());
    assert_eq!(pre, csrf);
    let body = format!("username=officer&password={PASSWORD}&csrf={csrf}&next=");
    let signed_in = post_form(&app, "/login", &format!("gec_csrf={pre}"), &body).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.header("location"), "/bank");
    let set_cookie = signed_in
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gec_session="))
        .expect("session cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(
        !set_cookie.contains("Secure"),
        "plain http public URL: no Secure flag"
    );
    // The session opens the logout page, whose form carries the session's CSRF token.
    let session = cookie_value(&signed_in, "gec_session").unwrap();
    let logout = app
        .send(
            Request::get("/logout")
                .header(header::COOKIE, format!("gec_session={session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let logout_csrf = hidden_csrf(&logout.text());
    let forged = post_form(
        &app,
        "/logout",
        &format!("gec_session={session}"),
        "csrf=forged",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let out = post_form(
        &app,
        "/logout",
        &format!("gec_session={session}"),
        &format!("csrf={logout_csrf}"),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("sessions").await, 0);
    // Ended on the server: the same cookie, from anywhere, is signed out.
    let again = app
        .send(
            Request::get("/bank")
                .header(header::COOKIE, format!("gec_session={session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(again.header("location").starts_with("/login"));
}

#[tokio::test]
async fn a_login_form_without_its_csrf_token_is_refused() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "officer", None).await;
    let body =
        format!("username=officer&password={PASSWORD}&csrf=made-up-token-made-up-token-made-up");
    let response = post_form(
        &app,
        "/login",
        "gec_csrf=another-value-another-value-another",
        &body,
    )
    .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn a_planted_csrf_cookie_does_not_sign_in_from_another_site() {
    // Issue 25, item 10: an attacker who plants the double-submit cookie (a sibling subdomain,
    // plain HTTP) matches the token; the browser's own word on the post's origin refuses it.
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "officer", None).await;
    let planted = "planted-value-planted-value-planted-value";
    let body = format!("username=officer&password={PASSWORD}&csrf={planted}");
    let post = |headers: &[(&str, &str)]| {
        let mut request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("gec_csrf={planted}"))
            .header(header::HOST, "gec.example");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::from(body.clone())).unwrap()
    };
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        // A sandboxed frame on another site: Origin null, and the browser says cross-site.
        &[("origin", "null"), ("sec-fetch-site", "cross-site")],
        &[
            ("origin", "https://gec.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let response = app.send(post(headers)).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(app.count("sessions").await, 0);
    // The site's own form, as browsers send it: Chromium sends `Origin: null` under the pages'
    // `Referrer-Policy: no-referrer`, with `Sec-Fetch-Site: same-origin`.
    for headers in [
        &[
            ("origin", "https://gec.example"),
            ("sec-fetch-site", "same-origin"),
        ][..],
        &[("origin", "null"), ("sec-fetch-site", "same-origin")],
    ] {
        assert_eq!(
            app.send(post(headers)).await.status,
            StatusCode::SEE_OTHER,
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_on_the_form_shows_the_form_again_with_an_error() {
    let app = TestApp::new().await;
    app.create_account(Role::Bank, "officer", None).await;
    let form = app.get("/login", None).await;
    let csrf = hidden_csrf(&form.text());
    let response = post_form(
        &app,
        "/login",
        &format!("gec_csrf={csrf}"),
        &format!("username=officer&password=wrong&csrf={csrf}"),
    )
    .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert!(response.text().contains("用户名或密码错误"));
}

#[tokio::test]
async fn pages_that_need_a_session_send_visitors_to_login() {
    let app = TestApp::new().await;
    let response = app.get("/logout", None).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/login?next=/logout");
}
