//! Assessments: a firm's yearly data, graded as a preview, submitted for review, rejected (or,
//! later, approved). The stored input is the exact input of methodology §1 — the firm's data
//! plus its certifications and vetoes as recorded at that moment — so that the grade can be
//! recomputed from the record alone.

mod views;

use crate::db::Db;
use crate::service::write::{Audited, audited};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::accounts::{Caller, Role};
pub use super::firms::{firm_at, firm_for};
pub use super::paging::{Page, page_cursor, page_limit};
use super::records;
use crate::error::{AppError, AppResult};
use crate::grading::{self, BenchmarkTable, Graded, finance};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::audit::{self, Actor, Change};
use crate::store::{certifications, firms, vetoes};
pub use views::{AssessmentRequest, AssessmentView, CarbonView, PreviewResponse};

/// A submission computed and checked, not yet stored.
pub struct Prepared {
    pub firm: firms::Model,
    /// The §1 input as checked, and its canonical JSON.
    pub assessment: grading::Assessment,
    pub input: String,
    pub graded: Graded,
    /// The carbon computation (methodology §10) with the tables in force; none for a division
    /// without a carbon baseline.
    pub carbon: Option<grading::carbon::Carbon>,
    /// The carbon tables it was computed with.
    pub carbon_tables: std::sync::Arc<grading::carbon::CarbonTables>,
    /// Each figure's basis beside the sources (数据直连), and the firm's reason for the figures
    /// apart from them; set by `submit`.
    pub basis: Option<Vec<super::readings::FigureBasis>>,
    pub declared_reason: Option<String>,
    /// What the checks against the previous approved year and the industry found abnormal.
    pub abnormal: Vec<super::abnormal::Finding>,
}

/// Builds the §1 input from the caller's data and the firm's records, and grades it.
pub async fn prepare<C: ConnectionTrait>(
    db: &C,
    caches: &super::cache::Caches,
    caller: &Caller,
    request: &AssessmentRequest,
    table: &BenchmarkTable,
) -> AppResult<Prepared> {
    request.check_shape()?;
    let uscc = request.uscc()?;
    let firm = firm_for(db, caller, uscc).await?;
    let certs = certifications::of_firm(db, firm.id).await?;
    let vetoes = vetoes::of_firm(db, firm.id).await?;
    let carbon_tables = super::carbon_tables::in_force(db, caches).await?;
    prepare_with(firm, request, &certs, &vetoes, table, carbon_tables)
}

/// Grades a request for a firm whose records are already read (many firms at once read their
/// records together).
pub fn prepare_with(
    firm: firms::Model,
    request: &AssessmentRequest,
    certs: &[certifications::Model],
    vetoes: &[vetoes::Model],
    table: &BenchmarkTable,
    carbon_tables: std::sync::Arc<grading::carbon::CarbonTables>,
) -> AppResult<Prepared> {
    let data: Map<String, Value> = (request.graded_members().into_iter())
        .filter_map(|(name, value)| Some((name.to_owned(), value?.clone())))
        .collect();
    let checked = grading::check(&assemble_input((&firm).into(), &data, certs, vetoes), table)?;
    // Only a completed reporting year is graded: its figures are final.
    if i32::from(checked.assessment.period) >= chrono::Datelike::year(&records::today()) {
        return Err(AppError::fault("period", grading::Fault::YearOpen));
    }
    Ok(Prepared {
        firm,
        input: checked.canonical_input(),
        carbon: grading::carbon::compute(&checked.assessment, &carbon_tables),
        carbon_tables,
        assessment: checked.assessment,
        graded: checked.graded,
        basis: None,
        declared_reason: None,
        abnormal: Vec::new(),
    })
}

/// What of a firm its §1 object states.
#[derive(Clone, Copy)]
pub struct FirmKey<'a> {
    pub uscc: &'a str,
    pub industry_code: &'a str,
}

impl<'a> From<&'a firms::Model> for FirmKey<'a> {
    fn from(firm: &'a firms::Model) -> Self {
        FirmKey {
            uscc: firm.uscc.as_str(),
            industry_code: &firm.industry_code,
        }
    }
}

/// The §1 object, members in the methodology's order; `assessed_on` defaults to today (China).
pub fn assemble_input(
    firm: FirmKey<'_>,
    data: &Map<String, Value>,
    certs: &[certifications::Model],
    vetoes: &[vetoes::Model],
) -> Value {
    let (certs, vetoes) = records::input_lists(certs, vetoes);
    let member = |name: &str| data.get(name).cloned().unwrap_or(Value::Null);
    let mut input = Map::new();
    input.insert("uscc".into(), Value::String(firm.uscc.to_owned()));
    input.insert(
        "industry_code".into(),
        Value::String(firm.industry_code.to_owned()),
    );
    for name in [
        "period",
        "assessed_on",
        "value_added_10k_cny",
        "energy",
        "waste",
        "green_power_kwh",
    ] {
        if data.contains_key(name) {
            input.insert(name.into(), member(name));
        }
    }
    if !data.contains_key("assessed_on") || data.get("assessed_on") == Some(&Value::Null) {
        input.insert(
            "assessed_on".into(),
            Value::String(records::today().to_string()),
        );
    }
    input.insert("certifications".into(), certs);
    input.insert("vetoes".into(), vetoes);
    Value::Object(input)
}

pub async fn preview(
    db: &Db,
    caches: &super::cache::Caches,
    caller: &Caller,
    request: &AssessmentRequest,
) -> AppResult<PreviewResponse> {
    let table = super::benchmarks::in_force(db, caches).await?;
    let prepared = prepare(db, caches, caller, request, &table).await?;
    let g = &prepared.graded;
    let way_up = grading::way_up::way_up(&prepared.assessment, &table)?;
    Ok(PreviewResponse {
        uscc: prepared.firm.uscc.to_string(),
        input: prepared.assessment.to_json(),
        way_up,
        trace: g.trace.clone(),
        trace_hash: g.trace_hash.clone(),
        score: g.trace.score.clone(),
        grade: g.grade,
        finance: finance::finance(g.grade),
        services: finance::services(g.grade, g.waste_score),
        carbon: prepared.carbon.clone().map(|c| {
            let mut view = CarbonView::from(c);
            view.way_up = grading::carbon_way_up::carbon_way_up(
                &prepared.assessment,
                &prepared.carbon_tables,
            );
            view
        }),
    })
}

/// A stored assessment's input, read again with its recorded benchmark version; `None` when
/// that version is no longer on record.
async fn stored_input(
    db: &Db,
    caches: &super::cache::Caches,
    a: &assessments::Model,
) -> AppResult<Option<(grading::Assessment, std::sync::Arc<grading::BenchmarkTable>)>> {
    let Some(table) = super::benchmarks::by_version(db, caches, &a.benchmarks).await? else {
        return Ok(None);
    };
    let input: Value = serde_json::from_str(&a.input).map_err(AppError::internal)?;
    let assessment = grading::Assessment::from_json(&input, &table)?;
    Ok(Some((assessment, table)))
}

/// The way up (methodology §9) of a stored assessment, from its recorded input and benchmark
/// version; `None` when that version is no longer on record.
pub async fn way_up_of(
    db: &Db,
    caches: &super::cache::Caches,
    a: &assessments::Model,
) -> AppResult<Option<grading::way_up::WayUp>> {
    match stored_input(db, caches, a).await? {
        Some((assessment, table)) => Ok(Some(grading::way_up::way_up(&assessment, &table)?)),
        None => Ok(None),
    }
}

/// The carbon way up (GEC-CP 2025.1, docs/carbon-way-up.md) of a stored assessment.
pub async fn carbon_way_up_of(
    db: &Db,
    caches: &super::cache::Caches,
    a: &assessments::Model,
) -> AppResult<Option<grading::carbon_way_up::CarbonWayUp>> {
    Ok(stored_input(db, caches, a)
        .await?
        .and_then(|(assessment, _)| {
            grading::carbon_way_up::carbon_way_up(
                &assessment,
                grading::carbon::CarbonTables::default_tables(),
            )
        }))
}

/// Stores a prepared submission and its audit event on `txn`. A second submission for a firm
/// and period under review is a conflict naming the first.
pub async fn insert_submission<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    actor_id: Option<crate::store::ids::AccountId>,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> AppResult<assessments::Model> {
    let period = i32::from(prepared.graded.trace.period);
    if let Some(first) = assessments::submitted_for(txn, prepared.firm.id, period).await? {
        return Err(AppError::Conflict(
            crate::error::Conflict::UnderReview,
            format!(
                "assessment {} for {} {} is already under review",
                first.id, prepared.firm.uscc, period
            ),
        ));
    }
    let mut row = assessments::submission(
        prepared.firm.id,
        prepared.input.clone(),
        assessments::columns_of(prepared.carbon.clone()),
        &prepared.graded,
        actor_id,
        now,
    );
    if let Some(basis) = &prepared.basis {
        row.basis = Set(Some(
            serde_json::to_string(basis).map_err(AppError::internal)?,
        ));
    }
    row.declared_reason = Set(prepared.declared_reason.clone());
    row.abnormal = Set(Some(
        serde_json::to_string(&prepared.abnormal).map_err(AppError::internal)?,
    ));
    let model = row.insert(txn).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(
            crate::error::Conflict::UnderReview,
            format!(
                "an assessment for {} {} is already under review",
                prepared.firm.uscc, period
            ),
        ),
        _ => e.into(),
    })?;
    audit::record(
        txn,
        actor,
        now,
        Change {
            action: "assessment.submit",
            target_type: "assessment",
            target_id: model.id.to_string(),
            before: None,
            after: Some(AssessmentView::audit(&model, prepared.firm.uscc.as_str())),
        },
    )
    .await?;
    Ok(model)
}

pub async fn submit(
    db: &Db,
    caches: &super::cache::Caches,
    caller: &Caller,
    request: &AssessmentRequest,
) -> AppResult<AssessmentView> {
    let table = super::benchmarks::in_force(db, caches).await?;
    let txn = crate::db::begin_write(db).await?;
    // The records are read inside the transaction, so the stored input is what was on record.
    let mut prepared = prepare(&txn, caches, caller, request, &table).await?;
    // 数据直连: each figure beside what sources attested for the year.
    let (basis, reason) = super::readings::check_declared(
        &txn,
        prepared.firm.uscc.as_str(),
        i32::from(prepared.graded.trace.period),
        &prepared.assessment.to_json(),
        request.discrepancy_reason()?,
    )
    .await?;
    prepared.basis = Some(basis);
    prepared.declared_reason = reason;
    prepared.abnormal =
        super::abnormal::check(&txn, prepared.firm.id, &prepared.graded.trace).await?;
    let model = insert_submission(
        &txn,
        &caller.actor(),
        Some(caller.account_id),
        &prepared,
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(AssessmentView::of(&model, &prepared.firm))
}

/// Loads an assessment the caller may see: a firm its own (another's is "not found").
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<(assessments::Model, firms::Model)> {
    let assessment = assessments::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    may_see(caller, &assessment)?;
    let firm = firms::Entity::find_by_id(assessment.firm_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((assessment, firm))
}

/// Whether `caller` may see `assessment`: a firm its own, a bank none.
pub fn may_see(caller: &Caller, assessment: &assessments::Model) -> AppResult<()> {
    if caller.role == Role::Firm && caller.firm_id != Some(assessment.firm_id) {
        return Err(AppError::NotFound);
    }
    if caller.role == Role::Bank {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub reason: String,
}

pub async fn reject(
    db: &Db,
    caller: &Caller,
    id: i64,
    request: RejectRequest,
) -> AppResult<AssessmentView> {
    let reason = super::text::note("reason", &request.reason, 2000)?;
    audited(db, &caller.actor(), async |txn, now| {
        let (current, firm) = visible(txn, caller, id).await?;
        if current.status != AssessmentStatus::Submitted {
            return Err(AppError::Conflict(
                crate::error::Conflict::AlreadyDone,
                format!(
                    "assessment {id} is {}, not submitted",
                    current.status.as_str()
                ),
            ));
        }
        let before = AssessmentView::audit(&current, firm.uscc.as_str());
        let mut model: assessments::ActiveModel = current.into();
        model.status = Set(AssessmentStatus::Rejected);
        model.reject_reason = Set(Some(reason.to_owned()));
        model.reviewed_by = Set(Some(caller.account_id));
        model.reviewed_at = Set(Some(now));
        let updated = model.update(txn).await?;
        let change = Change {
            action: "assessment.reject",
            target_type: "assessment",
            target_id: id.to_string(),
            before: Some(before),
            after: Some(AssessmentView::audit(&updated, firm.uscc.as_str())),
        };
        Ok(Audited::one(AssessmentView::of(&updated, &firm), change))
    })
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub status: Option<String>,
    pub uscc: Option<String>,
    pub period: Option<i32>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// Lists assessments, oldest first; a firm sees only its own.
pub async fn list(db: &Db, caller: &Caller, query: ListQuery) -> AppResult<Page<AssessmentView>> {
    let mut select = assessments::Entity::find();
    if let Some(status) = &query.status {
        let status = AssessmentStatus::parse(status).ok_or_else(|| {
            AppError::field_fault(
                crate::grading::Fault::OneOf,
                "status",
                "must be submitted, rejected or approved",
            )
        })?;
        select = select.filter(assessments::Column::Status.eq(status));
    }
    if let Some(period) = query.period {
        select = select.filter(assessments::Column::Period.eq(period));
    }
    match caller.role {
        Role::Firm => {
            let own = caller.firm_id.ok_or(AppError::Forbidden)?;
            select = select.filter(assessments::Column::FirmId.eq(own));
            if let Some(uscc) = &query.uscc {
                let firm = firms::Entity::find_by_id(own)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound)?;
                if !uscc.eq_ignore_ascii_case(firm.uscc.as_str()) {
                    return Ok(Page {
                        items: vec![],
                        next_cursor: None,
                    });
                }
            }
        }
        Role::Regulator => {
            if let Some(uscc) = &query.uscc {
                match firms::find_by_uscc(db, &uscc.to_ascii_uppercase()).await? {
                    Some(firm) => select = select.filter(assessments::Column::FirmId.eq(firm.id)),
                    None => {
                        return Ok(Page {
                            items: vec![],
                            next_cursor: None,
                        });
                    }
                }
            }
        }
        Role::Bank | Role::Provider | Role::Source => return Err(AppError::Forbidden),
    }
    let page = super::paging::keyset(
        db,
        select,
        assessments::Column::Id,
        |a| a.id,
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    let firms = firms::by_ids(db, page.items.iter().map(|a| a.firm_id)).await?;
    let items = page
        .items
        .iter()
        .filter_map(|a| firms.get(&a.firm_id).map(|f| AssessmentView::of(a, f)))
        .collect();
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}
