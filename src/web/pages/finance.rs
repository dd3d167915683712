//! The green-finance pages: the firm applies from its desk (consent spelled out), the bank
//! publishes products and decides applications from its inbox, regulators read the figures.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::views;
use super::{Chrome, PageError, PageResult, Refusal, render};
use crate::error::AppError;
use crate::grading::Grade;
use crate::service::finance::{
    self, ApplicationView, ConsentRequest, DecisionRequest, NewApplication, NewProduct,
    ProductOffer,
};
use crate::store::applications::{ApplicationStatus, ConsentScope};
use crate::store::products::ProductKind;
use crate::web::AppState;
use crate::web::auth::{Bank, Firm, PageAuth, Regulator};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/firm/applications", post(firm_apply))
        .route(
            "/firm/applications/{id}/consent",
            post(firm_withdraw_consent),
        )
        .route("/bank/products", post(bank_publish))
        .route("/bank/products/{id}/withdraw", post(bank_withdraw))
        .route("/bank/applications/{id}", get(bank_application))
        .route("/bank/applications/{id}/decision", post(bank_decide))
        .route("/regulator/finance", get(regulator_finance))
        .route("/bank/webhooks", post(bank_register_webhook))
        .route("/bank/webhooks/{id}/stop", post(bank_stop_webhook))
}

pub fn kind_name(t: &Texts, k: ProductKind) -> String {
    t.get(&format!("kind_{}", k.as_str())).to_owned()
}

pub fn status_words(t: &Texts, s: ApplicationStatus) -> &'static str {
    t.get(match s {
        ApplicationStatus::Submitted => "app_submitted",
        ApplicationStatus::Approved => "app_approved",
        ApplicationStatus::Declined => "app_declined",
        ApplicationStatus::MoreInfo => "app_more_info",
    })
}

/// A product offered to the firm, as its desk lists it.
pub struct OfferRow {
    pub id: i64,
    pub name: String,
    pub bank: String,
    pub kind: String,
    pub rate: String,
    pub max_amount: String,
    pub term_months: i32,
    pub description: String,
}

pub fn offer_rows(t: &Texts, offers: &[ProductOffer]) -> Vec<OfferRow> {
    offers
        .iter()
        .map(|o| OfferRow {
            id: o.product.id,
            name: o.product.name.clone(),
            bank: o.product.bank.clone(),
            kind: kind_name(t, o.product.kind),
            rate: o
                .rate_step_bp_for_grade
                .map(|bp| views::rate_step_words(t, bp))
                .unwrap_or_default(),
            max_amount: views::grouped(&o.product.max_amount_10k_cny),
            term_months: o.product.term_months,
            description: o.product.description.clone(),
        })
        .collect()
}

/// One application as a desk lists it.
pub struct ApplicationRow {
    pub id: i64,
    pub product: String,
    pub bank: String,
    pub firm: String,
    pub uscc: String,
    pub grade: String,
    pub amount: String,
    pub purpose: String,
    pub status: String,
    pub decision: String,
    pub consent: String,
    pub consent_in_force: bool,
    pub at: String,
}

pub fn application_rows(t: &Texts, lang: Lang, list: &[ApplicationView]) -> Vec<ApplicationRow> {
    list.iter()
        .map(|a| {
            let decision = match &a.decision {
                Some(d) if d.decision == ApplicationStatus::Approved => t
                    .get("decision_approved_words")
                    .replace(
                        "{amount}",
                        &views::grouped(d.amount_10k_cny.as_deref().unwrap_or("")),
                    )
                    .replace(
                        "{rate}",
                        &d.rate_step_bp
                            .map(|bp| views::rate_step_words(t, bp))
                            .unwrap_or_default(),
                    )
                    .replace("{term}", &d.term_months.unwrap_or(0).to_string()),
                Some(d) => d.reason.clone().unwrap_or_default(),
                None => String::new(),
            };
            ApplicationRow {
                id: a.id,
                product: a.product_name.clone(),
                bank: a.bank.clone(),
                firm: a.firm_name.clone(),
                uscc: a.uscc.clone(),
                grade: a.grade.as_str().to_owned(),
                amount: views::grouped(&a.amount_10k_cny),
                purpose: a.purpose.clone(),
                status: status_words(t, a.status).to_owned(),
                decision,
                consent: consent_words(t, a),
                consent_in_force: a.consent.in_force,
                at: views::local_time(lang, a.created_at),
            }
        })
        .collect()
}

fn consent_words(t: &Texts, a: &ApplicationView) -> String {
    if a.consent.withdrawn_at.is_some() {
        return t.get("consent_withdrawn").to_owned();
    }
    let scope = t.get(match a.consent.scope {
        ConsentScope::Grade => "consent_scope_grade",
        ConsentScope::Trace => "consent_scope_trace",
    });
    if a.consent.in_force {
        t.get("consent_until")
            .replace("{scope}", scope)
            .replace("{date}", &a.consent.expires_on.to_string())
    } else {
        t.get("consent_expired").to_owned()
    }
}

#[derive(serde::Deserialize)]
struct ApplyForm {
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    amount_10k_cny: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_on: String,
}

/// Goes back to a desk: with the flash on success, with the refusal's keys otherwise.
fn back(desk: &str, anchor: &str, result: Result<&str, Refusal>) -> PageResult {
    let url = match result {
        Ok(msg) => format!("{desk}?msg={msg}#{anchor}"),
        Err(r) => format!("{desk}?err={}&field={}#{anchor}", r.key, r.field),
    };
    Ok(Redirect::to(&url).into_response())
}

/// The words of a refusal sent back in a desk's query: both parts looked up in the tables, so
/// a crafted link shows nothing but the tables' words.
pub fn refusal_shown(t: &Texts, err: Option<&str>, field: Option<&str>) -> Option<String> {
    let key = err?;
    if !(key.starts_with("err_") && t.has(key)) {
        return Some(t.get("err_invalid").to_owned());
    }
    let field = field
        .filter(|f| {
            f.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        })
        .unwrap_or_default();
    Some(super::Refusal::words_of(t, field, key))
}

async fn firm_apply(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> PageResult {
    let product_id = form
        .product_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let amount =
        super::data_form::plain_amount(&form.amount_10k_cny).unwrap_or(form.amount_10k_cny);
    let new = NewApplication {
        product_id,
        amount_10k_cny: amount,
        purpose: form.purpose,
        consent: ConsentRequest {
            scope: form.scope,
            expires_on: form.expires_on,
        },
    };
    match finance::apply(&state.db, &auth.caller, new).await {
        Ok(_) => back("/firm", "finance-h", Ok("msg_applied")),
        Err(err) => back("/firm", "finance-h", Err(Refusal::of(err)?)),
    }
}

async fn firm_withdraw_consent(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    Path(id): Path<i64>,
    CsrfForm(super::EmptyForm {}): CsrfForm<super::EmptyForm>,
) -> PageResult {
    match finance::withdraw_consent(&state.db, &auth.caller, id).await {
        Ok(_) | Err(AppError::Conflict(_)) => {
            back("/firm", "finance-h", Ok("msg_consent_withdrawn"))
        }
        Err(other) => Err(PageError(other)),
    }
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
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub description: String,
}

async fn bank_publish(
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
        grades.push(grade.as_str().to_owned());
        steps.insert(grade.as_str().to_owned(), bp);
    }
    let new = NewProduct {
        name: form.name,
        kind: form.kind,
        grades,
        rate_step_bp: steps,
        max_amount_10k_cny: super::data_form::plain_amount(&form.max_amount_10k_cny)
            .unwrap_or(form.max_amount_10k_cny),
        term_months: form.term_months.trim().parse().unwrap_or(0),
        divisions: Vec::new(),
        districts: super::provider::districts_of(&form.districts),
        valid_from: form.valid_from,
        valid_until: form.valid_until,
        description: form.description,
    };
    match finance::publish(&state.db, &auth.caller, new).await {
        Ok(_) => back("/bank", "products-h", Ok("msg_product_published")),
        Err(err) => back("/bank", "products-h", Err(Refusal::of(err)?)),
    }
}

async fn bank_withdraw(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(super::EmptyForm {}): CsrfForm<super::EmptyForm>,
) -> PageResult {
    match finance::withdraw(&state.db, &auth.caller, id).await {
        Ok(_) | Err(AppError::Conflict(_)) => {
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

async fn bank_application(
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
                super::industry_name(&state, lang, &format!("{}00", trace.division)).await?;
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
struct DecisionForm {
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

async fn bank_decide(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> PageResult {
    let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let number = |s: &str| s.trim().replace('－', "-").parse::<i32>().ok();
    let approved = form.decision == "approved";
    let request = DecisionRequest {
        decision: form.decision.clone(),
        amount_10k_cny: approved
            .then(|| {
                optional(
                    &super::data_form::plain_amount(&form.amount_10k_cny)
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

#[derive(Template)]
#[template(path = "regulator_finance.html")]
pub struct FinancePage {
    pub c: Chrome,
    pub tab: &'static str,
    pub by: String,
    /// The grouping's name in words.
    pub by_label: String,
    /// (value, words, selected)
    pub groups: Vec<(&'static str, String, bool)>,
    pub period: i32,
    pub years: Vec<i32>,
    /// (key, applications, approved, amount, average step)
    pub rows: Vec<(String, u64, u64, String, String)>,
    pub chart: String,
}

#[derive(serde::Deserialize, Default)]
struct FinanceQuery {
    by: Option<String>,
    period: Option<String>,
    format: Option<String>,
}

async fn regulator_finance(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Regulator>,
    Query(q): Query<FinanceQuery>,
) -> PageResult {
    let t = lang.texts();
    let this_year = chrono::Datelike::year(&crate::service::records::today());
    let by =
        q.by.filter(|b| ["grade", "district", "division", "bank"].contains(&b.as_str()))
            .unwrap_or_else(|| "grade".to_owned());
    let period = q
        .period
        .and_then(|p| p.trim().parse().ok())
        .filter(|p| (this_year - 10..=this_year).contains(p))
        .unwrap_or(this_year);
    let summary = finance::summary(&state.db, &auth.caller, &by, period).await?;
    let table = crate::service::benchmarks::in_force(&state.db, &state.caches).await?;
    let key_words = |key: &str| match by.as_str() {
        "division" => table.get(key).map_or_else(
            || key.to_owned(),
            |b| match lang {
                Lang::Zh => b.name_zh.clone(),
                Lang::En => b.name_en.clone(),
            },
        ),
        _ => key.to_owned(),
    };
    let rows: Vec<(String, u64, u64, String, String)> = summary
        .rows
        .iter()
        .map(|r| {
            (
                key_words(&r.key),
                r.applications,
                r.approved,
                views::grouped(&r.amount_10k_cny),
                r.avg_rate_step_bp.clone().unwrap_or_else(|| "—".to_owned()),
            )
        })
        .collect();
    if let Some(format) = q.format.as_deref().filter(|f| *f == "csv" || *f == "xlsx") {
        let mut out = vec![vec![
            t.get(&format!("finance_by_{by}")).to_owned(),
            t.get("finance_applications").to_owned(),
            t.get("finance_approved").to_owned(),
            t.get("finance_amount").to_owned(),
            t.get("finance_avg_step").to_owned(),
        ]];
        for r in &summary.rows {
            out.push(vec![
                key_words(&r.key),
                r.applications.to_string(),
                r.approved.to_string(),
                r.amount_10k_cny.clone(),
                r.avg_rate_step_bp.clone().unwrap_or_default(),
            ]);
        }
        return super::table_download(
            format,
            t.get("reg_finance"),
            &format!("gec-finance-{by}-{period}"),
            &out,
        );
    }
    let chart = super::charts::amounts(
        t,
        t.get("finance_chart"),
        &rows
            .iter()
            .map(|r| (r.0.clone(), r.3.replace(',', "")))
            .collect::<Vec<_>>(),
    );
    Ok(render(&FinancePage {
        c: Chrome::of(lang, &auth),
        tab: "finance",
        by_label: t.get(&format!("finance_by_{by}")).to_owned(),
        groups: ["grade", "district", "division", "bank"]
            .into_iter()
            .map(|k| (k, t.get(&format!("finance_by_{k}")).to_owned(), k == by))
            .collect(),
        by,
        period,
        years: (this_year - 4..=this_year).rev().collect(),
        rows,
        chart,
    })
    .into_response())
}

/// For pages listing products to anyone (the scan page): what a grade gets.
pub fn offer_names(t: &Texts, offers: &[ProductOffer]) -> Vec<String> {
    offers
        .iter()
        .map(|o| {
            let rate = o
                .rate_step_bp_for_grade
                .map(|bp| format!("（{}）", views::rate_step_words(t, bp)))
                .unwrap_or_default();
            format!("{} · {}{rate}", o.product.bank, o.product.name)
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct WebhookForm {
    #[serde(default)]
    url: String,
}

/// Registers a webhook and shows its secret on this page, once (never in a URL).
async fn bank_register_webhook(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> PageResult {
    let new = crate::service::webhooks::NewWebhook { url: form.url };
    let allow = state.config.webhook_allow_private;
    match crate::service::webhooks::register(&state.db, &auth.caller, new, allow).await {
        Ok(hook) => {
            let mut p = super::bank::page(
                &state,
                lang,
                &auth,
                Vec::new(),
                Some("msg_webhook_registered"),
            )
            .await?;
            p.new_secret = hook.secret;
            Ok(render(&p))
        }
        Err(err) => back("/bank", "webhooks-h", Err(Refusal::of(err)?)),
    }
}

async fn bank_stop_webhook(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(super::EmptyForm {}): CsrfForm<super::EmptyForm>,
) -> PageResult {
    match crate::service::webhooks::disable(&state.db, &auth.caller, id).await {
        Ok(_) | Err(AppError::Conflict(_)) => {
            back("/bank", "webhooks-h", Ok("msg_webhook_stopped"))
        }
        Err(other) => Err(PageError(other)),
    }
}
