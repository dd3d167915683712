//! Oversight: distribution charts of the current grades, and the audit trail.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::super::views::{self};
use super::super::{Chrome, PageResult, render};
use super::Auth;
use crate::grading::Grade;
use crate::service::audit::{self as audit_service, AuditFilter};
use crate::service::codes;
use crate::web::AppState;
use crate::web::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator/charts", get(show_charts))
        .route("/regulator/audit", get(show_audit))
}

#[derive(Template)]
#[template(path = "regulator_charts.html")]
pub struct ChartsPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub by_division: String,
    pub by_district: String,
}

async fn show_charts(State(state): State<AppState>, lang: Lang, auth: Auth) -> PageResult {
    let t = lang.texts();
    let table = crate::service::benchmarks::in_force(&state.db, &state.caches).await?;
    let graded = codes::graded_firms(&state.db).await?;
    let mut by_division: BTreeMap<String, BTreeMap<Grade, u64>> = BTreeMap::new();
    let mut by_district: BTreeMap<String, BTreeMap<Grade, u64>> = BTreeMap::new();
    for firm in &graded {
        let Some(grade) = firm.current_grade else {
            continue;
        };
        let division = firm.industry_code.get(..2).unwrap_or_default();
        let name = table.get(division).map_or(String::new(), |b| {
            if lang == Lang::Zh {
                b.name_zh.clone()
            } else {
                b.name_en.clone()
            }
        });
        *by_division
            .entry(format!("{division} {name}"))
            .or_default()
            .entry(grade)
            .or_default() += 1;
        *by_district
            .entry(firm.district.clone())
            .or_default()
            .entry(grade)
            .or_default() += 1;
    }
    Ok(render(&ChartsPage {
        c: Chrome::of(lang, &auth),
        tab: "charts",
        by_division: super::super::charts::distribution(
            t,
            t.get("chart_by_division"),
            &by_division,
        ),
        by_district: super::super::charts::distribution(
            t,
            t.get("chart_by_district"),
            &by_district,
        ),
    }))
}

pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "regulator_audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub f_type: String,
    pub f_id: String,
    pub f_actor: String,
    pub rows: Vec<AuditRow>,
}

#[derive(Deserialize, Default)]
struct AuditForm {
    target_type: Option<String>,
    target_id: Option<String>,
    actor: Option<String>,
}

async fn show_audit(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<AuditForm>,
) -> PageResult {
    let filter = AuditFilter {
        target_type: q.target_type.clone(),
        target_id: q.target_id.clone(),
        actor: q.actor.clone(),
        ..AuditFilter::default()
    };
    let rows = audit_service::latest(&state.db, &filter, 200)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: views::local_time(lang, e.at),
            actor: e.actor,
            action: e.action,
            target: format!("{} {}", e.target_type, e.target_id),
            after: e
                .after
                .map(|v| v.to_string())
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect(),
        })
        .collect();
    Ok(render(&AuditPage {
        c: Chrome::of(lang, &auth),
        tab: "audit",
        f_type: q.target_type.unwrap_or_default(),
        f_id: q.target_id.unwrap_or_default(),
        f_actor: q.actor.unwrap_or_default(),
        rows,
    }))
}
