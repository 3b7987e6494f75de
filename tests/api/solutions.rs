//! Shared solutions: challenges people bring, solutions co-authors write together (drafts,
//! publication, revisions with a required If-Match), endorsements, comments, Dutch search,
//! links to challenges, events and learning records, the feed and erasure.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use vov::auth::rights::PersonRole;

use crate::events::{create_event, event_body, id_of, world};
use crate::helpers::{TestApp, TestUser, problem};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, feed, get, patch, post, theme};

on_both_databases!(
    any_person_brings_a_challenge_and_only_its_author_and_facilitators_keep_it,
    a_draft_solution_is_seen_by_its_co_authors_and_facilitators_until_it_is_published,
    every_change_is_a_revision_and_an_edit_must_name_the_revision_it_builds_on,
    two_co_authors_editing_the_same_revision_at_once_never_overwrite_each_other,
    co_authors_join_at_once_leave_on_their_own_and_the_last_one_stays,
    people_endorse_published_solutions_once_and_never_their_own,
    comments_thread_one_level_deep_and_facilitators_hide_without_deleting,
    search_finds_dutch_words_whatever_the_accents_and_ranks_titles_first,
    solutions_link_challenges_and_events_and_learning_records_count_adoptions,
    the_feed_follows_drafts_to_co_authors_and_erasure_leaves_a_former_member,
    a_search_page_served_from_memory_never_outlives_a_change,
);

/// The fields of a revision's `content`.
const CONTENT: [&str; 10] =
    ["title", "summary", "body", "challenge_ids", "event_id", "context", "themes", "maturity", "results", "status"];

/// A solution as a member writes it down after a workshop (a draft, maturity left to the default).
fn solution_body(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "Een aanpak die we samen uitwerkten in het lerend netwerk.",
        "body": "## Aanpak\n\n1. Breng de leernoden in kaart.\n2. Spreek af wie wat leert.\n3. Evalueer na drie maanden."
    })
}

async fn create_solution(app: &TestApp, token: &str, body: Value) -> Value {
    expect(post(app, token, "/v1/solutions", body).await, StatusCode::CREATED).await
}

fn solution_path(solution: &Value) -> String {
    format!("/v1/solutions/{}", id_of(solution))
}

async fn challenge(app: &TestApp, token: &str, body: Value) -> Value {
    expect(post(app, token, "/v1/challenges", body).await, StatusCode::CREATED).await
}

fn challenge_path(challenge: &Value) -> String {
    format!("/v1/challenges/{}", id_of(challenge))
}

/// A PATCH with `If-Match` naming `version`.
async fn edit(app: &TestApp, token: &str, path: &str, version: i64, body: Value) -> Response {
    let tag = format!("\"{version}\"");
    patch(app, token, path, Some(tag.as_str()), body).await
}

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    expect(get(app, token, path).await, StatusCode::OK).await
}

async fn anonymous(app: &TestApp, path: &str) -> Response {
    app.get(path).send().await.unwrap()
}

async fn delete(app: &TestApp, token: &str, path: &str) -> Response {
    app.request(Method::DELETE, path).bearer_auth(token).send().await.unwrap()
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> Response {
    app.request(Method::PUT, path).bearer_auth(token).json(&body).send().await.unwrap()
}

/// Invites `person` as a co-author of the solution at `path`, optionally for `org`.
async fn invite(app: &TestApp, token: &str, path: &str, person: Uuid, org: Option<&str>) -> Response {
    let body = match org {
        Some(o) => json!({"person_id": person, "organisation_id": o}),
        None => json!({"person_id": person}),
    };
    post(app, token, &format!("{path}/co-authors"), body).await
}

fn titles(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap().to_string()).collect()
}

/// The titles on the first page of a list, in order, as `token` sees it.
async fn listed(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    titles(&expect(get(app, token, path).await, StatusCode::OK).await)
}

/// The titles on the first page of a list, in order, as an anonymous caller sees it.
async fn listed_anonymously(app: &TestApp, path: &str) -> Vec<String> {
    titles(&expect(anonymous(app, path).await, StatusCode::OK).await)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// `q=...`, percent-encoded (accents included).
fn q(words: &str) -> String {
    serde_urlencoded::to_string([("q", words)].as_slice()).unwrap()
}

/// The revisions of a solution, newest first.
async fn revisions(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let page = expect(get(app, token, &format!("{path}/revisions")).await, StatusCode::OK).await;
    page["data"].as_array().unwrap().clone()
}

/// The comments on a challenge or solution, oldest first.
async fn comments_of(app: &TestApp, token: &str, target: &str) -> Vec<Value> {
    let page = expect(get(app, token, &format!("{target}/comments")).await, StatusCode::OK).await;
    page["data"].as_array().unwrap().clone()
}

async fn comment(app: &TestApp, token: &str, target: &str, body: Value) -> Response {
    post(app, token, &format!("{target}/comments"), body).await
}

fn author(user: &TestUser, name: &str) -> Value {
    json!({"person_id": user.id, "name": name, "former_member": false})
}

fn former_member() -> Value {
    json!({"person_id": null, "name": null, "former_member": true})
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

fn pointers(p: &Value) -> Vec<String> {
    p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_string()).collect()
}

// ---- challenges ----

async fn any_person_brings_a_challenge_and_only_its_author_and_facilitators_keep_it(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    theme(&app, f, "careers-at-every-age").await;
    let reader = app.user(PersonRole::PolicyReader).await;
    let body = json!({
        "title": "Vergrijzing van het verplegend personeel",
        "description": "Een derde van onze verpleegkundigen gaat binnen **tien jaar** met pensioen.\n\n- Wie neemt hun kennis over?",
        "organisation_id": w.a,
        "context": {"sector": "86.10", "size_band": "large", "target_groups": ["older_workers"]},
        "themes": ["careers-at-every-age"]
    });
    let res = post(&app, &w.member_a.token, "/v1/challenges", body.clone()).await;
    let (location, etag) = (header(&res, "location"), header(&res, "etag"));
    let c = expect(res, StatusCode::CREATED).await;
    let path = challenge_path(&c);
    assert_eq!(location.as_deref(), Some(path.as_str()));
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(c["author"], author(&w.member_a, "Jonas Claes"));
    assert_eq!(c["organisation_id"], json!(w.a));
    assert_eq!(c["description"], body["description"], "Markdown is kept as given");
    assert_eq!(c["context"], body["context"]);
    assert_eq!(c["themes"], json!(["careers-at-every-age"]));
    assert_eq!(
        (c["status"].as_str(), c["solution_count"].as_i64(), c["comment_count"].as_i64(), c["version"].as_i64()),
        (Some("open"), Some(0), Some(0), Some(1))
    );

    // A policy reader and a facilitator bring one too, for no organisation.
    let by_reader = challenge(&app, &reader.token, json!({"title": "Te weinig zicht op informeel leren"})).await;
    assert_eq!(by_reader["author"]["person_id"], json!(reader.id));
    assert_eq!((by_reader["organisation_id"].clone(), by_reader["description"].clone()), (Value::Null, Value::Null));
    assert_eq!(by_reader["context"], json!({"sector": null, "size_band": null, "target_groups": []}));
    challenge(&app, f, json!({"title": "Leren tijdens de werkuren"})).await;

    // Only on behalf of an organisation one belongs to; a title is required.
    for (who, token, org) in
        [("a member of A for B", &w.member_a.token, &w.b), ("a policy reader for A", &reader.token, &w.a)]
    {
        let p = problem(
            post(&app, token, "/v1/challenges", json!({"title": "Namens een ander", "organisation_id": org})).await,
            422,
        )
        .await;
        assert_eq!(pointers(&p), ["/organisation_id"], "{who}");
    }
    let p = problem(post(&app, &w.member_a.token, "/v1/challenges", json!({"title": ""})).await, 422).await;
    assert_eq!(pointers(&p), ["/title"]);
    // Integration clients read challenges but do not bring them; anonymous callers see nothing.
    let client = client_token(&app, f, &w.a, &["people:read"]).await;
    problem(post(&app, &client, "/v1/challenges", json!({"title": "Uit het HR-systeem"})).await, 403).await;
    assert_eq!(read(&app, &client, &path).await["id"], c["id"]);
    problem(anonymous(&app, "/v1/challenges").await, 401).await;
    problem(anonymous(&app, &path).await, 401).await;

    // Every signed-in person lists them; filters narrow.
    let all =
        ["Leren tijdens de werkuren", "Te weinig zicht op informeel leren", "Vergrijzing van het verplegend personeel"];
    assert_eq!(listed(&app, &w.member_b.token, "/v1/challenges?sort=title").await, all);
    let (by_author, by_organisation) = (format!("author_id={}", w.member_a.id), format!("organisation_id={}", w.a));
    // `author` and `organisation` are the old names of the last two.
    let (old_author, old_organisation) = (format!("author={}", w.member_a.id), format!("organisation={}", w.a));
    for filter in ["theme=careers-at-every-age", "target_group=older_workers", "size_band=large"]
        .into_iter()
        .chain([&by_author, &by_organisation, &old_author, &old_organisation].map(String::as_str))
    {
        assert_eq!(
            listed(&app, &w.member_b.token, &format!("/v1/challenges?{filter}")).await,
            ["Vergrijzing van het verplegend personeel"],
            "{filter}"
        );
    }

    // The author moves it on; a stale ETag is refused.
    let res = patch(&app, &w.member_a.token, &path, Some("\"1\""), json!({"status": "addressed"})).await;
    let addressed = expect(res, StatusCode::OK).await;
    assert_eq!((addressed["status"].as_str(), addressed["version"].as_i64()), (Some("addressed"), Some(2)));
    let p = problem(patch(&app, &w.member_a.token, &path, Some("\"1\""), json!({"title": "Ouder"})).await, 412).await;
    assert_eq!(p["current_etag"], "\"2\"");
    problem(patch(&app, &w.member_a.token, &path, None, json!({"status": "solved"})).await, 422).await;
    // Nobody else edits it: not the admin of the author's organisation, not another member.
    for token in [&w.admin_a.token, &w.member_b.token, &reader.token] {
        problem(patch(&app, token, &path, None, json!({"status": "closed"})).await, 403).await;
    }
    // Facilitators do (If-Match is optional on challenges).
    let closed =
        expect(patch(&app, f, &path, None, json!({"status": "closed", "description": null})).await, StatusCode::OK)
            .await;
    assert_eq!(
        (closed["status"].as_str(), closed["description"].is_null(), closed["version"].as_i64()),
        (Some("closed"), true, Some(3))
    );
    assert_eq!(closed["author"], author(&w.member_a, "Jonas Claes"), "the author stays the author");
    assert_eq!(
        listed(&app, &w.member_b.token, "/v1/challenges?status=closed").await,
        ["Vergrijzing van het verplegend personeel"]
    );
    assert!(listed(&app, &w.member_b.token, "/v1/challenges?status=addressed").await.is_empty());
    let res = app.get(&path).bearer_auth(&w.member_b.token).header("if-none-match", "\"3\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // Only facilitators delete (moderation), not even the author.
    for token in [&w.member_a.token, &w.admin_a.token, &reader.token] {
        problem(delete(&app, token, &path).await, 403).await;
    }
    assert_eq!(delete(&app, f, &path).await.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &w.member_a.token, &path).await, 404).await;
    assert_eq!(
        listed(&app, &w.member_b.token, "/v1/challenges?sort=title").await,
        ["Leren tijdens de werkuren", "Te weinig zicht op informeel leren"]
    );
}

// ---- solutions: drafts and publication ----

async fn a_draft_solution_is_seen_by_its_co_authors_and_facilitators_until_it_is_published(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let reader = app.user(PersonRole::PolicyReader).await;
    let title = "Leerpaden voor nieuwe zorgkundigen";
    let mut body = solution_body(title);
    body["organisation_id"] = json!(w.a);
    let res = post(&app, &w.member_a.token, "/v1/solutions", body).await;
    let (location, etag) = (header(&res, "location"), header(&res, "etag"));
    let draft = expect(res, StatusCode::CREATED).await;
    let path = solution_path(&draft);
    assert_eq!((location.as_deref(), etag.as_deref()), (Some(path.as_str()), Some("\"1\"")));
    assert_eq!(
        (draft["status"].as_str(), draft["maturity"].as_str(), draft["version"].as_i64()),
        (Some("draft"), Some("idea"), Some(1))
    );
    assert!(draft["published_at"].is_null(), "{draft}");
    assert_eq!((draft["challenge_ids"].clone(), draft["event_id"].clone()), (json!([]), Value::Null));
    assert_eq!(
        (draft["endorsement_count"].as_i64(), draft["comment_count"].as_i64(), draft["adoption_count"].as_i64()),
        (Some(0), Some(0), Some(0))
    );
    let co = draft["co_authors"].as_array().unwrap();
    assert_eq!(co.len(), 1, "the creator is the first co-author");
    assert_eq!(
        (
            co[0]["person_id"].clone(),
            co[0]["name"].clone(),
            co[0]["former_member"].clone(),
            co[0]["organisation_id"].clone()
        ),
        (json!(w.member_a.id), json!("Jonas Claes"), json!(false), json!(w.a))
    );
    assert!(co[0]["added_at"].is_string());
    let joined =
        expect(invite(&app, &w.member_a.token, &path, w.member_b.id, Some(w.b.as_str())).await, StatusCode::CREATED)
            .await;
    assert_eq!(joined["version"], 2);

    // Its co-authors and facilitators see the draft, in lists too.
    for (who, token) in
        [("its creator", &w.member_a.token), ("the invited co-author", &w.member_b.token), ("a facilitator", f)]
    {
        assert_eq!(read(&app, token, &path).await["status"], "draft", "{who}");
        assert_eq!(listed(&app, token, "/v1/solutions").await, [title], "{who}");
        assert_eq!(listed(&app, token, "/v1/solutions?status=draft").await, [title], "{who}");
    }
    // Nobody else knows it exists: not the admin of the creator's organisation either.
    for (who, token) in [
        ("the admin of the creator's organisation", &w.admin_a.token),
        ("an admin of another organisation", &w.admin_b.token),
        ("a policy reader", &reader.token),
    ] {
        problem(get(&app, token, &path).await, 404).await;
        problem(get(&app, token, &format!("{path}/revisions")).await, 404).await;
        assert!(listed(&app, token, "/v1/solutions?status=draft").await.is_empty(), "{who}");
        assert!(listed(&app, token, "/v1/solutions").await.is_empty(), "{who}");
    }
    problem(anonymous(&app, &path).await, 404).await;
    assert!(listed_anonymously(&app, "/v1/solutions").await.is_empty());
    // Whoever cannot see it cannot change it, even with the right ETag.
    problem(edit(&app, &w.admin_a.token, &path, 2, json!({"title": "Overgenomen"})).await, 404).await;
    problem(edit(&app, &w.admin_a.token, &path, 2, json!({"status": "published"})).await, 404).await;

    // A co-author publishes: now everyone reads it, also without a token.
    let published =
        expect(edit(&app, &w.member_b.token, &path, 2, json!({"status": "published"})).await, StatusCode::OK).await;
    assert_eq!((published["status"].as_str(), published["version"].as_i64()), (Some("published"), Some(3)));
    assert!(published["published_at"].is_string(), "{published}");
    let res = anonymous(&app, &path).await;
    assert_eq!(header(&res, "etag").as_deref(), Some("\"3\""));
    assert_eq!(expect(res, StatusCode::OK).await["title"], title);
    assert_eq!(listed_anonymously(&app, "/v1/solutions").await, [title]);
    for token in [&w.admin_a.token, &w.admin_b.token, &reader.token] {
        assert_eq!(read(&app, token, &path).await["status"], "published");
        assert_eq!(listed(&app, token, "/v1/solutions").await, [title]);
    }
    // Published is final; others read it but do not edit it.
    problem(edit(&app, &w.member_a.token, &path, 3, json!({"status": "draft"})).await, 409).await;
    assert_eq!(read(&app, &w.member_a.token, &path).await["status"], "published");
    problem(edit(&app, &w.admin_a.token, &path, 3, json!({"title": "Overgenomen"})).await, 403).await;

    // Who creates solutions: members and facilitators, not policy readers, clients or strangers.
    problem(post(&app, &reader.token, "/v1/solutions", solution_body("Van een beleidslezer")).await, 403).await;
    let client = client_token(&app, f, &w.a, &["people:read", "learning-records:write"]).await;
    problem(post(&app, &client, "/v1/solutions", solution_body("Uit het HR-systeem")).await, 403).await;
    problem(app.post("/v1/solutions").json(&solution_body("Anoniem")).send().await.unwrap(), 401).await;
    let mut body = solution_body("Namens Syntra");
    body["organisation_id"] = json!(w.b);
    let p = problem(post(&app, &w.member_a.token, "/v1/solutions", body).await, 422).await;
    assert_eq!(pointers(&p), ["/organisation_id"]);
    let bad = json!({"title": "", "summary": "x".repeat(1001)});
    let p = problem(post(&app, &w.member_a.token, "/v1/solutions", bad).await, 422).await;
    let found = pointers(&p);
    assert!(found.contains(&"/title".to_string()) && found.contains(&"/summary".to_string()), "{p}");
    let mut body = solution_body("Meteen gedeeld");
    body["status"] = json!("published");
    let direct = create_solution(&app, f, body).await;
    assert!(direct["published_at"].is_string());
    expect(anonymous(&app, &solution_path(&direct)).await, StatusCode::OK).await;

    // Co-authors delete a draft, not a published solution; facilitators delete any.
    let scratch = create_solution(&app, &w.member_a.token, solution_body("Kladversie")).await;
    let scratch_path = solution_path(&scratch);
    problem(delete(&app, &w.member_b.token, &scratch_path).await, 404).await;
    assert_eq!(delete(&app, &w.member_a.token, &scratch_path).await.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &w.member_a.token, &scratch_path).await, 404).await;
    problem(delete(&app, &w.member_a.token, &path).await, 409).await;
    problem(delete(&app, &w.admin_a.token, &path).await, 403).await;
    assert_eq!(delete(&app, f, &path).await.status(), StatusCode::NO_CONTENT);
    problem(anonymous(&app, &path).await, 404).await;
    assert_eq!(listed_anonymously(&app, "/v1/solutions").await, ["Meteen gedeeld"]);
}

// ---- revisions and If-Match ----

async fn every_change_is_a_revision_and_an_edit_must_name_the_revision_it_builds_on(app: TestApp) {
    let w = world(&app).await;
    theme(&app, &w.facilitator.token, "workplace-learning").await;
    let t = &w.member_a.token;
    let mut body = solution_body("Leren op de werkvloer");
    body["themes"] = json!(["workplace-learning"]);
    body["context"] = json!({"sector": "Q", "size_band": "medium", "target_groups": ["newcomers"]});
    body["results"] = json!("Na een jaar bleven negen op de tien nieuwkomers.");
    let created = create_solution(&app, t, body).await;
    let path = solution_path(&created);

    // Without If-Match: 428, and nothing changes.
    let p = problem(patch(&app, t, &path, None, json!({"title": "Zonder ETag"})).await, 428).await;
    assert!(p["type"].as_str().unwrap().ends_with("/precondition-required"), "{p}");
    let res = edit(&app, t, &path, 1, json!({"title": "Leren op de werkvloer, samen", "maturity": "piloted"})).await;
    assert_eq!(header(&res, "etag").as_deref(), Some("\"2\""));
    let v2 = expect(res, StatusCode::OK).await;
    assert_eq!((v2["version"].as_i64(), v2["maturity"].as_str()), (Some(2), Some("piloted")));
    // A stale ETag: 412 naming the current revision, in the body and in the ETag header.
    let res = edit(&app, t, &path, 1, json!({"title": "Een oudere titel"})).await;
    assert_eq!(header(&res, "etag").as_deref(), Some("\"2\""));
    let p = problem(res, 412).await;
    assert_eq!((p["current_etag"].as_str(), p["current_revision"].as_i64()), (Some("\"2\""), Some(2)), "{p}");
    problem(patch(&app, t, &path, Some("W/\"2\""), json!({"title": "Zwak"})).await, 412).await;
    let now = read(&app, t, &path).await;
    assert_eq!((now["title"].as_str(), now["version"].as_i64()), (Some("Leren op de werkvloer, samen"), Some(2)));

    // Inviting a co-author is a revision; a patch that changes nothing is not.
    let v3 = expect(invite(&app, t, &path, w.member_b.id, None).await, StatusCode::CREATED).await;
    assert_eq!(v3["version"], 3);
    let same = expect(
        edit(&app, t, &path, 3, json!({"title": "Leren op de werkvloer, samen", "maturity": "piloted"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["version"], 3, "nothing changed, no new revision");
    let b = &w.member_b.token;
    let v4 = expect(edit(&app, b, &path, 3, json!({"status": "published"})).await, StatusCode::OK).await;
    assert_eq!(v4["version"], 4);
    let context = json!({"sector": "Q", "size_band": "medium", "target_groups": ["career_switchers"]});
    let change = json!({"summary": null, "context": context});
    let v5 = expect(edit(&app, b, &path, 4, change).await, StatusCode::OK).await;
    assert_eq!((v5["version"].as_i64(), v5["summary"].is_null()), (Some(5), true));
    // The organisation one acts for is not part of the content.
    let res = edit(&app, t, &path, 5, json!({"organisation_id": w.a})).await;
    assert!(matches!(res.status().as_u16(), 400 | 422), "{}", res.status());
    assert_eq!(read(&app, t, &path).await["version"], 5);

    // The history, newest first, with who did what.
    let revs = revisions(&app, t, &path).await;
    let numbers: Vec<i64> = revs.iter().map(|r| r["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [5, 4, 3, 2, 1]);
    let changes: Vec<&str> = revs.iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["edited", "published", "co_author_added", "edited", "created"]);
    let authors: Vec<Value> = revs.iter().map(|r| r["author"]["person_id"].clone()).collect();
    let (a_id, b_id) = (json!(w.member_a.id), json!(w.member_b.id));
    assert_eq!(authors, [b_id.clone(), b_id, a_id.clone(), a_id.clone(), a_id]);
    assert_eq!(revs[0]["author"], author(&w.member_b, "Lotte Maes"));
    assert!(revs.iter().all(|r| r["created_at"].is_string()));

    // content[n - 1] is revision n: the full content as of it, and revision n - 1 is the content before n.
    let content: Vec<Value> = revs.iter().rev().map(|r| r["content"].clone()).collect();
    let current = read(&app, t, &path).await;
    for key in CONTENT {
        assert_eq!(content[0][key], created[key], "revision 1 is what was created: {key}");
        assert_eq!(content[4][key], current[key], "revision 5 is the solution now: {key}");
    }
    assert_eq!(
        (content[0]["title"].as_str(), content[0]["maturity"].as_str()),
        (Some("Leren op de werkvloer"), Some("idea"))
    );
    assert_eq!(
        (content[1]["title"].as_str(), content[1]["maturity"].as_str()),
        (Some("Leren op de werkvloer, samen"), Some("piloted"))
    );
    for key in CONTENT {
        if key != "title" && key != "maturity" {
            assert_eq!(content[1][key], content[0][key], "revision 2 changed only the title and maturity: {key}");
        }
    }
    assert_eq!(content[2], content[1], "inviting a co-author changes no content");
    assert_eq!((content[2]["status"].as_str(), content[3]["status"].as_str()), (Some("draft"), Some("published")));
    assert_eq!(content[3]["summary"], created["summary"]);
    assert!(content[4]["summary"].is_null());
    assert_eq!(content[3]["context"]["target_groups"], json!(["newcomers"]));
    assert_eq!(content[4]["context"]["target_groups"], json!(["career_switchers"]));
    assert_eq!(content[4]["themes"], json!(["workplace-learning"]));

    // One revision at a time; one that does not exist is a 404.
    assert_eq!(read(&app, &w.member_b.token, &format!("{path}/revisions/2")).await, revs[3]);
    problem(get(&app, t, &format!("{path}/revisions/99")).await, 404).await;
}

async fn two_co_authors_editing_the_same_revision_at_once_never_overwrite_each_other(app: TestApp) {
    let w = world(&app).await;
    let (a, b) = (&w.member_a, &w.member_b);
    let mut body = solution_body("Peter- en meterschap tussen generaties");
    body["organisation_id"] = json!(w.a);
    let s = create_solution(&app, &a.token, body).await;
    let path = solution_path(&s);
    let joined = expect(invite(&app, &a.token, &path, b.id, Some(w.b.as_str())).await, StatusCode::CREATED).await;
    assert_eq!(joined["version"], 2);

    // Three rounds: both read the same revision, both send a change based on it at once.
    let rounds = [
        (
            json!({"summary": "Elke starter krijgt een ervaren peter of meter."}),
            json!({"results": "Veertien duo's in het eerste jaar."}),
        ),
        (
            json!({"body": "De duo's zien elkaar elke week een uur, tijdens de werkuren."}),
            json!({"maturity": "piloted"}),
        ),
        (
            json!({"title": "Peter- en meterschap tussen generaties, twee richtingen"}),
            json!({"results": "Veertien duo's; twaalf liepen na een jaar nog."}),
        ),
    ];
    let mut order = Vec::new();
    for (from_a, from_b) in &rounds {
        let seen_a = read(&app, &a.token, &path).await;
        let seen_b = read(&app, &b.token, &path).await;
        let v = seen_a["version"].as_i64().unwrap();
        assert_eq!(seen_b["version"].as_i64(), Some(v), "both read the same revision");
        let (res_a, res_b) = tokio::join!(
            edit(&app, &a.token, &path, v, from_a.clone()),
            edit(&app, &b.token, &path, v, from_b.clone())
        );
        let statuses = [res_a.status(), res_b.status()];
        assert!(
            statuses == [StatusCode::OK, StatusCode::PRECONDITION_FAILED]
                || statuses == [StatusCode::PRECONDITION_FAILED, StatusCode::OK],
            "exactly one of two edits on revision {v} wins: {statuses:?}"
        );
        let a_won = statuses[0] == StatusCode::OK;
        let (won, lost) = if a_won { (res_a, res_b) } else { (res_b, res_a) };
        let ((winner, winner_change), (loser, loser_change)) =
            if a_won { ((a, from_a), (b, from_b)) } else { ((b, from_b), (a, from_a)) };
        let won = expect(won, StatusCode::OK).await;
        assert_eq!(won["version"].as_i64(), Some(v + 1));
        let p = problem(lost, 412).await;
        assert_eq!(
            (p["current_etag"].clone(), p["current_revision"].as_i64()),
            (json!(format!("\"{}\"", v + 1)), Some(v + 1))
        );
        // The loser reads again and reapplies the change on top of the winner's.
        let fresh = read(&app, &loser.token, &path).await;
        assert_eq!(fresh["version"].as_i64(), Some(v + 1));
        for (key, value) in winner_change.as_object().unwrap() {
            assert_eq!(&fresh[key], value, "the winner's {key} is there to build on");
        }
        let merged = expect(edit(&app, &loser.token, &path, v + 1, loser_change.clone()).await, StatusCode::OK).await;
        assert_eq!(merged["version"].as_i64(), Some(v + 2));
        for change in [winner_change, loser_change] {
            for (key, value) in change.as_object().unwrap() {
                assert_eq!(&merged[key], value, "both changes hold: {key}");
            }
        }
        order.push((winner.id, loser.id));
    }

    let last = read(&app, &b.token, &path).await;
    assert_eq!(last["version"], 8);
    assert_eq!(
        (last["title"].as_str(), last["summary"].as_str(), last["maturity"].as_str(), last["results"].as_str()),
        (
            Some("Peter- en meterschap tussen generaties, twee richtingen"),
            Some("Elke starter krijgt een ervaren peter of meter."),
            Some("piloted"),
            Some("Veertien duo's; twaalf liepen na een jaar nog.")
        )
    );
    assert_eq!(last["body"], "De duo's zien elkaar elke week een uur, tijdens de werkuren.");
    // Every edit is a revision of its own author, in the order they landed.
    let revs = revisions(&app, &a.token, &path).await;
    let numbers: Vec<i64> = revs.iter().map(|r| r["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [8, 7, 6, 5, 4, 3, 2, 1]);
    let revision = |n: i64| revs.iter().find(|r| r["number"] == n).unwrap();
    for (round, (winner, loser)) in order.iter().enumerate() {
        let first = 3 + 2 * round as i64;
        assert_eq!(revision(first)["change"], "edited");
        assert_eq!(revision(first + 1)["change"], "edited");
        assert_eq!(revision(first)["author"]["person_id"], json!(winner), "round {round}");
        assert_eq!(revision(first + 1)["author"]["person_id"], json!(loser), "round {round}");
    }
    // Revision 3 holds the first winner's change only; revision 4 adds the loser's on top.
    let (first, second) = (&revision(3)["content"], &revision(4)["content"]);
    let (won_first, lost_first) =
        if order[0].0 == a.id { (&rounds[0].0, &rounds[0].1) } else { (&rounds[0].1, &rounds[0].0) };
    for (key, value) in won_first.as_object().unwrap() {
        assert_eq!((&first[key], &second[key]), (value, value), "{key}");
    }
    for (key, value) in lost_first.as_object().unwrap() {
        assert_eq!(&first[key], &s[key], "revision 3 does not hold the loser's {key} yet");
        assert_eq!(&second[key], value, "{key}");
    }
}

// ---- co-authors ----

async fn co_authors_join_at_once_leave_on_their_own_and_the_last_one_stays(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let mut body = solution_body("Taalcoaches op de werkvloer");
    body["organisation_id"] = json!(w.a);
    let s = create_solution(&app, &w.member_a.token, body).await;
    let path = solution_path(&s);
    let of = |person: Uuid| format!("{path}/co-authors/{person}");

    // Someone who does not write it cannot invite (a draft they do not know of).
    problem(invite(&app, &w.member_b.token, &path, w.member_b.id, None).await, 404).await;
    // An invitation names an existing person and an organisation that person belongs to.
    let p = problem(invite(&app, &w.member_a.token, &path, w.member_b.id, Some(w.a.as_str())).await, 422).await;
    assert_eq!(pointers(&p), ["/organisation_id"]);
    let p = problem(invite(&app, &w.member_a.token, &path, Uuid::now_v7(), None).await, 404).await;
    assert_eq!(pointers(&p), ["/person_id"]);
    // Policy readers bring challenges; they do not write solutions, invited or not.
    let reader = app.user(PersonRole::PolicyReader).await;
    let p = problem(invite(&app, &w.member_a.token, &path, reader.id, None).await, 422).await;
    assert_eq!(pointers(&p), ["/person_id"]);
    assert_eq!(read(&app, &w.member_a.token, &path).await["version"], 1, "refused invitations change nothing");

    let joined =
        expect(invite(&app, &w.member_a.token, &path, w.member_b.id, Some(w.b.as_str())).await, StatusCode::CREATED)
            .await;
    assert_eq!(joined["version"], 2);
    let co = joined["co_authors"].as_array().unwrap();
    assert_eq!(co.len(), 2);
    let lotte = co.iter().find(|c| c["person_id"] == json!(w.member_b.id)).unwrap();
    assert_eq!(
        (lotte["name"].as_str(), lotte["organisation_id"].as_str(), lotte["former_member"].as_bool()),
        (Some("Lotte Maes"), Some(w.b.as_str()), Some(false))
    );
    problem(invite(&app, &w.member_a.token, &path, w.member_b.id, None).await, 409).await;
    // A new co-author is one at once: reads the draft and invites in turn.
    let three =
        expect(invite(&app, &w.member_b.token, &path, w.admin_b.id, Some(w.b.as_str())).await, StatusCode::CREATED)
            .await;
    assert_eq!((three["version"].as_i64(), three["co_authors"].as_array().map(Vec::len)), (Some(3), Some(3)));
    let one = expect(get(&app, &w.member_a.token, &of(w.admin_b.id)).await, StatusCode::OK).await;
    assert_eq!((one["person_id"].clone(), one["name"].as_str()), (json!(w.admin_b.id), Some("Pieter De Smet")));
    problem(get(&app, &w.member_a.token, &of(Uuid::now_v7())).await, 404).await;
    assert_eq!(read(&app, &w.admin_b.token, &path).await["id"], s["id"]);

    // One leaves on their own; another co-author cannot remove them, a facilitator can.
    problem(delete(&app, &w.member_a.token, &of(w.admin_b.id)).await, 403).await;
    assert_eq!(delete(&app, &w.member_b.token, &of(w.member_b.id)).await.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &w.member_b.token, &path).await, 404).await;
    assert_eq!(delete(&app, f, &of(w.admin_b.id)).await.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &w.admin_b.token, &path).await, 404).await;
    // The last co-author stays, whoever asks.
    problem(delete(&app, &w.member_a.token, &of(w.member_a.id)).await, 409).await;
    problem(delete(&app, f, &of(w.member_a.id)).await, 409).await;

    let now = read(&app, &w.member_a.token, &path).await;
    assert_eq!(now["version"], 5);
    let ids: Vec<Value> = now["co_authors"].as_array().unwrap().iter().map(|c| c["person_id"].clone()).collect();
    assert_eq!(ids, [json!(w.member_a.id)]);
    let revs = revisions(&app, &w.member_a.token, &path).await;
    let changes: Vec<&str> = revs.iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["co_author_removed", "co_author_removed", "co_author_added", "co_author_added", "created"]);
    let authors: Vec<Value> = revs.iter().map(|r| r["author"]["person_id"].clone()).collect();
    assert_eq!(
        authors,
        [
            json!(w.facilitator.id),
            json!(w.member_b.id),
            json!(w.member_b.id),
            json!(w.member_a.id),
            json!(w.member_a.id)
        ]
    );

    // Once published, others read it, but only co-authors and facilitators add co-authors.
    expect(edit(&app, &w.member_a.token, &path, 5, json!({"status": "published"})).await, StatusCode::OK).await;
    problem(invite(&app, &w.admin_a.token, &path, w.admin_a.id, Some(w.a.as_str())).await, 403).await;
    let by_facilitator =
        expect(invite(&app, f, &path, w.admin_a.id, Some(w.a.as_str())).await, StatusCode::CREATED).await;
    assert_eq!(
        (by_facilitator["version"].as_i64(), by_facilitator["co_authors"].as_array().map(Vec::len)),
        (Some(7), Some(2))
    );
    // The new co-author edits the published solution.
    expect(edit(&app, &w.admin_a.token, &path, 7, json!({"maturity": "piloted"})).await, StatusCode::OK).await;
}

// ---- endorsements ----

async fn people_endorse_published_solutions_once_and_never_their_own(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let mut body = solution_body("Leerbudget per medewerker");
    body["status"] = json!("published");
    body["maturity"] = json!("proven");
    let s = create_solution(&app, &w.member_a.token, body).await;
    let path = solution_path(&s);
    let mine = format!("{path}/endorsements/me");
    assert_eq!((s["version"].as_i64(), s["maturity"].as_str()), (Some(1), Some("proven")));

    let first = put(&app, &w.admin_b.token, &mine, json!({"note": "Werkt ook bij ons.", "organisation_id": w.b})).await;
    let first = expect(first, StatusCode::CREATED).await;
    assert_eq!(first["solution_id"], s["id"]);
    assert_eq!(first["author"], author(&w.admin_b, "Pieter De Smet"));
    assert_eq!(
        (first["organisation_id"].as_str(), first["note"].as_str()),
        (Some(w.b.as_str()), Some("Werkt ook bij ons."))
    );
    // Again: the one endorsement is replaced.
    let again = put(
        &app,
        &w.admin_b.token,
        &mine,
        json!({"note": "Na een jaar gebruikt 80% zijn budget.", "organisation_id": w.b}),
    )
    .await;
    let again = expect(again, StatusCode::OK).await;
    assert_eq!(
        (again["id"].clone(), again["note"].as_str()),
        (first["id"].clone(), Some("Na een jaar gebruikt 80% zijn budget."))
    );
    let now = read(&app, &w.member_a.token, &path).await;
    assert_eq!(
        (now["endorsement_count"].as_i64(), now["version"].as_i64()),
        (Some(1), Some(1)),
        "an endorsement moves the count, not the revision"
    );

    // Co-authors do not endorse their own solution.
    problem(put(&app, &w.member_a.token, &mine, json!({})).await, 409).await;
    // A note holds at most 280 characters (not bytes); only one's own organisations.
    let p = problem(put(&app, &w.member_b.token, &mine, json!({"note": "x".repeat(281)})).await, 422).await;
    assert_eq!(pointers(&p), ["/note"]);
    let p = problem(put(&app, &w.member_b.token, &mine, json!({"organisation_id": w.a})).await, 422).await;
    assert_eq!(pointers(&p), ["/organisation_id"]);
    let long = "ë".repeat(280);
    let second = expect(put(&app, &w.member_b.token, &mine, json!({"note": &long})).await, StatusCode::CREATED).await;
    assert_eq!((second["note"].as_str(), second["organisation_id"].clone()), (Some(long.as_str()), Value::Null));
    // Policy readers, clients and anonymous callers do not endorse.
    let reader = app.user(PersonRole::PolicyReader).await;
    problem(put(&app, &reader.token, &mine, json!({})).await, 403).await;
    let client = client_token(&app, f, &w.a, &["people:read"]).await;
    problem(put(&app, &client, &mine, json!({})).await, 403).await;
    problem(app.request(Method::PUT, &mine).json(&json!({})).send().await.unwrap(), 401).await;

    let list = expect(get(&app, &w.admin_a.token, &format!("{path}/endorsements")).await, StatusCode::OK).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{list}");
    let pieter = data.iter().find(|e| e["author"]["person_id"] == json!(w.admin_b.id)).unwrap();
    assert_eq!(pieter["note"], "Na een jaar gebruikt 80% zijn budget.");
    assert!(data.iter().any(|e| e["author"]["person_id"] == json!(w.member_b.id)));

    // A co-author's edit based on the revision read before the endorsements still lands.
    let edited = expect(
        edit(&app, &w.member_a.token, &path, 1, json!({"results": "Verzuim daalde met een vijfde."})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((edited["version"].as_i64(), edited["endorsement_count"].as_i64()), (Some(2), Some(2)));

    // Drafts are not endorsed: unknown to others, one's own to co-authors.
    let draft = create_solution(&app, &w.member_a.token, solution_body("Nog niet klaar")).await;
    let draft_mine = format!("{}/endorsements/me", solution_path(&draft));
    problem(put(&app, &w.admin_b.token, &draft_mine, json!({})).await, 404).await;
    problem(put(&app, &w.member_a.token, &draft_mine, json!({})).await, 409).await;

    // Each reads their own endorsement at its address.
    let own = expect(get(&app, &w.admin_b.token, &mine).await, StatusCode::OK).await;
    assert_eq!(own["author"]["person_id"], json!(w.admin_b.id));
    problem(get(&app, &w.member_a.token, &mine).await, 404).await;

    // Withdrawing.
    assert_eq!(delete(&app, &w.admin_b.token, &mine).await.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &w.admin_b.token, &mine).await, 404).await;
    // Withdrawing again (a retry) answers the same and changes nothing.
    assert_eq!(delete(&app, &w.admin_b.token, &mine).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(read(&app, &w.admin_b.token, &path).await["endorsement_count"], 1);
    assert_eq!(delete(&app, &w.member_b.token, &mine).await.status(), StatusCode::NO_CONTENT);
    let now = expect(anonymous(&app, &path).await, StatusCode::OK).await;
    assert_eq!((now["endorsement_count"].as_i64(), now["version"].as_i64()), (Some(0), Some(2)));
    let list = expect(get(&app, &w.admin_a.token, &format!("{path}/endorsements")).await, StatusCode::OK).await;
    assert!(list["data"].as_array().unwrap().is_empty(), "{list}");
}

// ---- comments ----

async fn comments_thread_one_level_deep_and_facilitators_hide_without_deleting(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let c =
        challenge(&app, &w.member_a.token, json!({"title": "Jonge collega's haken snel af", "organisation_id": w.a}))
            .await;
    let c_path = challenge_path(&c);
    let mut body = solution_body("Onthaal in drie stappen");
    body["status"] = json!("published");
    let s = create_solution(&app, &w.member_a.token, body).await;
    let s_path = solution_path(&s);

    let top =
        comment(&app, &w.member_b.token, &c_path, json!({"body": "Bij ons helpt een buddy in de eerste maand."})).await;
    let top = expect(top, StatusCode::CREATED).await;
    assert_eq!(
        (top["challenge_id"].clone(), top["solution_id"].clone(), top["parent_id"].clone(), top["hidden"].clone()),
        (c["id"].clone(), Value::Null, Value::Null, json!(false))
    );
    assert_eq!(top["author"], author(&w.member_b, "Lotte Maes"));
    let reply = comment(
        &app,
        &w.admin_a.token,
        &c_path,
        json!({"body": "Hoe lang loopt zo'n buddytraject?", "parent_id": top["id"]}),
    )
    .await;
    let reply = expect(reply, StatusCode::CREATED).await;
    assert_eq!(reply["parent_id"], top["id"]);
    // One level deep; a parent belongs to the same thread.
    let p = problem(
        comment(&app, &w.member_a.token, &c_path, json!({"body": "Zes weken.", "parent_id": reply["id"]})).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), ["/parent_id"]);
    let p = problem(
        comment(&app, &w.member_a.token, &s_path, json!({"body": "Zie hierboven.", "parent_id": top["id"]})).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), ["/parent_id"]);
    let p = problem(comment(&app, &w.member_a.token, &c_path, json!({"body": ""})).await, 422).await;
    assert_eq!(pointers(&p), ["/body"]);
    // Any signed-in person comments, a policy reader too; clients and strangers do not.
    let reader = app.user(PersonRole::PolicyReader).await;
    let remark = expect(
        comment(&app, &reader.token, &c_path, json!({"body": "Herkenbaar in de cijfers van de sector."})).await,
        StatusCode::CREATED,
    )
    .await;
    let client = client_token(&app, f, &w.a, &["people:read"]).await;
    problem(comment(&app, &client, &c_path, json!({"body": "Automatisch bericht"})).await, 403).await;
    problem(app.post(&format!("{c_path}/comments")).json(&json!({"body": "Anoniem"})).send().await.unwrap(), 401).await;

    let thread: Vec<String> = comments_of(&app, &w.admin_b.token, &c_path).await.iter().map(id_of).collect();
    assert_eq!(thread, [id_of(&top), id_of(&reply), id_of(&remark)], "oldest first, replies flat");
    assert_eq!(read(&app, &w.member_b.token, &c_path).await["comment_count"], 3);

    // Authors edit their own words; nobody else does, facilitators neither.
    let top_path = format!("/v1/comments/{}", id_of(&top));
    let text = "Bij ons helpt een buddy in de eerste twee maanden.";
    let edited =
        expect(patch(&app, &w.member_b.token, &top_path, None, json!({"body": text})).await, StatusCode::OK).await;
    assert_eq!((edited["body"].as_str(), edited["version"].as_i64()), (Some(text), Some(2)));
    for token in [&w.admin_a.token, &w.member_a.token, f] {
        problem(patch(&app, token, &top_path, None, json!({"body": "Aangepast door iemand anders"})).await, 403).await;
    }
    // Only facilitators hide.
    problem(patch(&app, &w.member_b.token, &top_path, None, json!({"hidden": true})).await, 403).await;
    problem(patch(&app, &w.member_a.token, &top_path, None, json!({"hidden": true})).await, 403).await;
    let hidden = expect(patch(&app, f, &top_path, None, json!({"hidden": true})).await, StatusCode::OK).await;
    assert_eq!((hidden["hidden"].as_bool(), hidden["body"].as_str()), (Some(true), Some(text)));
    for (who, token, sees) in [
        ("its author", &w.member_b.token, true),
        ("a facilitator", f, true),
        ("the challenge's author", &w.member_a.token, false),
        ("someone else", &w.admin_b.token, false),
    ] {
        let thread = comments_of(&app, token, &c_path).await;
        assert_eq!(thread.len(), 3, "{who}: a hidden comment stays in the thread");
        let shown = thread.iter().find(|x| x["id"] == top["id"]).unwrap();
        assert_eq!(shown["hidden"], true, "{who}");
        assert_eq!(shown["body"].as_str(), if sees { Some(text) } else { None }, "{who}");
        let answer = thread.iter().find(|x| x["id"] == reply["id"]).unwrap();
        assert_eq!(answer["body"], "Hoe lang loopt zo'n buddytraject?", "{who}: replies stay readable");
        // The comment's own address says the same.
        let one = expect(get(&app, token, &top_path).await, StatusCode::OK).await;
        assert_eq!(one["body"].as_str(), if sees { Some(text) } else { None }, "{who}");
    }
    // The change feed no longer holds the hidden text either (its earlier entries are gone).
    for token in [&w.admin_b.token, &w.member_a.token] {
        let entries = feed(&app, token, "comment").await;
        assert!(entries.iter().any(|c| c["id"] == top["id"]), "the comment itself stays in the feed");
        assert!(!serde_json::to_string(&entries).unwrap().contains(text), "hidden text in the feed");
    }
    expect(patch(&app, f, &top_path, None, json!({"hidden": false})).await, StatusCode::OK).await;
    let thread = comments_of(&app, &w.admin_b.token, &c_path).await;
    assert_eq!(thread[0]["body"], text);

    // On a solution: a thread, counted on the solution without a new revision.
    let s_top = expect(
        comment(&app, &w.member_b.token, &s_path, json!({"body": "Stap twee werkt ook in de bouw."})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!((s_top["solution_id"].clone(), s_top["challenge_id"].clone()), (s["id"].clone(), Value::Null));
    let s_reply =
        comment(&app, &w.admin_b.token, &s_path, json!({"body": "Klopt, bij ons ook.", "parent_id": s_top["id"]}))
            .await;
    expect(s_reply, StatusCode::CREATED).await;
    let now = read(&app, &w.admin_a.token, &s_path).await;
    assert_eq!((now["comment_count"].as_i64(), now["version"].as_i64()), (Some(2), Some(1)));
    // Deleting: the author or a facilitator; a comment's replies go with it.
    let s_top_path = format!("/v1/comments/{}", id_of(&s_top));
    problem(delete(&app, &w.admin_a.token, &s_top_path).await, 403).await;
    assert_eq!(delete(&app, &w.member_b.token, &s_top_path).await.status(), StatusCode::NO_CONTENT);
    assert!(comments_of(&app, &w.member_a.token, &s_path).await.is_empty());
    assert_eq!(read(&app, &w.admin_a.token, &s_path).await["comment_count"], 0);
    assert_eq!(delete(&app, f, &format!("/v1/comments/{}", id_of(&remark))).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(comments_of(&app, &w.admin_b.token, &c_path).await.len(), 2);
    assert_eq!(read(&app, &w.member_b.token, &c_path).await["comment_count"], 2);

    // A draft's thread is for its co-authors.
    let draft = create_solution(&app, &w.member_a.token, solution_body("Nog in de maak")).await;
    let draft_path = solution_path(&draft);
    problem(comment(&app, &w.member_b.token, &draft_path, json!({"body": "Mag ik meelezen?"})).await, 404).await;
    problem(get(&app, &w.member_b.token, &format!("{draft_path}/comments")).await, 404).await;
    expect(
        comment(&app, &w.member_a.token, &draft_path, json!({"body": "Nog een stap toevoegen."})).await,
        StatusCode::CREATED,
    )
    .await;
}

// ---- search ----

async fn search_finds_dutch_words_whatever_the_accents_and_ranks_titles_first(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    theme(&app, f, "workplace-learning").await;
    theme(&app, f, "careers-at-every-age").await;
    let (a, b) = (&w.member_a, &w.member_b);
    // Words to look for: ontwikkeling (title of 1, body of 2), olijf (3), mentor (2, 5),
    // opleiding (2, 6), collega (1, 2, 3, 4, 6).
    let corpus = [
        (
            a,
            None,
            "Óntwikkeling op de werkvloer",
            "Leidinggevenden plannen elk kwartaal een leergesprek met iedere medewerker.",
            "Teams kiezen samen één vaardigheid per kwartaal en oefenen die in de dagelijkse praktijk. Een collega geeft feedback.",
            "proven",
            "workplace-learning",
        ),
        (
            a,
            None,
            "Mentoraat voor nieuwkomers",
            "Een ervaren collega begeleidt elke nieuwkomer de eerste zes maanden.",
            "De mentor krijgt vier uur per week vrij en volgt vooraf een korte opleiding. Zo groeit ook de persoonlijke ontwikkeling van de mentor zelf.",
            "piloted",
            "workplace-learning",
        ),
        (
            a,
            None,
            "Olijfboomloopbanen in de zorg",
            "Oudere zorgmedewerkers kiezen een nieuwe rol in plaats van vroeger te stoppen.",
            "Vanaf vijfenvijftig jaar krijgt elke medewerker een loopbaangesprek. Wie wil, wordt peter of meter van een jonge collega.",
            "proven",
            "careers-at-every-age",
        ),
        (
            a,
            None,
            "Leren in duo's over de generaties heen",
            "Een jonge en een oudere collega leren elke maand iets van elkaar.",
            "De jongere toont digitale tools, de oudere deelt vakkennis. Het duo kiest zelf het tempo.",
            "idea",
            "careers-at-every-age",
        ),
        (
            b,
            Some(&w.b),
            "Een mentor voor elke starter",
            "Starters in de bouw krijgen een vaste aanspreekpersoon op de werf.",
            "De mentor is een ervaren vakman die zelf ooit starter was. Begeleiding gebeurt tijdens het werk.",
            "piloted",
            "workplace-learning",
        ),
        (
            b,
            Some(&w.b),
            "Opleidingsbudget per team",
            "Elk team beheert zelf een jaarlijks budget om bij te leren.",
            "Het team beslist samen welke opleiding of workshop voorrang krijgt, en een collega houdt het overzicht bij.",
            "proven",
            "workplace-learning",
        ),
    ];
    for (user, org, title, summary, text, maturity, slug) in corpus {
        let mut body = json!({"title": title, "summary": summary, "body": text, "maturity": maturity,
                              "themes": [slug], "status": "published"});
        if let Some(org) = org {
            body["organisation_id"] = json!(org);
        }
        create_solution(&app, &user.token, body).await;
    }
    // Lotte's draft holds every word, and must never show up for others.
    let draft = "Ontwikkeling en olijfboomloopbanen";
    create_solution(
        &app,
        &b.token,
        json!({"title": draft, "body": "Elke collega kiest een mentor en een opleiding.", "maturity": "proven",
               "themes": ["workplace-learning"]}),
    )
    .await;

    let search = |query: String| {
        let app = &app;
        async move { listed_anonymously(app, &format!("/v1/solutions?{query}")).await }
    };
    // Accents folded both ways and case ignored; a title match ranks above a body match.
    let both = ["Óntwikkeling op de werkvloer", "Mentoraat voor nieuwkomers"];
    assert_eq!(search(q("ontwikkeling")).await, both, "plain word finds the accented title first");
    assert_eq!(search(q("óntwikkeling")).await, both, "accented word finds the plain body too");
    assert_eq!(search(q("ONTWIKKELING")).await, both);
    assert_eq!(search(format!("{}&sort=relevance", q("ontwikkeling"))).await, both);
    // Every word is a prefix; every word must match.
    assert_eq!(search(q("olijf")).await, ["Olijfboomloopbanen in de zorg"]);
    assert_eq!(search(q("mentor opleiding")).await, ["Mentoraat voor nieuwkomers"]);
    assert_eq!(
        sorted(search(q("mentor")).await),
        ["Een mentor voor elke starter", "Mentoraat voor nieuwkomers"],
        "mentor and mentoraat"
    );
    assert!(search(q("mentor bestaatniet")).await.is_empty());
    let colleagues = search(q("collega")).await;
    assert_eq!(
        sorted(colleagues.clone()),
        [
            "Leren in duo's over de generaties heen",
            "Mentoraat voor nieuwkomers",
            "Olijfboomloopbanen in de zorg",
            "Opleidingsbudget per team",
            "Óntwikkeling op de werkvloer",
        ]
    );
    // Filters combine with words.
    assert_eq!(
        sorted(search(format!("{}&maturity=proven", q("collega"))).await),
        ["Olijfboomloopbanen in de zorg", "Opleidingsbudget per team", "Óntwikkeling op de werkvloer"]
    );
    assert_eq!(
        sorted(search(format!("{}&theme=careers-at-every-age", q("collega"))).await),
        ["Leren in duo's over de generaties heen", "Olijfboomloopbanen in de zorg"]
    );
    assert_eq!(search(format!("{}&organisation_id={}", q("collega"), w.b)).await, ["Opleidingsbudget per team"]);
    // `organisation` is the old name of `organisation_id`: it still works; with both, the new one counts.
    assert_eq!(search(format!("{}&organisation={}", q("collega"), w.b)).await, ["Opleidingsbudget per team"]);
    let old_and_new = format!("{}&organisation_id={}&organisation={}", q("collega"), w.b, w.a);
    assert_eq!(search(old_and_new).await, ["Opleidingsbudget per team"]);
    assert_eq!(
        search(format!("{}&sort=title", q("mentor"))).await,
        ["Een mentor voor elke starter", "Mentoraat voor nieuwkomers"]
    );
    // Without `q` everything is equally relevant: the list keeps its default order.
    assert_eq!(
        listed_anonymously(&app, "/v1/solutions?sort=relevance").await,
        listed_anonymously(&app, "/v1/solutions?sort=created_at").await
    );
    problem(anonymous(&app, "/v1/solutions?sort=-relevance").await, 400).await;

    // Drafts: only for their co-authors (and facilitators), in search too.
    assert_eq!(listed(&app, &a.token, &format!("/v1/solutions?{}", q("ontwikkeling"))).await, both);
    assert_eq!(
        listed(&app, &w.admin_b.token, &format!("/v1/solutions?{}", q("olijf"))).await,
        ["Olijfboomloopbanen in de zorg"]
    );
    assert!(search(format!("{}&status=draft", q("ontwikkeling"))).await.is_empty());
    for token in [&b.token, f] {
        let found = listed(&app, token, &format!("/v1/solutions?{}", q("olijf"))).await;
        assert_eq!(sorted(found), ["Olijfboomloopbanen in de zorg", draft]);
    }

    // Paging over relevance: every match exactly once, in the order of one long page.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/v1/solutions?{}&limit=2", q("collega"));
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = expect(anonymous(&app, &path).await, StatusCode::OK).await;
        pages += 1;
        assert!(page["data"].as_array().unwrap().len() <= 2);
        paged.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(paged, colleagues);

    // Challenges are searched the same way (title above description), for signed-in callers.
    for (user, title, description) in [
        (
            a,
            "Vergrijzing van het verplegend personeel",
            "Een derde van onze verpleegkundigen gaat binnen tien jaar met pensioen.",
        ),
        (
            b,
            "Nieuwkomers haken af",
            "Anderstalige nieuwkomers stoppen vaak in hun eerste jaar, en door de vergrijzing kunnen we dat niet missen.",
        ),
        (&w.admin_a, "Digitale vaardigheden", "Niet iedereen kan werken met het nieuwe planningssysteem."),
    ] {
        challenge(&app, &user.token, json!({"title": title, "description": description})).await;
    }
    let find = |query: String| {
        let app = &app;
        let token = w.admin_b.token.clone();
        async move { listed(app, &token, &format!("/v1/challenges?{query}")).await }
    };
    assert_eq!(find(q("vergrijzing")).await, ["Vergrijzing van het verplegend personeel", "Nieuwkomers haken af"]);
    assert_eq!(find(q("VERGRÍJZING")).await, ["Vergrijzing van het verplegend personeel", "Nieuwkomers haken af"]);
    assert_eq!(find(q("pensi")).await, ["Vergrijzing van het verplegend personeel"]);
    assert_eq!(find(q("nieuwkomers vergrijzing")).await, ["Nieuwkomers haken af"]);
    problem(anonymous(&app, &format!("/v1/challenges?{}", q("vergrijzing"))).await, 401).await;
}

// ---- links ----

/// A learning record that names a solution it put to use.
fn adoption(title: &str, solution: &str) -> Value {
    json!({
        "title": title,
        "reflection": {"learned": "Het werkt ook bij ons, mits een vaste begeleider."},
        "activity_type": "peer_learning",
        "started_on": "2027-03-01",
        "duration_minutes": 120,
        "visibility": "network",
        "solution_id": solution
    })
}

async fn solutions_link_challenges_and_events_and_learning_records_count_adoptions(app: TestApp) {
    let w = world(&app).await;
    let event =
        create_event(&app, &w.admin_a.token, event_body(&w.a, "Lerend netwerk: onthaal van nieuwkomers", None)).await;
    let c1 = challenge(&app, &w.member_b.token, json!({"title": "Nieuwkomers haken af in het eerste jaar"})).await;
    let c2 =
        challenge(&app, &w.admin_b.token, json!({"title": "Leidinggevenden hebben geen tijd om te coachen"})).await;

    // Links must point at what exists.
    let mut body = solution_body("Onthaalbuddy's");
    body["challenge_ids"] = json!([Uuid::now_v7(), id_of(&c1)]);
    let p = problem(post(&app, &w.member_a.token, "/v1/solutions", body).await, 404).await;
    assert_eq!(pointers(&p), ["/challenge_ids/0"]);
    let mut body = solution_body("Onthaalbuddy's");
    body["event_id"] = json!(Uuid::now_v7());
    let p = problem(post(&app, &w.member_a.token, "/v1/solutions", body).await, 404).await;
    assert_eq!(pointers(&p), ["/event_id"]);

    let title = "Onthaalbuddy's voor nieuwkomers";
    let mut body = solution_body(title);
    body["challenge_ids"] = json!([id_of(&c1), id_of(&c2)]);
    body["event_id"] = event["id"].clone();
    body["status"] = json!("published");
    let linked = create_solution(&app, &w.member_a.token, body).await;
    let linked_path = solution_path(&linked);
    let mut named: Vec<String> =
        linked["challenge_ids"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    named.sort();
    let mut expected = vec![id_of(&c1), id_of(&c2)];
    expected.sort();
    assert_eq!(named, expected);
    assert_eq!(linked["event_id"], event["id"]);
    let mut body = solution_body("Taalcoaching tijdens de shift");
    body["challenge_ids"] = json!([id_of(&c1)]);
    let draft = create_solution(&app, &w.member_a.token, body).await;

    // Solutions by challenge and by event; drafts for their co-authors only.
    let by_c1 = format!("/v1/solutions?challenge_id={}", id_of(&c1));
    assert_eq!(listed_anonymously(&app, &by_c1).await, [title]);
    assert_eq!(listed(&app, &w.member_b.token, &by_c1).await, [title]);
    assert_eq!(
        sorted(listed(&app, &w.member_a.token, &by_c1).await),
        ["Onthaalbuddy's voor nieuwkomers", "Taalcoaching tijdens de shift"]
    );
    assert_eq!(listed_anonymously(&app, &format!("/v1/solutions?challenge={}", id_of(&c2))).await, [title]);
    assert_eq!(listed_anonymously(&app, &format!("/v1/solutions?event_id={}", id_of(&event))).await, [title]);
    assert!(listed_anonymously(&app, &format!("/v1/solutions?challenge={}", Uuid::now_v7())).await.is_empty());
    problem(anonymous(&app, "/v1/solutions?challenge=geen-uuid").await, 400).await;
    // A challenge counts the published solutions that answer it.
    assert_eq!(
        read(&app, &w.member_b.token, &challenge_path(&c1)).await["solution_count"],
        1,
        "a draft does not count"
    );
    assert_eq!(read(&app, &w.member_b.token, &challenge_path(&c2)).await["solution_count"], 1);
    expect(
        edit(&app, &w.member_a.token, &solution_path(&draft), 1, json!({"status": "published"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read(&app, &w.member_b.token, &challenge_path(&c1)).await["solution_count"], 2);
    assert_eq!(read(&app, &w.member_b.token, &challenge_path(&c2)).await["solution_count"], 1);

    // Learning records that name a solution count as adoptions (not as revisions).
    let record = expect(
        post(
            &app,
            &w.member_b.token,
            "/v1/learning-records",
            adoption("Onthaalbuddy's ingevoerd bij Syntra", &id_of(&linked)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(record["solution_id"], linked["id"]);
    expect(
        post(&app, &w.admin_b.token, "/v1/learning-records", adoption("Buddy's in de opleidingen", &id_of(&linked)))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let now = expect(anonymous(&app, &linked_path).await, StatusCode::OK).await;
    assert_eq!((now["adoption_count"].as_i64(), now["version"].as_i64()), (Some(2), Some(1)));
    let res = delete(&app, &w.member_b.token, &format!("/v1/learning-records/{}", id_of(&record))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(expect(anonymous(&app, &linked_path).await, StatusCode::OK).await["adoption_count"], 1);

    // Only a solution the record's owner may read.
    let secret = create_solution(&app, &w.member_a.token, solution_body("Nog geheim")).await;
    for id in [id_of(&secret), Uuid::now_v7().to_string()] {
        let p = problem(post(&app, &w.member_b.token, "/v1/learning-records", adoption("Geprobeerd", &id)).await, 404)
            .await;
        assert_eq!(pointers(&p), ["/solution_id"]);
    }
    expect(
        post(&app, &w.member_a.token, "/v1/learning-records", adoption("Zelf uitgeprobeerd", &id_of(&secret))).await,
        StatusCode::CREATED,
    )
    .await;
    let secret_now = read(&app, &w.member_a.token, &solution_path(&secret)).await;
    assert_eq!((secret_now["adoption_count"].as_i64(), secret_now["version"].as_i64()), (Some(1), Some(1)));
}

// ---- feed and erasure ----

async fn the_feed_follows_drafts_to_co_authors_and_erasure_leaves_a_former_member(app: TestApp) {
    let w = world(&app).await;
    let (a, b) = (&w.member_a, &w.member_b);
    let mut body = solution_body("Leren van oudere collega's");
    body["organisation_id"] = json!(w.a);
    let s = create_solution(&app, &a.token, body).await;
    let path = solution_path(&s);
    let sid = id_of(&s);
    expect(invite(&app, &a.token, &path, b.id, Some(w.b.as_str())).await, StatusCode::CREATED).await;
    expect(edit(&app, &b.token, &path, 2, json!({"results": "Twaalf duo's gevormd."})).await, StatusCode::OK).await;
    let on_draft =
        expect(comment(&app, &a.token, &path, json!({"body": "Nog te bespreken met HR."})).await, StatusCode::CREATED)
            .await;
    let on_draft_id = id_of(&on_draft);
    let has_comment = |changes: &[Value]| changes.iter().any(|c| c["id"] == on_draft_id.as_str());
    assert!(has_comment(&feed(&app, &b.token, "comment").await), "a co-author sees the draft's comment");
    assert!(!has_comment(&feed(&app, &w.admin_a.token, "comment").await), "nobody else does yet");

    // A draft reaches its co-authors and facilitators, nobody else.
    for token in [&b.token, &a.token, &w.facilitator.token] {
        let changes = feed(&app, token, "solution").await;
        let last = changes.iter().rev().find(|c| c["id"] == sid.as_str()).expect("the draft is in the feed");
        assert_eq!((last["version"].as_i64(), last["resource"]["status"].as_str()), (Some(3), Some("draft")));
    }
    for token in [&w.admin_a.token, &w.admin_b.token] {
        assert!(!feed(&app, token, "solution").await.iter().any(|c| c["id"] == sid.as_str()));
    }
    // Published, it reaches every signed-in caller, without its draft versions.
    expect(edit(&app, &a.token, &path, 3, json!({"status": "published"})).await, StatusCode::OK).await;
    let seen = feed(&app, &w.admin_a.token, "solution").await;
    let of_s: Vec<&Value> = seen.iter().filter(|c| c["id"] == sid.as_str()).collect();
    assert!(!of_s.is_empty());
    assert!(of_s.iter().all(|c| c["resource"]["status"] == "published"), "{of_s:?}");
    assert_eq!(of_s.last().unwrap()["version"], 4);
    // The comments made on the draft come along.
    assert!(has_comment(&feed(&app, &w.admin_a.token, "comment").await), "published, its comments reach everyone");

    // Lotte's other traces: a challenge, a comment, an endorsement.
    let mine =
        challenge(&app, &b.token, json!({"title": "Kennis verdwijnt met het pensioen", "organisation_id": w.b})).await;
    let remark = expect(
        comment(&app, &b.token, &path, json!({"body": "Ik neem de evaluatie op mij."})).await,
        StatusCode::CREATED,
    )
    .await;
    let mut body = solution_body("Omgekeerd mentoraat");
    body["status"] = json!("published");
    let other = create_solution(&app, &w.admin_a.token, body).await;
    let other_path = solution_path(&other);
    let endorsement = put(
        &app,
        &b.token,
        &format!("{other_path}/endorsements/me"),
        json!({"note": "Doen we ook.", "organisation_id": w.b}),
    )
    .await;
    let endorsement = expect(endorsement, StatusCode::CREATED).await;

    // Her export holds what she wrote.
    let export = expect(get(&app, &b.token, "/v1/me/export").await, StatusCode::OK).await;
    let ids_in = |key: &str| -> Vec<String> {
        export[key].as_array().unwrap_or_else(|| panic!("no {key} in {export}")).iter().map(id_of).collect()
    };
    assert_eq!(ids_in("authored_solutions"), std::slice::from_ref(&sid));
    assert_eq!(ids_in("challenges"), [id_of(&mine)]);
    assert_eq!(ids_in("comments"), [id_of(&remark)]);
    assert_eq!(ids_in("endorsements"), [id_of(&endorsement)]);
    assert_eq!(export["endorsements"][0]["solution_id"], other["id"]);
    let theirs = expect(get(&app, &a.token, "/v1/me/export").await, StatusCode::OK).await;
    assert!(theirs["challenges"].as_array().unwrap().is_empty(), "{theirs}");

    // She erases herself.
    assert_eq!(app.request(Method::DELETE, "/v1/me").bearer_auth(&b.token).send().await.unwrap().status(), 204);
    problem(get(&app, &b.token, "/v1/me").await, 401).await;
    // The solution stays, her co-authorship as a former member's, for the organisation she acted for.
    let after = expect(anonymous(&app, &path).await, StatusCode::OK).await;
    assert_eq!(after["results"], "Twaalf duo's gevormd.", "what she wrote stays");
    let co = after["co_authors"].as_array().unwrap();
    assert_eq!(co.len(), 2, "{after}");
    let gone = co.iter().find(|c| c["former_member"] == true).unwrap();
    assert_eq!(
        (gone["person_id"].clone(), gone["name"].clone(), gone["organisation_id"].clone()),
        (Value::Null, Value::Null, json!(w.b))
    );
    let stays = co.iter().find(|c| c["former_member"] == false).unwrap();
    assert_eq!(stays["person_id"], json!(a.id));
    let revs = revisions(&app, &a.token, &path).await;
    let by_her = revs.iter().find(|r| r["number"] == 3).unwrap();
    assert_eq!(by_her["author"], former_member());
    assert_eq!(revs.iter().find(|r| r["number"] == 1).unwrap()["author"], author(a, "Jonas Claes"));
    // Her comment and challenge stay, written by a former member; her endorsement is gone.
    let thread = comments_of(&app, &a.token, &path).await;
    assert_eq!(thread.len(), 2);
    let hers = thread.iter().find(|c| c["id"] == remark["id"]).unwrap();
    assert_eq!((hers["author"].clone(), hers["body"].clone()), (former_member(), remark["body"].clone()));
    let kept = read(&app, &a.token, &challenge_path(&mine)).await;
    assert_eq!((kept["author"].clone(), kept["title"].clone()), (former_member(), mine["title"].clone()));
    let other_now = expect(anonymous(&app, &other_path).await, StatusCode::OK).await;
    assert_eq!(other_now["endorsement_count"], 0);
    let list = expect(get(&app, &a.token, &format!("{other_path}/endorsements")).await, StatusCode::OK).await;
    assert!(list["data"].as_array().unwrap().is_empty(), "{list}");

    // The feed holds her solution as it is now, and no longer her name.
    let everything = feed(&app, &w.facilitator.token, "solution,challenge,comment,endorsement").await;
    let last = everything.iter().rev().find(|c| c["id"] == sid.as_str()).unwrap();
    assert!(last["resource"]["co_authors"].as_array().unwrap().iter().any(|c| c["former_member"] == true), "{last}");
    let text = Value::Array(everything).to_string();
    assert!(!text.contains("Lotte Maes"), "the feed still names her");
    assert!(!text.contains(&b.id.to_string()), "the feed still holds her id");
}

// ---- the page cache ----

async fn a_search_page_served_from_memory_never_outlives_a_change(app: TestApp) {
    let w = world(&app).await;
    let mut body = solution_body("Leerwandelingen op de werkvloer");
    body["status"] = json!("published");
    let s = create_solution(&app, &w.member_a.token, body).await;
    let path = solution_path(&s);
    let search = "/v1/solutions?q=leerwandeling&limit=20";
    let first = expect(anonymous(&app, search).await, StatusCode::OK).await;
    // Asked again, the same page (now from memory).
    assert_eq!(expect(anonymous(&app, search).await, StatusCode::OK).await, first);
    assert_eq!(first["data"][0]["endorsement_count"], 0);

    // Every change to what the page shows is there at once: a count, an edit, a name.
    expect(put(&app, &w.member_b.token, &format!("{path}/endorsements/me"), json!({})).await, StatusCode::CREATED)
        .await;
    let page = expect(anonymous(&app, search).await, StatusCode::OK).await;
    assert_eq!(page["data"][0]["endorsement_count"], 1, "{page}");
    expect(
        edit(&app, &w.member_a.token, &path, 1, json!({"title": "Leerwandelingen in het atelier"})).await,
        StatusCode::OK,
    )
    .await;
    let page = expect(anonymous(&app, search).await, StatusCode::OK).await;
    assert_eq!(page["data"][0]["title"], "Leerwandelingen in het atelier");
    let me = format!("/v1/people/{}", w.member_a.id);
    let etag = header(&get(&app, &w.member_a.token, &me).await, "etag");
    expect(
        patch(&app, &w.member_a.token, &me, etag.as_deref(), json!({"name": "Jonas Claes-Peeters"})).await,
        StatusCode::OK,
    )
    .await;
    let page = expect(anonymous(&app, search).await, StatusCode::OK).await;
    assert_eq!(page["data"][0]["co_authors"][0]["name"], "Jonas Claes-Peeters", "{page}");
    // A page cached for one caller is never another's: drafts stay with their co-authors.
    let draft = create_solution(&app, &w.member_a.token, solution_body("Leerwandeling voor starters")).await;
    let mine = expect(get(&app, &w.member_a.token, search).await, StatusCode::OK).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 2, "{mine}");
    let theirs = expect(get(&app, &w.member_b.token, search).await, StatusCode::OK).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1, "{theirs}");
    assert!(theirs["data"].as_array().unwrap().iter().all(|x| x["id"] != draft["id"]));
}
