//! `/regulator`: the review desk — the queue of submissions (approve, reject, recompute, with
//! the trace), firms with filters, certifications awaiting verification, appeals, revocation,
//! distribution charts, and the audit trail.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use serde::Deserialize;

use super::views::{self, Breakdown, breakdown, status_key};
use super::{Chrome, FlashQuery, PageError, PageResult, render};
use crate::error::AppError;
use crate::grading::{Grade, Trace};
use crate::service::assessments::{self, ListQuery};
use crate::service::audit::{self as audit_service, AuditFilter};
use crate::service::{appeals, codes, firms as firm_service, issue, records};

use crate::web::AppState;
use crate::web::auth::{PageAuth, Regulator};
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
        .route("/regulator/firms", get(show_firms))
        .route("/regulator/certifications", get(show_certifications))
        .route("/regulator/certifications/{id}", post(review_certification))
        .route("/regulator/appeals", get(show_appeals))
        .route("/regulator/appeals/{id}/close", post(close_appeal))
        .route("/regulator/charts", get(show_charts))
        .route("/regulator/audit", get(show_audit))
}

type Auth = PageAuth<Regulator>;

/// A form with nothing but its CSRF token (approve, recompute).
#[derive(serde::Deserialize)]
struct EmptyForm {}

/// A decision with a reason (reject, revoke; `back` is the assessment page to return to).
#[derive(serde::Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Decision {
    Verify,
    Revoke,
}

#[derive(serde::Deserialize)]
struct ReviewForm {
    decision: Decision,
    #[serde(default)]
    reason: String,
}

#[derive(serde::Deserialize)]
struct CloseForm {
    #[serde(default)]
    resolution: String,
}

pub struct QueueRow {
    pub id: i64,
    pub firm: String,
    pub uscc: String,
    pub period: i32,
    pub grade: String,
    pub score: String,
    pub submitted_at: String,
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
    let rows = page
        .items
        .into_iter()
        .map(|a| QueueRow {
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

pub struct RecomputeView {
    pub matches: bool,
    pub stored: String,
    pub recomputed: String,
    pub differences: Vec<String>,
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
    pub trace_json: String,
    pub recomputed: Option<RecomputeView>,
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
    Ok(AssessmentPage {
        c: Chrome::of(lang, auth).with_flash(msg),
        tab: "queue",
        id,
        firm: firm.name,
        uscc: firm.uscc,
        period: a.period,
        status_key: status_key(a.status.as_str()),
        code_serial: a.code_serial,
        reject_reason: a.reject_reason,
        issued_url: None,
        action_error: None,
        bd: breakdown(&trace, &a.trace_hash, lang.texts()),
        trace_json: serde_json::to_string_pretty(&trace).unwrap_or_default(),
        recomputed: None,
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
async fn show_refusal(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    id: i64,
    err: AppError,
) -> PageResult {
    let shown = match err {
        AppError::Validation {
            field,
            message,
            kind,
        } => format!(
            "{field}: {}",
            super::firm::message(lang.texts(), kind, &message)
        ),
        AppError::Conflict(message) => message,
        other => return Err(PageError(other)),
    };
    let mut page = assessment_page(state, lang, auth, id, None).await?;
    page.action_error = Some(shown);
    Ok((StatusCode::CONFLICT, render(&page)).into_response())
}

async fn approve_assessment(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> PageResult {
    let keys = state.keys.current();
    match issue::approve(
        &state.db,
        &state.caches,
        &keys,
        &auth.caller,
        id,
        &state.config.public_url,
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/regulator/assessments/{id}?msg=msg_approved")).into_response(),
        ),
        Err(err) => show_refusal(&state, lang, &auth, id, err).await,
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
        Err(err) => show_refusal(&state, lang, &auth, id, err).await,
    }
}

async fn recompute_assessment(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> PageResult {
    let result = issue::recompute(&state.db, &state.caches, &auth.caller, id).await?;
    let mut page = assessment_page(&state, lang, &auth, id, None).await?;
    page.recomputed = Some(RecomputeView {
        matches: result.matches,
        stored: result.stored_hash,
        recomputed: result.recomputed_hash,
        differences: result
            .differences
            .iter()
            .map(|d| format!("{}: {} → {}", d.path, d.stored, d.recomputed))
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
    let request = issue::RevokeRequest {
        reason: form.reason,
    };
    match issue::revoke(
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
        Err(err) if back > 0 => show_refusal(&state, lang, &auth, back, err).await,
        Err(err) => Err(PageError(err)),
    }
}

pub struct FirmRow {
    pub name: String,
    pub uscc: String,
    pub division: String,
    pub district: String,
    pub grade: String,
    pub score: String,
    pub serial: Option<i64>,
}

#[derive(Template)]
#[template(path = "regulator_firms.html")]
pub struct FirmsPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub grades: Vec<String>,
    pub filter_grade: String,
    pub filter_division: String,
    pub filter_district: String,
    pub error: Option<String>,
    pub rows: Vec<FirmRow>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
struct FirmFilter {
    grade: Option<String>,
    division: Option<String>,
    district: Option<String>,
    cursor: Option<String>,
    msg: Option<String>,
}

async fn show_firms(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<FirmFilter>,
) -> PageResult {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let query = firm_service::FirmQuery {
        grade: nonempty(&q.grade),
        division: nonempty(&q.division),
        district: nonempty(&q.district),
        cursor: q.cursor.clone(),
        limit: Some(100),
    };
    let (rows, next, error) = match firm_service::list_firms(&state.db, &state.caches, query).await
    {
        Ok(page) => (page.items, page.next_cursor, None),
        Err(AppError::Validation { field, message, .. }) => {
            (Vec::new(), None, Some(format!("{field}: {message}")))
        }
        Err(other) => return Err(PageError(other)),
    };
    let next_cursor = next.map(|cursor| {
        let mut url = format!("/regulator/firms?cursor={cursor}");
        for (k, v) in [
            ("grade", &q.grade),
            ("division", &q.division),
            ("district", &q.district),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                url.push_str(&format!(
                    "&{k}={}",
                    v.bytes()
                        .map(|b| if b.is_ascii_alphanumeric() {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        })
                        .collect::<String>()
                ));
            }
        }
        url
    });
    Ok(render(&FirmsPage {
        c: Chrome::of(lang, &auth).with_flash(q.msg.as_deref()),
        tab: "firms",
        grades: Grade::ALL
            .iter()
            .map(|g| g.as_str().to_owned())
            .chain(["none".to_owned()])
            .collect(),
        filter_grade: q.grade.unwrap_or_default(),
        filter_division: q.division.unwrap_or_default(),
        filter_district: q.district.unwrap_or_default(),
        error,
        rows: rows
            .into_iter()
            .map(|f| FirmRow {
                division: format!(
                    "{} {}",
                    f.division,
                    if lang == Lang::Zh {
                        f.division_name_zh.unwrap_or_default()
                    } else {
                        f.division_name_en.unwrap_or_default()
                    }
                ),
                name: f.name,
                uscc: f.uscc,
                district: f.district,
                grade: f.grade.map(|g| g.to_string()).unwrap_or_default(),
                score: f.score.unwrap_or_default(),
                serial: f.code_serial,
            })
            .collect(),
        next_cursor,
    }))
}

pub struct CertQueueRow {
    pub id: i64,
    pub uscc: String,
    pub kind: String,
    pub number: String,
    pub issuer: String,
    pub valid: String,
    pub evidence: String,
}

#[derive(Template)]
#[template(path = "regulator_certifications.html")]
pub struct CertificationsPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub rows: Vec<CertQueueRow>,
}

async fn show_certifications(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let t = lang.texts();
    let declared =
        records::list_certifications(&state.db, Some("declared"), None, Some(200)).await?;
    let rows = declared
        .items
        .into_iter()
        .map(|c| CertQueueRow {
            id: c.id,
            uscc: c.uscc,
            kind: views::kind_name(t, &c.kind),
            number: c.number,
            issuer: c.issuer,
            valid: format!("{} – {}", c.valid_from, c.valid_until),
            evidence: c.evidence_note.unwrap_or_default(),
        })
        .collect();
    Ok(render(&CertificationsPage {
        c: Chrome::of(lang, &auth).with_flash(q.msg.as_deref()),
        tab: "certifications",
        rows,
    }))
}

async fn review_certification(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReviewForm>,
) -> PageResult {
    let request = match form.decision {
        Decision::Verify => records::ReviewRequest {
            verified: Some(true),
            revoked: None,
            reason: None,
        },
        Decision::Revoke => records::ReviewRequest {
            verified: None,
            revoked: Some(true),
            reason: Some(form.reason),
        },
    };
    records::review_certification(&state.db, &auth.caller, id, request).await?;
    Ok(Redirect::to("/regulator/certifications?msg=msg_cert_reviewed").into_response())
}

pub struct AppealRow {
    pub id: i64,
    pub firm_name: String,
    pub uscc: String,
    pub code_serial: Option<i64>,
    pub note: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "regulator_appeals.html")]
pub struct AppealsPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub rows: Vec<AppealRow>,
}

async fn show_appeals(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let rows = appeals::list(&state.db, &auth.caller, true)
        .await?
        .into_iter()
        .map(|a| AppealRow {
            id: a.id,
            firm_name: a.firm_name,
            uscc: a.uscc,
            code_serial: a.code_serial,
            note: a.note,
            created_at: views::local_time(lang, a.created_at),
        })
        .collect();
    Ok(render(&AppealsPage {
        c: Chrome::of(lang, &auth).with_flash(q.msg.as_deref()),
        tab: "appeals",
        rows,
    }))
}

async fn close_appeal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CloseForm>,
) -> PageResult {
    appeals::close(
        &state.db,
        &auth.caller,
        id,
        appeals::CloseRequest {
            resolution: form.resolution,
        },
    )
    .await?;
    Ok(Redirect::to("/regulator/appeals?msg=msg_appeal_closed").into_response())
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
        by_division: super::charts::distribution(t, t.get("chart_by_division"), &by_division),
        by_district: super::charts::distribution(t, t.get("chart_by_district"), &by_district),
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
