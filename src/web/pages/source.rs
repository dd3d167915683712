//! `/source`: a data source's desk (数据源单位) — the fields it may attest, a file of readings
//! to deliver (CSV or an Excel workbook, all or nothing), and its signed receipts.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::{Chrome, FlashQuery, PageError, PageResult, render, views};
use crate::error::AppError;
use crate::service::readings::{self, SignedReceipt};
use crate::web::AppState;
use crate::web::auth::{PageAuth, Source};
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/source", get(show_desk))
        .route(
            "/source/readings",
            post(deliver).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/source/receipts/{batch}", get(download_receipt))
}

pub struct ReceiptRow {
    pub batch: i64,
    pub at: String,
    pub rows: u32,
    pub created: u32,
    pub corrected: u32,
    pub unchanged: u32,
    pub sha256: String,
}

#[derive(Template)]
#[template(path = "source.html")]
pub struct SourcePage {
    pub c: Chrome,
    pub org: String,
    /// The fields it may attest, in words with their units.
    pub fields: Vec<String>,
    pub receipts: Vec<ReceiptRow>,
    /// The receipt of the file just delivered.
    pub delivered: Option<ReceiptRow>,
    /// The faults of a refused file: (row, column, why).
    pub faults: Vec<(String, String, String)>,
    pub error: Option<String>,
    pub contact: super::session::ContactBox,
}

/// A field a source attests, in the page's words with its unit.
pub fn field_words(t: &Texts, field: &str) -> String {
    match crate::grading::energy::Carrier::parse(field) {
        Some(_) => format!(
            "{}{}",
            views::carrier_name(t, field),
            t.paren(views::unit_of(t, field))
        ),
        None => t.get(&format!("reading_field_{field}")).to_owned(),
    }
}

fn row_of(lang: Lang, r: &SignedReceipt) -> ReceiptRow {
    ReceiptRow {
        batch: r.receipt.batch,
        at: views::local_time(lang, r.receipt.received_at.with_timezone(&chrono::Utc)),
        rows: r.receipt.rows,
        created: r.receipt.created,
        corrected: r.receipt.corrected,
        unchanged: r.receipt.unchanged,
        sha256: r.receipt.sha256.clone(),
    }
}

async fn page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Source>,
    msg: Option<&str>,
) -> Result<SourcePage, PageError> {
    let t = lang.texts();
    let (org, fields) = readings::source_profile(&state.db, &auth.caller).await?;
    Ok(SourcePage {
        c: Chrome::of(lang, auth).with_flash(msg),
        org,
        fields: fields.iter().map(|f| field_words(t, f)).collect(),
        receipts: readings::receipts(&state.db, &auth.caller)
            .await?
            .iter()
            .take(50)
            .map(|r| row_of(lang, r))
            .collect(),
        delivered: None,
        faults: Vec::new(),
        error: None,
        contact: super::session::ContactBox::load(state, &auth.caller).await?,
    })
}

async fn show_desk(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Source>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let mut p = page(&state, lang, &auth, q.msg.as_deref()).await?;
    p.contact.error = super::session::ContactBox::error_of(lang, &q);
    Ok(render(&p))
}

/// Delivers the file chosen: a workbook by its first bytes, else CSV text.
async fn deliver(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Source>,
    multipart: Multipart,
) -> PageResult {
    let file = crate::web::pages::uploaded_file(&auth, multipart).await?;
    let t = lang.texts();
    let format = if crate::service::import::xlsx::is_xlsx(&file) {
        "xlsx"
    } else {
        "csv"
    };
    let keys = state.keys.current();
    let outcome = if file.is_empty() {
        Err(AppError::fault("file", crate::grading::Fault::Required))
    } else {
        readings::deliver(&state.db, &keys, &auth.caller, format, &file).await
    };
    let mut p = page(&state, lang, &auth, None).await?;
    match outcome {
        Ok(receipt) => {
            p.delivered = Some(row_of(lang, &receipt));
            Ok(render(&p))
        }
        Err(AppError::Invalid { errors, .. }) => {
            p.faults = errors
                .iter()
                .map(|e| {
                    (
                        e["line"].to_string(),
                        e["column"].as_str().unwrap_or("—").to_owned(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            p.error = Some(t.get("source_refused").to_owned());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(AppError::ForbiddenBecause(why)) => {
            p.error = Some(format!(
                "{}{}{why}",
                t.get("source_not_attested"),
                t.colon()
            ));
            Ok((StatusCode::FORBIDDEN, render(&p)).into_response())
        }
        Err(err @ (AppError::Validation { .. } | AppError::UnsupportedMediaType(_))) => {
            p.error = Some(match err {
                AppError::Validation { .. } => t.get("source_no_file").to_owned(),
                other => other.to_string(),
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

/// A signed receipt as a file (`application/cose`), for the source's records.
async fn download_receipt(
    State(state): State<AppState>,
    auth: PageAuth<Source>,
    Path(batch): Path<i64>,
) -> PageResult {
    let bytes = readings::receipt_bytes(&state.db, &auth.caller, batch).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/cose".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"gec-receipt-{batch}.cose\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
