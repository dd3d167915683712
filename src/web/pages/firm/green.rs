//! The firm's green-services desk: the way up, the services and support policies matched to it,
//! and its requests to providers.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

use super::{MyRequestRow, PolicyRow, RecommendedRow};
use crate::error::AppError;
use crate::service::{policies, services};
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::views::{self};
use crate::web::pages::{PageError, PageResult};

/// What the desk shows of the green services and policies.
pub(super) struct GreenDesk {
    pub(super) levers: Vec<String>,
    /// While a veto holds the grade at D: the sentence that says until when.
    pub(super) vetoed: Option<String>,
    pub(super) recommended: Vec<RecommendedRow>,
    pub(super) my_requests: Vec<MyRequestRow>,
    pub(super) policies: Vec<PolicyRow>,
    pub(super) report_link: Option<String>,
}

pub(super) async fn green_desk(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Firm>,
    firm: &crate::store::firms::Model,
) -> Result<GreenDesk, PageError> {
    use crate::store::service_requests::RequestStatus;
    let t = lang.texts();
    let recs =
        services::recommendations(&state.db, &state.caches, &auth.caller, firm.uscc.as_str())
            .await?;
    let requests = services::list_requests(&state.db, &auth.caller).await?;
    let open: Vec<i64> = requests
        .iter()
        .filter(|r| matches!(r.status, RequestStatus::Requested | RequestStatus::Accepted))
        .map(|r| r.service_id)
        .collect();
    // Under a veto each lever names the day the grade can first move, not a grade now.
    let levers = recs
        .levers
        .iter()
        .map(|l| {
            let target = match &recs.vetoed_until {
                Some(date) => t
                    .get("lever_target_after_veto")
                    .replace("{grade}", l.grade.as_str())
                    .replace("{date}", date),
                None => t.get("lever_target").replace("{grade}", l.grade.as_str()),
            };
            t.get(&format!("lever_{}", l.category.as_str()))
                .replace("{target}", &target)
                .replace("{effort}", &l.effort)
        })
        .collect();
    let vetoed = recs
        .vetoed_until
        .as_ref()
        .map(|date| t.get("firm_levers_vetoed").replace("{date}", date));
    let recommended = recs
        .services
        .iter()
        .map(|r| RecommendedRow {
            id: r.service.id,
            name: r.service.name.clone(),
            provider: r.service.provider.clone(),
            category: crate::web::pages::provider::category_name(t, r.service.category),
            description: r.service.description.clone(),
            contact: r.service.contact.clone(),
            requested: open.contains(&r.service.id),
        })
        .collect();
    let my_requests = requests
        .iter()
        .map(|r| MyRequestRow {
            service: r.service_name.clone(),
            provider: r.provider.clone(),
            status_key: crate::web::pages::provider::request_status_key(r.status),
            answer: r.answer.clone().unwrap_or_default(),
            at: views::local_time(lang, r.updated_at),
        })
        .collect();
    let policies = policies::for_firm(&state.db, &auth.caller, firm.uscc.as_str())
        .await?
        .into_iter()
        .map(|p| PolicyRow {
            title: p.title,
            issuer: p.issuer,
            benefit: p.benefit,
            amount: p.amount_10k_cny.map(|a| views::grouped(&a)),
            valid_until: p.valid_until.to_string(),
            url: p.url,
        })
        .collect();
    let report_link = services::graded_assessment(&state.db, firm)
        .await?
        .map(|a| format!("/firm/assessments/{}/report.pdf", a.id));
    Ok(GreenDesk {
        levers,
        vetoed,
        recommended,
        my_requests,
        policies,
        report_link,
    })
}

#[derive(serde::Deserialize)]
pub(super) struct ServiceRequestForm {
    #[serde(default)]
    service_id: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn request_service(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<ServiceRequestForm>,
) -> PageResult {
    let service_id = form
        .service_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let request = services::NewServiceRequest {
        service_id,
        note: form.note,
    };
    match services::request_service(&state.db, &auth.caller, request).await {
        Ok(_) | Err(AppError::Conflict(crate::error::Conflict::StillOpen, _)) => {
            Ok(Redirect::to("/firm?msg=msg_service_requested#services-h").into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}
