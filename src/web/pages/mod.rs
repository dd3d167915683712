//! Server-rendered pages (askama templates under `templates/`): Chinese first, English on
//! `?lang=en`, no JavaScript needed, every form protected against CSRF.

mod bank;
mod charts;
mod firm;
mod regulator;
mod scan;
mod session;
mod views;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::auth::{Allowed, MaybeSession, PageAuth};
use super::csrf;
use super::i18n::{Lang, Texts};
use crate::error::AppError;
use crate::service::accounts::Caller;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_home))
        .route("/static/app.css", get(show_stylesheet))
        .merge(session::router())
        .merge(scan::router())
        .merge(firm::router())
        .merge(bank::router())
        .merge(regulator::router())
}

/// Who is signed in, as the page header shows it.
pub struct UserInfo {
    pub username: String,
    pub role: &'static str,
}

/// What every page's frame needs: the words, the language, the visitor and their CSRF token.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: Lang,
    pub user: Option<UserInfo>,
    pub csrf: String,
    /// A message key (from the texts) to show once, after a redirect.
    pub flash: Option<String>,
}

impl Chrome {
    pub fn anonymous(lang: Lang) -> Self {
        Chrome {
            t: lang.texts(),
            lang,
            user: None,
            csrf: String::new(),
            flash: None,
        }
    }

    pub fn signed_in(lang: Lang, caller: &Caller, session: &str) -> Self {
        Chrome {
            t: lang.texts(),
            lang,
            user: Some(UserInfo {
                username: caller.username.clone(),
                role: caller.role.as_str(),
            }),
            csrf: csrf::session_token(session),
            flash: None,
        }
    }

    pub fn of<R: Allowed>(lang: Lang, auth: &PageAuth<R>) -> Self {
        Chrome::signed_in(lang, &auth.caller, &auth.session)
    }

    pub fn maybe(lang: Lang, session: &MaybeSession) -> Self {
        match &session.0 {
            Some((caller, token)) => Chrome::signed_in(lang, caller, token),
            None => Chrome::anonymous(lang),
        }
    }

    /// Shows `?msg=KEY` when KEY is one of the texts (never free text from a URL).
    pub fn with_flash(mut self, msg: Option<&str>) -> Self {
        self.flash = msg
            .filter(|m| m.starts_with("msg_") && self.t.has(m))
            .map(str::to_owned);
        self
    }
}

/// Refuses a form whose CSRF token is not the session's.
pub fn check_csrf<R: Allowed>(auth: &PageAuth<R>, given: &str) -> Result<(), PageError> {
    if csrf::matches(&csrf::session_token(&auth.session), given) {
        Ok(())
    } else {
        Err(PageError(AppError::Forbidden))
    }
}

/// Renders a template, or a plain 500 if the template itself fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(%err, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    pub msg: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub c: Chrome,
    pub pasted: String,
    pub error: Option<&'static str>,
}

async fn show_home(lang: Lang, session: MaybeSession) -> Response {
    render(&HomePage {
        c: Chrome::maybe(lang, &session),
        pasted: String::new(),
        error: None,
    })
}

async fn show_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/app.css"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub message: &'a str,
}

/// A bilingual error page (the language cookie is not at hand where errors are rendered).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let mut response = render(&ErrorPage {
        status: status.as_u16(),
        message,
    });
    *response.status_mut() = status;
    response
}

/// An [`AppError`] shown as a page rather than a problem document.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(err: AppError) -> Self {
        PageError(err)
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(err: sea_orm::DbErr) -> Self {
        PageError(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self.0 {
            tracing::error!(%cause, "page failed");
        }
        let message = match &self.0 {
            AppError::NotFound => "页面不存在 / Page not found".to_owned(),
            AppError::Forbidden => "此账号无权访问该页面，或表单已过期 / Not allowed for this account, or the form expired".to_owned(),
            other => other.public_detail(),
        };
        error_page(self.0.status(), &message)
    }
}

pub type PageResult = Result<Response, PageError>;
