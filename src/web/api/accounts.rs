//! `GET /api/v1/me` (who am I) and `GET /api/v1/accounts` (the regulator's list of accounts).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppResult;
use crate::service::accounts::{self, AccountSummary, Role};
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_me))
        .routes(routes!(list_accounts))
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub username: String,
    pub role: Role,
    pub firm_uscc: Option<String>,
}

/// Who the token belongs to. Who may call it: any account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = MeResponse)))]
async fn show_me(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MeResponse>> {
    let firm_uscc = accounts::firm_uscc(&state.db, &auth).await?;
    Ok(Json(MeResponse {
        username: auth.username.clone(),
        role: auth.role,
        firm_uscc,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AccountsResponse {
    pub items: Vec<AccountSummary>,
    pub next_cursor: Option<String>,
}

/// Every account. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountsResponse)))]
async fn list_accounts(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
) -> AppResult<Json<AccountsResponse>> {
    let items = accounts::list_accounts(&state.db).await?;
    Ok(Json(AccountsResponse {
        items,
        next_cursor: None,
    }))
}
