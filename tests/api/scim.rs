//! SCIM 2.0 at `/scim/v2`: credentials, the users' life cycle as identity providers drive
//! it, two organisations, filters and pages, the change feed and retries.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, json};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, feed, get, organisation, person_in, post};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An organisation with a client holding `scim`, and that client's static SCIM token.
struct Tenant {
    org: String,
    client: String,
    token: String,
}

async fn tenant(app: &TestApp, facilitator: &str, name: &str) -> Tenant {
    let org = organisation(app, facilitator, name, "employer").await["id"].as_str().unwrap().to_string();
    let body = json!({"name": "Entra ID provisioning", "scopes": ["scim"]});
    let created =
        expect(post(app, facilitator, &format!("/v1/organisations/{org}/clients"), body).await, StatusCode::CREATED)
            .await;
    let client = created["client"]["id"].as_str().unwrap().to_string();
    let made = app
        .post(&format!("/v1/organisations/{org}/clients/{client}/scim-token"))
        .bearer_auth(facilitator)
        .send()
        .await
        .unwrap();
    let made = expect(made, StatusCode::CREATED).await;
    assert_eq!(made["scim_base_url"], "/scim/v2");
    Tenant { org, client, token: made["scim_token"].as_str().unwrap().to_string() }
}

async fn scim(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Response {
    let mut req = app.request(method, &format!("/scim/v2{path}")).bearer_auth(token);
    if let Some(body) = body {
        req = req.header("content-type", "application/scim+json").body(body.to_string());
    }
    req.send().await.unwrap()
}

/// Asserts a SCIM answer of `status` in `application/scim+json` and gives its body.
async fn answered(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = json(res).await;
    assert_eq!(actual, status, "{body}");
    assert!(kind.starts_with("application/scim+json"), "content type {kind}");
    body
}

/// Asserts a SCIM error of `status` (and `scim_type`, when given).
async fn refused(res: Response, status: StatusCode, scim_type: Option<&str>) -> Value {
    let body = answered(res, status).await;
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{body}");
    assert_eq!(body["status"], status.as_u16().to_string(), "{body}");
    if let Some(t) = scim_type {
        assert_eq!(body["scimType"], t, "{body}");
    }
    body
}

/// What Entra ID sends to create a user.
fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "An Peeters",
        "title": "Verpleegkundige",
        "emails": [{"primary": true, "type": "work", "value": user_name.to_lowercase()}],
        "name": {"formatted": "An Peeters", "familyName": "Peeters", "givenName": "An"},
        "preferredLanguage": "nl-BE",
        ENTERPRISE: {"employeeNumber": "1042", "department": "Zorg"}
    })
}

fn unique(name: &str) -> String {
    format!("{name}.{}@example.be", &Uuid::now_v7().simple().to_string()[20..])
}

async fn credentials_are_one_organisations_scim_clients(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Zorgnet Oost").await;
    // The static token, and an access token of a client with `scim`, both work.
    let config =
        answered(scim(&app, &t.token, Method::GET, "/ServiceProviderConfig", None).await, StatusCode::OK).await;
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    let access = client_token(&app, &f.token, &t.org, &["scim"]).await;
    answered(scim(&app, &access, Method::GET, "/Users", None).await, StatusCode::OK).await;

    // Nobody else: no token, a made-up token, a client without `scim`, a person.
    let res = app.get("/scim/v2/Users").send().await.unwrap();
    assert!(res.headers().get("www-authenticate").is_some());
    refused(res, StatusCode::UNAUTHORIZED, None).await;
    refused(scim(&app, "vov_scim_madeup", Method::GET, "/Users", None).await, StatusCode::UNAUTHORIZED, None).await;
    let people = client_token(&app, &f.token, &t.org, &["people:read", "people:write"]).await;
    refused(scim(&app, &people, Method::GET, "/Users", None).await, StatusCode::FORBIDDEN, None).await;
    refused(scim(&app, &f.token, Method::GET, "/Users", None).await, StatusCode::FORBIDDEN, None).await;
    // The static token works under /scim/v2 only.
    let res = get(&app, &t.token, "/v1/people").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A client without `scim` gets no SCIM token.
    let body = json!({"name": "HR", "scopes": ["people:read"]});
    let other =
        expect(post(&app, &f.token, &format!("/v1/organisations/{}/clients", t.org), body).await, StatusCode::CREATED)
            .await;
    let res = app
        .post(&format!("/v1/organisations/{}/clients/{}/scim-token", t.org, other["client"]["id"].as_str().unwrap()))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // A new token replaces the old one at once; removing it ends it; revoking the client too.
    let path = format!("/v1/organisations/{}/clients/{}/scim-token", t.org, t.client);
    let again = expect(app.post(&path).bearer_auth(&f.token).send().await.unwrap(), StatusCode::CREATED).await;
    let second = again["scim_token"].as_str().unwrap();
    refused(scim(&app, &t.token, Method::GET, "/Users", None).await, StatusCode::UNAUTHORIZED, None).await;
    answered(scim(&app, second, Method::GET, "/Users", None).await, StatusCode::OK).await;
    let res = app.request(Method::DELETE, &path).bearer_auth(&f.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused(scim(&app, second, Method::GET, "/Users", None).await, StatusCode::UNAUTHORIZED, None).await;
    let third = expect(app.post(&path).bearer_auth(&f.token).send().await.unwrap(), StatusCode::CREATED).await;
    let third = third["scim_token"].as_str().unwrap();
    let res = app
        .request(Method::DELETE, &format!("/v1/organisations/{}/clients/{}", t.org, t.client))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused(scim(&app, third, Method::GET, "/Users", None).await, StatusCode::UNAUTHORIZED, None).await;

    // Discovery describes what is served, and takes no writes.
    let t = tenant(&app, &f.token, "Zorgnet West").await;
    let types = answered(scim(&app, &t.token, Method::GET, "/ResourceTypes", None).await, StatusCode::OK).await;
    assert_eq!(types["totalResults"], 2);
    let user = answered(scim(&app, &t.token, Method::GET, "/ResourceTypes/User", None).await, StatusCode::OK).await;
    assert_eq!(user["schemaExtensions"][0]["schema"], ENTERPRISE);
    let schema =
        answered(scim(&app, &t.token, Method::GET, &format!("/Schemas/{USER}"), None).await, StatusCode::OK).await;
    let user_name = schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    refused(scim(&app, &t.token, Method::GET, "/Schemas/urn:nothing", None).await, StatusCode::NOT_FOUND, None).await;
    let res = scim(&app, &t.token, Method::POST, "/Schemas", Some(json!({}))).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn a_user_lives_as_the_identity_provider_says(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Woonzorg Kempen").await;
    let name = unique("An.Peeters");
    let res = scim(&app, &t.token, Method::POST, "/Users", Some(entra_user(&name, "entra-0001"))).await;
    let location = res.headers().get("location").unwrap().to_str().unwrap().to_string();
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let created = answered(res, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(location.ends_with(&format!("/scim/v2/Users/{id}")), "{location}");
    assert_eq!(created["meta"]["location"], location);
    assert_eq!(created["meta"]["version"], etag);
    assert_eq!(created["userName"], name);
    assert_eq!(created["active"], true);
    assert_eq!(created["externalId"], "entra-0001");
    assert_eq!(created["name"]["givenName"], "An");
    assert_eq!(created[ENTERPRISE]["department"], "Zorg");
    assert!(created.get("title").is_none(), "attributes the network does not keep are not kept");

    // The person is in the network, a member of the organisation, known by the reference.
    let person = expect(get(&app, &f.token, &format!("/v1/people/{id}")).await, StatusCode::OK).await;
    assert_eq!(person["name"], "An Peeters");
    assert_eq!(person["email"], name.to_lowercase());
    let members =
        expect(get(&app, &f.token, &format!("/v1/organisations/{}/memberships", t.org)).await, StatusCode::OK).await;
    assert_eq!(members["data"].as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members["data"][0]["ends_on"], Value::Null);

    // Read back, and found by userName whatever its case.
    let read = answered(scim(&app, &t.token, Method::GET, &format!("/Users/{id}"), None).await, StatusCode::OK).await;
    assert_eq!(read, created);
    let filter = format!("/Users?filter={}", urlencode(&format!("userName eq \"{}\"", name.to_uppercase())));
    let list = answered(scim(&app, &t.token, Method::GET, &filter, None).await, StatusCode::OK).await;
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["id"], id.as_str());

    // userName and externalId are unique in the organisation.
    let mut twin = entra_user(&name.to_uppercase(), "entra-0002");
    twin["emails"] = json!([{"value": unique("other"), "primary": true}]);
    refused(scim(&app, &t.token, Method::POST, "/Users", Some(twin)).await, StatusCode::CONFLICT, Some("uniqueness"))
        .await;
    let mut twin = entra_user(&unique("other"), "entra-0001");
    twin["emails"] = json!([]);
    refused(scim(&app, &t.token, Method::POST, "/Users", Some(twin)).await, StatusCode::CONFLICT, Some("uniqueness"))
        .await;

    // Entra deactivates: `Replace` with "False", no path. The membership ends; nothing goes.
    let off = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "value": {"active": "False"}}]});
    let patched =
        answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(off)).await, StatusCode::OK).await;
    assert_eq!(patched["active"], false);
    assert_ne!(patched["meta"]["version"], created["meta"]["version"]);
    let members =
        expect(get(&app, &f.token, &format!("/v1/organisations/{}/memberships", t.org)).await, StatusCode::OK).await;
    assert!(members["data"][0]["ends_on"].is_string(), "{members}");
    let inactive = format!("/Users?filter={}", urlencode("active eq false"));
    let list = answered(scim(&app, &t.token, Method::GET, &inactive, None).await, StatusCode::OK).await;
    assert_eq!(list["totalResults"], 1);
    // ... and restores it.
    let on = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": true}]});
    let patched =
        answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(on)).await, StatusCode::OK).await;
    assert_eq!(patched["active"], true);
    let members =
        expect(get(&app, &f.token, &format!("/v1/organisations/{}/memberships", t.org)).await, StatusCode::OK).await;
    let list = members["data"].as_array().unwrap();
    assert!(list.iter().any(|m| m["ends_on"].is_null()), "a membership in force again: {members}");

    // Entra sets a first work address through a filter that matches nothing yet.
    let home = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "emails[type eq \"home\"].value", "value": "an@thuis.example"},
        {"op": "Replace", "path": "name.familyName", "value": "Peeters-Janssens"},
        {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Thuiszorg"}
    ]});
    let patched =
        answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(home)).await, StatusCode::OK).await;
    let emails = patched["emails"].as_array().unwrap();
    assert!(emails.iter().any(|e| e["type"] == "home" && e["value"] == "an@thuis.example"), "{patched}");
    assert_eq!(patched["name"]["familyName"], "Peeters-Janssens");
    assert_eq!(patched[ENTERPRISE]["department"], "Thuiszorg");
    // A path that names nothing is refused (one RFC 7643 defines but the network does not
    // keep, such as `nickName`, is ignored).
    let ignored = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "nickname", "value": "x"}]});
    let same =
        answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(ignored)).await, StatusCode::OK)
            .await;
    assert_eq!(same["meta"]["version"], patched["meta"]["version"], "nothing changed");
    let bad =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "favouriteColour", "value": "x"}]});
    refused(
        scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(bad)).await,
        StatusCode::BAD_REQUEST,
        Some("invalidPath"),
    )
    .await;

    // Okta replaces the whole user, `id` and all; If-Match guards it.
    let current = patched["meta"]["version"].as_str().unwrap().to_string();
    let mut whole = patched.clone();
    whole["displayName"] = json!("An Peeters-Janssens");
    let res = app
        .request(Method::PUT, &format!("/scim/v2/Users/{id}"))
        .bearer_auth(&t.token)
        .header("content-type", "application/json")
        .header("if-match", "W/\"1\"")
        .body(whole.to_string())
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::PRECONDITION_FAILED, None).await;
    let res = app
        .request(Method::PUT, &format!("/scim/v2/Users/{id}"))
        .bearer_auth(&t.token)
        .header("content-type", "application/json")
        .header("if-match", &current)
        .body(whole.to_string())
        .send()
        .await
        .unwrap();
    let replaced = answered(res, StatusCode::OK).await;
    assert_eq!(replaced["displayName"], "An Peeters-Janssens");
    let person = expect(get(&app, &f.token, &format!("/v1/people/{id}")).await, StatusCode::OK).await;
    assert_eq!(person["name"], "An Peeters-Janssens", "the person's name follows the provider");

    // Bad bodies are SCIM errors, never 500.
    let res = app
        .post("/scim/v2/Users")
        .bearer_auth(&t.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, None).await;
    let res = app
        .post("/scim/v2/Users")
        .bearer_auth(&t.token)
        .header("content-type", "application/scim+json")
        .body("{")
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    for body in [
        json!({"userName": unique("x"), "emails": [{"value": "not an address"}]}),
        json!({"userName": unique("x"), "favouriteColour": "blue"}),
        json!({"userName": 7}),
    ] {
        refused(
            scim(&app, &t.token, Method::POST, "/Users", Some(body)).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        )
        .await;
    }
    refused(scim(&app, &t.token, Method::GET, "/Users/not-an-id", None).await, StatusCode::NOT_FOUND, None).await;

    // Deprovisioned: the person belonged nowhere else and never signed in, so they are erased.
    let res = scim(&app, &t.token, Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused(scim(&app, &t.token, Method::GET, &format!("/Users/{id}"), None).await, StatusCode::NOT_FOUND, None).await;
    let res = get(&app, &f.token, &format!("/v1/people/{id}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn two_organisations_see_one_person_twice_and_never_each_others(app: TestApp) {
    let f = app.facilitator().await;
    let a = tenant(&app, &f.token, "Bouwbedrijf A").await;
    let b = tenant(&app, &f.token, "Schoonmaak B").await;
    // A person with their own sign-in, a member of A.
    let (person, _) = person_in(&app, &f.token, &a.org, "Jan De Vos", "employee").await;
    let mut jan = entra_user(&person.email, "a-jan");
    jan["displayName"] = json!("Jan De Vos");
    let in_a =
        answered(scim(&app, &a.token, Method::POST, "/Users", Some(jan.clone())).await, StatusCode::CREATED).await;
    assert_eq!(in_a["id"], person.id.to_string(), "the member is linked by address, not copied");

    // B does not see A's user, and does not claim a person of the network by address.
    refused(
        scim(&app, &b.token, Method::GET, &format!("/Users/{}", person.id), None).await,
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let list = answered(scim(&app, &b.token, Method::GET, "/Users", None).await, StatusCode::OK).await;
    assert_eq!(list["totalResults"], 0);
    let mut for_b = jan.clone();
    for_b["externalId"] = json!("b-jan");
    refused(
        scim(&app, &b.token, Method::POST, "/Users", Some(for_b.clone())).await,
        StatusCode::CONFLICT,
        Some("uniqueness"),
    )
    .await;
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let body = match method {
            Method::PUT => Some(for_b.clone()),
            Method::PATCH => Some(
                json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
            ),
            _ => None,
        };
        refused(
            scim(&app, &b.token, method, &format!("/Users/{}", person.id), body).await,
            StatusCode::NOT_FOUND,
            None,
        )
        .await;
    }

    // Once B counts them among its members, B's provider gets its own view of the person.
    let body = json!({"person_id": person.id, "role": "employee", "starts_on": "2024-01-01"});
    expect(post(&app, &f.token, &format!("/v1/organisations/{}/memberships", b.org), body).await, StatusCode::CREATED)
        .await;
    for_b["userName"] = json!("jdv@schoonmaak-b.example");
    let in_b = answered(scim(&app, &b.token, Method::POST, "/Users", Some(for_b)).await, StatusCode::CREATED).await;
    assert_eq!(in_b["id"], in_a["id"]);
    assert_eq!(in_b["userName"], "jdv@schoonmaak-b.example");

    // Deactivated in A, still active in B.
    let off = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    answered(scim(&app, &a.token, Method::PATCH, &format!("/Users/{}", person.id), Some(off)).await, StatusCode::OK)
        .await;
    let in_b =
        answered(scim(&app, &b.token, Method::GET, &format!("/Users/{}", person.id), None).await, StatusCode::OK).await;
    assert_eq!(in_b["active"], true);

    // The address a person signs in with is theirs: a provider's other address does not
    // replace it, and does not stop the rest of the change (a leaver is still deactivated).
    let b_before = get(&app, &b.token, &format!("/v1/people/{}", person.id)).await;
    let b_etag = b_before.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
    let mut moved = jan.clone();
    moved["emails"] = json!([{"value": unique("elders"), "primary": true}]);
    moved["active"] = json!(false);
    moved[ENTERPRISE]["department"] = json!("Elders");
    let answer = answered(
        scim(&app, &a.token, Method::PUT, &format!("/Users/{}", person.id), Some(moved)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["active"], false);
    assert_eq!(answer["emails"][0]["value"], person.email.to_lowercase(), "the network's address is the person's");
    let me = expect(get(&app, &person.token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["email"], person.email);
    // What only A's provider keeps (a department, a deactivation in A) moves nothing B sees.
    let b_after = get(&app, &b.token, &format!("/v1/people/{}", person.id)).await;
    assert_eq!(b_after.headers().get("etag").map(|v| v.to_str().unwrap().to_string()), b_etag);

    // Deleted in A: the person stays in the network (B's member, with a sign-in).
    let res = scim(&app, &a.token, Method::DELETE, &format!("/Users/{}", person.id), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect(get(&app, &person.token, "/v1/me").await, StatusCode::OK).await;
    answered(scim(&app, &b.token, Method::GET, &format!("/Users/{}", person.id), None).await, StatusCode::OK).await;
    // What the providers keep about them is in their own export: B's, no more A's.
    let export = expect(get(&app, &person.token, "/v1/me/export").await, StatusCode::OK).await;
    let kept = export["identity_providers"].as_array().unwrap();
    assert_eq!(kept.len(), 1, "{export}");
    assert_eq!(kept[0]["user_name"], "jdv@schoonmaak-b.example");
    assert_eq!(kept[0]["organisation_id"], b.org.as_str());
    let list = answered(scim(&app, &a.token, Method::GET, "/Users", None).await, StatusCode::OK).await;
    assert_eq!(list["totalResults"], 0);

    // An organisation's admin is not deactivated or deleted by its provider.
    let (admin, _) = person_in(&app, &f.token, &b.org, "Els Admin", "org_admin").await;
    let admin_user = entra_user(&admin.email, "b-els");
    answered(scim(&app, &b.token, Method::POST, "/Users", Some(admin_user)).await, StatusCode::CREATED).await;
    let off = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    refused(
        scim(&app, &b.token, Method::PATCH, &format!("/Users/{}", admin.id), Some(off)).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    refused(
        scim(&app, &b.token, Method::DELETE, &format!("/Users/{}", admin.id), None).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
}

async fn filters_pages_and_projections_follow_rfc_7644(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Filterfabriek").await;
    let mut ids = Vec::new();
    for (i, (given, dept)) in
        [("Anna", "Zorg"), ("Bart", "Bouw"), ("Celine", "Zorg"), ("Dirk", "ICT"), ("Eva", "Zorg")].iter().enumerate()
    {
        let body = json!({
            "schemas": [USER, ENTERPRISE],
            "userName": format!("{}{}@filter.example", given.to_lowercase(), i),
            "name": {"givenName": given, "familyName": "Test"},
            "emails": [{"value": format!("{}{}@filter.example", given.to_lowercase(), i), "type": "work", "primary": true}],
            "active": i != 3,
            ENTERPRISE: {"department": dept}
        });
        let created =
            answered(scim(&app, &t.token, Method::POST, "/Users", Some(body)).await, StatusCode::CREATED).await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let query = |q: &str| format!("/Users?{q}");
    let list = |_: &TestApp, q: String| listed(&app, &t.token, q);
    // Pages: 1-based, totalResults counts every match.
    let page = list(&app, query("startIndex=2&count=2")).await;
    assert_eq!(
        (page["totalResults"].clone(), page["startIndex"].clone(), page["itemsPerPage"].clone()),
        (json!(5), json!(2), json!(2))
    );
    assert_eq!(page["Resources"][0]["id"], ids[1].as_str());
    let page = list(&app, query("startIndex=0&count=0")).await;
    assert_eq!((page["totalResults"].clone(), page["itemsPerPage"].clone()), (json!(5), json!(0)));
    let page = list(&app, query("startIndex=9")).await;
    assert_eq!((page["totalResults"].clone(), page["itemsPerPage"].clone()), (json!(5), json!(0)));

    let count = |filter: &str| counted(&app, &t.token, query(&format!("filter={}", urlencode(filter))));
    assert_eq!(count(&format!("{ENTERPRISE}:department eq \"zorg\"")).await, 3, "department is not case-exact");
    assert_eq!(count("name.givenName sw \"a\" or name.givenName sw \"B\"").await, 2);
    assert_eq!(count("not (active eq true)").await, 1);
    assert_eq!(count("emails[type eq \"work\" and value co \"celine\"]").await, 1);
    assert_eq!(count("userName ew \"@FILTER.example\" and active eq true").await, 4);
    assert_eq!(count("externalId pr").await, 0);
    assert_eq!(count(&format!("id eq \"{}\"", ids[4])).await, 1);
    assert_eq!(count("id eq \"not-an-id\"").await, 0);
    assert_eq!(count("meta.created gt \"2000-01-01T00:00:00Z\"").await, 5);
    for bad in [
        "userName eq",
        "userName zz \"a\"",
        "(active eq true",
        "emails[type eq \"work\"",
        "active gt \"false\"",
        "emails[primary ge \"true\"]",
    ] {
        let res = scim(&app, &t.token, Method::GET, &query(&format!("filter={}", urlencode(bad))), None).await;
        refused(res, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
    }

    // attributes / excludedAttributes: id and schemas always come.
    let page = list(&app, query("count=1&attributes=userName")).await;
    let user = page["Resources"][0].as_object().unwrap();
    let mut keys: Vec<&str> = user.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let page = list(&app, query("count=1&excludedAttributes=emails,meta")).await;
    assert!(page["Resources"][0].get("emails").is_none() && page["Resources"][0].get("userName").is_some());

    // The same query in a SearchRequest body.
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": format!("{ENTERPRISE}:department eq \"Zorg\""), "startIndex": 1, "count": 2, "attributes": ["userName"]});
    let found =
        answered(scim(&app, &t.token, Method::POST, "/Users/.search", Some(search)).await, StatusCode::OK).await;
    assert_eq!((found["totalResults"].clone(), found["itemsPerPage"].clone()), (json!(3), json!(2)));
    assert!(found["Resources"][0].get("emails").is_none());
}

async fn every_change_is_in_the_feed_and_retries_do_nothing_twice(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Feedfabriek").await;
    let reader = client_token(&app, &f.token, &t.org, &["people:read"]).await;
    let name = unique("retry");
    let body = entra_user(&name, "retry-1");
    let send = || {
        app.post("/scim/v2/Users")
            .bearer_auth(&t.token)
            .header("content-type", "application/scim+json")
            .header("idempotency-key", "create-retry-1")
            .body(body.to_string())
            .send()
    };
    let first = answered(send().await.unwrap(), StatusCode::CREATED).await;
    let res = send().await.unwrap();
    assert_eq!(res.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let second = answered(res, StatusCode::CREATED).await;
    assert_eq!(first["id"], second["id"]);
    let list = answered(scim(&app, &t.token, Method::GET, "/Users", None).await, StatusCode::OK).await;
    assert_eq!(list["totalResults"], 1);

    let id = first["id"].as_str().unwrap();
    let off = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(off)).await, StatusCode::OK).await;
    let dept = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Onthaal"}]});
    answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(dept)).await, StatusCode::OK).await;

    let changes = feed(&app, &reader, "person,membership").await;
    let person: Vec<&Value> = changes.iter().filter(|c| c["type"] == "person" && c["id"] == id).collect();
    let membership: Vec<&Value> = changes.iter().filter(|c| c["type"] == "membership").collect();
    assert_eq!(person.len(), 1, "one entry per resource, its latest: {changes:?}");
    assert_eq!(person[0]["version"], 1, "a deactivation and a department are not the person's changes");
    assert_eq!(membership.len(), 1, "{changes:?}");
    assert!(membership[0]["resource"]["ends_on"].is_string(), "the deactivation is in the feed: {membership:?}");

    // Deleted: the organisation's replicas are told to drop the person.
    let res = scim(&app, &t.token, Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let changes = feed(&app, &reader, "person,membership").await;
    assert!(
        changes.iter().any(|c| c["type"] == "person" && c["id"] == id && c["operation"] == "delete"),
        "{changes:?}"
    );
}

async fn listed(app: &TestApp, token: &str, path: String) -> Value {
    answered(scim(app, token, Method::GET, &path, None).await, StatusCode::OK).await
}

async fn counted(app: &TestApp, token: &str, path: String) -> i64 {
    listed(app, token, path).await["totalResults"].as_i64().unwrap()
}

async fn a_user_without_an_address_gets_one_that_reaches_nobody(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Productiebedrijf").await;
    // Staff without a mailbox: only a sign-in name.
    let created = answered(
        scim(&app, &t.token, Method::POST, "/Users", Some(json!({"userName": "op-1042"}))).await,
        StatusCode::CREATED,
    )
    .await;
    assert!(created.get("emails").is_none(), "no address is made up in the provider's view: {created}");
    assert!(created.get("displayName").is_none(), "the provider gave none: {created}");
    let id = created["id"].as_str().unwrap();
    let person = expect(get(&app, &f.token, &format!("/v1/people/{id}")).await, StatusCode::OK).await;
    assert_eq!(person["name"], "op-1042", "the network names them by their sign-in name");
    assert_eq!(person["email"], format!("{}@no-email.invalid", id.replace('-', "")));
    // The provider's first address replaces it.
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "emails", "value": [{"value": "op1042@werk.example", "type": "work"}]}]});
    answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(add)).await, StatusCode::OK).await;
    let person = expect(get(&app, &f.token, &format!("/v1/people/{id}")).await, StatusCode::OK).await;
    assert_eq!(person["email"], "op1042@werk.example");
}

async fn groups_hold_the_organisations_users(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Groepenhuis").await;
    let other = tenant(&app, &f.token, "Ander huis").await;
    let mut users = Vec::new();
    for name in ["an", "bo", "cas"] {
        let body = json!({"userName": format!("{name}@groepen.example"), "displayName": name.to_uppercase()});
        let created =
            answered(scim(&app, &t.token, Method::POST, "/Users", Some(body)).await, StatusCode::CREATED).await;
        users.push(created["id"].as_str().unwrap().to_string());
    }
    let stranger = answered(
        scim(&app, &other.token, Method::POST, "/Users", Some(json!({"userName": "x@ander.example"}))).await,
        StatusCode::CREATED,
    )
    .await;

    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Thuiszorg", "externalId": "g-1",
        "members": [{"value": users[0]}, {"value": users[1], "type": "User"}]});
    let res = scim(&app, &t.token, Method::POST, "/Groups", Some(body.clone())).await;
    assert!(res.headers().get("location").is_some());
    let group = answered(res, StatusCode::CREATED).await;
    let gid = group["id"].as_str().unwrap().to_string();
    assert_eq!(group["members"].as_array().unwrap().len(), 2);
    // Its users show it; the other organisation sees nothing of it.
    let an =
        answered(scim(&app, &t.token, Method::GET, &format!("/Users/{}", users[0]), None).await, StatusCode::OK).await;
    assert_eq!(an["groups"][0]["value"], gid.as_str());
    assert_eq!(an["groups"][0]["display"], "Thuiszorg");
    // ... and so do their memberships in the API.
    let memberships =
        expect(get(&app, &f.token, &format!("/v1/people/{}/memberships", users[0])).await, StatusCode::OK).await;
    assert_eq!(memberships["data"][0]["groups"], json!([{"id": gid, "name": "Thuiszorg"}]));
    let theirs =
        expect(get(&app, &f.token, &format!("/v1/organisations/{}/memberships", t.org)).await, StatusCode::OK).await;
    let with_groups = theirs["data"].as_array().unwrap().iter().filter(|m| m.get("groups").is_some()).count();
    assert_eq!(with_groups, 2, "{theirs}");
    refused(scim(&app, &other.token, Method::GET, &format!("/Groups/{gid}"), None).await, StatusCode::NOT_FOUND, None)
        .await;
    assert_eq!(listed(&app, &other.token, "/Groups".into()).await["totalResults"], 0);
    // Names are unique ignoring case; members are the organisation's users only.
    let mut twin = body.clone();
    twin["displayName"] = json!("THUISZORG");
    refused(scim(&app, &t.token, Method::POST, "/Groups", Some(twin)).await, StatusCode::CONFLICT, Some("uniqueness"))
        .await;
    let foreign = json!({"displayName": "Gemengd", "members": [{"value": stranger["id"]}]});
    refused(
        scim(&app, &t.token, Method::POST, "/Groups", Some(foreign)).await,
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    )
    .await;

    // Members added and removed as Entra and Okta do it.
    let path = format!("/Groups/{gid}");
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": [{"value": users[2]}]}]});
    let g = answered(scim(&app, &t.token, Method::PATCH, &path, Some(add)).await, StatusCode::OK).await;
    assert_eq!(g["members"].as_array().unwrap().len(), 3);
    let remove = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": users[0]}]}]});
    let g = answered(scim(&app, &t.token, Method::PATCH, &path, Some(remove)).await, StatusCode::OK).await;
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    let remove = json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": format!("members[value eq \"{}\"]", users[1])}]});
    let g = answered(scim(&app, &t.token, Method::PATCH, &path, Some(remove)).await, StatusCode::OK).await;
    assert_eq!(
        g["members"],
        json!([{"value": users[2], "$ref": format!("{}/Users/{}", g["meta"]["location"].as_str().unwrap().split("/Groups/").next().unwrap(), users[2]), }])
    );
    let rename = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "displayName", "value": "Thuiszorg Kempen"}]});
    answered(scim(&app, &t.token, Method::PATCH, &path, Some(rename)).await, StatusCode::OK).await;
    let found =
        listed(&app, &t.token, format!("/Groups?filter={}", urlencode("displayName eq \"thuiszorg kempen\""))).await;
    assert_eq!(found["totalResults"], 1);
    let slim = listed(&app, &t.token, "/Groups?excludedAttributes=members".into()).await;
    assert!(slim["Resources"][0].get("members").is_none());

    // A user who leaves leaves the group; deleting the group leaves its users.
    let res = scim(&app, &t.token, Method::DELETE, &format!("/Users/{}", users[2]), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let g = answered(scim(&app, &t.token, Method::GET, &path, None).await, StatusCode::OK).await;
    assert_eq!(g["members"], json!([]));
    let res = app
        .request(Method::DELETE, &format!("/scim/v2{path}"))
        .bearer_auth(&t.token)
        .header("if-match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::PRECONDITION_FAILED, None).await;
    let res = scim(&app, &t.token, Method::DELETE, &path, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused(scim(&app, &t.token, Method::GET, &path, None).await, StatusCode::NOT_FOUND, None).await;
    answered(scim(&app, &t.token, Method::GET, &format!("/Users/{}", users[0]), None).await, StatusCode::OK).await;
}

async fn the_network_keeps_its_rules_behind_the_provider(app: TestApp) {
    let f = app.facilitator().await;
    let t = tenant(&app, &f.token, "Regelhuis").await;
    let other = tenant(&app, &f.token, "Buurhuis").await;
    // An organisation's admin, not only a facilitator, makes the SCIM token.
    let (admin, _) = person_in(&app, &f.token, &t.org, "Ilse Admin", "org_admin").await;
    let body = json!({"name": "Okta", "scopes": ["scim"]});
    let created = expect(
        post(&app, &admin.token, &format!("/v1/organisations/{}/clients", t.org), body).await,
        StatusCode::CREATED,
    )
    .await;
    let res = app
        .post(&format!("/v1/organisations/{}/clients/{}/scim-token", t.org, created["client"]["id"].as_str().unwrap()))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    let okta = expect(res, StatusCode::CREATED).await["scim_token"].as_str().unwrap().to_string();
    answered(scim(&app, &okta, Method::GET, "/Users", None).await, StatusCode::OK).await;
    // ... but not another organisation's admin.
    let res = app
        .post(&format!("/v1/organisations/{}/clients/{}/scim-token", other.org, other.client))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A former member is not claimed by address.
    let (former, membership) = person_in(&app, &f.token, &t.org, "Oud Lid", "employee").await;
    let res = app
        .request(Method::PATCH, &format!("/v1/memberships/{membership}"))
        .bearer_auth(&f.token)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"ends_on": "2021-12-31"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    refused(
        scim(&app, &t.token, Method::POST, "/Users", Some(entra_user(&former.email, "former"))).await,
        StatusCode::CONFLICT,
        Some("uniqueness"),
    )
    .await;

    // A person who signs in stays in the network when their only organisation deprovisions them.
    let (own, _) = person_in(&app, &f.token, &t.org, "Eigen Login", "employee").await;
    answered(
        scim(&app, &t.token, Method::POST, "/Users", Some(entra_user(&own.email, "own"))).await,
        StatusCode::CREATED,
    )
    .await;
    let res = scim(&app, &t.token, Method::DELETE, &format!("/Users/{}", own.id), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect(get(&app, &own.token, "/v1/me").await, StatusCode::OK).await;
    // Deactivated and back: a new membership from today; the old one keeps its history.
    let name = unique("terug");
    let user = answered(
        scim(&app, &t.token, Method::POST, "/Users", Some(entra_user(&name, "terug"))).await,
        StatusCode::CREATED,
    )
    .await;
    let id = user["id"].as_str().unwrap();
    for active in [false, true] {
        let op = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]});
        answered(scim(&app, &t.token, Method::PATCH, &format!("/Users/{id}"), Some(op)).await, StatusCode::OK).await;
    }
    let memberships = expect(get(&app, &f.token, &format!("/v1/people/{id}/memberships")).await, StatusCode::OK).await;
    let list = memberships["data"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{memberships}");
    assert!(list.iter().any(|m| m["ends_on"].is_string()) && list.iter().any(|m| m["ends_on"].is_null()));
    // An erased user leaves nothing behind: its userName and externalId are free again.
    let res = scim(&app, &t.token, Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&app, &f.token, &format!("/v1/people/{id}")).await.status(), StatusCode::NOT_FOUND);
    let again = answered(
        scim(&app, &t.token, Method::POST, "/Users", Some(entra_user(&name, "terug"))).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(again["id"], user["id"]);
    let refs = expect(get(&app, &f.token, "/v1/people?system=scim&external_id=terug").await, StatusCode::OK).await;
    assert_eq!(refs["data"].as_array().unwrap().len(), 1, "{refs}");

    // Another organisation's groups are out of reach, as if they did not exist.
    let group = answered(
        scim(&app, &t.token, Method::POST, "/Groups", Some(json!({"displayName": "Eigen team"}))).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/Groups/{}", group["id"].as_str().unwrap());
    refused(
        scim(&app, &other.token, Method::PUT, &path, Some(json!({"displayName": "Overgenomen"}))).await,
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let rename = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
    refused(scim(&app, &other.token, Method::PATCH, &path, Some(rename)).await, StatusCode::NOT_FOUND, None).await;
    refused(scim(&app, &other.token, Method::DELETE, &path, None).await, StatusCode::NOT_FOUND, None).await;
    // The root search finds users and groups, of this organisation only.
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq \"Eigen team\" or userName pr"});
    let found =
        answered(scim(&app, &t.token, Method::POST, "/.search", Some(search.clone())).await, StatusCode::OK).await;
    let users = listed(&app, &t.token, "/Users".into()).await["totalResults"].as_i64().unwrap();
    assert_eq!(found["totalResults"].as_i64().unwrap(), users + 1, "{found}");
    let theirs = answered(scim(&app, &other.token, Method::POST, "/.search", Some(search)).await, StatusCode::OK).await;
    assert_eq!(theirs["totalResults"], 0);
    // If-Match lists several tags: any one of them will do.
    let current = group["meta"]["version"].as_str().unwrap();
    let res = app
        .request(Method::DELETE, &format!("/scim/v2{path}"))
        .bearer_auth(&t.token)
        .header("if-match", format!("W/\"99\", {current}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // The provider's externalIds are references of system `scim`: the organisation's HR
    // client reads a user by them, but writes none, so it cannot re-point a user's.
    let name = unique("Ref.Lezer");
    let created = answered(
        scim(&app, &t.token, Method::POST, "/Users", Some(entra_user(&name, "entra-ref-1"))).await,
        StatusCode::CREATED,
    )
    .await;
    let hr = client_token(&app, &f.token, &t.org, &["people:read", "people:write"]).await;
    let by_ref = format!("/v1/organisations/{}/people/by-ref/scim/entra-ref-1", t.org);
    let read = expect(get(&app, &hr, &by_ref).await, StatusCode::OK).await;
    assert_eq!(read["id"], created["id"]);
    let record = json!({"name": "Iemand Anders", "email": unique("iemand"),
                        "stakeholder_group": "employee", "membership": {"role": "employee", "starts_on": "2026-01-01"}});
    let res = app.request(Method::PUT, &by_ref).bearer_auth(&hr).json(&record).send().await.unwrap();
    let (status, body) = (res.status(), res.text().await.unwrap());
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let mut item = record.clone();
    item["external_id"] = json!("entra-ref-1");
    let batch = json!({"system": "scim", "items": [item]});
    let res = post(&app, &hr, &format!("/v1/organisations/{}/people/batch", t.org), batch).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let still = expect(get(&app, &hr, &by_ref).await, StatusCode::OK).await;
    assert_eq!(still["id"], created["id"], "the reference still names the provider's user");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

on_both_databases!(
    credentials_are_one_organisations_scim_clients,
    a_user_lives_as_the_identity_provider_says,
    two_organisations_see_one_person_twice_and_never_each_others,
    filters_pages_and_projections_follow_rfc_7644,
    every_change_is_in_the_feed_and_retries_do_nothing_twice,
    a_user_without_an_address_gets_one_that_reaches_nobody,
    groups_hold_the_organisations_users,
    the_network_keeps_its_rules_behind_the_provider,
);
