//! The OpenAPI document: committed copy in step with the code, and complete.

use serde_json::Value;

fn generated() -> Value {
    serde_json::from_str(&vov::cli::openapi_json()).unwrap()
}

const REGENERATE: &str = "cargo run -- openapi --output openapi/openapi.json";

#[test]
fn the_committed_spec_is_what_the_code_generates() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .unwrap_or_else(|_| panic!("openapi/openapi.json is missing; run `{REGENERATE}`"));
    assert!(
        committed == vov::cli::openapi_json(),
        "openapi/openapi.json differs from what the code generates; review the change and run `{REGENERATE}`"
    );
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    ops
}

#[test]
fn the_spec_is_openapi_3_1_with_every_area_tagged() {
    let doc = generated();
    assert_eq!(doc["openapi"], "3.1.0");
    // One server: wherever the document was served from (lints require one).
    assert_eq!(doc["servers"][0]["url"], "/");
    // Every shared response is referred to (lints flag unused components).
    let text = doc["paths"].to_string();
    for name in doc["components"]["responses"].as_object().unwrap().keys() {
        assert!(text.contains(&format!("#/components/responses/{name}")), "{name} is never used");
    }
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for tag in [
        "Auth",
        "Stakeholders",
        "Learning events",
        "Informal learning",
        "Shared solutions",
        "Sync",
        "System",
        "Themes",
        "SCIM",
    ] {
        assert!(tags.contains(&tag), "missing tag {tag}");
    }
    for tag in doc["tags"].as_array().unwrap() {
        assert!(!tag["description"].as_str().unwrap_or_default().is_empty(), "{tag}");
    }
}

#[test]
fn every_operation_has_a_summary_description_id_tag_and_documented_errors() {
    let doc = generated();
    let ops = operations(&doc);
    assert!(ops.len() >= 10, "{}", ops.len());
    for (method, path, op) in ops {
        let name = format!("{method} {path}");
        for field in ["summary", "description", "operationId"] {
            assert!(!op[field].as_str().unwrap_or_default().is_empty(), "{name} has no {field}");
        }
        assert_eq!(op["tags"].as_array().map(Vec::len), Some(1), "{name} needs one tag");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("500"), "{name} does not document 500");
        let public = op["security"] == serde_json::json!([{}]);
        if !public {
            assert!(responses.contains_key("401"), "{name} does not document 401");
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let text = response.to_string();
                let problem = text.contains("#/components/responses/") || text.contains("#/components/schemas/Problem");
                let oauth = path.starts_with("/v1/auth/") && text.contains("OAuthError");
                let scim = path.starts_with("/scim/v2/") && text.contains("#/components/schemas/ScimErrorBody");
                assert!(
                    problem || oauth || scim,
                    "{name} {status} is neither a problem, an OAuth nor a SCIM error: {text}"
                );
            }
        }
        // A SCIM search changes nothing: a retry is a new search.
        if method == "POST" && !path.starts_with("/v1/auth/") && !path.ends_with("/.search") {
            let params = op["parameters"].to_string();
            assert!(params.contains("Idempotency-Key"), "{name} does not document Idempotency-Key");
        }
    }
}

/// Client generators drop an operation (openapi-python-client) or refuse the document
/// (openapi-generator) when a parameter is declared twice or a path's `{name}` is not
/// declared.
#[test]
fn every_parameter_is_declared_once_and_every_path_template_name_is_a_path_parameter() {
    let doc = generated();
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let declared: Vec<(String, String)> = params
            .iter()
            .map(|p| (p["in"].as_str().unwrap().to_string(), p["name"].as_str().unwrap().to_string()))
            .collect();
        for (i, d) in declared.iter().enumerate() {
            assert!(!declared[..i].contains(d), "{name} declares {d:?} twice");
        }
        let in_template: Vec<&str> =
            path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        let in_path: Vec<&str> = declared.iter().filter(|(at, _)| at == "path").map(|(_, n)| n.as_str()).collect();
        assert_eq!(in_path, in_template, "{name}: the path parameters and the template differ");
    }
}

/// Swagger UI fills a parameter's `example` into "Try it out": an optional filter with one
/// would make the first Execute answer a filtered list. Their examples are in the text.
#[test]
fn optional_filters_carry_no_example_to_pre_fill() {
    let doc = generated();
    for (method, path, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            if param["in"] == "query"
                && param["required"] != true
                && [
                    "q",
                    "theme",
                    "sector",
                    "starts_after",
                    "starts_before",
                    "ids",
                    "external_id",
                    "system",
                    "updated_after",
                    "include_former",
                ]
                .contains(&name)
            {
                assert!(
                    param.get("example").is_none() && param["schema"].get("example").is_none(),
                    "{method} {path} pre-fills {name}"
                );
                assert!(
                    param["description"].as_str().unwrap_or_default().contains('`'),
                    "{method} {path} {name} shows no example in its description"
                );
            }
        }
    }
}

/// The headers the service sends are in the document: `X-Request-Id` on every answer,
/// `Idempotent-Replayed` on the successes of operations that take an `Idempotency-Key`,
/// `Retry-After` on 409 and 503, `WWW-Authenticate` on 401, `ETag` on 412.
#[test]
fn every_header_the_service_sends_is_documented() {
    let doc = generated();
    let resolve = |response: &Value| -> Value {
        match response["$ref"].as_str() {
            Some(r) => doc.pointer(&r.replacen('#', "", 1)).cloned().unwrap(),
            None => response.clone(),
        }
    };
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let idempotent = op["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == "Idempotency-Key");
        for (status, response) in op["responses"].as_object().unwrap() {
            let headers = resolve(response)["headers"].clone();
            let has = |name: &str| headers.get(name).is_some();
            assert!(has("X-Request-Id"), "{method} {path} {status} lacks X-Request-Id");
            let expected: &[&str] = match status.as_str() {
                s if s.starts_with('2') && idempotent => &["Idempotent-Replayed"],
                "401" => &["WWW-Authenticate"],
                "409" | "503" => &["Retry-After"],
                "412" => &["ETag"],
                _ => &[],
            };
            for name in expected {
                assert!(has(name), "{method} {path} {status} lacks {name}");
            }
            let list =
                response["content"]["application/json"]["schema"]["$ref"].as_str().is_some_and(|r| r.ends_with("List"));
            if method == "GET" && status == "200" && list {
                assert!(has("ETag") && op["responses"].get("304").is_some(), "{method} {path}: a list's ETag and 304");
            }
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

/// The typed feed is strict enough to catch an entry whose content is not its type's view:
/// the feed helpers of the scenario tests check every page they read against it.
#[test]
fn a_feed_entry_must_carry_its_own_types_view() {
    let entry = |resource_type: &str, resource: Value| {
        serde_json::json!({"data": [{"type": resource_type, "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "version": 1,
            "operation": "update", "changed_at": "2026-11-27T09:00:00Z", "resource": resource}],
            "next_cursor": "x", "has_more": false})
    };
    let doc = generated();
    let person = doc["components"]["schemas"]["PersonView"]["example"].clone();
    crate::helpers::assert_conforms(&entry("person", person.clone()), "ChangesPage");
    crate::helpers::assert_conforms(&entry("membership", Value::Null), "ChangesPage");
    // Each type's own example is one.
    let mapping = doc["components"]["schemas"]["ChangeView"]["discriminator"]["mapping"].as_object().unwrap();
    for target in mapping.values() {
        let pointer = target.as_str().unwrap().trim_start_matches('#');
        crate::helpers::assert_conforms(&doc.pointer(pointer).unwrap()["example"], "ChangeView");
    }
    for wrong in [entry("event", person), entry("person", serde_json::json!({"id": 5})), entry("nothing", Value::Null)]
    {
        let caught = std::panic::catch_unwind(|| crate::helpers::assert_conforms(&wrong, "ChangesPage"));
        assert!(caught.is_err(), "{wrong}");
    }
}

/// Formats that generators know (OpenAPI and JSON Schema's), not serde-derived ones such
/// as `u-int16`.
#[test]
fn every_format_is_a_standard_one() {
    fn formats<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(f)), Some(_)) = (map.get("format"), map.get("type")) {
                    out.push(f);
                }
                map.values().for_each(|v| formats(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| formats(v, out)),
            _ => {}
        }
    }
    let doc = generated();
    let mut found = Vec::new();
    formats(&doc, &mut found);
    let known =
        ["int32", "int64", "double", "float", "date", "date-time", "uuid", "uri", "password", "email", "binary"];
    for f in found {
        assert!(known.contains(&f), "format {f} is not a standard one");
    }
}

#[test]
fn people_sign_in_from_swagger_ui_with_the_password_flow() {
    let doc = generated();
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    assert_eq!(flows["password"]["tokenUrl"], "/v1/auth/token");
    assert_eq!(flows["clientCredentials"]["tokenUrl"], "/v1/auth/token");
    assert!(flows["clientCredentials"]["scopes"]["people:read"].is_string());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[test]
fn schema_rules_match_the_domain_rules() {
    let doc = generated();
    let slug = &doc["components"]["schemas"]["NewTheme"]["properties"]["slug"];
    assert_eq!(slug["pattern"], vov::domain::theme::SLUG_PATTERN);
    assert_eq!(slug["maxLength"], vov::domain::theme::SLUG_MAX);
    assert_eq!(slug["minLength"], vov::domain::theme::SLUG_MIN);
    for schema in ["NewTheme", "ThemePatch"] {
        let properties = &doc["components"]["schemas"][schema]["properties"];
        for label in ["label_nl", "label_en"] {
            assert_eq!(properties[label]["maxLength"], vov::domain::theme::LABEL_MAX, "{schema}.{label}");
            assert_eq!(properties[label]["pattern"], vov::domain::validation::LINE_PATTERN, "{schema}.{label}");
        }
        let description = &properties["description"];
        assert_eq!(description["maxLength"], vov::domain::theme::DESCRIPTION_MAX, "{schema}");
        assert_eq!(description["pattern"], vov::domain::validation::TEXT_PATTERN, "{schema}");
    }
}

#[test]
fn every_e_mail_address_and_name_follows_the_servers_rules() {
    let doc = generated();
    let mut emails = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let request = ["NewPerson", "PersonPatch", "NewOrganisationPerson", "PersonRecord", "BatchItem"];
            if field == "email" && request.contains(&name.as_str()) {
                emails += 1;
                assert_eq!(property["pattern"], vov::domain::account::EMAIL_PATTERN, "{name}.email");
            }
            if field == "name"
                && [
                    "NewPerson",
                    "PersonPatch",
                    "NewOrganisationPerson",
                    "PersonRecord",
                    "BatchItem",
                    "NewOrganisation",
                    "OrganisationPatch",
                    "NewClient",
                ]
                .contains(&name.as_str())
            {
                assert_eq!(property["pattern"], vov::domain::validation::LINE_PATTERN, "{name}.name");
            }
        }
    }
    assert_eq!(emails, 5, "every request schema with an e-mail address is checked");
}

#[test]
fn every_q_parameter_refuses_what_the_server_refuses() {
    let doc = generated();
    let mut seen = 0;
    for (_, _, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["name"] == "q" {
                seen += 1;
                assert_eq!(param["schema"]["pattern"], vov::http::pagination::Q_PATTERN, "{param}");
                assert!(param["schema"]["maxLength"].is_number(), "{param}");
            }
        }
    }
    assert!(seen >= 1);
}

#[test]
fn request_and_response_bodies_carry_examples() {
    let doc = generated();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let has_example = schema.get("example").is_some()
            || schema.get("examples").is_some()
            || schema["properties"]
                .as_object()
                .is_some_and(|p| p.values().all(|f| f.get("example").is_some() || f.get("examples").is_some()));
        let is_enum = schema.get("enum").is_some();
        assert!(has_example || is_enum, "schema {name} has no example");
    }
}

/// A list's items are the resource's own schema, so generated clients have one class per
/// resource (an event from a list is an `EventView`).
#[test]
fn lists_are_named_after_their_resource_and_refer_to_its_schema() {
    let doc = generated();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(!doc.to_string().contains("ListResponse_"), "a generic list name is left");
    let lists: Vec<&String> = schemas.keys().filter(|k| k.ends_with("List")).collect();
    assert!(lists.len() >= 10, "{lists:?}");
    for name in lists {
        let items = &schemas[name]["properties"]["data"]["items"];
        let item = items["$ref"].as_str().unwrap_or_else(|| panic!("{name} copies its items: {items}"));
        let item = item.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.contains_key(item), "{name} refers to {item}");
        assert_eq!(schemas[name]["example"]["data"][0], schemas[item]["example"], "{name}");
    }
}
