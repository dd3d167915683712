//! `/regulator`: the review desk — the queue of submissions (approve, reject, recompute, with
//! the trace, and revocation), the firms and their records (certifications awaiting
//! verification, appeals), and oversight (distribution charts, the audit trail).

mod audit_words;
mod compare;
mod finance;
mod green;
mod incidents;
mod ladder;
mod oversight;
mod profile;
mod records;
mod review;
mod sources;
mod year;

use axum::Router;

use crate::web::AppState;
use crate::web::auth::{PageAuth, Regulator};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(review::router())
        .merge(records::router())
        .merge(oversight::router())
        .merge(profile::router())
        .merge(green::router())
        .merge(finance::router())
        .merge(sources::router())
        .merge(year::router())
        .merge(incidents::router())
        .merge(ladder::router())
}

type Auth = PageAuth<Regulator>;

/// A form with nothing but its CSRF token (approve, recompute).
#[derive(serde::Deserialize)]
struct EmptyForm {}

/// A decision with a reason (reject, revoke; `back` is the assessment page to return to).
#[derive(serde::Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: Option<i64>,
}
