//! `GET /api/v1/audit/events`: the regulator's view of the append-only audit trail.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiQuery;
use crate::error::AppResult;
use crate::service::assessments::{Page, page_cursor, page_limit};
use crate::store::audit;
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    target_type: Option<String>,
    target_id: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// The audit trail, oldest first, filtered. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, body = Page<AuditEventView>)))]
async fn list_audit_events(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> AppResult<Json<Page<AuditEventView>>> {
    let limit = page_limit(query.limit)?;
    let after = page_cursor(query.cursor.as_deref())?;
    let mut select = audit::Entity::find().filter(audit::Column::Id.gt(after));
    if let Some(t) = &query.target_type {
        select = select.filter(audit::Column::TargetType.eq(t.as_str()));
    }
    if let Some(t) = &query.target_id {
        select = select.filter(audit::Column::TargetId.eq(t.as_str()));
    }
    if let Some(a) = &query.actor {
        select = select.filter(audit::Column::Actor.eq(a.as_str()));
    }
    if let Some(a) = &query.action {
        select = select.filter(audit::Column::Action.eq(a.as_str()));
    }
    if let Some(since) = query.since {
        select = select.filter(audit::Column::At.gte(since));
    }
    if let Some(until) = query.until {
        select = select.filter(audit::Column::At.lt(until));
    }
    let rows = select
        .order_by_asc(audit::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if more {
        rows.last().map(|e| e.id.to_string())
    } else {
        None
    };
    let parse = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let items = rows
        .into_iter()
        .map(|e| AuditEventView {
            before: parse(&e.before),
            after: parse(&e.after),
            id: e.id,
            at: e.at,
            actor: e.actor,
            actor_id: e.actor_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
        })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}
