//! The catalogue of green services: published by providers, approved or suspended by regulators,
//! listed once approved.

use crate::db::Db;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::accounts::{Caller, Role};
use crate::service::fields;
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::services::{self, Category, ServiceStatus};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub name: String,
    pub category: Category,
    pub description: String,
    /// The districts served; empty: everywhere.
    #[serde(default)]
    pub districts: Vec<String>,
    pub contact: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    pub id: i64,
    /// The provider's organisation.
    pub provider: String,
    pub name: String,
    pub category: Category,
    pub description: String,
    pub districts: Vec<String>,
    pub contact: String,
    pub status: ServiceStatus,
    pub created_at: DateTime<Utc>,
}

pub(super) fn view(
    s: &services::Model,
    names: &HashMap<crate::store::ids::AccountId, String>,
) -> ServiceView {
    ServiceView {
        id: s.id,
        provider: names.get(&s.provider_id).cloned().unwrap_or_default(),
        name: s.name.clone(),
        category: s.category,
        description: s.description.clone(),
        districts: s.district_list(),
        contact: s.contact.clone(),
        status: s.status,
        created_at: s.created_at,
    }
}

pub(super) async fn views<C: ConnectionTrait>(
    db: &C,
    list: &[services::Model],
) -> AppResult<Vec<ServiceView>> {
    let names = fields::org_names(db, list.iter().map(|s| s.provider_id)).await?;
    Ok(list.iter().map(|s| view(s, &names)).collect())
}

/// A provider publishes a service; it waits for a regulator's approval.
pub async fn publish(db: &Db, caller: &Caller, new: NewService) -> AppResult<ServiceView> {
    if caller.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    let name = crate::service::text::line("name", &new.name, 200)?;
    let category = new.category;
    let description = crate::service::text::note("description", &new.description, 4000)?;
    let districts = fields::districts("districts", &new.districts)?;
    let contact = crate::service::text::line("contact", &new.contact, 200)?;
    audited(db, &caller.actor(), async |txn, now| {
        let model = services::ActiveModel {
            provider_id: Set(caller.account_id),
            name: Set(name),
            category: Set(category),
            description: Set(description),
            districts: Set(serde_json::to_string(&districts).map_err(AppError::internal)?),
            contact: Set(contact),
            status: Set(ServiceStatus::Pending),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let shown = views(txn, std::slice::from_ref(&model)).await?.remove(0);
        let change = Change {
            action: "service.publish",
            target_type: "service",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"name": shown.name, "category": category.as_str(),
                           "districts": shown.districts, "status": ServiceStatus::Pending})),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// A regulator approves a service (listed from then on) or suspends it (taken down).
pub async fn review(db: &Db, caller: &Caller, id: i64, approve: bool) -> AppResult<ServiceView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    audited(db, &caller.actor(), async |txn, now| {
        let current = services::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let next = if approve {
            ServiceStatus::Approved
        } else {
            ServiceStatus::Suspended
        };
        if current.status == next {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                format!("service {id} is already {}", next.as_str()),
            ));
        }
        let before = current.status;
        let mut model: services::ActiveModel = current.into();
        model.status = Set(next);
        model.reviewed_by = Set(Some(caller.account_id));
        model.reviewed_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: if approve {
                "service.approve"
            } else {
                "service.suspend"
            },
            target_type: "service",
            target_id: id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(json!({"status": next, "name": updated.name})),
        };
        let shown = views(txn, std::slice::from_ref(&updated)).await?.remove(0);
        Ok(Audited::one(shown, change))
    })
    .await
}

/// The approved services, optionally of one category or serving one district.
pub async fn list_approved<C: ConnectionTrait>(
    db: &C,
    category: Option<Category>,
    district: Option<&str>,
) -> AppResult<Vec<ServiceView>> {
    let mut select = services::Entity::find()
        .filter(services::Column::Status.eq(ServiceStatus::Approved))
        .order_by_asc(services::Column::Id);
    if let Some(c) = category {
        select = select.filter(services::Column::Category.eq(c));
    }
    let list: Vec<services::Model> = select
        .all(db)
        .await?
        .into_iter()
        .filter(|s| district.is_none_or(|d| s.serves(d)))
        .collect();
    views(db, &list).await
}

/// The services a caller manages: a provider its own, a regulator all (newest first).
pub async fn list_managed<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
) -> AppResult<Vec<ServiceView>> {
    let mut select = services::Entity::find().order_by_desc(services::Column::Id);
    match caller.role {
        Role::Provider => {
            select = select.filter(services::Column::ProviderId.eq(caller.account_id));
        }
        Role::Regulator => {}
        _ => return Err(AppError::Forbidden),
    }
    let list = select.all(db).await?;
    views(db, &list).await
}
