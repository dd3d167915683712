//! The firm declares a certification on its desk (a regulator verifies it before it counts).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::AppError;
use crate::service::{assessments, fields, records};
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::views;
use crate::web::pages::{PageError, PageResult, render};

#[derive(serde::Deserialize)]
pub(super) struct CertificationForm {
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

pub(super) async fn declare_certification(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<CertificationForm>,
) -> PageResult {
    let firm = assessments::firm_for(&state.db, &auth.caller, None).await?;
    let declared = async {
        let request = records::CertificationRequest {
            kind: fields::one_of("kind", &form.kind)?,
            number: form.number,
            issuer: form.issuer,
            valid_from: fields::date("valid_from", &form.valid_from)?,
            valid_until: fields::date("valid_until", &form.valid_until)?,
            evidence_note: Some(form.evidence_note),
        };
        records::add_certification(&state.db, &auth.caller, &firm, request).await
    };
    match declared.await {
        Ok(_) => Ok(Redirect::to("/firm?msg=msg_cert_declared").into_response()),
        Err(AppError::Validation {
            field,
            message: _,
            kind,
        }) => {
            let t = lang.texts();
            let outcome = super::Outcome {
                cert_error: Some(format!(
                    "{}{}{}",
                    views::field_label(t, &field),
                    t.colon(),
                    super::message(t, kind)
                )),
                ..super::Outcome::empty()
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&super::page(&state, lang, &auth, outcome, None).await?),
            )
                .into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}
