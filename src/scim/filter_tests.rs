use serde_json::json;

use super::*;

/// `userName`, `emails.value` and the enterprise `employeeNumber` ignore case; `externalId`
/// and everything else compare exactly, as RFC 7643's schemas say.
struct Rules;

impl CaseRules for Rules {
    fn case_exact(&self, _uri: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        !(name.eq_ignore_ascii_case("userName")
            || (name.eq_ignore_ascii_case("emails") && sub.is_none_or(|s| s.eq_ignore_ascii_case("value")))
            || name.eq_ignore_ascii_case("employeeNumber"))
    }

    fn is_date_time(&self, _uri: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        name.eq_ignore_ascii_case("meta") && sub.is_some_and(|s| s.eq_ignore_ascii_case("lastModified"))
    }
}

fn path(name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath { uri: None, name: name.into(), sub: sub.map(str::to_string) }
}

fn eq(name: &str, value: &str) -> Filter {
    Filter::Compare(path(name, None), CompareOp::Eq, CompValue::String(value.into()))
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "Bjensen-7",
        "userName": "BJensen@Example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "title": "",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"lastModified": "2026-05-13T04:42:34Z", "version": "W/\"3\""},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "26118915"}
        },
        "loginCount": 12
    })
}

fn matches(filter: &str) -> bool {
    parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&user(), &Rules)
}

#[test]
fn the_rfc_examples_parse() {
    for filter in [
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ] {
        parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    }
}

#[test]
fn and_binds_tighter_than_or_and_groups_override_it() {
    let (a, b, c) = (eq("a", "1"), eq("b", "2"), eq("c", "3"));
    let and = |x: Filter, y: Filter| Filter::And(Box::new(x), Box::new(y));
    let or = |x: Filter, y: Filter| Filter::Or(Box::new(x), Box::new(y));
    assert_eq!(parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap(), or(a.clone(), and(b.clone(), c.clone())));
    assert_eq!(parse(r#"a eq "1" and b eq "2" or c eq "3""#).unwrap(), or(and(a.clone(), b.clone()), c.clone()));
    assert_eq!(parse(r#"(a eq "1" or b eq "2") and c eq "3""#).unwrap(), and(or(a.clone(), b.clone()), c.clone()));
    assert_eq!(parse(r#"not (a eq "1") and b eq "2""#).unwrap(), and(Filter::Not(Box::new(a)), b));
}

#[test]
fn operators_keywords_and_names_ignore_case_values_do_not() {
    assert_eq!(
        parse(r#"userName EQ "x" AnD NOT(title Pr)"#).unwrap(),
        Filter::And(
            Box::new(eq("userName", "x")),
            Box::new(Filter::Not(Box::new(Filter::Present(path("title", None)))))
        )
    );
    assert!(matches(r#"USERNAME eq "bjensen@example.com""#));
    assert_eq!(
        parse("active eq TRUE").unwrap(),
        Filter::Compare(path("active", None), CompareOp::Eq, CompValue::Bool(true))
    );
}

#[test]
fn schema_uris_keep_their_dots_and_extensions_are_found_under_theirs() {
    let f = parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#).unwrap();
    let Filter::Compare(p, _, _) = &f else { panic!("{f:?}") };
    assert_eq!(p.uri.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    assert_eq!((p.name.as_str(), p.sub.as_deref()), ("employeeNumber", None));
    assert!(f.matches(&user(), &Rules));
    assert!(matches(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#));
    assert!(matches(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Jensen""#));
    assert!(!matches(r#"employeeNumber eq "701984""#), "an extension's attribute needs its URI");
    assert!(!matches(r#"urn:example:other:2.0:User:userName pr"#), "another schema's URI names nothing here");
}

#[test]
fn strings_follow_each_attributes_case_rule() {
    assert!(matches(r#"userName eq "bjensen@example.com""#));
    assert!(matches(r#"userName ne "someone@else.org""#));
    assert!(!matches(r#"userName ne "BJENSEN@EXAMPLE.COM""#));
    assert!(matches(r#"externalId eq "Bjensen-7""#));
    assert!(!matches(r#"externalId eq "bjensen-7""#), "externalId is case-exact");
    assert!(matches(r#"userName sw "bjen" and userName ew ".COM" and userName co "@example""#));
    assert!(!matches(r#"name.familyName sw "jen""#), "familyName is case-exact here");
}

#[test]
fn multi_valued_attributes_match_when_any_value_does() {
    assert!(matches(r#"emails co "jensen.org""#), "a complex value compares its `value`");
    assert!(matches(r#"emails.value eq "BABS@jensen.org""#));
    assert!(matches(r#"emails.type eq "home""#));
    assert!(matches(r#"emails[type eq "work" and value co "@example.com"]"#));
    assert!(!matches(r#"emails[type eq "home" and value co "@example.com"]"#), "both on one value");
    assert!(matches(r#"emails[not (type eq "work")]"#));
    // `ne` too matches when any value does: a user with a work and a home address.
    assert!(matches(r#"emails.type ne "work""#));
    assert!(matches(r#"nickName ne "x""#), "an attribute without a value differs from anything");
    assert!(!matches(r#"userName ne "bjensen@example.com""#));
    assert!(!matches(r#"ims[type eq "xmpp"]"#));
}

#[test]
fn presence_null_numbers_booleans_and_instants() {
    assert!(matches("name pr"), "a complex attribute with a value");
    assert!(!matches("title pr"), "an empty string is no value");
    assert!(!matches("nickName pr"));
    assert!(matches("nickName eq null") && matches("userName ne null") && !matches("userName eq null"));
    assert!(matches("active eq true") && !matches("active eq false") && matches("active ne false"));
    assert!(matches("loginCount gt 11") && matches("loginCount le 12") && !matches("loginCount lt 12.0"));
    assert!(matches("loginCount ge 1.2e1"));
    // The same instant written with another offset and a fraction.
    assert!(matches(r#"meta.lastModified eq "2026-05-13T06:42:34.000+02:00""#));
    assert!(matches(r#"meta.lastModified gt "2026-05-13T04:42:33.999Z""#));
    assert!(!matches(r#"meta.lastModified lt "2026-01-01T00:00:00Z""#));
    // Only a `dateTime` compares as an instant: other strings compare as strings.
    let mut u = user();
    u["externalId"] = json!("2026-05-13T04:42:34Z");
    let f = parse(r#"externalId eq "2026-05-13T06:42:34+02:00""#).unwrap();
    assert!(!f.matches(&u, &Rules));
    // A type that does not compare never matches, whatever the operator.
    assert!(!matches(r#"loginCount eq "12""#) && !matches(r#"active eq "true""#));
}

#[test]
fn strings_take_json_escapes() {
    let f = parse(r#"displayName eq "Bar \"Babs\" Jensen \u00e9\\""#).unwrap();
    assert_eq!(f, eq("displayName", "Bar \"Babs\" Jensen é\\"));
    assert_eq!(parse(r#"name.familyName co "O'Malley""#).unwrap(), {
        Filter::Compare(path("name", Some("familyName")), CompareOp::Co, CompValue::String("O'Malley".into()))
    });
}

#[test]
fn what_the_grammar_refuses_says_where() {
    for (filter, at) in [
        ("", 0),
        ("userName", 8),
        ("userName eq", 11),
        (r#"userName equals "x""#, 9),
        (r#"userName eq "x" and"#, 19),
        (r#"userName eq "x" nor title pr"#, 16),
        (r#"(userName eq "x""#, 16),
        (r#"userName eq "x")"#, 15),
        (r#"userName eq "x"#, 12),
        (r#"userName eq "\q""#, 12),
        (r#"userName eq x"#, 12),
        (r#"9lives eq "x""#, 0),
        (r#"name..familyName eq "x""#, 0),
        (r#"a:b eq "x""#, 0),
        (r#"userName co 5"#, 12),
        (r#"active gt true"#, 10),
        (r#"title sw null"#, 9),
        (r#"emails[type eq "work""#, 21),
        (r#"emails[type[value eq "x"]]"#, 7),
        (r#"emails[name.familyName eq "x"]"#, 7),
        (r#"name.familyName[value eq "x"]"#, 0),
        // `not` without a group is an attribute named `not`, followed by no operator.
        (r#"not title pr"#, 4),
        (r#"emails[]"#, 7),
    ] {
        let err = parse(filter).expect_err(filter);
        assert_eq!(err.at, at, "{filter}: {err}");
        assert!(!err.message.is_empty());
    }
}

#[test]
fn deep_or_long_input_is_refused_without_recursing_into_it() {
    let deep = format!("{}title pr{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse(&deep).unwrap_err().message.contains("longer than"));
    let nested = format!("{}title pr{}", "(".repeat(40), ")".repeat(40));
    assert!(parse(&nested).unwrap_err().message.contains("deeper than"));
    let nots = format!("{}title pr{}", "not (".repeat(40), ")".repeat(40));
    assert!(parse(&nots).unwrap_err().message.contains("deeper than"));
    let fine = format!("{}title pr{}", "(".repeat(20), ")".repeat(20));
    assert_eq!(parse(&fine).unwrap(), Filter::Present(path("title", None)));
}

#[test]
fn patch_paths_name_an_attribute_values_of_it_or_a_sub_attribute_of_those() {
    assert_eq!(
        parse_path("name.familyName").unwrap(),
        PatchPath { attr: path("name", Some("familyName")), filter: None, sub: None }
    );
    assert_eq!(parse_path("active").unwrap().attr, path("active", None));
    let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
    assert_eq!((p.attr, p.filter, p.sub.as_deref()), (path("emails", None), Some(eq("type", "work")), Some("value")));
    let p = parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
    assert_eq!(p.filter, Some(eq("value", "2819c223-7f76-453a-919d-413861904646")));
    assert_eq!(p.sub, None);
    let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
    assert_eq!(p.attr.uri.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    assert_eq!(p.attr.name, "manager");
    for bad in
        ["", "emails[", r#"emails[type eq "work"]value"#, r#"emails[type eq "work"].9"#, "name familyName", "a eq b"]
    {
        assert!(parse_path(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_schema_refuses_ordering_a_boolean() {
    use crate::scim::schema::{GROUPS, USERS};
    // `active gt false` does not parse (no ordering of a boolean literal); a string does.
    assert!(parse("active gt false").is_err());
    let refused = |f: &str| parse(f).unwrap().check(&USERS).is_err();
    assert!(refused("active gt \"false\""));
    assert!(refused("userName sw \"a\" and not (active le \"true\")"));
    assert!(refused("emails[primary ge \"true\"]"), "a boolean sub-attribute inside a value path");
    assert!(refused("emails.primary lt \"x\""));
    assert!(!refused("active eq true"));
    assert!(!refused("meta.lastModified gt \"2026-01-01T00:00:00Z\""));
    assert!(!refused("name.familyName ge \"P\""));
    assert!(!refused("emails[type eq \"work\" and value gt \"a\"]"));
    assert!(parse("displayName gt \"A\"").unwrap().check(&GROUPS).is_ok());
}
