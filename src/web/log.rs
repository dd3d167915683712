//! The public transparency log (token.md §5) and the published keys (§4): checkpoints,
//! entries, inclusion and consistency proofs from stored subtree hashes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::api::{ApiPath, ApiQuery};
use crate::code::KeySetDocument;
use crate::error::{AppError, AppResult, Problem};
use crate::store::tlog;
use crate::tlog::merkle;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_checkpoint))
        .routes(routes!(show_entry))
        .routes(routes!(show_inclusion_proof))
        .routes(routes!(show_consistency_proof))
        .routes(routes!(show_keys))
        .routes(routes!(show_jwks))
}

/// The latest signed checkpoint (a C2SP signed note). Who may call it: anyone.
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = Problem)))]
async fn show_checkpoint(State(state): State<AppState>) -> AppResult<Response> {
    let checkpoint = tlog::latest_checkpoint(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        checkpoint.note,
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
    let entry = tlog::entry_bytes(&state.db, index)
        .await?
        .ok_or(AppError::NotFound)?;
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
        entry.bytes,
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

#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub leaf_hash: String,
    pub proof: Vec<String>,
}

fn encode(hashes: &[merkle::Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

async fn resolve(state: &AppState, plan: &merkle::Plan) -> AppResult<Vec<merkle::Hash>> {
    let nodes = tlog::nodes(&state.db, &plan.nodes()).await?;
    plan.resolve(&nodes)
        .ok_or_else(|| AppError::internal("a log node is missing"))
}

/// An inclusion proof of entry `index` in the tree of `size` (default: the latest). Who may
/// call it: anyone.
#[utoipa::path(get, path = "/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = InclusionProof)))]
async fn show_inclusion_proof(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> AppResult<Json<InclusionProof>> {
    let head = tlog::read_head(&state.db).await?;
    let size = query.size.unwrap_or(head.size);
    if size > head.size {
        return Err(AppError::validation(
            "size",
            format!("the log has {} entries", head.size),
        ));
    }
    if query.index >= size {
        return Err(AppError::validation("index", "must be below size"));
    }
    let entry = tlog::entry_bytes(&state.db, query.index)
        .await?
        .ok_or(AppError::NotFound)?;
    let leaf = hex::decode(&entry.leaf_hash).map_err(AppError::internal)?;
    let proof = resolve(&state, &merkle::inclusion_plan(query.index, size)).await?;
    Ok(Json(InclusionProof {
        index: query.index,
        size,
        leaf_hash: STANDARD.encode(leaf),
        proof: encode(&proof),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<String>,
}

/// A consistency proof between two tree sizes (`to` defaults to the latest). Who may call it:
/// anyone.
#[utoipa::path(get, path = "/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof)))]
async fn show_consistency_proof(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> AppResult<Json<ConsistencyProof>> {
    let head = tlog::read_head(&state.db).await?;
    let to = query.to.unwrap_or(head.size);
    if to > head.size {
        return Err(AppError::validation(
            "to",
            format!("the log has {} entries", head.size),
        ));
    }
    if query.from == 0 || query.from > to {
        return Err(AppError::validation("from", "must be from 1 to `to`"));
    }
    let proof = resolve(&state, &merkle::consistency_plan(query.from, to)).await?;
    Ok(Json(ConsistencyProof {
        from: query.from,
        to,
        proof: encode(&proof),
    }))
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
