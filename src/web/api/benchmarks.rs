//! `/api/v1/benchmarks`: read any published table; regulators publish a new version (CSV).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApiPath, ApiQuery};
use crate::error::AppResult;
use crate::service::benchmarks::{self, BenchmarkSetView};
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/benchmarks",
            post(create_benchmarks).get(list_benchmarks),
        )
        .route("/api/v1/benchmarks/{version}", get(show_benchmarks))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishQuery {
    version: String,
}

async fn create_benchmarks(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiQuery(query): ApiQuery<PublishQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, Json<BenchmarkSetView>)> {
    super::require_content_type(&headers, "text/csv")?;
    let view = benchmarks::publish(
        &state.db,
        &auth.actor(),
        Some(auth.account_id),
        &query.version,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize)]
struct VersionItem {
    version: String,
    published_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct VersionList {
    items: Vec<VersionItem>,
    in_force: String,
    next_cursor: Option<String>,
}

async fn list_benchmarks(State(state): State<AppState>) -> AppResult<Json<VersionList>> {
    let items = benchmarks::list(&state.db)
        .await?
        .into_iter()
        .map(|(version, published_at)| VersionItem {
            version,
            published_at,
        })
        .collect();
    let in_force = benchmarks::in_force(&state.db).await?.version.clone();
    Ok(Json(VersionList {
        items,
        in_force,
        next_cursor: None,
    }))
}

async fn show_benchmarks(
    State(state): State<AppState>,
    ApiPath(version): ApiPath<String>,
) -> AppResult<Json<BenchmarkSetView>> {
    Ok(Json(benchmarks::view(&state.db, &version).await?))
}
