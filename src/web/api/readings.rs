//! 数据直连 in the API: data sources deliver attested readings (JSON, CSV or an Excel workbook)
//! and get signed receipts; a firm and regulators read what was attested for a year.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::ApiQuery;
use crate::error::{AppError, AppResult, Problem};
use crate::service::readings::{self, Attested, ReadingsRequest, SignedReceipt};
use crate::service::settings::{self, ReadingSettings};
use crate::web::AppState;
use crate::web::auth::{Auth, FirmOrRegulator, Source};
use crate::web::extract::UsccPath;

/// A batch's body: the same bound as an import's file.
const READINGS_BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deliver).layer(DefaultBodyLimit::max(READINGS_BODY_LIMIT)))
        .routes(routes!(list_receipts))
        .routes(routes!(firm_readings))
        .routes(routes!(no_touch_one))
        .routes(routes!(no_touch_all))
        .routes(routes!(no_touch_run))
        .routes(routes!(reading_settings, put_reading_settings))
}

/// The regulator's settings for figures from sources: the tolerance (per cent) beyond which a
/// declared figure needs the firm's reason and the regulator's note, and the fields whose figure
/// must be the attested one wherever a source attested it. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/settings/readings", tag = "readings", security(("bearer" = [])),
    responses((status = 200, body = ReadingSettings)))]
async fn reading_settings(
    State(state): State<AppState>,
    _auth: Auth<crate::web::auth::Regulator>,
) -> AppResult<Json<ReadingSettings>> {
    Ok(Json(settings::get(&state.db).await?))
}

/// Changes the settings for figures from sources (checked: a tolerance from 0 to 50 % with at
/// most one decimal place, fields a source can attest); audited as `settings.update` with the
/// values before and after. Who may call it: regulator.
#[utoipa::path(put, path = "/api/v1/settings/readings", tag = "readings", security(("bearer" = [])),
    request_body = ReadingSettings,
    responses((status = 200, body = ReadingSettings), (status = 422, body = Problem)))]
async fn put_reading_settings(
    State(state): State<AppState>,
    auth: Auth<crate::web::auth::Regulator>,
    super::ApiJson(body): super::ApiJson<ReadingSettings>,
) -> AppResult<Json<ReadingSettings>> {
    Ok(Json(settings::put(&state.db, &auth, body).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoTouchRequest {
    /// The reporting year to file.
    pub year: i32,
}

/// 无感申报: files a firm's year from what data sources attested alone (value added, energy,
/// waste generated and utilised must all have come from sources; 422 `field: readings` names
/// what is missing). The filing is reviewed and approved like any other. Who may call it:
/// regulator.
#[utoipa::path(post, path = "/api/v1/firms/{uscc}/no-touch-filing", tag = "readings", security(("bearer" = [])),
    params(("uscc" = String, Path)), request_body = NoTouchRequest,
    responses((status = 201, body = crate::service::assessments::AssessmentView), (status = 422, body = Problem)))]
async fn no_touch_one(
    State(state): State<AppState>,
    auth: Auth<crate::web::auth::Regulator>,
    UsccPath(uscc): UsccPath,
    super::ApiJson(body): super::ApiJson<NoTouchRequest>,
) -> AppResult<(
    StatusCode,
    Json<crate::service::assessments::AssessmentView>,
)> {
    let view =
        readings::no_touch::file(&state.db, &state.caches, &auth, uscc.as_str(), body.year).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// 无感申报 for every registered firm with readings of the year and no filing of it, started in
/// the background (202 with the run; follow it at `GET /api/v1/no-touch-filings/{id}`): each
/// firm whose figures all came from sources is filed and waits for review; the others are
/// listed with what is missing. One run at a time (409 while one is going). Who may call it:
/// regulator.
#[utoipa::path(post, path = "/api/v1/no-touch-filings", tag = "readings", security(("bearer" = [])),
    request_body = NoTouchRequest,
    responses((status = 202, body = readings::runs::RunView), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn no_touch_all(
    State(state): State<AppState>,
    auth: Auth<crate::web::auth::Regulator>,
    super::ApiJson(body): super::ApiJson<NoTouchRequest>,
) -> AppResult<(StatusCode, HeaderMap, Json<readings::runs::RunView>)> {
    let run = readings::runs::start(&state.db, &state.caches, &auth, body.year).await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = format!("/api/v1/no-touch-filings/{}", run.id).parse() {
        headers.insert(axum::http::header::LOCATION, location);
    }
    Ok((StatusCode::ACCEPTED, headers, Json(run)))
}

/// A no-touch run: how far it has come (firms looked at of all, filed, incomplete, already
/// filed), and once finished the firms not filed with what they miss. Who may call it:
/// regulator.
#[utoipa::path(get, path = "/api/v1/no-touch-filings/{id}", tag = "readings", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = readings::runs::RunView), (status = 404, body = Problem)))]
async fn no_touch_run(
    State(state): State<AppState>,
    auth: Auth<crate::web::auth::Regulator>,
    crate::web::extract::ApiPath(id): crate::web::extract::ApiPath<i64>,
) -> AppResult<Json<readings::runs::RunView>> {
    Ok(Json(readings::runs::run(&state.db, &auth, id).await?))
}

/// Delivers attested readings, all or nothing: JSON (`{"readings": [...]}`), CSV or an Excel
/// workbook with the columns `uscc, period, field, quantity, reference` and an optional
/// `reason`. A reading delivered again changes nothing; a different quantity under the same
/// (USCC, period, field, reference) is a correction and needs a `reason`. Faults are listed
/// by row and column in the problem's `errors`; a field the source may not attest is 403. The
/// answer is a receipt signed with the service's code key (a COSE_Sign1 whose payload is
/// the receipt's JSON as a CBOR text string). Who may call it: data source.
#[utoipa::path(post, path = "/api/v1/readings", tag = "readings", security(("bearer" = [])),
    request_body(content((ReadingsRequest = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 201, body = SignedReceipt), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn deliver(
    State(state): State<AppState>,
    auth: Auth<Source>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<(StatusCode, Json<SignedReceipt>)> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!(
                "a batch is at most {} MB: deliver the readings in several batches",
                READINGS_BODY_LIMIT / (1024 * 1024)
            ))
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    })?;
    let format = super::rows_format(&headers)?;
    let keys = state.keys.current();
    let receipt = readings::deliver(&state.db, &keys, &auth, format, &body).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// The source's own receipts, newest first. Who may call it: data source.
#[utoipa::path(get, path = "/api/v1/readings/receipts", tag = "readings", security(("bearer" = [])),
    responses((status = 200, body = Vec<SignedReceipt>)))]
async fn list_receipts(
    State(state): State<AppState>,
    auth: Auth<Source>,
) -> AppResult<Json<Vec<SignedReceipt>>> {
    Ok(Json(readings::receipts(&state.db, &auth).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct YearQuery {
    /// The reporting year.
    year: i32,
}

/// What data sources attested for a firm's year, field by field (a yearly reading, else the
/// months delivered summed), with the source and its references. Who may call it: the firm,
/// regulator.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}/readings", tag = "readings", security(("bearer" = [])),
    params(("uscc" = String, Path), YearQuery),
    responses((status = 200, body = Vec<Attested>), (status = 404, body = Problem)))]
async fn firm_readings(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<Vec<Attested>>> {
    let firm = crate::service::firms::firm_for(&state.db, &auth, Some(uscc.as_str())).await?;
    Ok(Json(
        readings::attested(&state.db, firm.uscc.as_str(), q.year).await?,
    ))
}
