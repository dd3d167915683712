//! The firm's appeals on its desk: what each said, where it stands, the decision and the new
//! code a decision issued.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

use super::super::views;
use crate::error::AppError;
use crate::service::accounts::Caller;
use crate::service::appeals;
use crate::web::AppState;
use crate::web::auth::{Firm, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::PageResult;

/// One of the firm's appeals as its desk shows it: what it said, where it stands, the decision.
pub struct AppealLine {
    pub raised: String,
    pub note: String,
    pub status: String,
    pub decision: Option<String>,
    pub new_code: Option<i64>,
}

/// The firm's appeals, newest first, in the page's words.
pub(super) async fn lines(
    state: &AppState,
    lang: Lang,
    caller: &Caller,
) -> crate::error::AppResult<Vec<AppealLine>> {
    let t = lang.texts();
    let list = crate::service::appeals::list(&state.db, caller, false)
        .await?
        .into_iter()
        .rev()
        .map(|a| AppealLine {
            raised: views::local_time(lang, a.created_at),
            note: a.note,
            status: match (a.status, a.outcome) {
                (crate::store::appeals::AppealStatus::Open, _) => t.get("appeal_open").to_owned(),
                (_, Some(outcome)) => t
                    .get(&format!("appeal_outcome_{}", outcome.as_str()))
                    .to_owned(),
                _ => t.get("appeal_closed").to_owned(),
            },
            decision: a.resolution.map(|r| {
                t.get("appeal_decision")
                    .replace(
                        "{at}",
                        &a.resolved_at
                            .map(|at| views::local_time(lang, at))
                            .unwrap_or_default(),
                    )
                    .replace("{reasons}", &r)
            }),
            new_code: a.new_serial,
        })
        .collect();
    Ok(list)
}

#[derive(serde::Deserialize)]
pub(super) struct AppealForm {
    #[serde(default)]
    note: String,
    /// The revoked code appealed against (absent: the current code).
    #[serde(default)]
    code_serial: String,
}

/// The firm appeals against its code (the current one, or a revoked one it names).
pub(super) async fn create_appeal(
    State(state): State<AppState>,
    auth: PageAuth<Firm>,
    CsrfForm(form): CsrfForm<AppealForm>,
) -> PageResult {
    let code_serial = match form.code_serial.trim() {
        "" => None,
        serial => Some(serial.parse().map_err(|_| AppError::NotFound)?),
    };
    let request = appeals::AppealRequest {
        note: form.note,
        code_serial,
    };
    appeals::raise(&state.db, &auth.caller, request).await?;
    Ok(Redirect::to("/firm?msg=msg_appeal_sent").into_response())
}
