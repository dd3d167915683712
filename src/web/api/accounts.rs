//! `GET /api/v1/me` (who am I) and `GET /api/v1/accounts` (the regulator's list of accounts).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::AppResult;
use crate::service::accounts::{self, AccountSummary, Role};
use crate::store::firms;
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(show_me))
        .route("/api/v1/accounts", get(list_accounts))
}

#[derive(Serialize)]
pub struct MeResponse {
    pub username: String,
    pub role: Role,
    pub firm_uscc: Option<String>,
}

async fn show_me(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MeResponse>> {
    let firm_uscc = match auth.firm_id {
        Some(id) => {
            use sea_orm::EntityTrait;
            firms::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .map(|f| f.uscc)
        }
        None => None,
    };
    Ok(Json(MeResponse {
        username: auth.username.clone(),
        role: auth.role,
        firm_uscc,
    }))
}

#[derive(Serialize)]
pub struct AccountsResponse {
    pub items: Vec<AccountSummary>,
    pub next_cursor: Option<String>,
}

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
