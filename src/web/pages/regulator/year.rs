//! `/regulator/year` (动态管理): the reporting years and their deadlines, the firms that have
//! not filed (by district, downloadable), and the codes to follow up.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;

use super::Auth;
use crate::error::AppError;
use crate::service::filing;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::{Chrome, PageResult, Refusal, data_form, render, views};

pub fn router() -> Router<AppState> {
    Router::new().route("/regulator/year", get(show).post(open_year))
}

/// Firms listed on the page; the download holds every one.
const SHOWN: usize = 100;

pub struct NonFilerRow {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub grade: String,
    pub until: String,
}

pub struct FollowRow {
    pub uscc: String,
    pub name: String,
    pub serial: i64,
    pub grade: String,
    pub period: i32,
    pub until: String,
}

#[derive(Template)]
#[template(path = "regulator_year.html")]
pub struct YearPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub years: Vec<i32>,
    /// (year, deadline)
    pub open: Vec<(i32, String)>,
    pub form_year: String,
    pub form_deadline: String,
    pub form_error: Option<String>,
    /// The year whose non-filers are listed, and its title.
    pub listed: Option<(i32, String)>,
    pub count_words: String,
    pub by_district: Vec<(String, usize)>,
    pub rows: Vec<NonFilerRow>,
    pub more: Option<String>,
    pub expiring: Vec<FollowRow>,
    pub behind: Vec<FollowRow>,
}

#[derive(serde::Deserialize, Default)]
struct YearQuery {
    year: Option<i32>,
    format: Option<String>,
    msg: Option<String>,
}

async fn page(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    year: Option<i32>,
) -> Result<(YearPage, Option<filing::NonFilers>), AppError> {
    let t = lang.texts();
    let open = filing::years(&state.db).await?;
    let listed_year = year
        .filter(|y| open.iter().any(|o| o.year == *y))
        .or(open.first().map(|o| o.year));
    let non_filers = match listed_year {
        Some(y) => Some(filing::non_filers(&state.db, &auth.caller, y).await?),
        None => None,
    };
    let follow = filing::follow_ups(&state.db, &auth.caller).await?;
    let date = |at: chrono::DateTime<chrono::Utc>| views::china_date(at.timestamp());
    let follow_rows = |list: Vec<filing::FollowUp>| -> Vec<FollowRow> {
        list.into_iter()
            .map(|f| FollowRow {
                until: date(f.valid_until),
                uscc: f.uscc,
                name: f.name,
                serial: f.serial,
                grade: f.grade,
                period: f.period,
            })
            .collect()
    };
    let years = data_form::completed_years(crate::service::records::today());
    let page = YearPage {
        c: Chrome::of(lang, auth),
        tab: "year",
        form_year: years[0].to_string(),
        form_deadline: format!("{}-03-31", years[0] + 1),
        years,
        open: open
            .iter()
            .map(|o| (o.year, o.deadline.to_string()))
            .collect(),
        form_error: None,
        listed: non_filers.as_ref().map(|n| {
            (
                n.year,
                t.get("year_non_filers_title")
                    .replace("{year}", &n.year.to_string())
                    .replace(
                        "{deadline}",
                        &n.deadline.map(|d| d.to_string()).unwrap_or_default(),
                    ),
            )
        }),
        count_words: non_filers.as_ref().map_or_else(String::new, |n| {
            if n.count == 0 {
                t.get("year_all_filed").to_owned()
            } else {
                t.get("year_non_filers_count")
                    .replace("{n}", &n.count.to_string())
            }
        }),
        by_district: non_filers.as_ref().map_or_else(Vec::new, |n| {
            n.by_district
                .iter()
                .map(|(d, c)| (views::district_name(lang, d), *c))
                .collect()
        }),
        rows: non_filers.as_ref().map_or_else(Vec::new, |n| {
            n.items
                .iter()
                .take(SHOWN)
                .map(|f| NonFilerRow {
                    uscc: f.uscc.clone(),
                    name: f.name.clone(),
                    district: views::district_name(lang, &f.district),
                    grade: f
                        .grade
                        .clone()
                        .unwrap_or_else(|| t.get("year_no_code").to_owned()),
                    until: f.code_valid_until.map(date).unwrap_or_default(),
                })
                .collect()
        }),
        more: non_filers
            .as_ref()
            .filter(|n| n.count > SHOWN)
            .map(|_| t.get("year_shown_first").replace("{n}", &SHOWN.to_string())),
        expiring: follow_rows(follow.expiring),
        behind: follow_rows(follow.behind),
    };
    Ok((page, non_filers))
}

async fn show(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<YearQuery>,
) -> PageResult {
    let t = lang.texts();
    let (mut p, non_filers) = page(&state, lang, &auth, q.year).await?;
    if let (Some(format), Some(n)) = (
        q.format.as_deref().filter(|f| *f == "csv" || *f == "xlsx"),
        non_filers,
    ) {
        let mut out = vec![vec![
            t.get("uscc").to_owned(),
            t.get("firm").to_owned(),
            t.get("district").to_owned(),
            t.get("year_code_grade").to_owned(),
            t.get("year_code_until").to_owned(),
        ]];
        for f in n.items {
            out.push(vec![
                f.uscc,
                f.name,
                views::district_name(lang, &f.district),
                f.grade.unwrap_or_default(),
                f.code_valid_until
                    .map(|at| views::china_date(at.timestamp()))
                    .unwrap_or_default(),
            ]);
        }
        return crate::web::pages::table_download(
            format,
            t.get("reg_year"),
            &format!("gec-non-filers-{}", n.year),
            &out,
        );
    }
    p.c = p.c.with_flash(q.msg.as_deref());
    Ok(render(&p))
}

#[derive(serde::Deserialize)]
struct OpenForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    deadline: String,
}

async fn open_year(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> PageResult {
    let request = filing::OpenYear {
        year: form.year.trim().parse().unwrap_or_default(),
        deadline: form.deadline.clone(),
    };
    match filing::open(&state.db, &auth.caller, request).await {
        Ok(y) => Ok(Redirect::to(&format!(
            "/regulator/year?year={}&msg=msg_year_opened",
            y.year
        ))
        .into_response()),
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let (mut p, _) = page(&state, lang, &auth, None).await?;
            p.form_year = form.year;
            p.form_deadline = form.deadline;
            p.form_error = Some(refusal.words(lang.texts()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}
