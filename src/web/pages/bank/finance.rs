//! The bank's green-finance desk: publishing and withdrawing products, reading an application
//! (every read of consented figures recorded for the firm) and deciding it.

use crate::service::fields;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
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

#[derive(Default, serde::Deserialize)]
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
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub description: String,
}

pub(super) async fn bank_publish(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<ProductForm>,
) -> PageResult {
    // A grade is taken when its rate step is filled in.
    let mut grades = Vec::new();
    let mut steps = std::collections::BTreeMap::new();
    for (grade, step) in [
        (Grade::APlus, &form.step_aplus),
        (Grade::A, &form.step_a),
        (Grade::B, &form.step_b),
        (Grade::C, &form.step_c),
        (Grade::D, &form.step_d),
    ] {
        let step = step.trim().replace('－', "-");
        if step.is_empty() {
            continue;
        }
        let bp: i32 = match step.parse() {
            Ok(bp) => bp,
            Err(_) => {
                let r = Refusal {
                    field: "rate_step_bp".to_owned(),
                    key: "err_invalid",
                };
                return back("/bank", "products-h", Err(r));
            }
        };
        grades.push(grade);
        steps.insert(grade.as_str().to_owned(), bp);
    }
    let published = async {
        let new = NewProduct {
            name: form.name,
            kind: fields::one_of("kind", &form.kind)?,
            grades,
            rate_step_bp: steps,
            max_amount_10k_cny: crate::web::pages::data_form::plain_amount(
                &form.max_amount_10k_cny,
            )
            .unwrap_or(form.max_amount_10k_cny),
            term_months: form.term_months.trim().parse().unwrap_or(0),
            divisions: Vec::new(),
            districts: crate::web::pages::provider::districts_of(&form.districts),
            carbon_levels: match form.carbon_at_most.trim() {
                "" => Vec::new(),
                worst => match worst.parse::<u8>() {
                    Ok(n @ 1..=5) => (1..=n).collect(),
                    _ => {
                        return Err(AppError::field_fault(
                            crate::grading::Fault::OneOf,
                            "carbon_levels",
                            "not a carbon-efficiency level",
                        ));
                    }
                },
            },
            valid_from: fields::date("valid_from", &form.valid_from)?,
            valid_until: fields::date("valid_until", &form.valid_until)?,
            description: form.description,
        };
        finance::publish(&state.db, &auth.caller, new).await
    };
    match published.await {
        Ok(_) => back("/bank", "products-h", Ok("msg_product_published")),
        Err(err) => back("/bank", "products-h", Err(Refusal::of(err)?)),
    }
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
