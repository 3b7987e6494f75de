//! Cursor pagination: every item exactly once, cursors bound to their query.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json, problem};
use crate::on_both_databases;

on_both_databases!(
    pages_return_every_item_exactly_once_in_order,
    the_link_header_points_at_the_next_page,
    a_cursor_cannot_be_used_with_another_query,
    pages_stay_consistent_while_items_are_added,
    every_list_answers_its_pages_etag_and_304_while_the_page_is_the_same,
);

async fn seed(app: &TestApp, n: usize) -> String {
    let f = app.facilitator().await;
    for i in 0..n {
        let body = json!({"slug": format!("theme-{i:02}"), "label_nl": format!("Thema {i}"), "label_en": format!("Theme {i}")});
        let res = app.post("/v1/themes").bearer_auth(&f.token).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    f.token
}

async fn all_pages(app: &TestApp, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/v1/themes?{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = json(app.get(&url).send().await.unwrap()).await;
        seen.extend(page["data"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return seen,
        }
    }
}

async fn pages_return_every_item_exactly_once_in_order(app: TestApp) {
    seed(&app, 7).await;
    let expected: Vec<String> = (0..7).map(|i| format!("theme-{i:02}")).collect();
    assert_eq!(all_pages(&app, "limit=3").await, expected);
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(all_pages(&app, "limit=2&sort=-slug").await, reversed);
    assert_eq!(all_pages(&app, "limit=1&sort=created_at").await, expected);
    // The default page holds up to 50.
    let page = json(app.get("/v1/themes").send().await.unwrap()).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 7);
}

async fn the_link_header_points_at_the_next_page(app: TestApp) {
    seed(&app, 3).await;
    let res = app.get("/v1/themes?limit=2&q=theme").send().await.unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_string();
    let page = json(res).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    assert!(link.starts_with("</v1/themes?limit=2&q=theme&cursor="), "{link}");
    assert!(link.ends_with("rel=\"next\""), "{link}");
    let next = &link[1..link.find('>').unwrap()];
    assert!(next.contains(cursor));
    let res = app.get(next).send().await.unwrap();
    assert!(res.headers().get("link").is_none(), "the last page has no next link");
    let last = json(res).await;
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    assert_eq!(last["next_cursor"], Value::Null);
}

async fn a_cursor_cannot_be_used_with_another_query(app: TestApp) {
    seed(&app, 3).await;
    let page = json(app.get("/v1/themes?limit=1&sort=slug").send().await.unwrap()).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    for other in ["sort=-slug", "sort=label_nl", "q=theme"] {
        let res = app.get(&format!("/v1/themes?limit=1&{other}&cursor={cursor}")).send().await.unwrap();
        problem(res, 400).await;
    }
    // A different page size is the same query.
    let res = app.get(&format!("/v1/themes?limit=2&sort=slug&cursor={cursor}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // An edited cursor is refused.
    let mut forged = cursor.to_string();
    forged.replace_range(0..1, if forged.starts_with('e') { "f" } else { "e" });
    let res = app.get(&format!("/v1/themes?limit=1&sort=slug&cursor={forged}")).send().await.unwrap();
    problem(res, 400).await;
}

async fn pages_stay_consistent_while_items_are_added(app: TestApp) {
    let token = seed(&app, 4).await;
    let first = json(app.get("/v1/themes?limit=2").send().await.unwrap()).await;
    // A theme sorting before the cursor appears meanwhile: the next page neither repeats
    // nor skips what followed the cursor.
    let body = json!({"slug": "aaa-first", "label_nl": "A", "label_en": "A"});
    app.post("/v1/themes").bearer_auth(&token).json(&body).send().await.unwrap();
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = json(app.get(&format!("/v1/themes?limit=2&cursor={cursor}")).send().await.unwrap()).await;
    let slugs: Vec<&str> = next["data"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["theme-02", "theme-03"]);
}

/// A client that polls a list sends the `ETag` it has and gets `304` while the page is the
/// same, on every list of the API; a change on the page gives a new tag.
async fn every_list_answers_its_pages_etag_and_304_while_the_page_is_the_same(app: TestApp) {
    let f = app.facilitator().await;
    let doc = vov::api::openapi_json();
    let mut lists = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let ok = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap_or("");
        if ok.ends_with("List") && !path.contains('{') {
            lists.push(path.clone());
        }
    }
    assert!(lists.len() >= 9, "{lists:?}");
    for path in &lists {
        let res = app.get(path).bearer_auth(&f.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let tag =
            res.headers().get("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_str().unwrap().to_string();
        let again = app.get(path).bearer_auth(&f.token).header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag, "{path}");
    }
    // A change on the page: a new tag, and the old one no longer matches.
    let res = app.get("/v1/themes").bearer_auth(&f.token).send().await.unwrap();
    let tag = res.headers()["etag"].to_str().unwrap().to_string();
    let theme =
        json!({"slug": "leren-op-de-werkvloer", "label_nl": "Leren op de werkvloer", "label_en": "Workplace learning"});
    let made = app.post("/v1/themes").bearer_auth(&f.token).json(&theme).send().await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let res = app.get("/v1/themes").bearer_auth(&f.token).header("if-none-match", &tag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), tag);
    assert!(json(res).await["data"].as_array().unwrap().iter().any(|t| t["slug"] == "leren-op-de-werkvloer"));
}
