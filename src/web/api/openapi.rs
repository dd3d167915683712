//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every API endpoint, written out
//! here (and checked against the router by the tests), with problem+json errors and bearer
//! authentication.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(show_openapi))
}

async fn show_openapi() -> Json<Value> {
    Json(document())
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut m) if m.get("type").is_some_and(Value::is_string) => {
            let t = m.remove("type").unwrap_or_default();
            m.insert("type".into(), json!([t, "null"]));
            Value::Object(m)
        }
        other => json!({"oneOf": [other, {"type": "null"}]}),
    }
}

fn string() -> Value {
    json!({"type": "string"})
}

fn integer() -> Value {
    json!({"type": "integer"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn object(required: &[&str], properties: Vec<(&str, Value)>) -> Value {
    let props: Map<String, Value> = properties
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    json!({"type": "object", "required": required, "properties": props})
}

/// A page of items: `{"items": [...], "next_cursor": string|null}`.
fn page(item: &str) -> Value {
    object(
        &["items", "next_cursor"],
        vec![
            ("items", array(r(item))),
            ("next_cursor", nullable(string())),
        ],
    )
}

fn problem(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": r("Problem")}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn csv_body() -> Value {
    json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}})
}

fn param(name: &str, place: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": place, "required": required, "schema": schema})
}

/// Who may call an operation: `None` for anyone, else the roles (with a bearer token).
struct Op<'a> {
    summary: &'a str,
    tag: &'a str,
    roles: Option<&'a str>,
    params: Vec<Value>,
    body: Option<Value>,
    responses: Vec<(&'a str, Value)>,
}

fn op(o: Op<'_>) -> Value {
    let mut responses: Map<String, Value> = o
        .responses
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    responses
        .entry("400")
        .or_insert_with(|| problem("The request is malformed"));
    responses
        .entry("422")
        .or_insert_with(|| problem("A field is invalid; `field` names it"));
    responses
        .entry("500")
        .or_insert_with(|| problem("The server could not complete the request"));
    let mut operation = json!({"summary": o.summary, "tags": [o.tag], "responses": responses});
    if let Some(roles) = o.roles {
        operation["security"] = json!([{"bearer": []}]);
        operation["description"] = json!(format!("Who may call it: {roles}."));
        responses_auth(&mut operation);
    } else {
        operation["security"] = json!([]);
    }
    if !o.params.is_empty() {
        operation["parameters"] = Value::Array(o.params);
    }
    if let Some(b) = o.body {
        operation["requestBody"] = b;
        operation["responses"]["413"] = problem("The body is too large");
        operation["responses"]["415"] = problem("The body's content type is not the one expected");
    }
    operation
}

fn responses_auth(operation: &mut Value) {
    operation["responses"]["401"] = problem("No valid bearer token");
    operation["responses"]["403"] = problem("The token's role may not call this");
}

fn uscc_path() -> Value {
    param(
        "uscc",
        "path",
        json!({"type": "string", "minLength": 1, "maxLength": 40}),
        true,
    )
}

fn id_path() -> Value {
    param(
        "id",
        "path",
        json!({"type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991i64}),
        true,
    )
}

fn serial_path() -> Value {
    param(
        "serial",
        "path",
        json!({"type": "string", "maxLength": 40}),
        true,
    )
}

fn paging() -> Vec<Value> {
    vec![
        param(
            "cursor",
            "query",
            json!({"type": "string", "maxLength": 40}),
            false,
        ),
        param(
            "limit",
            "query",
            json!({"type": "integer", "minimum": 1, "maximum": 500}),
            false,
        ),
    ]
}

fn not_found() -> (&'static str, Value) {
    ("404", problem("No such record (or not the caller's)"))
}

fn conflict(what: &str) -> (&'static str, Value) {
    ("409", problem(what))
}

pub fn document() -> Value {
    let mut paths = Map::new();
    let mut add = |path: &str, method: &str, operation: Value| {
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[method] = operation;
    };

    add(
        "/healthz",
        "get",
        op(Op {
            summary: "Health: 200 when the database answers",
            tag: "operations",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![
                ("200", ok("Healthy", r("Health"))),
                ("503", ok("The database does not answer", r("Health"))),
            ],
        }),
    );
    add(
        "/api/v1/login",
        "post",
        op(Op {
            summary: "Log in: a username and password for an API token",
            tag: "accounts",
            roles: None,
            params: vec![],
            body: Some(body(r("LoginRequest"))),
            responses: vec![
                ("200", ok("A token, shown once", r("LoginResponse"))),
                ("401", problem("Wrong username or password")),
                (
                    "429",
                    problem("Too many failed attempts for this username; see Retry-After"),
                ),
            ],
        }),
    );
    add(
        "/api/v1/me",
        "get",
        op(Op {
            summary: "The caller's account",
            tag: "accounts",
            roles: Some("any role"),
            params: vec![],
            body: None,
            responses: vec![("200", ok("The account", r("Me")))],
        }),
    );
    add(
        "/api/v1/accounts",
        "get",
        op(Op {
            summary: "All accounts",
            tag: "accounts",
            roles: Some("regulator"),
            params: vec![],
            body: None,
            responses: vec![("200", ok("Accounts", page("Account")))],
        }),
    );

    add(
        "/api/v1/firms",
        "post",
        op(Op {
            summary: "Create a firm (and optionally its first user)",
            tag: "firms",
            roles: Some("regulator"),
            params: vec![],
            body: Some(body(r("CreateFirmRequest"))),
            responses: vec![
                ("201", ok("Created", r("CreatedFirm"))),
                conflict("The USCC or username exists"),
            ],
        }),
    );
    let mut firm_filters = vec![
        param(
            "grade",
            "query",
            json!({"type": "string", "enum": ["A+", "A", "B", "C", "D", "none"]}),
            false,
        ),
        param(
            "division",
            "query",
            json!({"type": "string", "pattern": "^[0-9]{2}$"}),
            false,
        ),
        param(
            "district",
            "query",
            json!({"type": "string", "maxLength": 100}),
            false,
        ),
    ];
    firm_filters.extend(paging());
    add(
        "/api/v1/firms",
        "get",
        op(Op {
            summary: "Firms, filtered by current grade, division and district",
            tag: "firms",
            roles: Some("regulator"),
            params: firm_filters,
            body: None,
            responses: vec![("200", ok("A page of firms", page("FirmSummary")))],
        }),
    );
    add(
        "/api/v1/firms/{uscc}",
        "get",
        op(Op {
            summary: "A firm's public summary",
            tag: "firms",
            roles: None,
            params: vec![uscc_path()],
            body: None,
            responses: vec![("200", ok("The firm", r("FirmSummary"))), not_found()],
        }),
    );
    add(
        "/api/v1/firms/{uscc}/certifications",
        "post",
        op(Op {
            summary: "Declare (firm) or record verified (regulator) a certification",
            tag: "firms",
            roles: Some("the firm itself, regulator"),
            params: vec![uscc_path()],
            body: Some(body(r("CertificationRequest"))),
            responses: vec![("201", ok("Recorded", r("Certification"))), not_found()],
        }),
    );
    add(
        "/api/v1/firms/{uscc}/certifications",
        "get",
        op(Op {
            summary: "A firm's certifications",
            tag: "firms",
            roles: Some("the firm itself, regulator"),
            params: vec![uscc_path()],
            body: None,
            responses: vec![
                ("200", ok("Certifications", page("Certification"))),
                not_found(),
            ],
        }),
    );
    add(
        "/api/v1/firms/{uscc}/vetoes",
        "post",
        op(Op {
            summary: "Record a veto",
            tag: "firms",
            roles: Some("regulator"),
            params: vec![uscc_path()],
            body: Some(body(r("VetoRequest"))),
            responses: vec![("201", ok("Recorded", r("Veto"))), not_found()],
        }),
    );
    add(
        "/api/v1/firms/{uscc}/vetoes",
        "get",
        op(Op {
            summary: "A firm's vetoes",
            tag: "firms",
            roles: Some("the firm itself, regulator"),
            params: vec![uscc_path()],
            body: None,
            responses: vec![("200", ok("Vetoes", page("Veto"))), not_found()],
        }),
    );
    let mut cert_filters = vec![param(
        "status",
        "query",
        json!({"type": "string", "enum": ["declared", "verified", "revoked"]}),
        false,
    )];
    cert_filters.extend(paging());
    add(
        "/api/v1/certifications",
        "get",
        op(Op {
            summary: "Certifications by status (declared ones await verification)",
            tag: "firms",
            roles: Some("regulator"),
            params: cert_filters,
            body: None,
            responses: vec![("200", ok("A page", page("Certification")))],
        }),
    );
    add(
        "/api/v1/certifications/{id}/verify",
        "post",
        op(Op {
            summary: "Verify or revoke a certification",
            tag: "firms",
            roles: Some("regulator"),
            params: vec![id_path()],
            body: Some(body(r("ReviewRequest"))),
            responses: vec![
                ("200", ok("Reviewed", r("Certification"))),
                not_found(),
                conflict("Already verified or revoked"),
            ],
        }),
    );

    add(
        "/api/v1/assessments/preview",
        "post",
        op(Op {
            summary: "Grade yearly data without storing anything",
            tag: "assessments",
            roles: Some("firm (own), regulator"),
            params: vec![],
            body: Some(body(r("AssessmentRequest"))),
            responses: vec![
                ("200", ok("The trace and grade", r("Preview"))),
                not_found(),
            ],
        }),
    );
    add(
        "/api/v1/assessments",
        "post",
        op(Op {
            summary: "Submit yearly data for review",
            tag: "assessments",
            roles: Some("firm (own), regulator"),
            params: vec![],
            body: Some(body(r("AssessmentRequest"))),
            responses: vec![
                ("201", ok("Submitted", r("Assessment"))),
                not_found(),
                conflict("A submission for this firm and period is under review"),
            ],
        }),
    );
    let mut assessment_filters = vec![
        param(
            "status",
            "query",
            json!({"type": "string", "enum": ["submitted", "rejected", "approved"]}),
            false,
        ),
        param(
            "uscc",
            "query",
            json!({"type": "string", "maxLength": 40}),
            false,
        ),
        param(
            "period",
            "query",
            json!({"type": "integer", "minimum": 1990, "maximum": 2100}),
            false,
        ),
    ];
    assessment_filters.extend(paging());
    add(
        "/api/v1/assessments",
        "get",
        op(Op {
            summary: "Assessments (the review queue with status=submitted)",
            tag: "assessments",
            roles: Some("firm (own only), regulator"),
            params: assessment_filters,
            body: None,
            responses: vec![("200", ok("A page", page("Assessment")))],
        }),
    );
    add(
        "/api/v1/assessments/{id}",
        "get",
        op(Op {
            summary: "An assessment, its input and trace",
            tag: "assessments",
            roles: Some("owner firm, regulator"),
            params: vec![id_path()],
            body: None,
            responses: vec![("200", ok("The assessment", r("Assessment"))), not_found()],
        }),
    );
    add(
        "/api/v1/assessments/{id}/reject",
        "post",
        op(Op {
            summary: "Reject a submission with a reason",
            tag: "assessments",
            roles: Some("regulator"),
            params: vec![id_path()],
            body: Some(body(r("ReasonRequest"))),
            responses: vec![
                ("200", ok("Rejected", r("Assessment"))),
                not_found(),
                conflict("Not a submission under review"),
            ],
        }),
    );
    add(
        "/api/v1/assessments/{id}/approve",
        "post",
        op(Op {
            summary: "Approve: recompute, sign the code, record it in the log",
            tag: "assessments",
            roles: Some("regulator"),
            params: vec![id_path()],
            body: None,
            responses: vec![
                ("201", ok("The code issued", r("IssuedCode"))),
                not_found(),
                conflict("Not a submission under review, or no active key"),
            ],
        }),
    );
    add(
        "/api/v1/assessments/{id}/recompute",
        "post",
        op(Op {
            summary: "Recompute from the stored input and recorded versions",
            tag: "assessments",
            roles: Some("regulator"),
            params: vec![id_path()],
            body: None,
            responses: vec![
                ("200", ok("Both hashes and any difference", r("Recomputed"))),
                not_found(),
            ],
        }),
    );

    add(
        "/api/v1/import",
        "post",
        op(Op {
            summary: "Import many firms' yearly data (CSV), all or nothing",
            tag: "assessments",
            roles: Some("regulator"),
            params: vec![],
            body: Some(csv_body()),
            responses: vec![("201", ok("Imported", r("ImportReport")))],
        }),
    );
    add(
        "/api/v1/import/template.csv",
        "get",
        op(Op {
            summary: "The import template",
            tag: "assessments",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![(
                "200",
                json!({"description": "Header and an example row", "content": {"text/csv": {"schema": string()}}}),
            )],
        }),
    );

    let mut audit_filters = vec![
        param(
            "target_type",
            "query",
            json!({"type": "string", "maxLength": 40}),
            false,
        ),
        param(
            "target_id",
            "query",
            json!({"type": "string", "maxLength": 80}),
            false,
        ),
        param(
            "actor",
            "query",
            json!({"type": "string", "maxLength": 64}),
            false,
        ),
        param(
            "action",
            "query",
            json!({"type": "string", "maxLength": 64}),
            false,
        ),
        param("since", "query", time(), false),
        param("until", "query", time(), false),
    ];
    audit_filters.extend(paging());
    add(
        "/api/v1/audit/events",
        "get",
        op(Op {
            summary: "The audit trail",
            tag: "audit",
            roles: Some("regulator"),
            params: audit_filters,
            body: None,
            responses: vec![("200", ok("A page of events", page("AuditEvent")))],
        }),
    );

    add(
        "/api/v1/codes/{serial}",
        "get",
        op(Op {
            summary: "A code: claims, status, URL, firm",
            tag: "codes",
            roles: None,
            params: vec![serial_path()],
            body: None,
            responses: vec![("200", ok("The code", r("Code"))), not_found()],
        }),
    );
    add(
        "/api/v1/codes/{serial}/status",
        "get",
        op(Op {
            summary: "A code's status",
            tag: "codes",
            roles: None,
            params: vec![serial_path()],
            body: None,
            responses: vec![("200", ok("The status", r("CodeStatus"))), not_found()],
        }),
    );
    for (file, media) in [
        ("qr.png", "image/png"),
        ("qr.svg", "image/svg+xml"),
        ("badge.png", "image/png"),
        ("badge.svg", "image/svg+xml"),
    ] {
        add(
            &format!("/api/v1/codes/{{serial}}/{file}"),
            "get",
            op(Op {
                summary: "An image of the code (immutable, with a strong ETag)",
                tag: "codes",
                roles: None,
                params: vec![serial_path()],
                body: None,
                responses: vec![
                    (
                        "200",
                        json!({"description": "The image", "content": {media: {"schema": {"type": "string", "format": "binary"}}}}),
                    ),
                    ("304", json!({"description": "Not modified"})),
                    not_found(),
                ],
            }),
        );
    }
    add(
        "/api/v1/codes/{serial}/revoke",
        "post",
        op(Op {
            summary: "Revoke a code with a reason (a log entry)",
            tag: "codes",
            roles: Some("regulator"),
            params: vec![serial_path()],
            body: Some(body(r("ReasonRequest"))),
            responses: vec![
                ("200", ok("Revoked", r("RevokedCode"))),
                not_found(),
                conflict("Already revoked"),
            ],
        }),
    );

    add(
        "/api/v1/benchmarks",
        "post",
        op(Op {
            summary: "Publish a new benchmark table (CSV)",
            tag: "benchmarks",
            roles: Some("regulator"),
            params: vec![param(
                "version",
                "query",
                json!({"type": "string", "minLength": 1, "maxLength": 40}),
                true,
            )],
            body: Some(csv_body()),
            responses: vec![
                ("201", ok("Published", r("BenchmarkSet"))),
                conflict("The version exists"),
            ],
        }),
    );
    add(
        "/api/v1/benchmarks",
        "get",
        op(Op {
            summary: "Published versions",
            tag: "benchmarks",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![("200", ok("Versions", r("BenchmarkList")))],
        }),
    );
    add(
        "/api/v1/benchmarks/{version}",
        "get",
        op(Op {
            summary: "A published table",
            tag: "benchmarks",
            roles: None,
            params: vec![param(
                "version",
                "path",
                json!({"type": "string", "maxLength": 40}),
                true,
            )],
            body: None,
            responses: vec![("200", ok("The table", r("BenchmarkSet"))), not_found()],
        }),
    );

    add(
        "/api/v1/verify",
        "post",
        op(Op {
            summary: "Verify a code: verdict, claims, status, finance",
            tag: "banks",
            roles: None,
            params: vec![],
            body: Some(body(r("VerifyRequest"))),
            responses: vec![("200", ok("The verdict (valid or not)", r("VerifyResult")))],
        }),
    );
    add(
        "/api/v1/verify/bulk",
        "post",
        op(Op {
            summary: "Verify up to 1,000 codes, in order",
            tag: "banks",
            roles: Some("bank"),
            params: vec![],
            body: Some(body(r("BulkRequest"))),
            responses: vec![("200", ok("A verdict per code", r("BulkResponse")))],
        }),
    );
    add(
        "/api/v1/watchlist",
        "get",
        op(Op {
            summary: "The bank's watched firms",
            tag: "banks",
            roles: Some("bank"),
            params: vec![],
            body: None,
            responses: vec![("200", ok("Watched firms", page("WatchedFirm")))],
        }),
    );
    add(
        "/api/v1/watchlist/{uscc}",
        "put",
        op(Op {
            summary: "Watch a firm",
            tag: "banks",
            roles: Some("bank"),
            params: vec![uscc_path()],
            body: None,
            responses: vec![
                ("201", json!({"description": "Now watched"})),
                ("204", json!({"description": "Already watched"})),
                not_found(),
            ],
        }),
    );
    add(
        "/api/v1/watchlist/{uscc}",
        "delete",
        op(Op {
            summary: "Stop watching a firm",
            tag: "banks",
            roles: Some("bank"),
            params: vec![uscc_path()],
            body: None,
            responses: vec![
                ("204", json!({"description": "No longer watched"})),
                not_found(),
            ],
        }),
    );
    let mut change_params = vec![param("since", "query", time(), false)];
    change_params.extend(paging());
    add(
        "/api/v1/watchlist/changes",
        "get",
        op(Op {
            summary: "Issue, supersession and revocation events of watched firms, oldest first",
            tag: "banks",
            roles: Some("bank"),
            params: change_params,
            body: None,
            responses: vec![("200", ok("Events", page("ChangeEvent")))],
        }),
    );

    add(
        "/api/v1/appeals",
        "post",
        op(Op {
            summary: "Appeal against an issued grade",
            tag: "appeals",
            roles: Some("firm"),
            params: vec![],
            body: Some(body(r("AppealRequest"))),
            responses: vec![("201", ok("Raised", r("Appeal")))],
        }),
    );
    add(
        "/api/v1/appeals",
        "get",
        op(Op {
            summary: "Appeals (a firm's own; all for regulators)",
            tag: "appeals",
            roles: Some("firm, regulator"),
            params: vec![param(
                "status",
                "query",
                json!({"type": "string", "enum": ["open"]}),
                false,
            )],
            body: None,
            responses: vec![("200", ok("Appeals", page("Appeal")))],
        }),
    );
    add(
        "/api/v1/appeals/{id}/close",
        "post",
        op(Op {
            summary: "Close an appeal with a resolution",
            tag: "appeals",
            roles: Some("regulator"),
            params: vec![id_path()],
            body: Some(body(r("CloseRequest"))),
            responses: vec![
                ("200", ok("Closed", r("Appeal"))),
                not_found(),
                conflict("Already closed"),
            ],
        }),
    );

    add(
        "/api/v1/openapi.json",
        "get",
        op(Op {
            summary: "This document",
            tag: "operations",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![("200", ok("OpenAPI 3.1", json!({"type": "object"})))],
        }),
    );
    add(
        "/.well-known/gec/keys.json",
        "get",
        op(Op {
            summary: "The published key set, with the log's key",
            tag: "keys and log",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![("200", ok("Keys", r("KeySet")))],
        }),
    );
    add(
        "/.well-known/jwks.json",
        "get",
        op(Op {
            summary: "The code keys as a JWKS",
            tag: "keys and log",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![(
                "200",
                ok(
                    "JWKS",
                    object(&["keys"], vec![("keys", array(json!({"type": "object"})))]),
                ),
            )],
        }),
    );
    add(
        "/log/checkpoint",
        "get",
        op(Op {
            summary: "The latest signed checkpoint (C2SP signed note)",
            tag: "keys and log",
            roles: None,
            params: vec![],
            body: None,
            responses: vec![
                (
                    "200",
                    json!({"description": "The note", "content": {"text/plain": {"schema": string()}}}),
                ),
                not_found(),
            ],
        }),
    );
    add(
        "/log/entries/{index}",
        "get",
        op(Op {
            summary: "An entry's exact bytes",
            tag: "keys and log",
            roles: None,
            params: vec![param(
                "index",
                "path",
                json!({"type": "string", "maxLength": 40}),
                true,
            )],
            body: None,
            responses: vec![
                ("200", ok("The entry", json!({"type": "object"}))),
                not_found(),
            ],
        }),
    );
    add(
        "/log/proof/inclusion",
        "get",
        op(Op {
            summary: "An inclusion proof (RFC 9162)",
            tag: "keys and log",
            roles: None,
            params: vec![
                param(
                    "index",
                    "query",
                    json!({"type": "integer", "minimum": 0}),
                    true,
                ),
                param(
                    "size",
                    "query",
                    json!({"type": "integer", "minimum": 0}),
                    false,
                ),
            ],
            body: None,
            responses: vec![("200", ok("The proof", r("InclusionProof"))), not_found()],
        }),
    );
    add(
        "/log/proof/consistency",
        "get",
        op(Op {
            summary: "A consistency proof (RFC 9162)",
            tag: "keys and log",
            roles: None,
            params: vec![
                param(
                    "from",
                    "query",
                    json!({"type": "integer", "minimum": 0}),
                    true,
                ),
                param(
                    "to",
                    "query",
                    json!({"type": "integer", "minimum": 0}),
                    false,
                ),
            ],
            body: None,
            responses: vec![("200", ok("The proof", r("ConsistencyProof")))],
        }),
    );

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Green Efficiency Code (绿效码) API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Grades, signed codes and the transparency log. Errors are RFC 9457 problem documents with a machine-readable `code` and, for validation errors, the `field` at fault. Lists answer {items, next_cursor} and take ?cursor=&limit=.",
        },
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/login (gec_…)"}}, "schemas": schemas()},
    })
}

fn decimal() -> Value {
    json!({"oneOf": [{"type": "string"}, {"type": "number"}], "description": "A plain decimal, at most 6 decimals, at most 10^12"})
}

fn schemas() -> Value {
    let grade = json!({"type": "string", "enum": ["A+", "A", "B", "C", "D"]});
    let item = object(
        &["code", "name_zh", "name_en"],
        vec![
            ("code", string()),
            ("name_zh", string()),
            ("name_en", string()),
        ],
    );
    let finance = object(
        &["version", "eligible", "products"],
        vec![
            ("version", string()),
            ("eligible", boolean()),
            ("products", array(item.clone())),
            ("rate_step_bp", nullable(integer())),
        ],
    );
    json!({
        "Problem": object(&["type", "title", "status", "detail", "code"], vec![
            ("type", string()), ("title", string()), ("status", integer()), ("detail", string()), ("code", string()),
            ("field", string()), ("errors", array(json!({"type": "object"}))),
        ]),
        "Health": object(&["status", "database"], vec![("status", string()), ("database", string())]),
        "LoginRequest": object(&["username", "password"], vec![("username", string()), ("password", string())]),
        "LoginResponse": object(&["token", "role", "expires_at"], vec![("token", string()), ("role", string()), ("expires_at", time())]),
        "Me": object(&["username", "role"], vec![("username", string()), ("role", string()), ("firm_uscc", nullable(string()))]),
        "Account": object(&["id", "username", "role"], vec![("id", integer()), ("username", string()), ("role", string()),
            ("firm_uscc", nullable(string())), ("org", nullable(string())), ("created_at", time())]),
        "CreateFirmRequest": object(&["uscc", "name", "industry_code", "district"], vec![("uscc", string()), ("name", string()),
            ("industry_code", string()), ("district", string()), ("username", string()), ("password", string())]),
        "FirmSummary": object(&["uscc", "name", "industry_code", "division", "district"], vec![
            ("uscc", string()), ("name", string()), ("industry_code", string()), ("division", string()),
            ("division_name_zh", nullable(string())), ("division_name_en", nullable(string())), ("district", string()),
            ("grade", nullable(string())), ("score", nullable(string())), ("period", nullable(integer())), ("code_serial", nullable(integer())),
        ]),
        "CreatedFirm": object(&["uscc", "name"], vec![("uscc", string()), ("name", string()), ("account", nullable(r("Account")))]),
        "CertificationRequest": object(&["kind", "number", "issuer", "valid_from", "valid_until"], vec![
            ("kind", string()), ("number", string()), ("issuer", string()), ("valid_from", string()), ("valid_until", string()), ("evidence_note", nullable(string())),
        ]),
        "Certification": object(&["id", "uscc", "kind", "number", "status"], vec![
            ("id", integer()), ("uscc", string()), ("kind", string()), ("number", string()), ("issuer", string()), ("valid_from", string()),
            ("valid_until", string()), ("evidence_note", nullable(string())), ("verified", boolean()), ("revoked", boolean()),
            ("revoked_reason", nullable(string())), ("status", json!({"type": "string", "enum": ["declared", "verified", "revoked"]})),
        ]),
        "ReviewRequest": object(&[], vec![("verified", boolean()), ("revoked", boolean()), ("reason", string())]),
        "VetoRequest": object(&["kind", "occurred_on"], vec![("kind", string()), ("occurred_on", string()), ("note", nullable(string()))]),
        "Veto": object(&["id", "uscc", "kind", "occurred_on"], vec![("id", integer()), ("uscc", string()), ("kind", string()),
            ("occurred_on", string()), ("note", nullable(string()))]),
        "AssessmentRequest": object(&["period", "value_added_10k_cny", "energy", "waste"], vec![
            ("uscc", string()), ("period", integer()), ("assessed_on", string()), ("value_added_10k_cny", decimal()),
            ("energy", array(object(&["carrier", "quantity"], vec![("carrier", string()), ("quantity", decimal())]))),
            ("waste", object(&["generated_t", "stock_utilized_t", "utilized_t"], vec![("generated_t", decimal()), ("stock_utilized_t", decimal()), ("utilized_t", decimal())])),
        ]),
        "Assessment": object(&["id", "uscc", "period", "status", "input", "trace", "trace_hash", "score", "grade", "submitted_at"], vec![
            ("id", integer()), ("uscc", string()), ("firm_name", string()), ("period", integer()),
            ("status", json!({"type": "string", "enum": ["submitted", "rejected", "approved"]})), ("input", json!({"type": "object"})),
            ("trace", json!({"type": "object"})), ("trace_hash", string()), ("score", string()), ("grade", grade.clone()),
            ("methodology", string()), ("benchmarks", string()), ("submitted_at", time()), ("reviewed_at", nullable(time())),
            ("reject_reason", nullable(string())), ("code_serial", nullable(integer())),
        ]),
        "Preview": object(&["uscc", "trace", "trace_hash", "score", "grade"], vec![
            ("uscc", string()), ("input", json!({"type": "object"})), ("trace", json!({"type": "object"})), ("trace_hash", string()),
            ("score", string()), ("grade", grade.clone()), ("finance", finance.clone()), ("services", array(item.clone())),
        ]),
        "ReasonRequest": object(&["reason"], vec![("reason", string())]),
        "IssuedCode": object(&["serial", "url", "grade", "score", "exp"], vec![
            ("serial", integer()), ("url", string()), ("uscc", string()), ("grade", grade.clone()), ("score", string()), ("period", integer()),
            ("iat", integer()), ("exp", integer()), ("kid", string()), ("supersedes", nullable(integer())), ("assessment_id", integer()), ("trace_hash", string()),
        ]),
        "Recomputed": object(&["stored_hash", "recomputed_hash", "match"], vec![
            ("id", integer()), ("benchmarks", string()), ("stored_hash", string()), ("recomputed_hash", string()), ("match", boolean()),
            ("differences", array(object(&["path"], vec![("path", string())]))),
        ]),
        "ImportReport": object(&["rows", "firms_created", "assessment_ids"], vec![("rows", integer()), ("firms_created", integer()), ("assessment_ids", array(integer()))]),
        "AuditEvent": object(&["id", "at", "actor", "action", "target_type", "target_id"], vec![
            ("id", integer()), ("at", time()), ("actor", string()), ("actor_id", nullable(integer())), ("action", string()),
            ("target_type", string()), ("target_id", string()), ("before", json!({})), ("after", json!({})),
        ]),
        "Claims": object(&["iss", "sub", "exp", "iat", "grade", "score", "period", "methodology", "trace", "serial"], vec![
            ("iss", string()), ("sub", string()), ("exp", integer()), ("iat", integer()), ("grade", grade.clone()), ("score", integer()),
            ("period", integer()), ("methodology", string()), ("trace", string()), ("serial", integer()),
        ]),
        "Code": object(&["serial", "status", "url", "code", "claims", "firm"], vec![
            ("serial", integer()), ("status", string()), ("url", string()), ("code", string()), ("claims", r("Claims")),
            ("firm", object(&["uscc", "name"], vec![("uscc", string()), ("name", string())])), ("issued_at", time()), ("valid_until", time()),
            ("kid", string()), ("log_index", integer()), ("superseded_by", nullable(integer())), ("revoked_reason", nullable(string())), ("revoked_at", nullable(time())),
        ]),
        "CodeStatus": object(&["serial", "status"], vec![("serial", integer()),
            ("status", json!({"type": "string", "enum": ["active", "superseded", "revoked", "expired"]}))]),
        "RevokedCode": object(&["serial", "status", "reason", "log_index"], vec![("serial", integer()), ("status", string()), ("reason", string()), ("log_index", integer())]),
        "BenchmarkSet": object(&["version", "published_at", "in_force", "rows"], vec![("version", string()), ("published_at", time()), ("in_force", boolean()),
            ("rows", array(object(&["division"], vec![("division", string()), ("name_zh", string()), ("name_en", string())])))]),
        "BenchmarkList": object(&["items", "in_force"], vec![("items", array(object(&["version", "published_at"], vec![("version", string()), ("published_at", time())]))),
            ("in_force", string()), ("next_cursor", nullable(string()))]),
        "VerifyRequest": object(&["code"], vec![("code", string())]),
        "VerifyResult": object(&["valid", "reason", "status", "claims", "firm", "finance", "services"], vec![
            ("valid", boolean()), ("reason", nullable(string())), ("detail", nullable(string())), ("status", nullable(string())),
            ("claims", nullable(object(&["uscc", "grade", "score", "period", "methodology", "iat", "exp", "serial"], vec![
                ("uscc", string()), ("grade", grade.clone()), ("score", string()), ("period", integer()), ("methodology", string()),
                ("iat", time()), ("exp", time()), ("serial", integer())]))),
            ("firm", nullable(object(&["name"], vec![("name", string())]))), ("finance", nullable(finance)), ("services", array(item)),
        ]),
        "BulkRequest": object(&["codes"], vec![("codes", json!({"type": "array", "items": {"type": "string"}, "maxItems": 1000}))]),
        "BulkResponse": object(&["results"], vec![("results", array(r("VerifyResult")))]),
        "WatchedFirm": object(&["uscc", "name"], vec![("uscc", string()), ("name", string()), ("grade", nullable(string())),
            ("score", nullable(string())), ("code_serial", nullable(integer())), ("since", time())]),
        "ChangeEvent": object(&["uscc", "event", "serial", "grade", "at"], vec![
            ("uscc", string()), ("name", string()), ("event", json!({"type": "string", "enum": ["issued", "superseded", "revoked"]})),
            ("serial", integer()), ("grade", string()), ("score", string()), ("period", integer()), ("at", time()), ("log_index", integer()),
            ("superseded_by", nullable(integer())), ("reason", nullable(string())),
        ]),
        "AppealRequest": object(&["note"], vec![("note", string()), ("code_serial", nullable(integer()))]),
        "Appeal": object(&["id", "uscc", "note", "status"], vec![("id", integer()), ("uscc", string()), ("firm_name", string()),
            ("code_serial", nullable(integer())), ("note", string()), ("status", string()), ("created_at", time()), ("resolution", nullable(string()))]),
        "CloseRequest": object(&["resolution"], vec![("resolution", string())]),
        "KeySet": object(&["issuer", "keys"], vec![("issuer", string()), ("keys", array(object(&["kid", "kty", "crv", "alg", "x", "status", "not_before"], vec![
            ("kid", string()), ("kty", string()), ("crv", string()), ("alg", string()), ("x", string()),
            ("status", json!({"type": "string", "enum": ["active", "retired", "compromised"]})), ("not_before", time()),
            ("not_after", nullable(time())), ("compromised_at", nullable(time()))]))),
            ("log", object(&["origin", "key_name", "x"], vec![("origin", string()), ("key_name", string()), ("x", string())]))]),
        "InclusionProof": object(&["index", "size", "leaf_hash", "proof"], vec![("index", integer()), ("size", integer()), ("leaf_hash", string()), ("proof", array(string()))]),
        "ConsistencyProof": object(&["from", "to", "proof"], vec![("from", integer()), ("to", integer()), ("proof", array(string()))]),
    })
}
