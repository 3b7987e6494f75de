//! Insights for policy: who may read them, the tables and their disclosure control, CSV,
//! and each person's choice to be counted (decision 11).

use chrono::{Datelike, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use vov::auth::rights::PersonRole;
use vov::domain::account::Email;
use vov::domain::event::{
    AttendanceMode, CommitmentContent, CommitmentStatus, Event, EventContent, EventFormat, EventInput, EventStatus,
    RegistrationStatus,
};
use vov::domain::learning::{ActivityType, LearningRecord, RecordContent, RecordInput, Sharing};
use vov::domain::organisation::{OrganisationContent, OrganisationKind, Region, SizeBand};
use vov::domain::person::{MembershipRole, MembershipTerms, PersonContent, StakeholderGroup};

use crate::helpers::{DbGuard, TestApp, problem, spawn_app_with, test_settings};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, get, person_in, post};

on_both_databases!(
    only_policy_readers_and_facilitators_read_insights,
    small_groups_are_withheld_and_cannot_be_worked_out_from_the_total,
    csv_and_json_agree_and_a_two_way_table_adds_up_to_the_one_way_tables,
    opting_out_and_erasure_count_from_the_next_period_and_never_change_a_computed_one,
    bad_periods_and_dimensions_are_refused,
    hours_are_withheld_when_few_people_logged_a_duration_or_one_dominates,
    a_computed_period_keeps_the_k_it_was_protected_with,
    event_to_action_follows_members_from_registration_to_proof_and_withholds_small_formats,
    shared_solutions_count_what_is_listed_and_protect_the_people_who_adopt,
);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An employer in manufacturing (NACE C), Antwerp, medium-sized.
async fn employer(app: &TestApp) -> Uuid {
    let content = OrganisationContent {
        name: format!("Employer {}", Uuid::now_v7().simple()),
        kind: OrganisationKind::Employer,
        enterprise_number: None,
        sector: Some("C".into()),
        size_band: Some(SizeBand::Medium),
        region: Some(Region::Antwerp),
        website: None,
        themes: vec![],
    };
    app.store.create_organisation(&content, None).await.unwrap().id
}

/// A learning record of 90 minutes that started on `on`.
async fn record(app: &TestApp, person: Uuid, on: NaiveDate) {
    record_of(app, person, on, Some(90)).await;
}

async fn record_of(app: &TestApp, person: Uuid, on: NaiveDate, minutes: Option<i64>) {
    let input = RecordInput {
        title: "Learned something".into(),
        activity_type: ActivityType::OnTheJob,
        started_on: on,
        duration_minutes: minutes,
        ..RecordInput::default()
    };
    let content = RecordContent::parse(input, "").unwrap();
    let record = LearningRecord::manual(person, content, Sharing::default(), vov::db::now());
    app.store.create_record(&record, None).await.unwrap();
}

/// `people` members of `org` born in `birth_year`; the first `learners` of them have a
/// record on each of `dates`. Returns their ids.
async fn crowd(
    app: &TestApp,
    org: Uuid,
    birth_year: i32,
    people: usize,
    learners: usize,
    dates: &[NaiveDate],
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..people {
        let content = PersonContent {
            name: format!("Member {i}"),
            email: Email::parse(&format!("{}@insights.example", Uuid::now_v7().simple())).unwrap(),
            stakeholder_group: StakeholderGroup::Employee,
            birth_year: Some(birth_year),
            age_band: None,
            languages: vec![],
        };
        let terms = MembershipTerms { role: MembershipRole::Employee, starts_on: day(2020, 1, 1), ends_on: None };
        let (person, _) =
            app.store.create_person(&content, PersonRole::Member, None, Some((org, terms))).await.unwrap();
        if i < learners {
            for on in dates {
                record(app, person.id, *on).await;
            }
        }
        ids.push(person.id);
    }
    ids
}

async fn table(app: &TestApp, token: &str, query: &str) -> Value {
    expect(get(app, token, &format!("/v1/insights/learning-participation?{query}")).await, StatusCode::OK).await
}

/// The cell whose group is `group` (dimension -> value or null).
fn cell(table: &Value, group: Value) -> &Value {
    table["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == group)
        .unwrap_or_else(|| panic!("no cell {group} in {table}"))
}

async fn only_policy_readers_and_facilitators_read_insights(app: TestApp) {
    let facilitator = app.facilitator().await;
    let reader = app.user(PersonRole::PolicyReader).await;
    let member = app.member().await;
    let org = employer(&app).await.to_string();
    let (admin, _) = person_in(&app, &facilitator.token, &org, "Org Admin", "org_admin").await;
    let client = client_token(&app, &facilitator.token, &org, &["people:read", "learning-records:read"]).await;
    // `insights:read` is the network's figures: only facilitators grant it, not an
    // organisation's admins.
    let body = json!({"name": "Dashboard", "scopes": ["insights:read"]});
    let refused = problem(post(&app, &admin.token, &format!("/v1/organisations/{org}/clients"), body).await, 403).await;
    assert!(refused["detail"].as_str().unwrap().contains("insights:read"), "{refused}");
    let dashboard = client_token(&app, &facilitator.token, &org, &["insights:read"]).await;
    for path in [
        "/v1/insights",
        "/v1/insights/learning-participation?period=2026-Q1",
        "/v1/insights/event-to-action?period=2026-Q1&by=format",
        "/v1/insights/shared-solutions?period=2026-Q1&by=sector",
    ] {
        problem(app.get(path).send().await.unwrap(), 401).await;
        for token in [&member.token, &admin.token, &client] {
            let body = problem(get(&app, token, path).await, 403).await;
            assert!(body["detail"].as_str().unwrap().contains("policy readers"), "{body}");
        }
        for token in [&reader.token, &facilitator.token, &dashboard] {
            assert_eq!(get(&app, token, path).await.status(), StatusCode::OK, "{path}");
        }
    }
    let catalogue = expect(get(&app, &reader.token, "/v1/insights").await, StatusCode::OK).await;
    assert_eq!(catalogue["k"], 5);
    let participation = &catalogue["insights"][0];
    assert_eq!(participation["path"], "/v1/insights/learning-participation");
    let ages = participation["dimensions"].as_array().unwrap().iter().find(|d| d["name"] == "age_band").unwrap();
    assert!(ages["values"].as_array().unwrap().contains(&json!("55_64")), "{ages}");
    let events = &catalogue["insights"][1];
    assert_eq!(events["path"], "/v1/insights/event-to-action");
    assert_eq!(events["dimensions"][0]["name"], "format");
    assert!(events["measures"].as_array().unwrap().contains(&json!("proven_rate")), "{events}");
    let solutions = &catalogue["insights"][2];
    assert_eq!(solutions["path"], "/v1/insights/shared-solutions");
    let sections = solutions["dimensions"][0]["values"].as_array().unwrap();
    assert!(sections.contains(&json!("Q")) && !sections.contains(&json!("none")), "{solutions}");
    // The choice to be counted is a person's own.
    problem(get(&app, &client, "/v1/me/insights-consent").await, 403).await;
    problem(get(&app, &dashboard, "/v1/me/insights-consent").await, 403).await;
    problem(app.get("/v1/me/insights-consent").send().await.unwrap(), 401).await;
}

async fn small_groups_are_withheld_and_cannot_be_worked_out_from_the_total(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let org = employer(&app).await;
    let in_q1 = [day(2026, 1, 1), day(2026, 3, 31)];
    let thirties = crowd(&app, org, 1988, 25, 8, &in_q1).await; // 35_44 in 2026
    crowd(&app, org, 1975, 20, 10, &in_q1).await; // 45_54
    crowd(&app, org, 1965, 3, 1, &in_q1).await; // 55_64: one learner of three
    // Records outside the quarter do not make a participant of it.
    record(&app, thirties[19], day(2025, 12, 31)).await;
    record(&app, thirties[19], day(2026, 4, 1)).await;
    // Neither do people who are not members (readers, facilitators) count.
    let _facilitator = app.facilitator().await;

    let t = table(&app, &reader.token, "period=2026-Q1&by=age_band").await;
    assert_eq!((t["period"].as_str(), t["k"].as_i64()), (Some("2026-Q1"), Some(5)));
    assert_eq!(t["dimensions"], json!(["age_band"]));
    assert_eq!(t["cells"].as_array().unwrap().len(), 8, "the total and every age band: {t}");
    let total = cell(&t, json!({"age_band": null}));
    assert_eq!(
        (&total["people"], &total["participants"], &total["participation_rate"], &total["hours_per_participant"]),
        (&json!(48), &json!(19), &json!(0.396), &json!(3.0)),
        "{total}"
    );
    let shown = cell(&t, json!({"age_band": "35_44"}));
    assert_eq!(
        (&shown["people"], &shown["participants"], &shown["suppressed"]),
        (&json!(25), &json!(8), &json!(false))
    );
    // One of three learned: withheld, with every figure of it.
    let small = cell(&t, json!({"age_band": "55_64"}));
    assert_eq!(small["suppressed"], true);
    // Withheld with its partner, neither saying which is the small one.
    assert_eq!(small["reason"], "withheld_together");
    for figure in ["people", "participants", "participation_rate", "hours_per_participant"] {
        assert!(small[figure].is_null(), "{small}");
    }
    // The total minus the shown bands would be the 55-64 band alone: another band is
    // withheld too, the smallest that leaves at least k learners and k others in the sum
    // once its own least (k and k, as it passes rule 1) is taken off.
    let partner = cell(&t, json!({"age_band": "45_54"}));
    assert_eq!((&partner["suppressed"], &partner["reason"]), (&json!(true), &json!("withheld_together")));
    let shown_people: i64 = t["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["suppressed"] == false && !c["group"]["age_band"].is_null())
        .map(|c| c["people"].as_i64().unwrap())
        .sum();
    assert_eq!(total["people"].as_i64().unwrap() - shown_people, 23);
    // Empty bands are cells too, shown as zeros: a group without people is about nobody.
    let empty = cell(&t, json!({"age_band": "65_plus"}));
    assert_eq!(
        (&empty["people"], &empty["participants"], &empty["participation_rate"], &empty["suppressed"]),
        (&json!(0), &json!(0), &json!(null), &json!(false))
    );

    // Asking again gives the same answer, computed once.
    let again = table(&app, &reader.token, "period=2026-Q1&by=age_band").await;
    assert_eq!(again, t);
    // By sector: everyone is in one employer of section C, so the other sections are empty.
    let by_sector = table(&app, &reader.token, "period=2026-Q1&by=sector").await;
    assert_eq!(cell(&by_sector, json!({"sector": "C"}))["people"], 48);
    assert_eq!(cell(&by_sector, json!({"sector": "C"}))["suppressed"], false);
    // Only thirties[19] learned in 2025-Q4: too few to show.
    let q4 = table(&app, &reader.token, "period=2025-Q4").await;
    assert_eq!(cell(&q4, json!({}))["participants"], json!(null), "one learner in 2025-Q4: {q4}");
}

async fn csv_and_json_agree_and_a_two_way_table_adds_up_to_the_one_way_tables(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let org = employer(&app).await;
    let in_q2 = [day(2026, 5, 15)];
    crowd(&app, org, 1988, 30, 12, &in_q2).await;
    crowd(&app, org, 1965, 25, 10, &in_q2).await;
    crowd(&app, org, 2004, 4, 2, &in_q2).await;

    let two_way = table(&app, &reader.token, "period=2026-Q2&by=sector,age_band").await;
    // Dimensions come in one order, whatever order `by` names them in.
    assert_eq!(two_way["dimensions"], json!(["age_band", "sector"]));
    assert_eq!(table(&app, &reader.token, "period=2026-Q2&by=age_band,sector").await, two_way);
    for (dimension, other) in [("age_band", "sector"), ("sector", "age_band")] {
        let one_way = table(&app, &reader.token, &format!("period=2026-Q2&by={dimension}")).await;
        for c in one_way["cells"].as_array().unwrap() {
            let mut group = c["group"].clone();
            group[other] = Value::Null;
            let margin = cell(&two_way, group);
            for field in ["people", "participants", "suppressed", "reason"] {
                assert_eq!(margin[field], c[field], "{dimension} {}: {field}", c["group"]);
            }
        }
    }
    // The four under-25s are a small inner cell, so the whole interior is withheld: the
    // table shows its margins only (which are the one-way tables, checked above).
    for c in two_way["cells"].as_array().unwrap() {
        if !c["group"]["age_band"].is_null() && !c["group"]["sector"].is_null() {
            // Without saying which inner cell is the small one: a row minus the cells known
            // to pass would bound it.
            assert_eq!((&c["suppressed"], &c["reason"]), (&json!(true), &json!("withheld_together")), "{c}");
        }
    }
    // Without a small inner cell the interior is shown: everyone is an employee of one
    // employer in sector C.
    let groups = table(&app, &reader.token, "period=2026-Q2&by=stakeholder_group,sector").await;
    let employees = cell(&groups, json!({"stakeholder_group": "employee", "sector": "C"}));
    assert_eq!(
        (&employees["people"], &employees["participants"], &employees["suppressed"]),
        (&json!(59), &json!(24), &json!(false))
    );
    assert_eq!(cell(&groups, json!({"stakeholder_group": "employee", "sector": "Q"}))["people"], 0);

    let res = app
        .get("/v1/insights/learning-participation?period=2026-Q2&by=age_band,sector")
        .bearer_auth(&reader.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "period,age_band,sector,people,participants,participation_rate,hours_per_participant,suppressed,reason,\
         hours_suppressed"
    );
    let cells = two_way["cells"].as_array().unwrap();
    assert_eq!(lines.len() - 1, cells.len());
    let text_of = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (line, c) in lines[1..].iter().zip(cells) {
        let expected = [
            "2026-Q2".to_string(),
            text_of(&c["group"]["age_band"]),
            text_of(&c["group"]["sector"]),
            text_of(&c["people"]),
            text_of(&c["participants"]),
            text_of(&c["participation_rate"]),
            text_of(&c["hours_per_participant"]),
            text_of(&c["suppressed"]),
            text_of(&c["reason"]),
            text_of(&c["hours_suppressed"]),
        ];
        assert_eq!(*line, expected.join(","));
    }
}

async fn opting_out_and_erasure_count_from_the_next_period_and_never_change_a_computed_one(app: TestApp) {
    let facilitator = app.facilitator().await;
    let reader = app.user(PersonRole::PolicyReader).await;
    let org = employer(&app).await;
    let (q1, q2) = (day(2026, 2, 15), day(2026, 5, 15));
    crowd(&app, org, 1988, 10, 5, &[q1, q2]).await;
    let org_id = org.to_string();
    let (leaver, _) = person_in(&app, &facilitator.token, &org_id, "Leaver", "employee").await;
    let (private, _) = person_in(&app, &facilitator.token, &org_id, "Private", "employee").await;
    for person in [leaver.id, private.id] {
        record(&app, person, q1).await;
        record(&app, person, q2).await;
    }

    // Counted unless they opt out; the choice is theirs and in their export.
    let consent = expect(get(&app, &private.token, "/v1/me/insights-consent").await, StatusCode::OK).await;
    assert_eq!(consent, json!({"counted_in_insights": true}));
    let res = app
        .request(Method::PUT, "/v1/me/insights-consent")
        .bearer_auth(&private.token)
        .json(&json!({"counted_in_insights": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect(res, StatusCode::OK).await, json!({"counted_in_insights": false}));
    let consent = expect(get(&app, &private.token, "/v1/me/insights-consent").await, StatusCode::OK).await;
    assert_eq!(consent["counted_in_insights"], false);
    let export = expect(get(&app, &private.token, "/v1/me/export").await, StatusCode::OK).await;
    assert_eq!(export["insights"], json!({"counted_in_insights": false}));
    let res = app
        .request(Method::PUT, "/v1/me/insights-consent")
        .bearer_auth(&private.token)
        .json(&json!({"counted_in_insights": "no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Q1 is computed now: the crowd and the leaver, not the one who opted out.
    let q1_before = table(&app, &reader.token, "period=2026-Q1").await;
    let total = cell(&q1_before, json!({}));
    assert_eq!((&total["people"], &total["participants"]), (&json!(11), &json!(6)), "{q1_before}");

    // The leaver erases their account.
    let res = app.request(Method::DELETE, "/v1/me").bearer_auth(&leaver.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Q1 does not change (asking again must not tell what one person did) ...
    assert_eq!(table(&app, &reader.token, "period=2026-Q1").await, q1_before);
    // ... and the next period computed counts neither of them.
    let q2_table = table(&app, &reader.token, "period=2026-Q2").await;
    let total = cell(&q2_table, json!({}));
    assert_eq!((&total["people"], &total["participants"]), (&json!(10), &json!(5)), "{q2_table}");
}

async fn bad_periods_and_dimensions_are_refused(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let today = Utc::now().date_naive();
    let current = format!("{}-Q{}", today.year(), today.month0() / 3 + 1);
    for (query, needle) in [
        ("period=2026-Q5", "quarter"),
        ("period=26", "quarter"),
        ("period=1999-Q4", "2000"),
        (&format!("period={current}") as &str, "not over"),
        // Years could be compared with their quarters: not offered.
        (&format!("period={}", today.year() - 1), "quarter"),
        ("by=organisation", "stakeholder_group"),
        ("by=", "empty"),
        ("by=sector,sector", "twice"),
        ("by=sector,stakeholder_group,age_band", "at most two"),
        // Region, size band and kind are functions of the organisation, like the sector:
        // two such tables could be combined (decision 11).
        ("by=region", "is not a dimension"),
        ("colour=blue", "colour"),
    ] {
        let res = get(&app, &reader.token, &format!("/v1/insights/learning-participation?{query}")).await;
        let body = problem(res, 400).await;
        assert!(body["detail"].as_str().unwrap().contains(needle), "{query}: {body}");
    }
    // Without a period: the last closed quarter.
    let t = table(&app, &reader.token, "").await;
    let last = if today.month0() / 3 == 0 {
        format!("{}-Q4", today.year() - 1)
    } else {
        format!("{}-Q{}", today.year(), today.month0() / 3)
    };
    assert_eq!(t["period"], last);
    assert_eq!(t["cells"].as_array().unwrap().len(), 1);
}

async fn hours_are_withheld_when_few_people_logged_a_duration_or_one_dominates(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let org = employer(&app).await;
    // Twelve members, six learned; only two of them gave a duration: the hours would be
    // those two people's.
    let people = crowd(&app, org, 1980, 12, 0, &[]).await;
    for (i, person) in people.iter().take(6).enumerate() {
        record_of(&app, *person, day(2026, 2, 1), (i < 2).then_some(600)).await;
    }
    let t = table(&app, &reader.token, "period=2026-Q1").await;
    let total = cell(&t, json!({}));
    assert_eq!(
        (&total["people"], &total["participants"], &total["suppressed"]),
        (&json!(12), &json!(6), &json!(false))
    );
    assert_eq!((&total["hours_per_participant"], &total["hours_suppressed"]), (&json!(null), &json!(true)), "{total}");

    // The next quarter, all six give a duration, but one logged 60 hours and the others an
    // hour each: the average would be mostly that one person's.
    for (i, person) in people.iter().take(6).enumerate() {
        record_of(&app, *person, day(2026, 5, 1), Some(if i == 0 { 3600 } else { 60 })).await;
    }
    let t = table(&app, &reader.token, "period=2026-Q2").await;
    let total = cell(&t, json!({}));
    assert_eq!((&total["participants"], &total["suppressed"]), (&json!(6), &json!(false)), "{total}");
    assert_eq!((&total["hours_per_participant"], &total["hours_suppressed"]), (&json!(null), &json!(true)), "{total}");
    // Evenly spread, the same number of people shows its hours.
    for person in people.iter().take(6) {
        record_of(&app, *person, day(2026, 8, 1), Some(90)).await;
    }
    let t = table(&app, &reader.token, "period=2026-Q3").await;
    assert_eq!(cell(&t, json!({}))["hours_per_participant"], 1.5, "{t}");
}

async fn a_computed_period_keeps_the_k_it_was_protected_with(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let org = employer(&app).await;
    crowd(&app, org, 1988, 30, 12, &[day(2026, 2, 1), day(2026, 5, 1)]).await;
    crowd(&app, org, 1965, 10, 5, &[day(2026, 2, 1), day(2026, 5, 1)]).await;
    let before = table(&app, &reader.token, "period=2026-Q1&by=age_band").await;
    assert_eq!(before["k"], 5);
    assert_eq!(cell(&before, json!({"age_band": "55_64"}))["suppressed"], false);
    // Another instance (or a restart) with a larger k: the period already computed keeps
    // its protection, or the two answers together would show what either withholds.
    let settings = vov::config::Settings { insights_k: 6, ..test_settings(&app.database_url) };
    let other = spawn_app_with(app.backend, settings, std::sync::Arc::new(DbGuard::Borrowed)).await;
    assert_eq!(table(&other, &reader.token, "period=2026-Q1&by=age_band").await, before);
    // A period computed from now on uses the new k: five of ten learned, fewer than six.
    let after = table(&other, &reader.token, "period=2026-Q2&by=age_band").await;
    assert_eq!(after["k"], 6);
    assert_eq!(cell(&after, json!({"age_band": "55_64"}))["suppressed"], true);
}

/// A published online event of `format` run by `org`, open for registration now.
async fn open_event(app: &TestApp, org: Uuid, format: EventFormat) -> (Event, EventContent) {
    let starts_at = Utc::now() + chrono::Duration::days(1);
    let mut input = EventInput {
        title: format!("A {} on learning at work", format.as_str()),
        summary: None,
        description: None,
        format,
        attendance_mode: AttendanceMode::Online,
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        time_zone: "Europe/Brussels".into(),
        venue: None,
        online_url: Some("https://live.example.org/room".into()),
        capacity: None,
        registration_opens_at: None,
        registration_closes_at: None,
        co_organisers: vec![],
        themes: vec![],
        stakeholder_groups: vec![],
        language: "nl".into(),
    };
    let open = EventContent::parse(input.clone(), org).unwrap();
    let event = app.store.create_event(org, &open, EventStatus::Published).await.unwrap();
    // Where it will be moved once everyone registered: 12 May 2026, in 2026-Q2.
    input.starts_at = "2026-05-12T08:00:00Z".parse().unwrap();
    input.ends_at = input.starts_at + chrono::Duration::hours(2);
    (event, EventContent::parse(input, org).unwrap())
}

/// `people` register for the event (moved to its real, past, dates afterwards): the first
/// `attended` of them check in, the first `committed` make a commitment, the first `done`
/// of those mark it done, and the first `proven` of those link it to a learning record.
async fn run_event(
    app: &TestApp,
    org: Uuid,
    format: EventFormat,
    people: &[Uuid],
    [attended, committed, done, proven]: [usize; 4],
) {
    let (event, past) = open_event(app, org, format).await;
    let mut registrations = Vec::new();
    for person in people {
        registrations.push(app.store.register(event.id, *person, None).await.unwrap().0.id);
    }
    let current = app.store.get_event(event.id).await.unwrap();
    let event = app.store.update_event(event.id, current.version, &past, EventStatus::Published).await.unwrap();
    for id in &registrations[..attended] {
        app.store.record_attendance(*id, RegistrationStatus::Attended).await.unwrap();
    }
    for (i, person) in people[..committed].iter().enumerate() {
        let status = if i < done { CommitmentStatus::Done } else { CommitmentStatus::InProgress };
        let content = CommitmentContent::parse("Try it with my team", None, status, None, false, None).unwrap();
        let commitment = app.store.create_commitment(&event, *person, &content).await.unwrap();
        if i < proven {
            let input = RecordInput {
                title: "Tried it with my team".into(),
                activity_type: ActivityType::OnTheJob,
                started_on: day(2026, 6, 1),
                event_id: Some(event.id),
                commitment_id: Some(commitment.id),
                ..RecordInput::default()
            };
            let record = LearningRecord::manual(
                *person,
                RecordContent::parse(input, "").unwrap(),
                Sharing::default(),
                vov::db::now(),
            );
            let linked = vov::domain::event::Commitment { version: commitment.version + 1, ..commitment };
            app.store.create_record(&record, Some(&linked)).await.unwrap();
        }
    }
}

async fn event_to_action_follows_members_from_registration_to_proof_and_withholds_small_formats(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let org = employer(&app).await;
    let workshop = crowd(&app, org, 1980, 21, 0, &[]).await;
    let webinar = crowd(&app, org, 1990, 3, 0, &[]).await;
    let inspiration = crowd(&app, org, 1970, 12, 0, &[]).await;
    // The 21st workshop participant opted out: not counted anywhere.
    app.store.set_counted_in_insights(workshop[20], false).await.unwrap();
    run_event(&app, org, EventFormat::Workshop, &workshop, [15, 13, 7, 3]).await;
    run_event(&app, org, EventFormat::Webinar, &webinar, [1, 1, 1, 1]).await;
    run_event(&app, org, EventFormat::InspirationSession, &inspiration, [6, 9, 4, 2]).await;
    // Registrations of staff (not members) do not count either.
    let staff = app.facilitator().await;
    run_event(&app, org, EventFormat::Workshop, &[staff.id], [1, 1, 1, 1]).await;

    let t =
        expect(get(&app, &reader.token, "/v1/insights/event-to-action?period=2026-Q2&by=format").await, StatusCode::OK)
            .await;
    assert_eq!(
        (t["insight"].as_str(), t["period"].as_str(), t["k"].as_i64()),
        (Some("event_to_action"), Some("2026-Q2"), Some(5))
    );
    assert_eq!(t["dimensions"], json!(["format"]));
    assert_eq!(t["cells"].as_array().unwrap().len(), 1 + EventFormat::ALL.len(), "{t}");
    let steps = |c: &Value| ["registered", "attended", "committed", "done", "proven"].map(|s| c[s].as_i64());
    // The workshop's 20 counted members (the 21st opted out).
    let w = cell(&t, json!({"format": "workshop"}));
    assert_eq!(steps(w), [Some(20), Some(15), Some(13), Some(7), None], "{w}");
    // Three of seven proved it: fewer than k did, so that step is withheld.
    assert_eq!(
        (&w["withheld_from"], &w["reason"], &w["suppressed"]),
        (&json!("proven"), &json!("withheld_together"), &json!(true))
    );
    assert_eq!(
        (&w["attendance_rate"], &w["done_rate"], &w["proven_rate"]),
        (&json!(0.75), &json!(0.538), &json!(null))
    );
    // Three people at the webinar: nothing shown.
    let b = cell(&t, json!({"format": "webinar"}));
    assert_eq!((steps(b), &b["reason"]), ([None; 5], &json!("withheld_together")));
    // The total minus the workshop would be the webinar: the inspiration session partners it.
    let i = cell(&t, json!({"format": "inspiration_session"}));
    assert_eq!(
        (steps(i), &i["withheld_from"], &i["reason"]),
        ([None; 5], &json!("registered"), &json!("withheld_together"))
    );
    // The total: everyone counted, every step shown (each side of each step is at least k
    // people, and so are the withheld formats together).
    let total = cell(&t, json!({"format": null}));
    assert_eq!(steps(total), [Some(35), Some(22), Some(23), Some(12), Some(6)], "{total}");
    assert_eq!(total["suppressed"], false);
    // Empty formats are zeros.
    assert_eq!(steps(cell(&t, json!({"format": "conference"}))), [Some(0); 5]);

    // Without `by`: the total alone, the same figures.
    let alone =
        expect(get(&app, &reader.token, "/v1/insights/event-to-action?period=2026-Q2").await, StatusCode::OK).await;
    assert_eq!(alone["dimensions"], json!([]));
    assert_eq!(alone["cells"].as_array().unwrap().len(), 1);
    assert_eq!(steps(&alone["cells"][0]), steps(total));
    assert_eq!(alone["computed_at"], t["computed_at"]);

    // The CSV says the same.
    let res = app
        .get("/v1/insights/event-to-action?period=2026-Q2&by=format")
        .bearer_auth(&reader.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "period,format,registered,attended,committed,done,proven,attendance_rate,commitment_rate,done_rate,proven_rate,suppressed,withheld_from,reason"
    );
    assert_eq!(lines[1], "2026-Q2,,35,22,23,12,6,0.629,0.657,0.522,0.5,false,,");
    assert!(lines.contains(&"2026-Q2,workshop,20,15,13,7,,0.75,0.65,0.538,,true,proven,withheld_together"), "{csv}");
    assert!(lines.contains(&"2026-Q2,webinar,,,,,,,,,,true,registered,withheld_together"), "{csv}");

    // Kept: an erasure or an opt-out now changes nothing of 2026-Q2.
    app.store.set_counted_in_insights(workshop[0], false).await.unwrap();
    let again =
        expect(get(&app, &reader.token, "/v1/insights/event-to-action?period=2026-Q2&by=format").await, StatusCode::OK)
            .await;
    assert_eq!(again, t);
    // Only `format` breaks it down.
    let bad = problem(get(&app, &reader.token, "/v1/insights/event-to-action?by=age_band").await, 400).await;
    assert!(bad["detail"].as_str().unwrap().contains("format"), "{bad}");
}

/// Moves what the API just wrote into 2026-Q2: `sql` sets a timestamp column to `$1`.
async fn backdate(app: &TestApp, sql: &'static str, id: &str) {
    let at: chrono::DateTime<Utc> = "2026-05-20T10:00:00Z".parse().unwrap();
    let id: Uuid = id.parse().unwrap();
    match app.backend {
        crate::helpers::Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).bind(at).bind(id).execute(&mut conn).await.unwrap();
        }
        crate::helpers::Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).bind(at).bind(id).execute(&mut conn).await.unwrap();
        }
    }
}

/// A published solution about `sector`, backdated to 2026-Q2; returns its id.
async fn published_solution(app: &TestApp, token: &str, sector: &str, maturity: &str) -> String {
    let body = json!({
        "title": format!("Leren op de werkvloer in sector {sector}"),
        "summary": "Samen uitgewerkt.",
        "context": {"sector": sector},
        "maturity": maturity,
    });
    let created = expect(post(app, token, "/v1/solutions", body).await, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap().to_string();
    let res = app
        .request(Method::PATCH, &format!("/v1/solutions/{id}"))
        .bearer_auth(token)
        .header("If-Match", format!("\"{}\"", created["version"]))
        .json(&json!({"status": "published"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
    backdate(app, "update solutions set published_at = $1 where id = $2", &id).await;
    id
}

async fn shared_solutions_count_what_is_listed_and_protect_the_people_who_adopt(app: TestApp) {
    let reader = app.user(PersonRole::PolicyReader).await;
    let author = app.member().await;
    // Two challenges about care (NACE 86: section Q), one without a sector.
    let challenges =
        [("Zorgpersoneel leert te weinig", Some("86.10")), ("Te weinig stages", Some("Q")), ("Vergrijzing", None)];
    for (title, sector) in challenges {
        let mut body = json!({"title": title});
        if let Some(sector) = sector {
            body["context"] = json!({"sector": sector});
        }
        let c = expect(post(&app, &author.token, "/v1/challenges", body).await, StatusCode::CREATED).await;
        backdate(&app, "update challenges set created_at = $1 where id = $2", c["id"].as_str().unwrap()).await;
    }
    let care = published_solution(&app, &author.token, "86.10", "piloted").await;
    let schools = published_solution(&app, &author.token, "P", "idea").await;
    // A draft is not counted: only its co-authors and facilitators see it.
    let draft = json!({"title": "Nog een idee", "summary": "Kladversie.", "context": {"sector": "P"}});
    expect(post(&app, &author.token, "/v1/solutions", draft).await, StatusCode::CREATED).await;
    let factory = published_solution(&app, &author.token, "C", "proven").await;
    // Seven members endorse the care solution, two the schools one (the 8th, and the 1st
    // again); ten others endorse the factory one. Six of the first seven adopt the care
    // solution, the 7th the schools one; the ten adopt the factory one.
    let mut members = Vec::new();
    for _ in 0..18 {
        members.push(app.member().await);
    }
    let endorse = |m: usize, target: String| {
        let (app, token) = (&app, members[m].token.clone());
        async move {
            let path = format!("/v1/solutions/{target}/endorsements/me");
            let res = app.request(Method::PUT, &path).bearer_auth(&token).json(&json!({})).send().await.unwrap();
            let e = expect(res, StatusCode::CREATED).await;
            backdate(app, "update endorsements set created_at = $1 where id = $2", e["id"].as_str().unwrap()).await;
        }
    };
    let adopt = |m: usize, target: String| {
        let (app, token) = (&app, members[m].token.clone());
        async move {
            let record = json!({
                "title": "Toegepast", "activity_type": "on_the_job", "started_on": "2026-06-01",
                "solution_id": target,
            });
            expect(post(app, &token, "/v1/learning-records", record).await, StatusCode::CREATED).await;
        }
    };
    for m in 0..7 {
        endorse(m, care.clone()).await;
        adopt(m, if m == 6 { schools.clone() } else { care.clone() }).await;
    }
    endorse(7, schools.clone()).await;
    endorse(0, schools.clone()).await;
    for m in 8..18 {
        endorse(m, factory.clone()).await;
        adopt(m, factory.clone()).await;
    }
    // Someone who opted out is not counted.
    app.store.set_counted_in_insights(members[1].id, false).await.unwrap();

    let t = expect(
        get(&app, &reader.token, "/v1/insights/shared-solutions?period=2026-Q2&by=sector").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((t["insight"].as_str(), t["dimensions"].clone()), (Some("shared_solutions"), json!(["sector"])));
    let total = cell(&t, json!({"sector": null}));
    let figures = |c: &Value| {
        ["challenges", "published_idea", "published_piloted", "published_proven", "endorsements", "adopters"]
            .map(|f| c[f].as_i64())
    };
    // Endorsements are listed with their authors on every solution: counted as they are,
    // the opted-out 2nd member's included (Q 7, P 2, C 10). Adopters are people per sector:
    // Q 5 (not the 2nd), P 1, C 10.
    assert_eq!(figures(total), [Some(3), Some(1), Some(1), Some(1), Some(19), Some(16)], "{total}");
    let q = cell(&t, json!({"sector": "Q"}));
    assert_eq!(figures(q), [Some(2), Some(0), Some(1), Some(0), Some(7), Some(5)], "{q}");
    assert_eq!(figures(cell(&t, json!({"sector": "unknown"}))), [Some(1), Some(0), Some(0), Some(0), Some(0), Some(0)]);
    // One adopter of the schools solution: too few people to show.
    let p = cell(&t, json!({"sector": "P"}));
    assert_eq!(figures(p), [Some(0), Some(1), Some(0), Some(0), Some(2), None], "{p}");
    assert_eq!((&p["adopters_reason"], &p["suppressed"]), (&json!("withheld_together"), &json!(true)));
    // Total minus Q would be P: another sector is withheld too. Not Q: with Q, the sum minus
    // Q's least (k, as it passes) would bound P below k. C's ten meet that margin. Neither
    // says which of the two is the small one.
    let c = cell(&t, json!({"sector": "C"}));
    assert_eq!(figures(c), [Some(0), Some(0), Some(0), Some(1), Some(10), None], "{c}");
    assert_eq!(c["adopters_reason"], "withheld_together");
    // Total only, and CSV.
    let alone =
        expect(get(&app, &reader.token, "/v1/insights/shared-solutions?period=2026-Q2").await, StatusCode::OK).await;
    assert_eq!(alone["cells"].as_array().unwrap().len(), 1);
    assert_eq!(figures(&alone["cells"][0]), figures(total));
    let res = app
        .get("/v1/insights/shared-solutions?period=2026-Q2&by=sector")
        .bearer_auth(&reader.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "period,sector,challenges,published_idea,published_piloted,published_proven,endorsements,adopters,suppressed,adopters_reason"
    );
    assert_eq!(lines[1], "2026-Q2,,3,1,1,1,19,16,false,");
    assert!(lines.contains(&"2026-Q2,P,0,1,0,0,2,,true,withheld_together"), "{csv}");
}
