//! 绿色金融 in the API: banks' products, firms' applications with consent (every read of
//! consented data recorded), decisions, and the regulators' figures.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::error::{AppResult, Problem};
use crate::service::finance::{
    self, AccessView, ApplicationView, DecisionRequest, NewApplication, NewProduct, ProductOffer,
    ProductView, Summary,
};
use crate::service::paging::Page;
use crate::web::AppState;
use crate::web::auth::{Auth, Bank, BankFirmOrRegulator, Firm, FirmOrRegulator, Regulator};
use crate::web::extract::UsccPath;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_product, list_products))
        .routes(routes!(withdraw_product))
        .routes(routes!(firm_products))
        .routes(routes!(apply, list_applications))
        .routes(routes!(show_application))
        .routes(routes!(application_accesses))
        .routes(routes!(withdraw_consent))
        .routes(routes!(decide))
        .routes(routes!(reply).layer(axum::extract::DefaultBodyLimit::max(REPLY_BODY_LIMIT)))
        .routes(routes!(application_file))
        .routes(routes!(finance_summary))
}

/// Publishes a green-finance product. Who may call it: bank.
#[utoipa::path(post, path = "/api/v1/products", tag = "finance", security(("bearer" = [])),
    request_body = NewProduct, responses((status = 201, body = ProductView)))]
async fn publish_product(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiJson(new): ApiJson<NewProduct>,
) -> AppResult<(StatusCode, Json<ProductView>)> {
    Ok((
        StatusCode::CREATED,
        Json(finance::publish(&state.db, &auth, new).await?),
    ))
}

/// The products in force today. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/products", tag = "finance",
    responses((status = 200, body = Page<ProductView>)))]
async fn list_products(State(state): State<AppState>) -> AppResult<Json<Page<ProductView>>> {
    Ok(Json(Page {
        items: finance::in_force(&state.db, crate::service::records::today()).await?,
        next_cursor: None,
    }))
}

/// Ends one of the bank's products early. Who may call it: bank (its own).
#[utoipa::path(post, path = "/api/v1/products/{id}/withdraw", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ProductView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already withdrawn")))]
async fn withdraw_product(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ProductView>> {
    Ok(Json(finance::withdraw(&state.db, &auth, id).await?))
}

/// The products a firm qualifies for today, with the rate step for its grade. Who may call it:
/// the firm itself, regulator.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}/products", tag = "finance", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 200, body = Page<ProductOffer>), (status = 404, body = Problem)))]
async fn firm_products(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Json<Page<ProductOffer>>> {
    Ok(Json(Page {
        items: finance::products_for_firm(&state.db, &auth, uscc.as_str()).await?,
        next_cursor: None,
    }))
}

/// Applies for a product, with the firm's code in force attached and its consent to share its
/// figures. Who may call it: firm.
#[utoipa::path(post, path = "/api/v1/applications", tag = "finance", security(("bearer" = [])),
    request_body = NewApplication, responses((status = 201, body = ApplicationView)))]
async fn apply(
    State(state): State<AppState>,
    auth: Auth<Firm>,
    ApiJson(new): ApiJson<NewApplication>,
) -> AppResult<(StatusCode, Json<ApplicationView>)> {
    Ok((
        StatusCode::CREATED,
        Json(finance::apply(&state.db, &auth, new).await?),
    ))
}

/// Applications: a bank those to its products, a firm its own, a regulator all. Who may call
/// it: bank, firm, regulator.
#[utoipa::path(get, path = "/api/v1/applications", tag = "finance", security(("bearer" = [])),
    responses((status = 200, body = Page<ApplicationView>)))]
async fn list_applications(
    State(state): State<AppState>,
    auth: Auth<BankFirmOrRegulator>,
) -> AppResult<Json<Page<ApplicationView>>> {
    Ok(Json(Page {
        items: finance::list(&state.db, &auth).await?,
        next_cursor: None,
    }))
}

/// One application with its code verified now; while a `trace` consent is in force, the
/// assessment's input and trace. A bank's read is recorded for the firm. Who may call it: the
/// bank that owns the product, the firm, regulator.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ApplicationView), (status = 404, body = Problem)))]
async fn show_application(
    State(state): State<AppState>,
    auth: Auth<BankFirmOrRegulator>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ApplicationView>> {
    let keys = state.keys.current();
    Ok(Json(
        finance::show(&state.db, &state.caches, &keys.trusted, &auth, id).await?,
    ))
}

/// Every read of the application's consented data: who, when, what. Who may call it: the firm,
/// the bank that owns the product, regulator.
#[utoipa::path(get, path = "/api/v1/applications/{id}/accesses", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = Page<AccessView>), (status = 404, body = Problem)))]
async fn application_accesses(
    State(state): State<AppState>,
    auth: Auth<BankFirmOrRegulator>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Page<AccessView>>> {
    Ok(Json(Page {
        items: finance::access_log(&state.db, &auth, id).await?,
        next_cursor: None,
    }))
}

/// Withdraws the firm's consent: the bank's reads carry no figures from now on (the
/// application and any decision stay). Who may call it: firm.
#[utoipa::path(delete, path = "/api/v1/applications/{id}/consent", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ApplicationView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already withdrawn")))]
async fn withdraw_consent(
    State(state): State<AppState>,
    auth: Auth<Firm>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ApplicationView>> {
    Ok(Json(finance::withdraw_consent(&state.db, &auth, id).await?))
}

/// The firm answers its bank's request for more: the request and the answer are kept in the
/// application's `thread`, and it goes back to the bank as submitted. Who may call it: the
/// firm that applied.
#[utoipa::path(post, path = "/api/v1/applications/{id}/reply", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)), request_body = finance::ReplyRequest,
    responses((status = 200, body = ApplicationView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Not waiting for an answer")))]
async fn reply(
    State(state): State<AppState>,
    auth: Auth<Firm>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<finance::ReplyRequest>,
) -> AppResult<Json<ApplicationView>> {
    Ok(Json(
        finance::reply(&state.db, &auth, id, request.decoded()?).await?,
    ))
}

/// An answer's body with its files in base64: 10 MB of files and the words.
const REPLY_BODY_LIMIT: usize = 14 * 1024 * 1024;

/// A file the firm attached to an answer, as it was sent (`Content-Disposition: attachment`).
/// Who may call it: the firm that applied, the bank the application went to (its read is
/// recorded for the firm), a regulator.
#[utoipa::path(get, path = "/api/v1/applications/{id}/files/{file_id}", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1), ("file_id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "The file (PDF, PNG or JPEG)", content_type = "application/octet-stream"), (status = 404, body = Problem)))]
async fn application_file(
    State(state): State<AppState>,
    auth: Auth<BankFirmOrRegulator>,
    ApiPath((id, file_id)): ApiPath<(i64, i64)>,
) -> AppResult<axum::response::Response> {
    let (file, bytes) = finance::attachments::read(&state.db, &auth, id, file_id).await?;
    Ok(crate::web::pages::file_response(&file, bytes))
}

/// Decides an application: `approved` (with `amount_10k_cny`, `rate_step_bp`, `term_months`),
/// `declined` or `more_info` (with a `reason`). Who may call it: the bank that owns the product.
#[utoipa::path(post, path = "/api/v1/applications/{id}/decision", tag = "finance", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)), request_body = DecisionRequest,
    responses((status = 200, body = ApplicationView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already decided")))]
async fn decide(
    State(state): State<AppState>,
    auth: Auth<Bank>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(decision): ApiJson<DecisionRequest>,
) -> AppResult<Json<ApplicationView>> {
    Ok(Json(finance::decide(&state.db, &auth, id, decision).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    /// `grade`, `district`, `division` or `bank`.
    by: String,
    /// The year the applications were made in.
    #[param(minimum = 1990, maximum = 2100)]
    period: i32,
}

/// What the code did for green finance in a year. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/finance/summary", tag = "finance", security(("bearer" = [])),
    params(SummaryQuery), responses((status = 200, body = Summary)))]
async fn finance_summary(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> AppResult<Json<Summary>> {
    Ok(Json(
        finance::summary(&state.db, &auth, q.by.trim(), q.period).await?,
    ))
}
