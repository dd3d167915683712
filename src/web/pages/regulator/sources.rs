//! `/regulator/sources` (数据直连): the regulator's settings for figures from sources (the
//! tolerance, the figures that must come from their source), the data source accounts with
//! what each delivered and a form to add one, and no-touch filing of every firm whose figures
//! all came from sources, with its progress.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::Auth;
use crate::error::AppError;
use crate::service::readings::{self, runs};
use crate::service::settings::{self, ReadingSettings};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};
use crate::web::pages::{Chrome, PageResult, Refusal, data_form, render, views};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator/sources", get(show).post(add_source))
        .route("/regulator/sources/settings", post(save_settings))
        .route("/regulator/no-touch", post(start_run))
}

/// A field a source can attest, with its words and whether it is ticked.
pub struct FieldBox {
    pub name: &'static str,
    pub label: String,
    pub ticked: bool,
}

pub struct SourceRow {
    pub org: String,
    pub username: String,
    pub fields: String,
    pub batches: u64,
    pub rows: u64,
    pub last: String,
}

/// The newest no-touch run, in words.
pub struct RunBox {
    pub year: i32,
    pub state: String,
    pub running: bool,
    pub done: i32,
    pub total: i32,
    pub counts: String,
    /// The first firms not filed, with what they miss.
    pub not_filed: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "regulator_sources.html")]
pub struct SourcesPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub tolerance: String,
    pub tolerance_error: Option<String>,
    pub required: Vec<FieldBox>,
    pub sources: Vec<SourceRow>,
    pub new_fields: Vec<FieldBox>,
    pub new_org: String,
    pub new_username: String,
    pub add_error: Option<String>,
    /// The account just made and its one-time password (shown once).
    pub created: Option<(String, String)>,
    pub years: Vec<i32>,
    pub run: Option<RunBox>,
    pub run_error: Option<String>,
}

/// A field's words, as the firm's form says them.
fn field_words(t: &Texts, field: &str) -> String {
    data_form::inputs()
        .iter()
        .find(|i| i.cell == field)
        .map_or_else(|| field.to_owned(), |i| data_form::label(t, i))
}

fn boxes(t: &Texts, ticked: impl Fn(&str) -> bool) -> Vec<FieldBox> {
    readings::all_fields()
        .into_iter()
        .map(|name| FieldBox {
            name,
            label: field_words(t, name),
            ticked: ticked(name),
        })
        .collect()
}

async fn page(state: &AppState, lang: Lang, auth: &Auth) -> Result<SourcesPage, AppError> {
    let t = lang.texts();
    let now = settings::get::<ReadingSettings, _>(&state.db).await?;
    let sources = readings::sources(&state.db, &auth.caller)
        .await?
        .into_iter()
        .map(|s| SourceRow {
            org: s.org.unwrap_or_default(),
            fields: s
                .attests
                .iter()
                .map(|f| field_words(t, f))
                .collect::<Vec<_>>()
                .join(t.comma()),
            username: s.username,
            batches: s.batches,
            rows: s.rows,
            last: s
                .last_delivery
                .map_or_else(|| "—".to_owned(), |at| views::local_time(lang, at)),
        })
        .collect();
    let run = runs::latest(&state.db, &auth.caller)
        .await?
        .map(|r| RunBox {
            year: r.year,
            running: r.state == runs::RunState::Running,
            state: t.get(&format!("run_{}", run_state(r.state))).to_owned(),
            done: r.done,
            total: r.total,
            counts: t
                .get("run_counts")
                .replace("{done}", &r.done.to_string())
                .replace("{total}", &r.total.to_string())
                .replace("{filed}", &r.filed.to_string())
                .replace("{incomplete}", &r.incomplete.to_string())
                .replace("{already}", &r.already_filed.to_string()),
            not_filed: r
                .not_filed
                .iter()
                .take(20)
                .map(|i| {
                    (
                        i.uscc.clone(),
                        i.missing
                            .iter()
                            .map(|m| field_words(t, m))
                            .collect::<Vec<_>>()
                            .join(t.comma()),
                    )
                })
                .collect(),
        });
    Ok(SourcesPage {
        c: Chrome::of(lang, auth),
        tab: "sources",
        tolerance: now.tolerance_percent.clone(),
        tolerance_error: None,
        required: boxes(t, |f| now.required(f)),
        sources,
        new_fields: boxes(t, |_| false),
        new_org: String::new(),
        new_username: String::new(),
        add_error: None,
        created: None,
        years: data_form::completed_years(crate::service::records::today()),
        run,
        run_error: None,
    })
}

fn run_state(state: runs::RunState) -> &'static str {
    match state {
        runs::RunState::Running => "running",
        runs::RunState::Finished => "finished",
        runs::RunState::Failed => "failed",
        runs::RunState::Interrupted => "interrupted",
    }
}

#[derive(serde::Deserialize, Default)]
struct FlashQuery {
    msg: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let mut p = page(&state, lang, &auth).await?;
    p.c = p.c.with_flash(q.msg.as_deref());
    Ok(render(&p))
}

/// The ticked fields of a form (`{prefix}{field}` boxes), in the form's order.
fn ticked(form: &HashMap<String, String>, prefix: &str) -> Vec<String> {
    readings::all_fields()
        .into_iter()
        .filter(|f| form.contains_key(&format!("{prefix}{f}")))
        .map(str::to_owned)
        .collect()
}

async fn save_settings(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let t = lang.texts();
    let wanted = ReadingSettings {
        tolerance_percent: form
            .get("tolerance_percent")
            .map(|s| s.trim().trim_end_matches(['%', '％']).trim().to_owned())
            .unwrap_or_default(),
        source_required: ticked(&form, "req_"),
    };
    match settings::put(&state.db, &auth.caller, wanted.clone()).await {
        Ok(_) => Ok(Redirect::to("/regulator/sources?msg=msg_settings_saved").into_response()),
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let mut p = page(&state, lang, &auth).await?;
            p.tolerance = form.get("tolerance_percent").cloned().unwrap_or_default();
            p.required = boxes(t, |f| wanted.required(f));
            p.tolerance_error = Some(refusal.words(t));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

async fn add_source(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let t = lang.texts();
    let username = form.get("username").cloned().unwrap_or_default();
    let org = form.get("org").cloned().unwrap_or_default();
    let fields = ticked(&form, "attest_");
    match readings::add_source(&state.db, &auth.caller, &username, &org, fields.clone()).await {
        Ok((account, password)) => {
            // Rendered, not redirected: the password must not travel in a URL.
            let mut p = page(&state, lang, &auth).await?;
            p.created = Some((account.username, password));
            Ok(render(&p))
        }
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let mut p = page(&state, lang, &auth).await?;
            p.new_username = username;
            p.new_org = org;
            p.new_fields = boxes(t, |f| fields.iter().any(|x| x == f));
            p.add_error = Some(refusal.words(t));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
struct RunForm {
    #[serde(default)]
    year: String,
}

async fn start_run(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<RunForm>,
) -> PageResult {
    let year = form.year.trim().parse().unwrap_or_default();
    match runs::start(&state.db, &state.caches, &auth.caller, year).await {
        // No fragment: the page reloads itself while the run goes (a reload to a URL with a
        // fragment would only scroll).
        Ok(_) => Ok(Redirect::to("/regulator/sources").into_response()),
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let mut p = page(&state, lang, &auth).await?;
            p.run_error = Some(refusal.words(lang.texts()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}
