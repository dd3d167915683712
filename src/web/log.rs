//! The public transparency log (token.md §5) and the published keys (§4): checkpoints,
//! entries, inclusion and consistency proofs from stored subtree hashes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::{ApiPath, ApiQuery};
use crate::code::KeySetDocument;
use crate::error::{AppError, AppResult, Problem};
use crate::service::log::{self, ConsistencyProof, InclusionProof};
use crate::tlog::tiles::{self, Tile};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_checkpoint))
        .routes(routes!(show_entry))
        .routes(routes!(show_inclusion_proof))
        .routes(routes!(show_consistency_proof))
        .routes(routes!(show_keys))
        .routes(routes!(show_jwks))
        .routes(routes!(show_status_list))
}

/// The log as C2SP tlog-tiles: `/log/tile/<L>/<N>[.p/<W>]` and `/log/tile/entries/<N>[.p/<W>]`
/// (a path of several segments, so outside the API document, which describes it in words).
pub fn tiles() -> axum::Router<AppState> {
    axum::Router::new().route("/log/tile/{*path}", axum::routing::get(show_tile))
}

/// One tile (`{path}` is `<L>/<N>[.p/<W>]`: 256 hashes of tree level 8·L, or W of them for a
/// partial tile) or entry bundle (`entries/<N>[.p/<W>]`: entries prefixed by their 2-byte
/// length), `<N>` written as `x001/234`. Full tiles never change. Who may call it: anyone.
#[utoipa::path(get, path = "/log/tile/{path}", tag = "log",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (several path segments)")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
pub(crate) async fn show_tile(
    State(state): State<AppState>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> AppResult<Response> {
    let tile = Tile::parse(&path).ok_or(AppError::NotFound)?;
    let bytes = log::tile(&state.db, &state.caches.tiles, &tile).await?;
    Ok(tile_response(&tile, bytes))
}

/// A tile kept in memory, for a request that asks no encoding (see `web::fast`).
pub(crate) fn kept_tile_response(state: &AppState, path: &str) -> Option<Response> {
    let tile = Tile::parse(path)?;
    let bytes = state.caches.tiles.get(&tile)?;
    Some(tile_response(&tile, bytes))
}

fn tile_response(tile: &Tile, bytes: axum::body::Bytes) -> Response {
    let cache = if tile.width == tiles::WIDTH {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=10"
    };
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

/// The signed status list (token.md §8): every code's status, 2 bits per serial, in one
/// COSE_Sign1; its version is the log's size and never goes back. Who may call it: anyone.
#[utoipa::path(get, path = "/.well-known/gec/status", tag = "keys",
    responses((status = 200, content_type = "application/cose", body = Vec<u8>),
              (status = 503, body = Problem, description = "The log is behind its signed checkpoint")))]
async fn show_status_list(State(state): State<AppState>) -> AppResult<Response> {
    let keys = state.keys.current();
    let (version, bytes) =
        crate::service::status_list::signed(&state.db, &keys, &state.caches.status_list).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/cose"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            ),
            (
                header::ETAG,
                HeaderValue::from_str(&format!("\"{version}\"")).map_err(AppError::internal)?,
            ),
        ],
        bytes.as_ref().clone(),
    )
        .into_response())
}

/// The latest signed checkpoint (a C2SP signed note). Who may call it: anyone.
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = Problem)))]
async fn show_checkpoint(State(state): State<AppState>) -> AppResult<Response> {
    let note = log::checkpoint(&state.db, &state.keys.current()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note,
    )
        .into_response())
}

/// One log entry's exact bytes (its leaf hash is over them). Who may call it: anyone.
#[utoipa::path(get, path = "/log/entries/{index}", tag = "log",
    params(("index" = String, Path, max_length = 20)),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_entry(
    State(state): State<AppState>,
    ApiPath(index): ApiPath<String>,
) -> AppResult<Response> {
    let index: u64 = index.parse().map_err(|_| AppError::NotFound)?;
    let bytes = log::entry(&state.db, index).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

/// An inclusion proof of entry `index` in the tree of `size` (default: the latest). Who may
/// call it: anyone.
#[utoipa::path(get, path = "/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = InclusionProof)))]
async fn show_inclusion_proof(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> AppResult<Json<InclusionProof>> {
    Ok(Json(
        log::inclusion(&state.db, query.index, query.size).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

/// A consistency proof between two tree sizes (`to` defaults to the latest). Who may call it:
/// anyone.
#[utoipa::path(get, path = "/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof)))]
async fn show_consistency_proof(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> AppResult<Json<ConsistencyProof>> {
    Ok(Json(
        log::consistency(&state.db, query.from, query.to).await?,
    ))
}

/// The code-signing keys and the log key, with their status and windows. Who may call it:
/// anyone.
#[utoipa::path(get, path = "/.well-known/gec/keys.json", tag = "keys",
    responses((status = 200, body = KeySetDocument)))]
async fn show_keys(State(state): State<AppState>) -> Response {
    let keys = state.keys.current();
    (
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(keys.document.clone()),
    )
        .into_response()
}

/// The code-signing keys as a plain JWKS. Who may call it: anyone.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, body = Object)))]
async fn show_jwks(State(state): State<AppState>) -> Response {
    let keys = state.keys.current();
    (
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(keys.document.jwks()),
    )
        .into_response()
}
