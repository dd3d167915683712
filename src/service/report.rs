//! What the diagnosis report of one assessment says: the firm, its grade and code, the trace,
//! the way up, and the finance, services and policies it qualifies for. Read for the firm
//! itself or a regulator; drawn by `web::report`.

use crate::db::Db;
use sea_orm::EntityTrait;

use super::accounts::Caller;
use super::cache::Caches;
use super::policies::{self, PolicyView};
use super::services::{self, Recommended};
use crate::error::{AppError, AppResult};
use crate::grading::Trace;
use crate::grading::finance::{self, Finance};
use crate::grading::way_up::WayUp;
use crate::store::{assessments, codes, firms};

pub struct ReportData {
    pub firm: firms::Model,
    pub assessment: assessments::Model,
    pub trace: Trace,
    /// The code issued for this assessment, if any.
    pub code: Option<codes::Model>,
    pub way_up: Option<WayUp>,
    /// The carbon trace as recorded (methodology §10) and the carbon way up, when one was kept.
    pub carbon: Option<(
        serde_json::Value,
        Option<crate::grading::carbon_way_up::CarbonWayUp>,
    )>,
    pub finance: Finance,
    /// Where the firm stands among the firms holding a code (its own report only).
    pub standing: Option<super::standing::Standing>,
    pub services: Vec<Recommended>,
    pub policies: Vec<PolicyView>,
    /// The industry's name (zh, en).
    pub industry: (String, String),
}

pub async fn data(db: &Db, caches: &Caches, caller: &Caller, id: i64) -> AppResult<ReportData> {
    let (assessment, firm) = super::assessments::visible(db, caller, id).await?;
    let trace: Trace = serde_json::from_str(&assessment.trace).map_err(AppError::internal)?;
    let code = match assessment.code_serial {
        Some(serial) => codes::Entity::find_by_id(serial).one(db).await?,
        None => None,
    };
    let way_up = super::assessments::way_up_of(db, caches, &assessment).await?;
    let carbon = match assessment.carbon_trace.as_deref() {
        Some(text) => Some((
            serde_json::from_str(text).map_err(AppError::internal)?,
            super::assessments::carbon_way_up_of(db, caches, &assessment).await?,
        )),
        None => None,
    };
    let recommendations = services::recommendations(db, caches, caller, firm.uscc.as_str()).await?;
    let policies = policies::for_firm(db, caller, firm.uscc.as_str()).await?;
    let industry = super::benchmarks::by_version(db, caches, &trace.benchmarks)
        .await?
        .and_then(|t| {
            t.get(&trace.division)
                .map(|b| (b.name_zh.clone(), b.name_en.clone()))
        })
        .unwrap_or_else(|| (trace.division.clone(), trace.division.clone()));
    let standing = super::standing::of_firm(db, &firm).await?;
    Ok(ReportData {
        finance: finance::finance(trace.grade),
        standing,
        services: recommendations.services,
        firm,
        assessment,
        trace,
        code,
        way_up,
        carbon,
        policies,
        industry,
    })
}
