//! Learning events, registrations, attendance, commitments and calendars: two
//! organisations, callers of every role, and many concurrent registrations.

use chrono::{Duration, FixedOffset, Utc};
use futures_util::StreamExt;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, problem};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, feed, get, organisation, patch, person_in, post, theme};

on_both_databases!(
    anyone_reads_published_events_but_drafts_only_their_organisers,
    only_admins_of_the_organising_organisations_create_and_edit_events,
    events_are_validated_with_pointers_and_markdown_is_kept_as_given,
    only_allowed_status_transitions_happen,
    events_filter_by_time_theme_format_mode_organiser_group_status_and_words,
    a_listed_page_follows_every_change_on_every_instance_and_never_shows_drafts_to_others,
    registering_past_capacity_puts_you_on_the_waitlist_and_cancelling_promotes_the_first,
    cancelling_an_event_cancels_every_registration_and_tells_each_participant,
    registration_is_open_only_for_published_events_inside_the_window,
    members_register_themselves_and_admins_and_clients_register_their_organisations_members,
    a_registration_is_seen_by_the_person_the_organisers_and_the_registering_organisation,
    capacity_cannot_drop_below_the_seats_taken_and_more_capacity_fills_from_the_waitlist,
    check_in_is_idempotent_and_no_shows_are_recorded_after_the_start,
    five_hundred_concurrent_registrations_on_two_instances_fill_fifty_seats_exactly,
    a_retried_registration_with_the_same_idempotency_key_registers_once,
    the_same_person_registering_ten_times_at_once_gets_one_registration,
    commitments_are_private_unless_shared_and_the_organisers_see_counts,
    the_feed_carries_events_registrations_and_commitments_to_whom_may_see_them,
    calendars_are_valid_icalendar_with_time_zones_and_cancellations,
    a_calendar_entry_moves_only_when_what_it_shows_changes_and_answers_304_while_unchanged,
    deleting_a_person_gives_their_seat_to_the_waitlist,
    organisations_and_themes_that_events_use_stay,
);

/// Two organisations with an admin and a member each, and a facilitator.
pub(crate) struct World {
    pub(crate) facilitator: TestUser,
    pub(crate) a: String,
    pub(crate) b: String,
    pub(crate) admin_a: TestUser,
    pub(crate) member_a: TestUser,
    pub(crate) admin_b: TestUser,
    pub(crate) member_b: TestUser,
}

pub(crate) async fn world(app: &TestApp) -> World {
    let facilitator = app.facilitator().await;
    let f = facilitator.token.clone();
    let a = organisation(app, &f, "Zorgnet Kempen", "employer").await["id"].as_str().unwrap().to_string();
    let b = organisation(app, &f, "Syntra Limburg", "learning_provider").await["id"].as_str().unwrap().to_string();
    let (admin_a, _) = person_in(app, &f, &a, "Els Van Damme", "org_admin").await;
    let (member_a, _) = person_in(app, &f, &a, "Jonas Claes", "employee").await;
    let (admin_b, _) = person_in(app, &f, &b, "Pieter De Smet", "org_admin").await;
    let (member_b, _) = person_in(app, &f, &b, "Lotte Maes", "employee").await;
    World { facilitator, a, b, admin_a, member_a, admin_b, member_b }
}

/// `now + offset`, written in Brussels winter time (+01:00).
pub(crate) fn at(offset: Duration) -> String {
    (Utc::now() + offset).with_timezone(&FixedOffset::east_opt(3600).unwrap()).to_rfc3339()
}

/// A published in-person workshop of `org` in a week, for three hours.
pub(crate) fn event_body(org: &str, title: &str, capacity: Option<i64>) -> Value {
    json!({
        "organiser_id": org,
        "title": title,
        "summary": "Leren op de werkvloer, samen met collega's.",
        "format": "workshop",
        "attendance_mode": "in_person",
        "starts_at": at(Duration::days(7)),
        "ends_at": at(Duration::days(7) + Duration::hours(3)),
        "time_zone": "Europe/Brussels",
        "venue": {"name": "Zorgcampus", "address": "Kempenlaan 1", "postcode": "2300", "city": "Turnhout"},
        "capacity": capacity,
        "status": "published"
    })
}

pub(crate) async fn create_event(app: &TestApp, token: &str, body: Value) -> Value {
    expect(post(app, token, "/v1/events", body).await, StatusCode::CREATED).await
}

pub(crate) fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

pub(crate) async fn register(app: &TestApp, token: &str, event: &str, person: Option<Uuid>) -> Response {
    let body = match person {
        Some(p) => json!({"person_id": p}),
        None => json!({}),
    };
    post(app, token, &format!("/v1/events/{event}/registrations"), body).await
}

pub(crate) async fn action(app: &TestApp, token: &str, registration: &str, what: &str) -> Response {
    app.post(&format!("/v1/registrations/{registration}/{what}")).bearer_auth(token).send().await.unwrap()
}

async fn event_of(app: &TestApp, token: &str, id: &str) -> Value {
    expect(get(app, token, &format!("/v1/events/{id}")).await, StatusCode::OK).await
}

/// Every registration of an event that `token` may list, in order of arrival.
async fn registrations(app: &TestApp, token: &str, event: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = expect(
            get(app, token, &format!("/v1/events/{event}/registrations?limit=200&cursor={cursor}")).await,
            StatusCode::OK,
        )
        .await;
        all.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => return all,
        }
    }
}

// ---- events ----

async fn anyone_reads_published_events_but_drafts_only_their_organisers(app: TestApp) {
    let w = world(&app).await;
    let published = create_event(&app, &w.admin_a.token, event_body(&w.a, "Gepubliceerd", Some(20))).await;
    let mut draft_body = event_body(&w.a, "Nog een ontwerp", None);
    draft_body["status"] = json!("draft");
    let draft = create_event(&app, &w.admin_a.token, draft_body).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["seats_left"], Value::Null, "unlimited capacity has no seats left figure");

    // Anonymous: the published event, not the draft.
    let list = expect(app.get("/v1/events").send().await.unwrap(), StatusCode::OK).await;
    let titles: Vec<&str> = list["data"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Gepubliceerd"]);
    let res = app.get(&format!("/v1/events/{}", id_of(&published))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"1\"");
    problem(app.get(&format!("/v1/events/{}", id_of(&draft))).send().await.unwrap(), 404).await;

    // Another organisation's admin and a member do not know the draft exists.
    for token in [&w.admin_b.token, &w.member_a.token] {
        problem(get(&app, token, &format!("/v1/events/{}", id_of(&draft))).await, 404).await;
        let list = expect(get(&app, token, "/v1/events?status=draft").await, StatusCode::OK).await;
        assert!(list["data"].as_array().unwrap().is_empty());
    }
    // Its organiser's admin and facilitators do.
    for token in [&w.admin_a.token, &w.facilitator.token] {
        event_of(&app, token, &id_of(&draft)).await;
        let list = expect(get(&app, token, "/v1/events").await, StatusCode::OK).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 2);
    }
    // An unknown id is a 404 as well.
    problem(app.get(&format!("/v1/events/{}", Uuid::now_v7())).send().await.unwrap(), 404).await;
}

async fn only_admins_of_the_organising_organisations_create_and_edit_events(app: TestApp) {
    let w = world(&app).await;
    problem(post(&app, &w.member_a.token, "/v1/events", event_body(&w.a, "Van een lid", None)).await, 403).await;
    problem(post(&app, &w.admin_b.token, "/v1/events", event_body(&w.a, "Voor een ander", None)).await, 403).await;
    let missing = event_body(&Uuid::now_v7().to_string(), "Onbekende organisator", None);
    let p = problem(post(&app, &w.admin_a.token, "/v1/events", missing).await, 404).await;
    assert_eq!(p["errors"][0]["pointer"], "/organiser_id");

    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Leren op de werkvloer", Some(20))).await;
    let path = format!("/v1/events/{}", id_of(&event));
    problem(patch(&app, &w.admin_b.token, &path, None, json!({"title": "Overgenomen"})).await, 403).await;
    problem(patch(&app, &w.member_a.token, &path, None, json!({"title": "Overgenomen"})).await, 403).await;
    // A stale ETag is refused and names the current one.
    let updated =
        expect(patch(&app, &w.admin_a.token, &path, Some("\"1\""), json!({"title": "Nieuw"})).await, StatusCode::OK)
            .await;
    assert_eq!(updated["version"], 2);
    let p = problem(patch(&app, &w.admin_a.token, &path, Some("\"1\""), json!({"title": "Ouder"})).await, 412).await;
    assert!(p["detail"].as_str().unwrap().contains("\"2\""), "{p}");
    // A co-organiser's admins edit the event, but only the organiser's change co-organisers.
    let body = json!({"co_organisers": [w.b]});
    let updated = expect(patch(&app, &w.admin_a.token, &path, Some("\"2\""), body).await, StatusCode::OK).await;
    assert_eq!(updated["co_organisers"], json!([w.b]));
    expect(patch(&app, &w.admin_b.token, &path, None, json!({"summary": "Samen met Syntra"})).await, StatusCode::OK)
        .await;
    problem(patch(&app, &w.admin_b.token, &path, None, json!({"co_organisers": []})).await, 403).await;
    let p = problem(patch(&app, &w.admin_a.token, &path, None, json!({"co_organisers": [w.a]})).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/co_organisers");
    let p = problem(patch(&app, &w.admin_a.token, &path, None, json!({"co_organisers": [Uuid::now_v7()]})).await, 404)
        .await;
    assert_eq!(p["errors"][0]["pointer"], "/co_organisers/0");
}

async fn events_are_validated_with_pointers_and_markdown_is_kept_as_given(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let mut body = event_body(&w.a, "Zonder plaats", None);
    body["venue"] = Value::Null;
    body["ends_at"] = json!(at(Duration::days(6)));
    body["time_zone"] = json!("Europe/Gent");
    body["capacity"] = json!(0);
    let p = problem(post(&app, t, "/v1/events", body).await, 422).await;
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/ends_at", "/time_zone", "/venue", "/capacity"]);

    let mut body = event_body(&w.a, "Online", None);
    body["attendance_mode"] = json!("online");
    let p = problem(post(&app, t, "/v1/events", body).await, 422).await;
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/venue", "/online_url"]);

    // A time without an offset is not RFC 3339.
    let mut body = event_body(&w.a, "Zonder offset", None);
    body["starts_at"] = json!("2027-02-11T14:00:00");
    let p = problem(post(&app, t, "/v1/events", body).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/starts_at");

    let mut body = event_body(&w.a, "Met thema", None);
    body["themes"] = json!(["bestaat-niet"]);
    let p = problem(post(&app, t, "/v1/events", body).await, 404).await;
    assert_eq!(p["errors"][0]["pointer"], "/themes/0");

    let markdown = "## Programma\n\n<script>alert('x')</script>\n\n- [link](javascript:alert(1))";
    let mut body = event_body(&w.a, "Markdown", None);
    body["description"] = json!(markdown);
    body["starts_at"] = json!("2027-02-11T14:00:00.750+01:00");
    body["ends_at"] = json!("2027-02-11T17:00:00+01:00");
    let event = create_event(&app, t, body).await;
    assert_eq!(event["description"], markdown);
    assert_eq!(event["starts_at"], "2027-02-11T13:00:00Z", "stored in UTC, to the second");
    assert_eq!(event["time_zone"], "Europe/Brussels");
}

async fn only_allowed_status_transitions_happen(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let mut body = event_body(&w.a, "Levenscyclus", None);
    body["status"] = json!("draft");
    let event = create_event(&app, t, body).await;
    let path = format!("/v1/events/{}", id_of(&event));
    let p = problem(patch(&app, t, &path, None, json!({"status": "completed"})).await, 409).await;
    assert_eq!(p["errors"][0]["pointer"], "/status");
    expect(patch(&app, t, &path, None, json!({"status": "published"})).await, StatusCode::OK).await;
    problem(patch(&app, t, &path, None, json!({"status": "draft"})).await, 409).await;
    // Not completed before it has ended.
    problem(patch(&app, t, &path, None, json!({"status": "completed"})).await, 409).await;
    // A published event is cancelled, not deleted.
    problem(app.request(Method::DELETE, &path).bearer_auth(t).send().await.unwrap(), 409).await;
    expect(patch(&app, t, &path, None, json!({"status": "cancelled"})).await, StatusCode::OK).await;
    problem(patch(&app, t, &path, None, json!({"status": "published"})).await, 409).await;
    // A cancelled event stays visible to everyone.
    let res = app.get(&path).send().await.unwrap();
    assert_eq!(expect(res, StatusCode::OK).await["status"], "cancelled");

    // After its end, a published event is completed.
    let mut body = event_body(&w.a, "Voorbij", None);
    body["starts_at"] = json!(at(-Duration::hours(5)));
    body["ends_at"] = json!(at(-Duration::hours(2)));
    let past = create_event(&app, t, body).await;
    let done = expect(
        patch(&app, t, &format!("/v1/events/{}", id_of(&past)), None, json!({"status": "completed"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "completed");

    // Moving the times into the past and completing it in one change is judged on the new times.
    let late = create_event(&app, t, event_body(&w.a, "Achteraf ingevoerd", None)).await;
    let both = json!({"starts_at": at(-Duration::hours(4)), "ends_at": at(-Duration::hours(3)), "status": "completed"});
    let done = expect(patch(&app, t, &format!("/v1/events/{}", id_of(&late)), None, both).await, StatusCode::OK).await;
    assert_eq!(done["status"], "completed");

    // A draft is deleted, and then gone.
    let mut body = event_body(&w.a, "Weg ermee", None);
    body["status"] = json!("draft");
    let draft = create_event(&app, t, body).await;
    let draft_path = format!("/v1/events/{}", id_of(&draft));
    let res = app.request(Method::DELETE, &draft_path).bearer_auth(t).header("if-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(get(&app, t, &draft_path).await, 404).await;
}

async fn events_filter_by_time_theme_format_mode_organiser_group_status_and_words(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    theme(&app, f, "careers-at-every-age").await;
    let mut first = event_body(&w.a, "Olijfboomloopbanen", None);
    first["themes"] = json!(["careers-at-every-age"]);
    first["stakeholder_groups"] = json!(["hr_professional"]);
    first["starts_at"] = json!(at(Duration::days(3)));
    first["ends_at"] = json!(at(Duration::days(3) + Duration::hours(2)));
    create_event(&app, &w.admin_a.token, first).await;
    let mut second = event_body(&w.b, "Webinar informeel leren", None);
    second["format"] = json!("webinar");
    second["attendance_mode"] = json!("online");
    second["venue"] = Value::Null;
    second["online_url"] = json!("https://meet.syntra.example/leren");
    second["stakeholder_groups"] = json!(["employee", "hr_professional"]);
    second["starts_at"] = json!(at(Duration::days(10)));
    second["ends_at"] = json!(at(Duration::days(10) + Duration::hours(1)));
    create_event(&app, &w.admin_b.token, second).await;
    let mut third = event_body(&w.b, "Intervisie HR", None);
    third["format"] = json!("intervision");
    third["status"] = json!("draft");
    create_event(&app, &w.admin_b.token, third).await;

    let titles = |query: String| {
        let app = &app;
        async move {
            let list = expect(app.get(&format!("/v1/events?{query}")).send().await.unwrap(), StatusCode::OK).await;
            list["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["title"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(titles(String::new()).await, ["Olijfboomloopbanen", "Webinar informeel leren"], "by start");
    assert_eq!(titles("sort=-starts_at".into()).await, ["Webinar informeel leren", "Olijfboomloopbanen"]);
    assert_eq!(titles("theme=careers-at-every-age".into()).await, ["Olijfboomloopbanen"]);
    assert_eq!(titles("format=webinar".into()).await, ["Webinar informeel leren"]);
    assert_eq!(titles("attendance_mode=in_person".into()).await, ["Olijfboomloopbanen"]);
    assert_eq!(titles(format!("organiser_id={}", w.b)).await, ["Webinar informeel leren"]);
    // The old names of these two filters still work; given with the new one, the new one counts.
    assert_eq!(titles("mode=in_person".into()).await, ["Olijfboomloopbanen"]);
    assert_eq!(titles("attendance_mode=in_person&mode=online".into()).await, ["Olijfboomloopbanen"]);
    assert_eq!(titles(format!("organiser={}&organiser_id={}", w.b, w.b)).await, ["Webinar informeel leren"]);
    assert_eq!(titles("stakeholder_group=employee".into()).await, ["Webinar informeel leren"]);
    assert_eq!(titles("stakeholder_group=hr_professional".into()).await.len(), 2);
    assert_eq!(titles("q=INFORMEEL".into()).await, ["Webinar informeel leren"]);
    assert_eq!(titles("q=turnhout".into()).await, ["Olijfboomloopbanen"], "the venue is searched");
    assert_eq!(titles("status=draft".into()).await, Vec::<String>::new(), "no drafts for anonymous callers");
    let week = urlencoding(&at(Duration::days(7)));
    assert_eq!(titles(format!("starts_after={week}")).await, ["Webinar informeel leren"]);
    assert_eq!(titles(format!("starts_before={week}")).await, ["Olijfboomloopbanen"]);
    let list = expect(get(&app, &w.admin_b.token, "/v1/events?status=draft").await, StatusCode::OK).await;
    assert_eq!(list["data"][0]["title"], "Intervisie HR");
    // Bad filter values are refused, not ignored.
    for query in ["format=lecture", "starts_after=tomorrow", "theme=Not_A_Slug", "sort=capacity", "organiser=x"] {
        problem(app.get(&format!("/v1/events?{query}")).send().await.unwrap(), 400).await;
    }
}

async fn a_listed_page_follows_every_change_on_every_instance_and_never_shows_drafts_to_others(app: TestApp) {
    let w = world(&app).await;
    let second = crate::helpers::second_instance(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Populair", Some(10))).await;
    let mut body = event_body(&w.a, "Ontwerp", None);
    body["status"] = json!("draft");
    create_event(&app, &w.admin_a.token, body).await;
    let seats = |target: &TestApp| {
        let req = target.get("/v1/events?status=published").send();
        async move {
            let list = expect(req.await.unwrap(), StatusCode::OK).await;
            list["data"][0]["seats_taken"].as_i64().unwrap()
        }
    };
    // The organiser's page holds the draft; the same page asked anonymously right after
    // (nothing changed in between) does not.
    let theirs = expect(get(&app, &w.admin_a.token, "/v1/events").await, StatusCode::OK).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 2);
    let anonymous = expect(app.get("/v1/events").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(anonymous["data"].as_array().unwrap().len(), 1);
    assert_eq!((seats(&app).await, seats(&second).await), (0, 0));
    // A registration on one instance shows on the next read of both.
    expect(register(&second, &w.member_a.token, &id_of(&event), None).await, StatusCode::CREATED).await;
    assert_eq!((seats(&app).await, seats(&second).await), (1, 1));
    expect(register(&app, &w.member_b.token, &id_of(&event), None).await, StatusCode::CREATED).await;
    assert_eq!((seats(&second).await, seats(&app).await), (2, 2));
    // So does an edit.
    expect(
        patch(
            &second,
            &w.admin_a.token,
            &format!("/v1/events/{}", id_of(&event)),
            None,
            json!({"title": "Volzet bijna"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let list = expect(app.get("/v1/events?status=published").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(list["data"][0]["title"], "Volzet bijna");
}

fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

// ---- registrations ----

async fn registering_past_capacity_puts_you_on_the_waitlist_and_cancelling_promotes_the_first(app: TestApp) {
    let w = world(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Klein en fijn", Some(2))).await;
    let e = id_of(&event);
    let mut people = Vec::new();
    for _ in 0..4 {
        people.push(app.member().await);
    }
    let mut regs = Vec::new();
    for p in &people {
        regs.push(expect(register(&app, &p.token, &e, None).await, StatusCode::CREATED).await);
    }
    let statuses: Vec<&str> = regs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["confirmed", "confirmed", "waitlisted", "waitlisted"]);
    assert_eq!(regs[2]["waitlist_position"], 1);
    assert_eq!(regs[3]["waitlist_position"], 2);
    let now = event_of(&app, &w.admin_a.token, &e).await;
    assert_eq!(
        (now["seats_taken"].as_i64(), now["seats_left"].as_i64(), now["waitlist_length"].as_i64()),
        (Some(2), Some(0), Some(2))
    );

    // One active registration per person: the second answers 409 with the first.
    let res = register(&app, &people[0].token, &e, None).await;
    assert_eq!(res.headers()["location"], format!("/v1/registrations/{}", id_of(&regs[0])));
    problem(res, 409).await;

    // A freed seat goes to the first on the waitlist at once.
    let cancelled = expect(action(&app, &people[1].token, &id_of(&regs[1]), "cancel").await, StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    let promoted =
        expect(get(&app, &people[2].token, &format!("/v1/registrations/{}", id_of(&regs[2]))).await, StatusCode::OK)
            .await;
    assert_eq!(promoted["status"], "confirmed");
    let last =
        expect(get(&app, &people[3].token, &format!("/v1/registrations/{}", id_of(&regs[3]))).await, StatusCode::OK)
            .await;
    assert_eq!((last["status"].as_str(), last["waitlist_position"].as_i64()), (Some("waitlisted"), Some(1)));
    let now = event_of(&app, &w.admin_a.token, &e).await;
    assert_eq!((now["seats_taken"].as_i64(), now["waitlist_length"].as_i64()), (Some(2), Some(1)));
    // Cancelling again changes nothing.
    let again = expect(action(&app, &people[1].token, &id_of(&regs[1]), "cancel").await, StatusCode::OK).await;
    assert_eq!(again["version"], cancelled["version"]);
    // A waitlisted person who cancels leaves the list; seats stay as they are.
    expect(action(&app, &people[3].token, &id_of(&regs[3]), "cancel").await, StatusCode::OK).await;
    let now = event_of(&app, &w.admin_a.token, &e).await;
    assert_eq!((now["seats_taken"].as_i64(), now["waitlist_length"].as_i64()), (Some(2), Some(0)));
    // After cancelling, a person may register again (at the back).
    let back = expect(register(&app, &people[1].token, &e, None).await, StatusCode::CREATED).await;
    assert_eq!(back["status"], "waitlisted");
}

async fn cancelling_an_event_cancels_every_registration_and_tells_each_participant(app: TestApp) {
    let w = world(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Gaat niet door", Some(1))).await;
    let e = id_of(&event);
    let (first, second) = (app.member().await, app.member().await);
    let seat = expect(register(&app, &first.token, &e, None).await, StatusCode::CREATED).await;
    let waiting = expect(register(&app, &second.token, &e, None).await, StatusCode::CREATED).await;
    assert_eq!((seat["status"].as_str(), waiting["status"].as_str()), (Some("confirmed"), Some("waitlisted")));
    let other = create_event(&app, &w.admin_a.token, event_body(&w.a, "Gaat wel door", Some(5))).await;
    let kept = expect(register(&app, &first.token, &id_of(&other), None).await, StatusCode::CREATED).await;

    let tag = format!("\"{}\"", event_of(&app, &w.admin_a.token, &e).await["version"]);
    let path = format!("/v1/events/{e}");
    let cancelled = patch(&app, &w.admin_a.token, &path, Some(&tag), json!({"status": "cancelled"})).await;
    let cancelled = expect(cancelled, StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!((cancelled["seats_taken"].as_i64(), cancelled["waitlist_length"].as_i64()), (Some(0), Some(0)));

    // Each participant sees it in their registration and in their feed.
    for (person, reg) in [(&first, &seat), (&second, &waiting)] {
        let path = format!("/v1/registrations/{}", id_of(reg));
        let now = expect(get(&app, &person.token, &path).await, StatusCode::OK).await;
        assert_eq!(now["status"], "cancelled", "{now}");
        let changes = feed(&app, &person.token, "registration").await;
        let last = changes.iter().rev().find(|c| c["id"] == reg["id"]).unwrap();
        assert_eq!(
            (last["operation"].as_str(), last["resource"]["status"].as_str()),
            (Some("update"), Some("cancelled"))
        );
    }
    let all = registrations(&app, &w.admin_a.token, &e).await;
    assert!(all.iter().all(|r| r["status"] == "cancelled"), "{all:?}");
    // Another event's registration is untouched; the cancelled event takes no one.
    let untouched =
        expect(get(&app, &first.token, &format!("/v1/registrations/{}", id_of(&kept))).await, StatusCode::OK).await;
    assert_eq!(untouched["status"], "confirmed");
    problem(register(&app, &app.member().await.token, &e, None).await, 409).await;
    let again = expect(action(&app, &first.token, &id_of(&seat), "cancel").await, StatusCode::OK).await;
    assert_eq!(again["status"], "cancelled");
}

async fn registration_is_open_only_for_published_events_inside_the_window(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let mut body = event_body(&w.a, "Ontwerp", None);
    body["status"] = json!("draft");
    let draft = create_event(&app, t, body).await;
    // The organiser sees the draft but cannot register for it; a member does not see it.
    let p = problem(register(&app, t, &id_of(&draft), None).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("draft"), "{p}");
    problem(register(&app, &w.member_a.token, &id_of(&draft), None).await, 404).await;

    let mut body = event_body(&w.a, "Later open", None);
    body["registration_opens_at"] = json!(at(Duration::days(2)));
    let later = create_event(&app, t, body).await;
    let p = problem(register(&app, &w.member_a.token, &id_of(&later), None).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("opens"), "{p}");

    let mut body = event_body(&w.a, "Al dicht", None);
    body["registration_opens_at"] = json!(at(-Duration::days(5)));
    body["registration_closes_at"] = json!(at(-Duration::days(1)));
    let closed = create_event(&app, t, body).await;
    let p = problem(register(&app, &w.member_a.token, &id_of(&closed), None).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("closed"), "{p}");

    let open = create_event(&app, t, event_body(&w.a, "Afgelast", None)).await;
    expect(
        patch(&app, t, &format!("/v1/events/{}", id_of(&open)), None, json!({"status": "cancelled"})).await,
        StatusCode::OK,
    )
    .await;
    problem(register(&app, &w.member_a.token, &id_of(&open), None).await, 409).await;
    problem(register(&app, &w.member_a.token, &Uuid::now_v7().to_string(), None).await, 404).await;
}

async fn members_register_themselves_and_admins_and_clients_register_their_organisations_members(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let event = create_event(&app, &w.admin_b.token, event_body(&w.b, "Open voor iedereen", None)).await;
    let e = id_of(&event);
    // A member registers only themself: someone else is unknown to them.
    let p = problem(register(&app, &w.member_a.token, &e, Some(w.member_b.id)).await, 404).await;
    assert_eq!(p["errors"][0]["pointer"], "/person_id");
    // An admin registers members of its own organisation, not of another.
    let reg = expect(register(&app, &w.admin_a.token, &e, Some(w.member_a.id)).await, StatusCode::CREATED).await;
    assert_eq!(reg["organisation_id"], json!(w.a));
    assert_eq!(reg["person_name"], "Jonas Claes");
    problem(register(&app, &w.admin_a.token, &e, Some(w.member_b.id)).await, 404).await;
    // A client needs `registrations:write`, names the person, and reaches only its members.
    let without = client_token(&app, f, &w.a, &["people:read"]).await;
    problem(register(&app, &without, &e, Some(w.admin_a.id)).await, 403).await;
    let client = client_token(&app, f, &w.a, &["registrations:write"]).await;
    let p = problem(register(&app, &client, &e, None).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/person_id");
    problem(register(&app, &client, &e, Some(w.member_b.id)).await, 404).await;
    let reg = expect(register(&app, &client, &e, Some(w.admin_a.id)).await, StatusCode::CREATED).await;
    assert_eq!(reg["organisation_id"], json!(w.a));
    // Facilitators register anyone.
    let reg = expect(register(&app, f, &e, Some(w.member_b.id)).await, StatusCode::CREATED).await;
    assert_eq!(reg["organisation_id"], Value::Null);
    // Integration clients have no registrations of their own.
    problem(get(&app, &client, "/v1/me/registrations").await, 403).await;
    let mine = expect(get(&app, &w.member_a.token, "/v1/me/registrations").await, StatusCode::OK).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
}

async fn a_registration_is_seen_by_the_person_the_organisers_and_the_registering_organisation(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Zichtbaarheid", None)).await;
    let e = id_of(&event);
    let own = expect(register(&app, &w.member_b.token, &e, None).await, StatusCode::CREATED).await;
    let by_admin = expect(register(&app, &w.admin_b.token, &e, Some(w.admin_b.id)).await, StatusCode::CREATED).await;
    let own_path = format!("/v1/registrations/{}", id_of(&own));
    // The person, the organiser's admin and facilitators see it; others get 404.
    for token in [&w.member_b.token, &w.admin_a.token, f] {
        expect(get(&app, token, &own_path).await, StatusCode::OK).await;
    }
    // B's admin did not register B's member (she registered herself): not theirs to see.
    for token in [&w.member_a.token, &w.admin_b.token] {
        problem(get(&app, token, &own_path).await, 404).await;
        problem(action(&app, token, &id_of(&own), "cancel").await, 404).await;
    }
    let client_b = client_token(&app, f, &w.b, &["registrations:write"]).await;
    problem(get(&app, &client_b, &own_path).await, 404).await;
    // The organisers list everyone; others only what they may see.
    assert_eq!(registrations(&app, &w.admin_a.token, &e).await.len(), 2);
    let seen: Vec<String> = registrations(&app, &w.member_b.token, &e).await.iter().map(id_of).collect();
    assert_eq!(seen, [id_of(&own)]);
    let seen: Vec<String> = registrations(&app, &w.admin_b.token, &e).await.iter().map(id_of).collect();
    assert_eq!(seen, [id_of(&by_admin)]);
    assert!(registrations(&app, &w.member_a.token, &e).await.is_empty());
    // Only the organisers record attendance.
    problem(action(&app, &w.member_b.token, &id_of(&own), "check-in").await, 403).await;
}

async fn capacity_cannot_drop_below_the_seats_taken_and_more_capacity_fills_from_the_waitlist(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let event = create_event(&app, t, event_body(&w.a, "Capaciteit", Some(2))).await;
    let e = id_of(&event);
    let mut regs = Vec::new();
    for _ in 0..4 {
        let p = app.member().await;
        regs.push(expect(register(&app, &p.token, &e, None).await, StatusCode::CREATED).await);
    }
    let path = format!("/v1/events/{e}");
    let p = problem(patch(&app, t, &path, None, json!({"capacity": 1})).await, 409).await;
    assert_eq!(p["errors"][0]["pointer"], "/capacity");
    assert!(p["detail"].as_str().unwrap().contains("2 seats are taken"), "{p}");
    let raised = expect(patch(&app, t, &path, None, json!({"capacity": 3})).await, StatusCode::OK).await;
    assert_eq!((raised["seats_taken"].as_i64(), raised["waitlist_length"].as_i64()), (Some(3), Some(1)));
    let statuses: Vec<String> =
        registrations(&app, t, &e).await.iter().map(|r| r["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, ["confirmed", "confirmed", "confirmed", "waitlisted"], "the first in line got the seat");
    let unlimited = expect(patch(&app, t, &path, None, json!({"capacity": null})).await, StatusCode::OK).await;
    assert_eq!((unlimited["seats_taken"].as_i64(), unlimited["waitlist_length"].as_i64()), (Some(4), Some(0)));
}

async fn check_in_is_idempotent_and_no_shows_are_recorded_after_the_start(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let mut body = event_body(&w.a, "Vanmiddag", Some(2));
    body["starts_at"] = json!(at(Duration::hours(2)));
    body["ends_at"] = json!(at(Duration::hours(4)));
    let event = create_event(&app, t, body).await;
    let e = id_of(&event);
    let here = expect(register(&app, &w.member_a.token, &e, None).await, StatusCode::CREATED).await;
    let away = expect(register(&app, &w.member_b.token, &e, None).await, StatusCode::CREATED).await;
    let extra = app.member().await;
    let waiting = expect(register(&app, &extra.token, &e, None).await, StatusCode::CREATED).await;

    let first = expect(action(&app, t, &id_of(&here), "check-in").await, StatusCode::OK).await;
    assert_eq!(first["status"], "attended");
    assert!(first["checked_in_at"].is_string());
    let second = expect(action(&app, t, &id_of(&here), "check-in").await, StatusCode::OK).await;
    assert_eq!(second, first, "checking in twice changes nothing");
    // Someone on the waitlist holds no seat to check in with.
    problem(action(&app, t, &id_of(&waiting), "check-in").await, 409).await;
    // No-shows only once the event has started.
    let p = problem(action(&app, t, &id_of(&away), "no-show").await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("started"), "{p}");
    // The event moves into the past (it ran earlier than planned).
    let moved = json!({"starts_at": at(-Duration::hours(3)), "ends_at": at(-Duration::hours(1))});
    expect(patch(&app, t, &format!("/v1/events/{e}"), None, moved).await, StatusCode::OK).await;
    let absent = expect(action(&app, t, &id_of(&away), "no-show").await, StatusCode::OK).await;
    assert_eq!(absent["status"], "no_show");
    assert_eq!(expect(action(&app, t, &id_of(&away), "no-show").await, StatusCode::OK).await, absent);
    // A no-show still holds the seat: the waitlist does not move.
    let now = event_of(&app, t, &e).await;
    assert_eq!((now["seats_taken"].as_i64(), now["waitlist_length"].as_i64()), (Some(2), Some(1)));
    // Attendance recorded, the registration is no longer cancelled.
    problem(action(&app, &w.member_a.token, &id_of(&here), "cancel").await, 409).await;
    let done =
        expect(patch(&app, t, &format!("/v1/events/{e}"), None, json!({"status": "completed"})).await, StatusCode::OK)
            .await;
    assert_eq!(done["status"], "completed");
}

async fn five_hundred_concurrent_registrations_on_two_instances_fill_fifty_seats_exactly(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let second = crate::helpers::second_instance(&app).await;
    // 500 members of A, through one batch.
    let hr = client_token(&app, f, &w.a, &["people:write"]).await;
    let items: Vec<Value> = (0..500)
        .map(|i| {
            json!({
                "external_id": format!("E-{i}"),
                "name": format!("Deelnemer {i}"),
                "email": format!("deelnemer{i}@zorgnet.example"),
                "stakeholder_group": "employee",
                "membership": {"role": "employee", "starts_on": "2020-01-01"}
            })
        })
        .collect();
    let batch = expect(
        post(&app, &hr, &format!("/v1/organisations/{}/people/batch", w.a), json!({"system": "hr", "items": items}))
            .await,
        StatusCode::OK,
    )
    .await;
    let people: Vec<String> =
        batch["results"].as_array().unwrap().iter().map(|r| r["person_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(people.len(), 500);
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Volzet", Some(50))).await;
    let e = id_of(&event);

    let token = w.admin_a.token.clone();
    let statuses: Vec<(StatusCode, String)> = futures_util::stream::iter(people.iter().enumerate())
        .map(|(i, person)| {
            let target = if i % 2 == 0 { &app } else { &second };
            let req = target
                .post(&format!("/v1/events/{e}/registrations"))
                .bearer_auth(&token)
                .json(&json!({"person_id": person}));
            async move {
                let res = req.send().await.unwrap();
                let status = res.status();
                let body: Value = res.json().await.unwrap();
                (status, body["status"].as_str().unwrap_or_default().to_string())
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(statuses.iter().all(|(s, _)| *s == StatusCode::CREATED), "{statuses:?}");
    let confirmed = statuses.iter().filter(|(_, s)| s == "confirmed").count();
    let waitlisted = statuses.iter().filter(|(_, s)| s == "waitlisted").count();
    assert_eq!((confirmed, waitlisted), (50, 450));

    let now = event_of(&app, &token, &e).await;
    assert_eq!(
        (now["seats_taken"].as_i64(), now["seats_left"].as_i64(), now["waitlist_length"].as_i64()),
        (Some(50), Some(0), Some(450))
    );
    // In order of arrival: the first fifty hold the seats, the rest wait in line 1..450.
    let all = registrations(&app, &token, &e).await;
    assert_eq!(all.len(), 500);
    assert!(all[..50].iter().all(|r| r["status"] == "confirmed"));
    let positions: Vec<i64> = all[50..].iter().map(|r| r["waitlist_position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=450).collect::<Vec<_>>());
    // Cancelling a seat on one instance promotes the first in line, seen on the other.
    expect(action(&second, &token, &id_of(&all[0]), "cancel").await, StatusCode::OK).await;
    let promoted =
        expect(get(&app, &token, &format!("/v1/registrations/{}", id_of(&all[50]))).await, StatusCode::OK).await;
    assert_eq!(promoted["status"], "confirmed");
    let now = event_of(&app, &token, &e).await;
    assert_eq!((now["seats_taken"].as_i64(), now["waitlist_length"].as_i64()), (Some(50), Some(449)));
}

async fn a_retried_registration_with_the_same_idempotency_key_registers_once(app: TestApp) {
    let w = world(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Opnieuw", Some(5))).await;
    let path = format!("/v1/events/{}/registrations", id_of(&event));
    let send =
        || app.post(&path).bearer_auth(&w.member_a.token).header("idempotency-key", "reg-42").json(&json!({})).send();
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = crate::helpers::json(first).await;
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(crate::helpers::json(again).await["id"], first["id"]);
    let now = event_of(&app, &w.admin_a.token, &id_of(&event)).await;
    assert_eq!(now["seats_taken"], 1);
}

async fn the_same_person_registering_ten_times_at_once_gets_one_registration(app: TestApp) {
    let w = world(&app).await;
    let second = crate::helpers::second_instance(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Dubbel", Some(3))).await;
    let e = id_of(&event);
    let answers: Vec<(StatusCode, Option<String>, Value)> = futures_util::stream::iter(0..10)
        .map(|i| {
            let target = if i % 2 == 0 { &app } else { &second };
            let req =
                target.post(&format!("/v1/events/{e}/registrations")).bearer_auth(&w.member_a.token).json(&json!({}));
            async move {
                let res = req.send().await.unwrap();
                let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_string());
                (res.status(), location, res.json().await.unwrap())
            }
        })
        .buffer_unordered(10)
        .collect()
        .await;
    let created: Vec<&(StatusCode, Option<String>, Value)> =
        answers.iter().filter(|(s, ..)| *s == StatusCode::CREATED).collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    let first = format!("/v1/registrations/{}", id_of(&created[0].2));
    for (status, location, _) in answers.iter().filter(|(s, ..)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT);
        assert_eq!(location.as_deref(), Some(first.as_str()), "a refusal points at the registration that holds");
    }
    let now = event_of(&app, &w.admin_a.token, &e).await;
    assert_eq!((now["seats_taken"].as_i64(), now["waitlist_length"].as_i64()), (Some(1), Some(0)));
}

// ---- commitments ----

async fn commitments_are_private_unless_shared_and_the_organisers_see_counts(app: TestApp) {
    let w = world(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Inspiratie", None)).await;
    let e = id_of(&event);
    let commit_path = format!("/v1/events/{e}/commitments");
    // Only participants commit.
    problem(post(&app, &w.member_b.token, &commit_path, json!({"text": "Iets doen"})).await, 403).await;
    expect(register(&app, &w.member_b.token, &e, None).await, StatusCode::CREATED).await;
    expect(register(&app, &w.member_a.token, &e, None).await, StatusCode::CREATED).await;
    let private = expect(
        post(
            &app,
            &w.member_b.token,
            &commit_path,
            json!({"text": "Elke maand een leermoment plannen.", "due_on": "2027-04-30"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (private["status"].as_str(), private["shared_with_organiser"].as_bool()),
        (Some("planned"), Some(false))
    );
    let shared = expect(
        post(
            &app,
            &w.member_a.token,
            &commit_path,
            json!({"text": "Een intervisiegroep starten.", "status": "done", "shared_with_organiser": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // Sharing with an organisation you do not belong to is refused.
    let p = problem(
        post(&app, &w.member_b.token, &commit_path, json!({"text": "x", "shared_with_organisation": w.a})).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/shared_with_organisation");

    // The organiser reads what was shared, and counts of everything.
    let seen = expect(get(&app, &w.admin_a.token, &commit_path).await, StatusCode::OK).await;
    let ids: Vec<String> = seen["data"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids, [id_of(&shared)]);
    problem(get(&app, &w.admin_a.token, &format!("/v1/commitments/{}", id_of(&private))).await, 404).await;
    let summary =
        expect(get(&app, &w.admin_a.token, &format!("/v1/events/{e}/commitment-summary")).await, StatusCode::OK).await;
    assert_eq!(
        (
            summary["participants"].as_i64(),
            summary["participants_with_commitments"].as_i64(),
            summary["commitments"].as_i64(),
            summary["done"].as_i64(),
            summary["planned"].as_i64()
        ),
        (Some(2), Some(2), Some(2), Some(1), Some(1))
    );
    problem(get(&app, &w.member_a.token, &format!("/v1/events/{e}/commitment-summary")).await, 403).await;
    // Others do not know a private commitment exists.
    for token in [&w.member_a.token, &w.admin_b.token] {
        problem(get(&app, token, &format!("/v1/commitments/{}", id_of(&private))).await, 404).await;
    }
    // The owner moves it on, with If-Match; a stale ETag is refused.
    let path = format!("/v1/commitments/{}", id_of(&private));
    let moved = expect(
        patch(&app, &w.member_b.token, &path, Some("\"1\""), json!({"status": "in_progress"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["version"], 2);
    problem(patch(&app, &w.member_b.token, &path, Some("\"1\""), json!({"status": "done"})).await, 412).await;
    // Nobody else changes it, also not the organiser it is shared with.
    let shared_path = format!("/v1/commitments/{}", id_of(&shared));
    problem(patch(&app, &w.admin_a.token, &shared_path, None, json!({"status": "dropped"})).await, 403).await;
    let mine = expect(get(&app, &w.member_b.token, "/v1/me/commitments").await, StatusCode::OK).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let res = app.request(Method::DELETE, &path).bearer_auth(&w.member_b.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(get(&app, &w.member_b.token, &path).await, 404).await;
}

async fn the_feed_carries_events_registrations_and_commitments_to_whom_may_see_them(app: TestApp) {
    let w = world(&app).await;
    let published = create_event(&app, &w.admin_a.token, event_body(&w.a, "In de feed", None)).await;
    let mut body = event_body(&w.a, "Geheim ontwerp", None);
    body["status"] = json!("draft");
    let draft = create_event(&app, &w.admin_a.token, body).await;
    let e = id_of(&published);
    let reg = expect(register(&app, &w.member_a.token, &e, None).await, StatusCode::CREATED).await;

    let ids = |changes: Vec<Value>| changes.iter().map(id_of).collect::<std::collections::HashSet<String>>();
    // Events: published ones for everyone signed in; drafts for their organisers.
    let of_b = ids(feed(&app, &w.member_b.token, "event").await);
    assert!(of_b.contains(&e) && !of_b.contains(&id_of(&draft)));
    let of_admin = ids(feed(&app, &w.admin_a.token, "event").await);
    assert!(of_admin.contains(&e) && of_admin.contains(&id_of(&draft)));
    // Registrations: the person and the organisers.
    assert!(ids(feed(&app, &w.member_a.token, "registration").await).contains(&id_of(&reg)));
    assert!(ids(feed(&app, &w.admin_a.token, "registration").await).contains(&id_of(&reg)));
    assert!(ids(feed(&app, &w.member_b.token, "registration").await).is_empty());
    assert!(ids(feed(&app, &w.admin_b.token, "registration").await).is_empty());
    // The event's seat count moved with the registration, in the feed too.
    let events = feed(&app, &w.member_b.token, "event").await;
    let last = events.iter().rev().find(|c| c["id"] == json!(e)).unwrap();
    assert_eq!(last["resource"]["seats_taken"], 1);

    // Commitments: the owner; the organiser only while it is shared with them.
    let c = expect(
        post(&app, &w.member_a.token, &format!("/v1/events/{e}/commitments"), json!({"text": "Mentoraat opzetten."}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let cid = id_of(&c);
    assert!(ids(feed(&app, &w.member_a.token, "commitment").await).contains(&cid));
    assert!(!ids(feed(&app, &w.admin_a.token, "commitment").await).contains(&cid));
    let path = format!("/v1/commitments/{cid}");
    expect(patch(&app, &w.member_a.token, &path, None, json!({"shared_with_organiser": true})).await, StatusCode::OK)
        .await;
    let seen = feed(&app, &w.admin_a.token, "commitment").await;
    assert_eq!(seen.last().unwrap()["operation"], "update");
    expect(patch(&app, &w.member_a.token, &path, None, json!({"shared_with_organiser": false})).await, StatusCode::OK)
        .await;
    let seen = feed(&app, &w.admin_a.token, "commitment").await;
    let last = seen.last().unwrap();
    assert_eq!(
        (last["id"].as_str(), last["operation"].as_str()),
        (Some(cid.as_str()), Some("delete")),
        "unsharing leaves a tombstone for the organiser"
    );
    assert!(last["resource"].is_null());
    // A client with `registrations:write` sees the registrations its organisation made.
    let client = client_token(&app, &w.facilitator.token, &w.a, &["registrations:write"]).await;
    let made = expect(register(&app, &client, &e, Some(w.admin_a.id)).await, StatusCode::CREATED).await;
    assert!(ids(feed(&app, &client, "registration").await).contains(&id_of(&made)));
}

// ---- calendars ----

/// A property: name, parameters (key, value) and value.
type Property = (String, Vec<(String, String)>, String);
/// A component: name and properties.
type Component = (String, Vec<Property>);

/// The components of a calendar, parsed with the `icalendar` crate's parser.
fn parse_calendar(text: &str) -> Vec<Component> {
    let unfolded = icalendar::parser::unfold(text);
    let calendar = icalendar::parser::read_calendar(&unfolded).unwrap_or_else(|e| panic!("not iCalendar: {e}\n{text}"));
    calendar
        .components
        .iter()
        .map(|c| {
            let props = c
                .properties
                .iter()
                .map(|p| {
                    let params = p
                        .params
                        .iter()
                        .map(|q| {
                            (
                                q.key.as_str().to_string(),
                                q.val.as_ref().map(|v| v.as_str().to_string()).unwrap_or_default(),
                            )
                        })
                        .collect();
                    (p.name.as_str().to_string(), params, p.val.as_str().to_string())
                })
                .collect();
            (c.name.as_str().to_string(), props)
        })
        .collect()
}

async fn calendars_are_valid_icalendar_with_time_zones_and_cancellations(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let mut body = event_body(&w.a, "Winterworkshop; met komma, en \\", None);
    body["starts_at"] = json!("2027-01-14T09:00:00Z");
    body["ends_at"] = json!("2027-01-14T12:00:00Z");
    let winter = create_event(&app, t, body).await;
    let mut body = event_body(&w.a, "Geschrapt", None);
    body["starts_at"] = json!("2027-06-10T09:00:00+02:00");
    body["ends_at"] = json!("2027-06-10T11:00:00+02:00");
    let cancelled = create_event(&app, t, body).await;
    expect(
        patch(&app, t, &format!("/v1/events/{}", id_of(&cancelled)), None, json!({"status": "cancelled"})).await,
        StatusCode::OK,
    )
    .await;
    let mut body = event_body(&w.a, "Ontwerp", None);
    body["status"] = json!("draft");
    create_event(&app, t, body).await;

    let res = app.get("/v1/calendar").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = res.text().await.unwrap();
    assert!(text.lines().all(|l| l.len() <= 75), "lines are folded at 75 octets");
    let components = parse_calendar(&text);
    let events: Vec<_> = components.iter().filter(|(name, _)| name == "VEVENT").collect();
    assert_eq!(events.len(), 2, "published and cancelled, no draft");
    assert_eq!(components.iter().filter(|(name, _)| name == "VTIMEZONE").count(), 1);
    let prop = |event: &Component, name: &str| {
        event.1.iter().find(|(n, ..)| n == name).cloned().unwrap_or_else(|| panic!("no {name}"))
    };
    let first = events[0];
    assert_eq!(prop(first, "UID").2, format!("{}@events.vov.be", id_of(&winter)));
    let start = prop(first, "DTSTART");
    assert_eq!(start.1, [("TZID".to_string(), "Europe/Brussels".to_string())]);
    assert_eq!(start.2, "20270114T100000", "09:00 UTC is 10:00 in Brussels in winter");
    assert_eq!(prop(first, "STATUS").2, "CONFIRMED");
    assert_eq!(prop(events[1], "DTSTART").2, "20270610T090000", "summer time: UTC+2");
    assert_eq!(prop(events[1], "STATUS").2, "CANCELLED");
    assert!(prop(first, "LOCATION").2.contains("Turnhout"));

    // One event, with the same UID; a draft only for its organisers.
    let one = app.get(&format!("/v1/events/{}/calendar", id_of(&winter))).send().await.unwrap().text().await.unwrap();
    let components = parse_calendar(&one);
    let event = components.iter().find(|(n, _)| n == "VEVENT").unwrap();
    assert_eq!(prop(event, "UID").2, format!("{}@events.vov.be", id_of(&winter)));
    assert!(one.contains("SUMMARY:Winterworkshop\\; met komma\\, en \\\\"), "text is escaped");
}

/// What a calendar client keeps between polls: the entry's SEQUENCE and LAST-MODIFIED, and the
/// calendar's ETag. A seat taken changes neither the entry nor the calendar; a new start time
/// moves both; the organiser is a cal-address with its name.
async fn a_calendar_entry_moves_only_when_what_it_shows_changes_and_answers_304_while_unchanged(app: TestApp) {
    let w = world(&app).await;
    let t = &w.admin_a.token;
    let event = create_event(&app, t, event_body(&w.a, "Kalenderproef", Some(10))).await;
    let e = id_of(&event);
    let path = format!("/v1/events/{e}/calendar");
    let entry = |text: &str| {
        let components = parse_calendar(text);
        let (_, props) = components.into_iter().find(|(n, _)| n == "VEVENT").expect("a VEVENT");
        let value = |name: &str| props.iter().find(|(n, ..)| n == name).map(|p| p.2.clone()).unwrap_or_default();
        let organizer = props.iter().find(|(n, ..)| n == "ORGANIZER").cloned().expect("an ORGANIZER");
        (value("SEQUENCE"), value("LAST-MODIFIED"), organizer)
    };
    let fetch = |path: String, tag: Option<String>| {
        let mut req = app.get(&path);
        if let Some(tag) = tag {
            req = req.header("If-None-Match", tag);
        }
        async move { req.send().await.unwrap() }
    };
    for path in [path.clone(), "/v1/calendar".to_string()] {
        let first = fetch(path.clone(), None).await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        assert!(first.headers().contains_key("last-modified"), "{path}");
        let again = fetch(path.clone(), Some(tag.clone())).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], tag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
        let other = fetch(path.clone(), Some("W/\"0000000000000000\"".into())).await;
        assert_eq!(other.status(), StatusCode::OK, "{path}");
    }
    let first = fetch(path.clone(), None).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let (sequence, modified, organizer) = entry(&first.text().await.unwrap());
    assert_eq!(sequence, "0");
    assert_eq!(organizer.2, format!("urn:uuid:{}", w.a));
    assert_eq!(organizer.1, [("CN".to_string(), "Zorgnet Kempen".to_string())]);

    // A seat taken: the event's version moves, its calendar entry and the calendar do not.
    expect(register(&app, &w.member_a.token, &e, None).await, StatusCode::CREATED).await;
    assert_eq!(event_of(&app, t, &e).await["version"], 2);
    let after_seat = fetch(path.clone(), Some(tag.clone())).await;
    assert_eq!(after_seat.status(), StatusCode::NOT_MODIFIED, "a seat taken changes nothing a calendar shows");
    let (sequence, same_modified, _) = entry(&fetch(path.clone(), None).await.text().await.unwrap());
    assert_eq!((sequence.as_str(), same_modified.as_str()), ("0", modified.as_str()));

    // So does a new capacity; a new start is a new SEQUENCE, LAST-MODIFIED and ETag.
    expect(patch(&app, t, &format!("/v1/events/{e}"), None, json!({"capacity": 20})).await, StatusCode::OK).await;
    assert_eq!(fetch(path.clone(), Some(tag.clone())).await.status(), StatusCode::NOT_MODIFIED);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = json!({"starts_at": at(Duration::days(31)), "ends_at": at(Duration::days(31) + Duration::hours(3))});
    expect(patch(&app, t, &format!("/v1/events/{e}"), None, later).await, StatusCode::OK).await;
    let moved = fetch(path.clone(), Some(tag.clone())).await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_ne!(moved.headers()["etag"].to_str().unwrap(), tag);
    let (sequence, new_modified, _) = entry(&moved.text().await.unwrap());
    assert_eq!(sequence, "1");
    assert!(new_modified > modified, "{new_modified} after {modified}");
    // Cancelling is a change a calendar shows.
    expect(patch(&app, t, &format!("/v1/events/{e}"), None, json!({"status": "cancelled"})).await, StatusCode::OK)
        .await;
    let (sequence, ..) = entry(&fetch(path, None).await.text().await.unwrap());
    assert_eq!(sequence, "2");
}

// ---- people and organisations ----

async fn deleting_a_person_gives_their_seat_to_the_waitlist(app: TestApp) {
    let w = world(&app).await;
    let event = create_event(&app, &w.admin_a.token, event_body(&w.a, "Eén plaats", Some(1))).await;
    let e = id_of(&event);
    let leaving = app.member().await;
    let seat = expect(register(&app, &leaving.token, &e, None).await, StatusCode::CREATED).await;
    let next = expect(register(&app, &w.member_b.token, &e, None).await, StatusCode::CREATED).await;
    assert_eq!(next["status"], "waitlisted");
    let res = app
        .request(Method::DELETE, &format!("/v1/people/{}", leaving.id))
        .bearer_auth(&w.facilitator.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let now =
        expect(get(&app, &w.member_b.token, &format!("/v1/registrations/{}", id_of(&next))).await, StatusCode::OK)
            .await;
    assert_eq!(now["status"], "confirmed");
    let event = event_of(&app, &w.admin_a.token, &e).await;
    assert_eq!((event["seats_taken"].as_i64(), event["waitlist_length"].as_i64()), (Some(1), Some(0)));
    // The organiser's feed says the registration is gone.
    let changes = feed(&app, &w.admin_a.token, "registration").await;
    let last = changes.iter().rev().find(|c| c["id"] == seat["id"]).unwrap();
    assert_eq!(last["operation"], "delete");
}

async fn organisations_and_themes_that_events_use_stay(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    theme(&app, f, "learning-cultures").await;
    let themes = expect(get(&app, f, "/v1/themes?q=learning-cultures").await, StatusCode::OK).await;
    let theme_id = id_of(&themes["data"][0]);
    let lonely = organisation(&app, f, "Sectorfonds Zorg", "sector_fund").await;
    let mut body = event_body(&w.a, "Samen", None);
    body["co_organisers"] = json!([id_of(&lonely)]);
    body["themes"] = json!(["learning-cultures"]);
    create_event(&app, &w.admin_a.token, body).await;
    let p = problem(
        app.request(Method::DELETE, &format!("/v1/organisations/{}", id_of(&lonely)))
            .bearer_auth(f)
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("events"), "{p}");
    problem(app.request(Method::DELETE, &format!("/v1/themes/{theme_id}")).bearer_auth(f).send().await.unwrap(), 409)
        .await;
}
