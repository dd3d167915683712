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
use crate::service::carbon_tables::{self, CarbonTableVersion};
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_benchmarks, list_benchmarks))
        .routes(routes!(show_benchmarks))
        .routes(routes!(create_carbon_table))
        .routes(routes!(list_carbon_tables))
        .routes(routes!(show_carbon_table))
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CarbonPublishQuery {
    /// The new version's name, e.g. `GEC-GF 2024`.
    version: String,
}

/// Publishes a new version of one carbon table of methodology §10 (CSV, the columns of the
/// compiled-in table): `fuel` (GEC-CF), `grid` (GEC-GF) or `benchmark` (GEC-CB). Carbon is
/// computed with the newest of each kind from then on; every carbon trace names its versions.
/// Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/carbon-tables/{kind}", tag = "benchmarks", security(("bearer" = [])),
    params(("kind" = String, Path, description = "fuel, grid or benchmark"), CarbonPublishQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = CarbonTableVersion),
        (status = 409, body = Problem, description = "The version exists already")))]
async fn create_carbon_table(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(query): ApiQuery<CarbonPublishQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, Json<CarbonTableVersion>)> {
    super::require_content_type(&headers, "text/csv")?;
    let published = carbon_tables::publish(
        &state.db,
        &auth.actor(),
        Some(auth.account_id),
        &kind,
        &query.version,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(published)))
}

#[derive(Serialize, ToSchema)]
struct CarbonTableList {
    items: Vec<CarbonTableVersion>,
    next_cursor: Option<String>,
}

/// Every published carbon table version, oldest first, those in force marked. Who may call it:
/// anyone.
#[utoipa::path(get, path = "/api/v1/carbon-tables", tag = "benchmarks",
    responses((status = 200, body = CarbonTableList)))]
async fn list_carbon_tables(State(state): State<AppState>) -> AppResult<Json<CarbonTableList>> {
    Ok(Json(CarbonTableList {
        items: carbon_tables::list(&state.db).await?,
        next_cursor: None,
    }))
}

/// One published carbon table, as the CSV it was published as. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/carbon-tables/{kind}/{version}", tag = "benchmarks",
    params(("kind" = String, Path, description = "fuel, grid or benchmark"),
           ("version" = String, Path, max_length = 40)),
    responses((status = 200, body = String, content_type = "text/csv"),
              (status = 404, body = Problem)))]
async fn show_carbon_table(
    State(state): State<AppState>,
    ApiPath((kind, version)): ApiPath<(String, String)>,
) -> AppResult<impl axum::response::IntoResponse> {
    let text = carbon_tables::csv(&state.db, &kind, &version).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        text,
    ))
}
