//! The regulator's year in the API (动态管理): the thresholds of the abnormal-data checks, the
//! reporting years with their filing deadline, and the firms that have not filed.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppResult, Problem};
use crate::service::abnormal::AbnormalSettings;
use crate::service::settings;
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(abnormal_settings, put_abnormal_settings))
}

/// The thresholds of the abnormal-data checks a submission goes through (per cent): energy
/// intensity and value added changing from the previous approved year, and intensity below a
/// share of the industry's baseline. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/settings/abnormal", tag = "year", security(("bearer" = [])),
    responses((status = 200, body = AbnormalSettings)))]
async fn abnormal_settings(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
) -> AppResult<Json<AbnormalSettings>> {
    Ok(Json(settings::get(&state.db).await?))
}

/// Changes the thresholds (each a per cent with at most one decimal place: the changes up to
/// 1,000, the floor up to 100); audited as `settings.update`. Submissions from then on are
/// checked with them. Who may call it: regulator.
#[utoipa::path(put, path = "/api/v1/settings/abnormal", tag = "year", security(("bearer" = [])),
    request_body = AbnormalSettings,
    responses((status = 200, body = AbnormalSettings), (status = 422, body = Problem)))]
async fn put_abnormal_settings(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    super::ApiJson(body): super::ApiJson<AbnormalSettings>,
) -> AppResult<Json<AbnormalSettings>> {
    Ok(Json(settings::put(&state.db, &auth, body).await?))
}
