//! `/regulator/incidents` (外部事件): a regulator uploads a list of incidents other authorities
//! reported (CSV or Excel), sees what it would do — the firms it touches, which codes would be
//! regraded and to what — and then commits it.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::Auth;
use crate::error::AppError;
use crate::service::incidents::{self, AffectedFirm, IncidentReport, IncidentRow, Outcome};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};
use crate::web::pages::{Chrome, PageResult, render, views};

/// A list of 20,000 rows, as a file or carried in the commit form.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Firms listed on the page (the counts cover all).
const SHOWN: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/regulator/incidents",
            get(show)
                .post(check_file)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route(
            "/regulator/incidents/commit",
            axum::routing::post(commit).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/regulator/incidents/template.csv", get(template))
}

pub struct FirmLine {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub incidents: usize,
    pub grade: String,
    pub new_grade: String,
    pub outcome: String,
    pub changes: bool,
}

#[derive(Template)]
#[template(path = "regulator_incidents.html")]
pub struct IncidentsPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub error: Option<String>,
    /// (row, column, why)
    pub faults: Vec<(String, String, String)>,
    /// The report's title and summary.
    pub summary: Option<(String, String)>,
    pub firms: Vec<FirmLine>,
    pub more: Option<String>,
    /// The checked list carried to the commit (JSON), when a dry run would change something.
    pub carried: Option<String>,
}

fn blank(lang: Lang, auth: &Auth) -> IncidentsPage {
    IncidentsPage {
        c: Chrome::of(lang, auth),
        tab: "incidents",
        error: None,
        faults: Vec::new(),
        summary: None,
        firms: Vec::new(),
        more: None,
        carried: None,
    }
}

async fn show(lang: Lang, auth: Auth) -> PageResult {
    Ok(render(&blank(lang, &auth)))
}

async fn template() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gec-incidents-template.csv\"",
            ),
        ],
        incidents::template(),
    )
}

/// The dry run of an uploaded file.
async fn check_file(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    multipart: Multipart,
) -> PageResult {
    let file = crate::web::pages::uploaded_file(&auth, multipart).await?;
    let t = lang.texts();
    if file.is_empty() {
        let mut p = blank(lang, &auth);
        p.error = Some(t.get("incidents_no_file").to_owned());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response());
    }
    let format = if crate::service::import::xlsx::is_xlsx(&file) {
        "xlsx"
    } else {
        "csv"
    };
    let rows = incidents::read_list(format, &file).await;
    respond(&state, lang, &auth, rows.map(|(rows, _, _)| rows), false).await
}

#[derive(serde::Deserialize)]
struct CommitForm {
    #[serde(default)]
    rows: String,
}

/// The commit of a list checked before (its rows carried by the form, checked again).
async fn commit(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<CommitForm>,
) -> PageResult {
    let rows: Result<Vec<(u64, IncidentRow)>, AppError> = serde_json::from_str(&form.rows)
        .map_err(|_| AppError::fault("rows", crate::grading::Fault::Required));
    respond(&state, lang, &auth, rows, true).await
}

async fn respond(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    rows: Result<Vec<(u64, IncidentRow)>, AppError>,
    commit: bool,
) -> PageResult {
    let t = lang.texts();
    let keys = state.keys.current();
    let signing = incidents::Signing {
        caches: &state.caches,
        keys: &keys,
        public_url: &state.config.public_url,
    };
    let outcome = match &rows {
        Ok(rows) => incidents::run(&state.db, &signing, &auth.caller, rows, false, commit).await,
        Err(_) => Err(AppError::fault("rows", crate::grading::Fault::Required)),
    };
    let mut p = blank(lang, auth);
    match outcome {
        Ok(report) => {
            if !commit && report.regraded + report.new_vetoes > 0 {
                p.carried = rows.ok().and_then(|r| serde_json::to_string(&r).ok());
            }
            fill(t, lang, &mut p, &report);
            Ok(render(&p))
        }
        Err(AppError::Invalid { errors, .. }) => {
            p.faults = errors
                .iter()
                .map(|e| {
                    let column = e["column"].as_str().unwrap_or_default();
                    let message = e["message"].as_str().unwrap_or_default();
                    (
                        e["line"].to_string(),
                        column_words(t, column),
                        fault_words(t, e["line"].as_u64() == Some(1), column, message),
                    )
                })
                .collect();
            p.error = Some(t.get("incidents_refused").to_owned());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(AppError::Validation { .. }) => {
            p.error = Some(t.get("incidents_no_rows").to_owned());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(AppError::UnsupportedMediaType(_)) => {
            p.error = Some(t.get("incidents_no_rows").to_owned());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(AppError::Conflict(_, _)) => {
            p.error = Some(t.get("incidents_no_key").to_owned());
            Ok((StatusCode::CONFLICT, render(&p)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

fn fill(t: &Texts, lang: Lang, p: &mut IncidentsPage, report: &IncidentReport) {
    let key = if report.committed {
        ("incidents_done_title", "incidents_summary_done")
    } else {
        ("incidents_dry_title", "incidents_summary")
    };
    p.summary = Some((
        t.get(key.0).to_owned(),
        t.get(key.1)
            .replace("{rows}", &report.rows.to_string())
            .replace("{firms}", &report.firms.len().to_string())
            .replace("{new}", &report.new_vetoes.to_string())
            .replace("{old}", &report.already_recorded.to_string())
            .replace("{outside}", &report.not_registered.to_string())
            .replace("{regraded}", &report.regraded.to_string()),
    ));
    // The firms whose codes change first.
    let mut firms: Vec<&AffectedFirm> = report.firms.iter().collect();
    firms.sort_by_key(|f| {
        !matches!(
            f.outcome,
            Outcome::Regraded | Outcome::WouldRegrade | Outcome::Failed
        )
    });
    p.firms = firms
        .iter()
        .take(SHOWN)
        .map(|f| FirmLine {
            uscc: f.uscc.clone(),
            name: f.name.clone(),
            district: views::district_name(lang, &f.district),
            incidents: f.incidents,
            grade: f.grade.clone().unwrap_or_else(|| "—".into()),
            new_grade: f.new_grade.clone().unwrap_or_else(|| "—".into()),
            outcome: outcome_words(t, f),
            changes: matches!(f.outcome, Outcome::Regraded | Outcome::WouldRegrade),
        })
        .collect();
    if report.firms.len() > SHOWN {
        p.more = Some(
            t.get("incidents_more")
                .replace("{shown}", &SHOWN.to_string())
                .replace("{n}", &report.firms.len().to_string()),
        );
    }
}

fn outcome_words(t: &Texts, f: &AffectedFirm) -> String {
    match f.outcome {
        Outcome::Regraded => t.get("incident_regraded").replace(
            "{serial}",
            &f.new_serial.map(|s| s.to_string()).unwrap_or_default(),
        ),
        Outcome::WouldRegrade => t.get("incident_would_regrade").to_owned(),
        Outcome::Unchanged => t.get("incident_unchanged").to_owned(),
        Outcome::NoCode => t.get("incident_no_code").to_owned(),
        Outcome::CannotGrade => t.get("incident_cannot_grade").to_owned(),
        Outcome::Failed => t.get("incident_failed").to_owned(),
    }
}

/// A column of the list in the page's words.
fn column_words(t: &Texts, column: &str) -> String {
    match column {
        "uscc" | "kind" | "occurred_on" | "authority" | "document_no" => {
            t.get(&format!("incident_col_{column}")).to_owned()
        }
        "" => "—".to_owned(),
        other => other.to_owned(),
    }
}

/// Why a row was refused, in the page's words.
fn fault_words(t: &Texts, header: bool, column: &str, message: &str) -> String {
    if header {
        return t.get("incident_fault_header").to_owned();
    }
    if let Some(first) = message.strip_prefix("the same incident as row ") {
        return t.get("incident_fault_twice").replace("{row}", first);
    }
    match column {
        "uscc" => t.get("incident_fault_uscc").to_owned(),
        "kind" => t.get("incident_fault_kind").to_owned(),
        "occurred_on" if message.contains("future") => t.get("incident_fault_future").to_owned(),
        "occurred_on" => t.get("incident_fault_date").to_owned(),
        "authority" | "document_no" if message == "required" => {
            t.get("incident_fault_required").to_owned()
        }
        "authority" | "document_no" => t.get("incident_fault_long").to_owned(),
        _ => t.get("incident_fault_row").to_owned(),
    }
}
