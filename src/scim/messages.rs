//! SCIM's message shapes (RFC 7644 §3.4.2, §3.12): list pages, errors, and the
//! `attributes`/`excludedAttributes` projection of a resource.

use serde_json::{Map, Value, json};

use super::discovery::PAGE_MAX;
use super::filter;
use super::schema::{Found, Resource};

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The media type of SCIM messages; `application/json` is taken too.
pub const MEDIA_TYPE: &str = "application/scim+json";

/// SCIM's `scimType` for what was refused (RFC 7644 §3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidSyntax,
    InvalidPath,
    InvalidFilter,
    InvalidValue,
    NoTarget,
    Mutability,
    Uniqueness,
    TooMany,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::InvalidFilter => "invalidFilter",
            Self::InvalidValue => "invalidValue",
            Self::NoTarget => "noTarget",
            Self::Mutability => "mutability",
            Self::Uniqueness => "uniqueness",
            Self::TooMany => "tooMany",
        }
    }
}

/// An error body: `status` as a string, as the RFC writes it, and `scimType` when there is one.
pub fn error(status: u16, scim_type: Option<ScimType>, detail: &str) -> Value {
    let mut body = json!({"schemas": [ERROR], "status": status.to_string(), "detail": detail});
    if let Some(t) = scim_type {
        body["scimType"] = json!(t.as_str());
    }
    body
}

/// Which page of a list: `startIndex` counts from 1, `count` is at most [`PAGE_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based.
    pub start_index: usize,
    pub count: usize,
}

impl Page {
    /// As RFC 7644 §3.4.2.4 reads the parameters: a `startIndex` below 1 is 1, a negative
    /// `count` is 0, and a `count` above the most a page holds is that most. Absent: the
    /// first page of the most.
    pub fn new(start_index: Option<i64>, count: Option<i64>) -> Self {
        let start_index = start_index.unwrap_or(1).max(1);
        let count = count.unwrap_or(PAGE_MAX as i64).clamp(0, PAGE_MAX as i64);
        Page { start_index: usize::try_from(start_index).unwrap_or(usize::MAX), count: count as usize }
    }

    /// How many resources come before the page (the SQL `offset`).
    pub fn offset(self) -> usize {
        self.start_index.saturating_sub(1)
    }
}

/// A page of a list: `totalResults` counts every match, not the page.
pub fn list_response(resources: Vec<Value>, total_results: usize, page: Page) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total_results,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A comma-separated list of attribute paths, as `attributes` and `excludedAttributes` take
/// them. A path that does not read is an `invalidValue` error's detail.
pub fn attribute_list(list: &str) -> Result<Vec<filter::AttrPath>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let path = filter::parse_path(p).map_err(|e| format!("`{p}` is not an attribute path: {e}"))?;
            if path.filter.is_some() {
                return Err(format!("`{p}`: attribute lists take no filters."));
            }
            Ok(path.attr)
        })
        .collect()
}

/// `resource` with only the `attributes` asked for (when any are), less the
/// `excludedAttributes`; `schemas`, `id` and whatever is returned always stay. Names that
/// no schema of the resource defines select nothing.
pub fn project(
    resource: &Value,
    attributes: &[filter::AttrPath],
    excluded: &[filter::AttrPath],
    schema: &Resource,
) -> Value {
    let Some(object) = resource.as_object() else { return resource.clone() };
    let always = |uri: Option<&str>, name: &str| {
        name.eq_ignore_ascii_case("schemas")
            || matches!(schema.find(uri, name), Some(Found::Kept(_, a)) if a.always_returned)
    };
    let mut out = Map::new();
    for (key, value) in object {
        if let Some(extension) = schema.extension(key) {
            let Some(inner) = value.as_object() else { continue };
            let uri = Some(extension.id);
            let names: Map<String, Value> = inner
                .iter()
                .filter_map(|(name, v)| {
                    keep(schema.core.id, uri, name, v, attributes, excluded, &always).map(|v| (name.clone(), v))
                })
                .collect();
            let whole = attributes.iter().any(|p| names_extension(p, extension.id));
            let dropped = excluded.iter().any(|p| names_extension(p, extension.id));
            let kept = if whole && !dropped {
                Some(Value::Object(
                    inner
                        .iter()
                        .filter_map(|(name, v)| {
                            keep(schema.core.id, uri, name, v, &[], excluded, &always).map(|v| (name.clone(), v))
                        })
                        .collect(),
                ))
            } else if !names.is_empty() && !dropped {
                Some(Value::Object(names))
            } else {
                None
            };
            if let Some(kept) = kept.filter(|k| k.as_object().is_some_and(|o| !o.is_empty())) {
                out.insert(key.clone(), kept);
            }
            continue;
        }
        if let Some(v) = keep(schema.core.id, None, key, value, attributes, excluded, &always) {
            out.insert(key.clone(), v);
        }
    }
    Value::Object(out)
}

/// A path that names a whole extension: its URI alone, which reads as a URI ending in the
/// last part of the extension's name (`...:2.0:User` reads as URI `...:2.0`, name `User`).
fn names_extension(path: &filter::AttrPath, extension: &str) -> bool {
    path.sub.is_none()
        && path.uri.as_deref().is_some_and(|uri| format!("{uri}:{}", path.name).eq_ignore_ascii_case(extension))
}

/// Whether `path` is in the schema `uri` (`None`: the core, whose URI is `core`).
fn same_schema(path: &filter::AttrPath, uri: Option<&str>, core: &str) -> bool {
    match (&path.uri, uri) {
        (None, None) => true,
        (Some(p), Some(u)) => p.eq_ignore_ascii_case(u),
        (Some(p), None) => p.eq_ignore_ascii_case(core),
        (None, Some(_)) => false,
    }
}

/// What of attribute `name` (with `value`) in the schema `uri` stays.
fn keep(
    core: &str,
    uri: Option<&str>,
    name: &str,
    value: &Value,
    attributes: &[filter::AttrPath],
    excluded: &[filter::AttrPath],
    always: &dyn Fn(Option<&str>, &str) -> bool,
) -> Option<Value> {
    if always(uri, name) {
        return Some(value.clone());
    }
    let here = |p: &&filter::AttrPath| p.name.eq_ignore_ascii_case(name) && same_schema(p, uri, core);
    if excluded.iter().filter(here).any(|p| p.sub.is_none()) {
        return None;
    }
    let mut value = if attributes.is_empty() {
        value.clone()
    } else {
        let asked: Vec<&filter::AttrPath> = attributes.iter().filter(here).collect();
        if asked.is_empty() {
            return None;
        }
        if asked.iter().any(|p| p.sub.is_none()) {
            value.clone()
        } else {
            let subs: Vec<&str> = asked.iter().filter_map(|p| p.sub.as_deref()).collect();
            only_subs(value, |k| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))?
        }
    };
    let dropped: Vec<&str> = excluded.iter().filter(here).filter_map(|p| p.sub.as_deref()).collect();
    if !dropped.is_empty() {
        value = only_subs(&value, |k| !dropped.iter().any(|s| s.eq_ignore_ascii_case(k)))?;
    }
    Some(value)
}

/// The sub-attributes `wanted` of a complex value, or of each value of a multi-valued one;
/// `None` when nothing is left.
fn only_subs(value: &Value, wanted: impl Fn(&str) -> bool + Copy) -> Option<Value> {
    let pick = |v: &Value| -> Option<Value> {
        let o = v.as_object()?;
        let kept: Map<String, Value> =
            o.iter().filter(|(k, _)| wanted(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(pick).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        v => pick(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER, USERS};

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
            "id": "u1",
            "userName": "an@example.be",
            "name": {"givenName": "An", "familyName": "Peeters"},
            "emails": [{"value": "an@example.be", "type": "work"}, {"value": "an@home.example", "type": "home"}],
            "active": true,
            "meta": {"resourceType": "User", "version": "W/\"1\""},
            ENTERPRISE_USER: {"employeeNumber": "7", "department": "HR"}
        })
    }

    fn projected(attributes: &str, excluded: &str) -> Value {
        project(&user(), &attribute_list(attributes).unwrap(), &attribute_list(excluded).unwrap(), &USERS)
    }

    #[test]
    fn attributes_keep_what_is_asked_and_what_is_always_returned() {
        assert_eq!(
            projected("userName", ""),
            json!({"schemas": user()["schemas"], "id": "u1", "userName": "an@example.be"})
        );
        let p = projected("NAME.givenName, emails.value", "");
        assert_eq!(p["name"], json!({"givenName": "An"}));
        assert_eq!(p["emails"], json!([{"value": "an@example.be"}, {"value": "an@home.example"}]));
        assert!(p.get("active").is_none() && p.get("meta").is_none());
        let p = projected(&format!("{ENTERPRISE_USER}:department"), "");
        assert_eq!(p[ENTERPRISE_USER], json!({"department": "HR"}));
        let p = projected(ENTERPRISE_USER, "");
        assert_eq!(p[ENTERPRISE_USER], json!({"employeeNumber": "7", "department": "HR"}));
        assert!(p.get("userName").is_none());
        let p = projected("urn:ietf:params:scim:schemas:core:2.0:User:userName", "");
        assert_eq!(p["userName"], "an@example.be");
    }

    #[test]
    fn excluded_attributes_drop_all_but_what_is_always_returned() {
        let p = projected("", "emails, name.familyName, id");
        assert!(p.get("emails").is_none());
        assert_eq!(p["name"], json!({"givenName": "An"}));
        assert_eq!(p["id"], "u1", "id is returned always");
        let p = projected("", &format!("{ENTERPRISE_USER}:employeeNumber"));
        assert_eq!(p[ENTERPRISE_USER], json!({"department": "HR"}));
        let p = projected("", ENTERPRISE_USER);
        assert!(p.get(ENTERPRISE_USER).is_none());
        assert_eq!(projected("", "unknownThing"), user());
        // A name under another schema's URI is not the core's.
        assert_eq!(projected("", "urn:example:other:userName"), user());
    }

    #[test]
    fn attribute_lists_refuse_what_does_not_read() {
        assert!(attribute_list("emails[type eq \"work\"]").is_err());
        assert!(attribute_list("9x").is_err());
        assert_eq!(attribute_list(" userName , ,name.givenName").unwrap().len(), 2);
    }

    #[test]
    fn pages_count_from_one_and_hold_at_most_the_maximum() {
        assert_eq!(Page::new(None, None), Page { start_index: 1, count: PAGE_MAX });
        assert_eq!(Page::new(Some(0), Some(-5)), Page { start_index: 1, count: 0 });
        assert_eq!(Page::new(Some(11), Some(10_000)), Page { start_index: 11, count: PAGE_MAX });
        assert_eq!(Page::new(Some(11), Some(10)).offset(), 10);
        let body = list_response(vec![json!({"id": "a"})], 42, Page::new(Some(3), Some(1)));
        assert_eq!(body["totalResults"], 42);
        assert_eq!(body["startIndex"], 3);
        assert_eq!(body["itemsPerPage"], 1);
        assert_eq!(body["Resources"][0]["id"], "a");
    }

    #[test]
    fn errors_carry_the_status_as_a_string_and_the_scim_type() {
        let e = error(409, Some(ScimType::Uniqueness), "userName is taken");
        assert_eq!(
            e,
            json!({"schemas": [ERROR], "status": "409", "scimType": "uniqueness", "detail": "userName is taken"})
        );
        assert!(error(404, None, "x").get("scimType").is_none());
    }
}
