//! What a page handler answers when it fails (an error page in both languages, with the
//! error's status) and how a template becomes a response. A leaf of `web`: the extractors
//! (`auth`, `csrf`) reject with it and the pages render with it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;

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
