//! Extractors that parse at the boundary: JSON, query and path values whose rejections are
//! problem documents, and the typed path values (a USCC, a serial) — a malformed one names
//! nothing, so it is simply not found.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;

use crate::code::Serial;
use crate::error::AppError;
use crate::grading::Uscc;

/// `axum::Json` whose rejections (wrong content type, malformed or mistyped body, too large)
/// are problem documents naming what was wrong.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections are problem documents.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejections are problem documents.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// The one path parameter, parsed as `T`; a value that does not parse is 404.
async fn parsed<T: std::str::FromStr, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<T, AppError> {
    let axum::extract::Path(text) = axum::extract::Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound)?;
    text.parse().map_err(|_| AppError::NotFound)
}

/// The `{uscc}` of a path.
pub struct UsccPath(pub Uscc);

impl<S: Send + Sync> FromRequestParts<S> for UsccPath {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        parsed(parts, state).await.map(UsccPath)
    }
}

/// The `{serial}` of a path.
pub struct SerialPath(pub Serial);

impl<S: Send + Sync> FromRequestParts<S> for SerialPath {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        parsed(parts, state).await.map(SerialPath)
    }
}

/// Refuses a body whose Content-Type is not `expected` (415).
pub fn require_content_type(
    headers: &axum::http::HeaderMap,
    expected: &str,
) -> Result<(), AppError> {
    let given = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given.starts_with(expected) {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(format!(
            "expected Content-Type: {expected}"
        )))
    }
}

/// The client's address: the connection's peer, or — when the peer is a trusted reverse
/// proxy — the nearest address in `X-Forwarded-For` that is not one of the trusted proxies.
/// `None` when it cannot be told (a request made in-process).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr
where
    super::AppState: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = <super::AppState as axum::extract::FromRef<S>>::from_ref(state);
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(peer.map(|peer| {
            client_address(peer, &parts.headers, &state.config.trusted_proxies)
        })))
    }
}

/// Walks `X-Forwarded-For` from the nearest hop while the hop is a trusted proxy.
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use axum::http::HeaderMap;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let client: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.7".parse().unwrap(),
        );
        assert_eq!(client_address(proxy, &headers, &[proxy]), client);
        assert_eq!(
            client_address(proxy, &headers, &[]),
            proxy,
            "an untrusted peer is itself"
        );
        let spoofer: std::net::IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(client_address(spoofer, &headers, &[proxy]), spoofer);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
