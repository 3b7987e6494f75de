//! A SCIM Group as the service reads it from a request and as it answers it: a team or
//! department of the organisation, with members who are its users.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::messages::ScimType;
use super::patch::Error;
use super::schema::{Found, GROUP, GROUPS, Mutability};
use super::user::{etag, invalid, string};

/// The most members one group may have.
pub const MEMBERS_MAX: usize = 10_000;

/// What the identity provider says of a group, read and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub display_name: String,
    pub external_id: Option<String>,
    /// The members' ids, as given.
    pub members: Vec<String>,
}

impl Group {
    /// Reads a Group resource. `schemas`, when given, must name the Group schema.
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let body = body.as_object().ok_or_else(|| Error {
            scim_type: ScimType::InvalidSyntax,
            detail: "The body is not a JSON object.".into(),
        })?;
        let mut group = Group::default();
        let mut display_name = None;
        for (key, value) in body {
            if key.eq_ignore_ascii_case("schemas") {
                let names_group = value
                    .as_array()
                    .is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(GROUP))));
                if !names_group {
                    return Err(Error {
                        scim_type: ScimType::InvalidSyntax,
                        detail: format!("`schemas` must list `{GROUP}`."),
                    });
                }
                continue;
            }
            // Another schema's extension (a provider's own): not kept, ignored.
            if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) && GROUPS.find(None, key).is_none() {
                continue;
            }
            let attribute = match GROUPS.find(None, key) {
                Some(Found::Kept(_, a)) if a.mutability == Mutability::ReadOnly => continue,
                Some(Found::Kept(_, a)) => a,
                Some(Found::Ignored) => continue,
                None => return Err(invalid(format!("`{key}` is not an attribute of a Group (see /scim/v2/Schemas)."))),
            };
            match attribute.name {
                "displayName" => display_name = string(value, "displayName")?,
                "externalId" => group.external_id = string(value, "externalId")?,
                "members" if value.is_null() => {}
                "members" => {
                    let list = value.as_array().ok_or_else(|| invalid("`members` must be an array."))?;
                    if list.len() > MEMBERS_MAX {
                        return Err(invalid(format!("A group holds at most {MEMBERS_MAX} members.")));
                    }
                    for member in list {
                        let member = member.as_object().ok_or_else(|| invalid("Each of `members` is an object."))?;
                        let (mut id, mut url) = (None, None);
                        for (key, v) in member {
                            match attribute.sub(key).map(|s| s.name) {
                                Some("value") => id = string(v, "members.value")?,
                                Some("$ref") => url = string(v, "members.$ref")?,
                                // Members are users, whatever `type` says; `$ref` and `display`
                                // are the service's to write.
                                Some("type" | "display") => {}
                                _ => return Err(invalid(format!("`members.{key}` is not an attribute of a Group."))),
                            }
                        }
                        // Only its URL: the id is its last segment.
                        let id = id.or_else(|| url.and_then(|u| u.rsplit('/').next().map(str::to_string)));
                        group.members.push(id.ok_or_else(|| invalid("Each member needs its id in `value`."))?);
                    }
                }
                other => return Err(invalid(format!("`{other}` cannot be written here."))),
            }
        }
        group.display_name = display_name.ok_or_else(|| invalid("`displayName` is required."))?;
        Ok(group)
    }
}

/// A group as the service answers it.
#[derive(Debug, Clone)]
pub struct KnownGroup<'a> {
    pub id: String,
    pub display_name: &'a str,
    pub external_id: Option<&'a str>,
    /// `(id, name)` of the members.
    pub members: &'a [(String, String)],
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
}

impl KnownGroup<'_> {
    /// The Group resource; `base` is the SCIM base URL.
    pub fn to_json(&self, base: &str) -> Value {
        let mut group = Map::new();
        group.insert("schemas".into(), json!([GROUP]));
        group.insert("id".into(), json!(self.id));
        if let Some(e) = self.external_id {
            group.insert("externalId".into(), json!(e));
        }
        group.insert("displayName".into(), json!(self.display_name));
        let members: Vec<Value> = self
            .members
            .iter()
            // What the provider sends: the id and the URL (names are in the users).
            .map(|(id, _)| json!({"value": id, "$ref": format!("{base}/Users/{id}")}))
            .collect();
        group.insert("members".into(), json!(members));
        group.insert(
            "meta".into(),
            json!({
                "resourceType": "Group",
                "created": self.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "lastModified": self.last_modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "location": format!("{base}/Groups/{}", self.id),
                "version": etag(self.version),
            }),
        );
        Value::Object(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_entra_and_okta_send_is_read_and_typos_are_not() {
        let group = Group::from_json(&json!({
            "schemas": [GROUP], "displayName": "Zorg Oost", "externalId": "e-1",
            "members": [{"value": "u1", "display": "An"}, {"value": "u2", "type": "User", "$ref": "x"}],
            "id": "ignored", "meta": {}
        }))
        .unwrap();
        assert_eq!(
            group,
            Group {
                display_name: "Zorg Oost".into(),
                external_id: Some("e-1".into()),
                members: vec!["u1".into(), "u2".into()]
            }
        );
        assert!(Group::from_json(&json!({"members": []})).unwrap_err().detail.contains("displayName"));
        assert!(Group::from_json(&json!({"displayName": "x", "owner": "me"})).unwrap_err().detail.contains("owner"));
        assert!(Group::from_json(&json!({"displayName": "x", "members": [{}]})).is_err());
    }

    #[test]
    fn the_answer_reads_back_as_the_same_group() {
        let at = "2026-12-07T10:00:00Z".parse().unwrap();
        let members = [("u1".to_string(), "An".to_string())];
        let known = KnownGroup {
            id: "g1".into(),
            display_name: "Zorg",
            external_id: None,
            members: &members,
            created: at,
            last_modified: at,
            version: 2,
        };
        let json = known.to_json("https://vov.example/scim/v2");
        assert_eq!(json["members"][0]["$ref"], "https://vov.example/scim/v2/Users/u1");
        assert_eq!(json["meta"]["version"], "W/\"2\"");
        let again = Group::from_json(&json).unwrap();
        assert_eq!(again.members, vec!["u1".to_string()]);
    }
}
