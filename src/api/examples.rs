//! The spec's examples work against the demo data. Each operation names the demo account
//! to try it as (`x-demo-caller`, shown in Swagger UI) and its path examples name demo
//! objects (fixed ids, [`crate::demo::ids`]); request bodies that would clash with the demo
//! (an e-mail address or enterprise number it already has) get an example of their own.
//! A test runs every documented request against a fresh demo service and expects success.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::demo::ids::*;
use crate::demo::{FACILITATOR_EMAIL, MEMBER_EMAIL, ORG_ADMIN_EMAIL, POLICY_READER_EMAIL, example_email};

const MIRA_EMAIL: &str = MEMBER_EMAIL;
const JONAS_EMAIL: &str = ORG_ADMIN_EMAIL;
const SOFIE_EMAIL: &str = "sofie.lievens@lievens-hout.example";
const PIETER_EMAIL: &str = "pieter.maes@leerhuislimburg.example";
const LOTTE_EMAIL: &str = "lotte.janssens@opleidingsfondsmetaal.example";

/// Who tries the SCIM operations on the demo: the demo identity provider's token, printed
/// with the demo client at the first start.
pub const SCIM_CALLER: &str = "the SCIM token of Zorgnet Kempen Entra ID (printed at the first start)";

/// Who tries an operation on the demo: the facilitator unless named here.
fn caller(method: &str, path: &str) -> &'static str {
    match (method, path) {
        (_, p) if p.starts_with("/scim/") => SCIM_CALLER,
        ("delete", "/v1/me") => example_email("eva"),
        (_, p) if p == "/v1/me" || p.starts_with("/v1/me/") => MIRA_EMAIL,
        (_, p) if p.starts_with("/v1/insights") => POLICY_READER_EMAIL,
        ("put", "/v1/people/{id}/password") => example_email("fien"),
        ("patch", "/v1/people/{id}") | (_, "/v1/people/{id}/learning-summary") => MIRA_EMAIL,
        (_, p) if p.starts_with("/v1/organisations/{id}/") => JONAS_EMAIL,
        ("patch", "/v1/organisations/{id}") => JONAS_EMAIL,
        (_, p) if p.starts_with("/v1/memberships/") => JONAS_EMAIL,
        (_, p) if p.starts_with("/v1/learning-records") => MIRA_EMAIL,
        ("post", "/v1/events") | ("patch" | "delete", "/v1/events/{id}") => JONAS_EMAIL,
        (_, "/v1/events/{id}/registrations") if method == "get" => JONAS_EMAIL,
        ("post", "/v1/events/{id}/registrations") => JONAS_EMAIL,
        (_, "/v1/events/{id}/commitments") => MIRA_EMAIL,
        ("post", "/v1/registrations/{id}/cancel") => SOFIE_EMAIL,
        ("get", "/v1/registrations/{id}") | ("post", "/v1/registrations/{id}/learning-record") => MIRA_EMAIL,
        ("delete", "/v1/commitments/{id}") => PIETER_EMAIL,
        (_, p) if p.starts_with("/v1/commitments/") => MIRA_EMAIL,
        ("patch", "/v1/challenges/{id}") => JONAS_EMAIL,
        ("post", p) if p.starts_with("/v1/challenges") => MIRA_EMAIL,
        (_, p) if p.starts_with("/v1/solutions/{id}/endorsements") => LOTTE_EMAIL,
        ("delete", "/v1/solutions/{id}/co-authors/{person_id}") => JONAS_EMAIL,
        ("get", _) => FACILITATOR_EMAIL,
        (_, p) if p.starts_with("/v1/solutions") => MIRA_EMAIL,
        _ => FACILITATOR_EMAIL,
    }
}

/// The example of a path parameter: a demo object that the operation works on.
fn path_example(method: &str, path: &str, name: &str) -> Option<String> {
    let id = |id: Uuid| Some(id.to_string());
    match (name, method, path) {
        ("system", _, "/v1/organisations/by-ref/{system}/{external_id}") => Some("crm".into()),
        ("system", ..) => Some("sdworx".into()),
        ("external_id", _, p) if p.contains("/learning-records/") => Some("LR-2026-00042".into()),
        ("external_id", "delete", p) if p.contains("/memberships/") => Some("EMP-00043".into()),
        ("external_id", "delete", p) if p.contains("/people/") => Some("EMP-00044".into()),
        ("external_id", _, "/v1/organisations/by-ref/{system}/{external_id}") => Some("ORG-0042".into()),
        ("external_id", ..) => Some("EMP-00042".into()),
        ("client_id", _, p) if p.ends_with("/scim-token") => id(SCIM_SPARE_CLIENT),
        ("client_id", ..) => id(REPORTING_CLIENT),
        ("webhook_id", ..) => id(ZORGNET_WEBHOOK),
        ("person_id", ..) => id(JONAS),
        ("number", ..) => None, // an integer: see `add_demo_examples`
        ("id", "delete", "/v1/organisations/{id}") => id(LEERPUNT),
        ("id", _, p) if p.starts_with("/v1/organisations/") => id(ZORGNET),
        ("id", "delete", "/v1/people/{id}") => id(DIRK),
        ("id", _, "/v1/people/{id}/password") => id(FIEN),
        ("id", _, p) if p.starts_with("/v1/people/") => id(MIRA),
        ("id", "delete", p) if p.starts_with("/v1/memberships/") => id(GERT_AT_ZORGNET),
        ("id", _, p) if p.starts_with("/v1/memberships/") => id(MIRA_AT_ZORGNET),
        ("id", "delete", "/v1/events/{id}") => id(DRAFT_EVENT),
        ("id", _, "/v1/events/{id}/commitments" | "/v1/events/{id}/commitment-summary") => id(INTERVISION_55),
        ("id", _, p) if p.starts_with("/v1/events/") => id(FEEDBACK_INTERVISION),
        ("id", _, "/v1/registrations/{id}/cancel") => id(SOFIE_FOR_FEEDBACK),
        ("id", _, "/v1/registrations/{id}/check-in") => id(KARIM_AT_HR_NETWORK),
        ("id", _, "/v1/registrations/{id}/no-show") => id(TOM_AT_HR_NETWORK),
        ("id", _, "/v1/registrations/{id}/learning-record") => id(MIRA_AT_INTERVISION_55),
        ("id", _, p) if p.starts_with("/v1/registrations/") => id(MIRA_FOR_FEEDBACK),
        ("id", "delete", p) if p.starts_with("/v1/commitments/") => id(PIETER_COMMITMENT),
        ("id", _, p) if p.starts_with("/v1/commitments/") => id(MIRA_COMMITMENT),
        ("id", "delete", p) if p.starts_with("/v1/learning-records/") => id(MIRA_OLD_RECORD),
        ("id", _, p) if p.starts_with("/v1/learning-records/") => id(MIRA_RECORD),
        ("id", "delete", "/v1/challenges/{id}") => id(MIRA_CHALLENGE),
        ("id", _, p) if p.starts_with("/v1/challenges/") => id(JONAS_CHALLENGE),
        ("id", "delete", p) if p.starts_with("/v1/comments/") => id(SOLUTION_COMMENT),
        ("id", _, p) if p.starts_with("/v1/comments/") => id(CHALLENGE_COMMENT),
        ("id", "patch" | "delete", "/v1/solutions/{id}") => id(MIRA_DRAFT),
        ("id", _, p) if p.starts_with("/v1/solutions/") => id(TANDEM_SOLUTION),
        ("id", _, p) if p.starts_with("/v1/themes/") => id(UNUSED_THEME),
        ("id", "delete", "/scim/v2/Users/{id}") => id(SCIM_BRAM),
        ("id", _, "/scim/v2/Users/{id}") => id(SCIM_HANNE),
        ("id", "delete", "/scim/v2/Groups/{id}") => id(SCIM_PROJECT),
        ("id", _, "/scim/v2/Groups/{id}") => id(SCIM_TEAM),
        ("id", _, "/scim/v2/ResourceTypes/{id}") => Some("User".into()),
        ("id", _, "/scim/v2/Schemas/{id}") => Some(crate::scim::schema::USER.into()),
        _ => None,
    }
}

/// Required headers' examples: the version a conditional change expects.
fn header_example(method: &str, path: &str, name: &str) -> Option<&'static str> {
    match (method, path, name) {
        ("patch", "/v1/solutions/{id}", "If-Match") => Some("\"1\""),
        _ => None,
    }
}

/// Request bodies that differ from their schema's example on this operation.
fn body_example(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        // Sign in as a demo member (a person's token carries their rights; no scope).
        ("post", "/v1/auth/token") => {
            Some(json!({"grant_type": "password", "username": MIRA_EMAIL, "password": crate::demo::PASSWORD}))
        }
        // Revoking a token that is unknown or already revoked succeeds too (RFC 7009).
        ("post", "/v1/auth/revoke") => Some(json!({"token": "vov_rt_3q2+7w5x9yA1bC4dE6fG8hJ0kL2mN4pQ6rS8tU0vW"})),
        ("post", "/v1/challenges") => Some(json!({
            "title": "Hoe houden we vijftigplussers aan het leren?",
            "description": "Onze oudere verpleegkundigen volgen amper nog opleiding. Wie heeft ervaring met leren op de werkvloer?",
            "organisation_id": ZORGNET,
            "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers"]},
            "themes": ["older-workers"]
        })),
        ("post", "/v1/events") => Some(json!({
            "organiser_id": ZORGNET,
            "title": "Olijfboomloopbanen: ontwikkelen op elke leeftijd",
            "summary": "Inspiratiesessie over duurzame loopbanen en leren na je vijftigste.",
            "format": "inspiration_session", "attendance_mode": "in_person",
            "starts_at": "2027-02-11T14:00:00+01:00", "ends_at": "2027-02-11T17:00:00+01:00",
            "time_zone": "Europe/Brussels",
            "venue": {"name": "ICC Gent", "address": "Van Rysselberghedreef 2", "postcode": "9000", "city": "Gent"},
            "capacity": 50, "themes": ["careers-at-every-age"],
            "stakeholder_groups": ["employer_representative", "hr_professional"], "status": "published"
        })),
        // Jonas registers a colleague of his organisation.
        ("post", "/v1/events/{id}/registrations") => Some(json!({"person_id": GERT})),
        ("post", "/v1/learning-records") => Some(json!({
            "title": "Intervisie over leren op de werkvloer",
            "description": "Drie teamleiders bespraken hoe ze nieuwe collega's inwerken.",
            "activity_type": "intervision", "started_on": "2027-02-10", "duration_minutes": 90,
            "reflection": {"learned": "Dat inwerken leren is, ook voor wie inwerkt."},
            "skills": [{"label": "feedback geven"}], "themes": ["workplace-learning"],
            "visibility": "organisation", "shared_with": [ZORGNET]
        })),
        ("put", "/v1/organisations/by-ref/{system}/{external_id}") => Some(json!({
            "name": "Wijkgezondheidscentrum De Brug", "kind": "employer", "enterprise_number": "0598.765.459",
            "sector": "86.21", "size_band": "small", "region": "antwerp", "themes": ["workplace-learning"],
            "website": "https://www.wgcdebrug.example"
        })),
        ("post", "/v1/organisations/{id}/learning-records/batch") => Some(json!({
            "system": "sdworx",
            "items": [{"external_id": "LR-2027-00017", "person_id": MIRA, "title": "Jobrotatie naar de planningsdienst",
                       "activity_type": "job_rotation", "started_on": "2027-03-01", "ended_on": "2027-03-31",
                       "duration_minutes": 4800}]
        })),
        ("put", "/v1/organisations/{id}/learning-records/by-ref/{system}/{external_id}") => Some(json!({
            "person_id": MIRA, "title": "E-learning palliatieve zorg", "activity_type": "online_course",
            "started_on": "2026-09-28", "duration_minutes": 900
        })),
        ("post", "/v1/organisations/{id}/learning-records/import") => Some(Value::String(format!(
            "external_id,person_id,title,activity_type,started_on,duration_minutes,themes\n\
             R-1,{MIRA},Coaching door de teamleider,coaching_mentoring,2027-02-01,60,workplace-learning\n"
        ))),
        ("put", "/v1/organisations/{id}/memberships/by-ref/{system}/{external_id}") => Some(json!({
            "person_id": ANN, "role": "employee", "starts_on": "2019-03-01", "ends_on": null
        })),
        ("post", "/v1/organisations/{id}/people") => Some(json!({
            "name": "Lien Vermeiren", "email": "lien.vermeiren@zorgnetkempen.example",
            "stakeholder_group": "hr_professional", "age_band": "35_44", "languages": ["nl"],
            "membership": {"role": "hr", "starts_on": "2024-09-01"}
        })),
        ("put", "/v1/organisations/{id}/people/by-ref/{system}/{external_id}") => Some(json!({
            "name": "Ann Hermans", "email": "ann.hermans@zorgnetkempen.example", "stakeholder_group": "employee",
            "age_band": "35_44", "languages": ["nl", "en"],
            "membership": {"role": "employee", "starts_on": "2019-03-01", "ends_on": null}
        })),
        ("post", "/v1/people") => Some(json!({
            "name": "Nora De Wit", "email": "nora.dewit@leerhuislimburg.example", "stakeholder_group": "employee",
            "birth_year": 1961, "languages": ["nl", "fr"]
        })),
        ("put", "/v1/people/{id}/password") => {
            Some(json!({"current_password": crate::demo::PASSWORD, "new_password": "lerenderwijs-2027!"}))
        }
        ("post", "/v1/solutions") => Some(json!({
            "title": "Leerpeters en -meters voor vijftigplussers",
            "summary": "Ervaren medewerkers begeleiden nieuwe collega's en leren zelf bij.",
            "body": "## Aanpak\n\nElke nieuwe collega krijgt een peter of meter van 50+.",
            "organisation_id": ZORGNET, "challenge_ids": [JONAS_CHALLENGE],
            "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers", "newcomers"]},
            "maturity": "idea", "themes": ["older-workers"]
        })),
        ("post", "/v1/solutions/{id}/co-authors") => Some(json!({"person_id": ANN, "organisation_id": ZORGNET})),
        ("put", "/v1/solutions/{id}/endorsements/me") => {
            Some(json!({"note": "Sterk voorbeeld. Ik stel het voor aan de bedrijven van ons sectorfonds."}))
        }
        // Hanne Verhoeven, as Okta sends her whole.
        ("put", "/scim/v2/Users/{id}") => Some(json!({
            "schemas": [crate::scim::schema::USER, crate::scim::schema::ENTERPRISE_USER],
            "id": SCIM_HANNE, "externalId": "entra-hanne", "userName": "hanne.verhoeven@zorgnetkempen.example",
            "name": {"givenName": "Hanne", "familyName": "Verhoeven"}, "displayName": "Hanne Verhoeven",
            "emails": [{"value": "hanne.verhoeven@zorgnetkempen.example", "type": "work", "primary": true}],
            "preferredLanguage": "nl-BE", "active": true,
            crate::scim::schema::ENTERPRISE_USER: {"department": "Thuiszorg Geel", "employeeNumber": "2107"}
        })),
        // As Entra sends a change of department and a deactivation.
        ("patch", "/scim/v2/Users/{id}") => Some(json!({
            "schemas": [crate::scim::patch::PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": format!("{}:department", crate::scim::schema::ENTERPRISE_USER), "value": "Woonzorg"},
                {"op": "Replace", "path": "active", "value": "False"}
            ]
        })),
        ("post", "/v1/themes") => Some(json!({
            "slug": "intergenerational-learning", "label_nl": "Intergenerationeel leren",
            "label_en": "Intergenerational learning",
            "description": "Jong en oud leren van elkaar op het werk: kennis doorgeven in twee richtingen."
        })),
        _ => None,
    }
}

/// Adds the demo caller and the path, header and body examples to every operation.
pub(crate) fn add_demo_examples(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
            if !public {
                op["x-demo-caller"] = json!(caller(method, path));
            }
            for param in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                let name = param["name"].as_str().unwrap_or_default().to_string();
                let example = match param["in"].as_str() {
                    Some("path") if name == "number" => Some(json!(1)),
                    Some("path") => path_example(method, path, &name).map(Value::String),
                    Some("header") if param["required"] == json!(true) => {
                        header_example(method, path, &name).map(|v| Value::String(v.into()))
                    }
                    _ => None,
                };
                if let Some(example) = example {
                    param["example"] = example;
                }
            }
            if let Some(example) = body_example(method, path)
                && let Some(content) = op.pointer_mut("/requestBody/content").and_then(Value::as_object_mut)
            {
                for media in content.values_mut() {
                    media["example"] = example.clone();
                }
            }
        }
    }
}
