//! The JSON API under `/api/v1`: bearer tokens in, JSON or problem+json out.

mod accounts;
mod appeals;
mod assessments;
mod audit;
mod bank;
mod benchmarks;
mod codes;
mod finance;
mod firms;
mod green;
mod import;
mod ladder;
mod login;
pub mod openapi;
mod readings;
mod tokens;
mod webhooks;
mod year;

use utoipa_axum::router::OpenApiRouter;

use super::AppState;
pub use super::extract::{ApiJson, ApiPath, ApiQuery, require_content_type};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(login::router())
        .merge(accounts::router())
        .merge(firms::router())
        .merge(assessments::router())
        .merge(audit::router())
        .merge(import::router())
        .merge(readings::router())
        .merge(year::router())
        .merge(ladder::router())
        .merge(codes::router())
        .merge(benchmarks::router())
        .merge(bank::router())
        .merge(appeals::router())
        .merge(green::router())
        .merge(finance::router())
        .merge(webhooks::router())
        .merge(tokens::router())
}

/// The spreadsheet type of an Excel workbook.
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What a body of rows came as, by its content type: `json`, `xlsx` or `csv` (else 415).
pub(crate) fn rows_format(
    headers: &axum::http::HeaderMap,
) -> crate::error::AppResult<&'static str> {
    if require_content_type(headers, "application/json").is_ok() {
        Ok("json")
    } else if require_content_type(headers, XLSX).is_ok() {
        Ok("xlsx")
    } else {
        require_content_type(headers, "text/csv")?;
        Ok("csv")
    }
}
