//! `/api/v1/benchmarks`: read any published table; regulators publish a new version (CSV).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ApiQuery};
use crate::error::{AppResult, Problem};
use crate::service::benchmarks::{self, BenchmarkSetView};
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_benchmarks, list_benchmarks))
        .routes(routes!(show_benchmarks))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PublishQuery {
    /// The new version's name, e.g. `GEC-B 2026.1`.
    version: String,
}

/// Publishes a new benchmark table (CSV, the columns of GEC-B 2025.1). Who may call it:
/// regulator.
#[utoipa::path(post, path = "/api/v1/benchmarks", tag = "benchmarks", security(("bearer" = [])),
    params(PublishQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = BenchmarkSetView),
        (status = 409, body = Problem, description = "The version exists already")))]
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
        &state.caches,
        &auth.actor(),
        Some(auth.account_id),
        &query.version,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, ToSchema)]
struct VersionItem {
    version: String,
    published_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
struct VersionList {
    items: Vec<VersionItem>,
    in_force: String,
    next_cursor: Option<String>,
}

/// The published versions and the one in force. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/benchmarks", tag = "benchmarks",
    responses((status = 200, body = VersionList)))]
async fn list_benchmarks(State(state): State<AppState>) -> AppResult<Json<VersionList>> {
    let items = benchmarks::list(&state.db)
        .await?
        .into_iter()
        .map(|(version, published_at)| VersionItem {
            version,
            published_at,
        })
        .collect();
    let in_force = benchmarks::in_force(&state.db, &state.caches)
        .await?
        .version
        .clone();
    Ok(Json(VersionList {
        items,
        in_force,
        next_cursor: None,
    }))
}

/// One published table. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/benchmarks/{version}", tag = "benchmarks",
    params(("version" = String, Path, max_length = 40)),
    responses((status = 200, body = BenchmarkSetView), (status = 404, body = Problem)))]
async fn show_benchmarks(
    State(state): State<AppState>,
    ApiPath(version): ApiPath<String>,
) -> AppResult<Json<BenchmarkSetView>> {
    Ok(Json(
        benchmarks::view(&state.db, &state.caches, &version).await?,
    ))
}
