//! A firm's requests for a service and the provider's answers.

use crate::db::Db;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::WriteTxn;
use crate::error::{AppError, AppResult};
use crate::service::accounts::{Caller, Role};
use crate::service::fields;
use crate::service::workflow::{self, Whose, Workflow};
use crate::store::firms;
use crate::store::service_requests::{self, RequestStatus};
use crate::store::services::{self, ServiceStatus};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceRequest {
    pub service_id: i64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub status: AnswerStatus,
    pub note: String,
}

/// What a provider may answer a request with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    Accepted,
    Declined,
    Done,
}

impl AnswerStatus {
    /// The request's status after this answer.
    pub fn status(self) -> RequestStatus {
        match self {
            AnswerStatus::Accepted => RequestStatus::Accepted,
            AnswerStatus::Declined => RequestStatus::Declined,
            AnswerStatus::Done => RequestStatus::Done,
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceRequestView {
    pub id: i64,
    pub service_id: i64,
    pub service_name: String,
    pub provider: String,
    pub uscc: String,
    pub firm_name: String,
    pub note: String,
    pub status: RequestStatus,
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The requesting account's contact line, for the provider (when given); the service's
    /// own contact is on the service.
    pub firm_contact: Option<String>,
}

pub(super) async fn request_views<C: ConnectionTrait>(
    db: &C,
    list: &[service_requests::Model],
) -> AppResult<Vec<ServiceRequestView>> {
    let services: HashMap<i64, services::Model> = services::Entity::find()
        .filter(services::Column::Id.is_in(list.iter().map(|r| r.service_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let names = fields::org_names(db, services.values().map(|s| s.provider_id)).await?;
    let firms = firms::by_ids(db, list.iter().map(|r| r.firm_id)).await?;
    let contacts = fields::contacts(db, list.iter().filter_map(|r| r.requested_by)).await?;
    Ok(list
        .iter()
        .map(|r| {
            let service = services.get(&r.service_id);
            let firm = firms.get(&r.firm_id);
            ServiceRequestView {
                id: r.id,
                service_id: r.service_id,
                service_name: service.map(|s| s.name.clone()).unwrap_or_default(),
                provider: service
                    .and_then(|s| names.get(&s.provider_id).cloned())
                    .unwrap_or_default(),
                uscc: firm.map(|f| f.uscc.to_string()).unwrap_or_default(),
                firm_name: firm.map(|f| f.name.clone()).unwrap_or_default(),
                note: r.note.clone(),
                status: r.status,
                answer: r.answer.clone(),
                created_at: r.created_at,
                updated_at: r.updated_at,
                firm_contact: r.requested_by.and_then(|id| contacts.get(&id).cloned()),
            }
        })
        .collect())
}

/// Service requests in the offer → ask → decide workflow: providers own the services.
pub struct ServiceRequests;

impl Workflow for ServiceRequests {
    type Row = service_requests::Model;
    type Status = RequestStatus;
    type Answer = String;
    type View = ServiceRequestView;

    const KIND: &'static str = "service_request";
    const ASKED: &'static str = "service_request.create";
    const ANSWERED: &'static str = "service_request.answer";
    const OWNER: Role = Role::Provider;

    fn id(row: &Self::Row) -> i64 {
        row.id
    }

    fn firm_id(row: &Self::Row) -> crate::store::ids::FirmId {
        row.firm_id
    }

    fn status(row: &Self::Row) -> RequestStatus {
        row.status
    }

    fn status_name(status: RequestStatus) -> &'static str {
        status.as_str()
    }

    fn may_become(from: RequestStatus, to: RequestStatus) -> bool {
        from.may_become(to)
    }

    fn is_open(status: RequestStatus) -> bool {
        matches!(status, RequestStatus::Requested | RequestStatus::Accepted)
    }

    async fn find<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<Self::Row>> {
        Ok(service_requests::Entity::find_by_id(id).one(db).await?)
    }

    async fn owner_of<C: ConnectionTrait>(
        db: &C,
        row: &Self::Row,
    ) -> AppResult<Option<crate::store::ids::AccountId>> {
        Ok(services::Entity::find_by_id(row.service_id)
            .one(db)
            .await?
            .map(|s| s.provider_id))
    }

    async fn rows<C: ConnectionTrait>(db: &C, whose: Whose) -> AppResult<Vec<Self::Row>> {
        let mut select =
            service_requests::Entity::find().order_by_desc(service_requests::Column::Id);
        match whose {
            Whose::All => {}
            Whose::Firm(id) => select = select.filter(service_requests::Column::FirmId.eq(id)),
            Whose::Owner(provider) => {
                let own: Vec<i64> = services::Entity::find()
                    .filter(services::Column::ProviderId.eq(provider))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                select = select.filter(service_requests::Column::ServiceId.is_in(own));
            }
        }
        Ok(select.all(db).await?)
    }

    async fn views<C: ConnectionTrait>(db: &C, rows: &[Self::Row]) -> AppResult<Vec<Self::View>> {
        request_views(db, rows).await
    }

    async fn store_answer(
        txn: &WriteTxn,
        row: Self::Row,
        next: RequestStatus,
        note: &String,
        _by: crate::store::ids::AccountId,
        now: DateTime<Utc>,
    ) -> AppResult<Self::Row> {
        let mut model: service_requests::ActiveModel = row.into();
        model.status = Set(next);
        model.answer = Set(Some(note.clone()));
        model.updated_at = Set(now);
        Ok(model.update(txn).await?)
    }

    fn asked_record(view: &Self::View) -> Value {
        json!({"uscc": view.uscc, "service": view.service_name,
               "status": RequestStatus::Requested, "note": view.note})
    }

    fn answered_record(view: &Self::View, next: RequestStatus, note: &String) -> Value {
        json!({"uscc": view.uscc, "service": view.service_name, "status": next, "answer": note})
    }
}

/// A firm requests an approved service. One open request per firm and service.
pub async fn request_service(
    db: &Db,
    caller: &Caller,
    new: NewServiceRequest,
) -> AppResult<ServiceRequestView> {
    let note =
        crate::service::text::optional_note("note", Some(&new.note), 2000)?.unwrap_or_default();
    workflow::ask::<ServiceRequests>(db, caller, async |txn, firm_id, now| {
        let service = services::Entity::find_by_id(new.service_id)
            .one(txn)
            .await?
            .filter(|s| s.status == ServiceStatus::Approved)
            .ok_or_else(|| {
                AppError::field_fault(
                    crate::grading::Fault::Unknown,
                    "service_id",
                    "no approved service has this id",
                )
            })?;
        let open = service_requests::Entity::find()
            .filter(service_requests::Column::ServiceId.eq(service.id))
            .filter(service_requests::Column::FirmId.eq(firm_id))
            .filter(
                service_requests::Column::Status
                    .is_in([RequestStatus::Requested, RequestStatus::Accepted]),
            )
            .one(txn)
            .await?;
        if let Some(open) = open {
            return Err(AppError::Conflict(
                crate::error::Conflict::StillOpen,
                format!("request {} for this service is still open", open.id),
            ));
        }
        Ok(service_requests::ActiveModel {
            service_id: Set(service.id),
            firm_id: Set(firm_id),
            note: Set(note),
            status: Set(RequestStatus::Requested),
            requested_by: Set(Some(caller.account_id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    })
    .await
}

/// The requests a caller sees: a provider those to its services, a firm its own, a regulator
/// all (newest first).
pub async fn list_requests<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
) -> AppResult<Vec<ServiceRequestView>> {
    workflow::list::<ServiceRequests, _>(db, caller).await
}

/// The provider answers a request to one of its services: accept or decline it, or mark it
/// done, with a note.
pub async fn answer(
    db: &Db,
    caller: &Caller,
    id: i64,
    answer: Answer,
) -> AppResult<ServiceRequestView> {
    if caller.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    let note = crate::service::text::note("note", &answer.note, 2000)?;
    workflow::answer::<ServiceRequests>(db, caller, id, answer.status.status(), note).await
}
