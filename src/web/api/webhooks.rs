//! Pushed alerts to banks: register a webhook (its secret shown once), list and stop them, and
//! read every delivery with its attempts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath};
use crate::error::{AppResult, Problem};
use crate::service::paging::Page;
use crate::service::webhooks::{self, DeliveryView, NewWebhook, WebhookView};
use crate::web::AppState;
use crate::web::auth::{Auth, Bank};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(disable))
        .routes(routes!(retry))
        .routes(routes!(deliveries))
}

/// Registers a webhook: events about the firms the bank follows (its watchlist, and firms it
/// approved an application from) are posted to the URL, signed as Standard Webhooks with the
/// `whsec_` secret in this answer — shown once. Private, loopback and link-local addresses are
/// refused unless the operator allows them. Who may call it: bank.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = NewWebhook, responses((status = 201, body = WebhookView)))]
async fn register(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiJson(new): ApiJson<NewWebhook>,
) -> AppResult<(StatusCode, Json<WebhookView>)> {
    Ok((
        StatusCode::CREATED,
        Json(webhooks::register(&state.db, &auth, new, state.config.webhook_allow_private).await?),
    ))
}

/// The bank's webhooks, without their secrets. Who may call it: bank.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Page<WebhookView>)))]
async fn list(
    State(state): State<AppState>,
    auth: Auth<Bank>,
) -> AppResult<Json<Page<WebhookView>>> {
    Ok(Json(Page {
        items: webhooks::list(&state.db, &auth).await?,
        next_cursor: None,
    }))
}

/// Stops a webhook: nothing more is sent to it. Who may call it: bank (its own).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already stopped")))]
async fn disable(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<WebhookView>> {
    Ok(Json(webhooks::disable(&state.db, &auth, id).await?))
}

/// The endpoint is back: the webhook's undelivered deliveries are due now, in order, instead of
/// at their backoff. Who may call it: bank (its own).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/retry", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = webhooks::Retried), (status = 404, body = Problem), (status = 409, body = Problem, description = "Stopped")))]
async fn retry(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<webhooks::Retried>> {
    Ok(Json(webhooks::retry_now(&state.db, &auth, id).await?))
}

/// A webhook's deliveries (newest first) with every attempt. Who may call it: bank (its own).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = Problem)))]
async fn deliveries(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Page<DeliveryView>>> {
    Ok(Json(Page {
        items: webhooks::deliveries_of(&state.db, &auth, id).await?,
        next_cursor: None,
    }))
}
