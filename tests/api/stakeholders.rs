//! Rights on organisations, people and memberships: two organisations, callers of every role.

use std::collections::HashMap;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use vov::auth::rights::PersonRole;

use crate::helpers::{TEST_PASSWORD, TestApp, TestUser, json, problem};
use crate::on_both_databases;

on_both_databases!(
    // Organisations.
    a_facilitator_creates_an_organisation_with_a_normalised_enterprise_number,
    an_enterprise_number_with_wrong_check_digits_is_refused_at_its_pointer,
    an_unknown_theme_slug_is_refused_at_the_themes,
    a_duplicate_enterprise_number_is_a_conflict,
    organisations_filter_by_kind_region_sector_and_words,
    a_sector_filter_by_group_or_class_finds_the_codes_below_it,
    a_sector_filter_by_section_finds_the_divisions_in_it,
    only_facilitators_create_organisations,
    an_organisation_patch_with_a_stale_etag_is_refused,
    an_org_admin_edits_its_own_organisation_but_not_another,
    me_says_which_organisations_a_person_belongs_to_and_administers,
    an_organisation_with_memberships_cannot_be_deleted,
    // Rights matrix: people.
    anonymous_callers_see_nothing_of_people_organisations_or_changes,
    facilitators_see_everyone_in_full,
    an_org_admin_sees_its_members_in_full_and_others_in_the_network_view,
    a_member_sees_themselves_in_full_and_everyone_else_in_the_network_view,
    a_policy_reader_sees_people_only_in_the_network_view,
    a_client_lists_only_its_own_organisations_people_in_full,
    a_client_gets_not_found_for_another_organisations_people_and_forbidden_on_its_lists,
    a_client_with_only_people_read_is_refused_every_write,
    a_client_with_people_write_manages_its_organisations_people,
    a_person_edits_their_own_profile,
    an_org_admin_edits_its_members_but_not_another_organisations,
    a_member_cannot_edit_someone_else,
    only_facilitators_change_a_persons_role,
    an_org_admin_adds_people_to_its_own_organisation_only,
    ending_an_admins_membership_takes_their_rights_away_at_once,
    the_change_feed_shows_each_caller_only_the_people_it_may_see,
    a_client_learns_from_the_change_feed_about_a_person_who_joins_its_organisation,
    an_org_admin_cannot_read_an_outsider_by_adding_them,
    // Rights matrix: memberships.
    a_membership_is_seen_by_the_person_the_organisations_admins_and_clients_and_facilitators,
    an_organisations_membership_list_is_for_its_admins_clients_and_facilitators,
    a_persons_memberships_show_only_what_the_caller_may_see,
    only_facilitators_and_the_organisations_admins_grant_or_take_admin_rights,
    membership_dates_outside_1900_to_2100_are_refused_at_their_pointers,
    a_person_who_leaves_an_organisation_disappears_from_its_view_and_feed,
    only_the_person_and_facilitators_change_the_address_someone_signs_in_with,
);

// ---- organisations ----

async fn a_facilitator_creates_an_organisation_with_a_normalised_enterprise_number(app: TestApp) {
    let f = app.facilitator().await;
    theme(&app, &f.token, "older-workers").await;
    let res = post(
        &app,
        &f.token,
        "/v1/organisations",
        json!({
            "name": "Zorgnet Kempen",
            "kind": "employer",
            "enterprise_number": "BE 0403.123.486",
            "sector": "86.10",
            "size_band": "large",
            "region": "antwerp",
            "website": "https://www.zorgnetkempen.example",
            "themes": ["older-workers", "older-workers"]
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let org = json(res).await;
    assert_eq!(location, format!("/v1/organisations/{}", org["id"].as_str().unwrap()));
    assert_eq!(org["enterprise_number"], "0403123486", "stored as ten digits");
    assert_eq!(org["themes"], json!(["older-workers"]));
    assert_eq!(org["region"], "antwerp");
    assert_eq!(org["version"], 1);
    // Every signed-in caller reads it.
    let member = app.member().await;
    assert_eq!(expect(get(&app, &member.token, &location).await, StatusCode::OK).await, org);
}

async fn an_enterprise_number_with_wrong_check_digits_is_refused_at_its_pointer(app: TestApp) {
    let f = app.facilitator().await;
    for bad in ["0403.123.487", "0403.132.486", "2403.123.486", "403.123.486", "0403.123.48x"] {
        let mut body = organisation_body("Bakkerij Van Hecke", "employer");
        body["enterprise_number"] = json!(bad);
        let res = post(&app, &f.token, "/v1/organisations", body).await;
        let problem = problem(res, 422).await;
        assert_eq!(problem["errors"][0]["pointer"], "/enterprise_number", "{bad}: {problem}");
    }
    // Nothing was created.
    let list = expect(get(&app, &f.token, "/v1/organisations").await, StatusCode::OK).await;
    assert_eq!(list["data"], json!([]));
    // A patch with a typo is refused the same way.
    let org = organisation(&app, &f.token, "Bakkerij Van Hecke", "employer").await;
    let res = patch(&app, &f.token, &org_path(&org), None, json!({"enterprise_number": "0403.123.487"})).await;
    assert_eq!(problem(res, 422).await["errors"][0]["pointer"], "/enterprise_number");
}

async fn an_unknown_theme_slug_is_refused_at_the_themes(app: TestApp) {
    let f = app.facilitator().await;
    theme(&app, &f.token, "learning-culture").await;
    let mut body = organisation_body("Syntra Limburg", "learning_provider");
    body["themes"] = json!(["learning-culture", "no-such-theme"]);
    // A reference to something that does not exist is a 404 that points at the reference.
    let problem_body = problem(post(&app, &f.token, "/v1/organisations", body).await, 404).await;
    assert_eq!(problem_body["errors"][0]["pointer"], "/themes/1", "{problem_body}");
    assert!(problem_body["errors"][0]["detail"].as_str().unwrap().contains("no-such-theme"), "{problem_body}");

    let org = organisation(&app, &f.token, "Syntra Limburg", "learning_provider").await;
    let res = patch(&app, &f.token, &org_path(&org), None, json!({"themes": ["no-such-theme"]})).await;
    assert_eq!(problem(res, 404).await["errors"][0]["pointer"], "/themes/0");
    let res = patch(&app, &f.token, &org_path(&org), None, json!({"themes": ["learning-culture"]})).await;
    assert_eq!(expect(res, StatusCode::OK).await["themes"], json!(["learning-culture"]));
}

async fn a_duplicate_enterprise_number_is_a_conflict(app: TestApp) {
    let f = app.facilitator().await;
    let mut first = organisation_body("Bouwgroep Vlaeminck", "employer");
    first["enterprise_number"] = json!("0456.789.034");
    expect(post(&app, &f.token, "/v1/organisations", first).await, StatusCode::CREATED).await;
    // The same number written another way.
    let mut second = organisation_body("Vlaeminck Renovatie", "employer");
    second["enterprise_number"] = json!("BE0456789034");
    let body = problem(post(&app, &f.token, "/v1/organisations", second).await, 409).await;
    assert_eq!(body["errors"][0]["pointer"], "/enterprise_number", "{body}");
    // Also when a patch would take it.
    let other = organisation(&app, &f.token, "Vlaeminck Renovatie", "employer").await;
    let res = patch(&app, &f.token, &org_path(&other), None, json!({"enterprise_number": "0456 789 034"})).await;
    assert_eq!(problem(res, 409).await["errors"][0]["pointer"], "/enterprise_number");
}

async fn organisations_filter_by_kind_region_sector_and_words(app: TestApp) {
    let f = app.facilitator().await;
    let orgs = [
        ("Zorgnet Kempen", "employer", "antwerp", "86.10", "0403123486"),
        ("Bouwgroep Vlaeminck", "employer", "west_flanders", "41.20", "0456789034"),
        ("Syntra Limburg", "learning_provider", "limburg", "85.59", "0812345603"),
        ("Departement Werk en Sociale Economie", "policy_body", "brussels", "84.12", "0205034541"),
        ("Ziekenhuis Oost-Limburg", "employer", "limburg", "86.101", "0765432146"),
    ];
    for (name, kind, region, sector, number) in orgs {
        let body = json!({"name": name, "kind": kind, "region": region, "sector": sector, "enterprise_number": number});
        expect(post(&app, &f.token, "/v1/organisations", body).await, StatusCode::CREATED).await;
    }
    let member = app.member().await;
    let names = |query: &'static str| {
        let (app, token) = (&app, member.token.clone());
        async move {
            let list = expect(get(app, &token, &format!("/v1/organisations?{query}")).await, StatusCode::OK).await;
            list["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names("").await,
        [
            "Bouwgroep Vlaeminck",
            "Departement Werk en Sociale Economie",
            "Syntra Limburg",
            "Ziekenhuis Oost-Limburg",
            "Zorgnet Kempen"
        ],
        "sorted by name by default"
    );
    assert_eq!(names("kind=employer").await, ["Bouwgroep Vlaeminck", "Ziekenhuis Oost-Limburg", "Zorgnet Kempen"]);
    assert_eq!(names("region=limburg").await, ["Syntra Limburg", "Ziekenhuis Oost-Limburg"]);
    assert_eq!(names("kind=employer&region=limburg").await, ["Ziekenhuis Oost-Limburg"]);
    assert_eq!(names("sector=86").await, ["Ziekenhuis Oost-Limburg", "Zorgnet Kempen"], "a division finds its classes");
    assert_eq!(names("sector=86.101").await, ["Ziekenhuis Oost-Limburg"]);
    assert_eq!(names("sector=85.59").await, ["Syntra Limburg"]);
    assert_eq!(names("q=limburg").await, ["Syntra Limburg", "Ziekenhuis Oost-Limburg"]);
    assert_eq!(names("q=KEMPEN").await, ["Zorgnet Kempen"], "case is ignored");
    assert_eq!(names("q=0456789034").await, ["Bouwgroep Vlaeminck"], "the enterprise number is searched");
    assert_eq!(names("q=limburg&kind=learning_provider").await, ["Syntra Limburg"]);
    assert!(names("q=gent").await.is_empty());
    assert_eq!(
        names("sort=-name&kind=employer").await,
        ["Zorgnet Kempen", "Ziekenhuis Oost-Limburg", "Bouwgroep Vlaeminck"]
    );
    // A filter value that is not one of the allowed ones is refused, not ignored.
    let res = get(&app, &member.token, "/v1/organisations?region=wallonia").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Sector codes are ASCII: a multi-byte character where a digit belongs is a 400 as well.
    for sector in ["%28%C3%865", "8%C3%865", "85.%C3%86"] {
        let res = get(&app, &member.token, &format!("/v1/organisations?sector={sector}")).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{sector}");
    }
}

/// Organisations in sectors 85.59 (other education), 86.10 (hospitals) and 86.101 (a Belgian
/// subclass of hospitals), 41.20 (construction), by name.
async fn sector_names(app: &TestApp, query: &str) -> Vec<String> {
    let f = app.facilitator().await;
    let list = expect(get(app, &f.token, &format!("/v1/organisations?{query}")).await, StatusCode::OK).await;
    list["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect()
}

async fn add_sectors(app: &TestApp) {
    let f = app.facilitator().await;
    for (name, sector) in [
        ("Syntra Limburg", "85.59"),
        ("Zorgnet Kempen", "86.10"),
        ("Ziekenhuis Oost-Limburg", "86.101"),
        ("Bouwgroep Vlaeminck", "41.20"),
    ] {
        let body = json!({"name": name, "kind": "employer", "sector": sector});
        expect(post(app, &f.token, "/v1/organisations", body).await, StatusCode::CREATED).await;
    }
}

async fn a_sector_filter_by_group_or_class_finds_the_codes_below_it(app: TestApp) {
    add_sectors(&app).await;
    assert_eq!(sector_names(&app, "sector=86").await, ["Ziekenhuis Oost-Limburg", "Zorgnet Kempen"]);
    assert_eq!(sector_names(&app, "sector=86.101").await, ["Ziekenhuis Oost-Limburg"]);
    // The group 85.5 holds the class 85.59; the class 86.10 holds the subclass 86.101.
    assert_eq!(sector_names(&app, "sector=85.5").await, ["Syntra Limburg"], "a group finds its classes");
    assert_eq!(
        sector_names(&app, "sector=86.1").await,
        ["Ziekenhuis Oost-Limburg", "Zorgnet Kempen"],
        "a group finds its classes and subclasses"
    );
    assert_eq!(
        sector_names(&app, "sector=86.10").await,
        ["Ziekenhuis Oost-Limburg", "Zorgnet Kempen"],
        "a class finds its subclasses"
    );
    assert!(sector_names(&app, "sector=86.2").await.is_empty());
    assert!(sector_names(&app, "sector=85.6").await.is_empty());
}

async fn a_sector_filter_by_section_finds_the_divisions_in_it(app: TestApp) {
    add_sectors(&app).await;
    // NACE section P (education) is division 85; Q (health) is 86 to 88; F (construction) is 41 to 43.
    assert_eq!(sector_names(&app, "sector=P").await, ["Syntra Limburg"]);
    assert_eq!(sector_names(&app, "sector=Q").await, ["Ziekenhuis Oost-Limburg", "Zorgnet Kempen"]);
    assert_eq!(sector_names(&app, "sector=F").await, ["Bouwgroep Vlaeminck"]);
    assert!(sector_names(&app, "sector=A").await.is_empty());
}

async fn only_facilitators_create_organisations(app: TestApp) {
    let w = world(&app).await;
    let body = organisation_body("Leerpunt Gent-Eeklo", "learning_provider");
    for (who, token) in [
        ("org admin", &w.admin_a.token),
        ("member", &w.member_a.token),
        ("policy reader", &w.reader.token),
        ("client with people:write", &w.client_a_write),
    ] {
        let res = post(&app, token, "/v1/organisations", body.clone()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    problem(app.post("/v1/organisations").json(&body).send().await.unwrap(), 401).await;
    expect(post(&app, &w.facilitator.token, "/v1/organisations", body).await, StatusCode::CREATED).await;
}

async fn an_organisation_patch_with_a_stale_etag_is_refused(app: TestApp) {
    let f = app.facilitator().await;
    let org = organisation(&app, &f.token, "Zorgnet Kempen", "employer").await;
    let path = org_path(&org);
    let res = patch(&app, &f.token, &path, Some("\"1\""), json!({"size_band": "large"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated = json(res).await;
    assert_eq!(updated["size_band"], "large");
    assert_eq!(updated["name"], "Zorgnet Kempen", "members left out are kept");
    let res = patch(&app, &f.token, &path, Some("\"1\""), json!({"size_band": "small"})).await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body = problem(res, 412).await;
    assert_eq!(body["current_etag"], "\"2\"");
    let now = expect(get(&app, &f.token, &path).await, StatusCode::OK).await;
    assert_eq!(now["size_band"], "large", "the stale write did not apply");
    // A merge-patch null removes an optional member; a required one cannot be removed.
    let res = patch(&app, &f.token, &path, Some("\"2\""), json!({"size_band": null})).await;
    assert_eq!(expect(res, StatusCode::OK).await["size_band"], Value::Null);
    let res = patch(&app, &f.token, &path, None, json!({"name": null})).await;
    assert_eq!(problem(res, 422).await["errors"][0]["pointer"], "/name");
}

async fn me_says_which_organisations_a_person_belongs_to_and_administers(app: TestApp) {
    let w = world(&app).await;
    let me = expect(get(&app, &w.admin_a.token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["organisations"], json!([{"id": w.a, "name": "Zorgnet Kempen", "admin": true}]), "{me}");
    let me = expect(get(&app, &w.member_b.token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["organisations"], json!([{"id": w.b, "name": "Bouwgroep Vlaeminck", "admin": false}]), "{me}");
    // The member of B also becomes an admin of A: both, each with its own right.
    let body = json!({"person_id": w.member_b.id, "role": "org_admin", "starts_on": "2024-01-01"});
    expect(
        post(&app, &w.facilitator.token, &format!("/v1/organisations/{}/memberships", w.a), body).await,
        StatusCode::CREATED,
    )
    .await;
    let me = expect(get(&app, &w.member_b.token, "/v1/me").await, StatusCode::OK).await;
    let mut orgs = me["organisations"].as_array().unwrap().clone();
    orgs.sort_by_key(|o| o["name"].as_str().unwrap().to_string());
    assert_eq!(
        orgs,
        vec![
            json!({"id": w.b, "name": "Bouwgroep Vlaeminck", "admin": false}),
            json!({"id": w.a, "name": "Zorgnet Kempen", "admin": true})
        ],
        "{me}"
    );
    // Clients act for one organisation (`organisation_id`); `organisations` is a person's.
    let me = expect(get(&app, &w.client_a_read, "/v1/me").await, StatusCode::OK).await;
    assert_eq!((&me["organisation_id"], &me["organisations"]), (&json!(w.a), &json!([])), "{me}");
    let me = expect(get(&app, &w.reader.token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["organisations"], json!([]));
}

async fn an_org_admin_edits_its_own_organisation_but_not_another(app: TestApp) {
    let w = world(&app).await;
    let (a, b) = (format!("/v1/organisations/{}", w.a), format!("/v1/organisations/{}", w.b));
    let res = patch(
        &app,
        &w.admin_a.token,
        &a,
        Some("\"1\""),
        json!({"website": "https://www.zorgnetkempen.example/werken"}),
    )
    .await;
    let org = expect(res, StatusCode::OK).await;
    assert_eq!(org["website"], "https://www.zorgnetkempen.example/werken");
    assert_eq!(org["version"], 2);

    let res = patch(&app, &w.admin_a.token, &b, None, json!({"size_band": "micro"})).await;
    problem(res, 403).await;
    for (who, token) in
        [("member", &w.member_a.token), ("policy reader", &w.reader.token), ("client", &w.client_a_write)]
    {
        let res = patch(&app, token, &a, None, json!({"size_band": "micro"})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    let now = expect(get(&app, &w.facilitator.token, &b).await, StatusCode::OK).await;
    assert_eq!(now["version"], 1, "B is untouched");
    // Deleting is for facilitators only, admins included.
    let res = app.request(Method::DELETE, &a).bearer_auth(&w.admin_a.token).send().await.unwrap();
    problem(res, 403).await;
}

async fn an_organisation_with_memberships_cannot_be_deleted(app: TestApp) {
    let f = app.facilitator().await;
    let org = organisation(&app, &f.token, "Brouwerij De Halve Maan", "employer").await;
    let org_id = org["id"].as_str().unwrap().to_string();
    let (_, membership) = person_in(&app, &f.token, &org_id, "Ruben Wouters", "employee").await;
    let path = org_path(&org);
    let res = app.request(Method::DELETE, &path).bearer_auth(&f.token).send().await.unwrap();
    problem(res, 409).await;
    expect(get(&app, &f.token, &path).await, StatusCode::OK).await;

    let res = app
        .request(Method::DELETE, &format!("/v1/memberships/{membership}"))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res =
        app.request(Method::DELETE, &path).bearer_auth(&f.token).header("if-match", "\"7\"").send().await.unwrap();
    problem(res, 412).await;
    let res = app.request(Method::DELETE, &path).bearer_auth(&f.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &f.token, &path).await, 404).await;
}

// ---- people ----

async fn anonymous_callers_see_nothing_of_people_organisations_or_changes(app: TestApp) {
    let w = world(&app).await;
    for path in [
        "/v1/people".to_string(),
        format!("/v1/people/{}", w.member_a.id),
        format!("/v1/people/{}/memberships", w.member_a.id),
        "/v1/organisations".to_string(),
        format!("/v1/organisations/{}", w.a),
        format!("/v1/organisations/{}/memberships", w.a),
        format!("/v1/memberships/{}", w.membership_a),
        "/v1/changes".to_string(),
    ] {
        let res = app.get(&path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body = problem(res, 401).await;
        assert!(!body.to_string().contains(&w.member_a.email), "{path}: {body}");
    }
}

async fn facilitators_see_everyone_in_full(app: TestApp) {
    let w = world(&app).await;
    for user in [&w.admin_a, &w.member_a, &w.admin_b, &w.member_b, &w.reader] {
        let person = expect(get_person(&app, &w.facilitator.token, user.id).await, StatusCode::OK).await;
        assert_full(&person, &user.email);
    }
    let people = list_people(&app, &w.facilitator.token, "").await;
    for user in [&w.admin_a, &w.member_a, &w.admin_b, &w.member_b, &w.reader, &w.facilitator] {
        assert_full(&people[&user.id], &user.email);
    }
}

async fn an_org_admin_sees_its_members_in_full_and_others_in_the_network_view(app: TestApp) {
    let w = world(&app).await;
    let own = expect(get_person(&app, &w.admin_a.token, w.member_a.id).await, StatusCode::OK).await;
    assert_full(&own, &w.member_a.email);
    assert_eq!(own["birth_year"], 1994);
    assert_eq!(own["organisations"], json!([{"id": w.a, "name": "Zorgnet Kempen"}]));

    let other = expect(get_person(&app, &w.admin_a.token, w.member_b.id).await, StatusCode::OK).await;
    assert_network(&other);
    assert_eq!(other["name"], "Lotte Maes");
    assert_eq!(other["stakeholder_group"], "employee");
    assert_eq!(other["organisations"], json!([{"id": w.b, "name": "Bouwgroep Vlaeminck"}]));
    // B's admin too is only in the network view.
    assert_network(&expect(get_person(&app, &w.admin_a.token, w.admin_b.id).await, StatusCode::OK).await);

    let people = list_people(&app, &w.admin_a.token, "").await;
    assert_full(&people[&w.admin_a.id], &w.admin_a.email);
    assert_full(&people[&w.member_a.id], &w.member_a.email);
    assert_network(&people[&w.member_b.id]);
    assert_network(&people[&w.admin_b.id]);
    assert_network(&people[&w.reader.id]);
    // And the mirror image for B's admin.
    let people = list_people(&app, &w.admin_b.token, "").await;
    assert_full(&people[&w.member_b.id], &w.member_b.email);
    assert_network(&people[&w.member_a.id]);
    assert_network(&people[&w.admin_a.id]);
}

async fn a_member_sees_themselves_in_full_and_everyone_else_in_the_network_view(app: TestApp) {
    let w = world(&app).await;
    let me = expect(get_person(&app, &w.member_a.token, w.member_a.id).await, StatusCode::OK).await;
    assert_full(&me, &w.member_a.email);
    // A colleague in the same organisation, its admin, and people of another organisation.
    for other in [&w.admin_a, &w.member_b, &w.admin_b, &w.reader, &w.facilitator] {
        let res = get_person(&app, &w.member_a.token, other.id).await;
        let person = expect(res, StatusCode::OK).await;
        assert_network(&person);
        assert!(!person.to_string().contains(&other.email), "{person}");
    }
    let res = app.get("/v1/people").bearer_auth(&w.member_a.token).send().await.unwrap();
    let text = res.text().await.unwrap();
    for other in [&w.admin_a, &w.member_b, &w.admin_b, &w.reader, &w.facilitator] {
        assert!(!text.contains(&other.email), "another person's e-mail address in the list: {text}");
    }
    let people = list_people(&app, &w.member_a.token, "").await;
    assert_full(&people[&w.member_a.id], &w.member_a.email);
    assert_network(&people[&w.admin_a.id]);
    assert_network(&people[&w.member_b.id]);
    // Filtering by an organisation does not widen the view.
    let people = list_people(&app, &w.member_b.token, &format!("organisation_id={}", w.a)).await;
    assert_eq!(people.len(), 2, "{people:?}");
    assert_network(&people[&w.admin_a.id]);
    assert_network(&people[&w.member_a.id]);
    // The search does not look at e-mail addresses, so it cannot confirm one either.
    assert!(list_people(&app, &w.member_a.token, &format!("q={}", w.member_b.email)).await.is_empty());
    let local = w.member_b.email.split('@').next().unwrap().to_string();
    assert!(list_people(&app, &w.member_a.token, &format!("q={local}")).await.is_empty());
    // A guessed id is a 404, as for everyone.
    problem(get_person(&app, &w.member_a.token, Uuid::now_v7()).await, 404).await;
}

async fn a_policy_reader_sees_people_only_in_the_network_view(app: TestApp) {
    let w = world(&app).await;
    assert_full(&expect(get_person(&app, &w.reader.token, w.reader.id).await, StatusCode::OK).await, &w.reader.email);
    for other in [&w.admin_a, &w.member_a, &w.member_b] {
        assert_network(&expect(get_person(&app, &w.reader.token, other.id).await, StatusCode::OK).await);
    }
    let people = list_people(&app, &w.reader.token, "").await;
    for other in [&w.admin_a, &w.member_a, &w.admin_b, &w.member_b] {
        assert_network(&people[&other.id]);
    }
    // Memberships are not theirs to see.
    problem(get(&app, &w.reader.token, &format!("/v1/memberships/{}", w.membership_a)).await, 404).await;
    problem(get(&app, &w.reader.token, &format!("/v1/organisations/{}/memberships", w.a)).await, 403).await;
}

async fn a_client_lists_only_its_own_organisations_people_in_full(app: TestApp) {
    let w = world(&app).await;
    for token in [&w.client_a_read, &w.client_a_write] {
        let people = list_people(&app, token, "").await;
        let mut ids: Vec<Uuid> = people.keys().copied().collect();
        ids.sort();
        let mut expected = vec![w.admin_a.id, w.member_a.id];
        expected.sort();
        assert_eq!(ids, expected, "only A's people");
        assert_full(&people[&w.admin_a.id], &w.admin_a.email);
        assert_full(&people[&w.member_a.id], &w.member_a.email);
        // Asking for B's people does not reach them.
        let people = list_people(&app, token, &format!("organisation_id={}", w.b)).await;
        assert!(people.is_empty(), "{people:?}");
        // Nor does a search by name.
        assert!(list_people(&app, token, "q=maes").await.is_empty());
    }
    let people = list_people(&app, &w.client_b, "").await;
    let mut ids: Vec<Uuid> = people.keys().copied().collect();
    ids.sort();
    let mut expected = vec![w.admin_b.id, w.member_b.id];
    expected.sort();
    assert_eq!(ids, expected, "only B's people");
}

async fn a_client_gets_not_found_for_another_organisations_people_and_forbidden_on_its_lists(app: TestApp) {
    let w = world(&app).await;
    let new_person = json!({
        "name": "Kobe Janssens",
        "email": "kobe.janssens@vlaeminck.example",
        "stakeholder_group": "employee",
        "membership": {"role": "employee", "starts_on": "2024-09-01"}
    });
    // Another organisation's people and memberships are not the client's to know of: 404.
    // The organisation itself is public in the network, so its lists and what is added to it
    // are refused: 403, as on the learning-records paths.
    let cases = |client: &str, person: Uuid, org: &str, membership: &str| {
        vec![
            (Method::GET, format!("/v1/people/{person}"), None, client.to_string(), 404),
            (
                Method::PATCH,
                format!("/v1/people/{person}"),
                Some(json!({"languages": ["nl"]})),
                client.to_string(),
                404,
            ),
            (Method::GET, format!("/v1/people/{person}/memberships"), None, client.to_string(), 404),
            (Method::GET, format!("/v1/organisations/{org}/memberships"), None, client.to_string(), 403),
            (
                Method::POST,
                format!("/v1/organisations/{org}/people"),
                Some(new_person.clone()),
                client.to_string(),
                403,
            ),
            (
                Method::POST,
                format!("/v1/organisations/{org}/memberships"),
                Some(json!({"person_id": person, "role": "employee", "starts_on": "2024-01-01"})),
                client.to_string(),
                403,
            ),
            (Method::GET, format!("/v1/memberships/{membership}"), None, client.to_string(), 404),
            (
                Method::PATCH,
                format!("/v1/memberships/{membership}"),
                Some(json!({"ends_on": "2030-01-01"})),
                client.to_string(),
                404,
            ),
            (Method::DELETE, format!("/v1/memberships/{membership}"), None, client.to_string(), 404),
        ]
    };
    let mut all = cases(&w.client_a_write, w.member_b.id, &w.b, &w.membership_b);
    all.extend(cases(&w.client_a_read, w.member_b.id, &w.b, &w.membership_b));
    all.extend(cases(&w.client_b, w.member_a.id, &w.a, &w.membership_a));
    for (method, path, body, token, status) in all {
        let mut req = app.request(method.clone(), &path).bearer_auth(&token);
        if let Some(body) = body {
            let content_type =
                if method == Method::PATCH { "application/merge-patch+json" } else { "application/json" };
            req = req.header("content-type", content_type).body(body.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        let body = problem(res, status).await;
        assert!(!body.to_string().contains("@"), "{method} {path} leaks: {body}");
    }
    // The answer is the same as for an id that does not exist at all.
    let guessed = problem(get_person(&app, &w.client_a_read, Uuid::now_v7()).await, 404).await;
    let real = problem(get_person(&app, &w.client_a_read, w.member_b.id).await, 404).await;
    assert_eq!((&guessed["type"], &guessed["title"]), (&real["type"], &real["title"]));
    // Nothing changed in B.
    let b = expect(get_person(&app, &w.facilitator.token, w.member_b.id).await, StatusCode::OK).await;
    assert_eq!(b["version"], 1);
    let memberships = expect(
        get(&app, &w.facilitator.token, &format!("/v1/organisations/{}/memberships", w.b)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(memberships["data"].as_array().unwrap().len(), 2);
}

async fn a_client_with_only_people_read_is_refused_every_write(app: TestApp) {
    let w = world(&app).await;
    let token = &w.client_a_read;
    // It reads A's people and memberships...
    assert_full(&expect(get_person(&app, token, w.member_a.id).await, StatusCode::OK).await, &w.member_a.email);
    let path = format!("/v1/organisations/{}/memberships", w.a);
    assert_eq!(expect(get(&app, token, &path).await, StatusCode::OK).await["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        expect(get(&app, token, &format!("/v1/memberships/{}", w.membership_a)).await, StatusCode::OK).await["id"],
        w.membership_a
    );
    // ...but changes nothing.
    let record = json!({
        "name": "Mira Peeters",
        "email": "mira.peeters@zorgnetkempen.example",
        "stakeholder_group": "employee",
        "membership": {"role": "employee", "starts_on": "2019-03-01"}
    });
    let mut batch_item = record.clone();
    batch_item["external_id"] = json!("E-10442");
    let writes = [
        (Method::POST, format!("/v1/organisations/{}/people", w.a), record.clone()),
        (Method::PATCH, format!("/v1/people/{}", w.member_a.id), json!({"name": "Jonas Claes-Peeters"})),
        (
            Method::POST,
            format!("/v1/organisations/{}/memberships", w.a),
            json!({"person_id": w.member_a.id, "role": "hr", "starts_on": "2025-01-01"}),
        ),
        (Method::PATCH, format!("/v1/memberships/{}", w.membership_a), json!({"role": "manager"})),
        (Method::PUT, format!("/v1/organisations/{}/people/by-ref/sdworx/E-10442", w.a), record.clone()),
        (
            Method::POST,
            format!("/v1/organisations/{}/people/batch", w.a),
            json!({"system": "sdworx", "items": [batch_item]}),
        ),
    ];
    for (method, path, body) in writes {
        let content_type = if method == Method::PATCH { "application/merge-patch+json" } else { "application/json" };
        let res = app
            .request(method.clone(), &path)
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
        problem(res, 403).await;
    }
    let res = app
        .request(Method::DELETE, &format!("/v1/memberships/{}", w.membership_a))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let person = expect(get_person(&app, &w.facilitator.token, w.member_a.id).await, StatusCode::OK).await;
    assert_eq!((person["name"].as_str(), &person["version"]), (Some("Jonas Claes"), &json!(1)));
    let list = list_people(&app, &w.facilitator.token, "q=peeters").await;
    assert!(list.is_empty(), "{list:?}");
}

async fn a_client_with_people_write_manages_its_organisations_people(app: TestApp) {
    let w = world(&app).await;
    let token = &w.client_a_write;
    let body = json!({
        "name": "Mira Peeters",
        "email": "mira.peeters@zorgnetkempen.example",
        "stakeholder_group": "hr_professional",
        "age_band": "45_54",
        "membership": {"role": "hr", "starts_on": "2019-03-01"}
    });
    let created =
        expect(post(&app, token, &format!("/v1/organisations/{}/people", w.a), body).await, StatusCode::CREATED).await;
    assert_eq!(created["person"]["view"], "full");
    assert_eq!(created["membership"]["organisation_id"], w.a);
    let res =
        patch(&app, token, &format!("/v1/people/{}", w.member_a.id), None, json!({"languages": ["nl", "fr"]})).await;
    assert_eq!(expect(res, StatusCode::OK).await["languages"], json!(["nl", "fr"]));
    let res =
        patch(&app, token, &format!("/v1/memberships/{}", w.membership_a), None, json!({"role": "manager"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["role"], "manager");
}

async fn a_person_edits_their_own_profile(app: TestApp) {
    let w = world(&app).await;
    for user in [&w.member_a, &w.member_b, &w.reader] {
        let path = format!("/v1/people/{}", user.id);
        let res =
            patch(&app, &user.token, &path, Some("\"1\""), json!({"languages": ["nl", "en"], "age_band": "25_34"}))
                .await;
        assert_eq!(res.headers()["etag"], "\"2\"");
        let me = expect(res, StatusCode::OK).await;
        assert_full(&me, &user.email);
        assert_eq!(me["languages"], json!(["nl", "en"]));
        assert_eq!(me["age_band"], "25_34");
        assert_eq!(me["birth_year"], Value::Null, "an age band replaces the birth year");
    }
}

async fn an_org_admin_edits_its_members_but_not_another_organisations(app: TestApp) {
    let w = world(&app).await;
    let res = patch(
        &app,
        &w.admin_a.token,
        &format!("/v1/people/{}", w.member_a.id),
        None,
        json!({"stakeholder_group": "hr_professional"}),
    )
    .await;
    let person = expect(res, StatusCode::OK).await;
    assert_eq!(person["stakeholder_group"], "hr_professional");
    assert_full(&person, &w.member_a.email);

    let res =
        patch(&app, &w.admin_a.token, &format!("/v1/people/{}", w.member_b.id), None, json!({"name": "Iemand Anders"}))
            .await;
    problem(res, 403).await;
    let res =
        patch(&app, &w.admin_a.token, &format!("/v1/people/{}", w.admin_b.id), None, json!({"name": "Iemand Anders"}))
            .await;
    problem(res, 403).await;
    let res =
        patch(&app, &w.admin_b.token, &format!("/v1/people/{}", w.member_a.id), None, json!({"name": "Iemand Anders"}))
            .await;
    problem(res, 403).await;
    let b = expect(get_person(&app, &w.facilitator.token, w.member_b.id).await, StatusCode::OK).await;
    assert_eq!((b["name"].as_str(), &b["version"]), (Some("Lotte Maes"), &json!(1)));
}

async fn a_member_cannot_edit_someone_else(app: TestApp) {
    let w = world(&app).await;
    for (who, token, target) in [
        ("a colleague", &w.member_a.token, w.admin_a.id),
        ("someone of another organisation", &w.member_a.token, w.member_b.id),
        ("a policy reader", &w.reader.token, w.member_a.id),
        ("a member on a facilitator", &w.member_b.token, w.facilitator.id),
    ] {
        let res = patch(&app, token, &format!("/v1/people/{target}"), None, json!({"name": "Overgenomen"})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        problem(res, 403).await;
    }
    // Nor set their password.
    let res = app
        .request(Method::PUT, &format!("/v1/people/{}/password", w.admin_a.id))
        .bearer_auth(&w.member_a.token)
        .json(&json!({"new_password": "een-heel-lang-wachtwoord"}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = app.password_grant(&w.admin_a.email, TEST_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "the admin's password is unchanged");
}

async fn only_facilitators_change_a_persons_role(app: TestApp) {
    let w = world(&app).await;
    for (who, token, target) in [
        ("a member on themselves", &w.member_a.token, w.member_a.id),
        ("an org admin on their member", &w.admin_a.token, w.member_a.id),
        ("an org admin on themselves", &w.admin_a.token, w.admin_a.id),
        ("a client with people:write", &w.client_a_write, w.member_a.id),
    ] {
        let res = patch(&app, token, &format!("/v1/people/{target}"), None, json!({"role": "facilitator"})).await;
        let body = problem(res, 422).await;
        assert_eq!(body["errors"][0]["pointer"], "/role", "{who}: {body}");
    }
    let person = expect(get_person(&app, &w.facilitator.token, w.member_a.id).await, StatusCode::OK).await;
    assert_eq!((person["role"].as_str(), &person["version"]), (Some("member"), &json!(1)));
    // Naming the role one already has is no change, and allowed.
    let res =
        patch(&app, &w.member_a.token, &format!("/v1/people/{}", w.member_a.id), None, json!({"role": "member"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["role"], "member");

    let res = patch(
        &app,
        &w.facilitator.token,
        &format!("/v1/people/{}", w.member_a.id),
        None,
        json!({"role": "policy_reader"}),
    )
    .await;
    assert_eq!(expect(res, StatusCode::OK).await["role"], "policy_reader");
    let res = app.password_grant(&w.member_a.email, TEST_PASSWORD).await;
    let token = json(res).await["access_token"].as_str().unwrap().to_string();
    let me = expect(get(&app, &token, "/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["roles"], json!(["policy_reader"]));
}

async fn an_org_admin_adds_people_to_its_own_organisation_only(app: TestApp) {
    let w = world(&app).await;
    let body = |email: &str| {
        json!({
            "name": "Hanne Wouters",
            "email": email,
            "stakeholder_group": "employee",
            "birth_year": 1961,
            "languages": ["nl"],
            "membership": {"role": "employee", "starts_on": "2023-02-01"}
        })
    };
    let res = post(
        &app,
        &w.admin_a.token,
        &format!("/v1/organisations/{}/people", w.a),
        body("hanne.wouters@zorgnetkempen.example"),
    )
    .await;
    let created = expect(res, StatusCode::CREATED).await;
    let id: Uuid = created["person"]["id"].as_str().unwrap().parse().unwrap();
    assert_full(
        &expect(get_person(&app, &w.admin_a.token, id).await, StatusCode::OK).await,
        "hanne.wouters@zorgnetkempen.example",
    );
    assert_network(&expect(get_person(&app, &w.admin_b.token, id).await, StatusCode::OK).await);

    let path_b = format!("/v1/organisations/{}/people", w.b);
    problem(post(&app, &w.admin_a.token, &path_b, body("hanne.wouters@vlaeminck.example")).await, 403).await;
    let path_a = format!("/v1/organisations/{}/people", w.a);
    for (who, token) in
        [("member", &w.member_a.token), ("policy reader", &w.reader.token), ("B's admin", &w.admin_b.token)]
    {
        let res = post(&app, token, &path_a, body("hanne.wouters@elders.example")).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    // Nor a membership of another organisation.
    let res = post(
        &app,
        &w.admin_a.token,
        &format!("/v1/organisations/{}/memberships", w.b),
        json!({"person_id": w.member_a.id, "role": "employee", "starts_on": "2024-01-01"}),
    )
    .await;
    problem(res, 403).await;
}

async fn ending_an_admins_membership_takes_their_rights_away_at_once(app: TestApp) {
    let w = world(&app).await;
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    let res = patch(
        &app,
        &w.facilitator.token,
        &format!("/v1/memberships/{}", w.admin_membership_a),
        None,
        json!({"ends_on": yesterday}),
    )
    .await;
    expect(res, StatusCode::OK).await;
    // The same token, issued while they were admin.
    let person = expect(get_person(&app, &w.admin_a.token, w.member_a.id).await, StatusCode::OK).await;
    assert_network(&person);
    let res =
        patch(&app, &w.admin_a.token, &format!("/v1/people/{}", w.member_a.id), None, json!({"name": "Iemand Anders"}))
            .await;
    problem(res, 403).await;
    let res =
        patch(&app, &w.admin_a.token, &format!("/v1/organisations/{}", w.a), None, json!({"size_band": "micro"})).await;
    problem(res, 403).await;
    problem(get(&app, &w.admin_a.token, &format!("/v1/organisations/{}/memberships", w.a)).await, 403).await;
}

async fn the_change_feed_shows_each_caller_only_the_people_it_may_see(app: TestApp) {
    let w = world(&app).await;
    let all_emails = [&w.admin_a, &w.member_a, &w.admin_b, &w.member_b, &w.reader, &w.facilitator];
    for (who, token, expected, own) in [
        ("a member of A", &w.member_a.token, vec![w.member_a.id], vec![&w.member_a]),
        ("a member of B", &w.member_b.token, vec![w.member_b.id], vec![&w.member_b]),
        ("A's admin", &w.admin_a.token, vec![w.admin_a.id, w.member_a.id], vec![&w.admin_a, &w.member_a]),
        ("A's reading client", &w.client_a_read, vec![w.admin_a.id, w.member_a.id], vec![&w.admin_a, &w.member_a]),
        ("B's client", &w.client_b, vec![w.admin_b.id, w.member_b.id], vec![&w.admin_b, &w.member_b]),
    ] {
        let (people, text) = feed_people(&app, token).await;
        let mut expected = expected;
        expected.sort();
        assert_eq!(people, expected, "{who}");
        for user in all_emails {
            let visible = own.iter().any(|o| o.id == user.id);
            assert_eq!(text.contains(&user.email), visible, "{who} and the e-mail address of {}", user.email);
        }
    }
    let (people, _) = feed_people(&app, &w.facilitator.token).await;
    for user in [&w.admin_a, &w.member_a, &w.admin_b, &w.member_b] {
        assert!(people.contains(&user.id), "a facilitator sees every change");
    }
    // Memberships too: B's member reads only her own.
    let changes = feed(&app, &w.member_b.token, "membership").await;
    let ids: Vec<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [w.membership_b.as_str()]);
}

async fn a_client_learns_from_the_change_feed_about_a_person_who_joins_its_organisation(app: TestApp) {
    let w = world(&app).await;
    // Lotte, of B, joins A part time.
    let res = post(
        &app,
        &w.facilitator.token,
        &format!("/v1/organisations/{}/memberships", w.a),
        json!({"person_id": w.member_b.id, "role": "employee", "starts_on": "2025-01-01"}),
    )
    .await;
    expect(res, StatusCode::CREATED).await;
    // The directory shows her to A's client in full...
    let people = list_people(&app, &w.client_a_read, "").await;
    assert_full(&people[&w.member_b.id], &w.member_b.email);
    // ...and so must a full sync from the feed, or the client's copy misses a person it may see.
    for (who, token) in [("A's client", &w.client_a_read), ("A's admin", &w.admin_a.token)] {
        let (people, _) = feed_people(&app, token).await;
        assert!(people.contains(&w.member_b.id), "{who} never receives the person from the feed: {people:?}");
    }
}

async fn an_org_admin_cannot_read_an_outsider_by_adding_them(app: TestApp) {
    let w = world(&app).await;
    let add = json!({"person_id": w.member_b.id, "role": "employee", "starts_on": "2025-01-01"});
    let path = format!("/v1/organisations/{}/memberships", w.a);
    expect(post(&app, &w.admin_a.token, &path, add.clone()).await, StatusCode::FORBIDDEN).await;
    assert_network(&list_people(&app, &w.admin_a.token, "").await[&w.member_b.id]);
    // A facilitator links her; a second membership (another role) is then the admin's to add.
    expect(post(&app, &w.facilitator.token, &path, add).await, StatusCode::CREATED).await;
    let again = json!({"person_id": w.member_b.id, "role": "manager", "starts_on": "2026-01-01"});
    expect(post(&app, &w.admin_a.token, &path, again).await, StatusCode::CREATED).await;
    assert_full(&list_people(&app, &w.admin_a.token, "").await[&w.member_b.id], &w.member_b.email);
}

// ---- memberships ----

async fn a_membership_is_seen_by_the_person_the_organisations_admins_and_clients_and_facilitators(app: TestApp) {
    let w = world(&app).await;
    let path = format!("/v1/memberships/{}", w.membership_a);
    let (colleague, _) = person_in(&app, &w.facilitator.token, &w.a, "Sofie Mertens", "manager").await;
    for (who, token) in [
        ("the person", &w.member_a.token),
        ("A's admin", &w.admin_a.token),
        ("A's reading client", &w.client_a_read),
        ("A's writing client", &w.client_a_write),
        ("a facilitator", &w.facilitator.token),
    ] {
        let res = get(&app, token, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{who}");
        assert_eq!(res.headers()["etag"], "\"1\"", "{who}");
        let m = json(res).await;
        assert_eq!(m["person_id"], w.member_a.id.to_string(), "{who}");
        assert_eq!(m["organisation_id"], w.a, "{who}");
        assert_eq!(m["role"], "employee");
    }
    for (who, token) in [
        ("a member of B", &w.member_b.token),
        ("B's admin", &w.admin_b.token),
        ("B's client", &w.client_b),
        ("a colleague who is no admin", &colleague.token),
        ("a policy reader", &w.reader.token),
    ] {
        let res = get(&app, token, &path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}");
        problem(res, 404).await;
    }
    // B's admin cannot end A's membership either, nor learn that it exists.
    let res = patch(&app, &w.admin_b.token, &path, None, json!({"ends_on": "2030-12-31"})).await;
    problem(res, 404).await;
    let res = app.request(Method::DELETE, &path).bearer_auth(&w.admin_b.token).send().await.unwrap();
    problem(res, 404).await;
    // The person sees their membership but does not manage it.
    let res = patch(&app, &w.member_a.token, &path, None, json!({"role": "org_admin"})).await;
    problem(res, 403).await;
    // A's admin does.
    let res = patch(&app, &w.admin_a.token, &path, Some("\"1\""), json!({"role": "manager"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["role"], "manager");
}

async fn an_organisations_membership_list_is_for_its_admins_clients_and_facilitators(app: TestApp) {
    let w = world(&app).await;
    let path = format!("/v1/organisations/{}/memberships", w.a);
    for (who, token) in [
        ("A's admin", &w.admin_a.token),
        ("A's reading client", &w.client_a_read),
        ("a facilitator", &w.facilitator.token),
    ] {
        let list = expect(get(&app, token, &path).await, StatusCode::OK).await;
        let mut people: Vec<String> =
            list["data"].as_array().unwrap().iter().map(|m| m["person_id"].as_str().unwrap().to_string()).collect();
        people.sort();
        let mut expected = vec![w.admin_a.id.to_string(), w.member_a.id.to_string()];
        expected.sort();
        assert_eq!(people, expected, "{who}");
    }
    // People know the organisation exists (the directory shows it): 403.
    for (who, token) in
        [("a member of A", &w.member_a.token), ("B's admin", &w.admin_b.token), ("a member of B", &w.member_b.token)]
    {
        let res = get(&app, token, &path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    // So does a client of another organisation (it reads every organisation): 403 too, as on
    // every organisation-scoped path; only an organisation that does not exist is 404.
    problem(get(&app, &w.client_b, &path).await, 403).await;
    problem(get(&app, &w.facilitator.token, &format!("/v1/organisations/{}/memberships", Uuid::now_v7())).await, 404)
        .await;
}

async fn a_persons_memberships_show_only_what_the_caller_may_see(app: TestApp) {
    let w = world(&app).await;
    // Lotte works at B and, part time, at A.
    let res = post(
        &app,
        &w.facilitator.token,
        &format!("/v1/organisations/{}/memberships", w.a),
        json!({"person_id": w.member_b.id, "role": "employee", "starts_on": "2025-01-01"}),
    )
    .await;
    let in_a = expect(res, StatusCode::CREATED).await;
    let path = format!("/v1/people/{}/memberships", w.member_b.id);
    let orgs = |list: Value| {
        let mut v: Vec<String> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["organisation_id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut both = vec![w.a.clone(), w.b.clone()];
    both.sort();
    assert_eq!(orgs(expect(get(&app, &w.member_b.token, &path).await, StatusCode::OK).await), both);
    assert_eq!(orgs(expect(get(&app, &w.facilitator.token, &path).await, StatusCode::OK).await), both);
    assert_eq!(orgs(expect(get(&app, &w.admin_a.token, &path).await, StatusCode::OK).await), [w.a.as_str()]);
    assert_eq!(orgs(expect(get(&app, &w.client_a_read, &path).await, StatusCode::OK).await), [w.a.as_str()]);
    assert_eq!(orgs(expect(get(&app, &w.admin_b.token, &path).await, StatusCode::OK).await), [w.b.as_str()]);
    assert_eq!(orgs(expect(get(&app, &w.client_b, &path).await, StatusCode::OK).await), [w.b.as_str()]);
    // Now that she belongs to A, A's admin sees her e-mail address; B's membership stays hidden from A.
    assert_full(
        &expect(get_person(&app, &w.admin_a.token, w.member_b.id).await, StatusCode::OK).await,
        &w.member_b.email,
    );
    problem(get(&app, &w.admin_a.token, &format!("/v1/memberships/{}", w.membership_b)).await, 404).await;
    expect(
        get(&app, &w.admin_a.token, &format!("/v1/memberships/{}", in_a["id"].as_str().unwrap())).await,
        StatusCode::OK,
    )
    .await;
    // Someone who only sees her in the network view sees none of her memberships.
    problem(get(&app, &w.member_a.token, &path).await, 403).await;
}

async fn only_facilitators_and_the_organisations_admins_grant_or_take_admin_rights(app: TestApp) {
    let w = world(&app).await;
    let client = &w.client_a_write;
    let a = &w.a;
    // An integration client cannot make anyone an admin, by any route...
    let member = format!("/v1/memberships/{}", w.membership_a);
    problem(patch(&app, client, &member, None, json!({"role": "org_admin"})).await, 403).await;
    let body = json!({"person_id": w.member_a.id, "role": "org_admin", "starts_on": "2024-01-01"});
    problem(post(&app, client, &format!("/v1/organisations/{a}/memberships"), body.clone()).await, 403).await;
    let res = app
        .request(Method::PUT, &format!("/v1/organisations/{a}/memberships/by-ref/sdworx/C-1"))
        .bearer_auth(client)
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let newcomer = json!({
        "name": "Nieuwe Beheerder", "email": "nieuwe.beheerder@zorgnetkempen.example",
        "stakeholder_group": "hr_professional", "membership": {"role": "org_admin", "starts_on": "2024-01-01"}
    });
    problem(post(&app, client, &format!("/v1/organisations/{a}/people"), newcomer.clone()).await, 403).await;
    let mut item = newcomer.clone();
    item["external_id"] = json!("E-1");
    let batch = json!({"system": "sdworx", "items": [item]});
    let result = expect(
        post(&app, client, &format!("/v1/organisations/{a}/people/batch"), batch).await,
        StatusCode::OK,
    )
    .await["results"][0]
        .clone();
    assert_eq!(result["result"], "error", "{result}");
    assert_eq!(result["problem"]["status"], 403, "{result}");
    assert_eq!(result["problem"]["errors"][0]["pointer"], "/items/0/membership/role", "{result}");
    // ...nor end, demote or remove an admin.
    let admin_membership = format!("/v1/memberships/{}", w.admin_membership_a);
    problem(patch(&app, client, &admin_membership, None, json!({"ends_on": "2024-12-31"})).await, 403).await;
    problem(app.request(Method::DELETE, &admin_membership).bearer_auth(client).send().await.unwrap(), 403).await;
    let demoted = json!({
        "name": "Els Van Damme", "email": w.admin_a.email, "stakeholder_group": "hr_professional",
        "membership": {"role": "employee", "starts_on": "2020-01-01"}
    });
    let res = app
        .request(Method::PUT, &format!("/v1/organisations/{a}/people/by-ref/sdworx/E-ADMIN"))
        .bearer_auth(client)
        .json(&demoted)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    // Nothing changed: the admin still administers A, nobody else became one.
    let admin = expect(get(&app, &w.facilitator.token, &admin_membership).await, StatusCode::OK).await;
    assert_eq!((admin["role"].as_str(), admin["ends_on"].is_null()), (Some("org_admin"), true), "{admin}");
    expect(get(&app, &w.admin_a.token, &format!("/v1/organisations/{a}/memberships")).await, StatusCode::OK).await;
    let res = get(&app, &w.facilitator.token, &format!("/v1/organisations/{a}/memberships?limit=100")).await;
    let admins = expect(res, StatusCode::OK).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "org_admin")
        .count();
    assert_eq!(admins, 1);
    // The organisation's admin and facilitators can.
    let res = patch(&app, &w.admin_a.token, &member, None, json!({"role": "org_admin"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["role"], "org_admin");
    let res = patch(&app, &w.facilitator.token, &member, None, json!({"role": "employee"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["role"], "employee");
    // An admin of another organisation cannot.
    problem(patch(&app, &w.admin_b.token, &member, None, json!({"role": "org_admin"})).await, 404).await;
}

async fn only_the_person_and_facilitators_change_the_address_someone_signs_in_with(app: TestApp) {
    let w = world(&app).await;
    let path = format!("/v1/people/{}", w.member_a.id);
    // Jonas signs in with a password: neither his organisation's admin nor its client may
    // change his address, directly or through a sync.
    for token in [&w.admin_a.token, &w.client_a_write] {
        problem(patch(&app, token, &path, None, json!({"email": "jonas@elders.example"})).await, 403).await;
    }
    let record = |email: &str| {
        json!({"name": "Jonas Claes", "email": email, "stakeholder_group": "employee", "birth_year": 1994,
               "languages": ["nl"], "membership": {"role": "employee", "starts_on": "2020-01-01"}})
    };
    let by_ref = format!("/v1/organisations/{}/people/by-ref/sdworx/E-JONAS", w.a);
    let put = |body: Value| app.request(Method::PUT, &by_ref).bearer_auth(&w.client_a_write).json(&body).send();
    expect(put(record(&w.member_a.email)).await.unwrap(), StatusCode::OK).await;
    let p = problem(put(record("jonas@elders.example")).await.unwrap(), 403).await;
    assert!(p["detail"].as_str().unwrap().contains("/email"), "{p}");
    assert_eq!(
        expect(get_person(&app, &w.facilitator.token, w.member_a.id).await, StatusCode::OK).await["email"],
        w.member_a.email
    );
    // He may, and so may a facilitator.
    let res = patch(&app, &w.member_a.token, &path, None, json!({"email": "jonas.claes@thuis.example"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["email"], "jonas.claes@thuis.example");
    let res = patch(&app, &w.facilitator.token, &path, None, json!({"email": "jonas@zorgnetkempen.example"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["email"], "jonas@zorgnetkempen.example");
    // Someone without a password is the organisation's to keep up to date.
    let body = json!({"name": "Mira Peeters", "email": "mira@zorgnetkempen.example", "stakeholder_group": "employee",
                      "membership": {"role": "employee", "starts_on": "2019-03-01"}});
    let created = expect(
        post(&app, &w.client_a_write, &format!("/v1/organisations/{}/people", w.a), body).await,
        StatusCode::CREATED,
    )
    .await;
    let mira = format!("/v1/people/{}", created["person"]["id"].as_str().unwrap());
    let res = patch(&app, &w.client_a_write, &mira, None, json!({"email": "mira.peeters@zorgnetkempen.example"})).await;
    assert_eq!(expect(res, StatusCode::OK).await["email"], "mira.peeters@zorgnetkempen.example");
}

async fn membership_dates_outside_1900_to_2100_are_refused_at_their_pointers(app: TestApp) {
    let w = world(&app).await;
    let path = format!("/v1/organisations/{}/memberships", w.a);
    let body = json!({"person_id": w.member_a.id, "role": "hr", "starts_on": "1899-12-31", "ends_on": "2101-01-01"});
    let p = problem(post(&app, &w.facilitator.token, &path, body).await, 422).await;
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/starts_on", "/ends_on"], "{p}");
    let member = format!("/v1/memberships/{}", w.membership_a);
    let p =
        problem(patch(&app, &w.facilitator.token, &member, None, json!({"ends_on": "9999-12-31"})).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/ends_on", "{p}");
    let body = json!({"name": "Oud", "email": "oud@zorgnetkempen.example", "stakeholder_group": "employee",
                      "membership": {"role": "employee", "starts_on": "0001-01-01"}});
    let p = problem(post(&app, &w.client_a_write, &format!("/v1/organisations/{}/people", w.a), body).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/membership/starts_on", "{p}");
    // The edges are allowed.
    let body = json!({"person_id": w.member_a.id, "role": "hr", "starts_on": "1900-01-01", "ends_on": "2100-12-31"});
    expect(post(&app, &w.facilitator.token, &path, body).await, StatusCode::CREATED).await;
}

async fn a_person_who_leaves_an_organisation_disappears_from_its_view_and_feed(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    // Jonas is also a member of B; then his only membership of A is removed.
    let body = json!({"person_id": w.member_a.id, "role": "employee", "starts_on": "2024-01-01"});
    expect(post(&app, f, &format!("/v1/organisations/{}/memberships", w.b), body).await, StatusCode::CREATED).await;
    let before = expect(get_person(&app, f, w.member_a.id).await, StatusCode::OK).await;
    let res =
        app.request(Method::DELETE, &format!("/v1/memberships/{}", w.membership_a)).bearer_auth(&w.client_a_write);
    assert_eq!(res.send().await.unwrap().status(), StatusCode::NO_CONTENT);

    // A's client no longer reads him; B's still does, at a new version.
    problem(get_person(&app, &w.client_a_write, w.member_a.id).await, 404).await;
    let now = expect(get_person(&app, &w.client_b, w.member_a.id).await, StatusCode::OK).await;
    assert_eq!(now["version"], before["version"].as_i64().unwrap() + 1);

    // A's feed ends with a tombstone for him; a replica of A built from the feed holds
    // exactly the people A's client can read.
    let replay = |changes: Vec<Value>| {
        let mut people: HashMap<String, i64> = HashMap::new();
        for c in changes {
            let id = c["id"].as_str().unwrap().to_string();
            match c["operation"].as_str().unwrap() {
                "delete" => people.remove(&id),
                _ => people.insert(id, c["version"].as_i64().unwrap()),
            };
        }
        people
    };
    let replica_a = replay(feed(&app, &w.client_a_write, "person").await);
    let visible_a: HashMap<String, i64> = list_people(&app, &w.client_a_write, "limit=100")
        .await
        .into_iter()
        .map(|(id, p)| (id.to_string(), p["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(replica_a, visible_a);
    assert!(!replica_a.contains_key(&w.member_a.id.to_string()));
    // B's replica has him at his current version; so has a facilitator's.
    let replica_b = replay(feed(&app, &w.client_b, "person").await);
    assert_eq!(replica_b[&w.member_a.id.to_string()], now["version"]);
    let everything = replay(feed(&app, f, "person").await);
    assert_eq!(everything[&w.member_a.id.to_string()], now["version"]);
}

// ---- setup ----

/// Two organisations and callers of every role.
struct World {
    facilitator: TestUser,
    /// Zorgnet Kempen.
    a: String,
    /// Bouwgroep Vlaeminck.
    b: String,
    /// Els Van Damme, org_admin of A.
    admin_a: TestUser,
    admin_membership_a: String,
    /// Jonas Claes, employee of A.
    member_a: TestUser,
    membership_a: String,
    /// Pieter De Smet, org_admin of B.
    admin_b: TestUser,
    /// Lotte Maes, employee of B.
    member_b: TestUser,
    membership_b: String,
    /// A policy reader without memberships.
    reader: TestUser,
    /// Tokens of A's clients with `people:read` only and with `people:write`, and of B's client.
    client_a_read: String,
    client_a_write: String,
    client_b: String,
}

async fn world(app: &TestApp) -> World {
    let facilitator = app.facilitator().await;
    let f = facilitator.token.clone();
    let a = organisation(app, &f, "Zorgnet Kempen", "employer").await["id"].as_str().unwrap().to_string();
    let b = organisation(app, &f, "Bouwgroep Vlaeminck", "employer").await["id"].as_str().unwrap().to_string();
    let (admin_a, admin_membership_a) = person_in(app, &f, &a, "Els Van Damme", "org_admin").await;
    let (member_a, membership_a) = person_in(app, &f, &a, "Jonas Claes", "employee").await;
    let (admin_b, _) = person_in(app, &f, &b, "Pieter De Smet", "org_admin").await;
    let (member_b, membership_b) = person_in(app, &f, &b, "Lotte Maes", "employee").await;
    let reader = app.user(PersonRole::PolicyReader).await;
    let client_a_read = client_token(app, &f, &a, &["people:read"]).await;
    let client_a_write = client_token(app, &f, &a, &["people:read", "people:write"]).await;
    let client_b = client_token(app, &f, &b, &["people:read", "people:write"]).await;
    World {
        facilitator,
        a,
        b,
        admin_a,
        admin_membership_a,
        member_a,
        membership_a,
        admin_b,
        member_b,
        membership_b,
        reader,
        client_a_read,
        client_a_write,
        client_b,
    }
}

fn organisation_body(name: &str, kind: &str) -> Value {
    json!({"name": name, "kind": kind, "region": "antwerp", "size_band": "medium"})
}

/// Creates an organisation as a facilitator.
pub(crate) async fn organisation(app: &TestApp, token: &str, name: &str, kind: &str) -> Value {
    expect(post(app, token, "/v1/organisations", organisation_body(name, kind)).await, StatusCode::CREATED).await
}

fn org_path(org: &Value) -> String {
    format!("/v1/organisations/{}", org["id"].as_str().unwrap())
}

pub(crate) async fn theme(app: &TestApp, token: &str, slug: &str) {
    let body = json!({"slug": slug, "label_nl": format!("NL {slug}"), "label_en": format!("EN {slug}")});
    expect(post(app, token, "/v1/themes", body).await, StatusCode::CREATED).await;
}

/// Adds a person to `org` with a membership of `role` (as a facilitator), gives them a
/// password and signs them in. Returns the person and the membership id.
pub(crate) async fn person_in(
    app: &TestApp,
    facilitator: &str,
    org: &str,
    name: &str,
    role: &str,
) -> (TestUser, String) {
    let email = format!(
        "{}.{}@stakeholders.example",
        name.to_lowercase().replace(' ', "."),
        &Uuid::now_v7().simple().to_string()[24..]
    );
    let body = json!({
        "name": name,
        "email": email,
        "stakeholder_group": if role == "org_admin" { "hr_professional" } else { "employee" },
        "birth_year": 1994,
        "languages": ["nl"],
        "membership": {"role": role, "starts_on": "2020-01-01"}
    });
    let created =
        expect(post(app, facilitator, &format!("/v1/organisations/{org}/people"), body).await, StatusCode::CREATED)
            .await;
    let id: Uuid = created["person"]["id"].as_str().unwrap().parse().unwrap();
    let res = app
        .request(Method::PUT, &format!("/v1/people/{id}/password"))
        .bearer_auth(facilitator)
        .json(&json!({"new_password": TEST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.password_grant(&email, TEST_PASSWORD).await;
    let tokens = expect(res, StatusCode::OK).await;
    let user = TestUser {
        id,
        email,
        token: tokens["access_token"].as_str().unwrap().to_string(),
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_string(),
    };
    (user, created["membership"]["id"].as_str().unwrap().to_string())
}

/// Creates a client of `org` with `scopes` and returns an access token of it.
pub(crate) async fn client_token(app: &TestApp, token: &str, org: &str, scopes: &[&str]) -> String {
    let body = json!({"name": "SD Worx HR-koppeling", "scopes": scopes});
    let created =
        expect(post(app, token, &format!("/v1/organisations/{org}/clients"), body).await, StatusCode::CREATED).await;
    let res = app
        .post("/v1/auth/token")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", created["client"]["id"].as_str().unwrap()),
            ("client_secret", created["client_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await["access_token"].as_str().unwrap().to_string()
}

/// Every change of `types` that `token` reads from the start of the feed.
pub(crate) async fn feed(app: &TestApp, token: &str, types: &str) -> Vec<Value> {
    let mut changes = Vec::new();
    let mut after = String::new();
    loop {
        let page =
            expect(get(app, token, &format!("/v1/changes?types={types}&after={after}")).await, StatusCode::OK).await;
        // Every entry is the typed one the OpenAPI document promises for its `type`.
        crate::helpers::assert_conforms(&page, "ChangesPage");
        changes.extend(page["data"].as_array().unwrap().iter().cloned());
        after = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            return changes;
        }
    }
}

/// The people whose changes `token` reads from the feed (sorted, once each), and the feed's text.
async fn feed_people(app: &TestApp, token: &str) -> (Vec<Uuid>, String) {
    let changes = feed(app, token, "person").await;
    let mut ids: Vec<Uuid> = changes.iter().map(|c| c["id"].as_str().unwrap().parse().unwrap()).collect();
    ids.sort();
    ids.dedup();
    (ids, Value::Array(changes).to_string())
}

/// Reads the body, failing with it when the status is not `status`.
pub(crate) async fn expect(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let body = json(res).await;
    assert_eq!(actual, status, "{body}");
    body
}

pub(crate) async fn get(app: &TestApp, token: &str, path: &str) -> Response {
    app.get(path).bearer_auth(token).send().await.unwrap()
}

pub(crate) async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Response {
    app.post(path).bearer_auth(token).json(&body).send().await.unwrap()
}

pub(crate) async fn patch(app: &TestApp, token: &str, path: &str, if_match: Option<&str>, body: Value) -> Response {
    let mut req = app
        .request(Method::PATCH, path)
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

async fn get_person(app: &TestApp, token: &str, id: Uuid) -> Response {
    get(app, token, &format!("/v1/people/{id}")).await
}

/// The people list as `token` sees it (one page), by id.
async fn list_people(app: &TestApp, token: &str, query: &str) -> HashMap<Uuid, Value> {
    let list = expect(get(app, token, &format!("/v1/people?{query}")).await, StatusCode::OK).await;
    assert_eq!(list["next_cursor"], Value::Null, "one page is all");
    list["data"].as_array().unwrap().iter().map(|p| (p["id"].as_str().unwrap().parse().unwrap(), p.clone())).collect()
}

fn assert_full(person: &Value, email: &str) {
    assert_eq!(person["view"], "full", "{person}");
    assert_eq!(person["email"], email, "{person}");
    for shown in ["role", "birth_year", "age_band", "languages", "organisations"] {
        assert!(person.get(shown).is_some(), "`{shown}` missing from the full view: {person}");
    }
}

fn assert_network(person: &Value) {
    assert_eq!(person["view"], "network", "{person}");
    for hidden in ["email", "role", "birth_year", "age_band", "languages"] {
        assert!(person.get(hidden).is_none(), "`{hidden}` shown in the network view: {person}");
    }
    assert!(person["name"].is_string() && person["stakeholder_group"].is_string(), "{person}");
    assert!(person["organisations"].is_array(), "{person}");
    assert!(!person.to_string().contains('@'), "an e-mail address in the network view: {person}");
}
