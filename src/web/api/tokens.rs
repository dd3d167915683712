//! `/api/v1/tokens`: the caller's own API tokens and page sessions, and revoking one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ApiQuery};
use crate::error::{AppResult, Problem};
use crate::service::paging::Page;
use crate::service::tokens::{self, CredentialKind, TokenView};
use crate::web::AppState;
use crate::web::auth::Auth;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
}

/// The caller's live API tokens and signed-in page sessions (`kind`; their values are never
/// shown again). Who may call it: any account.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Page<TokenView>)))]
async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Page<TokenView>>> {
    Ok(Json(Page::all(tokens::list(&state.db, &auth).await?)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// `session` to sign a browser out; an API token (`api`) by default.
    #[serde(default)]
    kind: Option<CredentialKind>,
}

/// Revokes one of the caller's API tokens, or with `?kind=session` one of its page sessions;
/// it stops working at once. Who may call it: the credential's owner.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1), RevokeQuery),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<RevokeQuery>,
) -> AppResult<StatusCode> {
    let kind = query.kind.unwrap_or(CredentialKind::Api);
    tokens::revoke(&state.db, &auth, kind, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
