//! Themes: the example resource. Anyone reads; facilitators write.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json, problem};
use crate::on_both_databases;

on_both_databases!(
    anyone_reads_themes_without_a_token,
    a_facilitator_creates_a_theme_with_location_and_etag,
    a_duplicate_slug_is_a_conflict_on_the_slug,
    an_etag_that_still_matches_gives_not_modified,
    a_patch_with_the_current_etag_applies_and_bumps_the_version,
    a_patch_with_a_stale_etag_is_refused_with_the_current_one,
    a_patch_without_if_match_applies_to_the_latest_version,
    a_merge_patch_null_removes_the_description,
    a_patch_that_changes_nothing_keeps_the_version,
    a_patch_cannot_remove_a_required_field,
    a_bad_patch_is_refused_before_its_precondition_is_looked_at,
    a_garbled_if_match_never_lets_a_write_through,
    of_two_concurrent_edits_from_the_same_version_exactly_one_wins,
    a_deleted_theme_is_gone,
    a_delete_with_a_stale_etag_is_refused,
    search_ignores_case_and_diacritics,
    themes_sort_by_any_allowed_field_both_ways,
    a_theme_organisations_use_keeps_its_slug_and_stays,
);

async fn create(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post("/v1/themes").bearer_auth(token).json(&body).send().await.unwrap()
}

fn theme(slug: &str) -> Value {
    json!({"slug": slug, "label_nl": format!("NL {slug}"), "label_en": format!("EN {slug}")})
}

async fn created(app: &TestApp, token: &str, slug: &str) -> Value {
    let res = create(app, token, theme(slug)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    json(res).await
}

async fn patch(app: &TestApp, token: &str, id: &str, if_match: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = app
        .request(reqwest::Method::PATCH, &format!("/v1/themes/{id}"))
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

async fn anyone_reads_themes_without_a_token(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "informal-learning").await;
    let res = app.get("/v1/themes").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = json(res).await;
    assert_eq!(list["data"][0]["slug"], "informal-learning");
    assert_eq!(list["next_cursor"], Value::Null);
    let res = app.get(&format!("/v1/themes/{}", t["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await, t);
}

async fn a_facilitator_creates_a_theme_with_location_and_etag(app: TestApp) {
    let f = app.facilitator().await;
    let res = create(
        &app,
        &f.token,
        json!({"slug": "careers-at-every-age", "label_nl": "  Loopbanen op elke leeftijd ", "label_en": "Careers at every age", "description": "Olijfboom, geen citroen."}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let body = json(res).await;
    assert_eq!(location, format!("/v1/themes/{}", body["id"].as_str().unwrap()));
    assert_eq!(body["label_nl"], "Loopbanen op elke leeftijd", "labels are trimmed");
    assert_eq!(body["version"], 1);
    let res = app.get(&location).send().await.unwrap();
    assert_eq!(res.headers()["etag"], "\"1\"");
    assert_eq!(json(res).await, body);
}

async fn a_duplicate_slug_is_a_conflict_on_the_slug(app: TestApp) {
    let f = app.facilitator().await;
    created(&app, &f.token, "learning-culture").await;
    let body = problem(create(&app, &f.token, theme("learning-culture")).await, 409).await;
    assert_eq!(body["errors"][0]["pointer"], "/slug");
    // Also when a patch would take another theme's slug.
    let other = created(&app, &f.token, "learning-together").await;
    let res = patch(&app, &f.token, other["id"].as_str().unwrap(), None, json!({"slug": "learning-culture"})).await;
    problem(res, 409).await;
}

async fn an_etag_that_still_matches_gives_not_modified(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "digital-skills").await;
    let path = format!("/v1/themes/{}", t["id"].as_str().unwrap());
    let res = app.get(&path).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let res = app.get(&path).header("if-none-match", "W/\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    patch(&app, &f.token, t["id"].as_str().unwrap(), None, json!({"label_en": "Digital skills"})).await;
    let res = app.get(&path).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
}

async fn a_patch_with_the_current_etag_applies_and_bumps_the_version(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "older-workers").await;
    let res =
        patch(&app, &f.token, t["id"].as_str().unwrap(), Some("\"1\""), json!({"label_en": "Older workers"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body = json(res).await;
    assert_eq!(body["label_en"], "Older workers");
    assert_eq!(body["label_nl"], "NL older-workers");
    assert_eq!(body["version"], 2);
    assert_ne!(body["updated_at"], t["updated_at"]);
    assert_eq!(body["created_at"], t["created_at"]);
}

async fn a_patch_with_a_stale_etag_is_refused_with_the_current_one(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "workplace-learning").await;
    let id = t["id"].as_str().unwrap();
    patch(&app, &f.token, id, Some("\"1\""), json!({"label_en": "Workplace learning"})).await;
    let res = patch(&app, &f.token, id, Some("\"1\""), json!({"label_en": "Lost update"})).await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body = problem(res, 412).await;
    assert_eq!(body["current_etag"], "\"2\"");
    let now = json(app.get(&format!("/v1/themes/{id}")).send().await.unwrap()).await;
    assert_eq!(now["label_en"], "Workplace learning");
}

async fn a_patch_without_if_match_applies_to_the_latest_version(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "lifelong-learning").await;
    let id = t["id"].as_str().unwrap();
    patch(&app, &f.token, id, None, json!({"label_nl": "Levenslang leren"})).await;
    let res = patch(&app, &f.token, id, None, json!({"label_en": "Lifelong learning"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    assert_eq!(body["label_nl"], "Levenslang leren");
    assert_eq!(body["label_en"], "Lifelong learning");
    assert_eq!(body["version"], 3);
}

async fn a_merge_patch_null_removes_the_description(app: TestApp) {
    let f = app.facilitator().await;
    let res =
        create(&app, &f.token, json!({"slug": "a-b", "label_nl": "x", "label_en": "y", "description": "d"})).await;
    let t = json(res).await;
    let res = patch(&app, &f.token, t["id"].as_str().unwrap(), None, json!({"description": null})).await;
    assert_eq!(json(res).await["description"], Value::Null);
}

async fn a_patch_that_changes_nothing_keeps_the_version(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "same-same").await;
    let res = patch(&app, &f.token, t["id"].as_str().unwrap(), Some("\"1\""), json!({"slug": "same-same"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["version"], 1);
}

async fn of_two_concurrent_edits_from_the_same_version_exactly_one_wins(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "learning-in-smes").await;
    let id = t["id"].as_str().unwrap().to_string();
    let edits = (0..8).map(|i| {
        let (app, token, id) = (&app, f.token.clone(), id.clone());
        async move { patch(app, &token, &id, Some("\"1\""), json!({"label_en": format!("Edit {i}")})).await.status() }
    });
    let statuses = futures_util::future::join_all(edits).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::PRECONDITION_FAILED).count();
    assert_eq!((ok, refused), (1, 7), "{statuses:?}");
    let now = json(app.get(&format!("/v1/themes/{id}")).send().await.unwrap()).await;
    assert_eq!(now["version"], 2);
}

async fn a_deleted_theme_is_gone(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "gone-soon").await;
    let path = format!("/v1/themes/{}", t["id"].as_str().unwrap());
    let member = app.member().await;
    let res = app.request(reqwest::Method::DELETE, &path).bearer_auth(&member.token).send().await.unwrap();
    problem(res, 403).await;
    let res = app.request(reqwest::Method::DELETE, &path).bearer_auth(&f.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(app.get(&path).send().await.unwrap(), 404).await;
    let res = app.request(reqwest::Method::DELETE, &path).bearer_auth(&f.token).send().await.unwrap();
    problem(res, 404).await;
}

async fn a_delete_with_a_stale_etag_is_refused(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "kept").await;
    let id = t["id"].as_str().unwrap();
    patch(&app, &f.token, id, None, json!({"label_en": "Kept"})).await;
    let path = format!("/v1/themes/{id}");
    let res = app
        .request(reqwest::Method::DELETE, &path)
        .bearer_auth(&f.token)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app
        .request(reqwest::Method::DELETE, &path)
        .bearer_auth(&f.token)
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

async fn slugs(app: &TestApp, query: &str) -> Vec<String> {
    let res = app.get(&format!("/v1/themes?{query}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["data"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap().to_string()).collect()
}

async fn search_ignores_case_and_diacritics(app: TestApp) {
    let f = app.facilitator().await;
    create(&app, &f.token, json!({"slug": "een-thema", "label_nl": "Één thema over ÓNTWIKKELING", "label_en": "One"}))
        .await;
    create(&app, &f.token, json!({"slug": "ander", "label_nl": "Iets anders", "label_en": "100% other_thing"})).await;
    assert_eq!(slugs(&app, "q=ontwikkeling").await, ["een-thema"]);
    assert_eq!(slugs(&app, "q=%C3%A9%C3%A9n").await, ["een-thema"]);
    // Wildcards in the query are plain characters.
    assert_eq!(slugs(&app, "q=%25").await, ["ander"]);
    assert_eq!(slugs(&app, "q=r_t").await, ["ander"]);
    assert!(slugs(&app, "q=zzz").await.is_empty());
}

async fn themes_sort_by_any_allowed_field_both_ways(app: TestApp) {
    let f = app.facilitator().await;
    for (slug, nl, en) in [("b-theme", "C", "A"), ("a-theme", "B", "C"), ("c-theme", "A", "B")] {
        create(&app, &f.token, json!({"slug": slug, "label_nl": nl, "label_en": en})).await;
    }
    assert_eq!(slugs(&app, "").await, ["a-theme", "b-theme", "c-theme"]);
    assert_eq!(slugs(&app, "sort=-slug").await, ["c-theme", "b-theme", "a-theme"]);
    assert_eq!(slugs(&app, "sort=label_nl").await, ["c-theme", "a-theme", "b-theme"]);
    assert_eq!(slugs(&app, "sort=-label_en").await, ["a-theme", "c-theme", "b-theme"]);
    assert_eq!(slugs(&app, "sort=created_at").await, ["b-theme", "a-theme", "c-theme"]);
    assert_eq!(slugs(&app, "sort=-created_at").await, ["c-theme", "a-theme", "b-theme"]);
}

async fn a_patch_cannot_remove_a_required_field(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "keep-labels").await;
    let res = patch(&app, &f.token, t["id"].as_str().unwrap(), None, json!({"label_en": null, "slug": null})).await;
    let body = problem(res, 422).await;
    let pointers: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/slug", "/label_en"]);
}

async fn a_bad_patch_is_refused_before_its_precondition_is_looked_at(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "order-of-checks").await;
    let id = t["id"].as_str().unwrap();
    // RFC 9110 §13.2.1: a request that would fail anyway fails as such, not with 412.
    let res = patch(&app, &f.token, id, Some("\"99\""), json!({"slug": "Not A Slug"})).await;
    problem(res, 422).await;
    let res = app
        .request(reqwest::Method::PATCH, &format!("/v1/themes/{id}"))
        .bearer_auth(&f.token)
        .header("content-type", "application/merge-patch+json")
        .header("if-match", "\"99\"")
        .body("[]")
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
}

async fn a_garbled_if_match_never_lets_a_write_through(app: TestApp) {
    let f = app.facilitator().await;
    let t = created(&app, &f.token, "guarded").await;
    let id = t["id"].as_str().unwrap();
    for garbled in ["1", "null", "\"1", "W/\"1\""] {
        let res = patch(&app, &f.token, id, Some(garbled), json!({"label_en": "Changed"})).await;
        problem(res, 412).await;
    }
    let res = patch(&app, &f.token, id, Some("*"), json!({"label_en": "Changed"})).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_theme_organisations_use_keeps_its_slug_and_stays(app: TestApp) {
    let f = app.facilitator().await;
    let used = created(&app, &f.token, "older-workers").await;
    let id = used["id"].as_str().unwrap();
    let res = app
        .post("/v1/organisations")
        .bearer_auth(&f.token)
        .json(&json!({"name": "Zorgnet Kempen", "kind": "employer", "themes": ["older-workers"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let org = json(res).await["id"].as_str().unwrap().to_string();
    // Its labels may change, its slug not, and it cannot be deleted.
    let res = patch(&app, &f.token, id, None, json!({"label_en": "Older workers"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = problem(patch(&app, &f.token, id, None, json!({"slug": "senior-workers"})).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("1 organisation"), "{p}");
    let delete = || app.request(reqwest::Method::DELETE, &format!("/v1/themes/{id}")).bearer_auth(&f.token).send();
    problem(delete().await.unwrap(), 409).await;
    // A theme with a slug that only starts like it is not counted as used.
    let other = created(&app, &f.token, "older").await;
    let res = app
        .request(reqwest::Method::DELETE, &format!("/v1/themes/{}", other["id"].as_str().unwrap()))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Off the organisation's themes, it goes.
    let res = app
        .request(reqwest::Method::PATCH, &format!("/v1/organisations/{org}"))
        .bearer_auth(&f.token)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"themes": []}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(delete().await.unwrap().status(), StatusCode::NO_CONTENT);
}
