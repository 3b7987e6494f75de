//! The change feed: everything created, updated or deleted after a cursor, in commit order.

use crate::api::Routes;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::organisations::{OrganisationRef, own_refs_in};
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::db::feed::{ChangeEntry, Operation, ResourceType};
use crate::error::{ApiError, Problem, Result};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_changes);
}

/// Default and largest number of changes per page.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// Where to continue, and what to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// `next_cursor` of your previous read; leave it out to read from the start, which
    /// holds the current state of everything you may see.
    pub after: Option<String>,
    /// Resource types to include, comma-separated (default: all you may see): `theme`,
    /// `organisation`, `person`, `membership`, `event`, `registration`, `commitment`,
    /// `learning_record`, `challenge`, `solution`, `comment`, `endorsement`.
    #[param(
        pattern = "^(theme|organisation|person|membership|event|registration|commitment|learning_record|challenge|solution|comment|endorsement)(,(theme|organisation|person|membership|event|registration|commitment|learning_record|challenge|solution|comment|endorsement))*$",
        example = "person,membership"
    )]
    pub types: Option<String>,
    /// Changes per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000, example = 1000)]
    pub limit: Option<i64>,
}

/// One change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "person",
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "version": 2,
    "operation": "update",
    "changed_at": "2026-11-27T09:00:00Z",
    "resource": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "view": "full", "name": "Mira Peeters", "stakeholder_group": "employee", "version": 2}
}))]
pub struct ChangeView {
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub id: Uuid,
    /// The resource's version after this change (a delete counts as one).
    pub version: i64,
    pub operation: Operation,
    pub changed_at: DateTime<Utc>,
    /// The resource as of this version, as its `GET` shows it in full; `null` for a delete.
    #[schema(value_type = Option<Object>)]
    pub resource: Option<Box<RawValue>>,
    /// Your organisations' ids for a person or membership (each organisation's system and
    /// id), as their views show them, as they are when you read the feed: for the admins of
    /// an organisation and its clients that read its people. Absent otherwise, and on
    /// tombstones (references go with what they name: keep our `id` next to yours).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub external_refs: Vec<OrganisationRef>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "data": [
        {"type": "person", "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "version": 2, "operation": "update",
         "changed_at": "2026-11-27T09:00:00Z",
         "resource": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "view": "full", "name": "Mira Peeters", "version": 2}},
        {"type": "membership", "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "version": 3, "operation": "delete",
         "changed_at": "2026-11-27T09:01:00Z", "resource": null}
    ],
    "next_cursor": "MTA0Mg.Jx0c8xkq2m1g0dVqf3n0pW",
    "has_more": false
}))]
pub struct ChangesPage {
    /// Changes in commit order.
    pub data: Vec<ChangeView>,
    /// Store it and pass it as `after` next time: you will get exactly the changes that
    /// follow. Always present.
    pub next_cursor: String,
    /// Whether more changes follow right away (read again without waiting).
    pub has_more: bool,
}

const CURSOR_QUERY: &str = "changes";

/// Read the change feed
///
/// Every create, update and delete you may see, in commit order: themes and
/// organisations for every caller; people and memberships of your organisation for an
/// integration client with `people:read`; yourself and the members of the organisations
/// you administer for a person; everything for facilitators. Deletes are tombstones
/// (`resource: null`).
///
/// Store `next_cursor` and pass it as `after` on your next read: you never miss a change
/// and never see one twice, however writes interleave across service instances. Without
/// `after`, the feed starts at its beginning, which holds the latest change of every
/// existing resource: reading it through is a full sync.
///
/// The feed holds one entry with content per resource, its latest: each change replaces
/// the earlier ones, so a client that reads behind may skip versions but ends at the
/// current state. It serves only what you may read now: when you lose sight of something
/// (its owner withdrew a share, a person left your organisation, you left a draft), you
/// get a tombstone and its earlier content is gone from your feed. History older than the retention
/// period (30 days by default) is compacted; a cursor from before it answers `410`: read
/// again from the start.
#[utoipa::path(
    tag = "Sync",
    operation_id = "list_changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "A page of changes.", body = ChangesPage),
        (status = 410, description = "The cursor is older than the retained history; read again from the start.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/changes")]
async fn list_changes(
    caller: Caller,
    query: web::Query<ChangesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
        Some(n) => return Err(ApiError::BadRequest(format!("`limit` must be between 1 and {MAX_LIMIT} (got {n})."))),
    };
    let mut types = Vec::new();
    if query.types.as_deref() == Some("") {
        return Err(ApiError::BadRequest("`types` is empty; leave it out to get every type.".into()));
    }
    for name in query.types.as_deref().map(|t| t.split(',').collect::<Vec<_>>()).unwrap_or_default() {
        let t = ResourceType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
            ApiError::BadRequest(format!("`types` lists `{name}`; use {}.", known.join(", ")))
        })?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let after: i64 = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => 0,
        Some(cursor) => state.cursors.decode_value(CURSOR_QUERY, cursor)?,
    };
    let access = Access::of(&caller);
    let page = state.store.read_changes(&access.feed_reader(), after, &types, limit).await?;
    // Checked after the read, so that a purge running meanwhile cannot hide what it removed.
    let horizon = state.store.feed_horizon().await?;
    if after > 0 && after < horizon {
        return Err(ApiError::Gone(
            "This cursor is older than the retained history. Read the feed again from the start (no `after`): it \
             holds the current state of everything you may see."
                .into(),
        ));
    }
    // At the end, the cursor moves past changes the caller may not see, up to the head.
    let last = match page.entries.last() {
        Some(e) if page.more => e.seq,
        _ => page.head.max(after),
    };
    let data = change_views(&state.store, &access, page.entries).await?;
    Ok(HttpResponse::Ok().json(ChangesPage {
        data,
        next_cursor: state.cursors.encode_value(CURSOR_QUERY, &last),
        has_more: page.more,
    }))
}

/// The feed's entries as the feed shows them to `access`: each with the caller's own
/// references for people and memberships. Webhook deliveries carry the same.
pub async fn change_views(
    store: &crate::db::Store,
    access: &Access,
    entries: Vec<ChangeEntry>,
) -> Result<Vec<ChangeView>> {
    let referenced: Vec<Uuid> = entries
        .iter()
        .filter(|e| e.body.is_some() && matches!(e.resource_type, ResourceType::Person | ResourceType::Membership))
        .map(|e| e.resource_id)
        .collect();
    let refs = own_refs_in(store, access, &referenced).await?;
    let mut data = Vec::with_capacity(entries.len());
    for e in entries {
        let external_refs = match (&e.body, e.resource_type) {
            (Some(_), ResourceType::Person | ResourceType::Membership) => {
                refs.get(&e.resource_id).cloned().unwrap_or_default()
            }
            _ => Vec::new(),
        };
        data.push(ChangeView {
            resource_type: e.resource_type,
            id: e.resource_id,
            version: e.version,
            operation: e.operation,
            changed_at: e.changed_at,
            resource: e
                .body
                .map(RawValue::from_string)
                .transpose()
                .map_err(|err| ApiError::Internal(anyhow::anyhow!("stored change body: {err}")))?,
            external_refs,
        });
    }
    Ok(data)
}

/// The schema of each resource type's content in the feed: its view, as its `GET` shows it.
pub const FEED_VIEWS: [(ResourceType, &str); 12] = [
    (ResourceType::Theme, "ThemeView"),
    (ResourceType::Organisation, "OrganisationView"),
    (ResourceType::Person, "PersonView"),
    (ResourceType::Membership, "MembershipView"),
    (ResourceType::Event, "EventView"),
    (ResourceType::Registration, "RegistrationView"),
    (ResourceType::Commitment, "CommitmentView"),
    (ResourceType::LearningRecord, "RecordView"),
    (ResourceType::Challenge, "ChallengeView"),
    (ResourceType::Solution, "SolutionView"),
    (ResourceType::Comment, "CommentView"),
    (ResourceType::Endorsement, "EndorsementView"),
];

/// Types the feed in the OpenAPI document: `ChangeView` becomes a `oneOf` of one schema per
/// resource type (`PersonChange`, ...), told apart by `type` (a discriminator), each with
/// `resource` as that type's view or `null`, so generated clients get typed entries.
pub fn type_the_feed(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    let Some(base) = schemas.get("ChangeView").cloned() else { return };
    let mut variants = Vec::new();
    let mut mapping = serde_json::Map::new();
    let mut person_example = Value::Null;
    for (resource_type, view) in FEED_VIEWS {
        let name = format!("{}Change", pascal(resource_type.as_str()));
        let mut variant = base.clone();
        if let Some(object) = variant.as_object_mut() {
            object.remove("example");
            object.insert(
                "description".into(),
                json!(format!(
                    "A change of a `{}`; `resource` is its `{view}`, `null` for a delete.",
                    resource_type.as_str()
                )),
            );
        }
        variant["properties"]["type"] = json!({"type": "string", "enum": [resource_type.as_str()]});
        variant["properties"]["resource"] = json!({
            "description": format!("The {} as of this version, as its `GET` shows it; `null` for a delete.", resource_type.as_str()),
            "oneOf": [{"$ref": format!("#/components/schemas/{view}")}, {"type": "null"}]
        });
        let view_example = schemas.get(view).and_then(|v| v.get("example")).cloned().unwrap_or(Value::Null);
        variant["example"] = json!({
            "type": resource_type.as_str(),
            "id": view_example.get("id").cloned().unwrap_or(json!("0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11")),
            "version": view_example.get("version").cloned().unwrap_or(json!(1)),
            "operation": if view_example.is_null() { "delete" } else { "update" },
            "changed_at": "2026-11-27T09:00:00Z",
            "resource": view_example
        });
        if resource_type == ResourceType::Person {
            person_example = variant["example"]["resource"].clone();
        }
        mapping.insert(resource_type.as_str().into(), json!(format!("#/components/schemas/{name}")));
        variants.push(json!({"$ref": format!("#/components/schemas/{name}")}));
        schemas.insert(name, variant);
    }
    let update = json!({
        "type": "person", "id": person_example["id"], "version": person_example["version"], "operation": "update",
        "changed_at": person_example["updated_at"], "resource": person_example
    });
    let delete = json!({
        "type": "membership", "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "version": 3, "operation": "delete",
        "changed_at": "2026-11-27T09:01:00Z", "resource": null
    });
    schemas.insert(
        "ChangeView".into(),
        json!({
            "description": base.get("description").cloned().unwrap_or(json!("One change of the feed.")),
            "oneOf": variants,
            "discriminator": {"propertyName": "type", "mapping": mapping},
            "example": update
        }),
    );
    if let Some(page) = schemas.get_mut("ChangesPage") {
        page["example"]["data"] = json!([update, delete]);
    }
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_of_the_feed_has_its_typed_entry() {
        let mut types: Vec<&str> = FEED_VIEWS.iter().map(|(t, _)| t.as_str()).collect();
        let mut all: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        types.sort_unstable();
        all.sort_unstable();
        assert_eq!(types, all);
        let doc = crate::api::openapi_json();
        let mapping = doc.pointer("/components/schemas/ChangeView/discriminator/mapping").unwrap().as_object().unwrap();
        assert_eq!(mapping.len(), 12);
        for (t, view) in FEED_VIEWS {
            let target = mapping[t.as_str()].as_str().unwrap().trim_start_matches("#/components/schemas/");
            let variant = &doc["components"]["schemas"][target];
            assert_eq!(variant["properties"]["type"]["enum"][0], t.as_str());
            assert_eq!(variant["properties"]["resource"]["oneOf"][0]["$ref"], format!("#/components/schemas/{view}"));
            assert!(doc["components"]["schemas"].get(view).is_some(), "{view}");
        }
    }

    #[test]
    fn the_types_pattern_names_every_type_of_the_feed_and_nothing_else() {
        let doc = crate::api::openapi_json();
        let params = doc.pointer("/paths/~1v1~1changes/get/parameters").unwrap().as_array().unwrap();
        let types = params.iter().find(|p| p["name"] == "types").unwrap();
        let names = ResourceType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join("|");
        assert_eq!(types["schema"]["pattern"], format!("^({names})(,({names}))*$"));
    }
}
