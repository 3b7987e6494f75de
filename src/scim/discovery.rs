//! What the service says of itself (RFC 7643 §5-7): `ServiceProviderConfig`, the resource
//! types and the schemas, all written from [`super::schema`], so that they describe exactly
//! what the service does.

use serde_json::{Value, json};

use super::schema::{Attribute, GROUPS, Mutability, Resource, Schema, Type, USERS};

pub const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The most resources one page of a list holds.
pub const PAGE_MAX: usize = 200;

/// What the service supports of the protocol. `base` is the SCIM base URL (`/scim/v2`).
pub fn service_provider_config(base: &str, documentation: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": documentation,
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": PAGE_MAX},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An access token of an integration client with the `scim` scope, sent as `Authorization: Bearer ...`.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

/// The resource types: `User` (with the enterprise extension) and `Group`.
pub fn resource_types(base: &str) -> Vec<Value> {
    [("User", "/Users", "People with a membership of the organisation.", &USERS), ("Group", "/Groups", "The organisation's teams and departments.", &GROUPS)]
        .into_iter()
        .map(|(name, endpoint, description, resource): (&str, &str, &str, &Resource)| {
            json!({
                "schemas": [RESOURCE_TYPE],
                "id": name,
                "name": name,
                "endpoint": endpoint,
                "description": description,
                "schema": resource.core.id,
                "schemaExtensions": resource.extensions.iter().map(|s| json!({"schema": s.id, "required": false})).collect::<Vec<_>>(),
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}")}
            })
        })
        .collect()
}

/// Every schema the resource types use, in their order.
pub fn schemas(base: &str) -> Vec<Value> {
    [&USERS, &GROUPS]
        .into_iter()
        .flat_map(|r| std::iter::once(r.core).chain(r.extensions.iter().copied()))
        .map(|s| schema(s, base))
        .collect()
}

fn schema(s: &Schema, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id)}
    })
}

fn attribute(a: &Attribute) -> Value {
    let mut out = json!({
        "name": a.name,
        "type": match a.kind {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::DateTime => "dateTime",
            Type::Reference => "reference",
            Type::Complex => "complex",
        },
        "multiValued": a.multi_valued,
        "description": a.description,
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": match a.mutability {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
        },
        "returned": if a.always_returned { "always" } else { "default" },
        "uniqueness": if a.unique { "server" } else { "none" },
    });
    if a.kind == Type::Reference {
        out["referenceTypes"] = json!(a.reference_types);
    }
    if a.kind == Type::Complex {
        out["subAttributes"] = json!(a.sub_attributes.iter().map(attribute).collect::<Vec<_>>());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_attribute(attrs: &[Value], out: &mut Vec<Value>) {
        for a in attrs {
            out.push(a.clone());
            if let Some(sub) = a["subAttributes"].as_array() {
                every_attribute(sub, out);
            }
        }
    }

    #[test]
    fn every_schema_a_resource_type_names_is_described() {
        let schemas = schemas("/scim/v2");
        let ids: Vec<&str> = schemas.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [super::super::schema::USER, super::super::schema::ENTERPRISE_USER, super::super::schema::GROUP]
        );
        for t in resource_types("/scim/v2") {
            assert!(ids.contains(&t["schema"].as_str().unwrap()), "{t}");
            for e in t["schemaExtensions"].as_array().unwrap() {
                assert!(ids.contains(&e["schema"].as_str().unwrap()), "{t}");
            }
        }
    }

    #[test]
    fn every_attribute_says_all_rfc_7643_asks_of_it() {
        for s in schemas("/scim/v2") {
            let mut attrs = Vec::new();
            every_attribute(s["attributes"].as_array().unwrap(), &mut attrs);
            for a in attrs {
                for key in [
                    "name",
                    "type",
                    "multiValued",
                    "description",
                    "required",
                    "caseExact",
                    "mutability",
                    "returned",
                    "uniqueness",
                ] {
                    assert!(!a[key].is_null(), "{key} of {a}");
                }
                assert!(!a["description"].as_str().unwrap().is_empty(), "{a}");
                assert_eq!(a["type"] == "complex", a["subAttributes"].is_array(), "{a}");
                if a["type"] == "reference" {
                    assert!(!a["referenceTypes"].as_array().unwrap().is_empty(), "{a}");
                }
            }
        }
    }

    #[test]
    fn the_config_promises_only_what_is_built() {
        let c = service_provider_config("/scim/v2", "https://example.org/docs");
        assert_eq!(c["patch"]["supported"], true);
        assert_eq!(c["bulk"]["supported"], false);
        assert_eq!(c["sort"]["supported"], false);
        assert_eq!(c["changePassword"]["supported"], false);
        assert_eq!(c["filter"]["maxResults"], PAGE_MAX);
        assert_eq!(c["meta"]["location"], "/scim/v2/ServiceProviderConfig");
    }
}
