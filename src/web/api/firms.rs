//! Firms and what is recorded about them: `POST/GET /api/v1/firms`, a firm's certifications
//! and vetoes, and the regulator's review of certifications.

use axum::Json;
use axum::extract::{Path, State};

use crate::web::extract::UsccPath;
use axum::http::StatusCode;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery};
use crate::error::{AppResult, Problem};

use crate::service::assessments::{Page, firm_at};
use crate::service::firms::{self, CreateFirmRequest, CreatedFirm, FirmQuery, FirmSummary};
use crate::service::records::{
    self, CertificationRequest, CertificationView, ReviewRequest, VetoRequest, VetoView,
};
use crate::web::AppState;
use crate::web::auth::{Auth, FirmOrRegulator, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_firm, list_firms))
        .routes(routes!(show_firm, update_firm))
        .routes(routes!(create_certification, list_firm_certifications))
        .routes(routes!(create_veto, list_vetoes))
        .routes(routes!(list_certifications))
        .routes(routes!(review_certification))
}

/// Creates a firm (and, with `username` and `password`, its first account). Who may call it:
/// regulator.
#[utoipa::path(post, path = "/api/v1/firms", tag = "firms", security(("bearer" = [])),
    request_body = CreateFirmRequest,
    responses((status = 201, body = CreatedFirm), (status = 409, body = Problem, description = "The firm or username exists")))]
async fn create_firm(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiJson(request): ApiJson<CreateFirmRequest>,
) -> AppResult<(StatusCode, Json<CreatedFirm>)> {
    let created = firms::create_firm(&state.db, &state.caches, &auth.actor(), request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Firms, with filters. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/firms", tag = "firms", security(("bearer" = [])),
    params(FirmQuery), responses((status = 200, body = Page<FirmSummary>)))]
async fn list_firms(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
    ApiQuery(query): ApiQuery<FirmQuery>,
) -> AppResult<Json<Page<FirmSummary>>> {
    Ok(Json(
        firms::list_firms(&state.db, &state.caches, query).await?,
    ))
}

/// A firm's public summary: name, industry, current grade and code. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}", tag = "firms",
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 200, body = FirmSummary), (status = 404, body = Problem)))]
async fn show_firm(
    State(state): State<AppState>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Json<FirmSummary>> {
    Ok(Json(firms::summary(&state.db, &state.caches, &uscc).await?))
}

/// Corrects a firm's name, industry or district (each kept when absent) — and completes a firm
/// that a log recovery recreated from its code. Who may call it: regulator.
#[utoipa::path(patch, path = "/api/v1/firms/{uscc}", tag = "firms", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)), request_body = firms::FirmUpdate,
    responses((status = 200, body = FirmSummary), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_firm(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    UsccPath(uscc): UsccPath,
    ApiJson(update): ApiJson<firms::FirmUpdate>,
) -> AppResult<Json<FirmSummary>> {
    Ok(Json(
        firms::update_firm(&state.db, &state.caches, &auth.actor(), &uscc, update).await?,
    ))
}

/// A firm declares its own certification; a regulator records a verified one for any firm.
/// Who may call it: firm (own), regulator.
#[utoipa::path(post, path = "/api/v1/firms/{uscc}/certifications", tag = "firms", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)), request_body = CertificationRequest,
    responses((status = 201, body = CertificationView), (status = 404, body = Problem)))]
async fn create_certification(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
    ApiJson(request): ApiJson<CertificationRequest>,
) -> AppResult<(StatusCode, Json<CertificationView>)> {
    let firm = firm_at(&state.db, &auth, &uscc).await?;
    let view = records::add_certification(&state.db, &auth, &firm, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A firm's certifications. Who may call it: firm (own), regulator.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}/certifications", tag = "firms", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 200, body = Page<CertificationView>), (status = 404, body = Problem)))]
async fn list_firm_certifications(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Json<Page<CertificationView>>> {
    let firm = firm_at(&state.db, &auth, &uscc).await?;
    Ok(Json(Page::all(
        records::certifications_of(&state.db, &firm).await?,
    )))
}

#[derive(serde::Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CertificationQuery {
    /// `declared` (awaiting verification), `verified` or `revoked`.
    status: Option<String>,
    #[param(max_length = 40)]
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
}

/// The regulator's queue: certifications by status (`declared` awaits verification). Who may
/// call it: regulator.
#[utoipa::path(get, path = "/api/v1/certifications", tag = "firms", security(("bearer" = [])),
    params(CertificationQuery), responses((status = 200, body = Page<CertificationView>)))]
async fn list_certifications(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
    ApiQuery(query): ApiQuery<CertificationQuery>,
) -> AppResult<Json<Page<CertificationView>>> {
    Ok(Json(
        records::list_certifications(
            &state.db,
            query.status.as_deref(),
            query.cursor.as_deref(),
            query.limit,
        )
        .await?,
    ))
}

/// Marks a certification verified (it then counts) or revoked. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/certifications/{id}/verify", tag = "firms", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)), request_body = ReviewRequest,
    responses((status = 200, body = CertificationView), (status = 404, body = Problem)))]
async fn review_certification(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(id): Path<i64>,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> AppResult<Json<CertificationView>> {
    Ok(Json(
        records::review_certification(&state.db, &auth, id, request).await?,
    ))
}

/// Records a veto (a serious incident that caps the grade at D). Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/firms/{uscc}/vetoes", tag = "firms", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)), request_body = VetoRequest,
    responses((status = 201, body = VetoView), (status = 404, body = Problem)))]
async fn create_veto(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    UsccPath(uscc): UsccPath,
    ApiJson(request): ApiJson<VetoRequest>,
) -> AppResult<(StatusCode, Json<VetoView>)> {
    let firm = firm_at(&state.db, &auth, &uscc).await?;
    Ok((
        StatusCode::CREATED,
        Json(records::record_veto(&state.db, &auth, &firm, request).await?),
    ))
}

/// A firm's vetoes. Who may call it: firm (own), regulator.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}/vetoes", tag = "firms", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 200, body = Page<VetoView>), (status = 404, body = Problem)))]
async fn list_vetoes(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Json<Page<VetoView>>> {
    let firm = firm_at(&state.db, &auth, &uscc).await?;
    Ok(Json(Page::all(records::vetoes_of(&state.db, &firm).await?)))
}
