//! The banks' API: verify one code (anyone), verify up to 1,000 at once, and watch borrowers'
//! grade changes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery};
use crate::error::{AppError, AppResult, Problem};
use crate::service::assessments::page_limit;
use crate::service::verification::{self, BULK_MAX, VerifyResult};
use crate::service::watch::{self, ChangeFeed, WatchedFirm};
use crate::web::AppState;
use crate::web::auth::{Auth, Bank};
use crate::web::extract::UsccPath;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_code))
        .routes(routes!(verify_codes))
        .routes(routes!(list_watchlist))
        .routes(routes!(list_watchlist_changes))
        .routes(routes!(add_to_watchlist, remove_from_watchlist))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The code's URL or its base32 text.
    pub code: String,
}

/// Verifies one code: the verdict, and for a valid code its claims, status and finance.
/// Who may call it: anyone.
#[utoipa::path(post, path = "/api/v1/verify", tag = "verification", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResult)))]
async fn verify_code(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> AppResult<Json<VerifyResult>> {
    let keys = state.keys.current();
    let mut results =
        verification::verify_codes(&state.db, &state.caches, &keys.trusted, &[request.code])
            .await?;
    results
        .pop()
        .map(Json)
        .ok_or_else(|| AppError::internal("no verdict"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    #[schema(max_items = 1000)]
    pub codes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResponse {
    pub results: Vec<VerifyResult>,
}

/// Verifies up to 1,000 codes, a verdict each in the order given. Who may call it: bank.
#[utoipa::path(post, path = "/api/v1/verify/bulk", tag = "verification", security(("bearer" = [])),
    request_body = BulkRequest, responses((status = 200, body = BulkResponse)))]
async fn verify_codes(
    State(state): State<AppState>,
    _auth: Auth<Bank>,
    ApiJson(request): ApiJson<BulkRequest>,
) -> AppResult<Json<BulkResponse>> {
    if request.codes.len() > BULK_MAX {
        return Err(AppError::PayloadTooLarge(format!(
            "at most {BULK_MAX} codes per request, {} given",
            request.codes.len()
        )));
    }
    let keys = state.keys.current();
    let results =
        verification::verify_codes(&state.db, &state.caches, &keys.trusted, &request.codes).await?;
    Ok(Json(BulkResponse { results }))
}

#[derive(Serialize, ToSchema)]
pub struct WatchlistResponse {
    pub items: Vec<WatchedFirm>,
    pub next_cursor: Option<String>,
}

/// The bank's borrowers. Who may call it: bank.
#[utoipa::path(get, path = "/api/v1/watchlist", tag = "watchlist", security(("bearer" = [])),
    responses((status = 200, body = WatchlistResponse)))]
async fn list_watchlist(
    State(state): State<AppState>,
    auth: Auth<Bank>,
) -> AppResult<Json<WatchlistResponse>> {
    Ok(Json(WatchlistResponse {
        items: watch::list(&state.db, &auth).await?,
        next_cursor: None,
    }))
}

/// Watches a firm. Who may call it: bank.
#[utoipa::path(put, path = "/api/v1/watchlist/{uscc}", tag = "watchlist", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 201, description = "Now watched"), (status = 204, description = "Already watched"),
        (status = 404, body = Problem)))]
async fn add_to_watchlist(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Response> {
    let added = watch::watch(&state.db, &auth, &uscc).await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response())
}

/// Stops watching a firm. Who may call it: bank.
#[utoipa::path(delete, path = "/api/v1/watchlist/{uscc}", tag = "watchlist", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 204, description = "Not watched any more"), (status = 404, body = Problem)))]
async fn remove_from_watchlist(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    UsccPath(uscc): UsccPath,
) -> AppResult<StatusCode> {
    watch::unwatch(&state.db, &auth, &uscc).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    since: Option<DateTime<Utc>>,
    #[param(max_length = 40)]
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
}

/// Grade changes of the bank's borrowers, in log order. Who may call it: bank.
#[utoipa::path(get, path = "/api/v1/watchlist/changes", tag = "watchlist", security(("bearer" = [])),
    params(ChangesQuery), responses((status = 200, body = ChangeFeed)))]
async fn list_watchlist_changes(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> AppResult<Json<ChangeFeed>> {
    let limit = page_limit(query.limit)?;
    Ok(Json(
        watch::changes(
            &state.db,
            &auth,
            query.since,
            query.cursor.as_deref(),
            limit,
        )
        .await?,
    ))
}
