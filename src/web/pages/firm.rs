//! `/firm`: a firm's dashboard — its current code and downloads, the yearly data form with a
//! grade preview, its submissions, its certifications, and an appeal against its grade.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde_json::Value;

use super::views::{self, Breakdown, breakdown, grade_class, status_key};
use super::{Chrome, FlashQuery, PageError, PageResult, render};
use crate::code::text;
use crate::error::AppError;
use crate::grading::Fault;
use crate::grading::energy::Carrier;
use crate::grading::input::CertificationKind;
use crate::service::{appeals, assessments, codes, flat, records};
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/firm", get(show_firm))
        .route("/firm/preview", post(preview_firm_data))
        .route("/firm/submit", post(submit_firm_data))
        .route("/firm/certifications", post(declare_certification))
        .route("/firm/appeal", post(create_appeal))
}

pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub unit: &'static str,
    pub value: String,
    pub error: Option<String>,
}

pub struct CodeCard {
    pub serial: i64,
    pub grade: String,
    pub grade_class: String,
    pub score: String,
    pub period: i32,
    pub valid_until: String,
    pub scan_path: String,
}

pub struct SubmissionRow {
    pub period: i32,
    pub status_key: &'static str,
    pub grade: String,
    pub score: String,
    pub submitted_at: String,
    pub note: String,
}

pub struct CertRow {
    pub kind: String,
    pub number: String,
    pub valid: String,
    pub status_key: &'static str,
}

#[derive(Template)]
#[template(path = "firm.html")]
pub struct FirmPage {
    pub c: Chrome,
    pub firm_name: String,
    pub uscc: String,
    pub industry: String,
    pub district: String,
    pub current: Option<CodeCard>,
    pub fields: Vec<FieldView>,
    pub form_error: Option<String>,
    pub preview: Option<Breakdown>,
    /// The way up of the previewed data, in words (the firm's own: never on the scan page).
    pub way_up: Vec<String>,
    pub submissions: Vec<SubmissionRow>,
    pub certifications: Vec<CertRow>,
    pub cert_error: Option<String>,
    pub cert_kinds: Vec<(&'static str, String)>,
}

/// The form's inputs, in order: the year, the value added, one per carrier, then waste.
fn field_specs(t: &Texts) -> Vec<(&'static str, String, &'static str)> {
    let mut specs = vec![
        ("period", t.get("period").to_owned(), ""),
        ("assessed_on", t.get("assessed_on_optional").to_owned(), ""),
        (
            "value_added_10k_cny",
            t.get("value_added").to_owned(),
            "万元",
        ),
    ];
    for carrier in Carrier::ALL {
        specs.push((
            carrier.name(),
            views::carrier_name(t, carrier.name()),
            carrier.unit(),
        ));
    }
    specs.push((
        "waste_generated_t",
        t.get("waste_generated").to_owned(),
        "t",
    ));
    specs.push((
        "waste_stock_utilized_t",
        t.get("waste_stock_utilized").to_owned(),
        "t",
    ));
    specs.push(("waste_utilized_t", t.get("waste_utilized").to_owned(), "t"));
    specs
}

/// The yearly data form: flat cells named as in the CSV import (`period`, one per carrier,
/// `waste_generated_t` …), turned into the §1 members by the same reader as a CSV row.
type DataForm = HashMap<String, String>;

#[derive(serde::Deserialize)]
struct CertificationForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    evidence_note: String,
}

#[derive(serde::Deserialize)]
struct AppealForm {
    #[serde(default)]
    note: String,
}

/// The §1 members from the form (energy only for the carriers filled in).
fn request_from(form: &DataForm) -> (Value, Vec<&'static str>) {
    let (data, carriers) =
        flat::from_cells(|k| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default());
    (Value::Object(data), carriers)
}

/// A validation message in the page's language: a known kind in its words, any other in the
/// service's own message.
pub fn message(t: &Texts, kind: Fault, message: &str) -> String {
    use crate::grading::decimal::DecimalError;
    let key = match kind {
        Fault::Decimal(DecimalError::NotPlain) => "err_decimal",
        Fault::Decimal(DecimalError::Negative) => "err_negative",
        Fault::Decimal(DecimalError::TooPrecise) => "err_precision",
        Fault::Decimal(DecimalError::TooLarge) => "err_too_large",
        Fault::Positive => "err_positive",
        Fault::Year => "err_year",
        Fault::Date => "err_date",
        Fault::WasteBound => "err_waste_bound",
        Fault::EnergyRequired => "err_energy_required",
        Fault::Required => "err_required",
        Fault::DateOrder => "err_date_order",
        Fault::Other => return message.to_owned(),
    };
    t.get(key).to_owned()
}

struct Outcome {
    form: HashMap<String, String>,
    field: Option<(String, String)>,
    form_error: Option<String>,
    preview: Option<Breakdown>,
    way_up: Vec<String>,
    cert_error: Option<String>,
}

impl Outcome {
    fn empty() -> Self {
        Outcome {
            form: HashMap::new(),
            field: None,
            form_error: None,
            preview: None,
            way_up: Vec::new(),
            cert_error: None,
        }
    }
}

async fn page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Firm>,
    outcome: Outcome,
    msg: Option<&str>,
) -> Result<FirmPage, PageError> {
    let t = lang.texts();
    let firm_id = auth.caller.firm_id.ok_or(AppError::Forbidden)?;
    let desk = codes::dashboard(&state.db, firm_id).await?;
    let firm = desk.firm;
    let current = desk.current.map(|code| CodeCard {
        serial: code.serial,
        grade_class: grade_class(code.grade).to_owned(),
        grade: code.grade.to_string(),
        score: code.score.clone(),
        period: code.period,
        valid_until: chrono::DateTime::from_timestamp(code.exp, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        scan_path: format!("/c/{}", text::encode(&code.cose)),
    });
    let submissions = desk
        .submissions
        .into_iter()
        .map(|a| SubmissionRow {
            period: a.period,
            status_key: status_key(a.status.as_str()),
            grade: a.grade.to_string(),
            score: a.score,
            submitted_at: views::local_time(lang, a.submitted_at),
            note: a.reject_reason.unwrap_or_default(),
        })
        .collect();
    let certs = desk
        .certifications
        .iter()
        .map(|c| {
            let view = records::CertificationView::of(c, &firm.uscc);
            CertRow {
                kind: views::kind_name(t, &c.kind),
                number: c.number.clone(),
                valid: format!("{} – {}", c.valid_from, c.valid_until),
                status_key: status_key(view.status),
            }
        })
        .collect();
    let fields = field_specs(t)
        .into_iter()
        .map(|(name, label, unit)| FieldView {
            name,
            label,
            unit,
            value: outcome.form.get(name).cloned().unwrap_or_default(),
            error: outcome
                .field
                .as_ref()
                .filter(|(f, _)| f == name)
                .map(|(_, m)| m.clone()),
        })
        .collect();
    Ok(FirmPage {
        c: Chrome::of(lang, auth).with_flash(msg),
        firm_name: firm.name.clone(),
        uscc: firm.uscc.clone(),
        industry: firm.industry_code.clone(),
        district: firm.district.clone(),
        current,
        fields,
        form_error: outcome.form_error,
        preview: outcome.preview,
        way_up: outcome.way_up,
        submissions,
        certifications: certs,
        cert_error: outcome.cert_error,
        cert_kinds: CertificationKind::ALL
            .iter()
            .map(|k| (k.name(), views::kind_name(t, k.name())))
            .collect(),
    })
}

async fn show_firm(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    Ok(render(
        &page(&state, lang, &auth, Outcome::empty(), q.msg.as_deref()).await?,
    ))
}

/// A refusal shown on the form: at the input it names, or above the form.
type Refusal = (Option<(String, String)>, Option<String>);

/// Maps a refusal to the field it names (or the form as a whole).
fn refusal(t: &Texts, err: AppError, carriers: &[&'static str]) -> Result<Refusal, PageError> {
    match err {
        AppError::Validation {
            field,
            message: m,
            kind,
        } => match flat::cell_of(&field, carriers) {
            Some(input) => Ok((Some((input.to_owned(), message(t, kind, &m))), None)),
            None => Ok((None, Some(message(t, kind, &m)))),
        },
        AppError::Conflict(m) => Ok((None, Some(m))),
        other => Err(PageError(other)),
    }
}

async fn preview_firm_data(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<DataForm>,
) -> PageResult {
    let t = lang.texts();
    let (request, carriers) = request_from(&form);
    let mut outcome = Outcome {
        form: form.clone(),
        ..Outcome::empty()
    };
    let status = match assessments::preview(&state.db, &state.caches, &auth.caller, &request).await
    {
        Ok(preview) => {
            outcome.preview = Some(breakdown(&preview.trace, &preview.trace_hash, t));
            outcome.way_up = views::way_up_lines(t, &preview.way_up);
            StatusCode::OK
        }
        Err(err) => {
            (outcome.field, outcome.form_error) = refusal(t, err, &carriers)?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    Ok((
        status,
        render(&page(&state, lang, &auth, outcome, None).await?),
    )
        .into_response())
}

async fn submit_firm_data(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<DataForm>,
) -> PageResult {
    let (request, carriers) = request_from(&form);
    match assessments::submit(&state.db, &state.caches, &auth.caller, &request).await {
        Ok(_) => Ok(Redirect::to("/firm?msg=msg_submitted").into_response()),
        Err(err) => {
            let mut outcome = Outcome {
                form: form.clone(),
                ..Outcome::empty()
            };
            (outcome.field, outcome.form_error) = refusal(lang.texts(), err, &carriers)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(&state, lang, &auth, outcome, None).await?),
            )
                .into_response())
        }
    }
}

async fn declare_certification(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<CertificationForm>,
) -> PageResult {
    let firm = assessments::firm_for(&state.db, &auth.caller, None).await?;
    let request = records::CertificationRequest {
        kind: form.kind,
        number: form.number,
        issuer: form.issuer,
        valid_from: form.valid_from,
        valid_until: form.valid_until,
        evidence_note: Some(form.evidence_note),
    };
    match records::add_certification(&state.db, &auth.caller, &firm, request).await {
        Ok(_) => Ok(Redirect::to("/firm?msg=msg_cert_declared").into_response()),
        Err(AppError::Validation {
            field,
            message: m,
            kind,
        }) => {
            let t = lang.texts();
            let outcome = Outcome {
                cert_error: Some(format!(
                    "{}: {}",
                    t.get(&format!("cert_{field}")),
                    message(t, kind, &m)
                )),
                ..Outcome::empty()
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(&state, lang, &auth, outcome, None).await?),
            )
                .into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

async fn create_appeal(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<AppealForm>,
) -> PageResult {
    let request = appeals::AppealRequest {
        note: form.note,
        code_serial: None,
    };
    appeals::raise(&state.db, &auth.caller, request).await?;
    Ok(Redirect::to("/firm?msg=msg_appeal_sent").into_response())
}
