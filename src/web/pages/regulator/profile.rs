//! `/regulator/firms/{uscc}`: one firm as a regulator audits it — every year's figures, grade
//! and code, the year-on-year changes (over 30 % flagged), its certifications and vetoes.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use super::super::views::{self, grade_class, status_key};
use super::super::{Chrome, PageResult, industry_name, render};
use super::Auth;
use crate::service::profile::{self, Change};
use crate::web::AppState;
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/regulator/firms/{uscc}",
            get(show_profile).post(complete_firm),
        )
        .route(
            "/regulator/firms/{uscc}/vetoes",
            axum::routing::post(record_veto),
        )
        .route(
            "/regulator/firms/{uscc}/no-touch",
            axum::routing::post(no_touch_filing),
        )
}

/// 无感申报 on the firm's page: its last completed year filed from the attested figures alone;
/// the filing opens for review, or the page says which figures no source gave.
async fn no_touch_filing(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(uscc): Path<String>,
    crate::web::csrf::CsrfForm(crate::web::pages::EmptyForm {}): crate::web::csrf::CsrfForm<
        crate::web::pages::EmptyForm,
    >,
) -> PageResult {
    use axum::response::IntoResponse;
    let Ok(parsed) = crate::grading::Uscc::parse(uscc.trim()) else {
        return Err(crate::error::AppError::NotFound.into());
    };
    let year = crate::web::pages::data_form::completed_years(crate::service::records::today())[0];
    match crate::service::readings::no_touch::file(
        &state.db,
        &state.caches,
        &auth.caller,
        parsed.as_str(),
        year,
    )
    .await
    {
        Ok(view) => Ok(axum::response::Redirect::to(&format!(
            "/regulator/assessments/{}?msg=msg_no_touch_filed",
            view.id
        ))
        .into_response()),
        Err(err) => {
            let t = lang.texts();
            let shown = match &err {
                crate::error::AppError::Validation { field, .. } if field == "readings" => t
                    .get("no_touch_incomplete")
                    .replace("{year}", &year.to_string()),
                _ => super::super::Refusal::of(err)?.words(t),
            };
            let mut page = profile_page(&state, lang, &auth, parsed.as_str()).await?;
            page.no_touch_error = Some(shown);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct VetoForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    occurred_on: String,
    #[serde(default)]
    note: String,
}

/// A regulator records a veto on the firm's page (as `POST /api/v1/firms/{uscc}/vetoes`): it
/// caps the grade at D for three years; the firm's codes are graded with it when next issued.
async fn record_veto(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(uscc): Path<String>,
    crate::web::csrf::CsrfForm(form): crate::web::csrf::CsrfForm<VetoForm>,
) -> PageResult {
    use axum::response::IntoResponse;
    let Ok(parsed) = crate::grading::Uscc::parse(uscc.trim()) else {
        return Err(crate::error::AppError::NotFound.into());
    };
    let recorded = async {
        let firm = crate::service::firms::firm_at(&state.db, &auth.caller, &parsed).await?;
        let request = crate::service::records::VetoRequest {
            kind: crate::service::fields::one_of("kind", &form.kind)?,
            occurred_on: crate::service::fields::date("occurred_on", &form.occurred_on)?,
            note: Some(form.note).filter(|n| !n.trim().is_empty()),
        };
        crate::service::records::record_veto(&state.db, &auth.caller, &firm, request).await
    };
    match recorded.await {
        Ok(_) => Ok(axum::response::Redirect::to(&format!(
            "/regulator/firms/{parsed}?msg=msg_veto_recorded#pvetoes-h"
        ))
        .into_response()),
        Err(err) => {
            let shown = super::super::Refusal::of(err)?.words(lang.texts());
            let mut page = profile_page(&state, lang, &auth, parsed.as_str()).await?;
            page.veto_error = Some(shown);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CompleteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    industry_code: String,
    #[serde(default)]
    district: String,
}

/// The regulator completes (or corrects) a firm's name, industry and district.
async fn complete_firm(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(uscc): Path<String>,
    crate::web::csrf::CsrfForm(form): crate::web::csrf::CsrfForm<CompleteForm>,
) -> PageResult {
    use axum::response::IntoResponse;
    let Ok(parsed) = crate::grading::Uscc::parse(uscc.trim()) else {
        return Err(crate::error::AppError::NotFound.into());
    };
    let update = crate::service::firms::FirmUpdate {
        name: Some(form.name),
        industry_code: Some(form.industry_code),
        district: Some(form.district),
    };
    match crate::service::firms::update_firm(
        &state.db,
        &state.caches,
        &auth.actor(),
        &parsed,
        update,
    )
    .await
    {
        Ok(_) => Ok(axum::response::Redirect::to(&format!(
            "/regulator/firms/{parsed}?msg=msg_firm_completed"
        ))
        .into_response()),
        Err(err) => {
            let shown = super::super::Refusal::of(err)?.words(lang.texts());
            let mut page = profile_page(&state, lang, &auth, parsed.as_str()).await?;
            page.form_error = Some(shown);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

pub struct YearRow {
    pub period: i32,
    pub assessment_id: i64,
    pub status_key: &'static str,
    pub grade: String,
    pub grade_class: &'static str,
    pub score: String,
    pub total_tce: String,
    pub value_added: String,
    pub intensity: String,
    pub waste_rate: String,
    pub submissions: usize,
    /// The year's approved figures under a newer submission, and whether the code in force
    /// was issued for them.
    pub approved_behind: bool,
    pub behind_code: bool,
    /// (words, large)
    pub changes: Vec<(String, bool)>,
}

pub struct CodeRow {
    pub serial: i64,
    pub period: i32,
    pub grade: String,
    pub grade_class: &'static str,
    pub score: String,
    pub status_key: &'static str,
    pub issued: String,
}

pub struct RecordRow {
    pub kind: String,
    pub detail: String,
    pub status_key: &'static str,
}

#[derive(Template)]
#[template(path = "regulator_firm.html")]
pub struct ProfilePage {
    pub c: Chrome,
    pub tab: &'static str,
    pub name: String,
    pub uscc: String,
    pub industry: String,
    pub district: String,
    /// Recreated by a log recovery: name, industry and district to be completed.
    pub to_complete: bool,
    /// Why the completion form was refused, in words.
    pub form_error: Option<String>,
    pub industry_code: String,
    pub current: Option<CodeRow>,
    pub years: Vec<YearRow>,
    pub codes: Vec<CodeRow>,
    pub certifications: Vec<RecordRow>,
    pub vetoes: Vec<RecordRow>,
    /// The kinds a veto may be, (value, words).
    pub veto_kinds: Vec<(&'static str, String)>,
    /// Why the veto form was refused, in words.
    pub veto_error: Option<String>,
    /// Why a no-touch filing was refused, in words.
    pub no_touch_error: Option<String>,
    /// Where the firm stands in its division and district, and its quota band, in words.
    pub standing: Vec<String>,
}

/// A change in words: "综合能源消费量 +35.2%".
pub fn change_words(t: &Texts, c: &Change) -> (String, bool) {
    let sign = if c.percent.starts_with('-') { "" } else { "+" };
    (
        format!(
            "{} {sign}{}%",
            t.get(match c.figure {
                "total_tce" => "total_tce",
                "value_added" => "value_added",
                _ => "intensity",
            }),
            c.percent
        ),
        c.large,
    )
}

async fn show_profile(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(uscc): Path<String>,
    axum::extract::Query(q): axum::extract::Query<super::super::FlashQuery>,
) -> PageResult {
    let mut page = profile_page(&state, lang, &auth, uscc.trim()).await?;
    page.c = page.c.with_flash(q.msg.as_deref());
    Ok(render(&page))
}

async fn profile_page(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    uscc: &str,
) -> Result<ProfilePage, super::super::PageError> {
    let t = lang.texts();
    let p = profile::profile(&state.db, uscc).await?;
    let code_row = |c: &crate::store::codes::Model| CodeRow {
        serial: c.serial,
        period: c.period,
        grade: c.grade.to_string(),
        grade_class: grade_class(c.grade.0),
        score: c.score.clone(),
        status_key: status_key(c.status.as_str()),
        issued: views::local_time(lang, c.created_at),
    };
    let years = p
        .years
        .iter()
        .map(|y| {
            let a = &y.assessment;
            let f = y.figures.as_ref();
            YearRow {
                period: a.period,
                assessment_id: a.id,
                status_key: status_key(a.status.as_str()),
                grade: a.grade.to_string(),
                grade_class: grade_class(a.grade.0),
                score: a.score.clone(),
                total_tce: f
                    .map(|f| views::number(&f.total_tce, 2))
                    .unwrap_or_default(),
                value_added: f
                    .map(|f| views::number(&f.value_added, 2))
                    .unwrap_or_default(),
                intensity: f
                    .map(|f| views::number(&f.intensity, 4))
                    .unwrap_or_default(),
                waste_rate: f
                    .and_then(|f| f.waste_rate.as_deref())
                    .map(|r| format!("{}%", views::percent(r, 2)))
                    .unwrap_or_else(|| t.get("not_applicable").to_owned()),
                submissions: y.submissions,
                approved_behind: y.approved_behind,
                behind_code: a.code_serial.is_some() && a.code_serial == p.firm.current_serial,
                changes: y.changes.iter().map(|c| change_words(t, c)).collect(),
            }
        })
        .collect();
    let current = p
        .firm
        .current_serial
        .and_then(|s| p.codes.iter().find(|c| c.serial == s))
        .map(code_row);
    let certifications = p
        .certifications
        .iter()
        .map(|c| {
            let view = crate::service::records::CertificationView::of(c, p.firm.uscc.as_str());
            RecordRow {
                kind: views::kind_name(t, &c.kind),
                detail: format!(
                    "{} · {} · {} – {}",
                    c.number, c.issuer, c.valid_from, c.valid_until
                ),
                status_key: status_key(view.status),
            }
        })
        .collect();
    let vetoes = p
        .vetoes
        .iter()
        .map(|v| RecordRow {
            kind: views::veto_name(t, &v.kind),
            // The date, then who reported it under which document (an incident list), or the
            // regulator's note.
            detail: [
                Some(v.occurred_on.to_string()),
                v.authority.clone(),
                v.document_no.clone(),
                v.note.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
            status_key: "status_unknown",
        })
        .collect();
    let industry = industry_name(state, lang, &p.firm.industry_code).await?;
    let standing = crate::service::standing::of_firm(&state.db, &p.firm)
        .await?
        .map(|st| crate::web::pages::year_words::standing_lines(t, lang, &st, &industry, true))
        .unwrap_or_default();
    Ok(ProfilePage {
        standing,
        c: Chrome::of(lang, auth),
        tab: "firms",
        name: p.firm.name.clone(),
        uscc: p.firm.uscc.to_string(),
        industry,
        district: p.firm.district.clone(),
        to_complete: p.firm.restored_at.is_some(),
        form_error: None,
        industry_code: p.firm.industry_code.clone(),
        current,
        years,
        codes: p.codes.iter().map(code_row).collect(),
        certifications,
        vetoes,
        veto_kinds: crate::grading::input::VetoKind::ALL
            .iter()
            .map(|k| (k.name(), views::veto_name(t, k.name())))
            .collect(),
        veto_error: None,
        no_touch_error: None,
    })
}
