//! The regulator's year in the API (动态管理): the thresholds of the abnormal-data checks, the
//! reporting years with their filing deadline, and the firms that have not filed.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::error::{AppResult, Problem};
use crate::service::abnormal::AbnormalSettings;
use crate::service::{filing, settings};
use crate::web::AppState;
use crate::web::auth::{Auth, Regulator};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(abnormal_settings, put_abnormal_settings))
        .routes(routes!(reporting_years, open_year))
        .routes(routes!(non_filers))
        .routes(routes!(follow_ups))
        .routes(routes!(show_overview))
        .routes(
            routes!(run_incidents)
                .layer(axum::extract::DefaultBodyLimit::max(INCIDENTS_BODY_LIMIT)),
        )
}

/// The reporting years opened, newest first, with their filing deadlines. Who may call it:
/// regulator.
#[utoipa::path(get, path = "/api/v1/reporting-years", tag = "year", security(("bearer" = [])),
    responses((status = 200, body = Vec<filing::ReportingYear>)))]
async fn reporting_years(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
) -> AppResult<Json<Vec<filing::ReportingYear>>> {
    Ok(Json(filing::years(&state.db).await?))
}

/// Opens a reporting year with its filing deadline (a date after the year ends), or moves the
/// deadline of one already open; audited. After the deadline, the banks following a firm that
/// has not filed get `firm.filing_overdue` on their webhooks, once. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/reporting-years", tag = "year", security(("bearer" = [])),
    request_body = filing::OpenYear,
    responses((status = 201, body = filing::ReportingYear), (status = 422, body = Problem)))]
async fn open_year(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    super::ApiJson(body): super::ApiJson<filing::OpenYear>,
) -> AppResult<(axum::http::StatusCode, Json<filing::ReportingYear>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(filing::open(&state.db, &auth, body).await?),
    ))
}

/// The firms that have not filed a year (nothing under review or approved for it), with their
/// current code's grade and end, counted by district. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/reporting-years/{year}/non-filers", tag = "year",
    security(("bearer" = [])), params(("year" = i32, Path)),
    responses((status = 200, body = filing::NonFilers)))]
async fn non_filers(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    crate::web::extract::ApiPath(year): crate::web::extract::ApiPath<i32>,
) -> AppResult<Json<filing::NonFilers>> {
    Ok(Json(filing::non_filers(&state.db, &auth, year).await?))
}

/// Codes to follow up: active codes that end within 30 days, and those whose reporting year is
/// more than a year behind the newest open year. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/codes-to-follow-up", tag = "year", security(("bearer" = [])),
    responses((status = 200, body = filing::FollowUps)))]
async fn follow_ups(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
) -> AppResult<Json<filing::FollowUps>> {
    Ok(Json(filing::follow_ups(&state.db, &auth).await?))
}

/// The thresholds of the abnormal-data checks a submission goes through (per cent): energy
/// intensity and value added changing from the previous approved year, and intensity below a
/// share of the industry's baseline. Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/settings/abnormal", tag = "year", security(("bearer" = [])),
    responses((status = 200, body = AbnormalSettings)))]
async fn abnormal_settings(
    State(state): State<AppState>,
    _auth: Auth<Regulator>,
) -> AppResult<Json<AbnormalSettings>> {
    Ok(Json(settings::get(&state.db).await?))
}

/// Changes the thresholds (each a per cent with at most one decimal place: the changes up to
/// 1,000, the floor up to 100); audited as `settings.update`. Submissions from then on are
/// checked with them. Who may call it: regulator.
#[utoipa::path(put, path = "/api/v1/settings/abnormal", tag = "year", security(("bearer" = [])),
    request_body = AbnormalSettings,
    responses((status = 200, body = AbnormalSettings), (status = 422, body = Problem)))]
async fn put_abnormal_settings(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    super::ApiJson(body): super::ApiJson<AbnormalSettings>,
) -> AppResult<Json<AbnormalSettings>> {
    Ok(Json(settings::put(&state.db, &auth, body).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
struct CommitQuery {
    /// A file's list: `true` commits it (the default is a dry run). A JSON list says it in its
    /// body.
    #[serde(default)]
    commit: bool,
}

/// Runs a list of incidents from outside (信用中国's dishonest entities, environmental credit
/// ratings and penalty decisions, safety accidents): JSON (`{"rows": [...], "commit": false}`),
/// CSV or an Excel workbook (`?commit=true`), each row a USCC, a veto kind of methodology §4,
/// the date, the issuing authority and the document's number. A dry run (the default) says
/// which registered firms the list touches and which of their active codes would be regraded
/// and to what; a commit records the new vetoes with their source, supersedes each touched
/// firm's code whose grade they change by a regraded one (one log append per firm; the banks
/// following the firm get `code.superseded` with the reason) and tells the firm on its desk.
/// A list with a bad row is refused whole (every fault by row and column in `errors`); a list
/// committed again records nothing twice. Who may call it: regulator.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "year", security(("bearer" = [])),
    params(CommitQuery),
    request_body(content((crate::service::incidents::IncidentList = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, body = crate::service::incidents::IncidentReport), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn run_incidents(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    axum::extract::Query(query): axum::extract::Query<CommitQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<Json<crate::service::incidents::IncidentReport>> {
    use crate::service::incidents;
    let format = super::rows_format(&headers)?;
    let (rows, json, commit) = incidents::read_list(format, &body).await?;
    let keys = state.keys.current();
    let signing = incidents::Signing {
        caches: &state.caches,
        keys: &keys,
        public_url: &state.config.public_url,
    };
    let report = incidents::run(
        &state.db,
        &signing,
        &auth,
        &rows,
        json,
        commit || query.commit,
    )
    .await?;
    Ok(Json(report))
}

/// 20,000 rows of a list are about 3 MB.
const INCIDENTS_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(serde::Deserialize, utoipa::IntoParams)]
struct OverviewQuery {
    /// The trend for one district only.
    #[serde(default)]
    district: Option<String>,
    /// The trend for one two-digit division only.
    #[serde(default)]
    division: Option<String>,
}

/// The overview by district and by industry division: the firms holding a code per grade,
/// their mean energy intensity against the baseline, and the grades over the reporting years.
/// Who may call it: regulator.
#[utoipa::path(get, path = "/api/v1/overview", tag = "year", security(("bearer" = [])),
    params(OverviewQuery),
    responses((status = 200, body = crate::service::overview::Overview)))]
async fn show_overview(
    State(state): State<AppState>,
    auth: Auth<Regulator>,
    axum::extract::Query(q): axum::extract::Query<OverviewQuery>,
) -> AppResult<Json<crate::service::overview::Overview>> {
    Ok(Json(
        crate::service::overview::overview(
            &state.db,
            &auth,
            q.district.as_deref().filter(|d| !d.is_empty()),
            q.division.as_deref().filter(|d| !d.is_empty()),
        )
        .await?,
    ))
}
