//! CSRF protection for forms. A signed-in session's forms carry a token derived from the
//! session secret (so nothing extra is stored); the login form, which has no session yet,
//! uses a double-submit cookie.

use sha2::{Digest, Sha256};

pub const PRE_SESSION_COOKIE: &str = "gec_csrf";

/// The token a session's forms must carry: SHA-256 of a label and the session secret.
pub fn session_token(session: &str) -> String {
    hex::encode(Sha256::digest(format!("gec-csrf\n{session}").as_bytes()))
}

/// Compares in constant time, so the token cannot be guessed a byte at a time.
pub fn matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a form post comes from this site's own pages, as far as the browser says. A browser
/// that sends `Sec-Fetch-Site` (every current one) is believed: only `same-origin` (or `none`,
/// the user's own navigation) is this site. Without it, an `Origin` naming another host is
/// another site's post. `Origin: null` says nothing — a browser sends it for a page's own form
/// under `Referrer-Policy: no-referrer`, which these pages set — and a client that sends neither
/// (an old browser, a script) is judged by the token alone.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    use axum::http::header;
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match text(header::ORIGIN.as_str()) {
        None | Some("null") => true,
        Some(origin) => {
            let host = origin.split_once("://").map(|(_, rest)| rest);
            host.is_some() && host == text(header::HOST.as_str())
        }
    }
}

/// A page form whose `csrf` field must be the signed-in session's token: taking a form as
/// `CsrfForm<T>` is the only way a page handler reads one, so no POST route can forget the
/// check. `T` is the form's own fields (the `csrf` field is checked here and ignored there); a
/// wrong or missing token, or no session, is a 403 page.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T, S> axum::extract::FromRequest<S> for CsrfForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = super::page_error::PageError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        use super::page_error::PageError;
        use crate::error::AppError;
        if request
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|site| site == "cross-site")
        {
            return Err(PageError(AppError::Forbidden));
        }
        let session = axum_extra::extract::CookieJar::from_headers(request.headers())
            .get(super::auth::SESSION_COOKIE)
            .map(|c| c.value().to_owned());
        super::extract::require_content_type(
            request.headers(),
            "application/x-www-form-urlencoded",
        )?;
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| PageError(AppError::BadRequest(e.body_text())))?;
        let token: Token = serde_urlencoded::from_bytes(&body)
            .map_err(|e| PageError(AppError::BadRequest(e.to_string())))?;
        match session {
            Some(session) if matches(&session_token(&session), &token.csrf) => {}
            _ => return Err(PageError(AppError::Forbidden)),
        }
        let form = serde_urlencoded::from_bytes(&body)
            .map_err(|e| PageError(AppError::BadRequest(e.to_string())))?;
        Ok(CsrfForm(form))
    }
}
