//! The privacy promise, tried as an attacker and an auditor would: the change feed never
//! serves what its reader may not read now (withdrawn sharing, people who left, drafts,
//! readers who joined later); erasure leaves no trace in any table or in the database file;
//! a demoted or deleted facilitator's old token carries no power; password guesses with a
//! stolen token are limited; and responses with personal data are never cached.

use std::collections::HashMap;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use uuid::Uuid;
use vov::auth::rights::PersonRole;

use crate::events::{create_event, event_body, id_of, register, world};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, TestUser, json, problem};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, get, patch, person_in, post};

on_both_databases!(
    the_feed_serves_every_reader_exactly_what_they_may_read_now,
    erasure_leaves_no_trace_in_any_table_the_file_or_a_stored_answer,
    a_demoted_or_deleted_facilitators_old_token_carries_no_power,
    an_upgrade_compacts_the_feed_and_takes_drafts_from_clients,
    current_password_guesses_count_toward_the_sign_in_limit,
    responses_with_personal_data_are_never_cached_or_framed,
);

const ALL_SCOPES: [&str; 5] =
    ["people:read", "people:write", "registrations:write", "learning-records:read", "learning-records:write"];

/// Letters only, unique per call (names and free text that no other test data contains).
fn marker() -> String {
    Uuid::now_v7().simple().to_string()[16..].chars().map(|c| (b'a' + c.to_digit(16).unwrap() as u8) as char).collect()
}

async fn send(app: &TestApp, method: Method, token: &str, path: &str, body: Option<Value>) -> Response {
    let mut req = app.request(method, path).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

/// Every entry of the feed `token` reads from the start.
async fn whole_feed(app: &TestApp, token: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = String::new();
    loop {
        let page =
            expect(get(app, token, &format!("/v1/changes?limit=1000&after={after}")).await, StatusCode::OK).await;
        entries.extend(page["data"].as_array().unwrap().iter().cloned());
        after = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            return entries;
        }
    }
}

/// What `token` reads of a resource by its own address, or `None` (a person counts as
/// read only in full: the directory view carries no personal data). `solution` names the
/// solution an endorsement belongs to.
async fn read_by_id(app: &TestApp, token: &str, kind: &str, id: &str, solution: Option<&str>) -> Option<Value> {
    let path = match kind {
        "theme" => format!("/v1/themes/{id}"),
        "organisation" => format!("/v1/organisations/{id}"),
        "person" => format!("/v1/people/{id}"),
        "membership" => format!("/v1/memberships/{id}"),
        "event" => format!("/v1/events/{id}"),
        "registration" => format!("/v1/registrations/{id}"),
        "commitment" => format!("/v1/commitments/{id}"),
        "learning_record" => format!("/v1/learning-records/{id}"),
        "challenge" => format!("/v1/challenges/{id}"),
        "solution" => format!("/v1/solutions/{id}"),
        "comment" => format!("/v1/comments/{id}"),
        "endorsement" => {
            format!("/v1/solutions/{}/endorsements?limit=200", solution.expect("an endorsement's solution"))
        }
        other => panic!("unknown resource type {other}"),
    };
    let res = get(app, token, &path).await;
    if res.status() != StatusCode::OK {
        return None;
    }
    let body = json(res).await;
    match kind {
        "person" if body["view"] != "full" => None,
        "endorsement" => body["data"].as_array().unwrap().iter().find(|e| e["id"] == id).cloned(),
        _ => Some(body),
    }
}

/// The resources a scenario made, by type and id (endorsements with their solution).
#[derive(Default)]
struct Made(Vec<(&'static str, String, Option<String>)>);

impl Made {
    fn add(&mut self, kind: &'static str, v: &Value) -> String {
        let id = id_of(v);
        self.0.push((kind, id.clone(), None));
        id
    }
}

async fn record(app: &TestApp, token: &str, title: &str, visibility: &str, shared_with: &[&str]) -> Value {
    let body = json!({"title": title, "activity_type": "peer_learning", "started_on": "2027-02-10",
                      "visibility": visibility, "shared_with": shared_with});
    expect(post(app, token, "/v1/learning-records", body).await, StatusCode::CREATED).await
}

async fn commitment(app: &TestApp, token: &str, event: &str, body: Value) -> Value {
    expect(post(app, token, &format!("/v1/events/{event}/commitments"), body).await, StatusCode::CREATED).await
}

/// Every role, two organisations, every visibility and every way an audience narrows;
/// then, for each reader (also readers who joined afterwards), every entry of their feed
/// is readable by id at the same version, and everything they may read by id is in their
/// feed at its latest version.
async fn the_feed_serves_every_reader_exactly_what_they_may_read_now(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let (member_a2, membership_a2) = person_in(&app, f, &w.a, "Nora Wouters", "employee").await;
    let (leaver, leaver_membership) = person_in(&app, f, &w.a, "Ruben Janssens", "employee").await;
    let policy = app.user(PersonRole::PolicyReader).await;
    let client_a = client_token(&app, f, &w.a, &ALL_SCOPES).await;
    let client_a_people = client_token(&app, f, &w.a, &["people:read"]).await;
    let client_b = client_token(&app, f, &w.b, &ALL_SCOPES).await;
    let mut made = Made::default();
    made.0.push(("membership", membership_a2, None));
    made.0.push(("organisation", w.a.clone(), None));
    made.0.push(("organisation", w.b.clone(), None));
    for p in [&w.admin_a, &w.member_a, &w.admin_b, &w.member_b, &member_a2, &leaver, &policy, &w.facilitator] {
        made.0.push(("person", p.id.to_string(), None));
    }
    let theme = json!({"slug": "privacy-by-design", "label_nl": "Privacy", "label_en": "Privacy"});
    made.add("theme", &expect(post(&app, f, "/v1/themes", theme).await, StatusCode::CREATED).await);

    // Events: a draft (its organisers' admins only, never a client), and published ones.
    let mut draft = event_body(&w.a, "Nog in voorbereiding", Some(10));
    draft["status"] = json!("draft");
    made.add("event", &create_event(&app, &w.admin_a.token, draft).await);
    let pub_a = made
        .add("event", &create_event(&app, &w.admin_a.token, event_body(&w.a, "Leren op de werkvloer", Some(1))).await);
    let pub_b = made.add("event", &create_event(&app, &w.admin_b.token, event_body(&w.b, "Open leerdag", None)).await);
    // Registrations: by the person, waitlisted, by an organisation's client.
    made.add("registration", &expect(register(&app, &w.member_a.token, &pub_a, None).await, StatusCode::CREATED).await);
    made.add("registration", &expect(register(&app, &w.member_b.token, &pub_a, None).await, StatusCode::CREATED).await);
    made.add(
        "registration",
        &expect(register(&app, &client_a, &pub_b, Some(member_a2.id)).await, StatusCode::CREATED).await,
    );
    made.add("registration", &expect(register(&app, &leaver.token, &pub_b, None).await, StatusCode::CREATED).await);
    // Commitments: private, shared with the organiser, with the organisation, withdrawn.
    let t = &w.member_a.token;
    made.add("commitment", &commitment(&app, t, &pub_a, json!({"text": "Privé voornemen"})).await);
    made.add(
        "commitment",
        &commitment(&app, t, &pub_a, json!({"text": "Voor de organisator", "shared_with_organiser": true})).await,
    );
    made.add(
        "commitment",
        &commitment(&app, t, &pub_a, json!({"text": "Voor mijn werkgever", "shared_with_organisation": w.a})).await,
    );
    let withdrawn = commitment(&app, t, &pub_a, json!({"text": "Toch niet", "shared_with_organisation": w.a})).await;
    let withdrawn_id = made.add("commitment", &withdrawn);
    let path = format!("/v1/commitments/{withdrawn_id}");
    expect(patch(&app, t, &path, Some("\"1\""), json!({"shared_with_organisation": null})).await, StatusCode::OK).await;
    let leaver_commitment = made.add(
        "commitment",
        &commitment(&app, &leaver.token, &pub_b, json!({"text": "Bij A delen", "shared_with_organisation": w.a})).await,
    );
    // Learning records of every visibility, and two whose sharing was withdrawn.
    made.add("learning_record", &record(&app, t, "Privé", "private", &[]).await);
    made.add("learning_record", &record(&app, t, "Voor de organisatie", "organisation", &[&w.a]).await);
    made.add("learning_record", &record(&app, t, "Voor het netwerk", "network", &[]).await);
    let retracted = made.add("learning_record", &record(&app, t, "Teruggenomen", "organisation", &[&w.a]).await);
    let retracted_net = made.add("learning_record", &record(&app, t, "Niet meer voor iedereen", "network", &[]).await);
    for id in [&retracted, &retracted_net] {
        let path = format!("/v1/learning-records/{id}");
        expect(patch(&app, t, &path, Some("\"1\""), json!({"visibility": "private"})).await, StatusCode::OK).await;
    }
    made.add("learning_record", &record(&app, &w.member_b.token, "Voor B", "organisation", &[&w.b]).await);
    let leaver_record =
        made.add("learning_record", &record(&app, &leaver.token, "Van wie vertrekt", "organisation", &[&w.a]).await);
    // Shared solutions: a challenge; a draft with a comment whose second co-author left;
    // a published solution with a comment and an endorsement.
    made.add(
        "challenge",
        &expect(
            post(&app, t, "/v1/challenges", json!({"title": "Leren na vijftig", "organisation_id": w.a})).await,
            StatusCode::CREATED,
        )
        .await,
    );
    let draft_solution =
        expect(post(&app, t, "/v1/solutions", json!({"title": "Een concept"})).await, StatusCode::CREATED).await;
    let draft_id = made.add("solution", &draft_solution);
    made.add(
        "comment",
        &expect(
            post(&app, t, &format!("/v1/solutions/{draft_id}/comments"), json!({"body": "Nog te doen"})).await,
            StatusCode::CREATED,
        )
        .await,
    );
    expect(
        post(&app, t, &format!("/v1/solutions/{draft_id}/co-authors"), json!({"person_id": member_a2.id})).await,
        StatusCode::CREATED,
    )
    .await;
    let left = send(
        &app,
        Method::DELETE,
        &member_a2.token,
        &format!("/v1/solutions/{draft_id}/co-authors/{}", member_a2.id),
        None,
    )
    .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let published = json!({"title": "Mentoring tussen generaties", "status": "published"});
    let published = expect(post(&app, &w.member_b.token, "/v1/solutions", published).await, StatusCode::CREATED).await;
    let published_id = made.add("solution", &published);
    made.add(
        "comment",
        &expect(
            post(&app, t, &format!("/v1/solutions/{published_id}/comments"), json!({"body": "Doen wij ook"})).await,
            StatusCode::CREATED,
        )
        .await,
    );
    // A comment a facilitator hides: its text leaves every feed.
    let hidden = expect(
        post(&app, t, &format!("/v1/solutions/{published_id}/comments"), json!({"body": "Iets kwetsends"})).await,
        StatusCode::CREATED,
    )
    .await;
    let hidden_id = made.add("comment", &hidden);
    let path = format!("/v1/comments/{hidden_id}");
    expect(patch(&app, f, &path, None, json!({"hidden": true})).await, StatusCode::OK).await;
    let endorsement = send(
        &app,
        Method::PUT,
        t,
        &format!("/v1/solutions/{published_id}/endorsements/me"),
        Some(json!({"note": "Werkt"})),
    )
    .await;
    let endorsement = expect(endorsement, StatusCode::CREATED).await;
    made.0.push(("endorsement", id_of(&endorsement), Some(published_id.clone())));
    // Someone leaves organisation A: A loses sight of them and of what they shared with A.
    let gone =
        send(&app, Method::DELETE, &w.admin_a.token, &format!("/v1/memberships/{leaver_membership}"), None).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    // An organisation stops co-organising: what goes to the organisers no longer reaches it.
    let mut co = event_body(&w.b, "Samen georganiseerd", None);
    co["co_organisers"] = json!([w.a]);
    let co_event = made.add("event", &create_event(&app, &w.admin_b.token, co).await);
    let mut co_draft = event_body(&w.b, "Samen in voorbereiding", None);
    co_draft["co_organisers"] = json!([w.a]);
    co_draft["status"] = json!("draft");
    let co_draft = made.add("event", &create_event(&app, &w.admin_b.token, co_draft).await);
    let co_reg = made.add(
        "registration",
        &expect(register(&app, &w.member_b.token, &co_event, None).await, StatusCode::CREATED).await,
    );
    let co_commitment = made.add(
        "commitment",
        &commitment(
            &app,
            &w.member_b.token,
            &co_event,
            json!({"text": "Voor wie organiseert", "shared_with_organiser": true}),
        )
        .await,
    );
    for id in [&co_event, &co_draft] {
        let path = format!("/v1/events/{id}");
        expect(patch(&app, &w.admin_b.token, &path, None, json!({"co_organisers": []})).await, StatusCode::OK).await;
    }
    // Readers who join afterwards.
    let client_a_late = client_token(&app, f, &w.a, &ALL_SCOPES).await;
    let (admin_a_late, _) = person_in(&app, f, &w.a, "Late Beheerder", "org_admin").await;

    let readers: [(&str, &str); 13] = [
        ("a facilitator", f),
        ("A's admin", &w.admin_a.token),
        ("a member of A", t),
        ("another member of A, who left a draft", &member_a2.token),
        ("someone who left A", &leaver.token),
        ("B's admin", &w.admin_b.token),
        ("a member of B", &w.member_b.token),
        ("a policy reader", &policy.token),
        ("A's client with every scope", &client_a),
        ("A's client with people:read", &client_a_people),
        ("B's client with every scope", &client_b),
        ("A's client made afterwards", &client_a_late),
        ("A's admin since afterwards", &admin_a_late.token),
    ];
    for (who, token) in readers {
        let feed = whole_feed(&app, token).await;
        // Sound: every entry with content is something this reader reads now, as it now is.
        let mut latest: HashMap<String, &Value> = HashMap::new();
        for entry in &feed {
            latest.insert(entry["id"].as_str().unwrap().to_string(), entry);
            if entry["operation"] == "delete" {
                assert!(entry["resource"].is_null(), "{who}: a tombstone carries no data: {entry}");
                continue;
            }
            let kind = entry["type"].as_str().unwrap();
            let id = entry["id"].as_str().unwrap();
            let solution = entry["resource"]["solution_id"].as_str();
            let read = read_by_id(&app, token, kind, id, solution).await;
            let read = read.unwrap_or_else(|| panic!("{who} finds in the feed a {kind} they may not read: {entry}"));
            assert_eq!(read["version"], entry["version"], "{who}: a {kind} in the feed is not at its current version");
        }
        // Complete: whatever this reader reads by id is in their feed, at its latest.
        for (kind, id, solution) in &made.0 {
            let Some(read) = read_by_id(&app, token, kind, id, solution.as_deref()).await else { continue };
            let entry = latest.get(id).unwrap_or_else(|| panic!("{who} reads a {kind} that their feed lacks: {read}"));
            assert_ne!(entry["operation"], "delete", "{who}: the feed ends a {kind} they read: {read}");
            assert_eq!(entry["version"], read["version"], "{who}: the feed has an old version of a {kind}");
        }
    }

    // Whoever lost sight of something they had read was told so with a tombstone.
    let admin_feed = whole_feed(&app, &w.admin_a.token).await;
    for id in [
        &retracted,
        &withdrawn_id,
        &leaver_record,
        &leaver_commitment,
        &leaver.id.to_string(),
        &co_reg,
        &co_commitment,
        &co_draft,
    ] {
        let last =
            admin_feed.iter().rev().find(|e| e["id"] == id.as_str()).unwrap_or_else(|| panic!("no entry for {id}"));
        assert_eq!(last["operation"], "delete", "{last}");
    }
    for (who, token) in [("a member of B", &w.member_b.token), ("B's client", &client_b)] {
        let seen = whole_feed(&app, token).await.iter().map(|e| e["resource"].to_string()).collect::<String>();
        assert!(!seen.contains("Iets kwetsends"), "{who} still reads a hidden comment's text");
    }
    let co_author_feed = whole_feed(&app, &member_a2.token).await;
    let last = co_author_feed.iter().rev().find(|e| e["id"] == draft_id.as_str()).unwrap();
    assert_eq!(last["operation"], "delete", "a co-author who left a draft gets its tombstone");
    // What someone shared with an organisation they left is no longer shared with it.
    let r =
        expect(get(&app, &leaver.token, &format!("/v1/learning-records/{leaver_record}")).await, StatusCode::OK).await;
    assert_eq!((r["visibility"].as_str(), r["shared_with"].as_array().map(Vec::len)), (Some("private"), Some(0)));
    let c =
        expect(get(&app, &leaver.token, &format!("/v1/commitments/{leaver_commitment}")).await, StatusCode::OK).await;
    assert!(c["shared_with_organisation"].is_null(), "{c}");
    // Commitments are their owners': facilitators read none of anyone else's, listed or not.
    let listed = expect(get(&app, f, &format!("/v1/events/{pub_a}/commitments")).await, StatusCode::OK).await;
    assert!(listed["data"].as_array().unwrap().is_empty(), "{listed}");
}

/// Every string that must be gone after an erasure.
struct Traces {
    id: Uuid,
    texts: Vec<String>,
}

/// Hex of the bytes, upper-case (SQLite's `hex()`).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Every row of every table (tombstones aside) that still holds one of the traces, as
/// `table: row`.
async fn rows_with_traces(app: &TestApp, traces: &Traces) -> Vec<String> {
    let mut found = Vec::new();
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar("select name from sqlite_master where type = 'table'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let mut needles: Vec<String> = traces.texts.iter().map(|t| hex(t.as_bytes())).collect();
            needles.push(hex(traces.id.to_string().as_bytes()));
            needles.push(hex(traces.id.as_bytes()));
            let lower: Vec<String> = traces.texts.iter().map(|t| hex(t.to_lowercase().as_bytes())).collect();
            needles.extend(lower);
            for table in tables {
                let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!("pragma table_info(\"{table}\")")))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>("name"))
                    .collect();
                if columns.is_empty() {
                    continue;
                }
                let row = columns.iter().map(|c| format!("hex(\"{c}\")")).collect::<Vec<_>>().join(" || ',' || ");
                let tombstones = if table == "changes" { " where operation <> 'delete'" } else { "" };
                let sql = format!("select {row} from \"{table}\"{tombstones}");
                let rows: Vec<Option<String>> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.unwrap();
                for row in rows.into_iter().flatten() {
                    if needles.iter().any(|n| row.contains(n.as_str())) {
                        found.push(format!("{table}: {row}"));
                    }
                }
            }
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "select table_name::text from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            // Rows are compared lower-cased; `bytea` columns print as hex of the bytes as stored.
            let mut needles: Vec<String> = traces.texts.iter().map(|t| t.to_lowercase()).collect();
            needles.extend(traces.texts.iter().map(|t| hex(t.as_bytes()).to_lowercase()));
            needles.extend(traces.texts.iter().map(|t| hex(t.to_lowercase().as_bytes()).to_lowercase()));
            needles.push(traces.id.to_string());
            needles.push(hex(traces.id.to_string().as_bytes()).to_lowercase());
            for table in tables {
                let tombstones = if table == "changes" { " where operation <> 'delete'" } else { "" };
                let sql = format!("select t::text from \"{table}\" t{tombstones}");
                let rows: Vec<String> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.unwrap();
                for row in rows {
                    let row = row.to_lowercase();
                    if needles.iter().any(|n| row.contains(n.as_str())) {
                        found.push(format!("{table}: {row}"));
                    }
                }
            }
        }
    }
    found
}

/// A member with everything a person can leave behind: a profile an admin created (with an
/// `Idempotency-Key`) and another admin tried to create again, HR references to them, their
/// membership and a synced record they deleted, records with reflections, skills and
/// evidence, a seat, a commitment, an endorsement, a comment and a co-authored solution.
/// Then they erase themselves, and nothing of them is left: not in any row outside the
/// feed's tombstones, not in a stored answer, not in the feed, not in the file's bytes.
async fn erasure_leaves_no_trace_in_any_table_the_file_or_a_stored_answer(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let u = marker();
    let name = format!("Xavier Vergeetmij {u}");
    let email = format!("xavier.{u}@privacy.example");
    let hr_id = format!("E-{u}");
    let contract_id = format!("C-{u}");
    let record_ref = format!("REC-{u}");
    let secrets = [
        format!("Geheime titel {u}"),
        format!("Geheime reflectie {u}"),
        format!("Geheime vaardigheid {u}"),
        format!("https://evidence.example/{u}"),
        format!("Geheim voornemen {u}"),
        format!("Geheime aanbeveling {u}"),
    ];
    // Created by A's admin, with a key; B's admin tries the same address (a stored 409).
    let new_person = json!({"name": name, "email": email, "stakeholder_group": "employee", "birth_year": 1961,
                            "membership": {"role": "employee", "starts_on": "2020-01-01"}});
    let create = |token: String, org: String, body: Value| {
        app.post(&format!("/v1/organisations/{org}/people"))
            .bearer_auth(token)
            .header("idempotency-key", "create-xavier")
            .json(&body)
            .send()
    };
    let created =
        expect(create(w.admin_a.token.clone(), w.a.clone(), new_person.clone()).await.unwrap(), StatusCode::CREATED)
            .await;
    let id: Uuid = created["person"]["id"].as_str().unwrap().parse().unwrap();
    let clash = create(w.admin_b.token.clone(), w.b.clone(), new_person.clone()).await.unwrap();
    assert!(clash.status().is_client_error(), "{}", clash.status());
    let pw =
        send(&app, Method::PUT, f, &format!("/v1/people/{id}/password"), Some(json!({"new_password": TEST_PASSWORD})))
            .await;
    assert_eq!(pw.status(), StatusCode::NO_CONTENT);
    let tokens = expect(app.password_grant(&email, TEST_PASSWORD).await, StatusCode::OK).await;
    let x = TestUser {
        id,
        email: email.clone(),
        token: tokens["access_token"].as_str().unwrap().into(),
        refresh_token: String::new(),
    };
    // The HR system's references to them, their contract, and a record it synced.
    let hr = client_token(&app, f, &w.a, &ALL_SCOPES).await;
    let by_ref = json!({"name": name, "email": email, "stakeholder_group": "employee",
                        "membership": {"role": "employee", "starts_on": "2020-01-01"}});
    let res =
        send(&app, Method::PUT, &hr, &format!("/v1/organisations/{}/people/by-ref/sdworx/{hr_id}", w.a), Some(by_ref))
            .await;
    assert!(res.status().is_success(), "{}", res.status());
    let contract = json!({"person_id": id, "role": "manager", "starts_on": "2024-01-01"});
    let res = send(
        &app,
        Method::PUT,
        &hr,
        &format!("/v1/organisations/{}/memberships/by-ref/sdworx/{contract_id}", w.a),
        Some(contract),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    let synced = json!({"person_id": id, "title": "Gesynchroniseerd", "activity_type": "online_course", "started_on": "2027-03-01"});
    let res = send(
        &app,
        Method::PUT,
        &hr,
        &format!("/v1/organisations/{}/learning-records/by-ref/sdworx/{record_ref}", w.a),
        Some(synced),
    )
    .await;
    let synced = expect(res, StatusCode::CREATED).await;
    let del = send(
        &app,
        Method::DELETE,
        &x.token,
        &format!("/v1/learning-records/{}", synced["record_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    // Their own records, shared and not, with free text of every kind.
    for (visibility, shared) in [("private", vec![]), ("organisation", vec![w.a.as_str()]), ("network", vec![])] {
        let body = json!({
            "title": secrets[0], "activity_type": "coaching_mentoring", "started_on": "2027-02-10",
            "reflection": {"learned": secrets[1], "will_do_differently": secrets[1]},
            "skills": [{"label": secrets[2]}], "evidence": [secrets[3]],
            "visibility": visibility, "shared_with": shared
        });
        expect(post(&app, &x.token, "/v1/learning-records", body).await, StatusCode::CREATED).await;
    }
    // A seat with someone waiting behind them, and a commitment shared with their employer.
    let event = id_of(&create_event(&app, &w.admin_a.token, event_body(&w.a, "Leren op elke leeftijd", Some(1))).await);
    expect(register(&app, &x.token, &event, None).await, StatusCode::CREATED).await;
    expect(register(&app, &w.member_b.token, &event, None).await, StatusCode::CREATED).await;
    commitment(&app, &x.token, &event, json!({"text": secrets[4], "shared_with_organisation": w.a})).await;
    // Shared solutions: an endorsement, a comment, and a solution they co-author.
    let solution = json!({"title": "Leerbuddy's", "status": "published"});
    let solution =
        id_of(&expect(post(&app, &w.member_b.token, "/v1/solutions", solution).await, StatusCode::CREATED).await);
    let res = send(
        &app,
        Method::PUT,
        &x.token,
        &format!("/v1/solutions/{solution}/endorsements/me"),
        Some(json!({"note": secrets[5]})),
    )
    .await;
    expect(res, StatusCode::CREATED).await;
    expect(
        post(&app, &x.token, &format!("/v1/solutions/{solution}/comments"), json!({"body": "Wij ook"})).await,
        StatusCode::CREATED,
    )
    .await;
    let theirs =
        expect(post(&app, &x.token, "/v1/solutions", json!({"title": "Samen geschreven"})).await, StatusCode::CREATED)
            .await;
    let theirs = id_of(&theirs);
    expect(
        post(&app, &x.token, &format!("/v1/solutions/{theirs}/co-authors"), json!({"person_id": w.member_a.id})).await,
        StatusCode::CREATED,
    )
    .await;

    // The export holds the ids organisations' systems keep for them (GDPR art. 15).
    let export = expect(get(&app, &x.token, "/v1/me/export").await, StatusCode::OK).await;
    let refs: Vec<&str> =
        export["external_references"].as_array().unwrap().iter().map(|r| r["external_id"].as_str().unwrap()).collect();
    for kept in [&hr_id, &contract_id, &record_ref] {
        assert!(refs.contains(&kept.as_str()), "the export lacks {kept}: {refs:?}");
    }

    assert_eq!(send(&app, Method::DELETE, &x.token, "/v1/me", None).await.status(), StatusCode::NO_CONTENT);

    problem(get(&app, &x.token, "/v1/me").await, 401).await;
    // Their old token with an Idempotency-Key stores nothing (the 401 is not kept).
    let late = app.post("/v1/learning-records").bearer_auth(&x.token).header("idempotency-key", "after-erasure");
    problem(late.json(&json!({"title": "Te laat"})).send().await.unwrap(), 401).await;
    // A stored answer that named them is not replayed: the retry learns they were erased.
    let retry = create(w.admin_a.token.clone(), w.a.clone(), new_person.clone()).await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.status(), StatusCode::GONE);
    let text = retry.text().await.unwrap();
    assert!(text.contains("https://vov.be/problems/gone"), "{text}");
    assert!(!text.contains(&email) && !text.contains(&name) && !text.contains(&id.to_string()), "{text}");
    let retry = create(w.admin_b.token.clone(), w.b.clone(), new_person.clone()).await.unwrap();
    assert!(!retry.text().await.unwrap().contains(&email));
    // No feed carries them any more: tombstones only.
    let client_feed = whole_feed(&app, &hr).await;
    for (who, feed) in [
        ("A's admin", whole_feed(&app, &w.admin_a.token).await),
        ("A's client", client_feed),
        ("a facilitator", whole_feed(&app, f).await),
    ] {
        for entry in feed.iter().filter(|e| e["operation"] != "delete") {
            let text = entry["resource"].to_string();
            assert!(
                !text.contains(&id.to_string())
                    && !text.contains(&email)
                    && !text.contains(&name)
                    && !text.contains(&secrets[4]),
                "{who}'s feed still carries the erased person: {entry}"
            );
        }
    }
    let mut texts = vec![name.clone(), email.clone(), hr_id.clone(), contract_id.clone(), record_ref.clone()];
    texts.extend(secrets.iter().cloned());
    let traces = Traces { id, texts };
    // Not in the SQLite file's bytes either: freed pages are zeroed, the WAL is truncated.
    if app.backend == Backend::Sqlite {
        let db = app.database_url.trim_start_matches("sqlite://").to_string();
        let mut bytes = std::fs::read(&db).unwrap();
        bytes.extend(std::fs::read(format!("{db}-wal")).unwrap_or_default());
        for t in &traces.texts {
            assert!(!contains(&bytes, t.as_bytes()), "the database file still holds {t:?}");
        }
    }
    let found = rows_with_traces(&app, &traces).await;
    assert!(found.is_empty(), "traces of the erased person:\n{}", found.join("\n"));
    // On PostgreSQL the dead tuples are vacuumed right after.
    if app.backend == Backend::Postgres {
        let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
        let mut vacuumed = false;
        for _ in 0..100 {
            let at: Option<chrono::DateTime<chrono::Utc>> =
                sqlx::query_scalar("select last_vacuum from pg_stat_user_tables where relname = 'people'")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            if at.is_some() {
                vacuumed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(vacuumed, "people was not vacuumed after the erasure");
    }
}

async fn person_version(app: &TestApp, token: &str, id: Uuid) -> String {
    format!("\"{}\"", expect(get(app, token, &format!("/v1/people/{id}")).await, StatusCode::OK).await["version"])
}

async fn a_demoted_or_deleted_facilitators_old_token_carries_no_power(app: TestApp) {
    let boss = app.facilitator().await;
    let demoted = app.facilitator().await;
    let deleted = app.facilitator().await;
    let member = app.member().await;
    let theme = |n: &str| json!({"slug": format!("thema-{n}"), "label_nl": "Thema", "label_en": "Theme"});
    // Nobody changes their own role, not even a facilitator.
    let own = person_version(&app, &boss.token, boss.id).await;
    let path = format!("/v1/people/{}", boss.id);
    problem(patch(&app, &boss.token, &path, Some(&own), json!({"role": "member"})).await, 403).await;

    let path = format!("/v1/people/{}", demoted.id);
    let v = person_version(&app, &boss.token, demoted.id).await;
    // A role and a profile change are one change: one version, one transaction.
    let body = json!({"role": "member", "name": "Gewezen Begeleider"});
    let changed = expect(patch(&app, &boss.token, &path, Some(&v), body).await, StatusCode::OK).await;
    assert_eq!(format!("\"{}\"", changed["version"].as_i64().unwrap() - 1), v);
    assert_eq!((changed["role"].as_str(), changed["name"].as_str()), (Some("member"), Some("Gewezen Begeleider")));
    // With the token they had as a facilitator, they are a member from the next request on.
    let t = &demoted.token;
    assert_eq!(expect(get(&app, t, "/v1/me").await, StatusCode::OK).await["roles"], json!(["member"]));
    let v = person_version(&app, t, demoted.id).await;
    problem(patch(&app, t, &path, Some(&v), json!({"role": "facilitator"})).await, 422).await;
    let new_facilitator = json!({"name": "Stille Helper", "email": format!("{}@x.example", marker()),
                                 "stakeholder_group": "facilitator", "role": "facilitator"});
    problem(post(&app, t, "/v1/people", new_facilitator).await, 403).await;
    let res = send(
        &app,
        Method::PUT,
        t,
        &format!("/v1/people/{}/password", member.id),
        Some(json!({"new_password": "een nieuw wachtwoord"})),
    )
    .await;
    problem(res, 403).await;
    let profile = expect(get(&app, t, &format!("/v1/people/{}", member.id)).await, StatusCode::OK).await;
    assert_ne!(profile["view"], "full", "{profile}");
    assert!(profile.get("email").is_none(), "{profile}");
    problem(post(&app, t, "/v1/themes", theme("a")).await, 403).await;
    // A refreshed token is a member's too.
    let res = app
        .post("/v1/auth/token")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &demoted.refresh_token)])
        .send()
        .await
        .unwrap();
    let fresh = expect(res, StatusCode::OK).await["access_token"].as_str().unwrap().to_string();
    problem(post(&app, &fresh, "/v1/themes", theme("b")).await, 403).await;

    // A deleted facilitator's token stops working at once.
    let res = send(&app, Method::DELETE, &boss.token, &format!("/v1/people/{}", deleted.id), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let t = &deleted.token;
    problem(get(&app, t, "/v1/me").await, 401).await;
    problem(get(&app, t, &format!("/v1/people/{}", member.id)).await, 401).await;
    problem(post(&app, t, "/v1/themes", theme("c")).await, 401).await;
    problem(get(&app, t, "/v1/changes").await, 401).await;
    // The one who still is a facilitator still is.
    expect(post(&app, &boss.token, "/v1/themes", theme("d")).await, StatusCode::CREATED).await;
    // Demoted through another instance, the token holds on this one for at most a second
    // (each instance keeps people's rights that long).
    let other = crate::helpers::second_instance(&app).await;
    let later = app.facilitator().await;
    expect(post(&app, &later.token, "/v1/themes", theme("e")).await, StatusCode::CREATED).await;
    let path = format!("/v1/people/{}", later.id);
    let v = person_version(&other, &boss.token, later.id).await;
    expect(patch(&other, &boss.token, &path, Some(&v), json!({"role": "member"})).await, StatusCode::OK).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    problem(post(&app, &later.token, "/v1/themes", theme("f")).await, 403).await;
}

async fn current_password_guesses_count_toward_the_sign_in_limit(app: TestApp) {
    let member = app.member().await;
    let path = format!("/v1/people/{}/password", member.id);
    let guess = json!({"current_password": "misschien dit", "new_password": "een heel nieuw wachtwoord"});
    // Signing in took one attempt of ten; nine guesses take the rest.
    for _ in 0..9 {
        problem(send(&app, Method::PUT, &member.token, &path, Some(guess.clone())).await, 403).await;
    }
    // It is the same bucket as signing in: the password grant waits.
    assert_eq!(app.password_grant(&member.email, TEST_PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // The next guess within the minute waits, even the right password.
    let right = json!({"current_password": TEST_PASSWORD, "new_password": "een heel nieuw wachtwoord"});
    let res = send(&app, Method::PUT, &member.token, &path, Some(right)).await;
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    assert_eq!(res.headers()["ratelimit-policy"], "\"sign-in\";q=10;w=60");
    let body = problem(res, 429).await;
    assert_eq!(body["type"], "https://vov.be/problems/too-many-requests");
    // A new e-mail address (which the token may set) opens no fresh budget: the checks
    // are counted per person too.
    let me = format!("/v1/people/{}", member.id);
    let version = person_version(&app, &member.token, member.id).await;
    let new_address = json!({"email": format!("{}@elders.example", marker())});
    expect(patch(&app, &member.token, &me, Some(&version), new_address).await, StatusCode::OK).await;
    problem(send(&app, Method::PUT, &member.token, &path, Some(guess.clone())).await, 429).await;
    // Another account is not affected.
    let other = app.member().await;
    let path = format!("/v1/people/{}/password", other.id);
    let right = json!({"current_password": TEST_PASSWORD, "new_password": "een heel nieuw wachtwoord"});
    assert_eq!(send(&app, Method::PUT, &other.token, &path, Some(right)).await.status(), StatusCode::NO_CONTENT);
}

async fn responses_with_personal_data_are_never_cached_or_framed(app: TestApp) {
    let member = app.member().await;
    let record = record(&app, &member.token, "Leren met een buddy", "private", &[]).await;
    for path in [
        "/v1/me".to_string(),
        "/v1/me/export".to_string(),
        "/v1/me/commitments".to_string(),
        "/v1/changes".to_string(),
        "/v1/learning-records".to_string(),
        format!("/v1/learning-records/{}", id_of(&record)),
        format!("/v1/people/{}", member.id),
        format!("/v1/people/{}/learning-summary", member.id),
    ] {
        let res = get(&app, &member.token, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers();
        assert_eq!(h["cache-control"], "private, no-store", "{path}");
        let vary: Vec<&str> = h.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
        assert!(vary.iter().any(|v| v.to_lowercase().contains("authorization")), "{path}: {vary:?}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
    }
    // A 401 and a problem get them too; so does every public answer (nosniff, no framing).
    let res = app.get("/v1/me").bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    for path in ["/health/live", "/openapi.json", "/v1/themes", "/docs/"] {
        let res = app.get(path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{path}");
        assert!(
            res.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
    // Swagger UI runs its own scripts: its policy only forbids framing.
    let docs = app.get("/docs/").send().await.unwrap();
    assert_eq!(docs.headers()["content-security-policy"], "frame-ancestors 'none'");
}

/// The SQL statement of a migration file that starts with `prefix`.
fn migration_statement(backend: Backend, prefix: &str) -> String {
    let dir = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let path = format!("{}/migrations/{dir}/20261127000007_privacy.sql", env!("CARGO_MANIFEST_DIR"));
    let sql = std::fs::read_to_string(path).unwrap();
    let start = sql.find(prefix).unwrap_or_else(|| panic!("no `{prefix}` in the migration"));
    sql[start..].split_inclusive(';').next().unwrap().to_string()
}

/// A database that ran before the rule of decision 9 holds superseded entries and drafts
/// addressed to whole organisations: the migration compacts the first (the exact statement
/// it ships is run here on entries written the old way), and the first start repairs the
/// second.
async fn an_upgrade_compacts_the_feed_and_takes_drafts_from_clients(app: TestApp) {
    let w = world(&app).await;
    let client = client_token(&app, &w.facilitator.token, &w.a, &["people:read"]).await;
    let mut draft = event_body(&w.a, "Nog geheim", None);
    draft["status"] = json!("draft");
    let draft = id_of(&create_event(&app, &w.admin_a.token, draft).await);
    let org: Uuid = w.a.parse().unwrap();
    let (lives, withdrawn, gone) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    // Entries as the earlier service wrote them.
    let old = [
        (lives, 1, "create", Some("{\"v\":1}")),
        (lives, 2, "update", Some("{\"v\":2}")),
        (withdrawn, 1, "create", Some("{\"v\":1}")),
        (withdrawn, 2, "delete", None),
        (withdrawn, 2, "update", Some("{\"v\":2}")),
        (gone, 1, "create", Some("{\"v\":1}")),
        (gone, 2, "delete", None),
    ];
    let repair = "delete from data_repairs";
    let readdress = "delete from change_audience where seq in (select seq from changes where resource_id = $1)";
    let to_org = "insert into change_audience (audience_id, seq) select $2, seq from changes where resource_id = $1";
    let insert = "insert into changes (resource_type, resource_id, version, operation, body, public, changed_at)
                  values ('theme', $1, $2, $3, $4, $5, $6)";
    let compact = migration_statement(app.backend, "delete from changes");
    let remaining =
        "select resource_id, version, operation from changes where resource_id in ($1, $2, $3) order by seq";
    let left: Vec<(Uuid, i64, String)> = match app.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            for (id, v, op, body) in old {
                sqlx::query(insert)
                    .bind(id)
                    .bind(v)
                    .bind(op)
                    .bind(body)
                    .bind(true)
                    .bind(chrono::Utc::now())
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            sqlx::query(sqlx::AssertSqlSafe(compact)).execute(&mut c).await.unwrap();
            let draft: Uuid = draft.parse().unwrap();
            sqlx::query(readdress).bind(draft).execute(&mut c).await.unwrap();
            sqlx::query(to_org).bind(draft).bind(org).execute(&mut c).await.unwrap();
            sqlx::query(repair).execute(&mut c).await.unwrap();
            sqlx::query_as(remaining).bind(lives).bind(withdrawn).bind(gone).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            for (id, v, op, body) in old {
                sqlx::query(insert)
                    .bind(id)
                    .bind(v)
                    .bind(op)
                    .bind(body)
                    .bind(true)
                    .bind(chrono::Utc::now())
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            sqlx::query(sqlx::AssertSqlSafe(compact)).execute(&mut c).await.unwrap();
            let draft: Uuid = draft.parse().unwrap();
            sqlx::query(readdress).bind(draft).execute(&mut c).await.unwrap();
            sqlx::query(to_org).bind(draft).bind(org).execute(&mut c).await.unwrap();
            sqlx::query(repair).execute(&mut c).await.unwrap();
            sqlx::query_as(remaining).bind(lives).bind(withdrawn).bind(gone).fetch_all(&mut c).await.unwrap()
        }
    };
    let left: Vec<(Uuid, i64, &str)> = left.iter().map(|(id, v, op)| (*id, *v, op.as_str())).collect();
    assert_eq!(
        left,
        [(lives, 2, "update"), (withdrawn, 2, "delete"), (withdrawn, 2, "update"), (gone, 2, "delete")],
        "the latest entry with content of what lives, the withdrawal's tombstone, and only the tombstone of what is gone"
    );
    // As the earlier service left it, the draft reaches the organisation's client.
    assert!(whole_feed(&app, &client).await.iter().any(|e| e["id"] == draft.as_str()));
    // The next start repairs it: the client no longer finds it, its admins still do.
    let restarted = crate::helpers::second_instance(&app).await;
    assert!(!whole_feed(&restarted, &client).await.iter().any(|e| e["id"] == draft.as_str()));
    let admins = whole_feed(&restarted, &w.admin_a.token).await;
    assert!(admins.iter().any(|e| e["id"] == draft.as_str() && e["operation"] != "delete"));
}
