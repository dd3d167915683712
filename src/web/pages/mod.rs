//! Server-rendered pages (askama templates under `templates/`): Chinese first, English on
//! `?lang=en`, no JavaScript needed, every form protected against CSRF.

mod bank;
mod bank_list;
pub(crate) mod carbon;
mod charts;
mod data_form;
mod finance;
mod firm;
pub(crate) mod numbers;
mod overview_charts;
mod provider;
mod regulator;
mod scan;
pub(crate) use scan::kept_scan_response;
mod session;
mod source;
pub(crate) mod views;
pub(crate) mod year_words;

use askama::Template;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::auth::{Allowed, MaybeSession, PageAuth};
use super::csrf;
use super::i18n::{Lang, Texts};
pub use super::page_error::{PageError, PageResult, error_page, render};
use crate::error::{AppError, Conflict};
use crate::service::accounts::Caller;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_home))
        .route("/static/app.css", get(show_stylesheet))
        .merge(session::router())
        .merge(scan::router())
        .merge(firm::router())
        .merge(bank::router())
        .merge(provider::router())
        .merge(source::router())
        .merge(regulator::router())
}

/// Who is signed in, as the page header shows it.
pub struct UserInfo {
    pub username: String,
    pub role: &'static str,
}

/// What every page's frame needs: the words, the language, the visitor and their CSRF token.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: Lang,
    pub user: Option<UserInfo>,
    pub csrf: String,
    /// A message key (from the texts) to show once, after a redirect.
    pub flash: Option<String>,
}

impl Chrome {
    pub fn anonymous(lang: Lang) -> Self {
        Chrome {
            t: lang.texts(),
            lang,
            user: None,
            csrf: String::new(),
            flash: None,
        }
    }

    pub fn signed_in(lang: Lang, caller: &Caller, session: &str) -> Self {
        Chrome {
            t: lang.texts(),
            lang,
            user: Some(UserInfo {
                username: caller.username.clone(),
                role: caller.role.as_str(),
            }),
            csrf: csrf::session_token(session),
            flash: None,
        }
    }

    pub fn of<R: Allowed>(lang: Lang, auth: &PageAuth<R>) -> Self {
        Chrome::signed_in(lang, &auth.caller, &auth.session)
    }

    pub fn maybe(lang: Lang, session: &MaybeSession) -> Self {
        match &session.0 {
            Some((caller, token)) => Chrome::signed_in(lang, caller, token),
            None => Chrome::anonymous(lang),
        }
    }

    /// Shows `?msg=KEY` when KEY is one of the texts (never free text from a URL).
    pub fn with_flash(mut self, msg: Option<&str>) -> Self {
        self.flash = msg
            .filter(|m| m.starts_with("msg_") && self.t.has(m))
            .map(str::to_owned);
        self
    }
}

/// The file of a multipart upload form (its `file` field; empty when none was chosen), the
/// form's CSRF token checked.
pub async fn uploaded_file<R: Allowed>(
    auth: &PageAuth<R>,
    mut multipart: axum::extract::Multipart,
) -> Result<Vec<u8>, PageError> {
    let mut csrf = String::new();
    let mut file = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = bytes.to_vec(),
            _ => {}
        }
    }
    check_csrf(auth, &csrf)?;
    Ok(file)
}

/// Refuses a form whose CSRF token is not the session's.
pub fn check_csrf<R: Allowed>(auth: &PageAuth<R>, given: &str) -> Result<(), PageError> {
    if csrf::matches(&csrf::session_token(&auth.session), given) {
        Ok(())
    } else {
        Err(PageError(AppError::Forbidden))
    }
}

#[derive(serde::Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    pub msg: Option<String>,
    /// A refusal sent back after a redirect, as table keys (see `finance::refusal_shown`).
    #[serde(default)]
    pub err: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub c: Chrome,
    pub pasted: String,
    pub error: Option<&'static str>,
}

async fn show_home(lang: Lang, session: MaybeSession) -> Response {
    render(&HomePage {
        c: Chrome::maybe(lang, &session),
        pasted: String::new(),
        error: None,
    })
}

async fn show_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/app.css"),
    )
        .into_response()
}

/// The name of a firm's industry (its GB/T 4754 division) in the page's language, from the
/// benchmark table in force; the code itself when the table lacks it.
pub async fn industry_name(
    state: &AppState,
    lang: Lang,
    industry_code: &str,
) -> Result<String, PageError> {
    let table = crate::service::benchmarks::in_force(&state.db, &state.caches).await?;
    let division = industry_code.get(..2).unwrap_or(industry_code);
    Ok(table.get(division).map_or_else(
        || industry_code.to_owned(),
        |b| match lang {
            Lang::Zh => b.name_zh.clone(),
            Lang::En => b.name_en.clone(),
        },
    ))
}

/// A form with nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// A table to download: `format` is `csv` (UTF-8 with a byte-order mark) or `xlsx`; `stem`
/// names the file, `sheet` the workbook's sheet. Every cell is text, never a formula.
pub fn table_download(
    format: &str,
    sheet: &str,
    stem: &str,
    rows: &[Vec<String>],
) -> Result<Response, PageError> {
    use crate::service::flat;
    let (body, kind) = match format {
        "xlsx" => (
            flat::xlsx_bytes(sheet, rows)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (flat::csv_bytes(rows)?, "text/csv; charset=utf-8"),
    };
    let ext = if format == "xlsx" { "xlsx" } else { "csv" };
    // Named by what it holds and the day (China time), not one name for every download.
    let day = crate::service::records::today();
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}-{day}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// A refusal as keys of the tables: the field at fault and why (never text from a request, so
/// it may travel in a redirect's query).
pub struct Refusal {
    pub field: String,
    pub key: &'static str,
}

/// The words for a conflict, as a table key.
pub fn conflict_key(kind: Conflict) -> &'static str {
    match kind {
        Conflict::AlreadyDone => "conflict_already_done",
        Conflict::NotAllowedNow => "conflict_not_allowed_now",
        Conflict::UnderReview => "err_under_review",
        Conflict::StillOpen => "conflict_still_open",
        Conflict::Exists => "conflict_exists",
        Conflict::NoActiveKey => "reg_err_no_key",
        Conflict::NotReproducible => "conflict_not_reproducible",
        Conflict::Limit => "conflict_limit",
    }
}

impl Refusal {
    /// A refusal the page can word (a field's fault, a conflict); any other error stays one.
    pub fn of(err: AppError) -> Result<Refusal, PageError> {
        match err {
            AppError::Validation { field, kind, .. } => Ok(Refusal {
                field: field.split(['[', '.']).next().unwrap_or(&field).to_owned(),
                key: data_form::fault_key(kind),
            }),
            AppError::Conflict(kind, _) => Ok(Refusal {
                field: String::new(),
                key: conflict_key(kind),
            }),
            other => Err(PageError(other)),
        }
    }

    /// "the field：why", in the page's language.
    pub fn words(&self, t: &Texts) -> String {
        Refusal::words_of(t, &self.field, self.key)
    }

    pub fn words_of(t: &Texts, field: &str, key: &str) -> String {
        if field.is_empty() {
            t.get(key).to_owned()
        } else {
            format!(
                "{}{}{}",
                views::field_label(t, field),
                t.colon(),
                t.get(key)
            )
        }
    }
}

/// A kept file as a download: its checked type, its name (RFC 6266), never shown inline.
pub fn file_response(
    file: &crate::service::finance::attachments::FileView,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let encoded: String = file
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, file.media_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attachment\"; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::conflict_key;
    use crate::error::Conflict;
    use crate::web::i18n::Lang;

    #[test]
    fn every_conflict_has_words_in_both_languages() {
        let kinds = [
            Conflict::AlreadyDone,
            Conflict::NotAllowedNow,
            Conflict::UnderReview,
            Conflict::StillOpen,
            Conflict::Exists,
            Conflict::NoActiveKey,
            Conflict::NotReproducible,
            Conflict::Limit,
        ];
        for kind in kinds {
            for lang in [Lang::Zh, Lang::En] {
                assert!(lang.texts().has(conflict_key(kind)), "{kind:?} in {lang:?}");
            }
        }
        // Only a conflict about a year's data under review is worded as one.
        assert_eq!(conflict_key(Conflict::UnderReview), "err_under_review");
        assert_ne!(conflict_key(Conflict::AlreadyDone), "err_under_review");
    }
}
