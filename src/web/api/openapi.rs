//! The OpenAPI 3.1 document, generated from the handlers themselves: every documented route is
//! registered through `utoipa_axum::routes!`, so the router and the document cannot drift.
//! What every operation shares (problem documents, bearer authentication) is added once here.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{PROBLEM_JSON, Problem};
use crate::web::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Green Efficiency Code (绿效码) API",
        description = "Grades, signed codes and the transparency log. Errors are RFC 9457 problem documents with a machine-readable `code` and, for validation errors, the `field` at fault. Lists answer {items, next_cursor} and take ?cursor=&limit=."
    ),
    components(schemas(Problem)),
    modifiers(&Shared)
)]
struct Base;

/// Adds what every operation shares: the bearer scheme, the problem responses each can give,
/// and an explicit empty `security` on the public ones.
struct Shared;

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

fn complete(operation: &mut Operation) {
    // An error a handler describes itself (`body = Problem`) is a problem document too.
    for (status, response) in &mut operation.responses.responses {
        if let (true, RefOr::T(response)) = (status.as_str() >= "400", response)
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM_JSON.to_owned(), content);
        }
    }
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    add("400", "The request is malformed");
    add("422", "A field is invalid; `field` names it");
    add("500", "The server could not complete the request");
    if operation.request_body.is_some() {
        add("413", "The body is too large");
        add("415", "The body's content type is not the one expected");
    }
    match &operation.security {
        Some(requirements) if !requirements.is_empty() => {
            add("401", "No valid bearer token");
            add("403", "The token's role may not call this");
        }
        _ => operation.security = Some(Vec::new()),
    }
}

impl Modify for Shared {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from POST /api/v1/login (gec_…)"))
                    .build(),
            ),
        );
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(crate::web::log::show_tile))]
struct TileDoc;

/// Every documented route of the service, with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Base::openapi())
        .merge(super::router())
        .merge(crate::web::log::router())
        .merge(crate::web::metrics::documented())
        .routes(routes!(show_openapi))
}

/// The finished document: the routes' own description plus what every operation shares.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, mut doc) = routes().split_for_parts();
        // The tiles' route takes several path segments (`{*path}`), which OpenAPI cannot
        // template: it is routed by `web::log::tiles` and described here.
        doc.merge(TileDoc::openapi());
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        for item in doc.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                complete(operation);
            }
        }
        doc
    })
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn show_openapi() -> Json<&'static Document> {
    Json(document())
}
