//! Extractors that parse at the boundary: JSON, query and path values whose rejections are
//! problem documents, and the typed path values (a USCC, a serial) — a malformed one names
//! nothing, so it is simply not found.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;

use crate::code::Serial;
use crate::error::AppError;
use crate::grading::Uscc;

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

/// The one path parameter, parsed as `T`; a value that does not parse is 404.
async fn parsed<T: std::str::FromStr, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<T, AppError> {
    let axum::extract::Path(text) = axum::extract::Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound)?;
    text.parse().map_err(|_| AppError::NotFound)
}

/// The `{uscc}` of a path.
pub struct UsccPath(pub Uscc);

impl<S: Send + Sync> FromRequestParts<S> for UsccPath {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        parsed(parts, state).await.map(UsccPath)
    }
}

/// The `{serial}` of a path.
pub struct SerialPath(pub Serial);

impl<S: Send + Sync> FromRequestParts<S> for SerialPath {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        parsed(parts, state).await.map(SerialPath)
    }
}

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
