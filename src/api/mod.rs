//! The HTTP API: one module per resource, routes and OpenAPI document from one
//! registration (`utoipa-actix-web`), and the parts every operation shares in the spec.

pub mod auth;
pub mod challenges;
pub mod changes;
pub mod clients;
pub mod comments;
pub mod commitments;
pub mod events;
pub mod examples;
pub mod insights;
pub mod learning_records;
pub mod me;
pub mod organisations;
pub mod people;
pub mod privacy;
pub mod registrations;
pub mod scim;
pub mod solutions;
pub mod system;
pub mod themes;
pub mod webhooks;

use actix_web::App;
use actix_web::dev::HttpServiceFactory;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Required, Type};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, OpenApiFactory};

use crate::auth::rights::Scope;
use crate::error::{PROBLEM_JSON, Problem};
use crate::http::idempotency;

pub const TAG_AUTH: &str = "Auth";
pub const TAG_THEMES: &str = "Themes";
pub const TAG_SYSTEM: &str = "System";

/// The token endpoint, as the OAuth2 flows in the spec name it.
pub const TOKEN_URL: &str = "/v1/auth/token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "VOV learning-network API",
        description = include_str!("../../docs/api-description.md"),
        contact(name = "VOV lerend netwerk", url = "https://www.vov.be"),
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    tags(
        (name = "Auth", description = "Sign in and get tokens: the OAuth 2.0 token endpoint (password, client credentials, refresh token) and who you are."),
        (name = "Stakeholders", description = "The three stakeholder groups of lifelong learning (policy, employers, employees) as organisations, people and memberships, and the integration clients that sync them."),
        (name = "Learning events", description = "Inspiration sessions, workshops, learning networks, webinars, intervision and field visits: schedule, registrations with a waitlist that never overbooks, attendance, commitments, calendar feeds."),
        (name = "Informal learning", description = "A person's learning log: on the job, with peers, in the learning context; shared only by the person's choice."),
        (name = "Shared solutions", description = "Challenges stakeholders bring and the solutions they co-create: revisions, endorsements, comments, search."),
        (name = "Themes", description = "The network's curated taxonomy (lifelong learning, informal learning, careers at every age, ...) with Dutch and English labels. Anyone reads; facilitators curate."),
        (name = "Insights", description = "For policy: aggregated, anonymised figures on lifelong learning in the network (who learns, at what age, in which sectors), with disclosure control so that no figure is about fewer than `k` people; and each person's choice to be counted."),
        (name = "Sync", description = "For HR systems and partners: upserts by external reference, batches, and a change feed that never misses or repeats a change."),
        (name = "SCIM", description = "SCIM 2.0 (RFC 7643, RFC 7644) for identity providers (Entra ID, Okta, ...): an organisation's users and groups, provisioned with no code. One credential is one organisation: an integration client with the `scim` scope, by an access token or by the static SCIM token its admin makes (POST /v1/organisations/{id}/clients/{client_id}/scim-token). Answers and errors are `application/scim+json`; see the README, \"Connect your identity provider\"."),
        (name = "Webhooks", description = "The change feed pushed to an organisation's systems: subscriptions, signed deliveries (Standard Webhooks), retries for up to 3 days, a delivery log, test events and replay. A subscription receives exactly what the feed shows the organisation's integration clients; see the README, \"Receive webhooks\"."),
        (name = "System", description = "Liveness, readiness and Prometheus metrics for operators."),
    ),
    security(("oauth2" = []), ("bearer" = [])),
    components(schemas(Problem, webhooks::WebhookEvent, webhooks::WebhookTestEvent))
)]
struct ApiDoc;

/// Where the handlers are registered: utoipa's configuration, which also gathers every
/// operation's paths and schemas, when the OpenAPI document is built; actix's own in the
/// server's workers, which need no document (gathering it costs each worker some 20 MB for
/// a moment at start, decision 12).
pub trait Routes {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;
}

impl Routes for ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        ServiceConfig::service(self, factory)
    }
}

impl Routes for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory)
    }
}

/// Registers every documented route (the one list of the API's operations).
pub fn routes(cfg: &mut impl Routes) {
    system::routes(cfg);
    auth::routes(cfg);
    me::routes(cfg);
    organisations::routes(cfg);
    people::routes(cfg);
    clients::routes(cfg);
    changes::routes(cfg);
    themes::routes(cfg);
    events::routes(cfg);
    registrations::routes(cfg);
    commitments::routes(cfg);
    learning_records::routes(cfg);
    challenges::routes(cfg);
    solutions::routes(cfg);
    comments::routes(cfg);
    privacy::routes(cfg);
    insights::routes(cfg);
    scim::routes(cfg);
    webhooks::routes(cfg);
}

/// The OpenAPI document served at `/openapi.json`: `openapi/openapi.json`, built into the
/// binary. `tests/api/openapi.rs` fails when it differs from what the code generates
/// ([`openapi_json`]), so serving it is serving the code's document, without building the
/// document's model at start (decision 12).
pub static OPENAPI: &[u8] = include_bytes!("../../openapi/openapi.json");

/// `json` without the white space between its tokens (what `serde_json::to_vec` writes).
pub fn compact_json(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

/// The OpenAPI document built from the code: what `openapi/openapi.json` holds.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(|cfg| routes(cfg)).split_for_parts();
    finalize(doc)
}

/// The OpenAPI document as JSON, with what utoipa's model cannot express added: the
/// cross-field rule "a birth year or an age band, not both" (`not`), and the change feed's
/// entries typed by their `type` ([`changes::type_the_feed`]).
pub fn openapi_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(openapi()).expect("the OpenAPI document serialises");
    for name in ["NewPerson", "PersonPatch", "NewOrganisationPerson", "PersonRecord", "BatchItem"] {
        if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}")).and_then(|s| s.as_object_mut()) {
            schema.insert(
                "not".into(),
                serde_json::json!({
                    "description": "A birth year or an age band, not both.",
                    "required": ["birth_year", "age_band"],
                    "properties": {"birth_year": {"type": "integer"}, "age_band": {"type": "string"}}
                }),
            );
        }
    }
    changes::type_the_feed(&mut doc);
    webhooks::document_webhooks(&mut doc);
    examples::add_demo_examples(&mut doc);
    doc
}

/// The shared error responses, by status: component name, description, example detail.
const COMMON_RESPONSES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The request is malformed: bad JSON, a bad parameter or header.",
        "bad-request",
        "`limit` must be between 1 and 200 (got 500).",
    ),
    (
        "401",
        "Unauthorized",
        "No valid bearer token.",
        "unauthorized",
        "The access token is invalid or has expired; get a new one.",
    ),
    ("403", "Forbidden", "Authenticated, but not allowed to do this.", "forbidden", "This needs the facilitator role."),
    (
        "404",
        "NotFound",
        "No such resource, or not one the caller may know of; also when the body names one (then `errors` points at it).",
        "not-found",
        "No theme with this id.",
    ),
    (
        "409",
        "Conflict",
        "Conflicts with the current state, or a request with this Idempotency-Key is in progress.",
        "conflict",
        "A theme with slug `informal-learning` already exists.",
    ),
    (
        "412",
        "PreconditionFailed",
        "`If-Match` does not name the current version; `current_etag` says which is.",
        "precondition-failed",
        "If-Match does not name the current version; the current ETag is \"3\".",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than the limit (1 MiB by default).",
        "payload-too-large",
        "The request body is larger than 1048576 bytes.",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not in a supported media type.",
        "unsupported-media-type",
        "Send the body as JSON with `Content-Type: application/json`.",
    ),
    (
        "422",
        "Unprocessable",
        "The body breaks the rules (every field error is listed), or the Idempotency-Key was used for another request.",
        "validation",
        "`/label_nl` must be between 1 and 120 characters (got 0).",
    ),
    (
        "500",
        "InternalError",
        "Something went wrong on our side; quote the request id.",
        "internal",
        "Something went wrong on our side. Quote the request id when you report it.",
    ),
    (
        "503",
        "ServiceUnavailable",
        "The database is out of reach; retry shortly.",
        "unavailable",
        "The database is not reachable right now; retry shortly.",
    ),
];

fn problem_response(status: &str, description: &str, slug: &str, detail: &str) -> utoipa::openapi::Response {
    let example = serde_json::json!({
        "type": format!("{}{slug}", crate::error::PROBLEM_BASE),
        "title": description.split([':', ';', '.']).next().unwrap_or(description).trim(),
        "status": status.parse::<u16>().unwrap_or(500),
        "detail": detail,
        "instance": "/v1/themes",
        "request_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    });
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).example(Some(example)).build(),
        )
        .build();
    add_headers(&mut response, status, false);
    response
}

/// A list and a calendar answer with an `ETag` of their content and `304` for
/// `If-None-Match` ([`crate::http::pagination::respond_rendered`],
/// [`events::calendars`]): said on every operation whose `200` is a list (`ListResponse`)
/// or a calendar (`text/calendar`); a calendar also says `Last-Modified`.
fn conditional_get(op: &mut Operation) {
    let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else { return };
    let is_list = ok.content.get("application/json").is_some_and(|c| {
        matches!(c, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(s)) if s.ref_location.contains("ListResponse_")))
    });
    let is_calendar = ok.content.contains_key("text/calendar");
    let what = match (is_list, is_calendar) {
        (true, _) => "page",
        (_, true) => "calendar",
        _ => return,
    };
    ok.headers.insert(
        "ETag".into(),
        RefOr::T(header(&format!(
            "A tag of this {what}'s content; send it in `If-None-Match` to get `304` while it is the same."
        ))),
    );
    if is_calendar {
        ok.headers.insert(
            "Last-Modified".into(),
            RefOr::T(header(
                "When what the latest-changed event in it shows last changed (a seat taken is no change). \
                 Informative: an event that leaves the calendar does not move it, so ask with `If-None-Match`.",
            )),
        );
    }
    op.responses.responses.entry("304".into()).or_insert_with(|| {
        RefOr::T(
            ResponseBuilder::new()
                .description(format!("Not modified: the {what} is the same as the one `If-None-Match` names."))
                .build(),
        )
    });
    op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(format!("The `ETag` of the {what} you have: `304` while it is the same.")))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    ));
}

/// A header of type string, described.
fn header(description: &str) -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// [`add_headers`] on each of `op`'s own responses (the shared ones have them already).
fn document_headers(op: &mut Operation, idempotent: bool) {
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            add_headers(response, status, idempotent);
        }
    }
}

/// The response headers every operation may carry that the handlers' own annotations do not
/// state, as shared components: (component, header name, description).
const COMMON_HEADERS: &[(&str, &str, &str)] = &[
    (
        "RequestId",
        "X-Request-Id",
        "This request's id, also in `request_id` of a problem and in every log line about it.",
    ),
    (
        "IdempotentReplayed",
        "Idempotent-Replayed",
        "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
    ),
    (
        "RetryAfterInFlight",
        "Retry-After",
        "Seconds to wait, when a request with this `Idempotency-Key` is still in progress.",
    ),
    ("RetryAfter", "Retry-After", "Seconds to wait before retrying."),
    ("WwwAuthenticate", "WWW-Authenticate", "`Bearer`, with the reason (RFC 6750)."),
    ("CurrentEtag", "ETag", "The current version, quoted."),
];

/// Refers a response of `status` to the headers the service sends with it: `X-Request-Id` on
/// every answer, `Idempotent-Replayed` on a replayed success, `Retry-After` when waiting
/// helps (a request in flight, an outage), `WWW-Authenticate` on 401, the current `ETag` on
/// 412. Headers a handler documents itself stay as they are.
fn add_headers(response: &mut utoipa::openapi::Response, status: &str, idempotent: bool) {
    let mut add = |component: &str| {
        let (_, name, _) = COMMON_HEADERS.iter().find(|(c, ..)| *c == component).expect("a common header");
        response
            .headers
            .entry((*name).to_string())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/headers/{component}"))));
    };
    add("RequestId");
    match status {
        s if s.starts_with('2') && idempotent => add("IdempotentReplayed"),
        "401" => add("WwwAuthenticate"),
        "409" => add("RetryAfterInFlight"),
        "412" => add("CurrentEtag"),
        "503" => add("RetryAfter"),
        _ => {}
    }
}

/// Refers `op` to the shared problem response for `status` unless it documents its own,
/// and notes the shared response as used.
fn add_response(op: &mut Operation, status: &str, used: &mut std::collections::BTreeSet<&'static str>) {
    if !op.responses.responses.contains_key(status)
        && let Some((_, name, ..)) = COMMON_RESPONSES.iter().find(|(s, ..)| *s == status)
    {
        op.responses.responses.insert(status.to_string(), RefOr::Ref(Ref::from_response_name(*name)));
        used.insert(name);
    }
}

fn idempotency_key_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the first response to this key is stored for 24 hours and replayed \
             (with `Idempotent-Replayed: true`) for the same request; the same key with another body \
             is a 422, and while the first request runs a retry gets 409. Use a fresh UUID per operation.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x21-\\x7e]+$")),
        ))
        .build()
}

/// Each list's schema under a resource name (`EventList`, not `ListResponse_EventView`), its
/// items a reference to the resource's own schema rather than a copy of it, so that
/// generated clients have one class per resource, lists included; its example is a page of
/// the resource's example.
fn named_lists(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    const GENERIC: &str = "ListResponse_";
    let mut value = serde_json::to_value(&doc).expect("the document is JSON");
    let schemas = value["components"]["schemas"].as_object_mut().expect("the document has schemas");
    let lists: Vec<String> = schemas.keys().filter(|k| k.starts_with(GENERIC)).cloned().collect();
    let mut renamed = Vec::new();
    for old in lists {
        let item = &old[GENERIC.len()..];
        if !schemas.contains_key(item) {
            continue;
        }
        let example = schemas[item].get("example").cloned();
        let mut schema = schemas.remove(&old).expect("listed above");
        schema["properties"]["data"]["items"] = serde_json::json!({"$ref": format!("#/components/schemas/{item}")});
        if let Some(example) = example {
            schema["example"] = serde_json::json!({"data": [example], "next_cursor": null});
        }
        let new = format!("{}List", item.strip_suffix("View").unwrap_or(item));
        assert!(!schemas.contains_key(&new), "two lists would be named {new}");
        schemas.insert(new.clone(), schema);
        renamed.push((format!("\"#/components/schemas/{old}\""), format!("\"#/components/schemas/{new}\"")));
    }
    let mut text = value.to_string();
    for (old, new) in renamed {
        text = text.replace(&old, &new);
    }
    serde_json::from_str(&text).expect("the document reads back")
}

/// Adds what every operation shares: the security schemes, the problem responses each
/// operation can give, and `Idempotency-Key` on POSTs.
fn finalize(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    let client_scopes = Scopes::from_iter(Scope::ALL.iter().map(|s| (s.as_str(), s.description())));
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::with_description(
            [
                Flow::Password(Password::with_refresh_url(TOKEN_URL, Scopes::new(), TOKEN_URL)),
                Flow::ClientCredentials(ClientCredentials::new(TOKEN_URL, client_scopes)),
            ],
            "Sign in through the token endpoint: people with the password grant (in Swagger UI: \
             Authorize, then your e-mail address and password; leave client_id empty), integration \
             clients with client credentials.",
        )),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("Paste an access token from POST /v1/auth/token."))
                .build(),
        ),
    );
    // Relative: the service's own address, wherever it is deployed (Swagger UI calls the
    // host it was loaded from).
    doc.servers = Some(vec![
        utoipa::openapi::server::ServerBuilder::new()
            .url("/")
            .description(Some("This service: the address this document was served from"))
            .build(),
    ]);
    let mut used = std::collections::BTreeSet::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            (actix_web::http::Method::GET, &mut item.get),
            (actix_web::http::Method::POST, &mut item.post),
            (actix_web::http::Method::PUT, &mut item.put),
            (actix_web::http::Method::PATCH, &mut item.patch),
            (actix_web::http::Method::DELETE, &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            // The OAuth endpoints answer RFC 6749 error bodies and document them themselves.
            if path.starts_with("/v1/auth/") {
                add_response(op, "500", &mut used);
                document_headers(op, false);
                continue;
            }
            // SCIM answers its own error schema, and documents its errors itself.
            if path.starts_with("/scim/") {
                let idempotent = idempotency::applies(&method, path);
                if idempotent {
                    op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(idempotency_key_parameter()));
                }
                scim::document_errors(op, idempotent);
                document_headers(op, idempotent);
                continue;
            }
            if idempotency::applies(&method, path) {
                op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(idempotency_key_parameter()));
                add_response(op, "409", &mut used);
                add_response(op, "422", &mut used);
            }
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_path_param = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
            let public = op
                .security
                .as_ref()
                .is_some_and(|s| s.len() == 1 && serde_json::to_value(&s[0]).is_ok_and(|v| v == serde_json::json!({})));
            if !params.is_empty() || op.request_body.is_some() {
                add_response(op, "400", &mut used);
            }
            if has_path_param {
                add_response(op, "404", &mut used);
            }
            if op.request_body.is_some() {
                add_response(op, "413", &mut used);
                add_response(op, "415", &mut used);
                add_response(op, "422", &mut used);
            }
            if !public {
                add_response(op, "401", &mut used);
            }
            if !path.starts_with("/health") && path != "/metrics" {
                add_response(op, "503", &mut used);
            }
            add_response(op, "500", &mut used);
            if method == actix_web::http::Method::GET {
                conditional_get(op);
            }
            document_headers(op, idempotency::applies(&method, path));
        }
    }
    let mut doc = named_lists(doc);
    // Only the shared responses some operation refers to (lints flag unused components).
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, name, description, slug, detail) in COMMON_RESPONSES.iter().filter(|(_, n, ..)| used.contains(n)) {
        components.responses.insert((*name).to_string(), RefOr::T(problem_response(status, description, slug, detail)));
    }
    for (component, _, description) in COMMON_HEADERS {
        components.headers.insert((*component).to_string(), RefOr::T(header(description)));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_json_drops_only_the_space_between_tokens() {
        // Keys in order, as `serde_json` writes them.
        let pretty = "{\n  \"a b\": [1, 2],\n  \"n\": null,\n  \"q\\\" \\\\\": \"x\\ty \\\\\"\n}\n";
        let value: serde_json::Value = serde_json::from_str(pretty).unwrap();
        assert_eq!(compact_json(pretty.as_bytes()), serde_json::to_vec(&value).unwrap());
    }
}
