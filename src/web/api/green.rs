//! 绿色服务 and 惠企政策 in the API: services (providers publish, regulators approve or
//! suspend, anyone lists), recommendations and service requests, support policies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::error::{AppError, AppResult, Problem};
use crate::service::paging::Page;
use crate::service::policies::{self, NewPolicy, PolicyView, QualifyingFirm};
use crate::service::services::{
    self, Answer, NewService, NewServiceRequest, Recommendations, ServiceRequestView, ServiceView,
};
use crate::store::services::Category;
use crate::web::AppState;
use crate::web::auth::{Auth, Firm, FirmOrRegulator, Provider, ProviderFirmOrRegulator, Regulator};
use crate::web::extract::UsccPath;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_service, list_services))
        .routes(routes!(approve_service))
        .routes(routes!(suspend_service))
        .routes(routes!(recommendations))
        .routes(routes!(create_request, list_requests))
        .routes(routes!(answer_request))
        .routes(routes!(publish_policy, list_policies))
        .routes(routes!(firm_policies))
        .routes(routes!(policy_firms))
}

/// Publishes a service; it is listed once a regulator approves it. Who may call it: provider.
#[utoipa::path(post, path = "/api/v1/services", tag = "services", security(("bearer" = [])),
    request_body = NewService, responses((status = 201, body = ServiceView)))]
async fn publish_service(
    State(state): State<AppState>,
    auth: Auth<Provider>,
    ApiJson(new): ApiJson<NewService>,
) -> AppResult<(StatusCode, Json<ServiceView>)> {
    Ok((
        StatusCode::CREATED,
        Json(services::publish(&state.db, &auth, new).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ServiceQuery {
    /// Only this category.
    category: Option<String>,
    /// Only services offered in this district (or everywhere).
    #[param(max_length = 40)]
    district: Option<String>,
}

/// The approved services. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(ServiceQuery),
    responses((status = 200, body = Page<ServiceView>)))]
async fn list_services(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ServiceQuery>,
) -> AppResult<Json<Page<ServiceView>>> {
    let category = match query.category.as_deref() {
        None => None,
        Some(c) => Some(Category::parse(c).ok_or_else(|| {
            AppError::field_fault(
                crate::grading::Fault::OneOf,
                "category",
                "must be energy, waste, certification, carbon, finance or other",
            )
        })?),
    };
    let district = query
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    Ok(Json(Page {
        items: services::list_approved(&state.db, category, district).await?,
        next_cursor: None,
    }))
}

/// Approves a service: it is listed from now on. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/services/{id}/approve", tag = "services", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ServiceView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already approved")))]
async fn approve_service(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ServiceView>> {
    Ok(Json(services::review(&state.db, &auth, id, true).await?))
}

/// Suspends a service: it is taken down. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/services/{id}/suspend", tag = "services", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ServiceView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already suspended")))]
async fn suspend_service(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ServiceView>> {
    Ok(Json(services::review(&state.db, &auth, id, false).await?))
}

/// Approved services in the firm's district that match the levers of its way up, the most
/// helpful first. Who may call it: the firm itself, regulator.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}/recommendations", tag = "services", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 200, body = Recommendations), (status = 404, body = Problem)))]
async fn recommendations(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Json<Recommendations>> {
    Ok(Json(
        services::recommendations(&state.db, &state.caches, &auth, uscc.as_str()).await?,
    ))
}

/// Requests an approved service. Who may call it: firm.
#[utoipa::path(post, path = "/api/v1/service-requests", tag = "services", security(("bearer" = [])),
    request_body = NewServiceRequest,
    responses((status = 201, body = ServiceRequestView), (status = 409, body = Problem, description = "A request for this service is still open")))]
async fn create_request(
    State(state): State<AppState>,
    auth: Auth<Firm>,
    ApiJson(new): ApiJson<NewServiceRequest>,
) -> AppResult<(StatusCode, Json<ServiceRequestView>)> {
    Ok((
        StatusCode::CREATED,
        Json(services::request_service(&state.db, &auth, new).await?),
    ))
}

/// Service requests: a provider those to its services, a firm its own, a regulator all. Who
/// may call it: provider, firm, regulator.
#[utoipa::path(get, path = "/api/v1/service-requests", tag = "services", security(("bearer" = [])),
    responses((status = 200, body = Page<ServiceRequestView>)))]
async fn list_requests(
    State(state): State<AppState>,
    auth: Auth<ProviderFirmOrRegulator>,
) -> AppResult<Json<Page<ServiceRequestView>>> {
    Ok(Json(Page {
        items: services::list_requests(&state.db, &auth).await?,
        next_cursor: None,
    }))
}

/// Answers a request to one of the provider's services: `accepted` or `declined` (a new
/// request), `done` or `declined` (an accepted one), with a note. Who may call it: provider.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/answer", tag = "services", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)), request_body = Answer,
    responses((status = 200, body = ServiceRequestView), (status = 404, body = Problem), (status = 409, body = Problem, description = "Not an answer this request can take")))]
async fn answer_request(
    State(state): State<AppState>,
    auth: Auth<Provider>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(answer): ApiJson<Answer>,
) -> AppResult<Json<ServiceRequestView>> {
    Ok(Json(services::answer(&state.db, &auth, id, answer).await?))
}

/// Publishes a support policy. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", security(("bearer" = [])),
    request_body = NewPolicy, responses((status = 201, body = PolicyView)))]
async fn publish_policy(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiJson(new): ApiJson<NewPolicy>,
) -> AppResult<(StatusCode, Json<PolicyView>)> {
    Ok((
        StatusCode::CREATED,
        Json(policies::publish(&state.db, &auth, new).await?),
    ))
}

/// The support policies in force today. Who may call it: anyone.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    responses((status = 200, body = Page<PolicyView>)))]
async fn list_policies(State(state): State<AppState>) -> AppResult<Json<Page<PolicyView>>> {
    Ok(Json(Page {
        items: policies::in_force(&state.db, crate::service::records::today()).await?,
        next_cursor: None,
    }))
}

/// The policies a firm qualifies for today, from its current code and its records. Who may
/// call it: the firm itself, regulator.
#[utoipa::path(get, path = "/api/v1/firms/{uscc}/policies", tag = "policies", security(("bearer" = [])),
    params(("uscc" = String, Path, max_length = 40)),
    responses((status = 200, body = Page<PolicyView>), (status = 404, body = Problem)))]
async fn firm_policies(
    State(state): State<AppState>,
    auth: Auth<FirmOrRegulator>,
    UsccPath(uscc): UsccPath,
) -> AppResult<Json<Page<PolicyView>>> {
    Ok(Json(Page {
        items: policies::for_firm(&state.db, &auth, uscc.as_str()).await?,
        next_cursor: None,
    }))
}

/// The firms that qualify for a policy today. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/policies/{id}/firms", tag = "policies", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = Page<QualifyingFirm>), (status = 404, body = Problem)))]
async fn policy_firms(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Page<QualifyingFirm>>> {
    let (_, firms) = policies::qualifying_firms(&state.db, &auth, id).await?;
    Ok(Json(Page {
        items: firms,
        next_cursor: None,
    }))
}
