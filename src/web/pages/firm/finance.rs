//! The firm's green-finance desk: the products its code qualifies for, its applications, and
//! applying (consent spelled out) or withdrawing consent.

use crate::service::fields;
use axum::extract::State;

use crate::error::AppError;
use crate::service::finance::{self, ConsentRequest, NewApplication};
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::Refusal;
use crate::web::pages::finance::back;
use crate::web::pages::views::{self};
use crate::web::pages::{PageError, PageResult};
use axum::extract::Path;

/// What the desk shows of green finance: the products the firm qualifies for, its
/// applications and every read of its data.
pub(super) struct FinanceDesk {
    pub(super) offers: Vec<crate::web::pages::finance::OfferRow>,
    pub(super) applications: Vec<crate::web::pages::finance::ApplicationRow>,
    pub(super) accesses: Vec<(i64, Vec<String>)>,
}

pub(super) async fn finance_desk(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Firm>,
    firm: &crate::store::firms::Model,
) -> Result<FinanceDesk, PageError> {
    use crate::service::finance;
    let t = lang.texts();
    let offers = finance::products_for_firm(&state.db, &auth.caller, firm.uscc.as_str()).await?;
    let list = finance::list(&state.db, &auth.caller).await?;
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    let mut reads = finance::accesses_of(&state.db, &ids).await?;
    let accesses = ids
        .iter()
        .map(|id| {
            let words = reads
                .remove(id)
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    t.get(match r.what.as_str() {
                        "application_trace" => "access_trace",
                        "application_file" => "access_file",
                        _ => "access_grade",
                    })
                    .replace("{who}", &r.who)
                    .replace("{at}", &views::local_time(lang, r.at))
                })
                .collect();
            (*id, words)
        })
        .collect();
    Ok(FinanceDesk {
        offers: crate::web::pages::finance::offer_rows(t, &offers),
        applications: crate::web::pages::finance::application_rows(t, lang, &list),
        accesses,
    })
}

#[derive(serde::Deserialize)]
pub(super) struct ApplyForm {
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

pub(super) async fn firm_apply(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> PageResult {
    let product_id = form
        .product_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let amount = crate::web::pages::data_form::plain_amount(&form.amount_10k_cny)
        .unwrap_or(form.amount_10k_cny);
    let applied = async {
        let new = NewApplication {
            product_id,
            amount_10k_cny: amount,
            purpose: form.purpose,
            consent: ConsentRequest {
                scope: fields::one_of("consent.scope", &form.scope)?,
                expires_on: fields::date("consent.expires_on", &form.expires_on)?,
            },
        };
        finance::apply(&state.db, &auth.caller, new).await
    };
    match applied.await {
        Ok(_) => back("/firm", "finance-h", Ok("msg_applied")),
        Err(err) => back("/firm", "finance-h", Err(Refusal::of(err)?)),
    }
}

pub(super) async fn firm_withdraw_consent(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    Path(id): Path<i64>,
    CsrfForm(crate::web::pages::EmptyForm {}): CsrfForm<crate::web::pages::EmptyForm>,
) -> PageResult {
    match finance::withdraw_consent(&state.db, &auth.caller, id).await {
        Ok(_) | Err(AppError::Conflict(crate::error::Conflict::AlreadyDone, _)) => {
            back("/firm", "finance-h", Ok("msg_consent_withdrawn"))
        }
        Err(other) => Err(PageError(other)),
    }
}

/// The reply form's body: the words, and the files chosen (a multipart form).
pub(super) const REPLY_BODY_LIMIT: usize = 11 * 1024 * 1024;

/// The firm answers its bank's request for more, with files if it chose any (the thread is kept
/// for both).
pub(super) async fn firm_reply(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> PageResult {
    let mut body = String::new();
    let mut csrf = String::new();
    let mut attachments = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        match (name.as_str(), file_name) {
            ("csrf", _) => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            ("body", _) => body = String::from_utf8_lossy(&bytes).into_owned(),
            // A file box left empty sends an empty part without a name.
            ("files", Some(file_name)) if !(bytes.is_empty() && file_name.is_empty()) => {
                attachments.push(finance::attachments::Attachment {
                    name: file_name,
                    bytes: bytes.to_vec(),
                });
            }
            _ => {}
        }
    }
    crate::web::pages::check_csrf(&auth, &csrf)?;
    match finance::reply(
        &state.db,
        &auth.caller,
        id,
        finance::Reply { body, attachments },
    )
    .await
    {
        Ok(_) => back("/firm", "finance-h", Ok("msg_replied")),
        Err(err) => back("/firm", "finance-h", Err(Refusal::of(err)?)),
    }
}

/// A file attached to an application's answer, for the firm, the bank (its read recorded for
/// the firm) or a regulator.
pub(in crate::web::pages) async fn application_file(
    State(state): State<AppState>,
    auth: PageAuth,
    Path((id, file_id)): Path<(i64, i64)>,
) -> PageResult {
    let (file, bytes) = finance::attachments::read(&state.db, &auth.caller, id, file_id).await?;
    Ok(crate::web::pages::file_response(&file, bytes))
}
