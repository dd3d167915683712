//! `/bank`: a loan officer's desk — verify one code, verify a pile (an uploaded CSV or text
//! file, or pasted lines) with a CSV of the verdicts to download, and the watchlist of
//! borrowers with its change feed.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::views::{self, status_key};
use super::{Chrome, FlashQuery, PageError, PageResult, check_csrf, render};
use crate::error::AppError;
use crate::grading::Uscc;
use crate::service::flat::spreadsheet_text;
use crate::service::verification::{self, BULK_MAX, RecordStatus, VerifyReason, VerifyResult};
use crate::service::watch::{self, ChangeKind};
use crate::web::AppState;
use crate::web::auth::{Bank, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bank", get(show_bank))
        .route("/bank/verify", post(verify_one))
        .route(
            "/bank/verify-list",
            post(verify_list).layer(DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route("/bank/watch", post(add_watch))
        .route("/bank/unwatch", post(remove_watch))
}

pub struct ResultRow {
    pub valid: bool,
    pub verdict_key: &'static str,
    pub firm: String,
    pub uscc: String,
    pub grade: String,
    pub score: String,
    pub status: String,
    pub valid_until: String,
}

pub struct WatchRow {
    pub name: String,
    pub uscc: String,
    pub grade: String,
    pub score: String,
}

pub struct ChangeRow {
    pub at: String,
    pub name: String,
    pub event_key: &'static str,
    pub grade: crate::grading::Grade,
    pub score: String,
    pub serial: i64,
}

#[derive(Template)]
#[template(path = "bank.html")]
pub struct BankPage {
    pub c: Chrome,
    pub results: Vec<ResultRow>,
    pub list_error: Option<&'static str>,
    pub watch_error: Option<&'static str>,
    pub watched: Vec<WatchRow>,
    pub changes: Vec<ChangeRow>,
}

fn verdict_key(r: &VerifyResult) -> &'static str {
    if r.valid {
        return "verdict_valid";
    }
    match r.reason {
        Some(VerifyReason::Superseded) => "status_superseded",
        Some(VerifyReason::Revoked) => "status_revoked",
        Some(VerifyReason::Expired) => "status_expired",
        _ => "verdict_invalid",
    }
}

fn rows(lang: Lang, results: &[VerifyResult]) -> Vec<ResultRow> {
    let t = lang.texts();
    results
        .iter()
        .map(|r| ResultRow {
            valid: r.valid,
            verdict_key: verdict_key(r),
            firm: r.firm.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
            uscc: r
                .claims
                .as_ref()
                .map(|c| c.uscc.clone())
                .unwrap_or_default(),
            grade: r
                .claims
                .as_ref()
                .map(|c| c.grade.to_string())
                .unwrap_or_default(),
            score: r
                .claims
                .as_ref()
                .map(|c| c.score.clone())
                .unwrap_or_default(),
            status: match (r.status, r.reason) {
                (Some(status), _) => t.get(status_key(status.as_str())).to_owned(),
                (None, reason) => t.get(views::reason_key(reason)).to_owned(),
            },
            valid_until: r
                .claims
                .as_ref()
                .map(|c| c.exp.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        })
        .collect()
}

async fn page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Bank>,
    results: Vec<ResultRow>,
    msg: Option<&str>,
) -> Result<BankPage, PageError> {
    let watched = watch::list(&state.db, &auth.caller)
        .await?
        .into_iter()
        .map(|w| WatchRow {
            name: w.name,
            uscc: w.uscc,
            grade: w.grade.map(|g| g.to_string()).unwrap_or_default(),
            score: w.score.unwrap_or_default(),
        })
        .collect();
    let feed = watch::changes(&state.db, &auth.caller, None, None, 500).await?;
    let changes = feed
        .items
        .into_iter()
        .rev()
        .take(50)
        .map(|e| ChangeRow {
            at: views::local_time(lang, e.at),
            name: e.name,
            event_key: match e.event {
                ChangeKind::Issued => "event_issued",
                ChangeKind::Superseded => "event_superseded",
                ChangeKind::Revoked => "event_revoked",
            },
            grade: e.grade,
            score: e.score,
            serial: e.serial,
        })
        .collect();
    Ok(BankPage {
        c: Chrome::of(lang, auth).with_flash(msg),
        results,
        list_error: None,
        watch_error: None,
        watched,
        changes,
    })
}

async fn show_bank(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    Ok(render(
        &page(&state, lang, &auth, Vec::new(), q.msg.as_deref()).await?,
    ))
}

#[derive(serde::Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(serde::Deserialize)]
struct UsccForm {
    #[serde(default)]
    uscc: String,
}

async fn verify_one(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let code = form.code;
    let keys = state.keys.current();
    let results =
        verification::verify_codes(&state.db, &state.caches, &keys.trusted, &[code]).await?;
    Ok(render(
        &page(&state, lang, &auth, rows(lang, &results), None).await?,
    ))
}

/// Every code in a text: each token that is a code URL, or long enough to be a bare code.
pub fn codes_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '"')
        .map(str::trim)
        .filter(|token| {
            token.contains("/C/")
                || token.contains("/c/")
                || (token.len() >= 100 && token.chars().all(|c| c.is_ascii_alphanumeric()))
        })
        .map(str::to_owned)
        .collect()
}

async fn verify_list(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    mut multipart: Multipart,
) -> PageResult {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut text = String::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let value = String::from_utf8_lossy(&bytes).into_owned();
        if name == "file" || name == "codes" {
            text.push('\n');
            text.push_str(value.trim_start_matches('\u{feff}'));
        } else {
            fields.insert(name, value);
        }
    }
    // A multipart form (a file upload) is checked here; every urlencoded form through CsrfForm.
    check_csrf(&auth, fields.get("csrf").map_or("", String::as_str))?;
    let codes = codes_in(&text);
    if codes.is_empty() || codes.len() > BULK_MAX {
        let mut p = page(&state, lang, &auth, Vec::new(), None).await?;
        p.list_error = Some(if codes.is_empty() {
            "bank_no_codes"
        } else {
            "bank_too_many"
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response());
    }
    let keys = state.keys.current();
    let results =
        verification::verify_codes(&state.db, &state.caches, &keys.trusted, &codes).await?;
    if fields.get("format").map(String::as_str) == Some("csv") {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record([
            "row",
            "code",
            "valid",
            "reason",
            "status",
            "uscc",
            "firm",
            "grade",
            "score",
            "period",
            "valid_until",
            "serial",
        ]);
        for (i, (code, r)) in codes.iter().zip(&results).enumerate() {
            let claims = r.claims.as_ref();
            let _ = writer.write_record(
                [
                    (i + 1).to_string(),
                    code.clone(),
                    r.valid.to_string(),
                    r.reason.map_or("", VerifyReason::as_str).to_owned(),
                    r.status.map_or("", RecordStatus::as_str).to_owned(),
                    claims.map(|c| c.uscc.clone()).unwrap_or_default(),
                    r.firm.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
                    claims.map(|c| c.grade.to_string()).unwrap_or_default(),
                    claims.map(|c| c.score.clone()).unwrap_or_default(),
                    claims.map(|c| c.period.to_string()).unwrap_or_default(),
                    claims.map(|c| c.exp.to_rfc3339()).unwrap_or_default(),
                    claims.map(|c| c.serial.to_string()).unwrap_or_default(),
                ]
                .map(spreadsheet_text),
            );
        }
        let mut body = "\u{feff}".as_bytes().to_vec();
        body.extend(
            writer
                .into_inner()
                .map_err(|e| AppError::internal(e.to_string()))?,
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"gec-verdicts.csv\"",
                ),
            ],
            body,
        )
            .into_response());
    }
    Ok(render(
        &page(&state, lang, &auth, rows(lang, &results), None).await?,
    ))
}

async fn add_watch(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<UsccForm>,
) -> PageResult {
    let added = match Uscc::parse(form.uscc.trim()) {
        Ok(uscc) => watch::watch(&state.db, &auth.caller, &uscc).await,
        Err(_) => Err(AppError::NotFound),
    };
    match added {
        Ok(_) => Ok(Redirect::to("/bank?msg=msg_watch_added").into_response()),
        Err(AppError::NotFound) => {
            let mut p = page(&state, lang, &auth, Vec::new(), None).await?;
            p.watch_error = Some("bank_unknown_firm");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

async fn remove_watch(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<UsccForm>,
) -> PageResult {
    let removed = match Uscc::parse(form.uscc.trim()) {
        Ok(uscc) => watch::unwatch(&state.db, &auth.caller, &uscc).await,
        Err(_) => Err(AppError::NotFound),
    };
    match removed {
        Ok(()) | Err(AppError::NotFound) => {
            Ok(Redirect::to("/bank?msg=msg_watch_removed").into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}
