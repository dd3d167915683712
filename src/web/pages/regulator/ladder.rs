//! `/regulator/ladder` (梯度培育与政策兑现): the tiers with their criteria, the candidates for
//! the next round (downloadable), the firms on each tier with a form to move them, and the
//! awards made under support policies with a form to record one and to mark one paid.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::Auth;
use crate::error::AppError;
use crate::service::awards::{self, AwardRequest, PaidRequest};
use crate::service::ladder::{self, LadderFirm, MoveRequest, Tier};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::i18n::{Lang, Texts};
use crate::web::pages::{Chrome, PageResult, Refusal, render, views};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator/ladder", get(show))
        .route("/regulator/ladder/{uscc}", post(move_firm))
        .route("/regulator/awards", post(record_award))
        .route("/regulator/awards/{id}/paid", post(mark_paid))
}

/// Firms listed in each table (the download holds every candidate).
const SHOWN: usize = 100;

pub struct TierLine {
    pub name: String,
    pub criteria: String,
    pub firms: usize,
    pub candidates: usize,
}

pub struct FirmLine {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub tier: String,
    pub tier_key: String,
    pub since: String,
    pub grade: String,
    pub years: u32,
    pub certifications: String,
    pub next: String,
    pub next_key: String,
}

pub struct AwardLine {
    pub id: i64,
    pub policy: String,
    pub uscc: String,
    pub firm: String,
    pub district: String,
    pub amount: String,
    pub awarded_on: String,
    pub document_no: String,
    pub paid_on: Option<String>,
}

#[derive(Template)]
#[template(path = "regulator_ladder.html")]
pub struct LadderPage {
    pub c: Chrome,
    pub tab: &'static str,
    pub tiers: Vec<TierLine>,
    /// (key, words) of each tier, for the move forms.
    pub tier_choices: Vec<(&'static str, String)>,
    pub candidates: Vec<FirmLine>,
    pub candidates_more: Option<String>,
    pub placed: Vec<FirmLine>,
    pub placed_more: Option<String>,
    pub move_error: Option<String>,
    /// Policies with an amount: (id, title and amount).
    pub policies: Vec<(i64, String)>,
    pub awards: Vec<AwardLine>,
    pub award_error: Option<String>,
    pub award_form: AwardForm,
    pub today: String,
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct AwardForm {
    #[serde(default)]
    pub policy: String,
    #[serde(default)]
    pub uscc: String,
    #[serde(default)]
    pub amount_10k_cny: String,
    #[serde(default)]
    pub awarded_on: String,
    #[serde(default)]
    pub document_no: String,
}

fn tier_words(t: &Texts, tier: Option<Tier>) -> String {
    match tier {
        Some(tier) => t.get(&format!("tier_{}", tier.name())).to_owned(),
        None => t.get("tier_none").to_owned(),
    }
}

fn criteria_words(t: &Texts, tier: Tier) -> String {
    let c = tier.criteria();
    let grades: Vec<&str> = c.grades.iter().map(|g| g.as_str()).collect();
    let mut words = t
        .get("tier_criteria_grade")
        .replace("{grades}", &grades.join(t.get("list_sep")));
    if c.years_at_a > 0 {
        words.push_str(t.get("list_sep"));
        words.push_str(
            &t.get("tier_criteria_years")
                .replace("{n}", &c.years_at_a.to_string()),
        );
    }
    if c.certifications > 0 {
        words.push_str(t.get("list_sep"));
        words.push_str(
            &t.get("tier_criteria_certs")
                .replace("{n}", &c.certifications.to_string()),
        );
    }
    words
}

fn firm_line(t: &Texts, lang: Lang, f: &LadderFirm) -> FirmLine {
    FirmLine {
        uscc: f.uscc.clone(),
        name: f.name.clone(),
        district: views::district_name(lang, &f.district),
        tier: tier_words(t, f.tier),
        tier_key: f.tier.map(|t| t.name()).unwrap_or("none").to_owned(),
        since: f.since.clone().unwrap_or_default(),
        grade: f
            .grade
            .map(|g| g.as_str().to_owned())
            .unwrap_or_else(|| "—".into()),
        years: f.years_at_a,
        certifications: if f.certifications.is_empty() {
            "—".to_owned()
        } else {
            f.certifications
                .iter()
                .map(|k| t.get(&format!("cert_{k}")).to_owned())
                .collect::<Vec<_>>()
                .join(t.get("list_sep"))
        },
        next: f.next.map(|n| tier_words(t, Some(n))).unwrap_or_default(),
        next_key: f.next.map(|n| n.name()).unwrap_or_default().to_owned(),
    }
}

fn more(t: &Texts, n: usize) -> Option<String> {
    (n > SHOWN).then(|| {
        t.get("ladder_shown_first")
            .replace("{shown}", &SHOWN.to_string())
            .replace("{n}", &n.to_string())
    })
}

async fn page(state: &AppState, lang: Lang, auth: &Auth) -> Result<LadderPage, AppError> {
    let t = lang.texts();
    let ladder = ladder::ladder(&state.db, &auth.caller).await?;
    let today = crate::service::records::today();
    let policies = crate::service::policies::in_force(&state.db, today)
        .await?
        .into_iter()
        .filter_map(|p| {
            let amount = p.amount_10k_cny.clone()?;
            Some((
                p.id,
                format!(
                    "{}{}{}",
                    p.title,
                    t.colon(),
                    t.get("award_up_to").replace("{amount}", &amount)
                ),
            ))
        })
        .collect();
    let awards = awards::list(&state.db, &auth.caller)
        .await?
        .into_iter()
        .map(|a| AwardLine {
            id: a.id,
            policy: a.policy_title,
            uscc: a.uscc,
            firm: a.firm_name,
            district: views::district_name(lang, &a.district),
            amount: a.amount_10k_cny,
            awarded_on: a.awarded_on,
            document_no: a.document_no,
            paid_on: a.paid_on,
        })
        .collect();
    Ok(LadderPage {
        c: Chrome::of(lang, auth),
        tab: "ladder",
        tiers: ladder
            .tiers
            .iter()
            .map(|s| TierLine {
                name: tier_words(t, Some(s.tier)),
                criteria: criteria_words(t, s.tier),
                firms: s.firms,
                candidates: s.candidates,
            })
            .collect(),
        tier_choices: Tier::ALL
            .iter()
            .map(|tier| (tier.name(), tier_words(t, Some(*tier))))
            .chain([("none", t.get("tier_off").to_owned())])
            .collect(),
        candidates_more: more(t, ladder.candidates.len()),
        candidates: ladder
            .candidates
            .iter()
            .take(SHOWN)
            .map(|f| firm_line(t, lang, f))
            .collect(),
        placed_more: more(t, ladder.firms.len()),
        placed: ladder
            .firms
            .iter()
            .take(SHOWN)
            .map(|f| firm_line(t, lang, f))
            .collect(),
        move_error: None,
        policies,
        awards,
        award_error: None,
        award_form: AwardForm {
            awarded_on: today.to_string(),
            ..AwardForm::default()
        },
        today: today.to_string(),
    })
}

#[derive(serde::Deserialize, Default)]
struct LadderQuery {
    format: Option<String>,
    msg: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Query(q): Query<LadderQuery>,
) -> PageResult {
    let t = lang.texts();
    if let Some(format) = q.format.as_deref().filter(|f| *f == "csv" || *f == "xlsx") {
        let ladder = ladder::ladder(&state.db, &auth.caller).await?;
        let mut out = vec![
            [
                "uscc",
                "firm",
                "district",
                "ladder_tier",
                "ladder_next",
                "grade",
                "ladder_years",
                "ladder_certs",
            ]
            .iter()
            .map(|k| t.get(k).to_owned())
            .collect::<Vec<_>>(),
        ];
        for f in &ladder.candidates {
            let line = firm_line(t, lang, f);
            out.push(vec![
                line.uscc,
                line.name,
                line.district,
                line.tier,
                line.next,
                line.grade,
                line.years.to_string(),
                line.certifications,
            ]);
        }
        return crate::web::pages::table_download(
            format,
            t.get("ladder_candidates_title"),
            "gec-ladder-candidates",
            &out,
        );
    }
    let mut p = page(&state, lang, &auth).await?;
    p.c = p.c.with_flash(q.msg.as_deref());
    Ok(render(&p))
}

#[derive(serde::Deserialize)]
struct MoveForm {
    #[serde(default)]
    tier: String,
    #[serde(default)]
    note: String,
}

async fn move_firm(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(uscc): Path<String>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> PageResult {
    let tier = Tier::parse(&form.tier);
    let outcome = if tier.is_none() && form.tier != "none" {
        Err(AppError::fault("tier", crate::grading::Fault::OneOf))
    } else {
        ladder::move_firm(
            &state.db,
            &auth.caller,
            &uscc,
            MoveRequest {
                tier,
                note: Some(form.note),
            },
        )
        .await
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/regulator/ladder?msg=msg_ladder_moved").into_response()),
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let mut p = page(&state, lang, &auth).await?;
            p.move_error = Some(refusal.words(lang.texts()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

async fn record_award(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    CsrfForm(form): CsrfForm<AwardForm>,
) -> PageResult {
    let outcome = match form.policy.trim().parse::<i64>() {
        Ok(policy) => match crate::service::fields::date("awarded_on", &form.awarded_on) {
            Ok(awarded_on) => {
                awards::record(
                    &state.db,
                    &auth.caller,
                    policy,
                    AwardRequest {
                        uscc: form.uscc.clone(),
                        amount_10k_cny: form.amount_10k_cny.clone(),
                        awarded_on,
                        document_no: form.document_no.clone(),
                    },
                )
                .await
            }
            Err(e) => Err(e),
        },
        Err(_) => Err(AppError::fault("policy", crate::grading::Fault::Required)),
    };
    match outcome {
        Ok(_) => {
            Ok(Redirect::to("/regulator/ladder?msg=msg_award_recorded#awards-h").into_response())
        }
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let mut p = page(&state, lang, &auth).await?;
            p.award_error = Some(refusal.words(lang.texts()));
            p.award_form = form;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
struct PaidForm {
    #[serde(default)]
    paid_on: String,
}

async fn mark_paid(
    State(state): State<AppState>,
    lang: Lang,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PaidForm>,
) -> PageResult {
    let outcome = match crate::service::fields::date("paid_on", &form.paid_on) {
        Ok(paid_on) => {
            awards::mark_paid(&state.db, &auth.caller, id, PaidRequest { paid_on }).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/regulator/ladder?msg=msg_award_paid#awards-h").into_response()),
        Err(err) => {
            let refusal = Refusal::of(err)?;
            let mut p = page(&state, lang, &auth).await?;
            p.award_error = Some(refusal.words(lang.texts()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
    }
}
