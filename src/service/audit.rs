//! Reading the audit trail, for the regulator's API and desk alike: one filter, two orders
//! (the API pages oldest first; the desk shows the newest).

use crate::db::Db;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paging::{Page, keyset};
use crate::error::AppResult;
use crate::store::audit;

/// Which events: every member that is set (and not blank) must match.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// A firm's trail, by its USCC: events about the firm, naming it, or made by its accounts
    /// (its submissions, approvals, codes, certifications, appeals, applications).
    #[param(max_length = 18)]
    pub firm: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    #[param(max_length = 40)]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
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

impl AuditEventView {
    fn of(e: audit::Model) -> Self {
        let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        AuditEventView {
            before: parse(e.before),
            after: parse(e.after),
            id: e.id,
            at: e.at,
            actor: e.actor,
            actor_id: e.actor_id.map(|a| a.0),
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
        }
    }
}

fn filtered(filter: &AuditFilter) -> Select<audit::Entity> {
    let mut select = audit::Entity::find();
    let set = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    if let Some(v) = set(&filter.target_type) {
        select = select.filter(audit::Column::TargetType.eq(v));
    }
    if let Some(v) = set(&filter.target_id) {
        select = select.filter(audit::Column::TargetId.eq(v));
    }
    if let Some(v) = set(&filter.actor) {
        select = select.filter(audit::Column::Actor.eq(v));
    }
    if let Some(v) = set(&filter.action) {
        select = select.filter(audit::Column::Action.eq(v));
    }
    if let Some(uscc) = set(&filter.firm) {
        use sea_orm::sea_query::Query;
        // Only the characters of a USCC reach the pattern.
        let uscc: String = uscc
            .trim()
            .to_ascii_uppercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(18)
            .collect();
        let pattern = format!("%{uscc}%");
        let accounts = Query::select()
            .column(crate::store::accounts::Column::Id)
            .from(crate::store::accounts::Entity)
            .and_where(
                crate::store::accounts::Column::FirmId.in_subquery(
                    Query::select()
                        .column(crate::store::firms::Column::Id)
                        .from(crate::store::firms::Entity)
                        .and_where(crate::store::firms::Column::Uscc.eq(uscc.clone()))
                        .to_owned(),
                ),
            )
            .to_owned();
        select = select.filter(
            sea_orm::Condition::any()
                .add(audit::Column::TargetId.eq(uscc))
                .add(audit::Column::After.like(pattern.clone()))
                .add(audit::Column::Before.like(pattern))
                .add(audit::Column::ActorId.in_subquery(accounts)),
        );
    }
    if let Some(since) = filter.since {
        select = select.filter(audit::Column::At.gte(since));
    }
    if let Some(until) = filter.until {
        select = select.filter(audit::Column::At.lt(until));
    }
    select
}

/// A page of matching events, oldest first.
pub async fn list(db: &Db, filter: &AuditFilter) -> AppResult<Page<AuditEventView>> {
    let page = keyset(
        db,
        filtered(filter),
        audit::Column::Id,
        |e| e.id,
        filter.cursor.as_deref(),
        filter.limit,
    )
    .await?;
    Ok(page.map(AuditEventView::of))
}

/// The newest `n` matching events, newest first.
pub async fn latest(db: &Db, filter: &AuditFilter, n: u64) -> AppResult<Vec<AuditEventView>> {
    Ok(filtered(filter)
        .order_by_desc(audit::Column::Id)
        .limit(n)
        .all(db)
        .await?
        .into_iter()
        .map(AuditEventView::of)
        .collect())
}
