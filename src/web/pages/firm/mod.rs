//! `/firm`: a firm's dashboard — its current code and downloads, the yearly data form with a
//! grade preview, its submissions, its certifications, and an appeal against its grade.

mod appeal_desk;
mod attested;
mod certifications;
mod data;
mod finance;
mod green;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;

use self::finance::finance_desk;
use self::green::green_desk;
use super::data_form;
use super::views::{self, Breakdown, grade_class, status_key};
use super::{Chrome, FlashQuery, PageError, PageResult, render};
use crate::code::text;
use crate::error::AppError;
use crate::grading::Fault;
use crate::grading::input::CertificationKind;
use crate::service::assessments;
use crate::service::{codes, records};
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/firm", get(show_firm))
        .route("/firm/preview", post(data::preview_firm_data))
        .route("/firm/submit", post(data::submit_firm_data))
        .route(
            "/firm/certifications",
            post(certifications::declare_certification),
        )
        .route("/firm/appeal", post(appeal_desk::create_appeal))
        .route("/firm/service-requests", post(green::request_service))
        .route("/firm/assessments/{id}/report.pdf", get(download_report))
        .route("/firm/applications", post(finance::firm_apply))
        .route(
            "/firm/applications/{id}/consent",
            post(finance::firm_withdraw_consent),
        )
        .route(
            "/firm/applications/{id}/reply",
            post(finance::firm_reply).layer(axum::extract::DefaultBodyLimit::max(
                finance::REPLY_BODY_LIMIT,
            )),
        )
        .route(
            "/applications/{id}/files/{file_id}",
            get(finance::application_file),
        )
}

pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub unit: &'static str,
    pub value: String,
    pub error: Option<String>,
    /// Where an attested figure came from ("国网重庆市电力公司 · 2025 年 12 个月合计 3,120
    /// 万千瓦时"), when a data source delivered one for the year.
    pub source_note: Option<String>,
}

/// The firm's reason for declaring figures apart from what its sources attested.
pub struct ReasonBox {
    pub value: String,
    pub error: Option<String>,
}

/// A fault in the summary above the form: the input it names (for the link), its label and
/// the message.
pub struct FaultLine {
    pub name: String,
    pub label: String,
    pub message: String,
}

/// The firm's newest code when it was revoked: said plainly, with the reason and the appeal.
pub struct RevokedCard {
    pub serial: i64,
    pub detail: String,
    pub reason: String,
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

/// The figures behind the code in force, in the statistics forms' words (as the scan page
/// says them): energy intensity against the industry, energy, waste, certifications.
pub struct Standing {
    pub veto: Option<String>,
    pub indicators: Vec<String>,
}

pub struct SubmissionRow {
    pub period: i32,
    pub status_key: &'static str,
    pub grade: String,
    pub score: String,
    pub submitted_at: String,
    pub note: String,
    /// What the reviewer will check (abnormal data), while under review.
    pub abnormal: Vec<String>,
}

pub struct CertRow {
    pub kind: String,
    pub number: String,
    pub valid: String,
    pub status_key: &'static str,
}

/// A service recommended to the firm.
pub struct RecommendedRow {
    pub id: i64,
    pub name: String,
    pub provider: String,
    pub category: String,
    pub description: String,
    pub contact: String,
    /// A request of the firm's for it is still open.
    pub requested: bool,
}

/// A support policy the firm qualifies for.
pub struct PolicyRow {
    pub title: String,
    pub issuer: String,
    pub benefit: String,
    pub amount: Option<String>,
    pub valid_until: String,
    pub url: Option<String>,
}

/// One of the firm's service requests and its state.
pub struct MyRequestRow {
    pub service: String,
    pub provider: String,
    pub status_key: &'static str,
    pub answer: String,
    pub at: String,
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
    pub revoked: Option<RevokedCard>,
    /// The firm's appeals, newest first.
    pub appeals: Vec<appeal_desk::AppealLine>,
    /// Certifications verified since the current grade: the grade may rise on resubmission.
    pub cert_news: Option<String>,
    /// The open reporting year's deadline while the firm has not filed it: the words, and
    /// whether it has passed.
    pub deadline: Option<(String, bool)>,
    /// The vetoes on record (incidents other authorities reported, or a regulator recorded),
    /// in words.
    pub incidents: Vec<String>,
    /// The firm's awards under support policies, in words.
    pub awards: Vec<String>,
    pub period_error: bool,
    pub years: Vec<i32>,
    pub period: String,
    pub fields: Vec<FieldView>,
    pub faults: Vec<FaultLine>,
    pub form_error: Option<String>,
    /// The box for the reason of figures apart from the attested ones (where sources attested).
    pub reason: Option<ReasonBox>,
    pub preview: Option<Breakdown>,
    /// The way up of the previewed data, in words (the firm's own: never on the scan page).
    pub way_up: Vec<String>,
    /// The previewed data's carbon efficiency, with its way up.
    pub preview_carbon: Option<super::carbon::CarbonSummary>,
    /// The figures behind the code in force.
    pub standing: Option<Standing>,
    /// The carbon efficiency of the assessment the current code stands on, with its way up.
    pub carbon: Option<super::carbon::CarbonSummary>,
    pub submissions: Vec<SubmissionRow>,
    pub certifications: Vec<CertRow>,
    pub cert_error: Option<String>,
    pub cert_kinds: Vec<(&'static str, String)>,
    /// The levers of the way up in words, the smallest change first.
    pub levers: Vec<String>,
    /// While a veto holds the grade at D: until when, in words (the levers count from then).
    pub levers_vetoed: Option<String>,
    pub recommended: Vec<RecommendedRow>,
    pub my_requests: Vec<MyRequestRow>,
    pub policies: Vec<PolicyRow>,
    /// The diagnosis report of the assessment the grade stands on.
    pub report_link: Option<String>,
    pub offers: Vec<super::finance::OfferRow>,
    pub applications: Vec<super::finance::ApplicationRow>,
    /// Each application's reads by its bank, in words (by application id).
    pub accesses: Vec<(i64, Vec<String>)>,
    pub finance_error: Option<String>,
    pub contact: super::session::ContactBox,
    pub consent_default: String,
}

/// The yearly data form: flat cells named as in the CSV import (`period`, one per carrier,
/// `waste_generated_t` …), turned into the §1 members by the same reader as a CSV row.
type DataForm = HashMap<String, String>;

/// A validation message in the page's language.
pub fn message(t: &Texts, kind: Fault) -> String {
    data_form::fault_message(t, kind)
}

pub(super) struct Outcome {
    /// The form as sent (`None`: start from the firm's last figures).
    form: Option<HashMap<String, String>>,
    faults: Vec<(String, String)>,
    form_error: Option<String>,
    /// Why the reason for figures apart from the attested ones is wanted.
    reason_error: Option<String>,
    preview: Option<Breakdown>,
    way_up: Vec<String>,
    carbon: Option<super::carbon::CarbonSummary>,
    cert_error: Option<String>,
}

impl Outcome {
    fn empty() -> Self {
        Outcome {
            form: None,
            faults: Vec::new(),
            form_error: None,
            reason_error: None,
            preview: None,
            way_up: Vec::new(),
            carbon: None,
            cert_error: None,
        }
    }
}

pub(super) async fn page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Firm>,
    outcome: Outcome,
    msg: Option<&str>,
) -> Result<FirmPage, PageError> {
    let t = lang.texts();
    let firm_id = auth.caller.firm_id.ok_or(AppError::Forbidden)?;
    let desk = codes::dashboard(&state.db, firm_id).await?;
    let deadline = crate::service::filing::deadline_for(&state.db, firm_id)
        .await?
        .filter(|d| !d.filed)
        .map(|d| {
            let key = match d.days_left {
                0 => "firm_deadline_today",
                n if n < 0 => "firm_deadline_overdue",
                _ => "firm_deadline",
            };
            (
                t.get(key)
                    .replace("{year}", &d.year.to_string())
                    .replace("{deadline}", &d.deadline.to_string())
                    .replace("{days}", &d.days_left.abs().to_string()),
                d.days_left < 0,
            )
        });
    let firm = desk.firm;
    let incidents = crate::service::records::vetoes_of(&state.db, &firm)
        .await?
        .iter()
        .map(|v| incident_words(t, v))
        .collect();
    let awards = crate::service::awards::list(&state.db, &auth.caller)
        .await?
        .iter()
        .map(|a| {
            let paid = match &a.paid_on {
                Some(d) => t.get("award_paid_on").replace("{date}", d),
                None => t.get("firm_award_unpaid").to_owned(),
            };
            t.get("firm_award_line")
                .replace("{policy}", &a.policy_title)
                .replace("{amount}", &t.money_10k(&a.amount_10k_cny))
                .replace("{date}", &a.awarded_on)
                .replace("{document}", &a.document_no)
                .replace("{paid}", &paid)
        })
        .collect();
    let current = desk.current.as_ref().map(|code| CodeCard {
        serial: code.serial,
        grade_class: grade_class(code.grade.0).to_owned(),
        grade: code.grade.to_string(),
        score: code.score.clone(),
        period: code.period,
        valid_until: views::china_date(code.exp),
        scan_path: format!("/c/{}", text::encode(&code.cose)),
    });
    let submissions = desk
        .submissions
        .iter()
        .cloned()
        .map(|a| SubmissionRow {
            // While under review, what the reviewer will check: the abnormal-data findings.
            abnormal: if a.status == crate::store::assessments::AssessmentStatus::Submitted {
                crate::service::abnormal::of(&a)
                    .iter()
                    .map(|f| crate::web::pages::year_words::abnormal_words(t, f))
                    .collect()
            } else {
                Vec::new()
            },
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
            let view = records::CertificationView::of(c, firm.uscc.as_str());
            CertRow {
                kind: views::kind_name(t, &c.kind),
                number: c.number.clone(),
                valid: format!("{} – {}", c.valid_from, c.valid_until),
                status_key: status_key(view.status),
            }
        })
        .collect();
    let years = data_form::completed_years(crate::service::records::today());
    // The form starts from the firm's last figures (a rejected submission's too).
    let form = outcome.form.clone().unwrap_or_else(|| {
        let mut form = desk
            .submissions
            .first()
            .and_then(|a| serde_json::from_str::<Value>(&a.input).ok())
            .map(|input| data_form::from_input(&input))
            .unwrap_or_default();
        form.insert("period".into(), years[0].to_string());
        form
    });
    let inputs = data_form::inputs();
    // 数据直连: what data sources attested for the year the form opens on prefills its cells
    // (unless the firm already filed that year), each cell saying where its figure came from.
    let attested =
        crate::service::readings::attested(&state.db, firm.uscc.as_str(), years[0]).await?;
    let filed_this_year = desk
        .submissions
        .first()
        .is_some_and(|a| a.period == years[0]);
    let mut form = form;
    let fill = outcome.form.is_none() && !filed_this_year;
    let mut notes = attested::prefill(t, &attested, &inputs, years[0], fill, &mut form);
    // The reason for figures apart from the attested ones: asked for where sources attested.
    let reason = (!attested.is_empty() || outcome.reason_error.is_some()).then(|| ReasonBox {
        value: form.get("discrepancy_reason").cloned().unwrap_or_default(),
        error: outcome.reason_error.clone(),
    });
    let fields = inputs
        .iter()
        .map(|input| FieldView {
            source_note: notes.remove(input.name),
            name: input.name,
            label: data_form::label(t, input),
            unit: t.get(input.unit_key),
            value: form.get(input.name).cloned().unwrap_or_default(),
            error: outcome
                .faults
                .iter()
                .find(|(f, _)| f == input.name)
                .map(|(_, m)| m.clone()),
        })
        .collect();
    let faults = outcome
        .faults
        .iter()
        .map(|(name, m)| FaultLine {
            name: name.clone(),
            label: inputs
                .iter()
                .find(|i| i.name == name)
                .map_or_else(|| t.get("period").to_owned(), |i| data_form::label(t, i)),
            message: m.clone(),
        })
        .collect();
    let issued_at = desk.current.as_ref().map(|c| c.created_at);
    let cert_news = desk
        .certifications
        .iter()
        .filter(|c| c.verified && !c.revoked)
        .filter(|c| match (c.reviewed_at, issued_at) {
            (Some(verified), Some(issued)) => verified > issued,
            (Some(_), None) => !desk.submissions.is_empty(),
            _ => false,
        })
        .map(|c| views::kind_name(t, &c.kind))
        .collect::<Vec<_>>();
    let cert_news = (!cert_news.is_empty()).then(|| {
        t.get("firm_cert_news")
            .replace("{certs}", &cert_news.join(t.get("list_sep")))
    });
    let period_error = outcome.faults.iter().any(|(f, _)| f == "period");
    let revoked = desk
        .latest
        .filter(|c| c.status == crate::store::codes::CodeStatus::Revoked)
        .filter(|_| current.is_none())
        .map(|c| RevokedCard {
            serial: c.serial,
            detail: t
                .get("firm_revoked_detail")
                .replace("{grade}", c.grade.as_str())
                .replace("{period}", &c.period.to_string())
                .replace(
                    "{at}",
                    &c.revoked_at
                        .map(|at| views::local_time(lang, at))
                        .unwrap_or_default(),
                ),
            reason: c.revoked_reason.unwrap_or_default(),
        });
    let standing = desk
        .current
        .as_ref()
        .and_then(|code| desk.submissions.iter().find(|a| a.id == code.assessment_id));
    let industry_words = super::industry_name(state, lang, &firm.industry_code).await?;
    let place = crate::service::standing::of_firm(&state.db, &firm).await?;
    let standing_view = standing
        .and_then(|a| serde_json::from_str::<crate::grading::Trace>(&a.trace).ok())
        .map(|trace| {
            let mut indicators = views::indicator_lines(t, &trace, &industry_words);
            if let Some(p) = &place {
                indicators.extend(crate::web::pages::year_words::standing_lines(
                    t,
                    lang,
                    p,
                    &industry_words,
                    false,
                ));
            }
            Standing {
                veto: views::veto_note(t, &trace),
                indicators,
            }
        });
    let carbon = match standing {
        Some(a) => match a.carbon_trace.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(trace)) => {
                let way_up = assessments::carbon_way_up_of(&state.db, &state.caches, a).await?;
                super::carbon::summary(t, &trace, way_up.as_ref())
            }
            _ => None,
        },
        None => None,
    };
    let appeals = appeal_desk::lines(state, lang, &auth.caller).await?;
    let industry = super::industry_name(state, lang, &firm.industry_code).await?;
    let green = green_desk(state, lang, auth, &firm).await?;
    let finance = finance_desk(state, lang, auth, &firm).await?;
    Ok(FirmPage {
        c: Chrome::of(lang, auth).with_flash(msg),
        firm_name: firm.name.clone(),
        uscc: firm.uscc.to_string(),
        industry,
        district: views::district_name(lang, &firm.district),
        current,
        revoked,
        appeals,
        cert_news,
        deadline,
        incidents,
        awards,
        period_error,
        period: form.get("period").cloned().unwrap_or_default(),
        years,
        fields,
        faults,
        form_error: outcome.form_error,
        reason,
        preview: outcome.preview,
        way_up: outcome.way_up,
        preview_carbon: outcome.carbon,
        standing: standing_view,
        carbon,
        submissions,
        certifications: certs,
        cert_error: outcome.cert_error,
        cert_kinds: CertificationKind::ALL
            .iter()
            .map(|k| (k.name(), views::kind_name(t, k.name())))
            .collect(),
        levers: green.levers,
        levers_vetoed: green.vetoed,
        recommended: green.recommended,
        my_requests: green.my_requests,
        policies: green.policies,
        report_link: green.report_link,
        offers: finance.offers,
        applications: finance.applications,
        accesses: finance.accesses,
        finance_error: None,
        contact: super::session::ContactBox::load(state, &auth.caller).await?,
        consent_default: (records::today() + chrono::Duration::days(90)).to_string(),
    })
}

async fn download_report(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> PageResult {
    let pdf = crate::web::report::for_assessment(&state, &auth.caller, lang, id).await?;
    Ok((crate::web::report::headers(id), pdf).into_response())
}

async fn show_firm(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let mut p = page(&state, lang, &auth, Outcome::empty(), q.msg.as_deref()).await?;
    p.contact.error = super::session::ContactBox::error_of(lang, &q);
    if p.contact.error.is_none() {
        p.finance_error =
            super::finance::refusal_shown(lang.texts(), q.err.as_deref(), q.field.as_deref());
    }
    Ok(render(&p))
}

/// A veto in the firm's words: who reported what, when, under which document.
fn incident_words(t: &Texts, v: &crate::service::records::VetoView) -> String {
    let kind = t.get(&format!("veto_{}", v.kind)).to_owned();
    let authority = v
        .authority
        .clone()
        .unwrap_or_else(|| t.get("firm_incident_by_regulator").to_owned());
    let mut line = t
        .get("firm_incident_line")
        .replace("{authority}", &authority)
        .replace("{kind}", &kind)
        .replace("{date}", &v.occurred_on);
    if let Some(document) = &v.document_no {
        line.push_str(
            &t.get("firm_incident_document")
                .replace("{document}", document),
        );
    }
    line
}
