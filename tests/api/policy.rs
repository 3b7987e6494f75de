//! One answer for one situation across endpoints: what a caller may know exists is 403 when
//! they may not act on it, whatever the endpoint; what they may not know of is 404.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::events::world;
use crate::helpers::{TestApp, problem};
use crate::on_both_databases;
use crate::stakeholders::client_token;

on_both_databases!(another_organisations_client_gets_the_same_answer_on_every_sync_path);

/// Organisations are public in the network, so a client of B acting on A's people,
/// memberships or records is refused (403) on each of those paths alike; an organisation that
/// does not exist is 404 on each of them.
async fn another_organisations_client_gets_the_same_answer_on_every_sync_path(app: TestApp) {
    let w = world(&app).await;
    let f = &w.facilitator.token;
    let scopes = ["people:read", "people:write", "learning-records:read", "learning-records:write"];
    let client_b = client_token(&app, f, &w.b, &scopes).await;
    let person = json!({"name": "Nieuw", "email": "nieuw@zorgnetkempen.example", "stakeholder_group": "employee",
                        "membership": {"role": "employee", "starts_on": "2024-01-01"}});
    let mut item = person.clone();
    item["external_id"] = json!("E-1");
    let record = json!({"person_id": w.member_a.id, "title": "E-learning", "activity_type": "online_course",
                        "started_on": "2027-03-01"});
    let mut record_item = record.clone();
    record_item["external_id"] = json!("LR-1");
    let membership = json!({"person_id": w.member_a.id, "role": "employee", "starts_on": "2024-01-01"});
    let paths = |org: &str| {
        vec![
            (Method::GET, format!("/v1/organisations/{org}/memberships"), None),
            (Method::POST, format!("/v1/organisations/{org}/memberships"), Some(membership.clone())),
            (Method::POST, format!("/v1/organisations/{org}/people"), Some(person.clone())),
            (Method::PUT, format!("/v1/organisations/{org}/people/by-ref/sdworx/E-1"), Some(person.clone())),
            (
                Method::POST,
                format!("/v1/organisations/{org}/people/batch"),
                Some(json!({"system": "sdworx", "items": [item.clone()]})),
            ),
            (Method::PUT, format!("/v1/organisations/{org}/memberships/by-ref/sdworx/M-1"), Some(membership.clone())),
            (Method::PUT, format!("/v1/organisations/{org}/learning-records/by-ref/sdworx/LR-1"), Some(record.clone())),
            (Method::GET, format!("/v1/organisations/{org}/people/by-ref/sdworx/E-1"), None),
            (Method::DELETE, format!("/v1/organisations/{org}/people/by-ref/sdworx/E-1"), None),
            (Method::GET, format!("/v1/organisations/{org}/memberships/by-ref/sdworx/M-1"), None),
            (Method::DELETE, format!("/v1/organisations/{org}/memberships/by-ref/sdworx/M-1"), None),
            (Method::GET, format!("/v1/organisations/{org}/learning-records/by-ref/sdworx/LR-1"), None),
            (Method::DELETE, format!("/v1/organisations/{org}/learning-records/by-ref/sdworx/LR-1"), None),
            (
                Method::POST,
                format!("/v1/organisations/{org}/learning-records/batch"),
                Some(json!({"system": "sdworx", "items": [record_item.clone()]})),
            ),
        ]
    };
    for (org, status) in [(w.a.clone(), 403), (Uuid::now_v7().to_string(), 404)] {
        for (method, path, body) in paths(&org) {
            let mut req = app.request(method.clone(), &path).bearer_auth(&client_b);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), status, "{method} {path}");
            problem(res, status).await;
        }
    }
}
