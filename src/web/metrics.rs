//! `/healthz` and `/metrics`: what an operator's probes and Prometheus read.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseBackend;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// `/healthz`, described in the API document.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_health))
}

/// `/metrics` for the operator's Prometheus: served on `--metrics-bind`, never on the public
/// listener.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(show_metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `ok` or `unreachable`.
    pub database: &'static str,
    /// `ok`, or `behind` when the database holds fewer log entries than a checkpoint the log
    /// has signed (a restored backup: codes are not issued or revoked until `gec log recover`).
    pub log: &'static str,
    /// Why the log is behind, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_detail: Option<String>,
}

/// The process-wide recorder (a metrics recorder can be installed once per process).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        builder.install_recorder().unwrap_or_else(|_| {
            // Another recorder is installed already: keep one that is simply never read.
            PrometheusBuilder::new().build_recorder().handle()
        })
    })
}

/// 200 when the database answers. Who may call it: anyone.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = Health, description = "The database does not answer")))]
async fn show_health(State(state): State<AppState>) -> Response {
    let behind = state.keys.guard().behind();
    let log = if behind.is_some() { "behind" } else { "ok" };
    if crate::db::ping(&state.db).await {
        Json(Health {
            // Serving (scans, verification) goes on; issuing waits for the recovery.
            status: if behind.is_some() { "degraded" } else { "ok" },
            database: "ok",
            log,
            log_detail: behind,
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                database: "unreachable",
                log,
                log_detail: behind,
            }),
        )
            .into_response()
    }
}

async fn show_metrics(State(state): State<AppState>) -> Response {
    record_pool(&state);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

fn record_pool(state: &AppState) {
    let (size, idle) = match state.db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = state.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return,
    };
    metrics::gauge!("db_pool_connections").set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
}

/// Counts requests by route and status and times them; runs after routing, so the route is
/// the pattern (`/api/v1/codes/{serial}`), never the raw path with its ids.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    count(&route, &method, response.status().as_u16(), start);
    response
}

/// Counts one answer of `route` and the time since `start`.
pub fn count(route: &str, method: &str, status: u16, start: Instant) {
    metrics::counter!("http_requests_total", "route" => route.to_owned(),
        "method" => method.to_owned(), "status" => status.to_string())
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route.to_owned())
        .record(start.elapsed().as_secs_f64());
}
