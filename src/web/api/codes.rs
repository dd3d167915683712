//! `/api/v1/codes/{serial}`: a code's claims and status, its images, and revocation.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use crate::code::badge::{self, BadgeData};
use crate::code::qr::{self, Level};
use crate::code::{Claims, text};
use crate::error::{AppError, AppResult, Problem};
use crate::service::codes::{self as service_codes, CodeRecord};
use crate::service::revoke::{self, RevokeRequest, RevokedCode};
use crate::store::codes::{self, CodeStatus};
use crate::store::firms;
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};
use crate::web::extract::SerialPath;
use crate::web::images::{self, Kind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_code))
        .routes(routes!(show_code_status))
        .routes(routes!(show_qr_png))
        .routes(routes!(show_qr_svg))
        .routes(routes!(show_badge_png))
        .routes(routes!(show_badge_svg))
        .routes(routes!(revoke_code))
}

#[derive(Serialize, ToSchema)]
pub struct FirmRef {
    pub uscc: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CodeResponse {
    pub serial: i64,
    pub status: CodeStatus,
    pub url: String,
    pub code: String,
    pub claims: Claims,
    pub firm: FirmRef,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub kid: String,
    pub log_index: i64,
    pub superseded_by: Option<i64>,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// A code's claims, status and URL. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/codes/{serial}", tag = "codes",
    params(("serial" = String, Path, max_length = 40)),
    responses((status = 200, body = CodeResponse), (status = 404, body = Problem)))]
async fn show_code(
    State(state): State<AppState>,
    SerialPath(serial): SerialPath,
) -> AppResult<Json<CodeResponse>> {
    let CodeRecord { code, firm, claims } = service_codes::load(&state.db, serial.get()).await?;
    Ok(Json(CodeResponse {
        serial: code.serial,
        status: code.status_at(Utc::now().timestamp()),
        url: text::url(&state.config.public_url, &code.cose),
        code: text::encode(&code.cose),
        claims,
        firm: FirmRef {
            uscc: firm.uscc.to_string(),
            name: firm.name,
        },
        issued_at: time(code.iat),
        valid_until: time(code.exp),
        kid: code.kid,
        log_index: code.serial,
        superseded_by: code.superseded_by,
        revoked_reason: code.revoked_reason,
        revoked_at: code.revoked_at,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    pub serial: i64,
    pub status: CodeStatus,
}

/// A code's status alone. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/codes/{serial}/status", tag = "codes",
    params(("serial" = String, Path, max_length = 40)),
    responses((status = 200, body = StatusResponse), (status = 404, body = Problem)))]
async fn show_code_status(
    State(state): State<AppState>,
    SerialPath(serial): SerialPath,
) -> AppResult<Json<StatusResponse>> {
    let code = service_codes::find(&state.db, serial.get()).await?;
    Ok(Json(StatusResponse {
        serial: serial.get(),
        status: code.status_at(Utc::now().timestamp()),
    }))
}

fn render(
    kind: Kind,
    code: &codes::Model,
    firm: &firms::Model,
    claims: &Claims,
    url: &str,
) -> AppResult<Vec<u8>> {
    // The badge's dates are China time's, as the scan page its QR opens says them.
    let date = crate::web::pages::views::china_date;
    let data = BadgeData {
        firm_name: &firm.name,
        uscc: firm.uscc.as_str(),
        grade: claims.grade,
        score_text: &claims.score_text(),
        period: claims.period,
        issued_on: &date(code.iat),
        valid_until: &date(code.exp),
        serial: claims.serial,
        url,
    };
    Ok(match kind {
        Kind::QrPng => qr::png(
            &qr::encode(url, Level::M).map_err(AppError::internal)?,
            qr::PNG_MODULE_PX,
        )
        .map_err(AppError::internal)?,
        Kind::QrSvg => {
            qr::svg(&qr::encode(url, Level::M).map_err(AppError::internal)?).into_bytes()
        }
        Kind::BadgeSvg => badge::svg(&data).map_err(AppError::internal)?.into_bytes(),
        Kind::BadgePng => badge::png(&data, images::fonts(), 2.0).map_err(AppError::internal)?,
    })
}

/// One image route: its handler serves `show_image` of its kind, described with its own path
/// and media type (utoipa describes each route from its own handler).
macro_rules! image_route {
    ($handler:ident, $file:literal, $kind:expr, $media:literal, $body:ty, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = concat!("/api/v1/codes/{serial}/", $file), tag = "codes",
                            params(("serial" = String, Path, max_length = 40)),
                            responses((status = 200, content_type = $media, body = $body),
                                (status = 304, description = "Not modified (If-None-Match)"),
                                (status = 404, body = Problem)))]
        async fn $handler(
            state: State<AppState>,
            serial: SerialPath,
            headers: HeaderMap,
        ) -> AppResult<Response> {
            show_image(state, serial, headers, $kind).await
        }
    };
}

image_route!(
    show_qr_png,
    "qr.png",
    Kind::QrPng,
    "image/png",
    Vec<u8>,
    "The QR code at level M as a PNG. Who may call it: anyone."
);
image_route!(
    show_qr_svg,
    "qr.svg",
    Kind::QrSvg,
    "image/svg+xml",
    String,
    "The QR code at level M as an SVG. Who may call it: anyone."
);
image_route!(
    show_badge_png,
    "badge.png",
    Kind::BadgePng,
    "image/png",
    Vec<u8>,
    "The printable badge (QR at level Q) as a PNG. Who may call it: anyone."
);
image_route!(
    show_badge_svg,
    "badge.svg",
    Kind::BadgeSvg,
    "image/svg+xml",
    String,
    "The printable badge as an SVG. Who may call it: anyone."
);

async fn show_image(
    State(state): State<AppState>,
    SerialPath(serial): SerialPath,
    headers: HeaderMap,
    kind: Kind,
) -> AppResult<Response> {
    let serial = serial.get();
    let bytes = match state.images.get(serial, kind) {
        Some(bytes) => bytes,
        None => {
            let CodeRecord { code, firm, claims } = service_codes::load(&state.db, serial).await?;
            let url = text::url(&state.config.public_url, &code.cose);
            let rendered =
                tokio::task::spawn_blocking(move || render(kind, &code, &firm, &claims, &url))
                    .await
                    .map_err(AppError::internal)??;
            let bytes = Bytes::from(rendered);
            state.images.put(serial, kind, bytes.clone());
            bytes
        }
    };
    // A code's images never change: the serial, the kind and the public URL name them.
    let etag = format!(
        "\"{serial}-{}-{:016x}\"",
        kind.name(),
        fxhash(state.config.public_url.as_bytes())
    );
    let etag_value = HeaderValue::from_str(&etag).map_err(AppError::internal)?;
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.content_type()),
            ),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// A small stable hash (FNV-1a) of the public URL, so that an ETag changes if the URL does.
fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Revokes a code with a reason (a log entry). Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/codes/{serial}/revoke", tag = "codes", security(("bearer" = [])),
    params(("serial" = String, Path, max_length = 40)), request_body = RevokeRequest,
    responses((status = 200, body = RevokedCode), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Already revoked or superseded"),
        (status = 503, body = Problem, description = "`log_behind`: the database is behind the log's signed checkpoint (a restored backup); see `gec log recover`")))]
async fn revoke_code(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    SerialPath(serial): SerialPath,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> AppResult<Json<RevokedCode>> {
    let serial = serial.get();
    let keys = state.keys.current();
    Ok(Json(
        revoke::revoke(&state.db, &state.caches, &keys, &auth, serial, request).await?,
    ))
}
