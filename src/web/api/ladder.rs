//! The cultivation ladder (梯度培育) and awards under support policies (政策兑现) in the API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppResult, Problem};
use crate::service::awards::{self, AwardRequest, AwardView, PaidRequest};
use crate::service::ladder::{self, Ladder, LadderFirm, MoveRequest};
use crate::web::AppState;
use crate::web::auth::{Auth, FirmOrRegulator, Regulator};
use crate::web::extract::{ApiPath, UsccPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_ladder))
        .routes(routes!(move_firm))
        .routes(routes!(record_award))
        .routes(routes!(list_awards))
        .routes(routes!(mark_paid))
}

/// The cultivation ladder: each tier (培育库 `pool`, 市级绿色工厂 `municipal`, 国家级绿色工厂候选
/// `national_candidate`) with its criteria — the grade of the code in force, the reporting
/// years in a row graded A or above, the verified certifications — the firms on it, and the
/// candidates for the next round (firms meeting the criteria of the tier above their own).
/// Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/ladder", tag = "year", security(("bearer" = [])),
    responses((status = 200, body = Ladder)))]
async fn show_ladder(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
) -> AppResult<Json<Ladder>> {
    Ok(Json(ladder::ladder(&state.db, &auth).await?))
}

/// Puts a firm on a tier of the ladder (`{"tier": null}` takes it off), with a note; audited
/// with the criteria the firm showed. Who may call it: regulator.
#[utoipa::path(put, path = "/api/v1/ladder/{uscc}", tag = "year", security(("bearer" = [])),
    params(("uscc" = String, Path)), request_body = MoveRequest,
    responses((status = 200, body = LadderFirm), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn move_firm(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    UsccPath(uscc): UsccPath,
    super::ApiJson(body): super::ApiJson<MoveRequest>,
) -> AppResult<Json<LadderFirm>> {
    Ok(Json(
        ladder::move_firm(&state.db, &auth, uscc.as_str(), body).await?,
    ))
}

/// Records an award under a support policy with an amount, to a firm that qualifies for it
/// today: the amount (万元, at most the policy's), the date and the decision's document
/// number; one award per firm and policy; audited. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/policies/{id}/awards", tag = "year", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AwardRequest,
    responses((status = 201, body = AwardView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_award(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
    super::ApiJson(body): super::ApiJson<AwardRequest>,
) -> AppResult<(StatusCode, Json<AwardView>)> {
    Ok((
        StatusCode::CREATED,
        Json(awards::record(&state.db, &auth, id, body).await?),
    ))
}

/// Awards, newest first: all of them for a regulator, the firm's own for a firm. Who may call
/// it: regulator, firm.
#[utoipa::path(get, path = "/api/v1/awards", tag = "year", security(("bearer" = [])),
    responses((status = 200, body = Vec<AwardView>)))]
async fn list_awards(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
) -> AppResult<Json<Vec<AwardView>>> {
    Ok(Json(awards::list(&state.db, &auth).await?))
}

/// Marks an award paid on a day (between the award's date and today); audited. Who may call
/// it: regulator.
#[utoipa::path(post, path = "/api/v1/awards/{id}/paid", tag = "year", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PaidRequest,
    responses((status = 200, body = AwardView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn mark_paid(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
    super::ApiJson(body): super::ApiJson<PaidRequest>,
) -> AppResult<Json<AwardView>> {
    Ok(Json(awards::mark_paid(&state.db, &auth, id, body).await?))
}
