//! `/api/v1/appeals`: a firm appeals against an issued grade; regulators close appeals.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::error::{AppError, AppResult, Problem};
use crate::service::appeals::{self, AppealRequest, AppealView, CloseRequest};
use crate::service::assessments::Page;
use crate::web::AppState;
use crate::web::auth::{Auth, Firm, FirmOrRegulator, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_appeal, list_appeals))
        .routes(routes!(close_appeal))
}

/// Appeal against the firm's current grade. Who may call it: firm.
#[utoipa::path(post, path = "/api/v1/appeals", tag = "appeals", security(("bearer" = [])),
    request_body = AppealRequest,
    responses((status = 201, body = AppealView), (status = 404, body = Problem, description = "No current code")))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AppealQuery {
    /// `open` for the appeals not yet closed.
    status: Option<String>,
}

/// Appeals: a firm its own, a regulator all. Who may call it: firm, regulator.
#[utoipa::path(get, path = "/api/v1/appeals", tag = "appeals", security(("bearer" = [])),
    params(AppealQuery), responses((status = 200, body = Page<AppealView>)))]
async fn list_appeals(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiQuery(query): ApiQuery<AppealQuery>,
) -> AppResult<Json<Page<AppealView>>> {
    let only_open = match query.status.as_deref() {
        None => false,
        Some("open") => true,
        Some(_) => {
            return Err(AppError::field_fault(
                crate::grading::Fault::OneOf,
                "status",
                "must be open",
            ));
        }
    };
    Ok(Json(Page {
        items: appeals::list(&state.db, &auth, only_open).await?,
        next_cursor: None,
    }))
}

/// Decides an appeal: its reasons and outcome (upheld, reinstated, regraded; the last two issue
/// a new code). Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/appeals/{id}/close", tag = "appeals", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)), request_body = CloseRequest,
    responses((status = 200, body = AppealView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already closed")))]
async fn close_appeal(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<CloseRequest>,
) -> AppResult<Json<AppealView>> {
    let keys = state.keys.current();
    let issuer = appeals::Issuer {
        caches: &state.caches,
        keys: &keys,
        public_url: &state.config.public_url,
    };
    Ok(Json(
        appeals::close(&state.db, &issuer, &auth, id, request).await?,
    ))
}
