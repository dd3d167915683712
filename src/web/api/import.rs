//! `POST /api/v1/import` (a CSV file of many firms' data) and its template.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::error::AppResult;
use crate::service::import::{self, ImportReport};
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

/// A city district's file: 100,000 rows are about 15 MB.
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
        .routes(routes!(show_template))
        .routes(routes!(show_template_xlsx))
}

/// Imports a district's CSV file or Excel workbook (the first sheet), all or nothing; faults are listed by line and column in
/// the problem's `errors`. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/import", tag = "import", security(("bearer" = [])),
    request_body(content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 201, body = ImportReport)))]
async fn create_import(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<(StatusCode, Json<ImportReport>)> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::error::AppError::PayloadTooLarge(format!(
                "the file is larger than {} MB: a file takes at most {} rows; split the list \
                 into several files",
                IMPORT_BODY_LIMIT / (1024 * 1024),
                import::xlsx::MAX_ROWS
            ))
        } else {
            crate::error::AppError::BadRequest(rejection.body_text())
        }
    })?;
    // A CSV file, or an Excel workbook (its first sheet, read the same way).
    if super::require_content_type(&headers, XLSX).is_err() {
        super::require_content_type(&headers, "text/csv")?;
    }
    let report = import::import_csv(
        &state.db,
        &state.caches,
        &auth.actor(),
        Some(auth.account_id),
        &state.config.data_dir,
        &body,
        &mut |_| {},
    )
    .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// The CSV template with its header and an example row. Who may call it: anyone.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The template as an Excel workbook: Chinese headings with their units, one example row. The
/// import reads either the columns' names or these headings. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/import/template.xlsx", tag = "import",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn show_template_xlsx() -> crate::error::AppResult<Response> {
    Ok((
        [
            (header::CONTENT_TYPE, XLSX),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gec-import-template.xlsx\"",
            ),
        ],
        import::template_xlsx()?,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/import/template.csv", tag = "import",
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn show_template() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gec-import-template.csv\"",
            ),
        ],
        // With a BOM, so that Excel opens the Chinese names as UTF-8.
        format!("\u{feff}{}", import::template()),
    )
        .into_response()
}
