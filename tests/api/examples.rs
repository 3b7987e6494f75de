//! Every documented request example works against the demo data: a newcomer who signs in
//! to Swagger UI as the demo account an operation names (`x-demo-caller`) and presses
//! Execute without editing anything gets a success, not a 404, 409 or 422.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(every_documented_request_example_succeeds_against_the_demo_data);

/// One documented request: the operation, who tries it, and the request built from the
/// spec's examples alone.
struct Tried {
    method: Method,
    path: String,
    caller: Option<String>,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Value)>,
}

/// The example of a body: the media type's own, else the referenced schema's.
fn body_example(doc: &Value, media: &Value) -> Option<Value> {
    if let Some(example) = media.get("example") {
        return Some(example.clone());
    }
    let schema = &media["schema"];
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.trim_start_matches('#')).and_then(|s| s.get("example")).cloned(),
        None => schema.get("example").cloned(),
    }
}

/// Every operation's documented request, with the missing examples listed by name.
fn documented_requests(doc: &Value) -> (Vec<Tried>, Vec<String>) {
    let mut tried = Vec::new();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let name = format!("{method} {path}");
            let mut url = path.clone();
            let mut query = Vec::new();
            let mut headers = Vec::new();
            for param in op["parameters"].as_array().into_iter().flatten() {
                let required = param["required"].as_bool().unwrap_or(false);
                let example = param.get("example").or_else(|| param["schema"].get("example"));
                let value = match example {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None if required => {
                        missing.push(format!("{name}: parameter `{}`", param["name"]));
                        continue;
                    }
                    None => continue,
                };
                let pname = param["name"].as_str().unwrap();
                match param["in"].as_str().unwrap() {
                    "path" => url = url.replace(&format!("{{{pname}}}"), &value),
                    // Optional filters carry no example, so nothing is pre-filled.
                    "query" if required => query.push(format!("{pname}={value}")),
                    "header" if required => headers.push((pname.to_string(), value)),
                    _ => {}
                }
            }
            if !query.is_empty() {
                url = format!("{url}?{}", query.join("&"));
            }
            let body = op["requestBody"]["content"].as_object().and_then(|content| {
                let (media_type, media) = content.iter().next()?;
                match body_example(doc, media) {
                    Some(example) => Some((media_type.clone(), example)),
                    None => {
                        missing.push(format!("{name}: body"));
                        None
                    }
                }
            });
            let caller = op.get("x-demo-caller").and_then(Value::as_str).map(str::to_string);
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
            if caller.is_none() && !public {
                missing.push(format!("{name}: x-demo-caller"));
            }
            tried.push(Tried { method, path: path.clone(), caller, url, headers, body });
        }
    }
    (tried, missing)
}

async fn every_documented_request_example_succeeds_against_the_demo_data(app: TestApp) {
    let client = vov::demo::seed(&app.store).await.unwrap();
    assert!(client.is_some(), "the first seeding makes (and the first start prints) the demo integration client");
    let doc: Value = app.get("/openapi.json").send().await.unwrap().json().await.unwrap();
    let (mut requests, missing) = documented_requests(&doc);
    assert!(missing.is_empty(), "examples missing:\n{}", missing.join("\n"));
    assert!(requests.len() > 100, "the spec has its operations ({})", requests.len());
    // What creates and changes first, then what removes (each removal names its own object).
    requests.sort_by_key(|r| r.method == Method::DELETE);
    let mut tokens: HashMap<String, String> = HashMap::new();
    let mut failures = Vec::new();
    for r in &requests {
        let mut req = app.request(r.method.clone(), &r.url);
        if let Some(caller) = &r.caller {
            if caller == vov::api::examples::SCIM_CALLER {
                tokens.insert(caller.clone(), client.as_ref().unwrap().scim_token.clone());
            }
            if !tokens.contains_key(caller) {
                let res = app.password_grant(caller, vov::demo::PASSWORD).await;
                assert_eq!(res.status(), StatusCode::OK, "the demo caller {caller} signs in");
                let body: Value = res.json().await.unwrap();
                tokens.insert(caller.clone(), body["access_token"].as_str().unwrap().to_string());
            }
            req = req.bearer_auth(&tokens[caller]);
        }
        for (name, value) in &r.headers {
            req = req.header(name, value);
        }
        req = match &r.body {
            Some((media_type, Value::String(text))) => req.header("content-type", media_type).body(text.clone()),
            Some((media_type, example)) if media_type == "application/x-www-form-urlencoded" => req.form(example),
            Some((media_type, example)) => req.header("content-type", media_type).body(example.to_string()),
            None => req,
        };
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        // A batch answers 200 with a result per item: each item must have succeeded too.
        let item_failed = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
            v["results"].as_array().and_then(|items| items.iter().find(|i| i["result"] == "error").cloned())
        });
        if !status.is_success() || item_failed.is_some() {
            let caller = r.caller.as_deref().unwrap_or("anonymous");
            failures.push(format!("{} {} as {caller} ({}): {status} {text}", r.method, r.path, r.url));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} documented requests failed on the demo data ({:?}):\n{}",
        failures.len(),
        requests.len(),
        app.backend,
        failures.join("\n")
    );
}
