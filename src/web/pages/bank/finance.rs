//! The bank's green-finance desk: publishing and withdrawing products, reading an application
//! (every read of consented figures recorded for the firm) and deciding it.

use crate::service::fields;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::error::AppError;
use crate::grading::Grade;
use crate::service::finance::{self, DecisionRequest, NewProduct};
use crate::web::AppState;
use crate::web::auth::{Bank, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::finance::{ApplicationRow, application_rows, back, refusal_shown};
use crate::web::pages::views;
use crate::web::pages::{Chrome, PageError, PageResult, Refusal, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bank/products", post(bank_publish))
        .route("/bank/products/{id}/withdraw", post(bank_withdraw))
        .route("/bank/applications/{id}", get(bank_application))
        .route("/bank/applications/{id}/decision", post(bank_decide))
}

#[derive(Clone, Default, serde::Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub step_aplus: String,
    #[serde(default)]
    pub step_a: String,
    #[serde(default)]
    pub step_b: String,
    #[serde(default)]
    pub step_c: String,
    #[serde(default)]
    pub step_d: String,
    #[serde(default)]
    pub max_amount_10k_cny: String,
    #[serde(default)]
    pub term_months: String,
    #[serde(default)]
    pub districts: String,
    /// The worst carbon-efficiency level taken (`2`: levels 1 and 2); empty: any.
    #[serde(default)]
    pub carbon_at_most: String,
    /// The least attested share of energy, per cent; empty: any.
    #[serde(default)]
    pub min_attested_share: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub description: String,
}

/// The product form's rate-step boxes: the grade, and the box's name.
const STEP_BOXES: [(Grade, &str); 5] = [
    (Grade::APlus, "step_aplus"),
    (Grade::A, "step_a"),
    (Grade::B, "step_b"),
    (Grade::C, "step_c"),
    (Grade::D, "step_d"),
];

impl ProductForm {
    fn step(&self, grade: Grade) -> &str {
        match grade {
            Grade::APlus => &self.step_aplus,
            Grade::A => &self.step_a,
            Grade::B => &self.step_b,
            Grade::C => &self.step_c,
            Grade::D => &self.step_d,
        }
    }
}

/// A fault of the product form: the box it is shown beside, and its words.
pub type BoxFault = (String, String);

/// The box a service field's fault belongs beside (`rate_step_bp.A+` → `step_aplus`).
fn product_box(field: &str) -> String {
    if let Some(grade) = field.strip_prefix("rate_step_bp.") {
        return STEP_BOXES
            .iter()
            .find(|(g, _)| g.as_str() == grade)
            .map_or("steps", |(_, name)| name)
            .to_owned();
    }
    match field {
        "grades" => "steps",
        "carbon_levels" => "carbon_at_most",
        other => other,
    }
    .to_owned()
}

/// Publishes a product; a refused form comes back with everything typed and every fault beside
/// its box, all at once.
pub(super) async fn bank_publish(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<ProductForm>,
) -> PageResult {
    let t = lang.texts();
    let mut faults: Vec<BoxFault> = Vec::new();
    // A grade is taken when its rate step is filled in.
    let mut grades = Vec::new();
    let mut steps = std::collections::BTreeMap::new();
    for (grade, name) in STEP_BOXES {
        let step = form.step(grade).trim().replace(['－', '−'], "-");
        if step.is_empty() {
            continue;
        }
        match step.parse::<i32>() {
            Ok(bp) => {
                grades.push(grade);
                steps.insert(grade.as_str().to_owned(), bp);
            }
            Err(_) => faults.push((name.to_owned(), step_words(t, grade))),
        }
    }
    if grades.is_empty() && faults.is_empty() {
        faults.push(("steps".to_owned(), t.get("product_err_no_grade").to_owned()));
    }
    let kind = match fields::one_of("kind", &form.kind) {
        Ok(kind) => kind,
        Err(err) => {
            add_fault(t, &mut faults, err)?;
            crate::store::products::ProductKind::ALL[0]
        }
    };
    let mut date = |field: &str, text: &str| -> Result<chrono::NaiveDate, PageError> {
        fields::date(field, text).or_else(|err| {
            add_fault(t, &mut faults, err)?;
            Ok(chrono::Utc::now().date_naive())
        })
    };
    let valid_from = date("valid_from", &form.valid_from)?;
    let valid_until = date("valid_until", &form.valid_until)?;
    let term_months = match form.term_months.trim().parse::<i32>() {
        Ok(n) => n,
        Err(_) => {
            let err = AppError::fault("term_months", crate::grading::Fault::Range);
            add_fault(t, &mut faults, err)?;
            1
        }
    };
    let carbon_levels = match form.carbon_at_most.trim() {
        "" => Vec::new(),
        worst => match worst.parse::<u8>() {
            Ok(n @ 1..=5) => (1..=n).collect(),
            _ => {
                let err = AppError::fault("carbon_levels", crate::grading::Fault::OneOf);
                add_fault(t, &mut faults, err)?;
                Vec::new()
            }
        },
    };
    let min_attested_share = match form.min_attested_share.trim() {
        "" => None,
        text => match text.trim_end_matches(['%', '％']).trim().parse::<u8>() {
            Ok(n) => Some(n),
            Err(_) => {
                let err = AppError::fault("min_attested_share", crate::grading::Fault::Range);
                add_fault(t, &mut faults, err)?;
                None
            }
        },
    };
    let new = NewProduct {
        name: form.name.clone(),
        kind,
        grades,
        rate_step_bp: steps,
        max_amount_10k_cny: crate::web::pages::data_form::plain_amount(&form.max_amount_10k_cny)
            .unwrap_or_else(|_| form.max_amount_10k_cny.clone()),
        term_months,
        divisions: Vec::new(),
        districts: crate::web::pages::provider::districts_of(&form.districts),
        carbon_levels,
        min_attested_share,
        valid_from,
        valid_until,
        description: form.description.clone(),
    };
    if let Err(found) = finance::check_product(&new) {
        for err in found {
            add_fault(t, &mut faults, err)?;
        }
    }
    if faults.is_empty() {
        match finance::publish(&state.db, &auth.caller, new).await {
            Ok(_) => return back("/bank", "products-h", Ok("msg_product_published")),
            Err(err) => add_fault(t, &mut faults, err)?,
        }
    }
    let mut p = super::page(&state, lang, &auth, Vec::new(), None).await?;
    p.product_form = form;
    p.product_faults = faults;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}

/// Adds a fault beside its box (one a box; a conflict or a fault of no box above the form).
fn add_fault(
    t: &crate::web::i18n::Texts,
    faults: &mut Vec<BoxFault>,
    err: AppError,
) -> Result<(), PageError> {
    let field = match &err {
        AppError::Validation { field, .. } => field.clone(),
        _ => String::new(),
    };
    let name = product_box(&field);
    // One fault a box; and "no grade" says nothing more when a rate step was not a number.
    if faults
        .iter()
        .any(|(f, _)| *f == name || name == "steps" && f.starts_with("step_"))
    {
        return Ok(());
    }
    let words = match STEP_BOXES.iter().find(|(_, n)| *n == name) {
        Some((grade, _)) => step_words(t, *grade),
        None if name == "term_months" => t.get("product_err_term").to_owned(),
        None => t.get(Refusal::of(err)?.key).to_owned(),
    };
    faults.push((name, words));
    Ok(())
}

/// "A+ 级的利率调整须为 −500 至 500 之间的整数（基点）。"
fn step_words(t: &crate::web::i18n::Texts, grade: Grade) -> String {
    t.get("product_err_step").replace("{grade}", grade.as_str())
}

pub(super) async fn bank_withdraw(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(crate::web::pages::EmptyForm {}): CsrfForm<crate::web::pages::EmptyForm>,
) -> PageResult {
    match finance::withdraw(&state.db, &auth.caller, id).await {
        Ok(_) | Err(AppError::Conflict(crate::error::Conflict::AlreadyDone, _)) => {
            back("/bank", "products-h", Ok("msg_product_withdrawn"))
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Template)]
#[template(path = "bank_application.html")]
pub struct BankApplicationPage {
    pub c: Chrome,
    pub a: ApplicationRow,
    pub open: bool,
    pub verdict: String,
    pub valid: bool,
    /// The figures in words, while a trace consent is in force.
    pub indicators: Vec<String>,
    pub figures_note: String,
    pub error: Option<String>,
    /// The decision form's boxes filled with what the firm asked and the product's terms for
    /// its grade (amount, rate step, term), for the officer to change.
    pub proposed: (String, String, String),
}

#[derive(serde::Deserialize, Default)]
pub struct ErrQuery {
    pub err: Option<String>,
    pub field: Option<String>,
}

pub(super) async fn bank_application(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    Query(q): Query<ErrQuery>,
) -> PageResult {
    let t = lang.texts();
    let keys = state.keys.current();
    // Opening the page is a read of the firm's consented data: recorded for the firm.
    let view = finance::show(&state.db, &state.caches, &keys.trusted, &auth.caller, id).await?;
    let valid = view.verification.as_ref().is_some_and(|v| v.valid);
    let verdict = if valid {
        t.get("status_active_verified").to_owned()
    } else {
        t.get(views::reason_key(
            view.verification.as_ref().and_then(|v| v.reason),
        ))
        .to_owned()
    };
    let indicators = match view
        .trace
        .as_ref()
        .and_then(|tr| serde_json::from_value::<crate::grading::Trace>(tr.clone()).ok())
    {
        Some(trace) => {
            let industry =
                crate::web::pages::industry_name(&state, lang, &format!("{}00", trace.division))
                    .await?;
            views::indicator_lines(t, &trace, &industry)
        }
        None => Vec::new(),
    };
    let figures_note = t
        .get(if indicators.is_empty() {
            "bank_no_figures"
        } else {
            "bank_figures_consented"
        })
        .to_owned();
    let open = view.status.is_open();
    let product = finance::of_bank(&state.db, &auth.caller)
        .await?
        .into_iter()
        .find(|p| p.id == view.product_id);
    let proposed = (
        view.amount_10k_cny.clone(),
        product
            .as_ref()
            .and_then(|p| p.rate_step_bp.get(view.grade.as_str()))
            .map(i32::to_string)
            .unwrap_or_default(),
        product
            .as_ref()
            .map(|p| p.term_months.to_string())
            .unwrap_or_default(),
    );
    let a = application_rows(t, lang, std::slice::from_ref(&view)).remove(0);
    Ok(render(&BankApplicationPage {
        c: Chrome::of(lang, &auth),
        a,
        open,
        verdict,
        valid,
        indicators,
        figures_note,
        error: refusal_shown(t, q.err.as_deref(), q.field.as_deref()),
        proposed,
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    amount_10k_cny: String,
    #[serde(default)]
    rate_step_bp: String,
    #[serde(default)]
    term_months: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn bank_decide(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> PageResult {
    let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let number = |s: &str| s.trim().replace('－', "-").parse::<i32>().ok();
    let approved = form.decision == "approved";
    let decision = match fields::one_of("decision", &form.decision) {
        Ok(decision) => decision,
        Err(err) => {
            let desk = format!("/bank/applications/{id}");
            return back(&desk, "decision-h", Err(Refusal::of(err)?));
        }
    };
    let request = DecisionRequest {
        decision,
        amount_10k_cny: approved
            .then(|| {
                optional(
                    &crate::web::pages::data_form::plain_amount(&form.amount_10k_cny)
                        .unwrap_or(form.amount_10k_cny.clone()),
                )
            })
            .flatten(),
        rate_step_bp: approved.then(|| number(&form.rate_step_bp)).flatten(),
        term_months: approved.then(|| number(&form.term_months)).flatten(),
        reason: optional(&form.reason),
    };
    let desk = format!("/bank/applications/{id}");
    match finance::decide(&state.db, &auth.caller, id, request).await {
        Ok(_) => back("/bank", "applications-h", Ok("msg_decided")),
        Err(err) => back(&desk, "decision-h", Err(Refusal::of(err)?)),
    }
}
