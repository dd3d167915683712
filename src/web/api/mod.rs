//! The JSON API under `/api/v1`: bearer tokens in, JSON or problem+json out.

mod accounts;
mod appeals;
mod assessments;
mod audit;
pub mod bank;
mod benchmarks;
mod codes;
mod firms;
mod import;
pub mod login;
pub mod openapi;

use axum::extract::{FromRequest, FromRequestParts};
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use crate::error::AppError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(login::router())
        .merge(accounts::router())
        .merge(firms::router())
        .merge(assessments::router())
        .merge(audit::router())
        .merge(import::router())
        .merge(codes::router())
        .merge(benchmarks::router())
        .merge(bank::router())
        .merge(appeals::router())
}

/// `axum::Json` whose rejections (wrong content type, malformed or mistyped body, too large)
/// are problem documents naming what was wrong.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections are problem documents.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejections are problem documents.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Refuses a body whose Content-Type is not `expected` (415).
pub fn require_content_type(
    headers: &axum::http::HeaderMap,
    expected: &str,
) -> Result<(), AppError> {
    let given = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given.starts_with(expected) {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(format!(
            "expected Content-Type: {expected}"
        )))
    }
}
