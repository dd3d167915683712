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
