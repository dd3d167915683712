//! `POST /api/v1/login`: a username and password for an API token.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use crate::error::{AppResult, Problem};
use crate::service::accounts::{self, API_TOKEN_LIFETIME, Role};
use crate::store::tokens::Kind;
use crate::web::AppState;
use crate::web::auth::{device_of, with_device};
use crate::web::extract::ClientAddr;
use axum_extra::extract::cookie::CookieJar;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_login))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// A username and password for an API token (shown once). Who may call it: anyone. The answer
/// sets a device cookie (`gec_device`); a client that sends it back signs in even while
/// strangers' guesses have its username locked.
#[utoipa::path(post, path = "/api/v1/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = Problem, description = "Wrong username or password"),
        (status = 429, body = Problem, description = "Too many failed attempts; see Retry-After")))]
async fn create_login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    jar: CookieJar,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<impl IntoResponse> {
    let device = device_of(&jar);
    let signed_in = accounts::log_in(
        &state.db,
        &request.username,
        &request.password,
        address,
        device.as_deref(),
    )
    .await?;
    let caller = signed_in.caller;
    let jar = with_device(jar, signed_in.device, state.config.secure_cookies());
    let token = accounts::issue_credential(&state.db, &caller, Kind::Api).await?;
    // A token is shown once, to this caller: no cache may keep the answer.
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        jar,
        Json(LoginResponse {
            token,
            role: caller.role,
            expires_at: Utc::now() + API_TOKEN_LIFETIME,
        }),
    ))
}
