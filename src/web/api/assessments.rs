//! `/api/v1/assessments`: preview, submit, read, list (the review queue), reject.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery};
use crate::error::{AppResult, Problem};
use crate::service::assessments::{
    self, AssessmentRequest, AssessmentView, ListQuery, Page, PreviewResponse, RejectRequest,
};
use crate::service::issue::{self, IssuedCode};
use crate::service::recompute::{self, Recomputed};
use crate::web::AppState;
use crate::web::auth::{Auth, FirmOrRegulator, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(preview_assessment))
        .routes(routes!(create_assessment, list_assessments))
        .routes(routes!(show_assessment))
        .routes(routes!(assessment_report))
        .routes(routes!(reject_assessment))
        .routes(routes!(approve_assessment))
        .routes(routes!(approve_many))
        .routes(routes!(recompute_assessment))
        .routes(routes!(carbon_overview))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CarbonOverviewQuery {
    /// `district` or `division`.
    by: String,
}

/// Carbon efficiency across the firms holding a code in force (methodology §10): levels,
/// emissions, value added and intensity by district or industry division. Who may call it:
/// regulator.
#[utoipa::path(get, path = "/api/v1/carbon/overview", tag = "assessments", security(("bearer" = [])),
    params(CarbonOverviewQuery),
    responses((status = 200, body = crate::service::carbon_summary::CarbonOverview)))]
async fn carbon_overview(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiQuery(q): ApiQuery<CarbonOverviewQuery>,
) -> AppResult<Json<crate::service::carbon_summary::CarbonOverview>> {
    Ok(Json(
        crate::service::carbon_summary::overview(&state.db, &auth, q.by.trim()).await?,
    ))
}

/// Grades yearly data without storing anything. Who may call it: firm (own), regulator.
#[utoipa::path(post, path = "/api/v1/assessments/preview", tag = "assessments",
    security(("bearer" = [])), request_body = AssessmentRequest,
    responses((status = 200, body = PreviewResponse)))]
async fn preview_assessment(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiJson(request): ApiJson<AssessmentRequest>,
) -> AppResult<Json<PreviewResponse>> {
    Ok(Json(
        assessments::preview(&state.db, &state.caches, &auth, &request).await?,
    ))
}

/// Submits yearly data for review. Who may call it: firm (own), regulator.
#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments",
    security(("bearer" = [])), request_body = AssessmentRequest,
    responses((status = 201, body = AssessmentView),
        (status = 409, body = Problem, description = "An assessment for this firm and period is already under review")))]
async fn create_assessment(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiJson(request): ApiJson<AssessmentRequest>,
) -> AppResult<(StatusCode, Json<AssessmentView>)> {
    Ok((
        StatusCode::CREATED,
        Json(assessments::submit(&state.db, &state.caches, &auth, &request).await?),
    ))
}

/// The diagnosis report of an assessment: one A4 page of PDF, in Chinese (`?lang=en` for
/// English) — the firm, its grade and code with the QR, each indicator against its industry,
/// the way up, and the finance, services and policies it qualifies for. Who may call it: firm
/// (own), regulator.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/report.pdf", tag = "assessments",
    security(("bearer" = [])), params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>, description = "The report"),
               (status = 404, body = Problem)))]
async fn assessment_report(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    lang: crate::web::i18n::Lang,
    Path(id): Path<i64>,
) -> AppResult<impl axum::response::IntoResponse> {
    let pdf = crate::web::report::for_assessment(&state, &auth, lang, id).await?;
    Ok((crate::web::report::headers(id), pdf))
}

/// One assessment with its input and trace. Who may call it: firm (own), regulator.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments",
    security(("bearer" = [])), params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem)))]
async fn show_assessment(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    Path(id): Path<i64>,
) -> AppResult<Json<AssessmentView>> {
    let (assessment, firm) = assessments::visible(&state.db, &auth, id).await?;
    let mut view = AssessmentView::of(&assessment, &firm);
    view.way_up = assessments::way_up_of(&state.db, &state.caches, &assessment).await?;
    if let Some(carbon) = view.carbon.as_mut() {
        carbon.way_up =
            assessments::carbon_way_up_of(&state.db, &state.caches, &assessment).await?;
    }
    Ok(Json(view))
}

/// Assessments, oldest first (the review queue with `status=submitted`). Who may call it:
/// firm (own), regulator.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "assessments",
    security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Page<AssessmentView>)))]
async fn list_assessments(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<AssessmentView>>> {
    Ok(Json(assessments::list(&state.db, &auth, query).await?))
}

/// Rejects a submission with a reason. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/reject", tag = "assessments",
    security(("bearer" = [])), params(("id" = i64, Path, minimum = 1)), request_body = RejectRequest,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Not under review"),
        (status = 503, body = Problem, description = "`log_behind`: the database is behind the log's signed checkpoint (a restored backup); see `gec log recover`")))]
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

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The regulator's note of the check, needed when a declared figure differs from what a
    /// data source attested by more than the tolerance (2 % unless the regulator set another).
    #[serde(default)]
    pub note: Option<String>,
    /// The regulator's record of a check of abnormal data (note, date, on site), needed when
    /// the submission's `abnormal` lists findings.
    #[serde(default)]
    pub check: Option<crate::service::abnormal::CheckRecord>,
}

/// Approves a submission: recomputes it, signs the code and logs it. The body is optional;
/// when a declared figure differs from what a data source attested by more than the
/// regulator's tolerance, it must carry the regulator's `note` (recorded with the differences),
/// else 422 `field: note`; when the checks found the data abnormal (`abnormal` on the
/// assessment), it must carry the record of a `check` (audited), else 422 `field: check`. Who
/// may call it: regulator.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/approve", tag = "assessments",
    security(("bearer" = [])), params(("id" = i64, Path, minimum = 1)),
    request_body(content = Option<ApproveRequest>, content_type = "application/json"),
    responses((status = 201, body = IssuedCode), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Not under review"),
        (status = 422, body = Problem, description = "A note is needed")))]
async fn approve_assessment(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<IssuedCode>)> {
    let (note, check) = if body.iter().all(u8::is_ascii_whitespace) {
        (None, None)
    } else {
        super::require_content_type(&headers, "application/json")?;
        let request: ApproveRequest = serde_json::from_slice(&body)
            .map_err(|e| crate::error::AppError::BadRequest(format!("the JSON body: {e}")))?;
        (request.note, request.check)
    };
    let keys = state.keys.current();
    let issued = issue::approve_checked(
        &state.db,
        &state.caches,
        &keys,
        &auth,
        id,
        &state.config.public_url,
        issue::Checks {
            note: note.as_deref(),
            check,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkApproveRequest {
    /// The submissions to approve: 1 to 10,000 assessment ids, none twice.
    pub ids: Vec<i64>,
}

/// Approves many submissions at once (批量审核通过), each through the group commit as one
/// approval would be: a code each, one log append per group. A submission that needs more than
/// the approval — abnormal data (the record of a check) or figures apart from the attested ones
/// (the regulator's note) — or that is not found or not under review is refused for itself,
/// with the problem document approving it alone would have answered; the others are approved.
/// Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/approvals", tag = "assessments",
    security(("bearer" = [])), request_body = BulkApproveRequest,
    responses((status = 200, body = issue::BulkApproval),
        (status = 422, body = Problem, description = "`ids`: none, more than 10,000, or one twice"),
        (status = 503, body = Problem, description = "`log_behind`: the database is behind the log's signed checkpoint (a restored backup); see `gec log recover`")))]
async fn approve_many(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiJson(request): ApiJson<BulkApproveRequest>,
) -> AppResult<Json<issue::BulkApproval>> {
    let keys = state.keys.current();
    Ok(Json(
        issue::approve_many(
            &state.db,
            &state.caches,
            &keys,
            &auth,
            &request.ids,
            &state.config.public_url,
        )
        .await?,
    ))
}

/// Recomputes an assessment from its stored input and recorded versions. Who may call it:
/// regulator.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/recompute", tag = "assessments",
    security(("bearer" = [])), params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = Recomputed), (status = 404, body = Problem)))]
async fn recompute_assessment(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    Path(id): Path<i64>,
) -> AppResult<Json<Recomputed>> {
    Ok(Json(
        recompute::recompute(&state.db, &state.caches, &auth, id).await?,
    ))
}
