//! `/provider`: a service provider's desk — publish a service (listed once a regulator approves
//! it), see its services and their state, and answer firms' requests.

use crate::service::fields;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::views;
use super::{Chrome, FlashQuery, PageError, PageResult, render};
use crate::service::services::{self, Answer, NewService, ServiceRequestView, ServiceView};
use crate::store::service_requests::RequestStatus;
use crate::store::services::Category;
use crate::web::AppState;
use crate::web::auth::{PageAuth, Provider};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/provider", get(show_desk))
        .route("/provider/services", post(publish))
        .route("/provider/requests/{id}/answer", post(answer))
}

pub struct ServiceRow {
    pub name: String,
    pub category: String,
    pub districts: String,
    pub status_key: &'static str,
}

pub struct RequestRow {
    pub id: i64,
    pub firm: String,
    pub uscc: String,
    pub service: String,
    pub note: String,
    pub status_key: &'static str,
    pub answer: String,
    pub at: String,
    /// The firm's contact line, when it gave one.
    pub firm_contact: Option<String>,
    /// (value, words) of the answers this request can take.
    pub choices: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "provider.html")]
pub struct ProviderPage {
    pub c: Chrome,
    pub categories: Vec<(&'static str, String)>,
    pub services: Vec<ServiceRow>,
    pub requests: Vec<RequestRow>,
    pub form_error: Option<String>,
    pub form: ServiceForm,
    pub contact: super::session::ContactBox,
}

#[derive(Default, serde::Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub districts: String,
    #[serde(default)]
    pub contact: String,
}

#[derive(serde::Deserialize)]
struct AnswerForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

pub fn category_name(t: &Texts, c: Category) -> String {
    t.get(&format!("cat_{}", c.as_str())).to_owned()
}

pub fn request_status_key(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Requested => "req_requested",
        RequestStatus::Accepted => "req_accepted",
        RequestStatus::Declined => "req_declined",
        RequestStatus::Done => "req_done",
    }
}

pub fn service_status_key(s: crate::store::services::ServiceStatus) -> &'static str {
    match s {
        crate::store::services::ServiceStatus::Pending => "svc_pending",
        crate::store::services::ServiceStatus::Approved => "svc_approved",
        crate::store::services::ServiceStatus::Suspended => "svc_suspended",
    }
}

/// Districts as typed: separated by commas (either width), 、, semicolons or new lines.
pub fn districts_of(text: &str) -> Vec<String> {
    text.split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn service_row(t: &Texts, s: &ServiceView) -> ServiceRow {
    ServiceRow {
        name: s.name.clone(),
        category: category_name(t, s.category),
        districts: if s.districts.is_empty() {
            t.get("everywhere").to_owned()
        } else {
            s.districts.join(t.get("list_sep"))
        },
        status_key: service_status_key(s.status),
    }
}

pub fn request_row(lang: Lang, r: &ServiceRequestView) -> RequestRow {
    let choices = [
        (RequestStatus::Accepted, "accepted", "answer_accept"),
        (RequestStatus::Declined, "declined", "answer_decline"),
        (RequestStatus::Done, "done", "answer_done"),
    ]
    .into_iter()
    .filter(|(next, _, _)| r.status.may_become(*next))
    .map(|(_, value, key)| (value, key))
    .collect();
    RequestRow {
        id: r.id,
        firm: r.firm_name.clone(),
        uscc: r.uscc.clone(),
        service: r.service_name.clone(),
        note: r.note.clone(),
        status_key: request_status_key(r.status),
        answer: r.answer.clone().unwrap_or_default(),
        at: views::local_time(lang, r.updated_at),
        firm_contact: r.firm_contact.clone(),
        choices,
    }
}

async fn page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Provider>,
    form: ServiceForm,
    form_error: Option<String>,
    msg: Option<&str>,
) -> Result<ProviderPage, PageError> {
    let t = lang.texts();
    let services = services::list_managed(&state.db, &auth.caller).await?;
    let requests = services::list_requests(&state.db, &auth.caller).await?;
    Ok(ProviderPage {
        c: Chrome::of(lang, auth).with_flash(msg),
        categories: Category::ALL
            .into_iter()
            .map(|c| (c.as_str(), category_name(t, c)))
            .collect(),
        services: services.iter().map(|s| service_row(t, s)).collect(),
        requests: requests.iter().map(|r| request_row(lang, r)).collect(),
        form_error,
        form,
        contact: super::session::ContactBox::load(state, &auth.caller).await?,
    })
}

async fn show_desk(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Provider>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let mut p = page(
        &state,
        lang,
        &auth,
        ServiceForm::default(),
        None,
        q.msg.as_deref(),
    )
    .await?;
    p.contact.error = super::session::ContactBox::error_of(lang, &q);
    Ok(render(&p))
}

async fn publish(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Provider>,
    CsrfForm(form): CsrfForm<ServiceForm>,
) -> PageResult {
    let published = async {
        let new = NewService {
            name: form.name.clone(),
            category: fields::one_of("category", &form.category)?,
            description: form.description.clone(),
            districts: districts_of(&form.districts),
            contact: form.contact.clone(),
        };
        services::publish(&state.db, &auth.caller, new).await
    };
    match published.await {
        Ok(_) => Ok(Redirect::to("/provider?msg=msg_service_published").into_response()),
        Err(err) => {
            let shown = super::Refusal::of(err)?.words(lang.texts());
            let p = page(&state, lang, &auth, form, Some(shown), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

async fn answer(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Provider>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> PageResult {
    let answered = async {
        let answer = Answer {
            status: fields::one_of("status", &form.status)?,
            note: form.note,
        };
        services::answer(&state.db, &auth.caller, id, answer).await
    };
    match answered.await {
        Ok(_) => Ok(Redirect::to("/provider?msg=msg_request_answered#requests-h").into_response()),
        Err(err) => {
            let shown = super::Refusal::of(err)?.words(lang.texts());
            let p = page(
                &state,
                lang,
                &auth,
                ServiceForm::default(),
                Some(shown),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}
