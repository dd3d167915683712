//! Every middleware of the service, in one place, in the order a request meets them.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::AppState;
use crate::error::{PROBLEM_JSON, problem_response};

/// Bodies larger than this are refused with 413 before a handler reads them; routes that take
/// uploads (CSV, bulk verification) raise it for themselves.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Wraps the routes, outermost first:
///
/// 1. request id: every later layer and log line can name the request;
/// 2. trace: one span per request, carrying that id, with status and latency;
/// 3. propagate the id to the response, so a user can quote it;
/// 4. problem documents for API errors that a layer below produced without a body (405,
///    timeouts, panics), so every API error is problem+json;
/// 5. panic catcher: a bug answers 500 and the server lives on;
/// 6. security headers on every response (pages set nothing weaker);
/// 7. compression of what the handlers write;
/// 8. timeout: no request holds a connection and a database handle for ever;
/// 9. body limit, enforced while reading, so no handler buffers an oversized body;
/// 10. (per route, after routing) metrics by route pattern.
pub fn wrap(routes: Router<AppState>, https: bool) -> Router<AppState> {
    let request_id = HeaderName::from_static("x-request-id");
    let routes = routes.route_layer(middleware::from_fn(super::metrics::track));
    let routes = super::i18n::remember_language(routes);
    routes
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(problems_for_api_errors))
                .layer(middleware::from_fn(pages_for_page_errors))
                .layer(middleware::from_fn(private_when_signed_in))
                .option_layer(https.then(|| {
                    SetResponseHeaderLayer::overriding(
                        header::STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    )
                }))
                .layer(CatchPanicLayer::custom(answer_panic))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(CompressionLayer::new())
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
                .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT)),
        )
}

/// The security headers the stack sets on every response (layer 6), for a response answered
/// before it (the kept scan pages: `pages::kept_scan_response`).
pub(crate) fn security_headers(headers: &mut axum::http::HeaderMap, https: bool) {
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A response to a signed-in request (a session cookie or a bearer token), or one that sets a
/// cookie, is for that visitor alone: `Cache-Control: no-store`, unless the handler chose a
/// policy itself (the public images keep theirs).
async fn private_when_signed_in(request: Request, next: Next) -> Response {
    let signed_in = super::auth::signed_in(request.headers());
    let mut response = next.run(request).await;
    let sets_cookie = response.headers().contains_key(header::SET_COOKIE);
    if (signed_in || sets_cookie) && !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn not_found(request: Request) -> Response {
    if is_api(request.uri().path()) {
        problem_response(StatusCode::NOT_FOUND, "no such resource")
    } else {
        super::page_error::error_page(StatusCode::NOT_FOUND)
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/log/") || path.starts_with("/.well-known/")
}

/// Gives API errors that carry no body of their own (a 405 from the router, a 408 from the
/// timeout, a 500 from the panic catcher) a problem document.
async fn problems_for_api_errors(request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let bare = !response.headers().contains_key(header::CONTENT_TYPE)
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if api && (status.is_client_error() || status.is_server_error()) && bare {
        let detail = match status {
            StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this resource",
            StatusCode::REQUEST_TIMEOUT => "the request took too long",
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
            StatusCode::INTERNAL_SERVER_ERROR => "the server could not complete the request",
            _ => status.canonical_reason().unwrap_or("error"),
        };
        let mut problem = problem_response(status, detail);
        // Keep what still applies (Allow, Retry-After, WWW-Authenticate); never the old
        // body's encoding, length or type.
        for (name, value) in response.headers() {
            let about_the_body = [
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_ENCODING,
                header::TRANSFER_ENCODING,
                header::VARY,
            ];
            if !about_the_body.contains(name) {
                problem.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return problem;
    }
    response
}

/// Gives page errors a page in the visitor's language: those rendered where the language was
/// not at hand, and those a layer or extractor produced without a page (405, 413, a timeout, a
/// path that does not parse, a panic). Pages that answer an error with their own page (a form
/// shown again with its faults, the scan page of an invalid code) keep it.
async fn pages_for_page_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let page = !is_api(path) && path != "/healthz" && path != "/metrics";
    let lang = super::i18n::Lang::of_request(request.uri(), request.headers());
    let response = next.run(request).await;
    let status = response.status();
    if !page || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html
        && response
            .extensions()
            .get::<super::page_error::PageFault>()
            .is_none()
    {
        return response;
    }
    let mut page = super::page_error::localised_error_page(lang, status);
    for name in [
        header::ALLOW,
        header::RETRY_AFTER,
        header::SET_COOKIE,
        header::LOCATION,
    ] {
        for value in response.headers().get_all(&name) {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    page
}

fn answer_panic(cause: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic)");
    tracing::error!(panic = message, "handler panicked");
    let mut response = problem_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server could not complete the request",
    );
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}
