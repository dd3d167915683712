//! The green-finance pages: the firm applies from its desk (consent spelled out), the bank
//! publishes products and decides applications from its inbox, regulators read the figures.

use axum::response::{IntoResponse, Redirect};

use super::views;
use super::{PageResult, Refusal};
use crate::service::finance::{ApplicationView, ProductOffer};
use crate::store::applications::{ApplicationStatus, ConsentScope};
use crate::store::products::ProductKind;
use crate::web::i18n::{Lang, Texts};

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

/// A product's kind, with the carbon-efficiency levels it takes when it limits them.
pub fn with_carbon_levels(t: &Texts, kind: String, levels: &[u8]) -> String {
    if levels.is_empty() {
        return kind;
    }
    let names: Vec<String> = levels
        .iter()
        .map(|l| {
            crate::web::pages::carbon::label(t.lang, *l)
                .split(" · ")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    format!(
        "{kind} · {}",
        t.get("product_carbon_levels")
            .replace("{levels}", &names.join(t.get("list_sep")))
    )
}

pub fn offer_rows(t: &Texts, offers: &[ProductOffer]) -> Vec<OfferRow> {
    offers
        .iter()
        .map(|o| OfferRow {
            id: o.product.id,
            name: o.product.name.clone(),
            bank: o.product.bank.clone(),
            kind: with_carbon_levels(t, kind_name(t, o.product.kind), &o.product.carbon_levels),
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
    /// The bank's requests and the firm's answers.
    pub thread: Vec<ThreadItem>,
    /// The bank waits for the firm's answer.
    pub waiting_for_firm: bool,
    /// The other party's contact line, when given.
    pub bank_contact: Option<String>,
    pub firm_contact: Option<String>,
}

/// One request or answer of an application's thread, with the files that came with it
/// (their link and "name · size").
pub struct ThreadItem {
    pub who: String,
    pub at: String,
    pub body: String,
    pub files: Vec<(String, String)>,
}

/// A size in words a reader uses: "312 KB", "1.4 MB".
pub fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

pub fn application_rows(t: &Texts, lang: Lang, list: &[ApplicationView]) -> Vec<ApplicationRow> {
    list.iter()
        .map(|a| {
            let decision = match &a.decision {
                Some(d) if d.decision == ApplicationStatus::Approved => t
                    .get("decision_approved_words")
                    .replace(
                        "{amount}",
                        &t.money_10k(d.amount_10k_cny.as_deref().unwrap_or("")),
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
                thread: a
                    .thread
                    .iter()
                    .map(|m| ThreadItem {
                        who: if m.author == "bank" {
                            a.bank.clone()
                        } else {
                            a.firm_name.clone()
                        },
                        at: views::local_time(lang, m.at),
                        body: m.body.clone(),
                        files: m
                            .files
                            .iter()
                            .map(|f| {
                                (
                                    format!("/applications/{}/files/{}", a.id, f.id),
                                    format!("{} · {}", f.name, size_words(f.size)),
                                )
                            })
                            .collect(),
                    })
                    .collect(),
                waiting_for_firm: a.status == ApplicationStatus::MoreInfo,
                bank_contact: a.bank_contact.clone(),
                firm_contact: a.firm_contact.clone(),
            }
        })
        .collect()
}

pub(super) fn consent_words(t: &Texts, a: &ApplicationView) -> String {
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

/// Goes back to a desk: with the flash on success, with the refusal's keys otherwise.
pub(super) fn back(desk: &str, anchor: &str, result: Result<&str, Refusal>) -> PageResult {
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

/// For pages listing products to anyone (the scan page): what a grade gets.
pub fn offer_names(t: &Texts, offers: &[ProductOffer]) -> Vec<String> {
    offers
        .iter()
        .map(|o| {
            let rate = o
                .rate_step_bp_for_grade
                .map(|bp| t.paren(&views::rate_step_words(t, bp)))
                .unwrap_or_default();
            format!("{} · {}{rate}", o.product.bank, o.product.name)
        })
        .collect()
}
