//! `/api/v1/tokens`: the caller's own API tokens, and revoking one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiPath;
use crate::error::{AppResult, Problem};
use crate::service::paging::Page;
use crate::service::tokens::{self, TokenView};
use crate::web::AppState;
use crate::web::auth::Auth;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
}

/// The caller's live API tokens (their values are never shown again). Who may call it: any
/// account.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Page<TokenView>)))]
async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Page<TokenView>>> {
    Ok(Json(Page::all(tokens::list(&state.db, &auth).await?)))
}

/// Revokes one of the caller's API tokens; it stops working at once. Who may call it: the
/// token's owner.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    tokens::revoke(&state.db, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
