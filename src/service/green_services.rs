//! 绿色服务: providers publish services, regulators approve (or suspend) them, anyone lists the
//! approved ones; a firm is recommended the services that match the levers of its way up, and
//! requests one; the provider answers. Every step is an audit event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{Caller, Role};
use super::cache::Caches;
use super::fields;
use crate::error::{AppError, AppResult};
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::grading::way_up::WayUp;
use crate::store::audit::{self, Change};
use crate::store::service_requests::{self, RequestStatus};
use crate::store::services::{self, Category, ServiceStatus};
use crate::store::{assessments, codes, firms};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub name: String,
    /// `energy`, `waste`, `certification`, `carbon`, `finance` or `other`.
    pub category: String,
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

fn view(s: &services::Model, names: &HashMap<i64, String>) -> ServiceView {
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

async fn views<C: ConnectionTrait>(
    db: &C,
    list: &[services::Model],
) -> AppResult<Vec<ServiceView>> {
    let names = fields::org_names(db, list.iter().map(|s| s.provider_id)).await?;
    Ok(list.iter().map(|s| view(s, &names)).collect())
}

/// A provider publishes a service; it waits for a regulator's approval.
pub async fn publish(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewService,
) -> AppResult<ServiceView> {
    if caller.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    let name = super::text::line("name", &new.name, 200)?;
    let category = Category::parse(new.category.trim()).ok_or_else(|| {
        AppError::validation(
            "category",
            "must be energy, waste, certification, carbon, finance or other",
        )
    })?;
    let description = super::text::note("description", &new.description, 4000)?;
    let districts = fields::districts("districts", &new.districts)?;
    let contact = super::text::line("contact", &new.contact, 200)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
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
    .insert(&txn)
    .await?;
    let shown = views(&txn, std::slice::from_ref(&model)).await?.remove(0);
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "service.publish",
            target_type: "service",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"name": shown.name, "category": category.as_str(),
                               "districts": shown.districts, "status": ServiceStatus::Pending})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// A regulator approves a service (listed from then on) or suspends it (taken down).
pub async fn review(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    approve: bool,
) -> AppResult<ServiceView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let current = services::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let next = if approve {
        ServiceStatus::Approved
    } else {
        ServiceStatus::Suspended
    };
    if current.status == next {
        return Err(AppError::Conflict(format!(
            "service {id} is already {}",
            next.as_str()
        )));
    }
    let before = current.status;
    let mut model: services::ActiveModel = current.into();
    model.status = Set(next);
    model.reviewed_by = Set(Some(caller.account_id));
    model.reviewed_at = Set(Some(now));
    let updated = model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: if approve {
                "service.approve"
            } else {
                "service.suspend"
            },
            target_type: "service",
            target_id: id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(json!({"status": next, "name": updated.name})),
        },
    )
    .await?;
    let shown = views(&txn, std::slice::from_ref(&updated)).await?.remove(0);
    txn.commit().await?;
    Ok(shown)
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

/// One lever of a firm's way up, as a service category can help with it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Lever {
    pub category: Category,
    /// The grade the lever reaches alone.
    pub grade: crate::grading::Grade,
    /// How big the change is, in per cent (energy: the cut; waste: percentage points more
    /// utilised; a certification counts as 15).
    pub effort: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Recommended {
    #[serde(flatten)]
    pub service: ServiceView,
    /// The lever it helps with.
    pub lever: Category,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Recommendations {
    pub uscc: String,
    pub district: String,
    /// The levers of the way up to the next grade, the smallest change first.
    pub levers: Vec<Lever>,
    /// Approved services in the firm's district for those levers, the most helpful first.
    pub services: Vec<Recommended>,
}

/// A certification's effort in the ranking: about that of a 15 % change (a decision of this
/// service; the way up itself is exact).
const CERTIFICATION_EFFORT: i128 = 15;

/// The levers of the way up to the next grade that any single change reaches, the smallest
/// change first. `rate` is the firm's waste utilisation rate now (a fraction), if applicable.
pub fn levers(way_up: &WayUp, rate: Option<&str>) -> Vec<Lever> {
    let Some(next) = way_up.targets.first() else {
        return Vec::new();
    };
    let number = |t: &str| parse_decimal(t).ok().map(Fixed::from);
    let mut out: Vec<(Fixed, Lever)> = Vec::new();
    if let Some(e) = &next.energy
        && let Some(cut) = number(&e.cut_percent)
    {
        out.push((
            cut,
            Lever {
                category: Category::Energy,
                grade: next.grade,
                effort: cut.round(2).fixed_text(),
            },
        ));
    }
    if let Some(w) = &next.waste
        && let (Some(target), Some(now)) = (number(&w.rate), rate.and_then(number))
    {
        let points = (target - now) * Fixed::integer(100);
        out.push((
            points,
            Lever {
                category: Category::Waste,
                grade: next.grade,
                effort: points.round(2).fixed_text(),
            },
        ));
    }
    if !next.certifications.is_empty() {
        out.push((
            Fixed::integer(CERTIFICATION_EFFORT),
            Lever {
                category: Category::Certification,
                grade: next.grade,
                effort: Fixed::integer(CERTIFICATION_EFFORT).round(2).fixed_text(),
            },
        ));
    }
    out.sort_by_key(|(effort, _)| *effort);
    out.into_iter().map(|(_, l)| l).collect()
}

/// The lever a service category helps with (carbon accounting helps the energy lever).
fn lever_of(category: Category) -> Option<Category> {
    match category {
        Category::Energy | Category::Carbon => Some(Category::Energy),
        Category::Waste => Some(Category::Waste),
        Category::Certification => Some(Category::Certification),
        Category::Finance | Category::Other => None,
    }
}

/// Orders approved services for a firm: those whose category helps with a lever, the lever
/// with the smallest change first; within a lever the direct category before carbon, then the
/// oldest listing first.
pub fn rank(levers: &[Lever], district: &str, approved: Vec<ServiceView>) -> Vec<Recommended> {
    let mut ranked: Vec<(usize, bool, i64, Recommended)> = approved
        .into_iter()
        .filter(|s| s.districts.is_empty() || s.districts.iter().any(|d| d == district))
        .filter_map(|s| {
            let lever = lever_of(s.category)?;
            let position = levers.iter().position(|l| l.category == lever)?;
            Some((
                position,
                s.category == Category::Carbon,
                s.id,
                Recommended { service: s, lever },
            ))
        })
        .collect();
    ranked.sort_by_key(|(position, carbon, id, _)| (*position, *carbon, *id));
    ranked.into_iter().map(|(_, _, _, r)| r).collect()
}

/// The firm a caller may read: the firm itself, or any firm for a regulator.
pub async fn readable_firm<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    uscc: &str,
) -> AppResult<firms::Model> {
    let firm = firms::find_by_uscc(db, uscc)
        .await?
        .ok_or(AppError::NotFound)?;
    match caller.role {
        Role::Regulator => Ok(firm),
        Role::Firm if caller.firm_id == Some(firm.id) => Ok(firm),
        // Another firm's recommendations are not its business: as if there were none.
        Role::Firm => Err(AppError::NotFound),
        _ => Err(AppError::Forbidden),
    }
}

/// The assessment a firm's grade stands on: its current code's, else its newest approved one.
pub async fn graded_assessment<C: ConnectionTrait>(
    db: &C,
    firm: &firms::Model,
) -> AppResult<Option<assessments::Model>> {
    if let Some(serial) = firm.current_serial
        && let Some(code) = codes::Entity::find_by_id(serial).one(db).await?
    {
        return Ok(assessments::Entity::find_by_id(code.assessment_id)
            .one(db)
            .await?);
    }
    Ok(assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm.id))
        .filter(assessments::Column::Status.eq(assessments::AssessmentStatus::Approved))
        .order_by_desc(assessments::Column::Id)
        .one(db)
        .await?)
}

/// The services recommended to a firm: approved, in its district, matching its way up.
pub async fn recommendations(
    db: &DatabaseConnection,
    caches: &Caches,
    caller: &Caller,
    uscc: &str,
) -> AppResult<Recommendations> {
    let firm = readable_firm(db, caller, uscc).await?;
    let levers = match graded_assessment(db, &firm).await? {
        Some(a) => {
            let rate = serde_json::from_str::<crate::grading::Trace>(&a.trace)
                .ok()
                .and_then(|t| t.waste.rate);
            match super::assessments::way_up_of(db, caches, &a).await? {
                Some(way_up) => levers(&way_up, rate.as_deref()),
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let approved = list_approved(db, None, Some(&firm.district)).await?;
    Ok(Recommendations {
        services: rank(&levers, &firm.district, approved),
        uscc: firm.uscc,
        district: firm.district,
        levers,
    })
}

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
    /// `accepted`, `declined` or `done`.
    pub status: String,
    pub note: String,
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
}

async fn request_views<C: ConnectionTrait>(
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
                uscc: firm.map(|f| f.uscc.clone()).unwrap_or_default(),
                firm_name: firm.map(|f| f.name.clone()).unwrap_or_default(),
                note: r.note.clone(),
                status: r.status,
                answer: r.answer.clone(),
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        })
        .collect())
}

/// A firm requests an approved service. One open request per firm and service.
pub async fn request_service(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewServiceRequest,
) -> AppResult<ServiceRequestView> {
    let firm_id = match (caller.role, caller.firm_id) {
        (Role::Firm, Some(id)) => id,
        _ => return Err(AppError::Forbidden),
    };
    let note = super::text::optional_note("note", Some(&new.note), 2000)?.unwrap_or_default();
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let service = services::Entity::find_by_id(new.service_id)
        .one(&txn)
        .await?
        .filter(|s| s.status == ServiceStatus::Approved)
        .ok_or_else(|| AppError::validation("service_id", "no approved service has this id"))?;
    let open = service_requests::Entity::find()
        .filter(service_requests::Column::ServiceId.eq(service.id))
        .filter(service_requests::Column::FirmId.eq(firm_id))
        .filter(
            service_requests::Column::Status
                .is_in([RequestStatus::Requested, RequestStatus::Accepted]),
        )
        .one(&txn)
        .await?;
    if let Some(open) = open {
        return Err(AppError::Conflict(format!(
            "request {} for this service is still open",
            open.id
        )));
    }
    let model = service_requests::ActiveModel {
        service_id: Set(service.id),
        firm_id: Set(firm_id),
        note: Set(note),
        status: Set(RequestStatus::Requested),
        requested_by: Set(Some(caller.account_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let shown = request_views(&txn, std::slice::from_ref(&model))
        .await?
        .remove(0);
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "service_request.create",
            target_type: "service_request",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"uscc": shown.uscc, "service": shown.service_name,
                               "status": RequestStatus::Requested, "note": shown.note})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// The requests a caller sees: a provider those to its services, a firm its own, a regulator
/// all (newest first).
pub async fn list_requests<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
) -> AppResult<Vec<ServiceRequestView>> {
    let mut select = service_requests::Entity::find().order_by_desc(service_requests::Column::Id);
    match (caller.role, caller.firm_id) {
        (Role::Regulator, _) => {}
        (Role::Firm, Some(id)) => {
            select = select.filter(service_requests::Column::FirmId.eq(id));
        }
        (Role::Provider, _) => {
            let own: Vec<i64> = services::Entity::find()
                .filter(services::Column::ProviderId.eq(caller.account_id))
                .all(db)
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            select = select.filter(service_requests::Column::ServiceId.is_in(own));
        }
        _ => return Err(AppError::Forbidden),
    }
    let list = select.all(db).await?;
    request_views(db, &list).await
}

/// The provider answers a request to one of its services: accept or decline it, or mark it
/// done, with a note.
pub async fn answer(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    answer: Answer,
) -> AppResult<ServiceRequestView> {
    if caller.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    let next = match answer.status.trim() {
        "accepted" => RequestStatus::Accepted,
        "declined" => RequestStatus::Declined,
        "done" => RequestStatus::Done,
        _ => {
            return Err(AppError::validation(
                "status",
                "must be accepted, declined or done",
            ));
        }
    };
    let note = super::text::note("note", &answer.note, 2000)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let current = service_requests::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let service = services::Entity::find_by_id(current.service_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    // Another provider's request: as if it did not exist.
    if service.provider_id != caller.account_id {
        return Err(AppError::NotFound);
    }
    if !current.status.may_become(next) {
        return Err(AppError::Conflict(format!(
            "request {id} is {}; it cannot become {}",
            current.status.as_str(),
            next.as_str()
        )));
    }
    let before = current.status;
    let mut model: service_requests::ActiveModel = current.into();
    model.status = Set(next);
    model.answer = Set(Some(note.clone()));
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    let shown = request_views(&txn, std::slice::from_ref(&updated))
        .await?
        .remove(0);
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "service_request.answer",
            target_type: "service_request",
            target_id: id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(json!({"uscc": shown.uscc, "service": shown.service_name,
                               "status": next, "answer": note})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grading::Grade;
    use crate::grading::way_up::{CertificationLever, EnergyLever, Target, WasteLever};

    fn service(id: i64, category: Category, districts: &[&str]) -> ServiceView {
        ServiceView {
            id,
            provider: "P".into(),
            name: format!("s{id}"),
            category,
            description: String::new(),
            districts: districts.iter().map(|d| (*d).to_owned()).collect(),
            contact: String::new(),
            status: ServiceStatus::Approved,
            created_at: Utc::now(),
        }
    }

    fn way_up(cut: &str, rate: &str) -> WayUp {
        WayUp {
            way_up: "GEC-P 2025.1",
            score: "50.00".into(),
            grade: Grade::C,
            vetoed_until: None,
            targets: vec![Target {
                grade: Grade::B,
                threshold: "55".into(),
                energy: Some(EnergyLever {
                    total_tce: "1".into(),
                    cut_tce: "1".into(),
                    cut_percent: cut.into(),
                }),
                waste: Some(WasteLever {
                    utilized_t: "1".into(),
                    rate: rate.into(),
                }),
                certifications: vec![CertificationLever {
                    kind: "iso_50001".into(),
                    score: "62.00".into(),
                }],
            }],
        }
    }

    #[test]
    fn the_smallest_change_comes_first_and_only_matching_services_in_the_district() {
        // Energy: a 14 % cut; waste: 30 points more; a certification: 15.
        let l = levers(&way_up("14.00", "0.90"), Some("0.60"));
        let order: Vec<Category> = l.iter().map(|l| l.category).collect();
        assert_eq!(
            order,
            [Category::Energy, Category::Certification, Category::Waste]
        );
        assert_eq!(l[2].effort, "30.00");
        let approved = vec![
            service(1, Category::Waste, &[]),
            service(2, Category::Carbon, &[]),
            service(3, Category::Finance, &[]),
            service(4, Category::Energy, &["渝北区"]),
            service(5, Category::Energy, &["璧山区"]),
            service(6, Category::Certification, &[]),
        ];
        let ranked: Vec<i64> = rank(&l, "渝北区", approved)
            .iter()
            .map(|r| r.service.id)
            .collect();
        assert_eq!(ranked, [4, 2, 6, 1]);
        // A firm that needs a 40 % cut is better served by waste first.
        let l = levers(&way_up("40.00", "0.70"), Some("0.60"));
        assert_eq!(l[0].category, Category::Waste);
    }
}
