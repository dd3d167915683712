//! The bank's webhooks on its desk: registering one (the secret shown once) and stopping it.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;

use super::WebhookRow;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::{Bank, PageAuth};
use crate::web::csrf::CsrfForm;
use crate::web::i18n::Lang;
use crate::web::pages::Refusal;
use crate::web::pages::finance::back;
use crate::web::pages::views;
use crate::web::pages::{PageError, PageResult, render};
use axum::extract::Path;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bank/webhooks", post(bank_register_webhook))
        .route("/bank/webhooks/{id}/stop", post(bank_stop_webhook))
        .route("/bank/webhooks/{id}/retry", post(bank_retry_webhook))
}

/// The bank's webhooks with their latest deliveries in words.
pub(super) async fn webhook_rows(
    state: &AppState,
    lang: Lang,
    auth: &PageAuth<Bank>,
) -> Result<Vec<WebhookRow>, PageError> {
    use crate::service::webhooks;
    let t = lang.texts();
    let mut rows = Vec::new();
    for hook in webhooks::list(&state.db, &auth.caller).await? {
        let deliveries = webhooks::deliveries_of(&state.db, &auth.caller, hook.id)
            .await?
            .into_iter()
            .take(10)
            .map(|d| {
                let state_words = match (&d.delivered_at, d.attempts.last()) {
                    (Some(at), _) => t
                        .get("delivery_done")
                        .replace("{at}", &views::local_time(lang, *at)),
                    (None, Some(last)) => t
                        .get("delivery_retrying")
                        .replace("{n}", &d.attempts.len().to_string())
                        .replace(
                            "{status}",
                            &last
                                .status
                                .map_or_else(|| "—".to_owned(), |s| s.to_string()),
                        ),
                    (None, None) => t.get("delivery_queued").to_owned(),
                };
                // The event in words; its message id stays in the API's delivery list.
                let key = format!("hook_event_{}", d.event_type.replace('.', "_"));
                let event = if t.has(&key) {
                    t.get(&key)
                } else {
                    t.get("hook_event_other")
                };
                format!("{event} · {state_words}")
            })
            .collect();
        let health = match (&hook.stopped_reason, hook.failing_since) {
            (Some(_), _) => Some(t.get("webhook_stopped_by_service").to_owned()),
            (None, Some(since)) if hook.active => Some(
                t.get("webhook_failing")
                    .replace("{since}", &views::local_time(lang, since)),
            ),
            _ => None,
        };
        rows.push(WebhookRow {
            id: hook.id,
            url: hook.url,
            failing: hook.active && hook.failing_since.is_some(),
            active: hook.active,
            health,
            deliveries,
        });
    }
    Ok(rows)
}

#[derive(serde::Deserialize)]
pub(super) struct WebhookForm {
    #[serde(default)]
    url: String,
}

/// Registers a webhook and shows its secret on this page, once (never in a URL).
pub(super) async fn bank_register_webhook(
    State(state): State<AppState>,
    lang: Lang,
    auth: PageAuth<Bank>,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> PageResult {
    let url = form.url.clone();
    let new = crate::service::webhooks::NewWebhook { url: form.url };
    let allow = state.config.webhook_allow_private;
    match crate::service::webhooks::register(&state.db, &auth.caller, new, allow).await {
        Ok(hook) => {
            let mut p = crate::web::pages::bank::page(
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
        Err(err) => {
            let t = lang.texts();
            let refusal = Refusal::of(err)?;
            let words = match refusal.field.as_str() {
                "url" => format!(
                    "{}{}{}",
                    t.get("webhook_url"),
                    t.colon(),
                    t.get(refusal.key)
                ),
                _ => refusal.words(t),
            };
            let mut p =
                crate::web::pages::bank::page(&state, lang, &auth, Vec::new(), None).await?;
            p.webhook_error = Some(words);
            p.webhook_url = url;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

/// "The endpoint is back": its queue is due now.
pub(super) async fn bank_retry_webhook(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(crate::web::pages::EmptyForm {}): CsrfForm<crate::web::pages::EmptyForm>,
) -> PageResult {
    match crate::service::webhooks::retry_now(&state.db, &auth.caller, id).await {
        Ok(_) => back("/bank", "webhooks-h", Ok("msg_webhook_retrying")),
        Err(err @ AppError::Conflict(..)) => back("/bank", "webhooks-h", Err(Refusal::of(err)?)),
        Err(other) => Err(PageError(other)),
    }
}

pub(super) async fn bank_stop_webhook(
    State(state): State<AppState>,
    auth: PageAuth<Bank>,
    Path(id): Path<i64>,
    CsrfForm(crate::web::pages::EmptyForm {}): CsrfForm<crate::web::pages::EmptyForm>,
) -> PageResult {
    match crate::service::webhooks::disable(&state.db, &auth.caller, id).await {
        Ok(_) | Err(AppError::Conflict(crate::error::Conflict::AlreadyDone, _)) => {
            back("/bank", "webhooks-h", Ok("msg_webhook_stopped"))
        }
        Err(other) => Err(PageError(other)),
    }
}
