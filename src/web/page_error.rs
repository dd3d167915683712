//! What a page handler answers when it fails (an error page in both languages, with the
//! error's status) and how a template becomes a response. A leaf of `web`: the extractors
//! (`auth`, `csrf`) reject with it and the pages render with it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;
use crate::web::i18n::{Lang, Texts};

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
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Texts,
    pub lang: Lang,
    pub status: u16,
    pub message_key: &'static str,
}

/// Marks an error page rendered without the visitor's language at hand: the pages' error layer
/// renders it again in the language the request chose.
#[derive(Clone, Copy, Debug)]
pub struct PageFault;

/// The words for an error status.
fn message_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "err_page_404",
        403 | 401 => "err_page_403",
        405 => "err_page_405",
        408 | 504 => "err_page_timeout",
        409 => "err_page_409",
        413 => "err_page_413",
        429 => "err_page_429",
        503 => "err_page_503",
        400..=499 => "err_page_400",
        _ => "err_page_500",
    }
}

/// An error page in the visitor's language, with the error's status.
pub fn localised_error_page(lang: Lang, status: StatusCode) -> Response {
    let mut response = render(&ErrorPage {
        t: lang.texts(),
        lang,
        status: status.as_u16(),
        message_key: message_key(status),
    });
    *response.status_mut() = status;
    response
}

/// An error page where the language is not at hand (Chinese; the error layer localises it).
pub fn error_page(status: StatusCode) -> Response {
    let mut response = localised_error_page(Lang::Zh, status);
    response.extensions_mut().insert(PageFault);
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
        error_page(self.0.status())
    }
}

pub type PageResult = Result<Response, PageError>;
