//! `/api/v1/appeals`: a firm appeals against an issued grade; regulators close appeals.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::error::{AppError, AppResult};
use crate::service::appeals::{self, AppealRequest, AppealView, CloseRequest};
use crate::service::assessments::Page;
use crate::web::AppState;
use crate::web::auth::{Auth, Firm, FirmOrRegulator, Regulator};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/appeals", post(create_appeal).get(list_appeals))
        .route("/api/v1/appeals/{id}/close", post(close_appeal))
}

async fn create_appeal(
    State(state): State<AppState>,
    auth: Auth<Firm>,
    ApiJson(request): ApiJson<AppealRequest>,
) -> AppResult<(StatusCode, Json<AppealView>)> {
    Ok((
        StatusCode::CREATED,
        Json(appeals::raise(&state.db, &auth, request).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppealQuery {
    status: Option<String>,
}

async fn list_appeals(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiQuery(query): ApiQuery<AppealQuery>,
) -> AppResult<Json<Page<AppealView>>> {
    let only_open = match query.status.as_deref() {
        None => false,
        Some("open") => true,
        Some(_) => return Err(AppError::validation("status", "must be open")),
    };
    Ok(Json(Page {
        items: appeals::list(&state.db, &auth, only_open).await?,
        next_cursor: None,
    }))
}

async fn close_appeal(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<CloseRequest>,
) -> AppResult<Json<AppealView>> {
    Ok(Json(appeals::close(&state.db, &auth, id, request).await?))
}
