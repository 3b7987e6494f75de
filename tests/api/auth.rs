//! The token endpoint (RFC 6749), refresh rotation, revocation, and token validation.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vov::auth::rights::{PersonRole, Scope};

use crate::helpers::{TEST_PASSWORD, TEST_SECRET, TestApp, json, problem};
use crate::on_both_databases;

on_both_databases!(
    a_person_signs_in_with_the_password_grant_and_sees_themselves,
    a_wrong_password_and_an_unknown_account_are_the_same_invalid_grant,
    malformed_token_requests_get_rfc_6749_errors,
    a_refresh_token_is_rotated_and_works_only_once,
    presenting_a_spent_refresh_token_revokes_the_whole_sign_in,
    a_revoked_refresh_token_is_refused,
    a_client_gets_a_token_with_credentials_in_the_body_or_basic,
    client_scopes_can_be_narrowed_but_never_widened,
    a_wrong_or_revoked_client_secret_is_invalid_client,
    forged_and_stale_tokens_are_all_refused,
    a_bad_token_is_refused_even_where_anonymous_callers_are_welcome,
    roles_decide_what_a_caller_may_do,
    repeated_sign_in_attempts_for_one_account_are_slowed_down,
);

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = app.post("/v1/auth/token").form(form).send().await.unwrap();
    let status = res.status();
    assert_eq!(res.headers()["cache-control"], "no-store");
    (status, json(res).await)
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/v1/me").bearer_auth(token).send().await.unwrap()
}

async fn a_person_signs_in_with_the_password_grant_and_sees_themselves(app: TestApp) {
    let (id, email) = app.add_person(PersonRole::Member).await;
    // E-mail addresses are case-insensitive.
    let (status, body) = token_request(
        &app,
        &[("grant_type", "password"), ("username", &email.to_uppercase()), ("password", TEST_PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("vov_rt_"));
    let res = me(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = json(res).await;
    assert_eq!(me["kind"], "person");
    assert_eq!(me["id"], id.to_string());
    assert_eq!(me["email"], email);
    assert_eq!(me["roles"], json!(["member"]));
}

async fn a_wrong_password_and_an_unknown_account_are_the_same_invalid_grant(app: TestApp) {
    let (_, email) = app.add_person(PersonRole::Member).await;
    let wrong =
        token_request(&app, &[("grant_type", "password"), ("username", &email), ("password", "not the password")])
            .await;
    let unknown = token_request(
        &app,
        &[("grant_type", "password"), ("username", "nobody@vov.example"), ("password", TEST_PASSWORD)],
    )
    .await;
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.1["error"], "invalid_grant");
    assert_eq!(wrong, unknown, "the answer must not reveal which accounts exist");
}

async fn malformed_token_requests_get_rfc_6749_errors(app: TestApp) {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "invalid_request"),
        (&[("grant_type", "authorization_code"), ("code", "x")], "unsupported_grant_type"),
        (&[("grant_type", "password"), ("username", "a@b.example")], "invalid_request"),
        (&[("grant_type", "refresh_token")], "invalid_request"),
        (&[("grant_type", "password"), ("grant_type", "password")], "invalid_request"),
        (
            &[("grant_type", "password"), ("username", "a@b.example"), ("password", "x"), ("scope", "people:read")],
            "invalid_scope",
        ),
    ];
    for (form, error) in cases {
        let (status, body) = token_request(&app, form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {body}");
        assert_eq!(body["error"], *error, "{form:?}: {body}");
    }
    // JSON instead of a form.
    let res = app.post("/v1/auth/token").json(&json!({"grant_type": "password"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await["error"], "invalid_request");
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    token_request(app, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
}

async fn a_refresh_token_is_rotated_and_works_only_once(app: TestApp) {
    let user = app.member().await;
    let (status, first) = refresh(&app, &user.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let new_refresh = first["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, user.refresh_token);
    assert_eq!(me(&app, first["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);

    let (status, again) = refresh(&app, &user.refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
}

async fn presenting_a_spent_refresh_token_revokes_the_whole_sign_in(app: TestApp) {
    let user = app.member().await;
    let (_, rotated) = refresh(&app, &user.refresh_token).await;
    let successor = rotated["refresh_token"].as_str().unwrap().to_string();
    // An attacker replays the stolen, already spent token...
    let (status, _) = refresh(&app, &user.refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // ...and the legitimate successor is revoked with it.
    let (status, body) = refresh(&app, &successor).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    // A new sign-in is unaffected.
    let other = app.password_grant(&user.email, TEST_PASSWORD).await;
    assert_eq!(other.status(), StatusCode::OK);
}

async fn a_revoked_refresh_token_is_refused(app: TestApp) {
    let user = app.member().await;
    let res = app.post("/v1/auth/revoke").form(&[("token", user.refresh_token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = refresh(&app, &user.refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    // Unknown tokens are not an error (RFC 7009 §2.2).
    let res = app.post("/v1/auth/revoke").form(&[("token", "vov_rt_unknown")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post("/v1/auth/revoke").form(&[("token_type_hint", "refresh_token")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn a_client_gets_a_token_with_credentials_in_the_body_or_basic(app: TestApp) {
    let client = app.add_client(&[Scope::PeopleRead, Scope::PeopleWrite]).await;
    let id = client.id.to_string();
    let (status, body) = token_request(
        &app,
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &client.secret)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "people:read people:write");
    assert!(body.get("refresh_token").is_none(), "no refresh token for client credentials");
    let me = json(me(&app, body["access_token"].as_str().unwrap()).await).await;
    assert_eq!(me["kind"], "client");
    assert_eq!(me["roles"], json!(["integration"]));
    assert_eq!(me["scopes"], json!(["people:read", "people:write"]));

    let basic = STANDARD.encode(format!("{id}:{}", client.secret));
    let res = app
        .post("/v1/auth/token")
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn client_scopes_can_be_narrowed_but_never_widened(app: TestApp) {
    let client = app.add_client(&[Scope::PeopleRead]).await;
    let id = client.id.to_string();
    let form = |scope: &'static str| {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", id.clone()),
            ("client_secret", client.secret.clone()),
            ("scope", scope.to_string()),
        ]
    };
    let res = app.post("/v1/auth/token").form(&form("people:read")).send().await.unwrap();
    assert_eq!(json(res).await["scope"], "people:read");
    let res = app.post("/v1/auth/token").form(&form("people:write")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await["error"], "invalid_scope");
    let res = app.post("/v1/auth/token").form(&form("root")).send().await.unwrap();
    assert_eq!(json(res).await["error"], "invalid_scope");
}

async fn a_wrong_or_revoked_client_secret_is_invalid_client(app: TestApp) {
    let client = app.add_client(&[Scope::PeopleRead]).await;
    let id = client.id.to_string();
    let res = app
        .post("/v1/auth/token")
        .form(&[("grant_type", "client_credentials"), ("client_id", id.as_str()), ("client_secret", "vov_cs_wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(json(res).await["error"], "invalid_client");

    app.store.revoke_client(client.id).await.unwrap();
    let (status, body) = token_request(
        &app,
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &client.secret)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

fn claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": "vov-api", "aud": "vov-api", "sub": sub, "exp": now + 600, "nbf": now - 10, "iat": now - 10,
        "jti": "test", "roles": ["facilitator"]
    })
}

fn sign(claims: &Value, secret: &str, alg: Algorithm, kid: Option<String>) -> String {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".into());
    header.kid = kid;
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// The key id the service gives its current key.
fn test_kid() -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(TEST_SECRET.as_bytes())[..8])
}

async fn forged_and_stale_tokens_are_all_refused(app: TestApp) {
    let user = app.member().await;
    let sub = user.id.to_string();
    let good = sign(&claims(&sub), TEST_SECRET, Algorithm::HS256, Some(test_kid()));
    assert_eq!(me(&app, &good).await.status(), StatusCode::OK, "the forging helper itself must work");

    let now = chrono::Utc::now().timestamp();
    let with = |patch: Value| {
        let mut c = claims(&sub);
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        sign(&c, TEST_SECRET, Algorithm::HS256, Some(test_kid()))
    };
    let alg_none = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(&sub).to_string());
        format!("{header}.{payload}.")
    };
    let tampered = {
        let mut parts: Vec<String> = user.token.split('.').map(String::from).collect();
        let mut c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        c["roles"] = json!(["facilitator"]);
        parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
        parts.join(".")
    };
    let untyped = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(test_kid());
        encode(&header, &claims(&sub), &EncodingKey::from_secret(TEST_SECRET.as_bytes())).unwrap()
    };
    let cases = [
        ("alg none", alg_none),
        (
            "another key",
            sign(&claims(&sub), "another-secret-that-is-also-32-bytes-long", Algorithm::HS256, Some(test_kid())),
        ),
        (
            "another key, unknown kid",
            sign(
                &claims(&sub),
                "another-secret-that-is-also-32-bytes-long",
                Algorithm::HS256,
                Some("0011223344556677".into()),
            ),
        ),
        ("HS512", sign(&claims(&sub), TEST_SECRET, Algorithm::HS512, Some(test_kid()))),
        ("expired", with(json!({"exp": now - 3600, "nbf": now - 7200, "iat": now - 7200}))),
        ("not yet valid", with(json!({"nbf": now + 3600}))),
        ("wrong audience", with(json!({"aud": "someone-else"}))),
        ("wrong issuer", with(json!({"iss": "https://evil.example"}))),
        ("no exp", with(json!({"exp": null}))),
        ("no nbf", with(json!({"nbf": null}))),
        ("no iss", with(json!({"iss": null}))),
        ("no aud", with(json!({"aud": null}))),
        ("no sub", with(json!({"sub": null}))),
        ("no kid", sign(&claims(&sub), TEST_SECRET, Algorithm::HS256, None)),
        ("no typ", untyped),
        ("tampered payload", tampered),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (name, token) in cases {
        let res = me(&app, &token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"), "{name}");
        problem(res, 401).await;
    }
    // Not a bearer token at all.
    let res = app.get("/v1/me").header("authorization", "Basic Zm9vOmJhcg==").send().await.unwrap();
    problem(res, 401).await;
    let res = app.get("/v1/me").send().await.unwrap();
    problem(res, 401).await;
}

async fn a_bad_token_is_refused_even_where_anonymous_callers_are_welcome(app: TestApp) {
    let res = app.get("/v1/themes").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get("/v1/themes").bearer_auth("expired.or.forged").send().await.unwrap();
    problem(res, 401).await;
}

async fn roles_decide_what_a_caller_may_do(app: TestApp) {
    let body = json!({"slug": "new-theme", "label_nl": "Nieuw", "label_en": "New"});
    let member = app.member().await;
    let res = app.post("/v1/themes").bearer_auth(&member.token).json(&body).send().await.unwrap();
    let problem_body = problem(res, 403).await;
    assert!(problem_body["detail"].as_str().unwrap().contains("facilitator"));
    let client = app.add_client(&[Scope::PeopleRead, Scope::PeopleWrite]).await;
    let id = client.id.to_string();
    let (_, token) = token_request(
        &app,
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &client.secret)],
    )
    .await;
    let res =
        app.post("/v1/themes").bearer_auth(token["access_token"].as_str().unwrap()).json(&body).send().await.unwrap();
    problem(res, 403).await;
    let res = app.post("/v1/themes").json(&body).send().await.unwrap();
    problem(res, 401).await;
    let facilitator = app.facilitator().await;
    let res = app.post("/v1/themes").bearer_auth(&facilitator.token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn repeated_sign_in_attempts_for_one_account_are_slowed_down(app: TestApp) {
    let (_, email) = app.add_person(PersonRole::Member).await;
    for _ in 0..10 {
        let (status, _) =
            token_request(&app, &[("grant_type", "password"), ("username", &email), ("password", "guess guess guess")])
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let res = app.password_grant(&email.to_uppercase(), TEST_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    assert_eq!(res.headers()["ratelimit-policy"], "\"sign-in\";q=10;w=60");
    assert_eq!(json(res).await["error"], "temporarily_unavailable");
    // Other accounts are not affected.
    let other = app.member().await;
    assert_eq!(me(&app, &other.token).await.status(), StatusCode::OK);
}

/// A server whose sign-in limit per client address is 3, trusting `proxies`.
async fn limited_app(proxies: &str) -> TestApp {
    let (url, guard) = crate::helpers::fresh_database(crate::helpers::Backend::Sqlite).await;
    let settings = vov::config::Settings {
        sign_in_limit_per_ip: 3,
        sign_in_limit_per_account: 1000,
        trusted_proxies: proxies.into(),
        ..crate::helpers::test_settings(&url)
    };
    crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, settings, std::sync::Arc::new(guard)).await
}

/// A sign-in attempt (an unknown account: 400 while allowed, 429 once limited), with a
/// forwarding header.
async fn attempt(app: &TestApp, header: (&str, &str)) -> StatusCode {
    let username = format!("{}@nobody.example", uuid::Uuid::now_v7().simple());
    app.post("/v1/auth/token")
        .header(header.0, header.1)
        .form(&[("grant_type", "password"), ("username", username.as_str()), ("password", "guess guess guess")])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_choose_its_sign_in_bucket_with_a_forged_x_forwarded_for() {
    // No trusted proxy (the default): forwarding headers are the client's own words.
    let app = limited_app("").await;
    for forged in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        assert_eq!(attempt(&app, ("x-forwarded-for", forged)).await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(attempt(&app, ("x-forwarded-for", "203.0.113.4")).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt(&app, ("forwarded", "for=198.51.100.1")).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_sign_in_limit() {
    // The test talks from 127.0.0.1: here that is the load balancer.
    let app = limited_app("127.0.0.1/32").await;
    for _ in 0..3 {
        assert_eq!(attempt(&app, ("x-forwarded-for", "203.0.113.7")).await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(attempt(&app, ("x-forwarded-for", "203.0.113.7")).await, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not held up, in either header.
    assert_eq!(attempt(&app, ("x-forwarded-for", "203.0.113.8")).await, StatusCode::BAD_REQUEST);
    assert_eq!(attempt(&app, ("forwarded", "for=\"[2001:db8::8]:4711\"")).await, StatusCode::BAD_REQUEST);
    // A client that adds a forged first hop is still known by the address the proxy saw.
    assert_eq!(attempt(&app, ("x-forwarded-for", "198.51.100.9, 203.0.113.7")).await, StatusCode::TOO_MANY_REQUESTS);
}
