use serde_json::json;

use super::*;
use crate::scim::schema::{ENTERPRISE_USER, GROUPS, USERS};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12",
        "userName": "an.peeters@example.be",
        "name": {"givenName": "An", "familyName": "Peeters"},
        "displayName": "An Peeters",
        "active": true,
        "emails": [{"value": "an.peeters@example.be", "type": "work", "primary": true}],
        "meta": {"resourceType": "User", "version": "W/\"3\""}
    })
}

fn patch(resource: &mut Value, operations: Value, schema: &Resource) -> Result<(), Error> {
    let ops = super::operations(&json!({"schemas": [PATCH_OP], "Operations": operations}))?;
    apply(resource, &ops, schema)
}

fn patched(operations: Value) -> Value {
    let mut u = user();
    patch(&mut u, operations, &USERS).unwrap_or_else(|e| panic!("{e:?}"));
    u
}

fn refused(operations: Value) -> ScimType {
    let mut u = user();
    patch(&mut u, operations, &USERS).expect_err("refused").scim_type
}

#[test]
fn entra_sends_capitalised_ops_and_booleans_as_strings() {
    let u = patched(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(u["active"], false);
    let u = patched(
        json!([{"op": "REPLACE", "path": "active", "value": "true"}, {"op": "Add", "path": "displayName", "value": "An P."}]),
    );
    assert_eq!((u["active"].clone(), u["displayName"].clone()), (json!(true), json!("An P.")));
    assert_eq!(refused(json!([{"op": "Replace", "path": "active", "value": "Nee"}])), ScimType::InvalidValue);
    // Only a boolean attribute reads strings as booleans.
    assert_eq!(refused(json!([{"op": "Replace", "path": "displayName", "value": false}])), ScimType::InvalidValue);
}

#[test]
fn active_replaced_without_a_path_and_okta_sending_the_id_it_has() {
    let u = patched(json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(u["active"], false);
    let id = user()["id"].clone();
    let u = patched(json!([{"op": "replace", "value": {"id": id, "active": false}}]));
    assert_eq!((u["active"].clone(), u["id"].clone()), (json!(false), id));
    assert_eq!(refused(json!([{"op": "replace", "value": {"id": "another", "active": false}}])), ScimType::Mutability);
}

#[test]
fn a_value_filter_that_matches_nothing_makes_the_value_when_it_is_only_equalities() {
    // Entra's mapping `emails[type eq "work"].value` on a user without a work address.
    let mut u = user();
    u["emails"] = json!([{"value": "an@home.example", "type": "home"}]);
    patch(&mut u, json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "an@werk.example"}]), &USERS)
        .unwrap();
    assert_eq!(
        u["emails"],
        json!([{"value": "an@home.example", "type": "home"}, {"type": "work", "value": "an@werk.example"}])
    );
    // Then it matches, and only that value changes.
    patch(
        &mut u,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "an2@werk.example"}]),
        &USERS,
    )
    .unwrap();
    assert_eq!(u["emails"][1], json!({"type": "work", "value": "an2@werk.example"}));
    assert_eq!(u["emails"][0]["value"], "an@home.example");
    // A filter that is not only equalities has nothing to make a value from.
    let op = json!([{"op": "replace", "path": "emails[value co \"@nowhere\"].type", "value": "other"}]);
    assert_eq!(refused(op), ScimType::NoTarget);
}

#[test]
fn keys_of_a_pathless_value_may_be_paths_or_an_extension_with_its_attributes() {
    let u = patched(json!([
        {"op": "Add", "value": {
            "name.givenName": "Anneke",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Opleiding",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "0042"},
            "externalId": "00u1abc"
        }}
    ]));
    assert_eq!(u["name"], json!({"givenName": "Anneke", "familyName": "Peeters"}));
    assert_eq!(u[ENTERPRISE_USER], json!({"department": "Opleiding", "employeeNumber": "0042"}));
    assert_eq!(u["externalId"], "00u1abc");
}

#[test]
fn a_manager_given_by_id_alone_is_a_manager_with_that_value() {
    let path = format!("{ENTERPRISE_USER}:manager");
    let u = patched(json!([{"op": "Replace", "path": path, "value": "0193a4d2-0000-7000-8000-000000000009"}]));
    assert_eq!(u[ENTERPRISE_USER]["manager"], json!({"value": "0193a4d2-0000-7000-8000-000000000009"}));
    let mut u = u;
    patch(&mut u, json!([{"op": "Remove", "path": path}]), &USERS).unwrap();
    assert!(u.get(ENTERPRISE_USER).is_none(), "an emptied extension leaves no object behind: {u}");
}

#[test]
fn names_in_paths_and_values_ignore_case_and_are_kept_as_the_schema_writes_them() {
    let u = patched(json!([
        {"op": "replace", "path": "externalid", "value": "E-1"},
        {"op": "replace", "path": "NAME.FAMILYNAME", "value": "Claes"},
        {"op": "add", "path": "Emails", "value": {"VALUE": "a@b.example", "Type": "home"}}
    ]));
    assert_eq!(u["externalId"], "E-1");
    assert_eq!(u["name"]["familyName"], "Claes");
    assert_eq!(u["emails"][1], json!({"value": "a@b.example", "type": "home"}));
    assert!(u.get("externalid").is_none());
}

#[test]
fn complex_attributes_merge_multi_valued_ones_add_or_are_replaced_whole() {
    let u = patched(json!([{"op": "replace", "path": "name", "value": {"givenName": "Anna"}}]));
    assert_eq!(u["name"], json!({"givenName": "Anna", "familyName": "Peeters"}), "other parts stay");
    // Adding a value that is there (case aside, by its rule) takes what is new of it and
    // keeps the rest; one primary stays.
    let u = patched(
        json!([{"op": "add", "path": "emails", "value": [{"value": "AN.PEETERS@example.be", "type": "work"}]}]),
    );
    assert_eq!(u["emails"], json!([{"value": "AN.PEETERS@example.be", "type": "work", "primary": true}]));
    let u = patched(json!([{"op": "add", "path": "emails", "value": [
        {"value": "AN.PEETERS@example.be", "type": "work"},
        {"value": "an@home.example", "type": "home", "primary": true}
    ]}]));
    assert_eq!(
        u["emails"],
        json!([
            {"value": "AN.PEETERS@example.be", "type": "work", "primary": false},
            {"value": "an@home.example", "type": "home", "primary": true}
        ])
    );
    let u = patched(json!([{"op": "add", "path": "emails", "value": {"value": "x@y.example", "primary": true}}]));
    assert_eq!((u["emails"][0]["primary"].clone(), u["emails"][1]["primary"].clone()), (json!(false), json!(true)));
    let u = patched(json!([{"op": "replace", "path": "emails", "value": [{"value": "only@y.example"}]}]));
    assert_eq!(u["emails"], json!([{"value": "only@y.example"}]));
    // null is unassigned, of an attribute or of a sub-attribute.
    let u = patched(json!([{"op": "replace", "path": "displayName", "value": null}]));
    assert!(u.get("displayName").is_none());
    let u = patched(json!([{"op": "replace", "path": "name", "value": {"givenName": null}}]));
    assert_eq!(u["name"], json!({"familyName": "Peeters"}));
    // `primary` set on every value leaves one primary.
    let mut u = user();
    u["emails"] = json!([{"value": "a@x.example"}, {"value": "b@x.example"}]);
    patch(&mut u, json!([{"op": "replace", "path": "emails.primary", "value": true}]), &USERS).unwrap();
    assert_eq!((u["emails"][0]["primary"].clone(), u["emails"][1]["primary"].clone()), (json!(true), json!(false)));
}

#[test]
fn a_required_attribute_is_replaced_never_removed() {
    assert_eq!(refused(json!([{"op": "remove", "path": "userName"}])), ScimType::Mutability);
    assert_eq!(refused(json!([{"op": "replace", "path": "userName", "value": null}])), ScimType::Mutability);
    assert_eq!(refused(json!([{"op": "replace", "value": {"userName": null}}])), ScimType::Mutability);
    let mut group = json!({"id": "g", "displayName": "Opleiding"});
    let err = patch(&mut group, json!([{"op": "remove", "path": "displayName"}]), &GROUPS).unwrap_err();
    assert_eq!(err.scim_type, ScimType::Mutability);
}

#[test]
fn remove_takes_a_path_with_or_without_a_filter_or_a_list_of_values() {
    let mut u = user();
    u["emails"] = json!([{"value": "w@x.example", "type": "work"}, {"value": "h@x.example", "type": "home"}]);
    let mut v = u.clone();
    patch(&mut v, json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]), &USERS).unwrap();
    assert_eq!(v["emails"], json!([{"value": "w@x.example", "type": "work"}]));
    patch(&mut v, json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]), &USERS).unwrap();
    assert_eq!(v["emails"], json!([{"value": "w@x.example", "type": "work"}]), "nothing matched, nothing removed");
    patch(&mut v, json!([{"op": "remove", "path": "emails[type eq \"work\"].type"}]), &USERS).unwrap();
    assert_eq!(v["emails"], json!([{"value": "w@x.example"}]));
    let mut w = v.clone();
    patch(&mut w, json!([{"op": "remove", "path": "emails", "value": null}]), &USERS).unwrap();
    assert!(w.get("emails").is_none(), "a null value lists nothing: all values go");
    let mut w = v.clone();
    patch(&mut w, json!([{"op": "remove", "path": "emails", "value": []}]), &USERS).unwrap();
    assert!(w.get("emails").is_none(), "an empty list lists nothing: all values go");
    patch(&mut v, json!([{"op": "remove", "path": "emails"}]), &USERS).unwrap();
    assert!(v.get("emails").is_none());
    assert_eq!(refused(json!([{"op": "remove"}])), ScimType::NoTarget);

    // Entra removes group members by listing them.
    let mut group =
        json!({"id": "g", "displayName": "Opleiding", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
    patch(&mut group, json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "c"}]}]), &GROUPS)
        .unwrap();
    assert_eq!(group["members"], json!([{"value": "b"}]));
    patch(&mut group, json!([{"op": "Add", "path": "members", "value": [{"value": "d"}, {"value": "b"}]}]), &GROUPS)
        .unwrap();
    assert_eq!(group["members"], json!([{"value": "b"}, {"value": "d"}]));
    patch(&mut group, json!([{"op": "remove", "path": "members[value eq \"d\"]"}]), &GROUPS).unwrap();
    assert_eq!(group["members"], json!([{"value": "b"}]));
}

#[test]
fn unknown_names_are_refused_standard_ones_not_kept_are_ignored() {
    assert_eq!(refused(json!([{"op": "replace", "path": "favouriteColour", "value": "x"}])), ScimType::InvalidPath);
    assert_eq!(refused(json!([{"op": "replace", "path": "name.nickname", "value": "x"}])), ScimType::InvalidPath);
    assert_eq!(refused(json!([{"op": "add", "value": {"favouriteColour": "x"}}])), ScimType::InvalidPath);
    assert_eq!(refused(json!([{"op": "add", "path": "name", "value": {"middle": "x"}}])), ScimType::InvalidValue);
    // Sub-attributes and extension attributes RFC 7643 defines are ignored too.
    let u = patched(json!([
        {"op": "add", "path": "name", "value": {"middleName": "Maria", "givenName": "An"}},
        {"op": "replace", "path": "name.honorificPrefix", "value": "Dr."},
        {"op": "add", "path": "emails", "value": [{"value": "x@y.example", "display": "X"}]},
        {"op": "replace", "path": format!("{ENTERPRISE_USER}:costCenter"), "value": "4130"},
        {"op": "add", "value": {ENTERPRISE_USER: {"division": "Zorg", "department": "HR"}}}
    ]));
    assert_eq!(u["name"], json!({"givenName": "An", "familyName": "Peeters"}));
    assert_eq!(u["emails"][1], json!({"value": "x@y.example"}));
    assert_eq!(u[ENTERPRISE_USER], json!({"department": "HR"}));
    let u = patched(json!([
        {"op": "Add", "path": "title", "value": "Lead"},
        {"op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+32 9 000 00 00"},
        {"op": "Add", "value": {"nickName": "Annie", "displayName": "Annie P."}}
    ]));
    assert_eq!(u.get("title"), None);
    assert_eq!(u.get("phoneNumbers"), None);
    assert_eq!(u["displayName"], "Annie P.");
}

#[test]
fn read_only_attributes_are_refused() {
    assert_eq!(refused(json!([{"op": "replace", "path": "meta.version", "value": "W/\"9\""}])), ScimType::Mutability);
    assert_eq!(refused(json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}])), ScimType::Mutability);
    assert_eq!(refused(json!([{"op": "remove", "path": "id"}])), ScimType::Mutability);
}

#[test]
fn bodies_that_are_not_a_patch_request_say_why() {
    let syntax = |body: Value| super::operations(&body).expect_err("refused").scim_type;
    assert_eq!(syntax(json!([])), ScimType::InvalidSyntax);
    assert_eq!(syntax(json!({"schemas": [PATCH_OP]})), ScimType::InvalidSyntax);
    assert_eq!(syntax(json!({"schemas": [PATCH_OP], "Operations": []})), ScimType::InvalidSyntax);
    assert_eq!(
        syntax(json!({"schemas": ["urn:x"], "Operations": [{"op": "add", "value": {}}]})),
        ScimType::InvalidSyntax
    );
    assert_eq!(syntax(json!({"Operations": [{"op": "move", "path": "a"}]})), ScimType::InvalidSyntax);
    assert_eq!(syntax(json!({"Operations": [{"op": "add", "path": 5, "value": 1}]})), ScimType::InvalidSyntax);
    assert_eq!(
        syntax(json!({"Operations": [{"op": "add", "path": "emails[type eq", "value": 1}]})),
        ScimType::InvalidPath
    );
    assert_eq!(syntax(json!({"Operations": [{"op": "add", "path": "displayName"}]})), ScimType::InvalidValue);
    assert_eq!(syntax(json!({"Operations": [{"op": "add", "value": "x"}]})), ScimType::InvalidValue);
    let many: Vec<Value> =
        (0..=OPERATIONS_MAX).map(|_| json!({"op": "add", "path": "displayName", "value": "x"})).collect();
    assert_eq!(syntax(json!({"Operations": many})), ScimType::InvalidSyntax);
    // `operations` (any case) and no `schemas` are taken.
    assert_eq!(super::operations(&json!({"operations": [{"op": "remove", "path": "title"}]})).unwrap().len(), 1);
}
