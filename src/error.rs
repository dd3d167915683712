//! The one error type of the service, rendered as RFC 9457 problem+json for the API.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::grading::{Fault, InputError};

/// Everything a request can fail with. 4xx variants say what the caller did wrong; `Internal`
/// is logged with its cause and shown without it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field is invalid: `kind` says how (pages translate it), `message` says it in English.
    #[error("{field}: {message}")]
    Validation {
        field: String,
        message: String,
        kind: Fault,
    },
    #[error("{0}")]
    BadRequest(String),
    /// Many faults at once (a CSV file's rows), each an object in `errors`.
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<serde_json::Value>,
    },
    #[error("authentication required")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("not allowed for this account")]
    Forbidden,
    /// Not allowed, for a reason the caller should read (a field a data source may not attest).
    #[error("{0}")]
    ForbiddenBecause(String),
    #[error("not found")]
    NotFound,
    /// The record is not in a state that allows the request: the kind says which, for pages to
    /// word; the text says it for the API.
    #[error("{1}")]
    Conflict(Conflict, String),
    #[error("request body too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database holds fewer log entries than a checkpoint the log has signed (a restored
    /// backup): nothing may be appended until `gec log recover` restores them.
    #[error("{0}")]
    LogBehind(String),
    /// The database cannot take the request now — its disk is full, or it cannot be reached —
    /// and nothing was changed: said plainly, with a time to retry (503), instead of a 500.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Which conflict happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The record was already moved on: decided, closed, withdrawn, stopped, revoked, verified.
    AlreadyDone,
    /// The record's state does not allow this change (a request that cannot become that).
    NotAllowedNow,
    /// An assessment of the firm for the year is under review.
    UnderReview,
    /// The same firm's request for the same service is still open.
    StillOpen,
    /// Something with this key exists already: a firm's USCC, a username, a table's version.
    Exists,
    /// No code key is active: a key must be rotated in first.
    NoActiveKey,
    /// The stored assessment cannot be recomputed here (its table or methodology is missing).
    NotReproducible,
    /// A limit on how many of these one account may have is reached (active webhooks).
    Limit,
}

impl AppError {
    /// A conflict of `kind`, said as `detail`.
    pub fn conflict(kind: Conflict, detail: impl Into<String>) -> Self {
        AppError::Conflict(kind, detail.into())
    }

    /// A field fault of `kind`, with a message of its own for the API (pages word the kind).
    pub fn field_fault(kind: Fault, field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
            kind,
        }
    }

    /// A field fault of a known kind, with that kind's English message.
    pub fn fault(field: impl Into<String>, kind: Fault) -> Self {
        AppError::Validation {
            field: field.into(),
            message: kind.message().to_owned(),
            kind,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } | AppError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(..) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::LogBehind(_) | AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable name, stable across releases (`code` in the problem document).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation { .. } | AppError::Invalid { .. } => "validation",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad_credentials",
            AppError::Forbidden | AppError::ForbiddenBecause(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(..) => "conflict",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::LogBehind(_) => "log_behind",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// What a person may be shown: internals stay in the log.
    pub fn public_detail(&self) -> String {
        match self {
            AppError::Internal(_) => "the server could not complete the request".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.public_detail(),
            code: self.code(),
            field: match self {
                AppError::Validation { field, .. } => Some(field.clone()),
                _ => None,
            },
            errors: match self {
                AppError::Invalid { errors, .. } => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

/// The RFC 9457 document, with the extension members `code` and (for validation) `field`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<Vec<serde_json::Value>>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document for a bare status (used for errors produced outside handlers).
pub fn problem_response(status: StatusCode, detail: &str) -> Response {
    let problem = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: "http",
        field: None,
        errors: None,
    };
    render_problem(status, &problem)
}

fn render_problem(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = render_problem(self.status(), &self.problem());
        if let AppError::Unavailable(_) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let AppError::TooManyRequests { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        let text = err.to_string();
        // SQLite's SQLITE_FULL (13), PostgreSQL's disk_full (53100) and the OS's ENOSPC.
        let full = text.contains("database or disk is full")
            || text.contains("No space left on device")
            || text.contains("could not extend file")
            || text.contains("53100");
        let unreachable = matches!(
            err,
            sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_)
        ) || text.contains("Connection refused")
            || text.contains("connection closed")
            || text.contains("terminating connection")
            || text.contains("57P01");
        if full || unreachable {
            tracing::warn!(%err, "the database cannot take the request");
        }
        if full {
            AppError::Unavailable(
                "the database's disk is full: no change can be saved until space is freed; \
                 reading still works"
                    .to_owned(),
            )
        } else if unreachable {
            AppError::Unavailable(
                "the database cannot take the request at the moment (unreachable or busy): \
                 try again shortly"
                    .to_owned(),
            )
        } else {
            AppError::Internal(format!("database: {err}"))
        }
    }
}

impl<E: std::fmt::Display + std::fmt::Debug> From<sea_orm::TransactionError<E>> for AppError
where
    AppError: From<E>,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match rejection {
            J::MissingJsonContentType(_) => {
                AppError::UnsupportedMediaType("expected Content-Type: application/json".into())
            }
            J::BytesRejection(inner) if inner.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge(inner.body_text())
            }
            J::JsonDataError(err) => data_error(&err.body_text()),
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

/// serde's messages read "Failed to deserialize the JSON body into the target type: name: missing
/// field `x` at line 1 column 5"; lift the path into `field` so clients can point at it.
fn data_error(text: &str) -> AppError {
    let message = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    match message.split_once(": ") {
        Some((path, reason)) if !path.contains(' ') => {
            // serde says what is wrong only in words: its own, stable prefixes give the kind.
            let kind = if reason.starts_with("unknown variant") {
                Fault::OneOf
            } else if reason.starts_with("missing field") {
                Fault::Required
            } else if reason.starts_with("unknown field") {
                Fault::NotAccepted
            } else if reason.starts_with(Fault::Date.message()) {
                Fault::Date
            } else {
                Fault::Format
            };
            AppError::field_fault(kind, path, reason)
        }
        _ => match message.split_once('`') {
            Some((_, rest)) if message.starts_with("missing field") => {
                let field = rest.split('`').next().unwrap_or_default();
                AppError::fault(field, Fault::Required)
            }
            _ => AppError::BadRequest(message.to_owned()),
        },
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<axum::extract::rejection::FormRejection> for AppError {
    fn from(rejection: axum::extract::rejection::FormRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<InputError> for AppError {
    fn from(err: InputError) -> Self {
        AppError::Validation {
            field: err.field,
            message: err.message,
            kind: err.kind,
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
