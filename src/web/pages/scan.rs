//! `/c/{code}` (and `/C/{code}`): the page a phone opens when it scans a code. It verifies the
//! code first; a code that is not valid gets a plain "not valid" page (400) that cannot be
//! mistaken for a grade.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde::Deserialize;

use super::views::{self, grade_class, status_key};
use super::{Chrome, HomePage, PageResult, render};
use crate::code::text;
use crate::grading::Trace;
use crate::service::codes;
use crate::service::verification::{self, RecordStatus, VerifyReason};
use crate::web::AppState;
use crate::web::auth::MaybeSession;
use crate::web::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/c/{code}", get(show_scan))
        .route("/C/{code}", get(show_scan))
        .route("/verify", get(find_code))
}

#[derive(Template)]
#[template(path = "scan.html")]
pub struct ScanPage {
    pub c: Chrome,
    pub firm_name: String,
    pub uscc: String,
    pub grade: String,
    pub grade_class: String,
    pub grade_name: String,
    pub score: String,
    pub chart: String,
    pub period: u32,
    pub issued_on: String,
    pub valid_until: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub revoked_reason: Option<String>,
    pub current_link: Option<String>,
    pub finance_items: Vec<String>,
    pub rate_step: Option<String>,
    pub services: Vec<String>,
    pub serial: u64,
}

#[derive(Template)]
#[template(path = "scan_invalid.html")]
pub struct InvalidPage {
    pub c: Chrome,
    pub reason: &'static str,
    pub reason_key: &'static str,
}

async fn show_scan(
    State(state): State<AppState>,
    lang: Lang,
    session: MaybeSession,
    Path(code): Path<String>,
) -> PageResult {
    let keys = state.keys.current();
    let mut results = verification::verify_codes(
        &state.db,
        &state.caches,
        &keys.trusted,
        std::slice::from_ref(&code),
    )
    .await?;
    let result = results
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("no verdict"))?;
    let status = result.status.unwrap_or(RecordStatus::Unknown);
    // Authentic: it verifies, or it verifies but is no longer in force.
    let authentic = result.claims.is_some() && result.reason.is_none_or(VerifyReason::is_status);
    let record = match (&result.claims, authentic) {
        (Some(claims), true) => codes::scan_record(&state.db, claims.serial as i64).await?,
        _ => None,
    };
    let (Some(claims), Some(record)) = (result.claims.clone(), record) else {
        let page = InvalidPage {
            c: Chrome::maybe(lang, &session),
            reason_key: views::reason_key(result.reason),
            reason: result.reason.unwrap_or(VerifyReason::Unknown).as_str(),
        };
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    };
    let t = lang.texts();
    let current_link = record
        .current
        .as_ref()
        .map(|c| format!("/c/{}", text::encode(&c.cose)));
    let firm = record.firm;
    let score_of = |f: fn(&Trace) -> Option<&str>| record.trace.as_ref().and_then(f);
    let name = |item: &crate::grading::finance::Item| {
        if lang == Lang::Zh {
            item.name_zh.to_owned()
        } else {
            item.name_en.to_owned()
        }
    };
    let date = |at: chrono::DateTime<chrono::Utc>| views::local_time(lang, at);
    let page = ScanPage {
        c: Chrome::maybe(lang, &session),
        firm_name: firm.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
        uscc: claims.uscc.clone(),
        grade_class: grade_class(claims.grade).to_owned(),
        grade_name: t.grade_name(claims.grade.as_str()).to_owned(),
        grade: claims.grade.to_string(),
        score: claims.score.clone(),
        chart: super::charts::indicators(
            t,
            score_of(|tr| Some(&tr.energy.score)),
            score_of(|tr| tr.waste.score.as_deref()),
            score_of(|tr| Some(&tr.certifications.score)),
            Some(&claims.score),
        ),
        period: claims.period,
        issued_on: date(claims.iat),
        valid_until: date(claims.exp),
        status_key: status_key(status.as_str()),
        status: status.as_str(),
        revoked_reason: record.code.revoked_reason.clone(),
        current_link,
        finance_items: result
            .finance
            .as_ref()
            .map(|f| f.products.iter().map(name).collect())
            .unwrap_or_default(),
        rate_step: result
            .finance
            .as_ref()
            .and_then(|f| f.rate_step_bp)
            .map(|bp| format!("{bp:+} bp")),
        services: result.services.iter().map(name).collect(),
        serial: claims.serial,
    };
    Ok(render(&page))
}

#[derive(Deserialize)]
struct FindQuery {
    #[serde(default)]
    code: String,
}

/// The home page's box: a pasted URL or code goes to its scan page.
async fn find_code(
    lang: Lang,
    session: MaybeSession,
    Query(query): Query<FindQuery>,
) -> PageResult {
    let part = text::code_part(&query.code).to_owned();
    let is_code = text::decode(&part).is_ok_and(|bytes| crate::code::cose::decode(&bytes).is_ok());
    if is_code {
        return Ok(Redirect::to(&format!("/c/{}", part.to_ascii_uppercase())).into_response());
    }
    let page = HomePage {
        c: Chrome::maybe(lang, &session),
        pasted: query.code.chars().take(400).collect(),
        error: Some("home_not_a_code"),
    };
    Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
}
