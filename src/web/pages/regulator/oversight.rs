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
    /// Firms per grade over the reporting years, for the whole city or one district or
    /// division: (key, words, selected) of each choice.
    pub trend: String,
    pub trend_areas: Vec<(String, String, bool)>,
    pub trend_divisions: Vec<(String, String, bool)>,
    /// The map-like view of the districts.
    pub map: String,
    /// Mean intensity against the baseline, by division and by district.
    pub intensity_division: String,
    pub intensity_district: String,
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

#[derive(Deserialize, Default)]
struct ChartsQuery {
    /// The figures of one chart to download, and as what.
    figures: Option<String>,
    format: Option<String>,
    /// The trend for one district or division.
    district: Option<String>,
    division: Option<String>,
}

async fn show_charts(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<ChartsQuery>,
) -> PageResult {
    let t = lang.texts();
    let table = crate::service::benchmarks::in_force(&state.db, &state.caches).await?;
    let district = q.district.as_deref().filter(|d| !d.is_empty());
    let division = q.division.as_deref().filter(|d| !d.is_empty());
    let overview =
        crate::service::overview::overview(&state.db, &auth.caller, district, division).await?;
    let division_label = |division: &str| {
        // Industry names, not GB/T 4754 codes (the code only when the table lacks the name).
        table
            .get(division)
            .map(|b| match lang {
                Lang::Zh => b.name_zh.clone(),
                Lang::En => b.name_en.clone(),
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| division.to_owned())
    };
    let district_label = |d: &str| crate::web::pages::views::district_name(lang, d);
    if let (Some(figures), Some(format)) = (
        q.figures.as_deref(),
        q.format.as_deref().filter(|f| *f == "csv" || *f == "xlsx"),
    ) {
        let out = chart_figures(t, &overview, figures, &division_label, &district_label)
            .ok_or(crate::error::AppError::NotFound)?;
        return crate::web::pages::table_download(
            format,
            t.get("reg_charts"),
            &format!("gec-overview-{figures}"),
            &out,
        );
    }
    let grades_of = |rows: &[crate::service::overview::GroupRow], name: &dyn Fn(&str) -> String| {
        rows.iter()
            .map(|r| (name(&r.key), by_grade(r.grades)))
            .collect::<BTreeMap<String, BTreeMap<Grade, u64>>>()
    };
    let by_division = grades_of(&overview.by_division, &division_label);
    let by_district = grades_of(&overview.by_district, &district_label);
    let trend: BTreeMap<String, BTreeMap<Grade, u64>> = overview
        .trend
        .iter()
        .map(|y| {
            (
                format!("{}{}", y.period, t.get("year_suffix")),
                by_grade(y.grades),
            )
        })
        .collect();
    let ratio_rows = |rows: &[crate::service::overview::GroupRow],
                      name: &dyn Fn(&str) -> String| {
        rows.iter()
            .filter_map(|r| {
                let ratio: f64 = r.mean_ratio.as_deref()?.parse().ok()?;
                Some((name(&r.key), ratio))
            })
            .collect::<Vec<_>>()
    };
    let charts = super::super::overview_charts::ratios;
    let intensity_division = charts(
        t,
        t.get("chart_intensity_division"),
        &ratio_rows(&overview.by_division, &division_label),
    );
    let intensity_district = charts(
        t,
        t.get("chart_intensity_district"),
        &ratio_rows(&overview.by_district, &district_label),
    );
    let map = super::super::overview_charts::district_map(
        t,
        lang,
        t.get("chart_map"),
        &overview
            .by_district
            .iter()
            .map(|r| (r.key.clone(), r.firms, r.grades[0] + r.grades[1]))
            .collect::<Vec<_>>(),
    );
    let trend_areas: Vec<(String, String, bool)> = overview
        .by_district
        .iter()
        .map(|r| {
            (
                r.key.clone(),
                district_label(&r.key),
                district == Some(r.key.as_str()),
            )
        })
        .collect();
    let trend_divisions: Vec<(String, String, bool)> = overview
        .by_division
        .iter()
        .map(|r| {
            (
                r.key.clone(),
                division_label(&r.key),
                division == Some(r.key.as_str()),
            )
        })
        .collect();
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
        trend: super::super::charts::distribution(t, t.get("chart_trend"), &trend),
        trend_areas,
        trend_divisions,
        map,
        intensity_division,
        intensity_district,
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

/// The figures behind one chart of the overview, as a table with its heading row.
fn chart_figures(
    t: &crate::web::i18n::Texts,
    overview: &crate::service::overview::Overview,
    figures: &str,
    division_label: &dyn Fn(&str) -> String,
    district_label: &dyn Fn(&str) -> String,
) -> Option<Vec<Vec<String>>> {
    let grade_heads = || Grade::ALL.iter().map(|g| g.as_str().to_owned());
    let group_table = |head: &str,
                       rows: &[crate::service::overview::GroupRow],
                       name: &dyn Fn(&str) -> String,
                       division: bool| {
        let mut heading = vec![head.to_owned(), t.get("chart_firms").to_owned()];
        heading.extend(grade_heads());
        heading.push(t.get("chart_mean_ratio").to_owned());
        if division {
            heading.push(t.get("chart_mean_intensity").to_owned());
            heading.push(t.get("chart_baseline_value").to_owned());
        }
        let mut out = vec![heading];
        for r in rows {
            let mut line = vec![name(&r.key), r.firms.to_string()];
            line.extend(r.grades.iter().map(u64::to_string));
            line.push(r.mean_ratio.clone().unwrap_or_default());
            if division {
                line.push(r.mean_intensity.clone().unwrap_or_default());
                line.push(r.baseline.clone().unwrap_or_default());
            }
            out.push(line);
        }
        out
    };
    match figures {
        "division" => Some(group_table(
            t.get("industry"),
            &overview.by_division,
            division_label,
            true,
        )),
        "district" => Some(group_table(
            t.get("district"),
            &overview.by_district,
            district_label,
            false,
        )),
        "trend" => {
            let mut heading = vec![t.get("period").to_owned(), t.get("chart_firms").to_owned()];
            heading.extend(grade_heads());
            let mut out = vec![heading];
            for y in &overview.trend {
                let mut line = vec![y.period.to_string(), y.firms.to_string()];
                line.extend(y.grades.iter().map(u64::to_string));
                out.push(line);
            }
            Some(out)
        }
        _ => None,
    }
}

/// Counts per grade (A+ to D) as the distribution chart takes them, the empty ones left out.
fn by_grade(counts: crate::service::overview::GradeCounts) -> BTreeMap<Grade, u64> {
    Grade::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(g, n)| (*g, n))
        .collect()
}
