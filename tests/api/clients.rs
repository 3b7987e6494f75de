//! Integration clients: created by admins, secret shown once, rotated and revoked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use vov::auth::rights::PersonRole;

use crate::helpers::{TEST_PASSWORD, TestApp, TestUser, json, problem};
use crate::on_both_databases;

on_both_databases!(
    an_org_admin_creates_a_client_whose_secret_is_shown_once,
    a_new_client_signs_in_and_its_token_carries_the_organisation,
    a_client_gets_no_more_than_the_scopes_its_admin_granted,
    rotating_a_secret_retires_the_old_one,
    a_revoked_client_cannot_sign_in,
    an_admin_of_another_organisation_cannot_manage_its_clients,
    a_member_cannot_manage_clients,
    an_integration_client_cannot_manage_clients,
    a_client_id_of_another_organisation_is_not_found,
    a_facilitator_manages_the_clients_of_any_organisation,
    deleting_an_organisation_revokes_its_clients,
);

async fn an_org_admin_creates_a_client_whose_secret_is_shown_once(app: TestApp) {
    let s = setup(&app).await;
    let res = post(
        &app,
        &s.admin_a.token,
        &clients_path(&s.a),
        json!({"name": "  SD Worx HR-koppeling ", "scopes": ["people:write", "people:read", "people:write"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.headers()["location"], clients_path(&s.a).as_str());
    let created = json(res).await;
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("vov_cs_"), "{secret}");
    assert!(secret.len() >= 7 + 32, "a secret long enough to resist guessing: {secret}");
    let client = &created["client"];
    assert_eq!(client["name"], "SD Worx HR-koppeling");
    assert_eq!(client["organisation_id"], s.a);
    assert_eq!(client["scopes"], json!(["people:read", "people:write"]), "sorted, without duplicates");
    assert_eq!(client["revoked_at"], Value::Null);
    assert!(client.get("client_secret").is_none() && client.get("secret_hash").is_none(), "{client}");

    // The list never shows the secret again.
    let res = get(&app, &s.admin_a.token, &clients_path(&s.a)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains(&secret), "the secret is in the list: {text}");
    assert!(!text.contains("secret"), "a secret field is in the list: {text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(&list[0], client);

    // A second secret is a different one.
    let other = create_client(&app, &s.admin_a.token, &s.a, &["people:read"]).await;
    assert_ne!(other["client_secret"], created["client_secret"]);
    let list = expect(get(&app, &s.admin_a.token, &clients_path(&s.a)).await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

async fn a_new_client_signs_in_and_its_token_carries_the_organisation(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read", "people:write"]).await;
    let (id, secret) = credentials(&created);
    let res = client_grant(&app, &id, &secret, None).await;
    let token = expect(res, StatusCode::OK).await;
    assert_eq!(token["scope"], "people:read people:write");
    let access_token = token["access_token"].as_str().unwrap();
    let claims = claims_of(access_token);
    assert_eq!(claims["sub"], id, "{claims}");
    assert_eq!(claims["client_id"], id, "{claims}");
    assert_eq!(claims["org"], s.a, "the token names the organisation: {claims}");

    let me = expect(get(&app, access_token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["kind"], "client");
    assert_eq!(me["id"], id);
    assert_eq!(me["organisation_id"], s.a);
    assert_eq!(me["roles"], json!(["integration"]));
    // It acts for that organisation: it sees A's admin in full.
    let person = expect(get(&app, access_token, &format!("/v1/people/{}", s.admin_a.id)).await, StatusCode::OK).await;
    assert_eq!(person["view"], "full");
    assert_eq!(person["email"], s.admin_a.email);
}

async fn a_client_gets_no_more_than_the_scopes_its_admin_granted(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read"]).await;
    let (id, secret) = credentials(&created);
    let res = client_grant(&app, &id, &secret, Some("people:read people:write")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await["error"], "invalid_scope");
    let token = expect(client_grant(&app, &id, &secret, None).await, StatusCode::OK).await;
    assert_eq!(token["scope"], "people:read");
    let access_token = token["access_token"].as_str().unwrap();
    let me = expect(get(&app, access_token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["scopes"], json!(["people:read"]));
    // So it reads A's people but adds none.
    let body = json!({
        "name": "Mira Peeters",
        "email": "mira.peeters@zorgnetkempen.example",
        "stakeholder_group": "employee",
        "membership": {"role": "employee", "starts_on": "2019-03-01"}
    });
    problem(post(&app, access_token, &format!("/v1/organisations/{}/people", s.a), body).await, 403).await;
    // A scope that does not exist is refused when the client is created.
    let res = post(&app, &s.admin_a.token, &clients_path(&s.a), json!({"name": "Personio", "scopes": ["admin"]})).await;
    problem(res, 422).await;
}

async fn rotating_a_secret_retires_the_old_one(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read"]).await;
    let (id, old) = credentials(&created);
    expect(client_grant(&app, &id, &old, None).await, StatusCode::OK).await;

    let res =
        app.post(&format!("{}/{id}/secret", clients_path(&s.a))).bearer_auth(&s.admin_a.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let rotated = json(res).await;
    let new = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("vov_cs_"), "{new}");
    assert_ne!(new, old);
    assert_eq!(rotated["client"]["id"], id, "the same client");
    assert_eq!(rotated["client"]["scopes"], json!(["people:read"]));

    let res = client_grant(&app, &id, &old, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
    let token = expect(client_grant(&app, &id, &new, None).await, StatusCode::OK).await;
    assert_eq!(claims_of(token["access_token"].as_str().unwrap())["org"], s.a);
    // The list still never shows a secret.
    let res = get(&app, &s.admin_a.token, &clients_path(&s.a)).await;
    let text = res.text().await.unwrap();
    assert!(!text.contains(&new) && !text.contains(&old), "{text}");
}

async fn a_revoked_client_cannot_sign_in(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read", "people:write"]).await;
    let (id, secret) = credentials(&created);
    let issued = expect(client_grant(&app, &id, &secret, None).await, StatusCode::OK).await;
    let issued = issued["access_token"].as_str().unwrap().to_string();

    let path = format!("{}/{id}", clients_path(&s.a));
    let res = app.request(Method::DELETE, &path).bearer_auth(&s.admin_a.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = client_grant(&app, &id, &secret, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
    // A token issued before says who it was no more.
    problem(get(&app, &issued, "/v1/me").await, 401).await;
    // Nor reaches anything else: revoking takes effect at once, not when the token expires.
    problem(get(&app, &issued, &format!("/v1/organisations/{}/memberships", s.a)).await, 401).await;
    problem(get(&app, &issued, "/v1/people").await, 401).await;
    problem(get(&app, &issued, "/v1/changes").await, 401).await;
    // It stays in the list, marked revoked.
    let list = expect(get(&app, &s.admin_a.token, &clients_path(&s.a)).await, StatusCode::OK).await;
    assert_eq!(list[0]["id"], id);
    assert!(list[0]["revoked_at"].is_string(), "{list}");
    // Revoking again changes nothing; a revoked client gets no new secret.
    let res = app.request(Method::DELETE, &path).bearer_auth(&s.admin_a.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.post(&format!("{path}/secret")).bearer_auth(&s.admin_a.token).send().await.unwrap();
    problem(res, 409).await;
    let res = client_grant(&app, &id, &secret, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn an_admin_of_another_organisation_cannot_manage_its_clients(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read"]).await;
    let (id, secret) = credentials(&created);
    let path = clients_path(&s.a);
    problem(get(&app, &s.admin_b.token, &path).await, 403).await;
    let res = post(&app, &s.admin_b.token, &path, json!({"name": "Overname", "scopes": ["people:write"]})).await;
    problem(res, 403).await;
    let res = app.post(&format!("{path}/{id}/secret")).bearer_auth(&s.admin_b.token).send().await.unwrap();
    problem(res, 403).await;
    let res = app.request(Method::DELETE, &format!("{path}/{id}")).bearer_auth(&s.admin_b.token).send().await.unwrap();
    problem(res, 403).await;
    // A's client is untouched and A has no new client.
    expect(client_grant(&app, &id, &secret, None).await, StatusCode::OK).await;
    let list = expect(get(&app, &s.admin_a.token, &path).await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["revoked_at"], Value::Null);
    // B's admin manages B's own clients.
    create_client(&app, &s.admin_b.token, &s.b, &["people:read"]).await;
}

async fn a_member_cannot_manage_clients(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read"]).await;
    let (id, _) = credentials(&created);
    let path = clients_path(&s.a);
    let reader = app.user(PersonRole::PolicyReader).await;
    for (who, token) in [("a member of A", &s.member_a.token), ("a policy reader", &reader.token)] {
        let res = get(&app, token, &path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        let res = post(&app, token, &path, json!({"name": "Eigen koppeling", "scopes": ["people:read"]})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        let res = app.post(&format!("{path}/{id}/secret")).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        let res = app.request(Method::DELETE, &format!("{path}/{id}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    problem(app.get(&path).send().await.unwrap(), 401).await;
    problem(app.post(&path).json(&json!({"name": "Anoniem", "scopes": []})).send().await.unwrap(), 401).await;
}

async fn an_integration_client_cannot_manage_clients(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.admin_a.token, &s.a, &["people:read", "people:write"]).await;
    let (id, secret) = credentials(&created);
    let token = client_token(&app, &id, &secret).await;
    let other = create_client(&app, &s.admin_b.token, &s.b, &["people:read"]).await;
    let (other_id, _) = credentials(&other);

    // Its own organisation: 403.
    let own = clients_path(&s.a);
    problem(get(&app, &token, &own).await, 403).await;
    problem(post(&app, &token, &own, json!({"name": "Kloon", "scopes": ["people:write"]})).await, 403).await;
    problem(app.post(&format!("{own}/{id}/secret")).bearer_auth(&token).send().await.unwrap(), 403).await;
    problem(app.request(Method::DELETE, &format!("{own}/{id}")).bearer_auth(&token).send().await.unwrap(), 403).await;
    // Another organisation, which it may not know: 404.
    let theirs = clients_path(&s.b);
    problem(get(&app, &token, &theirs).await, 404).await;
    problem(post(&app, &token, &theirs, json!({"name": "Kloon", "scopes": ["people:write"]})).await, 404).await;
    problem(app.post(&format!("{theirs}/{other_id}/secret")).bearer_auth(&token).send().await.unwrap(), 404).await;
    problem(
        app.request(Method::DELETE, &format!("{theirs}/{other_id}")).bearer_auth(&token).send().await.unwrap(),
        404,
    )
    .await;
    // Nothing changed.
    expect(client_grant(&app, &id, &secret, None).await, StatusCode::OK).await;
    let list = expect(get(&app, &s.admin_a.token, &own).await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = expect(get(&app, &s.admin_b.token, &theirs).await, StatusCode::OK).await;
    assert_eq!(list[0]["revoked_at"], Value::Null);
}

async fn a_client_id_of_another_organisation_is_not_found(app: TestApp) {
    let s = setup(&app).await;
    let of_b = create_client(&app, &s.admin_b.token, &s.b, &["people:read"]).await;
    let (b_id, b_secret) = credentials(&of_b);
    let own = clients_path(&s.a);
    for (who, token) in [("A's admin", &s.admin_a.token), ("a facilitator", &s.facilitator.token)] {
        let res = app.post(&format!("{own}/{b_id}/secret")).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}");
        problem(res, 404).await;
        let res = app.request(Method::DELETE, &format!("{own}/{b_id}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}");
    }
    // The same answer as for a client that does not exist.
    let res = app.post(&format!("{own}/{}/secret", Uuid::now_v7())).bearer_auth(&s.admin_a.token).send().await.unwrap();
    problem(res, 404).await;
    // And for an organisation that does not exist.
    let res = get(&app, &s.admin_a.token, &clients_path(&Uuid::now_v7().to_string())).await;
    problem(res, 404).await;
    // B's client still signs in with its secret.
    expect(client_grant(&app, &b_id, &b_secret, None).await, StatusCode::OK).await;
}

async fn a_facilitator_manages_the_clients_of_any_organisation(app: TestApp) {
    let s = setup(&app).await;
    let created = create_client(&app, &s.facilitator.token, &s.b, &["people:write"]).await;
    let (id, secret) = credentials(&created);
    let token = client_token(&app, &id, &secret).await;
    assert_eq!(claims_of(&token)["org"], s.b);
    let list = expect(get(&app, &s.facilitator.token, &clients_path(&s.b)).await, StatusCode::OK).await;
    assert_eq!(list[0]["id"], id);
    // B's admin sees it too.
    let list = expect(get(&app, &s.admin_b.token, &clients_path(&s.b)).await, StatusCode::OK).await;
    assert_eq!(list[0]["id"], id);
    let path = format!("{}/{id}", clients_path(&s.b));
    let res = app.request(Method::DELETE, &path).bearer_auth(&s.facilitator.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(client_grant(&app, &id, &secret, None).await.status(), StatusCode::UNAUTHORIZED);
}

async fn deleting_an_organisation_revokes_its_clients(app: TestApp) {
    let f = app.facilitator().await;
    let org = organisation(&app, &f.token, "Leerpunt Gent-Eeklo").await;
    let created = create_client(&app, &f.token, &org, &["people:read"]).await;
    let (id, secret) = credentials(&created);
    expect(client_grant(&app, &id, &secret, None).await, StatusCode::OK).await;
    let res =
        app.request(Method::DELETE, &format!("/v1/organisations/{org}")).bearer_auth(&f.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = client_grant(&app, &id, &secret, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
}

// ---- setup ----

/// Two organisations, an admin of each, a plain member of A, and a facilitator.
struct Setup {
    facilitator: TestUser,
    /// Zorgnet Kempen.
    a: String,
    /// Bouwgroep Vlaeminck.
    b: String,
    /// Els Van Damme, org_admin of A.
    admin_a: TestUser,
    /// Jonas Claes, employee of A.
    member_a: TestUser,
    /// Pieter De Smet, org_admin of B.
    admin_b: TestUser,
}

async fn setup(app: &TestApp) -> Setup {
    let facilitator = app.facilitator().await;
    let f = facilitator.token.clone();
    let a = organisation(app, &f, "Zorgnet Kempen").await;
    let b = organisation(app, &f, "Bouwgroep Vlaeminck").await;
    let admin_a = person_in(app, &f, &a, "Els Van Damme", "org_admin").await;
    let member_a = person_in(app, &f, &a, "Jonas Claes", "employee").await;
    let admin_b = person_in(app, &f, &b, "Pieter De Smet", "org_admin").await;
    Setup { facilitator, a, b, admin_a, member_a, admin_b }
}

fn clients_path(org: &str) -> String {
    format!("/v1/organisations/{org}/clients")
}

/// Creates an organisation as a facilitator and returns its id.
async fn organisation(app: &TestApp, token: &str, name: &str) -> String {
    let body = json!({"name": name, "kind": "employer", "region": "east_flanders"});
    let org = expect(post(app, token, "/v1/organisations", body).await, StatusCode::CREATED).await;
    org["id"].as_str().unwrap().to_string()
}

/// Adds a person to `org` with a membership of `role`, gives them a password and signs them in.
async fn person_in(app: &TestApp, facilitator: &str, org: &str, name: &str, role: &str) -> TestUser {
    let email = format!(
        "{}.{}@clients.example",
        name.to_lowercase().replace(' ', "."),
        &Uuid::now_v7().simple().to_string()[24..]
    );
    let body = json!({
        "name": name,
        "email": email,
        "stakeholder_group": if role == "org_admin" { "hr_professional" } else { "employee" },
        "languages": ["nl"],
        "membership": {"role": role, "starts_on": "2020-01-01"}
    });
    let path = format!("/v1/organisations/{org}/people");
    let created = expect(post(app, facilitator, &path, body).await, StatusCode::CREATED).await;
    let id: Uuid = created["person"]["id"].as_str().unwrap().parse().unwrap();
    let res = app
        .request(Method::PUT, &format!("/v1/people/{id}/password"))
        .bearer_auth(facilitator)
        .json(&json!({"new_password": TEST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let tokens = expect(app.password_grant(&email, TEST_PASSWORD).await, StatusCode::OK).await;
    TestUser {
        id,
        email,
        token: tokens["access_token"].as_str().unwrap().to_string(),
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_string(),
    }
}

/// Creates a client of `org` with `scopes`; the answer holds `client` and `client_secret`.
async fn create_client(app: &TestApp, token: &str, org: &str, scopes: &[&str]) -> Value {
    let body = json!({"name": "SD Worx HR-koppeling", "scopes": scopes});
    expect(post(app, token, &clients_path(org), body).await, StatusCode::CREATED).await
}

fn credentials(created: &Value) -> (String, String) {
    (created["client"]["id"].as_str().unwrap().to_string(), created["client_secret"].as_str().unwrap().to_string())
}

/// Signs a client in with `client_credentials`.
async fn client_grant(app: &TestApp, id: &str, secret: &str, scope: Option<&str>) -> Response {
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app.post("/v1/auth/token").form(&form).send().await.unwrap()
}

async fn client_token(app: &TestApp, id: &str, secret: &str) -> String {
    let token = expect(client_grant(app, id, secret, None).await, StatusCode::OK).await;
    token["access_token"].as_str().unwrap().to_string()
}

/// The claims of an access token (read, not verified).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Reads the body, failing with it when the status is not `status`.
async fn expect(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let body = json(res).await;
    assert_eq!(actual, status, "{body}");
    body
}

async fn get(app: &TestApp, token: &str, path: &str) -> Response {
    app.get(path).bearer_auth(token).send().await.unwrap()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Response {
    app.post(path).bearer_auth(token).json(&body).send().await.unwrap()
}
