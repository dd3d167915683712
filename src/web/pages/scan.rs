//! `/c/{code}` (and `/C/{code}`): the page a phone opens when it scans a code. It verifies the
//! code first; a code that is not valid gets a plain "not valid" page (400) that cannot be
//! mistaken for a grade.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde::Deserialize;

use super::views::{self, grade_class, status_key};
use super::{Chrome, HomePage, PageResult, render};
use crate::code::text;
use crate::grading::Trace;
use crate::service::cache::CachedPage;
use crate::service::verification::{self, RecordStatus, VerifyReason};
use crate::service::{benchmarks, codes};
use crate::web::AppState;
use crate::web::auth::MaybeSession;
use crate::web::i18n::Lang;
use axum::body::Bytes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/c/{code}", get(show_scan))
        .route("/C/{code}", get(show_scan))
        .route("/verify", get(find_code))
        .route("/verify-sw.js", get(scanner_worker))
        .route("/verify/firms.json", get(firm_names))
        .route("/static/verify/{file}", get(scanner_script))
        .route("/codes/{serial}", get(code_by_serial))
}

/// The code that replaced a superseded (or expired) one: what a scanner should look at instead.
pub struct CurrentCode {
    pub link: String,
    pub grade: String,
    pub grade_class: &'static str,
    pub score: String,
    pub period: i32,
}

#[derive(Template)]
#[template(path = "scan.html")]
pub struct ScanPage {
    pub c: Chrome,
    pub firm_name: String,
    pub uscc: String,
    pub grade: String,
    pub grade_class: String,
    pub grade_name: String,
    pub score: String,
    /// The carbon-efficiency level the code states (methodology §10), in words, and its
    /// number for the colour; none on codes issued before it was carried.
    pub carbon: Option<(u8, String)>,
    /// The intensity and its share of the baseline, from the assessment's carbon trace.
    pub carbon_sentence: Option<String>,
    /// "能耗数据 92% 来自数据源单位直连报送" (claim 8), when the code states it.
    pub attested: Option<String>,
    pub chart: String,
    pub period: u32,
    pub issued_on: String,
    pub valid_until: String,
    pub status: &'static str,
    pub status_key: &'static str,
    /// The code may be relied on now (signature, dates and record all hold).
    pub in_force: bool,
    pub revoked_reason: Option<String>,
    pub current: Option<CurrentCode>,
    /// Why the grade is capped at D, in words, when a veto counts.
    pub veto: Option<String>,
    pub indicators: Vec<String>,
    pub legend: Vec<views::LegendRow>,
    pub finance_items: Vec<String>,
    pub rate_step: Option<String>,
    /// The banks' products in force that take this grade (public, like the grade).
    pub products: Vec<String>,
    pub services: Vec<String>,
    pub serial: u64,
}

#[derive(Template)]
#[template(path = "scan_invalid.html")]
pub struct InvalidPage {
    pub c: Chrome,
    pub reason_key: &'static str,
}

/// The scan page. An anonymous visitor's page (nearly every scan) is rendered once and kept,
/// gzipped too, under the verification cache's rules: gone at once when this replica issues,
/// supersedes or revokes any code, on notice from the others, and after `GEC_CODE_CACHE_MS`
/// (1 s) at most; never kept while the replica may miss notices.
async fn show_scan(
    State(state): State<AppState>,
    lang: Lang,
    session: MaybeSession,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let keys = state.keys.current();
    let anonymous = session.0.is_none();
    let keys_id = std::sync::Arc::as_ptr(&keys) as usize;
    let gzip = accepts_gzip(&headers);
    // An anonymous visitor's kept page, or the right to render it (one request at a time).
    let mut _rendering = None;
    if anonymous {
        let kept = state.caches.codes.page(&code, lang.code(), keys_id);
        if let Some((page, true)) = &kept {
            // A kept page needs no I/O: let the other connections' requests have their turn, so
            // that a burst of phones is served in turn rather than some connections first.
            return Ok(page_response(page.clone(), gzip));
        }
        let lock = state.caches.codes.render_lock(&code, lang.code());
        match (kept, lock.clone().try_lock_owned()) {
            // Old, but another request is rendering it again right now: this one takes the page
            // kept (it is as old as that render takes; a change would have removed it).
            (Some((page, _)), Err(_)) => {
                return Ok(page_response(page, gzip));
            }
            (_, Ok(guard)) => _rendering = Some(guard),
            (None, Err(_)) => {
                _rendering = Some(lock.lock_owned().await);
                if let Some((page, _)) = state.caches.codes.page(&code, lang.code(), keys_id) {
                    return Ok(page_response(page, gzip));
                }
            }
        }
    }
    let mut results = verification::verify_codes(
        &state.db,
        &state.caches,
        &keys.trusted,
        std::slice::from_ref(&code),
    )
    .await?;
    let result = results
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("no verdict"))?;
    let status = result.status.unwrap_or(RecordStatus::Unknown);
    // Authentic: it verifies, or it verifies but is no longer in force.
    let authentic = result.claims.is_some() && result.reason.is_none_or(VerifyReason::is_status);
    let record = match (&result.claims, authentic) {
        (Some(claims), true) => codes::scan_record(&state.db, claims.serial as i64).await?,
        _ => None,
    };
    let (Some(claims), Some(record)) = (result.claims.clone(), record) else {
        let page = InvalidPage {
            c: Chrome::maybe(lang, &session),
            reason_key: views::reason_key(result.reason),
        };
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    };
    let t = lang.texts();
    let in_force = result.valid;
    let current = record.current.as_ref().map(|c| CurrentCode {
        link: format!("/c/{}", text::encode(&c.cose)),
        grade: c.grade.to_string(),
        grade_class: grade_class(c.grade.0),
        score: c.score.clone(),
        period: c.period,
    });
    let shows: Vec<i64> = std::iter::once(record.code.serial)
        .chain(record.current.as_ref().map(|c| c.serial))
        .collect();
    let firm = record.firm;
    let trace = record.trace.as_ref();
    let industry = match trace {
        Some(tr) => benchmarks::by_version(&state.db, &state.caches, &tr.benchmarks)
            .await?
            .and_then(|table| {
                table.get(&tr.division).map(|b| match lang {
                    Lang::Zh => b.name_zh.clone(),
                    Lang::En => b.name_en.clone(),
                })
            })
            .unwrap_or_else(|| tr.division.clone()),
        None => String::new(),
    };
    let score_of = |f: fn(&Trace) -> Option<&str>| trace.and_then(f);
    let name = |item: &crate::grading::finance::Item| match lang {
        Lang::Zh => item.name_zh.to_owned(),
        Lang::En => item.name_en.to_owned(),
    };
    let date = |at: chrono::DateTime<chrono::Utc>| views::local_time(lang, at);
    // Finance and services follow a code in force only: never a revoked, superseded or
    // expired code's.
    let finance = result.finance.as_ref().filter(|_| in_force);
    let products = match (&firm, in_force) {
        (Some(f), true) => super::finance::offer_names(
            t,
            &crate::service::finance::offers_for(
                &state.db,
                &crate::service::finance::Standing {
                    grade: claims.grade,
                    carbon_level: claims.carbon_level,
                    attested_share: claims.attested_share,
                    division: f.industry_code.get(..2).unwrap_or_default().to_owned(),
                    district: f.district.clone(),
                },
            )
            .await?,
        ),
        _ => Vec::new(),
    };
    let page = ScanPage {
        c: Chrome::maybe(lang, &session),
        firm_name: firm.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
        uscc: claims.uscc.clone(),
        grade_class: grade_class(claims.grade).to_owned(),
        grade_name: t.grade_name(claims.grade.as_str()).to_owned(),
        grade: claims.grade.to_string(),
        score: claims.score.clone(),
        carbon: claims
            .carbon_level
            .map(|level| (level, super::carbon::label(lang, level))),
        carbon_sentence: claims
            .carbon_level
            .and(record.carbon_trace.as_ref())
            .and_then(|trace| super::carbon::sentence(t, trace)),
        attested: claims
            .attested_share
            .map(|pct| t.get("attested_share").replace("{pct}", &pct.to_string())),
        chart: super::charts::indicators(
            t,
            score_of(|tr| Some(&tr.energy.score)),
            score_of(|tr| tr.waste.score.as_deref()),
            score_of(|tr| Some(&tr.certifications.score)),
            Some(&claims.score),
        ),
        period: claims.period,
        issued_on: date(claims.iat),
        valid_until: date(claims.exp),
        status_key: status_key(status.as_str()),
        status: status.as_str(),
        in_force,
        revoked_reason: record.code.revoked_reason.clone(),
        current,
        veto: trace.and_then(|tr| views::veto_note(t, tr)),
        indicators: trace
            .map(|tr| views::indicator_lines(t, tr, &industry))
            .unwrap_or_default(),
        legend: views::legend(t),
        finance_items: finance
            .map(|f| f.products.iter().map(name).collect())
            .unwrap_or_default(),
        rate_step: finance
            .and_then(|f| f.rate_step_bp)
            .map(|bp| views::rate_step_words(t, bp)),
        products,
        services: if in_force {
            result.services.iter().map(name).collect()
        } else {
            Vec::new()
        },
        serial: claims.serial,
    };
    if !anonymous {
        return Ok(render(&page));
    }
    let html = page.render().map_err(crate::error::AppError::internal)?;
    let kept = CachedPage {
        gzip: Bytes::from(gzipped(html.as_bytes())),
        html: Bytes::from(html),
    };
    state
        .caches
        .codes
        .put_page(&code, lang.code(), keys_id, shows, kept.clone());
    Ok(page_response(kept, gzip))
}

/// Whether the request takes a gzip body (`Accept-Encoding` names gzip without `q=0`).
fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// A kept page as a response: gzipped when the client takes it (the compression layer leaves a
/// body that has its encoding alone).
/// A kept scan page for an anonymous `GET /c/{code}` (see `web::fast`): `None` unless the
/// page is kept and fresh, the visitor not signed in, and gzip or no encoding asked.
pub(crate) fn kept_scan_response<B>(
    state: &AppState,
    request: &axum::http::Request<B>,
    code: &str,
) -> Option<axum::response::Response> {
    use axum::http::header;
    if code.is_empty()
        || !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return None;
    }
    let headers = request.headers();
    let signed_in = crate::web::auth::signed_in(headers);
    let gzip = accepts_gzip(headers);
    if signed_in || (headers.contains_key(header::ACCEPT_ENCODING) && !gzip) {
        return None;
    }
    let lang = Lang::of_request(request.uri(), headers);
    let keys = state.keys.current();
    let keys_id = std::sync::Arc::as_ptr(&keys) as usize;
    let (page, true) = state.caches.codes.page(code, lang.code(), keys_id)? else {
        return None;
    };
    Some(page_response(page, gzip))
}

fn page_response(page: CachedPage, gzip: bool) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut response = if gzip {
        let mut response = page.gzip.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        page.html.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[derive(Deserialize)]
struct FindQuery {
    #[serde(default)]
    code: Option<String>,
}

/// The scanner page (`/verify` without a code): the camera, a paste box and an image upload,
/// each code verified on the device against the kept key set and status list.
#[derive(Template)]
#[template(path = "verify.html")]
pub struct ScannerPage {
    pub c: Chrome,
    /// The page's words for its script, as JSON (`</` escaped).
    pub texts_json: String,
}

/// The words the scanner's script shows, by its own keys.
fn scanner_texts(t: &crate::web::i18n::Texts, max_age_seconds: u64) -> String {
    let mut map = serde_json::Map::new();
    for (key, text_key) in [
        ("uscc", "uscc"),
        ("grade", "grade"),
        ("score", "score"),
        ("period", "period"),
        ("valid_until", "valid_until"),
        ("carbon_level", "carbon_level"),
        ("attested_share", "attested_share"),
        ("col_attested", "col_attested"),
        ("firm", "firm"),
        ("col_verdict", "col_verdict"),
        ("col_time", "scanner_col_time"),
        ("age_now", "scanner_age_now"),
        ("age_minutes", "scanner_age_minutes"),
        ("age_hours", "scanner_age_hours"),
        ("age_days", "scanner_age_days"),
        ("list_age", "scanner_list_age"),
        ("list_old", "scanner_list_old"),
        ("no_keys", "scanner_no_keys"),
        ("no_list", "scanner_no_list"),
        ("no_camera", "scanner_no_camera"),
        ("no_ed25519", "scanner_no_ed25519"),
        ("compare_uscc", "scanner_compare_uscc"),
        ("checked_here", "scanner_checked_here"),
        ("checked_online", "scanner_checked_online"),
        ("v_valid", "scanner_v_valid"),
        ("v_expired", "status_expired"),
        ("v_superseded", "status_superseded"),
        ("v_revoked", "status_revoked"),
        ("v_forged", "scanner_v_forged"),
        ("v_not_yet_valid", "invalid_not_yet_valid"),
        ("v_unknown_status", "scanner_v_unknown_status"),
        ("v_online_needed", "scanner_v_online_needed"),
        ("r_malformed", "invalid_malformed"),
        ("r_unknown_key", "invalid_unknown_key"),
        ("r_bad_signature", "invalid_bad_signature"),
        ("r_key_compromised", "invalid_key_compromised"),
        ("r_unknown_status", "scanner_r_unknown_status"),
        ("r_no_code_found", "scanner_r_no_code_found"),
        ("r_no_keys", "scanner_no_keys"),
        ("r_algorithm", "scanner_r_algorithm"),
        ("r_no_ed25519", "scanner_no_ed25519"),
    ] {
        map.insert(key.into(), t.get(text_key).into());
    }
    for level in 1..=5u8 {
        map.insert(
            format!("carbon_{level}"),
            super::carbon::label(t.lang, level).into(),
        );
    }
    map.insert("max_age_seconds".into(), max_age_seconds.into());
    serde_json::Value::Object(map)
        .to_string()
        .replace("</", "<\\/")
}

/// The scanner's scripts: vendored jsQR (Apache-2.0, its licence beside it) and the project's
/// verifier and page script.
async fn scanner_script(Path(file): Path<String>) -> axum::response::Response {
    use axum::http::header;
    let (body, kind): (&'static str, &'static str) = match file.as_str() {
        "jsQR.js" => (
            include_str!("../../../templates/verify/jsQR.js"),
            "text/javascript; charset=utf-8",
        ),
        "verifier.js" => (
            include_str!("../../../templates/verify/verifier.js"),
            "text/javascript; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../../templates/verify/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "LICENSE-jsQR.txt" => (
            include_str!("../../../templates/verify/LICENSE-jsQR.txt"),
            "text/plain; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The names of the firms holding a code, by USCC: a code states its firm's USCC, not its name,
/// so the scanner keeps this list (public, like the scan page's name) to name a firm offline.
async fn firm_names(State(state): State<AppState>) -> PageResult {
    let firms = crate::service::firms::names_with_codes(&state.db).await?;
    let body = serde_json::json!({
        "updated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "firms": firms,
    });
    Ok((
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(body),
    )
        .into_response())
}

/// The scanner's service worker, served from the root so that its scope can be `/verify`.
async fn scanner_worker() -> axum::response::Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../../templates/verify/sw.js"),
    )
        .into_response()
}

/// The home page's box: a pasted URL or code goes to its scan page; `/verify` without one is
/// the scanner.
async fn find_code(
    State(state): State<AppState>,
    lang: Lang,
    session: MaybeSession,
    Query(query): Query<FindQuery>,
) -> PageResult {
    let Some(code) = query.code else {
        let page = ScannerPage {
            c: Chrome::maybe(lang, &session),
            texts_json: scanner_texts(lang.texts(), state.config.scanner_max_age_secs),
        };
        return Ok(render(&page));
    };
    let part = text::code_part(&code).to_owned();
    let is_code = text::decode(&part).is_ok_and(|bytes| crate::code::cose::decode(&bytes).is_ok());
    if is_code {
        return Ok(Redirect::to(&format!("/c/{}", part.to_ascii_uppercase())).into_response());
    }
    let page = HomePage {
        c: Chrome::maybe(lang, &session),
        pasted: code.chars().take(400).collect(),
        error: Some("home_not_a_code"),
    };
    Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
}

/// A code named by its serial (links from desks and feeds) opens its scan page.
async fn code_by_serial(State(state): State<AppState>, Path(serial): Path<String>) -> PageResult {
    let serial: i64 = serial
        .parse()
        .map_err(|_| crate::error::AppError::NotFound)?;
    let code = codes::find(&state.db, serial).await?;
    Ok(Redirect::to(&format!("/c/{}", text::encode(&code.cose))).into_response())
}
