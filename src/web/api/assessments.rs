//! `/api/v1/assessments`: preview, submit, read, list (the review queue), reject.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::{ApiJson, ApiQuery};
use crate::error::AppResult;
use crate::service::assessments::{
    self, AssessmentView, ListQuery, Page, PreviewResponse, RejectRequest,
};
use crate::service::issue::{self, IssuedCode, Recomputed};
use crate::web::AppState;
use crate::web::auth::{Auth, FirmOrRegulator, Regulator};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assessments/preview", post(preview_assessment))
        .route(
            "/api/v1/assessments",
            post(create_assessment).get(list_assessments),
        )
        .route("/api/v1/assessments/{id}", get(show_assessment))
        .route("/api/v1/assessments/{id}/reject", post(reject_assessment))
        .route("/api/v1/assessments/{id}/approve", post(approve_assessment))
        .route(
            "/api/v1/assessments/{id}/recompute",
            post(recompute_assessment),
        )
}

async fn preview_assessment(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiJson(request): ApiJson<Value>,
) -> AppResult<Json<PreviewResponse>> {
    Ok(Json(
        assessments::preview(&state.db, &auth, &request).await?,
    ))
}

async fn create_assessment(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiJson(request): ApiJson<Value>,
) -> AppResult<(StatusCode, Json<AssessmentView>)> {
    Ok((
        StatusCode::CREATED,
        Json(assessments::submit(&state.db, &auth, &request).await?),
    ))
}

async fn show_assessment(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    Path(id): Path<i64>,
) -> AppResult<Json<AssessmentView>> {
    let (assessment, firm) = assessments::visible(&state.db, &auth, id).await?;
    Ok(Json(AssessmentView::of(&assessment, &firm)))
}

async fn list_assessments(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<AssessmentView>>> {
    Ok(Json(assessments::list(&state.db, &auth, query).await?))
}

async fn reject_assessment(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(id): Path<i64>,
    ApiJson(request): ApiJson<RejectRequest>,
) -> AppResult<Json<AssessmentView>> {
    Ok(Json(
        assessments::reject(&state.db, &auth, id, request).await?,
    ))
}

async fn approve_assessment(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<IssuedCode>)> {
    let keys = state.keys.current();
    let issued = issue::approve(&state.db, &keys, &auth, id, &state.config.public_url).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn recompute_assessment(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(id): Path<i64>,
) -> AppResult<Json<Recomputed>> {
    Ok(Json(issue::recompute(&state.db, &auth, id).await?))
}
