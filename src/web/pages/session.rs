//! `/login` and `/logout`: password sign-in for pages, with a session cookie.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use super::{Chrome, PageError, render};
use crate::error::AppError;
use crate::service::accounts::{self, Role};
use crate::store::tokens::Kind;
use crate::web::AppState;
use crate::web::auth::{PageAuth, SESSION_COOKIE, device_of, with_device};
use crate::web::csrf::{self, CsrfForm};
use crate::web::extract::ClientAddr;
use crate::web::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(show_login).post(create_session))
        .route("/logout", get(show_logout).post(delete_session))
        .route("/account/contact", axum::routing::post(save_contact))
}

/// The desk's box for the account's own contact line.
#[derive(Default)]
pub struct ContactBox {
    pub value: String,
    pub error: Option<String>,
}

impl ContactBox {
    /// The account's contact line.
    pub async fn load(
        state: &AppState,
        caller: &accounts::Caller,
    ) -> Result<ContactBox, PageError> {
        Ok(ContactBox {
            value: accounts::contact_of(&state.db, caller)
                .await?
                .unwrap_or_default(),
            error: None,
        })
    }

    /// The refusal sent back to the desk for the contact box, if any.
    pub fn error_of(lang: Lang, q: &super::FlashQuery) -> Option<String> {
        (q.field.as_deref() == Some("contact"))
            .then(|| super::finance::refusal_shown(lang.texts(), q.err.as_deref(), None))
            .flatten()
    }
}

/// The desk of a role, where the contact box is.
fn desk_of(role: Role) -> &'static str {
    match role {
        Role::Bank => "/bank",
        Role::Firm => "/firm",
        Role::Provider => "/provider",
        Role::Regulator => "/regulator",
        Role::Source => "/source",
    }
}

#[derive(Deserialize)]
struct ContactForm {
    #[serde(default)]
    contact: String,
}

/// Saves the account's contact line and goes back to its desk.
async fn save_contact(
    State(state): State<AppState>,
    auth: PageAuth,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> Result<Response, PageError> {
    let desk = desk_of(auth.caller.role);
    let url = match accounts::set_contact(&state.db, &auth.caller, &form.contact).await {
        Ok(_) => format!("{desk}?msg=msg_contact_saved#contact-h"),
        Err(err) => {
            let refusal = super::Refusal::of(err)?;
            format!("{desk}?err={}&field=contact#contact-h", refusal.key)
        }
    };
    Ok(Redirect::to(&url).into_response())
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub c: Chrome,
    pub csrf: String,
    pub next: String,
    pub username: String,
    pub error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only local paths are followed after login, never another site.
/// A page of this site to go to after signing in: a path (`/…`, not `//…` or `/\…`, which a
/// browser reads as another host) with no control or white-space character (a browser drops
/// a tab or a newline, so `/\t/evil.example` would become `//evil.example`): visible ASCII
/// only, as a Location header must be. Anything else goes to the desk.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic())
                && n.len() <= 512 =>
        {
            n.to_owned()
        }
        _ => String::new(),
    }
}

fn landing(role: Role) -> &'static str {
    match role {
        Role::Regulator => "/regulator",
        Role::Bank => "/bank",
        Role::Firm => "/firm",
        Role::Provider => "/provider",
        Role::Source => "/source",
    }
}

fn pre_session_cookie(jar: CookieJar, secure: bool) -> Result<(CookieJar, String), AppError> {
    if let Some(existing) = jar.get(csrf::PRE_SESSION_COOKIE)
        && existing.value().len() >= 32
    {
        let value = existing.value().to_owned();
        return Ok((jar, value));
    }
    let value = crate::service::credentials::new_token().map_err(AppError::internal)?;
    let cookie = Cookie::build((csrf::PRE_SESSION_COOKIE, value.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict);
    Ok((jar.add(cookie), value))
}

async fn show_login(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    let (jar, token) = pre_session_cookie(jar, state.config.secure_cookies())?;
    let page = LoginPage {
        c: Chrome::anonymous(lang),
        csrf: token,
        next: safe_next(query.next.as_deref()),
        username: String::new(),
        error: None,
    };
    Ok((jar, render(&page)).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

async fn create_session(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
    ClientAddr(address): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = jar
        .get(csrf::PRE_SESSION_COOKIE)
        .map(|c| c.value().to_owned());
    // The double-submit cookie alone can be planted (a sibling subdomain, a man in the
    // middle on plain HTTP): the browser's word on where the post comes from is checked too.
    if !csrf::same_origin(&headers) || !expected.is_some_and(|e| csrf::matches(&e, &form.csrf)) {
        return Err(AppError::Forbidden.into());
    }
    let secure = state.config.secure_cookies();
    let device = device_of(&jar);
    let signed_in = accounts::log_in(
        &state.db,
        &form.username,
        &form.password,
        address,
        device.as_deref(),
    )
    .await;
    let (caller, jar) = match signed_in {
        Ok(signed_in) => (signed_in.caller, with_device(jar, signed_in.device, secure)),
        Err(err @ (AppError::BadCredentials | AppError::TooManyRequests { .. })) => {
            let status = err.status();
            let (jar, token) = pre_session_cookie(jar, secure)?;
            let page = LoginPage {
                c: Chrome::anonymous(lang),
                csrf: token,
                next: safe_next(form.next.as_deref()),
                username: form.username,
                error: Some(match err {
                    AppError::BadCredentials => "login_failed",
                    _ => "login_throttled",
                }),
            };
            return Ok((status, jar, render(&page)).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    let session = accounts::issue_credential(&state.db, &caller, Kind::Session).await?;
    let cookie = Cookie::build((SESSION_COOKIE, session))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time_of(accounts::SESSION_LIFETIME));
    let next = safe_next(form.next.as_deref());
    let target = if next.is_empty() {
        landing(caller.role).to_owned()
    } else {
        next
    };
    Ok((jar.add(cookie), Redirect::to(&target)).into_response())
}

fn time_of(duration: chrono::Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(duration.num_seconds())
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub c: Chrome,
}

async fn show_logout(lang: Lang, auth: PageAuth) -> Response {
    render(&LogoutPage {
        c: Chrome::of(lang, &auth),
    })
}

#[derive(Deserialize)]
pub struct LogoutForm {}

async fn delete_session(
    State(state): State<AppState>,
    auth: PageAuth,
    jar: CookieJar,
    CsrfForm(LogoutForm {}): CsrfForm<LogoutForm>,
) -> Result<Response, PageError> {
    accounts::end_session(&state.db, &auth.session).await?;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/")).into_response())
}
