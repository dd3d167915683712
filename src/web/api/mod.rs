//! The JSON API under `/api/v1`: bearer tokens in, JSON or problem+json out.

mod accounts;
pub mod login;

use axum::Router;
use axum::extract::FromRequest;

use super::AppState;
use crate::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(accounts::router())
}

/// `axum::Json` whose rejections (wrong content type, malformed or mistyped body, too large)
/// are problem documents naming what was wrong.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);
