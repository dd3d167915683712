//! The review queue and one assessment: its trace, approve, reject, recompute, and revoking
//! its code.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

use super::super::views::{self, Breakdown, breakdown, status_key};
use super::super::{Chrome, FlashQuery, PageError, PageResult, render};
use super::{Auth, EmptyForm, ReasonForm};
use crate::error::{AppError, Conflict};
use crate::grading::Trace;
use crate::service::assessments::{self, ListQuery};
use crate::service::{issue, profile, recompute, revoke};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator", get(show_queue))
        .route("/regulator/assessments/{id}", get(show_assessment))
        .route(
            "/regulator/assessments/{id}/approve",
            post(approve_assessment),
        )
        .route(
            "/regulator/assessments/{id}/reject",
            post(reject_assessment),
        )
        .route(
            "/regulator/assessments/{id}/recompute",
            post(recompute_assessment),
        )
        .route("/regulator/codes/{serial}/revoke", post(revoke_code))
        .route(
            "/regulator/assessments/{id}/trace.json",
            get(download_trace),
        )
        .route(
            "/regulator/assessments/{id}/report.pdf",
            get(download_report),
        )
}

pub struct QueueRow {
    pub id: i64,
    pub firm: String,
    pub uscc: String,
    pub period: i32,
    pub grade: String,
    pub score: String,
    pub submitted_at: String,
    /// The year already has an approved grade.
    pub resubmission: bool,
    /// Figures that moved more than 30 % from the year before, in words.
    pub large_changes: Vec<String>,
    /// Figures more than 2 % from what a data source attested, in words.
    pub attested_apart: Vec<String>,
    /// What the abnormal-data checks found, in words.
    pub abnormal: Vec<String>,
}

#[derive(Template)]
#[template(path = "regulator_queue.html")]
pub struct QueuePage {
    pub c: Chrome,
    pub tab: &'static str,
    pub rows: Vec<QueueRow>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
struct CursorQuery {
    cursor: Option<String>,
    msg: Option<String>,
}

async fn show_queue(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<CursorQuery>,
) -> PageResult {
    let query = ListQuery {
        status: Some("submitted".into()),
        cursor: q.cursor,
        limit: Some(100),
        ..Default::default()
    };
    let page = assessments::list(&state.db, &auth.caller, query).await?;
    let ids: Vec<i64> = page.items.iter().map(|a| a.id).collect();
    let models = crate::store::assessments::by_ids(&state.db, ids).await?;
    let mut flags = profile::queue_flags(&state.db, &models).await?;
    let t = lang.texts();
    let usccs: std::collections::HashMap<i64, String> =
        page.items.iter().map(|a| (a.id, a.uscc.clone())).collect();
    let submitted: Vec<(i64, String, i32, serde_json::Value)> = models
        .iter()
        .map(|m| {
            (
                m.id,
                usccs.get(&m.id).cloned().unwrap_or_default(),
                m.period,
                serde_json::from_str(&m.input).unwrap_or_default(),
            )
        })
        .collect();
    let mut apart = crate::service::readings::flagged_many(&state.db, &submitted).await?;
    let inputs = crate::web::pages::data_form::inputs();
    let rows = page
        .items
        .into_iter()
        .map(|a| {
            let f = flags.remove(&a.id).unwrap_or_default();
            (a, f)
        })
        .map(|(a, f)| QueueRow {
            abnormal: a
                .abnormal
                .iter()
                .map(|x| crate::web::pages::year_words::abnormal_words(t, x))
                .collect(),
            attested_apart: apart
                .remove(&a.id)
                .unwrap_or_default()
                .iter()
                .map(|field| {
                    let what = inputs.iter().find(|i| i.cell == *field).map_or_else(
                        || field.clone(),
                        |i| crate::web::pages::data_form::label(t, i),
                    );
                    t.get("flag_attested").replace("{what}", &what)
                })
                .collect(),
            resubmission: f.resubmission,
            large_changes: f
                .large_changes
                .iter()
                .map(|c| super::profile::change_words(t, c).0)
                .collect(),
            id: a.id,
            firm: a.firm_name,
            uscc: a.uscc,
            period: a.period,
            grade: a.grade.to_string(),
            score: a.score,
            submitted_at: views::local_time(lang, a.submitted_at),
        })
        .collect();
    Ok(render(&QueuePage {
        c: Chrome::of(lang, &auth).with_flash(q.msg.as_deref()),
        tab: "queue",
        rows,
        next_cursor: page.next_cursor,
    }))
}

pub struct CodeState {
    pub in_force: bool,
    pub words: String,
}

pub struct RecomputeView {
    pub matches: bool,
    pub stored: String,
    pub recomputed: String,
    /// (what, stored, recomputed)
    pub differences: Vec<(String, String, String)>,
    /// The carbon trace's hashes, stored and recomputed, when one was kept.
    pub carbon: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "regulator_assessment.html")]
pub struct AssessmentPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub id: i64,
    pub firm: String,
    pub uscc: String,
    pub period: i32,
    pub status_key: &'static str,
    pub code_serial: Option<i64>,
    pub reject_reason: Option<String>,
    pub issued_url: Option<String>,
    pub action_error: Option<String>,
    pub bd: Breakdown,
    pub recomputed: Option<RecomputeView>,
    /// The way up of the assessment as recorded, in words.
    pub way_up: Vec<String>,
    /// What became of the code issued for it, in words (in force, superseded, revoked with
    /// its day and reason, expired).
    pub code_state: Option<CodeState>,
    /// The code that may still be revoked (in force), if any.
    pub revocable: Option<i64>,
    /// Its carbon efficiency as recorded, with the carbon way up and the trace hash.
    pub carbon: Option<(super::super::carbon::CarbonSummary, String)>,
    /// A resubmission under review beside the year's approved filing: the note, and what
    /// differs.
    pub compare: Option<(String, Vec<super::compare::CompareRow>)>,
    /// Each attested figure beside the declared one, in words, and whether it is flagged.
    pub attested: Vec<(String, bool)>,
    /// Some figure differs by more than the tolerance: approving needs a note.
    pub needs_note: bool,
    /// The firm's reason for figures apart from the attested ones.
    pub declared_reason: Option<String>,
    /// What the abnormal-data checks found, in words (approving needs a check record).
    pub abnormal: Vec<String>,
}

async fn assessment_page(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    id: i64,
    msg: Option<&str>,
) -> Result<AssessmentPage, PageError> {
    let (a, firm) = assessments::visible(&state.db, &auth.caller, id).await?;
    let trace: Trace = serde_json::from_str(&a.trace).map_err(AppError::internal)?;
    let way_up = assessments::way_up_of(&state.db, &state.caches, &a)
        .await?
        .map(|w| views::way_up_lines(lang.texts(), &w))
        .unwrap_or_default();
    let t = lang.texts();
    let code = match a.code_serial {
        Some(serial) => crate::service::codes::by_serial(&state.db, serial).await?,
        None => None,
    };
    let status = code
        .as_ref()
        .map(|c| c.status_at(chrono::Utc::now().timestamp()));
    let code_state = code.as_ref().zip(status).map(|(c, status)| {
        use crate::store::codes::CodeStatus;
        let words = match status {
            CodeStatus::Revoked => t
                .get("code_state_revoked")
                .replace("{serial}", &c.serial.to_string())
                .replace(
                    "{at}",
                    &c.revoked_at
                        .map(|at| views::local_time(lang, at))
                        .unwrap_or_default(),
                )
                .replace("{reason}", c.revoked_reason.as_deref().unwrap_or_default()),
            other => t
                .get("code_state")
                .replace("{serial}", &c.serial.to_string())
                .replace("{status}", t.get(status_key(other.as_str()))),
        };
        CodeState {
            in_force: status == CodeStatus::Active,
            words,
        }
    });
    let revocable = code
        .as_ref()
        .zip(status)
        .filter(|(_, s)| *s == crate::store::codes::CodeStatus::Active)
        .map(|(c, _)| c.serial);
    let carbon = match (a.carbon_trace.as_deref(), &a.carbon_hash) {
        (Some(text), Some(hash)) => {
            let trace: serde_json::Value =
                serde_json::from_str(text).map_err(AppError::internal)?;
            let way_up = assessments::carbon_way_up_of(&state.db, &state.caches, &a).await?;
            super::super::carbon::summary(lang.texts(), &trace, way_up.as_ref())
                .map(|summary| (summary, hash.clone()))
        }
        _ => None,
    };
    // A submission under review is read beside the year's approved filing, if there is one.
    let compare = match a.status {
        crate::store::assessments::AssessmentStatus::Submitted => {
            match profile::approved_of_year(&state.db, a.firm_id, a.period, a.id).await? {
                Some(approved) => {
                    let before: Trace =
                        serde_json::from_str(&approved.trace).map_err(AppError::internal)?;
                    let code = approved
                        .code_serial
                        .map(|s| t.get("compare_code").replace("{serial}", &s.to_string()))
                        .unwrap_or_default();
                    let note = t
                        .get("compare_note")
                        .replace("{id}", &approved.id.to_string())
                        .replace("{code}", &code);
                    Some((note, super::compare::rows(t, &trace, &before)))
                }
                None => None,
            }
        }
        _ => None,
    };
    let input: serde_json::Value = serde_json::from_str(&a.input).map_err(AppError::internal)?;
    let found =
        crate::service::readings::discrepancies(&state.db, firm.uscc.as_str(), a.period, &input)
            .await?;
    let needs_note = found.iter().any(|d| d.flagged);
    let attested = found
        .iter()
        .map(|d| (super::compare::discrepancy_words(t, d), d.flagged))
        .collect();
    Ok(AssessmentPage {
        attested,
        needs_note,
        declared_reason: a.declared_reason.clone(),
        abnormal: crate::service::abnormal::of(&a)
            .iter()
            .map(|f| crate::web::pages::year_words::abnormal_words(lang.texts(), f))
            .collect(),
        compare,
        c: Chrome::of(lang, auth).with_flash(msg),
        tab: "queue",
        id,
        firm: firm.name,
        uscc: firm.uscc.to_string(),
        period: a.period,
        status_key: status_key(a.status.as_str()),
        code_serial: a.code_serial,
        reject_reason: a.reject_reason,
        issued_url: None,
        action_error: None,
        bd: breakdown(&trace, &a.trace_hash, lang.texts()),
        recomputed: None,
        way_up,
        code_state,
        revocable,
        carbon,
    })
}

async fn show_assessment(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    Ok(render(
        &assessment_page(&state, lang, &auth, id, q.msg.as_deref()).await?,
    ))
}

/// An action that failed for a reason the regulator should read is shown on the page.
/// What the regulator tried, to say why it was refused.
#[derive(Clone, Copy)]
enum Action {
    Decide,
    Revoke,
}

async fn show_refusal(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    id: i64,
    action: Action,
    err: AppError,
) -> PageResult {
    let t = lang.texts();
    let mut page = assessment_page(state, lang, auth, id, None).await?;
    let shown = match err {
        AppError::Validation {
            field,
            message: _,
            kind,
        } => format!(
            "{}{}{}",
            views::field_label(t, &field),
            t.colon(),
            super::super::firm::message(t, kind)
        ),
        // The page shows the record's state as it is now: say why the action does not apply.
        AppError::Conflict(kind, _) => t
            .get(match (action, kind) {
                (Action::Decide, Conflict::AlreadyDone) => "reg_err_decided",
                (Action::Revoke, Conflict::AlreadyDone) => "reg_err_revoked",
                (_, kind) => crate::web::pages::conflict_key(kind),
            })
            .to_owned(),
        other => return Err(PageError(other)),
    };
    page.action_error = Some(shown);
    Ok((StatusCode::CONFLICT, render(&page)).into_response())
}

#[derive(Deserialize)]
struct ApproveForm {
    /// The note of the check, when declared figures differ from attested ones.
    #[serde(default)]
    note: String,
    /// The record of a check of abnormal data.
    #[serde(default)]
    check_note: Option<String>,
    #[serde(default)]
    check_date: Option<String>,
    #[serde(default)]
    check_on_site: Option<String>,
}

async fn approve_assessment(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ApproveForm>,
) -> PageResult {
    let keys = state.keys.current();
    match issue::approve_checked(
        &state.db,
        &state.caches,
        &keys,
        &auth.caller,
        id,
        &state.config.public_url,
        issue::Checks {
            note: Some(form.note.as_str()),
            check: form
                .check_note
                .map(|note| crate::service::abnormal::CheckRecord {
                    note,
                    date: form.check_date.unwrap_or_default(),
                    on_site: form.check_on_site.is_some(),
                }),
        },
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/regulator/assessments/{id}?msg=msg_approved")).into_response(),
        ),
        Err(err) => show_refusal(&state, lang, &auth, id, Action::Decide, err).await,
    }
}

async fn reject_assessment(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult {
    let request = assessments::RejectRequest {
        reason: form.reason,
    };
    match assessments::reject(&state.db, &auth.caller, id, request).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/regulator/assessments/{id}?msg=msg_rejected")).into_response(),
        ),
        Err(err) => show_refusal(&state, lang, &auth, id, Action::Decide, err).await,
    }
}

async fn recompute_assessment(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> PageResult {
    let result = recompute::recompute(&state.db, &state.caches, &auth.caller, id).await?;
    let mut page = assessment_page(&state, lang, &auth, id, None).await?;
    let carbon_differences = result.carbon.iter().flat_map(|c| c.differences.iter());
    page.recomputed = Some(RecomputeView {
        matches: result.matches && result.carbon.as_ref().is_none_or(|c| c.matches),
        stored: result.stored_hash,
        recomputed: result.recomputed_hash,
        carbon: result
            .carbon
            .as_ref()
            .map(|c| (c.stored_hash.clone(), c.recomputed_hash.clone())),
        differences: result
            .differences
            .iter()
            .chain(carbon_differences)
            .map(|d| {
                let text = |v: &serde_json::Value| match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => "—".to_owned(),
                    other => other.to_string(),
                };
                (
                    views::trace_field_name(lang.texts(), &d.path),
                    text(&d.stored),
                    text(&d.recomputed),
                )
            })
            .collect(),
    });
    Ok(render(&page))
}

async fn revoke_code(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(serial): Path<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult {
    let back = form.back.unwrap_or(0);
    let keys = state.keys.current();
    let request = revoke::RevokeRequest {
        reason: form.reason,
    };
    match revoke::revoke(
        &state.db,
        &state.caches,
        &keys,
        &auth.caller,
        serial,
        request,
    )
    .await
    {
        Ok(_) if back > 0 => Ok(Redirect::to(&format!(
            "/regulator/assessments/{back}?msg=msg_revoked"
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to("/regulator/firms?msg=msg_revoked").into_response()),
        Err(err) if back > 0 => show_refusal(&state, lang, &auth, back, Action::Revoke, err).await,
        Err(err) => Err(PageError(err)),
    }
}

/// The trace as recorded, to download (its exact bytes: anyone can recompute and compare).
async fn download_trace(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> PageResult {
    let (a, firm) = assessments::visible(&state.db, &auth.caller, id).await?;
    let name = format!(
        "attachment; filename=\"trace-{}-{}-{id}.json\"",
        firm.uscc, a.period
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        a.trace,
    )
        .into_response())
}

async fn download_report(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
) -> PageResult {
    let pdf = crate::web::report::for_assessment(&state, &auth.caller, lang, id).await?;
    Ok((crate::web::report::headers(id), pdf).into_response())
}
