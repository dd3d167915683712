//! Server-rendered pages (askama templates under `templates/`): Chinese first, English on
//! `?lang=en`, no JavaScript needed.

mod session;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::i18n::{Lang, Texts};
use crate::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_home))
        .route("/static/app.css", get(show_stylesheet))
        .merge(session::router())
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

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub t: &'static Texts,
    pub lang: Lang,
}

async fn show_home(lang: Lang) -> Response {
    render(&HomePage {
        t: lang.texts(),
        lang,
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

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self.0 {
            tracing::error!(%cause, "page failed");
        }
        let message = match &self.0 {
            AppError::NotFound => "页面不存在 / Page not found".to_owned(),
            AppError::Forbidden => {
                "此账号无权访问该页面 / This account may not open this page".to_owned()
            }
            other => other.public_detail(),
        };
        error_page(self.0.status(), &message)
    }
}
