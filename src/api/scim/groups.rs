//! SCIM Groups: the organisation's teams and departments, with members who are its users.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::StoreError;
use crate::db::people::{ScimGroupNarrow, ScimGroupRecord, ScimGroupWrite};
use crate::scim::group::{Group, KnownGroup};
use crate::scim::messages::{self, ScimType};
use crate::scim::patch;
use crate::scim::schema::GROUPS;
use crate::scim::user;
use crate::state::AppState;

fn group_id(id: &str) -> ScimResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| missing(id))
}

fn missing(id: &str) -> ScimError {
    ScimError::new(StatusCode::NOT_FOUND, None, format!("No group with id {id:?} in this organisation."))
}

fn found_group<T>(result: Result<T, StoreError>, id: &str) -> ScimResult<T> {
    result.map_err(|e| match e {
        StoreError::NotFound => missing(id),
        other => other.into(),
    })
}

pub(super) fn render(record: &ScimGroupRecord, base: &str) -> Value {
    let members: Vec<(String, String)> =
        record.members.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    KnownGroup {
        id: record.id.to_string(),
        display_name: &record.display_name,
        external_id: record.external_id.as_deref(),
        members: &members,
        created: record.created_at,
        last_modified: record.updated_at,
        version: record.version,
    }
    .to_json(base)
}

fn tagged(status: StatusCode, record: &ScimGroupRecord, base: &str) -> HttpResponse {
    let mut res = answer(status, &render(record, base));
    if let Ok(tag) = HeaderValue::from_str(&user::etag(record.version)) {
        res.headers_mut().insert(header::ETAG, tag);
    }
    res
}

/// The write a group's body makes: every member must be a user of the organisation.
async fn write_of(state: &AppState, organisation: Uuid, group: &Group) -> ScimResult<ScimGroupWrite> {
    let mut members = Vec::with_capacity(group.members.len());
    for m in &group.members {
        let id = Uuid::parse_str(m).map_err(|_| {
            ScimError::bad(ScimType::InvalidValue, format!("`members`: {m:?} is no user of this organisation."))
        })?;
        members.push(id);
    }
    let known = state.store.scim_users_among(organisation, &members).await?;
    if let Some(stranger) = members.iter().find(|m| !known.contains(m)) {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("`members`: {stranger} is no user of this organisation."),
        ));
    }
    Ok(ScimGroupWrite { display_name: group.display_name.clone(), external_id: group.external_id.clone(), members })
}

/// Groups list as [`list`] does.
struct Groups;

impl Listing for Groups {
    type Narrow = ScimGroupNarrow;

    fn schema() -> &'static crate::scim::schema::Resource {
        &GROUPS
    }

    const KEY: &'static str = "displayName";

    fn narrowed(e: Equalities) -> ScimGroupNarrow {
        ScimGroupNarrow { id: e.id, display_key: e.key, external_id: e.external_id }
    }

    async fn read(
        state: &AppState,
        organisation: Uuid,
        narrow: &ScimGroupNarrow,
        page: Option<(usize, usize)>,
        base: &str,
    ) -> ScimResult<(usize, Vec<Value>)> {
        let (total, groups) = state.store.scim_groups(organisation, narrow, page).await?;
        Ok((total, groups.iter().map(|g| render(g, base)).collect()))
    }
}

/// List or filter the organisation's groups
///
/// The groups of the credential's organisation, oldest first, with their members; the
/// same filters, pages and attribute choices as the users (`displayName eq "Zorg"`,
/// `members[value eq "..."]`). Identity providers ask `excludedAttributes=members` for
/// large groups.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_list_groups",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of groups.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30", "displayName": "Zorg Oost", "members": [{"value": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20", "display": "An Peeters", "type": "User"}], "meta": {"resourceType": "Group", "version": "W/\"1\""}}]})),
    )
)]
#[get("/scim/v2/Groups")]
pub(super) async fn list_groups(req: HttpRequest, state: web::Data<AppState>) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    list::<Groups>(&req, &state, who.organisation, &query::<ListQuery>(&req)?).await
}

/// Search the organisation's groups
///
/// The list, with the query in a `SearchRequest` body (RFC 7644 §3.4.3).
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_search_groups",
    request_body(content = Object, content_type = "application/scim+json", description = "A SearchRequest.",
        example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq \"Zorg Oost\"", "excludedAttributes": ["members"]})),
    responses(
        (status = 200, description = "A page of groups.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30", "displayName": "Zorg Oost"}]})),
    )
)]
#[post("/scim/v2/Groups/.search")]
pub(super) async fn search_groups(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let query = ListQuery::from_search(&read(&req, &body)?)?;
    list::<Groups>(&req, &state, who.organisation, &query).await
}

/// Create a group
///
/// A team or department of the credential's organisation. Its members must be users of the
/// organisation; `displayName` is unique in it, ignoring case.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_create_group",
    request_body(content = Object, content_type = "application/scim+json", description = "A Group.",
        example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Thuiszorg Kempen", "externalId": "5e1c8c1a-2f33-4b7e-9d0a-8b7f3c2e1d00", "members": []})),
    responses(
        (status = 201, description = "Created.", content_type = "application/scim+json", body = Object,
            headers(("Location" = String, description = "The group's URL"), ("ETag" = String, description = "Its version, as `meta.version`")),
            example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d31", "displayName": "Thuiszorg Kempen", "members": [], "meta": {"resourceType": "Group", "version": "W/\"1\""}})),
        (status = 409, description = "`uniqueness`: a group has this `displayName`.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[post("/scim/v2/Groups")]
pub(super) async fn create_group(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let group = Group::from_json(&read(&req, &body)?)?;
    let write = write_of(&state, who.organisation, &group).await?;
    let id = state.store.scim_put_group(who.organisation, None, &write, None).await?;
    let record = state.store.scim_group(who.organisation, id).await?;
    let base = base(&req);
    let mut res = tagged(StatusCode::CREATED, &record, &base);
    if let Ok(location) = HeaderValue::from_str(&format!("{base}/Groups/{id}")) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// Read a group
///
/// One group of the credential's organisation with its members; `attributes` and
/// `excludedAttributes` choose what comes.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_get_group",
    params(("id" = String, Path, description = "The group's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30"), Projection),
    responses(
        (status = 200, description = "The group.", content_type = "application/scim+json", body = Object,
            headers(("ETag" = String, description = "Its version, as `meta.version`")),
            example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30", "displayName": "Zorg Oost", "members": [{"value": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20", "display": "An Peeters", "type": "User"}], "meta": {"resourceType": "Group", "version": "W/\"1\""}})),
        (status = 404, description = "No such group in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/Groups/{id}")]
pub(super) async fn get_group(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let (attributes, excluded) = query::<Projection>(&req)?.projection()?;
    let record = found_group(state.store.scim_group(who.organisation, group_id(&id)?).await, &id)?;
    let mut res =
        answer(StatusCode::OK, &messages::project(&render(&record, &base(&req)), &attributes, &excluded, &GROUPS));
    // The tag goes with a representation that holds `meta.version`, not a part without it.
    let whole = !excluded.iter().any(|p| p.name.eq_ignore_ascii_case("meta") && p.sub.is_none())
        && (attributes.is_empty() || attributes.iter().any(|p| p.name.eq_ignore_ascii_case("meta")));
    if whole && let Ok(tag) = HeaderValue::from_str(&user::etag(record.version)) {
        res.headers_mut().insert(header::ETAG, tag);
    }
    Ok(res)
}

/// Replace a group
///
/// The whole group, members included. `If-Match` with `meta.version` makes it conditional.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_replace_group",
    params(("id" = String, Path, description = "The group's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30"),
        ("If-Match" = Option<String>, Header, description = "`meta.version` of the group you read: `412` if it changed since", example = "W/\"1\"")),
    request_body(content = Object, content_type = "application/scim+json", description = "The whole Group.",
        example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Zorg Oost en West", "members": []})),
    responses(
        (status = 200, description = "The group now.", content_type = "application/scim+json", body = Object,
            headers(("ETag" = String, description = "Its version, as `meta.version`")),
            example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30", "displayName": "Zorg Oost en West", "members": [], "meta": {"resourceType": "Group", "version": "W/\"2\""}})),
        (status = 404, description = "No such group in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 409, description = "`uniqueness`: another group has this `displayName`.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 412, description = "`If-Match` does not name the current version.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[put("/scim/v2/Groups/{id}")]
pub(super) async fn replace_group(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let group = group_id(&id)?;
    let tags = if_match(req.headers());
    let write = write_of(&state, who.organisation, &Group::from_json(&read(&req, &body)?)?).await?;
    let expected = if tags.is_absent() {
        None
    } else {
        tags.pin(found_group(state.store.scim_group(who.organisation, group).await, &id)?.version)?
    };
    found_group(state.store.scim_put_group(who.organisation, Some(group), &write, expected).await, &id)?;
    let record = found_group(state.store.scim_group(who.organisation, group).await, &id)?;
    Ok(tagged(StatusCode::OK, &record, &base(&req)))
}

/// Change a group
///
/// RFC 7644 §3.5.2 `PatchOp`, as identity providers send it for members:
/// `{"op": "Add", "path": "members", "value": [{"value": "<user id>"}]}`,
/// `{"op": "Remove", "path": "members[value eq \"<user id>\"]"}`, or Entra's `Remove` with
/// the members listed in `value`; and `displayName` replaced.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_patch_group",
    params(("id" = String, Path, description = "The group's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30"),
        ("If-Match" = Option<String>, Header, description = "`meta.version` of the group you read: `412` if it changed since", example = "W/\"1\"")),
    request_body(content = Object, content_type = "application/scim+json", description = "A PatchOp.",
        example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "displayName", "value": "Zorg Oost"}]})),
    responses(
        (status = 200, description = "The group now.", content_type = "application/scim+json", body = Object,
            headers(("ETag" = String, description = "Its version, as `meta.version`")),
            example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30", "displayName": "Zorg Oost", "members": [], "meta": {"resourceType": "Group", "version": "W/\"3\""}})),
        (status = 404, description = "No such group in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 409, description = "`uniqueness`: another group has this `displayName`.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 412, description = "`If-Match` does not name the current version.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[patch("/scim/v2/Groups/{id}")]
pub(super) async fn patch_group(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let group = group_id(&id)?;
    let tags = if_match(req.headers());
    let operations = patch::operations(&read(&req, &body)?)?;
    let base = base(&req);
    for _ in 0..3 {
        let current = found_group(state.store.scim_group(who.organisation, group).await, &id)?;
        tags.pin(current.version)?;
        let mut resource = render(&current, &base);
        patch::apply(&mut resource, &operations, &GROUPS)?;
        let write = write_of(&state, who.organisation, &Group::from_json(&resource)?).await?;
        match state.store.scim_put_group(who.organisation, Some(group), &write, Some(current.version)).await {
            Err(StoreError::VersionMismatch { .. }) if tags.is_absent() => continue,
            other => found_group(other, &id)?,
        };
        let record = found_group(state.store.scim_group(who.organisation, group).await, &id)?;
        return Ok(tagged(StatusCode::OK, &record, &base));
    }
    Err(ScimError::new(StatusCode::CONFLICT, None, "The group kept changing meanwhile; try again."))
}

/// Delete a group
///
/// The group goes; its members stay users of the organisation.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_delete_group",
    params(("id" = String, Path, description = "The group's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d31"),
        ("If-Match" = Option<String>, Header, description = "`meta.version` of the group you read: `412` if it changed since", example = "W/\"1\"")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such group in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 412, description = "`If-Match` does not name the current version.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[delete("/scim/v2/Groups/{id}")]
pub(super) async fn delete_group(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let group = group_id(&id)?;
    let tags = if_match(req.headers());
    let expected = if tags.is_absent() {
        None
    } else {
        tags.pin(found_group(state.store.scim_group(who.organisation, group).await, &id)?.version)?
    };
    found_group(state.store.scim_delete_group(who.organisation, group, expected).await, &id)?;
    Ok(HttpResponse::NoContent().finish())
}
