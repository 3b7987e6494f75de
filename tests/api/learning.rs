//! The informal-learning log: records a person owns and shares by choice, read by callers
//! of every role; summaries; records from attendance and done commitments; HR sync (by
//! reference, batches, CSV); and the person's rights (export, erasure).

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::events::{World, action, at, create_event, event_body, id_of, register, world};
use crate::helpers::{TestApp, problem};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, feed, get, patch, post, theme};

on_both_databases!(
    each_caller_reads_exactly_the_records_shared_with_them,
    records_are_validated_with_pointers_and_the_context_follows_the_activity_type,
    only_the_owner_changes_sharing_and_whoever_loses_sight_gets_a_tombstone,
    summaries_count_hours_by_type_context_and_quarter_for_whom_may_see_them,
    attendance_and_done_commitments_become_linked_records_in_one_call,
    hr_systems_upsert_records_by_reference_and_the_person_keeps_control,
    an_hr_system_reads_back_and_retracts_only_what_it_synced,
    an_hr_system_names_the_person_by_its_own_reference,
    a_csv_import_answers_per_row_and_importing_again_updates,
    a_person_exports_everything_and_erasure_leaves_only_tombstones,
);

fn record_body(title: &str, visibility: &str, shared_with: &[&str]) -> Value {
    json!({
        "title": title,
        "description": "Wat er gebeurde, in **Markdown**.",
        "reflection": {"learned": "Samen leren werkt.", "will_do_differently": "Vaker vragen stellen."},
        "activity_type": "peer_learning",
        "started_on": "2027-02-10",
        "duration_minutes": 90,
        "visibility": visibility,
        "shared_with": shared_with
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    expect(post(app, token, "/v1/learning-records", body).await, StatusCode::CREATED).await
}

async fn read(app: &TestApp, token: &str, id: &str) -> StatusCode {
    get(app, token, &format!("/v1/learning-records/{id}")).await.status()
}

/// The titles of the records `token` lists.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let page = expect(get(app, token, &format!("/v1/learning-records?limit=200{query}")).await, StatusCode::OK).await;
    let mut titles: Vec<String> =
        page["data"].as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_string()).collect();
    titles.sort();
    titles
}

async fn delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.request(Method::DELETE, path).bearer_auth(token).send().await.unwrap()
}

/// A member of organisation A with a private, an organisation-shared and a network record.
async fn three_records(app: &TestApp, w: &World) -> (String, String, String) {
    let t = &w.member_a.token;
    let private = create(app, t, record_body("Privé", "private", &[])).await;
    let org = create(app, t, record_body("Voor de organisatie", "organisation", &[&w.a])).await;
    let network = create(app, t, record_body("Voor het netwerk", "network", &[])).await;
    (id_of(&private), id_of(&org), id_of(&network))
}

async fn each_caller_reads_exactly_the_records_shared_with_them(app: TestApp) {
    let w = world(&app).await;
    let (private, org, network) = three_records(&app, &w).await;
    let f = &w.facilitator.token;
    let reader_a = client_token(&app, f, &w.a, &["learning-records:read"]).await;
    let reader_b = client_token(&app, f, &w.b, &["learning-records:read"]).await;
    let people_only = client_token(&app, f, &w.a, &["people:read"]).await;
    let ok = StatusCode::OK;
    let hidden = StatusCode::NOT_FOUND;
    let cases: [(&str, &str, [StatusCode; 3]); 7] = [
        ("the owner", &w.member_a.token, [ok, ok, ok]),
        ("the admin of the organisation shared with", &w.admin_a.token, [hidden, ok, ok]),
        ("an admin of another organisation", &w.admin_b.token, [hidden, hidden, ok]),
        ("another member", &w.member_b.token, [hidden, hidden, ok]),
        ("a facilitator (moderates, does not read private records)", f, [hidden, hidden, ok]),
        ("the organisation's client with learning-records:read", &reader_a, [hidden, ok, hidden]),
        ("another organisation's client", &reader_b, [hidden, hidden, hidden]),
    ];
    for (who, token, expected) in cases {
        let actual =
            [read(&app, token, &private).await, read(&app, token, &org).await, read(&app, token, &network).await];
        assert_eq!(actual, expected, "{who}");
        let mut titles: Vec<String> = [("Privé", 0), ("Voor de organisatie", 1), ("Voor het netwerk", 2)]
            .iter()
            .filter(|(_, i)| expected[*i] == ok)
            .map(|(t, _)| t.to_string())
            .collect();
        titles.sort();
        assert_eq!(listed(&app, token, "").await, titles, "{who} lists");
    }
    // Without a learning-records scope a client reads none; anonymous callers nothing.
    problem(get(&app, &people_only, "/v1/learning-records").await, 403).await;
    assert_eq!(read(&app, &people_only, &org).await, hidden);
    assert_eq!(app.get(&format!("/v1/learning-records/{network}")).send().await.unwrap().status(), 401);
    // A guessed id is a 404 like a record that does not exist.
    assert_eq!(read(&app, &w.admin_a.token, &Uuid::now_v7().to_string()).await, hidden);
    // Reading is not editing: the admin who reads the record cannot change or delete it.
    let path = format!("/v1/learning-records/{org}");
    problem(patch(&app, &w.admin_a.token, &path, None, json!({"title": "Anders"})).await, 403).await;
    problem(delete(&app, &w.admin_a.token, &path).await, 403).await;
    // Facilitators moderate network records (delete), nothing they cannot read.
    problem(delete(&app, f, &format!("/v1/learning-records/{private}")).await, 404).await;
    assert_eq!(delete(&app, f, &format!("/v1/learning-records/{network}")).await.status(), 204);
    assert_eq!(read(&app, &w.member_a.token, &network).await, hidden);
    // Filters narrow what one may read.
    assert_eq!(listed(&app, &w.member_a.token, "&visibility=organisation").await, ["Voor de organisatie"]);
    assert_eq!(listed(&app, &w.member_b.token, &format!("&person_id={}", w.member_a.id)).await, Vec::<String>::new());
}

async fn records_are_validated_with_pointers_and_the_context_follows_the_activity_type(app: TestApp) {
    let w = world(&app).await;
    let t = &w.member_a.token;
    theme(&app, &w.facilitator.token, "workplace-learning").await;
    let mut body = record_body("Jobrotatie", "private", &[]);
    body["activity_type"] = json!("job_rotation");
    body["themes"] = json!(["workplace-learning"]);
    body["skills"] = json!([{"label": "plannen", "esco_uri": "http://data.europa.eu/esco/skill/1b4a4f6d-4ea7-4a4b-9f5b-3d5f4e8e1c2a"}]);
    body["evidence"] = json!(["https://intranet.example.be/verslag"]);
    let r = create(&app, t, body.clone()).await;
    assert_eq!((r["context"].as_str(), r["source"].as_str()), (Some("experiential"), Some("manual")));
    assert_eq!(r["description"], "Wat er gebeurde, in **Markdown**.", "Markdown is stored as given");
    body["context"] = json!("formal");
    assert_eq!(create(&app, t, body.clone()).await["context"], "formal", "the owner's choice wins");

    let bad = json!({
        "title": " ",
        "activity_type": "on_the_job",
        "started_on": "2027-02-10",
        "ended_on": "2027-02-01",
        "duration_minutes": 0,
        "skills": [{"label": "x", "esco_uri": "https://esco.example/skill/1"}],
        "evidence": ["ftp://files.example.be/verslag.pdf"],
        "visibility": "organisation",
        "shared_with": []
    });
    let p = problem(post(&app, t, "/v1/learning-records", bad).await, 422).await;
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    for expected in ["/title", "/ended_on", "/duration_minutes", "/skills/0/esco_uri", "/evidence/0", "/shared_with"] {
        assert!(pointers.contains(&expected), "{expected} in {p}");
    }
    // Sharing only with organisations one belongs to; only existing themes.
    let p = problem(post(&app, t, "/v1/learning-records", record_body("X", "organisation", &[&w.b])).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/shared_with/0");
    let mut unknown = record_body("X", "private", &[]);
    unknown["themes"] = json!(["bestaat-niet"]);
    let p = problem(post(&app, t, "/v1/learning-records", unknown).await, 404).await;
    assert_eq!(p["errors"][0]["pointer"], "/themes", "{p}");
    problem(
        post(
            &app,
            t,
            "/v1/learning-records",
            json!({"title": "X", "activity_type": "napping", "started_on": "2027-01-01"}),
        )
        .await,
        422,
    )
    .await;
    // Integration clients keep no learning log of their own.
    let client = client_token(&app, &w.facilitator.token, &w.a, &["learning-records:write"]).await;
    problem(post(&app, &client, "/v1/learning-records", record_body("X", "private", &[])).await, 403).await;
}

async fn only_the_owner_changes_sharing_and_whoever_loses_sight_gets_a_tombstone(app: TestApp) {
    let w = world(&app).await;
    let t = &w.member_a.token;
    let r = create(&app, t, record_body("Gedeeld", "organisation", &[&w.a])).await;
    let path = format!("/v1/learning-records/{}", id_of(&r));
    // A stale ETag is refused; the current one works.
    problem(patch(&app, t, &path, Some("\"7\""), json!({"visibility": "private"})).await, 412).await;
    let private =
        expect(patch(&app, t, &path, Some("\"1\""), json!({"visibility": "private"})).await, StatusCode::OK).await;
    assert_eq!((private["version"].as_i64(), private["shared_with"].as_array().map(Vec::len)), (Some(2), Some(0)));
    assert_eq!(read(&app, &w.admin_a.token, &id_of(&r)).await, StatusCode::NOT_FOUND);
    // The admin's feed now holds only a tombstone: the record's content went from it when
    // its sharing was withdrawn. The owner reads the record as it now is.
    let seen = feed(&app, &w.admin_a.token, "learning_record").await;
    let ops: Vec<(&str, i64)> =
        seen.iter().map(|c| (c["operation"].as_str().unwrap(), c["version"].as_i64().unwrap())).collect();
    assert_eq!(ops, [("delete", 2)]);
    let mine = feed(&app, t, "learning_record").await;
    assert_eq!(mine.last().unwrap()["operation"], "update");
    // Sharing with the network reaches every member's feed, but not a client's.
    expect(patch(&app, t, &path, None, json!({"visibility": "network"})).await, StatusCode::OK).await;
    assert_eq!(feed(&app, &w.member_b.token, "learning_record").await.last().unwrap()["operation"], "update");
    let client = client_token(&app, &w.facilitator.token, &w.b, &["learning-records:read"]).await;
    assert!(feed(&app, &client, "learning_record").await.is_empty());
    // Facilitators never see a private record, in the feed either.
    let secret = create(&app, &w.member_b.token, record_body("Geheim", "private", &[])).await;
    let all = feed(&app, &w.facilitator.token, "learning_record").await;
    assert!(!all.iter().any(|c| c["id"] == secret["id"]), "{all:?}");
    // Null on a required field is refused; null on an optional one clears it.
    problem(patch(&app, t, &path, None, json!({"title": null})).await, 422).await;
    let cleared = expect(patch(&app, t, &path, None, json!({"duration_minutes": null})).await, StatusCode::OK).await;
    assert!(cleared["duration_minutes"].is_null());
}

async fn summaries_count_hours_by_type_context_and_quarter_for_whom_may_see_them(app: TestApp) {
    let w = world(&app).await;
    let t = &w.member_a.token;
    let records = [
        ("on_the_job", "2027-01-15", 120, "organisation"),
        ("on_the_job", "2027-04-02", 60, "private"),
        ("intervision", "2027-02-20", 90, "organisation"),
        ("online_course", "2026-12-30", 600, "organisation"),
    ];
    for (i, (kind, day, minutes, visibility)) in records.iter().enumerate() {
        let org: &[&str] = if *visibility == "organisation" { &[w.a.as_str()] } else { &[] };
        let mut body = record_body(&format!("R{i}"), visibility, org);
        body["activity_type"] = json!(kind);
        body["started_on"] = json!(day);
        body["duration_minutes"] = json!(minutes);
        create(&app, t, body).await;
    }
    let path = format!("/v1/people/{}/learning-summary?from=2027-01-01&to=2027-12-31", w.member_a.id);
    let own = expect(get(&app, t, &path).await, StatusCode::OK).await;
    assert_eq!(own["scope"], "own");
    assert_eq!(own["total"], json!({"records": 3, "minutes": 270, "hours": 4.5}));
    assert_eq!(
        own["by_activity_type"],
        json!([{"key": "on_the_job", "records": 2, "minutes": 180, "hours": 3.0},
               {"key": "intervision", "records": 1, "minutes": 90, "hours": 1.5}])
    );
    assert_eq!(
        own["by_context"],
        json!([{"key": "experiential", "records": 2, "minutes": 180, "hours": 3.0},
               {"key": "social", "records": 1, "minutes": 90, "hours": 1.5}])
    );
    assert_eq!(
        own["by_quarter"],
        json!([{"key": "2027-Q1", "records": 2, "minutes": 210, "hours": 3.5},
               {"key": "2027-Q2", "records": 1, "minutes": 60, "hours": 1.0}])
    );
    // The organisation's admin sees the sum over what was shared with it.
    let shared = expect(get(&app, &w.admin_a.token, &path).await, StatusCode::OK).await;
    assert_eq!(shared["scope"], "shared");
    assert_eq!(shared["total"], json!({"records": 2, "minutes": 210, "hours": 3.5}));
    // Others see nothing, not even whether the person exists.
    for token in [&w.admin_b.token, &w.member_b.token, &w.facilitator.token] {
        problem(get(&app, token, &path).await, 404).await;
    }
    let empty = format!("/v1/people/{}/learning-summary?from=2027-02-01&to=2027-01-01", w.member_a.id);
    let empty = expect(get(&app, t, &empty).await, StatusCode::OK).await;
    assert_eq!((empty["total"]["records"].as_i64(), empty["by_quarter"].as_array().map(Vec::len)), (Some(0), Some(0)));
}

async fn attendance_and_done_commitments_become_linked_records_in_one_call(app: TestApp) {
    let w = world(&app).await;
    let t = &w.member_a.token;
    theme(&app, &w.facilitator.token, "careers-at-every-age").await;
    let mut body = event_body(&w.a, "Loopbanen op elke leeftijd", None);
    body["starts_at"] = json!(at(Duration::hours(2)));
    body["ends_at"] = json!(at(Duration::hours(5)));
    body["themes"] = json!(["careers-at-every-age"]);
    let event = create_event(&app, &w.admin_a.token, body).await;
    let reg = expect(register(&app, t, &id_of(&event), None).await, StatusCode::CREATED).await;
    let from_reg = format!("/v1/registrations/{}/learning-record", id_of(&reg));
    // Registered is not attended.
    problem(post(&app, t, &from_reg, json!({})).await, 409).await;
    expect(action(&app, &w.admin_a.token, &id_of(&reg), "check-in").await, StatusCode::OK).await;
    problem(post(&app, &w.member_b.token, &from_reg, json!({})).await, 404).await;
    let record = expect(
        post(
            &app,
            t,
            &from_reg,
            json!({"reflection": {"learned": "Leren stopt niet op je vijftigste."}, "visibility": "network"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(record["title"], "Loopbanen op elke leeftijd");
    assert_eq!((record["activity_type"].as_str(), record["context"].as_str()), (Some("event"), Some("formal")));
    assert_eq!(record["event_id"], event["id"]);
    assert_eq!(record["duration_minutes"], 180);
    assert_eq!(record["themes"], json!(["careers-at-every-age"]));
    assert_eq!(record["visibility"], "network");
    let again = post(&app, t, &from_reg, json!({})).await;
    assert_eq!(again.headers()["location"].to_str().unwrap(), format!("/v1/learning-records/{}", id_of(&record)));
    problem(again, 409).await;

    // A commitment: not done yet, then done, then linked both ways.
    let c = expect(
        post(
            &app,
            t,
            &format!("/v1/events/{}/commitments", id_of(&event)),
            json!({"text": "Een leerplan met elke vijftigplusser.", "theme": "careers-at-every-age"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let from_c = format!("/v1/commitments/{}/learning-record", id_of(&c));
    problem(post(&app, t, &from_c, json!({})).await, 409).await;
    expect(
        patch(&app, t, &format!("/v1/commitments/{}", id_of(&c)), None, json!({"status": "done"})).await,
        StatusCode::OK,
    )
    .await;
    let shown = expect(post(&app, t, &from_c, json!({})).await, StatusCode::CREATED).await;
    assert_eq!((shown["commitment_id"].as_str(), shown["visibility"].as_str()), (c["id"].as_str(), Some("private")));
    let linked = expect(get(&app, t, &format!("/v1/commitments/{}", id_of(&c))).await, StatusCode::OK).await;
    assert_eq!(linked["learning_record_id"], shown["id"]);
    problem(post(&app, t, &from_c, json!({})).await, 409).await;
    // Deleting the record unlinks the commitment.
    assert_eq!(delete(&app, t, &format!("/v1/learning-records/{}", id_of(&shown))).await.status(), 204);
    let unlinked = expect(get(&app, t, &format!("/v1/commitments/{}", id_of(&c))).await, StatusCode::OK).await;
    assert!(unlinked["learning_record_id"].is_null());
}

fn item(external_id: &str, person: Uuid, title: &str) -> Value {
    json!({"external_id": external_id, "person_id": person, "title": title, "activity_type": "online_course",
           "started_on": "2027-03-01", "duration_minutes": 240})
}

async fn an_hr_system_reads_back_and_retracts_only_what_it_synced(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let hr = client_token(&app, f, &w.a, &["learning-records:write"]).await;
    let reader = client_token(&app, f, &w.a, &["learning-records:read"]).await;
    let other_hr = client_token(&app, f, &w.b, &["learning-records:write"]).await;
    let me = &w.member_a;
    let by_ref = format!("/v1/organisations/{}/learning-records/by-ref/sdworx/LR-9", w.a);
    let mut body = item("LR-9", me.id, "Coaching on the job");
    body.as_object_mut().unwrap().remove("external_id");
    let put = || app.request(Method::PUT, &by_ref).bearer_auth(&hr).json(&body).send();
    let made = expect(put().await.unwrap(), StatusCode::CREATED).await;
    let id = made["record_id"].as_str().unwrap().to_string();

    // Read back: what GET by id shows the caller. A new synced record is private, so the
    // organisation does not see it until the person shares it with it.
    let missing = problem(get(&app, &hr, &by_ref).await, 404).await;
    assert!(missing["detail"].as_str().unwrap().contains("LR-9"), "{missing}");
    let share = json!({"visibility": "organisation", "shared_with": [w.a]});
    let path = format!("/v1/learning-records/{id}");
    expect(patch(&app, &me.token, &path, None, share).await, StatusCode::OK).await;
    for token in [&hr, &reader, &w.admin_a.token] {
        let res = get(&app, token, &by_ref).await;
        assert_eq!(res.headers()["content-location"], path.as_str());
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        let read = expect(res, StatusCode::OK).await;
        assert_eq!(read, expect(get(&app, token, &path).await, StatusCode::OK).await);
        assert_eq!(read["title"], "Coaching on the job");
        let again = app.get(&by_ref).bearer_auth(token).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
    // References are the organisation's own.
    problem(get(&app, &other_hr, &by_ref).await, 403).await;
    problem(get(&app, &me.token, &by_ref).await, 403).await;
    problem(app.get(&by_ref).send().await.unwrap(), 401).await;
    let unknown = format!("/v1/organisations/{}/learning-records/by-ref/sdworx/LR-404", w.a);
    problem(get(&app, &hr, &unknown).await, 404).await;
    problem(get(&app, &hr, &format!("/v1/organisations/{}/learning-records/by-ref/-x/LR-9", w.a)).await, 400).await;

    // Retract: only a client that writes records (or an admin), at the version read.
    problem(delete(&app, &reader, &by_ref).await, 403).await;
    problem(delete(&app, &other_hr, &by_ref).await, 403).await;
    problem(delete(&app, &me.token, &by_ref).await, 403).await;
    let stale = app.request(Method::DELETE, &by_ref).bearer_auth(&hr).header("if-match", "\"1\"").send().await.unwrap();
    problem(stale, 412).await;
    assert_eq!(read(&app, &me.token, &id).await, StatusCode::OK, "nothing was deleted");
    assert_eq!(delete(&app, &hr, &by_ref).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(read(&app, &me.token, &id).await, StatusCode::NOT_FOUND);
    problem(delete(&app, &hr, &by_ref).await, 404).await;
    // Everyone who saw it gets a tombstone.
    let tombstones: Vec<Value> =
        feed(&app, &hr, "learning_record").await.into_iter().filter(|c| c["id"] == id).collect();
    assert_eq!(tombstones.last().unwrap()["operation"], "delete", "{tombstones:?}");

    // A retracted reference may be synced again; one the person deleted may not.
    let again = expect(put().await.unwrap(), StatusCode::CREATED).await;
    let id = again["record_id"].as_str().unwrap();
    assert_eq!(delete(&app, &me.token, &format!("/v1/learning-records/{id}")).await.status(), 204);
    problem(delete(&app, &hr, &by_ref).await, 404).await;
    problem(put().await.unwrap(), 409).await;

    // The person's own records have no reference an HR system could name.
    let own = expect(
        post(&app, &me.token, "/v1/learning-records", record_body("Eigen leerdoel", "organisation", &[w.a.as_str()]))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(own["external_ref"], Value::Null);
}

async fn an_hr_system_names_the_person_by_its_own_reference(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let hr = client_token(&app, f, &w.a, &["people:write", "learning-records:write"]).await;
    let hr_b = client_token(&app, f, &w.b, &["people:write"]).await;
    // The HR system's employee E-7 is Jonas (linked by e-mail); B's system also has an E-8.
    let body = |email: &str| {
        json!({"name": "Iemand", "email": email, "stakeholder_group": "employee",
               "membership": {"role": "employee", "starts_on": "2020-01-01"}})
    };
    let linked = format!("/v1/organisations/{}/people/by-ref/sdworx/E-7", w.a);
    let res = app.request(Method::PUT, &linked).bearer_auth(&hr).json(&body(&w.member_a.email)).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let theirs = format!("/v1/organisations/{}/people/by-ref/sdworx/E-8", w.b);
    let res = app.request(Method::PUT, &theirs).bearer_auth(&hr_b).json(&body("e8@bouwgroep.example")).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::CREATED);

    // One record by reference, its person by reference too.
    let mut one = item("LR-1", w.member_a.id, "Werkplekleren");
    let one = one.as_object_mut().unwrap();
    one.remove("external_id");
    one.remove("person_id");
    one.insert("person_ref".into(), json!("E-7"));
    let path = format!("/v1/organisations/{}/learning-records/by-ref/sdworx/LR-1", w.a);
    let made = app.request(Method::PUT, &path).bearer_auth(&hr).json(&one).send().await.unwrap();
    let made = expect(made, StatusCode::CREATED).await;
    let record = app.store.get_record(made["record_id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(record.person_id, w.member_a.id);
    // A reference the organisation does not have (B's included) is 404 at `/person_ref`.
    for unknown in ["E-404", "E-8"] {
        one.insert("person_ref".into(), json!(unknown));
        let res = app.request(Method::PUT, &path).bearer_auth(&hr).json(&one).send().await.unwrap();
        let body = problem(res, 404).await;
        assert_eq!(body["errors"][0]["pointer"], "/person_ref", "{body}");
    }
    one.insert("person_id".into(), json!(w.member_a.id));
    let res = app.request(Method::PUT, &path).bearer_auth(&hr).json(&one).send().await.unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["pointer"], "/person_ref");

    // In a batch, each item on its own: by reference, unknown, both, neither.
    let by_ref = |id: &str, person_ref: &str| {
        json!({"external_id": id, "person_ref": person_ref, "title": "Mentoring", "activity_type": "coaching_mentoring",
               "started_on": "2027-03-01"})
    };
    let mut both = by_ref("LR-4", "E-7");
    both["person_id"] = json!(w.member_a.id);
    let mut neither = by_ref("LR-5", "E-7");
    neither.as_object_mut().unwrap().remove("person_ref");
    let items = json!([by_ref("LR-2", "E-7"), by_ref("LR-3", "E-8"), both, neither]);
    let batch = app
        .post(&format!("/v1/organisations/{}/learning-records/batch", w.a))
        .bearer_auth(&hr)
        .json(&json!({"system": "sdworx", "items": items}))
        .send()
        .await
        .unwrap();
    let batch = expect(batch, StatusCode::OK).await;
    let outcome: Vec<(&str, &str)> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["result"].as_str().unwrap(), r["problem"]["errors"][0]["pointer"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        outcome,
        [
            ("created", ""),
            ("error", "/items/1/person_ref"),
            ("error", "/items/2/person_ref"),
            ("error", "/items/3/person_id")
        ],
        "{batch}"
    );

    // A CSV file names people by reference in its `system`.
    let csv = "external_id,person_ref,title,activity_type,started_on\nR-1,E-7,Opleiding,online_course,2027-02-01\n";
    let res = app
        .post(&format!("/v1/organisations/{}/learning-records/import?system=sdworx", w.a))
        .bearer_auth(&hr)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(expect(res, StatusCode::OK).await["results"][0]["result"], "created");

    // Once the person left the organisation, their records are no longer its to retract.
    let leaver = format!("/v1/organisations/{}/people/by-ref/sdworx/E-9", w.a);
    let res = app.request(Method::PUT, &leaver).bearer_auth(&hr).json(&body("e9@zorgnet.example")).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::CREATED);
    let path = format!("/v1/organisations/{}/learning-records/by-ref/sdworx/LR-9", w.a);
    one.remove("person_id");
    one.insert("person_ref".into(), json!("E-9"));
    let made = app.request(Method::PUT, &path).bearer_auth(&hr).json(&one).send().await.unwrap();
    let record: Uuid = expect(made, StatusCode::CREATED).await["record_id"].as_str().unwrap().parse().unwrap();
    let res = app.request(Method::DELETE, &leaver).bearer_auth(&hr).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(delete(&app, &hr, &path).await, 404).await;
    assert!(app.store.get_record(record).await.is_ok(), "the record stays the person's");
}

async fn hr_systems_upsert_records_by_reference_and_the_person_keeps_control(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let hr = client_token(&app, f, &w.a, &["learning-records:write"]).await;
    let me = w.member_a.id;
    let batch_path = format!("/v1/organisations/{}/learning-records/batch", w.a);
    let items = json!([
        item("LR-1", me, "E-learning veiligheid"),
        item("LR-2", me, "E-learning privacy"),
        item("LR-3", w.member_b.id, "Niet van ons"),
        {"external_id": "LR-4", "person_id": me, "title": "Kapot", "activity_type": "online_course", "started_on": "1999-01-01"},
        item("LR-1", me, "Dubbel"),
    ]);
    let first = app
        .post(&batch_path)
        .bearer_auth(&hr)
        .header("idempotency-key", "sync-2027-03-01")
        .json(&json!({"system": "sdworx", "items": items}))
        .send()
        .await
        .unwrap();
    let first = expect(first, StatusCode::OK).await;
    let results: Vec<&str> =
        first["results"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["created", "created", "error", "error", "error"], "{first}");
    assert_eq!(first["results"][2]["problem"]["errors"][0]["pointer"], "/items/2/person_id");
    assert_eq!(first["results"][3]["problem"]["errors"][0]["pointer"], "/items/3/started_on");
    // The retried request (same key) answers the same and creates nothing new.
    let retry = app
        .post(&batch_path)
        .bearer_auth(&hr)
        .header("idempotency-key", "sync-2027-03-01")
        .json(&json!({"system": "sdworx", "items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect(retry, StatusCode::OK).await, first);
    let mine = listed(&app, &w.member_a.token, "").await;
    assert_eq!(mine, ["E-learning privacy", "E-learning veiligheid"], "the retry created nothing");
    // New synced records are private: the person decides whom to share them with.
    let id1 = first["results"][0]["record_id"].as_str().unwrap().to_string();
    let r1 = expect(get(&app, &w.member_a.token, &format!("/v1/learning-records/{id1}")).await, StatusCode::OK).await;
    assert_eq!((r1["visibility"].as_str(), r1["source"].as_str()), (Some("private"), Some("sdworx")));
    assert_eq!(r1["external_ref"], json!({"system": "sdworx", "id": "LR-1"}));
    assert_eq!(read(&app, &hr, &id1).await, StatusCode::NOT_FOUND);
    expect(
        patch(
            &app,
            &w.member_a.token,
            &format!("/v1/learning-records/{id1}"),
            None,
            json!({"visibility": "organisation", "shared_with": [w.a]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read(&app, &hr, &id1).await, StatusCode::OK);
    // Upsert by reference: unchanged, then updated, never re-shared.
    let by_ref = format!("/v1/organisations/{}/learning-records/by-ref/sdworx/LR-1", w.a);
    let mut one = item("LR-1", me, "E-learning veiligheid");
    one.as_object_mut().unwrap().remove("external_id");
    let put = |body: Value| app.request(Method::PUT, &by_ref).bearer_auth(&hr).json(&body).send();
    assert_eq!(expect(put(one.clone()).await.unwrap(), StatusCode::OK).await["result"], "unchanged");
    // A new reference answers 201 with the record's place.
    let mut new_one = one.clone();
    new_one["title"] = json!("Brandveiligheid");
    let path = format!("/v1/organisations/{}/learning-records/by-ref/sdworx/LR-5", w.a);
    let made = app.request(Method::PUT, &path).bearer_auth(&hr).json(&new_one).send().await.unwrap();
    let location = made.headers()["location"].to_str().unwrap().to_string();
    let made = expect(made, StatusCode::CREATED).await;
    assert_eq!(location, format!("/v1/learning-records/{}", made["record_id"].as_str().unwrap()));
    one["title"] = json!("E-learning veiligheid (herhaling)");
    let updated = expect(put(one.clone()).await.unwrap(), StatusCode::OK).await;
    assert_eq!((updated["result"].as_str(), updated["version"].as_i64()), (Some("updated"), Some(3)));
    let r1 = expect(get(&app, &w.member_a.token, &format!("/v1/learning-records/{id1}")).await, StatusCode::OK).await;
    assert_eq!(
        (r1["title"].as_str(), r1["visibility"].as_str()),
        (Some("E-learning veiligheid (herhaling)"), Some("organisation"))
    );
    // The person deletes a synced record: the next sync does not bring it back.
    let id2 = first["results"][1]["record_id"].as_str().unwrap();
    assert_eq!(delete(&app, &w.member_a.token, &format!("/v1/learning-records/{id2}")).await.status(), 204);
    let again = app
        .post(&batch_path)
        .bearer_auth(&hr)
        .json(&json!({"system": "sdworx", "items": [item("LR-2", me, "E-learning privacy")]}))
        .send()
        .await
        .unwrap();
    let again = expect(again, StatusCode::OK).await;
    assert_eq!(again["results"][0]["result"], "error");
    assert_eq!(again["results"][0]["problem"]["status"], 409);
    // Who may sync: the organisation's clients with the write scope and its admins.
    let reader = client_token(&app, f, &w.a, &["learning-records:read"]).await;
    problem(post(&app, &reader, &batch_path, json!({"system": "sdworx", "items": []})).await, 403).await;
    let other = client_token(&app, f, &w.b, &["learning-records:write"]).await;
    problem(post(&app, &other, &batch_path, json!({"system": "sdworx", "items": []})).await, 403).await;
    problem(post(&app, &w.member_a.token, &batch_path, json!({"system": "sdworx", "items": []})).await, 403).await;
    let admin = post(
        &app,
        &w.admin_a.token,
        &batch_path,
        json!({"system": "sdworx", "items": [item("LR-9", me, "Via de HR-admin")]}),
    )
    .await;
    assert_eq!(expect(admin, StatusCode::OK).await["results"][0]["result"], "created");
    problem(post(&app, &hr, &batch_path, json!({"system": "sd worx", "items": []})).await, 422).await;
    // The person links a synced record to a shared solution they applied; the link is theirs,
    // and a later sync of the record keeps it.
    let solution = json!({"title": "Veilig werken, samen geleerd", "status": "published"});
    let solution = expect(post(&app, &w.member_b.token, "/v1/solutions", solution).await, StatusCode::CREATED).await;
    let record_path = format!("/v1/learning-records/{id1}");
    let linked = patch(&app, &w.member_a.token, &record_path, None, json!({"solution_id": solution["id"]})).await;
    expect(linked, StatusCode::OK).await;
    one["title"] = json!("E-learning veiligheid (derde keer)");
    assert_eq!(expect(put(one.clone()).await.unwrap(), StatusCode::OK).await["result"], "updated");
    let kept = expect(get(&app, &w.member_a.token, &record_path).await, StatusCode::OK).await;
    assert_eq!(
        (kept["title"].as_str(), kept["solution_id"].clone()),
        (Some("E-learning veiligheid (derde keer)"), solution["id"].clone())
    );
    assert_eq!(expect(put(one).await.unwrap(), StatusCode::OK).await["result"], "unchanged");
}

async fn a_csv_import_answers_per_row_and_importing_again_updates(app: TestApp) {
    let w = world(&app).await;
    let path = format!("/v1/organisations/{}/learning-records/import?system=hr-sheet", w.a);
    let me = w.member_a.id;
    let csv = format!(
        "external_id,person_id,title,activity_type,started_on,duration_minutes,skills\n\
         R-1,{me},Coaching door de teamleider,coaching_mentoring,2027-02-01,60,feedback geven;coachen\n\
         R-2,{me},Zonder datum,reading,,30,\n\
         R-3,{me},\"Boek: \"\"Leren, leven lang\"\"\",reading,2027-02-03,300,\n"
    );
    let send = |body: String, content_type: &'static str| {
        app.post(&path).bearer_auth(&w.admin_a.token).header("content-type", content_type).body(body).send()
    };
    let res = expect(send(csv.clone(), "text/csv; charset=utf-8").await.unwrap(), StatusCode::OK).await;
    let rows: Vec<(i64, &str)> = res["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_i64().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(2, "created"), (3, "error"), (4, "created")], "{res}");
    assert_eq!(res["results"][1]["problem"]["errors"][0]["pointer"], "/rows/3/started_on");
    let titles = listed(&app, &w.member_a.token, "").await;
    assert_eq!(titles, ["Boek: \"Leren, leven lang\"", "Coaching door de teamleider"]);
    let first = expect(
        get(
            &app,
            &w.member_a.token,
            &format!("/v1/learning-records/{}", res["results"][0]["record_id"].as_str().unwrap()),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["source"], "import");
    assert_eq!(
        first["skills"],
        json!([{"label": "feedback geven", "esco_uri": null}, {"label": "coachen", "esco_uri": null}])
    );
    // The same file again changes nothing; an edited row updates its record.
    let again = expect(send(csv.clone(), "text/csv").await.unwrap(), StatusCode::OK).await;
    assert_eq!(again["results"][0]["result"], "unchanged");
    let edited = csv.replace("Coaching door de teamleider", "Coaching door de teamleider (vervolg)");
    assert_eq!(
        expect(send(edited, "text/csv").await.unwrap(), StatusCode::OK).await["results"][0]["result"],
        "updated"
    );
    assert_eq!(listed(&app, &w.member_a.token, "").await.len(), 2);
    // Not CSV, unknown columns, no rows.
    problem(send(csv.clone(), "application/json").await.unwrap(), 415).await;
    problem(send("external_id,shoe_size\nR-1,44\n".into(), "text/csv").await.unwrap(), 422).await;
    problem(send("external_id,person_id\n".into(), "text/csv").await.unwrap(), 422).await;
    problem(
        app.post(&path)
            .bearer_auth(&w.admin_b.token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}

async fn a_person_exports_everything_and_erasure_leaves_only_tombstones(app: TestApp) {
    let w = world(&app).await;
    let t = &w.member_a.token;
    let (private, org, _) = three_records(&app, &w).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Leren met elkaar", Some(1))).await;
    let reg = expect(register(&app, t, &id_of(&event), None).await, StatusCode::CREATED).await;
    let waiting = expect(register(&app, &w.member_b.token, &id_of(&event), None).await, StatusCode::CREATED).await;
    assert_eq!(waiting["status"], "waitlisted");

    let export = expect(get(&app, t, "/v1/me/export").await, StatusCode::OK).await;
    assert_eq!(export["person"]["id"], json!(w.member_a.id));
    assert_eq!(export["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(export["registrations"][0]["id"], reg["id"]);
    let ids: Vec<&str> =
        export["learning_records"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&private.as_str()), "private records are part of one's own export");
    assert!(!export.to_string().contains("password"), "no password (hash) is exported");
    let client = client_token(&app, &w.facilitator.token, &w.a, &["people:read"]).await;
    problem(get(&app, &client, "/v1/me/export").await, 403).await;

    assert_eq!(app.request(Method::DELETE, "/v1/me").bearer_auth(t).send().await.unwrap().status(), 204);
    // Gone: the token no longer names anyone, the records are gone, the seat went on.
    problem(get(&app, t, "/v1/me").await, 401).await;
    assert_eq!(read(&app, &w.admin_a.token, &org).await, StatusCode::NOT_FOUND);
    let promoted =
        expect(get(&app, &w.member_b.token, &format!("/v1/registrations/{}", id_of(&waiting))).await, StatusCode::OK)
            .await;
    assert_eq!(promoted["status"], "confirmed");
    // The admin's feed ends the shared record with a tombstone that carries no data.
    let seen = feed(&app, &w.admin_a.token, "learning_record").await;
    let last = seen.iter().rev().find(|c| c["id"] == json!(org)).unwrap();
    assert_eq!(last["operation"], "delete");
    assert!(last["resource"].is_null(), "{last}");
    let everything = feed(&app, &w.facilitator.token, "learning_record,registration,commitment,person").await;
    assert!(everything.iter().any(|c| c["operation"] != "delete"), "the feed still holds other people");
    assert!(!everything.iter().any(|c| c["operation"] != "delete"
        && (c["resource"].to_string().contains(&w.member_a.email)
            || c["resource"].to_string().contains(&w.member_a.id.to_string()))));
}
