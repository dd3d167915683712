//! Who is calling: extractors that resolve the bearer token (API) or the session cookie
//! (pages) and check the role, so that a handler states who may call it in its signature.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

use super::AppState;
use crate::error::AppError;
use crate::service::accounts::{self, Caller, Role};
use crate::store::tokens::Kind;

pub const SESSION_COOKIE: &str = "gec_session";
/// The device cookie: a client that signed in as a user keeps it, and it lets that client past
/// a lock-out of the username that strangers' guesses caused (`service::throttle`).
pub const DEVICE_COOKIE: &str = "gec_device";

/// Whether a request comes from someone signed in: a bearer token, or a cookie that names the
/// session (a cookie header that is not text counts as one: the answer is then kept private).
pub fn signed_in(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get_all(header::COOKIE)
            .iter()
            .any(|c| c.to_str().map_or(true, |c| c.contains(SESSION_COOKIE)))
}

/// The device token a client sent, if any.
pub fn device_of(jar: &CookieJar) -> Option<String> {
    jar.get(DEVICE_COOKIE).map(|c| c.value().to_owned())
}

/// The jar with the device cookie set (kept for the 90 days a device is remembered).
pub fn with_device(jar: CookieJar, token: String, secure: bool) -> CookieJar {
    use axum_extra::extract::cookie::{Cookie, SameSite};
    jar.add(
        Cookie::build((DEVICE_COOKIE, token))
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .max_age(cookie::time::Duration::days(90)),
    )
}

/// A set of roles allowed to call a handler.
pub trait Allowed: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

pub struct AnyRole;
pub struct Regulator;
pub struct Bank;
pub struct Firm;
pub struct FirmOrRegulator;
pub struct Provider;
pub struct ProviderFirmOrRegulator;
pub struct BankFirmOrRegulator;
pub struct Source;

impl Allowed for AnyRole {
    const ROLES: &'static [Role] = &[
        Role::Regulator,
        Role::Bank,
        Role::Firm,
        Role::Provider,
        Role::Source,
    ];
}
impl Allowed for Regulator {
    const ROLES: &'static [Role] = &[Role::Regulator];
}
impl Allowed for Bank {
    const ROLES: &'static [Role] = &[Role::Bank];
}
impl Allowed for Firm {
    const ROLES: &'static [Role] = &[Role::Firm];
}
impl Allowed for Provider {
    const ROLES: &'static [Role] = &[Role::Provider];
}
impl Allowed for ProviderFirmOrRegulator {
    const ROLES: &'static [Role] = &[Role::Provider, Role::Firm, Role::Regulator];
}
impl Allowed for BankFirmOrRegulator {
    const ROLES: &'static [Role] = &[Role::Bank, Role::Firm, Role::Regulator];
}
impl Allowed for Source {
    const ROLES: &'static [Role] = &[Role::Source];
}
impl Allowed for FirmOrRegulator {
    const ROLES: &'static [Role] = &[Role::Firm, Role::Regulator];
}

/// An API caller with a live bearer token whose role is in `R`; 401 without a valid token,
/// 403 with the wrong role.
pub struct Auth<R: Allowed = AnyRole> {
    pub caller: Caller,
    _roles: PhantomData<R>,
}

impl<R: Allowed> std::ops::Deref for Auth<R> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl<R: Allowed, S: Send + Sync> FromRequestParts<S> for Auth<R>
where
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let state = AppState::from_ref(state);
        let unauthorized = || {
            let mut response = AppError::Unauthorized.into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        };
        let token = bearer(parts).ok_or_else(unauthorized)?;
        let caller = accounts::resolve_credential(&state.db, Kind::Api, token)
            .await
            .map_err(IntoResponse::into_response)?
            .ok_or_else(unauthorized)?;
        if !R::ROLES.contains(&caller.role) {
            return Err(AppError::Forbidden.into_response());
        }
        Ok(Auth {
            caller,
            _roles: PhantomData,
        })
    }
}

/// A page visitor with a live session whose role is in `R`. Without a session the visitor is
/// sent to `/login` and brought back afterwards; with the wrong role, a 403 page.
pub struct PageAuth<R: Allowed = AnyRole> {
    pub caller: Caller,
    /// The raw session token, from which the CSRF token of this session's forms derives.
    pub session: String,
    _roles: PhantomData<R>,
}

impl<R: Allowed> std::ops::Deref for PageAuth<R> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<R: Allowed, S: Send + Sync> FromRequestParts<S> for PageAuth<R>
where
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let state = AppState::from_ref(state);
        let to_login = || {
            let target = parts
                .extensions
                .get::<OriginalUri>()
                .map(|u| u.0.path().to_owned())
                .unwrap_or_else(|| parts.uri.path().to_owned());
            let next: String = url_encode(&target);
            Redirect::to(&format!("/login?next={next}")).into_response()
        };
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(to_login());
        };
        let caller = accounts::resolve_credential(&state.db, Kind::Session, &session)
            .await
            .map_err(|e| super::page_error::PageError(e).into_response())?;
        let Some(caller) = caller else {
            return Err(to_login());
        };
        if !R::ROLES.contains(&caller.role) {
            return Err(super::page_error::PageError(AppError::Forbidden).into_response());
        }
        Ok(PageAuth {
            caller,
            session,
            _roles: PhantomData,
        })
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page visitor's session if there is a live one (pages anyone may open).
pub struct MaybeSession(pub Option<(Caller, String)>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Ok(MaybeSession(None));
        };
        let caller = accounts::resolve_credential(&state.db, Kind::Session, &session)
            .await
            .ok()
            .flatten();
        Ok(MaybeSession(caller.map(|c| (c, session))))
    }
}
