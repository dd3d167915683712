//! `/bank`: a loan officer's desk — verify one code, verify a pile (an uploaded CSV or text
//! file, or pasted lines) with a CSV of the verdicts to download, and the watchlist of
//! borrowers with its change feed.

mod finance;
mod webhooks;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use self::webhooks::webhook_rows;
use super::bank_list::{self, ListInput, ResultRow, Verdict};
use super::views;
use super::{Chrome, FlashQuery, PageError, PageResult, check_csrf, render};
use crate::error::AppError;
use crate::grading::Uscc;
use crate::service::verification::BULK_MAX;
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
        .route("/bank/watch-many", post(watch_many))
        .route(
            "/bank/watch-import",
            post(import_watch).layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .route("/bank/unwatch", post(remove_watch))
        .merge(finance::router())
        .merge(webhooks::router())
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
    /// The rows shown (at most `bank_list::SHOWN_ROWS`).
    pub results: Vec<ResultRow>,
    /// How many lines were checked in all.
    pub results_total: usize,
    /// What was left out of the page, in words (columns, long cells, rows past the shown ones).
    pub list_notes: Vec<String>,
    pub extra_headers: Vec<String>,
    pub counts: Vec<(Verdict, usize)>,
    /// The USCCs of the rows that identified a firm, for "watch them all".
    pub valid_usccs: String,
    /// The list check the results are of (kept for a day): the downloads post it again.
    pub check_id: String,
    /// The pasted lines of that check, back in their box.
    pub list_pasted: String,
    pub list_error: Option<&'static str>,
    /// Lines of a watchlist file that name no firm (nothing was imported).
    pub import_faults: Vec<String>,
    pub watch_error: Option<&'static str>,
    pub watched: Vec<WatchRow>,
    pub changes: Vec<ChangeRow>,
    pub products: Vec<BankProductRow>,
    pub webhooks: Vec<WebhookRow>,
    /// A webhook's secret, right after its registration (shown this once).
    pub new_secret: Option<String>,
    pub applications: Vec<super::finance::ApplicationRow>,
    pub kinds: Vec<(&'static str, String)>,
    pub finance_error: Option<String>,
    /// The product form as typed, after a refusal.
    pub product_form: finance::ProductForm,
    /// Each refused box of the product form with its fault.
    pub product_faults: Vec<finance::BoxFault>,
    /// The webhook form's refusal, beside it, and the address typed.
    pub webhook_error: Option<String>,
    pub webhook_url: String,
    pub contact: super::session::ContactBox,
}

impl BankPage {
    /// The fault shown beside a box of the product form.
    pub fn product_fault(&self, name: &str) -> Option<&str> {
        self.product_faults
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, words)| words.as_str())
    }

    /// The faults of the rate-step boxes, together under them.
    pub fn step_faults(&self) -> Vec<&str> {
        self.product_faults
            .iter()
            .filter(|(f, _)| f.starts_with("step_"))
            .map(|(_, words)| words.as_str())
            .collect()
    }
}

pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub active: bool,
    /// Its health in words: failing since when, or stopped by the service.
    pub health: Option<String>,
    /// Failing and still active: the desk offers "retry now".
    pub failing: bool,
    /// The latest deliveries in words.
    pub deliveries: Vec<String>,
}

pub struct BankProductRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub steps: String,
    pub max_amount: String,
    pub term_months: i32,
    pub valid: String,
    pub withdrawn: bool,
}

pub(super) async fn page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Bank>,
    results: Vec<ResultRow>,
    msg: Option<&str>,
) -> Result<BankPage, PageError> {
    let t = lang.texts();
    // Every firm a line identified (valid, revoked, superseded or expired): a bank watches a
    // revoked borrower too.
    let mut valid: Vec<&str> = results
        .iter()
        .filter(|r| r.verdict != Verdict::Invalid && !r.uscc.is_empty())
        .map(|r| r.uscc.as_str())
        .collect();
    valid.sort_unstable();
    valid.dedup();
    let valid_usccs = valid.join(" ");
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
        counts: bank_list::counts(&results),
        results_total: results.len(),
        list_notes: Vec::new(),
        results,
        extra_headers: Vec::new(),
        valid_usccs,
        check_id: String::new(),
        list_pasted: String::new(),
        list_error: None,
        import_faults: Vec::new(),
        products: crate::service::finance::of_bank(&state.db, &auth.caller)
            .await?
            .into_iter()
            .map(|p| BankProductRow {
                id: p.id,
                kind: super::finance::with_carbon_levels(
                    t,
                    super::finance::kind_name(t, p.kind),
                    &p.carbon_levels,
                ),
                steps: p
                    .rate_step_bp
                    .iter()
                    .map(|(g, bp)| format!("{g} {}", views::rate_step_words(t, *bp)))
                    .collect::<Vec<_>>()
                    .join("；"),
                max_amount: views::grouped(&p.max_amount_10k_cny),
                term_months: p.term_months,
                valid: format!("{} – {}", p.valid_from, p.valid_until),
                withdrawn: p.withdrawn,
                name: p.name,
            })
            .collect(),
        applications: super::finance::application_rows(
            t,
            lang,
            &crate::service::finance::list(&state.db, &auth.caller).await?,
        ),
        kinds: crate::store::products::ProductKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), super::finance::kind_name(t, k)))
            .collect(),
        finance_error: None,
        product_form: finance::ProductForm::default(),
        product_faults: Vec::new(),
        webhook_error: None,
        webhook_url: String::new(),
        contact: super::session::ContactBox::load(state, &auth.caller).await?,
        webhooks: webhook_rows(state, lang, auth).await?,
        new_secret: None,
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
    let mut p = page(&state, lang, &auth, Vec::new(), q.msg.as_deref()).await?;
    p.contact.error = super::session::ContactBox::error_of(lang, &q);
    if p.contact.error.is_none() {
        p.finance_error =
            super::finance::refusal_shown(lang.texts(), q.err.as_deref(), q.field.as_deref());
    }
    Ok(render(&p))
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
    let input = ListInput::read(lang.texts(), "", &form.code.replace(['\r', '\n'], " "));
    if input.lines.is_empty() {
        let mut p = page(&state, lang, &auth, Vec::new(), None).await?;
        p.list_error = Some("bank_no_codes");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response());
    }
    let keys = state.keys.current();
    let rows = bank_list::check(&state.db, &state.caches, &keys.trusted, lang, input).await?;
    Ok(render(&page(&state, lang, &auth, rows, None).await?))
}

/// A multipart form's text fields and files, each as text (a file's byte-order mark dropped);
/// the CSRF token checked (urlencoded forms go through `CsrfForm`).
async fn multipart_fields(
    auth: &PageAuth<Bank>,
    mut multipart: Multipart,
) -> Result<HashMap<String, String>, PageError> {
    let mut fields: HashMap<String, String> = HashMap::new();
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
        let value = String::from_utf8_lossy(&bytes);
        fields
            .entry(name)
            .or_default()
            .push_str(value.trim_start_matches('\u{feff}'));
    }
    check_csrf(auth, fields.get("csrf").map_or("", String::as_str))?;
    Ok(fields)
}

async fn verify_list(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    multipart: Multipart,
) -> PageResult {
    let fields = multipart_fields(&auth, multipart).await?;
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    let t = lang.texts();
    // A download or another look at a check already made: the same list, kept for a day.
    let (file_text, pasted_text, check_id) = match (
        field("check").trim(),
        field("file").trim().is_empty() && field("codes").trim().is_empty(),
    ) {
        (id, true) if !id.is_empty() => {
            match crate::service::list_checks::kept(&state.db, &auth.caller, id).await? {
                Some(kept) => (kept.file_text, kept.pasted_text, kept.id),
                None => {
                    let mut p = page(&state, lang, &auth, Vec::new(), None).await?;
                    p.list_error = Some("bank_check_gone");
                    return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response());
                }
            }
        }
        _ => (
            field("file").to_owned(),
            field("codes").to_owned(),
            String::new(),
        ),
    };
    let input = ListInput::read(t, &file_text, &pasted_text);
    if input.lines.is_empty() || input.lines.len() > BULK_MAX {
        let mut p = page(&state, lang, &auth, Vec::new(), None).await?;
        p.list_error = Some(if input.lines.is_empty() {
            "bank_no_codes"
        } else {
            "bank_too_many"
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response());
    }
    let mut headers = input.extra_headers.clone();
    let trimmed = input.trimmed;
    let keys = state.keys.current();
    let mut rows = bank_list::check(&state.db, &state.caches, &keys.trusted, lang, input).await?;
    bank_list::square(t, &mut headers, &mut rows);
    match field("format") {
        format @ ("csv" | "xlsx") => super::table_download(
            format,
            t.get("bank_results"),
            "gec-verdicts",
            &bank_list::table(t, &headers, &rows),
        ),
        _ => {
            let check_id = if check_id.is_empty() {
                crate::service::list_checks::keep(
                    &state.db,
                    &auth.caller,
                    file_text,
                    pasted_text.clone(),
                )
                .await?
            } else {
                check_id
            };
            let mut p = page(&state, lang, &auth, rows, None).await?;
            p.check_id = check_id;
            p.list_pasted = pasted_text.chars().take(20_000).collect();
            p.extra_headers = headers;
            if trimmed {
                p.list_notes.push(
                    t.get("bank_list_trimmed")
                        .replace("{cols}", &bank_list::MAX_EXTRA_COLUMNS.to_string())
                        .replace("{chars}", &bank_list::MAX_CELL_CHARS.to_string()),
                );
            }
            if p.results.len() > bank_list::SHOWN_ROWS {
                p.results.truncate(bank_list::SHOWN_ROWS);
                p.list_notes.push(
                    t.get("bank_list_shown")
                        .replace("{shown}", &bank_list::SHOWN_ROWS.to_string())
                        .replace("{total}", &p.results_total.to_string()),
                );
            }
            Ok(render(&p))
        }
    }
}

#[derive(serde::Deserialize)]
struct ManyForm {
    #[serde(default)]
    usccs: String,
}

/// "Watch them all": every valid row's firm, in one action.
async fn watch_many(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<ManyForm>,
) -> PageResult {
    let usccs: Vec<Uscc> = form
        .usccs
        .split_whitespace()
        .take(BULK_MAX)
        .filter_map(|u| Uscc::parse(u).ok())
        .collect();
    match watch::watch_many(&state.db, &auth.caller, &usccs).await? {
        Ok(_) => Ok(Redirect::to("/bank?msg=msg_watch_many#watch-h").into_response()),
        Err(_) => Err(PageError(AppError::NotFound)),
    }
}

/// A watchlist from a file of USCCs (one a line, first column; a header line allowed): every
/// line must name a firm, or nothing is added and the faulty lines are listed.
async fn import_watch(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    multipart: Multipart,
) -> PageResult {
    let fields = multipart_fields(&auth, multipart).await?;
    let t = lang.texts();
    let input = ListInput::read(t, fields.get("file").map_or("", String::as_str), "");
    let mut faults = Vec::new();
    let mut usccs = Vec::new();
    let mut labels = Vec::new();
    for line in &input.lines {
        match Uscc::parse(&line.input.to_ascii_uppercase()) {
            Ok(u) => {
                usccs.push(u);
                labels.push(line.label.clone());
            }
            Err(_) => faults.push(
                t.get("bank_import_bad_line")
                    .replace("{n}", &line.label)
                    .replace("{text}", &line.input),
            ),
        }
    }
    if input.lines.is_empty() {
        faults.push(t.get("bank_import_empty").to_owned());
    }
    if input.lines.len() > BULK_MAX {
        faults = vec![t.get("bank_too_many").to_owned()];
    }
    if faults.is_empty() {
        match watch::watch_many(&state.db, &auth.caller, &usccs).await? {
            Ok(_) => {
                return Ok(Redirect::to("/bank?msg=msg_watch_imported#watch-h").into_response());
            }
            Err(missing) => {
                faults = missing
                    .into_iter()
                    .map(|i| {
                        t.get("bank_import_unknown")
                            .replace("{n}", &labels[i])
                            .replace("{text}", usccs[i].as_str())
                    })
                    .collect();
            }
        }
    }
    let mut p = page(&state, lang, &auth, Vec::new(), None).await?;
    p.import_faults = faults;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
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
