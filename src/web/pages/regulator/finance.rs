//! `/regulator/finance`: what the code did for green finance, by grade, industry or district.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::service::finance::{self};
use crate::web::AppState;
use crate::web::auth::{PageAuth, Regulator};
use crate::web::i18n::Lang;
use crate::web::pages::views;
use crate::web::pages::{Chrome, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/regulator/finance", get(regulator_finance))
}

#[derive(Template)]
#[template(path = "regulator_finance.html")]
pub struct FinancePage {
    pub c: Chrome,
    pub tab: &'static str,
    pub by: String,
    /// The grouping's name in words.
    pub by_label: String,
    /// (value, words, selected)
    pub groups: Vec<(&'static str, String, bool)>,
    pub period: i32,
    pub years: Vec<i32>,
    /// (key, applications, approved, amount, average step, grants paid)
    pub rows: Vec<(String, u64, u64, String, String, String)>,
    /// Grants are summed by this grouping (not by bank).
    pub by_grants: bool,
    pub chart: String,
    /// What the chart shows, with its unit and year.
    pub chart_title: String,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct FinanceQuery {
    by: Option<String>,
    period: Option<String>,
    format: Option<String>,
}

pub(super) async fn regulator_finance(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Regulator>,
    Query(q): Query<FinanceQuery>,
) -> PageResult {
    let t = lang.texts();
    let this_year = chrono::Datelike::year(&crate::service::records::today());
    let by =
        q.by.filter(|b| ["grade", "district", "division", "bank"].contains(&b.as_str()))
            .unwrap_or_else(|| "grade".to_owned());
    let period = q
        .period
        .and_then(|p| p.trim().parse().ok())
        .filter(|p| (this_year - 10..=this_year).contains(p))
        .unwrap_or(this_year);
    let summary = finance::summary(&state.db, &auth.caller, &by, period).await?;
    let table = crate::service::benchmarks::in_force(&state.db, &state.caches).await?;
    let key_words = |key: &str| match by.as_str() {
        "division" => table.get(key).map_or_else(
            || key.to_owned(),
            |b| match lang {
                Lang::Zh => b.name_zh.clone(),
                Lang::En => b.name_en.clone(),
            },
        ),
        "district" => views::district_name(lang, key),
        _ => key.to_owned(),
    };
    let rows: Vec<(String, u64, u64, String, String, String)> = summary
        .rows
        .iter()
        .map(|r| {
            (
                key_words(&r.key),
                r.applications,
                r.approved,
                views::grouped(&r.amount_10k_cny),
                r.avg_rate_step_bp.clone().unwrap_or_else(|| "—".to_owned()),
                views::grouped(&r.grants_paid_10k_cny),
            )
        })
        .collect();
    if let Some(format) = q.format.as_deref().filter(|f| *f == "csv" || *f == "xlsx") {
        let mut out = vec![vec![
            t.get(&format!("finance_by_{by}")).to_owned(),
            t.get("finance_applications").to_owned(),
            t.get("finance_approved").to_owned(),
            t.get("finance_amount").to_owned(),
            t.get("finance_avg_step").to_owned(),
            t.get("finance_grants_paid").to_owned(),
        ]];
        for r in &summary.rows {
            out.push(vec![
                key_words(&r.key),
                r.applications.to_string(),
                r.approved.to_string(),
                r.amount_10k_cny.clone(),
                r.avg_rate_step_bp.clone().unwrap_or_default(),
                r.grants_paid_10k_cny.clone(),
            ]);
        }
        return crate::web::pages::table_download(
            format,
            t.get("reg_finance"),
            &format!("gec-finance-{by}-{period}"),
            &out,
        );
    }
    let chart_title = t
        .get("finance_chart_title")
        .replace("{period}", &period.to_string())
        .replace("{by}", &t.get(&format!("finance_by_{by}")).to_lowercase());
    let chart = crate::web::pages::charts::amounts(
        t,
        &chart_title,
        &rows
            .iter()
            .map(|r| (r.0.clone(), r.3.replace(',', "")))
            .collect::<Vec<_>>(),
    );
    Ok(render(&FinancePage {
        c: Chrome::of(lang, &auth),
        tab: "finance",
        by_grants: by != "bank",
        by_label: t.get(&format!("finance_by_{by}")).to_owned(),
        groups: ["grade", "district", "division", "bank"]
            .into_iter()
            .map(|k| (k, t.get(&format!("finance_by_{k}")).to_owned(), k == by))
            .collect(),
        by,
        period,
        years: (this_year - 4..=this_year).rev().collect(),
        rows,
        chart,
        chart_title,
    })
    .into_response())
}
