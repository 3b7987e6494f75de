//! A SCIM User as the service reads it from a request (`POST`, `PUT`, or the whole resource
//! a `PATCH` made) and as it answers it.
//!
//! Reading follows the schema table ([`super::schema::USERS`]): names ignore case,
//! read-only attributes (`id`, `meta`, `groups`) are ignored as RFC 7644 §3.3 asks,
//! attributes RFC 7643 defines that the network does not keep are ignored, and any other
//! name is refused, so a typo is never silently lost. Booleans may come as the strings
//! `"True"`/`"False"` (Entra ID sends them so).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::messages::ScimType;
use super::patch::Error;
use super::schema::{ENTERPRISE_USER, Found, Mutability, USER, USERS};

/// The longest a `userName`, an `externalId` or any other string may be.
pub const STRING_MAX: usize = 255;

/// What the identity provider says of a user, read and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    /// What the organisation's row keeps: everything else the provider said.
    pub attributes: Attributes,
}

/// The attributes kept on the organisation's row, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Name::is_empty")]
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<EmailAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The manager's SCIM id (a user of the same organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// The provider left `active` out (or removed it): the membership stays as it is, and
    /// the answers leave `active` out too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub active_unsaid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self.formatted.is_none() && self.family_name.is_none() && self.given_name.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    pub value: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

pub(super) fn invalid(detail: impl Into<String>) -> Error {
    Error { scim_type: ScimType::InvalidValue, detail: detail.into() }
}

/// A string attribute: trimmed, without control characters, at most [`STRING_MAX`]
/// characters; `null` and `""` are no value.
pub(super) fn string(value: &Value, what: &str) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else if s.chars().count() > STRING_MAX {
                Err(invalid(format!("`{what}` is longer than {STRING_MAX} characters.")))
            } else if s.chars().any(char::is_control) {
                Err(invalid(format!("`{what}` holds control characters.")))
            } else {
                Ok(Some(s.to_string()))
            }
        }
        _ => Err(invalid(format!("`{what}` must be a string."))),
    }
}

/// A boolean attribute; `"true"`/`"false"` in any case are read as booleans.
fn boolean(value: &Value, what: &str) -> Result<Option<bool>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(invalid(format!("`{what}` must be true or false."))),
    }
}

/// The members of an object, each with the attribute the schema names it by, in the schema
/// `uri` (`None`: the core schema). Read-only and ignored attributes are left out; an
/// unknown name is an error.
fn kept<'a>(
    object: &'a Map<String, Value>,
    uri: Option<&str>,
) -> Result<Vec<(&'static super::schema::Attribute, &'a Value)>, Error> {
    let mut out = Vec::new();
    for (key, value) in object {
        if uri.is_none() && (key.eq_ignore_ascii_case("schemas") || USERS.extension(key).is_some()) {
            continue;
        }
        // Another schema's extension (a provider's own, `urn:okta:...`): not kept, ignored
        // (RFC 7644 §3.3), as the attributes RFC 7643 defines and the network does not keep.
        let ours = |k: &str| {
            [USER, ENTERPRISE_USER].iter().any(|u| k.get(..u.len()).is_some_and(|p| p.eq_ignore_ascii_case(u)))
        };
        if uri.is_none() && key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) && !ours(key) {
            continue;
        }
        match USERS.find(uri, key) {
            Some(Found::Kept(_, a)) if a.mutability == Mutability::ReadOnly => {}
            Some(Found::Kept(_, a)) => out.push((a, value)),
            Some(Found::Ignored) => {}
            None => {
                return Err(Error {
                    scim_type: ScimType::InvalidValue,
                    detail: format!("`{key}` is not an attribute of a User (see /scim/v2/Schemas)."),
                });
            }
        }
    }
    Ok(out)
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Error> {
    value.as_object().ok_or_else(|| invalid(format!("`{what}` must be an object.")))
}

impl User {
    /// Reads a User resource. `schemas`, when given, must name the User schema.
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let body = body.as_object().ok_or_else(|| Error {
            scim_type: ScimType::InvalidSyntax,
            detail: "The body is not a JSON object.".into(),
        })?;
        if let Some((_, schemas)) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")) {
            let names_user = schemas
                .as_array()
                .is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(USER))));
            if !names_user {
                return Err(Error {
                    scim_type: ScimType::InvalidSyntax,
                    detail: format!("`schemas` must list `{USER}`."),
                });
            }
        }
        let mut user = User::default();
        let mut user_name = None;
        for (attribute, value) in kept(body, None)? {
            let a = &mut user.attributes;
            match attribute.name {
                "userName" => user_name = string(value, "userName")?,
                "externalId" => user.external_id = string(value, "externalId")?,
                "displayName" => a.display_name = string(value, "displayName")?,
                "preferredLanguage" => a.preferred_language = language(value)?,
                "active" => user.active = boolean(value, "active")?,
                "name" if value.is_null() => {}
                "name" => {
                    for (key, v) in object(value, "name")? {
                        let key = key.as_str();
                        if attribute.ignores(key) {
                            continue;
                        }
                        match attribute.sub(key).map(|s| s.name) {
                            Some("formatted") => a.name.formatted = string(v, "name.formatted")?,
                            Some("familyName") => a.name.family_name = string(v, "name.familyName")?,
                            Some("givenName") => a.name.given_name = string(v, "name.givenName")?,
                            _ => return Err(invalid(format!("`name.{key}` is not an attribute of a User."))),
                        }
                    }
                }
                "emails" if value.is_null() => {}
                "emails" => a.emails = emails(value, attribute)?,
                other => return Err(invalid(format!("`{other}` cannot be written here."))),
            }
        }
        for (key, value) in body {
            let Some(extension) = USERS.extension(key) else { continue };
            if value.is_null() {
                continue;
            }
            for (attribute, value) in kept(object(value, extension.id)?, Some(extension.id))? {
                let a = &mut user.attributes;
                match attribute.name {
                    "employeeNumber" => a.employee_number = string(value, "employeeNumber")?,
                    "department" => a.department = string(value, "department")?,
                    "organization" => a.organization = string(value, "organization")?,
                    "manager" => a.manager = manager(value)?,
                    other => return Err(invalid(format!("`{other}` cannot be written here."))),
                }
            }
        }
        user.user_name = user_name.ok_or_else(|| invalid("`userName` is required."))?;
        user.attributes.active_unsaid = user.active.is_none();
        Ok(user)
    }

    /// The address the provider gives the person: the primary one, else the first, else
    /// the `userName` when it is an address (`None`: the provider gives none).
    pub fn email(&self) -> Option<&str> {
        let emails = &self.attributes.emails;
        match emails.iter().find(|e| e.primary).or(emails.first()) {
            Some(e) => Some(e.value.as_str()),
            None => Some(self.user_name.as_str()).filter(|u| crate::domain::account::Email::parse(u).is_ok()),
        }
    }

    /// The name the person has in the network: `displayName`, else the formatted name,
    /// else given and family name, else the `userName`.
    pub fn display_name(&self) -> String {
        let a = &self.attributes;
        if let Some(d) = a.display_name.as_ref().or(a.name.formatted.as_ref()) {
            return d.clone();
        }
        let parts: Vec<&str> =
            [&a.name.given_name, &a.name.family_name].into_iter().flatten().map(String::as_str).collect();
        if parts.is_empty() { self.user_name.clone() } else { parts.join(" ") }
    }
}

/// A language (RFC 7643 §4.1.1: as HTTP's `Accept-Language` writes one, `nl-BE`). Kept as
/// the provider writes it: the network reads nothing from it.
fn language(value: &Value) -> Result<Option<String>, Error> {
    string(value, "preferredLanguage")
}

fn manager(value: &Value) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        // Some providers send the manager's id as a plain string.
        Value::String(_) => string(value, "manager"),
        Value::Object(m) => {
            for key in m.keys() {
                if !["value", "$ref", "displayName"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
                    return Err(invalid(format!("`manager.{key}` is not an attribute of a User.")));
                }
            }
            let field = |name: &str| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
            match field("value").map(|v| string(v, "manager.value")).transpose()?.flatten() {
                Some(id) => Ok(Some(id)),
                // Only its URL: the id is its last segment.
                None => Ok(field("$ref")
                    .map(|v| string(v, "manager.$ref"))
                    .transpose()?
                    .flatten()
                    .and_then(|r| r.rsplit('/').next().map(str::to_string))),
            }
        }
        _ => Err(invalid("`manager` must be an object with the manager's id in `value`.")),
    }
}

fn emails(value: &Value, attribute: &super::schema::Attribute) -> Result<Vec<EmailAddress>, Error> {
    let list = value.as_array().ok_or_else(|| invalid("`emails` must be an array."))?;
    if list.len() > 10 {
        return Err(invalid("`emails` holds at most 10 addresses."));
    }
    let mut out: Vec<EmailAddress> = Vec::new();
    for item in list {
        let item = object(item, "emails")?;
        let (mut address, mut kind, mut primary) = (None, None, false);
        for (key, v) in item {
            if attribute.ignores(key) {
                continue;
            }
            match attribute.sub(key).map(|s| s.name) {
                Some("value") => address = string(v, "emails.value")?,
                Some("type") => kind = string(v, "emails.type")?.map(|t| t.to_ascii_lowercase()),
                Some("primary") => primary = boolean(v, "emails.primary")?.unwrap_or(false),
                _ => return Err(invalid(format!("`emails.{key}` is not an attribute of a User."))),
            }
        }
        let Some(address) = address else { continue };
        if primary && out.iter().any(|e| e.primary) {
            return Err(invalid("Only one of `emails` may be primary."));
        }
        out.push(EmailAddress { value: address, kind, primary });
    }
    Ok(out)
}

/// What the service knows of a user besides what the provider said: the person's name and
/// address now, whether the membership is in force, the groups and the row's history.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    pub id: String,
    pub user_name: &'a str,
    pub external_id: Option<&'a str>,
    pub attributes: &'a Attributes,
    /// The person's name in the network now.
    pub display_name: &'a str,
    /// The person's address in the network now.
    pub email: &'a str,
    pub active: bool,
    /// `(id, name)` of the groups the user is in.
    pub groups: &'a [(String, String)],
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
}

/// The weak ETag of a SCIM resource at `version` (`meta.version`).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

impl Known<'_> {
    /// The User resource; `base` is the SCIM base URL (`https://host/scim/v2`).
    pub fn to_json(&self, base: &str) -> Value {
        let a = self.attributes;
        let mut user = Map::new();
        let mut schemas = vec![json!(USER)];
        user.insert("id".into(), json!(self.id));
        if let Some(e) = self.external_id {
            user.insert("externalId".into(), json!(e));
        }
        user.insert("userName".into(), json!(self.user_name));
        if !a.name.is_empty() {
            user.insert("name".into(), serde_json::to_value(&a.name).unwrap_or(Value::Null));
        }
        // The name the provider gave, as the person's name in the network is now.
        if a.display_name.is_some() {
            user.insert("displayName".into(), json!(self.display_name));
        }
        if let Some(l) = &a.preferred_language {
            user.insert("preferredLanguage".into(), json!(l));
        }
        if !a.active_unsaid {
            user.insert("active".into(), json!(self.active));
        }
        // The addresses the provider gave, the one the network uses being the person's now,
        // wherever it was changed.
        if !a.emails.is_empty() {
            let mut emails = a.emails.clone();
            let network = emails.iter().position(|e| e.primary).unwrap_or(0);
            emails[network].value = self.email.to_string();
            user.insert("emails".into(), serde_json::to_value(&emails).unwrap_or(Value::Null));
        }
        if !self.groups.is_empty() {
            let groups: Vec<Value> = self
                .groups
                .iter()
                .map(|(id, name)| json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name}))
                .collect();
            user.insert("groups".into(), json!(groups));
        }
        let mut enterprise = Map::new();
        for (key, value) in
            [("employeeNumber", &a.employee_number), ("department", &a.department), ("organization", &a.organization)]
        {
            if let Some(v) = value {
                enterprise.insert(key.into(), json!(v));
            }
        }
        if let Some(m) = &a.manager {
            enterprise.insert("manager".into(), json!({"value": m, "$ref": format!("{base}/Users/{m}")}));
        }
        if !enterprise.is_empty() {
            schemas.push(json!(ENTERPRISE_USER));
            user.insert(ENTERPRISE_USER.into(), Value::Object(enterprise));
        }
        user.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": self.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "lastModified": self.last_modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "location": format!("{base}/Users/{}", self.id),
                "version": etag(self.version),
            }),
        );
        user.insert("schemas".into(), json!(schemas));
        Value::Object(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_entra_sends_on_create_is_read() {
        let body = json!({
            "schemas": [USER, ENTERPRISE_USER],
            "externalId": "8f0c0b2e-1111-4a1b-9c3d-000000000001",
            "userName": "An.Peeters@Example.be",
            "active": "True",
            "displayName": "An Peeters",
            "title": "Nurse",
            "emails": [{"primary": true, "type": "work", "value": "an.peeters@example.be"}],
            "name": {"formatted": "An Peeters", "familyName": "Peeters", "givenName": "An", "middleName": "M"},
            "phoneNumbers": [{"type": "work", "value": "+32 2 000 00 00"}],
            "addresses": [{"type": "work", "country": "BE"}],
            ENTERPRISE_USER: {"employeeNumber": "1042", "department": "Zorg", "costCenter": "C1",
                              "manager": {"value": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20"}}
        });
        let user = User::from_json(&body).unwrap();
        assert_eq!(user.user_name, "An.Peeters@Example.be");
        assert_eq!(user.active, Some(true));
        assert_eq!(user.external_id.as_deref(), Some("8f0c0b2e-1111-4a1b-9c3d-000000000001"));
        assert_eq!(user.email(), Some("an.peeters@example.be"));
        assert_eq!(user.display_name(), "An Peeters");
        assert_eq!(user.attributes.department.as_deref(), Some("Zorg"));
        assert_eq!(user.attributes.manager.as_deref(), Some("0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20"));
        assert_eq!(user.attributes.name.given_name.as_deref(), Some("An"));
    }

    #[test]
    fn what_okta_sends_on_create_is_read() {
        let body = json!({
            "schemas": [USER],
            "userName": "jan.devos@example.be",
            "name": {"givenName": "Jan", "familyName": "De Vos"},
            "emails": [{"primary": true, "value": "jan.devos@example.be", "type": "work", "display": "Jan"}],
            "locale": "nl-BE",
            "password": "not kept",
            "active": true,
            "groups": [],
            "id": "ignored",
            "meta": {"resourceType": "User"}
        });
        let user = User::from_json(&body).unwrap();
        assert_eq!(user.display_name(), "Jan De Vos");
        assert_eq!(user.active, Some(true));
        assert_eq!(user.attributes.emails[0].kind.as_deref(), Some("work"));
    }

    #[test]
    fn typos_wrong_types_and_missing_user_names_are_refused() {
        let refused = |body: Value| User::from_json(&body).unwrap_err();
        assert_eq!(refused(json!({"userName": "a@b.be", "displayname": 3})).scim_type, ScimType::InvalidValue);
        let e = refused(json!({"userName": "a@b.be", "usrName": "x"}));
        assert!(e.detail.contains("usrName"), "{e}");
        assert!(refused(json!({"displayName": "No Name"})).detail.contains("userName"));
        assert!(refused(json!({"userName": "  "})).detail.contains("userName"));
        assert_eq!(refused(json!({"schemas": ["urn:x"], "userName": "a"})).scim_type, ScimType::InvalidSyntax);
        assert!(refused(json!({"userName": "a", "active": "yes"})).detail.contains("active"));
        assert!(refused(json!({"userName": "a", "name": {"nickName": "x"}})).detail.contains("name.nickName"));
        assert!(
            refused(
                json!({"userName": "a", "emails": [{"value": "x", "primary": true}, {"value": "y", "primary": true}]})
            )
            .detail
            .contains("primary")
        );
        assert!(refused(json!({"userName": "a".repeat(256)})).detail.contains("255"));
        assert!(refused(json!([1])).detail.contains("object"));
        // Keys of any characters are refused, never a panic (a multi-byte character where a
        // URN prefix would end).
        assert!(refused(json!({"userName": "a", "ur\u{e9}x": 1})).detail.contains("ur\u{e9}x"));
        // A provider's own extension is ignored.
        assert!(User::from_json(&json!({"userName": "a", "urn:okta:custom:1.0:user": {"x": 1}})).is_ok());
    }

    #[test]
    fn the_network_address_is_the_primary_then_the_first_then_the_user_name() {
        let user = |emails: Value| User::from_json(&json!({"userName": "u@x.be", "emails": emails})).unwrap();
        assert_eq!(user(json!([{"value": "a@x.be"}, {"value": "b@x.be", "primary": "True"}])).email(), Some("b@x.be"));
        assert_eq!(user(json!([{"value": "a@x.be"}, {"value": "b@x.be"}])).email(), Some("a@x.be"));
        assert_eq!(user(json!([])).email(), Some("u@x.be"));
        assert_eq!(user(json!([])).display_name(), "u@x.be");
        // A sign-in name that is no address gives none.
        assert_eq!(User::from_json(&json!({"userName": "u1042"})).unwrap().email(), None);
    }

    #[test]
    fn the_answer_shows_the_persons_address_now_and_what_the_provider_said() {
        let user = User::from_json(&json!({
            "userName": "an", "active": false, "emails": [{"value": "old@x.be", "type": "work", "primary": true}, {"value": "home@x.be", "type": "home"}],
            ENTERPRISE_USER: {"department": "Zorg", "manager": "m1"}
        }))
        .unwrap();
        let at = "2026-12-07T10:00:00Z".parse().unwrap();
        let known = Known {
            id: "p1".into(),
            user_name: &user.user_name,
            external_id: Some("e1"),
            attributes: &user.attributes,
            display_name: "An Peeters",
            email: "new@x.be",
            active: false,
            groups: &[("g1".into(), "Zorg".into())],
            created: at,
            last_modified: at,
            version: 3,
        };
        let json = known.to_json("https://vov.example/scim/v2");
        assert_eq!(json["emails"][0]["value"], "new@x.be");
        assert_eq!(json["emails"][1]["value"], "home@x.be");
        assert_eq!(json["active"], false);
        assert_eq!(json["meta"]["version"], "W/\"3\"");
        assert_eq!(json["meta"]["location"], "https://vov.example/scim/v2/Users/p1");
        assert_eq!(json["groups"][0]["$ref"], "https://vov.example/scim/v2/Groups/g1");
        assert_eq!(json[ENTERPRISE_USER]["manager"]["value"], "m1");
        assert_eq!(json["schemas"], json!([USER, ENTERPRISE_USER]));
        // What it answers reads back as the same user.
        let again = User::from_json(&json).unwrap();
        assert_eq!(again.attributes.department, user.attributes.department);
        assert_eq!(again.external_id.as_deref(), Some("e1"));
    }
}
