//! 无感申报 (no-touch filing): a firm whose figures for a year all came from data sources is
//! graded from them alone — the §1 input built from the attested figures, submitted on the
//! regulator's word and reviewed and approved like any submission.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::{Attested, attested};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::service::accounts::{Caller, Role};
use crate::service::assessments::{self, AssessmentRequest, AssessmentView};
use crate::store::{assessments as stored, firms, readings};

/// The figures a filing cannot do without: value added, some energy, the waste generated and
/// utilised (the stock utilised and green power are 0 when no source gave them).
const NEEDED: [&str; 3] = [
    "value_added_10k_cny",
    "waste_generated_t",
    "waste_utilized_t",
];

/// The §1 input from a year's attested figures (the first source of each field), or the
/// fields still missing.
pub fn input_from(
    uscc: &str,
    year: i32,
    figures: &[Attested],
) -> Result<serde_json::Value, Vec<String>> {
    let mut first: HashMap<&str, &str> = HashMap::new();
    for a in figures {
        first.entry(a.field.as_str()).or_insert(a.quantity.as_str());
    }
    let energy: Vec<serde_json::Value> = crate::grading::energy::Carrier::ALL
        .iter()
        .filter_map(|c| {
            first
                .get(c.name())
                .map(|q| serde_json::json!({"carrier": c.name(), "quantity": q}))
        })
        .collect();
    let mut missing: Vec<String> = NEEDED
        .iter()
        .filter(|f| !first.contains_key(**f))
        .map(|f| (*f).to_owned())
        .collect();
    if energy.is_empty() {
        missing.insert(0, "energy".to_owned());
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut input = serde_json::json!({
        "uscc": uscc,
        "period": year,
        "value_added_10k_cny": first["value_added_10k_cny"],
        "energy": energy,
        "waste": {
            "generated_t": first["waste_generated_t"],
            "utilized_t": first["waste_utilized_t"],
            "stock_utilized_t": first.get("waste_stock_utilized_t").copied().unwrap_or("0"),
        },
    });
    if let Some(green) = first.get("green_power_kwh") {
        input["green_power_kwh"] = serde_json::json!(green);
    }
    Ok(input)
}

/// Files a firm's year from its attested figures alone (regulators).
pub async fn file(
    db: &Db,
    caches: &crate::service::cache::Caches,
    caller: &Caller,
    uscc: &str,
    year: i32,
) -> AppResult<AssessmentView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let figures = attested(db, uscc, year).await?;
    let input = input_from(uscc, year, &figures).map_err(|missing| {
        AppError::field_fault(
            Fault::Required,
            "readings",
            format!(
                "not every figure of {year} came from a data source: missing {}",
                missing.join(", ")
            ),
        )
    })?;
    let request: AssessmentRequest = serde_json::from_value(input).map_err(AppError::internal)?;
    assessments::submit(db, caches, caller, &request).await
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Incomplete {
    pub uscc: String,
    /// The fields no source delivered (or why the filing was refused).
    pub missing: Vec<String>,
}

/// A firm filed by a run.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Filed {
    /// The assessment now under review.
    pub id: i64,
    pub uscc: String,
}

/// What a run over every firm did.
#[derive(Default, Serialize, utoipa::ToSchema)]
pub struct NoTouchReport {
    /// Firms filed from their attested figures (each now under review).
    pub filed: Vec<Filed>,
    /// Firms with some attested figures but not all, with what is missing.
    pub incomplete: Vec<Incomplete>,
    /// Firms that had already filed the year.
    pub already_filed: u32,
    /// USCCs with readings that no registered firm holds yet (kept for when it registers).
    pub unregistered: u32,
}

/// How far a run has come: firms with readings looked at, of all.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub filed: usize,
    pub incomplete: usize,
    pub already_filed: usize,
}

/// Firms a run looks at together: their records read in a few queries, their filings written
/// in one transaction.
const CHUNK: usize = 500;

/// Files, for every registered firm with readings of `year` and no filing of it, the year from
/// its attested figures, `CHUNK` firms to a transaction; one firm's refusal does not stop the
/// others. `progress` hears after each chunk. The caller checked who may (a regulator's run, or
/// the operator's `gec no-touch`).
pub async fn file_all(
    db: &Db,
    caches: &crate::service::cache::Caches,
    actor: &crate::store::audit::Actor,
    actor_id: Option<crate::store::ids::AccountId>,
    year: i32,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> AppResult<NoTouchReport> {
    let mut usccs: Vec<String> = readings::Entity::find()
        .select_only()
        .column(readings::Column::Uscc)
        .distinct()
        .filter(readings::Column::Year.eq(year))
        .into_tuple()
        .all(db)
        .await?;
    usccs.sort();
    let sources: Vec<crate::store::ids::AccountId> = readings::Entity::find()
        .select_only()
        .column(readings::Column::SourceId)
        .distinct()
        .filter(readings::Column::Year.eq(year))
        .into_tuple()
        .all(db)
        .await?;
    let names = crate::service::fields::org_names(db, sources).await?;
    let table = crate::service::benchmarks::in_force(db, caches).await?;
    let carbon_tables = crate::service::carbon_tables::in_force(db, caches).await?;
    let tolerance =
        crate::service::settings::get::<crate::service::settings::ReadingSettings, _>(db)
            .await?
            .tolerance();
    let thresholds =
        crate::service::settings::get::<crate::service::abnormal::AbnormalSettings, _>(db).await?;
    let mut report = NoTouchReport::default();
    let total = usccs.len();
    let mut state = Progress {
        total,
        ..Progress::default()
    };
    progress(state);
    for chunk in usccs.chunks(CHUNK) {
        let firms = crate::store::rows_in::<firms::Entity, _, _>(
            db,
            firms::Column::Uscc,
            chunk.iter().cloned(),
        )
        .await?;
        report.unregistered += (chunk.len() - firms.len()) as u32;
        let ids: Vec<crate::store::ids::FirmId> = firms.iter().map(|f| f.id).collect();
        let filed: std::collections::HashSet<crate::store::ids::FirmId> = stored::Entity::find()
            .select_only()
            .column(stored::Column::FirmId)
            .filter(stored::Column::FirmId.is_in(ids.clone()))
            .filter(stored::Column::Period.eq(year))
            .filter(stored::Column::Status.ne(stored::AssessmentStatus::Rejected))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let rows = readings::Entity::find()
            .filter(readings::Column::Uscc.is_in(chunk.iter().cloned()))
            .filter(readings::Column::Year.eq(year))
            .order_by_asc(readings::Column::Id)
            .all(db)
            .await?;
        let mut by_uscc: HashMap<&str, Vec<readings::Model>> = HashMap::new();
        for r in &rows {
            by_uscc.entry(r.uscc.as_str()).or_default().push(r.clone());
        }
        let (certs, vetoes) = crate::store::certifications_and_vetoes(db, &ids).await?;
        let previous = crate::service::abnormal::previous_traces(db, &ids, year).await?;
        let mut prepared = Vec::new();
        for firm in firms {
            let uscc = firm.uscc.to_string();
            if filed.contains(&firm.id) {
                report.already_filed += 1;
                continue;
            }
            let figures = super::attested::summarise(
                by_uscc.get(uscc.as_str()).map_or(&[][..], |v| &v[..]),
                &names,
            );
            let input = match input_from(&uscc, year, &figures) {
                Err(missing) => {
                    report.incomplete.push(Incomplete { uscc, missing });
                    continue;
                }
                Ok(input) => input,
            };
            let request = AssessmentRequest::from_json(input);
            match assessments::prepare_with(
                firm.clone(),
                &request,
                certs.get(&firm.id).map_or(&[][..], |v| &v[..]),
                vetoes.get(&firm.id).map_or(&[][..], |v| &v[..]),
                &table,
                carbon_tables.clone(),
            ) {
                Ok(mut p) => {
                    p.abnormal = crate::service::abnormal::findings(
                        &p.graded.trace,
                        previous.get(&p.firm.id),
                        &thresholds,
                    );
                    p.basis = Some(super::basis_of(
                        &p.assessment.to_json(),
                        &figures,
                        tolerance,
                    ));
                    prepared.push(p);
                }
                Err(AppError::Validation { field, message, .. }) => {
                    report.incomplete.push(Incomplete {
                        uscc,
                        missing: vec![format!("{field}: {message}")],
                    })
                }
                Err(other) => return Err(other),
            }
        }
        if !prepared.is_empty() {
            let txn = crate::db::begin_write(db).await?;
            let now = chrono::Utc::now();
            for p in &prepared {
                let model =
                    match assessments::insert_submission(&txn, actor, actor_id, p, now).await {
                        Ok(model) => model,
                        // Filed meanwhile (the firm, or another run).
                        Err(AppError::Conflict(..)) => {
                            report.already_filed += 1;
                            continue;
                        }
                        Err(other) => return Err(other),
                    };
                report.filed.push(Filed {
                    id: model.id,
                    uscc: p.firm.uscc.to_string(),
                });
            }
            txn.commit().await?;
        }
        state.done += chunk.len();
        state.filed = report.filed.len();
        state.incomplete = report.incomplete.len();
        state.already_filed = report.already_filed as usize;
        progress(state);
    }
    Ok(report)
}
