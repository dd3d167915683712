//! Oversight: distribution charts of the current grades, and the audit trail.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::super::{Chrome, PageResult, render};
use super::Auth;
use crate::grading::Grade;
use std::collections::HashMap;

use super::super::PageError;
use super::audit_words::{self, AuditRow, Names};
use crate::service::audit::{self as audit_service, AuditEventView, AuditFilter};
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
    /// Carbon efficiency by industry, then by district.
    pub carbon_tables: Vec<CarbonTable>,
    /// Firms in force whose assessment has no carbon level yet.
    pub carbon_missing: u64,
}

/// A table of carbon efficiency by one grouping.
pub struct CarbonTable {
    pub title: &'static str,
    pub head: &'static str,
    pub lines: Vec<CarbonLine>,
}

/// One group's carbon efficiency as the page shows it.
pub struct CarbonLine {
    pub name: String,
    pub firms: u64,
    pub levels: [u64; 5],
    pub total_tco2: String,
    pub intensity: String,
}

async fn show_charts(State(state): State<AppState>, lang: Lang, auth: Auth) -> PageResult {
    let t = lang.texts();
    let table = crate::service::benchmarks::in_force(&state.db, &state.caches).await?;
    let graded = codes::graded_firms(&state.db).await?;
    let mut by_division: BTreeMap<String, BTreeMap<Grade, u64>> = BTreeMap::new();
    let mut by_district: BTreeMap<String, BTreeMap<Grade, u64>> = BTreeMap::new();
    for firm in &graded {
        let Some(grade) = firm.current_grade.map(Grade::from) else {
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
        // Industry names, not GB/T 4754 codes (the code only when the table lacks the name).
        let label = if name.is_empty() {
            division.to_owned()
        } else {
            name
        };
        *by_division
            .entry(label)
            .or_default()
            .entry(grade)
            .or_default() += 1;
        *by_district
            .entry(crate::web::pages::views::district_name(
                lang,
                &firm.district,
            ))
            .or_default()
            .entry(grade)
            .or_default() += 1;
    }
    let division_name = |division: &str| {
        table.get(division).map_or(division.to_owned(), |b| {
            if lang == Lang::Zh {
                b.name_zh.clone()
            } else {
                b.name_en.clone()
            }
        })
    };
    let carbon_lines = |overview: crate::service::carbon_summary::CarbonOverview,
                        name: &dyn Fn(&str) -> String| {
        overview
            .rows
            .into_iter()
            .map(|r| CarbonLine {
                name: name(&r.key),
                firms: r.firms,
                levels: r.levels,
                total_tco2: super::super::views::number(&r.total_tco2, 2),
                intensity: super::super::views::number(&r.intensity, 4),
            })
            .collect::<Vec<_>>()
    };
    let by_industry =
        crate::service::carbon_summary::overview(&state.db, &auth.caller, "division").await?;
    let carbon_missing = by_industry.without_level;
    let carbon_by_division = carbon_lines(by_industry, &division_name);
    let carbon_by_district = carbon_lines(
        crate::service::carbon_summary::overview(&state.db, &auth.caller, "district").await?,
        &|d: &str| super::super::views::district_name(lang, d),
    );
    Ok(render(&ChartsPage {
        c: Chrome::of(lang, &auth),
        tab: "charts",
        carbon_tables: vec![
            CarbonTable {
                title: t.get("chart_by_division"),
                head: t.get("industry"),
                lines: carbon_by_division,
            },
            CarbonTable {
                title: t.get("chart_by_district"),
                head: t.get("district"),
                lines: carbon_by_district,
            },
        ],
        carbon_missing,
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

#[derive(Template)]
#[template(path = "regulator_audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub tab: &'static str,
    /// (value, shown, selected)
    pub types: Vec<(&'static str, String, bool)>,
    pub actions: Vec<(&'static str, String, bool)>,
    pub f_since: String,
    pub f_until: String,
    /// The record the trail is narrowed to (from a firm's profile), shown, not typed.
    pub f_target: Option<(String, String)>,
    pub rows: Vec<AuditRow>,
}

#[derive(Deserialize, Default)]
struct AuditForm {
    target_type: Option<String>,
    target_id: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// A day chosen on the page, as the instant it starts in China (UTC+8).
fn day_start(text: &Option<String>, days_after: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    let day = chrono::NaiveDate::parse_from_str(text.as_deref()?.trim(), "%Y-%m-%d").ok()?;
    let start = (day + chrono::Duration::days(days_after)).and_hms_opt(0, 0, 0)?;
    Some(start.and_utc() - chrono::Duration::hours(8))
}

/// Who and whom the events name: accounts, firms, codes and appeals, each read once.
async fn names_of(state: &AppState, events: &[AuditEventView]) -> Result<Names, PageError> {
    use crate::store::{accounts, appeals, assessments, codes as code_store, firms};
    let ids = |kind: &str| -> Vec<i64> {
        events
            .iter()
            .filter(|e| e.target_type == kind)
            .filter_map(|e| e.target_id.parse().ok())
            .collect()
    };
    let db = &state.db;
    let code_rows = code_store::by_serials(db, ids("code")).await?;
    let appeal_rows = appeals::by_ids(db, ids("appeal")).await?;
    let assessment_rows = assessments::by_ids(db, ids("assessment")).await?;
    let account_rows = accounts::by_ids(db, events.iter().filter_map(|e| e.actor_id)).await?;
    let firm_ids: Vec<crate::store::ids::FirmId> = code_rows
        .iter()
        .map(|c| c.firm_id)
        .chain(appeal_rows.iter().map(|a| a.firm_id))
        .chain(assessment_rows.iter().map(|a| a.firm_id))
        .chain(account_rows.iter().filter_map(|a| a.firm_id))
        .collect();
    let mut names = Names {
        actors: HashMap::new(),
        firms: HashMap::new(),
        code_firms: HashMap::new(),
        appeal_firms: HashMap::new(),
        assessments: HashMap::new(),
    };
    let mut usccs: Vec<String> = Vec::new();
    let by_id: HashMap<crate::store::ids::FirmId, firms::Model> =
        firms::by_ids(db, firm_ids).await?;
    for c in &code_rows {
        if let Some(f) = by_id.get(&c.firm_id) {
            names.code_firms.insert(c.serial, f.uscc.to_string());
        }
    }
    for a in &appeal_rows {
        if let Some(f) = by_id.get(&a.firm_id) {
            names.appeal_firms.insert(a.id, f.uscc.to_string());
        }
    }
    for a in &assessment_rows {
        if let Some(f) = by_id.get(&a.firm_id) {
            names
                .assessments
                .insert(a.id, (f.uscc.to_string(), a.period));
        }
    }
    for f in by_id.values() {
        names.firms.insert(f.uscc.to_string(), f.name.clone());
    }
    for e in events {
        if let Some(u) = audit_words::uscc_of(e, &names)
            && !names.firms.contains_key(&u)
        {
            usccs.push(u);
        }
    }
    for f in firms::by_usccs(db, usccs).await? {
        names.firms.insert(f.uscc.to_string(), f.name);
    }
    for a in account_rows {
        let name = match a.firm_id.and_then(|id| by_id.get(&id)) {
            Some(f) => f.name.clone(),
            None => a.org.clone().unwrap_or_else(|| a.username.clone()),
        };
        names.actors.insert(a.id, name);
    }
    Ok(names)
}

async fn show_audit(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<AuditForm>,
) -> PageResult {
    let t = lang.texts();
    let chosen = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let target_type = chosen(&q.target_type).filter(|v| audit_words::TARGETS.contains(&v.as_str()));
    let action = chosen(&q.action).filter(|v| audit_words::ACTIONS.contains(&v.as_str()));
    let target_id = chosen(&q.target_id).filter(|_| target_type.is_some());
    // A firm's trail is everything about it: its own record, and every event naming it or made
    // by its accounts (submissions, approvals, codes, certifications, appeals, applications).
    let firm_trail = target_type.as_deref() == Some("firm");
    let filter = AuditFilter {
        target_type: target_type.clone().filter(|_| !firm_trail),
        target_id: target_id.clone().filter(|_| !firm_trail),
        firm: target_id.clone().filter(|_| firm_trail),
        action: action.clone(),
        since: day_start(&q.since, 0),
        until: day_start(&q.until, 1),
        ..AuditFilter::default()
    };
    let events = audit_service::latest(&state.db, &filter, 200).await?;
    let names = names_of(&state, &events).await?;
    let rows = events
        .iter()
        .map(|e| audit_words::row(t, lang, e, &names))
        .collect();
    let f_target = target_id.map(|id| {
        let shown = names.firms.get(&id).cloned().unwrap_or_else(|| id.clone());
        (id, shown)
    });
    Ok(render(&AuditPage {
        c: Chrome::of(lang, &auth),
        tab: "audit",
        types: audit_words::TARGETS
            .iter()
            .map(|k| {
                (
                    *k,
                    t.get(&format!("audit_t_{k}")).to_owned(),
                    target_type.as_deref() == Some(*k),
                )
            })
            .collect(),
        actions: audit_words::ACTIONS
            .iter()
            .map(|k| {
                (
                    *k,
                    t.get(&format!("audit_a_{}", k.replace('.', "_")))
                        .to_owned(),
                    action.as_deref() == Some(*k),
                )
            })
            .collect(),
        f_since: chosen(&q.since).unwrap_or_default(),
        f_until: chosen(&q.until).unwrap_or_default(),
        f_target,
        rows,
    }))
}
