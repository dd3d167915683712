//! Answers kept in memory, given before the middleware stack: a kept scan page (most scans)
//! and a kept log tile. Each carries what the stack would have added — the security headers, a
//! request id, the request counted in the metrics — so that it is the answer the whole way
//! gives, at about the cost of a static file server's. Anything else (a visitor signed in, a
//! language chosen with `?lang=`, an encoding the stack would apply, a page not kept or no
//! longer fresh, another path) takes the whole way.

use axum::http::{HeaderValue, Method, Request, header};
use axum::response::Response;

use super::AppState;

pub fn answer<B>(state: &AppState, request: &Request<B>) -> Option<Response> {
    let started = std::time::Instant::now();
    if request.method() != Method::GET || request.uri().query().is_some() {
        return None;
    }
    let path = request.uri().path();
    let (route, mut response) = if let Some(code) = path.strip_prefix("/c/") {
        let page = super::pages::kept_scan_response(state, request, code)?;
        ("/c/{code}", page)
    } else if let Some(tile) = path.strip_prefix("/log/tile/") {
        // The stack compresses tiles for a client that asks for it.
        if request.headers().contains_key(header::ACCEPT_ENCODING) {
            return None;
        }
        let mut kept = super::log::kept_tile_response(state, tile)?;
        // As the compression layer says of what it could compress.
        kept.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        ("/log/tile/{*path}", kept)
    } else {
        return None;
    };
    let headers = response.headers_mut();
    super::middleware::security_headers(headers, state.config.secure_cookies());
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-request-id", id);
    }
    super::metrics::count(route, "GET", response.status().as_u16(), started);
    Some(response)
}
