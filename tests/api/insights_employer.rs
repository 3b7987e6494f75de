//! An employer's own view of the insights: who may read it, its own figures protected as
//! the network's are, and the sector benchmark's dominance rule (decision 11, rule 5).

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use vov::auth::rights::PersonRole;

use crate::helpers::{Backend, TestApp, problem};
use crate::insights::{cell, crowd, day, employer_in};
use crate::on_both_databases;
use crate::stakeholders::{client_token, expect, get, person_in};

on_both_databases!(
    an_employer_reads_its_own_figures_beside_its_sector_and_nobody_else_does,
    a_benchmark_dominated_by_two_organisations_is_withheld,
    a_quarter_computed_before_organisations_parts_were_kept_is_not_served,
);

fn path(org: Uuid, query: &str) -> String {
    format!("/v1/organisations/{org}/insights/learning-participation?{query}")
}

fn benchmark(table: &Value, group: Value) -> &Value {
    table["benchmark"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == group)
        .unwrap_or_else(|| panic!("no benchmark cell {group} in {table}"))
}

async fn an_employer_reads_its_own_figures_beside_its_sector_and_nobody_else_does(app: TestApp) {
    let facilitator = app.facilitator().await;
    let reader = app.user(PersonRole::PolicyReader).await;
    let in_q1 = [day(2026, 2, 10)];
    // Manufacturing (C): the viewer (14 people: 8 in their thirties, 4 older, and its admin
    // and an employee who logged nothing), one large employer (41 with its admin) and three
    // small ones (10 each). Care (Q) beside it.
    let own = employer_in(&app, "C").await;
    crowd(&app, own, 1988, 8, 4, &in_q1).await;
    crowd(&app, own, 1960, 4, 2, &in_q1).await;
    let large = employer_in(&app, "C").await;
    crowd(&app, large, 1988, 40, 20, &in_q1).await;
    for _ in 0..3 {
        let small = employer_in(&app, "C").await;
        crowd(&app, small, 1988, 10, 5, &in_q1).await;
    }
    let care = employer_in(&app, "86.10").await;
    crowd(&app, care, 1970, 20, 10, &in_q1).await;
    let (admin, _) = person_in(&app, &facilitator.token, &own.to_string(), "Own Admin", "org_admin").await;
    let (other_admin, _) = person_in(&app, &facilitator.token, &large.to_string(), "Large Admin", "org_admin").await;

    // Only the organisation's own admins read it: not its members, not other admins, not
    // policy readers or facilitators (who read the network's tables, without organisations),
    // not a client with `insights:read`.
    let org = own.to_string();
    let dashboard = client_token(&app, &facilitator.token, &org, &["insights:read"]).await;
    let (member, _) = person_in(&app, &facilitator.token, &org, "Own Employee", "employee").await;
    let q1 = path(own, "period=2026-Q1");
    problem(app.get(&q1).send().await.unwrap(), 401).await;
    for token in [&member.token, &other_admin.token, &reader.token, &facilitator.token, &dashboard] {
        let body = problem(get(&app, token, &q1).await, 403).await;
        assert!(body["detail"].as_str().unwrap().contains("admins"), "{body}");
    }
    let theirs = expect(get(&app, &other_admin.token, &path(large, "period=2026-Q1")).await, StatusCode::OK).await;
    assert_eq!(benchmark(&theirs, json!({}))["people"], 85, "{theirs}");

    // The totals: the organisation's 14 (6 learned), the sector's 85 (41). The sector less
    // the viewer and the large employer is 30 people, 15 on each side: shown.
    let t = expect(get(&app, &admin.token, &q1).await, StatusCode::OK).await;
    assert_eq!(t["sector"], "C");
    assert_eq!(t["organisation_id"], org);
    assert_eq!(t["k"], 5);
    let total = cell(&t, json!({}));
    assert_eq!((total["people"].as_i64(), total["participants"].as_i64()), (Some(14), Some(6)), "{t}");
    let sector = benchmark(&t, json!({}));
    assert_eq!((sector["people"].as_i64(), sector["participants"].as_i64()), (Some(85), Some(41)), "{t}");
    assert_eq!(sector["participation_rate"], 0.482);

    // By age band: the organisation's 8 in their thirties (4 learned), 4 older ones and the
    // two aged 25 to 34 (none learned) are each too small, so all are withheld, together, and the total does not tell
    // them apart.
    let t = expect(get(&app, &admin.token, &path(own, "period=2026-Q1&by=age_band")).await, StatusCode::OK).await;
    for band in ["35_44", "65_plus", "25_34"] {
        let c = cell(&t, json!({"age_band": band}));
        assert_eq!(c["suppressed"], true, "{t}");
        assert_eq!(c["reason"], "withheld_together", "{t}");
        assert!(c["people"].is_null());
    }
    assert_eq!(cell(&t, json!({"age_band": null}))["people"], 14);
    // The sector by age band is the network's table by sector and age band, cut to C: its
    // inside has a small cell (the viewer's 4 older people), so it shows the sector's total
    // alone, as the policy reader's table does.
    let network = expect(
        get(&app, &reader.token, "/v1/insights/learning-participation?period=2026-Q1&by=age_band,sector").await,
        StatusCode::OK,
    )
    .await;
    for band in [Value::Null, json!("35_44"), json!("65_plus")] {
        let theirs = cell(&network, json!({"age_band": band, "sector": "C"}));
        let ours = benchmark(&t, json!({"age_band": band}));
        for field in ["people", "participants", "suppressed", "reason"] {
            assert_eq!(theirs[field], ours[field], "{field} of {band}: {theirs} vs {ours}");
        }
    }
    assert_eq!(benchmark(&t, json!({"age_band": "35_44"}))["suppressed"], true);
    assert_eq!(benchmark(&t, json!({"age_band": null}))["people"], 85);

    // CSV: the same rows, told apart by scope.
    let res = app.get(&path(own, "period=2026-Q1&by=age_band")).bearer_auth(&admin.token).header("Accept", "text/csv");
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "period,scope,sector,age_band,people,participants,participation_rate,hours_per_participant,suppressed,reason,hours_suppressed"
    );
    let n = t["cells"].as_array().unwrap().len();
    assert_eq!(lines.len(), 1 + 2 * n, "{text}");
    assert!(lines[1].starts_with("2026-Q1,organisation,C,,14,6,0.429,1.5,false,,false"), "{text}");
    assert!(lines[1 + n].starts_with("2026-Q1,sector,C,,85,41,0.482,1.5,false,,false"), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("2026-Q1,organisation,C,65_plus,,,,,true,withheld_together")), "{text}");

    // What may be asked: one of the two person dimensions, a closed quarter.
    for query in ["by=sector", "by=age_band,stakeholder_group", "by=region", "period=2099-Q1", "period=2026-Q5"] {
        problem(get(&app, &admin.token, &path(own, query)).await, 400).await;
    }
}

async fn a_benchmark_dominated_by_two_organisations_is_withheld(app: TestApp) {
    let facilitator = app.facilitator().await;
    let reader = app.user(PersonRole::PolicyReader).await;
    let in_q1 = [day(2026, 3, 1), day(2026, 5, 1)];
    // Construction (F): two employers of 20 (10 learned each; the first has its admin too)
    // and one of 6 (3 learned), in the first quarter and the second.
    let first = employer_in(&app, "41.20").await;
    crowd(&app, first, 1980, 20, 10, &in_q1).await;
    let second = employer_in(&app, "F").await;
    crowd(&app, second, 1980, 20, 10, &in_q1).await;
    let small = employer_in(&app, "43").await;
    crowd(&app, small, 1980, 6, 3, &in_q1).await;
    let (admin, _) = person_in(&app, &facilitator.token, &first.to_string(), "First Admin", "org_admin").await;

    // The network shows the sector: 47 people, 23 learned.
    let network = expect(
        get(&app, &reader.token, "/v1/insights/learning-participation?period=2026-Q1&by=sector").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cell(&network, json!({"sector": "F"}))["participants"], 23, "{network}");

    // The first employer knows its own 21; with the second's admin it would know 20 more, and
    // the sector less both is the small employer alone: 3 learned, 3 did not. So the sector's
    // figures are withheld from them, while their own are shown.
    let t = expect(get(&app, &admin.token, &path(first, "period=2026-Q1")).await, StatusCode::OK).await;
    let own = cell(&t, json!({}));
    assert_eq!((own["people"].as_i64(), own["participants"].as_i64()), (Some(21), Some(10)), "{t}");
    let sector = benchmark(&t, json!({}));
    assert_eq!(sector["suppressed"], true, "{t}");
    assert_eq!(sector["reason"], "dominated", "{t}");
    assert!(sector["people"].is_null() && sector["hours_per_participant"].is_null(), "{t}");

    // Once a fourth employer of 12 (6 learned) joins the sector, a later quarter shows it: less
    // the viewer and the largest other, 18 people remain, 9 on each side.
    let fourth = employer_in(&app, "F").await;
    let in_q2 = [day(2026, 5, 1)];
    let people = crowd(&app, fourth, 1980, 12, 6, &in_q2).await;
    assert_eq!(people.len(), 12);
    let t = expect(get(&app, &admin.token, &path(first, "period=2026-Q2")).await, StatusCode::OK).await;
    let sector = benchmark(&t, json!({}));
    assert_eq!(sector["suppressed"], false, "{t}");
    assert_eq!(sector["people"], 59, "{t}");
    // Q1 is as it was computed.
    let again = expect(get(&app, &admin.token, &path(first, "period=2026-Q1")).await, StatusCode::OK).await;
    assert_eq!(benchmark(&again, json!({}))["reason"], "dominated");
}

async fn a_quarter_computed_before_organisations_parts_were_kept_is_not_served(app: TestApp) {
    let facilitator = app.facilitator().await;
    let org = employer_in(&app, "C").await;
    let (admin, _) = person_in(&app, &facilitator.token, &org.to_string(), "Admin", "org_admin").await;
    let sql = "insert into insight_snapshots (metric, period, breakdown, computed_at, k, by_organisation)
               values ('learning_participation', '2025-Q3', '[]', $1, 5, $2)";
    let at = chrono::Utc::now();
    match app.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).bind(at).bind(false).execute(&mut conn).await.unwrap();
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).bind(at).bind(false).execute(&mut conn).await.unwrap();
        }
    }
    let body = problem(get(&app, &admin.token, &path(org, "period=2025-Q3")).await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("2025-Q3"), "{body}");
    // A quarter computed now keeps the parts.
    expect(get(&app, &admin.token, &path(org, "period=2025-Q4")).await, StatusCode::OK).await;
}
