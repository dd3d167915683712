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
        .routes(routes!(set_contact))
        .routes(routes!(list_accounts))
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub username: String,
    pub role: Role,
    pub firm_uscc: Option<String>,
    /// The account's contact line, shown to the other party of its applications and requests.
    pub contact: Option<String>,
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// A person and a telephone (at most 200 characters); empty removes it.
    pub contact: String,
}

/// Sets the caller's contact line: a bank's is shown to the firms that apply to it, a firm's to
/// the banks and providers it asks, nobody else's sees it. Audited. Who may call it: any account.
#[utoipa::path(put, path = "/api/v1/me/contact", tag = "accounts", security(("bearer" = [])),
    request_body = ContactRequest,
    responses((status = 200, body = MeResponse), (status = 422, description = "the contact is too long or has control characters")))]
async fn set_contact(
    State(state): State<AppState>,
    auth: Auth,
    crate::web::extract::ApiJson(body): crate::web::extract::ApiJson<ContactRequest>,
) -> AppResult<Json<MeResponse>> {
    let contact = accounts::set_contact(&state.db, &auth, &body.contact).await?;
    let firm_uscc = accounts::firm_uscc(&state.db, &auth).await?;
    Ok(Json(MeResponse {
        username: auth.username.clone(),
        role: auth.role,
        firm_uscc,
        contact,
    }))
}

/// Who the token belongs to. Who may call it: any account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = MeResponse)))]
async fn show_me(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MeResponse>> {
    let firm_uscc = accounts::firm_uscc(&state.db, &auth).await?;
    let contact = accounts::contact_of(&state.db, &auth).await?;
    Ok(Json(MeResponse {
        username: auth.username.clone(),
        role: auth.role,
        firm_uscc,
        contact,
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
