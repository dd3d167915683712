//! The regulator's side of 绿色服务 and 惠企政策: approve or suspend providers' services,
//! publish support policies and see (and download) the firms that qualify for each.

use crate::service::fields;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::super::provider::{category_name, service_status_key};
use super::super::views;
use super::super::{Chrome, FlashQuery, PageError, PageResult, render};
use super::{Auth, EmptyForm};
use crate::error::AppError;
use crate::grading::Grade;
use crate::grading::input::CertificationKind;
use crate::service::policies::{self, NewPolicy, PolicyView, QualifyingFirm};
use crate::service::services;
use crate::store::services::ServiceStatus;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator/services", get(show_services))
        .route("/regulator/services/{id}/approve", post(approve_service))
        .route("/regulator/services/{id}/suspend", post(suspend_service))
        .route(
            "/regulator/policies",
            get(show_policies).post(publish_policy),
        )
        .route("/regulator/policies/{id}/firms.csv", get(firms_csv))
        .route("/regulator/policies/{id}/firms.xlsx", get(firms_xlsx))
}

pub struct ServiceRow {
    pub id: i64,
    pub name: String,
    pub provider: String,
    pub category: String,
    pub districts: String,
    pub description: String,
    pub contact: String,
    pub status_key: &'static str,
    pub can_approve: bool,
    pub can_suspend: bool,
}

#[derive(Template)]
#[template(path = "regulator_services.html")]
pub struct ServicesPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub rows: Vec<ServiceRow>,
}

async fn show_services(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let t = lang.texts();
    let rows = services::list_managed(&state.db, &auth.caller)
        .await?
        .into_iter()
        .map(|s| ServiceRow {
            id: s.id,
            category: category_name(t, s.category),
            districts: if s.districts.is_empty() {
                t.get("everywhere").to_owned()
            } else {
                s.districts.join(t.get("list_sep"))
            },
            status_key: service_status_key(s.status),
            can_approve: s.status != ServiceStatus::Approved,
            can_suspend: s.status != ServiceStatus::Suspended,
            name: s.name,
            provider: s.provider,
            description: s.description,
            contact: s.contact,
        })
        .collect();
    Ok(render(&ServicesPage {
        c: Chrome::of(lang, &auth).with_flash(q.msg.as_deref()),
        tab: "services",
        rows,
    }))
}

async fn review(state: &AppState, auth: &Auth, id: i64, approve: bool) -> PageResult {
    match services::review(&state.db, &auth.caller, id, approve).await {
        Ok(_) | Err(AppError::Conflict(crate::error::Conflict::AlreadyDone, _)) => {
            Ok(Redirect::to(if approve {
                "/regulator/services?msg=msg_service_approved"
            } else {
                "/regulator/services?msg=msg_service_suspended"
            })
            .into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

async fn approve_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> PageResult {
    review(&state, &auth, id, true).await
}

async fn suspend_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> PageResult {
    review(&state, &auth, id, false).await
}

pub struct PolicyRow {
    pub id: i64,
    pub title: String,
    pub issuer: String,
    pub conditions: String,
    pub benefit: String,
    pub valid: String,
    pub firms: usize,
    /// The first qualifying firms (USCC, name, grade), best grade first; all are in the files.
    pub shown_firms: Vec<(String, String, String)>,
}

/// How many qualifying firms a policy's card names (the downloads hold all).
const NAMED_FIRMS: usize = 20;

#[derive(Default, serde::Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub issuer: String,
    /// One checkbox a grade (`g_aplus` … `g_d`).
    #[serde(default)]
    pub g_aplus: Option<String>,
    #[serde(default)]
    pub g_a: Option<String>,
    #[serde(default)]
    pub g_b: Option<String>,
    #[serde(default)]
    pub g_c: Option<String>,
    #[serde(default)]
    pub g_d: Option<String>,
    #[serde(default)]
    pub divisions: String,
    #[serde(default)]
    pub districts: String,
    #[serde(default)]
    pub requires_certification: String,
    #[serde(default)]
    pub benefit: String,
    #[serde(default)]
    pub amount_10k_cny: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub url: String,
}

impl PolicyForm {
    /// The grades ticked, best first.
    pub fn grades(&self) -> Vec<Grade> {
        [
            (&self.g_aplus, Grade::APlus),
            (&self.g_a, Grade::A),
            (&self.g_b, Grade::B),
            (&self.g_c, Grade::C),
            (&self.g_d, Grade::D),
        ]
        .into_iter()
        .filter(|(ticked, _)| ticked.is_some())
        .map(|(_, g)| g)
        .collect()
    }

    pub fn ticked(&self, grade: &str) -> bool {
        self.grades().iter().any(|g| g.as_str() == grade)
    }
}

#[derive(Template)]
#[template(path = "regulator_policies.html")]
pub struct PoliciesPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub rows: Vec<PolicyRow>,
    /// (field name, grade)
    pub grades: Vec<(&'static str, &'static str)>,
    pub cert_kinds: Vec<(&'static str, String)>,
    pub form: PolicyForm,
    pub form_error: Option<String>,
}

/// The conditions of a policy in words.
fn conditions(t: &Texts, p: &PolicyView) -> String {
    let mut parts = vec![
        t.get("policy_grades").replace(
            "{grades}",
            &p.grades
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(t.get("list_sep")),
        ),
    ];
    if !p.divisions.is_empty() {
        parts.push(
            t.get("policy_divisions")
                .replace("{list}", &p.divisions.join(t.get("list_sep"))),
        );
    }
    if !p.districts.is_empty() {
        parts.push(
            t.get("policy_districts")
                .replace("{list}", &p.districts.join(t.get("list_sep"))),
        );
    }
    if let Some(kind) = &p.requires_certification {
        parts.push(
            t.get("policy_requires")
                .replace("{kind}", &views::kind_name(t, kind)),
        );
    }
    parts.join("；")
}

async fn policies_page(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    form: PolicyForm,
    form_error: Option<String>,
    msg: Option<&str>,
) -> Result<PoliciesPage, PageError> {
    let t = lang.texts();
    let mut rows = Vec::new();
    for p in policies::in_force(&state.db, crate::service::records::today()).await? {
        let (_, firms) = policies::qualifying_firms(&state.db, &auth.caller, p.id).await?;
        rows.push(PolicyRow {
            id: p.id,
            conditions: conditions(t, &p),
            valid: format!("{} – {}", p.valid_from, p.valid_until),
            firms: firms.len(),
            shown_firms: {
                let mut named: Vec<&QualifyingFirm> = firms.iter().collect();
                named.sort_by(|a, b| a.grade.cmp(&b.grade).then(a.name.cmp(&b.name)));
                named
                    .into_iter()
                    .take(NAMED_FIRMS)
                    .map(|f| (f.uscc.clone(), f.name.clone(), f.grade.as_str().to_owned()))
                    .collect()
            },
            title: p.title,
            issuer: p.issuer,
            benefit: p.benefit,
        });
    }
    Ok(PoliciesPage {
        c: Chrome::of(lang, auth).with_flash(msg),
        tab: "policies",
        rows,
        grades: Grade::ALL
            .iter()
            .map(|g| (views::grade_class(*g), g.as_str()))
            .collect(),
        cert_kinds: CertificationKind::ALL
            .iter()
            .map(|k| (k.name(), views::kind_name(t, k.name())))
            .collect(),
        form,
        form_error,
    })
}

async fn show_policies(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    Ok(render(
        &policies_page(
            &state,
            lang,
            &auth,
            PolicyForm::default(),
            None,
            q.msg.as_deref(),
        )
        .await?,
    ))
}

/// Lists typed with commas or 、 (divisions, districts).
fn list_of(text: &str) -> Vec<String> {
    super::super::provider::districts_of(text)
}

async fn publish_policy(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<PolicyForm>,
) -> PageResult {
    let t = lang.texts();
    let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let published = async {
        let new = NewPolicy {
            title: form.title.clone(),
            issuer: form.issuer.clone(),
            grades: form.grades(),
            divisions: list_of(&form.divisions),
            districts: list_of(&form.districts),
            requires_certification: optional(&form.requires_certification)
                .map(|kind| fields::one_of("requires_certification", &kind))
                .transpose()?,
            benefit: form.benefit.clone(),
            amount_10k_cny: optional(
                &super::super::data_form::plain_amount(&form.amount_10k_cny)
                    .unwrap_or_else(|()| form.amount_10k_cny.clone()),
            ),
            valid_from: fields::date("valid_from", &form.valid_from)?,
            valid_until: fields::date("valid_until", &form.valid_until)?,
            url: optional(&form.url),
        };
        policies::publish(&state.db, &auth.caller, new).await
    };
    match published.await {
        Ok(_) => Ok(Redirect::to("/regulator/policies?msg=msg_policy_published").into_response()),
        Err(err) => {
            let shown = super::super::Refusal::of(err)?.words(t);
            let p = policies_page(&state, lang, &auth, form, Some(shown), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

/// The qualifying firms as rows: a header in the page's language, then one firm a row.
fn firm_rows(t: &Texts, firms: &[QualifyingFirm]) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        t.get("col_firm").to_owned(),
        t.get("uscc").to_owned(),
        t.get("grade").to_owned(),
        t.get("district").to_owned(),
        t.get("field_industry_code").to_owned(),
    ]];
    rows.extend(firms.iter().map(|f| {
        vec![
            f.name.clone(),
            f.uscc.clone(),
            f.grade.as_str().to_owned(),
            f.district.clone(),
            f.industry_code.clone(),
        ]
    }));
    rows
}

async fn firms_csv(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
) -> PageResult {
    firms_table(&state, lang, &auth, id, "csv").await
}

async fn firms_xlsx(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
) -> PageResult {
    firms_table(&state, lang, &auth, id, "xlsx").await
}

/// The firms that qualify for a policy today, as a table to download.
async fn firms_table(
    state: &AppState,
    lang: Lang,
    auth: &Auth,
    id: i64,
    format: &str,
) -> PageResult {
    let t = lang.texts();
    let (_, firms) = policies::qualifying_firms(&state.db, &auth.caller, id).await?;
    super::super::table_download(
        format,
        t.get("policy_firms_sheet"),
        &format!("policy-{id}-firms"),
        &firm_rows(t, &firms),
    )
}
