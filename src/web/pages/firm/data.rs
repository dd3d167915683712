//! The firm's yearly data form: read and checked input by input, previewed (the grade, the way
//! up, the carbon level) and submitted; a refusal shown at the input it names, with the figures
//! apart from what sources attested said beside their boxes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use super::{DataForm, Outcome, attested, message, page, render};
use crate::error::AppError;
use crate::service::assessments::{self, AssessmentRequest};
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};
use crate::web::pages::views::{self, breakdown};
use crate::web::pages::{PageError, PageResult, data_form};

/// The form read and checked input by input; with no fault there, the service's check. The
/// outcome to show when anything is wrong, else the §1 request.
fn checked_form(
    t: &Texts,
    form: &DataForm,
) -> Result<(AssessmentRequest, Vec<&'static str>), Box<Outcome>> {
    let years = data_form::completed_years(crate::service::records::today());
    let read = data_form::read(t, form, &years);
    if !read.faults.is_empty() {
        return Err(Box::new(Outcome {
            form: Some(form.clone()),
            faults: read.faults,
            ..Outcome::empty()
        }));
    }
    let (mut request, carriers) = data_form::request(&read.cells);
    request.discrepancy_reason = form
        .get("discrepancy_reason")
        .map(|r| Value::String(r.clone()));
    Ok((request, carriers))
}

/// A refusal of the service, shown at the input it names or above the form.
fn refused(
    t: &Texts,
    form: &DataForm,
    err: AppError,
    carriers: &[&'static str],
) -> Result<Outcome, PageError> {
    let mut outcome = Outcome {
        form: Some(form.clone()),
        ..Outcome::empty()
    };
    match err {
        AppError::Validation {
            field,
            message: _,
            kind,
        } => match data_form::service_fault(&field, carriers) {
            Some(input) => outcome.faults.push((input.to_owned(), message(t, kind))),
            None => outcome.form_error = Some(message(t, kind)),
        },
        AppError::Conflict(kind, _) => {
            outcome.form_error = Some(t.get(crate::web::pages::conflict_key(kind)).to_owned())
        }
        other => return Err(PageError(other)),
    }
    Ok(outcome)
}

async fn refusal_page(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Firm>,
    outcome: Outcome,
) -> PageResult {
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&page(state, lang, auth, outcome, None).await?),
    )
        .into_response())
}

pub(super) async fn preview_firm_data(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<DataForm>,
) -> PageResult {
    let t = lang.texts();
    let (request, carriers) = match checked_form(t, &form) {
        Ok(request) => request,
        Err(outcome) => return refusal_page(&state, lang, &auth, *outcome).await,
    };
    // Certifications declared and waiting for verification are not suggested again.
    let firm_id = auth.caller.firm_id.ok_or(AppError::Forbidden)?;
    let pending: Vec<String> = crate::store::certifications::of_firm(&state.db, firm_id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|c| !c.verified && !c.revoked)
        .map(|c| c.kind)
        .collect();
    match assessments::preview(&state.db, &state.caches, &auth.caller, &request).await {
        Ok(preview) => {
            let outcome = Outcome {
                form: Some(form.clone()),
                preview: Some(breakdown(&preview.trace, &preview.trace_hash, t)),
                way_up: views::way_up_lines_pending(t, &preview.way_up, &pending),
                carbon: preview.carbon.as_ref().and_then(|c| {
                    crate::web::pages::carbon::summary(t, &c.trace, c.way_up.as_ref())
                }),
                ..Outcome::empty()
            };
            Ok(render(&page(&state, lang, &auth, outcome, None).await?).into_response())
        }
        Err(err) => {
            let outcome = refused(t, &form, err, &carriers)?;
            refusal_page(&state, lang, &auth, outcome).await
        }
    }
}

pub(super) async fn submit_firm_data(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<DataForm>,
) -> PageResult {
    let t = lang.texts();
    let (request, carriers) = match checked_form(t, &form) {
        Ok(request) => request,
        Err(outcome) => return refusal_page(&state, lang, &auth, *outcome).await,
    };
    match assessments::submit(&state.db, &state.caches, &auth.caller, &request).await {
        Ok(_) => Ok(Redirect::to("/firm?msg=msg_submitted").into_response()),
        Err(AppError::Validation { field, .. }) if field == "discrepancy_reason" => {
            // Figures apart from the attested ones: each said at its box, the reason asked for.
            let uscc = crate::service::accounts::firm_uscc(&state.db, &auth.caller)
                .await?
                .unwrap_or_default();
            let faults = attested::apart_faults(&state.db, t, &uscc, &request).await?;
            let outcome = Outcome {
                form: Some(form.clone()),
                faults,
                reason_error: Some(t.get("err_reason_needed").to_owned()),
                ..Outcome::empty()
            };
            refusal_page(&state, lang, &auth, outcome).await
        }
        Err(err) => {
            let outcome = refused(t, &form, err, &carriers)?;
            refusal_page(&state, lang, &auth, outcome).await
        }
    }
}
