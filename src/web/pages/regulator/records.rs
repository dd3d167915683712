//! Firms with filters, the certifications awaiting verification, and appeals.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

use super::super::views::{self};
use super::super::{Chrome, FlashQuery, PageError, PageResult, render};
use super::Auth;
use crate::error::AppError;
use crate::grading::Grade;
use crate::service::{appeals, firms as firm_service, records};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator/firms", get(show_firms))
        .route("/regulator/certifications", get(show_certifications))
        .route("/regulator/certifications/{id}", post(review_certification))
        .route("/regulator/appeals", get(show_appeals))
        .route("/regulator/appeals/{id}/close", post(close_appeal))
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
    #[serde(default)]
    outcome: String,
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
    /// (value, shown)
    pub grades: Vec<(String, String)>,
    pub divisions: Vec<(String, String)>,
    /// (stored name, shown name)
    pub districts: Vec<(String, String)>,
    pub filter_grade: String,
    pub filter_division: String,
    pub filter_district: String,
    pub filter_q: String,
    pub filter_sort: String,
    /// (value, shown)
    pub sorts: Vec<(&'static str, String)>,
    pub error: Option<String>,
    pub rows: Vec<FirmRow>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
struct FirmFilter {
    grade: Option<String>,
    division: Option<String>,
    district: Option<String>,
    q: Option<String>,
    sort: Option<String>,
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
        q: nonempty(&q.q),
        sort: nonempty(&q.sort),
        cursor: q.cursor.clone(),
        limit: Some(100),
    };
    let (rows, next, error) = match firm_service::list_firms(&state.db, &state.caches, query).await
    {
        Ok(page) => (page.items, page.next_cursor, None),
        Err(AppError::Validation { .. }) => (
            Vec::new(),
            None,
            Some(lang.texts().get("err_filter").to_owned()),
        ),
        Err(other) => return Err(PageError(other)),
    };
    let next_cursor = next.map(|cursor| {
        let mut url = format!("/regulator/firms?cursor={cursor}");
        for (k, v) in [
            ("grade", &q.grade),
            ("division", &q.division),
            ("district", &q.district),
            ("q", &q.q),
            ("sort", &q.sort),
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
            .map(|g| (g.as_str().to_owned(), g.as_str().to_owned()))
            .chain([("none".to_owned(), lang.texts().get("ungraded").to_owned())])
            .collect(),
        divisions: crate::service::benchmarks::in_force(&state.db, &state.caches)
            .await?
            .rows
            .values()
            .map(|b| {
                let name = match lang {
                    Lang::Zh => &b.name_zh,
                    Lang::En => &b.name_en,
                };
                (b.division.clone(), format!("{} {name}", b.division))
            })
            .collect(),
        districts: firm_service::districts(&state.db)
            .await?
            .into_iter()
            .map(|d| {
                let shown = views::district_name(lang, &d);
                (d, shown)
            })
            .collect(),
        filter_grade: q.grade.unwrap_or_default(),
        filter_division: q.division.unwrap_or_default(),
        filter_district: q.district.unwrap_or_default(),
        filter_q: q.q.unwrap_or_default(),
        filter_sort: q.sort.unwrap_or_default(),
        sorts: [
            ("", "sort_registered"),
            ("name", "sort_name"),
            ("score", "sort_score"),
            ("score_asc", "sort_score_asc"),
            ("newest", "sort_newest"),
        ]
        .into_iter()
        .map(|(v, key)| (v, lang.texts().get(key).to_owned()))
        .collect(),
        error,
        rows: rows
            .into_iter()
            .map(|f| FirmRow {
                division: if lang == Lang::Zh {
                    f.division_name_zh.unwrap_or(f.division)
                } else {
                    f.division_name_en.unwrap_or(f.division)
                },
                name: f.name,
                uscc: f.uscc,
                district: views::district_name(lang, &f.district),
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
    let keys = state.keys.current();
    let issuer = appeals::Issuer {
        caches: &state.caches,
        keys: &keys,
        public_url: &state.config.public_url,
    };
    let outcome = match form.outcome.as_str() {
        "reinstated" => crate::store::appeals::AppealOutcome::Reinstated,
        "regraded" => crate::store::appeals::AppealOutcome::Regraded,
        _ => crate::store::appeals::AppealOutcome::Upheld,
    };
    appeals::close(
        &state.db,
        &issuer,
        &auth.caller,
        id,
        appeals::CloseRequest {
            resolution: form.resolution,
            outcome,
        },
    )
    .await?;
    Ok(Redirect::to("/regulator/appeals?msg=msg_appeal_closed").into_response())
}
