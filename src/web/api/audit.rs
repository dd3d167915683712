//! `GET /api/v1/audit/events`: the regulator's view of the append-only audit trail.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiQuery;
use crate::error::AppResult;
use crate::service::audit::{self, AuditEventView, AuditFilter};
use crate::service::paging::Page;
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

/// The audit trail, oldest first, filtered. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", security(("bearer" = [])),
    params(AuditFilter), responses((status = 200, body = Page<AuditEventView>)))]
async fn list_audit_events(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> AppResult<Json<Page<AuditEventView>>> {
    Ok(Json(audit::list(&state.db, &filter).await?))
}
