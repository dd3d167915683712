//! Firms and what is recorded about them: `POST/GET /api/v1/firms`, a firm's certifications
//! and vetoes, and the regulator's review of certifications.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{ApiJson, ApiQuery};
use crate::error::{AppError, AppResult};
use crate::grading::Uscc;
use crate::service::assessments::{Page, firm_for, page_cursor, page_limit};
use crate::service::firms::{self, CreateFirmRequest, CreatedFirm, FirmQuery, FirmSummary};
use crate::service::records::{
    self, CertificationRequest, CertificationView, ReviewRequest, VetoRequest, VetoView,
};
use crate::store::{certifications, firms as firm_store, vetoes};
use crate::web::AppState;
use crate::web::auth::{Auth, FirmOrRegulator, Regulator};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/firms", post(create_firm).get(list_firms))
        .route("/api/v1/firms/{uscc}", get(show_firm))
        .route(
            "/api/v1/firms/{uscc}/certifications",
            post(create_certification).get(list_firm_certifications),
        )
        .route(
            "/api/v1/firms/{uscc}/vetoes",
            post(create_veto).get(list_vetoes),
        )
        .route("/api/v1/certifications", get(list_certifications))
        .route(
            "/api/v1/certifications/{id}/verify",
            post(review_certification),
        )
}

async fn create_firm(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiJson(request): ApiJson<CreateFirmRequest>,
) -> AppResult<(StatusCode, Json<CreatedFirm>)> {
    let created = firms::create_firm(&state.db, &auth.actor(), request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list_firms(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
    ApiQuery(query): ApiQuery<FirmQuery>,
) -> AppResult<Json<Page<FirmSummary>>> {
    Ok(Json(firms::list_firms(&state.db, query).await?))
}

/// The public summary: anyone may read it.
async fn show_firm(
    State(state): State<AppState>,
    Path(uscc): Path<String>,
) -> AppResult<Json<FirmSummary>> {
    let uscc = Uscc::parse(&uscc).map_err(|_| AppError::NotFound)?;
    let firm = firm_store::find_by_uscc(&state.db, uscc.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let table = crate::service::benchmarks::in_force(&state.db).await?;
    Ok(Json(FirmSummary::of(&firm, &table)))
}

/// A firm declares its own certification; a regulator records a verified one for any firm.
async fn create_certification(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    Path(uscc): Path<String>,
    ApiJson(request): ApiJson<CertificationRequest>,
) -> AppResult<(StatusCode, Json<CertificationView>)> {
    let firm = firm_for(&state.db, &auth, Some(&uscc))
        .await
        .map_err(not_found_for_path)?;
    let view = records::add_certification(&state.db, &auth, &firm, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// In a path, an unknown or malformed USCC is simply not found.
fn not_found_for_path(err: AppError) -> AppError {
    match err {
        AppError::Validation { .. } => AppError::NotFound,
        other => other,
    }
}

async fn list_firm_certifications(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    Path(uscc): Path<String>,
) -> AppResult<Json<Page<CertificationView>>> {
    let firm = firm_for(&state.db, &auth, Some(&uscc))
        .await
        .map_err(not_found_for_path)?;
    let items = certifications::of_firm(&state.db, firm.id)
        .await?
        .iter()
        .map(|c| CertificationView::of(c, &firm.uscc))
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificationQuery {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u64>,
}

/// The regulator's queue: certifications by status (`declared` awaits verification).
async fn list_certifications(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
    ApiQuery(query): ApiQuery<CertificationQuery>,
) -> AppResult<Json<Page<CertificationView>>> {
    let limit = page_limit(query.limit)?;
    let after = page_cursor(query.cursor.as_deref())?;
    let mut select = certifications::Entity::find().filter(certifications::Column::Id.gt(after));
    select = match query.status.as_deref() {
        None => select,
        Some("declared") => select
            .filter(certifications::Column::Verified.eq(false))
            .filter(certifications::Column::Revoked.eq(false)),
        Some("verified") => select
            .filter(certifications::Column::Verified.eq(true))
            .filter(certifications::Column::Revoked.eq(false)),
        Some("revoked") => select.filter(certifications::Column::Revoked.eq(true)),
        Some(_) => {
            return Err(AppError::validation(
                "status",
                "must be declared, verified or revoked",
            ));
        }
    };
    let rows = select
        .order_by_asc(certifications::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let ids: Vec<i64> = rows.iter().map(|c| c.firm_id).collect();
    let usccs: std::collections::HashMap<i64, String> = firm_store::Entity::find()
        .filter(firm_store::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|f| (f.id, f.uscc))
        .collect();
    let next_cursor = if more {
        rows.last().map(|c| c.id.to_string())
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|c| CertificationView::of(c, usccs.get(&c.firm_id).map_or("", String::as_str)))
        .collect();
    Ok(Json(Page { items, next_cursor }))
}

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

async fn create_veto(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(uscc): Path<String>,
    ApiJson(request): ApiJson<VetoRequest>,
) -> AppResult<(StatusCode, Json<VetoView>)> {
    let firm = firm_for(&state.db, &auth, Some(&uscc))
        .await
        .map_err(not_found_for_path)?;
    Ok((
        StatusCode::CREATED,
        Json(records::record_veto(&state.db, &auth, &firm, request).await?),
    ))
}

async fn list_vetoes(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    Path(uscc): Path<String>,
) -> AppResult<Json<Page<VetoView>>> {
    let firm = firm_for(&state.db, &auth, Some(&uscc))
        .await
        .map_err(not_found_for_path)?;
    let items = vetoes::of_firm(&state.db, firm.id)
        .await?
        .iter()
        .map(|v| VetoView::of(v, &firm.uscc))
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}
