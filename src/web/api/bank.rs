//! The banks' API: verify one code (anyone), verify up to 1,000 at once, and watch borrowers'
//! grade changes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::error::{AppError, AppResult};
use crate::service::assessments::page_limit;
use crate::service::verification::{self, VerifyResult};
use crate::service::watch::{self, ChangeFeed, WatchedFirm};
use crate::web::AppState;
use crate::web::auth::{Auth, Bank};

/// The most codes one bulk request may carry.
pub const BULK_MAX: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/verify", post(verify_code))
        .route("/api/v1/verify/bulk", post(verify_codes))
        .route("/api/v1/watchlist", get(list_watchlist))
        .route("/api/v1/watchlist/changes", get(list_watchlist_changes))
        .route(
            "/api/v1/watchlist/{uscc}",
            put(add_to_watchlist).delete(remove_from_watchlist),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub code: String,
}

async fn verify_code(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> AppResult<Json<VerifyResult>> {
    let keys = state.keys.current();
    let mut results = verification::verify_codes(&state.db, &keys.trusted, &[request.code]).await?;
    results
        .pop()
        .map(Json)
        .ok_or_else(|| AppError::internal("no verdict"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub codes: Vec<String>,
}

#[derive(Serialize)]
pub struct BulkResponse {
    pub results: Vec<VerifyResult>,
}

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
    let results = verification::verify_codes(&state.db, &keys.trusted, &request.codes).await?;
    Ok(Json(BulkResponse { results }))
}

#[derive(Serialize)]
pub struct WatchlistResponse {
    pub items: Vec<WatchedFirm>,
    pub next_cursor: Option<String>,
}

async fn list_watchlist(
    State(state): State<AppState>,
    auth: Auth<Bank>,
) -> AppResult<Json<WatchlistResponse>> {
    Ok(Json(WatchlistResponse {
        items: watch::list(&state.db, &auth).await?,
        next_cursor: None,
    }))
}

async fn add_to_watchlist(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(uscc): ApiPath<String>,
) -> AppResult<Response> {
    let added = watch::watch(&state.db, &auth, &uscc).await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response())
}

async fn remove_from_watchlist(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(uscc): ApiPath<String>,
) -> AppResult<StatusCode> {
    watch::unwatch(&state.db, &auth, &uscc).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesQuery {
    since: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<u64>,
}

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
