//! SCIM PATCH (RFC 7644 §3.5.2) applied to a resource in its SCIM JSON form, by its schema.
//!
//! The result is a whole resource again, which the caller then checks and stores as it
//! would a replacement (`PUT`): PATCH has no rules of its own beyond reaching the values.
//! What real identity providers send is taken as they mean it:
//! - operation names in any case (`Replace`, `ADD`);
//! - booleans as strings in any case (`"False"`), for boolean attributes only;
//! - `add` and `replace` without a path whose keys are paths themselves
//!   (`"name.givenName"`, an extension attribute's full URI), or an extension's URI with
//!   an object of its attributes;
//! - `add` or `replace` at `emails[type eq "work"].value` when no value matches: the value
//!   is made, with what the filter requires (`type` = `work`), when the filter is only
//!   equalities;
//! - `remove` of a multi-valued attribute with a `value` listing the values to remove
//!   (`members` with `[{"value": id}]`) instead of a filter;
//! - read-only attributes sent with the value they already have (an `id` in a full object):
//!   ignored; with another value they are refused (`mutability`).
//!
//! Attributes RFC 7643 defines that this service does not keep are ignored; unknown names
//! are refused (`invalidPath`).

use serde_json::{Map, Value};

use super::filter::{self, AttrPath, PatchPath};
use super::schema::{Attribute, Found, Mutability, Resource, Type};

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The most operations one request may carry.
pub const OPERATIONS_MAX: usize = 1000;

/// An operation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

/// One operation, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

pub use super::messages::ScimType;

/// A refused request: always `400`, with its `scimType` and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Error {
    pub scim_type: ScimType,
    pub detail: String,
}

fn error(scim_type: ScimType, detail: impl Into<String>) -> Error {
    Error { scim_type, detail: detail.into() }
}

/// Reads a PatchOp request body.
pub fn operations(body: &Value) -> Result<Vec<Operation>, Error> {
    let syntax = |d: &str| error(ScimType::InvalidSyntax, d);
    let body = body.as_object().ok_or_else(|| syntax("The body is not a JSON object."))?;
    if let Some(schemas) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).map(|(_, v)| v) {
        let named = schemas
            .as_array()
            .is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP))));
        if !named {
            return Err(syntax("`schemas` must list `urn:ietf:params:scim:api:messages:2.0:PatchOp`."));
        }
    }
    let list = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| syntax("`Operations` must be an array of operations."))?;
    if list.is_empty() || list.len() > OPERATIONS_MAX {
        return Err(syntax(format!("`Operations` must hold 1 to {OPERATIONS_MAX} operations.").as_str()));
    }
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |d: &str| syntax(&format!("Operation {i}: {d}"));
            let item = item.as_object().ok_or_else(|| at("it is not an object."))?;
            let field = |name: &str| item.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
            let op = match field("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => Op::Add,
                Some("remove") => Op::Remove,
                Some("replace") => Op::Replace,
                _ => return Err(at("`op` must be `add`, `remove` or `replace`.")),
            };
            let path = match field("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(
                    filter::parse_path(p)
                        .map_err(|e| error(ScimType::InvalidPath, format!("Operation {i}: `path` {:?}: {e}", p)))?,
                ),
                Some(_) => return Err(at("`path` must be a string.")),
            };
            let value = field("value").cloned();
            match (op, &path, &value) {
                (Op::Remove, None, _) => {
                    Err(error(ScimType::NoTarget, format!("Operation {i}: `remove` needs a `path`.")))
                }
                (Op::Add | Op::Replace, _, None) => {
                    Err(error(ScimType::InvalidValue, format!("Operation {i}: `add` and `replace` need a `value`.")))
                }
                (Op::Add | Op::Replace, None, Some(v)) if !v.is_object() => Err(error(
                    ScimType::InvalidValue,
                    format!("Operation {i}: without a `path`, the `value` is an object of attributes."),
                )),
                _ => Ok(Operation { op, path, value }),
            }
        })
        .collect()
}

/// Applies `operations` in order to `resource`, all or none (on an error `resource` may be
/// half changed: apply to a copy).
pub fn apply(resource: &mut Value, operations: &[Operation], schema: &Resource) -> Result<(), Error> {
    for operation in operations {
        // A path that is an extension's URN names the extension's object as a whole.
        let whole = operation
            .path
            .as_ref()
            .filter(|p| p.filter.is_none() && p.sub.is_none() && p.attr.sub.is_none())
            .and_then(|p| p.attr.uri.as_ref().and_then(|uri| schema.extension(&format!("{uri}:{}", p.attr.name))));
        if let Some(extension) = whole {
            match (operation.op, &operation.value) {
                (Op::Remove, _) => {
                    if let Some(root) = resource.as_object_mut() {
                        root.retain(|k, _| !k.eq_ignore_ascii_case(extension.id));
                    }
                }
                (_, Some(value @ Value::Object(_))) => {
                    let wrapped = Operation {
                        op: operation.op,
                        path: None,
                        value: Some(Value::Object(Map::from_iter([(extension.id.to_string(), value.clone())]))),
                    };
                    apply(resource, std::slice::from_ref(&wrapped), schema)?;
                }
                _ => {
                    return Err(error(
                        ScimType::InvalidValue,
                        format!("`{}` takes an object of its attributes.", extension.id),
                    ));
                }
            }
            continue;
        }
        match (&operation.path, &operation.value) {
            (Some(path), value) => at_path(resource, operation.op, path, value.as_ref(), schema)?,
            (None, Some(Value::Object(members))) => {
                for (key, value) in members {
                    if key.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    if let (Some(extension), Value::Object(inner)) = (schema.extension(key), value) {
                        for (name, value) in inner {
                            if name.eq_ignore_ascii_case("schemas") {
                                continue;
                            }
                            let attr = AttrPath { uri: Some(extension.id.to_string()), name: name.clone(), sub: None };
                            let path = PatchPath { attr, filter: None, sub: None };
                            at_path(resource, operation.op, &path, Some(value), schema)?;
                        }
                        continue;
                    }
                    let path = filter::parse_path(key)
                        .map_err(|e| error(ScimType::InvalidPath, format!("`{key}` is not an attribute path: {e}")))?;
                    at_path(resource, operation.op, &path, Some(value), schema)?;
                }
            }
            (None, _) => {
                return Err(error(ScimType::InvalidValue, "Without a `path`, the `value` is an object of attributes."));
            }
        }
    }
    Ok(())
}

/// The holder of an attribute: the resource, or its extension's object (made when `create`).
fn holder<'a>(resource: &'a mut Value, uri: Option<&str>, create: bool) -> Option<&'a mut Map<String, Value>> {
    let root = resource.as_object_mut()?;
    let Some(uri) = uri else { return Some(root) };
    let key = root.keys().find(|k| k.eq_ignore_ascii_case(uri)).cloned();
    let key = match key {
        Some(k) => k,
        None if create => {
            root.insert(uri.to_string(), Value::Object(Map::new()));
            uri.to_string()
        }
        None => return None,
    };
    root.get_mut(&key)?.as_object_mut()
}

/// `map`'s key for `name`, ignoring case, renamed to `canonical` if written otherwise.
fn canonical_key(map: &mut Map<String, Value>, canonical: &str) {
    if let Some(k) = map.keys().find(|k| k.eq_ignore_ascii_case(canonical) && *k != canonical).cloned()
        && let Some(v) = map.remove(&k)
    {
        map.insert(canonical.to_string(), v);
    }
}

fn at_path(
    resource: &mut Value,
    op: Op,
    path: &PatchPath,
    value: Option<&Value>,
    schema: &Resource,
) -> Result<(), Error> {
    let written = path_text(path);
    let (uri, attr) = match schema.find(path.attr.uri.as_deref(), &path.attr.name) {
        Some(Found::Kept(uri, attr)) => (uri, attr),
        Some(Found::Ignored) => return Ok(()),
        None => return Err(error(ScimType::InvalidPath, format!("`{written}` names no attribute of this resource."))),
    };
    // The sub-attribute the path reaches, after a dot or after a value filter.
    let sub_name = path.attr.sub.as_deref().or(path.sub.as_deref());
    let sub = match sub_name {
        Some(name) if attr.sub(name).is_none() && attr.ignores(name) => return Ok(()),
        Some(name) => Some(attr.sub(name).ok_or_else(|| {
            error(ScimType::InvalidPath, format!("`{written}`: `{}` has no sub-attribute `{name}`.", attr.name))
        })?),
        None => None,
    };
    if path.filter.is_some() && !attr.multi_valued {
        return Err(error(
            ScimType::InvalidPath,
            format!("`{written}`: only a multi-valued attribute takes a filter."),
        ));
    }
    let target = sub.unwrap_or(attr);
    if attr.mutability == Mutability::ReadOnly || target.mutability == Mutability::ReadOnly {
        let current = current_value(resource, uri, attr, sub);
        if op != Op::Remove && path.filter.is_none() && current.as_ref() == value {
            return Ok(());
        }
        return Err(error(ScimType::Mutability, format!("`{written}` is read-only.")));
    }
    let unassigns = op == Op::Remove || value.is_some_and(Value::is_null);
    if unassigns && sub.is_none() && path.filter.is_none() && attr.required {
        return Err(error(ScimType::Mutability, format!("`{written}` is required: it can be replaced, not removed.")));
    }
    let create = op != Op::Remove;
    let Some(holder) = holder(resource, uri, create) else { return Ok(()) };
    canonical_key(holder, attr.name);
    let key = attr.name;
    let attr_path = AttrPath { uri: uri.map(str::to_string), name: attr.name.to_string(), sub: None };

    match (&path.filter, sub) {
        // The whole attribute.
        (None, None) => match op {
            Op::Remove => match value {
                Some(listed) if attr.multi_valued && !is_empty(listed) => {
                    let listed = as_list(listed);
                    if let Some(Value::Array(items)) = holder.get_mut(key) {
                        items.retain(|item| !listed.iter().any(|l| same_value(item, l, attr)));
                    }
                }
                _ => {
                    holder.remove(key);
                }
            },
            Op::Add | Op::Replace => {
                let value = value.ok_or_else(no_value)?;
                if value.is_null() {
                    holder.remove(key);
                } else if attr.multi_valued {
                    let new =
                        as_list(value).iter().map(|v| coerce(v, attr, &written)).collect::<Result<Vec<_>, _>>()?;
                    let items = match holder.remove(key) {
                        Some(Value::Array(items)) if op == Op::Add => items,
                        _ => Vec::new(),
                    };
                    holder.insert(key.to_string(), Value::Array(merge_values(items, new, attr)));
                } else if attr.kind == Type::Complex {
                    let new = coerce(value, attr, &written)?;
                    let merged = match (holder.remove(key), new) {
                        (Some(Value::Object(mut old)), Value::Object(new)) => {
                            merge_into(&mut old, new);
                            Value::Object(old)
                        }
                        (_, new) => without_nulls(new),
                    };
                    holder.insert(key.to_string(), merged);
                } else {
                    holder.insert(key.to_string(), coerce(value, attr, &written)?);
                }
            }
        },
        // A sub-attribute of a complex attribute, or of every value of a multi-valued one.
        (None, Some(sub)) => {
            let new = match (op, value) {
                (Op::Remove, _) | (_, Some(Value::Null)) => None,
                (_, Some(v)) => Some(coerce(v, sub, &written)?),
                (_, None) => None,
            };
            match holder.get_mut(key) {
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        set_sub(item, sub.name, new.clone());
                    }
                    // `emails.primary` = true on every value: the first one stays primary.
                    if !items.is_empty() {
                        one_primary(items, 0);
                    }
                }
                Some(Value::Object(object)) => set_sub(object, sub.name, new),
                _ => {
                    if let Some(new) = new {
                        let mut object = Map::new();
                        object.insert(sub.name.to_string(), new);
                        let made = Value::Object(object);
                        holder.insert(key.to_string(), if attr.multi_valued { Value::Array(vec![made]) } else { made });
                    }
                }
            }
        }
        // The values a filter selects, or a sub-attribute of them.
        (Some(selector), sub) => {
            let mut items = match holder.remove(key) {
                Some(Value::Array(items)) => items,
                Some(other) => vec![other],
                None => Vec::new(),
            };
            let matching: Vec<usize> =
                (0..items.len()).filter(|&i| selector.matches_value(&items[i], &attr_path, schema)).collect();
            let result = (|| -> Result<(), Error> {
                match op {
                    Op::Remove => {
                        if let Some(sub) = sub {
                            for &i in &matching {
                                if let Some(item) = items[i].as_object_mut() {
                                    set_sub(item, sub.name, None);
                                }
                            }
                        } else {
                            let mut i = 0;
                            items.retain(|_| {
                                i += 1;
                                !matching.contains(&(i - 1))
                            });
                        }
                    }
                    Op::Add | Op::Replace => {
                        let value = value.ok_or_else(no_value)?;
                        let new = match sub {
                            Some(sub) if !value.is_null() => Some(coerce(value, sub, &written)?),
                            Some(_) => None,
                            None => Some(coerce(value, attr, &written)?),
                        };
                        if matching.is_empty() {
                            // Made for the filter, as identity providers expect.
                            let pairs = selector.equalities().ok_or_else(|| {
                                error(ScimType::NoTarget, format!("`{written}`: no value matches the filter."))
                            })?;
                            let mut made = Map::new();
                            for (name, v) in pairs {
                                let sub_attr = attr.sub(name).ok_or_else(|| {
                                    error(
                                        ScimType::InvalidFilter,
                                        format!("`{written}`: `{}` has no sub-attribute `{name}`.", attr.name),
                                    )
                                })?;
                                made.insert(sub_attr.name.to_string(), Value::String(v.to_string()));
                            }
                            match (sub, new) {
                                (Some(sub), Some(new)) => {
                                    made.insert(sub.name.to_string(), new);
                                }
                                (None, Some(Value::Object(new))) => merge_into(&mut made, new),
                                _ => return Ok(()),
                            }
                            items.push(Value::Object(made));
                            let last = items.len() - 1;
                            one_primary(&mut items, last);
                        } else {
                            for &i in &matching {
                                match (sub, &new) {
                                    (Some(sub), new) => {
                                        if let Some(item) = items[i].as_object_mut() {
                                            set_sub(item, sub.name, new.clone());
                                        }
                                    }
                                    (None, Some(new)) => items[i] = without_nulls(new.clone()),
                                    (None, None) => {}
                                }
                            }
                            if let Some(&i) = matching.iter().find(|&&i| is_primary(&items[i])) {
                                one_primary(&mut items, i);
                            }
                        }
                    }
                }
                Ok(())
            })();
            if !items.is_empty() {
                holder.insert(key.to_string(), Value::Array(items));
            }
            result?;
        }
    }
    tidy(resource, uri);
    Ok(())
}

fn path_text(path: &PatchPath) -> String {
    let mut text = String::new();
    if let Some(uri) = &path.attr.uri {
        text.push_str(uri);
        text.push(':');
    }
    text.push_str(&path.attr.name);
    if let Some(sub) = &path.attr.sub {
        text.push('.');
        text.push_str(sub);
    }
    if path.filter.is_some() {
        text.push_str("[...]");
    }
    if let Some(sub) = &path.sub {
        text.push('.');
        text.push_str(sub);
    }
    text
}

/// What the resource holds at `attr` (and `sub`), for comparing a read-only value sent.
fn current_value(resource: &mut Value, uri: Option<&str>, attr: &Attribute, sub: Option<&Attribute>) -> Option<Value> {
    let holder = holder(resource, uri, false)?;
    let value = holder.iter().find(|(k, _)| k.eq_ignore_ascii_case(attr.name)).map(|(_, v)| v)?;
    match sub {
        Some(sub) => filter::member(value, sub.name).cloned(),
        None => Some(value.clone()),
    }
}

fn set_sub(item: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    canonical_key(item, name);
    match value {
        Some(v) => {
            item.insert(name.to_string(), v);
        }
        None => {
            item.remove(name);
        }
    }
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        v => vec![v.clone()],
    }
}

/// `value` checked against `attr`'s type, with its keys named as the schema names them.
fn coerce(value: &Value, attr: &Attribute, written: &str) -> Result<Value, Error> {
    let wrong = |what: &str| error(ScimType::InvalidValue, format!("`{written}`: `{}` takes {what}.", attr.name));
    Ok(match attr.kind {
        Type::Boolean => match value {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(wrong("true or false")),
        },
        Type::String | Type::DateTime | Type::Reference => match value {
            Value::String(_) => value.clone(),
            _ => return Err(wrong("a string")),
        },
        Type::Complex => match value {
            Value::Object(members) => {
                let mut out = Map::new();
                for (k, v) in members {
                    if attr.sub(k).is_none() && attr.ignores(k) {
                        continue;
                    }
                    let sub = attr.sub(k).ok_or_else(|| {
                        error(
                            ScimType::InvalidValue,
                            format!("`{written}`: `{}` has no sub-attribute `{k}`.", attr.name),
                        )
                    })?;
                    if sub.mutability == Mutability::ReadOnly {
                        continue;
                    }
                    // null unassigns (RFC 7643 §2.5): kept here, so that a merge removes it.
                    let v = if v.is_null() { Value::Null } else { coerce(v, sub, written)? };
                    out.insert(sub.name.to_string(), v);
                }
                Value::Object(out)
            }
            // A manager given by id alone, as Entra sends it.
            Value::String(_) if attr.sub("value").is_some() && !attr.multi_valued => {
                let mut out = Map::new();
                out.insert("value".into(), value.clone());
                Value::Object(out)
            }
            _ => return Err(wrong("an object")),
        },
    })
}

fn no_value() -> Error {
    error(ScimType::InvalidValue, "`add` and `replace` need a `value`.")
}

/// Whether a `remove`'s value lists nothing (null or `[]`): then the whole attribute goes.
fn is_empty(value: &Value) -> bool {
    value.is_null() || value.as_array().is_some_and(Vec::is_empty)
}

/// `new`'s members into `old`; a null member unassigns.
fn merge_into(old: &mut Map<String, Value>, new: Map<String, Value>) {
    for (k, v) in new {
        if v.is_null() {
            old.remove(&k);
        } else {
            old.insert(k, v);
        }
    }
}

/// An object without its null members (unassigned, RFC 7643 §2.5).
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        v => v,
    }
}

fn is_primary(value: &Value) -> bool {
    filter::member(value, "primary").and_then(Value::as_bool) == Some(true)
}

/// Only `keep` stays primary (RFC 7643 §2.4: at most one primary value).
fn one_primary(items: &mut [Value], keep: usize) {
    if !is_primary(&items[keep]) {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Some(object) = item.as_object_mut()
        {
            object.insert("primary".into(), Value::Bool(false));
        }
    }
}

/// Whether two values of a multi-valued attribute are the same value (their `value`,
/// compared by its case rule).
fn same_value(a: &Value, b: &Value, attr: &Attribute) -> bool {
    let exact = attr.sub("value").is_none_or(|v| v.case_exact);
    match (filter::member(a, "value").unwrap_or(a), filter::member(b, "value").unwrap_or(b)) {
        (Value::String(x), Value::String(y)) if !exact => x.to_lowercase() == y.to_lowercase(),
        (x, y) => x == y,
    }
}

/// `items` with `new` added: a value already there is replaced by the new one.
fn merge_values(mut items: Vec<Value>, new: Vec<Value>, attr: &Attribute) -> Vec<Value> {
    for value in new {
        // A value already there takes what is new of it (RFC 7644 §3.5.2.1: no change
        // otherwise), so that re-sending it does not drop what it had.
        let at = match items.iter().position(|item| same_value(item, &value, attr)) {
            Some(i) => {
                match (&mut items[i], value) {
                    (Value::Object(old), Value::Object(new)) => merge_into(old, new),
                    (old, new) => *old = new,
                }
                i
            }
            None => {
                items.push(without_nulls(value));
                items.len() - 1
            }
        };
        one_primary(&mut items, at);
    }
    items
}

/// No empty arrays, objects or extension objects left behind.
fn tidy(resource: &mut Value, uri: Option<&str>) {
    let Some(root) = resource.as_object_mut() else { return };
    let holder = match uri {
        Some(uri) => root.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(uri)).and_then(|(_, v)| v.as_object_mut()),
        None => Some(root),
    };
    if let Some(holder) = holder {
        holder.retain(|_, v| match v {
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        });
    }
    if let Some(uri) = uri
        && let Some(root) = resource.as_object_mut()
    {
        root.retain(|k, v| !(k.eq_ignore_ascii_case(uri) && v.as_object().is_some_and(Map::is_empty)));
    }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
