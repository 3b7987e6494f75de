//! Sync for HR systems: upserts by reference, batches, and the change feed.

use std::collections::{BTreeMap, HashMap, HashSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vov::auth::rights::Scope;

use crate::helpers::{TestApp, json, problem};
use crate::on_both_databases;

on_both_databases!(
    an_hr_system_that_replays_the_feed_ends_with_exactly_the_servers_state,
    a_batch_answers_one_result_per_item_and_a_bad_item_stops_nothing,
    a_batch_with_an_idempotency_key_is_applied_once,
    a_batch_over_the_limit_is_refused_whole,
    an_upsert_by_reference_says_whether_it_created_updated_or_changed_nothing,
    an_existing_member_is_linked_by_e_mail_but_an_outsider_is_refused,
    a_person_has_one_reference_per_system,
    organisations_are_upserted_by_a_network_reference,
    memberships_are_upserted_by_the_organisations_reference,
    an_hr_system_reads_back_by_its_own_references,
    an_hr_system_removes_people_and_memberships_by_its_own_references,
    views_and_the_feed_show_each_organisation_only_its_own_references,
    an_hr_system_lists_people_by_its_ids_by_ours_by_change_and_with_former_members,
    the_feed_reports_changes_in_order_once_each_with_tombstones,
    the_feed_shows_each_caller_only_what_they_may_see,
    the_feed_can_be_narrowed_to_some_types,
    a_cursor_older_than_the_retained_history_is_gone,
    concurrent_writers_on_two_instances_never_make_the_feed_skip_or_repeat,
);

/// An organisation and a signed-in integration client of it with both people scopes.
async fn hr_setup(app: &TestApp) -> (String, String, String) {
    let f = app.facilitator().await;
    let org = create_org(app, &f.token, "Zorgnet Kempen").await;
    let client = app.add_client(&[Scope::PeopleRead, Scope::PeopleWrite]).await;
    app.store.revoke_client(client.id).await.unwrap();
    // A client of the organisation, made the way an org admin would.
    let res = app
        .post(&format!("/v1/organisations/{org}/clients"))
        .bearer_auth(&f.token)
        .json(&json!({"name": "HR sync", "scopes": ["people:read", "people:write"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = json(res).await;
    let token =
        client_token(app, body["client"]["id"].as_str().unwrap(), body["client_secret"].as_str().unwrap()).await;
    (org, token, f.token)
}

async fn create_org(app: &TestApp, token: &str, name: &str) -> String {
    let res = app
        .post("/v1/organisations")
        .bearer_auth(token)
        .json(&json!({"name": name, "kind": "employer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    json(res).await["id"].as_str().unwrap().to_string()
}

async fn client_token(app: &TestApp, id: &str, secret: &str) -> String {
    let res = app
        .post("/v1/auth/token")
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["access_token"].as_str().unwrap().to_string()
}

fn item(external_id: &str, name: &str, email: &str) -> Value {
    json!({
        "external_id": external_id,
        "name": name,
        "email": email,
        "stakeholder_group": "employee",
        "languages": ["nl"],
        "membership": {"role": "employee", "starts_on": "2020-01-01"}
    })
}

async fn batch(app: &TestApp, token: &str, org: &str, items: Vec<Value>) -> Value {
    let res = app
        .post(&format!("/v1/organisations/{org}/people/batch"))
        .bearer_auth(token)
        .json(&json!({"system": "sdworx", "items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

fn results(body: &Value) -> Vec<String> {
    body["results"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap().to_string()).collect()
}

/// Reads the feed from `cursor` to its end; returns the entries and the last cursor.
async fn pull(app: &TestApp, token: &str, cursor: Option<&str>, query: &str) -> (Vec<Value>, String) {
    let mut entries = Vec::new();
    let mut cursor = cursor.map(String::from);
    loop {
        let mut url = format!("/v1/changes?limit=7{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&after={c}"));
        }
        let res = app.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let page = json(res).await;
        crate::helpers::assert_conforms(&page, "ChangesPage");
        entries.extend(page["data"].as_array().unwrap().iter().cloned());
        cursor = Some(page["next_cursor"].as_str().unwrap().to_string());
        if !page["has_more"].as_bool().unwrap() {
            return (entries, cursor.unwrap());
        }
    }
}

/// A client's replica: resources by type and id, kept at the version the feed last said.
#[derive(Default, Debug)]
struct Replica {
    resources: BTreeMap<(String, String), Value>,
    seen: HashSet<(String, String, i64, String)>,
}

impl Replica {
    fn apply(&mut self, entries: &[Value]) {
        for e in entries {
            let key = (e["type"].as_str().unwrap().to_string(), e["id"].as_str().unwrap().to_string());
            let version = e["version"].as_i64().unwrap();
            let operation = e["operation"].as_str().unwrap().to_string();
            assert!(self.seen.insert((key.0.clone(), key.1.clone(), version, operation)), "seen twice: {e}");
            match e["operation"].as_str().unwrap() {
                "delete" => {
                    assert!(e["resource"].is_null());
                    self.resources.remove(&key);
                }
                _ => {
                    let previous = self.resources.get(&key).map(|r| r["version"].as_i64().unwrap());
                    assert!(previous.is_none_or(|p| p < version), "versions go backwards for {key:?}");
                    assert_eq!(e["resource"]["version"], version);
                    self.resources.insert(key, e["resource"].clone());
                }
            }
        }
    }

    fn of_type(&self, t: &str) -> BTreeMap<String, Value> {
        self.resources.iter().filter(|((ty, _), _)| ty == t).map(|((_, id), v)| (id.clone(), v.clone())).collect()
    }
}

async fn an_hr_system_that_replays_the_feed_ends_with_exactly_the_servers_state(app: TestApp) {
    let (org, token, facilitator) = hr_setup(&app).await;
    let (start, cursor0) = pull(&app, &token, None, "").await;
    let mut replica = Replica::default();
    replica.apply(&start);

    // 1. The HR system sends its 30 people.
    let items: Vec<Value> = (0..30)
        .map(|i| item(&format!("E{i:03}"), &format!("Medewerker {i}"), &format!("m{i}@zorgnet.example")))
        .collect();
    let body = batch(&app, &token, &org, items.clone()).await;
    assert!(results(&body).iter().all(|r| r == "created"), "{body}");
    let ids: HashMap<String, (String, String)> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["external_id"].as_str().unwrap().to_string(),
                (r["person_id"].as_str().unwrap().to_string(), r["membership_id"].as_str().unwrap().to_string()),
            )
        })
        .collect();

    // 2. Some people change; one is renamed twice.
    let mut changed = items.clone();
    for i in [3, 7, 11] {
        changed[i]["name"] = json!(format!("Hernoemd {i}"));
    }
    batch(&app, &token, &org, changed[..15].to_vec()).await;
    let res = app
        .request(Method::PUT, &format!("/v1/organisations/{org}/people/by-ref/sdworx/E007"))
        .bearer_auth(&token)
        .json(&json!({"name": "Tweede keer", "email": "m7@zorgnet.example", "stakeholder_group": "hr_professional",
                      "membership": {"role": "hr", "starts_on": "2020-01-01"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // 3. Some leave: their memberships are removed; a facilitator deletes one person.
    for e in ["E020", "E021"] {
        let res = app
            .request(Method::DELETE, &format!("/v1/memberships/{}", ids[e].1))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let res = app
        .request(Method::DELETE, &format!("/v1/people/{}", ids["E025"].0))
        .bearer_auth(&facilitator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // 4. Pull everything after the old cursor and apply it.
    let (entries, _) = pull(&app, &token, Some(&cursor0), "").await;
    replica.apply(&entries);

    // The replica's memberships are exactly the organisation's; its people are exactly
    // the people those memberships name, at the server's versions.
    let server_memberships = json(
        app.get(&format!("/v1/organisations/{org}/memberships?limit=200")).bearer_auth(&token).send().await.unwrap(),
    )
    .await;
    let server: BTreeMap<String, Value> = server_memberships["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m.clone()))
        .collect();
    assert_eq!(replica.of_type("membership"), server);
    assert_eq!(server.len(), 27);
    let members: HashSet<String> = server.values().map(|m| m["person_id"].as_str().unwrap().to_string()).collect();
    let people = replica.of_type("person");
    // Exactly: the people who left (E020, E021) are gone from the organisation's replica.
    assert_eq!(people.keys().cloned().collect::<HashSet<_>>(), members);
    assert!(!people.contains_key(&ids["E020"].0));
    for id in &members {
        let person = &people[id];
        let fresh = json(app.get(&format!("/v1/people/{id}")).bearer_auth(&token).send().await.unwrap()).await;
        assert_eq!(person["version"], fresh["version"]);
        assert_eq!(person["name"], fresh["name"]);
        assert_eq!(person["email"], fresh["email"]);
    }
    assert_eq!(people[&ids["E007"].0]["name"], "Tweede keer");
    assert!(!people.contains_key(&ids["E025"].0), "the deleted person is gone from the replica");
}

async fn a_batch_answers_one_result_per_item_and_a_bad_item_stops_nothing(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    batch(&app, &token, &org, vec![item("A1", "Ann", "ann@x.example")]).await;
    let mut bad = item("A3", "Bert", "not-an-address");
    bad["membership"]["ends_on"] = json!("2019-01-01");
    let body = batch(
        &app,
        &token,
        &org,
        vec![
            item("A1", "Ann", "ann@x.example"),
            item("A2", "Carla", "carla@x.example"),
            bad,
            json!({"external_id": "A4", "name": 12}),
            item("A1", "Ann again", "ann@x.example"),
            item("A5", "Dirk", "carla@x.example"),
            item("A6", "Ann Updated", "ann6@x.example"),
        ],
    )
    .await;
    assert_eq!(results(&body), ["unchanged", "created", "error", "error", "error", "error", "created"], "{body}");
    let r = &body["results"];
    let pointers = |i: usize| -> Vec<String> {
        r[i]["problem"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(pointers(2), ["/items/2/email", "/items/2/membership/ends_on"]);
    assert_eq!(pointers(3), ["/items/3"]);
    assert_eq!(pointers(4), ["/items/4/external_id"], "a repeated external id");
    assert_eq!(pointers(5), ["/items/5/email"], "an e-mail address used by another item");
    assert_eq!(r[1]["index"], 1);
    assert_eq!(r[2]["problem"]["status"], 422);
    assert_eq!(r[5]["problem"]["status"], 409);
}

async fn a_batch_with_an_idempotency_key_is_applied_once(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    let send = || {
        app.post(&format!("/v1/organisations/{org}/people/batch"))
            .bearer_auth(&token)
            .header("idempotency-key", "sync-2026-11-27")
            .json(&json!({"system": "sdworx", "items": [item("B1", "Bea", "bea@x.example")]}))
            .send()
    };
    let first = json(send().await.unwrap()).await;
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = json(again).await;
    assert_eq!(first, again);
    assert_eq!(results(&first), ["created"]);
}

async fn a_batch_over_the_limit_is_refused_whole(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    let items: Vec<Value> = (0..1001).map(|i| item(&format!("X{i}"), "X", &format!("x{i}@x.example"))).collect();
    let res = app
        .post(&format!("/v1/organisations/{org}/people/batch"))
        .bearer_auth(&token)
        .json(&json!({"system": "sdworx", "items": items}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/items");
}

async fn an_upsert_by_reference_says_whether_it_created_updated_or_changed_nothing(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    let path = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-10442");
    let body = json!({"name": "Mira Peeters", "email": "mira@zorgnet.example", "stakeholder_group": "employee",
                      "birth_year": 1966, "membership": {"role": "employee", "starts_on": "1991-09-01"}});
    let put = |body: Value| app.request(Method::PUT, &path).bearer_auth(&token).json(&body).send();
    let res = put(body.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["upsert-result"], "created");
    let created = json(res).await;
    assert_eq!(created["person"]["view"], "full");
    assert_eq!(created["membership"]["organisation_id"], org.as_str());
    let res = put(body.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["upsert-result"], "unchanged");
    let mut changed = body.clone();
    changed["membership"]["ends_on"] = json!("2026-12-31");
    let res = put(changed).await.unwrap();
    assert_eq!(res.headers()["upsert-result"], "updated");
    let updated = json(res).await;
    assert_eq!(updated["person"]["id"], created["person"]["id"]);
    assert_eq!(updated["membership"]["ends_on"], "2026-12-31");
    assert_eq!(updated["membership"]["version"], 2);
    // A reference that names a system or id badly is a bad path.
    let res = app
        .request(Method::PUT, &format!("/v1/organisations/{org}/people/by-ref/-bad/E1"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 400).await;
}

async fn an_hr_system_reads_back_by_its_own_references(app: TestApp) {
    let (org, token, facilitator) = hr_setup(&app).await;
    let path = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-10442");
    let body = json!({"name": "Mira Peeters", "email": "mira@zorgnet.example", "stakeholder_group": "employee",
                      "birth_year": 1966, "membership": {"role": "employee", "starts_on": "1991-09-01"}});
    let res = app.request(Method::PUT, &path).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = json(res).await;
    let id = created["person"]["id"].as_str().unwrap().to_string();

    // The person, as GET /v1/people/{id} shows them, with its ETag and own URL.
    let res = app.get(&path).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-location"], format!("/v1/people/{id}").as_str());
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let read = json(res).await;
    let by_id = json(app.get(&format!("/v1/people/{id}")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(read, by_id);
    assert_eq!(read["birth_year"], 1966);
    let res = app.get(&path).bearer_auth(&token).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // A membership by its reference.
    let contract = format!("/v1/organisations/{org}/memberships/by-ref/sdworx/CONTRACT-7");
    let terms = json!({"person_id": id, "role": "manager", "starts_on": "2024-01-01"});
    let res = app.request(Method::PUT, &contract).bearer_auth(&token).json(&terms).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let membership = json(res).await;
    let res = app.get(&contract).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let location = format!("/v1/memberships/{}", membership["id"].as_str().unwrap());
    assert_eq!(res.headers()["content-location"], location.as_str());
    assert_eq!(json(res).await, membership);

    // Unknown references are 404, and a person's reference is not a membership's.
    for unknown in [
        format!("/v1/organisations/{org}/people/by-ref/sdworx/E-99999"),
        format!("/v1/organisations/{org}/people/by-ref/personio/E-10442"),
        format!("/v1/organisations/{org}/memberships/by-ref/sdworx/E-10442"),
    ] {
        let body = problem(app.get(&unknown).bearer_auth(&token).send().await.unwrap(), 404).await;
        assert!(body["detail"].as_str().unwrap().contains("reference"), "{body}");
    }
    problem(
        app.get(&format!("/v1/organisations/{org}/people/by-ref/-bad/E1")).bearer_auth(&token).send().await.unwrap(),
        400,
    )
    .await;

    // References are the organisation's own: another organisation's client and a member are
    // refused, anonymous callers are not signed in, a facilitator reads.
    let other = create_org(&app, &facilitator, "Bouwgroep Vlaeminck").await;
    let res = app
        .post(&format!("/v1/organisations/{other}/clients"))
        .bearer_auth(&facilitator)
        .json(&json!({"name": "Other HR", "scopes": ["people:read"]}))
        .send()
        .await
        .unwrap();
    let other_client = json(res).await;
    let other_token = client_token(
        &app,
        other_client["client"]["id"].as_str().unwrap(),
        other_client["client_secret"].as_str().unwrap(),
    )
    .await;
    problem(app.get(&path).bearer_auth(&other_token).send().await.unwrap(), 403).await;
    let member = app.member().await;
    problem(app.get(&path).bearer_auth(&member.token).send().await.unwrap(), 403).await;
    problem(app.get(&path).send().await.unwrap(), 401).await;
    assert_eq!(app.get(&path).bearer_auth(&facilitator).send().await.unwrap().status(), StatusCode::OK);
}

async fn an_hr_system_removes_people_and_memberships_by_its_own_references(app: TestApp) {
    let (org, token, facilitator) = hr_setup(&app).await;
    let person = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-1");
    let body = json!({"name": "Mira Peeters", "email": "mira@zorgnet.example", "stakeholder_group": "employee",
                      "membership": {"role": "employee", "starts_on": "2019-03-01"}});
    let res = app.request(Method::PUT, &person).bearer_auth(&token).json(&body).send().await.unwrap();
    let id = json(res).await["person"]["id"].as_str().unwrap().to_string();
    let contract = format!("/v1/organisations/{org}/memberships/by-ref/sdworx/CONTRACT-1");
    let terms = json!({"person_id": id, "role": "manager", "starts_on": "2024-01-01"});
    let res = app.request(Method::PUT, &contract).bearer_auth(&token).json(&terms).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, cursor) = pull(&app, &token, None, "").await;
    let delete = |path: &str, token: &str| app.request(Method::DELETE, path).bearer_auth(token).send();

    // Reading is not removing; another organisation's client and members are refused.
    let res = app
        .post(&format!("/v1/organisations/{org}/clients"))
        .bearer_auth(&facilitator)
        .json(&json!({"name": "Reader", "scopes": ["people:read"]}))
        .send()
        .await
        .unwrap();
    let reader = json(res).await;
    let reader =
        client_token(&app, reader["client"]["id"].as_str().unwrap(), reader["client_secret"].as_str().unwrap()).await;
    problem(delete(&person, &reader).await.unwrap(), 403).await;
    problem(delete(&contract, &reader).await.unwrap(), 403).await;
    let member = app.member().await;
    problem(delete(&person, &member.token).await.unwrap(), 403).await;

    // A membership by its reference, at the version read.
    let stale = app.request(Method::DELETE, &contract).bearer_auth(&token).header("if-match", "\"9\"").send();
    problem(stale.await.unwrap(), 412).await;
    assert_eq!(delete(&contract, &token).await.unwrap().status(), StatusCode::NO_CONTENT);
    problem(app.get(&contract).bearer_auth(&token).send().await.unwrap(), 404).await;
    problem(delete(&contract, &token).await.unwrap(), 404).await;
    assert_eq!(app.get(&person).bearer_auth(&token).send().await.unwrap().status(), StatusCode::OK, "still a member");

    // The person leaves the organisation: the organisation loses sight of them, its
    // references go, its feed gets the tombstones; the person stays.
    assert_eq!(delete(&person, &token).await.unwrap().status(), StatusCode::NO_CONTENT);
    problem(app.get(&person).bearer_auth(&token).send().await.unwrap(), 404).await;
    problem(delete(&person, &token).await.unwrap(), 404).await;
    problem(app.get(&format!("/v1/people/{id}")).bearer_auth(&token).send().await.unwrap(), 404).await;
    let res = app.get(&format!("/v1/people/{id}")).bearer_auth(&facilitator).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the person is not deleted");
    let res = app.get(&format!("/v1/people/{id}/memberships")).bearer_auth(&facilitator).send().await.unwrap();
    assert_eq!(json(res).await["data"], json!([]));
    let (entries, _) = pull(&app, &token, Some(&cursor), "").await;
    let mut seen: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["type"].as_str().unwrap(), e["operation"].as_str().unwrap())).collect();
    seen.sort();
    assert_eq!(seen, [("membership", "delete"), ("membership", "delete"), ("person", "delete")], "{entries:?}");
    assert!(entries.iter().any(|e| e["type"] == "person" && e["id"] == id.as_str()), "{entries:?}");

    // An admin's membership is not a client's to end: nothing is removed.
    let admin = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-2");
    let body = json!({"name": "Els Van Damme", "email": "els@zorgnet.example", "stakeholder_group": "hr_professional",
                      "membership": {"role": "org_admin", "starts_on": "2019-03-01"}});
    let res = app.request(Method::PUT, &admin).bearer_auth(&facilitator).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin_id = json(res).await["person"]["id"].as_str().unwrap().to_string();
    let job = format!("/v1/organisations/{org}/memberships/by-ref/sdworx/CONTRACT-2");
    let terms = json!({"person_id": admin_id, "role": "employee", "starts_on": "2019-03-01"});
    let res = app.request(Method::PUT, &job).bearer_auth(&token).json(&terms).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin_role = format!("/v1/organisations/{org}/memberships/by-ref/sdworx/ADMIN-2");
    let terms = json!({"person_id": admin_id, "role": "org_admin", "starts_on": "2020-01-01"});
    let res = app.request(Method::PUT, &admin_role).bearer_auth(&facilitator).json(&terms).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let memberships = format!("/v1/people/{admin_id}/memberships");
    let count = || async {
        let res = app.get(&memberships).bearer_auth(&facilitator).send().await.unwrap();
        json(res).await["data"].as_array().unwrap().len()
    };
    assert_eq!(count().await, 3);
    problem(delete(&admin, &token).await.unwrap(), 403).await;
    problem(delete(&admin_role, &token).await.unwrap(), 403).await;
    assert_eq!(count().await, 3, "nothing was removed");
    assert_eq!(delete(&job, &token).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(delete(&admin_role, &facilitator).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(delete(&admin, &facilitator).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(count().await, 0);
}

async fn views_and_the_feed_show_each_organisation_only_its_own_references(app: TestApp) {
    let (org, token, facilitator) = hr_setup(&app).await;
    let path = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-1");
    let body = json!({"name": "Mira Peeters", "email": "mira@zorgnet.example", "stakeholder_group": "employee",
                      "membership": {"role": "employee", "starts_on": "2019-03-01"}});
    let res = app.request(Method::PUT, &path).bearer_auth(&token).json(&body).send().await.unwrap();
    let upserted = json(res).await;
    let id = upserted["person"]["id"].as_str().unwrap().to_string();
    let ours = json!([{"organisation_id": org, "system": "sdworx", "id": "E-1"}]);
    assert_eq!(upserted["person"]["external_refs"], ours, "{upserted}");
    let contract = format!("/v1/organisations/{org}/memberships/by-ref/sdworx/CONTRACT-1");
    let terms = json!({"person_id": id, "role": "manager", "starts_on": "2024-01-01"});
    let res = app.request(Method::PUT, &contract).bearer_auth(&token).json(&terms).send().await.unwrap();
    let membership = json(res).await;
    let contract_refs = json!([{"organisation_id": org, "system": "sdworx", "id": "CONTRACT-1"}]);
    assert_eq!(membership["external_refs"], contract_refs, "{membership}");

    // A second organisation keeps its own id for the same person.
    let other = create_org(&app, &facilitator, "Bouwgroep Vlaeminck").await;
    let res = app
        .post(&format!("/v1/organisations/{other}/memberships"))
        .bearer_auth(&facilitator)
        .json(&json!({"person_id": id, "role": "employee", "starts_on": "2023-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post(&format!("/v1/organisations/{other}/clients"))
        .bearer_auth(&facilitator)
        .json(&json!({"name": "Other HR", "scopes": ["people:read", "people:write"]}))
        .send()
        .await
        .unwrap();
    let client = json(res).await;
    let other_token =
        client_token(&app, client["client"]["id"].as_str().unwrap(), client["client_secret"].as_str().unwrap()).await;
    // Linking a new reference changes what the organisation's views show: a new version.
    let person = format!("/v1/people/{id}");
    let before = app.get(&person).bearer_auth(&other_token).send().await.unwrap();
    let etag = before.headers()["etag"].to_str().unwrap().to_string();
    assert!(json(before).await.get("external_refs").is_none());
    let theirs_path = format!("/v1/organisations/{other}/people/by-ref/personio/P-9");
    let res = app.request(Method::PUT, &theirs_path).bearer_auth(&other_token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "linked by e-mail");
    let after = app.get(&person).bearer_auth(&other_token).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::OK, "not 304: the view changed");
    let b_contract = format!("/v1/organisations/{other}/memberships/by-ref/personio/B-C1");
    let terms = json!({"person_id": id, "role": "employee", "starts_on": "2024-06-01"});
    let res = app.request(Method::PUT, &b_contract).bearer_auth(&other_token).json(&terms).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let theirs = json!([{"organisation_id": other, "system": "personio", "id": "P-9"}]);

    // Each organisation sees its own, on every path; facilitators and members none.
    for (token, refs) in [(&token, &ours), (&other_token, &theirs)] {
        let read = json(app.get(&person).bearer_auth(token).send().await.unwrap()).await;
        assert_eq!(&read["external_refs"], refs, "{read}");
        let list = json(app.get("/v1/people?limit=100").bearer_auth(token).send().await.unwrap()).await;
        let listed = list["data"].as_array().unwrap().iter().find(|p| p["id"] == id.as_str()).unwrap();
        assert_eq!(&listed["external_refs"], refs, "{listed}");
        let (entries, _) = pull(&app, token, None, "&types=person").await;
        let entry = entries.iter().rev().find(|e| e["id"] == id.as_str()).unwrap();
        assert_eq!(&entry["external_refs"], refs, "{entry}");
        assert!(entry["resource"].get("external_refs").is_none(), "the stored view is the same for everyone");
    }
    let read = json(app.get(&contract).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(read["external_refs"], contract_refs);
    let membership_path = format!("/v1/memberships/{}", membership["id"].as_str().unwrap());
    let read = json(app.get(&membership_path).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(read["external_refs"], contract_refs);
    let b_refs = json!([{"organisation_id": other, "system": "personio", "id": "B-C1"}]);
    for (token, expected) in [(&token, &contract_refs), (&other_token, &b_refs)] {
        let res = app.get(&format!("/v1/people/{id}/memberships")).bearer_auth(token).send().await.unwrap();
        let listed = json(res).await;
        let refs: Vec<&Value> =
            listed["data"].as_array().unwrap().iter().filter_map(|m| m.get("external_refs")).collect();
        assert_eq!(refs, [expected], "{listed}");
    }
    let read = json(app.get(&person).bearer_auth(&facilitator).send().await.unwrap()).await;
    assert!(read.get("external_refs").is_none(), "{read}");
    let member = app.member().await;
    let read = json(app.get(&person).bearer_auth(&member.token).send().await.unwrap()).await;
    assert!(read.get("external_refs").is_none(), "{read}");
}

async fn an_hr_system_lists_people_by_its_ids_by_ours_by_change_and_with_former_members(app: TestApp) {
    let (org, token, facilitator) = hr_setup(&app).await;
    let made = batch(
        &app,
        &token,
        &org,
        vec![
            item("E-1", "Mira Peeters", "mira@zorgnet.example"),
            item("E-2", "Jan Claes", "jan@zorgnet.example"),
            item("E-3", "An Wouters", "an@zorgnet.example"),
        ],
    )
    .await;
    let ids: Vec<String> =
        made["results"].as_array().unwrap().iter().map(|r| r["person_id"].as_str().unwrap().to_string()).collect();
    let names = |token: String, query: String| {
        let app = &app;
        async move {
            let res =
                app.get(&format!("/v1/people?limit=200&sort=name{query}")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{query}");
            let page = json(res).await;
            page["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    // By the HR system's own id (any or one system), and by ours.
    assert_eq!(names(token.clone(), "&external_id=E-2".into()).await, ["Jan Claes"]);
    assert_eq!(names(token.clone(), "&external_id=E-2&system=sdworx".into()).await, ["Jan Claes"]);
    assert!(names(token.clone(), "&external_id=E-2&system=personio".into()).await.is_empty());
    assert_eq!(names(facilitator.clone(), "&external_id=E-2".into()).await, ["Jan Claes"]);
    let member = app.member().await;
    assert!(names(member.token.clone(), "&external_id=E-2".into()).await.is_empty(), "no references of their own");
    let both = format!("&ids={},{}", ids[0], ids[2]);
    assert_eq!(names(token.clone(), both).await, ["An Wouters", "Mira Peeters"]);
    let everyone = ["An Wouters", "Jan Claes", "Mira Peeters"];
    assert_eq!(names(token.clone(), "&system=sdworx".into()).await, everyone);
    assert!(names(token.clone(), "&system=personio".into()).await.is_empty());
    for bad in ["&ids=nope", "&system=-x", "&external_id=a/b"] {
        problem(app.get(&format!("/v1/people?{bad}")).bearer_auth(&token).send().await.unwrap(), 400).await;
    }

    // Changed since a moment: only what changed after it.
    let res = app.get(&format!("/v1/people/{}", ids[2])).bearer_auth(&token).send().await.unwrap();
    let since = json(res).await["updated_at"].as_str().unwrap().replace('+', "%2B");
    let mut changed = item("E-1", "Mira Peeters-Janssens", "mira@zorgnet.example");
    changed.as_object_mut().unwrap().remove("external_id");
    let path = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-1");
    let res = app.request(Method::PUT, &path).bearer_auth(&token).json(&changed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let query = format!("&updated_after={since}&organisation_id={org}");
    assert_eq!(names(token.clone(), query).await, ["Mira Peeters-Janssens"]);

    // Former members: only on request.
    let mut ended = item("E-2", "Jan Claes", "jan@zorgnet.example");
    ended.as_object_mut().unwrap().remove("external_id");
    ended["membership"]["ends_on"] = json!("2021-12-31");
    let path = format!("/v1/organisations/{org}/people/by-ref/sdworx/E-2");
    let res = app.request(Method::PUT, &path).bearer_auth(&token).json(&ended).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let current = names(token.clone(), format!("&organisation_id={org}")).await;
    assert_eq!(current, ["An Wouters", "Mira Peeters-Janssens"]);
    let all = names(token.clone(), format!("&organisation_id={org}&include_former=true")).await;
    assert_eq!(all, ["An Wouters", "Jan Claes", "Mira Peeters-Janssens"]);
}

async fn an_existing_member_is_linked_by_e_mail_but_an_outsider_is_refused(app: TestApp) {
    let (org, token, facilitator) = hr_setup(&app).await;
    // A member the organisation already has, and a person it does not know.
    let res = app
        .post(&format!("/v1/organisations/{org}/people"))
        .bearer_auth(&facilitator)
        .json(&json!({"name": "Jonas Claes", "email": "jonas@zorgnet.example", "stakeholder_group": "hr_professional",
                      "membership": {"role": "hr", "starts_on": "2018-02-01"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let jonas = json(res).await["person"]["id"].clone();
    let outsider = app.member().await;
    let body = batch(
        &app,
        &token,
        &org,
        vec![item("J1", "Jonas Claes", "JONAS@zorgnet.example"), item("O1", "Someone", &outsider.email)],
    )
    .await;
    assert_eq!(results(&body), ["updated", "error"], "{body}");
    assert_eq!(body["results"][0]["person_id"], jonas);
    assert_eq!(body["results"][1]["problem"]["errors"][0]["pointer"], "/items/1/email");
}

async fn organisations_are_upserted_by_a_network_reference(app: TestApp) {
    let f = app.facilitator().await;
    let path = "/v1/organisations/by-ref/crm/ORG-42";
    let body = json!({"name": "Leerhuis Limburg", "kind": "learning_provider", "region": "limburg", "sector": "85.59"});
    let res = app.request(Method::PUT, path).bearer_auth(&f.token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = json(res).await["id"].clone();
    let mut renamed = body.clone();
    renamed["name"] = json!("Leerhuis Limburg vzw");
    let res = app.request(Method::PUT, path).bearer_auth(&f.token).json(&renamed).send().await.unwrap();
    assert_eq!(res.headers()["upsert-result"], "updated");
    let org = json(res).await;
    assert_eq!(org["id"], id);
    assert_eq!(org["version"], 2);
    let member = app.member().await;
    let res = app.request(Method::PUT, path).bearer_auth(&member.token).json(&body).send().await.unwrap();
    problem(res, 403).await;
}

async fn memberships_are_upserted_by_the_organisations_reference(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    let body = batch(&app, &token, &org, vec![item("P1", "Pieter", "pieter@x.example")]).await;
    let person = body["results"][0]["person_id"].as_str().unwrap().to_string();
    let path = format!("/v1/organisations/{org}/memberships/by-ref/sdworx/CONTRACT-7");
    let contract = json!({"person_id": person, "role": "manager", "starts_on": "2024-01-01"});
    let put = |body: Value| app.request(Method::PUT, &path).bearer_auth(&token).json(&body).send();
    let res = put(contract.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = json(res).await;
    assert_eq!(created["role"], "manager");
    let res = put(contract.clone()).await.unwrap();
    assert_eq!(res.headers()["upsert-result"], "unchanged");
    let mut ended = contract.clone();
    ended["ends_on"] = json!("2026-06-30");
    let res = put(ended).await.unwrap();
    assert_eq!(res.headers()["upsert-result"], "updated");
    let updated = json(res).await;
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["version"], 2);
    // The person now has two memberships here: the batch's and the contract.
    let memberships =
        json(app.get(&format!("/v1/people/{person}/memberships")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(memberships["data"].as_array().unwrap().len(), 2);
    // The reference cannot be moved to another person.
    let other = batch(&app, &token, &org, vec![item("P2", "Paula", "paula@x.example")]).await;
    let mut moved = contract.clone();
    moved["person_id"] = other["results"][0]["person_id"].clone();
    let body = problem(put(moved).await.unwrap(), 409).await;
    assert_eq!(body["errors"][0]["pointer"], "/person_id");
}

async fn the_feed_reports_changes_in_order_once_each_with_tombstones(app: TestApp) {
    let f = app.facilitator().await;
    let (_, start) = pull(&app, &f.token, None, "").await;
    let res = app
        .post("/v1/themes")
        .bearer_auth(&f.token)
        .json(&json!({"slug": "mentoring", "label_nl": "Mentoring", "label_en": "Mentoring"}))
        .send()
        .await
        .unwrap();
    let theme = json(res).await["id"].as_str().unwrap().to_string();
    let ops = |entries: &[Value]| -> Vec<(String, i64)> {
        entries.iter().map(|e| (e["operation"].as_str().unwrap().to_string(), e["version"].as_i64().unwrap())).collect()
    };
    // A reader that follows along sees every change, in order, once.
    let (created, mut cursor) = pull(&app, &f.token, Some(&start), "").await;
    assert_eq!(ops(&created), [("create".to_string(), 1)]);
    for (label, version) in [("Mentorschap", 2), ("Mentoraat", 3)] {
        app.request(Method::PATCH, &format!("/v1/themes/{theme}"))
            .bearer_auth(&f.token)
            .header("content-type", "application/merge-patch+json")
            .body(json!({"label_nl": label}).to_string())
            .send()
            .await
            .unwrap();
        let (updated, next) = pull(&app, &f.token, Some(&cursor), "").await;
        assert_eq!(ops(&updated), [("update".to_string(), version)]);
        assert_eq!(updated[0]["resource"]["label_nl"], label);
        cursor = next;
    }
    // A reader that comes later gets the resource's latest state only: each change replaces
    // the feed's earlier entries of its resource.
    let (later, _) = pull(&app, &f.token, Some(&start), "").await;
    assert_eq!(ops(&later), [("update".to_string(), 3)]);
    assert_eq!(later[0]["resource"]["label_nl"], "Mentoraat");
    app.request(Method::DELETE, &format!("/v1/themes/{theme}")).bearer_auth(&f.token).send().await.unwrap();
    let (deleted, end) = pull(&app, &f.token, Some(&cursor), "").await;
    assert_eq!(ops(&deleted), [("delete".to_string(), 4)]);
    assert!(deleted[0]["resource"].is_null());
    let (entries, _) = pull(&app, &f.token, Some(&start), "").await;
    assert_eq!(ops(&entries), [("delete".to_string(), 4)], "after a delete only the tombstone is left");
    // Nothing new: the same cursor comes back and nothing is repeated.
    let (none, again) = pull(&app, &f.token, Some(&end), "").await;
    assert!(none.is_empty());
    assert_eq!(again, end);
    // A forged cursor is refused.
    let res = app.get(&format!("/v1/changes?after={end}x")).bearer_auth(&f.token).send().await.unwrap();
    problem(res, 400).await;
}

async fn the_feed_shows_each_caller_only_what_they_may_see(app: TestApp) {
    let (org_a, token_a, facilitator) = hr_setup(&app).await;
    let (org_b, token_b, _) = hr_setup(&app).await;
    batch(&app, &token_a, &org_a, vec![item("A1", "Anna", "anna@a.example")]).await;
    batch(&app, &token_b, &org_b, vec![item("B1", "Bram", "bram@b.example")]).await;
    let names = |entries: &[Value]| -> HashSet<String> {
        entries
            .iter()
            .filter(|e| e["type"] == "person")
            .map(|e| e["resource"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, _) = pull(&app, &token_a, None, "").await;
    assert_eq!(names(&a), HashSet::from(["Anna".to_string()]));
    assert!(a.iter().any(|e| e["type"] == "organisation"), "organisations are public");
    let (b, _) = pull(&app, &token_b, None, "").await;
    assert_eq!(names(&b), HashSet::from(["Bram".to_string()]));
    let (all, _) = pull(&app, &facilitator, None, "").await;
    assert!(names(&all).is_superset(&HashSet::from(["Anna".to_string(), "Bram".to_string()])));
    // A member sees themself, not others.
    let member = app.member().await;
    let (mine, _) = pull(&app, &member.token, None, "").await;
    let people: Vec<&Value> = mine.iter().filter(|e| e["type"] == "person").collect();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["id"], member.id.to_string());
    // Anonymous callers see nothing here.
    problem(app.get("/v1/changes").send().await.unwrap(), 401).await;
}

async fn the_feed_can_be_narrowed_to_some_types(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    batch(&app, &token, &org, vec![item("T1", "Tine", "tine@x.example")]).await;
    let (entries, _) = pull(&app, &token, None, "&types=membership").await;
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["type"] == "membership"));
    let res = app.get("/v1/changes?types=person,events").bearer_auth(&token).send().await.unwrap();
    problem(res, 400).await;
}

async fn a_cursor_older_than_the_retained_history_is_gone(app: TestApp) {
    let f = app.facilitator().await;
    let (_, old) = pull(&app, &f.token, None, "").await;
    let res = app
        .post("/v1/themes")
        .bearer_auth(&f.token)
        .json(&json!({"slug": "short-lived", "label_nl": "Kort", "label_en": "Short"}))
        .send()
        .await
        .unwrap();
    let theme = json(res).await["id"].as_str().unwrap().to_string();
    app.request(Method::DELETE, &format!("/v1/themes/{theme}")).bearer_auth(&f.token).send().await.unwrap();
    // Compact everything up to now (as the hourly job does after the retention period).
    let purged = app.store.purge_feed(chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap();
    assert!(purged >= 1, "the tombstone goes (the create went when the theme was deleted): {purged}");
    let res = app.get(&format!("/v1/changes?after={old}")).bearer_auth(&f.token).send().await.unwrap();
    let body = problem(res, 410).await;
    assert!(body["detail"].as_str().unwrap().contains("from the start"));
    // Reading from the start still gives the current state: the people, without the theme.
    let (entries, _) = pull(&app, &f.token, None, "").await;
    assert!(entries.iter().any(|e| e["type"] == "person" && e["id"] == f.id.to_string()));
    assert!(entries.iter().all(|e| e["id"] != theme.as_str()));
}

async fn concurrent_writers_on_two_instances_never_make_the_feed_skip_or_repeat(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    let second = crate::helpers::second_instance(&app).await;
    let mut replica = Replica::default();
    let (start, mut cursor) = pull(&app, &token, None, "").await;
    replica.apply(&start);
    let writers = (0..4).map(|w| {
        let (instance, token, org) = (if w % 2 == 0 { &app } else { &second }, token.clone(), org.clone());
        async move {
            for round in 0..5 {
                let items: Vec<Value> = (0..5)
                    .map(|i| {
                        item(
                            &format!("W{w}-{i}"),
                            &format!("Writer {w} item {i} round {round}"),
                            &format!("w{w}.{i}@x.example"),
                        )
                    })
                    .collect();
                let res = instance
                    .post(&format!("/v1/organisations/{org}/people/batch"))
                    .bearer_auth(&token)
                    .json(&json!({"system": "sdworx", "items": items}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
            }
        }
    });
    let reader = async {
        // Poll while the writers run.
        for _ in 0..20 {
            let (entries, next) = pull(&second, &token, Some(&cursor), "").await;
            replica.apply(&entries);
            cursor = next;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    futures_util::future::join(futures_util::future::join_all(writers), reader).await;
    let (rest, _) = pull(&app, &token, Some(&cursor), "").await;
    replica.apply(&rest);
    let people = replica.of_type("person");
    assert_eq!(people.len(), 20);
    for person in people.values() {
        assert!(person["name"].as_str().unwrap().ends_with("round 4"), "{person}");
        assert_eq!(person["version"], 5);
    }
}

async fn a_person_has_one_reference_per_system(app: TestApp) {
    let (org, token, _) = hr_setup(&app).await;
    let body = batch(&app, &token, &org, vec![item("E1", "Jonas Claes", "jonas@zorgnet.example")]).await;
    assert_eq!(results(&body), ["created"]);
    // The same person under a second id, alone or twice in one batch, is refused at the id.
    let body = batch(&app, &token, &org, vec![item("E2", "Jonas Claes", "jonas@zorgnet.example")]).await;
    assert_eq!(results(&body), ["error"], "{body}");
    assert_eq!(body["results"][0]["problem"]["status"], 409);
    assert_eq!(body["results"][0]["problem"]["errors"][0]["pointer"], "/items/0/external_id", "{body}");
    assert!(body["results"][0]["problem"]["errors"][0]["detail"].as_str().unwrap().contains("`E1`"), "{body}");
    let res = app
        .request(Method::PUT, &format!("/v1/organisations/{org}/people/by-ref/sdworx/E3"))
        .bearer_auth(&token)
        .json(&json!({"name": "Jonas Claes", "email": "jonas@zorgnet.example", "stakeholder_group": "employee",
                      "membership": {"role": "employee", "starts_on": "2020-01-01"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["pointer"], "/external_id");
    let body = batch(
        &app,
        &token,
        &org,
        vec![item("M1", "Mira Peeters", "mira@zorgnet.example"), item("M2", "Mira Peeters", "mira@zorgnet.example")],
    )
    .await;
    assert_eq!(results(&body), ["created", "error"], "{body}");
    // Under its own id the person is still upserted.
    let body = batch(&app, &token, &org, vec![item("E1", "Jonas Claes-Peeters", "jonas@zorgnet.example")]).await;
    assert_eq!(results(&body), ["updated"], "{body}");
}
